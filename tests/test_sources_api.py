"""Scholarly-API records (Crossref, Semantic Scholar, OpenAlex, arXiv, Papers with Code) read as sources."""

from __future__ import annotations

import json
from pathlib import Path

from linkage.normalise import normalise_record
from linkage.sources import read_source
from linkage.sources.api import detect_shape, flatten_api_record

DATA = Path(__file__).parent / "data" / "sources"


def test_crossref_works():
    t = read_source(DATA / "crossref_works.jsonl")
    assert len(t.frame) == 6 and t.n_parse_errors == 0
    f = t.frame.set_index("source_id")
    r = f.loc["10.1002/ece3.2314"]
    assert r["api"] == "crossref" and r["doi"] == "10.1002/ece3.2314"
    assert r["title"].startswith("After the games are over")
    assert r["authors"] == ["T. Alex Perkins", "Carl Boettiger", "Benjamin L. Phillips"]
    assert r["date"] == "2016-08-18" and r["venue"] == "Ecology and Evolution"
    assert (r["volume"], r["issue"], r["pages"]) == ("6", "18", "6425-6434")
    assert r["abstract"].lstrip().startswith("<jats:title>")  # raw stays raw
    assert r["origin_source"] == "Crossref"  # Crossref's own "source" key is an origin column
    assert r["ISSN"] == ["2045-7758", "2045-7758"]  # keys not read into a field are kept as read
    assert f.loc["10.1101/014852", "type"] == "posted-content"
    assert f.loc["10.3892/ijo_00000353", "authors"] == ["Stravopodis"]  # family name only
    assert t.mapping["title"] == "title" and t.mapping["authors"] == "authors" and t.mapping["date"] == "date"
    assert "institution" not in t.mapping  # API files are mapped by the API fields, not by synonyms


def test_semantic_scholar_papers():
    t = read_source(DATA / "semantic_scholar_papers.jsonl")
    assert len(t.frame) == 8 and t.n_parse_errors == 0
    r = t.frame.iloc[0]
    assert r["source_id"] == "2d5673caa9e6af3a7b82a43f19ee920992db07ad" and r["api"] == "semantic_scholar"
    assert r["title"] == "Computing Machinery and Intelligence" and r["authors"] == ["A. Turing"]
    assert r["doi"] == "10.1093/MIND/LIX.236.433" and r["date"] == "1950-10-01" and r["year"] == "1950"
    assert (r["venue"], r["volume"], r["pages"]) == ("Mind", "LIX", "433-460")
    assert json.loads(r["externalIds"])["DBLP"] == "journals/x/Turing50"
    assert r["semantic_scholar_venue"] == "The Philosophy of Artificial Intelligence"  # S2's own venue, kept


def test_openalex_works():
    t = read_source(DATA / "openalex_works.jsonl")
    r = t.frame.iloc[0]
    assert r["api"] == "openalex" and r["source_id"] == "https://openalex.org/W2145482038"
    assert r["authors"] == ["Alan M. Turing"] and r["venue"] == "Mind" and r["pages"] == "433-460"
    assert r["abstract"] == "I propose to consider the question, \u201cCan machines think?\u201d"  # rebuilt
    assert r["doi"] == "https://doi.org/10.1093/mind/lix.236.433" and r["date"] == "1950-10-01"
    second = t.frame.iloc[1]
    assert "https://www.biorxiv.org/content/10.1101/014852" in second["urls"]
    assert second["abstract"] is None


def test_arxiv_results():
    t = read_source(DATA / "arxiv_results.jsonl")
    assert t.frame["api"].tolist() == ["arxiv", "arxiv"]
    r = t.frame.iloc[0]
    assert r["authors"] == ["Keke Wu", "Rui Du", "Jingrun Chen", "Xiang Zhou"]
    assert r["arxiv_id"] == "http://arxiv.org/abs/2103.11069v1" and r["date"] == "2021-03-20T01:46:39+00:00"
    assert "http://arxiv.org/pdf/2103.11069v1" in r["urls"] and r["abstract"].startswith("Solving partial")
    assert t.frame["urls"].iloc[1] == ["http://arxiv.org/abs/2103.11069v1", "http://arxiv.org/pdf/2103.11069v1"]
    assert t.frame["source_id"].tolist() == ["http://arxiv.org/abs/2103.11069v1", "http://arxiv.org/abs/2103.11069v1#2"]


def test_papers_with_code_shapes():
    t = read_source(DATA / "pwc_papers.jsonl")
    assert t.frame["api"].tolist() == ["papers_with_code"] * 3
    assert t.frame["arxiv_id"].tolist() == ["2103.11069"] * 3
    pair = t.frame.iloc[0]
    assert pair["title"].startswith("Understanding Loss Landscapes") and pair["authors"][0] == "Keke Wu"
    assert pair["urls"] == ["https://arxiv.org/abs/2103.11069v1", "https://arxiv.org/pdf/2103.11069v1.pdf",
                            "https://github.com/wukekever/landscapes"]
    assert json.loads(pair["repository"])["framework"] == "pytorch"  # the rest of the object is kept
    assert "https://github.com/wukekever/landscapes" in t.frame["urls"].iloc[2]


def test_identifiers_reach_normalisation():
    """API fields land where normalisation looks: DOIs, arXiv ids, URLs."""
    for name, doi, arxiv in (("crossref_works.jsonl", "10.1109/icdcsw.2003.1203662", None),
                             ("openalex_works.jsonl", "10.1093/mind/lix.236.433", None),
                             ("arxiv_results.jsonl", None, "2103.11069"),
                             ("pwc_papers.jsonl", None, "2103.11069")):
        t = read_source(DATA / name)
        norm = normalise_record({f: t.frame[c].iloc[0] for f, c in t.mapping.items()})
        if doi:
            assert norm["doi_norm"] == doi, name
        if arxiv:
            assert norm["arxiv_id_norm"] == arxiv, name


def test_shape_detection_and_envelopes():
    assert detect_shape({"title": "x", "authors": []}) is None
    assert flatten_api_record({"title": "plain", "x": 1}) == {"title": "plain", "x": 1}
    wrapped = {"status": "ok", "message-type": "work",
               "message": {"DOI": "10.1/x", "title": ["T"], "issued": {"date-parts": [[2020, None]]}}}
    r = flatten_api_record(wrapped)
    assert (r["api"], r["title"], r["date"]) == ("crossref", "T", "2020")
    cite = {"contexts": [], "citingPaper": {"paperId": "abc", "title": "Citing", "authors": [{"name": "A"}]}}
    r = flatten_api_record(cite)
    assert (r["api"], r["id"], r["authors"]) == ("semantic_scholar", "abc", ["A"])


def test_mixed_generic_and_api_records(tmp_path):
    p = tmp_path / "mixed.jsonl"
    rows = [{"DOI": "10.1/x", "title": ["From Crossref"], "issued": {"date-parts": [[2020]]}},
            {"id": "g1", "title": "Generic", "journal": "J", "year": 2019}]
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    t = read_source(p)
    assert t.frame["title"].tolist() == ["From Crossref", "Generic"]
    assert t.mapping["venue"] in ("venue", "journal") and t.mapping["year"] == "year"
