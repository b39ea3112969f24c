"""Records as scholarly APIs return them, mapped to canonical fields.

One JSON object per record (JSON Lines, or a JSON array / API response page). The shape is recognised
by the fields only that API uses; a record of no known shape is returned unchanged (its columns are
mapped by synonyms like any table).

=================  ==========================================================================================
API                fields read (-> canonical field)
=================  ==========================================================================================
Crossref           ``DOI`` -> id, doi; ``title[0]``; ``author[].given/family`` (or ``name``) -> authors;
                   ``published`` / ``issued`` / ``published-print`` / ``published-online`` ``date-parts``
                   -> date; ``container-title[0]`` -> venue; ``volume``, ``issue``, ``page`` -> pages;
                   ``URL``, ``link[].URL`` -> urls; ``abstract`` (JATS, kept raw); ``ISBN``; ``type``
OpenAlex           ``id``; ``doi``; ``display_name`` / ``title``; ``authorships[].author.display_name``;
                   ``publication_date``, ``publication_year``; ``primary_location.source.display_name``
                   -> venue; ``biblio.volume/issue/first_page/last_page``; ``ids.pmid``;
                   ``abstract_inverted_index`` -> abstract (rebuilt); location URLs -> urls; ``type``
Semantic Scholar   ``paperId`` -> id; ``externalIds.DOI/ArXiv/PubMed``; ``title``; ``authors[].name``;
                   ``publicationDate``, ``year``; ``journal.name`` (else ``venue``), ``journal.volume``,
                   ``journal.pages``; ``url``, ``openAccessPdf.url``; ``abstract``; ``publicationTypes``
arXiv              ``entry_id`` (the ``arxiv`` package) or an ``arxiv.org/abs`` ``id`` (the Atom feed);
                   ``title``; ``authors[].name`` (or plain names); ``published``; ``summary`` -> abstract;
                   ``doi``; ``journal_ref`` -> venue; ``pdf_url`` / ``links[].href`` -> urls
Papers with Code   ``{"paper": {...}, "repository": {...}}``: ``paper.id``, ``paper.title``,
                   ``paper.authors``, ``paper.published``, ``paper.arxiv_id``, ``paper.url_abs``,
                   ``paper.url_pdf``, ``repository.url`` -> urls; also a bare paper object (``url_abs``,
                   ``url_pdf``, ``arxiv_id``) and the links dump (``paper_title``, ``paper_arxiv_id``,
                   ``repo_url``)
=================  ==========================================================================================

The result holds the canonical fields first, then ``api`` (the API's name), then every top-level key
of the original object that was not read into a canonical field (nested values become JSON text), so
nothing in the record is lost. Response envelopes are unwrapped: Crossref ``{"message": {...}}``,
Semantic Scholar ``{"citingPaper": {...}}`` / ``{"citedPaper": {...}}``.
"""

from __future__ import annotations

from typing import Any

API_FIELDS = ("id", "title", "authors", "date", "year", "venue", "volume", "issue", "pages", "doi", "arxiv_id",
              "pmid", "isbn", "urls", "abstract", "publisher", "type", "note")


def _first(v: Any) -> Any:
    if isinstance(v, list):
        return v[0] if v else None
    return v


def _text(v: Any) -> str | None:
    v = _first(v)
    if v is None:
        return None
    s = str(v).strip()
    return s or None


def _date_parts(d: Any) -> str | None:
    """Crossref ``{"date-parts": [[2012, 3, 1]]}`` -> ``"2012-03-01"`` (``"2012-03"``, ``"2012"``)."""
    try:
        parts = d["date-parts"][0]
    except (KeyError, IndexError, TypeError):
        return None
    out = []
    for p in parts or []:
        if p is None:
            break
        try:
            out.append(int(p))
        except (TypeError, ValueError):
            break
    if not out:
        return None
    return "-".join(f"{p:02d}" if i else str(p) for i, p in enumerate(out))


def _urls(*values: Any) -> list[str]:
    out: list[str] = []
    for v in values:
        for u in v if isinstance(v, list) else [v]:
            if isinstance(u, str) and u.strip() and u.strip() not in out:
                out.append(u.strip())
    return out


def _inverted_abstract(index: Any) -> str | None:
    """Rebuild an OpenAlex ``abstract_inverted_index`` (``{word: [positions]}``) into text."""
    if not isinstance(index, dict) or not index:
        return None
    pos: dict[int, str] = {}
    for word, places in index.items():
        for p in places if isinstance(places, list) else []:
            if isinstance(p, int):
                pos[p] = word
    return " ".join(pos[i] for i in sorted(pos)) or None


def unwrap(obj: dict[str, Any]) -> dict[str, Any]:
    """Take a record out of its response envelope (Crossref ``message``, Semantic Scholar citation wrappers)."""
    for _ in range(3):
        if isinstance(obj.get("message"), dict) and ("message-type" in obj or "status" in obj):
            obj = obj["message"]
        elif len(obj) <= 3 and isinstance(obj.get("citingPaper") or obj.get("citedPaper"), dict):
            obj = obj.get("citingPaper") or obj.get("citedPaper")
        else:
            break
    return obj


def detect_shape(obj: dict[str, Any]) -> str | None:
    """Name the API a record came from, by the fields only that API uses (None: no known shape)."""
    if "DOI" in obj and any(k in obj for k in ("container-title", "issued", "published", "member", "prefix",
                                                "reference-count", "created")):
        return "crossref"
    oid = str(obj.get("id") or "")
    if "authorships" in obj or oid.startswith("https://openalex.org/") or "abstract_inverted_index" in obj:
        return "openalex"
    if "paperId" in obj or ("externalIds" in obj and "title" in obj):
        return "semantic_scholar"
    if "entry_id" in obj or ("arxiv.org/abs/" in oid and ("summary" in obj or "title" in obj)):
        return "arxiv"
    if isinstance(obj.get("paper"), dict):
        return "papers_with_code"
    if "paper_title" in obj and ("repo_url" in obj or "paper_arxiv_id" in obj):
        return "papers_with_code_links"
    if "title" in obj and ("url_abs" in obj or "url_pdf" in obj) and ("arxiv_id" in obj or "proceeding" in obj
                                                                       or "conference" in obj):
        return "papers_with_code_paper"
    return None


def _crossref(o: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    authors = []
    for a in o.get("author") or []:
        if isinstance(a, dict):
            name = " ".join(x for x in (a.get("given"), a.get("family")) if x) or a.get("name") or ""
            if name:
                authors.append(name)
    date = None
    for k in ("published", "issued", "published-print", "published-online", "posted", "created"):
        date = _date_parts(o.get(k))
        if date:
            break
    links = [x.get("URL") for x in o.get("link") or [] if isinstance(x, dict)]
    rec = {"id": o.get("DOI"), "title": _text(o.get("title")), "authors": authors, "date": date,
           "venue": _text(o.get("container-title")), "volume": o.get("volume"), "issue": o.get("issue"),
           "pages": o.get("page"), "doi": o.get("DOI"), "urls": _urls(o.get("URL"), links),
           "abstract": o.get("abstract"), "publisher": o.get("publisher"), "type": o.get("type"),
           "isbn": _text(o.get("ISBN"))}
    used = {"DOI", "title", "author", "published", "issued", "container-title", "volume", "issue", "page",
            "URL", "link", "abstract", "publisher", "type", "ISBN"}
    return rec, used


def _openalex(o: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    authors = []
    for a in o.get("authorships") or []:
        if isinstance(a, dict):
            name = (a.get("author") or {}).get("display_name") or a.get("raw_author_name")
            if name:
                authors.append(name)
    loc = o.get("primary_location") if isinstance(o.get("primary_location"), dict) else {}
    src = loc.get("source") if isinstance(loc.get("source"), dict) else {}
    biblio = o.get("biblio") if isinstance(o.get("biblio"), dict) else {}
    ids = o.get("ids") if isinstance(o.get("ids"), dict) else {}
    locs = [x for x in o.get("locations") or [] if isinstance(x, dict)]
    first, last = biblio.get("first_page"), biblio.get("last_page")
    pages = f"{first}-{last}" if first and last and first != last else (first or None)
    rec = {"id": o.get("id"), "title": o.get("display_name") or o.get("title"), "authors": authors,
           "date": o.get("publication_date"), "year": o.get("publication_year"),
           "venue": src.get("display_name"), "volume": biblio.get("volume"), "issue": biblio.get("issue"),
           "pages": pages, "doi": o.get("doi") or ids.get("doi"), "pmid": ids.get("pmid"),
           "urls": _urls(loc.get("landing_page_url"), loc.get("pdf_url"),
                         [x.get("landing_page_url") for x in locs], [x.get("pdf_url") for x in locs]),
           "abstract": _inverted_abstract(o.get("abstract_inverted_index")) or o.get("abstract"),
           "type": o.get("type")}
    used = {"id", "display_name", "title", "authorships", "publication_date", "publication_year", "biblio",
            "doi", "abstract_inverted_index", "abstract", "type"}
    return rec, used


def _semantic_scholar(o: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    ext = o.get("externalIds") if isinstance(o.get("externalIds"), dict) else {}
    journal = o.get("journal") if isinstance(o.get("journal"), dict) else {}
    pdf = o.get("openAccessPdf") if isinstance(o.get("openAccessPdf"), dict) else {}
    authors = [a.get("name") for a in o.get("authors") or [] if isinstance(a, dict) and a.get("name")]
    rec = {"id": o.get("paperId"), "title": o.get("title"), "authors": authors,
           "date": o.get("publicationDate"), "year": o.get("year"),
           "venue": journal.get("name") or o.get("venue") or None, "volume": journal.get("volume"),
           "pages": journal.get("pages"), "doi": ext.get("DOI"), "arxiv_id": ext.get("ArXiv"),
           "pmid": ext.get("PubMed"), "urls": _urls(o.get("url"), pdf.get("url")), "abstract": o.get("abstract"),
           "type": _text(o.get("publicationTypes"))}
    used = {"paperId", "title", "authors", "publicationDate", "year", "journal", "abstract", "url"}
    return rec, used


def _arxiv(o: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    authors = []
    for a in o.get("authors") or []:
        name = a.get("name") if isinstance(a, dict) else a
        if name:
            authors.append(str(name))
    entry = o.get("entry_id") or o.get("id")
    links = [x.get("href") for x in o.get("links") or [] if isinstance(x, dict)]
    rec = {"id": entry, "title": o.get("title"), "authors": authors, "date": o.get("published"),
           "venue": o.get("journal_ref") or o.get("arxiv_journal_ref"), "doi": o.get("doi") or o.get("arxiv_doi"),
           "arxiv_id": entry, "urls": _urls(entry, o.get("pdf_url"), links),
           "abstract": o.get("summary"), "note": o.get("comment") or o.get("arxiv_comment"), "type": "preprint"}
    used = {"entry_id", "id", "title", "authors", "published", "journal_ref", "arxiv_journal_ref", "doi",
            "arxiv_doi", "pdf_url", "links", "summary", "comment", "arxiv_comment"}
    return rec, used


def _pwc_paper(p: dict[str, Any], repo_url: Any = None) -> dict[str, Any]:
    authors = p.get("authors")
    return {"id": p.get("id") or p.get("paper_url"), "title": p.get("title"),
            "authors": authors if isinstance(authors, list) else ([authors] if authors else []),
            "date": p.get("published") or p.get("date"),
            "venue": p.get("proceeding") or p.get("conference"), "arxiv_id": p.get("arxiv_id"),
            "urls": _urls(p.get("url_abs"), p.get("url_pdf"), repo_url), "abstract": p.get("abstract")}


def _papers_with_code(o: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    paper = o["paper"]
    repo = o.get("repository") if isinstance(o.get("repository"), dict) else {}
    rec = _pwc_paper(paper, repo.get("url"))
    rec["id"] = rec["id"] or o.get("id")
    return rec, {"paper", "id"} if "id" in o else {"paper"}


def _papers_with_code_links(o: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    rec = {"id": o.get("paper_url"), "title": o.get("paper_title"), "arxiv_id": o.get("paper_arxiv_id"),
           "urls": _urls(o.get("paper_url_abs"), o.get("paper_url_pdf"), o.get("repo_url"))}
    return rec, {"paper_url", "paper_title", "paper_arxiv_id", "paper_url_abs", "paper_url_pdf"}


def _papers_with_code_paper(o: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    used = {"id", "paper_url", "title", "authors", "published", "date", "proceeding", "conference", "arxiv_id",
            "url_abs", "url_pdf", "abstract"}
    return _pwc_paper(o), used


_SHAPES = {"crossref": _crossref, "openalex": _openalex, "semantic_scholar": _semantic_scholar, "arxiv": _arxiv,
           "papers_with_code": _papers_with_code, "papers_with_code_links": _papers_with_code_links,
           "papers_with_code_paper": _papers_with_code_paper}


def flatten_api_record(obj: dict[str, Any]) -> dict[str, Any]:
    """Map one API record to canonical fields (see the module docstring); other records come back unchanged.

    Examples:
        >>> r = flatten_api_record({"DOI": "10.1/x", "title": ["A study"], "issued": {"date-parts": [[2020, 5]]},
        ...                         "author": [{"given": "Ann", "family": "Lee"}], "subject": ["Biology"]})
        >>> r["title"], r["authors"], r["date"], r["api"], r["subject"]
        ('A study', ['Ann Lee'], '2020-05', 'crossref', ['Biology'])
    """
    obj = unwrap(obj)
    shape = detect_shape(obj)
    if shape is None:
        return obj
    rec, used = _SHAPES[shape](obj)
    out: dict[str, Any] = {k: v for k, v in rec.items() if v is not None and v != [] and v != ""}
    api = shape.split("_links")[0].split("_paper")[0] if shape.startswith("papers_with_code") else shape
    out["api"] = api
    for k, v in obj.items():
        if k in used:
            continue
        key = k
        while key in out:
            key = f"{api}_{key}" if not key.startswith(api) else key + "_"
        out[key] = v
    return out
