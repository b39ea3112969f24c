"""Waterfalls (``linkage.explain``) and the ``linkage explain`` command, on the bundled example run."""

from __future__ import annotations

import csv
import io
import json
import math
import shutil

import pytest
from click.testing import CliRunner

from linkage.cli import cli
from linkage.errors import LinkageError
from linkage.explain import (
    RunData,
    combine_values,
    decide,
    display_value,
    explain_pair,
    format_value,
    prior_weight,
    review_band,
    score_pairs_now,
    write_decisions,
)

SEED = ("aggregator:pwc-43", "aggregator:arxiv-43")


@pytest.fixture(scope="module")
def run(example_run) -> RunData:
    return RunData(example_run.out)


def test_seed_pair_waterfall(run):
    wf = explain_pair(run, *SEED)
    rows = {r.comparison: r for r in wf.rows}
    assert {"title", "date", "arxiv_id"} <= set(rows)
    assert [r.comparison for r in wf.rows] == [c["output_column_name"] for c in run.model["comparisons"]]
    assert rows["title"].weight > 0 and rows["date"].weight > 0
    assert rows["title"].value_l and "loss landscapes" in rows["title"].value_l
    assert wf.decision == "duplicate" and wf.linked
    assert (wf.id_l, wf.id_r) == SEED and wf.scored == "blocking"
    # the waterfall adds up: prior + each comparison's weight = the pair's match weight
    assert wf.prior_weight == pytest.approx(prior_weight(run.model))
    assert wf.rows[-1].total == pytest.approx(wf.match_weight, abs=1e-4)
    assert wf.match_probability == pytest.approx(1 / (1 + 2 ** -wf.match_weight), abs=1e-6)


def test_order_of_ids_is_kept(run):
    wf = explain_pair(run, SEED[1], SEED[0])
    assert (wf.id_l, wf.id_r) == (SEED[1], SEED[0])
    assert wf.match_weight == pytest.approx(explain_pair(run, *SEED).match_weight)


def test_scoring_now_matches_the_run(run):
    """Splink's score_pair (one pair) and the batch path give the run's own numbers."""
    stored = explain_pair(run, *SEED)
    again = explain_pair(run, *SEED, rescore=True)
    assert again.scored == "now"
    assert again.match_weight == pytest.approx(stored.match_weight, abs=1e-6)
    assert [r.weight for r in again.rows] == pytest.approx([r.weight for r in stored.rows], abs=1e-6)
    sample = run.pairs.sample(12, random_state=7)
    now = score_pairs_now(run, list(zip(sample["unique_id_l"], sample["unique_id_r"], strict=True)))
    merged = now.merge(sample, on=["unique_id_l", "unique_id_r"], suffixes=("_now", "_run"))
    assert len(merged) == 12
    assert (merged["match_weight_now"] - merged["match_weight_run"]).abs().max() < 1e-6
    for c in run.comparisons:
        assert (merged[f"{c.name}_gamma_now"] == merged[f"{c.name}_gamma_run"]).all()


def test_pair_blocking_never_generated(run):
    scored = set(zip(run.pairs["unique_id_l"], run.pairs["unique_id_r"], strict=True))
    ids = run.records["unique_id"].tolist()
    a = SEED[0]
    b = next(u for u in ids if u != a and (min(a, u), max(a, u)) not in scored)
    wf = explain_pair(run, a, b)
    assert wf.scored == "now"
    assert wf.decision in ("duplicate", "review", "not duplicate")
    assert wf.rows[-1].total == pytest.approx(wf.match_weight, abs=1e-4)


def test_unknown_and_repeated_ids(run):
    with pytest.raises(LinkageError, match="no record with unique_id 'nope:1'"):
        explain_pair(run, "nope:1", SEED[0])
    with pytest.raises(LinkageError, match="given twice"):
        explain_pair(run, SEED[0], SEED[0])


@pytest.mark.parametrize(("weight", "expected"), [
    (10.0, "duplicate"), (5.0, "duplicate"), (4.99, "review"), (1.0, "review"), (0.0, "review"),
    (-4.0, "review"), (-4.01, "not duplicate"), (-30.0, "not duplicate")])
def test_decide(weight, expected):
    assert decide(weight, 1.0, (-5.0, 4.0)) == expected


def test_values_shown():
    assert format_value(["b", None, "a"]) == "b, a"
    assert format_value(float("nan")) is None and format_value("  ") is None and format_value([]) is None
    assert format_value("x" * 500, 20).endswith("…") and len(format_value("x" * 500, 20)) == 20
    assert format_value([str(i) for i in range(20)]).endswith("… (+8)")
    # derived columns only when their base is empty; pages as a range
    cols = ("title_norm", "title_key", "title_tokens")
    assert display_value({"title_norm": "a b", "title_key": "ab", "title_tokens": ["a", "b"]}, cols) == "a b"
    assert display_value({"title_norm": None, "title_key": "ab"}, cols) == "ab"
    assert display_value({"page_first": "12", "page_last": "20"}, ("page_first", "page_last")) == "12–20"
    assert display_value({"date_norm": "2021-03-20", "year_norm": 2021}, ("year_norm", "date_norm")) == "2021-03-20"
    assert display_value({"date_norm": None, "year_norm": 2021}, ("year_norm", "date_norm")) == "2021"
    assert combine_values({"urls_norm": "github.com/x, arxiv.org/1", "repo_url": "github.com/x"},
                          ("urls_norm", "repo_url")) == "github.com/x, arxiv.org/1"


def test_review_band_from_settings_and_fallback(run, tmp_path):
    assert review_band(run.info) == (-4.0, 4.0)  # the shipped settings file
    s = tmp_path / "s.yaml"
    s.write_text("threshold:\n  review_band: [-2, 6]\n")
    assert review_band({"settings": {"path": str(s)}}) == (-2.0, 6.0)
    assert review_band({"settings": {"path": str(tmp_path / "gone.yaml")}}) == (-4.0, 4.0)
    assert review_band({}) == (-4.0, 4.0)


def test_export_every_decision_csv(run):
    buf = io.StringIO()
    n = write_decisions(run, "csv", buf)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    decisions = run.decisions()
    assert n == len(rows) == len(decisions) > 100
    names = [c.name for c in run.comparisons]
    for name in names:
        assert f"{name}_level" in rows[0] and f"{name}_weight" in rows[0]
    lower = min(run.threshold, run.threshold + run.band[0])
    assert all(float(r["match_weight"]) >= lower - 1e-3 for r in rows)
    assert sum(r["linked"] == "True" for r in rows) == int((run.pairs["match_weight"] >= run.threshold).sum())
    seed = next(r for r in rows if {r["unique_id_l"], r["unique_id_r"]} == set(SEED))
    assert seed["decision"] == "duplicate" and seed["title_level"]
    total = float(seed["prior_weight"]) + sum(float(seed[f"{n}_weight"]) for n in names)
    assert total == pytest.approx(float(seed["match_weight"]), abs=1e-2)


def test_export_jsonl_and_bad_format(run):
    buf = io.StringIO()
    n = write_decisions(run, "jsonl", buf)
    lines = buf.getvalue().splitlines()
    assert len(lines) == n
    first = json.loads(lines[0])
    assert first["decision"] in ("duplicate", "review") and not math.isnan(first["match_weight"])
    with pytest.raises(LinkageError, match="unknown format"):
        write_decisions(run, "xml", io.StringIO())


def test_cli_explain_pair(example_run):
    res = CliRunner().invoke(cli, ["explain", str(example_run.out), *SEED], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = res.output
    for word in ("prior", "title", "date", "arxiv_id", "running total", "duplicate", "probability"):
        assert word in out
    res = CliRunner().invoke(cli, ["explain", str(example_run.out), *SEED, "--format", "json"])
    data = json.loads(res.output)
    assert data["decision"] == "duplicate" and len(data["rows"]) == len(example_run.model["comparisons"])


def test_cli_explain_errors(example_run, tmp_path):
    res = CliRunner().invoke(cli, ["explain", str(example_run.out), "nope:1", SEED[0]])
    assert res.exit_code == 1
    assert "no record with unique_id 'nope:1'" in res.output and len(res.output.strip().splitlines()) == 1
    res = CliRunner().invoke(cli, ["explain", str(example_run.out), SEED[0]])
    assert res.exit_code == 1 and "expected two record ids" in res.output
    res = CliRunner().invoke(cli, ["explain", str(tmp_path), "a", "b"])
    assert res.exit_code == 1 and "not a run folder" in res.output


def test_cli_explain_all(example_run, tmp_path):
    res = CliRunner().invoke(cli, ["explain", str(example_run.out), "--all", "--format", "csv"],
                             catch_exceptions=False)
    assert res.exit_code == 0
    lines = res.output.splitlines()
    assert lines[0].startswith("unique_id_l,unique_id_r,") and len(lines) >= 100
    out = tmp_path / "d.jsonl"
    res = CliRunner().invoke(cli, ["explain", str(example_run.out), "--all", "--format", "jsonl", "-o", str(out)])
    assert res.exit_code == 0
    assert len(out.read_text().splitlines()) == len(lines) - 1


def test_run_folder_without_pairs_file(example_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(example_run.out, copy)
    (copy / "pairs.parquet").unlink()
    with pytest.raises(LinkageError, match="pairs.parquet is missing"):
        explain_pair(RunData(copy), *SEED)


def test_a_received_model_with_hostile_sql_is_refused(example_run, tmp_path):
    """explain runs model.json's SQL: a run folder from someone else must not read files."""
    run_dir = tmp_path / "run"
    shutil.copytree(example_run.out, run_dir)
    model = json.loads((run_dir / "model.json").read_text())
    level = model["comparisons"][0]["comparison_levels"][1]
    level["sql_condition"] = "length(read_text('/etc/hostname')[1].content) > 0"
    (run_dir / "model.json").write_text(json.dumps(model))
    r = CliRunner().invoke(cli, ["explain", str(run_dir), "aggregator:pwc-43", "dblp:conf/sigmod/AbadiCCCCEGHMRSSTXYZ03"])
    assert r.exit_code != 0
    assert "refused SQL" in r.output and "Traceback" not in r.output
