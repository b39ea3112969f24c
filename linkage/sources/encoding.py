"""Text-encoding detection for delimited files: UTF-8, UTF-8 with BOM, cp1252, Latin-1."""

from __future__ import annotations

CANDIDATES = ("utf-8-sig", "utf-8", "cp1252", "latin-1")


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode ``data`` with the first encoding that fits; returns ``(text, encoding)``.

    UTF-8 (with or without BOM) is tried first because a valid UTF-8 byte sequence is almost never
    accidental; cp1252 covers the Windows exports of reference managers (ASySD, EndNote); Latin-1
    decodes anything, so nothing is ever lost.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    for enc in ("utf-8", "cp1252"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def read_text(path) -> tuple[str, str]:
    """Read a whole file as text with its detected encoding; returns ``(text, encoding)``."""
    with open(path, "rb") as fh:
        return decode_bytes(fh.read())
