"""Normalisation: raw fields in, comparable fields out; the raw value is always kept beside them.

``normalise_record`` works on one record (tests, ``linkage explain`` on any two records);
``normalise_frame`` works on a whole table: DuckDB SQL computes the regular majority of values
(plain ASCII titles, the common author-list layouts, ISO dates, bare DOIs, simple page ranges...) and
the per-value Python functions of this package handle the irregular remainder, once per distinct
value. Both paths give the same result for every record (``tests/test_normalise_frame.py`` checks it).
"""

from __future__ import annotations

import re

import pandas as pd

from .abstract import abstract_tokens, clean_abstract
from .authors import author_fields
from .dates import date_fields, year_in_text
from .identifiers import identifier_fields, normalise_arxiv, normalise_doi, normalise_isbn, normalise_pmid
from .pages import number_field, page_fields
from .pubtype import publication_type
from .sources import normalise_source_value
from .text import as_text
from .title import clean_title, is_generic_title, title_key, title_tokens, title_year
from .venue import venue_fields

# Normalised columns and their Arrow/DuckDB types (the schema of records.parquet beside the raw columns).
BASE_COLUMNS: dict[str, str] = {
    "title_norm": "VARCHAR", "title_key": "VARCHAR", "title_tokens": "VARCHAR[]", "title_generic": "BOOLEAN",
    "author_surnames": "VARCHAR[]", "first_author": "VARCHAR", "author_initials": "VARCHAR[]",
    "author_count": "INTEGER", "authors_norm": "VARCHAR",
    "date_norm": "DATE", "year_norm": "INTEGER", "date_precision": "VARCHAR",
    "doi_norm": "VARCHAR", "arxiv_id_norm": "VARCHAR", "arxiv_version": "VARCHAR", "pmid_norm": "VARCHAR",
    "isbn_norm": "VARCHAR", "urls_norm": "VARCHAR[]", "repo_url": "VARCHAR",
    "venue_norm": "VARCHAR", "venue_key": "VARCHAR", "is_preprint": "BOOLEAN",
    "volume_norm": "VARCHAR", "issue_norm": "VARCHAR", "page_first": "VARCHAR", "page_last": "VARCHAR",
    "page_count": "INTEGER", "abstract_norm": "VARCHAR", "abstract_tokens": "VARCHAR[]", "pub_type": "VARCHAR",
}
# Columns derived from the normalised ones (cheap, vectorised): precomputed so comparisons do not
# recompute them for every candidate pair.
DERIVED_COLUMNS: dict[str, str] = {"title_numbers": "VARCHAR[]"}
NORMALISED_COLUMNS: dict[str, str] = {**BASE_COLUMNS, **DERIVED_COLUMNS}
# List columns that hold sets by construction: sorted, distinct, no null element (``title_tokens``,
# ``abstract_tokens``; tested). Their Jaccard needs no hash set per compared pair (``settings``).
SET_COLUMNS: frozenset[str] = frozenset({"title_tokens", "abstract_tokens"})
_NUMBER = re.compile(r"\b\d+\b")


def title_numbers(title_norm) -> list[str] | None:
    """The numbers written in a normalised title, sorted ('part 2 of 3' -> ['2', '3']); None if none."""
    if not isinstance(title_norm, str):
        return None
    found = sorted(_NUMBER.findall(title_norm))
    return found or None


def title_fields(value) -> dict:
    """``title_norm``, ``title_key``, ``title_tokens``, ``title_generic`` of one raw title."""
    t = clean_title(value)
    return {"title_norm": t, "title_key": title_key(t), "title_tokens": title_tokens(t),
            "title_generic": is_generic_title(t)}


def date_group(date=None, year=None, title=None, venue=None, note=None) -> dict:
    """Date columns from the date/year fields, else from a year written in the title, venue or note."""
    d = date_fields(date, year)
    if d["year_norm"] is None:
        y = title_year(title) or year_in_text(venue) or year_in_text(note)
        if y is not None:
            d = {"date_norm": None, "year_norm": y, "date_precision": "year"}
    return d


def abstract_fields(value) -> dict:
    a = clean_abstract(value)
    return {"abstract_norm": a, "abstract_tokens": abstract_tokens(a)}


def pub_type_of(type_value, venue, institution, report_number, note, is_preprint: bool, arxiv_only: bool) -> str | None:
    """``pub_type``; an arXiv id without DOI and without venue counts as preprint evidence."""
    return publication_type(type_value, venue, institution, report_number, note,
                            is_preprint or (arxiv_only and as_text(venue) is None))


def normalise_record(raw: dict) -> dict:
    """Normalise one record given as ``{canonical field: raw value}`` (missing fields are None)."""
    g = raw.get
    out: dict = {}
    out.update(title_fields(g("title")))
    out.update(author_fields(g("authors")))
    venue_raw = g("venue") if as_text(g("venue")) is not None else g("venue_abbrev")
    out.update(date_group(g("date"), g("year"), g("title"), venue_raw, g("note")))
    ids = identifier_fields(g("doi"), g("arxiv_id"), g("urls"), g("id"), g("volume"), venue_raw)
    out.update(ids)
    out.update(pmid_norm=normalise_pmid(g("pmid")), isbn_norm=normalise_isbn(g("isbn")))
    v = venue_fields(venue_raw)
    out.update(v)
    out.update(volume_norm=number_field(g("volume")), issue_norm=number_field(g("issue")))
    out.update(page_fields(g("pages"), g("first_page"), g("last_page")))
    out.update(abstract_fields(g("abstract")))
    out["pub_type"] = pub_type_of(g("type"), venue_raw, g("institution"), g("report_number"), g("note"),
                                  v["is_preprint"], ids["arxiv_id_norm"] is not None and ids["doi_norm"] is None)
    out["title_numbers"] = title_numbers(out.get("title_norm"))
    return {c: out[c] for c in NORMALISED_COLUMNS}


def normalise_frame(frame: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    """Normalised columns (``NORMALISED_COLUMNS``) for every row of ``frame`` given its canonical mapping.

    Same values as ``normalise_record`` on each row; see ``linkage.normalise.sql`` for how. List columns
    (``VARCHAR[]``) are Arrow-backed (``pd.ArrowDtype(pa.list_(pa.string()))``; ``.tolist()`` gives Python lists).
    """
    from .sql import normalise_table

    return normalise_table(frame, mapping)


__all__ = [
    "NORMALISED_COLUMNS", "SET_COLUMNS", "abstract_fields", "author_fields", "date_group", "identifier_fields", "normalise_arxiv",
    "normalise_doi", "normalise_frame", "normalise_isbn", "normalise_pmid", "normalise_record",
    "normalise_source_value", "page_fields", "title_fields", "venue_fields",
]
