"""Publication type where derivable: article, conference, preprint, thesis, techreport, book, chapter, dataset.

Evidence, strongest first: the entry type (BibTeX ``ENTRYTYPE``, RIS ``TY``, Crossref ``type``, Semantic
Scholar ``publicationTypes``); a note saying "technical report" or "PhD thesis"; a report number or an
institution without a venue (Cora keeps a technical report apart from the conference or journal
version of the same title); a preprint server or an arXiv id without DOI or venue; words of the venue
("Proceedings", "Journal", "Technical Report").
"""

from __future__ import annotations

import re

from .text import as_text, fold

PUB_TYPES = ("article", "conference", "preprint", "thesis", "techreport", "book", "chapter", "dataset")

# (type, pattern over the folded entry type); first match wins; 'misc', 'online', 'other' say nothing.
_TYPE_WORDS = [
    ("techreport", r"\btech(?:nical)? ?rep|\btechreport\b|\breport\b|\brprt\b|working ?paper|\bmemo\b|white ?paper"),
    ("thesis", r"thesis|dissertation|\bthes\b"),
    ("preprint", r"preprint|posted ?content|\barxiv\b|unpublished|\bmanuscript\b|\bunpb\b|submitted"),
    ("conference", r"conference|proceedings|inproceedings|\bconf\b|\bcpaper\b|symposium|workshop|paper ?conference|"
                   r"proceedings ?article|\bcongress\b|\bmeeting\b|\bposter\b|\bclswk\b"),
    ("chapter", r"incollection|\binbook\b|chapter|book ?chapter|book ?section|\bchap\b|book ?part"),
    ("book", r"^book$|^books?\b|monograph|edited ?book|reference ?book|\bproceedings ?book\b"),
    ("dataset", r"dataset|\bdata ?set\b|\bdbase\b"),
    ("article", r"article|journal|\bjour\b|\bjfull\b|review|letter|editorial|comment|\bnews\b|lettersandcomments|"
                r"casereport|clinicaltrial|metaanalysis|study"),
]
_NOTE_TECH = re.compile(r"\btech(?:nical)? ?(?:rep(?:ort)?|memo)\b|\btr[ -]?\d|\bworking paper\b|\breport\b")
_NOTE_THESIS = re.compile(r"\b(?:ph ?d|phd|master s|masters|msc|doctoral|diploma)\b.*\b(?:thesis|dissertation)\b|"
                          r"\bthesis\b|\bdissertation\b")
_VENUE_CONF = re.compile(r"\b(?:proc|proceedings|conference|conf|symposium|symp|sympos|workshop|meeting|congress|"
                         r"colloquium|summer school)\b")
_VENUE_JOURNAL = re.compile(r"\b(?:journal|j|transactions|trans|letters|lett|review|rev|magazine|mag|quarterly|annals|"
                            r"ann|bulletin|bull|record|acta|archives|arch)\b")
_VENUE_TECH = re.compile(r"\b(?:technical report|tech rep|tech report|tr|report|memo|working paper)\b")
_VENUE_THESIS = re.compile(r"\b(?:thesis|dissertation)\b")
_VENUE_BOOK = re.compile(r"\b(?:lecture notes|book|handbook|encyclopedia)\b")


def entry_type_class(type_value) -> str | None:
    """The type the entry type alone gives (``_TYPE_WORDS``), or None: then ``publication_type`` looks further. The
    table path decides the rows whose entry type gives one by this alone, once per distinct entry type."""
    t = fold(as_text(type_value) or "")
    t_compact = t.replace(" ", "")
    if t:
        for name, pat in _TYPE_WORDS:
            if re.search(pat, t) or re.search(pat, t_compact):
                return name
    return None


def publication_type(type_value=None, venue=None, institution=None, report_number=None, note=None,
                     is_preprint: bool = False) -> str | None:
    """One of ``PUB_TYPES`` or None when nothing tells."""
    name = entry_type_class(type_value)
    if name is not None:
        return name
    n = fold(as_text(note) or "")
    if n and _NOTE_THESIS.search(n):
        return "thesis"
    if n and _NOTE_TECH.search(n):
        return "techreport"
    v = fold(as_text(venue) or "")
    if as_text(report_number) or (as_text(institution) and not v):
        return "techreport"
    if is_preprint:
        return "preprint"
    if v:
        if _VENUE_THESIS.search(v):
            return "thesis"
        if _VENUE_TECH.search(v):
            return "techreport"
        if _VENUE_CONF.search(v):
            return "conference"
        if _VENUE_JOURNAL.search(v):
            return "article"
        if _VENUE_BOOK.search(v):
            return "book"
    return None
