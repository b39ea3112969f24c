"""`linkage init DIR` writes a starter settings file that validates and runs; it never overwrites silently."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from linkage.cli import cli
from linkage.settings import DEFAULT_SETTINGS, load_settings, read_settings_file, settings_schema

RECORDS = """id,title,authors,year,venue,doi
1,Deep learning for record linkage,"Smith, J.; Doe, A.",2019,VLDB,10.1000/abc1
2,Deep Learning for Record Linkage.,"J. Smith and A. Doe",2019,Proc. VLDB,10.1000/ABC1
3,A survey of entity resolution,"Brown, K.",2015,TKDE,
4,A Survey of Entity Resolution,"K Brown",2015,IEEE TKDE,
5,Blocking methods revisited,"Green, L.; White, M.",2020,SIGMOD,10.1000/xyz9
6,Graph neural networks for citations,"Black, P.",2021,KDD,
7,Probabilistic linkage in practice,"Gray, R.",2012,JASA,10.1000/pl12
8,Probabilistic record linkage in practice,"Gray, R.",2012,J. Am. Stat. Assoc.,10.1000/pl12
"""


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_init_writes_a_commented_copy_that_validates(tmp_path):
    r = invoke("init", str(tmp_path / "model"))
    assert r.exit_code == 0, r.output
    settings = tmp_path / "model" / "settings.yaml"
    schema = tmp_path / "model" / "settings.schema.json"
    text = settings.read_text()
    assert "linkage validate settings.yaml" in text and "# Columns of the normalised records" in text
    assert text.count("#") > 40  # explanations kept
    assert read_settings_file(settings) == read_settings_file(DEFAULT_SETTINGS)  # the shipped model, as data
    assert json.loads(schema.read_text()) == settings_schema()
    r = invoke("validate", str(settings))
    assert r.exit_code == 0 and "ok (" in r.output, r.output


def test_init_refuses_to_overwrite(tmp_path):
    assert invoke("init", str(tmp_path)).exit_code == 0
    settings = tmp_path / "settings.yaml"
    settings.write_text("# my edits\n")
    r = invoke("init", str(tmp_path))
    assert r.exit_code == 1 and "already exists" in r.output and "--force" in r.output
    assert settings.read_text() == "# my edits\n"
    r = invoke("init", str(tmp_path), "--force")
    assert r.exit_code == 0 and "comparisons:" in settings.read_text()


def test_init_into_a_file_fails_cleanly(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    r = invoke("init", str(f))
    assert r.exit_code != 0 and "Traceback" not in r.output


@pytest.mark.slow
def test_init_round_trip_runs(tmp_path):
    """The starter file runs a whole job (a few synthetic records)."""
    import linkage

    assert invoke("init", str(tmp_path / "m")).exit_code == 0
    src = tmp_path / "papers.csv"
    src.write_text(RECORDS)
    spec = load_settings(tmp_path / "m" / "settings.yaml")
    result = linkage.run([str(src)], settings=spec.path, out=tmp_path / "run", report=False)
    clusters = result.clusters.set_index("unique_id")["cluster_id"]
    assert len(clusters) == 8
    assert clusters["papers:1"] == clusters["papers:2"]  # same DOI, same title
    assert clusters["papers:1"] != clusters["papers:3"]
    assert result.info["settings"]["path"] == spec.path
