"""The OpenAPI document fuzzed with schemathesis through a real server: never a 5xx."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from fixahead.commands.web import build_web_app
from fixahead.settings import load_settings
from fixahead.web.auth import create_token
from tests.support.board import Seeded, now_utc, seed_job, serve

pytestmark = [pytest.mark.integration, pytest.mark.slow]
# per operation (about 45); FUZZ_EXAMPLES=100 for a longer hunt
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))


def _known(seeded: Seeded, technician: int) -> dict[str, object]:
    """Path parameters that name the seeded resources, so fuzzed bodies reach real rows."""
    return {"model_id": "WM-800", "code": "E60", "customer_id": seeded.customer_id,
            "household_id": "hh-1", "device_id": seeded.device_id, "job_id": seeded.visit_id,
            "incident_id": seeded.incident_key, "key": seeded.incident_key,
            "technician_id": technician}


# schemathesis's negative mode draws from `random` inside its strategies (its business)
@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"
                            ":hypothesis.errors.HypothesisDeprecationWarning")
def test_no_operation_of_the_api_answers_with_a_server_error(database_url: str,
                                                             tmp_path: Path) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        seeded = seed_job(conn, now=now_utc())
        token = create_token(conn, role="admin", name="fuzz", actor="test")
    app = build_web_app(load_settings({}, database_url=database_url, data_dir=tmp_path),
                        database_url, link_secret=b"link-secret-for-fuzz-tests")
    failures: list[str] = []
    statuses: list[int] = []
    with serve(app) as base:
        schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
        operations = [r.ok() for r in schema.get_all_operations()]
        assert len(operations) > 25
        for op in operations:
            names = {p.name for p in op.path_parameters}
            known = {k: v for k, v in _known(seeded, seeded.technicians[0]).items()
                     if k in names}
            # random ids (mostly 404s), and real ones with valid and with invalid data; never
            # a real id for DELETE, which would erase what the other operations need
            strategies = [op.as_strategy()]
            if known and op.method.upper() != "DELETE":
                strategies += [op.as_strategy(path_parameters=known),
                               op.as_strategy(GenerationMode.NEGATIVE, path_parameters=known)]
            elif not known:
                strategies.append(op.as_strategy(GenerationMode.NEGATIVE))

            @given(case=st.one_of(strategies))
            @settings(max_examples=EXAMPLES, deadline=None, database=None,
                      phases=[Phase.explicit, Phase.generate],
                      suppress_health_check=list(HealthCheck))
            def check(case: schemathesis.Case) -> None:
                r = case.call(base_url=base, headers={"Authorization": f"Bearer {token}"},
                              timeout=10)
                statuses.append(r.status_code)
                if r.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} -> {r.status_code}: "
                                    f"{r.text[:200]} ({case.as_curl_command()})")
            check()
    assert not failures, "\n".join(failures)
    assert len(statuses) >= 2 * len(operations)  # it really called them
    assert {200, 201} & set(statuses) and 422 in statuses
