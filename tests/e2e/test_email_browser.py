"""Every HTML email kind and the main link pages, rendered in a real headless Chromium (light
and dark), with no network, saved as PNGs for a person to look at."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devices.catalog import load_catalog
from dispatch.advice import fault_info
from dispatch.email.render import EmailSettings, render
from dispatch.outbox import OutboxRow
from dispatch.payload import incident_payload, slot, visit_payload
from dispatch.types import CustomerInfo, IncidentInfo

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--no-first-run"]
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
SETTINGS = EmailSettings(base_url="https://service.fix.example", from_addr="service@fix.example",
                         secret=b"k", domain="fix.example")
START = datetime(2026, 11, 24, 13, tzinfo=UTC)


def _payload(kind: str, model: str, code: str, lang: str, **extra: Any) -> dict[str, Any]:
    m = load_catalog()[model]
    entry = next(c for c in m.codes if c.code == code)
    inc = IncidentInfo("inc-1", "d1", model, fault_info(entry, lang), NOW, appliance_kind=m.kind)
    cust = CustomerInfo("c1", "ada@example.org", "Ada Lovelace", language=lang,
                        tz="Europe/Berlin")
    p = incident_payload(kind, inc, cust, urgent=entry.urgent)
    p.update(extra)
    return p


def _visit(sequence: int = 0, hold: bool = True, alts: bool = True) -> dict[str, Any]:
    others = [slot(4, "Cleo Marx (T04)", START + timedelta(days=1, hours=-5),
                   START + timedelta(days=1, hours=-4)),
              slot(5, "Dana Roth (T05)", START + timedelta(days=3, hours=3),
                   START + timedelta(days=3, hours=4))] if alts else []
    return visit_payload(7, 2, "Bo Berg (T10)", START, START + timedelta(hours=1),
                         sequence=sequence, alternatives=others,
                         hold_expires_at=NOW + timedelta(hours=48) if hold else None)


def emails() -> dict[str, tuple[str, str]]:
    """name -> (kind, language, payload) for every email kind."""
    before = {"start": (START - timedelta(days=1)).isoformat(),
              "end": (START - timedelta(days=1, hours=-1)).isoformat()}
    kinds: dict[str, tuple[str, str, dict[str, Any]]] = {
        "self_help_en": ("self_help", "en", _payload("self_help", "WM-800", "E21", "en")),
        "visit_de": ("visit", "de", _payload("visit", "WM-800", "E60", "de", visit=_visit())),
        "urgent_en": ("urgent", "en", _payload("urgent", "FR-300", "F2", "en",
                                               visit=_visit(alts=False))),
        "reminder_de": ("reminder", "de", _payload("reminder", "WM-800", "E60", "de",
                                                   visit=_visit(1, hold=False, alts=False))),
        "confirmed_en": ("confirmation", "en", _payload(
            "confirmation", "HP-900", "H02", "en", change="confirmed", by="customer",
            visit=_visit(1, hold=False, alts=False))),
        "moved_by_scheduler_en": ("confirmation", "en", _payload(
            "confirmation", "HP-900", "H02", "en", change="moved", by="scheduler",
            previous=before, visit=_visit(2, hold=False, alts=False))),
        "cancelled_de": ("confirmation", "de", _payload(
            "confirmation", "DW-600", "I40", "de", change="cancelled", by="customer",
            visit=_visit(3, hold=False, alts=False))),
        "lapsed_en": ("confirmation", "en", _payload(
            "confirmation", "TD-500", "D50", "en", change="lapsed", by="system",
            visit=_visit(1, hold=False, alts=False))),
        "digest_en": ("digest", "en", {"items": [
            _payload("self_help", "WH-200", "W40", "en"),
            _payload("self_help", "FR-300", "F7", "en")]}),
    }
    return {name: (kind, lang, p) for name, (kind, lang, p) in kinds.items()}  # type: ignore[misc]


def shots_dir(tmp_path: Path) -> Path:
    out = Path(os.environ.get("FIXAHEAD_TEST_SHOTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_every_html_email_kind_renders_offline_in_chromium(tmp_path: Path) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    out = shots_dir(tmp_path)
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            for scheme in ("light", "dark"):
                ctx = browser.new_context(viewport={"width": 680, "height": 900},
                                          color_scheme=scheme)
                ctx.route("**/*", lambda route: (requests.append(route.request.url),
                                                 route.abort()))
                page = ctx.new_page()
                for n, (name, (kind, lang, p)) in enumerate(emails().items()):
                    row = OutboxRow(n + 1, f"k{n}", kind, "c1", "ada@example.org", lang, p,
                                    NOW, 0, NOW)
                    html = render(row, SETTINGS).get_body(("html",)).get_content()  # type: ignore[union-attr]
                    page.set_content(html)
                    width = page.evaluate("document.documentElement.scrollWidth")
                    assert width <= 680, (name, width)  # no horizontal scrolling
                    body = page.inner_text("body")
                    assert "T10" not in body and "(T0" not in body
                    assert re.search(r"\d{1,2}:\d{2}", body) or kind == "self_help" or \
                        kind == "digest", name
                    page.screenshot(path=str(out / f"email_{name}_{scheme}.png"), full_page=True)
                ctx.close()
        finally:
            browser.close()
    assert requests == []  # nothing external was fetched
    assert len(list(out.glob("email_*.png"))) == 2 * len(emails())


def test_link_pages_name_the_appointment_and_render_in_chromium(database_url: str,
                                                                 tmp_path: Path) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    from dispatch.links import sign
    from tests.support.customer_pages import SECRET, Env, propose

    out = shots_dir(tmp_path)
    env = Env(database_url)
    with env.client:
        proposal = propose(database_url, language="de")
        confirm = "/c/" + sign(SECRET, "confirm", str(proposal.visit_id), NOW + timedelta(days=1))
        choose = "/c/" + sign(SECRET, "choose", "inc-1", NOW + timedelta(days=1))
        pages = {"confirm_ask_de": env.client.get(confirm).text,
                 "choose_de": env.client.get(choose).text}
        env.client.post(choose, data={"rank": "2"})
        pages["old_confirm_moved_de"] = env.client.get(confirm).text
        pages["bad_link"] = env.client.get("/c/nonsense").text
    assert "Dieser Termin wurde verschoben auf" in pages["old_confirm_moved_de"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            for scheme in ("light", "dark"):
                page = browser.new_context(viewport={"width": 480, "height": 800},
                                           color_scheme=scheme).new_page()
                for name, html in pages.items():
                    page.set_content(html)
                    if name != "bad_link":
                        assert "Gerät" in page.inner_text("body")
                    page.screenshot(path=str(out / f"page_{name}_{scheme}.png"), full_page=True)
        finally:
            browser.close()
