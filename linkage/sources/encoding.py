"""Bytes in, text out: gzip, byte-order marks and text-encoding detection for the text formats.

Detection order (first that fits wins):

1. a byte-order mark: UTF-8 (``utf-8-sig``), UTF-32 LE/BE, UTF-16 LE/BE;
2. UTF-16 without a BOM, recognised by its NUL bytes in every other position;
3. UTF-8: a valid UTF-8 byte sequence with non-ASCII characters is almost never accidental;
4. *mixed*: a file that is mostly UTF-8 with some lines in cp1252 (two exports concatenated) is decoded
   line by line, each line as UTF-8 when it is valid UTF-8, else as cp1252;
5. cp1252, the Windows export encoding of reference managers and aggregators (ASySD, EndNote);
6. Latin-1, which decodes any byte, so nothing is ever lost.

HTML entities and mojibake are *not* repaired here: the raw text stays as in the file, normalisation
repairs it later. NUL characters are removed (DuckDB and Parquet text cannot hold them) and counted.
"""

from __future__ import annotations

import codecs
import gzip
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceError

GZIP_MAGIC = b"\x1f\x8b"

_BOMS = (  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_LINE_BREAK = re.compile(rb"(?<=\n)")


@dataclass(frozen=True)
class Decoded:
    """Decoded text and how it was decoded.

    Attributes:
        text: the text, NUL characters removed.
        encoding: the encoding name (``utf-8``, ``utf-8-sig``, ``utf-16``, ``cp1252``, ``latin-1`` or
            ``utf-8+cp1252`` for a mixed file).
        notes: what the reader should tell the user (mixed encoding, NULs removed), one line each.
    """

    text: str
    encoding: str
    notes: tuple[str, ...] = ()


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when the file is gzip-compressed (recognised by its magic bytes).

    Raises:
        SourceError: the file cannot be read, or the gzip stream is truncated or corrupt.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read the file ({exc.strerror or exc})",
                          "check the path and its permissions") from exc
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except EOFError as exc:
            raise SourceError(f"{path}: the gzip file is truncated (it ends before the end of its compressed "
                              "stream, so records at its end are missing)",
                              "download or compress the file again; gzip -t FILE tests it") from exc
        except (OSError, zlib.error) as exc:
            raise SourceError(f"{path}: not a readable gzip file ({exc})",
                              "download or compress the file again; gzip -t FILE tests it") from exc
    return data


def head_bytes(path: Path, size: int = 8192) -> bytes:
    """The first ``size`` bytes of the file's content (gunzipped when compressed); best effort, for sniffing."""
    try:
        with open(path, "rb") as fh:
            start = fh.read(size)
        if start[:2] == GZIP_MAGIC:
            with gzip.open(path, "rb") as gz:
                return gz.read(size)
        return start
    except (OSError, EOFError, zlib.error):
        return b""


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4000]
    if len(sample) < 4 or sample.count(0) < len(sample) // 4:
        return None
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) // 2
    if odd_nuls > 0.4 * half and even_nuls < 0.05 * half:
        return "utf-16-le"
    if even_nuls > 0.4 * half and odd_nuls < 0.05 * half:
        return "utf-16-be"
    return None


def looks_binary(data: bytes) -> bool:
    """True when ``data`` (the start of a file) is not text in any encoding handled here."""
    sample = data[:4000]
    if not sample or any(sample.startswith(bom) for bom, _, _ in _BOMS) or _utf16_without_bom(sample):
        return False
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return control > len(sample) * 0.1


def _finish(text: str, encoding: str, notes: list[str]) -> Decoded:
    if "\x00" in text:
        n = text.count("\x00")
        text = text.replace("\x00", "")
        notes.append(f"{n} NUL characters removed")
    return Decoded(text, encoding, tuple(notes))


def decode(data: bytes) -> Decoded:
    """Decode ``data`` with the first encoding that fits (see the module docstring for the order)."""
    notes: list[str] = []
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            return _finish(data[len(bom):].decode(codec, errors="replace"), name, notes)
    codec16 = _utf16_without_bom(data)
    if codec16:
        return _finish(data.decode(codec16, errors="replace"), "utf-16", notes)
    try:
        return _finish(data.decode("utf-8"), "utf-8", notes)
    except UnicodeDecodeError:
        pass
    if _UTF8_MULTIBYTE.search(data):
        lines = _LINE_BREAK.split(data)
        parts, n_other = [], 0
        for line in lines:
            try:
                parts.append(line.decode("utf-8"))
            except UnicodeDecodeError:
                n_other += 1
                parts.append(line.decode("cp1252", errors="replace"))
        n_utf8_lines = sum(1 for raw in lines if not raw.isascii()) - n_other
        if n_utf8_lines > 0:
            notes.append(f"mixed text encodings: {n_other} lines are not UTF-8 and were read as cp1252, "
                         f"{n_utf8_lines} non-ASCII lines as UTF-8")
            return _finish("".join(parts), "utf-8+cp1252", notes)
    try:
        return _finish(data.decode("cp1252"), "cp1252", notes)
    except UnicodeDecodeError:
        return _finish(data.decode("latin-1"), "latin-1", notes)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode ``data``; returns ``(text, encoding)`` (see ``decode``)."""
    d = decode(data)
    return d.text, d.encoding


def read_text(path: Path) -> Decoded:
    """Read a whole text file (gunzipped when compressed) and decode it.

    Raises:
        SourceError: the file is unreadable, a broken gzip file, or binary (not text).
    """
    data = read_bytes(path)
    if looks_binary(data):
        kind = "a Parquet file" if data[:4] == b"PAR1" else (
            "a spreadsheet or zip archive" if data[:2] == b"PK" else "a binary file")
        raise SourceError(f"{path}: expected a text file, but this looks like {kind}",
                          "export the table as CSV, or give the file its real extension (.parquet, .duckdb)")
    return decode(data)
