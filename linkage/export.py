"""The deduplicated library: a run's works written as CSV, RIS, BibTeX or JSON Lines, with the PRISMA counts.

What is kept (``keep``):

* ``merged`` — one entry per work (cluster): the merged record (``merged.parquet``: each field chosen
  from one member, identifiers and URLs the union) with its provenance: the work's id, its member
  record ids and their sources;
* ``first`` — one entry per work: its first member record in input order (the order the sources were
  given, then their rows), as read;
* ``all`` — every record, as read, with its work's id (``first_in_cluster`` marks the one ``first``
  keeps).

Formats:

* ``csv`` / ``jsonl``: ``merged`` writes the merged table's columns (lists joined by ``"; "`` in CSV);
  ``first`` / ``all`` write the raw columns of each record as read (the union over the sources) after
  ``cluster_id``, ``cluster_size``, ``first_in_cluster``, ``unique_id``, ``source``, ``source_id``;
* ``ris`` (written by ``rispy``): ``TY`` from the publication type, ``ID`` the work id (``merged``) or
  record id, ``TI``, ``AU`` (one per author), ``PY``/``DA``, ``T2`` venue, ``VL``, ``IS``, ``SP``/``EP``,
  ``DO``, ``UR`` (URLs, other DOIs, arXiv and PubMed links), ``AB``, ``PB``, ``SN``, and the provenance in
  ``N1`` (a note) and ``C1`` (work id), ``C2`` (member ids), ``C3`` (sources);
* ``bibtex`` (written by ``bibtexparser``): entry type from the publication type, unique citation keys
  (first author's surname, year, first title word; ``a``, ``b``, ... on a clash), LaTeX special characters
  escaped in text (values read from BibTeX files are LaTeX already and are kept as they are; unbalanced
  braces are dropped), and the provenance fields ``linkage_work``, ``linkage_members``,
  ``linkage_sources`` (``linkage_id``: the record's id, for ``first`` / ``all``).

In RIS and BibTeX, text fields (title, authors, venue, volume, issue, pages, abstract) are as read (for
``merged``: as chosen, with HTML entities repaired); dates and identifiers (DOI, arXiv id, PubMed id) are
the normalised, valid values, so a garbage DOI is not exported.

``prisma_counts`` gives the numbers for a PRISMA flow diagram: records identified (per source),
duplicates removed (per source: records that are not their work's first record), unique works,
reviewed pairs; records identified = unique works + duplicates removed.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from .errors import LinkageError
from .explain import RunData, raw_field

FORMATS = ("csv", "ris", "bibtex", "jsonl")
KEEP = ("merged", "first", "all")
EXTENSIONS = {".csv": "csv", ".ris": "ris", ".bib": "bibtex", ".bibtex": "bibtex", ".jsonl": "jsonl",
              ".ndjson": "jsonl"}
# a work's publication type when its members disagree: the published form first
TYPE_PRIORITY = ("article", "conference", "chapter", "book", "thesis", "techreport", "dataset", "preprint")
RIS_TYPES = {"article": "JOUR", "conference": "CPAPER", "chapter": "CHAP", "book": "BOOK", "thesis": "THES",
             "techreport": "RPRT", "dataset": "DATA", "preprint": "UNPB"}
BIB_TYPES = {"article": ("article", "journal"), "conference": ("inproceedings", "booktitle"),
             "chapter": ("incollection", "booktitle"), "book": ("book", "series"),
             "thesis": ("phdthesis", "school"), "techreport": ("techreport", "institution"),
             "dataset": ("misc", "howpublished"), "preprint": ("misc", "howpublished")}
LATEX_FIELDS = frozenset({"title", "venue", "volume", "issue", "pages", "abstract", "publisher", "isbn"})
PROVENANCE_COLUMNS = ["cluster_id", "cluster_size", "first_in_cluster", "unique_id", "source", "source_id"]
_SYSTEM = {"unique_id", "source", "source_id", "source_row", "parse_error"}


# ---------------------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------------------


def _missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    return isinstance(v, str) and not v.strip()


def _items(v: Any) -> list[str]:
    """A cell as a list of non-empty strings (lists and numpy arrays item by item)."""
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        return [str(x).strip() for x in v if not _missing(x) and str(x).strip()]
    return [] if _missing(v) else [str(v).strip()]


def _text(v: Any, sep: str = "; ") -> str | None:
    """A cell as one line of text (lists joined by ``sep``, whitespace collapsed), None when empty."""
    items = _items(v)
    if not items:
        return None
    s = " ".join(sep.join(items).split())
    return s or None


def _plain(v: Any) -> Any:
    """A cell as plain JSON-able Python: numpy arrays as lists, NaN/NA as None, dates as ISO text."""
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if _missing(v) and not isinstance(v, str):
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if hasattr(v, "isoformat"):
        return v.isoformat()[:10]
    return v


def _csv_cell(v: Any) -> Any:
    v = _plain(v)
    if isinstance(v, list):
        return "; ".join(str(x) for x in v if x is not None)
    return "" if v is None else v


def _year(v: Any) -> int | None:
    try:
        return None if _missing(v) else int(v)
    except (TypeError, ValueError):
        return None


def split_pages(pages: str | None) -> tuple[str | None, str | None]:
    """``"123-130"`` -> ``("123", "130")``; a single page -> ``("123", None)``."""
    if not pages:
        return None, None
    parts = [p for p in re.split(r"\s*(?:-+|–|—)\s*", pages.strip()) if p]
    if not parts:
        return None, None
    return parts[0], (parts[-1] if len(parts) > 1 else None)


def _pick_type(types: Iterable[str]) -> str | None:
    have = set(types)
    return next((t for t in TYPE_PRIORITY if t in have), None)


# ---------------------------------------------------------------------------------------------------------
# Works: the canonical view of an entry, whatever the output format
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Work:
    """One bibliographic entry to write: a merged work or one record, with its provenance."""

    ident: str
    cluster_id: str
    members: list[str]
    sources: list[str]
    unique_id: str | None = None          # the record's id (keep first / all)
    pub_type: str | None = None
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    date: str | None = None               # YYYY-MM-DD, only when the day is known
    venue: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    dois: list[str] = field(default_factory=list)
    arxiv_ids: list[str] = field(default_factory=list)
    pmids: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    abstract: str | None = None
    publisher: str | None = None
    isbn: str | None = None
    latex: set[str] = field(default_factory=set)   # text fields as read from a BibTeX file (LaTeX)

    def provenance_note(self) -> str:
        n = len(self.members)
        head = (f"linkage: record {self.unique_id} of work {self.cluster_id}" if self.unique_id
                else f"linkage: work {self.cluster_id}")
        return (f"{head}; {n} record{'s' if n != 1 else ''}: {'; '.join(self.members)}; "
                f"sources: {', '.join(self.sources)}")


_NAME_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,;.'&|-()[]\n")


def _token(i: int, upper: bool) -> str:
    letters = ""
    i += 1
    while i > 0:
        i, r = divmod(i - 1, 26)
        letters = chr(97 + r) + letters
    return ("Q" if upper else "q") + "jxq" + letters + "qxj"


def split_authors(value: Any) -> list[str]:
    """A raw authors cell as one string per person, with the characters as written.

    The project's splitter (``normalise.authors.split_names``) decides where names end; it works on an
    ASCII form, so every other character (accents, LaTeX) is swapped for a placeholder word first and
    put back after. HTML entities and mojibake are repaired (``fix_text``).
    """
    from .normalise.authors import split_names
    from .normalise.text import fix_text

    items = [fix_text(x) for x in _items(value)]
    if not items:
        return []
    table: dict[str, str] = {}

    def protect(s: str) -> str:
        out = []
        for ch in s:
            if ch in _NAME_SAFE:
                out.append(ch)
            else:
                if ch not in table:
                    table[ch] = _token(len(table), ch.isupper())
                out.append(table[ch])
        return "".join(out)

    guarded = [protect(x) for x in items]
    try:
        names = split_names(guarded if len(guarded) > 1 else guarded[0])
    except Exception:  # a value the splitter cannot read: keep it whole
        names = guarded
    back = {v: k for k, v in table.items()}
    if back:
        pat = re.compile("|".join(re.escape(t) for t in sorted(back, key=len, reverse=True)))
        names = [pat.sub(lambda m: back[m.group(0)], n) for n in names]
    return [" ".join(n.split()) for n in names if n and n.strip()]


def _authors(value: Any) -> list[str]:
    return split_authors(value)


def _url(u: str) -> str:
    u = " ".join(u.split())
    return u if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", u) else "https://" + u


def _order(run: RunData) -> tuple[dict[str, int], dict[str, list[str]], dict[str, str]]:
    """Record position (input order), members of each work in input order, each record's work."""
    pos = {u: i for i, u in enumerate(run.records["unique_id"].astype(str))}
    cl = run.clusters
    uid = cl["unique_id"].astype(str).tolist()
    cid = cl["cluster_id"].astype(str).tolist()
    members: dict[str, list[str]] = {}
    for u, c in sorted(zip(uid, cid), key=lambda x: pos.get(x[0], len(pos))):
        members.setdefault(c, []).append(u)
    return pos, members, dict(zip(uid, cid))


def _formats(run: RunData) -> dict[str, str]:
    """source -> input format (csv, ris, bibtex, ...)."""
    return {str(i.get("source")): str(i.get("format")) for i in run.info.get("inputs") or []}


def merged_works(run: RunData) -> list[Work]:
    """One ``Work`` per cluster from ``merged.parquet``, in input order of the works' first records."""
    pos, members, _ = _order(run)
    m = run.merged
    works = []
    for r in m.to_dict(orient="records"):
        c = str(r["cluster_id"])
        mem = members.get(c) or [str(x) for x in _items(r.get("member_ids"))]
        date = _text(r.get("date"))
        urls = _items(r.get("urls")) + [u for u in _items(r.get("repo_urls")) if u not in _items(r.get("urls"))]
        works.append(Work(
            ident=c, cluster_id=c, members=mem, sources=sorted(set(_items(r.get("sources")))),
            pub_type=_pick_type(_items(r.get("pub_types"))), title=_text(r.get("title")),
            authors=_authors(r.get("authors")), year=_year(r.get("year")),
            date=date[:10] if date and re.match(r"\d{4}-\d{2}-\d{2}", date) else None,
            venue=_text(r.get("venue")), volume=_text(r.get("volume")), issue=_text(r.get("issue")),
            pages=_text(r.get("pages")), dois=_items(r.get("dois")), arxiv_ids=_items(r.get("arxiv_ids")),
            pmids=_items(r.get("pmids")), urls=urls, abstract=_text(r.get("abstract"), sep=" ")))
    works.sort(key=lambda w: min((pos.get(u, len(pos)) for u in w.members), default=len(pos)))
    return works


def record_works(run: RunData, keep: str) -> list[Work]:
    """One ``Work`` per record (``all``) or per cluster's first record (``first``), in input order.

    Text fields are repaired (``fix_text``: HTML entities, mojibake, LaTeX) except those of records read
    from BibTeX, which stay LaTeX (marked in ``Work.latex``: kept as they are in BibTeX, repaired in RIS).
    """
    from .normalise.text import fix_text

    pos, members, cluster_of = _order(run)
    recs = run.records
    src_of = dict(zip(recs["unique_id"].astype(str), recs["source"].astype(str)))
    if keep == "first":
        firsts = {mem[0] for mem in members.values()}
        recs = recs[recs["unique_id"].astype(str).isin(firsts)]
    recs = recs.reset_index(drop=True)
    info = run.info
    fmt = _formats(run)
    raw = {f: raw_field(recs, info, f) for f in ("title", "authors", "venue", "volume", "issue", "pages",
                                                 "first_page", "last_page", "abstract", "publisher", "isbn")}

    def col(c: str) -> list[Any]:
        return recs[c].tolist() if c in recs else [None] * len(recs)

    date_norm, prec, year = col("date_norm"), col("date_precision"), col("year_norm")
    doi, arx, pmid, urls, repo, ptype = (col("doi_norm"), col("arxiv_id_norm"), col("pmid_norm"), col("urls_norm"),
                                         col("repo_url"), col("pub_type"))
    works = []
    def txt(f: str, i: int, sep: str = "; ") -> str | None:
        v = _text(raw[f].iloc[i], sep=sep)
        return v if v is None or is_bib else fix_text(v)

    for i, (u, s) in enumerate(zip(recs["unique_id"].astype(str), recs["source"].astype(str))):
        is_bib = fmt.get(s) == "bibtex"
        c = cluster_of.get(u, u)
        mem = members.get(c, [u])
        pages = txt("pages", i)
        if not pages:
            fp, lp = txt("first_page", i), txt("last_page", i)
            pages = f"{fp}-{lp}" if fp and lp else fp
        d = date_norm[i]
        url_list = _items(urls[i])
        if not _missing(repo[i]) and str(repo[i]) not in url_list:
            url_list.append(str(repo[i]))
        works.append(Work(
            ident=u, cluster_id=c, members=mem, sources=sorted({src_of.get(x, s) for x in mem}),
            unique_id=u, pub_type=None if _missing(ptype[i]) else str(ptype[i]),
            title=txt("title", i, " "), authors=_authors(raw["authors"].iloc[i]), year=_year(year[i]),
            date=str(_plain(d))[:10] if not _missing(d) and (_missing(prec[i]) or prec[i] == "day") else None,
            venue=txt("venue", i), volume=txt("volume", i), issue=txt("issue", i), pages=pages,
            dois=_items(doi[i]), arxiv_ids=_items(arx[i]), pmids=_items(pmid[i]), urls=url_list,
            abstract=txt("abstract", i, " "), publisher=txt("publisher", i), isbn=txt("isbn", i),
            latex=LATEX_FIELDS if is_bib else set()))
    return works


def works(run: RunData, keep: str) -> list[Work]:
    """The entries to write for ``keep`` (merged, first or all)."""
    if keep == "merged":
        return merged_works(run)
    if keep in ("first", "all"):
        return record_works(run, keep)
    raise LinkageError(f"unknown --keep {keep!r}", "use merged, first or all")


# ---------------------------------------------------------------------------------------------------------
# RIS
# ---------------------------------------------------------------------------------------------------------


def ris_name(name: str) -> str:
    """An author as RIS wants it, ``Last, First``: 'Daniel J. Abadi' -> 'Abadi, Daniel J.'.

    Names with a comma are kept; 'Chen J. R.' (surname first, initials after) -> 'Chen, J. R.'.
    """
    from .normalise.authors import PARTICLES

    name = " ".join(name.split())
    if "," in name or " " not in name:
        return name
    toks = name.split(" ")

    def initials(t: str) -> bool:
        return bool(re.fullmatch(r"(?:[A-Z]\.?-?){1,4}", t))

    if not initials(toks[0]) and all(initials(t) for t in toks[1:]):
        return f"{toks[0]}, {' '.join(toks[1:])}"
    i = len(toks) - 1
    if toks[i].rstrip(".").lower() in {"jr", "sr", "ii", "iii", "iv"} and i > 1:
        i -= 1
    while i > 1 and toks[i - 1].lower() in PARTICLES:
        i -= 1
    suffix = toks[len(toks) - 1] if i < len(toks) - 1 and toks[-1].rstrip(".").lower() in {"jr", "sr", "ii", "iii",
                                                                                             "iv"} else None
    last = " ".join(toks[i:len(toks) - 1] if suffix else toks[i:])
    first = " ".join(toks[:i])
    return f"{last}, {first}" + (f", {suffix}" if suffix else "")


def _one_line(s: str | None) -> str | None:
    return " ".join(s.split()) if s else None


def ris_entry(w: Work) -> dict[str, Any]:
    """A ``Work`` as a rispy entry (keys of ``rispy.TAG_KEY_MAPPING``); LaTeX from BibTeX records repaired."""
    from .normalise.text import fix_text

    def text(f: str, v: str | None) -> str | None:
        return _one_line(fix_text(v) if v and f in w.latex else v)

    e: dict[str, Any] = {"type_of_reference": RIS_TYPES.get(w.pub_type or "", "GEN"), "id": w.ident}
    for key, f, v in (("title", "title", w.title), ("year", "", str(w.year) if w.year else None),
                      ("date", "", w.date.replace("-", "/") if w.date else None),
                      ("secondary_title", "venue", w.venue), ("volume", "volume", w.volume),
                      ("number", "issue", w.issue)):
        t = text(f, v)
        if t:
            e[key] = t
    if w.authors:
        e["authors"] = [ris_name(a) for a in w.authors]
    sp, ep = split_pages(text("pages", w.pages))
    if sp:
        e["start_page"] = sp
    if ep:
        e["end_page"] = ep
    if w.dois:
        e["doi"] = w.dois[0]
    urls = list(w.urls) + [f"https://doi.org/{d}" for d in w.dois[1:]]
    urls += [f"https://arxiv.org/abs/{a}" for a in w.arxiv_ids]
    urls += [f"https://pubmed.ncbi.nlm.nih.gov/{p}/" for p in w.pmids]
    urls = [u for u in dict.fromkeys(_url(u) for u in urls if u and u.strip())]
    if urls:
        e["urls"] = urls
    for key, f, v in (("abstract", "abstract", w.abstract), ("publisher", "publisher", w.publisher),
                      ("issn", "isbn", w.isbn)):
        t = text(f, v)
        if t:
            e[key] = t
    e["notes"] = [w.provenance_note()]
    e["custom1"] = w.cluster_id
    e["custom2"] = "; ".join(w.members)
    e["custom3"] = "; ".join(w.sources)
    return e


def write_ris(items: Sequence[Work], stream: IO[str]) -> int:
    """Write the works as RIS (via ``rispy.dumps``, without rispy's ``1.`` numbering lines)."""
    import rispy
    from rispy.writer import RisWriter

    class _Writer(RisWriter):
        def set_header(self, count: int) -> str:
            return ""

    entries = [ris_entry(w) for w in items]
    stream.write(rispy.dumps(entries, implementation=_Writer) if entries else "")
    return len(entries)


# ---------------------------------------------------------------------------------------------------------
# BibTeX
# ---------------------------------------------------------------------------------------------------------

_LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                   "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "{": r"\{", "}": r"\}"}


def balance_braces(s: str, escaped: bool = False) -> str:
    """``s`` without its unmatched braces (BibTeX counts every brace, escaped or not, so unbalanced ones
    end or break an entry). With ``escaped``, ``\\{`` and ``\\}`` count like any brace."""
    out: list[str] = []
    opened: list[int] = []
    for ch in s:
        if ch == "{":
            opened.append(len(out))
            out.append(ch)
        elif ch == "}":
            if opened:
                opened.pop()
                out.append(ch)
        else:
            out.append(ch)
    for i in reversed(opened):
        del out[i]
    text = "".join(out)
    if escaped:  # a lone backslash left before a removed brace
        text = re.sub(r"\\(?=\s|$)", "", text)
    return text


def latex_escape(s: str) -> str:
    """Plain text as BibTeX/LaTeX text: special characters escaped, literal braces kept balanced."""
    s = balance_braces(" ".join(s.split()))
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in s)


def bib_text(s: str | None, is_latex: bool) -> str | None:
    """A field value for BibTeX: LaTeX kept (braces balanced) when it came from a BibTeX file, else escaped."""
    if not s:
        return None
    s = " ".join(s.split())
    return balance_braces(s, escaped=True) if is_latex else latex_escape(s)


def bib_verbatim(s: str | None) -> str | None:
    """A URL, DOI or eprint id: as is, without braces or whitespace (``url`` is read verbatim)."""
    if not s:
        return None
    v = re.sub(r"[{}\s]", "", s)
    return v or None


def cite_key_base(w: Work) -> str:
    """``surname`` + ``year`` + first significant title word, ASCII lower case: ``abadi2003aurora``."""
    from anyascii import anyascii

    from .normalise.authors import parse_name
    from .normalise.title import STOP_WORDS

    surname = ""
    if w.authors:
        try:
            a = parse_name(re.sub(r"[{}\\]", "", w.authors[0]))
            surname = a.surname if a else ""
        except Exception:
            surname = ""
    words = re.findall(r"[a-z0-9]+", anyascii(re.sub(r"\\[a-zA-Z]+|[{}]", "", w.title or "")).lower())
    word = next((x for x in words if len(x) >= 3 and x not in STOP_WORDS), words[0] if words else "")
    base = re.sub(r"[^a-z0-9]", "", anyascii(surname).lower()) + (str(w.year) if w.year else "") + word
    return base or "ref"


def unique_keys(bases: Sequence[str]) -> list[str]:
    """Citation keys from bases, made unique: the first keeps its base, later ones get a, b, ..., z, aa, ..."""
    used: set[str] = set()
    count: dict[str, int] = {}
    out = []
    for b in bases:
        key = b
        while key in used:
            n = count.get(b, 0)
            count[b] = n + 1
            suffix = ""
            n += 1
            while n > 0:
                n, r = divmod(n - 1, 26)
                suffix = chr(97 + r) + suffix
            key = b + suffix
        used.add(key)
        out.append(key)
    return out


def bib_fields(w: Work) -> tuple[str, list[tuple[str, str]]]:
    """(entry type, ordered fields) of a ``Work``."""
    etype, venue_field = BIB_TYPES.get(w.pub_type or "", ("misc", "howpublished"))
    if w.pub_type is None and w.venue:
        etype, venue_field = "misc", "howpublished"
    fields: list[tuple[str, str | None]] = [
        ("author", bib_text(" and ".join(ris_name(a) for a in w.authors), False) if w.authors else None),
        ("title", bib_text(w.title, "title" in w.latex)),
        ("year", str(w.year) if w.year else None),
        ("date", w.date),
        (venue_field, bib_text(w.venue, "venue" in w.latex)),
        ("volume", bib_text(w.volume, "volume" in w.latex)),
        ("number", bib_text(w.issue, "issue" in w.latex)),
    ]
    sp, ep = split_pages(w.pages)
    pages = f"{sp}--{ep}" if sp and ep else sp
    fields.append(("pages", bib_text(pages, "pages" in w.latex) if pages else None))
    fields.append(("publisher", bib_text(w.publisher, "publisher" in w.latex)))
    fields.append(("isbn", bib_text(w.isbn, "isbn" in w.latex)))
    fields.append(("doi", bib_verbatim(w.dois[0]) if w.dois else None))
    if w.arxiv_ids:
        fields += [("eprint", bib_verbatim(w.arxiv_ids[0])), ("archiveprefix", "arXiv")]
    fields.append(("pmid", bib_verbatim(w.pmids[0]) if w.pmids else None))
    fields.append(("url", bib_verbatim(_url(w.urls[0])) if w.urls else None))
    fields.append(("abstract", bib_text(w.abstract, "abstract" in w.latex)))
    fields.append(("linkage_work", bib_verbatim(w.cluster_id)))
    if w.unique_id:
        fields.append(("linkage_id", bib_text(w.unique_id, False)))
    fields.append(("linkage_members", bib_text("; ".join(w.members), False)))
    fields.append(("linkage_sources", bib_text(", ".join(w.sources), False)))
    return etype, [(k, v) for k, v in fields if v]


def write_bibtex(items: Sequence[Work], stream: IO[str]) -> int:
    """Write the works as BibTeX (via ``bibtexparser``), one entry each, with unique citation keys."""
    import bibtexparser
    from bibtexparser import model

    keys = unique_keys([cite_key_base(w) for w in items])
    lib = bibtexparser.Library()
    for w, key in zip(items, keys):
        etype, fields = bib_fields(w)
        lib.add(model.Entry(etype, key, [model.Field(k, v) for k, v in fields]))
    stream.write(bibtexparser.write_string(lib) if items else "")
    return len(items)


# ---------------------------------------------------------------------------------------------------------
# CSV and JSON Lines
# ---------------------------------------------------------------------------------------------------------


def merged_table(run: RunData) -> pd.DataFrame:
    """``merged.parquet`` in input order of the works' first records, provenance columns first."""
    pos, members, _ = _order(run)
    m = run.merged.copy()
    first = {c: min((pos.get(u, len(pos)) for u in mem), default=len(pos)) for c, mem in members.items()}
    m["_o"] = m["cluster_id"].astype(str).map(first)
    m = m.sort_values(["_o", "cluster_id"], kind="mergesort").drop(columns="_o").reset_index(drop=True)
    lead = [c for c in ("cluster_id", "size", "member_ids", "sources") if c in m]
    frm = [c for c in m.columns if c.endswith("_from")]
    rest = [c for c in m.columns if c not in lead and c not in frm]
    return m[lead + rest + frm]


def record_table(run: RunData, keep: str) -> pd.DataFrame:
    """Records as read (raw columns only) after the provenance columns, in input order."""
    from .normalise import NORMALISED_COLUMNS

    _, members, cluster_of = _order(run)
    recs = run.records
    uid = recs["unique_id"].astype(str)
    firsts = {mem[0] for mem in members.values()}
    if keep == "first":
        recs = recs[uid.isin(firsts)]
        uid = recs["unique_id"].astype(str)
    raw_cols = [c for c in recs.columns if c not in NORMALISED_COLUMNS and c not in _SYSTEM]
    cid = uid.map(lambda u: cluster_of.get(u, u))
    front = pd.DataFrame({
        "cluster_id": cid.to_numpy(), "cluster_size": cid.map(lambda c: len(members.get(c, [1]))).to_numpy(),
        "first_in_cluster": uid.isin(firsts).to_numpy(), "unique_id": uid.to_numpy(),
        "source": recs["source"].astype(str).to_numpy(), "source_id": recs["source_id"].astype(str).to_numpy(),
    })
    raw = recs[raw_cols].reset_index(drop=True)
    raw.columns = [f"{c}_raw" if c in PROVENANCE_COLUMNS else c for c in raw_cols]
    return pd.concat([front, raw], axis=1)


def write_csv(df: pd.DataFrame, stream: IO[str]) -> int:
    """Write a table as CSV (lists joined by ``"; "``, missing values empty)."""
    w = csv.writer(stream, lineterminator="\n")
    w.writerow(list(df.columns))
    for row in df.itertuples(index=False, name=None):
        w.writerow([_csv_cell(v) for v in row])
    return len(df)


def write_jsonl(df: pd.DataFrame, stream: IO[str], drop_empty: bool = False) -> int:
    """Write a table as JSON Lines (lists as arrays; with ``drop_empty``, missing values left out)."""
    cols = list(df.columns)
    for row in df.itertuples(index=False, name=None):
        obj = {c: _plain(v) for c, v in zip(cols, row)}
        if drop_empty:
            obj = {k: v for k, v in obj.items() if v is not None}
        stream.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    return len(df)


# ---------------------------------------------------------------------------------------------------------
# Counts and the entry point
# ---------------------------------------------------------------------------------------------------------


def prisma_counts(run: RunData) -> dict[str, Any]:
    """Records identified (per source), duplicates removed (per source), unique works, reviewed pairs."""
    _, members, _ = _order(run)
    src = run.records["source"].astype(str)
    per_source = {str(k): int(v) for k, v in src.value_counts().sort_index().items()}
    firsts = {mem[0] for mem in members.values()}
    kept = run.records["unique_id"].astype(str).isin(firsts)
    removed = {s: int(n) for s, n in src[~kept.to_numpy()].value_counts().sort_index().items()}
    dec = run.info.get("decisions") or {}
    n_records, n_works = int(len(run.records)), int(len(members))
    return {
        "records_identified": n_records,
        "records_per_source": per_source,
        "duplicates_removed": n_records - n_works,
        "duplicates_removed_per_source": {s: removed.get(s, 0) for s in per_source},
        "unique_works": n_works,
        "works_with_duplicates": int(sum(len(m) > 1 for m in members.values())),
        "reviewed_pairs": {"file": dec.get("file"),
                           "decided": int(dec.get("pairs_decided", (dec.get("must_link") or 0)
                                              + (dec.get("cannot_link") or 0) + (dec.get("unsure") or 0))),
                           "same": int(dec.get("must_link") or 0), "different": int(dec.get("cannot_link") or 0),
                           "unsure": int(dec.get("unsure") or 0),
                           "conflicts": int(dec.get("conflicts_total", len(dec.get("conflicts") or [])))},
        "check": "records_identified = unique_works + duplicates_removed",
    }


def format_for(fmt: str | None, output: str | Path | None) -> str:
    """The output format: ``fmt`` if given, else from the output file's extension, else csv."""
    if fmt:
        f = fmt.lower()
        if f == "bib":
            f = "bibtex"
        if f not in FORMATS:
            raise LinkageError(f"unknown export format {fmt!r}", "use csv, ris, bibtex or jsonl")
        return f
    if output:
        ext = Path(str(output)).suffix.lower()
        if ext in EXTENSIONS:
            return EXTENSIONS[ext]
    return "csv"


def export_library(run_dir: str | Path | RunData, fmt: str, keep: str, stream: IO[str]) -> dict[str, Any]:
    """Write the run's deduplicated library to ``stream``; returns the PRISMA counts plus what was written."""
    run = run_dir if isinstance(run_dir, RunData) else RunData(run_dir)
    fmt = format_for(fmt, None)
    if keep not in KEEP:
        raise LinkageError(f"unknown --keep {keep!r}", "use merged, first or all")
    if fmt in ("ris", "bibtex"):
        items = works(run, keep)
        n = write_ris(items, stream) if fmt == "ris" else write_bibtex(items, stream)
    else:
        df = merged_table(run) if keep == "merged" else record_table(run, keep)
        n = write_csv(df, stream) if fmt == "csv" else write_jsonl(df, stream, drop_empty=keep != "merged")
    counts = prisma_counts(run)
    counts.update({"run": str(run.out), "format": fmt, "keep": keep, "entries_written": n})
    return counts


def format_counts(c: dict[str, Any]) -> list[str]:
    """The counts as short lines for the terminal."""
    per = ", ".join(f"{s} {n:,}" for s, n in c["records_per_source"].items())
    rem = ", ".join(f"{s} {n:,}" for s, n in c["duplicates_removed_per_source"].items())
    rp = c["reviewed_pairs"]
    lines = [
        f"records identified: {c['records_identified']:,} ({per})",
        f"duplicates removed: {c['duplicates_removed']:,} ({rem})",
        f"unique works:       {c['unique_works']:,} ({c['works_with_duplicates']:,} had duplicates)",
        f"reviewed pairs:     {rp['decided']:,} ({rp['same']:,} same, {rp['different']:,} different, "
        f"{rp['unsure']:,} unsure" + (f", {rp['conflicts']:,} conflicts" if rp.get("conflicts") else "") + ")",
    ]
    if "entries_written" in c:
        lines.append(f"written:            {c['entries_written']:,} {c['format']} entries (--keep {c['keep']})")
    return lines
