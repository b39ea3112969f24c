"""Reports: a self-contained HTML report built from a run folder (first version)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd


def write_report(run_dir: str | Path) -> Path:
    run_dir = Path(run_dir)
    info = json.loads((run_dir / "run.json").read_text())
    pairs = pd.read_parquet(run_dir / "pairs.parquet")
    t = info["threshold"]["match_weight"]
    linked = pairs[pairs["match_weight"] >= t]
    rows = "".join(
        f"<tr><td>{html.escape(r.unique_id_l)}</td><td>{html.escape(r.unique_id_r)}</td>"
        f"<td>{r.match_weight:.2f}</td></tr>" for r in linked.head(200).itertuples())
    body = (f"<h1>linkage report</h1><pre>{html.escape(json.dumps(info['counts'], indent=2))}</pre>"
            f"<table><tr><th>left</th><th>right</th><th>weight</th></tr>{rows}</table>")
    out = run_dir / "report.html"
    out.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>linkage report</title></head>"
                   f"<body>{body}</body></html>", encoding="utf-8")
    return out
