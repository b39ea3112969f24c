"""`linkage validate FILE SOURCES...`: the column mapping per source and the candidate pairs of every
blocking rule on the sources' normalised records; rules above the limit are reported."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import EXAMPLE_SOURCES

from linkage.cli import cli
from linkage.settings import DEFAULT_SETTINGS, blocking_counts, check_settings, load_settings

DATA = Path(__file__).parent / "data" / "settings"
SOURCES = [str(p) for p in EXAMPLE_SOURCES]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def records():
    from linkage.pipeline import build_records
    from linkage.sources import read_sources

    return build_records(read_sources(SOURCES))[0]


def with_rules(tmp_path: Path, extra: str) -> Path:
    p = tmp_path / "s.yaml"
    p.write_text((DATA / "good" / "minimal.yaml").read_text() + extra)
    return p


def test_mapping_and_counts_printed():
    r = invoke("validate", str(DEFAULT_SETTINGS), *SOURCES)
    assert r.exit_code == 0, r.output
    out = r.output
    assert "sources (572 records):" in out
    assert "dblp: " in out and "acm: " in out and "aggregator: " in out
    assert "date ← publication_date" in out and "venue ← journal" in out  # the aggregator's own names
    assert "blocking_rules[2]" in out and "[title_key]" in out
    assert "training.em_sessions[0]" in out and "training.prior_rules[1]" in out
    assert "all blocking rules together:" in out and "distinct pairs to score (of 163,306 possible)" in out


def test_exploding_rule_reported(tmp_path, records):
    p = with_rules(tmp_path, "  - [year_norm]\nblocking_max_pairs: 1000\n")
    expected = int(sum(c * (c - 1) // 2 for c in records["year_norm"].dropna().value_counts()))
    assert expected > 1000
    r = invoke("validate", str(p), *SOURCES)
    assert r.exit_code == 1
    out = " ".join(r.output.split())
    assert (f"blocking_rules[1]: expected at most 1,000 candidate pairs (blocking_max_pairs), got {expected:,} "
            "on these sources (records sharing year_norm; the rule is too broad") in out
    assert "over the limit 1,000" in out
    assert "blocking_rules[0]: expected" not in out  # [title_key] stays under the limit


def test_per_rule_limit(tmp_path):
    p = with_rules(tmp_path, "  - {columns: [first_author], max_pairs: 10}\n")
    rep = check_settings(p, SOURCES)
    assert [x.split(":")[0] for x in rep.problems] == ["blocking_rules[1]"]
    assert "(blocking_rules[1].max_pairs)" in rep.problems[0]


def test_rule_without_equality_counts_every_pair(tmp_path):
    p = with_rules(tmp_path, "  - \"levenshtein(l.title_key, r.title_key) <= 2\"\nblocking_max_pairs: 100000\n")
    rep = check_settings(p, SOURCES)
    assert "got 163,306 on these sources (no equality condition: every pair" in rep.problems[0]


def test_counts_agree_with_splink(records):
    """Equality rules: our GROUP BY count equals Splink's exact count of the rule alone."""
    from splink import DuckDBAPI
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    from linkage.scoring import model_frame

    spec = load_settings()
    counts, total = blocking_counts(records, spec)
    sdf = DuckDBAPI().register(model_frame(records))
    for c in counts:
        if c.filtered:
            continue
        got = count_comparisons_from_blocking_rules(sdf, blocking_rules=[c.rule], link_type="dedupe_only",
                                                    record_sample_proportion=1.0)
        assert got[0]["marginal_comparison_count"] == c.pairs, c
    together = count_comparisons_from_blocking_rules(
        sdf, blocking_rules=[c.rule for c in counts if c.key.startswith("blocking_rules")],
        link_type="dedupe_only", record_sample_proportion=1.0)
    assert together[-1]["cumulative_comparison_count"] == total


def test_explicit_mapping_missing_from_every_source(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text((DATA / "good" / "minimal.yaml").read_text() + "columns: {title: Titel}\n")
    r = invoke("validate", str(p), *SOURCES)
    assert r.exit_code == 1
    assert "columns.title: expected a column of the sources, got 'Titel' (no source has it; did you mean 'title'?" \
        in " ".join(r.output.split())


def test_unreadable_source_is_one_more_problem(tmp_path):
    r = invoke("validate", str(DATA / "bad" / "no_null_level.yaml"), SOURCES[0], str(tmp_path / "gone.csv"))
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "sources[1] (" in r.output and "no such file" in r.output
    assert "levels[0].kind: expected 'missing'" in r.output  # the settings problems are still there


def test_library_report(tmp_path):
    rep = check_settings(DEFAULT_SETTINGS, SOURCES[:2])
    assert rep.ok and rep.records == 570 and [s["name"] for s in rep.sources] == ["dblp", "acm"]
    assert all(c.pairs >= 0 and c.limit == 10_000_000 for c in rep.blocking)
    frame = pd.DataFrame([vars(c) for c in rep.blocking])
    # rules whose join keys differ by side (the title prefix one year apart: l.year_norm + 1 = r.year_norm)
    # are counted as an upper bound; every other rule exactly
    assert set(frame["bound"]) == {"exact", "at most"}
    assert all(("+ 1" in rule) == (bound == "at most") for rule, bound in zip(frame["rule"], frame["bound"]))
