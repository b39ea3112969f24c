"""Incremental matching with stable ids: `linkage match NEW --run RUN` scores new records against a finished
run with its model. Existing records keep their cluster ids, a copy of an existing record joins its cluster,
a brand-new record forms its own, two existing clusters are never merged through a new record, and new ids
that clash with the run's give a clear error."""

from __future__ import annotations

import csv

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import EXAMPLE_SOURCES, EXAMPLES

from linkage.cli import cli
from linkage.errors import LinkageError

pytestmark = pytest.mark.slow
SOURCES = [str(p) for p in EXAMPLE_SOURCES]
FIELDS = ["id", "title", "authors", "venue", "year"]


def dblp_row(source_id: str) -> dict:
    with open(EXAMPLES / "sources" / "dblp.csv", encoding="utf-8", errors="replace", newline="") as f:
        return next(r for r in csv.DictReader(f) if r["id"] == source_id)


def pairs_of_clusters(run, n: int) -> list[tuple[str, str]]:
    """n clusters made of exactly one DBLP and one ACM record, with ordinary (not generic) titles."""
    rec = run.records.set_index("unique_id")
    out = []
    for _, members in run.clusters.groupby("cluster_id")["unique_id"]:
        ids = sorted(members)
        if len(ids) == 2 and ids[0].startswith("acm:") and ids[1].startswith("dblp:") \
                and not rec.loc[ids[0], "title_generic"] and len(str(rec.loc[ids[1], "title"])) > 30:
            out.append((ids[1], ids[0]))
        if len(out) == n:
            return out
    raise AssertionError("the examples have too few DBLP-ACM pairs")


@pytest.fixture(scope="module")
def scenario(example_run, tmp_path_factory):
    """A base run in which a true DBLP-ACM pair (X, Y) is split by a cannot-link decision, and new records:
    a copy of X (linking strongly to both X and Y), a copy of another DBLP record Z, and a new paper."""
    import linkage

    tmp = tmp_path_factory.mktemp("match")
    (x, y), (z, z_acm) = pairs_of_clusters(example_run, 2)
    decisions = tmp / "decisions.csv"
    decisions.write_text(f"unique_id_l,unique_id_r,decision\n{x},{y},different\n")
    base = linkage.run(SOURCES, out=tmp / "base", model=example_run.out, decisions=decisions, report=False)
    new = tmp / "new.csv"
    with open(new, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, FIELDS)
        w.writeheader()
        w.writerow({**dblp_row(x.split(":", 1)[1]), "id": "n-bridge"})
        w.writerow({**dblp_row(z.split(":", 1)[1]), "id": "n-copy"})
        w.writerow({"id": "n-fresh", "title": "Holographic indexing of medieval palimpsests with quantum ink",
                    "authors": "Quirinus Zyxwvut", "venue": "Journal of Imaginary Studies", "year": "2031"})
    matched = linkage.pipeline.match([f"new={new}"], base.out, out=tmp / "matched", report=False)
    return {"base": base, "matched": matched, "x": x, "y": y, "z": z, "z_acm": z_acm, "tmp": tmp}


def test_existing_records_keep_their_cluster_ids(scenario):
    before = scenario["base"].clusters.set_index("unique_id")["cluster_id"]
    after = scenario["matched"].clusters.set_index("unique_id")["cluster_id"]
    assert after.loc[before.index].equals(before)
    assert len(after) == len(before) + 3


def test_base_run_split_the_pair(scenario):
    clusters = scenario["base"].clusters.set_index("unique_id")["cluster_id"]
    assert clusters[scenario["x"]] != clusters[scenario["y"]]
    assert clusters[scenario["z"]] == clusters[scenario["z_acm"]]


def test_copy_joins_its_cluster(scenario):
    after = scenario["matched"].clusters.set_index("unique_id")["cluster_id"]
    assert after["new:n-copy"] == after[scenario["z"]] == after[scenario["z_acm"]]


def test_new_paper_forms_its_own_cluster(scenario):
    after = scenario["matched"].clusters
    assert after.loc[after["unique_id"] == "new:n-fresh", "cluster_id"].item() == "new:n-fresh"
    assert (after["cluster_id"] == "new:n-fresh").sum() == 1


def test_no_two_existing_clusters_merge_through_a_new_record(scenario):
    before = scenario["base"].clusters.set_index("unique_id")["cluster_id"]
    after = scenario["matched"].clusters.set_index("unique_id")["cluster_id"]
    pairs = scenario["matched"].pairs.set_index(["unique_id_l", "unique_id_r"])["match_weight"]
    threshold = scenario["matched"].info["threshold"]["match_weight"]
    bridge, x, y = "new:n-bridge", scenario["x"], scenario["y"]
    # the new record links to both sides of the split pair...
    assert pairs[tuple(sorted((bridge, x)))] >= threshold and pairs[tuple(sorted((bridge, y)))] >= threshold
    # ...joins one of them, and the two existing clusters stay apart
    assert after[bridge] in (after[x], after[y]) and after[x] != after[y]
    merged = pd.DataFrame({"after": after.loc[before.index], "before": before})
    assert (merged.groupby("after")["before"].nunique() == 1).all()
    assert scenario["matched"].info["clustering"]["joins_refused"].get("existing_clusters", 0) >= 1


def test_match_summary(scenario):
    m = scenario["matched"].info["match"]
    assert m["new_records"] == 3 and m["joined_existing_clusters"] == 2 and m["new_clusters"] == 1


def test_id_clash_is_a_clear_error(scenario):
    clash = scenario["tmp"] / "clash.csv"
    clash.write_text("id,title\nconf/sigmod/AgichteinGV01,Snowball again\n")
    r = CliRunner().invoke(cli, ["match", f"dblp={clash}", "--run", str(scenario["base"].out), "--out",
                                 str(scenario["tmp"] / "clash-out")], catch_exceptions=False)
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "ids already in the run (e.g. dblp:conf/sigmod/AgichteinGV01)" in r.output
    import linkage

    with pytest.raises(LinkageError, match="name the new source differently"):
        linkage.pipeline.match([f"dblp={clash}"], scenario["base"].out, out=scenario["tmp"] / "clash-2")
