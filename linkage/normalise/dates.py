"""Dates: ISO dates, timestamps with or without zone, year only, 'Mar 2021', Crossref date-parts, '(1994).'."""

from __future__ import annotations

import datetime as dt
import json
import re

from .text import as_text, is_blank

MONTHS = {m: i + 1 for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split())}
MONTHS.update({"sept": 9, "june": 6, "july": 7, "march": 3, "april": 4, "spring": 4, "summer": 7, "fall": 10,
               "autumn": 10, "winter": 1})
_ISO = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)[-/.](\d{1,2})(?:[-/.](\d{1,2}))?(?!\d)")
_DMY = re.compile(r"(?<!\d)(\d{1,2})[-/. ](\d{1,2})[-/. ](1[5-9]\d\d|20\d\d)(?!\d)")
_YEAR = re.compile(r"(?<![\d.])(1[5-9]\d\d|20\d\d)(?![\d])")
_MONTH_WORD = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\b", re.I)
MAX_YEAR = dt.date.today().year + 2


def _valid(y: int, m: int | None = None, d: int | None = None) -> bool:
    if not 1500 <= y <= MAX_YEAR:
        return False
    if m is not None and not 1 <= m <= 12:
        return False
    if d is not None:
        try:
            dt.date(y, m or 1, d)
        except ValueError:
            return False
    return True


def parse_date(value) -> tuple[dt.date | None, int | None, str | None]:
    """(date when the day is known, year, precision 'day'|'month'|'year') or (None, None, None)."""
    if is_blank(value):
        return None, None, None
    if isinstance(value, dict) and "date-parts" in value:
        value = value["date-parts"]
    if isinstance(value, str) and value.strip().startswith("[["):
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if isinstance(value, (list, tuple)):
        parts = value[0] if value and isinstance(value[0], (list, tuple)) else value
        try:
            nums = [int(p) for p in parts if p is not None and str(p).strip() != ""]
        except (TypeError, ValueError):
            nums = []
        if nums and len(nums) <= 3 and _valid(*nums[:3]):
            if len(nums) == 3:
                return dt.date(*nums), nums[0], "day"
            return None, nums[0], "month" if len(nums) == 2 else "year"
        value = as_text(value)
    if isinstance(value, (int, float)):
        y = int(value)
        return (None, y, "year") if _valid(y) else (None, None, None)
    if isinstance(value, (dt.date, dt.datetime)):
        d = value.date() if isinstance(value, dt.datetime) else value
        return d, d.year, "day"
    s = str(value).strip()
    m = _ISO.search(s)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), m.group(3)
        if d is not None and _valid(y, mo, int(d)):
            return dt.date(y, mo, int(d)), y, "day"
        if d is None and _valid(y, mo):
            return None, y, "month"
    m = _DMY.search(s)
    if m:
        d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if _valid(y, mo, d):
            return dt.date(y, mo, d), y, "day"
    m = _YEAR.search(s)
    if m:
        y = int(m.group(1))
        if _valid(y):
            mw = _MONTH_WORD.search(s)
            if mw:
                mo = MONTHS[mw.group(1).lower()[:3] if mw.group(1).lower()[:4] != "sept" else "sept"]
                dm = re.search(r"(?<!\d)(\d{1,2})(?:st|nd|rd|th)?(?!\d)", s.replace(m.group(1), ""))
                if dm and _valid(y, mo, int(dm.group(1))):
                    return dt.date(y, mo, int(dm.group(1))), y, "day"
                return None, y, "month"
            return None, y, "year"
    return None, None, None


def date_fields(date_value, year_value=None) -> dict:
    d, y, p = parse_date(date_value)
    if y is None:
        d2, y2, p2 = parse_date(year_value)
        d, y, p = d or d2, y2, p2
    elif year_value is not None and d is None:
        _, y2, _ = parse_date(year_value)
        y = y2 or y
    return {"date_norm": d, "year_norm": y, "date_precision": p}
