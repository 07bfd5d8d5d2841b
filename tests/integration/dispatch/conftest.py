"""Fixtures of dispatch's integration tests, from tests.support: the customer pages (`env`)."""

from __future__ import annotations

from tests.support.customer_pages import env

__all__ = ["env"]
