"""Token sets held as word hashes in DuckDB: the same pairs, gammas and weights, and only when the SQL allows it."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import TITLE_WORDS, word_records

from linkage.backends import get_backend, hashable_set_columns
from linkage.settings import blocking_rule_sql, compile_settings, load_settings

ROOT = Path(__file__).resolve().parents[1]


def _records() -> pd.DataFrame:
    return word_records(80, lambda i, toks: dict(
        title_tokens=toks if i % 9 else None, author_surnames=["smith", "jones"][: 1 + i % 2], first_author="smith",
        author_count=1 + i % 2,
        abstract_tokens=sorted(set(toks + TITLE_WORDS[i % 3: i % 3 + 4])) if i % 2 else None))


def _settings_with(tmp_path: Path, old: str, new: str) -> Path:
    text = (ROOT / "settings" / "scholarly.yaml").read_text(encoding="utf-8")
    assert old in text
    p = tmp_path / "s.yaml"
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return p


def _column_types(linker) -> dict[str, str]:
    rows = linker._db_api._execute_sql_against_backend("describe records").fetchall()
    return {r[0]: r[1] for r in rows}


def test_shipped_settings_hash_both_token_sets_in_duckdb():
    from linkage.scoring import model_frame

    creator = compile_settings(load_settings(), "duckdb", "dedupe")
    assert hashable_set_columns(creator) == ["abstract_tokens", "title_tokens"]
    linker = get_backend("duckdb").make_linker(model_frame(_records()), creator)
    types = _column_types(linker)
    assert types["title_tokens"] == "UBIGINT[]" and types["abstract_tokens"] == "UBIGINT[]"
    assert types["author_surnames"] == "VARCHAR[]"  # compared with first_author as text: never hashed


def test_a_level_that_looks_inside_the_words_keeps_them_as_text(tmp_path):
    path = _settings_with(tmp_path, '- {kind: else, label: "different titles", m_max: 0.005}',
                          '- {kind: sql, condition: "list_contains(l.title_tokens, \'review\')", label: "a review"}\n'
                          '      - {kind: else, label: "different titles", m_max: 0.005}')
    creator = compile_settings(load_settings(path), "duckdb", "dedupe")
    assert hashable_set_columns(creator) == ["abstract_tokens"]


def test_a_training_rule_on_the_words_keeps_them_as_text():
    creator = compile_settings(load_settings(), "duckdb", "dedupe")
    assert hashable_set_columns(creator, ["list_contains(l.abstract_tokens, 'trial')"]) == ["title_tokens"]
    assert hashable_set_columns(creator, ["l.title_key = r.title_key"]) == ["abstract_tokens", "title_tokens"]


def test_predictions_are_the_same_with_hashed_sets(monkeypatch):
    import linkage.backends as backends
    from linkage.scoring import lean_predictions, model_frame

    creator = compile_settings(load_settings(), "duckdb", "dedupe")
    mdf = model_frame(_records())
    out = []
    for hashed in (False, True):
        if not hashed:
            monkeypatch.setattr(backends, "hashable_set_columns", lambda *a, **k: [])
        else:
            monkeypatch.undo()
        linker = get_backend("duckdb").make_linker(mdf, creator)
        assert ("UBIGINT[]" if hashed else "VARCHAR[]") == _column_types(linker)["title_tokens"]
        with lean_predictions():
            df = linker.inference.predict().as_pandas_dataframe()
        cols = ["unique_id_l", "unique_id_r", "match_weight"] + sorted(c for c in df.columns if c.startswith("gamma_"))
        out.append(df[cols].sort_values(["unique_id_l", "unique_id_r"]).reset_index(drop=True))
    assert len(out[0]) > 300
    assert out[0]["gamma_title"].nunique() > 2 and out[0]["gamma_abstract"].nunique() > 2
    pd.testing.assert_frame_equal(out[0], out[1])


@pytest.mark.parametrize("left,right,expected", [
    (["deep", "graph"], ["graph", "kernel"], True),      # a title word in common
    (["deep", "graph"], ["kernel", "sparse"], False),    # same first author and year, nothing else: not blocked
    (None, ["kernel", "sparse"], True),                  # a title missing: authors and year are all there is
])
def test_first_author_and_year_rule_needs_a_title_word_in_common(left, right, expected):
    rule = next(blocking_rule_sql(r) for r in load_settings().get("blocking_rules")
                if isinstance(r, str) and r.startswith("l.first_author = r.first_author and l.year_norm"))
    con = duckdb.connect()
    for name, toks in (("lt", left), ("rt", right)):
        con.register(name + "0", pd.DataFrame([{"first_author": "smith", "year_norm": 2001, "title_tokens": toks}]))
        con.execute(f"create table {name} as select first_author, year_norm, title_tokens::VARCHAR[] as title_tokens "
                    f"from {name}0")
    got = con.execute(f"select count(*) from lt l, rt r where {rule}").fetchall()[0][0]
    assert got == (1 if expected else 0)


def test_new_records_are_held_like_the_linker_s_records(monkeypatch):
    """`linkage match` registers new records next to the old: both tables hash their sets, or neither."""
    import linkage.backends as backends
    from linkage.modelling import score_new_records

    recs = _records()
    spec = load_settings()
    model = json.loads((ROOT / "linkage" / "data" / "default_model.json").read_text(encoding="utf-8"))
    hashed = score_new_records(recs.iloc[:60], recs.iloc[60:], model, spec)
    monkeypatch.setattr(backends, "hashable_set_columns", lambda *a, **k: [])
    text = score_new_records(recs.iloc[:60], recs.iloc[60:], model, spec)
    assert len(hashed) > 50 and set(hashed["unique_id_r"]) <= set(recs["unique_id"])
    pd.testing.assert_frame_equal(hashed, text)


def test_chunked_pairs_equal_the_whole_table_sorted(monkeypatch):
    """The run's pairs, built chunk by chunk from rows DuckDB orders by (least id, greatest id), equal
    Splink's whole prediction table tidied and sorted in pandas: same rows, columns and order."""
    from linkage import scoring
    from linkage.scoring import add_relations, model_frame, predict_pairs, predict_pairs_chunked

    recs = _records()
    # ids whose text order differs from their insertion order, some non-ASCII
    recs["unique_id"] = [f"{'éab'[i % 3]}:{(i * 37) % 80:02d}" for i in range(len(recs))]
    model = json.loads((ROOT / "linkage" / "data" / "default_model.json").read_text(encoding="utf-8"))
    monkeypatch.setattr(scoring, "PAIRS_CHUNK", 37)
    linker = get_backend("duckdb").make_linker(model_frame(recs), model)
    chunked = predict_pairs_chunked(linker, model, recs[["unique_id", "pub_type"]])
    linker = get_backend("duckdb").make_linker(model_frame(recs), model)
    whole = add_relations(predict_pairs(linker, model), recs)
    assert len(chunked) > 300 and (chunked["unique_id_l"] < chunked["unique_id_r"]).all()
    pd.testing.assert_frame_equal(chunked, whole)
