"""Accuracy rules of the shipped model (issue 4), each asserted on crafted records:

* clustering refuses an ambiguous link into a one-to-one source (two records of that source the
  evidence cannot tell apart);
* ``m_min`` keeps a level's m at or above its bound through training's renormalisation;
* shipped settings: 'same volume, different issue' (two issues of one journal volume hold different
  articles; one-page erratum notices exempt) and 'form unknown on both' (no evidence either way).
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from linkage.clustering import ambiguous_edges, cluster
from linkage.settings import DEFAULT_SETTINGS, compile_settings, load_settings, validate_data
from linkage.training import TrainingReport, apply_m_floors


def _records(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"unique_id": ids, "source": [u.split(":")[0] for u in ids],
                         "title_norm": ["reminiscences on influential papers"] * len(ids)})


def _pairs(edges: list[tuple[str, str, float]]) -> pd.DataFrame:
    rows = []
    for a, b, w in edges:
        lo, hi = min(a, b), max(a, b)
        rows.append({"unique_id_l": lo, "unique_id_r": hi, "source_l": lo.split(":")[0],
                     "source_r": hi.split(":")[0], "match_weight": w})
    return pd.DataFrame(rows)


def _groups(clusters: pd.DataFrame) -> set[frozenset]:
    return {g for g in clusters.groupby("cluster_id")["unique_id"].apply(frozenset) if len(g) > 1}


def test_tied_candidates_in_a_one_to_one_source_link_to_neither():
    recs = _records(["d:1", "a:1", "a:2"])
    prs = _pairs([("d:1", "a:1", 9.6), ("d:1", "a:2", 9.6)])
    out, rep = cluster(recs, prs, threshold=5.0, one_to_one_sources={"a", "d"})
    assert _groups(out) == set()
    assert rep.refused["ambiguous"] == 2


def test_a_clearly_better_candidate_still_links():
    recs = _records(["d:1", "a:1", "a:2"])
    prs = _pairs([("d:1", "a:1", 16.0), ("d:1", "a:2", 9.6)])
    out, rep = cluster(recs, prs, threshold=5.0, one_to_one_sources={"a", "d"})
    assert _groups(out) == {frozenset({"d:1", "a:1"})}
    assert [e["unique_id_l"] for e in rep.refused_examples] == ["a:2"]   # only the weaker edge is refused


def test_ambiguity_is_seen_from_both_ends():
    """a:1 has two DBLP-side candidates within the margin: both of its edges are refused."""
    recs = _records(["d:1", "d:2", "a:1"])
    prs = _pairs([("d:1", "a:1", 12.0), ("d:2", "a:1", 11.0)])
    out, _ = cluster(recs, prs, threshold=5.0, one_to_one_sources={"a", "d"})
    assert _groups(out) == set()
    amb = ambiguous_edges(prs, {"d"}, 2.0)   # only candidates in a one-to-one source compete
    assert amb.all()
    assert not ambiguous_edges(prs, {"a"}, 2.0).any()


def test_no_ambiguity_rule_without_one_to_one_sources():
    """A 1:N source may hold several versions of one work: the best-first joins stand."""
    recs = _records(["d:1", "a:1", "a:2"])
    prs = _pairs([("d:1", "a:1", 9.6), ("d:1", "a:2", 9.6)])
    out, rep = cluster(recs, prs, threshold=5.0, one_to_one_sources=set())
    assert _groups(out) == {frozenset({"d:1", "a:1", "a:2"})}
    assert "ambiguous" not in rep.refused
    out, _ = cluster(recs, prs, threshold=5.0, one_to_one_sources={"a", "d"}, ambiguity_margin=-1)
    assert _groups(out) == {frozenset({"d:1", "a:1"})}   # margin < 0 switches the rule off


def _model(levels: list[tuple[str, float, float]]) -> dict:
    return {"probability_two_random_records_match": 0.001, "comparisons": [{
        "output_column_name": "date",
        "comparison_levels": [{"sql_condition": "x", "is_null_level": True}] + [
            {"sql_condition": lab, "label_for_charts": lab, "m_probability": m, "u_probability": u}
            for lab, m, u in levels]}]}


def test_m_min_raises_m_and_survives_renormalisation():
    model = _model([("same year", 0.98, 0.19), ("one year apart", 0.0049, 0.32), ("years far apart", 0.0151, 0.49)])
    rep = TrainingReport()
    out = apply_m_floors(model, 0.005, rep, m_min={("date", "one year apart"): 0.05})
    lv = {x["label_for_charts"]: x["m_probability"] for x in out["comparisons"][0]["comparison_levels"]
          if not x.get("is_null_level")}
    assert lv["one year apart"] == pytest.approx(0.05)
    assert sum(lv.values()) == pytest.approx(1.0)
    assert any("m_min" in f for f in rep.floored)


def test_m_min_needs_a_label_and_no_fixed_m():
    base = load_settings(DEFAULT_SETTINGS).data
    import copy

    bad = copy.deepcopy(base)
    bad["comparisons"][2]["levels"][3] = {"kind": "abs_diff", "column": "year_norm", "threshold": 1, "m_min": 0.05}
    assert any("m_min finds its level by label" in p for p in validate_data(bad))
    bad["comparisons"][2]["levels"][3].update(label="one year apart", fix_m=0.1)
    assert any("fix_m or m_min, not both" in p for p in validate_data(bad))


def _level(comparison: str, left: dict, right: dict) -> str:
    """The label of the first level of the shipped ``comparison`` the pair meets (Splink's CASE order)."""
    d = compile_settings(load_settings(DEFAULT_SETTINGS), "duckdb", "dedupe").get_settings("duckdb").as_dict()
    comp = next(c for c in d["comparisons"] if c["output_column_name"] == comparison)
    cols = {k for k in left} | {k for k in right}
    row = {f"{k}_l": left.get(k) for k in cols} | {f"{k}_r": right.get(k) for k in cols}
    con = duckdb.connect()
    con.register("p", pd.DataFrame([row]))
    for lv in comp["comparison_levels"]:
        cond = lv["sql_condition"]
        if cond.strip().upper() == "ELSE" or con.execute(f"select ({cond}) from p").fetchone()[0]:
            return lv["label_for_charts"]
    raise AssertionError("no level")


ARTICLE = {"volume_norm": "66", "venue_key": "am j occup ther", "year_norm": 2012, "issue_norm": "2",
           "page_first": "207", "page_last": "214"}


def test_same_volume_different_issue_level():
    other = ARTICLE | {"issue_norm": "3", "page_first": "311", "page_last": "319"}
    assert _level("volume", ARTICLE, other) == "same volume, different issue"
    assert _level("volume", ARTICLE, ARTICLE) == "same volume (same venue and year)"
    erratum = ARTICLE | {"issue_norm": "5", "page_first": "600", "page_last": "600"}
    assert _level("volume", ARTICLE, erratum) == "same volume (same venue and year)"
    no_issue = ARTICLE | {"issue_norm": None}
    assert _level("volume", ARTICLE, no_issue) == "same volume (same venue and year)"


def test_form_unknown_on_both_is_its_own_level():
    vldb = {"pub_type": None, "venue_norm": "vldb"}
    assert _level("publication_form", vldb, vldb) == "form unknown on both"
    assert _level("publication_form", vldb, {"pub_type": "article", "venue_norm": "vldb"}) == \
        "published, form unclear"
    assert _level("publication_form", {"pub_type": "article", "venue_norm": "x"},
                  {"pub_type": "article", "venue_norm": "y"}) == "same form"


def test_split_vote_keeps_two_clusters_apart_when_most_pairs_between_them_say_no():
    """Tech report {r1, r2} and conference paper {c1, c2}: one strong bridge, but the other scored
    pairs between the two clusters are below the threshold (or kept apart by the version policy)."""
    recs = _records(["s:r1", "s:r2", "s:c1", "s:c2"])
    inside = [("s:r1", "s:r2", 20.0), ("s:c1", "s:c2", 20.0)]
    between = [("s:r1", "s:c1", 12.0), ("s:r1", "s:c2", 1.0), ("s:r2", "s:c1", -3.0), ("s:r2", "s:c2", 2.0)]
    out, rep = cluster(recs, _pairs(inside + between), threshold=5.0, bridge_margin=6.0)
    assert _groups(out) == {frozenset({"s:r1", "s:r2"}), frozenset({"s:c1", "s:c2"})}
    assert rep.refused["split_vote"] == 1
    agree = [("s:r1", "s:c1", 12.0), ("s:r1", "s:c2", 9.0), ("s:r2", "s:c1", 3.0), ("s:r2", "s:c2", 2.0)]
    out, _ = cluster(recs, _pairs(inside + agree), threshold=5.0)
    assert _groups(out) == {frozenset({"s:r1", "s:r2", "s:c1", "s:c2"})}
    out, _ = cluster(recs, _pairs(inside + between), threshold=5.0, min_link_share=0)   # off
    assert _groups(out) == {frozenset({"s:r1", "s:r2", "s:c1", "s:c2"})}


def test_frequency_u_excludes_the_matches_share():
    from linkage.modelling import frequency_u_without_matches

    model = {"probability_two_random_records_match": 0.00026, "comparisons": [{
        "output_column_name": "title", "comparison_levels": [
            {"label_for_charts": "same title", "m_probability": 0.86, "u_probability": 0.000277},
            {"label_for_charts": "different titles", "m_probability": 0.14, "u_probability": 0.999}]}]}
    out = frequency_u_without_matches(model, ["title: same title"])
    lv = out["comparisons"][0]["comparison_levels"]
    assert lv[0]["u_probability"] == pytest.approx((0.000277 - 0.00026 * 0.86) / (1 - 0.00026))
    assert lv[1]["u_probability"] == 0.999          # only levels whose u came from value frequencies
    dense = {"probability_two_random_records_match": 0.04, "comparisons": [{
        "output_column_name": "title", "comparison_levels": [
            {"label_for_charts": "same title", "m_probability": 0.9, "u_probability": 0.03}]}]}
    out = frequency_u_without_matches(dense, ["title: same title"], max_gain=10.0)
    assert out["comparisons"][0]["comparison_levels"][0]["u_probability"] == pytest.approx(0.003)  # bounded


def test_frequency_u_survives_em(tmp_path):
    """Splink resets u to the median of each level's trained u values after EM: the u from value
    frequencies must be the one the trained model keeps."""
    from conftest import EXAMPLE_SOURCES

    import linkage
    from linkage.modelling import fit_model

    run = linkage.run([str(p) for p in EXAMPLE_SOURCES[:2]], out=tmp_path / "run", report=False)
    records = pd.read_parquet(tmp_path / "run" / "records.parquet")
    spec = load_settings(DEFAULT_SETTINGS)
    model, rep = fit_model(records, spec, "link_and_dedupe", 42)
    assert "title: same title" in rep.u_from_frequencies
    dated = records["date_norm"].notna().sum()
    assert dated < 100 and not any(x.startswith("date:") for x in rep.u_from_frequencies)  # too few to trust
    keys = records["title_key"].dropna().value_counts()
    n = keys.sum()
    p_same = float((keys * (keys - 1)).sum() / (n * (n - 1)))
    lam = model["probability_two_random_records_match"]
    title = next(c for c in model["comparisons"] if c["output_column_name"] == "title")
    same = next(lv for lv in title["comparison_levels"] if lv.get("label_for_charts") == "same title")
    expected = max((p_same - lam * same["m_probability"]) / (1 - lam), p_same / 10)
    assert same["u_probability"] == pytest.approx(expected, rel=1e-6)
    assert run is not None


def test_book_review_levels():
    review = {"title_norm": "databases and transaction processing an application oriented approach book review",
              "author_surnames": ["kemper"], "first_author": "kemper", "author_count": 1}
    book = {"title_norm": "databases and transaction processing an application oriented approach",
            "author_surnames": ["lewis", "bernstein", "kifer"], "first_author": "lewis", "author_count": 3}
    with_subtitle = book | {"title_norm": book["title_norm"] + " with java examples"}
    title_cols = {"title_key": None, "title_numbers": None, "title_tokens": None}
    assert _level("title", review | title_cols | {"title_key": "a"}, with_subtitle | title_cols | {"title_key": "b"}) \
        == "review of the same book"
    assert _level("authors", review, book) == "book review: reviewer vs the book's authors"
    other = {"title_norm": "a different paper", "author_surnames": ["smith"], "first_author": "smith",
             "author_count": 1}
    assert _level("authors", book, other) == "different authors"
    short = {"title_norm": "what will be book review"}   # too short a book title to trust a prefix
    assert _level("title", short | title_cols | {"title_key": "a"},
                  {"title_norm": "what will be the future"} | title_cols | {"title_key": "b"}) != \
        "review of the same book"


def test_blocking_catches_an_early_title_typo_with_authors_reordered():
    spec = load_settings(DEFAULT_SETTINGS)
    from linkage.settings import blocking_rule_sql

    rules = [blocking_rule_sql(r) for r in spec.get("blocking_rules")]
    left = {"title_key": "gangamasolutiontosupportmultipledatamodels", "year_norm": 2001, "author_count": 7,
            "first_author": "rundensteiner", "doi_norm": None, "arxiv_id_norm": None,
            "author_surnames": ["rundensteiner", "claypool"],
            "title_tokens": ["data", "gangam", "models", "multiple", "solution", "support"]}
    right = left | {"title_key": "sangamasolutiontosupportmultipledatamodels", "first_author": "claypool",
                    "author_surnames": ["claypool", "rundensteiner"]}
    con = duckdb.connect()
    con.register("l", pd.DataFrame([left]))
    con.register("r", pd.DataFrame([right]))
    hits = [r for r in rules if con.execute(f"select count(*) from l, r where {r}").fetchone()[0]]
    assert any("right(l.title_key, 12)" in r.lower() and "author_count" in r for r in hits)


def test_doi_trailing_slash_is_the_same_doi():
    assert _level("doi", {"doi_norm": "10.25300/misq/2020/15190/"}, {"doi_norm": "10.25300/misq/2020/15190"}) == \
        "same DOI but for a trailing slash"
    assert _level("doi", {"doi_norm": "10.1/a"}, {"doi_norm": "10.1/b"}) == "different DOIs"
    recs = pd.DataFrame({"unique_id": ["s:1", "s:2"], "source": ["s", "s"], "title_norm": ["a", "a"],
                         "doi_norm": ["10.25300/misq/2020/15190/", "10.25300/misq/2020/15190"]})
    out, rep = cluster(recs, _pairs([("s:1", "s:2", 20.0)]), threshold=5.0)
    assert _groups(out) == {frozenset({"s:1", "s:2"})}          # not a DOI conflict within the source
    assert "doi_conflict_same_source" not in rep.refused


def test_guard_margins_come_from_the_settings_file(tmp_path):
    """clustering.ambiguity_margin / min_link_share / bridge_margin in a settings file reach ``cluster``."""
    from linkage.clustering import cluster_options
    from linkage.settings import read_settings_file

    assert cluster_options(load_settings().clustering) == {"bridge_margin": 6.0, "ambiguity_margin": 2.0,
                                                           "min_link_share": 0.5}
    data = read_settings_file(DEFAULT_SETTINGS)
    data.setdefault("clustering", {})["ambiguity_margin"] = 7
    p = tmp_path / "s.json"
    p.write_text(__import__("json").dumps(data))
    opts = cluster_options(load_settings(p).clustering)
    assert opts["ambiguity_margin"] == 7.0
    # with a 7-bit margin, the 6.4-bit lead of the better candidate is no longer enough
    recs = _records(["d:1", "a:1", "a:2"])
    prs = _pairs([("d:1", "a:1", 16.0), ("d:1", "a:2", 9.6)])
    out, _ = cluster(recs, prs, threshold=5.0, one_to_one_sources={"a", "d"}, **opts)
    assert _groups(out) == set()
    data["clustering"]["min_link_share"] = 2
    p.write_text(__import__("json").dumps(data))
    assert any("clustering.min_link_share" in m for m in validate_data(data))


def test_model_frame_accepts_arrow_backed_list_columns():
    """Normalised list columns arrive Arrow-backed (missing = pd.NA, as build_records keeps them): they
    pass through unconverted and the engine's table gets lists and NULL; Python lists work as well."""
    import pyarrow as pa

    from linkage.normalise import NORMALISED_COLUMNS
    from linkage.scoring import arrow_schema, model_frame

    recs = pd.DataFrame({"unique_id": ["s:1", "s:2"], "source": ["s", "s"]})
    for c, t in NORMALISED_COLUMNS.items():
        recs[c] = (pd.Series([["a", "b"], None], dtype=pd.ArrowDtype(pa.list_(pa.string())))
                   if t.endswith("[]") else None)
    out = model_frame(recs)
    assert isinstance(out["title_tokens"].dtype, pd.ArrowDtype)  # not a million Python lists
    table = pa.Table.from_pandas(out, schema=arrow_schema(), preserve_index=False)
    assert table.column("title_tokens").to_pylist() == [["a", "b"], None]
    recs["title_tokens"] = pd.Series([["a", "b"], None], dtype=object)
    assert model_frame(recs)["title_tokens"].tolist() == [["a", "b"], None]
