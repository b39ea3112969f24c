"""The bare Splink 5 run of the speed benchmark, configured as in the project's Splink 5 brief (§1 and §6).

Reads the generated files (``crossref.csv``, ``arxiv.jsonl``, ``pwc.jsonl``) with DuckDB, derives the
model's columns with a few SQL expressions (no normalisation beyond lower case and regexes), and runs:
five blocking rules (DOI, arXiv id, title[1:20], first author + title[1:6], first author + last title
word); prior from DOI / title+date rules; u by random sampling with ``max_pairs`` 1e7; two EM sessions
(title[1:20], DOI); predict every blocked pair; cluster at match probability 0.9.

    python -m benchmarks.bare_splink DATA_DIR OUT.json [--max-pairs 1e7]

Writes timings per step, counts and ``clusters.parquet`` beside OUT.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from pathlib import Path

PREP_SQL = r"""
CREATE TABLE papers AS
WITH cr AS (
  SELECT 'crossref:' || id AS unique_id, title,
         list_transform(string_split(coalesce(author, ''), ' and '), lambda x: lower(trim(split_part(x, ',', 1)))) AS au,
         TRY_CAST(published AS DATE) AS pub_date, doi, NULL::VARCHAR AS urls, journal AS venue
  FROM read_csv('{cr}', all_varchar = true, header = true)
), js AS (
  SELECT (CASE WHEN source LIKE '%ARXIV%' THEN 'arxiv:' ELSE 'pwc:' END) || id AS unique_id, title,
         list_transform(authors, lambda x: lower(regexp_extract(x, '(\S+)$'))) AS au,
         TRY_CAST(substr(publication_date, 1, 10) AS DATE) AS pub_date, doi,
         array_to_string(urls, ' ') AS urls, journal AS venue
  FROM read_json('{ax}', format = 'newline_delimited', columns = {cols})
  UNION ALL
  SELECT (CASE WHEN source LIKE '%ARXIV%' THEN 'arxiv:' ELSE 'pwc:' END) || id, title,
         list_transform(authors, lambda x: lower(regexp_extract(x, '(\S+)$'))),
         TRY_CAST(substr(publication_date, 1, 10) AS DATE), doi, array_to_string(urls, ' '), journal
  FROM read_json('{pw}', format = 'newline_delimited', columns = {cols})
), u AS (SELECT * FROM cr UNION ALL SELECT * FROM js)
SELECT unique_id,
       NULLIF(lower(trim(title)), '') AS title,
       NULLIF(list_filter(au, lambda x: x <> ''), []) AS author_surnames,
       NULLIF(list_filter(au, lambda x: x <> '')[1], '') AS first_author,
       NULLIF(regexp_extract(lower(trim(title)), '(\w+)\W*$', 1), '') AS title_last,
       pub_date,
       CASE WHEN regexp_matches(doi, '^10\.\d+/') THEN lower(doi) END AS doi,
       NULLIF(regexp_extract(urls, '(\d{{4}}\.\d{{4,5}})', 1), '') AS arxiv_id,
       NULLIF(lower(trim(venue)), '') AS venue
FROM u
"""
JSON_COLS = ("{id: 'VARCHAR', source: 'VARCHAR', authors: 'VARCHAR[]', title: 'VARCHAR', "
             "publication_date: 'VARCHAR', journal: 'VARCHAR', doi: 'VARCHAR', urls: 'VARCHAR[]'}")


def run(data: Path, out: Path, max_pairs: float = 1e7) -> dict:
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    t = {}
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute(PREP_SQL.format(cr=data / "crossref.csv", ax=data / "arxiv.jsonl", pw=data / "pwc.jsonl",
                                cols=JSON_COLS))
    n = con.execute("SELECT count(*) FROM papers").fetchall()[0][0]
    t["read_prepare"] = time.perf_counter() - t0
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("title", [0.95, 0.88]),
            cl.ArrayIntersectAtSizes("author_surnames", [3, 2, 1]),
            cl.AbsoluteDateDifferenceAtThresholds("pub_date", input_is_string=False, metrics=["day", "year"],
                                                  thresholds=[60, 2]),
            cl.ExactMatch("doi"), cl.ExactMatch("arxiv_id"),
            cl.ExactMatch("venue").configure(term_frequency_adjustments=True)],
        blocking_rules_to_generate_predictions=[
            block_on("doi"), block_on("arxiv_id"), block_on("substr(title, 1, 20)"),
            block_on("first_author", "substr(title, 1, 6)"), block_on("first_author", "title_last")],
    )
    db = DuckDBAPI(con)
    linker = Linker(db.register("papers"), settings, log_level=logging.ERROR)
    s = time.perf_counter()
    linker.training.estimate_probability_two_random_records_match(
        [block_on("doi"), block_on("title", "pub_date")], recall=0.7)
    t["prior"] = time.perf_counter() - s
    s = time.perf_counter()
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=1)
    t["u"] = time.perf_counter() - s
    s = time.perf_counter()
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("substr(title, 1, 20)"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("doi"))
    t["em"] = time.perf_counter() - s
    s = time.perf_counter()
    pred = linker.inference.predict()
    n_pairs = con.execute(f"SELECT count(*) FROM {pred.physical_name}").fetchall()[0][0]
    t["predict"] = time.perf_counter() - s
    s = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.9)
    n_clusters = con.execute(f"SELECT count(DISTINCT cluster_id) FROM {clusters.physical_name}").fetchall()[0][0]
    t["cluster"] = time.perf_counter() - s
    con.execute(f"COPY (SELECT unique_id, cluster_id FROM {clusters.physical_name}) TO "
                f"'{out.with_name('bare_clusters.parquet')}' (FORMAT parquet)")
    t["total"] = time.perf_counter() - t0
    return {"records": int(n), "pairs_scored": int(n_pairs), "clusters": int(n_clusters),
            "timings": {k: round(v, 3) for k, v in t.items()}, "max_pairs": max_pairs}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bare_splink")
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--max-pairs", type=float, default=1e7)
    a = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    logging.getLogger("splink").setLevel(logging.ERROR)
    out = Path(a.out)
    res = run(Path(a.data), out, a.max_pairs)
    out.write_text(json.dumps(res, indent=1))
    print(json.dumps(res))  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
