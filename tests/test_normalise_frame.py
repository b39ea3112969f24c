"""The table path (DuckDB SQL + Python for the rest) gives exactly what ``normalise_record`` gives.

Checked on the 4,027 real records of ``benchmarks/data/normalise/real_records.jsonl`` (DBLP, ACM, CoLRev/ASySD,
MISQ, Cora, Semantic Scholar, Crossref, seed case; one frame per origin, as the pipeline calls it per
source), on records varied by the benchmark's generator (author layouts, DOI/URL forms, dates, noise), and
on hypothesis-generated frames of tricky strings.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import json
import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkage.normalise import NORMALISED_COLUMNS, normalise_frame, normalise_record
from linkage.normalise.text import TRANSLIT

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "benchmarks" / "data" / "normalise" / "real_records.jsonl"
FIELDS = ("id", "title", "authors", "date", "year", "venue", "volume", "issue", "pages", "first_page", "last_page",
          "doi", "arxiv_id", "pmid", "isbn", "urls", "abstract", "type", "institution", "report_number", "note",
          "publisher", "language")


def _plain(v):
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if hasattr(v, "tolist") and not isinstance(v, (str, dt.date)):
        return v.tolist()
    return v


def assert_frame_matches_records(frame: pd.DataFrame) -> None:
    mapping = {f: f for f in FIELDS if f in frame.columns}
    out = normalise_frame(frame, mapping)
    assert list(out.columns) == list(NORMALISED_COLUMNS)
    assert len(out) == len(frame) and out.index.equals(frame.index)
    rows = out.to_dict("records")
    bad = []
    for (_, rec), got in zip(frame.iterrows(), rows, strict=True):
        raw = {f: _plain(rec[f]) for f in mapping}
        want = normalise_record(raw)
        for c in NORMALISED_COLUMNS:
            if _plain(got[c]) != want[c]:
                bad.append((c, raw.get(c.split("_")[0]), _plain(got[c]), want[c]))
    assert not bad, f"{len(bad)} differences, first: {bad[:5]}"


def _frame(records: list[dict]) -> pd.DataFrame:
    cols = sorted({k for r in records for k in r} & set(FIELDS))
    return pd.DataFrame({c: pd.Series([r.get(c) for r in records], dtype=object) for c in cols})


@functools.lru_cache(maxsize=1)
def _real_records() -> dict[str, list[dict]]:
    by: dict[str, list[dict]] = {}
    for line in REAL.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        by.setdefault(r.pop("sample"), []).append(r)
    return by


@pytest.mark.parametrize("sample", sorted(_real_records()))
def test_table_path_equals_record_path_on_real_records(sample):
    assert_frame_matches_records(_frame([dict(r) for r in _real_records()[sample]]))


def _generator():
    spec = importlib.util.spec_from_file_location("normalise_speed", ROOT / "benchmarks" / "normalise_speed.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_table_path_equals_record_path_on_generated_variants():
    mod = _generator()
    assert_frame_matches_records(mod.build_frame(800, seed=11))


def test_frame_keeps_types_and_index():
    frame = pd.DataFrame({"t": ["A study", None, "UNKNOWN"], "y": [1999.0, None, 2001.0],
                          "a": [["Keke Wu", "Rui Du"], "Smith, J. and Doe, K.", None]}, index=[10, 11, 12])
    out = normalise_frame(frame, {"title": "t", "year": "y", "authors": "a"})
    assert out.index.tolist() == [10, 11, 12]
    assert out["year_norm"].dtype == "Int64" and out["year_norm"].tolist()[0] == 1999
    assert out["title_generic"].dtype == bool
    assert out["author_surnames"].tolist()[0] == ["wu", "du"] and isinstance(out["author_surnames"].tolist()[1], list)
    assert out["title_norm"].tolist() == ["a study", None, None]
    # list columns are Arrow-backed: no Python list per row until someone asks for one
    for c, t in NORMALISED_COLUMNS.items():
        assert isinstance(out[c].dtype, pd.ArrowDtype) == (t == "VARCHAR[]"), c
    assert out["title_tokens"].tolist()[0] == ["study"] and out["title_tokens"].isna().tolist() == [False, True, True]
    empty = normalise_frame(frame.iloc[:0], {"title": "t"})
    assert list(empty.columns) == list(NORMALISED_COLUMNS) and len(empty) == 0
    assert isinstance(empty["abstract_tokens"].dtype, pd.ArrowDtype)


# DOI cells the SQL path reads besides the regular ones (%2F escapes, one trailing full stop, a glued PMID),
# and their near misses, which must keep going through normalise_doi.
_DOIS = ["10.1000/abc%2Fdef", "10.1000%2Fabc.12", "10.1000%2fabc", "https://doi.org/10.1000%2Fx.y", "10.1000%252Fabc",
         "10.1000/a%20b", "10.1000/ab.", "http://dx.doi.org/10.1000/ab.", "10.1000/ab..", "10.1000/ab,", "doi:10.1/x.",
         "10.1000/123PMID:456", "10.1000/abcPMID:456", "10.1000/123PMID:", "10.1000/123pmid:456",
         "10.1000/123PMID:456.", "n%2Fa", "-.", "10.48550%2FarXiv.2103.11069", "10.48550/arXiv.2103.11069.",
         "10.1000/x.pdf.", "10.1000/full%2Fabstract", "10.1000/ARXIV.1%2F2", "10.1234", "144//", "10.1000/a%2F"]


def test_doi_forms_read_in_sql_equal_the_record_path():
    from linkage.normalise.sql import normalise_table

    frame = _frame([{"id": f"r{i}", "doi": d, "title": "A title"} for i, d in enumerate(_DOIS)])
    assert_frame_matches_records(frame)
    regular = [d for d in _DOIS if d in ("10.1000/abc%2Fdef", "10.1000/ab.", "http://dx.doi.org/10.1000/ab.",
                                         "10.1000/123PMID:456")]
    stats: dict = {}
    normalise_table(_frame([{"doi": d} for d in regular]), {"doi": "doi"}, stats)
    assert stats["doi"][0] == 0  # none of them needed Python


_WORDS = ["a", "an", "of", "the", "xy", "abc", "data", "model", "zeta", "were", "using", "12", "123", "4567",
          "aaa", "zzz", "base", "database", "which"] + [f"w{i:03d}" for i in range(80)]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.none(), st.lists(st.sampled_from(_WORDS), min_size=0, max_size=150).map(" ".join)),
                min_size=1, max_size=15))
def test_vectorised_abstract_tokens_equal_abstract_tokens(values):
    import pyarrow as pa

    from linkage.normalise.abstract import abstract_tokens
    from linkage.normalise.sql import _abstract_tokens_arrow

    values = [v or None for v in values]  # folded abstracts: single spaces, never empty
    got = _abstract_tokens_arrow(pa.array(values, type=pa.string())).to_pylist()
    assert got == [abstract_tokens(v) for v in values]


# Strings built from the pieces that make the SQL shapes and their near misses.
_PIECES = ["Smith", "J.", "J", "JR", "Jean-Luc", "O'Neill", "van", "de", "Van", "And", "and", "AND", ",", ", ", "; ",
           " and ", " ", "  ", ".", "et al.", "Jr.", "III", "(James)", "Müller", "&amp;", "Ã¶", "Wu", "Li", "Du",
           "Keke", "K.", "G. F.", "Adeli K.Lewis G. F.", "10.1000/abc", "https://doi.org/", "doi:", "arXiv:",
           "2103.11069", "v2", "https://arxiv.org/pdf/", ".pdf", "https://github.com/", "owner/repo", "www.", "/",
           "nttps://x.org", "144//", "%2F", "PMID:", "(1991)", "[Review]", "Erratum: ", "[", "]", "(", ")", "None",
           "UNKNOWN", "12", "12-19", "12--9", "pp. ", "e1234", "0012", "2021-03-20", " 01:46:39+00:00", "Mar",
           "Abstract: ", "id3424933303362828601 ", "©", "Copyright 2003", "editorial", "Book Review", "the", "a",
           "Title", "\n", "\t", "’", "—", "é", "東京", "…", "\u00a0", "±", "µ", "©"]
_TEXT = st.lists(st.sampled_from(_PIECES), min_size=0, max_size=8).map("".join)
_CELL = st.one_of(st.none(), _TEXT, st.lists(_TEXT, max_size=3))
_RECORD = st.fixed_dictionaries({f: _CELL for f in ("title", "authors", "date", "year", "doi", "arxiv_id", "urls",
                                                    "id", "volume", "venue", "pmid", "pages", "abstract")})


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_RECORD, min_size=1, max_size=12))
def test_table_path_equals_record_path_on_tricky_strings(records):
    frame = _frame(records)
    for f in ("title", "authors", "date", "year", "doi", "arxiv_id", "urls", "id", "volume", "venue", "pmid", "pages",
              "abstract"):
        if f not in frame.columns:
            frame[f] = pd.Series([None] * len(frame), dtype=object)
    assert_frame_matches_records(frame)


def test_chunked_table_equals_one_piece(monkeypatch):
    from linkage.normalise import sql

    frame = _generator().build_frame(400, seed=5)
    mapping = {f: f for f in FIELDS if f in frame.columns}
    whole = normalise_frame(frame, mapping)
    monkeypatch.setattr(sql, "CHUNK_ROWS", 150)
    chunked = normalise_frame(frame, mapping)
    assert chunked.index.equals(whole.index)
    for c in NORMALISED_COLUMNS:
        assert [_plain(v) for v in chunked[c]] == [_plain(v) for v in whole[c]], c


_TYPO_TEXT = st.lists(st.sampled_from(["a", "Z", " ", "’", "“", "—", "…", "\u00a0", "±", "µ", "©", "é", "Ã¶", "&amp;",
                                       "<i>", "\t", "None", "x", "ß", "Ł", "ő", "α", "Ж", "\u0301", "Ã", "Ð ", "\x85",
                                       "\x1a", "$", "{", "\\", "\u212b", "東", "ﬁ", "\n", "N/A"]),
                      max_size=12).map("".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), _TYPO_TEXT), min_size=1, max_size=20))
def test_bulk_preparation_equals_prep_text(values):
    import pyarrow as pa

    from linkage.normalise.sql import _prep_array
    from linkage.normalise.text import is_blank, prep_text

    got = _prep_array(pa.array(values, type=pa.string())).to_pylist()
    for v, g in zip(values, got, strict=True):
        if v is None or is_blank(v):
            assert g is None or is_blank(g)
        else:
            assert g == prep_text(v)


def test_worker_processes_equal_one_process(monkeypatch):
    """The process path (forced on a small table, chunks of 150 rows over the workers) gives the same frame,
    in the same order, as the in-process path; called while this process has a DuckDB connection open, as
    the pipeline does (workers are spawned, so nothing of it is inherited)."""
    import duckdb

    from linkage.normalise import sql

    frame = _generator().build_frame(400, seed=11)
    frame.index = frame.index * 3 + 7  # a non-default index is kept
    mapping = {f: f for f in FIELDS if f in frame.columns}
    con = duckdb.connect()
    con.sql("SELECT 42").fetchall()
    try:
        whole = sql.normalise_table(frame, mapping, processes=False)
        monkeypatch.setattr(sql, "PROCESS_CHUNK_ROWS", 150)
        stats: dict = {}
        spread = sql.normalise_table(frame, mapping, stats, processes=True)
    finally:
        con.close()
    assert stats["workers"] >= 1 and stats.get("worker_pids")
    assert list(spread.columns) == list(whole.columns)
    assert spread.index.equals(whole.index)
    for c in NORMALISED_COLUMNS:
        assert spread[c].dtype == whole[c].dtype, c
        assert [_plain(v) for v in spread[c]] == [_plain(v) for v in whole[c]], c


def test_process_threshold(monkeypatch):
    from linkage.normalise import sql

    calls = []
    monkeypatch.setattr(sql, "_normalise_in_processes", lambda *a: calls.append(a) or "spread")
    frame = _generator().build_frame(30, seed=3)
    mapping = {f: f for f in FIELDS if f in frame.columns}
    sql.normalise_table(frame, mapping)  # small: no processes
    assert calls == []
    monkeypatch.setattr(sql, "PROCESS_MIN_ROWS", 20)
    monkeypatch.setattr(sql, "_worker_count", lambda: 2)
    sql.normalise_table(frame, mapping)  # two cores: the in-process path (two threads) is faster there
    assert calls == []
    monkeypatch.setattr(sql, "_worker_count", lambda: 4)
    assert sql.normalise_table(frame, mapping) == "spread"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet=st.characters(max_codepoint=127), max_size=60),
                          st.text(alphabet="aB 'z9-\t\n.", max_size=40)), min_size=1, max_size=20))
def test_python_fold_of_ascii_abstracts_equals_the_sql_fold(values):
    import duckdb
    import pyarrow as pa

    from linkage.normalise.abstract import MIN_ABSTRACT_CHARS
    from linkage.normalise.sql import _fold_ascii
    from linkage.normalise.text import fold_fixed

    arr = pa.array(values, type=pa.string())
    folded, words = _fold_ascii(arr)
    got = folded.to_pylist()
    assert _fold_ascii(arr.slice(1))[0].to_pylist() == got[1:]  # an array with an offset
    assert _fold_ascii(arr.slice(1))[1].to_pylist() == words.to_pylist()[1:]
    # the words handed to the abstract tokens: the folded abstract split, null where it is dropped
    assert words.to_pylist() == [None if g is None else g.split(" ") for g in got]
    sql = duckdb.sql("SELECT trim(regexp_replace(replace(lower(v), '''', ''), '[^0-9a-z]+', ' ', 'g')) AS f "
                     "FROM (SELECT unnest($v) AS v, generate_subscripts($v, 1) AS i) ORDER BY i",
                     params={"v": values}).fetchall()
    for v, g, (s,) in zip(values, got, sql, strict=True):
        want = None if v is None or len(fold_fixed(v)) < MIN_ABSTRACT_CHARS else fold_fixed(v)
        assert g == want
        assert g == (s if s is not None and len(s) >= MIN_ABSTRACT_CHARS else None)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(sorted({chr(c) for c in range(32, 127)} - set("&<\\${")
                                               | TRANSLIT | {"\n", "\t"})), max_size=40))
def test_translit_equals_prep_text_without_repair_hint(s):
    """The one-translate preparation is prep_text whenever the repair hint does not match."""
    import re

    from linkage.normalise.text import NOT_SIMPLE_TEXT_RE2, prep_text, prep_translit

    if re.search(NOT_SIMPLE_TEXT_RE2, s):
        return
    assert prep_translit(s) == prep_text(s)


@pytest.mark.parametrize("n,size", [(1, 5), (5, 5), (6, 5), (11, 4), (1_000_000, 100_000), (130_000, 100_000)])
def test_chunk_bounds_cover_every_row_once(n, size):
    from linkage.normalise.sql import _chunk_bounds

    bounds = _chunk_bounds(n, size)
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(a < b for a, b in bounds) and all(b == c for (_, b), (c, _) in zip(bounds, bounds[1:], strict=False))
    assert max(b - a for a, b in bounds) <= size
    if n > size:  # the first and the last chunk are the small ones
        assert bounds[0][1] - bounds[0][0] <= size // 4 and bounds[-1][1] - bounds[-1][0] <= size // 4
