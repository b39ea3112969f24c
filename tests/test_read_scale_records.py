"""build_records assembles the records frame column by column: the same frame (columns, dtypes, values,
cell types) as the whole-frame concat it replaced, kept here as the reference."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa

from linkage import pipeline
from linkage.fields import PARSE_ERROR, SOURCE, SOURCE_ID, SOURCE_ROW, UNIQUE_ID
from linkage.normalise import NORMALISED_COLUMNS
from linkage.sources import read_sources
from linkage.sources.columns import arrow_lists


def _ref_missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


def _ref_harmonise(records, raw_cols):
    for c in raw_cols:
        vals = records[c]
        if vals.map(lambda v: isinstance(v, (list, tuple)) or hasattr(v, "tolist") and not isinstance(v, str)).any():
            lists = vals.map(lambda v: list(v.tolist() if hasattr(v, "tolist") else v)
                             if isinstance(v, (list, tuple)) or hasattr(v, "tolist") and not isinstance(v, str)
                             else ([] if _ref_missing(v) else [str(v)]))
            # lists of texts Arrow-backed, as build_records keeps them
            if all(isinstance(x, str) for v in lists for x in v):
                lists = pd.Series(pd.arrays.ArrowExtensionArray(pa.array(lists.tolist(), type=pa.list_(pa.string()))),
                                  index=vals.index)
            records[c] = lists
        else:
            records[c] = vals.map(lambda v: None if _ref_missing(v) else str(v))
    return records


def _ref_build(tables, norms):
    frames = []
    for t, norm in zip(tables, norms, strict=True):
        f = t.frame
        raw = f.drop(columns=[SOURCE, SOURCE_ID, SOURCE_ROW, PARSE_ERROR])
        raw = raw.rename(columns={c: pipeline._raw_column_name(c) for c in raw.columns})
        sys_cols = pd.DataFrame({UNIQUE_ID: t.name + ":" + f[SOURCE_ID].astype(str), SOURCE: f[SOURCE],
                                 SOURCE_ID: f[SOURCE_ID].astype(str), SOURCE_ROW: f[SOURCE_ROW].astype("int64"),
                                 PARSE_ERROR: f[PARSE_ERROR]}, index=f.index)
        frames.append(pd.concat([sys_cols, raw, norm], axis=1))
    records = pd.concat(frames, ignore_index=True, sort=False) if len(frames) > 1 else frames[0].reset_index(drop=True)
    raw_cols = [c for c in records.columns if c not in NORMALISED_COLUMNS and c not in
                (UNIQUE_ID, SOURCE, SOURCE_ID, SOURCE_ROW, PARSE_ERROR)]
    records = records[[UNIQUE_ID, SOURCE, SOURCE_ID, SOURCE_ROW, PARSE_ERROR, *raw_cols, *NORMALISED_COLUMNS]]
    for c, t in NORMALISED_COLUMNS.items():
        if isinstance(records[c].dtype, pd.ArrowDtype):  # normalised lists stay Arrow-backed
            continue
        if t == "VARCHAR":  # normalised texts Arrow-backed too: pandas' str dtype, missing as NaN
            records[c] = records[c].astype("str")
        elif t in ("VARCHAR[]", "DATE", "BOOLEAN"):
            records[c] = records[c].astype(object).where(records[c].notna(), None)
        elif t == "INTEGER":
            records[c] = records[c].astype("Int64")
    return _ref_harmonise(records, raw_cols)


def _assert_same_frame(a, b):
    assert list(a.columns) == list(b.columns)
    assert a.index.equals(b.index)
    for c in a.columns:
        assert a[c].dtype == b[c].dtype, c
        if a[c].dtype == object:
            x, y = a[c].tolist(), b[c].tolist()
            assert [type(v) for v in x] == [type(v) for v in y], c
            assert x == y, c
        else:
            assert a[c].equals(b[c]), c


def test_build_records_same_as_concat(tmp_path, monkeypatch):
    (tmp_path / "a.csv").write_text("id,title,author,year,pages\n1,A study,\"Lee, A.\",2001,1-9\n"
                                    "2,Another,,2002,\n3,Third,\"Li, B.\",,5\n", encoding="utf-8")
    rows = [{"id": "j1", "title": "A study", "authors": ["Ann Lee", None], "year": 2001, "urls": ["u1"]},
            {"id": "j2", "title": "Other", "authors": [], "urls": None, "pages": "3-4", "extra": "x"},
            {"id": "j3", "title": "Bad", "title_norm": "raw!", "unique_id": "u"}]
    (tmp_path / "b.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n", encoding="utf-8")
    (tmp_path / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:2]), encoding="utf-8")
    tables = read_sources([tmp_path / "a.csv", tmp_path / "b.jsonl", tmp_path / "c.jsonl"])
    norms = [pipeline.normalise_frame(t.frame, t.mapping) for t in tables]
    it = iter(norms)
    monkeypatch.setattr(pipeline, "normalise_frame", lambda f, m: next(it))
    records, mappings = pipeline.build_records(tables)
    _assert_same_frame(records, _ref_build(tables, norms))
    assert mappings["a"]["title"] == "title" and "raw_title_norm" in records.columns


def test_harmonise_raw_same_as_cell_by_cell():
    cols = {
        "text": ["a", None, "b", float("nan")],
        "all_missing": [None, None, float("nan"), None],
        "texts_only": ["a", "b", None, "c"],
        "lists": [["a"], None, "b", float("nan")],
        "numbers": ["a", 2.5, None, 3.0],
        "arrays": [np.array(["x", "y"], dtype=object), None, "z", ["w"]],
        "na": ["a", pd.NA, None, "b"],
        "ints": [1, None, "x", 3],
    }
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in cols.items()})
    new = pipeline._harmonise_raw(frame.copy(), list(cols))
    ref = _ref_harmonise(frame.copy(), list(cols))
    _assert_same_frame(new, ref)


def test_arrow_lists_same_as_to_pylist():
    arr = pa.chunked_array([pa.array([["a", None], None, [], ["b"]]), pa.array([["c"], None])])
    sliced = pa.array([["x"], ["y", "z"], None, ["w"]]).slice(1, 3)
    for a in (arr, pa.chunked_array([sliced]), pa.chunked_array([pa.array([[1, 2], None])])):
        s = pd.Series(pd.arrays.ArrowExtensionArray(a))
        assert arrow_lists(s.array) == a.to_pylist()


def test_arrow_backed_records_are_written_as_the_object_columns_they_were(tmp_path):
    """Normalised lists (ArrowDtype) and texts (str) are written with the pandas metadata of object columns:
    pandas reads records.parquet back (it cannot parse its own name for an Arrow list type) as before."""
    df = pd.DataFrame({
        "unique_id": ["a:1", "a:2"],
        "title_tokens": pd.Series([["x", "y"], None], dtype=pd.ArrowDtype(pa.list_(pa.string()))),
        "title_norm": pd.Series(["x y", None], dtype="str"),
        "authors": pd.Series([["Smith, J"], []], dtype=object),
    })
    path = tmp_path / "records.parquet"
    pipeline._write_parquet(df, path)
    import pyarrow.parquet as pq

    meta = {c["name"]: c["numpy_type"] for c in json.loads(pq.read_schema(path).metadata[b"pandas"])["columns"]}
    assert meta["title_tokens"] == "object" and meta["title_norm"] == "object"
    back = pd.read_parquet(path)
    assert [list(v) if v is not None else None for v in back["title_tokens"]] == [["x", "y"], None]
    assert back["title_norm"].iloc[0] == "x y" and pd.isna(back["title_norm"].iloc[1])
    assert list(back["authors"].iloc[0]) == ["Smith, J"]
    # in the background writer too
    pipeline._write_parquet(df, tmp_path / "b.parquet", background=True)()
    assert pd.read_parquet(tmp_path / "b.parquet")["title_tokens"].iloc[1] is None


def test_build_records_keeps_normalised_texts_and_lists_arrow_backed(tmp_path):
    src = tmp_path / "s.csv"
    src.write_text("id,title,authors,year,doi\n1,A Study of Things,\"Smith, J.; Li, K.\",2001,10.1145/1234567.1234568\n2,,,,\n",
                   encoding="utf-8")
    tables = read_sources([str(src)])
    records, _ = pipeline.build_records(tables)
    assert isinstance(records["title_tokens"].dtype, pd.ArrowDtype)
    assert {"study", "things"} <= set(records["title_tokens"].iloc[0]) and pd.isna(records["title_tokens"].iloc[1])
    assert records["title_norm"].dtype == "str" and pd.isna(records["title_norm"].iloc[1])
    assert records["doi_norm"].iloc[0] == "10.1145/1234567.1234568" and pd.isna(records["doi_norm"].iloc[1])


def test_raw_lists_of_texts_are_arrow_backed_and_other_lists_stay_python():
    idx = pd.RangeIndex(3)
    texts = pipeline._text_lists([["Smith, J", "Li, K"], [], ["x"]], idx)
    assert isinstance(texts.dtype, pd.ArrowDtype) and texts.tolist() == [["Smith, J", "Li, K"], [], ["x"]]
    mixed = pipeline._text_lists([["a", 1], [], [{"k": "v"}]], idx)
    assert mixed.dtype == object and mixed.iloc[0] == ["a", 1]
    frame = pd.DataFrame({"authors": pd.Series([["Smith, J"], None, "Li, K"], dtype=object)})
    out = pipeline._harmonise_raw(frame, ["authors"])
    assert isinstance(out["authors"].dtype, pd.ArrowDtype)
    assert out["authors"].tolist() == [["Smith, J"], [], ["Li, K"]]
