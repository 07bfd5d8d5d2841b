from __future__ import annotations

import re
from datetime import datetime, timedelta

import psycopg
import pytest

from dispatch import adapter
from dispatch.links import sign
from dispatch.types import FaultInfo
from tests.support.customer_pages import NOW, Env, propose

pytestmark = pytest.mark.integration

DRAIN = FaultInfo("E21", "Drain", customer_fixable=True, skill="washer")


def out_offers(url: str) -> list[datetime]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT starts_at FROM visit_offers ORDER BY rank").fetchall()]


def state(url: str, visit_id: int | None) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT state FROM visits WHERE id = %s", (visit_id,)).fetchone()
        assert row is not None
        return str(row[0])


def test_get_only_asks_and_post_confirms_once(env: Env) -> None:
    out = propose(env.url)
    link = env.link("confirm", out.visit_id)
    page = env.client.get(link)
    assert page.status_code == 200 and "<form" in page.text
    assert state(env.url, out.visit_id) == "held"  # a prefetching scanner changes nothing
    first = env.client.post(link)
    assert first.status_code == 200 and "Your visit is confirmed" in first.text
    again = env.client.post(link)
    assert again.status_code == 200 and "Your visit is confirmed" in again.text
    assert "<form" not in env.client.get(link).text
    assert state(env.url, out.visit_id) == "booked"


def test_pages_speak_the_customers_language(env: Env) -> None:
    out = propose(env.url, language="de")
    page = env.client.get(env.link("confirm", out.visit_id))
    assert 'lang="de"' in page.text and "Termin bestätigen" in page.text


def test_expired_and_forged_links_do_nothing(env: Env) -> None:
    out = propose(env.url)
    link = env.link("confirm", out.visit_id, hours=1)
    env.now = NOW + timedelta(hours=2)
    assert env.client.post(link).status_code == 410
    forged = "/c/" + sign(b"wrong", "confirm", str(out.visit_id), NOW + timedelta(days=1))
    assert env.client.post(forged).status_code == 404
    assert state(env.url, out.visit_id) == "held"


def test_choose_lists_other_times_in_date_order_and_an_old_confirm_link_tells_the_truth(
        env: Env) -> None:
    out = propose(env.url)
    offers = out_offers(env.url)
    choose = env.link("choose", "inc-1")
    page = env.client.get(choose)
    ranks = [int(r) for r in re.findall(r'name="rank" value="(\d+)"', page.text)]
    assert 0 not in ranks and len(ranks) == len(offers) - 1  # not the slot already proposed
    assert [offers[r] for r in ranks] == sorted(offers[r] for r in ranks)
    moved = env.client.post(choose, data={"rank": str(ranks[0])})
    assert moved.status_code == 200 and "Your visit is confirmed" in moved.text
    assert state(env.url, out.visit_id) == "released"
    old_confirm = env.client.post(env.link("confirm", out.visit_id))
    assert "This visit was moved to" in old_confirm.text and "Confirm the visit" not in (
        old_confirm.text)
    assert "Cancel the visit" in old_confirm.text  # the links that work now
    with psycopg.connect(env.url) as conn:
        booked = conn.execute("SELECT starts_at FROM visits WHERE state = 'booked'").fetchall()
    assert booked == [(offers[ranks[0]],)]
    again = env.client.post(choose, data={"rank": str(ranks[1])})
    assert "You used this link before" in again.text
    with psycopg.connect(env.url) as conn:  # the repeat changed nothing
        assert conn.execute("SELECT starts_at FROM visits WHERE state = 'booked'"
                            ).fetchall() == booked


def test_cancel_after_confirm_cancels_and_a_late_confirm_says_so(env: Env) -> None:
    out = propose(env.url)
    env.client.post(env.link("confirm", out.visit_id))
    assert "cancelled" in env.client.post(env.link("cancel", out.visit_id)).text
    assert state(env.url, out.visit_id) == "cancelled"
    assert "cancelled" in env.client.post(env.link("confirm", out.visit_id, hours=5)).text


def test_i_fixed_it_is_recorded_once(env: Env) -> None:
    propose(env.url, fault=DRAIN)
    link = env.link("fixed", "inc-1")
    assert "Thank you" in env.client.post(link).text
    assert "Thank you" in env.client.post(link).text
    with psycopg.connect(env.url) as conn:
        assert conn.execute("SELECT incident_id, customer_id FROM customer_feedback").fetchall() \
            == [("inc-1", "cus-1")]


def test_one_click_unsubscribe_post_stops_proactive_email(env: Env) -> None:
    propose(env.url, fault=DRAIN)
    with psycopg.connect(env.url, autocommit=True) as conn:
        conn.execute("UPDATE email_outbox SET send_at = send_at + interval '1 day'")
    r = env.client.post(env.link("unsubscribe", "cus-1"),
                        content=b"List-Unsubscribe=One-Click",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and "unsubscribed" in r.text
    with psycopg.connect(env.url) as conn:
        c = adapter.load_customer(conn, customer_id="cus-1")
        assert c is not None and c.unsubscribed
        assert conn.execute("SELECT state FROM email_outbox").fetchall() == [("cancelled",)]
