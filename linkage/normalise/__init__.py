"""Normalisation: raw fields in, comparable fields out; the raw value is always kept beside them.

``normalise_record`` works on one record (tests, ``linkage explain`` on any two records);
``normalise_frame`` works on a whole table by applying the same functions once per distinct value.
"""

from __future__ import annotations

import pandas as pd

from .abstract import abstract_tokens, clean_abstract
from .authors import author_fields
from .dates import date_fields
from .identifiers import normalise_arxiv, normalise_doi, normalise_isbn, normalise_pmid, url_fields
from .pages import number_field, page_fields
from .pubtype import publication_type
from .text import as_text, is_blank
from .title import clean_title, is_generic_title, title_key, title_tokens
from .venue import venue_fields

# Normalised columns and their Arrow/DuckDB types (the schema of records.parquet beside the raw columns).
NORMALISED_COLUMNS: dict[str, str] = {
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


def _get(raw: dict, field: str):
    return raw.get(field)


def normalise_record(raw: dict) -> dict:
    """Normalise one record given as ``{canonical field: raw value}`` (missing fields are None)."""
    g = raw.get
    out: dict = {}
    t = clean_title(g("title"))
    out.update(title_norm=t, title_key=title_key(t), title_tokens=title_tokens(t), title_generic=is_generic_title(t))
    out.update(author_fields(g("authors")))
    out.update(date_fields(g("date"), g("year")))
    urls = None if is_blank(g("urls")) else g("urls")
    doi = normalise_doi(g("doi"))
    if doi is None and urls is not None:
        doi = normalise_doi([u for u in ([urls] if isinstance(urls, str) else urls or []) if "doi" in str(u).lower()])
    arx, ver = normalise_arxiv(g("arxiv_id"))
    if arx is None:
        for cand in (g("doi"), urls, g("id")):
            arx, ver = normalise_arxiv(cand)
            if arx:
                break
    if doi and doi.startswith("10.48550/"):
        a2, v2 = normalise_arxiv(doi)
        arx, ver = arx or a2, ver or v2
    out.update(doi_norm=doi, arxiv_id_norm=arx, arxiv_version=ver, pmid_norm=normalise_pmid(g("pmid")),
               isbn_norm=normalise_isbn(g("isbn")))
    out.update(url_fields(urls))
    v = venue_fields(g("venue"))
    out.update(v)
    out.update(volume_norm=number_field(g("volume")), issue_norm=number_field(g("issue")))
    out.update(page_fields(g("pages"), g("first_page"), g("last_page")))
    a = clean_abstract(g("abstract"))
    out.update(abstract_norm=a, abstract_tokens=abstract_tokens(a))
    out["pub_type"] = publication_type(g("type"), g("venue"), g("institution"), g("report_number"), g("note"),
                                       v["is_preprint"] or arx is not None and not doi and not g("venue"))
    return out


def _distinct_map(values: pd.Series, fn) -> list:
    """Apply ``fn`` once per distinct value (lists made hashable), returning results in row order."""
    keys = [tuple(v) if isinstance(v, list) else v for v in values.tolist()]
    cache: dict = {}
    out = []
    for k, v in zip(keys, values.tolist()):
        try:
            r = cache[k]
        except KeyError:
            r = cache[k] = fn(v)
        except TypeError:
            r = fn(v)
        out.append(r)
    return out


def normalise_frame(frame: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    """Normalised columns (``NORMALISED_COLUMNS``) for every row of ``frame`` given its canonical mapping."""
    n = len(frame)

    def col(field):
        c = mapping.get(field)
        return frame[c] if c is not None and c in frame.columns else pd.Series([None] * n, index=frame.index,
                                                                               dtype=object)

    res: dict[str, list] = {}
    t = _distinct_map(col("title"), clean_title)
    res["title_norm"] = t
    res["title_key"] = [title_key(x) for x in t]
    res["title_tokens"] = [title_tokens(x) for x in t]
    res["title_generic"] = [is_generic_title(x) for x in t]
    au = _distinct_map(col("authors"), author_fields)
    for k in ("author_surnames", "first_author", "author_initials", "author_count", "authors_norm"):
        res[k] = [a[k] for a in au]
    d_in = pd.Series(list(zip(col("date").map(as_text), col("year").map(as_text))), index=frame.index, dtype=object)
    dd = _distinct_map(d_in, lambda p: date_fields(p[0], p[1]))
    for k in ("date_norm", "year_norm", "date_precision"):
        res[k] = [x[k] for x in dd]
    ids = pd.Series(list(zip(col("doi").map(as_text), col("arxiv_id").map(as_text), col("urls").map(
        lambda v: tuple(v) if isinstance(v, list) else v), col("id").map(as_text), col("pmid").map(as_text),
        col("isbn").map(as_text))), index=frame.index, dtype=object)

    def id_fields(p):
        doi_raw, arx_raw, urls, rid, pmid, isbn = p
        r = normalise_record({"doi": doi_raw, "arxiv_id": arx_raw, "urls": list(urls) if isinstance(urls, tuple)
                              else urls, "id": rid, "pmid": pmid, "isbn": isbn})
        return {k: r[k] for k in ("doi_norm", "arxiv_id_norm", "arxiv_version", "pmid_norm", "isbn_norm",
                                  "urls_norm", "repo_url")}

    idf = _distinct_map(ids, id_fields)
    for k in ("doi_norm", "arxiv_id_norm", "arxiv_version", "pmid_norm", "isbn_norm", "urls_norm", "repo_url"):
        res[k] = [x[k] for x in idf]
    vv = _distinct_map(col("venue"), venue_fields)
    for k in ("venue_norm", "venue_key", "is_preprint"):
        res[k] = [x[k] for x in vv]
    res["volume_norm"] = _distinct_map(col("volume"), number_field)
    res["issue_norm"] = _distinct_map(col("issue"), number_field)
    pg_in = pd.Series(list(zip(col("pages").map(as_text), col("first_page").map(as_text),
                               col("last_page").map(as_text))), index=frame.index, dtype=object)
    pg = _distinct_map(pg_in, lambda p: page_fields(*p))
    for k in ("page_first", "page_last", "page_count"):
        res[k] = [x[k] for x in pg]
    ab = _distinct_map(col("abstract"), clean_abstract)
    res["abstract_norm"] = ab
    res["abstract_tokens"] = [abstract_tokens(x) for x in ab]
    pt_in = pd.Series(list(zip(col("type").map(as_text), col("venue").map(as_text), col("institution").map(as_text),
                               col("report_number").map(as_text), col("note").map(as_text), res["is_preprint"],
                               [a is not None and d is None for a, d in zip(res["arxiv_id_norm"], res["doi_norm"])])),
                      index=frame.index, dtype=object)
    res["pub_type"] = _distinct_map(pt_in, lambda p: publication_type(*p[:5], is_preprint=p[5] or (p[6] and not p[1])))
    return pd.DataFrame(res, index=frame.index)


__all__ = ["NORMALISED_COLUMNS", "normalise_frame", "normalise_record"]
