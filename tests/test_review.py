"""Clerical review round trip: the review band exported as a sheet, decisions marked and imported into a
decisions file, a rerun that applies them (cannot-links split, must-links join, conflicts reported), and
the cluster diagnostics that order the review."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import EXAMPLE_SOURCES, ROOT

import linkage
from linkage.cli import cli
from linkage.constraints import (
    Decision,
    apply_decisions,
    load_decisions,
    read_decisions_file,
    resolve_conflicts,
    settings_decisions_path,
)
from linkage.errors import LinkageError
from linkage.explain import RunData
from linkage.review import (
    DIAGNOSTICS_FILE,
    SHEET_COLUMNS,
    band_pairs,
    bridges,
    cluster_diagnostics,
    import_decisions,
)


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def read_csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns or list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return path


def members(run) -> pd.Series:
    return run.clusters.groupby("cluster_id")["unique_id"].apply(list)


# ---------------------------------------------------------------------------------------------------------
# The round trip on the example run (one rerun, with the trained model reused)
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trip(example_run, tmp_path_factory):
    """Export the band, mark decisions in the sheet, import them, rerun with the decisions file."""
    tmp = tmp_path_factory.mktemp("review")
    run_dir = str(example_run.out)
    res = invoke("review", "export", run_dir)
    assert res.exit_code == 0, res.output
    sheet = read_csv_rows(res.stdout)
    groups = members(example_run)
    singles = [m[0] for m in groups if len(m) == 1]
    cluster_of = dict(zip(example_run.clusters["unique_id"], example_run.clusters["cluster_id"]))
    # a linked band pair inside one work of two records: the reviewer says 'different'
    split = next((r for r in sheet if r["same_work"] == "yes" and len(groups[cluster_of[r["unique_id_l"]]]) == 2),
                 None)
    if split is None:  # no such pair in the band: a work of two records outside it
        pair = next(m for m in groups if len(m) == 2)
        split = {c: "" for c in SHEET_COLUMNS} | {"unique_id_l": pair[0], "unique_id_r": pair[1]}
        sheet.append(split)
    split["decision"] = "different"
    split["note"] = "different papers, same column title"
    # a band pair the model did not link, both records on their own: 'same'
    join = next((r for r in sheet if r["same_work"] == "no" and r["unique_id_l"] in singles
                 and r["unique_id_r"] in singles), None)
    if join is None:  # no such pair in the band: decide two singletons outside it
        join = {"unique_id_l": singles[0], "unique_id_r": singles[1]}
        sheet.append({c: "" for c in SHEET_COLUMNS} | join)
    join["decision"] = "same"
    used = {split["unique_id_l"], split["unique_id_r"], join["unique_id_l"], join["unique_id_r"]}
    x, y, z = [s for s in singles if s not in used][:3]
    unsure = next(r for r in sheet if not r["decision"])
    unsure["decision"] = "unsure"
    sheet_path = write_csv(tmp / "sheet.csv", sheet, SHEET_COLUMNS)
    res = invoke("review", "import", run_dir, str(sheet_path), "--into", str(tmp / "decisions.csv"), "--who", "ann")
    assert res.exit_code == 0, res.output
    # a second reviewer: a conflicting triple (x-y same, y-z same, x-z different), as the report downloads it
    conflict = write_csv(tmp / "download.csv", [
        {"unique_id_l": x, "unique_id_r": y, "decision": "same", "who": "bob", "when": "2024-05-01T10:00:00Z"},
        {"unique_id_l": y, "unique_id_r": z, "decision": "match", "who": "bob", "when": "2024-05-01T10:01:00Z"},
        {"unique_id_l": z, "unique_id_r": x, "decision": "different", "who": "bob", "when": "2024-05-01T10:02:00Z"},
    ])
    res2 = invoke("review", "import", run_dir, str(conflict), "--into", str(tmp / "decisions.csv"))
    assert res2.exit_code == 0, res2.output
    rerun = linkage.run([str(p) for p in EXAMPLE_SOURCES], out=tmp / "rerun", model=example_run.out,
                        decisions=tmp / "decisions.csv", report=False)
    return {"tmp": tmp, "sheet": sheet, "split": (split["unique_id_l"], split["unique_id_r"]),
            "join": (join["unique_id_l"], join["unique_id_r"]), "triple": (x, y, z), "import": res,
            "import2": res2, "rerun": rerun, "base": example_run,
            "unsure": (unsure["unique_id_l"], unsure["unique_id_r"])}


def test_review_sheet_is_the_band(trip, example_run):
    run = RunData(example_run.out)
    sheet = [r for r in trip["sheet"] if r.get("match_weight")]  # rows added by the test have none
    band = band_pairs(run)
    lo, hi = run.threshold - 4, run.threshold + 4
    assert len(sheet) == len(band) > 0
    assert list(trip["sheet"][0]) == SHEET_COLUMNS
    weights = [float(r["match_weight"]) for r in sheet]
    assert all(lo <= w < hi for w in weights)
    dist = [abs(w - run.threshold) for w in weights]
    assert dist == sorted(dist)  # most uncertain first
    r = sheet[0]
    assert r["title_l"] and r["title_r"] and r["source_l"] and r["year_l"]
    assert re.match(r"^\w+ [+-]\d+\.\d \(.+\)(; \w+ [+-]\d+\.\d \(.+\)){2}$", r["evidence"]), r["evidence"]
    assert r["model"] in ("linked", "not linked") and 0 < float(r["match_probability"]) < 1
    # the sheet as exported has no decisions
    res = invoke("review", "export", str(example_run.out))
    assert all(row["decision"] == "" for row in read_csv_rows(res.stdout))


def test_import_merges_into_the_decisions_file(trip):
    out = trip["import"].output
    assert "imported 3 decisions" in out and "1 same, 1 different, 1 unsure" in out
    assert "rows without a decision skipped" in out
    f = read_decisions_file(trip["tmp"] / "decisions.csv")
    by_pair = {frozenset((r.unique_id_l, r.unique_id_r)): r for r in f.rows}
    x, y, z = trip["triple"]
    assert len(f.rows) == 6 and by_pair[frozenset(trip["unsure"])].decision == "unsure"
    assert by_pair[frozenset(trip["join"])].decision == "same"
    split = by_pair[frozenset(trip["split"])]
    assert split.decision == "different" and split.who == "ann" and split.when
    assert split.note == "different papers, same column title"
    assert [r.decision for r in f.rows[3:]] == ["same", "same", "different"]  # the second import, in order
    assert by_pair[frozenset((y, z))].decision == "same"  # 'match' normalised
    assert f.rows[3].who == "bob" and f.rows[3].when == "2024-05-01T10:00:00Z"
    # the second import reports the conflict it creates
    assert "decisions conflict" in trip["import2"].output and "cannot-link holds" in trip["import2"].output


def test_later_decisions_replace_earlier_ones(trip, example_run, tmp_path):
    target = tmp_path / "decisions.csv"
    shutil.copy(trip["tmp"] / "decisions.csv", target)
    a, b = trip["unsure"]
    change = write_csv(tmp_path / "change.csv", [{"unique_id_l": b, "unique_id_r": a, "decision": "same",
                                                  "who": "cy", "when": "2024-06-01T00:00:00Z"}])
    res = import_decisions(example_run.out, change, into=target)
    assert res.replaced == 1 and res.changed[0]["earlier_decision"] == "unsure" and res.total == 6
    rows = read_decisions_file(target).rows
    assert [(r.unique_id_l, r.unique_id_r, r.decision, r.who) for r in rows if {a, b} == {r.unique_id_l,
                                                                                         r.unique_id_r}] == \
        [(b, a, "same", "cy")]
    assert rows[-1].unique_id_l == b  # the latest decision is last


def test_rerun_applies_the_decisions(trip):
    base, rerun = trip["base"], trip["rerun"]
    c0 = dict(zip(base.clusters["unique_id"], base.clusters["cluster_id"]))
    c1 = dict(zip(rerun.clusters["unique_id"], rerun.clusters["cluster_id"]))
    (a, b), (s, t) = trip["split"], trip["join"]
    assert c0[a] == c0[b] and c1[a] != c1[b]          # the cannot-link split a linked pair
    assert c0[s] != c0[t] and c1[s] == c1[t]          # the must-link joined two records
    x, y, z = trip["triple"]
    assert c1[x] != c1[z]                              # the cannot-link of the conflict holds
    # nothing else changed: every other work is as before
    touched = {a, b, s, t, x, y, z}
    g0 = {frozenset(m) for m in members(base) if not touched & set(m)}
    g1 = {frozenset(m) for m in members(rerun) if not touched & set(m)}
    assert g0 == g1
    d = rerun.info["decisions"]
    assert d["file"].endswith("decisions.csv")
    assert d["must_link"] == 1 and d["cannot_link"] == 2 and d["unsure"] == 1 and d["pairs_decided"] == 6
    assert d["applied"] == 3 and d["conflicts_total"] == 1
    conflict = d["conflicts"][0]
    assert set(conflict["cannot_link"]) == {x, z} and conflict["kind"] == "transitive"
    assert {frozenset(m["pair"]) for m in conflict["must_links_dropped"]} == {frozenset((x, y)), frozenset((y, z))}
    assert any("decisions conflict" in w for w in d["warnings"])
    assert sorted(map(tuple, d["pairs"])) == sorted([(s, t, "same"), (a, b, "different"), (z, x, "different")])
    text = (rerun.out / "run.json").read_text()
    assert '"decisions"' in text


def test_import_errors_name_lines(example_run, tmp_path):
    ids = example_run.records["unique_id"].tolist()
    bad = write_csv(tmp_path / "bad.csv", [
        {"unique_id_l": ids[0], "unique_id_r": ids[1], "decision": "same"},
        {"unique_id_l": ids[0], "unique_id_r": "acm:no-such-record", "decision": "same"},
        {"unique_id_l": ids[2], "unique_id_r": ids[3], "decision": "perhaps"},
    ])
    res = CliRunner().invoke(cli, ["review", "import", str(example_run.out), str(bad), "--into",
                                   str(tmp_path / "d.csv")])
    assert res.exit_code == 1 and "line 4: decision 'perhaps'" in res.output
    bad2 = write_csv(tmp_path / "bad2.csv", [
        {"unique_id_l": ids[0], "unique_id_r": "acm:no-such-record", "decision": "same"},
        {"unique_id_l": ids[1], "unique_id_r": ids[1], "decision": "different"}])
    res = CliRunner().invoke(cli, ["review", "import", str(example_run.out), str(bad2), "--into",
                                   str(tmp_path / "d.csv")])
    assert res.exit_code == 1 and "line 3: record" in res.output and "paired with itself" in res.output
    bad3 = write_csv(tmp_path / "bad3.csv", [{"unique_id_l": ids[0], "unique_id_r": "acm:nope", "decision": "same"}])
    res = CliRunner().invoke(cli, ["review", "import", str(example_run.out), str(bad3), "--into",
                                   str(tmp_path / "d.csv")])
    assert res.exit_code == 1 and "line 2: 'acm:nope'" in res.output and "not in the run" in res.output
    (tmp_path / "cols.csv").write_text("a,b,decision\nx,y,same\n")
    res = CliRunner().invoke(cli, ["review", "import", str(example_run.out), str(tmp_path / "cols.csv"), "--into",
                                   str(tmp_path / "d.csv")])
    assert res.exit_code == 1 and "missing columns unique_id_l, unique_id_r" in res.output
    assert not (tmp_path / "d.csv").exists()  # nothing written on an error


def test_import_needs_a_target(example_run, tmp_path):
    ids = example_run.records["unique_id"].tolist()
    dec = write_csv(tmp_path / "dec.csv", [{"unique_id_l": ids[0], "unique_id_r": ids[1], "decision": "same"}])
    res = CliRunner().invoke(cli, ["review", "import", str(example_run.out), str(dec)])
    assert res.exit_code == 1 and "names no decisions file" in res.output and "--into" in res.output


def test_import_into_the_file_the_settings_name(example_run, tmp_path):
    """settings `decisions: review/decisions.csv` is relative to the settings file."""
    run_dir = tmp_path / "run"
    shutil.copytree(example_run.out, run_dir)
    settings = tmp_path / "conf" / "mine.yaml"
    settings.parent.mkdir()
    settings.write_text((ROOT / "settings" / "scholarly.yaml").read_text() + "\ndecisions: review/decisions.csv\n")
    info = json.loads((run_dir / "run.json").read_text())
    info["settings"]["path"] = str(settings)
    (run_dir / "run.json").write_text(json.dumps(info))
    assert settings_decisions_path(settings) == settings.parent / "review" / "decisions.csv"
    assert settings_decisions_path(linkage.settings.load_settings(settings)) == settings.parent / "review" / "decisions.csv"
    ids = example_run.records["unique_id"].tolist()
    dec = write_csv(tmp_path / "dec.csv", [{"unique_id_l": ids[0], "unique_id_r": ids[1], "decision": "same"}])
    res = invoke("review", "import", str(run_dir), str(dec), "--dry-run")
    assert "not written" in res.output and not (settings.parent / "review" / "decisions.csv").exists()
    res = invoke("review", "import", str(run_dir), str(dec))
    assert res.exit_code == 0 and "every later 'linkage run' with these settings applies it" in res.output
    assert read_decisions_file(settings.parent / "review" / "decisions.csv").rows[0].decision == "same"
    # the sheet now shows the decision on file
    sheet = read_csv_rows(invoke("review", "export", str(run_dir)).stdout)
    assert all(r["previous_decision"] == "" for r in sheet)  # not a band pair: nothing shown
    band = band_pairs(RunData(run_dir)).iloc[0]
    dec2 = write_csv(tmp_path / "dec2.csv", [{"unique_id_l": band["unique_id_l"], "unique_id_r": band["unique_id_r"],
                                              "decision": "different"}])
    invoke("review", "import", str(run_dir), str(dec2))
    sheet = read_csv_rows(invoke("review", "export", str(run_dir)).stdout)
    assert sheet[0]["previous_decision"] == "different"
    assert len(read_csv_rows(invoke("review", "export", str(run_dir), "--skip-decided").stdout)) == len(sheet) - 1


# ---------------------------------------------------------------------------------------------------------
# Decision rules without a run
# ---------------------------------------------------------------------------------------------------------


def D(a: str, b: str, d: str, line: int = 0) -> Decision:
    return Decision(a, b, d, line=line)


def test_cannot_link_wins_over_transitive_must_links():
    must = [D("a", "b", "same", 2), D("b", "c", "same", 3), D("d", "e", "same", 5)]
    kept, conflicts = resolve_conflicts(must, [D("a", "c", "different", 4)])
    assert [(m.unique_id_l, m.unique_id_r) for m in kept] == [("d", "e")]
    assert conflicts[0]["cannot_link"] == ["a", "c"]
    assert [m["line"] for m in conflicts[0]["must_links_dropped"]] == [2, 3]
    # two chains between the pair: both are dropped
    must = [D("a", "b", "same"), D("b", "c", "same"), D("a", "x", "same"), D("x", "c", "same")]
    kept, conflicts = resolve_conflicts(must, [D("a", "c", "different")])
    assert kept == [] and len(conflicts[0]["must_links_dropped"]) == 4


def test_apply_decisions_rules():
    rows = [D("a", "b", "same", 2), D("b", "a", "different", 3), D("c", "d", "unsure", 4), D("e", "zz", "same", 5),
            D("f", "g", "same", 6)]
    must, cannot, info = apply_decisions(rows, known={"a", "b", "c", "d", "e", "f", "g"})
    assert must == [("f", "g")] and cannot == [("b", "a")]
    assert info["replaced"] == 1 and info["replaced_changed"][0]["earlier_decision"] == "same"
    assert info["unsure"] == 1 and info["unknown"] == 1 and info["unknown_ids"] == ["line 5: zz"]
    assert info["pairs_decided"] == 3 and info["applied"] == 2
    # matching an existing run (frozen works): decisions that would split or join existing works wait for a run
    must, cannot, info = apply_decisions([D("a", "b", "different", 2), D("c", "d", "same", 3), D("a", "n", "same", 4)],
                                         known={"a", "b", "c", "d", "n"}, frozen={"a": "w1", "b": "w1", "c": "w2",
                                                                                  "d": "w3"})
    assert must == [("a", "n")] and cannot == []
    assert sorted(x["decision"] for x in info["not_applied"]) == ["different", "same"]


def test_decisions_file_reading(tmp_path):
    p = tmp_path / "d.csv"
    p.write_bytes("\ufeffunique_id_l;unique_id_r;decision;who\na;b;Duplicate;x\nc;d;;\n\nc;e;0;y\n".encode())
    f = read_decisions_file(p)
    assert [(r.unique_id_l, r.decision, r.line) for r in f.rows] == [("a", "same", 2), ("c", "different", 5)]
    assert f.undecided == 1
    records = pd.DataFrame({"unique_id": ["a", "b", "c", "e"]})
    must, cannot, info = load_decisions(p, records)
    assert must == [("a", "b")] and cannot == [("c", "e")] and info["file"] == str(p)
    assert load_decisions(None, records) == ([], [], {"file": None, "applied": 0})
    with pytest.raises(LinkageError, match="no such decisions file"):
        load_decisions(tmp_path / "missing.csv", records)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(LinkageError, match="empty"):
        read_decisions_file(tmp_path / "empty.csv")


# ---------------------------------------------------------------------------------------------------------
# Cluster diagnostics
# ---------------------------------------------------------------------------------------------------------


def test_bridges():
    assert sorted(bridges(3, [0, 1], [1, 2])) == [0, 1]                 # a path: every edge
    assert bridges(3, [0, 1, 2], [1, 2, 0]) == []                       # a triangle: none
    assert bridges(4, [0, 1, 2, 2], [1, 2, 0, 3]) == [3]                # a triangle with a tail
    assert bridges(2, [0, 0], [1, 1]) == []                             # two parallel edges
    assert sorted(bridges(6, [0, 1, 3, 4], [1, 2, 4, 5])) == [0, 1, 2, 3]  # two components


def test_cluster_diagnostics(example_run):
    run = RunData(example_run.out)
    d = cluster_diagnostics(run)
    sizes = example_run.clusters.groupby("cluster_id").size()
    assert set(d["cluster_id"]) == set(sizes[sizes > 1].index)
    assert (d["size"] == d["cluster_id"].map(sizes)).all()
    assert d["risk"].is_monotonic_decreasing and list(d["rank"]) == list(range(1, len(d) + 1))
    linked = d[d["edges"] > 0]
    assert (linked["weakest_edge"] >= run.threshold - 1e-9).all()
    assert (d["bridges"] <= d["edges"]).all()
    two = d[d["size"] == 2]
    assert (two["bridges"] == 1).all() and (two["weakest_bridge"] == two["weakest_edge"]).all()
    top = d.iloc[0]
    assert top["risk"] > 0 and len(top["bridge_l"]) == top["bridges"]
    # written by write_report, read back
    on_disk = pd.read_parquet(example_run.out / DIAGNOSTICS_FILE)
    assert list(on_disk["cluster_id"]) == list(d["cluster_id"])


def test_review_clusters_command(example_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(example_run.out, run_dir)
    (run_dir / DIAGNOSTICS_FILE).unlink()
    res = invoke("review", "clusters", str(run_dir), "--top", "3", "-o", str(tmp_path / "risk.csv"))
    assert res.exit_code == 0 and (run_dir / DIAGNOSTICS_FILE).is_file()
    assert "works with more than one record" in res.output
    rows = read_csv_rows((tmp_path / "risk.csv").read_text())
    assert rows[0]["rank"] == "1" and float(rows[0]["risk"]) >= float(rows[-1]["risk"])


def test_must_links_count_as_certain(trip):
    d = cluster_diagnostics(RunData(trip["rerun"].out))
    s, t = trip["join"]
    cid = trip["rerun"].clusters.set_index("unique_id").loc[s, "cluster_id"]
    row = d[d["cluster_id"] == cid].iloc[0]
    assert row["decisions_same"] >= 1
    if row["size"] == 2:  # joined by the decision alone
        assert row["risk"] == 0 and row["bridges"] == 0
