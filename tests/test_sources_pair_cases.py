"""Pair-case files as sources: two records per case, labels carried alongside (never as a column)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from linkage.errors import SourceError
from linkage.evaluation import read_pair_cases
from linkage.normalise import normalise_record
from linkage.sources import read_source

DATA = Path(__file__).parent / "data" / "sources"


def test_seed_case_jsonl():
    t = read_source(DATA / "seed_case.jsonl")
    assert t.format == "pair_cases" and len(t.frame) == 2
    assert t.frame["source_id"].tolist() == ["43:1", "43:2"]  # doc_2 has no own id
    assert t.frame["pair_case"].tolist() == ["43", "43"] and t.frame["pair_side"].tolist() == ["1", "2"]
    assert t.frame["origin_source"].tolist() == ["SupportedSources.PAPERS_WITH_CODE", "SupportedSources.ARXIV"]
    assert "decision" not in t.frame.columns
    assert t.labels.to_dict("records") == [{"id_l": "43:1", "id_r": "43:2", "is_duplicate": True, "case": "43",
                                            "note": ""}]
    pwc = t.frame.iloc[0]
    assert pwc["doi"] == "144//" and pwc["urls"][2] == "nttps://gtutub.com/wukekever/fandscapes"  # raw stays raw
    norm = normalise_record({f: pwc[c] for f, c in t.mapping.items()})
    assert norm["arxiv_id_norm"] == "2103.11069" and norm["doi_norm"] is None


def test_ids_agree_with_evaluation():
    for name in ("seed_case.jsonl", "bib_dedupe_cases.json"):
        cases = read_pair_cases(DATA / name)
        t = read_source(DATA / name)
        assert t.frame["source_id"].tolist() == [i for c in cases for i in (c.id_a, c.id_b)]
        assert t.labels["is_duplicate"].tolist() == [c.is_duplicate for c in cases]


def test_bib_dedupe_json():
    t = read_source(DATA / "bib_dedupe_cases.json")
    assert t.format == "pair_cases" and len(t.frame) == 6
    assert t.frame["source_id"].iloc[0] == "abrahao_parigi_gupta_cook_2017_pnas_short_vs_full:1"  # ids "1"/"2" reused
    assert t.frame["ID"].tolist()[:2] == ["1", "2"]  # the records' own ids stay as raw data
    assert t.mapping["id"] == "pair_record_id" and t.mapping["type"] == "ENTRYTYPE"
    assert t.labels["is_duplicate"].tolist()[:2] == [True, False]
    assert not {"expected_duplicate", "decision", "note"} & set(t.frame.columns)  # the truth is not a column


def test_gzipped_pair_cases(tmp_path):
    p = tmp_path / "cases.jsonl.gz"
    p.write_bytes(gzip.compress((DATA / "seed_case.jsonl").read_bytes()))
    t = read_source(p)
    assert t.format == "pair_cases" and t.frame["source_id"].tolist() == ["43:1", "43:2"]


def test_malformed_pair_case_names_line(tmp_path):
    good = (DATA / "seed_case.jsonl").read_text().strip()
    p = tmp_path / "cases.jsonl"
    p.write_text(good + "\n" + good[: len(good) // 2] + "\n")
    with pytest.raises(SourceError, match=r"cases\.jsonl: line 2: not valid JSON"):
        read_source(p)
    case = json.loads(good)
    del case["decision"]
    p.write_text(good + "\n" + json.dumps(case) + "\n")
    with pytest.raises(SourceError, match=r"cases\.jsonl: line 2: missing 'decision'"):
        read_source(p)
