"""A dead letter's payload is shown as escaped text, or as a hex dump when it is binary."""

from __future__ import annotations

from fixahead.web.deadletterview import hex_dump, is_text, payload_view


def test_only_utf8_without_control_characters_is_text() -> None:
    assert is_text(b'{"a": 1}\n\t') and is_text("Grüße".encode())
    assert not is_text(b"a\x00b") and not is_text(b"\xff") and not is_text(b"\x1b[31m")


def test_a_hex_dump_has_offsets_bytes_and_printable_ascii() -> None:
    assert hex_dump(b"AB\x00") == "0000  41 42 00" + " " * 39 + "  |AB.|"
    assert hex_dump(bytes(17)).splitlines()[1].startswith("0010  00")


def test_a_preview_shows_the_first_256_bytes_and_says_it_is_cut() -> None:
    text = payload_view(b"x" * 300, 4000)
    assert text.kind == "text" and text.shown_bytes == 256 and text.truncated
    binary = payload_view(b"\x00" * 10, 10)
    assert binary.kind == "binary" and not binary.truncated and binary.preview.count("00") >= 10
