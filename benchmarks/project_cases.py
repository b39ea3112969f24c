"""Runs this project on pair cases: each case's two-record file through ``linkage.run`` with the shipped
default settings (no settings file, no labels, no report), one case at a time, in one process.

    python -m benchmarks.project_cases CASES.json OUT.json

CASES.json: ``[{"case_id", "path", "ids": [id_a, id_b], "out"}]``. Writes ``{"cases": {case_id: bool}}``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import warnings
from pathlib import Path

import pandas as pd


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)  # noqa: T201
        return 2
    warnings.filterwarnings("ignore")
    logging.getLogger("splink").setLevel(logging.ERROR)
    import linkage

    t = time.perf_counter()
    decisions, notes = {}, {}
    for c in json.loads(Path(argv[0]).read_text(encoding="utf-8")):
        try:
            r = linkage.run([c["path"]], out=c["out"], report=False)
            rec = pd.read_parquet(Path(c["out"]) / "records.parquet", columns=["unique_id", "source_id"])
            cl = pd.read_parquet(Path(c["out"]) / "clusters.parquet", columns=["unique_id", "cluster_id"])
            m = rec.merge(cl, on="unique_id").set_index("source_id")["cluster_id"]
            a, b = c["ids"]
            decisions[c["case_id"]] = bool(m[a] == m[b])
            w = r.info.get("training", {}).get("warnings") or []
            if w:
                notes[c["case_id"]] = [str(x)[:200] for x in w[:3]]
        except Exception as exc:
            decisions[c["case_id"]] = None
            notes[c["case_id"]] = [f"failed: {type(exc).__name__}: {str(exc)[:200]}"]
    res = {"cases": decisions, "warnings": notes, "seconds": round(time.perf_counter() - t, 3)}
    Path(argv[1]).write_text(json.dumps(res), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
