"""Tests for linkage.evaluation: label readers, id resolution, metrics (hand-computed), run evaluation."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from linkage.errors import LabelsError, LinkageError, RunFolderError
from linkage.evaluation import (
    PairCase,
    Truth,
    bcubed_metrics,
    cluster_metrics,
    edge_metrics,
    error_pairs,
    evaluate_run,
    format_metrics,
    labelled_pair_metrics,
    read_labels,
    read_pair_cases,
    truth_from_clusters,
    truth_from_pairs,
)

LABELS = Path(__file__).parent / "data" / "labels"


# --------------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------------


def make_records(spec: dict[str, list[str]]) -> pd.DataFrame:
    """Records from {source: [source_id, ...]}; unique_id is "<source>:<source_id>"."""
    rows = [(f"{src}:{sid}", src, sid) for src, ids in spec.items() for sid in ids]
    return pd.DataFrame(rows, columns=["unique_id", "source", "source_id"])


def make_clusters(groups: list[list[str]]) -> pd.DataFrame:
    rows = [(uid, f"c{i}") for i, g in enumerate(groups) for uid in g]
    return pd.DataFrame(rows, columns=["unique_id", "cluster_id"])


def pairs_frame(pairs: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["unique_id_l", "unique_id_r"])


def entity_groups(truth: Truth) -> set[frozenset[str]]:
    """The true entities with more than one record, as sets of unique_ids."""
    groups = truth.entity.groupby(truth.entity).groups
    return {frozenset(map(str, idx)) for idx in groups.values() if len(idx) > 1}


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# --------------------------------------------------------------------------------------------------------
# cluster metrics, hand-computed
# --------------------------------------------------------------------------------------------------------

ABC = make_records({"s": ["a", "b", "c", "d", "e", "f"]})


def test_cluster_metrics_hand_example():
    # truth {a,b,c} {d,e} {f}: 3 + 1 = 4 true pairs
    truth = truth_from_clusters(ABC, {"s:a": 1, "s:b": 1, "s:c": 1, "s:d": 2, "s:e": 2})
    # predicted {a,b} {c,d} {e,f}: 3 predicted pairs; only a-b is true
    clusters = make_clusters([["s:a", "s:b"], ["s:c", "s:d"], ["s:e", "s:f"]])
    m = cluster_metrics(ABC, clusters, truth)
    assert (m["tp"], m["fp"], m["fn"], m["pred_pairs"], m["true_pairs"]) == (1, 2, 3, 3, 4)
    assert m["precision"] == pytest.approx(1 / 3)
    assert m["recall"] == pytest.approx(1 / 4)
    assert m["f1"] == pytest.approx(2 * (1 / 3) * (1 / 4) / (1 / 3 + 1 / 4))


def test_transitive_closure_makes_a_c_a_true_pair():
    recs = make_records({"s": ["A", "B", "C", "D"]})
    truth = truth_from_pairs(recs, pairs_frame([("s:A", "s:B"), ("s:B", "s:C")]))
    assert entity_groups(truth) == {frozenset({"s:A", "s:B", "s:C"})}
    # predicting only A-C (never labelled directly) is a true positive
    m = cluster_metrics(recs, make_clusters([["s:A", "s:C"], ["s:B"], ["s:D"]]), truth)
    assert (m["tp"], m["fp"], m["fn"], m["true_pairs"]) == (1, 0, 2, 3)


def test_chain_merging_two_true_clusters_gives_six_false_positives():
    truth = truth_from_clusters(ABC, {"s:a": 1, "s:b": 1, "s:c": 1, "s:d": 2, "s:e": 2})
    # a chain of edges merges both entities into one predicted cluster of 5: C(5,2) = 10 predicted pairs,
    # of which 3 + 1 are true, so fp = 3 * 2 = 6 cross-entity pairs
    clusters = make_clusters([["s:a", "s:b", "s:c", "s:d", "s:e"], ["s:f"]])
    m = cluster_metrics(ABC, clusters, truth)
    assert (m["pred_pairs"], m["tp"], m["fp"], m["fn"]) == (10, 4, 6, 0)
    assert m["precision"] == pytest.approx(0.4)
    assert m["recall"] == 1.0


def test_one_to_many_link_truth_and_cross_source_counting():
    recs = make_records({"dblp": ["d1", "d2"], "acm": ["a1", "a2", "a3"]})
    # 1:N: d1 is linked to two ACM records
    truth = truth_from_pairs(recs, pairs_frame([("dblp:d1", "acm:a1"), ("dblp:d1", "acm:a2")]))
    assert entity_groups(truth) == {frozenset({"dblp:d1", "acm:a1", "acm:a2"})}
    clusters = make_clusters([["dblp:d1", "acm:a1"], ["acm:a2"], ["dblp:d2"], ["acm:a3"]])
    # all pairs: the closure adds a1-a2 (same source) -> 3 true pairs
    m = cluster_metrics(recs, clusters, truth)
    assert (m["true_pairs"], m["tp"], m["fn"]) == (3, 1, 2)
    # cross-source: a1-a2 does not count -> 2 true pairs
    m = cluster_metrics(recs, clusters, truth, cross_source=True)
    assert (m["true_pairs"], m["tp"], m["fn"], m["fp"]) == (2, 1, 1, 0)
    assert m["recall"] == 0.5


def test_cross_source_drops_within_source_pairs_from_predicted_and_true():
    recs = make_records({"x": ["1", "2"], "y": ["1", "2"], "z": ["1"]})
    truth = truth_from_clusters(recs, {"x:1": 1, "x:2": 1, "y:1": 1, "y:2": 1})
    clusters = make_clusters([["x:1", "x:2", "y:1", "y:2", "z:1"]])
    # all pairs: C(5,2) = 10 predicted, C(4,2) = 6 true; cross-source: minus x1-x2 and y1-y2
    m_all = cluster_metrics(recs, clusters, truth)
    m_cross = cluster_metrics(recs, clusters, truth, cross_source=True)
    assert (m_all["pred_pairs"], m_all["true_pairs"], m_all["tp"]) == (10, 6, 6)
    assert (m_cross["pred_pairs"], m_cross["true_pairs"], m_cross["tp"], m_cross["fp"]) == (8, 4, 4, 4)


def test_records_missing_from_clusters_and_truth_are_singletons():
    truth = truth_from_clusters(ABC, {"s:a": 1, "s:b": 1})
    clusters = make_clusters([["s:a", "s:b"]])  # c..f not listed
    m = cluster_metrics(ABC, clusters, truth)
    assert (m["tp"], m["fp"], m["fn"]) == (1, 0, 0)


def test_zero_denominators_give_zero():
    truth = truth_from_clusters(ABC, {})
    m = cluster_metrics(ABC, make_clusters([[u] for u in ABC["unique_id"]]), truth)
    assert (m["precision"], m["recall"], m["f1"], m["pred_pairs"], m["true_pairs"]) == (0.0, 0.0, 0.0, 0, 0)


def test_duplicate_cluster_rows_are_rejected():
    clusters = pd.DataFrame({"unique_id": ["s:a", "s:a"], "cluster_id": [1, 2]})
    with pytest.raises(RunFolderError, match="s:a"):
        cluster_metrics(ABC, clusters, truth_from_clusters(ABC, {}))


# --------------------------------------------------------------------------------------------------------
# B-cubed
# --------------------------------------------------------------------------------------------------------


def test_bcubed_hand_example():
    recs = make_records({"s": ["a", "b", "c"]})
    truth = truth_from_clusters(recs, {"s:a": 1, "s:b": 1})
    # one predicted cluster {a,b,c}: precision a 2/3, b 2/3, c 1/3 -> 5/9; recall 1 for all
    m = bcubed_metrics(recs, make_clusters([["s:a", "s:b", "s:c"]]), truth)
    assert m["precision"] == pytest.approx(5 / 9)
    assert m["recall"] == pytest.approx(1.0)
    assert m["f1"] == pytest.approx(5 / 7)


def test_bcubed_split_entity():
    truth = truth_from_clusters(ABC, {"s:a": 1, "s:b": 1, "s:c": 1, "s:d": 1})
    clusters = make_clusters([["s:a", "s:b"], ["s:c", "s:d"], ["s:e"], ["s:f"]])
    # precision 1 everywhere; recall a..d = 2/4 each, e, f = 1 -> (4 * 0.5 + 2) / 6 = 2/3
    m = bcubed_metrics(ABC, clusters, truth)
    assert m["precision"] == pytest.approx(1.0)
    assert m["recall"] == pytest.approx(2 / 3)


# --------------------------------------------------------------------------------------------------------
# edge metrics
# --------------------------------------------------------------------------------------------------------


def scored(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["unique_id_l", "unique_id_r", "match_weight"])


def test_edge_metrics_sweep_and_recall_over_all_true_pairs():
    # truth {a,b,c} {d,e}: 4 true pairs; a-c is never scored
    truth = truth_from_clusters(ABC, {"s:a": 1, "s:b": 1, "s:c": 1, "s:d": 2, "s:e": 2})
    pairs = scored([("s:a", "s:b", 8.0), ("s:b", "s:c", 5.0), ("s:c", "s:d", 3.0), ("s:d", "s:e", 1.0),
                    ("s:e", "s:f", -2.0)])
    em = edge_metrics(pairs, truth, thresholds=[0.0, 4.0, 10.0], threshold=4.0)
    sweep = em["sweep"].set_index("threshold")
    # t=0: predicted a-b, b-c, c-d, d-e -> tp 3, fp 1, fn 1
    assert tuple(sweep.loc[0.0, ["tp", "fp", "fn"]]) == (3, 1, 1)
    assert sweep.loc[0.0, "precision"] == pytest.approx(0.75)
    assert sweep.loc[0.0, "recall"] == pytest.approx(0.75)
    # t=4: a-b, b-c -> tp 2, fp 0, fn 2
    assert tuple(sweep.loc[4.0, ["tp", "fp", "fn"]]) == (2, 0, 2)
    # t=10: nothing predicted
    assert tuple(sweep.loc[10.0, ["tp", "fp", "fn", "precision", "recall", "f1"]]) == (0, 0, 4, 0, 0, 0)
    assert em["true_pairs"] == 4 and em["true_pairs_scored"] == 3
    assert em["max_recall"] == pytest.approx(0.75)
    # best F1 over all distinct weights: >= 1.0 gives p 3/4, r 3/4, f1 0.75 (>= 5: p 1, r 0.5, f1 0.667)
    assert em["best_threshold"] == 1.0
    assert em["best_f1"] == pytest.approx(0.75)
    assert em["at_threshold"]["tp"] == 2 and em["at_threshold"]["recall"] == pytest.approx(0.5)


def test_edge_metrics_dedupes_reversed_pairs_and_ignores_unknown_ids():
    truth = truth_from_clusters(ABC, {"s:a": 1, "s:b": 1})
    pairs = scored([("s:a", "s:b", 2.0), ("s:b", "s:a", 7.0), ("s:a", "zzz", 9.0), ("s:c", "s:c", 9.0)])
    em = edge_metrics(pairs, truth, thresholds=[5.0])
    assert em["n_pairs"] == 1 and em["n_pairs_ignored"] == 2
    assert tuple(em["sweep"].iloc[0][["tp", "fp", "fn"]]) == (1, 0, 0)  # the higher weight (7) counts


def test_edge_metrics_cross_source_ignores_within_source_edges():
    recs = make_records({"x": ["1", "2"], "y": ["1"]})
    truth = truth_from_clusters(recs, {"x:1": 1, "x:2": 1, "y:1": 1})
    pairs = scored([("x:1", "x:2", 5.0), ("x:1", "y:1", 4.0)])
    em = edge_metrics(pairs, truth, cross_source=True, thresholds=[0.0])
    assert em["true_pairs"] == 2 and em["n_pairs"] == 1
    assert tuple(em["sweep"].iloc[0][["tp", "fp", "fn"]]) == (1, 0, 1)


def test_edge_metrics_accepts_probability_only_and_default_grid():
    truth = truth_from_clusters(ABC, {"s:a": 1, "s:b": 1})
    pairs = pd.DataFrame({"unique_id_l": ["s:a", "s:c"], "unique_id_r": ["s:b", "s:d"],
                          "match_probability": [0.999, 0.2]})
    em = edge_metrics(pairs, truth)
    assert em["best_f1"] == 1.0
    assert em["best_threshold"] == pytest.approx(math.log2(0.999 / 0.001))
    grid = em["sweep"]["threshold"].to_numpy()
    assert grid[0] <= math.log2(0.2 / 0.8) and grid[-1] >= math.log2(999) and np.allclose(np.diff(grid), 0.5)


def test_edge_metrics_without_pairs():
    em = edge_metrics(scored([]), truth_from_clusters(ABC, {"s:a": 1, "s:b": 1}))
    assert em["best_threshold"] is None and em["sweep"].empty and em["true_pairs"] == 1


# --------------------------------------------------------------------------------------------------------
# error pairs and labelled pairs
# --------------------------------------------------------------------------------------------------------


def test_error_pairs_lists_false_positives_and_negatives():
    truth = truth_from_clusters(ABC, {"s:a": 1, "s:b": 1, "s:c": 1, "s:d": 2, "s:e": 2})
    clusters = make_clusters([["s:a", "s:b", "s:d", "s:e"], ["s:c"], ["s:f"]])
    pairs = scored([("s:b", "s:d", 3.5)])
    fp, fn = error_pairs(ABC, clusters, truth, pairs=pairs)
    got_fp = {frozenset(p) for p in zip(fp["unique_id_l"], fp["unique_id_r"], strict=True)}
    assert got_fp == {frozenset(p) for p in [("s:a", "s:d"), ("s:a", "s:e"), ("s:b", "s:d"), ("s:b", "s:e")]}
    assert set(fp["cluster_id"]) == {"c0"}
    assert fp.set_index(["unique_id_l", "unique_id_r"])["match_weight"].dropna().to_dict() == {
        ("s:b", "s:d"): 3.5}
    got_fn = {frozenset(p) for p in zip(fn["unique_id_l"], fn["unique_id_r"], strict=True)}
    assert got_fn == {frozenset({"s:a", "s:c"}), frozenset({"s:b", "s:c"})}
    assert set(zip(fn["cluster_id_l"], fn["cluster_id_r"], strict=True)) == {("c0", "c1")}
    # counts agree with cluster_metrics
    m = cluster_metrics(ABC, clusters, truth)
    assert (m["fp"], m["fn"]) == (len(fp), len(fn))


def test_error_pairs_limit_and_cross_source():
    recs = make_records({"x": [str(i) for i in range(30)], "y": [str(i) for i in range(30)]})
    truth = truth_from_clusters(recs, {})  # all singletons: every predicted pair is a false positive
    clusters = make_clusters([list(recs["unique_id"])])
    fp, fn = error_pairs(recs, clusters, truth, cross_source=True, limit=50)
    assert len(fp) == 50 and fn.empty
    assert (fp["source_l"] != fp["source_r"]).all()
    fp_all, _ = error_pairs(recs, clusters, truth, cross_source=True, limit=10_000)
    assert len(fp_all) == 30 * 30 == cluster_metrics(recs, clusters, truth, cross_source=True)["fp"]


def test_labelled_pair_metrics_uses_explicit_positives_and_negatives(tmp_path):
    recs = make_records({"s": ["1", "2", "3", "4"]})
    path = write(tmp_path, "p.csv", "id1,id2,label\n1,2,1\n3,4,0\n1,3,0\n")
    truth = read_labels(path, recs)
    clusters = make_clusters([["s:1", "s:2", "s:3"], ["s:4"]])
    lm = labelled_pair_metrics(recs, clusters, truth)
    assert lm == {"n_positive": 1, "n_negative": 2, "tp": 1, "fn": 0, "fp": 1, "tn": 1,
                  "accuracy": pytest.approx(2 / 3)}


# --------------------------------------------------------------------------------------------------------
# label formats
# --------------------------------------------------------------------------------------------------------

LEIPZIG_RECORDS = make_records({
    "DBLP2": ["conf/sigmod/SlivinskasJS01", "conf/sigmod/ChaudhuriDN01", "conf/sigmod/RinfretOO01",
              "conf/sigmod/BreunigKKS01", "conf/sigmod/JagadishJOT01", "journals/sigmod/Mackay99"],
    "acm": ["375678", "375694", "375669", "375672", "375687", "304586"],
    # a third source reusing an ACM id: resolving "375678" by source_id alone would be ambiguous
    "scholar": ["375678"],
})


def test_leipzig_mapping_resolves_by_column_source():
    truth = read_labels(LABELS / "leipzig_perfect_mapping.csv", LEIPZIG_RECORDS)
    assert truth.format == "leipzig_mapping"
    assert truth.n_unresolved == 0 and truth.n_ambiguous == 0 and truth.warnings == []
    assert truth.n_label_rows == 5
    assert frozenset({"DBLP2:conf/sigmod/SlivinskasJS01", "acm:375678"}) in entity_groups(truth)
    assert len(entity_groups(truth)) == 5
    assert "scholar:375678" not in {u for g in entity_groups(truth) for u in g}


def test_leipzig_column_naming_no_run_source_falls_back_with_warning(tmp_path):
    recs = make_records({"a": ["1"], "b": ["x"]})
    path = write(tmp_path, "m.csv", '"idFoo","idB"\n1,"x"\n')
    truth = read_labels(path, recs)
    assert truth.format == "pairs"
    assert any("'idFoo' names no run source" in w for w in truth.warnings)
    assert entity_groups(truth) == {frozenset({"a:1", "b:x"})}


def test_cora_semicolon_file_with_header():
    recs = make_records({"cora": [str(i) for i in range(1, 6)]})
    truth = read_labels(LABELS / "cora_gold_excerpt.csv", recs)
    assert truth.format == "pairs" and truth.n_unresolved == 0
    assert entity_groups(truth) == {frozenset({"cora:1", "cora:2", "cora:3"})}
    assert len(truth.positives) == 3 and truth.negatives.empty


def test_pipe_separated_file_without_header():
    recs = make_records({"cora": ["987", "988", "990", "991", "5"]})
    truth = read_labels(LABELS / "pyjedai_cora_gt_excerpt.csv", recs)
    assert entity_groups(truth) == {frozenset({"cora:987", "cora:988", "cora:990", "cora:991"})}


@pytest.mark.parametrize(("name", "groups"), [
    ("colrev_merged_record_ids.csv", {
        frozenset({"ldd:id_0000001", "ldd:id_0000002"}), frozenset({"ldd:id_0000003", "ldd:id_0000004"}),
        frozenset({"ldd:id_0000005", "ldd:id_0000006", "ldd:id_0000007", "ldd:id_0000008"}),
        frozenset({"ldd:id_0000009", "ldd:id_0000010"})}),
    ("colrev_mixed_merged_record_ids.csv", {
        frozenset({"ldd:C_001492", "ldd:P_0000000127"}),
        frozenset({"ldd:C_001315", "ldd:D_001187", "ldd:P_0000000089"}),
        frozenset({"ldd:C_001590", "ldd:D_000869", "ldd:P_0000001378"})}),
])
def test_colrev_merged_record_ids(name, groups):
    ids = sorted({u.split(":", 1)[1] for g in groups for u in g}) + ["id_0000099"]
    recs = make_records({"ldd": ids})
    truth = read_labels(LABELS / name, recs)
    assert truth.format == "colrev_merged_ids"
    assert entity_groups(truth) == groups
    # records not listed are singletons
    assert (truth.entity == truth.entity["ldd:id_0000099"]).sum() == 1


def test_colrev_unlisted_ids_are_reported(tmp_path):
    recs = make_records({"ldd": ["id_1", "id_2"]})
    path = write(tmp_path, "merged_record_ids.csv", 'merged_ids\n"id_1;id_2"\n"id_3;id_4"\n')
    truth = read_labels(path, recs)
    assert truth.n_unresolved == 2
    assert "2 label ids matched no record" in truth.warnings[0] and "'id_3'" in truth.warnings[0]


@pytest.mark.parametrize("text", [
    "unique_id,cluster_id\nx:1,A\nx:2,A\ny:1,B\ny:2,A\n",
    "source,source_id,cluster\nx,1,A\nx,2,A\ny,1,B\ny,2,A\n",
    "ID\tlabel\nx:1\t7\nx:2\t7\ny:1\t8\ny:2\t7\n",
    "record_id;entity_id\nx:1;e1\nx:2;e1\ny:1;\ny:2;e1\n",
])
def test_cluster_id_tables(tmp_path, text):
    recs = make_records({"x": ["1", "2"], "y": ["1", "2"]})
    truth = read_labels(write(tmp_path, "clusters.csv", text), recs)
    assert truth.format == "clusters" and truth.n_unresolved == 0
    assert entity_groups(truth) == {frozenset({"x:1", "x:2", "y:2"})}


def test_cluster_table_with_per_row_source_avoids_ambiguity(tmp_path):
    recs = make_records({"x": ["1", "2"], "y": ["1", "2"]})
    truth = read_labels(write(tmp_path, "c.csv", "source,id,true_id\nX,1,k\nY,1,k\n"), recs)
    assert entity_groups(truth) == {frozenset({"x:1", "y:1"})}
    assert truth.n_ambiguous == 0


@pytest.mark.parametrize(("text", "sep_name"), [
    ("id_l\tid_r\tmatch\n1\t2\tyes\n2\t3\tno\n3\t4\tyes\n", "tab"),
    ("left_id,right_id,is_duplicate\n1,2,duplicate\n2,3,non-duplicate\n3,4,Duplicate\n", "comma"),
    ("1,2,true\n2,3,false\n3,4,TRUE\n", "no header"),
    ("1|2|same\n2|3|different\n3|4|same\n", "pipe"),
])
def test_labelled_pair_lists(tmp_path, text, sep_name):
    recs = make_records({"s": ["1", "2", "3", "4"]})
    truth = read_labels(write(tmp_path, "pairs.txt", text), recs)
    assert entity_groups(truth) == {frozenset({"s:1", "s:2"}), frozenset({"s:3", "s:4"})}, sep_name
    assert truth.negatives.to_dict("records") == [{"unique_id_l": "s:2", "unique_id_r": "s:3"}]


def test_deepmatcher_style_pairs_pick_the_id_columns(tmp_path):
    recs = make_records({"tableA": ["10"], "tableB": ["20", "21"]})
    text = "_id,label,table1.id,table2.id,table1.title\n0,1,10,20,x\n1,0,10,21,y\n"
    truth = read_labels(write(tmp_path, "test.csv", text), recs)
    assert entity_groups(truth) == {frozenset({"tableA:10", "tableB:20"})}
    assert len(truth.negatives) == 1


def test_utf8_bom_and_surrounding_whitespace(tmp_path):
    recs = make_records({"s": ["1", "2"]})
    truth = read_labels(write(tmp_path, "bom.csv", "\ufeffid1,id2\n 1 , 2 \n"), recs)
    assert truth.encoding == "utf-8-sig"
    assert entity_groups(truth) == {frozenset({"s:1", "s:2"})}


def test_latin1_file():
    recs = make_records({"p": ["müller2001", "mueller2001", "schäfer1999", "çetintemel2005",
                               "cetintemel2005"]})
    truth = read_labels(LABELS / "latin1_pairs.csv", recs)
    assert truth.encoding != "utf-8" and truth.n_unresolved == 0
    assert entity_groups(truth) == {frozenset({"p:müller2001", "p:mueller2001"}),
                                    frozenset({"p:çetintemel2005", "p:cetintemel2005"})}
    assert truth.negatives.to_dict("records") == [{"unique_id_l": "p:müller2001",
                                                   "unique_id_r": "p:schäfer1999"}]


def test_label_contradicting_the_closure_is_reported(tmp_path):
    recs = make_records({"s": ["1", "2", "3"]})
    truth = read_labels(write(tmp_path, "p.csv", "id1,id2,label\n1,2,1\n2,3,1\n1,3,0\n"), recs)
    assert any("contradict" in w for w in truth.warnings)


# --------------------------------------------------------------------------------------------------------
# pair cases
# --------------------------------------------------------------------------------------------------------


def test_read_pair_cases_jsonl_seed_case():
    cases = read_pair_cases(LABELS / "pair_cases.jsonl")
    assert [c.case_id for c in cases] == ["43", "44"]
    assert [c.is_duplicate for c in cases] == [True, False]
    assert isinstance(cases[0], PairCase)
    assert cases[0].record_a["doi"] == "144//" and "id" not in cases[0].record_b
    # doc_2 of case 43 has no id, so every record gets a case-qualified id
    assert (cases[0].id_a, cases[0].id_b, cases[1].id_a) == ("43:1", "43:2", "44:1")


def test_read_pair_cases_bib_dedupe_json():
    cases = read_pair_cases(LABELS / "bib_dedupe_test_cases.json")
    assert len(cases) == 3
    first = cases[0]
    assert first.case_id == "abrahao_parigi_gupta_cook_2017_pnas_short_vs_full"
    assert first.is_duplicate and not cases[1].is_duplicate
    assert first.note.startswith("Same paper")
    assert first.record_a["ID"] == "1"
    # "1" and "2" name different records in different cases -> ids are qualified by the case
    assert (first.id_a, first.id_b) == (f"{first.case_id}:1", f"{first.case_id}:2")


def test_pair_cases_keep_own_ids_when_consistent(tmp_path):
    lines = [{"doc_1": {"id": "p1", "t": "x"}, "doc_2": {"id": "p2"}, "decision": "duplicate", "id": 1},
             {"doc_1": {"id": "p1", "t": "x"}, "doc_2": {"id": "p3"}, "decision": False, "id": 2}]
    path = write(tmp_path, "c.jsonl", "\n".join(json.dumps(o) for o in lines) + "\n")
    cases = read_pair_cases(path)
    assert [(c.id_a, c.id_b, c.is_duplicate) for c in cases] == [("p1", "p2", True), ("p1", "p3", False)]


def test_read_labels_on_pair_cases_accepts_either_id_convention():
    cases = read_pair_cases(LABELS / "pair_cases.jsonl")
    # ids as recommended by PairCase ...
    recs = make_records({"cases": [i for c in cases for i in (c.id_a, c.id_b)]})
    truth = read_labels(LABELS / "pair_cases.jsonl", recs)
    assert truth.format == "pair_cases" and truth.n_unresolved == 0
    assert entity_groups(truth) == {frozenset({"cases:43:1", "cases:43:2"})}
    assert truth.negatives.to_dict("records") == [{"unique_id_l": "cases:44:1", "unique_id_r": "cases:44:2"}]
    # ... or each doc's own id where it has one
    recs = make_records({"cases": ["id-8683175492600289561", "43:2", "pwc-0001", "arxiv-0002"]})
    truth = read_labels(LABELS / "pair_cases.jsonl", recs)
    assert truth.n_unresolved == 0
    assert entity_groups(truth) == {frozenset({"cases:id-8683175492600289561", "cases:43:2"})}


def test_read_labels_on_bib_dedupe_cases():
    cases = read_pair_cases(LABELS / "bib_dedupe_test_cases.json")
    recs = make_records({"bib": [i for c in cases for i in (c.id_a, c.id_b)]})
    truth = read_labels(LABELS / "bib_dedupe_test_cases.json", recs)
    assert truth.format == "bib_dedupe_cases"
    assert len(entity_groups(truth)) == 2 and len(truth.negatives) == 1


# --------------------------------------------------------------------------------------------------------
# id resolution problems
# --------------------------------------------------------------------------------------------------------


def test_unresolved_ids_are_counted_not_fatal(tmp_path):
    recs = make_records({"s": ["1", "2"]})
    truth = read_labels(write(tmp_path, "p.csv", "id1,id2\n1,2\n1,99\n98,97\n"), recs)
    assert truth.n_unresolved == 3
    assert entity_groups(truth) == {frozenset({"s:1", "s:2"})}
    assert any("2 labelled pairs were dropped" in w for w in truth.warnings)


def test_unique_id_takes_precedence_over_source_id(tmp_path):
    recs = make_records({"s": ["1", "2"], "t": ["1"]})
    truth = read_labels(write(tmp_path, "p.csv", "id1,id2\ns:1,t:1\n"), recs)
    assert entity_groups(truth) == {frozenset({"s:1", "t:1"})} and truth.n_ambiguous == 0


def test_ambiguous_source_ids_are_counted_never_guessed(tmp_path):
    recs = make_records({"x": ["7", "8"], "y": ["7", "9"]})
    truth = read_labels(write(tmp_path, "p.csv", "id1,id2\n7,8\n8,9\n"), recs)
    assert truth.n_ambiguous == 1 and truth.n_unresolved == 1
    assert entity_groups(truth) == {frozenset({"x:8", "y:9"})}
    assert any("ambiguous" in w and "'7'" in w for w in truth.warnings)


def test_no_id_resolves_raises_with_hint(tmp_path):
    recs = make_records({"s": ["1", "2"]})
    path = write(tmp_path, "p.csv", "id1,id2\nfoo,bar\n")
    with pytest.raises(LabelsError) as err:
        read_labels(path, recs)
    msg = str(err.value)
    assert str(path) in msg and "none of the 2 label ids matches a record" in msg
    assert "'foo'" in msg and "'s:1'" in msg and "source_id" in msg
    assert isinstance(err.value, LinkageError) and err.value.hint


# --------------------------------------------------------------------------------------------------------
# malformed files
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("ragged.csv", "id1,id2\n1,2\n1,2,3\n", r"line 3: expected 2 fields separated by ',' .*found 3"),
    ("badlabel.csv", "id1,id2,label\n1,2,1\n1,3,maybe\n", r"line 3: label 'maybe' is not a match label"),
    ("emptyid.csv", "id1;id2\n1;2\n;3\n", r"line 3: empty id in column 'id1'"),
    ("wide.csv", "1,2,3,4\n", r"line 1: expected 2 id columns .*found 4 columns"),
    ("layout.csv", "id1,title,year,venue\n1,x,2000,y\n", r"line 1: cannot tell the layout"),
    ("empty.csv", "  \n", r"the file is empty"),
    ("bad.jsonl", '{"doc_1": {}, "doc_2": {}, "decision": "duplicate"}\n{"doc_1": \n',
     r"line 2: not valid JSON"),
    ("nodecision.jsonl", '{"doc_1": {"id": 1}, "doc_2": {"id": 2}}\n', r"line 1: missing 'decision'"),
    ("nodocs.jsonl", '{"a": 1, "decision": "duplicate"}\n', r"line 1: expected two record objects"),
    ("baddecision.json", '{"cases": [{"id": "c", "record_a": {}, "record_b": {}, "expected_duplicate": "hm"}]}',
     r"case 1: expected_duplicate 'hm' is not a match label"),
])
def test_malformed_label_files(tmp_path, name, text, expected):
    recs = make_records({"s": ["1", "2", "3"]})
    path = write(tmp_path, name, text)
    with pytest.raises(LabelsError) as err:
        read_labels(path, recs)
    assert str(path) in str(err.value)
    assert re.search(expected, str(err.value)), str(err.value)


def test_missing_labels_file(tmp_path):
    with pytest.raises(LabelsError, match="labels file not found"):
        read_labels(tmp_path / "nope.csv", ABC)


# --------------------------------------------------------------------------------------------------------
# evaluate_run and format_metrics
# --------------------------------------------------------------------------------------------------------


def make_run(tmp_path: Path, run_json: dict | None = None) -> tuple[Path, Path]:
    """A two-source run: truth {d1,a1} {d2,a2} {d3,a3}; the clustering merges d2,a2,d3 and misses a3."""
    run = tmp_path / "run"
    run.mkdir()
    recs = make_records({"dblp": ["d1", "d2", "d3", "d4"], "acm": ["1", "2", "3", "4"]})
    recs["title"] = "t"
    recs.to_parquet(run / "records.parquet")
    make_clusters([["dblp:d1", "acm:1"], ["dblp:d2", "acm:2", "dblp:d3"], ["acm:3"], ["dblp:d4"],
                   ["acm:4"]]).to_parquet(run / "clusters.parquet")
    scored([("dblp:d1", "acm:1", 9.0), ("dblp:d2", "acm:2", 7.0), ("dblp:d3", "acm:2", 2.0),
            ("dblp:d3", "acm:3", -1.0), ("dblp:d4", "acm:4", -6.0)]).assign(
        match_probability=lambda d: 2 ** d.match_weight / (1 + 2 ** d.match_weight)).to_parquet(
        run / "pairs.parquet")
    if run_json is not None:
        (run / "run.json").write_text(json.dumps(run_json))
    labels = write(tmp_path, "DBLP-ACM_perfectMapping.csv", '"idDBLP","idACM"\n"d1",1\n"d2",2\n"d3",3\n')
    return run, labels


def test_evaluate_run_writes_flat_metrics(tmp_path):
    run, labels = make_run(tmp_path, {"link_type": "link_only", "cluster": {"threshold_match_probability": 0.8}})
    metrics = evaluate_run(run, labels)
    on_disk = json.loads((run / "metrics.json").read_text())
    assert on_disk == metrics
    for key in ["cluster.precision", "cluster.recall", "cluster.f1", "cluster.tp", "cluster.fp", "cluster.fn",
                "bcubed.precision", "bcubed.recall", "bcubed.f1", "edge.best_threshold", "edge.best_f1",
                "edge.precision_at_threshold", "edge.recall_at_threshold", "edge.f1_at_threshold",
                "edge_sweep", "labels", "cross_source"]:
        assert key in metrics, key
    assert metrics["cross_source"] is True and "link_only" in metrics["cross_source_reason"]
    # cross-source predicted pairs: d1-a1, d2-a2, d3-a2 -> tp 2 (d1-a1, d2-a2), fp 1; fn 1 (d3-a3)
    assert (metrics["cluster.tp"], metrics["cluster.fp"], metrics["cluster.fn"]) == (2, 1, 1)
    assert metrics["cluster.precision"] == pytest.approx(2 / 3)
    assert metrics["cluster.recall"] == pytest.approx(2 / 3)
    # B-cubed over whole clusters: precision (1+1 + 1/3+1/3+1/3 ... ) computed by hand:
    # d1,a1: 1; d2,a2: 2/3 each; d3: 1/3; a3,d4,a4: 1 -> (2 + 4/3 + 1/3 + 3) / 8
    assert metrics["bcubed.precision"] == pytest.approx((2 + 4 / 3 + 1 / 3 + 3) / 8)
    # recall: d1,a1,d2,a2: 1; d3, a3: 1/2 each; d4, a4: 1 -> 7/8
    assert metrics["bcubed.recall"] == pytest.approx(7 / 8)
    # threshold p=0.8 -> weight 2: d1-a1, d2-a2, d3-a2 predicted -> tp 2, fp 1, fn 1
    assert metrics["edge.threshold"] == pytest.approx(2.0)
    assert metrics["edge.threshold_source"].startswith("run.json:threshold_match_probability")
    assert (metrics["edge.tp_at_threshold"], metrics["edge.fp_at_threshold"],
            metrics["edge.fn_at_threshold"]) == (2, 1, 1)
    # best: weight >= -1 -> tp 3, fp 1 -> p 3/4, r 1, f1 6/7
    assert metrics["edge.best_threshold"] == -1.0
    assert metrics["edge.best_f1"] == pytest.approx(6 / 7)
    assert metrics["labels"]["format"] == "leipzig_mapping" and metrics["labels"]["n_unresolved"] == 0
    assert isinstance(metrics["edge_sweep"], list) and set(metrics["edge_sweep"][0]) == {
        "threshold", "tp", "fp", "fn", "precision", "recall", "f1"}


@pytest.mark.parametrize(("run_json", "weight", "source"), [
    ({"link_type": "link_and_dedupe", "threshold": {"match_weight": 5.5}}, 5.5, "run.json:threshold.match_weight"),
    ({"clustering": {"method": "guarded", "threshold": -1.0}}, -1.0, "run.json:clustering.threshold"),
    ({"threshold_match_weight": 3}, 3.0, "run.json:threshold_match_weight"),
])
def test_evaluate_run_reads_threshold_from_run_json(tmp_path, run_json, weight, source):
    run, labels = make_run(tmp_path, run_json)
    metrics = evaluate_run(run, labels)
    assert metrics["edge.threshold"] == weight and metrics["edge.threshold_source"] == source
    assert metrics["cross_source"] is True  # link_and_dedupe: decided from the labels


def test_evaluate_run_decides_cross_source_from_labels(tmp_path):
    run, labels = make_run(tmp_path)  # no run.json
    metrics = evaluate_run(run, labels)
    assert metrics["cross_source"] is True and "no within-source pair" in metrics["cross_source_reason"]
    assert metrics["edge.threshold"] == 0.0 and metrics["edge.threshold_source"].startswith("default")
    # all pairs: d2-d3 is now a predicted (false) pair too
    metrics = evaluate_run(run, labels, cross_source=False)
    assert metrics["cross_source"] is False
    assert (metrics["cluster.tp"], metrics["cluster.fp"]) == (2, 2)


def test_evaluate_run_within_source_labels_keep_all_pairs(tmp_path):
    run, _ = make_run(tmp_path)
    labels = write(tmp_path, "l.csv", "unique_id,cluster_id\ndblp:d2,k\ndblp:d3,k\nacm:2,k\n")
    metrics = evaluate_run(run, labels)
    assert metrics["cross_source"] is False
    assert (metrics["cluster.tp"], metrics["cluster.fp"], metrics["cluster.fn"]) == (3, 1, 0)


def test_evaluate_run_missing_file(tmp_path):
    run, labels = make_run(tmp_path)
    (run / "pairs.parquet").unlink()
    with pytest.raises(RunFolderError, match="pairs.parquet is missing"):
        evaluate_run(run, labels)


def test_format_metrics(tmp_path):
    run, labels = make_run(tmp_path, {"link_type": "link_only"})
    text = format_metrics(evaluate_run(run, labels))
    line = next(ln for ln in text.splitlines() if ln.startswith("cluster"))
    assert re.search(r"precision 0\.6667\s+recall 0\.6667\s+f1 0\.6667", line)
    assert re.search(r"\bf1 \d\.\d{4}", line)
    assert "bcubed" in text and "best" in text and "leipzig_mapping" in text
