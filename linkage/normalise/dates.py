"""Dates: ISO dates, timestamps with or without zone, year only, 'Mar 2021', '15 March 2021',
'2021 Mar 15', Crossref date-parts (list, dict or JSON text), '(1994).', '1994a'.

Output: ``date_norm`` (only when the day is known), ``year_norm`` and ``date_precision``
('day' | 'month' | 'year'). A timestamp keeps the calendar date as written (no zone conversion):
``2021-03-20 01:46:39+00:00`` and ``2021-03-20 00:00:00`` are the same day. Ambiguous numeric
dates such as ``03/04/2021`` give the year only, never a guessed day.
"""

from __future__ import annotations

import datetime as dt
import json
import re

from .text import as_text, is_blank

MONTHS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
          "nov": 11, "dec": 12}
MIN_YEAR = 1500
MAX_YEAR = dt.date.today().year + 2
_ISO = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)[-/.](\d{1,2})(?:[-/.](\d{1,2}))?(?!\d)")
_NUM_DMY = re.compile(r"(?<!\d)(\d{1,2})[-/. ](\d{1,2})[-/. ](1[5-9]\d\d|20\d\d)(?!\d)")
_YEAR = re.compile(r"(?<![\d.])(1[5-9]\d\d|20\d\d)(?!\d)")
_MONTH_WORD = re.compile(r"\b(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
                         r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?", re.I)
_DAY = re.compile(r"(?<!\d)(\d{1,2})(?:st|nd|rd|th)?(?!\d)")
# Regular timestamps whose date part alone decides the result (the DuckDB path cuts them to 10 characters).
ISO_TIMESTAMP_SQL = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"

DateParts = tuple[dt.date | None, int | None, str | None]
_NONE: DateParts = (None, None, None)


def _valid(y: int, m: int | None = None, d: int | None = None) -> bool:
    if not MIN_YEAR <= y <= MAX_YEAR:
        return False
    if m is not None and not 1 <= m <= 12:
        return False
    if d is not None:
        try:
            dt.date(y, m or 1, d)
        except ValueError:
            return False
    return True


def _from_parts(parts) -> DateParts | None:
    """Crossref date-parts ``[[2021, 3, 20]]`` / ``[2021, 3]``; None when not numeric parts."""
    p = parts[0] if parts and isinstance(parts[0], (list, tuple)) else parts
    try:
        nums = [int(x) for x in p if x is not None and str(x).strip() != ""]
    except (TypeError, ValueError):
        return None
    if not nums or len(nums) > 3:
        return None
    if len(nums) == 3 and _valid(*nums):
        return dt.date(*nums), nums[0], "day"
    if len(nums) >= 2 and _valid(nums[0], nums[1]):
        return None, nums[0], "month"
    if _valid(nums[0]):
        return None, nums[0], "year"
    return _NONE


def parse_date(value) -> DateParts:
    """(date when the day is known, year, precision 'day'|'month'|'year') or (None, None, None)."""
    if is_blank(value):
        return _NONE
    if isinstance(value, dict):
        value = value.get("date-parts") or value.get("date_parts") or value.get("date")
        if is_blank(value):
            return _NONE
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if isinstance(value, (list, tuple)):
        r = _from_parts(value)
        if r is not None:
            return r
        value = as_text(value)
        if value is None:
            return _NONE
    if isinstance(value, bool):
        return _NONE
    if isinstance(value, (dt.datetime, dt.date)):
        d = value.date() if isinstance(value, dt.datetime) else value
        return (d, d.year, "day") if _valid(d.year) else _NONE
    if isinstance(value, (int, float)):
        if value != value or not float(value).is_integer():
            return _NONE
        y = int(value)
        return (None, y, "year") if _valid(y) else _NONE
    return _parse_text(str(value))


def _parse_text(s: str) -> DateParts:
    m = _ISO.search(s)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), m.group(3)
        if d is not None and _valid(y, mo, int(d)):
            return dt.date(y, mo, int(d)), y, "day"
        if d is None and _valid(y, mo):
            return None, y, "month"
    m = _NUM_DMY.search(s)
    if m:
        a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if a > 12 and _valid(y, b, a):       # 20/03/2021
            return dt.date(y, b, a), y, "day"
        if b > 12 and _valid(y, a, b):       # 03/20/2021
            return dt.date(y, a, b), y, "day"
        if a == b and _valid(y, a, a):
            return dt.date(y, a, a), y, "day"
        if _valid(y):                        # 03/04/2021: day and month cannot be told apart
            return None, y, "year"
    m = _YEAR.search(s)
    if not m or not _valid(int(m.group(1))):
        return _NONE
    y = int(m.group(1))
    mw = _MONTH_WORD.search(s)
    if not mw:
        return None, y, "year"
    mo = MONTHS[mw.group(1).lower()[:3]]
    rest = list(s)
    for a, b in (m.span(), mw.span()):
        rest[a:b] = " " * (b - a)
    rest = "".join(rest)
    dm = _DAY.search(rest)
    if dm and _valid(y, mo, int(dm.group(1))):
        return dt.date(y, mo, int(dm.group(1))), y, "day"
    return None, y, "month"


def date_fields(date_value, year_value=None) -> dict:
    """``date_norm``, ``year_norm``, ``date_precision`` from a date field and/or a year field.

    The date field wins when it parses; the year field fills in otherwise.
    """
    d, y, p = parse_date(date_value)
    if y is None:
        d, y, p = parse_date(year_value)
    return {"date_norm": d, "year_norm": y, "date_precision": p}


def year_in_text(value) -> int | None:
    """A plausible publication year written inside another field ('VLDB 2002', 'to appear, 1995')."""
    s = as_text(value)
    if not s:
        return None
    years = [int(x) for x in _YEAR.findall(s) if _valid(int(x))]
    return years[-1] if len(set(years)) == 1 else None
