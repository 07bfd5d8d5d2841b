"""The OpenAPI document fuzzed with schemathesis through a real server: never a 5xx."""

from __future__ import annotations

import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from fixahead.web.auth import create_token
from fixahead.web.board_app import create_web_app
from tests.integration.web.board_support import SECRET, now_utc, seed_job, serve

pytestmark = [pytest.mark.integration, pytest.mark.slow]
EXAMPLES = 6  # per operation: about 40 operations, well under a minute in all


def test_no_operation_of_the_api_answers_with_a_server_error(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        seed_job(conn, now=now_utc())
        token = create_token(conn, role="admin", name="fuzz", actor="test")
    app = create_web_app(database_url, secret=SECRET, secure_cookies=False, pool_max=3,
                         live=False)
    failures: list[str] = []
    statuses: list[int] = []
    with serve(app) as base:
        schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
        operations = [r.ok() for r in schema.get_all_operations()]
        assert len(operations) > 25
        for op in operations:
            @given(case=op.as_strategy())
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
