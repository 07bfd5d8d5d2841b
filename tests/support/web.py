"""The web API's test client (FastAPI's, over httpx) for tests that call the app in-process."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    # this starlette asks for `httpx2` and warns when it finds httpx; httpx works for tests
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

__all__ = ["TestClient"]
