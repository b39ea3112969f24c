"""Model reuse: `linkage train` writes a model; `linkage run --model FILE` and `--model RUN_DIR` score with
it (no training) and give the same weights as the run that trained; settings whose comparisons differ
from the model's are refused with a clear message."""

from __future__ import annotations

import copy
import json

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import EXAMPLE_SOURCES

from linkage.cli import cli
from linkage.errors import LinkageError
from linkage.settings import DEFAULT_SETTINGS, read_settings_file

pytestmark = pytest.mark.slow
SOURCES = [str(p) for p in EXAMPLE_SOURCES]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def parameters(model: dict) -> dict:
    return {"prior": model["probability_two_random_records_match"],
            **{(c["output_column_name"], i): (lv.get("m_probability"), lv.get("u_probability"))
               for c in model["comparisons"] for i, lv in enumerate(c["comparison_levels"])}}


def weights(pairs: pd.DataFrame) -> pd.DataFrame:
    cols = ["unique_id_l", "unique_id_r", "match_weight"] + [c for c in pairs.columns if c.endswith("_weight")]
    return pairs[list(dict.fromkeys(cols))].sort_values(["unique_id_l", "unique_id_r"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "model.json"
    r = invoke("train", *SOURCES, "--out", str(out))
    assert r.exit_code == 0, r.output
    return out


@pytest.fixture(scope="module")
def settings_variant(tmp_path_factory):
    folder = tmp_path_factory.mktemp("variants")

    def make(name: str, change) -> str:
        data = copy.deepcopy(read_settings_file(DEFAULT_SETTINGS))
        change(data)
        p = folder / f"{name}.yaml"
        p.write_text(yaml.safe_dump(data, sort_keys=False))
        return str(p)

    return make


def test_train_writes_the_model_and_its_sidecar(trained, example_run):
    assert parameters(json.loads(trained.read_text())) == parameters(example_run.model)
    meta = json.loads(trained.with_suffix(".linkage.json").read_text())
    assert meta["settings"]["sha256"] == example_run.info["settings"]["sha256"]


@pytest.mark.parametrize("source", ["file", "run_dir"])
def test_run_with_model_gives_the_same_weights(source, trained, example_run, tmp_path):
    model = str(trained) if source == "file" else str(example_run.out)
    out = tmp_path / "reused"
    r = invoke("run", *SOURCES, "--model", model, "--out", str(out), "--no-report")
    assert r.exit_code == 0, r.output
    info = json.loads((out / "run.json").read_text())
    assert info["model_from"] == model and info["training"]["prior_source"] == "reused"
    assert parameters(json.loads((out / "model.json").read_text())) == parameters(example_run.model)
    pd.testing.assert_frame_equal(weights(pd.read_parquet(out / "pairs.parquet")), weights(example_run.pairs))
    pd.testing.assert_frame_equal(pd.read_parquet(out / "clusters.parquet"), example_run.clusters)


def test_model_with_an_extra_comparison_in_the_settings_is_refused(trained, settings_variant, tmp_path):
    s = settings_variant("extra", lambda d: d["comparisons"].append(
        {"name": "isbn", "levels": [{"kind": "missing", "columns": ["isbn_norm"]},
                                    {"kind": "exact", "column": "isbn_norm"}]}))
    r = invoke("run", *SOURCES, "--settings", s, "--model", str(trained), "--out", str(tmp_path / "o"))
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "these settings have a comparison the model lacks: 'isbn'" in r.output


def test_model_with_other_levels_is_refused(trained, settings_variant, tmp_path):
    import linkage

    s = settings_variant("levels", lambda d: d["comparisons"][0]["levels"].pop(3))
    with pytest.raises(LinkageError, match="comparison 'title' has"):
        linkage.run(SOURCES, settings=s, model=trained, out=tmp_path / "o", report=False)


def test_model_with_a_comparison_the_settings_lack_is_refused(trained, settings_variant, tmp_path):
    import linkage

    s = settings_variant("drop", lambda d: d["comparisons"].pop())
    with pytest.raises(LinkageError, match="publication_form"):
        linkage.run(SOURCES, settings=s, model=trained, out=tmp_path / "o", report=False)


def test_model_with_a_changed_level_is_refused(trained, settings_variant, tmp_path):
    import linkage

    s = settings_variant("threshold", lambda d: d["comparisons"][0]["levels"][3].__setitem__("threshold", 0.8))
    with pytest.raises(LinkageError, match="defined differently"):
        linkage.run(SOURCES, settings=s, model=trained, out=tmp_path / "o", report=False)
