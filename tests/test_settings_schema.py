"""The published settings format (settings/schema.json, settings/README.md) is generated from what the
validator knows, and stays in sync with it. Regenerate both with
LINKAGE_UPDATE_SETTINGS_DOCS=1 .venv/bin/pytest tests/test_settings_schema.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from linkage.normalise import NORMALISED_COLUMNS
from linkage.settings import (
    DEFAULT_SETTINGS,
    LEVEL_KINDS,
    _read,
    load_settings,
    read_settings_file,
    settings_reference,
    settings_schema,
    starter_settings_text,
)
from linkage.sqlguard import SAFE_FUNCTIONS

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "settings" / "schema.json"
README_FILE = ROOT / "settings" / "README.md"
DATA = Path(__file__).parent / "data" / "settings"
UPDATE = os.environ.get("LINKAGE_UPDATE_SETTINGS_DOCS") == "1"


def _sync(path: Path, text: str) -> None:
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, (
        f"{path} is out of date: LINKAGE_UPDATE_SETTINGS_DOCS=1 .venv/bin/pytest tests/test_settings_schema.py")


def test_schema_file_is_generated_from_the_validator():
    _sync(SCHEMA_FILE, json.dumps(settings_schema(), indent=2) + "\n")


def test_reference_is_generated_from_the_validator():
    _sync(README_FILE, settings_reference())


def test_schema_is_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_FILE.read_text()))


def validator():
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))


@pytest.mark.parametrize("path", [DEFAULT_SETTINGS, *sorted((DATA / "good").glob("*.yaml"))],
                         ids=lambda p: p.name)
def test_valid_files_pass_the_published_schema(path):
    data = load_settings(path).data  # migrated to the current version
    assert not list(validator().iter_errors(data))


def test_starter_file_passes_the_published_schema(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(starter_settings_text())
    assert not list(validator().iter_errors(read_settings_file(p)))


# Files whose problems the JSON Schema can express too (the rest need code: SQL, null level first, names...).
SCHEMA_EXPRESSIBLE = ["unknown_top_key", "unknown_level_key", "wrong_types", "out_of_range", "unknown_column",
                      "wrong_column_type", "kind_null", "missing_required", "enums_and_mapping", "comparison_shape",
                      "review_band"]


@pytest.mark.parametrize("name", SCHEMA_EXPRESSIBLE)
def test_bad_files_fail_the_published_schema_too(name):
    data, _ = _read(DATA / "bad" / f"{name}.yaml")
    assert list(validator().iter_errors(data)), name


def test_every_key_of_the_shipped_file_is_documented():
    text = README_FILE.read_text()
    data = read_settings_file(DEFAULT_SETTINGS)
    for key, value in data.items():
        assert f"`{key}`" in text, key
        if isinstance(value, dict) and key not in ("columns",):
            for sub in value:
                assert f"`{key}.{sub}`" in text or key == "version_policy", f"{key}.{sub}"
    for kind in LEVEL_KINDS:
        assert f"| `{kind}` |" in text
    for col in NORMALISED_COLUMNS:
        assert f"| `{col}` |" in text
    for fn in SAFE_FUNCTIONS:
        assert f"`{fn}`" in text


def test_shipped_file_points_to_the_reference():
    head = DEFAULT_SETTINGS.read_text().split("\n", 3)[:3]
    assert any("README.md" in line for line in head)
