"""Records as scholarly APIs return them (Crossref, OpenAlex, Semantic Scholar, arXiv, Papers with Code),
flattened to canonical field names. A record of no known shape is returned unchanged.
"""

from __future__ import annotations

from typing import Any


def _first(v: Any) -> Any:
    if isinstance(v, list):
        return v[0] if v else None
    return v


def _date_parts(d: Any) -> str | None:
    try:
        parts = d["date-parts"][0]
    except (KeyError, IndexError, TypeError):
        return None
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    return "-".join(f"{int(p):02d}" if i else str(int(p)) for i, p in enumerate(parts))


def detect_shape(obj: dict) -> str | None:
    """Name the API a record came from, by the fields only that API uses."""
    if "DOI" in obj and ("container-title" in obj or "date-parts" in str(obj.get("issued", ""))):
        return "crossref"
    if "authorships" in obj or ("display_name" in obj and "publication_date" in obj):
        return "openalex"
    if "paperId" in obj or "externalIds" in obj:
        return "semantic_scholar"
    if "entry_id" in obj and ("published" in obj or "summary" in obj):
        return "arxiv"
    if isinstance(obj.get("paper"), dict):
        return "papers_with_code"
    return None


def flatten_api_record(obj: dict) -> dict:
    """Map one API record to canonical fields, keeping the original object's id and type."""
    shape = detect_shape(obj)
    if shape == "crossref":
        authors = [" ".join(x for x in (a.get("given"), a.get("family")) if x) or a.get("name", "")
                   for a in obj.get("author", []) if isinstance(a, dict)]
        return {"id": obj.get("DOI"), "title": _first(obj.get("title")), "authors": authors,
                "date": _date_parts(obj.get("published")) or _date_parts(obj.get("issued"))
                or _date_parts(obj.get("published-print")) or _date_parts(obj.get("created")),
                "venue": _first(obj.get("container-title")), "volume": obj.get("volume"),
                "issue": obj.get("issue"), "pages": obj.get("page"), "doi": obj.get("DOI"),
                "urls": [obj["URL"]] if obj.get("URL") else [], "abstract": obj.get("abstract"),
                "publisher": obj.get("publisher"), "type": obj.get("type"),
                "isbn": _first(obj.get("ISBN")), "api": "crossref"}
    if shape == "openalex":
        authors = [(a.get("author") or {}).get("display_name") for a in obj.get("authorships", [])]
        loc = obj.get("primary_location") or {}
        src = (loc.get("source") or {}) if isinstance(loc, dict) else {}
        biblio = obj.get("biblio") or {}
        pages = "-".join(p for p in (biblio.get("first_page"), biblio.get("last_page")) if p) or None
        ids = obj.get("ids") or {}
        return {"id": obj.get("id"), "title": obj.get("display_name") or obj.get("title"),
                "authors": [a for a in authors if a], "date": obj.get("publication_date"),
                "year": obj.get("publication_year"), "venue": src.get("display_name"),
                "volume": biblio.get("volume"), "issue": biblio.get("issue"), "pages": pages,
                "doi": obj.get("doi"), "pmid": ids.get("pmid"),
                "urls": [u for u in (loc.get("landing_page_url"), loc.get("pdf_url")) if u],
                "type": obj.get("type"), "api": "openalex"}
    if shape == "semantic_scholar":
        ext = obj.get("externalIds") or {}
        journal = obj.get("journal") or {}
        pdf = obj.get("openAccessPdf") or {}
        return {"id": obj.get("paperId"), "title": obj.get("title"),
                "authors": [a.get("name") for a in obj.get("authors") or [] if isinstance(a, dict) and a.get("name")],
                "date": obj.get("publicationDate"), "year": obj.get("year"),
                "venue": journal.get("name") or obj.get("venue"), "volume": journal.get("volume"),
                "pages": journal.get("pages"), "doi": ext.get("DOI"), "arxiv_id": ext.get("ArXiv"),
                "pmid": ext.get("PubMed"), "urls": [u for u in (obj.get("url"), pdf.get("url")) if u],
                "abstract": obj.get("abstract"), "type": _first(obj.get("publicationTypes")),
                "api": "semantic_scholar"}
    if shape == "arxiv":
        authors = [a.get("name") if isinstance(a, dict) else str(a) for a in obj.get("authors") or []]
        return {"id": obj.get("entry_id"), "title": obj.get("title"), "authors": authors,
                "date": obj.get("published"), "venue": obj.get("journal_ref"), "doi": obj.get("doi"),
                "arxiv_id": obj.get("entry_id"),
                "urls": [u for u in (obj.get("entry_id"), obj.get("pdf_url")) if u],
                "abstract": obj.get("summary"), "note": obj.get("comment"), "type": "preprint", "api": "arxiv"}
    if shape == "papers_with_code":
        paper = obj.get("paper") or {}
        repo = obj.get("repository") or {}
        return {"id": paper.get("id") or obj.get("id"), "title": paper.get("title"),
                "authors": paper.get("authors") or [], "date": paper.get("published"),
                "venue": paper.get("proceeding") or paper.get("conference"),
                "arxiv_id": paper.get("arxiv_id"),
                "urls": [u for u in (paper.get("url_abs"), paper.get("url_pdf"), repo.get("url")) if u],
                "abstract": paper.get("abstract"), "api": "papers_with_code"}
    return obj
