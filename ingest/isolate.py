"""Find the messages a write refuses by bisection, so the rest are stored. No I/O.

A batch is written in one transaction; when the database refuses it for its data (a value
it cannot store), one message is usually to blame. Splitting the batch in halves and writing
each on its own isolates the culprits in about 2·log2(n) writes per bad message, while every
good message is written once in some half.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class DataFault(Exception):
    """A write refused for the data it was given (not for the database being away)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass
class Isolated(Generic[T, R]):
    """What bisection found: results of the writes that committed, and the refused items."""

    results: list[R] = field(default_factory=list)
    refused: list[tuple[T, str]] = field(default_factory=list)
    writes: int = 0


def isolate(items: Sequence[T], write: Callable[[Sequence[T]], R]) -> Isolated[T, R]:
    """Write `items`; on a `DataFault`, bisect until each refused item stands alone.

    `write` raises `DataFault` for data it refuses; any other exception (the database gone)
    propagates, and the caller retries the whole batch. Results keep the items' order.
    """
    found: Isolated[T, R] = Isolated()
    pending: list[Sequence[T]] = [items]
    while pending:
        part = pending.pop()
        if not part:
            continue
        found.writes += 1
        try:
            found.results.append(write(part))
        except DataFault as fault:
            if len(part) == 1:
                found.refused.append((part[0], fault.detail))
                continue
            mid = len(part) // 2
            pending.append(part[mid:])  # popped last: the first half is written first
            pending.append(part[:mid])
    return found
