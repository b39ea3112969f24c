"""Predict at scale: the Jaccard of set columns gives the same levels, and the tightened title-prefix rule."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from linkage.settings import _DIALECT_SQL

LISTS = [["a", "b", "c"], ["b", "c", "d"], ["a"], [], None, ["x", "y"], ["a", "b", "c"], ["b"]]


def _sql(kind: str, t: float) -> str:
    return _DIALECT_SQL[kind]["duckdb"].format(c="tok", t=t).replace("l.tok", "tok_l").replace("r.tok", "tok_r")


@pytest.mark.parametrize("t", [0.0, 0.3, 0.5, 0.8, 1.0])
def test_jaccard_of_sets_gives_the_same_truth_value_on_distinct_lists(t):
    con = duckdb.connect()
    rows = [(a, b) for a in LISTS for b in LISTS]
    con.register("p0", pd.DataFrame({"tok_l": [a for a, _ in rows], "tok_r": [b for _, b in rows]}))
    con.execute("create table p as select tok_l::VARCHAR[] as tok_l, tok_r::VARCHAR[] as tok_r from p0")
    original, sets = _sql("array_jaccard", t), _sql("array_jaccard_of_sets", t)
    assert sets != original
    got = con.execute(f"select count(*) filter (where coalesce({original}, false) <> coalesce({sets}, false)) "
                      f"from p").fetchall()[0][0]
    assert got == 0


def test_only_set_columns_get_the_jaccard_of_sets():
    """title/abstract tokens are sets by construction; author surnames may repeat (two Wangs): generic SQL."""
    from linkage.settings import compile_settings, load_settings

    levels = [lv["sql_condition"] for c in compile_settings(load_settings(), "duckdb", "dedupe")
              .get_settings("duckdb").as_dict()["comparisons"] for lv in c["comparison_levels"]]
    jaccards = [x for x in levels if "list_intersect" in x.lower() and "/" in x]
    assert any("title_tokens" in x and "list_distinct" not in x.lower() for x in jaccards)
    assert any("abstract_tokens" in x and "list_distinct" not in x.lower() for x in jaccards)
    assert any("author_surnames" in x and "list_distinct" in x for x in jaccards)


def test_normalised_token_columns_are_sets():
    """What ``SET_COLUMNS`` promises: sorted, distinct, no null element, on real-shaped records."""
    import json
    from pathlib import Path

    from linkage.normalise import SET_COLUMNS, normalise_frame

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "normalise" / "real_records.jsonl"
    recs = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    frame = pd.DataFrame({f: [r.get(f) for r in recs] for f in ("title", "abstract")})
    out = normalise_frame(frame, {"title": "title", "abstract": "abstract"})
    for c in SET_COLUMNS:
        lists = [list(v) for v in out[c].tolist() if v is not None and v is not pd.NA]
        assert len(lists) > 100, c
        assert all(list(v) == sorted(set(v)) and None not in v for v in lists), c


def _records(dupes: bool) -> pd.DataFrame:
    from linkage.normalise import NORMALISED_COLUMNS

    rows = []
    words = ["graph", "neural", "network", "learning", "deep", "model", "data", "fast"]
    for i in range(60):
        toks = sorted({words[i % 8], words[(i * 3) % 8], words[(i * 5 + 1) % 8]})
        if dupes and i % 7 == 0:
            toks = toks + toks[:1]
        rec = {c: None for c in NORMALISED_COLUMNS}
        rec.update(unique_id=f"r{i}", source="s", title_norm=" ".join(toks) + f" {i % 5}", title_key="".join(toks),
                   title_tokens=toks, author_surnames=["smith", "jones"][: 1 + i % 2], first_author="smith",
                   author_count=1 + i % 2, year_norm=2000 + i % 3, abstract_tokens=toks[::-1][:2] if i % 2 else None,
                   title_generic=False)
        rows.append(rec)
    return pd.DataFrame(rows)


def test_predictions_are_the_same_with_the_jaccard_of_sets(monkeypatch):
    from linkage import settings
    from linkage.backends import get_backend
    from linkage.scoring import lean_predictions, model_frame

    spec = settings.load_settings()
    mdf = model_frame(_records(False))
    out = []
    for sets in (frozenset(), settings.SET_COLUMNS):
        monkeypatch.setattr(settings, "SET_COLUMNS", sets)
        linker = get_backend("duckdb").make_linker(mdf, settings.compile_settings(spec, "duckdb", "dedupe"))
        with lean_predictions():
            df = linker.inference.predict().as_pandas_dataframe()
        cols = ["unique_id_l", "unique_id_r", "match_weight"] + [c for c in df.columns if c.startswith("gamma_")]
        out.append(df[cols].sort_values(["unique_id_l", "unique_id_r"]).reset_index(drop=True))
    assert len(out[0]) > 100
    pd.testing.assert_frame_equal(out[0], out[1])


def test_title_prefix_rule_needs_a_suffix_or_an_author_in_common():
    from linkage.settings import blocking_rule_sql, load_settings

    # one rule per year offset (same year, one either way, missing on a side): together they are the rule
    parts = [blocking_rule_sql(r) for r in load_settings().get("blocking_rules")
             if isinstance(r, str) and "substr(l.title_key, 1, 12)" in r]
    assert len(parts) == 5
    rule = " or ".join(f"coalesce(({p}), false)" for p in parts)
    con = duckdb.connect()

    def blocked(left: dict, right: dict) -> bool:
        base = {"title_key": "deeplearningforgraphs", "year_norm": 2001, "author_surnames": ["smith"],
                "first_author": "smith"}
        a, b = {**base, **left}, {**base, **right}
        con.register("lt", pd.DataFrame([a]))
        con.register("rt", pd.DataFrame([b]))
        q = (f"select count(*) from (select title_key, year_norm, author_surnames::VARCHAR[] as author_surnames, "
             f"first_author from lt) l, (select title_key, year_norm, author_surnames::VARCHAR[] as author_surnames, "
             f"first_author from rt) r where {rule}")
        return con.execute(q).fetchall()[0][0] == 1

    other = {"author_surnames": ["brown", "lee"], "first_author": "brown"}
    assert blocked({}, {"title_key": "deeplearningfornets"})                     # same first author
    assert blocked({}, {**other, "author_surnames": ["brown", "smith"]})         # first author among surnames
    assert blocked({}, {**other, "title_key": "deeplearningxxgraphs"})           # same last four letters
    assert blocked({}, {"author_surnames": None, "first_author": None, "title_key": "deeplearningfornets"})
    assert not blocked({}, {**other, "title_key": "deeplearningfornets"})        # nothing else in common
    assert not blocked({}, {"year_norm": 2005})                                   # years too far apart
    assert blocked({}, {"year_norm": 2002}) and blocked({"year_norm": 2002}, {})  # one year apart, either way
    assert blocked({}, {"year_norm": None}) and blocked({"year_norm": None}, {})  # a year missing on a side
    assert not blocked({}, {"year_norm": 2003})                                   # two years apart


def test_title_suffix_rule_needs_an_author_of_several_in_common():
    from linkage.settings import blocking_rule_sql, load_settings

    rule = next(blocking_rule_sql(r) for r in load_settings().get("blocking_rules")
                if isinstance(r, str) and "right(l.title_key, 12)" in r and "author_count" in r)
    con = duckdb.connect()
    base = {"title_key": "xdeeplearningforgraphs", "year_norm": 2001, "author_surnames": ["smith", "jones"],
            "first_author": "smith", "author_count": 2}

    def blocked(right: dict) -> bool:
        b = {**base, **right}
        con.register("lt", pd.DataFrame([base]))
        con.register("rt", pd.DataFrame([b]))
        cols = "title_key, year_norm, author_surnames::VARCHAR[] as author_surnames, first_author, author_count"
        q = f"select count(*) from (select {cols} from lt) l, (select {cols} from rt) r where {rule}"
        return con.execute(q).fetchall()[0][0] == 1

    assert blocked({"title_key": "ydeeplearningforgraphs", "author_surnames": ["jones", "smith"],
                    "first_author": "jones"})                                      # authors in another order
    assert blocked({"title_key": "ydeeplearningforgraphs", "author_surnames": ["smyth", "jones"],
                    "first_author": "smyth"})                                      # first author spelt otherwise
    assert not blocked({"title_key": "ydeeplearningforgraphs", "author_surnames": ["brown", "lee"],
                        "first_author": "brown"})                                  # no author in common
    assert not blocked({"title_key": "ydeeplearningfxrgraphs"})                    # last 12 letters differ



def test_model_frame_shares_list_cells_and_converts_the_rest():
    import numpy as np

    from linkage.scoring import model_frame

    recs = _records(False).iloc[:4].copy()
    toks = recs["title_tokens"].iloc[0]
    recs.at[recs.index[1], "title_tokens"] = np.array(["a", "b"], dtype=object)
    recs.at[recs.index[2], "title_tokens"] = float("nan")
    out = model_frame(recs)["title_tokens"].tolist()
    assert out[0] is toks
    assert out[1] == ["a", "b"] and type(out[1]) is list
    assert out[2] is None
