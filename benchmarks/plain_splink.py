"""A plain Splink 5 baseline: light cleaning, standard comparisons, EM, predict at p >= 0.5, connected components.

Deliberately straightforward (what a Splink user would write in an afternoon, configured as in the
project's Splink 5 brief §1-3), and independent of the ``linkage`` package:

* cleaning: lower case, HTML entities decoded, punctuation to spaces (title, venue); author surnames
  (``Last, First`` or ``First Last``, split on `` and ``, ``;`` or ``,``); the year's four digits; the first
  page; the volume's digits; DOIs that look like DOIs (``10.NNNN/...``);
* comparisons: title Jaro-Winkler 0.95/0.88, author surnames array intersection 3/2/1, year exact,
  venue Jaro-Winkler 0.9, first page, volume and DOI exact;
* blocking: DOI, title[1:20], first author + year;
* training: prior from DOI / title+year rules (recall 0.7), u by random sampling (max_pairs 1e6, seed 1),
  EM on title[1:20] blocks then on first-author+year blocks; a step that cannot run on tiny inputs is
  skipped and Splink's defaults stand (reported in ``warnings``);
* prediction at match probability >= 0.5 and connected components at 0.5.

Several sources are linked with ``link_and_dedupe`` (as the project's default does); one source is
deduplicated.

    python -m benchmarks.plain_splink records PEER_RECORDS.csv OUT.json
    python -m benchmarks.plain_splink cases CASES.json OUT.json
"""

from __future__ import annotations

import html
import json
import logging
import re
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

_PUNCT = re.compile(r"[^0-9a-z]+")
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")


def _text(v) -> str | None:
    if v is None or (isinstance(v, float) and v != v):
        return None
    s = _PUNCT.sub(" ", html.unescape(str(v)).lower()).strip()
    return s or None


def _surnames(v) -> list[str]:
    if v is None or not str(v).strip():
        return []
    s = html.unescape(str(v))
    if " and " in s or ";" in s:
        names = re.split(r"\s+and\s+|;", s)
    else:
        names = s.split(",")
    out = []
    for n in names:
        n = n.strip()
        if not n:
            continue
        part = n.split(",")[0] if "," in n else n.split()[-1]
        part = _PUNCT.sub("", part.lower())
        if part:
            out.append(part)
    return out


def clean(df: pd.DataFrame) -> pd.DataFrame:
    """The light cleaning of the baseline (one row per record, ``unique_id`` = ``uid``)."""
    venue = [j if str(j).strip() else b for j, b in zip(df["journal"], df["booktitle"], strict=True)]
    out = pd.DataFrame({
        "unique_id": df["uid"].astype(str),
        "source_dataset": df["source"].astype(str),
        "title": [_text(t) for t in df["title"]],
        "author_surnames": [_surnames(a) for a in df["author"]],
        "year": [(m.group(1) if (m := _YEAR.search(str(y))) else None) for y in df["year"]],
        "venue": [_text(v) for v in venue],
        "page_first": [(m.group(0) if (m := re.search(r"\d+", str(p))) else None) for p in df["pages"]],
        "volume": [(m.group(0) if (m := re.search(r"\d+", str(v))) else None) for v in df["volume"]],
        "doi": [(m.group(0).lower().rstrip(".") if (m := _DOI.search(str(d))) else None) for d in df["doi"]],
    })
    out["first_author"] = [a[0] if a else None for a in out["author_surnames"]]
    out["author_surnames"] = [a if a else None for a in out["author_surnames"]]
    return out


def _settings(link_type: str):
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type=link_type,
        comparisons=[
            cl.JaroWinklerAtThresholds("title", [0.95, 0.88]),
            cl.ArrayIntersectAtSizes("author_surnames", [3, 2, 1]),
            cl.ExactMatch("year"),
            cl.JaroWinklerAtThresholds("venue", [0.9]),
            cl.ExactMatch("page_first"),
            cl.ExactMatch("volume"),
            cl.ExactMatch("doi"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("doi"),
            block_on("substr(title, 1, 20)"),
            block_on("first_author", "year"),
        ],
        retain_intermediate_calculation_columns=False,
    )


def run_records(df: pd.DataFrame) -> dict:
    """Train and predict on ``df`` (PEER columns); returns clusters, edges, timings and warnings."""
    from splink import DuckDBAPI, Linker, block_on
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    timings: dict[str, float] = {}
    notes: list[str] = []
    t = time.perf_counter()
    data = clean(df)
    timings["clean"] = time.perf_counter() - t
    sources = list(dict.fromkeys(data["source_dataset"]))
    db = DuckDBAPI()
    if len(sources) > 1:
        link_type = "link_and_dedupe"
        sdfs = [db.register(data[data["source_dataset"] == s].reset_index(drop=True), dataset_display_name=s)
                for s in sources]
    else:
        link_type = "dedupe_only"
        sdfs = db.register(data, dataset_display_name=sources[0])
    linker = Linker(sdfs, _settings(link_type), log_level=logging.ERROR)

    def step(name, fn):
        t0 = time.perf_counter()
        try:
            fn()
        except Exception as exc:  # tiny inputs: keep Splink's defaults for this step
            notes.append(f"{name} skipped: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
        timings[name] = time.perf_counter() - t0

    step("prior", lambda: linker.training.estimate_probability_two_random_records_match(
        [block_on("doi"), block_on("title", "year")], recall=0.7))
    step("u", lambda: linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1))
    step("em_title", lambda: linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("substr(title, 1, 20)")))
    step("em_author_year", lambda: linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_author", "year")))
    t0 = time.perf_counter()
    pred = linker.inference.predict(threshold_match_probability=0.5)
    edges = pred.as_pandas_dataframe()
    timings["predict"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    nodes = data[["unique_id"]]
    edge_tab = edges[["unique_id_l", "unique_id_r", "match_probability"]]
    clusters = cluster_pairwise_predictions_at_threshold(
        nodes, edge_tab, db_api=DuckDBAPI(), node_id_column_name="unique_id",
        edge_id_column_name_left="unique_id_l", edge_id_column_name_right="unique_id_r",
        threshold_match_probability=0.5).as_pandas_dataframe()
    timings["cluster"] = time.perf_counter() - t0
    return {
        "link_type": link_type,
        "clusters": dict(zip(clusters["unique_id"].astype(str), clusters["cluster_id"].astype(str), strict=True)),
        "edges": [[a, b] for a, b in zip(edges["unique_id_l"].astype(str), edges["unique_id_r"].astype(str), strict=True)],
        "n_scored_above": len(edges),
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "warnings": notes,
    }


def _peer_frame(records: list[dict], source: str) -> pd.DataFrame:
    cols = ["title", "author", "year", "journal", "booktitle", "pages", "volume", "doi"]
    rows = [{**{c: r.get(c, "") for c in cols}, "uid": str(r["ID"]), "source": source} for r in records]
    return pd.DataFrame(rows)


def run_cases(cases: list[dict]) -> dict:
    out = {}
    notes = {}
    for c in cases:
        try:
            res = run_records(_peer_frame(c["records"], "pair_case"))
            a, b = (str(r["ID"]) for r in c["records"])
            out[c["case_id"]] = res["clusters"].get(a) == res["clusters"].get(b)
            if res["warnings"]:
                notes[c["case_id"]] = res["warnings"]
        except Exception as exc:
            out[c["case_id"]] = None
            notes[c["case_id"]] = [f"failed: {type(exc).__name__}: {str(exc)[:200]}"]
    return {"cases": out, "warnings": notes}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3 or argv[0] not in ("records", "cases"):
        print(__doc__, file=sys.stderr)  # noqa: T201
        return 2
    warnings.filterwarnings("ignore")
    logging.getLogger("splink").setLevel(logging.ERROR)
    mode, inp, outp = argv
    t = time.perf_counter()
    if mode == "records":
        res = run_records(pd.read_csv(inp, dtype=str, keep_default_na=False))
    else:
        res = run_cases(json.loads(Path(inp).read_text(encoding="utf-8")))
    res["seconds"] = round(time.perf_counter() - t, 3)
    Path(outp).write_text(json.dumps(res), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
