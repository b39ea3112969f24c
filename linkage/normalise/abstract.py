"""Abstracts: leading id tokens, 'Abstract:' labels, markup and copyright lines stripped; a token set.

``abstract_tokens`` is a bottom-k sketch: the 64 alphabetically first distinct content words. Two
versions of the same abstract share most of them, so their Jaccard similarity stays high, and it is cheap
to compute in SQL and in Python alike.
"""

from __future__ import annotations

import re
import sys

from .text import as_text, fold_fixed, is_blank, prep_text
from .title import STOP_WORDS

_LEAD_ID = re.compile(r"^\s*(?:id[0-9a-f\-]{6,}|[0-9a-f]{16,})\s+", re.I)
_LABEL = re.compile(r"^\s*(?:(?i:(?:abstract|summary)\b\s*[:.\-]?|(?:background|purpose|objectives?|aims?|"
                    r"introduction|context|importance)\s*[:.\-])|(?:Background|Purpose|Objectives?|Aims?|Introduction"
                    r"|Context|Importance)\s+(?=[A-Z]))\s*")
_COPYRIGHT = re.compile(r"(?:\(c\)|copyright)\s*(?:\(c\)\s*)?(?:(?:19|20)\d\d|by\b|the\s+authors?\b).*$", re.I)
_TAIL = re.compile(r"(?:\ball rights reserved\b.*|\bpublished by\b[^.]{0,80}\.?\s*)$", re.I)
# RE2 patterns (DuckDB) matching every prepared abstract the two leading steps below (id token, label) could
# change, and every one the two trailing steps (copyright line, "all rights reserved") could: only those abstracts
# pay for the replacements. (The leading steps remove a prefix: what remains has no new match of the trailing hint.)
ABSTRACT_LEAD_HINT_SQL = (r"(?i)^\s*(?:id[0-9a-f-]{6,}\s|[0-9a-f]{16,}\s|abstract|summary|background|purpose"
                          r"|objective|aim|introduction|context|importance)")
ABSTRACT_TAIL_HINT_SQL = r"(?i)\(c\)|copyright|rights reserved|published by"
# The same four steps as RE2 patterns for DuckDB (regexp_replace, first match; the label's look-ahead is a
# captured letter put back by the replacement '\\1').
ABSTRACT_STEPS_SQL = (
    (r"(?i)^\s*(?:id[0-9a-f\-]{6,}|[0-9a-f]{16,})\s+", ""),
    (r"^\s*(?:(?i:(?:abstract|summary)\b\s*[:.\-]?|(?:background|purpose|objectives?|aims?|introduction|context"
     r"|importance)\s*[:.\-])\s*|(?:Background|Purpose|Objectives?|Aims?|Introduction|Context|Importance)\s+([A-Z]))",
     "\\1"),
    (r"(?i)(?:\(c\)|copyright)\s*(?:\(c\)\s*)?(?:(?:19|20)\d\d|by\b|the\s+authors?\b).*$", ""),
    (r"(?i)(?:\ball rights reserved\b.*|\bpublished by\b[^.]{0,80}\.?\s*)$", ""),
)
ABSTRACT_STOP_WORDS = STOP_WORDS | frozenset(
    "about above across after again against all also although among amongst another any both but can could did "
    "does done each either even ever every first found four from further given had has have having here how "
    "however into its itself just less many may might more most much must not now our ours over own per rather "
    "same several shall should since some such than that their theirs them then there therefore these they this "
    "those three through thus too two under until upon use used uses was were what when where whether which while "
    "who whom whose why will within without would yet you your".split())
ABSTRACT_TOKEN_LIMIT = 64
MIN_ABSTRACT_CHARS = 20


def clean_abstract_plain(s: str) -> str | None:
    """``clean_abstract`` of text already through ``prep_text``."""
    s = _LEAD_ID.sub("", s)
    s = _LABEL.sub("", s)
    s = _COPYRIGHT.sub("", s)
    s = _TAIL.sub("", s)
    f = fold_fixed(s)
    return f if len(f) >= MIN_ABSTRACT_CHARS else None


def clean_abstract(value) -> str | None:
    """Folded abstract without id tokens, labels, markup or copyright lines; None when under 20 characters."""
    s = as_text(value)
    if not s:
        return None
    s = prep_text(s)
    return None if is_blank(s) else clean_abstract_plain(s)


def abstract_tokens(norm: str | None, limit: int = ABSTRACT_TOKEN_LIMIT) -> list[str] | None:
    """The ``limit`` alphabetically first distinct content words (three letters or more, no stop words)."""
    if not norm:
        return None
    words = set(norm.split())
    words -= ABSTRACT_STOP_WORDS
    toks = sorted(t for t in words if len(t) >= 3)[:limit]
    return [sys.intern(t) for t in toks] or None
