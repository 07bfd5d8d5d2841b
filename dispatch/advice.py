"""A catalog entry as dispatch uses it: the texts, steps and safety advice in one language. Pure."""

from __future__ import annotations

from devices.catalog import ErrorCode
from dispatch.types import FaultInfo


def fault_info(entry: ErrorCode, language: str) -> FaultInfo:
    """The FaultInfo of a catalog entry in `language` (English when it has no such texts)."""
    t = entry.text(language)
    return FaultInfo(code=entry.code, title=t.title, meaning=t.meaning, severity=entry.severity,
                     customer_fixable=entry.customer_fixable, urgent=entry.urgent,
                     skill=entry.skill, parts=entry.parts, visit_minutes=entry.visit_minutes,
                     self_help_steps=t.steps, safety=t.safety)
