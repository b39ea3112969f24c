"""The same settings file on Spark (local mode): every level and blocking rule means the same as on
DuckDB, a DuckDB-trained model scores the examples on Spark with the same weights and clusters (and
the other way round), and training on Spark itself gives the same clusters.

One SparkSession (local[2]) serves the whole module. ``make test`` installs Java and the ``spark``
extra, so in CI these tests run; elsewhere they are skipped when pyspark or Java is missing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil

import pandas as pd
import pytest
from conftest import EXAMPLE_SOURCES, ROOT

import linkage
from linkage.pipeline import match
from linkage.settings import blocking_rule_sql, compile_settings, load_settings

pytestmark = [pytest.mark.spark, pytest.mark.slow,
              # PySpark 4.3 on pandas 3: a blanket FutureWarning and its own deprecated astype(copy=)
              pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]
SOURCES = [str(p) for p in EXAMPLE_SOURCES]
KEY = ["unique_id_l", "unique_id_r"]


def _missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -e '.[spark]')"
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        return "no Java runtime"
    return None


@pytest.fixture(scope="module")
def spark():
    why = _missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"the Spark tests must run in CI: {why}")
        pytest.skip(why)
    from linkage.spark import create_session

    session = create_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def scored(spark, example_run, tmp_path_factory):
    """The examples on Spark, scored with the model DuckDB trained (``example_run``)."""
    out = tmp_path_factory.mktemp("spark") / "scored"
    return linkage.run(SOURCES, out=out, model=example_run.out, backend="spark", spark=spark, report=False)


@pytest.fixture(scope="module")
def trained(spark, tmp_path_factory):
    """The examples on Spark, trained on Spark (with the report: it reads model.json with DuckDB)."""
    out = tmp_path_factory.mktemp("spark") / "trained"
    return linkage.run(SOURCES, out=out, backend="spark", spark=spark)


def partition(run) -> list[list[str]]:
    c = pd.read_parquet(run.out / "clusters.parquet")
    return sorted(sorted(g["unique_id"].astype(str)) for _, g in c.groupby("cluster_id"))


def pairs(run) -> pd.DataFrame:
    return pd.read_parquet(run.out / "pairs.parquet")


def assert_same_scores(a: pd.DataFrame, b: pd.DataFrame, tol: float = 1e-6) -> None:
    m = a.merge(b, on=KEY, suffixes=("_a", "_b"))
    assert len(m) == len(a) == len(b), f"different pairs: {len(a)} and {len(b)}, {len(m)} in common"
    weight_cols = ["match_weight"] + [c for c in a.columns if c.endswith("_weight") and c != "match_weight"]
    for c in weight_cols:
        diff = (m[f"{c}_a"] - m[f"{c}_b"]).abs().max()
        assert diff <= tol, f"{c} differs by up to {diff}"
    for c in [c for c in a.columns if c.endswith("_gamma")]:
        assert (m[f"{c}_a"] == m[f"{c}_b"]).all(), f"{c} differs"


# --- the acceptance: portable parameters, same weights, same clusters ----------------------------------


def test_duckdb_model_scores_on_spark_with_the_same_weights(example_run, scored):
    assert_same_scores(pairs(example_run), pairs(scored))
    assert scored.info["threshold"]["match_weight"] == pytest.approx(example_run.info["threshold"]["match_weight"],
                                                                     abs=1e-6)


def test_duckdb_model_on_spark_gives_the_same_clusters(example_run, scored):
    assert partition(scored) == partition(example_run)


def test_training_on_spark_gives_the_same_model_and_clusters(example_run, trained):
    assert partition(trained) == partition(example_run)
    duck = json.loads((example_run.out / "model.json").read_text())
    spark = json.loads((trained.out / "model.json").read_text())
    assert spark["probability_two_random_records_match"] == pytest.approx(
        duck["probability_two_random_records_match"], rel=1e-6)
    for cd, cs in zip(duck["comparisons"], spark["comparisons"]):
        for ld, ls in zip(cd["comparison_levels"], cs["comparison_levels"]):
            for k in ("m_probability", "u_probability"):
                if k in ld:
                    assert ls[k] == pytest.approx(ld[k], rel=1e-6), (cd["output_column_name"], ld.get("label_for_charts"), k)
    assert_same_scores(pairs(example_run), pairs(trained), tol=1e-4)


def test_spark_trained_model_scores_on_duckdb(trained, tmp_path):
    """The other way round: a run folder trained on Spark is a --model for DuckDB."""
    back = linkage.run(SOURCES, out=tmp_path / "duck", model=trained.out, report=False)
    assert_same_scores(pairs(trained), pairs(back))
    assert partition(back) == partition(trained)


def test_run_folder_contract_on_spark(trained):
    for f in ("records.parquet", "model.json", "pairs.parquet", "clusters.parquet", "merged.parquet",
              "report.html", "run.json"):
        assert (trained.out / f).exists(), f
    info = json.loads((trained.out / "run.json").read_text())
    assert info["backend"]["name"] == "spark" and info["backend"]["master"].startswith("local")
    model = json.loads((trained.out / "model.json").read_text())
    assert model["sql_dialect"] == "duckdb"  # explain and the report read it with DuckDB; --model carries it


def test_match_on_spark_equals_match_on_duckdb(spark, tmp_path):
    """`linkage match` registers the new records with the engine (``SparkBackend.register``)."""
    base = linkage.run(SOURCES[:2], out=tmp_path / "base", report=False)
    duck = match(SOURCES[2:], base.out, out=tmp_path / "m-duck", report=False)
    spk = match(SOURCES[2:], base.out, out=tmp_path / "m-spark", report=False, backend="spark", spark=spark)
    assert_same_scores(pairs(duck), pairs(spk))
    assert partition(duck) == partition(spk)


# --- every level and blocking rule of the shipped settings means the same on both engines ---------------


@pytest.fixture(scope="module")
def sample_tables(spark, example_run):
    """~120 example records (45 duplicate clusters, 30 singletons, the aggregator records) as a
    DuckDB and a Spark table, identical by construction (one model frame)."""
    import duckdb
    import pyarrow as pa

    from linkage.backends import get_backend
    from linkage.scoring import arrow_schema, model_frame

    rec, clu = example_run.records, example_run.clusters
    size = clu["cluster_id"].map(clu["cluster_id"].value_counts())
    dup = clu[size > 1]
    ids = set(dup[dup["cluster_id"].isin(sorted(dup["cluster_id"].unique())[:45])]["unique_id"])
    ids |= set(sorted(clu[size == 1]["unique_id"])[:30]) | set(rec[rec["source"] == "aggregator"]["unique_id"])
    mdf = model_frame(rec[rec["unique_id"].isin(ids)].reset_index(drop=True))
    con = duckdb.connect()
    con.register("t", pa.Table.from_pandas(mdf, schema=arrow_schema(), preserve_index=False))
    backend = get_backend("spark", spark=spark)
    backend._db_api()  # registers Splink's similarity functions on the session
    backend.to_spark(mdf).createOrReplaceTempView("linkage_test_t")
    return con, spark, len(mdf)


def _level_counts(spec, dialect: str, run_sql) -> dict[tuple[str, int], int]:
    settings = compile_settings(spec, dialect, "dedupe").get_settings(dialect).as_dict()
    exprs, keys = [], []
    for comp in settings["comparisons"]:
        for i, lv in enumerate(comp["comparison_levels"]):
            if lv["sql_condition"].strip().upper() != "ELSE":
                keys.append((comp["output_column_name"], i))
                exprs.append(f"sum(case when {lv['sql_condition']} then 1 else 0 end)")
    return dict(zip(keys, run_sql(exprs)))


def test_every_level_of_the_shipped_settings_runs_on_spark_with_the_same_result(sample_tables):
    from linkage.normalise import NORMALISED_COLUMNS

    con, spark, n = sample_tables
    spec = load_settings(ROOT / "settings" / "scholarly.yaml")  # the shipped file (same as the packaged default)
    cols = ["unique_id", *NORMALISED_COLUMNS]
    sides = ", ".join(f"l.{c} as {c}_l, r.{c} as {c}_r" for c in cols)

    def duck(exprs):
        return con.execute(f"select {', '.join(exprs)} from (select {sides} from t l join t r "
                           f"on l.unique_id < r.unique_id)").fetchone()

    def spk(exprs):
        sides_q = ", ".join(f"l.{c} as `{c}_l`, r.{c} as `{c}_r`" for c in cols)
        return list(spark.sql(f"select {', '.join(exprs)} from (select {sides_q} from linkage_test_t l "
                              f"join linkage_test_t r on l.unique_id < r.unique_id)").collect()[0])

    d, s = _level_counts(spec, "duckdb", duck), _level_counts(spec, "spark", spk)
    assert d == s
    assert sum(v > 0 for v in d.values()) >= len(d) // 2, "the sample should hit most levels"
    # the blocking rules, as compiled for each engine (Spark's with the same dialect fixes as the levels:
    # sqlglot alone keeps DuckDB's jaro_winkler_similarity, which Spark does not have)
    rules = [blocking_rule_sql(r) for r in spec.get("blocking_rules")]
    sums = [f"sum(case when {r} then 1 else 0 end)" for r in rules]
    d_rules = con.execute(f"select {', '.join(sums)} from t l join t r on l.unique_id < r.unique_id").fetchone()
    spark_rules = [b["blocking_rule"] for b in compile_settings(spec, "spark", "dedupe").get_settings("spark")
                   .as_dict()["blocking_rules_to_generate_predictions"]]
    assert any("JARO_WINKLER(" in r for r in spark_rules) and not any("JAROWINKLER" in r for r in spark_rules)
    s_sums = [f"sum(case when {r} then 1 else 0 end)" for r in spark_rules]
    s_rules = spark.sql(f"select {', '.join(s_sums)} from linkage_test_t l join linkage_test_t r "
                        f"on l.unique_id < r.unique_id").collect()[0]
    assert list(d_rules) == list(s_rules)
    assert d_rules[2] > 0, "the title-key rule should find pairs"


def test_jaro_winkler_on_spark_gives_duckdbs_values(sample_tables):
    """Splink's JAR implements the textbook Jaro match and differs from DuckDB on long strings (here by
    0.004, across the 0.88 title level); linkage registers rapidfuzz's, which is DuckDB's bit for bit."""
    assert importlib.util.find_spec("rapidfuzz"), "rapidfuzz belongs to the spark extra (DuckDB's Jaro-Winkler)"
    con, spark, _ = sample_tables
    texts = [("metadata for multimedia documents", "metadata for mixed media access"),
             ("optimizing queries over multimedia repositories", "optimizing queries across diverse data sources"),
             ("martha", "marhta"), ("dixon", "dicksonx"), ("", "a"), ("", ""), ("abc", None)]
    for a, b in texts:
        qa, qb = (f"'{x}'" if x is not None else "cast(null as varchar)" for x in (a, b))
        duck = con.execute(f"select jaro_winkler_similarity({qa}, {qb}), jaro_similarity({qa}, {qb})").fetchall()[0]
        qa, qb = (f"'{x}'" if x is not None else "cast(null as string)" for x in (a, b))
        spk = tuple(spark.sql(f"select jaro_winkler({qa}, {qb}), jaro_sim({qa}, {qb})").collect()[0])
        assert spk == duck, (a, b)


def test_u_sample_is_the_same_rows_on_both_engines(sample_tables):
    from splink.internals.input_column import InputColumn

    from linkage.training import portable_em_sample_sql, portable_sample_sql

    con, spark, n = sample_tables
    d = portable_sample_sql(0.5, [InputColumn("unique_id", sqlglot_dialect_str="duckdb")], seed=42)
    s = portable_sample_sql(0.5, [InputColumn("unique_id", sqlglot_dialect_str="spark")], seed=42)
    duck_ids = {r[0] for r in con.execute(f"select unique_id from t where 1=1 {d}").fetchall()}
    spark_ids = {r[0] for r in spark.sql(f"select unique_id from linkage_test_t where 1=1 {s}").collect()}
    assert duck_ids == spark_ids and 0.25 * n < len(duck_ids) < 0.75 * n
    assert portable_sample_sql(1.0, [], seed=1) == ""
    # EM's max_pairs sample (data sets from 20k records): the same rows on each side too
    d = portable_em_sample_sql([InputColumn("unique_id", sqlglot_dialect_str="duckdb")], 40, 100, "l")
    s = portable_em_sample_sql([InputColumn("unique_id", sqlglot_dialect_str="spark")], 40, 100, "l")
    duck_ids = {r[0] for r in con.execute(f"select l.unique_id from t l where 1=1 {d}").fetchall()}
    spark_ids = {r[0] for r in spark.sql(f"select l.unique_id from linkage_test_t l where 1=1 {s}").collect()}
    assert duck_ids == spark_ids and 0.15 * n < len(duck_ids) < 0.65 * n


# --- session configuration (no Spark needed) -----------------------------------------------------------


def test_master_comes_from_flag_then_env_then_spark_defaults(monkeypatch, tmp_path):
    from linkage.spark import _local_cores, resolve_master

    monkeypatch.delenv("SPARK_MASTER", raising=False)
    monkeypatch.delenv("SPARK_HOME", raising=False)
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path))
    assert resolve_master(None) == ("local[*]", "default")
    (tmp_path / "spark-defaults.conf").write_text("# comment\nspark.master   spark://head:7077\n")
    assert resolve_master(None) == ("spark://head:7077", "spark-defaults.conf")
    monkeypatch.setenv("SPARK_MASTER", "local[3]")
    assert resolve_master(None) == ("local[3]", "SPARK_MASTER")
    assert resolve_master("yarn") == ("yarn", "--spark-master")
    assert (_local_cores("local"), _local_cores("local[3]"), _local_cores("local[2,4]")) == (1, 3, 2)
    assert _local_cores("local[*]") == (os.cpu_count() or 1)
