"""Merged records: one row per cluster, field by field, with the source of each chosen value.

Rules (one DuckDB query over the whole table):

* title — the most frequent normalised title in the cluster, shown in its longest raw spelling;
* authors — the record with the most parsed authors (then the longest raw text);
* date — the earliest known day, else the earliest year;
* venue, volume, issue, pages — the most frequent normalised value, in its raw spelling;
* abstract — the longest cleaned abstract;
* DOIs, arXiv ids, PubMed ids, URLs, code repositories, publication types — the union;
* member ids and sources — all.

Ties are broken by the smallest ``unique_id`` so reruns give the same merged records. Each chosen
value has a ``*_from`` column naming the record it came from.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from .fields import UNIQUE_ID

RAW_FIELDS = ("title", "authors", "venue", "volume", "issue", "pages", "abstract")


def _as_text(v):
    if v is None:
        return None
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, (list, tuple)) or hasattr(v, "tolist") and not isinstance(v, str):
        items = [str(x) for x in (v.tolist() if hasattr(v, "tolist") else v) if x is not None and str(x) != ""]
        return "; ".join(items) or None
    s = str(v)
    return s if s.strip() else None


def _text_values(vals: pd.Series) -> pd.Series:
    """``_as_text`` of every value; a column of plain strings (the usual case) without a Python call a value."""
    if pd.api.types.infer_dtype(vals, skipna=True) in ("string", "empty"):
        obj = vals.astype(object)
        keep = vals.notna() & vals.fillna("").astype(str).str.strip().ne("")
        return obj.where(keep, np.nan)
    return vals.map(_as_text)


def raw_values(records: pd.DataFrame, mappings: dict[str, dict[str, str]]) -> pd.DataFrame:
    """One text column per canonical field, taken from each source's own mapped raw column."""
    out = pd.DataFrame(index=records.index)
    src = records["source"].astype(str)
    for f in RAW_FIELDS:
        col = pd.Series([None] * len(records), index=records.index, dtype=object)
        for s, mp in mappings.items():
            c = mp.get(f)
            if c is None or c not in records:
                continue
            mask = src == s
            if mask.any():
                col[mask] = _text_values(records.loc[mask, c])
        out[f"raw_{f}"] = col
    return out


MERGE_SQL = """
with m as (
    select r.*, c.cluster_id,
        count(*) over (partition by c.cluster_id, r.title_norm) as f_title,
        count(*) over (partition by c.cluster_id, r.venue_norm) as f_venue,
        count(*) over (partition by c.cluster_id, r.volume_norm) as f_volume,
        count(*) over (partition by c.cluster_id, r.issue_norm) as f_issue,
        count(*) over (partition by c.cluster_id, r.page_first) as f_pages
    from r join c using (unique_id)
)
select
    cluster_id,
    count(*) as size,
    list(unique_id order by unique_id) as member_ids,
    list_sort(list_distinct(list(source))) as sources,
    first(raw_title order by f_title desc, length(raw_title) desc, unique_id)
        filter (where title_norm is not null and raw_title is not null) as title,
    first(unique_id order by f_title desc, length(raw_title) desc, unique_id)
        filter (where title_norm is not null and raw_title is not null) as title_from,
    first(raw_authors order by author_count desc, length(raw_authors) desc, unique_id)
        filter (where author_count is not null and raw_authors is not null) as authors,
    first(unique_id order by author_count desc, length(raw_authors) desc, unique_id)
        filter (where author_count is not null and raw_authors is not null) as authors_from,
    cast(min(date_norm) as varchar) as date,
    coalesce(min(year_norm) filter (where date_norm is null), year(min(date_norm)),
             min(year_norm)) as year,
    coalesce(first(unique_id order by date_norm, unique_id) filter (where date_norm is not null),
             first(unique_id order by year_norm, unique_id) filter (where year_norm is not null)) as date_from,
    first(raw_venue order by f_venue desc, unique_id) filter (where venue_norm is not null and raw_venue is not null) as venue,
    first(unique_id order by f_venue desc, unique_id) filter (where venue_norm is not null and raw_venue is not null) as venue_from,
    first(raw_volume order by f_volume desc, unique_id) filter (where volume_norm is not null and raw_volume is not null) as volume,
    first(unique_id order by f_volume desc, unique_id) filter (where volume_norm is not null and raw_volume is not null) as volume_from,
    first(raw_issue order by f_issue desc, unique_id) filter (where issue_norm is not null and raw_issue is not null) as issue,
    first(unique_id order by f_issue desc, unique_id) filter (where issue_norm is not null and raw_issue is not null) as issue_from,
    first(raw_pages order by f_pages desc, unique_id) filter (where page_first is not null and raw_pages is not null) as pages,
    first(unique_id order by f_pages desc, unique_id) filter (where page_first is not null and raw_pages is not null) as pages_from,
    coalesce(list_sort(list_distinct(list(doi_norm) filter (where doi_norm is not null))), []) as dois,
    coalesce(list_sort(list_distinct(list(arxiv_id_norm) filter (where arxiv_id_norm is not null))), []) as arxiv_ids,
    coalesce(list_sort(list_distinct(list(pmid_norm) filter (where pmid_norm is not null))), []) as pmids,
    coalesce(list_sort(list_distinct(flatten(list(urls_norm) filter (where urls_norm is not null)))), []) as urls,
    coalesce(list_sort(list_distinct(list(repo_url) filter (where repo_url is not null))), []) as repo_urls,
    first(raw_abstract order by length(abstract_norm) desc, unique_id)
        filter (where abstract_norm is not null and raw_abstract is not null) as abstract,
    first(unique_id order by length(abstract_norm) desc, unique_id)
        filter (where abstract_norm is not null and raw_abstract is not null) as abstract_from,
    coalesce(list_sort(list_distinct(list(pub_type) filter (where pub_type is not null))), []) as pub_types
from m
group by cluster_id
order by cluster_id
"""

NORM_COLUMNS = ["title_norm", "author_count", "date_norm", "year_norm", "venue_norm", "volume_norm", "issue_norm",
                "page_first", "doi_norm", "arxiv_id_norm", "pmid_norm", "urls_norm", "repo_url", "abstract_norm",
                "pub_type"]


def merge_clusters(records: pd.DataFrame, clusters: pd.DataFrame, mappings: dict[str, dict[str, str]]) -> pd.DataFrame:
    """``records`` holds raw + normalised columns; ``mappings`` maps source -> canonical field -> raw column."""
    r = pd.concat([records[[UNIQUE_ID, "source", *[c for c in NORM_COLUMNS if c in records]]],
                   raw_values(records, mappings)], axis=1)
    for c in NORM_COLUMNS:
        if c not in r:
            r[c] = None
    r["author_count"] = pd.to_numeric(r["author_count"], errors="coerce").astype("Int64")
    r["year_norm"] = pd.to_numeric(r["year_norm"], errors="coerce").astype("Int64")
    r["date_norm"] = pd.to_datetime(r["date_norm"], errors="coerce").dt.date
    r["urls_norm"] = r["urls_norm"].map(lambda v: list(v) if v is not None and not isinstance(v, float) else None)
    c = clusters[[UNIQUE_ID, "cluster_id"]]
    con = duckdb.connect()
    try:
        con.register("r", r)
        con.register("c", c)
        merged = con.execute(MERGE_SQL).df()
    finally:
        con.close()
    return _display_text(merged)


def _display_text(merged: pd.DataFrame) -> pd.DataFrame:
    """The chosen raw values made readable: HTML entities and mojibake repaired, ids glued onto
    abstracts removed. Done on one value per cluster, not per record."""
    import re

    from .normalise.text import fix_text

    lead_id = re.compile(r"^\s*(?:id[0-9a-f\-]{6,}|[0-9a-f]{16,})\s+", re.I)
    for col in ("title", "authors", "venue", "abstract"):
        if col in merged:
            merged[col] = merged[col].map(lambda v: fix_text(v).strip() if isinstance(v, str) else v)
    if "abstract" in merged:
        merged["abstract"] = merged["abstract"].map(lambda v: lead_id.sub("", v) if isinstance(v, str) else v)
    return merged
