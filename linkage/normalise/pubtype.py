"""Publication type where derivable: article, conference paper, preprint, thesis, tech report, book, chapter."""

from __future__ import annotations

import re

from .text import as_text, fold

_TYPE_WORDS = [
    ("techreport", r"tech(nical)? ?rep|techreport|report|working paper|memo"),
    ("thesis", r"thesis|dissertation|phdthesis|mastersthesis"),
    ("preprint", r"preprint|posted content|arxiv|unpublished"),
    ("conference", r"conference|proceedings|inproceedings|conf|symposium|workshop|paper-conference|proceedings-article"),
    ("chapter", r"incollection|inbook|chapter|book-chapter|book section"),
    ("book", r"^book$|^monograph|edited-book"),
    ("article", r"article|journal|jour|review"),
]


def publication_type(type_value=None, venue=None, institution=None, report_number=None, note=None,
                     is_preprint: bool = False) -> str | None:
    t = fold(as_text(type_value) or "")
    if as_text(report_number) or (as_text(institution) and not as_text(venue)):
        return "techreport"
    for name, pat in _TYPE_WORDS:
        if t and re.search(pat, t):
            return name
    n = fold(as_text(note) or "")
    if n and re.search(r"tech(nical)? rep|report", n):
        return "techreport"
    if n and re.search(r"thesis|dissertation", n):
        return "thesis"
    if is_preprint:
        return "preprint"
    v = fold(as_text(venue) or "")
    if v:
        if re.search(r"\b(proc|proceedings|conference|conf|symposium|workshop|meeting|congress)\b", v):
            return "conference"
        if re.search(r"\b(journal|transactions|letters|review|magazine|quarterly|annals|bulletin|record)\b", v):
            return "article"
        if re.search(r"\b(report|tr|technical)\b", v):
            return "techreport"
    return None
