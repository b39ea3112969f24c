"""One loader for run folders: ``linkage.Run`` (from run/match) and explain's ``RunData`` share it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from linkage import Run
from linkage.errors import RunFolderError
from linkage.explain import RunData


def _folder(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.json").write_text(json.dumps({"threshold": {"match_weight": 5.0}}))
    pd.DataFrame({"unique_id": ["a:1"], "cluster_id": ["a:1"]}).to_parquet(out / "clusters.parquet")
    return out


@pytest.mark.parametrize("cls", [Run, RunData])
def test_same_errors_for_every_reader(tmp_path, cls):
    out = _folder(tmp_path)
    run = cls.open(out)
    assert run.info["threshold"]["match_weight"] == 5.0
    assert run.clusters["cluster_id"].tolist() == ["a:1"]
    with pytest.raises(RunFolderError, match="records.parquet is missing"):
        _ = run.records
    with pytest.raises(RunFolderError, match="model.json is missing"):
        _ = run.model
    assert run.metrics is None
    (out / "run.json").write_text("{broken")
    with pytest.raises(RunFolderError, match=r"run.json: not valid JSON \(line 1\)"):
        cls.open(out)
    with pytest.raises(RunFolderError, match="not a run folder"):
        cls.open(tmp_path)


def test_tables_are_read_once(tmp_path):
    run = Run.open(_folder(tmp_path))
    assert run.clusters is run.clusters
    assert RunData(run.out).threshold == 5.0
