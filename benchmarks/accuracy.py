"""Accuracy on real labelled data: this project vs bib-dedupe 0.11 vs a plain Splink 5 model, side by side.

    python -m benchmarks.accuracy                       # everything; writes the "accuracy" section of BENCHMARKS.md
    python -m benchmarks.accuracy --datasets cora,stroke --no-write

For each data set in ``benchmarks/data`` (see ``benchmarks/datasets.py``) it runs, each in its own
measured subprocess:

1. this project: ``python -m linkage run INPUTS --out DIR`` with the shipped default settings (no
   ``--settings``, no labels; report included); pair cases through ``linkage.run`` one case at a time;
2. bib-dedupe 0.11 (prep, block, match, cluster) in its own virtual environment
   ``benchmarks/.venv-bibdedupe``, created and installed by this command from
   ``benchmarks/bibdedupe-requirements.txt``;
3. the plain Splink 5 baseline of ``benchmarks/plain_splink.py``.

It scores every system the same way: cluster-level pairwise precision/recall/F1 (every pair of records
in one cluster is a predicted pair; DBLP-ACM counts only pairs from different sources) with
``linkage.evaluation.cluster_metrics``, edge-level P/R/F1 of the pairs each system linked before
clustering, the false-positive count, wall time and peak memory. Run folders and raw results land in
``benchmarks/runs/accuracy/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from .datasets import BY_KEY, DATASETS, Case, Dataset, true_pairs, write_case_input
from .measure import Measured, run_measured
from .report import markdown_table, write_section

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "benchmarks"
BD_VENV = HERE / ".venv-bibdedupe"
BD_REQUIREMENTS = HERE / "bibdedupe-requirements.txt"
SYSTEMS = ("project", "bib-dedupe", "splink")
SYSTEM_NAMES = {"project": "this project (defaults)", "bib-dedupe": "bib-dedupe 0.11",
                "splink": "plain Splink 5 (p ≥ 0.5)"}
TIMEOUT = 900
MEMORY_LIMIT_MB = 8192  # a runaway run is killed before it can push the shared machine into OOM


def log(msg: str) -> None:
    print(msg, flush=True)  # noqa: T201


# ---------------------------------------------------------------------------------------------------------
# bib-dedupe's environment
# ---------------------------------------------------------------------------------------------------------


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_bibdedupe_env(venv: Path = BD_VENV) -> Path:
    """Create ``benchmarks/.venv-bibdedupe`` and install the pinned bib-dedupe into it (once)."""
    stamp = venv / ".installed"
    want = hashlib.sha256(BD_REQUIREMENTS.read_bytes()).hexdigest()
    py = _venv_python(venv)
    if stamp.exists() and stamp.read_text().strip() == want and py.exists():
        return py
    log(f"installing bib-dedupe into {venv.relative_to(ROOT)} (once) ...")
    if venv.exists():
        shutil.rmtree(venv)
    base = getattr(sys, "_base_executable", None) or sys.executable
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r",
                    str(BD_REQUIREMENTS)], check=True)
    subprocess.run([str(py), "-c", "import bib_dedupe.bib_dedupe"], check=True)
    stamp.write_text(want)
    return py


def bibdedupe_version(py: Path) -> str:
    out = subprocess.run([str(py), "-c", "from importlib.metadata import version; print(version('bib-dedupe'))"],
                         capture_output=True, text=True)
    return out.stdout.strip() or "?"


# ---------------------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------------------


def score_clusters(truth: pd.Series, clusters: dict[str, str], cross_source: bool) -> dict:
    """Cluster-level pairwise metrics with the project's scorer (records missing in ``clusters`` = singletons)."""
    from linkage.evaluation import cluster_metrics, truth_from_clusters

    uids = truth.index.astype(str)
    records = pd.DataFrame({"unique_id": uids, "source": uids.str.split(":", n=1).str[0]})
    cl = pd.DataFrame({"unique_id": uids, "cluster_id": [clusters.get(u, "__self__" + u) for u in uids]})
    t = truth_from_clusters(records, truth)
    m = cluster_metrics(records, cl, t, cross_source=cross_source)
    return {k: m[k] for k in ("precision", "recall", "f1", "tp", "fp", "fn", "pred_pairs", "true_pairs")}


def score_edges(truth: pd.Series, edges: list[list[str]], cross_source: bool) -> dict:
    """P/R/F1 of the linked pairs themselves (before clustering); recall over all true pairs."""
    ent = truth.to_dict()
    seen = set()
    tp = fp = 0
    for a, b in edges:
        if a == b:
            continue
        key = (a, b) if a < b else (b, a)
        if key in seen:
            continue
        seen.add(key)
        if cross_source and a.split(":", 1)[0] == b.split(":", 1)[0]:
            continue
        if ent.get(a, "__a") == ent.get(b, "__b"):
            tp += 1
        else:
            fp += 1
    n_true = true_pairs(truth, cross_source)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / n_true if n_true else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "tp": tp, "fp": fp,
            "pred_pairs": tp + fp}


def score_cases(cases: list[Case], decisions: dict[str, bool | None]) -> dict:
    tp = fp = fn = tn = failed = 0
    wrong = []
    for c in cases:
        d = decisions.get(c.case_id)
        if d is None:
            failed += 1
        pred = bool(d)
        if pred and c.expected:
            tp += 1
        elif pred and not c.expected:
            fp += 1
            wrong.append(c.case_id)
        elif c.expected:
            fn += 1
            wrong.append(c.case_id)
        else:
            tn += 1
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"accuracy": (tp + tn) / len(cases) if cases else 0.0, "correct": tp + tn, "cases": len(cases),
            "tp": tp, "fp": fp, "fn": fn, "tn": tn, "failed": failed, "precision": p, "recall": r,
            "f1": 2 * p * r / (p + r) if p + r else 0.0, "wrong": wrong}


# ---------------------------------------------------------------------------------------------------------
# Running the systems
# ---------------------------------------------------------------------------------------------------------


def _measure_info(m: Measured) -> dict:
    return {"ok": m.ok, "returncode": m.returncode, "seconds": round(m.seconds, 2),
            "peak_mb": round(m.max_rss_mb, 1), "timed_out": m.timed_out,
            "error": None if m.ok else (("timed out; " if m.timed_out else "") + m.tail())}


def _project_records(ds: Dataset, prep, wd: Path) -> dict:
    out = wd / "project"
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, "-m", "linkage", "run", *[str(p) for _, p in prep.inputs], "--out", str(out)]
    m = run_measured(cmd, wd / "project.log", cwd=ROOT, timeout=TIMEOUT, memory_limit_mb=MEMORY_LIMIT_MB)
    res = _measure_info(m)
    res["command"] = "linkage run " + " ".join(p.name for _, p in prep.inputs)
    if not m.ok:
        if m.timed_out or not ((out / "run.json").exists() and (out / "clusters.parquet").exists()):
            return res
        # the run folder was written and a later stage (the HTML report) failed: score what was written
        res["warnings"] = [f"exit code {m.returncode} after the run folder was written: {m.tail(1)}"]
        res["ok"], res["error"] = True, None
    info = json.loads((out / "run.json").read_text())
    rec = pd.read_parquet(out / "records.parquet", columns=["unique_id", "source", "source_id"])
    order = [i["source"] for i in info.get("inputs", [])]
    src_map = {s: prep.inputs[i][0] for i, s in enumerate(order) if i < len(prep.inputs)}
    uid = pd.Series([f"{src_map.get(s, s)}:{str(i).strip()}" for s, i in zip(rec["source"], rec["source_id"], strict=True)],
                    index=rec["unique_id"].to_numpy())
    unresolved = int((~uid.isin(prep.truth.index)).sum())
    if unresolved:
        res.setdefault("warnings", []).append(f"{unresolved} project records did not map to benchmark ids")
    cl = pd.read_parquet(out / "clusters.parquet", columns=["unique_id", "cluster_id"])
    res["clusters"] = dict(zip(uid.reindex(cl["unique_id"]).astype(str), cl["cluster_id"].astype(str), strict=True))
    thr = (info.get("threshold") or {}).get("match_weight")
    pairs = pd.read_parquet(out / "pairs.parquet", columns=["unique_id_l", "unique_id_r", "match_weight"])
    if thr is not None:
        pairs = pairs[pairs["match_weight"] >= float(thr)]
    res["edges"] = [[uid.get(a, a), uid.get(b, b)] for a, b in zip(pairs["unique_id_l"], pairs["unique_id_r"], strict=True)]
    res["threshold_match_weight"] = thr
    res["stage_timings"] = info.get("timings", {})
    res["uid_map"] = uid.to_dict()
    return res


def _peer_records(system: str, py: Path | None, peer_csv: Path, wd: Path) -> dict:
    outj = wd / f"{system}.json"
    if system == "bib-dedupe":
        cmd = [str(py), str(HERE / "bibdedupe_runner.py"), "records", str(peer_csv), str(outj)]
    else:
        cmd = [sys.executable, "-m", "benchmarks.plain_splink", "records", str(peer_csv), str(outj)]
    m = run_measured(cmd, wd / f"{system}.log", cwd=ROOT, timeout=TIMEOUT, memory_limit_mb=MEMORY_LIMIT_MB)
    res = _measure_info(m)
    if m.ok:
        data = json.loads(outj.read_text())
        res.update({k: data[k] for k in ("clusters", "edges") if k in data})
        res["stage_timings"] = data.get("timings", {})
        if data.get("warnings"):
            res["warnings"] = data["warnings"]
        if "n_maybe" in data:
            res["n_maybe"] = data["n_maybe"]
    return res


def _run_cases(ds: Dataset, systems: list[str], py: Path | None, wd: Path) -> dict:
    cases = ds.cases()
    proj_spec, peer_spec = [], []
    for n, c in enumerate(cases):
        cdir = wd / "cases" / f"{n:03d}"
        path = write_case_input(c, cdir)
        proj_spec.append({"case_id": c.case_id, "path": str(path), "ids": list(c.ids), "out": str(cdir / "run")})
        peer_spec.append({"case_id": c.case_id, "records": c.peer_records})
    (wd / "project_cases.json").write_text(json.dumps(proj_spec, indent=1))
    (wd / "peer_cases.json").write_text(json.dumps(peer_spec, indent=1))
    results = {}
    for system in systems:
        outj = wd / f"{system}.json"
        if system == "project":
            cmd = [sys.executable, "-m", "benchmarks.project_cases", str(wd / "project_cases.json"), str(outj)]
        elif system == "bib-dedupe":
            cmd = [str(py), str(HERE / "bibdedupe_runner.py"), "cases", str(wd / "peer_cases.json"), str(outj)]
        else:
            cmd = [sys.executable, "-m", "benchmarks.plain_splink", "cases", str(wd / "peer_cases.json"), str(outj)]
        m = run_measured(cmd, wd / f"{system}.log", cwd=ROOT, timeout=TIMEOUT, memory_limit_mb=MEMORY_LIMIT_MB)
        res = _measure_info(m)
        if m.ok:
            data = json.loads(outj.read_text())
            res["decisions"] = data["cases"]
            res["case_warnings"] = data.get("warnings", {})
            res["metrics"] = score_cases(cases, data["cases"])
        results[system] = res
        _say(ds, system, res)
    return {"kind": "cases", "n_cases": len(cases), "n_positive": sum(c.expected for c in cases),
            "cases": [{"case_id": c.case_id, "expected": c.expected, "note": c.note} for c in cases],
            "systems": results}


def _say(ds: Dataset, system: str, res: dict) -> None:
    if not res.get("ok"):
        log(f"  {system:<10} FAILED after {res['seconds']:.1f} s: {res.get('error')}")
        return
    m = res.get("metrics") or {}
    if "accuracy" in m:
        log(f"  {system:<10} accuracy {m['correct']}/{m['cases']}  ({res['seconds']:.1f} s, {res['peak_mb']:.0f} MB)")
    else:
        log(f"  {system:<10} cluster F1 {m['cluster']['f1']:.4f} (P {m['cluster']['precision']:.4f} "
            f"R {m['cluster']['recall']:.4f}, FP {m['cluster']['fp']})  ({res['seconds']:.1f} s, {res['peak_mb']:.0f} MB)")


def _error_examples(truth: pd.Series, res: dict, peer: pd.DataFrame, cross: bool, path: Path, n: int = 4) -> dict:
    """The project's cluster-level false positives/negatives (all written to ``path``; a few returned)."""
    from linkage.evaluation import error_pairs, truth_from_clusters

    uids = truth.index.astype(str)
    records = pd.DataFrame({"unique_id": uids, "source": uids.str.split(":", n=1).str[0]})
    cl = pd.DataFrame({"unique_id": uids, "cluster_id": [res["clusters"].get(u, "__self__" + u) for u in uids]})
    ep = error_pairs(records, cl, truth_from_clusters(records, truth), cross_source=cross, limit=2000)
    title = dict(zip(peer["uid"], peer["title"], strict=True))
    year = dict(zip(peer["uid"], peer["year"], strict=True))
    rows = []
    for kind, df in (("FP", ep.false_positives), ("FN", ep.false_negatives)):
        for a, b in zip(df["unique_id_l"], df["unique_id_r"], strict=True):
            rows.append({"kind": kind, "uid_l": a, "uid_r": b, "title_l": title.get(a, ""), "title_r": title.get(b, ""),
                         "year_l": year.get(a, ""), "year_r": year.get(b, "")})
    pd.DataFrame(rows).to_csv(path, index=False)
    ex: dict[str, list] = {"FP": [], "FN": []}
    seen = set()
    for r in rows:  # a few distinct-looking examples of each kind
        key = (r["kind"], str(r["title_l"]).lower()[:60], str(r["title_r"]).lower()[:60])
        if key in seen or len(ex[r["kind"]]) >= n:
            continue
        seen.add(key)
        ex[r["kind"]].append(r)
    return ex


def run_dataset(ds: Dataset, systems: list[str], py: Path | None, workroot: Path) -> dict:
    wd = workroot / ds.key
    if wd.exists():
        shutil.rmtree(wd)
    wd.mkdir(parents=True)
    log(f"{ds.title} ({ds.key})")
    if ds.kind == "cases":
        return _run_cases(ds, systems, py, wd)
    prep = ds.prepare(wd)
    peer_csv = wd / "peer_records.csv"
    prep.peer_records.to_csv(peer_csv, index=False)
    n_true = true_pairs(prep.truth, ds.cross_source)
    results = {}
    for system in systems:
        res = _project_records(ds, prep, wd) if system == "project" else _peer_records(system, py, peer_csv, wd)
        if res.get("ok"):
            res["metrics"] = {"cluster": score_clusters(prep.truth, res["clusters"], ds.cross_source),
                              "edge": score_edges(prep.truth, res["edges"], ds.cross_source)}
            if system == "project":
                try:
                    res["error_examples"] = _error_examples(prep.truth, res, prep.peer_records, ds.cross_source,
                                                            wd / "project_errors.csv")
                except Exception as exc:  # examples are a nicety; never fail the benchmark on them
                    res["error_examples"] = {"error": f"{type(exc).__name__}: {exc}"}
        for k in ("clusters", "edges", "uid_map"):
            res.pop(k, None)
        results[system] = res
        _say(ds, system, res)
    return {"kind": "records", "n_records": len(prep.peer_records), "n_sources": prep.peer_records["source"].nunique(),
            "true_pairs": n_true, "n_entities": int(prep.truth.nunique()), "cross_source": ds.cross_source,
            "systems": results}


# ---------------------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------------------


def _f(x, d=3) -> str:
    return "–" if x is None else f"{x:.{d}f}"


def headline(res: dict) -> tuple[float | None, str]:
    """The headline number of one system on one data set: cluster F1 or case accuracy."""
    if not res or not res.get("ok") or "metrics" not in res:
        return None, "failed"
    m = res["metrics"]
    return (m["accuracy"], "accuracy") if "accuracy" in m else (m["cluster"]["f1"], "f1")


def verdict(results: dict) -> tuple[str, bool | None]:
    """Whether this project is ahead of both peers on a data set (ties count as not behind)."""
    ours, _ = headline(results.get("project"))
    peers = {s: headline(results.get(s))[0] for s in ("bib-dedupe", "splink") if s in results}
    if ours is None:
        return "project failed", False
    if not peers:
        return "no peers run", None
    behind = [SYSTEM_NAMES[s].split(" (")[0] for s, v in peers.items() if v is not None and v > ours + 1e-9]
    tied = [SYSTEM_NAMES[s].split(" (")[0] for s, v in peers.items() if v is not None and abs(v - ours) <= 1e-9]
    if behind:
        return "behind " + ", ".join(behind), False
    if tied and len(tied) == len(peers):
        return "tied with both", None
    if tied:
        return "tied with " + ", ".join(tied) + ", ahead of the other", None
    return "ahead of both", True


def render(all_results: dict, meta: dict) -> str:
    parts = []
    rows = []
    n_ahead = n_tied = n_total = 0
    for key, r in all_results.items():
        ds = BY_KEY[key]
        sysres = r["systems"]
        v, ok = verdict(sysres)
        n_total += 1
        n_ahead += ok is True
        n_tied += ok is None
        size = (f"{r['n_records']:,} / {r['true_pairs']:,}" if r["kind"] == "records"
                else f"{r['n_cases']} case{'s' if r['n_cases'] != 1 else ''} ({r['n_positive']} dup.)")
        cells = []
        for s in SYSTEMS:
            val, kind = headline(sysres.get(s)) if s in sysres else (None, "not run")
            if s not in sysres:
                cells.append("not run")
            elif val is None:
                cells.append("failed")
            else:
                cells.append(f"{val:.3f}" if kind == "f1" else
                             f"{sysres[s]['metrics']['correct']}/{sysres[s]['metrics']['cases']}")
        best = max((headline(sysres.get(s))[0] or -1) for s in sysres)
        cells = [f"**{c}**" if s in sysres and headline(sysres.get(s))[0] is not None
                 and abs(headline(sysres.get(s))[0] - best) < 1e-9 else c for s, c in zip(SYSTEMS, cells, strict=True)]
        rows.append([ds.title + (" (cross-source)" if ds.cross_source else ""), size, *cells, v])
    parts.append("Headline: cluster-level pairwise F1 (every pair of records in one output cluster is a predicted "
                 "pair; DBLP-ACM counts only pairs whose records come from different files); for pair cases, "
                 "cases decided as labelled. Best per row in bold.\n")
    parts.append(markdown_table(["Data set", "records / true pairs", SYSTEM_NAMES["project"], SYSTEM_NAMES["bib-dedupe"],
                                 SYSTEM_NAMES["splink"], "this project"], rows, "lrrrrl"))
    parts.append(f"\nThis project is ahead of both peers on **{n_ahead} of {n_total}** data sets, tied with the best "
                 f"peer on {n_tied} and behind at least one peer on {n_total - n_ahead - n_tied}. "
                 f"Total benchmark time {meta['total_seconds'] / 60:.1f} min (1-minute load average "
                 f"{meta.get('load_start')} at the start, {meta.get('load_end')} at the end, on "
                 f"{os.cpu_count()} cores: other processes on the machine slow the timings).\n")

    # details
    det = []
    for key, r in all_results.items():
        if r["kind"] != "records":
            continue
        for s in SYSTEMS:
            res = r["systems"].get(s)
            if res is None:
                continue
            if not res.get("ok"):
                det.append([BY_KEY[key].title, SYSTEM_NAMES[s], "failed: " + (res.get("error") or "")[:120].replace("|", "/"),
                            "", "", "", "", "", "", "", _f(res["seconds"], 1), f"{res['peak_mb']:.0f}"])
                continue
            c, e = res["metrics"]["cluster"], res["metrics"]["edge"]
            det.append([BY_KEY[key].title, SYSTEM_NAMES[s], _f(c["precision"]), _f(c["recall"]), _f(c["f1"]),
                        f"{c['fp']:,}", f"{c['fn']:,}", _f(e["precision"]), _f(e["recall"]), _f(e["f1"]),
                        _f(res["seconds"], 1), f"{res['peak_mb']:.0f}"])
    parts.append("### Details per data set and system\n")
    parts.append("Cluster = pairwise over output clusters (FP/FN = wrongly joined / wrongly split pairs); edge = the "
                 "pairs each system linked before clustering (this project: scored pairs at or above its chosen "
                 "threshold; bib-dedupe: pairs labelled `duplicate`, its `maybe` pairs are not merged; plain "
                 "Splink: p ≥ 0.5). Time = wall seconds of the whole subprocess (start-up, reading, and for this "
                 "project the HTML report included); memory = its peak RSS (largest single process).\n")
    parts.append(markdown_table(["Data set", "System", "cluster P", "cluster R", "cluster F1", "FP", "FN", "edge P",
                                 "edge R", "edge F1", "time s", "peak MB"], det, "llrrrrrrrrrr"))

    cases_rows = []
    for key, r in all_results.items():
        if r["kind"] != "cases":
            continue
        for s in SYSTEMS:
            res = r["systems"].get(s)
            if res is None:
                continue
            if not res.get("ok"):
                cases_rows.append([BY_KEY[key].title, SYSTEM_NAMES[s], "failed", "", "", "", "",
                                   _f(res["seconds"], 1), f"{res['peak_mb']:.0f}"])
                continue
            m = res["metrics"]
            cases_rows.append([BY_KEY[key].title, SYSTEM_NAMES[s], f"{m['correct']}/{m['cases']} ({m['accuracy']:.2f})",
                               m["fp"], m["fn"], m["failed"], ", ".join(f"`{w}`" for w in m["wrong"]) or "–",
                               _f(res["seconds"], 1), f"{res['peak_mb']:.0f}"])
    if cases_rows:
        parts.append("\n### Pair cases\n")
        parts.append("Each case's two records are run on their own (a two-record data set), as bib-dedupe's own case "
                     "tests do; a case counts as 'duplicate' when both records end up in one cluster. Unsupervised "
                     "models cannot train on two records: this project falls back to its shipped priors, plain Splink "
                     "to Splink's default parameters ('failed' = Splink raised, e.g. a degenerate prior after EM on "
                     "one pair; counted as 'not duplicate').\n")
        parts.append(markdown_table(["Set", "System", "correct", "FP", "FN", "failed", "wrong cases", "time s",
                                     "peak MB"], cases_rows, "llrrrrlrr"))

    # where behind: evidence
    notes = []
    for key, r in all_results.items():
        if r["kind"] != "records":
            continue
        v, ok = verdict(r["systems"])
        proj = r["systems"].get("project") or {}
        ex = proj.get("error_examples") or {}
        if ok or not isinstance(ex.get("FP"), list):
            continue
        c = proj["metrics"]["cluster"]
        notes.append(f"- **{BY_KEY[key].title}** ({v}): this project's cluster FP {c['fp']:,}, FN {c['fn']:,}. "
                     f"Examples (all in `benchmarks/runs/accuracy/{key}/project_errors.csv`):")
        shown = set()
        for kind, word in (("FP", "joined but different works"), ("FN", "same work but split")):
            for e in ex.get(kind, []):
                seen = (kind, str(e["title_l"]).lower()[:60], str(e["title_r"]).lower()[:60])
                if seen in shown or sum(k[0] == kind for k in shown) >= 3:
                    continue
                shown.add(seen)
                notes.append(f"  - {kind} ({word}): “{str(e['title_l'])[:90]}” ({e['year_l']}) vs "
                             f"“{str(e['title_r'])[:90]}” ({e['year_r']})")
        if BY_KEY[key].truth_note:
            notes.append(f"  - Cause: {BY_KEY[key].truth_note}")
    if notes:
        parts.append("\n### Where this project is not ahead of both peers\n")
        parts.append("\n".join(notes))

    parts.append("\n### Systems and protocol\n")
    parts.append("\n".join([
        "- **this project**: `linkage run` on the files as a user has them, shipped default settings "
        "(`settings/scholarly.yaml`), no labels, no per-data-set tuning; threshold chosen by the model itself.",
        f"- **bib-dedupe {meta.get('bib_dedupe_version', '0.11')}**: `prep` → `block` → `match` → `cluster` "
        f"(connected components of `duplicate` pairs) in its own venv (`benchmarks/.venv-bibdedupe`, pinned in "
        f"`benchmarks/bibdedupe-requirements.txt`); records given under BibTeX field names (a column rename, no "
        f"cleaning); `search_set` not used.",
        "- **plain Splink 5** (`benchmarks/plain_splink.py`): light cleaning; title Jaro-Winkler 0.95/0.88, author "
        "surnames intersect 3/2/1, year, venue Jaro-Winkler 0.9, first page, volume, DOI; blocking on DOI, title[1:20], "
        "first author + year; prior from rules, u by random sampling (1e6 pairs), EM on title[1:20] and on first "
        "author + year; predict at p ≥ 0.5, connected components.",
        "- Truth: Cora `cora_gold.csv` (182 entities); DBLP-ACM perfect mapping (2,224 pairs, cross-source); "
        "CoLRev `merged_record_ids.csv`. The labels are only used for scoring.",
        "- Raw results: `benchmarks/runs/accuracy/results.json`; run folders and logs beside it.",
    ]))
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------------------


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.accuracy", description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default=",".join(d.key for d in DATASETS),
                    help="comma-separated keys (default: all): " + ", ".join(d.key for d in DATASETS))
    ap.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated: " + ", ".join(SYSTEMS))
    ap.add_argument("--workdir", default=str(HERE / "runs" / "accuracy"))
    ap.add_argument("--no-write", action="store_true", help="do not write the BENCHMARKS.md section")
    ap.add_argument("--render-only", action="store_true",
                    help="rewrite the section from the last results.json in --workdir without running anything")
    args = ap.parse_args(argv)
    keys = [k.strip() for k in args.datasets.split(",") if k.strip()]
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    bad = [k for k in keys if k not in BY_KEY] + [s for s in systems if s not in SYSTEMS]
    if bad:
        ap.error(f"unknown: {', '.join(bad)}")
    workroot = Path(args.workdir)
    cmd = "python -m benchmarks.accuracy" \
        + (f" --datasets {args.datasets}" if args.datasets != ap.get_default("datasets") else "") \
        + (f" --systems {args.systems}" if args.systems != ap.get_default("systems") else "")
    if args.render_only:
        saved = json.loads((workroot / "results.json").read_text())
        meta, all_results = saved["meta"], saved["results"]
    else:
        t0 = time.perf_counter()
        py = ensure_bibdedupe_env() if "bib-dedupe" in systems else None
        meta = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "load_start": _load(),
                "bib_dedupe_version": bibdedupe_version(py) if py else None, "command": cmd}
        workroot.mkdir(parents=True, exist_ok=True)
        all_results = {}
        for k in keys:
            all_results[k] = run_dataset(BY_KEY[k], systems, py, workroot)
        meta["total_seconds"] = round(time.perf_counter() - t0, 1)
        meta["load_end"] = _load()
        (workroot / "results.json").write_text(json.dumps({"meta": meta, "results": all_results}, indent=1,
                                                          default=str))

    log("\nPer data set: is this project ahead of both peers?")
    for k, r in all_results.items():
        v, ok = verdict(r["systems"])
        h = {s: headline(r["systems"].get(s))[0] for s in r["systems"]}
        figs = "  ".join(f"{s} {_f(h[s])}" for s in h)
        word = {True: "YES", None: "tie", False: "no"}[ok]
        log(f"  {word:<4} {BY_KEY[k].title:<28} {figs}  ({v})")
    log(f"total {meta['total_seconds'] / 60:.1f} min")
    if not args.no_write:
        versions = {"bib-dedupe": meta["bib_dedupe_version"]} if meta.get("bib_dedupe_version") else {}
        p = write_section("accuracy", "Accuracy on real labelled data: this project vs bib-dedupe vs plain Splink",
                          meta.get("command", cmd), render(all_results, meta), versions=versions,
                          date=meta["date"].replace("T", " ")[:16] + " UTC")
        log(f"wrote the accuracy section of {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
