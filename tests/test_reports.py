"""report.html: self-contained, every decision in its compressed data, chart specs, limits, escaping."""

from __future__ import annotations

import base64
import gzip
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from linkage.cli import cli
from linkage.explain import RunData
from linkage.reports import (
    export_charts,
    histogram_chart,
    json_for_script,
    report_charts,
    script_safe,
    waterfall_chart_template,
    write_report,
)

SEED = ("aggregator:pwc-43", "aggregator:arxiv-43")
XSS = ('<script>alert("x1")</script> Understanding Loss Landscapes',
       '"><img src=x onerror=alert("x2")> Understanding Loss Landscapes', "a </script><!-- b")


def read_page(path: Path) -> tuple[str, dict, dict]:
    """The page text, its meta JSON and its decoded (gunzipped) data."""
    page = path.read_text(encoding="utf-8")
    meta = re.search(r'<script type="application/json" id="meta">(.*?)</script>', page, re.S).group(1)
    data = re.search(r'<script type="text/plain" id="data">(.*?)</script>', page, re.S).group(1)
    return page, json.loads(meta), json.loads(gzip.decompress(base64.b64decode(data)))


@pytest.fixture()
def run_copy(example_run, tmp_path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(example_run.out, out)
    return out


def test_report_is_one_self_contained_file(example_run):
    path = example_run.out / "report.html"
    page, meta, data = read_page(path)
    assert page.startswith("<!doctype html>")
    assert not re.search(r"<script[^>]+src=", page, re.I)
    assert not re.search(r"<link[^>]+href=[\"']?https?:", page, re.I)
    assert "window.vegaEmbed=" in page and "DecompressionStream" in page
    assert len(re.findall(r"<script\b", page)) == 4  # meta, data, the one Vega bundle, the page script
    assert path.stat().st_size < 5_000_000


def test_report_holds_every_decision(example_run):
    _, meta, data = read_page(example_run.out / "report.html")
    run = RunData(example_run.out)
    decisions = run.decisions()
    assert meta["decisions"]["total"] == meta["decisions"]["shown"] == len(decisions) == len(data["decisions"])
    fields = meta["record_fields"]
    uids = [r[fields.index("unique_id")] for r in data["records"]]
    assert len(uids) == len(set(uids))  # each record stored once
    pairs = {(uids[r[0]], uids[r[1]]) for r in data["decisions"]}
    assert pairs == set(zip(decisions["unique_id_l"], decisions["unique_id_r"], strict=True))
    n_comp = len(run.comparisons)
    seed = next(r for r in data["decisions"] if {uids[r[0]], uids[r[1]]} == set(SEED))
    assert len(seed) == 4 + n_comp and len(seed[3]) == n_comp
    assert seed[2] == pytest.approx(run.pairs.set_index(["unique_id_l", "unique_id_r"])
                                    .loc[tuple(sorted(SEED)), "match_weight"], abs=1e-3)
    # what each comparison saw is stored per record
    i = uids.index(SEED[0])
    assert "loss landscapes" in data["records"][i][fields.index("cmp:title")]
    # works with more than one record, with their members
    assert meta["clusters"]["total"] == example_run.info["counts"]["duplicate_clusters"] == len(data["clusters"])
    assert all(len(c[1]) >= 2 for c in data["clusters"])


def test_summary_and_model_meta(example_run):
    _, meta, _ = read_page(example_run.out / "report.html")
    s = meta["summary"]
    assert sorted(i["source"] for i in s["inputs"]) == ["acm", "aggregator", "dblp"]
    assert sum(s["cluster_sizes"].values()) == example_run.info["counts"]["clusters"]
    assert {p["source"] for p in s["per_source"]} == {"acm", "aggregator", "dblp"}
    assert s["settings"]["sha256"] and "comparisons:" in s["settings_text"]
    assert s["versions"]["splink"] and s["timings"]["train"] > 0
    m = meta["model"]
    assert 0 < m["prior"] < 1 and m["prior_weight"] < 0
    assert [c["name"] for c in m["comparisons"]][:3] == ["title", "authors", "date"]
    assert all("converged" in e for e in m["training"]["em_sessions"])
    assert meta["band"] == [-4.0, 4.0]


def test_chart_specs(example_run):
    run = RunData(example_run.out)
    charts = report_charts(run)
    assert {"match_weights", "m_u", "histogram", "cluster_sizes"} <= set(charts)
    mw = charts["match_weights"]  # Splink's own chart
    assert "vconcat" in mw and any(v["comparison_name"] == "title" for v in mw["data"]["values"])
    hist = charts["histogram"]
    assert hist["$schema"].startswith("https://vega.github.io/schema/vega-lite/v6")
    marks = [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in hist["layer"]]
    assert marks == ["rect", "bar", "rule"]
    band, bars, rule = hist["layer"]
    assert band["data"]["values"][0]["from"] == pytest.approx(run.threshold - 4)
    assert band["data"]["values"][0]["to"] == pytest.approx(run.threshold + 4)
    assert rule["data"]["values"][0]["t"] == pytest.approx(run.threshold)
    counts = hist["datasets"][bars["data"]["name"]]
    assert sum(c["count_rows"] for c in counts) == len(run.pairs)
    wf = waterfall_chart_template()
    assert wf["data"] == {"values": []} and "bind" not in json.dumps(wf.get("params", []))


def test_histogram_of_no_pairs():
    spec = histogram_chart(pd.Series([], dtype=float).to_numpy(), 0.0, (-4.0, 4.0))
    assert len(spec["layer"]) == 3


def test_escaping_helpers():
    text = json_for_script({"t": XSS[2], "u": "\u2028"})
    assert "</" not in text and "<!--" not in text and "<" not in text
    assert json.loads(text)["t"] == XSS[2]
    assert script_safe("var s = '</script>';") == "var s = '<\\/script>';"


def test_record_text_is_never_markup(run_copy):
    """Titles with <script> and <img onerror> reach the page only as JSON text or compressed data."""
    rec = pd.read_parquet(run_copy / "records.parquet")
    rec.loc[rec["unique_id"] == SEED[0], "title"] = XSS[0]
    rec.loc[rec["unique_id"] == SEED[1], "title"] = XSS[1]
    rec.loc[rec["unique_id"] == "dblp:conf/sigmod/BarbaraI94", "title"] = XSS[2]
    rec.to_parquet(run_copy / "records.parquet", index=False)
    page, meta, data = read_page(write_report(run_copy))
    for s in ('<script>alert("x1")', "<img src=x onerror", "</script><!--"):
        assert s not in page
    notes = {n["unique_id"]: n["text"] for n in meta["notes"]["markup"]}
    assert notes[SEED[0]] == XSS[0] and notes[SEED[1]] == XSS[1]
    titles = {r[0]: r[meta["record_fields"].index("title")] for r in data["records"]}
    assert titles[SEED[0]] == XSS[0]
    js = (Path(__file__).parent.parent / "linkage" / "templates" / "report.js").read_text()
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "document.write" not in js


def test_decision_limit_keeps_the_review_band_first(run_copy):
    run = RunData(run_copy)
    total = len(run.decisions())
    path = write_report(run_copy, max_decisions=40)
    page, meta, data = read_page(path)
    info = meta["decisions"]
    assert info["total"] == total and info["shown"] == len(data["decisions"]) == 40
    assert info["left_out"] == total - 40
    lo, hi = run.threshold - 4, run.threshold + 4
    kept = [r[2] for r in data["decisions"]]
    in_band = ((run.pairs["match_weight"] >= lo) & (run.pairs["match_weight"] < hi)).sum()
    assert sum(lo <= w < hi for w in kept) == min(40, in_band)
    if in_band < 40:  # the band fits: what is left out are the most confident links above it
        assert max(kept) <= info["left_out_min_weight"] + 1e-3
        assert "most confident links" in page
    else:  # the band alone fills the page: every kept decision is a band decision
        assert all(lo <= w < hi for w in kept)


def test_report_without_pairs(run_copy):
    pairs = pd.read_parquet(run_copy / "pairs.parquet")
    pairs.iloc[:0].to_parquet(run_copy / "pairs.parquet", index=False)
    _, meta, data = read_page(write_report(run_copy))
    assert data["decisions"] == [] and meta["decisions"]["total"] == 0


def test_accuracy_section_with_metrics(run_copy):
    from linkage.evaluation import evaluate_run

    labels = Path(__file__).parent.parent / "examples" / "labels" / "dblp_acm_mapping.csv"
    evaluate_run(run_copy, labels)
    run = RunData(run_copy)
    charts = report_charts(run)
    acc = charts["accuracy"]
    rule = acc["layer"][-1]
    assert rule["mark"]["type"] == "rule" and rule["data"]["values"][0]["t"] == pytest.approx(run.threshold)
    assert {"precision", "recall", "f1"} <= set(acc["transform"][0]["fold"])
    assert "precision_recall" in charts
    _, meta, data = read_page(write_report(run_copy))
    a = meta["accuracy"]
    assert a["cluster.precision"] > 0.5 and "error" not in a
    assert len(data["fp"]) == min(a["cluster.fp"], a["list_limit"])
    assert len(data["fn"]) == min(a["cluster.fn"], a["list_limit"])
    n = len(run.comparisons)
    for row in data["fp"] + data["fn"]:
        assert row[4 + n] in (1, 2)  # scored by the run, or for the report
        assert row[2] is not None and len(row[3]) == n


def test_export_charts_png_svg(example_run, tmp_path):
    files = export_charts(example_run.out, tmp_path / "charts")
    names = {f.name for f in files}
    assert {"histogram.png", "histogram.svg", "match_weights.png", "m_u.svg"} <= names
    assert (tmp_path / "charts" / "histogram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (tmp_path / "charts" / "match_weights.svg").read_text()[:500]


def test_cli_report(run_copy, tmp_path):
    (run_copy / "report.html").unlink()
    res = CliRunner().invoke(cli, ["report", str(run_copy), "--png", str(tmp_path / "png")], catch_exceptions=False)
    assert res.exit_code == 0 and (run_copy / "report.html").is_file()
    assert (tmp_path / "png" / "histogram.png").is_file() and (tmp_path / "png" / "m_u.svg").is_file()
    res = CliRunner().invoke(cli, ["report", str(tmp_path / "nothing")])
    assert res.exit_code == 1 and "not a run folder" in res.output


def test_bundle_cache_folder(monkeypatch, tmp_path):
    from linkage.reports import _cache_dir

    monkeypatch.setenv("LINKAGE_CACHE_DIR", str(tmp_path / "c"))
    assert _cache_dir() == tmp_path / "c"
    monkeypatch.delenv("LINKAGE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert _cache_dir() == tmp_path / "x" / "linkage"
