"""Pages, volume, issue: first page, last page and page count from '9848--9853', 'pp. 197-227,',
'e1234', 'Cd002273', '1234-56' (-> 1234-1256), '92A-93A', 'e1129-38', 'S37'; volume/issue tokens.
"""

from __future__ import annotations

import re

from .text import as_text, to_ascii

_PP = re.compile(r"(?i)\b(?:pp?|pages?|pgs?)\.?\s*")
_RANGE = re.compile(r"([a-z]{0,3})(\d+)([a-z]?)\s*(?:-+|–|—|‐|‑|to)\s*([a-z]{0,3})(\d+)([a-z]?)(?![\d])", re.I)
_SINGLE = re.compile(r"(?<![\w])([a-z]{0,3}\d+[a-z]?)(?![\w])", re.I)
_COUNT_ONLY = re.compile(r"^\s*(\d+)\s*(?:pp?|pages?)\.?\s*$", re.I)
PAGE_COLUMNS = ("page_first", "page_last", "page_count")


def _page(prefix: str, digits: str, suffix: str) -> str:
    digits = digits.lstrip("0") or "0"
    return (prefix + digits + suffix).lower()


def page_fields(pages, first=None, last=None) -> dict:
    """``page_first``, ``page_last`` (text, leading zeros dropped, lowercase) and ``page_count``.

    A shortened last page takes the first page's leading digits ('1234-56' -> 1256, 'e1129-38' ->
    e1138); a count is given only for numeric ranges that go forward.
    """
    s = as_text(pages)
    fp = lp = None
    if s:
        s = to_ascii(s)
        if _COUNT_ONLY.match(s):  # "12 pp." is a page count, not a page
            s = ""
        s = _PP.sub("", s).strip()
        m = _RANGE.search(s)
        if m:
            p1, a, s1, p2, b, s2 = m.groups()
            a_n, b_n = a.lstrip("0") or "0", b.lstrip("0") or "0"
            if len(b_n) < len(a_n) and not p2:  # 1234-56 -> 1234-1256, e1129-38 -> e1129-e1138
                b_n = a_n[: len(a_n) - len(b_n)] + b_n
            fp, lp = _page(p1, a_n, s1), _page(p2 or p1, b_n, s2)
        else:
            m = _SINGLE.search(s)
            if m:
                fp = m.group(1).lower()
                fp = re.sub(r"(?<=[a-z])0+(?=\d)|^0+(?=\d)", "", fp)
    if fp is None:
        f = as_text(first)
        if f:
            m = _SINGLE.search(to_ascii(f))
            fp = re.sub(r"^0+(?=\d)", "", m.group(1).lower()) if m else None
            lt = as_text(last)
            m2 = _SINGLE.search(to_ascii(lt)) if lt else None
            lp = re.sub(r"^0+(?=\d)", "", m2.group(1).lower()) if m2 else None
    count = None
    if fp and lp and fp.isdigit() and lp.isdigit() and int(lp) >= int(fp):
        count = int(lp) - int(fp) + 1
    elif fp and lp:
        a_m, b_m = re.fullmatch(r"([a-z]*)(\d+)", fp), re.fullmatch(r"([a-z]*)(\d+)", lp)
        if a_m and b_m and a_m.group(1) == b_m.group(1) and int(b_m.group(2)) >= int(a_m.group(2)):
            count = int(b_m.group(2)) - int(a_m.group(2)) + 1
    if count is not None and count > 10000:
        count = None
    return {"page_first": fp, "page_last": lp, "page_count": count}


_NUMBER_LABEL = re.compile(r"(?i)\b(?:vol(?:ume)?|no|num(?:ber)?|issue|iss|nr|heft|band|bd|t)\.?\s*")
_NUMBER = re.compile(r"\d+(?:\s*[-/]\s*\d+)?")


def number_field(value) -> str | None:
    """Volume/issue as a comparable token: '76,' -> '76', 'Vol. 12' -> '12', '11-12' kept, 'Suppl' kept.

    A Semantic Scholar arXiv "volume" (``abs/2103.11069``) is not a volume: None.
    """
    s = as_text(value)
    if not s:
        return None
    s = to_ascii(s).strip()
    if s.lower().startswith("abs/"):
        return None
    s = _NUMBER_LABEL.sub("", s).strip(" ,.;:()")
    m = _NUMBER.search(s)
    if m:
        return re.sub(r"\s+", "", m.group(0)).lstrip("0") or "0"
    s = re.sub(r"[^0-9a-z]+", " ", s.lower()).strip()
    return s[:20] or None
