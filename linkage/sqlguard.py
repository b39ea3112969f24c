"""Settings are data, not code: SQL inside a settings file is restricted to expressions over two records.

No statements, table functions, subqueries, COPY/ATTACH/INSTALL/LOAD, file or network access.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

FORBIDDEN_WORDS = re.compile(r"\b(copy|attach|detach|install|load|pragma|export|import|create|drop|insert|update|"
                             r"delete|alter|call|set|execute|checkpoint|vacuum|grant|use)\b", re.I)
FORBIDDEN_FUNCS = re.compile(r"^(read_|glob|sniff_|parquet_|iceberg_|delta_|httpfs|http_|s3|getenv|current_setting|"
                             r"query|query_table|system|shell|pg_|load_|file|duckdb_|sql_auto|json_execute|"
                             r"from_csv|read)", re.I)


def check_expression(sql: str, columns: set[str] | None = None) -> str | None:
    """None when ``sql`` is a safe boolean expression over ``l.<col>``/``r.<col>``; else the problem."""
    if not isinstance(sql, str) or not sql.strip():
        return "expected a SQL expression, got nothing"
    if ";" in sql:
        return f"only one expression is allowed, found ';' in {sql!r}"
    m = FORBIDDEN_WORDS.search(re.sub(r"'[^']*'", "''", sql))
    if m:
        return f"refused SQL keyword {m.group(0)!r} in {sql!r}"
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        first = str(exc).splitlines()[0]
        return f"SQL does not parse: {first} in {sql!r}"
    if isinstance(tree, (exp.Select, exp.Union, exp.Command, exp.Create, exp.Insert, exp.Delete, exp.Update,
                         exp.Drop)):
        return f"expected an expression, not a statement: {sql!r}"
    for node in tree.walk():
        if isinstance(node, (exp.Select, exp.Subquery, exp.Table, exp.From, exp.Join, exp.Command)):
            return f"refused: subqueries and table access are not allowed ({node.sql()[:60]!r})"
        if isinstance(node, exp.Anonymous) or isinstance(node, exp.Func):
            name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
            if FORBIDDEN_FUNCS.match(str(name)):
                return f"refused function {name!r}: settings SQL may not read files, tables or settings"
        if isinstance(node, exp.Column):
            table = node.table
            if table and table not in ("l", "r"):
                return f"column {node.sql()!r} must be written l.<column> or r.<column>"
            name = node.name
            if not table and not re.fullmatch(r".+_(l|r)", name or ""):
                return f"column {name!r} must be written l.{name} or r.{name}"
            base = name if table else name[:-2]
            if columns is not None and base not in columns:
                return f"unknown column {base!r}"
    return None


def to_level_sql(sql: str, dialect: str = "duckdb") -> str:
    """Rewrite ``l.col``/``r.col`` (the settings' notation) as Splink's ``col_l``/``col_r``, in ``dialect``."""
    tree = sqlglot.parse_one(sql, read="duckdb")

    def swap(node):
        if isinstance(node, exp.Column) and node.table in ("l", "r"):
            return exp.column(f"{node.name}_{node.table}", quoted=True)
        return node

    return tree.transform(swap).sql(dialect=dialect)
