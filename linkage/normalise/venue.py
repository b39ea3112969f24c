"""Venues: a normalised name, a key robust to abbreviation, aliases, and preprint-server detection."""

from __future__ import annotations

import re

from .text import as_text, fold

PREPRINT_SERVERS = ("arxiv", "biorxiv", "medrxiv", "ssrn", "research square", "preprints", "chemrxiv", "psyarxiv",
                    "osf preprints", "techrxiv", "corr", "eprint")
VENUE_STOP = frozenset("of the and on in for de la a an at to proceedings proc conference conf international intl "
                       "journal j annual symposium symp workshop acm ieee usenix".split())
# A few well-known alias families. The records issue grows this into a data file built from general venue lists.
ALIASES = {
    "sigmod": ("sigmod conference", "international conference on management of data", "acm sigmod",
               "sigmod international conference on management of data", "proceedings of the acm sigmod"),
    "sigmod record": ("sigmod record", "acm sigmod record"),
    "vldb": ("vldb", "very large data bases", "international conference on very large data bases",
             "vldb journal", "the vldb journal", "vldb j", "the vldb journal the international journal on very large data bases"),
    "tods": ("acm transactions on database systems", "acm trans database syst", "tods",
             "acm trans database systems"),
    "icde": ("icde", "international conference on data engineering"),
}
_ALIAS_OF = {fold(a): k for k, vs in ALIASES.items() for a in vs}


def venue_fields(value) -> dict:
    s = as_text(value)
    if s is None:
        return {"venue_norm": None, "venue_key": None, "is_preprint": False}
    norm = fold(re.sub(r"\(\s*\d{4}\s*\)|\b(19|20)\d\d\b", " ", s))
    norm = re.sub(r"\b\d+(st|nd|rd|th)\b", " ", norm)
    norm = re.sub(r"\s+", " ", norm).strip()
    alias = _ALIAS_OF.get(norm)
    if alias is None:
        for a, k in _ALIAS_OF.items():
            if len(a) > 8 and a in norm:
                alias = k
                break
    toks = [t for t in norm.split() if t not in VENUE_STOP and not t.isdigit()]
    key = alias or (" ".join(t[:4] for t in toks) if toks else norm) or None
    is_pre = any(re.search(rf"\b{re.escape(p)}\b", norm) for p in PREPRINT_SERVERS)
    return {"venue_norm": norm or None, "venue_key": key, "is_preprint": is_pre}
