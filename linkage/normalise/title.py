"""Titles: folded text, a space-free key, content tokens, and a flag for generic recurring titles."""

from __future__ import annotations

import re

from .text import as_text, fold

STOP_WORDS = frozenset(
    "a an and the of in on for to with by from at as is are be its into via using or vs versus de la le les "
    "des der die das und en et du".split()
)
GENERIC_TITLES = frozenset(
    fold(t) for t in (
        "editorial", "editor's notes", "editors notes", "editor's note", "from the editor", "letter from the editor",
        "book review", "book reviews", "book review column", "career forum", "introduction", "preface", "foreword",
        "erratum", "errata", "corrigendum", "correction", "letter to the editor", "letters to the editor",
        "in this issue", "index", "author index", "subject index", "table of contents", "contents",
        "announcements", "news", "comment", "reply", "response", "abstracts", "editorial board",
        "reviewers", "acknowledgment", "acknowledgement", "acknowledgments", "call for papers", "obituary",
        "front matter", "back matter", "masthead", "issue information", "guest editorial", "panel",
        "keynote", "keynote address", "invited talk", "tutorial", "foreword to the special issue",
        "editorial introduction", "research commentary", "in memoriam", "conference report",
        "reviewer acknowledgement", "thanks to reviewers", "miscellany", "notes", "discussion",
    )
)
# noise stripped from the start or end of a title (the raw title is always kept)
_LEADING = re.compile(r"^\s*(?:\[?(?:erratum|errata|corrigendum|correction|retracted|withdrawn|retraction)\]?\s*(?:to|:)\s*"
                      r"|\[(?:abstract|review|editorial|letter)\]\s*)", re.I)
_TRAILING = re.compile(r"(?:\s*[\[(](?:\d{4}|abstract|[a-z]+ ?(?:language|text)?|author'?s? transl|"
                       r"chinese|german|french|spanish|japanese|russian|italian|portuguese|polish|dutch|korean|"
                       r"czech|hungarian|turkish|swedish|danish|norwegian|finnish|hebrew|greek)[\])]\s*\.?\s*)+$",
                       re.I)


def clean_title(value) -> str | None:
    """Folded title: markup, entities, accents and punctuation removed; noise prefixes/suffixes stripped."""
    s = as_text(value)
    if s is None:
        return None
    s = s.strip().strip("'\"`")
    s = _LEADING.sub("", s)
    s = _TRAILING.sub("", s)
    f = fold(s)
    return f or None


def title_key(norm: str | None) -> str | None:
    return norm.replace(" ", "") if norm else None


def title_tokens(norm: str | None) -> list[str] | None:
    if not norm:
        return None
    toks = sorted({t for t in norm.split() if t not in STOP_WORDS and len(t) > 1})
    return toks or None


def is_generic_title(norm: str | None) -> bool:
    """True for recurring titles that name a kind of item, not a work ('book review', 'editorial')."""
    if not norm:
        return False
    if norm in GENERIC_TITLES:
        return True
    # 'book review column', 'editorial 2', 'editor s notes'
    base = re.sub(r"\s+\d+$", "", norm)
    return base in GENERIC_TITLES or (len(norm.split()) <= 4 and any(norm.startswith(g + " ") for g in
                                      ("editorial", "book review", "erratum", "correction", "editor s note")))
