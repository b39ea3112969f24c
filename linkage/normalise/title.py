"""Titles: folded text, a space-free key, content tokens, and a flag for generic recurring titles.

``clean_title`` repairs the text (entities, mojibake, markup), strips noise that is not part of the
title (``Erratum:``, ``[Review] [58 refs]``, ``(1991)``, ``... [Chinese]``, a leading citation remnant
such as ``seung (1995),``) and folds it (ASCII, lowercase, punctuation to single spaces).
"""

from __future__ import annotations

import re

from .text import BLANKS, as_text, fold, fold_fixed, is_blank, prep_text

STOP_WORDS = frozenset(
    "a an and the of in on for to with by from at as is are be its into via using or vs versus de la le les "
    "des der die das und en et du".split()
)
GENERIC_TITLES = frozenset(
    fold(t) for t in (
        "editorial", "editor's notes", "editor's note", "editor's comments", "editor's introduction",
        "from the editor", "from the editors", "letter from the editor", "message from the editor",
        "chair's message", "president's message", "message from the chair", "report from the chair",
        "book review", "book reviews", "book review column", "books received", "career forum", "introduction",
        "preface", "foreword", "erratum", "errata", "corrigendum", "correction", "corrections",
        "letter to the editor", "letters to the editor", "letters", "in this issue", "index", "author index",
        "subject index", "table of contents", "contents", "announcements", "news", "comment", "comments",
        "reply", "response", "rejoinder", "abstracts", "editorial board", "reviewers", "acknowledgment",
        "acknowledgement", "acknowledgments", "acknowledgements", "call for papers", "obituary", "front matter",
        "back matter", "front cover", "back cover", "masthead", "issue information", "guest editorial",
        "guest editors introduction", "panel", "panel discussion", "keynote", "keynote address", "invited talk",
        "tutorial", "foreword to the special issue", "editorial introduction", "research commentary",
        "in memoriam", "conference report", "workshop report", "reviewer acknowledgement",
        "thanks to reviewers", "miscellany", "notes", "discussion", "summary", "overview",
        "opening remarks", "closing remarks", "welcome", "welcome message", "list of reviewers",
        "program committee", "organizing committee", "conference organization", "author biographies",
        "about the authors", "calendar", "events", "new books", "recent publications", "review",
        "special issue", "special section", "introduction to the special issue", "epilogue", "prologue",
        "retraction", "retraction notice", "expression of concern", "addendum", "notice of retraction",
    )
)
_GENERIC_PREFIXES = ("editorial", "book review", "erratum", "correction", "editors note", "editors notes",
                     "editors comments", "introduction to the special issue", "guest editorial", "corrigendum")

# Noise before the title: erratum/retraction labels, "[Abstract]"-style tags, a citation remnant
# ("seung (1995), ", "[1995] ", "(1992) "). The raw title is always kept beside the cleaned one.
_LEADING = re.compile(
    r"^\s*(?:"
    r"(?:\[\s*)?(?:erratum|errata|corrigendum|correction|retracted(?: article)?|withdrawn|retraction"
    r"|notice of retraction|expression of concern)(?:\s*\])?\s*(?:to|for|on)?\s*[:.\-]\s*"
    r"|(?:erratum|corrigendum|correction|retraction)\s+(?:to|for|on|of)\s+(?=\W)"
    r"|\[\s*(?:abstract|review|editorial|letter|comment|news|retracted|in process citation)\s*\]\s*[:.]?\s*"
    r"|(?:[A-Za-z.\-']+\s+){0,3}[(\[](?:1[5-9]|20)\d\d[a-z]?[)\]]\s*[.,:;]?\s+"
    r")+",
    re.I,
)
_LANGS = ("chinese|german|french|spanish|japanese|russian|italian|portuguese|polish|dutch|korean|czech|"
          "hungarian|turkish|swedish|danish|norwegian|finnish|hebrew|greek|croatian|serbian|slovak|slovenian|"
          "romanian|bulgarian|ukrainian|persian|arabic|lithuanian|latvian|estonian|icelandic|afrikaans|catalan")
# Noise after the title: "(1991)", "[abstract]", "[Review] [58 refs]", "[Article in German]",
# "(author's transl)", "[Chinese]", "[in Chinese]", "(abstract only)".
_TRAILING = re.compile(
    r"(?:\s*[\[(]\s*(?:(?:1[5-9]|20)\d\d[a-z]?|abstract(?: only)?|review|editorial|letter|comment|erratum"
    r"|\d+ refs?|author'?s'? transl(?:ation)?|(?:article|text) in (?:" + _LANGS + r")(?: (?:and|,) \w+)*"
    r"|in (?:" + _LANGS + r")|(?:" + _LANGS + r")(?: (?:language|text|version))?"
    r"|published erratum appears in [^\])]*|see comments?|discussion|proceedings paper|meeting abstract"
    r"|conference abstract|poster|epub ahead of print|in process citation)\s*[\])]\s*[.,;:]?)+\s*$",
    re.I,
)
# A title that folds to a placeholder ("None.", "[Unknown]") is no title.
FOLDED_BLANKS = frozenset(fold(b) for b in BLANKS) - {""}
# RE2 patterns (DuckDB) matching every title the two regexes above could change (and more): those titles
# take the Python path; for all others clean_title_plain is plain folding.
# The trailing part is ``_TRAILING`` itself (RE2 reads it alike on ASCII text), allowing the quotes and spaces
# ``clean_title_plain`` strips first: a title that merely ends in a bracket ("... (SIGMOD)") is folded in SQL.
# (``_LEADING`` removes a prefix; what remains has no match ``_TRAILING`` would not find in the whole title.)
assert _TRAILING.pattern.endswith(r"\s*$")
TITLE_NOISE_HINT_SQL = (r"(?i)^[\s'\"`]*(?:[A-Za-z.\-']+\s+){0,3}[\[(]"
                        r"|(?i)^[\s'\"`]*(?:erratum|errata|corrigendum|correction|retract|withdrawn|notice|expression)"
                        r"|(?i:" + _TRAILING.pattern[:-len(r"\s*$")] + r")[\s'\"`]*$")
_YEAR_IN_TITLE = re.compile(r"(?:^|[\[(\s])((?:1[5-9]|20)\d\d)[a-z]?[\])]")


def clean_title(value) -> str | None:
    """Folded title: markup, entities, accents and punctuation removed; noise prefixes/suffixes stripped."""
    s = as_text(value)
    if s is None:
        return None
    s = prep_text(s)
    return None if is_blank(s) else clean_title_plain(s)


def clean_title_plain(s: str) -> str | None:
    """``clean_title`` of text already through ``prep_text`` (ASCII); the DuckDB path computes the same."""
    s = s.strip().strip("'\"`")
    s = _LEADING.sub("", s)
    s = _TRAILING.sub("", s)
    f = fold_fixed(s)
    return None if not f or f in FOLDED_BLANKS else f


def title_year(value) -> int | None:
    """A publication year written in the title: ``(1991)`` at either end, ``[1995] ...``, ``seung (1995), ...``."""
    s = as_text(value)
    if not s:
        return None
    head = _LEADING.match(s)
    tail = _TRAILING.search(s)
    for part in (head.group(0) if head else "", tail.group(0) if tail else ""):
        m = _YEAR_IN_TITLE.search(part)
        if m:
            return int(m.group(1))
    return None


def title_key(norm: str | None) -> str | None:
    """The folded title without spaces: equal for 'data base' and 'database'."""
    return norm.replace(" ", "") if norm else None


def title_tokens(norm: str | None) -> list[str] | None:
    """Sorted distinct content words (stop words and one-letter tokens dropped)."""
    if not norm:
        return None
    toks = sorted({t for t in norm.split() if t not in STOP_WORDS and len(t) > 1})
    return toks or None


_TRAILING_NUMBER = re.compile(r"\s+\d+$")


def is_generic_title(norm: str | None) -> bool:
    """True for recurring titles that name a kind of item, not a work ('book review', 'editorial')."""
    if not norm:
        return False
    if norm in GENERIC_TITLES:
        return True
    base = _TRAILING_NUMBER.sub("", norm)  # 'editorial 2', 'book reviews 12'
    if base in GENERIC_TITLES:
        return True
    return len(norm.split()) <= 4 and any(norm.startswith(g + " ") for g in _GENERIC_PREFIXES)
