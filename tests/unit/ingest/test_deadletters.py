"""Dead letters keep a capped payload and their device; reporting is rate-limited per reason."""

from __future__ import annotations

import logging

from ingest.deadletters import DeadLetterReporter, dead_letter, topic_device


def test_payload_is_cut_to_the_cap_and_its_size_kept():
    letter = dead_letter("fixahead/v1/wm-1/telemetry", "fixahead/v1", "oversized", "too big",
                         b"x" * 1_000_000, 4096)
    assert (len(letter.payload), letter.size, letter.device_id) == (4096, 1_000_000, "wm-1")


def test_device_comes_from_the_topic_only_when_it_names_a_valid_device():
    assert topic_device("fixahead/v1/wm-1/events", "fixahead/v1") == "wm-1"
    assert topic_device("fixahead/v1/wm 1/events", "fixahead/v1") is None
    assert topic_device("other/wm-1/events", "fixahead/v1") is None


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_one_log_line_per_reason_per_interval_and_every_letter_counted(caplog):
    counted: list[str] = []
    clock = FakeClock()
    reporter = DeadLetterReporter(counted.append, every_s=60, clock=clock)
    letter = dead_letter("fixahead/v1/wm-1/events", "fixahead/v1", "bad_json", "x", b"{", 10)
    other = dead_letter("fixahead/v1/wm-2/events", "fixahead/v1", "bad_schema", "y", b"{}", 10)
    with caplog.at_level(logging.WARNING, logger="ingest.dead_letters"):
        logged = [reporter.record(letter) for _ in range(1000)] + [reporter.record(other)]
        clock.now = 61
        logged.append(reporter.record(letter))
    assert logged.count(True) == 3 and len(counted) == 1002
    assert len(caplog.records) == 3
    assert "and 999 more" in caplog.records[-1].getMessage()
