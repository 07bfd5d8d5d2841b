"""Every fault code of every catalogued model: its email says what the catalog says."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devices.catalog import load_catalog
from dispatch.advice import fault_info
from dispatch.email.render import EmailSettings, render
from dispatch.outbox import OutboxRow
from dispatch.payload import incident_payload
from dispatch.policy import choose_action
from dispatch.types import CustomerInfo, IncidentInfo

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
SETTINGS = EmailSettings(base_url="https://fix.example", from_addr="s@fix.example", secret=b"k")
MODELS = load_catalog()
CODES = [(m.id, c.code) for m in MODELS.values() for c in m.codes]
GENERIC = ("close the tap", "turn the appliance off", "Wasserhahn zu", "Gerät aus")


def test_the_six_models_are_all_covered() -> None:
    assert len(MODELS) == 6 and len(CODES) >= 24


@pytest.mark.parametrize(("model_id", "code"), CODES)
def test_the_email_for_each_fault_code_carries_its_catalog_advice(model_id: str,
                                                                  code: str) -> None:
    model = MODELS[model_id]
    entry = next(c for c in model.codes if c.code == code)
    for lang in ("en", "de"):
        fault = fault_info(entry, lang)
        incident = IncidentInfo("inc-1", "d1", model_id, fault, NOW, appliance_kind=model.kind)
        action, _, _ = choose_action(incident)
        customer = CustomerInfo("c1", "a@example.org", "Ada", language=lang, tz="Europe/Berlin")
        payload = incident_payload(action.value, incident, customer, urgent=entry.urgent)
        row = OutboxRow(1, "k", action.value, "c1", "a@example.org", lang, payload, NOW, 0, NOW)
        msg = render(row, SETTINGS)
        text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        texts = entry.text(lang)
        assert texts.title in text and texts.meaning in text
        if entry.urgent:
            assert texts.safety, f"{model_id} {code}: an urgent code needs safety advice"
        if texts.safety:
            assert texts.safety in text
        if action.value in ("self_help", "urgent"):
            for n, step in enumerate(texts.steps, 1):
                assert f"{n}. {step}" in text
        other = entry.text("de" if lang == "en" else "en")
        assert other.title == texts.title or other.title not in text  # one language only
        for line in GENERIC:
            catalog_words = " ".join((texts.meaning, texts.safety, *texts.steps))
            assert line.lower() not in text.lower() or line.lower() in catalog_words.lower()
