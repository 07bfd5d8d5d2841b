"""GapGuard never lets a reader skip an id that may still commit."""

from __future__ import annotations

from devices.gapguard import GapGuard


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_contiguous_ids_are_all_accepted():
    assert GapGuard(clock=FakeClock()).accept(10, [11, 12, 13]) == 3


def test_reader_stops_at_a_fresh_gap_and_passes_it_once_it_is_old():
    clock = FakeClock()
    guard = GapGuard(wait_s=5, clock=clock)
    assert guard.accept(10, [11, 13, 14]) == 1  # 12 may still be committing
    clock.now = 4.9
    assert guard.accept(11, [13, 14]) == 0
    clock.now = 5.1
    assert guard.accept(11, [13, 14]) == 2  # 12 rolled back: it will never appear


def test_a_gap_that_fills_in_is_read_in_order():
    clock = FakeClock()
    guard = GapGuard(wait_s=5, clock=clock)
    assert guard.accept(0, [2]) == 0
    clock.now = 1
    assert guard.accept(0, [1, 2]) == 2
