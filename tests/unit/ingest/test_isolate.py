"""Bisection finds the items a write refuses and writes every other item exactly once."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from ingest.isolate import DataFault, isolate


class FakeStore:
    """Refuses any write that contains a poisoned item; records what it committed."""

    def __init__(self, poison: set[int]) -> None:
        self.poison = poison
        self.committed: list[int] = []

    def write(self, part: Sequence[int]) -> int:
        bad = [i for i in part if i in self.poison]
        if bad:
            raise DataFault(f"item {bad[0]} refused")
        self.committed.extend(part)
        return len(part)


@pytest.mark.parametrize("poison", [set(), {0}, {99}, {5, 6}, {3, 50, 97}, set(range(100))])
def test_refused_items_are_isolated_and_the_rest_committed_once_in_order(poison):
    store = FakeStore(poison)
    found = isolate(list(range(100)), store.write)
    assert sorted(i for i, _ in found.refused) == sorted(poison)
    assert store.committed == [i for i in range(100) if i not in poison]
    assert sum(found.results) == 100 - len(poison)
    assert all(detail == f"item {i} refused" for i, detail in found.refused)


def test_one_bad_item_costs_about_two_writes_per_halving():
    found = isolate(list(range(1024)), FakeStore({700}).write)
    assert found.writes <= 2 * 10 + 1


def test_errors_other_than_data_faults_propagate_for_the_caller_to_retry():
    def down(part: Sequence[int]) -> int:
        raise ConnectionError("database away")

    with pytest.raises(ConnectionError):
        isolate([1, 2, 3], down)
