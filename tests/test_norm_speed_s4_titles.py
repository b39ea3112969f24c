"""Titles the table path folds in SQL since the trailing noise hint is ``title._TRAILING`` itself: a title that
only ends in a bracket ("... (SIGMOD)") is folded in SQL, one with trailing noise ("(1991)", "[Review] [58 refs]")
still goes through ``clean_title_plain``; both equal ``title_fields``. Also: the abstract tokens are the same
whichever thread computes them."""

from __future__ import annotations

import re

import pandas as pd
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.normalise import normalise_frame, title_fields
from linkage.normalise.sql import _prepare, _run_sql
from linkage.normalise.title import _TRAILING, TITLE_NOISE_HINT_SQL

COLUMNS = ("title_norm", "title_key", "title_tokens", "title_generic")


def _plain(v):
    if v is None or v is pd.NA:
        return None
    return v.tolist() if hasattr(v, "tolist") and not isinstance(v, str) else v


def _check(values: list) -> list[bool]:
    """Assert table == ``title_fields``; return whether SQL folded each title (no Python route)."""
    frame = pd.DataFrame({"title": pd.Series(values, dtype=object)})
    out = normalise_frame(frame, {"title": "title"})
    for v, r in zip(values, out.to_dict("records"), strict=True):
        want = title_fields(v)
        assert {c: _plain(r[c]) for c in COLUMNS} == {c: want[c] for c in COLUMNS}, v
    prep = _prepare(frame, {"title": "title"}, None)
    route = pc.fill_null(_run_sql(prep["table"], None).column("t_route"), True).to_numpy(zero_copy_only=False)
    return [not r for r in route]


CASES = [
    ("Query processing in main memory (SIGMOD)", True),       # ends in a bracket, no noise: SQL
    ("A survey of hashing [extended version]", True),
    ("Mining association rules (1991)", False),                # trailing year: Python
    ("Mining association rules (1991).' ", False),             # ... before stripped quotes and spaces
    ("Gene therapy [Review] [58 refs]", False),
    ("Gene therapy [Article in German]", False),
    ("Erratum: Gene therapy", False),                          # leading noise hint unchanged
    ("Heart failure (abstract only)", False),
    ("Chronic heart failure in older adults (review of 12 trials)", True),
]


def test_trailing_brackets_without_noise_are_folded_in_sql():
    got = _check([v for v, _ in CASES])
    assert got == [s for _, s in CASES]


_WORD = st.sampled_from(["data", "Base", "(SIGMOD)", "(1991)", "[Review]", "[58 refs]", "(abstract)", "[in German]",
                         "(author's transl)", "[Chinese]", "(c)", ")", "]", "(", "[", ".", ",", "'", '"', "`", " ",
                         "Erratum:", "(2003a)", "[letter]", "(poster)", "in", "German", "and", "refs"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_WORD, min_size=1, max_size=8).map(" ".join), min_size=1, max_size=10))
def test_titles_with_brackets_equal_title_fields(values):
    _check(values)


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORD, min_size=1, max_size=8).map(" ".join))
def test_sql_hint_matches_whenever_trailing_noise_would_be_cut(s):
    """The hint is a superset of what ``_TRAILING`` cuts after ``clean_title_plain``'s strip (Python's ``re`` reads
    the RE2 pattern alike on ASCII text)."""
    stripped = s.strip().strip("'\"`")
    if _TRAILING.search(stripped):
        assert re.search(TITLE_NOISE_HINT_SQL.replace("|(?i)", "|"), s, re.I)


def test_abstract_tokens_equal_in_either_thread(monkeypatch):
    """Which thread computes a chunk's abstract tokens does not change them."""
    import importlib.util
    from pathlib import Path

    from linkage.normalise import sql

    spec = importlib.util.spec_from_file_location(
        "normalise_speed", Path(__file__).resolve().parents[1] / "benchmarks" / "normalise_speed.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    frame = mod.build_frame(600, seed=3)
    mapping = {f: f for f in frame.columns}
    monkeypatch.setattr(sql, "CHUNK_ROWS", 100)
    assert [sql._tokens_in_query(k, 5) for k in range(5)] == [False, False, False, False, True]  # the last chunk
    # and wherever the main thread has been the busier so far
    assert sql._tokens_in_query(1, 5, main_seconds=2.0, query_seconds=1.0)
    assert not sql._tokens_in_query(1, 5, main_seconds=1.0, query_seconds=2.0)
    got = {}
    # every chunk's tokens in the query's thread; in the main thread but for the last chunk; as balanced at run time
    for where in ("query", "main", "balanced"):
        monkeypatch.setattr(sql, "TOKENS_IN_QUERY_THREAD", where == "query")
        monkeypatch.setattr(sql, "TOKENS_BALANCE", where == "balanced")
        got[where] = [_plain(v) for v in normalise_frame(frame, mapping)["abstract_tokens"]]
    assert got["query"] == got["main"] == got["balanced"]
    assert any(t is not None for t in got["query"])


_TITLE_WORDS = st.sampled_from(["a", "of", "the", "data", "base", "x", "zeta", "alpha", "and", "in", "data", "2021", "b2"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.lists(_TITLE_WORDS, max_size=12)), min_size=1, max_size=20),
       st.data())
def test_vectorised_title_tokens_equal_title_tokens(word_lists, data):
    """The title tokens computed after the query from the title's words equal ``title.title_tokens`` of the folded
    title, and are null wherever ``title_norm`` is."""
    import pyarrow as pa

    from linkage.normalise.sql import LIST_TYPE, _title_tokens_arrow
    from linkage.normalise.title import title_tokens

    norms = [None if w is None or not w or data.draw(st.booleans()) else " ".join(w) for w in word_lists]
    got = _title_tokens_arrow(pa.array(word_lists, type=LIST_TYPE), pa.array(norms, type=pa.string())).to_pylist()
    assert got == [title_tokens(n) for n in norms]
