"""The board's layout, cells, the SVG chart and signed cookies (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from fixahead.web import board
from fixahead.web.chart import Series, svg, thin
from fixahead.web.cookies import sign, unsign
from fixahead.web.users import hash_password, verify_password

DAY = date(2026, 11, 24)


def job(vid: int, tech: int, start: tuple[int, int], end: tuple[int, int], state: str = "booked",
        urgent: bool = False, label: str = "E60 · Ada", end_day: int = 0) -> board.Job:
    s = datetime.combine(DAY, time(*start), UTC)
    e = datetime.combine(DAY, time(*end), UTC) + timedelta(days=end_day)
    return board.Job(vid, tech, s.timestamp(), e.timestamp(), state, urgent, f"i{vid}", label,
                     s.strftime("%H:%M"), e.strftime("%H:%M"), start[0] * 60 + start[1],
                     end_day * 1440 + end[0] * 60 + end[1])


def test_a_job_is_placed_in_percent_of_its_day_column() -> None:
    cols = board.columns(DAY, 1, "UTC")
    blocks = board.place([job(1, 7, (8, 0), (10, 0))], cols)
    (b,) = blocks[(7, 0)]
    assert (b.left, b.width, b.status, b.clipped) == (12.5, 12.5, "booked", False)


def test_urgent_wins_over_state_and_done_stays_done() -> None:
    assert board.status_of(job(1, 1, (8, 0), (9, 0), "held", urgent=True)) == "urgent"
    assert board.status_of(job(1, 1, (8, 0), (9, 0), "done", urgent=True)) == "done"


def test_a_job_past_the_window_edge_is_clipped_and_the_hours_widen_to_show_it() -> None:
    late = job(1, 1, (21, 0), (23, 0))
    (b,) = board.place([late], board.columns(DAY, 1, "UTC"))[(1, 0)]
    assert b.clipped and b.left + b.width <= 100.01
    start, end = board.fit_hours([late, job(2, 1, (5, 30), (6, 30))])
    assert (start, end) == (time(5), time(23))
    assert board.fit_hours([job(3, 1, (20, 0), (22, 30))]) == (time(6), time(23))
    assert board.fit_hours([job(3, 1, (22, 0), (23, 30))]) == (time(6), None)
    assert board.fit_hours([job(3, 1, (23, 0), (1, 0), end_day=1)]) == (time(0), None)


def test_a_week_places_each_job_in_its_own_day() -> None:
    cols = board.columns(DAY, 7, "Europe/Berlin")
    blocks = board.place([job(1, 1, (9, 0), (10, 0))], cols)
    assert list(blocks) == [(1, 0)]


def test_cell_html_escapes_labels_and_links_to_the_job() -> None:
    cols = board.columns(DAY, 1, "UTC")
    cells = board.cells_html(board.place([job(5, 2, (8, 0), (9, 0), label="<b>x</b>")], cols))
    html = cells[(2, 0)]
    assert 'href="/jobs/5"' in html and "&lt;b&gt;x&lt;/b&gt;" in html and "<b>" not in html
    assert 'aria-label="08:00–09:00' in html


def test_the_chart_draws_a_line_and_marks_the_detection() -> None:
    s = Series("drain_time", "s", (0.0, 50.0, 100.0), (1.0, float("nan"), 3.0))
    out = svg([s], start=0, end=100, detected=60, title="t <1>")
    assert out.startswith('<svg class="chart"') and out.count("<polyline") == 1
    assert 'class="detect"' in out and "t &lt;1&gt;" in out
    assert 'class="detect"' not in svg([s], start=0, end=100, detected=None, title="t")


def test_thin_keeps_at_most_the_asked_points_and_the_last() -> None:
    times, values = thin(list(range(10_000)), list(range(10_000)), max_points=100)
    assert len(times) <= 101 and times[-1] == 9_999 and values == times


def test_a_signed_cookie_round_trips_and_a_tampered_one_does_not() -> None:
    value = sign(b"k" * 32, "abc")
    assert unsign(b"k" * 32, value) == "abc"
    assert unsign(b"other-key" * 4, value) is None
    assert unsign(b"k" * 32, "abd" + value[3:]) is None and unsign(b"k" * 32, "") is None


def test_passwords_are_salted_scrypt_hashes() -> None:
    a, b = hash_password("correct horse"), hash_password("correct horse")
    assert a != b and a.startswith("scrypt$16384$8$1$")
    assert verify_password("correct horse", a) and not verify_password("wrong horse", a)
    assert not verify_password("x", "not-a-hash")
