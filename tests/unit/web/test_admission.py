"""Admission control: slots are bounded, a waiter gets the next free slot, a long wait is
refused (Saturated), and a refused or cancelled waiter never leaks a slot."""

from __future__ import annotations

import asyncio

import pytest

from fixahead.web.admission import Admission, Saturated


def test_a_request_waits_for_a_free_slot_and_gets_it() -> None:
    async def run() -> list[str]:
        admission = Admission(1, wait_s=1.0)
        order: list[str] = []

        async def hold(name: str, for_s: float) -> None:
            async with admission.slot():
                order.append(f"{name} in")
                await asyncio.sleep(for_s)
                order.append(f"{name} out")

        await asyncio.gather(hold("a", 0.05), hold("b", 0.0))
        return order

    assert asyncio.run(run()) == ["a in", "a out", "b in", "b out"]


def test_a_request_that_cannot_get_a_slot_in_time_is_refused_without_leaking_one() -> None:
    async def run() -> Admission:
        admission = Admission(2, wait_s=0.02)
        async with admission.slot(), admission.slot():
            with pytest.raises(Saturated):
                async with admission.slot():
                    pass
            waiter = asyncio.create_task(admission.slot().__aenter__())
            await asyncio.sleep(0.005)
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
        async with admission.slot(), admission.slot():  # both slots are free again
            assert admission.waiting == 0
        return admission

    assert asyncio.run(run()).refused == 1


def test_admission_needs_a_slot() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        Admission(0, wait_s=1.0)
