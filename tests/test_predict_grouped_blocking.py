"""Blocked pairs by one join per rule and a GROUP BY (``scoring.deduplicated_blocking``): the same pairs,
each with the same first rule as Splink's own way of excluding earlier rules, and the same scores."""

from __future__ import annotations

import pandas as pd
from conftest import word_records

from linkage.backends import get_backend
from linkage.modelling import fit_model
from linkage.scoring import deduplicated_blocking, lean_predictions, model_frame, predict_pairs_chunked
from linkage.settings import compile_settings, load_settings


def _records() -> pd.DataFrame:
    return word_records(120, lambda i, toks: dict(
        author_surnames=["smith", "jones", "li"][: 1 + i % 3], first_author=["smith", "li"][i % 2],
        author_count=1 + i % 3, doi_norm=f"10.1/{i % 17}" if i % 5 else None))


def _blocked(linker) -> pd.DataFrame:
    with lean_predictions():
        pred = linker.inference.predict()
    df = linker._db_api._execute_sql_against_backend(
        f"select unique_id_l, unique_id_r, match_key, match_weight from {pred.physical_name}").df()
    return df.sort_values(["unique_id_l", "unique_id_r"]).reset_index(drop=True)


def test_grouped_blocking_gives_splinks_pairs_and_first_rules():
    spec = load_settings()
    creator = compile_settings(spec, "duckdb", "dedupe")
    rules = creator.get_settings("duckdb").as_dict()["blocking_rules_to_generate_predictions"]
    assert len(rules) > 10, "match keys 10+ must sort as numbers, not as text ('10' < '2')"
    mdf = model_frame(_records())
    backend = get_backend("duckdb")
    splinks = _blocked(backend.make_linker(mdf, creator))
    with deduplicated_blocking():
        grouped = _blocked(backend.make_linker(mdf, creator))
    assert len(splinks) > 500 and not splinks.duplicated(["unique_id_l", "unique_id_r"]).any()
    assert splinks["match_key"].astype(int).nunique() >= 4, "pairs should come from several rules"
    # the pairs of later rules matched by earlier ones too: the case the GROUP BY must resolve
    pd.testing.assert_frame_equal(grouped, splinks)


def test_the_patch_is_undone_after_the_block():
    import splink.internals.blocking as blocking

    before = (blocking.block_using_rules_sqls, blocking.BlockingRule.exclude_pairs_generated_by_all_preceding_rules_sql)
    try:
        with deduplicated_blocking():
            assert blocking.block_using_rules_sqls is not before[0]
            raise RuntimeError("inside")
    except RuntimeError:
        pass
    assert (blocking.block_using_rules_sqls,
            blocking.BlockingRule.exclude_pairs_generated_by_all_preceding_rules_sql) == before


def test_chunked_scoring_uses_grouped_blocking_with_the_same_pairs():
    spec = load_settings()
    records = _records()
    model, _ = fit_model(records, spec, "dedupe", 1)
    backend = get_backend("duckdb")
    pairs = predict_pairs_chunked(backend.make_linker(model_frame(records), model), model,
                                  records[["unique_id", "pub_type"]])
    plain = _blocked(backend.make_linker(model_frame(records), model))
    assert list(zip(pairs["unique_id_l"], pairs["unique_id_r"])) == list(zip(plain["unique_id_l"], plain["unique_id_r"]))
    assert (pairs["match_weight"].to_numpy() - plain["match_weight"].to_numpy()).__abs__().max() < 1e-9


def test_arrow_backed_records_are_a_view_and_score_as_python_lists_do():
    """Records with Arrow-backed texts and lists (as build_records keeps them) reach DuckDB as a view over
    their own buffers, not a copy; Python-object frames are copied into a table. Same pairs, same weights."""
    import pyarrow as pa

    from linkage.normalise import NORMALISED_COLUMNS

    spec = load_settings()
    records = _records()
    model, _ = fit_model(records, spec, "dedupe", 1)
    arrow = records.copy()
    for c, t in NORMALISED_COLUMNS.items():
        if t == "VARCHAR[]":
            arrow[c] = pd.Series(pd.arrays.ArrowExtensionArray(pa.array(records[c].tolist(), type=pa.list_(pa.string()))))
        elif t == "VARCHAR":
            arrow[c] = records[c].astype("str")
    arrow["unique_id"], arrow["source"] = records["unique_id"].astype("str"), records["source"].astype("str")
    backend = get_backend("duckdb")
    kinds = {}
    out = {}
    for name, frame in (("objects", records), ("arrow", arrow)):
        linker = backend.make_linker(model_frame(frame), model)
        kinds[name] = linker._db_api._execute_sql_against_backend(
            "select table_type from information_schema.tables where table_name = 'records'").fetchall()[0][0]
        out[name] = _blocked(linker)
    assert kinds == {"objects": "BASE TABLE", "arrow": "VIEW"}
    pd.testing.assert_frame_equal(out["objects"], out["arrow"])
