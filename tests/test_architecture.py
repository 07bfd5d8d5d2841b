"""The architecture, checked: the import layering (import-linter contracts in pyproject.toml),
one writer per table (each package's docstring names the tables and views it owns), no reads of
another package's tables (in the packages' SQL and in the migrations' views), ruff with its
complexity limit, mypy --strict on the pure core, and tests that share only through
tests/support/ (no test module imports another)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("devices", "ingest", "rules", "dispatch", "simulator", "fixahead")
# Pure modules (values in, values out; no I/O): held to mypy --strict.
PURE_CORE = ("devices/contracts.py", "devices/gapguard.py", "devices/topics.py",
             "devices/commands.py", "devices/diagnostics.py", "rules/commands.py",
             "rules/config.py", "dispatch/types.py", "dispatch/ports.py", "dispatch/policy.py",
             "dispatch/movecheck.py")
WRITE = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|COPY|TRUNCATE(?:\s+TABLE)?)"
                   r"\s+([a-z_][a-z0-9_]*)\b", re.IGNORECASE)
CREATE = re.compile(r"CREATE\s+(?:TABLE|MATERIALIZED\s+VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?"
                    r"([a-z_][a-z0-9_]*)", re.IGNORECASE)
# SQL here writes its keywords in capitals, prose does not: "FROM visits" is a read of visits,
# "read from visits" in a docstring is not. Comma joins ("FROM a, b") are not seen; none are
# written so.
READ = re.compile(r"\b(?:FROM|JOIN)\s+([a-z_][a-z0-9_]*)\b")
# The lab (benchmarks, evaluation, the demo world) writes whatever it sets up or measures,
# and migrations create every table.
LAB = ("fixahead/lab/", "fixahead/migrate.py", "fixahead/migrations/")
# The base every package may import: its registry and catalog (devices, models, customers,
# households, ...) may be joined by any package, the way its modules may be imported.
BASE = "devices"
def _tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.fail(f"{name} is missing: install the test extra (pip install -e '.[test]')")
    return str(path)


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_imports_follow_the_layering_in_the_readme() -> None:
    done = _run(_tool("lint-imports"))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_ruff_is_clean_with_the_complexity_limit() -> None:
    done = _run(_tool("ruff"), "check", ".")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_the_pure_core_passes_mypy_strict() -> None:
    done = _run(_tool("mypy"), "--strict", "--follow-imports=silent", *PURE_CORE)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def owners() -> dict[str, str]:
    """Table or view -> the package whose docstring says it owns it ("Tables it owns: a, b."
    and "Views it owns: c.")."""
    out: dict[str, str] = {}
    for pkg in PACKAGES:
        doc = ast.get_docstring(ast.parse((ROOT / pkg / "__init__.py").read_text())) or ""
        for match in re.finditer(r"(?:Tables|Views) it owns:\s*(.*?)\.(?:\s|$)", doc, re.DOTALL):
            for table in match.group(1).replace("\n", " ").split(","):
                if table.strip() and table.strip() != "none":
                    assert table.strip() not in out, f"{table.strip()} has two owners"
                    out[table.strip()] = pkg
    return out


def _sql_strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)]


# Views, created and dropped in the migrations (plain or materialized, also from a DO block's
# EXECUTE): a view reads every table its statement reads, and belongs to the package that
# claims it. Statements split at semicolons outside quotes, dollar quotes and comments.
VIEW_CREATE = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:MATERIALIZED\s+)?VIEW\s+"
                         r"(?:IF\s+NOT\s+EXISTS\s+)?([a-z_][a-z0-9_]*)", re.IGNORECASE)
VIEW_DROP = re.compile(r"DROP\s+(?:MATERIALIZED\s+)?VIEW\s+(?:IF\s+EXISTS\s+)?"
                       r"([a-z_][a-z0-9_]*)", re.IGNORECASE)
_SQL_TOKEN = re.compile(r"\$([A-Za-z_]*)\$.*?\$\1\$|'(?:[^']|'')*'|--[^\n]*|;", re.DOTALL)


def _statements(sql: str) -> list[str]:
    """The statements of a migration, without their line comments."""
    out, part, at = [], [], 0
    for token in _SQL_TOKEN.finditer(sql):
        part.append(sql[at:token.start()])
        at = token.end()
        if token.group() == ";":
            out.append("".join(part))
            part = []
        elif not token.group().startswith("--"):
            part.append(token.group())
    out.append("".join(part) + sql[at:])
    return [s for s in out if s.strip()]


def views(migrations: list[str]) -> dict[str, set[str]]:
    """View -> the tables it reads, after these migrations (their SQL, in order)."""
    out: dict[str, set[str]] = {}
    for sql in migrations:
        for statement in _statements(sql):
            for name in VIEW_DROP.findall(statement):
                out.pop(name.lower(), None)
            for name in VIEW_CREATE.findall(statement):
                out[name.lower()] = set(READ.findall(statement)) - {name.lower()}
    return out


def _migrations() -> list[str]:
    return [f.read_text() for f in sorted((ROOT / "fixahead" / "migrations").glob("*.sql"))]


def test_every_table_has_one_owner_named_in_its_package_docstring() -> None:
    texts = _migrations()
    tables = {t.lower() for text in texts for t in CREATE.findall(text)} | set(views(texts))
    named = owners()
    assert sorted(tables - set(named)) == [], "tables or views no package docstring claims"
    assert sorted(set(named) - tables - {"schema_migrations"}) == [], "claimed, not created"


def test_no_view_reads_another_packages_tables() -> None:
    named = owners()
    wrong = [f"view {view} (owned by {named.get(view, 'no package')}/) reads {table} (owned by "
             f"{named[table]}/): compose it in code from each package's functions instead"
             for view, tables in sorted(views(_migrations()).items())
             for table in sorted(tables) if named.get(table) not in (None, named.get(view), BASE)]
    assert wrong == []


def test_the_view_scan_follows_creates_and_drops() -> None:
    planted = ["""
-- a comment: CREATE VIEW commented AS SELECT 1 FROM visits; is not SQL
CREATE OR REPLACE VIEW precision_view AS SELECT 1 FROM visit_work w
JOIN incidents i ON i.key = w.incident_id;
CREATE VIEW kept AS SELECT ';' AS semicolon FROM devices;
DO $$
DECLARE body text := $v$ SELECT 1 FROM telemetry $v$;
BEGIN
    EXECUTE 'CREATE MATERIALIZED VIEW IF NOT EXISTS hourly AS ' || body;
END
$$;
""", """
DROP VIEW IF EXISTS precision_view;
CREATE OR REPLACE VIEW kept AS SELECT 1 FROM customers c JOIN consents k USING (customer_id);
"""]
    assert views(planted[:1]) == {"precision_view": {"visit_work", "incidents"},
                                  "kept": {"devices"}, "hourly": {"telemetry"}}
    assert views(planted) == {"kept": {"customers", "consents"}, "hourly": {"telemetry"}}


def _package_sql() -> Iterator[tuple[str, str, int, str]]:
    """(package, file, line, SQL text) of every SQL string in the packages, the lab apart."""
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if not rel.startswith(LAB):
                for line, text in _sql_strings(path):
                    yield pkg, rel, line, text


def test_only_the_owner_package_writes_each_table() -> None:
    named = owners()
    wrong = []
    for pkg, rel, line, text in _package_sql():
        for table in WRITE.findall(text):
            owner = named.get(table.lower())
            if owner is not None and owner != pkg:
                wrong.append(f"{rel}:{line} writes {table} (owned by {owner}/)")
    assert wrong == []


def _foreign_reads(named: dict[str, str]) -> dict[str, dict[str, list[int]]]:
    """File -> table of another package (not the base) -> lines of the SQL that reads it."""
    out: dict[str, dict[str, list[int]]] = {}
    for pkg, rel, line, text in _package_sql():
        for table in READ.findall(text):
            if named.get(table) not in (None, pkg, BASE):
                out.setdefault(rel, {}).setdefault(table, []).append(line)
    return out


def test_no_package_reads_another_packages_tables() -> None:
    named = owners()
    wrong = [f"{rel}:{lines[0]} reads {table} (owned by {named[table]}/): read it through "
             f"{named[table]}'s functions (a port, for a package that may not import it)"
             for rel, tables in _foreign_reads(named).items()
             for table, lines in sorted(tables.items())]
    assert wrong == []


def test_the_read_scan_finds_reads_and_not_prose() -> None:
    found = READ.findall("SELECT 1 FROM visits v JOIN incidents i ON i.key = v.incident_id "
                         "WHERE EXISTS (SELECT 1 FROM devices d); read from events")
    assert found == ["visits", "incidents", "devices"]


def test_the_write_scan_finds_writes() -> None:
    found = WRITE.findall("INSERT INTO incidents (key) VALUES (1); UPDATE visits SET x = 1; "
                          "COPY telemetry FROM STDIN; DELETE FROM web_sessions")
    assert found == ["incidents", "visits", "telemetry", "web_sessions"]


# Tests share helpers and fixtures only through tests/support/ (fixtures reach a folder's tests
# through its conftest.py): no module of the test tree imports a test module, a conftest or any
# other module of the tree outside tests/support/.
SUPPORT = "tests.support"


def _module_of(path: Path) -> list[str]:
    return list(path.relative_to(ROOT).with_suffix("").parts)


def _test_tree_imports(source: str, module: list[str]) -> list[tuple[int, str]]:
    """(line, module) for each import of the test tree (`tests` or below) in `source`, the
    source of `module` (its dotted parts): relative imports resolved, `from X import name`
    counted as an import of X.name (a name may be a submodule)."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = module[:len(module) - node.level] if node.level else []
            parent = ".".join(base + (node.module.split(".") if node.module else []))
            out += [(node.lineno, f"{parent}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in out if name == "tests" or name.startswith("tests.")]


def _outside_support(name: str) -> bool:
    return name != SUPPORT and not name.startswith(SUPPORT + ".")


def test_test_modules_import_only_from_tests_support() -> None:
    wrong = [f"{path.relative_to(ROOT).as_posix()}:{line} imports {name}: move what it shares "
             f"to tests/support/ (a fixture: register it in a conftest.py)"
             for path in sorted((ROOT / "tests").rglob("*.py"))
             for line, name in _test_tree_imports(path.read_text(), _module_of(path))
             if _outside_support(name)]
    assert wrong == []


def test_the_test_import_scan_finds_planted_imports() -> None:
    planted = """
from tests.support.board import seed_job
from tests.support import naive
import tests.support.web
from tests.integration.web.test_board_security import web
import tests.unit.rules.naive
from tests.integration.web import conftest
from . import helpers
from ..dispatch.test_storm_guard import emails


def later():
    from tests.e2e.test_board_browser import CHROMIUM
"""
    found = [name for _, name in _test_tree_imports(
        planted, ["tests", "integration", "web", "test_x"]) if _outside_support(name)]
    assert sorted(found) == sorted([
        "tests.integration.web.test_board_security.web", "tests.unit.rules.naive",
        "tests.integration.web.conftest", "tests.integration.web.helpers",
        "tests.integration.dispatch.test_storm_guard.emails",
        "tests.e2e.test_board_browser.CHROMIUM"])
