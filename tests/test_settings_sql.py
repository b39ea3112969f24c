"""Settings are data, not code: SQL in a settings file is one expression over the two records' columns.

Hostile settings files (tests/data/settings/hostile/) and strings try quoting tricks, comments, case
variants, nested calls, lambdas, subqueries, statements and string escapes; every one is refused with
the offending fragment, and what runs is always SQL regenerated from the checked expression.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkage.cli import cli
from linkage.errors import SettingsError
from linkage.normalise import NORMALISED_COLUMNS
from linkage.settings import Spec, blocking_rule_sql, compile_comparison, load_settings
from linkage.sqlguard import (
    SAFE_FUNCTIONS,
    UnsafeSQLError,
    canonical_sql,
    check_expression,
    engine_check,
    parse_expression,
    to_level_sql,
)

DATA = Path(__file__).parent / "data" / "settings"
HOSTILE_FILES = sorted((DATA / "hostile").glob("*.yaml"))
COLUMNS = set(NORMALISED_COLUMNS) | {"unique_id", "source"}

HOSTILE = [
    "read_csv_auto('/etc/passwd') is not null",
    "list_contains(list_transform(l.title_tokens, x -> read_csv_auto('/etc/passwd')), 1)",
    "list_contains(list_transform(l.title_tokens, lambda x: read_text('/etc/passwd')), 'a')",
    "READ_CSV('/etc/passwd') is null",
    "\"read_csv\"('/etc/passwd') is null",
    "ReAd_TeXt('/etc/passwd') is null",
    "l.title_norm = (select content from read_text('/etc/passwd'))",
    "exists(select 1)",
    "l.title_norm in (select 1)",
    "l.title_norm = r.title_norm; COPY (select 1) TO 'x.csv'",
    "l.\"title_norm\"; drop table t",
    "l.title_norm = r.title_norm /* */ ; attach 'x.db'",
    "getenv('HOME') = l.title_norm",
    "current_setting('home_directory') = l.title_norm",
    "l.title_norm.getenv() = 'x'",
    "main.getenv('HOME') = 'x'",
    "system.main.getenv('HOME') = 'x'",
    "glob('/etc/*') is not null",
    "query('select 1') is not null",
    "query_table('t') is not null",
    "install httpfs", "load httpfs", "pragma version", "set threads=1", "attach 'x.db'", "copy t to 'x.csv'",
    "l.title_norm = r.title_norm union select * from read_csv('/etc/passwd')",
    "l.title_norm = ?", "l.title_norm = $1", "l.title_norm = getvariable('x')",
    "nextval('s') > 0", "setseed(0.5) is null", "l.* = r.*", "COLUMNS(*) = 1",
    "l.title_norm = unnest(r.title_tokens)", "count(*) > 1", "sum(l.year_norm) > 1", "row_number() over () > 1",
    "l.title_norm collate nocase = r.title_norm",
    "l.title_norm = r.title_norm and sql_auto_complete('sel') is not null",
    "json_execute_serialized_sql('x') is null",
    "l.title_norm = r.title_norm\x00 or 1",
    "l.title_norm = 'a\\' or getenv('HOME') = '\\'",
    "cast(l.title_norm as \"read_csv\") = 1",
    "{'a': read_text('/etc/passwd')}.a = 1",
    "[read_text('/etc/passwd')] = []",
    "l.title_norm = r.title_norm " * 400,
    "l.title_norm = E'\\x27 or getenv(1)'",
    "l.title_norm ->> '$.a' = 'x'",
    "parquet_scan('x') is null", "iceberg_scan('x') is null", "http_get('http://x') is null",
    "current_user = 'x'", "version() = 'x'", "pg_sleep(1) is null", "shell('ls') is null", "system('ls') is null",
    "load_extension('x') is null", "sniff_csv('/etc/passwd') is null", "duckdb_settings() is null",
    "list_aggregate(l.title_tokens, 'string_agg') = 'x'",
    "list_reduce(l.title_tokens, (a, b) -> a || read_text(b)) = 'x'",
    "case when true then read_blob('/etc/passwd') end is null",
    "coalesce(read_text('/x'), 'a') = 'a'",
    "try_cast(read_text('/x') as varchar) = 'a'",
    "l.title_norm like read_text('/x')",
    "interval (getenv('X')) day is null",
    "l.x = r.x", "title_norm = r.title_norm", "t.title_norm = r.title_norm", "l.title_norm.x = r.title_norm",
    "list_transform(l.title_tokens, l -> l) = r.title_tokens",
    "", "   ",
]
SAFE = [
    "l.first_author = r.first_author",
    "jaro_winkler_similarity(l.first_author, r.first_author) >= 0.9 and abs(l.author_count - r.author_count) <= 1",
    "len(regexp_extract_all(l.title_norm, '\\b\\d+\\b')) > 0",
    "(coalesce(l.pub_type, '') in ('techreport', 'thesis')) <> (coalesce(r.pub_type, '') in ('techreport', 'thesis'))",
    "substr(l.title_key, 1, 12) = substr(r.title_key, 1, 12)",
    "list_sort(l.author_surnames) = list_sort(r.author_surnames) and l.year_norm = r.year_norm",
    "date_diff('day', l.date_norm, r.date_norm) < 3",
    "extract(year from l.date_norm) = extract(year from r.date_norm)",
    "l.date_norm + interval 1 day >= r.date_norm",
    "cast(l.year_norm as varchar) = r.volume_norm",
    "l.title_tokens[1] = r.title_tokens[1] and l.title_tokens[1:2] = r.title_tokens[1:2]",
    "list_transform(l.title_tokens, x -> upper(x)) = r.title_tokens",
    "list_filter(l.title_tokens, lambda w: length(w) > 3) = list_filter(r.title_tokens, lambda w: length(w) > 3)",
    "L.Title_Norm = R.title_norm",
    "l.\"title_norm\" = r.title_norm",
    "l.title_norm like 'a%' escape '!' or l.title_norm ilike r.title_norm",
    "case when l.doi_norm is null then false else l.doi_norm = r.doi_norm end",
    "levenshtein(l.title_key, r.title_key) <= 2 and not l.is_preprint",
    "l.year_norm between r.year_norm - 1 and r.year_norm + 1",
    "l.source <> r.source and l.unique_id < r.unique_id",
    "list_has_any(l.urls_norm, r.urls_norm)",
    "l.title_norm = 'it''s -- not a comment; nor /* this */'",
]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def expected_fragments(path: Path) -> list[str]:
    return [line[len("# expect: "):] for line in path.read_text().splitlines() if line.startswith("# expect: ")]


@pytest.mark.parametrize("path", HOSTILE_FILES, ids=lambda p: p.stem)
def test_hostile_file_refused_with_fragment(path):
    r = invoke("validate", str(path))
    assert r.exit_code == 1 and "Traceback" not in r.output
    out = " ".join(r.output.split())
    for fragment in expected_fragments(path):
        assert " ".join(fragment.split()) in out, (fragment, r.output)
    with pytest.raises(SettingsError):
        load_settings(path)


@pytest.mark.parametrize("path", HOSTILE_FILES[:3], ids=lambda p: p.stem)
def test_run_refuses_hostile_settings(path, tmp_path):
    src = tmp_path / "p.csv"
    src.write_text("id,title\n1,A paper\n2,A paper\n")
    r = invoke("run", str(src), "--settings", str(path), "--out", str(tmp_path / "out"), "--no-report")
    assert r.exit_code == 1 and "expected one SQL expression over" in " ".join(r.output.split())
    assert not (tmp_path / "out" / "run.json").exists()


@pytest.mark.parametrize("sql", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_expression_refused(sql):
    problem = check_expression(sql, COLUMNS)
    assert problem is not None, canonical_sql(sql)
    text = str(problem)
    assert text.startswith("expected ") and ", got " in text
    with pytest.raises(UnsafeSQLError):
        canonical_sql(sql, columns=COLUMNS)


@pytest.mark.parametrize("sql", SAFE, ids=range(len(SAFE)))
def test_safe_expression_accepted_and_canonical(sql):
    assert check_expression(sql, COLUMNS) is None
    once = canonical_sql(sql)
    assert canonical_sql(once) == once  # regeneration is stable
    assert check_expression(once, COLUMNS) is None
    con = duckdb.connect()
    cols = ", ".join(f'"{c}" {"BIGINT" if t == "INTEGER" else t}' for c, t in NORMALISED_COLUMNS.items())
    con.execute(f"create table t (unique_id varchar, source varchar, {cols})")
    assert str(con.sql(f"select ({once}) from t as l, t as r limit 0").types[0]) == "BOOLEAN"
    import sqlglot

    level = sqlglot.parse_one(to_level_sql(sql), read="duckdb")
    cols = [c for c in level.find_all(sqlglot.exp.Column) if c.name not in ("x", "w")]  # not lambda params
    assert cols and all(not c.table and c.name.endswith(("_l", "_r")) for c in cols)  # Splink's "x_l" / "x_r"


def test_comments_never_reach_the_engine():
    sql = "l.title_norm = r.title_norm -- */ or getenv('HOME') is not null /*"
    assert check_expression(sql, COLUMNS) is None  # the comment is not code...
    for out in (canonical_sql(sql), to_level_sql(sql), to_level_sql(sql, "spark"), blocking_rule_sql(sql)):
        assert "getenv" not in out.lower() and "--" not in out and "/*" not in out  # ...and is dropped


def test_string_literals_keep_their_meaning():
    sql = "l.title_norm = 'it''s -- not a comment; nor /* this */'"
    out = canonical_sql(sql)
    literal = out.split("=", 1)[1].strip()
    assert duckdb.connect().execute(f"select {literal}").fetchone()[0] == "it's -- not a comment; nor /* this */"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from("ab'\\\"-*/;()\n %_$e"), max_size=30))
def test_any_string_literal_round_trips(text):
    """Whatever a string literal holds, the regenerated SQL holds the same value: no escape trick can
    turn literal text into code."""
    quoted = "'" + text.replace("'", "''") + "'"
    sql = f"l.title_norm = {quoted}"
    assert check_expression(sql, COLUMNS) is None
    out = canonical_sql(sql)
    literal = out.split("=", 1)[1].strip()
    assert duckdb.connect().execute(f"select {literal}").fetchone()[0] == text


TOKENS = ["l.title_norm", "r.title_norm", "=", "'x'", "(", ")", ",", "||", "and", "or", "not", "lower", "upper",
          "read_text", "getenv", "glob", "query", "select", "from", ";", "--", "/*", "*/", "x ->", "lambda x:",
          "list_transform", "'/etc/passwd'", ".", "\"read_csv\"", "current_setting", "1", "is null", "in",
          "case when", "then", "end", "cast(", "as varchar)", "[1]", "E'\\''"]
DANGEROUS = ("read_", "getenv", "glob", "query", "select", "current_setting", "pragma", "copy", "attach")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=14))
def test_random_token_soup_never_yields_dangerous_sql(tokens):
    """Whatever is accepted regenerates to SQL without a dangerous call, which DuckDB's parser agrees with."""
    sql = " ".join(tokens)
    try:
        out = canonical_sql(sql)
    except UnsafeSQLError:
        return
    low = out.lower().replace("'/etc/passwd'", "").replace("'x'", "")
    assert not any(d in low for d in DANGEROUS), (sql, out)
    engine_check(out)


def test_engine_check_is_a_second_opinion():
    """DuckDB's parser reads the SQL that would run; calls sqlglot might miss are caught there."""
    for sql in ("getenv('HOME')", "(select 1)", "read_text('/etc/passwd')", "main.lower('x')", "1; select 2"):
        with pytest.raises(UnsafeSQLError):
            engine_check(sql)
    engine_check("lower(l.title_norm) = r.title_norm")


def test_safe_function_list_is_consistent_with_the_parser():
    """Every allowed function name parses to an allowed node (sqlglot upgrades keep the lists in step)."""
    for name in sorted(SAFE_FUNCTIONS):
        for args in ("l.title_norm", "l.title_norm, 1", "l.title_norm, 'a', 'b'"):
            try:
                parse_expression(f"{name}({args}) is null", COLUMNS)
                break
            except UnsafeSQLError as exc:
                if "not an allowed function" in str(exc) or "is not allowed" in str(exc):
                    raise AssertionError(f"{name}: {exc}") from None


def test_compiled_settings_carry_no_settings_text():
    """Compilation regenerates SQL (levels, blocking rules, native Splink conditions); a Spec built by hand
    around hostile SQL, bypassing validation, still cannot compile."""
    comp = {"name": "doi", "splink": {"comparison_levels": [
        {"sql_condition": "doi_norm_l is null /* c */", "is_null_level": True},
        {"sql_condition": "doi_norm_l = doi_norm_r -- same", "label_for_charts": "same"},
        {"sql_condition": "ELSE"}]}}
    d = compile_comparison(comp, "duckdb")
    assert [lv["sql_condition"] for lv in d["comparison_levels"]] == [
        '"doi_norm_l" IS NULL', '"doi_norm_l" = "doi_norm_r"', "ELSE"]
    assert comp["splink"]["comparison_levels"][0]["sql_condition"].endswith("/* c */")  # the input is untouched
    bad = {"name": "t", "levels": [{"kind": "missing", "columns": ["title_norm"]},
                                   {"kind": "sql", "condition": "getenv('HOME') = l.title_norm"}]}
    with pytest.raises(UnsafeSQLError):
        compile_comparison(bad, "duckdb")
    with pytest.raises(UnsafeSQLError):
        blocking_rule_sql("l.title_key = r.title_key; drop table t")
    spec = Spec(path="x", data={"comparisons": [bad], "blocking_rules": [["title_key"]]}, sha256="")
    from linkage.settings import compile_settings

    with pytest.raises(UnsafeSQLError):
        compile_settings(spec, "duckdb", "dedupe")
