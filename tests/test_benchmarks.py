"""Fast checks of the benchmark harness: the data loaders' record and truth counts, the scorers, and the
BENCHMARKS.md section writer (no system is run here)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the benchmarks/ package at the repo root

from benchmarks import datasets as D  # noqa: E402
from benchmarks.report import markdown_table, replace_section, write_section  # noqa: E402


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    cache = {}

    def get(key):
        if key not in cache:
            cache[key] = D.BY_KEY[key].prepare(tmp_path_factory.mktemp(key))
        return cache[key]

    return get


def test_cora_counts(prepared):
    p = prepared("cora")
    assert len(p.peer_records) == 1879
    assert p.truth.nunique() == 182
    assert D.true_pairs(p.truth) == 64578
    user = pd.read_csv(p.inputs[0][1], dtype=str)
    assert list(user.columns) == D.CORA_COLUMNS and len(user) == 1879


def test_dblp_acm_counts(prepared):
    p = prepared("dblp-acm")
    assert p.peer_records["source"].value_counts().to_dict() == {"dblp": 2616, "acm": 2294}
    assert D.true_pairs(p.truth, cross_source=True) == 2224
    # the inputs are the published files, byte for byte
    for (_, path), name in zip(p.inputs, ("DBLP2.csv", "ACM.csv"), strict=True):
        assert path.read_bytes() == (D.DATA / "dblp-acm" / name).read_bytes()


@pytest.mark.parametrize("key,records,pairs", [
    ("stroke", 1292, 479), ("cytology", 1856, 909), ("haematology", 1415, 163), ("respiratory", 1988, 509),
    ("misq-baseline", 3487, 1543), ("misq-mixed", 5379, 4852)])
def test_colrev_counts(prepared, key, records, pairs):
    p = prepared(key)
    assert len(p.peer_records) == records
    assert p.peer_records["uid"].is_unique
    assert D.true_pairs(p.truth) == pairs
    assert set(p.truth.index) == set(p.peer_records["uid"])


def test_pair_cases():
    cases = D.BY_KEY["bib-dedupe-cases"].cases()
    assert len(cases) == 25 and sum(c.expected for c in cases) == 10
    assert all(c.ids == ("a", "b") for c in cases)
    (seed,) = D.BY_KEY["seed"].cases()
    assert seed.expected and seed.ids == ("pwc-43", "arxiv-43")
    assert seed.user_records[0]["doi"] == "144//"
    assert seed.user_records[1]["abstract"].startswith("id3424933303362828601 ")


def test_case_input_files(tmp_path):
    c = D.BY_KEY["bib-dedupe-cases"].cases()[0]
    df = pd.read_csv(D.write_case_input(c, tmp_path / "c"), dtype=str)
    assert df["ID"].tolist() == ["a", "b"] and "title" in df.columns
    (seed,) = D.seed_case()
    lines = D.write_case_input(seed, tmp_path / "s").read_text().splitlines()
    assert [json.loads(x)["id"] for x in lines] == ["pwc-43", "arxiv-43"]


def test_true_pairs_cross_source():
    truth = pd.Series({"a:1": 0, "a:2": 0, "b:1": 0, "b:2": 5})
    assert D.true_pairs(truth) == 3
    assert D.true_pairs(truth, cross_source=True) == 2


def test_scorers_agree_with_hand_count():
    from benchmarks.accuracy import score_cases, score_clusters, score_edges

    truth = pd.Series({"s:1": "x", "s:2": "x", "s:3": "x", "s:4": "y"})
    m = score_clusters(truth, {"s:1": "c", "s:2": "c", "s:3": "d", "s:4": "c"}, cross_source=False)
    assert (m["tp"], m["fp"], m["fn"]) == (1, 2, 2)
    e = score_edges(truth, [["s:1", "s:2"], ["s:2", "s:1"], ["s:2", "s:4"]], cross_source=False)
    assert (e["tp"], e["fp"]) == (1, 1) and e["recall"] == pytest.approx(1 / 3)
    cases = [D.Case("p", True, [], "csv", []), D.Case("n", False, [], "csv", [])]
    s = score_cases(cases, {"p": True, "n": True})
    assert (s["correct"], s["fp"], s["wrong"]) == (1, 1, ["n"])


def test_write_section_replaces_only_its_own(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    write_section("accuracy", "Accuracy", "python -m benchmarks.accuracy", "table A1", path=path)
    write_section("speed", "Speed", "python -m benchmarks.speed", "table S1", path=path)
    before = path.read_text()
    speed_block = before[before.index("<!-- section:speed -->"):before.index("<!-- /section:speed -->")]
    write_section("accuracy", "Accuracy", "python -m benchmarks.accuracy", "table A2", versions={"x": "1"}, path=path)
    after = path.read_text()
    assert "table A2" in after and "table A1" not in after
    assert speed_block in after
    assert after.count("<!-- section:accuracy -->") == 1
    assert after.index("<!-- section:accuracy -->") < after.index("<!-- section:speed -->")  # order kept
    assert "`python -m benchmarks.accuracy`" in after and "cores" in after and "x 1" in after


def test_replace_section_appends_and_rejects_markers():
    text = replace_section("", "a", "<!-- section:a -->\nA\n<!-- /section:a -->")
    assert text.startswith("# Benchmarks") and text.rstrip().endswith("<!-- /section:a -->")
    with pytest.raises(ValueError):
        write_section("Bad Name", "t", "c", "b")


def test_markdown_table():
    t = markdown_table(["a", "b"], [[1, None]])
    assert t.splitlines() == ["| a | b |", "|---|---:|", "| 1 |  |"]


def test_generator_keeps_title_openings_spread(tmp_path):
    """The speed data: every work its own title, at most MAX_OPENING works per 20-character title
    opening (so blocks stay realistic at 1M records), and every record in the truth file."""
    import csv
    from collections import Counter

    from benchmarks.generate import MAX_OPENING, generate

    summary = generate(3000, tmp_path, seed=3)
    assert summary["records"] == 3000
    with open(tmp_path / "truth.csv", newline="", encoding="utf-8") as fh:
        truth = {(r["source"], r["id"]): r["entity"] for r in csv.DictReader(fh)}
    assert len(truth) == 3000 and len(set(truth.values())) == summary["works"]
    titles = {}
    with open(tmp_path / "crossref.csv", newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            titles.setdefault(truth[("crossref", r["id"])], r["title"])
    for name in ("arxiv", "pwc"):
        for line in (tmp_path / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            titles.setdefault(truth[(name, r["id"])], r["title"])
    openings = Counter(t.lower()[:20] for t in titles.values() if t)
    assert max(openings.values()) <= MAX_OPENING + 5  # a copy's typo or case change can move one across
    assert len(openings) > 0.8 * len(titles)
