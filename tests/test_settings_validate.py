"""`linkage validate` and `load_settings` on bad settings files: every problem at once, each as
`file: key.path: expected X, got Y (hint)`, exit code 1, never a traceback.

Each file in tests/data/settings/bad/ states the messages it must produce in `# expect:` lines (JSON files,
which cannot hold comments, are listed in JSON_EXPECT).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from linkage.cli import cli
from linkage.errors import SettingsError
from linkage.settings import DEFAULT_SETTINGS, load_settings, validate_data

DATA = Path(__file__).parent / "data" / "settings"
BAD = sorted((DATA / "bad").glob("*.yaml")) + sorted((DATA / "bad").glob("*.json"))
JSON_EXPECT = {
    "json_syntax.json": ["line 1, column 32: expected valid JSON, got expecting value"],
    "comparisons_number.json": ["comparisons: expected a list of comparisons, got 5 (a number)",
                                "blocking_rules: expected a non-empty list of blocking rules, got nothing (required)"],
    "duplicate_keys.json": ["seed: expected each key once in an object, got it again"],
}


def expectations(path: Path) -> list[str]:
    if path.suffix == ".json":
        return JSON_EXPECT[path.name]
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line[len("# expect: "):] for line in lines if line.startswith("# expect: ")]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_enough_distinct_bad_files():
    assert len(BAD) >= 15
    assert all(expectations(p) for p in BAD)
    firsts = [expectations(p)[0] for p in BAD]
    assert len(set(firsts)) == len(firsts)  # each file is there for a problem of its own


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_validate_reports_each_problem(path):
    r = invoke("validate", str(path))
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output
    out = " ".join(r.output.split())  # rich may wrap long lines
    for message in expectations(path):
        assert f"{path}: " in r.output
        assert " ".join(message.split()) in out, (message, r.output)


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_load_settings_raises_with_the_same_messages(path):
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    assert info.value.path == str(path)
    text = "\n".join(info.value.problems)
    for message in expectations(path):
        assert message in text, (message, text)
    # one line per problem, each worded "expected ..., got ..."
    for p in info.value.problems:
        assert "\n" not in p and "expected " in p and ", got " in p, p


def test_every_problem_at_once():
    """One file with many independent mistakes: all are reported in one go."""
    r = invoke("validate", str(DATA / "bad" / "wrong_types.yaml"))
    assert r.output.count("error:") == 4


def test_the_check_script_cases(tmp_path):
    """../shared/checks/model: a YAML error and a wrong type in JSON fail cleanly."""
    for name, text in (("bad.yaml", "name: [oops\n"), ("bad.json", '{"comparisons": 5}\n')):
        p = tmp_path / name
        p.write_text(text)
        r = invoke("validate", str(p))
        assert r.exit_code != 0 and "Traceback" not in r.output
        assert f"{p}: " in r.output
    r = invoke("validate", str(tmp_path / "bad.yaml"))
    assert "line 2, column 1: expected valid YAML" in r.output


def test_missing_file_and_folder(tmp_path):
    r = invoke("validate", str(tmp_path / "nope.yaml"))
    assert r.exit_code == 1 and "no such file" in r.output and "linkage init" in r.output
    r = invoke("validate", str(tmp_path))
    assert r.exit_code == 1 and "a folder, not a settings file" in r.output


def test_shipped_settings_are_valid():
    r = invoke("validate", str(DEFAULT_SETTINGS))
    assert r.exit_code == 0, r.output
    assert "ok (" in r.output
    spec = load_settings()
    assert spec.version_read == 1


@pytest.mark.parametrize("path", sorted((DATA / "good").glob("*.yaml")), ids=lambda p: p.name)
def test_good_files_validate(path):
    r = invoke("validate", str(path))
    assert r.exit_code == 0, r.output
    assert "error:" not in r.output


def test_keys_without_effect_are_warnings_not_errors(tmp_path):
    p = tmp_path / "s.yaml"
    text = (DATA / "good" / "minimal.yaml").read_text() + "merge: {title: longest}\nclustering: {guard_rails: true}\n"
    p.write_text(text)
    r = invoke("validate", str(p))
    assert r.exit_code == 0, r.output
    assert "warning:" in r.output and "merge: has no effect" in r.output
    assert "clustering.guard_rails: has no effect" in r.output
    assert load_settings(p).notes  # and kept on the Spec


def test_missing_version_is_a_warning(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text((DATA / "good" / "minimal.yaml").read_text().replace("version: 1\n", ""))
    r = invoke("validate", str(p))
    assert r.exit_code == 0
    assert "version: missing; read as version 1" in r.output


def test_validate_data_api_words_problems_the_same_way():
    data = {"comparisons": [{"name": "doi", "levels": [{"kind": "missing", "columns": ["doi_norm"]},
                                                       {"kind": "exact", "column": "doi"}]}],
            "blocking_rules": [["doi_norm"]]}
    problems = validate_data(data)
    assert problems == ["comparisons[0] (doi).levels[1].column: expected a normalised column, got 'doi' "
                        "(did you mean 'doi_norm'?)"]


def test_non_string_keys_and_odd_values(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("version: 1\n1: x\nname: 2020-01-01\ncomparisons: {a: 1}\nblocking_rules: [[]]\n")
    with pytest.raises(SettingsError) as info:
        load_settings(p)
    text = "\n".join(info.value.problems)
    assert "1: expected a known key, got unknown key 1" in text
    assert "name: expected text, got 2020-01-01 (a date)" in text
    assert "comparisons: expected a list of comparisons, got a mapping" in text
    assert "blocking_rules[0]: expected a list of normalised columns with at least 1 item, got 0 items" in text


def test_json_settings_file_loads(tmp_path):
    from linkage.settings import read_settings_file

    p = tmp_path / "s.json"
    p.write_text(json.dumps(read_settings_file(DEFAULT_SETTINGS)))
    assert load_settings(p).comparisons == load_settings().comparisons


def test_run_refuses_a_bad_settings_file_before_reading_sources(tmp_path):
    r = invoke("run", str(tmp_path / "missing.csv"), "--settings", str(DATA / "bad" / "no_null_level.yaml"),
               "--out", str(tmp_path / "o"))
    assert r.exit_code == 1 and "levels[0].kind: expected 'missing'" in r.output
