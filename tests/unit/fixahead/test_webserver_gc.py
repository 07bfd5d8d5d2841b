"""The web role's garbage-collector setting: what is alive at start-up is frozen out of full
collections, and what a request leaves behind is still collected."""

from __future__ import annotations

import gc
import weakref

from fixahead.webserver import freeze_startup_objects


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_startup_objects_are_frozen_and_later_garbage_is_still_collected() -> None:
    try:
        frozen = freeze_startup_objects()
        assert frozen == gc.get_freeze_count() > 1000  # the imports, at least
        later = _Node()
        gone = weakref.ref(later)
        del later
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()  # give the test process its collector back
