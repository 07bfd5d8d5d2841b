"""Error-code catalogs: versions per firmware range, entries in a language (any role)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from psycopg.rows import dict_row

from devices.catalogmodel import Catalog, firmware_key
from devices.customerstore import NotFound
from fixahead.web.deps import ConnDep, ViewerDep

router = APIRouter(prefix="/models/{model_id}", tags=["catalogs"])
Lang = Annotated[Literal["en", "de"], Query(description="Language of the texts")]
_ENTRY = """
SELECT e.code, e.severity, e.customer_fixable, e.urgent, e.skill, e.parts, e.visit_minutes,
       coalesce(t.title, e.title) AS title, coalesce(t.meaning, e.meaning) AS meaning,
       coalesce(t.steps, '{}') AS steps
FROM error_codes e
LEFT JOIN error_code_texts t ON t.model_id = e.model_id AND t.code = e.code AND t.language = %s
WHERE e.model_id = %s"""


def _versions(conn: ConnDep, model_id: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("SELECT version, firmware_min, firmware_max, codes FROM "
                           "model_catalogs WHERE model_id = %s", (model_id,)).fetchall()
    if not rows:
        raise NotFound(f"model {model_id!r} has no catalog")
    return sorted(rows, key=lambda r: firmware_key(r["firmware_min"]))  # "10.0" after "9.0"


@router.get("/catalogs")
def list_catalogs(model_id: str, conn: ConnDep, _: ViewerDep) -> list[dict[str, Any]]:
    """The catalog versions of a model, each with its firmware range and codes."""
    return _versions(conn, model_id)


@router.get("/catalog")
def get_catalog(model_id: str, conn: ConnDep, _: ViewerDep, lang: Lang = "en",
                firmware: Annotated[str | None, Query(pattern=r"^\d+(\.\d+)*$")] = None,
                ) -> dict[str, Any]:
    """The catalog a device with `firmware` uses (the newest without), texts in `lang`."""
    versions = _versions(conn, model_id)
    chosen = versions[-1]
    if firmware:
        for v in reversed(versions):
            if Catalog(v["version"], v["firmware_min"], v["firmware_max"], ()).covers(firmware):
                chosen = v
                break
    with conn.cursor(row_factory=dict_row) as cur:
        entries = cur.execute(_ENTRY + " AND e.code = ANY(%s) ORDER BY e.code",
                              (lang, model_id, chosen["codes"])).fetchall()
    return {"model_id": model_id, "version": chosen["version"],
            "firmware_min": chosen["firmware_min"], "firmware_max": chosen["firmware_max"],
            "language": lang, "entries": entries}


@router.get("/codes/{code}")
def get_code(model_id: str, code: str, conn: ConnDep, _: ViewerDep,
             lang: Lang = "en") -> dict[str, Any]:
    """One catalog entry with numbered self-help steps in `lang`."""
    with conn.cursor(row_factory=dict_row) as cur:
        entry = cur.execute(_ENTRY + " AND e.code = %s", (lang, model_id, code)).fetchone()
    if entry is None:
        raise NotFound(f"model {model_id!r} has no error code {code!r}")
    entry["steps"] = [{"n": n, "text": s} for n, s in enumerate(entry["steps"], start=1)]
    return entry
