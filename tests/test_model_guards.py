"""Guard rails: joins that would put conflicting records in one work are refused by `clustering.method:
guarded`, and `connected_components` does merge them (so the guard did the work).

* a chain A-B-C of strong pairs whose ends A and C carry different valid DOIs in one source;
* generic titles ('Editorial', 'Book reviews') of different issues.
"""

from __future__ import annotations

import copy

import pandas as pd
import pytest
import yaml
from conftest import EXAMPLE_SOURCES

from linkage.clustering import cluster
from linkage.settings import DEFAULT_SETTINGS, read_settings_file

SOURCES = [str(p) for p in EXAMPLE_SOURCES]


def records(rows: list[dict]) -> pd.DataFrame:
    cols = ["unique_id", "source", "doi_norm", "arxiv_id_norm", "title_norm", "title_generic", "first_author",
            "year_norm", "volume_norm", "issue_norm", "page_first"]
    return pd.DataFrame([{c: r.get(c) for c in cols} for r in rows]).astype({"title_generic": bool})


def pairs(edges: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"unique_id_l": min(a, b), "unique_id_r": max(a, b), "match_weight": w}
                         for a, b, w in edges])


def groups(clusters: pd.DataFrame) -> set[frozenset]:
    return set(clusters.groupby("cluster_id")["unique_id"].apply(frozenset))


CHAIN = records([
    {"unique_id": "s:A", "source": "s", "doi_norm": "10.1000/a", "title_norm": "a study of chains"},
    {"unique_id": "s:B", "source": "s", "title_norm": "a study of chains"},
    {"unique_id": "s:C", "source": "s", "doi_norm": "10.1000/c", "title_norm": "a study of chains"},
])
CHAIN_PAIRS = pairs([("s:A", "s:B", 20.0), ("s:B", "s:C", 18.0), ("s:A", "s:C", 2.0)])


def test_doi_conflict_chain_is_cut():
    guarded, rep = cluster(CHAIN, CHAIN_PAIRS, threshold=5.0)
    assert groups(guarded) == {frozenset({"s:A", "s:B"}), frozenset({"s:C"})}
    assert rep.refused["doi_conflict_same_source"] == 1
    plain, _ = cluster(CHAIN, CHAIN_PAIRS, threshold=5.0, method="connected_components")
    assert groups(plain) == {frozenset({"s:A", "s:B", "s:C"})}


def test_doi_conflict_across_sources_is_not_a_conflict():
    """Two sources may give one work different DOIs (preprint server, publisher): only one source's own
    distinct DOIs tell two works apart."""
    recs = CHAIN.assign(source=["s", "s", "t"], unique_id=["s:A", "s:B", "t:C"])
    prs = pairs([("s:A", "s:B", 20.0), ("s:B", "t:C", 18.0)])
    guarded, _ = cluster(recs, prs, threshold=5.0)
    assert groups(guarded) == {frozenset({"s:A", "s:B", "t:C"})}


EDITORIALS = records([
    {"unique_id": f"j:e{i}", "source": "j", "title_norm": "editorial", "title_generic": True,
     "first_author": "smith", "year_norm": 2004, "volume_norm": "12", "issue_norm": str(i)} for i in (1, 2, 3)
])
EDITORIAL_PAIRS = pairs([("j:e1", "j:e2", 15.0), ("j:e1", "j:e3", 15.0), ("j:e2", "j:e3", 15.0)])


def test_generic_titles_in_different_issues_stay_apart():
    guarded, rep = cluster(EDITORIALS, EDITORIAL_PAIRS, threshold=5.0)
    assert len(groups(guarded)) == 3 and rep.refused["generic_title"] == 3
    plain, _ = cluster(EDITORIALS, EDITORIAL_PAIRS, threshold=5.0, method="connected_components")
    assert len(groups(plain)) == 1


def test_generic_title_of_the_same_issue_merges():
    recs = EDITORIALS.assign(issue_norm="1", page_first="3")
    guarded, _ = cluster(recs, EDITORIAL_PAIRS, threshold=5.0)
    assert len(groups(guarded)) == 1


CHAIN_CSV = """id,title,authors,year,venue,doi
A,Guarded clustering of chained duplicate records,"Jane Q. Roe, John Doe",2011,Journal of Duplicate Studies,10.1000/guard-a
B,Guarded clustering of chained duplicate records,"Jane Q. Roe, John Doe",2011,Journal of Duplicate Studies,
C,Guarded clustering of chained duplicate records,"Jane Q. Roe, John Doe",2011,Journal of Duplicate Studies,10.1000/guard-c
"""


@pytest.fixture(scope="module")
def runs(example_run, tmp_path_factory):
    """The examples plus a crafted chain source, scored with the examples' model, clustered both ways."""
    import linkage

    tmp = tmp_path_factory.mktemp("guards")
    chain = tmp / "chain.csv"
    chain.write_text(CHAIN_CSV)
    data = copy.deepcopy(read_settings_file(DEFAULT_SETTINGS))
    data["clustering"]["method"] = "connected_components"
    plain_settings = tmp / "plain.yaml"
    plain_settings.write_text(yaml.safe_dump(data, sort_keys=False))
    kw = {"model": example_run.out, "report": False}
    guarded = linkage.run([*SOURCES, str(chain)], out=tmp / "guarded", **kw)
    plain = linkage.run([*SOURCES, str(chain)], settings=plain_settings, out=tmp / "plain", **kw)
    return guarded, plain


@pytest.mark.slow
def test_pipeline_cuts_the_doi_chain(runs):
    guarded, plain = (r.clusters.set_index("unique_id")["cluster_id"] for r in runs)
    weights = runs[0].pairs.set_index(["unique_id_l", "unique_id_r"])["match_weight"]
    threshold = runs[0].info["threshold"]["match_weight"]
    assert weights[("chain:A", "chain:B")] >= threshold and weights[("chain:B", "chain:C")] >= threshold
    assert plain["chain:A"] == plain["chain:C"]  # without the guard the chain merges A and C...
    assert guarded["chain:A"] != guarded["chain:C"]  # ...with it they stay apart
    assert guarded["chain:B"] in (guarded["chain:A"], guarded["chain:C"])
    assert runs[0].info["clustering"]["joins_refused"]["doi_conflict_same_source"] >= 1


@pytest.mark.slow
def test_pipeline_keeps_generic_titles_apart(runs, example_run):
    refused = [e for e in example_run.info["clustering"]["refused_examples"] if e["reason"] == "generic_title"]
    assert refused, "the examples hold generic titles ('Book reviews') that the guard keeps apart"
    guarded, plain = (r.clusters.set_index("unique_id")["cluster_id"] for r in runs)
    titles = example_run.records.set_index("unique_id")["title"]
    for e in refused:
        a, b = e["unique_id_l"], e["unique_id_r"]
        assert titles[a] == titles[b]
        assert guarded[a] != guarded[b] and plain[a] == plain[b], (a, b, titles[a])
