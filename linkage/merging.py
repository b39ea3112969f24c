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
import pyarrow as pa
import pyarrow.compute as pc

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


def _text_arrow(vals: pd.Series) -> pa.Array:
    """``_text_values(vals)`` as an Arrow string array (missing: null), without a Python object a value for
    a column of plain strings."""
    if pd.api.types.infer_dtype(vals, skipna=True) in ("string", "empty"):
        keep = (vals.notna() & vals.fillna("").astype(str).str.strip().ne("")).to_numpy(dtype=bool)
        arr = pa.array(vals, from_pandas=True)
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        arr = arr.cast(pa.large_string()) if arr.type != pa.null() else pa.nulls(len(vals), pa.large_string())
        return pc.if_else(pa.array(keep), arr, pa.scalar(None, pa.large_string()))
    return pa.array(vals.map(_as_text).astype(object), from_pandas=True, type=pa.large_string())


def raw_arrays(records: pd.DataFrame, mappings: dict[str, dict[str, str]]) -> dict[str, pa.Array]:
    """``raw_values`` as one Arrow string array per canonical field (nulls where ``raw_values`` has None/NaN)."""
    n = len(records)
    src = records["source"].astype(str)
    out = {}
    for f in RAW_FIELDS:
        pieces, rows = [], []
        for s, mp in mappings.items():
            c = mp.get(f)
            if c is None or c not in records:
                continue
            mask = (src == s).to_numpy(dtype=bool)
            if mask.any():
                pieces.append(_text_arrow(records.loc[mask, c]))
                rows.append(np.flatnonzero(mask))
        if not pieces:
            out[f] = pa.nulls(n, pa.large_string())
            continue
        at = np.full(n, -1, dtype=np.int64)
        at[np.concatenate(rows)] = np.arange(sum(len(x) for x in rows))
        out[f] = pa.concat_arrays(pieces).take(pa.array(at, mask=at < 0))
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


# The part of ``MERGE_SQL`` left once each field's record is chosen on arrays (``_choices``): sizes, member
# lists, dates and the unions. The chosen values themselves are gathered from their records by position.
MERGE_LISTS_SQL = """
select
    cluster_id,
    count(*) as size,
    list(unique_id order by unique_id) as member_ids,
    list_sort(list_distinct(list(source))) as sources,
    cast(min(date_norm) as varchar) as date,
    coalesce(min(year_norm) filter (where date_norm is null), year(min(date_norm)),
             min(year_norm)) as year,
    coalesce(list_sort(list_distinct(list(doi_norm) filter (where doi_norm is not null))), []) as dois,
    coalesce(list_sort(list_distinct(list(arxiv_id_norm) filter (where arxiv_id_norm is not null))), []) as arxiv_ids,
    coalesce(list_sort(list_distinct(list(pmid_norm) filter (where pmid_norm is not null))), []) as pmids,
    coalesce(list_sort(list_distinct(flatten(list(urls_norm) filter (where urls_norm is not null)))), []) as urls,
    coalesce(list_sort(list_distinct(list(repo_url) filter (where repo_url is not null))), []) as repo_urls,
    coalesce(list_sort(list_distinct(list(pub_type) filter (where pub_type is not null))), []) as pub_types
from r
group by cluster_id
order by cluster_id
"""
MERGED_COLUMNS = ["cluster_id", "size", "member_ids", "sources", "title", "title_from", "authors", "authors_from",
                  "date", "year", "date_from", "venue", "venue_from", "volume", "volume_from", "issue", "issue_from",
                  "pages", "pages_from", "dois", "arxiv_ids", "pmids", "urls", "repo_urls", "abstract",
                  "abstract_from", "pub_types"]


def _gather(values: pa.Array, rows: np.ndarray) -> pd.Series:
    """``values[rows]`` (None where ``rows`` is -1) typed as DuckDB's ``.df()`` types a text column: the
    string dtype, or objects when every value is missing."""
    has = rows >= 0
    if not has.any():
        return pd.Series(np.full(len(rows), None, dtype=object), dtype=object)
    arr = values if isinstance(values, pa.Array) else pa.array(values, from_pandas=True)
    taken = arr.take(pa.array(rows, mask=~has)).cast(pa.large_string())
    return pd.Series(pd.array(taken, dtype="str"))


def _codes(values: pd.Series) -> np.ndarray:
    """Integer codes of a column's values (-1 where missing), equal values equal codes."""
    # pandas' str dtype factorizes on its Arrow buffers; object only for other columns (a million Python
    # strings otherwise, for nothing)
    codes, _ = pd.factorize(values if values.dtype == "str" else values.astype(object), use_na_sentinel=True)
    return codes.astype(np.int64)


def _lengths(values: pd.Series) -> np.ndarray:
    """Characters (code points, as DuckDB's ``length``) of each text value; 0 where missing."""
    arr = values if isinstance(values, pa.Array) else pa.array(
        values if values.dtype == "str" else values.astype(object), from_pandas=True)
    if arr.type == pa.null():
        return np.zeros(len(values), dtype=np.int64)
    return pc.fill_null(pc.utf8_length(arr.cast(pa.large_string())), 0).to_numpy(
        zero_copy_only=False).astype(np.int64)


def _choices(r: pd.DataFrame, raw: dict[str, pa.Array], cluster: np.ndarray,
             uid_place: np.ndarray) -> dict[str, np.ndarray]:
    """For each field, a flag on the one record per cluster ``MERGE_SQL`` takes it from (same order, same
    filters, ties by the smallest ``unique_id``)."""
    n = len(r)

    def pick(mask: np.ndarray, *keys: np.ndarray) -> np.ndarray:
        """Flag the first record per cluster among ``mask`` sorted by ``keys`` (ascending), then id."""
        rows = np.flatnonzero(mask)
        flag = np.zeros(n, dtype=bool)
        if len(rows) == 0:
            return flag
        order = rows[np.lexsort((uid_place[rows], *[k[rows] for k in reversed(keys)], cluster[rows]))]
        c = cluster[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = c[1:] != c[:-1]
        flag[order[first]] = True
        return flag

    def freq(col: str) -> tuple[np.ndarray, np.ndarray]:
        """(value present, how many records of the cluster hold the same value)."""
        codes = _codes(r[col])
        present = codes >= 0
        key = cluster * (int(codes.max(initial=0)) + 2) + codes + 1
        _, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
        return present, counts[inv]

    def there(col: str) -> np.ndarray:
        if col.startswith("raw_"):
            return raw[col[4:]].is_valid().to_numpy(zero_copy_only=False)
        return r[col].notna().to_numpy(dtype=bool)

    out = {}
    present, f = freq("title_norm")
    out["w_title"] = pick(present & there("raw_title"), -f, -_lengths(raw["title"]))
    ac = r["author_count"]
    have = ac.notna().to_numpy(dtype=bool) & there("raw_authors")
    out["w_authors"] = pick(have, -ac.fillna(0).to_numpy(dtype=np.int64), -_lengths(raw["authors"]))
    for field, col in (("venue", "venue_norm"), ("volume", "volume_norm"), ("issue", "issue_norm"),
                       ("pages", "page_first")):
        present, f = freq(col)
        out[f"w_{field}"] = pick(present & there(f"raw_{field}"), -f)
    d = r["date_norm"]
    d_present = d.notna().to_numpy(dtype=bool)
    days = pd.to_datetime(d.where(d.notna(), None)).to_numpy(dtype="datetime64[D]").astype(np.int64)
    out["w_date"] = pick(d_present, np.where(d_present, days, 0))
    y = r["year_norm"]
    out["w_year"] = pick(y.notna().to_numpy(dtype=bool), y.fillna(0).to_numpy(dtype=np.int64))
    out["w_abstract"] = pick(there("abstract_norm") & there("raw_abstract"), -_lengths(r["abstract_norm"]))
    return out


def _typed_norm(r: pd.DataFrame) -> pd.DataFrame:
    """``r`` (modified) with every column of ``NORM_COLUMNS`` (None where missing) and the types merging uses."""
    for c in NORM_COLUMNS:
        if c not in r:
            r[c] = None
    r["author_count"] = pd.to_numeric(r["author_count"], errors="coerce").astype("Int64")
    r["year_norm"] = pd.to_numeric(r["year_norm"], errors="coerce").astype("Int64")
    r["date_norm"] = pd.to_datetime(r["date_norm"], errors="coerce").dt.date
    if not isinstance(r["urls_norm"].dtype, pd.ArrowDtype):  # Arrow-backed lists go to DuckDB as they are
        r["urls_norm"] = r["urls_norm"].map(lambda v: list(v) if v is not None and not isinstance(v, float) else None)
    return r


def merge_clusters(records: pd.DataFrame, clusters: pd.DataFrame, mappings: dict[str, dict[str, str]]) -> pd.DataFrame:
    """``records`` holds raw + normalised columns; ``mappings`` maps source -> canonical field -> raw column."""
    # no .copy(): pandas copies on write, so only the columns _typed_norm retypes are copied
    r = _typed_norm(records[[UNIQUE_ID, "source", *[c for c in NORM_COLUMNS if c in records]]])
    c = clusters[[UNIQUE_ID, "cluster_id"]]
    fast = _one_to_one(r, c)
    con = duckdb.connect()
    try:
        if fast is None:  # records and clusters do not join one to one: the whole query
            r = _typed_norm(pd.concat([records[[UNIQUE_ID, "source", *[c for c in NORM_COLUMNS if c in records]]],
                                       raw_values(records, mappings)], axis=1))
            con.register("r", r)
            con.register("c", c)
            merged = _frame(con, MERGE_SQL)
            return _display_text(merged)
        # every record in one cluster: each field's record chosen on arrays, its value gathered by position
        cluster_of, cluster_code, cluster_names, uid_place = fast
        raw = raw_arrays(records, mappings)
        chosen = _choices(r, raw, cluster_code, uid_place)
        keep = [UNIQUE_ID, "source", "date_norm", "year_norm", "doi_norm", "arxiv_id_norm", "pmid_norm",
                "urls_norm", "repo_url", "pub_type"]
        con.register("r", r[keep].assign(cluster_id=cluster_of))
        # the list columns (members, sources, identifiers) Arrow-backed: at a million records, as Python
        # lists they were a third of the merge stage's memory
        lists = _frame(con, MERGE_LISTS_SQL)
    finally:
        con.close()
    # each output row's cluster, and per field the position of the record chosen for it (-1: none)
    code = pd.Index(cluster_names).get_indexer(lists["cluster_id"].astype(object))
    slot = np.full(len(cluster_names), -1, dtype=np.int64)
    slot[code] = np.arange(len(code))

    def chosen_rows(flag: np.ndarray) -> np.ndarray:
        rows = np.full(len(code), -1, dtype=np.int64)
        at = np.flatnonzero(flag)
        rows[slot[cluster_code[at]]] = at
        return rows

    ids = pa.array(r[UNIQUE_ID], from_pandas=True)
    ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    cols = {name: lists[name] for name in lists.columns}
    for field in ("title", "authors", "venue", "volume", "issue", "pages", "abstract"):
        rows = chosen_rows(chosen[f"w_{field}"])
        cols[field] = _gather(raw[field], rows)
        cols[f"{field}_from"] = _gather(ids, rows)
    by_date, by_year = chosen_rows(chosen["w_date"]), chosen_rows(chosen["w_year"])
    cols["date_from"] = _gather(ids, np.where(by_date >= 0, by_date, by_year))
    del r, raw, chosen, ids  # every record's raw texts (0.6 GB at 1M records): not needed to tidy the merged ones
    merged = pd.DataFrame({name: cols[name] for name in MERGED_COLUMNS})
    return _display_text(merged)


def _frame(con, sql: str) -> pd.DataFrame:
    """The result of ``sql`` as DuckDB's ``.df()`` gives it, but its list columns (members, sources,
    identifiers) Arrow-backed: at a million records, as Python lists they were a third of the merge
    stage's memory."""
    con.execute(f"create or replace temp table merged_rows as {sql}")
    kinds = dict(con.execute("select column_name, column_type from (describe merged_rows)").fetchall())
    listed = [c for c, t in kinds.items() if t.endswith("[]")]
    if not listed:
        return con.sql("select * from merged_rows").df()
    frame = con.sql(f"select * exclude ({', '.join(listed)}) from merged_rows").df()
    table = con.sql(f"select {', '.join(listed)} from merged_rows").to_arrow_table()
    for name, col in zip(table.column_names, table.columns, strict=True):
        frame[name] = pd.Series(pd.arrays.ArrowExtensionArray(col), index=frame.index)
    con.execute("drop table merged_rows")
    return frame[list(kinds)]


def _one_to_one(r: pd.DataFrame, c: pd.DataFrame):
    """(each record's cluster id, its cluster's code, the codes' cluster ids, its id's place in sort order)
    when the records and the clusters table hold the same ids once each (the join is one to one); else None."""
    rid = pa.array(r[UNIQUE_ID], from_pandas=True)  # pandas' str dtype: Arrow's own buffers, no Python strings
    cid = pa.array(c[UNIQUE_ID], from_pandas=True)
    texts = (pa.string(), pa.large_string())
    if rid.type not in texts or cid.type not in texts or len(rid) != len(cid):
        return None
    rid, cid = rid.cast(pa.large_string()), cid.cast(pa.large_string())
    if rid.null_count or cid.null_count or len(rid) == 0:
        return None
    if pc.count_distinct(rid).as_py() != len(rid) or pc.count_distinct(cid).as_py() != len(cid):
        return None
    pos = pc.index_in(rid, value_set=cid)
    if pos.null_count:
        return None
    pos = pos.to_numpy(zero_copy_only=False).astype(np.int64)
    cluster_of = c["cluster_id"].iloc[pos].reset_index(drop=True)
    cluster_of.index = r.index
    code, names = pd.factorize(cluster_of if cluster_of.dtype == "str" else cluster_of.astype(object))
    if (code < 0).any():
        return None
    place = np.empty(len(rid), dtype=np.int64)
    place[pc.sort_indices(rid).to_numpy()] = np.arange(len(rid))
    return cluster_of, code.astype(np.int64), np.asarray(names, dtype=object), place


# text ``fix_text`` returns unchanged: ASCII without the characters it acts on (& < \ $ {)
_NEEDS_FIX = r"[&<\\${]"
# ... and that ``str.strip`` leaves as it is (no ASCII whitespace at either end)
_EDGE_SPACE = r"^[\t\n\x0b\x0c\r\x{1c}-\x{1f} ]|[\t\n\x0b\x0c\r\x{1c}-\x{1f} ]$"


def _changed_by(values: pd.Series, needs: str) -> np.ndarray | None:
    """Positions of the text values that may change (not plain ASCII, or matching ``needs``); None when
    the values are not all text (then every value goes through Python)."""
    try:
        arr = pa.array(values, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    if arr.type not in (pa.string(), pa.large_string()):
        return None
    may = pc.or_(pc.invert(pc.string_is_ascii(arr)), pc.match_substring_regex(arr, needs))
    may = pc.and_(pc.fill_null(may, False), arr.is_valid())
    return np.flatnonzero(may.to_numpy(zero_copy_only=False))


def _display_text(merged: pd.DataFrame) -> pd.DataFrame:
    """The chosen raw values made readable: HTML entities and mojibake repaired, ids glued onto
    abstracts removed. Done on one value per cluster, not per record, and in Python only on the values
    the repair can change (the others are kept as they are)."""
    import re

    from .normalise.text import fix_text

    lead_id = re.compile(r"^\s*(?:id[0-9a-f\-]{6,}|[0-9a-f]{16,})\s+", re.I)

    def apply(col: str, f, needs: str) -> None:
        vals = merged[col]
        idx = _changed_by(vals, needs)
        if idx is None:
            merged[col] = vals.map(lambda v: f(v) if isinstance(v, str) else v)
            return
        if len(idx):
            new = [f(v) for v in vals.iloc[idx].tolist()]
            vals = vals.copy()
            vals.iloc[idx] = new
            merged[col] = vals

    for col in ("title", "authors", "venue", "abstract"):
        if col in merged:
            apply(col, lambda v: fix_text(v).strip(), f"{_NEEDS_FIX}|{_EDGE_SPACE}")
    if "abstract" in merged:
        # only a value starting (after spaces) with 'id' or a hex digit can lose a leading id
        apply("abstract", lambda v: lead_id.sub("", v), r"(?i)^[\t\n\x0b\x0c\r\x{1c}-\x{1f} ]*[0-9a-fi]")
    return merged
