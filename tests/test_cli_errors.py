"""Every bad input gets exit code != 0 and a one-line message saying what and how to fix it; no traceback."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from linkage.cli import cli


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def check(result, *needles):
    assert result.exit_code != 0
    text = result.output
    assert "Traceback" not in text
    for n in needles:
        assert n in text, text
    return text


def test_missing_file(tmp_path):
    check(invoke("run", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")), "nope.csv", "no such file")


def test_unknown_format(tmp_path):
    p = tmp_path / "papers.xyz"
    p.write_text("title\nA\n")
    check(invoke("run", str(p), "--out", str(tmp_path / "o")), "unknown format", ".xyz", "use one of")


def test_no_title_column(tmp_path):
    p = tmp_path / "papers.csv"
    p.write_text("name_of_thing,year\n1,2001\n")
    check(invoke("run", str(p), "--out", str(tmp_path / "o")), "no title column", "columns: {title:")


def test_empty_table(tmp_path):
    p = tmp_path / "papers.csv"
    p.write_text("")
    check(invoke("run", str(p), "--out", str(tmp_path / "o")), "empty")


def test_header_only_table(tmp_path):
    p = tmp_path / "papers.csv"
    p.write_text("id,title,authors\n")
    check(invoke("run", str(p), "--out", str(tmp_path / "o")), "no records")


@pytest.mark.skipif(os.name != "posix", reason="permissions")
def test_unwritable_output_folder(tmp_path):
    p = tmp_path / "papers.csv"
    p.write_text("id,title\n1,A paper on things\n2,Another paper\n")
    blocker = tmp_path / "file_not_folder"
    blocker.write_text("x")
    check(invoke("run", str(p), "--out", str(blocker / "run")), "cannot write the output folder", "--out")


def test_bad_settings_file(tmp_path):
    p = tmp_path / "papers.csv"
    p.write_text("id,title\n1,A paper on things\n")
    s = tmp_path / "bad.yaml"
    s.write_text("comparisons: 5\n")
    check(invoke("run", str(p), "--settings", str(s), "--out", str(tmp_path / "o")), "bad.yaml", "comparisons")


def test_one_line_message():
    r = invoke("run", "definitely-missing.csv")
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 1, r.output
