"""Pages, volume, issue: first page, last page, page count from '9848--9853', 'e1234', 'Cd002273', '893,'."""

from __future__ import annotations

import re

from .text import as_text

_RANGE = re.compile(r"([a-z]*)(\d+)\s*(?:-+|–|—|to)\s*([a-z]*)(\d+)", re.I)
_SINGLE = re.compile(r"([a-z]*\d+[a-z]?)", re.I)


def page_fields(pages, first=None, last=None) -> dict:
    s = as_text(pages)
    fp = lp = None
    if s:
        s = re.sub(r"(?i)\bpp?\.?\s*", "", s).strip()
        m = _RANGE.search(s)
        if m:
            fp, lp = (m.group(1) + m.group(2)).lower(), (m.group(3) + m.group(4)).lower()
            a, b = m.group(2), m.group(4)
            if len(b) < len(a) and int(b) < int(a[-len(b):] or 0) + 10 ** len(b):  # 1234-56 -> 1234-1256
                lp = (m.group(3) + a[: len(a) - len(b)] + b).lower()
        else:
            m = _SINGLE.search(s)
            if m:
                fp = m.group(1).lower()
    if fp is None and as_text(first):
        fp = re.sub(r"\s+", "", as_text(first)).lower()
        lp = re.sub(r"\s+", "", as_text(last)).lower() if as_text(last) else None
    count = None
    if fp and lp and fp.isdigit() and lp.isdigit() and int(lp) >= int(fp):
        count = int(lp) - int(fp) + 1
    fp = fp.lstrip("0") or fp if fp else None
    return {"page_first": fp, "page_last": lp, "page_count": count}


def number_field(value) -> str | None:
    """Volume/issue as a comparable token: '76,' -> '76', 'Vol. 12' -> '12', '11-12' kept."""
    s = as_text(value)
    if not s:
        return None
    s = re.sub(r"(?i)\b(vol(ume)?|no|num(ber)?|issue|iss)\.?\s*", "", s).strip(" ,.;:()")
    m = re.search(r"\d+(?:\s*[-/]\s*\d+)?", s)
    if m:
        return re.sub(r"\s+", "", m.group(0)).lstrip("0") or "0"
    return s.lower()[:20] or None
