"""The board's layout, cells, the SVG chart and signed cookies (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from fixahead.web import board, boardcells, boardload
from fixahead.web.chart import Series, svg, thin
from fixahead.web.cookies import sign, unsign
from fixahead.web.users import hash_password, verify_password

DAY = date(2026, 11, 24)


def job(vid: int, tech: int, start: tuple[int, int], end: tuple[int, int], state: str = "booked",
        urgent: bool = False, customer: str = "Quellmalz", end_day: int = 0,
        at: tuple[float, float] = (52.52, 13.40)) -> board.Job:
    s = datetime.combine(DAY, time(*start), UTC)
    e = datetime.combine(DAY, time(*end), UTC) + timedelta(days=end_day)
    return board.Job(vid, tech, s.timestamp(), e.timestamp(), state, urgent, f"i{vid}", 40 + vid,
                     "E60", customer, "Berlin", s.strftime("%H:%M"), e.strftime("%H:%M"),
                     start[0] * 60 + start[1], end_day * 1440 + end[0] * 60 + end[1], *at)


def test_a_job_is_placed_in_percent_of_its_day_column() -> None:
    cols = board.columns(DAY, 1, "UTC")
    blocks = board.place([job(1, 7, (8, 0), (10, 0))], cols)
    (b,) = blocks[(7, 0)]
    assert (b.left, b.width, b.status, b.clipped) == (8.33, 16.67, "booked", False)  # 07-19


def test_urgent_wins_over_state_and_done_stays_done() -> None:
    assert board.status_of(job(1, 1, (8, 0), (9, 0), "held", urgent=True)) == "urgent"
    assert board.status_of(job(1, 1, (8, 0), (9, 0), "done", urgent=True)) == "done"


def test_a_job_past_the_window_edge_is_clipped_and_the_hours_widen_to_show_it() -> None:
    late = job(1, 1, (18, 0), (23, 0))
    (b,) = board.place([late], board.columns(DAY, 1, "UTC"))[(1, 0)]
    assert b.clipped and b.left + b.width <= 100.01
    start, end = board.fit_hours([late, job(2, 1, (5, 30), (6, 30))])
    assert (start, end) == (time(5), time(23))
    assert board.fit_hours([job(3, 1, (20, 0), (22, 30))]) == (time(7), time(23))
    assert board.fit_hours([job(3, 1, (22, 0), (23, 30))]) == (time(7), None)
    assert board.fit_hours([job(3, 1, (23, 0), (1, 0), end_day=1)]) == (time(0), None)
    assert board.fit_hours([], (time(6, 30), time(20, 15))) == (time(6), time(21))
    assert board.fit_hours([job(3, 1, (9, 0), (10, 0))], (time(8), time(17))) == (time(8),
                                                                                 time(17))


def test_a_week_places_each_job_in_its_own_day() -> None:
    cols = board.columns(DAY, 7, "Europe/Berlin")
    blocks = board.place([job(1, 1, (9, 0), (10, 0))], cols)
    assert list(blocks) == [(1, 0)]


def test_a_block_says_time_fault_surname_and_town_escaped_and_links_to_the_job() -> None:
    cols = board.columns(DAY, 1, "UTC")
    cells = boardcells.day_cells(board.place([job(5, 2, (8, 0), (9, 0), customer="<i>x</i>")],
                                             cols), cols, {})
    html = cells[(2, 0)]
    assert 'href="/jobs/5"' in html and 'data-visit="5"' in html and 'data-tod="28800"' in html
    assert "<b>08:00 E60</b><span>&lt;i&gt;x&lt;/i&gt;</span><span>Berlin</span>" in html
    # the title says everything a narrow block may cut short
    assert 'title="J-45 · 08:00–09:00 · E60 · &lt;i&gt;x&lt;/i&gt; · Berlin · booked"' in html


def test_overlapping_jobs_share_the_row_in_lanes_and_are_marked() -> None:
    cols = board.columns(DAY, 1, "UTC")
    jobs = [job(1, 2, (8, 0), (10, 0)), job(2, 2, (9, 0), (9, 30)), job(3, 2, (9, 45), (11, 0)),
            job(4, 2, (12, 0), (13, 0)), job(5, 3, (8, 0), (9, 0))]
    cells = board.place(jobs, cols)
    assert [(b.job.visit_id, b.lane, b.lanes) for b in cells[(2, 0)]] == [
        (1, 0, 2), (2, 1, 2), (3, 1, 2), (4, 0, 1)]  # 3 reuses the lane 2 left
    assert [(b.lane, b.lanes) for b in cells[(3, 0)]] == [(0, 1)]
    html = boardcells.day_cells(cells, cols, {})[(2, 0)]
    assert html.count(" overlap\"") == 3 and "top:25.0px;height:21.0px" in html
    assert 'data-visit="4" data-tod' in html and html.count("overlaps another job") == 3
    agenda = boardcells.agenda_cells(jobs, board.columns(DAY, 3, "UTC"), {})[(2, 0)]
    assert agenda.count('class="chip booked overlap"') == 2  # 2 and 3 start before 1 ends


def test_the_drive_between_two_jobs_is_drawn_before_the_second_and_red_when_too_short() -> None:
    potsdam = (52.39, 13.06)  # about 27 km from Berlin: 41 min at 40 km/h
    first, second = job(1, 3, (8, 0), (9, 0)), job(2, 3, (9, 30), (10, 30), at=potsdam)
    legs = boardload.legs([second, first, job(3, 4, (9, 30), (10, 0))], 40.0)
    assert list(legs) == [2] and legs[2].gap_minutes == 30 and legs[2].late
    assert 40 <= legs[2].minutes <= 42 and 26 <= legs[2].km <= 28
    cols = board.columns(DAY, 1, "UTC")
    html = boardcells.day_cells(board.place([first, second], cols), cols, legs)[(3, 0)]
    assert '<i class="travel late"' in html and "only 30 min between the jobs" in html
    assert html.index("travel") < html.index('data-visit="2"')


def test_load_is_booked_hours_of_working_hours_and_a_day_off_shows_off() -> None:
    shift = boardload.Shift(time(8), time(17), frozenset(range(5)), frozenset({DAY}))
    jobs = [job(1, 1, (8, 0), (10, 0)), job(2, 1, (11, 0), (11, 30), state="done"),
            job(3, 2, (8, 0), (9, 0))]
    loads = boardload.loads(jobs, {1: shift, 2: boardload.Shift(time(8), time(17),
                                                                frozenset(range(5)),
                                                                frozenset())},
                            [DAY, DAY + timedelta(days=1)], "UTC")
    assert loads[(2, 0)] == (1.0, 9.0) and loads[(2, 0)].text == "1 / 9 h"
    assert loads[(1, 0)].text == "2.5 / 0 h" and loads[(1, 0)].percent == 100
    assert loads[(1, 1)] == (0.0, 9.0) and boardload.Load(0.0, 0.0).text == "off"
    assert 'class="load over"' not in boardcells.load_html(loads[(2, 0)])
    assert boardcells.load_html(loads[(2, 0)]) == (
        '<span class="load fine" style="--p:11%">1 / 9 h</span>')


def test_several_days_list_each_days_jobs_in_time_order() -> None:
    cols = board.columns(DAY, 3, "UTC")
    later = job(2, 1, (14, 0), (15, 0))
    cells = boardcells.agenda_cells([later, job(1, 1, (8, 0), (9, 0))], cols, {})
    html = cells[(1, 0)]
    assert html.index("08:00 E60") < html.index("14:00 E60") and 'class="chip booked"' in html
    # surname and town apart, so that a narrow chip can wrap them to a second line whole
    assert '<b>08:00 E60</b><span>Quellmalz</span><span class="town">Berlin</span>' in html
    viewer = boardcells.agenda_cells([job(3, 1, (8, 0), (9, 0), customer="")], cols, {})
    assert '<b>08:00 E60</b><span class="town">Berlin</span></a>' in viewer[(1, 0)]


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


def test_local_labels_follow_the_zone_across_a_daylight_saving_change() -> None:
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC).timestamp()  # 01:30 CET
    end = datetime(2026, 3, 29, 1, 30, tzinfo=UTC).timestamp()  # 03:30 CEST
    row = (1, 2, start, end, "booked", False, "i1", 7, "E60", "Weber", "Berlin", 52.5, 13.4)
    (j,) = board.with_local_times([row], "Europe/Berlin")
    assert (j.start_hm, j.end_hm, j.start_min, j.end_min) == ("01:30", "03:30", 90, 210)
    (late,) = board.with_local_times([(*row[:2], start + 22 * 3600, end + 23 * 3600,
                                       *row[4:])], "Europe/Berlin")
    assert (late.start_hm, late.end_hm, late.end_min) == ("00:30", "02:30", 150)
    (utc,) = board.with_local_times([row], "UTC")
    assert (utc.start_hm, utc.end_hm) == ("00:30", "01:30")


def test_a_row_names_the_technician_escaped_and_greys_a_day_off() -> None:
    from fixahead.web.boardstore import TechRow

    shift = boardload.Shift(time(8), time(17), frozenset(range(5)), frozenset({DAY}))
    tech = TechRow(9, "Jo <Müller>", "north", ("electrical",), shift)
    cols = board.columns(DAY, 3, "UTC")
    html = boardcells.rows_html([tech], cols, {(9, 1): "<a>x</a>"}, {(9, 1): "LOAD"},
                                axis=False, idle={2})
    assert "Jo &lt;Müller&gt;" in html and "north · electrical" in html
    assert '<div class="day off" data-col="0">' in html
    assert '<div class="day" data-col="1">LOAD<a>x</a></div>' in html
    assert '<div class="day idle" data-col="2">' in html
