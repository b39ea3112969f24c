"""Abstracts: leading id tokens, 'Abstract:' labels, markup and copyright lines stripped; token set."""

from __future__ import annotations

import re

from .text import as_text, fold
from .title import STOP_WORDS

_LEAD_ID = re.compile(r"^\s*(?:id[0-9a-f\-]{6,}|[0-9a-f]{16,})\s+", re.I)
_LABEL = re.compile(r"^\s*(abstract|summary|background)\s*[:.\-]\s*", re.I)
_COPYRIGHT = re.compile(r"(©|\(c\)|copyright)\s.*$", re.I | re.S)


def clean_abstract(value) -> str | None:
    s = as_text(value)
    if not s:
        return None
    s = _LEAD_ID.sub("", s)
    s = _LABEL.sub("", s)
    s = _COPYRIGHT.sub("", s)
    f = fold(s)
    return f if len(f) >= 20 else None


def abstract_tokens(norm: str | None, limit: int = 64) -> list[str] | None:
    """The first ``limit`` distinct content words, sorted: a cheap signature for token-set similarity."""
    if not norm:
        return None
    seen, out = set(), []
    for t in norm.split():
        if t in STOP_WORDS or len(t) < 3 or t in seen:
            continue
        seen.add(t)
        out.append(t)
        if len(out) >= limit:
            break
    return sorted(out) or None
