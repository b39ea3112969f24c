"""Settings files carry `version:`; older versions are migrated (and can be rewritten), newer ones refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from linkage.cli import cli
from linkage.errors import LinkageError, SettingsError
from linkage.settings import (
    SCHEMA_VERSION,
    load_settings,
    migrate,
    read_settings_file,
    upgrade_file,
    upgrade_text,
)

DATA = Path(__file__).parent / "data" / "settings"
V0 = DATA / "good" / "version0.yaml"


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_version0_is_migrated_when_read():
    spec = load_settings(V0)
    assert spec.version_read == 0 and spec.get("version") == SCHEMA_VERSION
    assert [c["levels"][0]["kind"] for c in spec.comparisons] == ["missing", "missing"]
    assert any("kind: null -> missing" in n for n in spec.notes)
    assert any("linkage validate --upgrade" in n for n in spec.notes)


def test_migration_leaves_the_input_alone():
    raw = read_settings_file(V0)
    out, version, notes = migrate(raw)
    assert version == 0 and len(notes) == 2
    assert raw["comparisons"][0]["levels"][0]["kind"] is None and raw["version"] == 0
    assert out["comparisons"][0]["levels"][0]["kind"] == "missing"


def test_validate_says_it_migrated():
    r = invoke("validate", str(V0))
    assert r.exit_code == 0, r.output
    assert "read as version 0 and migrated" in r.output
    assert "comparisons[0].levels[0].kind: null -> missing (migrating version 0 to 1)" in r.output


def test_upgrade_rewrites_the_file_keeping_comments(tmp_path):
    p = tmp_path / "old.yaml"
    shutil.copy(V0, p)
    r = invoke("validate", "--upgrade", str(p))
    assert r.exit_code == 0, r.output
    assert "upgraded:" in r.output and "migrated" not in r.output.split("ok (")[-1]
    text = p.read_text()
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    assert "version: 1" in body and "kind: null" not in body and "kind: ~" not in body
    assert "# the title comparison" in text and text.startswith("# A version-0 file")
    assert (tmp_path / "old.yaml.bak").read_text() == V0.read_text()
    assert load_settings(p).version_read == 1
    assert load_settings(p).data == load_settings(V0).data
    with pytest.raises(LinkageError, match="already version 1"):
        upgrade_file(p)


def test_upgrade_json(tmp_path):
    p = tmp_path / "old.json"
    p.write_text('{"version": 0, "comparisons": [{"name": "doi", "levels": [{"kind": null, "columns": ["doi_norm"]},'
                 ' {"kind": "exact", "column": "doi_norm"}]}], "blocking_rules": [["doi_norm"]]}')
    upgrade_file(p)
    assert load_settings(p).version_read == 1


def test_upgrade_text_adds_a_missing_version():
    assert upgrade_text("comparisons: []\n").startswith("version: 1\n")


@pytest.mark.parametrize("version, message", [
    (2, "version: expected a settings version up to 1, got 2 (this file was written for a newer linkage: "
        "upgrade linkage"),
    (99, "got 99 (this file was written for a newer linkage: upgrade linkage"),
    (-1, "version: expected a settings version from 0 to 1, got -1"),
    ("1", "version: expected 1, got '1'"),
    (1.5, "version: expected 1, got 1.5 (a number)"),
])
def test_versions_refused(tmp_path, version, message):
    p = tmp_path / "s.yaml"
    p.write_text(f"version: {version!r}\n".replace("'", '"') + V0.read_text().split("\n", 2)[2])
    r = invoke("validate", str(p))
    assert r.exit_code == 1 and message in r.output, r.output
    with pytest.raises(SettingsError, match="version"):
        load_settings(p)


def test_newer_version_is_refused_before_anything_else():
    """A newer file may use keys this linkage does not know: only the version is reported."""
    with pytest.raises(SettingsError) as info:
        load_settings(DATA / "bad" / "newer_version.yaml")
    assert len(info.value.problems) == 1
