"""Fixtures of the browser tests, from tests.support: a storm the guard really held."""

from __future__ import annotations

from tests.support.storms import storm

__all__ = ["storm"]
