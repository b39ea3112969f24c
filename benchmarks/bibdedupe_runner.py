"""Runs bib-dedupe on the benchmark's records. Executed with the python of bib-dedupe's own virtual
environment (``benchmarks/.venv-bibdedupe``), so it imports nothing from this project.

bib-dedupe's documented pipeline: ``prep`` -> ``block`` -> ``match`` -> ``cluster`` (connected components
of the pairs labelled ``duplicate``; ``maybe`` pairs are left for manual review, i.e. not merged).

    python benchmarks/bibdedupe_runner.py records PEER_RECORDS.csv OUT.json
    python benchmarks/bibdedupe_runner.py cases CASES.json OUT.json
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd

FIELDS = ["ID", "ENTRYTYPE", "title", "author", "year", "journal", "booktitle", "volume", "number", "pages", "doi",
          "abstract"]


def _frame(df: pd.DataFrame) -> pd.DataFrame:
    """bib-dedupe's input: BibTeX-style columns; ``ID`` = the benchmark's uid; all-empty columns dropped."""
    out = pd.DataFrame({c: df[c] if c in df.columns else "" for c in FIELDS})
    if "uid" in df.columns:
        out["ID"] = df["uid"].astype(str)
    out = out.fillna("").astype(str)
    keep = [c for c in FIELDS if c in ("ID", "title", "author", "year") or (out[c].str.strip() != "").any()]
    return out[keep].reset_index(drop=True)


def dedupe(df: pd.DataFrame) -> dict:
    from bib_dedupe.bib_dedupe import block, cluster, match, prep

    timings = {}
    t = time.perf_counter()
    prepped = prep(df, verbosity_level=0)
    timings["prep"] = time.perf_counter() - t
    t = time.perf_counter()
    blocked = block(prepped, verbosity_level=0)
    timings["block"] = time.perf_counter() - t
    t = time.perf_counter()
    matched = match(blocked, verbosity_level=0)
    timings["match"] = time.perf_counter() - t
    t = time.perf_counter()
    sets = cluster(matched, verbosity_level=0)
    timings["cluster"] = time.perf_counter() - t
    clusters = {}
    for members in sets:
        cid = min(str(m) for m in members)
        for m in members:
            clusters[str(m)] = cid
    for i in df["ID"].astype(str):
        clusters.setdefault(i, i)
    if len(matched) and "duplicate_label" in matched.columns:
        dup = matched[matched["duplicate_label"] == "duplicate"]
        edges = [[str(a), str(b)] for a, b in zip(dup["ID_1"], dup["ID_2"], strict=True)]
        n_maybe = int((matched["duplicate_label"] == "maybe").sum())
    else:
        edges, n_maybe = [], 0
    return {"clusters": clusters, "edges": edges, "n_blocked_pairs": int(len(blocked)), "n_maybe": n_maybe,
            "timings": {k: round(v, 3) for k, v in timings.items()}}


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in ("records", "cases"):
        print(__doc__, file=sys.stderr)  # noqa: T201
        return 2
    mode, inp, outp = argv
    t = time.perf_counter()
    if mode == "records":
        res = dedupe(_frame(pd.read_csv(inp, dtype=str, keep_default_na=False)))
    else:
        decisions, notes = {}, {}
        for c in json.loads(Path(inp).read_text(encoding="utf-8")):
            try:
                df = _frame(pd.DataFrame(c["records"]).astype(str))
                r = dedupe(df)
                a, b = (str(x["ID"]) for x in c["records"])
                decisions[c["case_id"]] = r["clusters"][a] == r["clusters"][b]
                if r["n_maybe"]:
                    notes[c["case_id"]] = [f"{r['n_maybe']} maybe pair(s) left for manual review (not merged)"]
            except Exception as exc:  # a case bib-dedupe cannot process counts as 'not duplicate'
                decisions[c["case_id"]] = None
                notes[c["case_id"]] = [f"failed: {type(exc).__name__}: {str(exc)[:200]}"]
        res = {"cases": decisions, "warnings": notes}
    from importlib.metadata import version

    import bib_dedupe  # noqa: F401

    res["version"] = version("bib-dedupe")
    res["seconds"] = round(time.perf_counter() - t, 3)
    Path(outp).write_text(json.dumps(res), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
