"""Small and odd inputs complete: two records, no duplicates at all, a single record."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import linkage

pytestmark = pytest.mark.slow


def _write(tmp_path, rows, name="papers.csv"):
    p = tmp_path / name
    pd.DataFrame(rows).to_csv(p, index=False)
    return p


def test_two_records(tmp_path):
    p = _write(tmp_path, [{"id": "a", "title": "Deep learning for record linkage", "year": 2020},
                          {"id": "b", "title": "A survey of entity resolution", "year": 2019}])
    r = linkage.run([str(p)], out=tmp_path / "run", report=False)
    assert set(r.clusters["unique_id"]) == {"papers:a", "papers:b"}
    assert r.clusters["cluster_id"].nunique() == 2
    assert r.info["training"]["warnings"], "training should warn that it fell back"


def test_no_duplicates_at_all(tmp_path):
    rows = [{"id": i, "title": f"Study number {i} of topic {chr(65 + i % 26)}{i * 7}", "authors": f"Author{i}, A.",
             "year": 1990 + i % 30} for i in range(40)]
    r = linkage.run([str(_write(tmp_path, rows))], out=tmp_path / "run", report=False)
    assert len(r.clusters) == 40
    assert r.clusters["cluster_id"].nunique() == 40


def test_single_record(tmp_path):
    p = _write(tmp_path, [{"id": "only", "title": "A lonely paper"}])
    r = linkage.run([str(p)], out=tmp_path / "run", report=False)
    assert r.clusters["cluster_id"].tolist() == ["papers:only"]
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["counts"]["records"] == 1


def test_malformed_row_kept_with_flag(tmp_path):
    p = tmp_path / "papers.csv"
    p.write_text('id,title,year\n1,Good paper,2001\n2,"Broken, with, extra",2002,oops\n3,Third paper,2003\n')
    r = linkage.run([str(p)], out=tmp_path / "run", report=False)
    rec = r.records.set_index("source_id")
    assert len(rec) == 3
    assert rec.loc["2", "parse_error"] and "expected 3 fields" in rec.loc["2", "parse_error"]
    assert r.info["counts"]["parse_errors"] == 1


def test_duplicate_ids_kept_distinct(tmp_path):
    p = _write(tmp_path, [{"id": "x", "title": "One"}, {"id": "x", "title": "Two"}])
    r = linkage.run([str(p)], out=tmp_path / "run", report=False)
    assert r.records["unique_id"].is_unique and len(r.records) == 2
    assert any("duplicate ids" in w for w in r.info["warnings"])
