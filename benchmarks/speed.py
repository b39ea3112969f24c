"""Speed and memory at scale: this project end to end vs a bare Splink 5 run on the same generated data.

    python -m benchmarks.speed                                  # sizes 10k and 100k (default)
    python -m benchmarks.speed --sizes 10000,100000,1000000     # 1M too (slow: tens of minutes)

For each size, ``benchmarks/generate.py`` writes three sources (Crossref CSV, arXiv and Papers-with-Code
JSON Lines, with the seed case's corruptions) built from the real records in ``benchmarks/data``
(cached in ``benchmarks/runs/speed/data-N``). Then, each in a measured subprocess:

* this project: ``python -m linkage run crossref.csv arxiv.jsonl pwc.jsonl --out DIR --no-report`` with
  the shipped defaults (read, normalise, train, score, cluster, merge, write); stage timings from
  ``run.json``;
* bare Splink (``benchmarks/bare_splink.py``): the brief's §6 configuration (five blocking rules, u by
  random sampling with max_pairs 1e7, two EM sessions, predict, cluster).

Reports wall time, stage timings, pairs scored and pairs per second, peak memory (max RSS), the ratio of
the two wall times (target: ours ≤ 1.5× bare Splink) and the 4 GB target at 1M, plus each run's
cluster F1 against the generator's truth. Writes the "speed" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

from .measure import run_measured
from .report import markdown_table, write_section

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "benchmarks"
SOURCES = ("crossref.csv", "arxiv.jsonl", "pwc.jsonl")
SEED = 7
TITLE = "Speed and memory at scale: this project vs bare Splink"


def log(msg: str) -> None:
    print(msg, flush=True)  # noqa: T201


def ensure_data(n: int, folder: Path) -> tuple[dict, float]:
    """Generate (or reuse) the data of size ``n``; returns its summary and the generation seconds."""
    from .generate import generate

    gen_sha = hashlib.sha256((HERE / "generate.py").read_bytes()).hexdigest()[:16]
    stamp = folder / "stamp.json"
    want = {"n": n, "seed": SEED, "generator": gen_sha}
    if stamp.exists():
        old = json.loads(stamp.read_text())
        if {k: old.get(k) for k in want} == want and all((folder / s).exists() for s in SOURCES):
            return old["summary"], old.get("seconds", 0.0)
    if folder.exists():
        shutil.rmtree(folder)
    t = time.perf_counter()
    summary = generate(n, folder, SEED)
    secs = round(time.perf_counter() - t, 1)
    stamp.write_text(json.dumps({**want, "summary": summary, "seconds": secs}))
    return summary, secs


def _cluster_f1(folder: Path, clusters: pd.DataFrame) -> float | None:
    """Cluster-pairwise F1 of ``clusters`` (unique_id "source:id", cluster_id) against truth.csv."""
    from linkage.evaluation import cluster_metrics, truth_from_clusters

    truth = pd.read_csv(folder / "truth.csv", dtype=str)
    uid = truth["source"] + ":" + truth["id"]
    records = pd.DataFrame({"unique_id": uid, "source": truth["source"]})
    t = truth_from_clusters(records, pd.Series(truth["entity"].to_numpy(), index=uid.to_numpy()))
    return float(cluster_metrics(records, clusters, t)["f1"])


def _load() -> float | None:
    """The machine's 1-minute load average (other processes share the 2 cores)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def stages_from_log(log: Path) -> dict[str, float]:
    """Stage seconds from the CLI's progress lines ("✓ read   100,000 rows   2.59 s")."""
    out = {}
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return out
    for m in re.finditer(r"✓ (\w+)\s+(?:[\d,]+ rows)?\s+([\d.]+) s", text):
        out[m.group(1)] = float(m.group(2))
    return out


def run_project(data: Path, out: Path, timeout: float, memory_limit_mb: float | None = None) -> dict:
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, "-m", "linkage", "run", *[str(data / s) for s in SOURCES], "--out", str(out), "--no-report"]
    load0 = _load()
    m = run_measured(cmd, out.with_suffix(".log"), cwd=ROOT, timeout=timeout, memory_limit_mb=memory_limit_mb)
    res = {"ok": m.ok, "seconds": round(m.seconds, 1), "peak_mb": round(m.max_rss_mb), "error": None if m.ok else m.tail(),
           "load": [load0, _load()]}
    if not m.ok:
        res["timings"] = stages_from_log(m.log)  # the stages that finished before it failed
        return res
    info = json.loads((out / "run.json").read_text())
    res["timings"] = info.get("timings", {})
    res["training_timings"] = (info.get("training") or {}).get("timings", {})
    res["peak_by_stage"] = info.get("peak_memory_mb", {})
    res["counts"] = info.get("counts", {})
    rec = pd.read_parquet(out / "records.parquet", columns=["unique_id", "source", "source_id"])
    order = [i["source"] for i in info.get("inputs", [])]
    names = {s: SOURCES[i].split(".")[0] for i, s in enumerate(order) if i < len(SOURCES)}
    cl = pd.read_parquet(out / "clusters.parquet", columns=["unique_id", "cluster_id"])
    uid = dict(zip(rec["unique_id"], [f"{names.get(s, s)}:{i}" for s, i in zip(rec["source"], rec["source_id"], strict=True)], strict=True))
    cl["unique_id"] = cl["unique_id"].map(uid)
    try:
        res["f1"] = _cluster_f1(data, cl)
    except Exception as exc:  # scoring is a nicety here
        res["f1_error"] = f"{type(exc).__name__}: {exc}"
    return res


def run_bare(data: Path, out: Path, timeout: float, max_pairs: float, memory_limit_mb: float | None = None) -> dict:
    outj = out / "bare.json"
    out.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "benchmarks.bare_splink", str(data), str(outj), "--max-pairs", str(max_pairs)]
    load0 = _load()
    m = run_measured(cmd, out / "bare.log", cwd=ROOT, timeout=timeout, memory_limit_mb=memory_limit_mb)
    res = {"ok": m.ok, "seconds": round(m.seconds, 1), "peak_mb": round(m.max_rss_mb), "error": None if m.ok else m.tail(),
           "load": [load0, _load()]}
    if m.ok:
        d = json.loads(outj.read_text())
        res.update({"timings": d["timings"], "pairs_scored": d["pairs_scored"], "clusters": d["clusters"]})
        try:
            res["f1"] = _cluster_f1(data, pd.read_parquet(out / "bare_clusters.parquet"))
        except Exception as exc:
            res["f1_error"] = f"{type(exc).__name__}: {exc}"
    return res


def _fmt_load(load) -> str:
    return "→".join(f"{x:.1f}" for x in load) if load and None not in load else "?"


GENERATOR_NOTE = (
    "Generator at scale: titles are walks on a word-bigram chain of ~15k real titles from a handful of "
    "single-topic sets (four systematic-review searches, MIS Quarterly, two database venues, Cora). Left "
    "alone, that material gives a 1M-record corpus the title-prefix concentration of one topic: 63M pairs "
    "share a 20-character title opening at 1M records (664k at 100k; largest block 7,362 records, 'human "
    "papillomavirus'), and the bare Splink run is killed above 12 GB. `benchmarks/generate.py` now "
    "interpolates the chain with a unigram draw of real title words (half the titles open mid-title, each "
    "step leaves the chain with probability 0.2) and lets at most 40 works share a 20-character opening "
    "(the real sets hold up to 7 per 2.5k titles on DBLP-ACM and 76 per 1.2k on one review's search). At "
    "1M records: 4.3M title[1:20] pairs (largest block 74); authors, duplicates and corruptions are "
    "unchanged (DOI pairs 87k, first author + last title word 374k, before and after)."
)


def _k(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else (f"{n // 1000}k" if n % 1000 == 0 else str(n))


def render(rows: list[dict], max_pairs: float) -> str:
    stage_names = []
    for r in rows:
        for k in (r["project"].get("timings") or {}):
            if k not in stage_names and k != "total":
                stage_names.append(k)
    main_rows, stage_rows, train_rows, peak_rows = [], [], [], []
    for r in rows:
        p, b = r["project"], r.get("bare") or {}
        n = r["summary"]["records"]
        ratio = p["seconds"] / b["seconds"] if p.get("ok") and b.get("ok") else None
        pairs = (p.get("counts") or {}).get("pairs_scored")
        t = p.get("timings") or {}
        score_t = t.get("score", t.get("train"))
        main_rows.append([
            f"{n:,}", f"{r['summary']['works']:,}",
            f"{p['seconds']:.1f}" if p.get("ok") else f"failed after {p['seconds']:.0f}", f"{p['peak_mb']:,}",
            f"{pairs:,}" if pairs is not None else "", f"{pairs / score_t:,.0f}" if pairs and score_t else "",
            f"{p['f1']:.3f}" if p.get("f1") is not None else "",
            (f"{b['seconds']:.1f}" if b.get("ok") else ("failed" if b else "not run")),
            f"{b['peak_mb']:,}" if b.get("ok") else "", f"{b['pairs_scored']:,}" if b.get("ok") else "",
            f"{b['f1']:.3f}" if b.get("f1") is not None else "",
            f"**{ratio:.2f}×**" if ratio is not None else "–",
            " / ".join(_fmt_load(x.get("load")) for x in (p, b) if x),
        ])
        pk = p.get("peak_by_stage") or {}
        peak_rows.append([f"{n:,}"] + [f"{pk[s]:,.0f}" if pk.get(s) is not None else "" for s in stage_names])
        tt = p.get("training_timings") or {}
        train_rows.append([f"{n:,}"] + [f"{tt[k]:.1f}" if k in tt else "" for k in ("prior", "u", "em", "predict")])
        stage_rows.append([f"{n:,}"] + [f"{t[s]:.1f}" if s in t else "" for s in stage_names]
                          + [f"{t['total']:.1f}" if "total" in t else ("failed" if not p.get("ok") else "")]
                          + ([f"{b['timings'].get(s, 0):.1f}" for s in ("read_prepare", "prior", "u", "em",
                                                                          "predict", "cluster")]
                             if b.get("ok") else [""] * 6))
    parts = [
        "Generated multi-source data (Crossref CSV + arXiv JSONL + Papers-with-Code JSONL built from the real "
        "records in `benchmarks/data`, with the seed case's corruptions; `benchmarks/generate.py`, seed 7). "
        "Both systems run in their own subprocess; time = wall seconds of that subprocess (start-up included), "
        "memory = its peak RSS. Ratio = this project / bare Splink (issue target ≤ 1.5×; peak ≤ 4 GB at 1M). "
        "Pairs/s = pairs scored ÷ seconds of the stage that scores them (`score` when run.json times it on its own, "
        "else `train`, which then includes training). F1 = cluster-pairwise F1 against the "
        "generator's truth.\n",
        markdown_table(["records", "works", "ours s", "ours peak MB", "ours pairs scored", "ours pairs/s", "ours F1",
                        "bare Splink s", "bare peak MB", "bare pairs", "bare F1", "ratio",
                        "load avg (ours / bare, start→end)"], main_rows),
        "\n### Stage timings (seconds)\n",
        markdown_table(["records", *[f"ours: {s}" for s in stage_names], "ours: total", "bare: read+prep", "bare: prior",
                        "bare: u", "bare: EM ×2", "bare: predict", "bare: cluster"], stage_rows),
        "\nInside this project's `train` stage (run.json `training.timings`; `predict` includes building the "
        "scoring linker and the pairs table):\n",
        markdown_table(["records", "prior", "u", "EM", "predict"], train_rows),
        "\nThis project's peak resident memory (MB) when each stage ended (run.json `peak_memory_mb`):\n",
        markdown_table(["records", *stage_names], peak_rows),
        "\n" + GENERATOR_NOTE,
    ]
    verdicts = []
    for r in rows:
        p, b = r["project"], r.get("bare") or {}
        n = r["summary"]["records"]
        if p.get("ok") and b.get("ok"):
            ratio = p["seconds"] / b["seconds"]
            verdicts.append(f"- {_k(n)}: ratio {ratio:.2f}× ({'meets' if ratio <= 1.5 else 'misses'} the ≤ 1.5× target)"
                            + (f"; peak {p['peak_mb'] / 1024:.2f} GB ({'meets' if p['peak_mb'] <= 4096 else 'misses'} "
                               f"the ≤ 4 GB target)" if n >= 1_000_000 else ""))
        elif not p.get("ok"):
            verdicts.append(f"- {_k(n)}: this project failed: {p.get('error')}")
        else:
            verdicts.append(f"- {_k(n)}: bare Splink {'failed: ' + str(b.get('error')) if b else 'not run'}")
    if not any(r["summary"]["records"] >= 1_000_000 for r in rows):
        verdicts.append("- 1M: not run in this section (add `--sizes 10000,100000,1000000`).")
    parts += ["\n### Targets\n", "\n".join(verdicts),
              f"\nBare Splink: u by random sampling with max_pairs {max_pairs:.0e}; its u step dominates at these "
              "sizes and does not grow with the row count (brief §6)."]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.speed", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated record counts (default 10000,100000)")
    ap.add_argument("--workdir", default=str(HERE / "runs" / "speed"))
    ap.add_argument("--no-bare", action="store_true", help="skip the bare Splink run")
    ap.add_argument("--max-pairs", type=float, default=1e7, help="bare Splink's u max_pairs (default 1e7)")
    ap.add_argument("--timeout", type=float, default=7200, help="seconds per subprocess")
    ap.add_argument("--memory-limit-mb", type=float, default=8192,
                    help="kill a run whose resident memory exceeds this (default 8192; the target is 4 GB at 1M)")
    ap.add_argument("--no-write", action="store_true", help="do not write the BENCHMARKS.md section")
    ap.add_argument("--render-only", action="store_true",
                    help="rewrite the section from the last results.json in --workdir without running anything")
    a = ap.parse_args(argv)
    sizes = [int(float(s)) for s in a.sizes.split(",") if s.strip()]
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    cmd = "python -m benchmarks.speed" + (f" --sizes {a.sizes}" if a.sizes != "10000,100000" else "") \
        + (" --no-bare" if a.no_bare else "") + (f" --max-pairs {a.max_pairs:g}" if a.max_pairs != 1e7 else "") \
        + (f" --memory-limit-mb {a.memory_limit_mb:g}" if a.memory_limit_mb != 8192 else "")
    if a.render_only:
        saved = json.loads((work / "results.json").read_text())
        rows = saved["rows"] if isinstance(saved, dict) else saved
        for r in rows:  # older results: recover the stages of failed runs from their logs
            if not r["project"].get("ok") and not r["project"].get("timings"):
                r["project"]["timings"] = stages_from_log(work / f"run-{r['summary']['records']}.log")
            rj = work / f"run-{r['summary']['records']}" / "run.json"
            if r["project"].get("ok") and rj.exists():  # and what older results did not keep
                info = json.loads(rj.read_text())
                r["project"].setdefault("peak_by_stage", info.get("peak_memory_mb", {}))
                r["project"].setdefault("training_timings", (info.get("training") or {}).get("timings", {}))
        meta = saved.get("meta", {}) if isinstance(saved, dict) else {}
        text = render(rows, a.max_pairs)
        if a.no_write:
            log(text)
        else:
            write_section("speed", TITLE, meta.get("command", cmd), text, date=meta.get("date"))
        return 0
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows = []
    for n in sizes:
        data = work / f"data-{n}"
        summary, gen_s = ensure_data(n, data)
        log(f"{n:,} records ({summary['works']:,} works; generated in {gen_s:.1f} s)")
        p = run_project(data, work / f"run-{n}", a.timeout, a.memory_limit_mb)
        log(f"  this project: {p['seconds']:.1f} s, peak {p['peak_mb']:,} MB"
            + (f", F1 {p['f1']:.3f}" if p.get("f1") is not None else "") + ("" if p["ok"] else f"  FAILED: {p['error']}"))
        row = {"summary": summary, "generate_seconds": gen_s, "project": p}
        if not a.no_bare:
            b = run_bare(data, work / f"bare-{n}", a.timeout, a.max_pairs, a.memory_limit_mb)
            row["bare"] = b
            log(f"  bare Splink:  {b['seconds']:.1f} s, peak {b['peak_mb']:,} MB"
                + (f", F1 {b['f1']:.3f}" if b.get("f1") is not None else "") + ("" if b["ok"] else f"  FAILED: {b['error']}"))
            if p["ok"] and b["ok"]:
                log(f"  ratio {p['seconds'] / b['seconds']:.2f}×")
        rows.append(row)
    (work / "results.json").write_text(json.dumps({"meta": {"command": cmd, "date": date}, "rows": rows}, indent=1,
                                                  default=str))
    if not a.no_write:
        p = write_section("speed", TITLE, cmd, render(rows, a.max_pairs), date=date)
        log(f"wrote the speed section of {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
