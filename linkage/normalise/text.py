"""Shared text folding: mojibake and entity repair, markup removal, transliteration, case folding."""

from __future__ import annotations

import html
import re
import unicodedata

import ftfy
from anyascii import anyascii

_TAG = re.compile(r"<[^>]{0,200}>")
_LATEX_ACCENT = re.compile(r"\\[`'^\"~=.uvHcdbtr]\s*\{?\\?([a-zA-Z])\}?")
_LATEX_CMD = re.compile(r"\\[a-zA-Z]+\*?\s*")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]{2,8});?")


def fix_text(value: str) -> str:
    """Repair mojibake and (double) HTML entities, drop markup and LaTeX, keep accents (NFC)."""
    s = value
    for _ in range(3):  # "&amp;#225;" needs two rounds
        if "&" not in s:
            break
        t = html.unescape(s)
        if t == s:
            break
        s = t
    if not s.isascii():
        s = ftfy.fix_text(s, normalization="NFC")
    if "<" in s:
        s = _TAG.sub(" ", s)
    if "\\" in s or "$" in s or "{" in s:
        s = _LATEX_ACCENT.sub(r"\1", s)
        s = _LATEX_CMD.sub("", s)
        s = s.replace("$", "").replace("{", "").replace("}", "")
    return unicodedata.normalize("NFC", s)


def fold(value: str) -> str:
    """ASCII, lowercase, punctuation to single spaces: 'Nicolás & Ö-test' -> 'nicolas o test'."""
    s = fix_text(value)
    if not s.isascii():
        s = anyascii(s)
    return _NON_ALNUM.sub(" ", s.lower()).strip()


def is_blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    if isinstance(value, str):
        return value.strip().lower() in ("", "none", "nan", "null", "n/a", "na", "-", "--", "[]")
    if isinstance(value, (list, tuple)):
        return all(is_blank(v) for v in value)
    return False


def as_text(value) -> str | None:
    """A raw cell as one string (lists joined with '; '), or None when blank."""
    if is_blank(value):
        return None
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value if not is_blank(v))
    return str(value)
