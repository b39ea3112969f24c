"""Settings are data, not code: SQL inside a settings file is restricted to expressions over two records.

Every piece of SQL a settings file carries (``sql`` levels, ``and:`` conditions, string blocking rules,
the ``sql_condition`` of a native ``splink:`` comparison) goes through :func:`parse_expression`:

* it must parse (sqlglot, DuckDB dialect) as exactly one expression: no ``;``, no statements
  (``COPY``, ``ATTACH``, ``INSTALL``/``LOAD``, ``PRAGMA``, ``SET``, DDL/DML...);
* every node of the tree must be of an allowed kind (**allow-list**, not deny-list): literals, the two
  records' columns, operators, ``CASE``/``CAST``, lambdas, and calls of the scalar functions in
  :data:`SAFE_FUNCTIONS` (string similarity, string/regexp, list, math, date, null handling). There is
  no subquery, table, table function, file, network, environment or settings access: ``read_csv``,
  ``read_text``, ``glob``, ``getenv``, ``current_setting``, ``query``, ``(select ...)`` ... are refused
  wherever they occur, however they are spelled (case, quotes, method syntax ``x.getenv()``, inside a
  lambda);
* columns are written ``l.<column>`` / ``r.<column>`` (``<column>_l`` / ``<column>_r`` in a native Splink
  comparison) and must be known columns of the normalised records.

What runs is never the text of the settings file: :func:`canonical_sql` and :func:`to_level_sql`
regenerate SQL from the checked tree, without comments, and DuckDB's own parser reads that SQL once more
(:func:`engine_check`), so a parser disagreement between sqlglot and the engine (string escapes, comment
tricks) cannot smuggle anything past the check.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Literal

import sqlglot
from sqlglot import exp

Notation = Literal["lr", "suffix"]

MAX_SQL_LENGTH = 4000

# Scalar functions a settings expression may call, by the name written (DuckDB spelling; sqlglot also
# maps some Spark spellings onto the same functions). None of them reads files, tables, settings, the
# environment or the network, and none has side effects.
SAFE_FUNCTIONS: frozenset[str] = frozenset("""
    lower upper lcase ucase length len strlen char_length character_length length_grapheme bit_length
    octet_length trim ltrim rtrim substr substring left right left_grapheme right_grapheme concat concat_ws
    replace reverse repeat lpad rpad strpos instr position contains starts_with ends_with startswith
    endswith prefix suffix split_part string_split str_split string_to_array string_split_regex
    str_split_regex regexp_matches regexp_replace regexp_extract regexp_extract_all regexp_full_match
    regexp_split_to_array regexp_escape translate strip_accents nfc_normalize unicode ascii chr
    format printf md5 hash
    levenshtein editdist3 damerau_levenshtein hamming mismatches jaro_similarity jaro_winkler_similarity
    jaccard
    list_value list_pack list_extract list_element array_extract element_at list_slice array_slice
    array_length cardinality size list_contains list_has array_contains array_has list_has_any
    array_has_any list_has_all array_has_all list_intersect array_intersect array_except list_concat
    list_cat array_concat array_cat list_distinct array_distinct list_unique array_unique list_sort
    array_sort sort_array list_reverse_sort array_reverse_sort list_reverse array_reverse list_transform
    array_transform list_apply array_apply list_filter array_filter filter list_reduce array_reduce
    list_position list_indexof array_position array_indexof list_sum list_min list_max list_avg
    list_count list_first list_last flatten list_zip list_select list_where list_grade_up list_resize
    list_cosine_similarity array_cosine_similarity list_inner_product list_distance array_to_string
    array_join array_union
    abs round floor ceil ceiling greatest least sqrt pow power ln log log2 log10 exp sign mod trunc isnan
    year month day week quarter dayofyear epoch date_diff datediff date_sub date_add date_part datepart
    date_trunc datetrunc strftime strptime try_strptime make_date
    coalesce ifnull nullif if typeof
""".split())

# sqlglot expression classes of those functions (a known function parses to its class, an unknown
# one to ``Anonymous``), and the structural nodes an expression may contain.
_SAFE_FUNC_CLASSES = frozenset("""
    Length BitLength Trim Substring Left Right Concat ConcatWs Replace Reverse Repeat Pad StrPosition
    Contains StartsWith EndsWith SplitPart Split RegexpSplit RegexpLike RegexpReplace RegexpExtract
    RegexpExtractAll RegexpFullMatch Translate Unicode Ascii Chr Format MD5 Lower Upper Initcap
    Levenshtein JarowinklerSimilarity
    Array ArraySlice ArraySize ArrayContains ArrayOverlaps ArrayContainsAll ArrayIntersect ArrayExcept
    ArrayConcat ArrayDistinct ArraySort ArrayReverse Transform ArrayFilter ArrayPosition ArrayMin
    ArrayMax Flatten EuclideanDistance ArrayToString
    Abs Round Floor Ceil Greatest Least Sqrt Pow Ln Log Exp Sign Mod Trunc IsNan
    Year Month Day Week Quarter DayOfYear TimeToUnix DateDiff DateAdd DateSub TimestampTrunc TimeToStr
    StrToTime DateFromParts Extract
    Coalesce Nullif If Case Cast TryCast Typeof
""".split())
_SAFE_NODES: tuple[type[exp.Expression], ...] = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Tuple, exp.Bracket,
    exp.Slice, exp.Lambda, exp.DataType, exp.DataTypeParam, exp.Interval,
    exp.Neg, exp.Not, exp.And, exp.Or, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ,
    exp.NullSafeNEQ, exp.Is, exp.In, exp.Between, exp.Like, exp.ILike, exp.Escape, exp.Add, exp.Sub,
    exp.Mul, exp.Div, exp.IntDiv, exp.Mod, exp.DPipe,
)
_DATE_PARTS = re.compile(r"(?i)(millennium|century|decade|year|quarter|month|week|day|dayofweek|dow|isodow|"
                         r"dayofyear|doy|hour|minute|second|millisecond|microsecond|epoch|yearweek|isoyear)s?")
_VAR_PARENTS = (exp.Interval, exp.Extract, exp.DateDiff, exp.DateAdd, exp.DateSub, exp.TimestampTrunc)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
HINT_ALLOWED = ("settings SQL may only use the two records' columns, operators, CASE/CAST, lambdas and "
                "the scalar functions listed in settings/README.md; no tables, files, network or settings")


@dataclass(frozen=True)
class SQLProblem:
    """Why a piece of settings SQL is refused: ``expected X, got Y (hint)``."""

    expected: str
    got: str
    hint: str | None = None

    def __str__(self) -> str:
        return f"expected {self.expected}, got {self.got}" + (f" ({self.hint})" if self.hint else "")


class UnsafeSQLError(ValueError):
    """Raised by :func:`parse_expression` and friends; ``problem`` says why."""

    def __init__(self, problem: SQLProblem):
        self.problem = problem
        super().__init__(str(problem))


def _fragment(node: exp.Expression | str, limit: int = 80) -> str:
    text = node if isinstance(node, str) else node.sql(dialect="duckdb", comments=False)
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _expected(notation: Notation) -> str:
    cols = "l.<column> / r.<column>" if notation == "lr" else "<column>_l / <column>_r"
    return f"one SQL expression over {cols}"


def _func_name(node: exp.Func) -> str:
    """The function's name as the user would recognise it (sqlglot canonicalises some: unnest -> EXPLODE)."""
    if isinstance(node, exp.Anonymous):
        return str(node.name)
    m = re.match(r"\s*([A-Za-z_]\w*)\s*\(", node.sql(dialect="duckdb", comments=False))
    return m.group(1).lower() if m else node.sql_name().lower()


def _check_node(node: exp.Expression, bound: frozenset[str], columns: set[str] | None, notation: Notation,
                expected: str) -> None:
    """Raise ``UnsafeSQLError`` unless ``node`` and everything below it is allowed."""
    if isinstance(node, (exp.Query, exp.Subquery, exp.Table, exp.From, exp.Join, exp.Exists, exp.Command,
                         exp.Create, exp.Insert, exp.Delete, exp.Update, exp.Drop)):
        raise UnsafeSQLError(SQLProblem(expected, _fragment(node), "subqueries, statements and table access "
                                                                    "are not allowed in settings SQL"))
    if isinstance(node, exp.Lambda):
        params = [p.name.lower() for p in node.expressions]
        for p in params:
            if p in ("l", "r") or (columns is not None and p in columns):
                raise UnsafeSQLError(SQLProblem(expected, _fragment(node),
                                                f"name the lambda parameter differently from {p!r}"))
        _check_node(node.this, bound | frozenset(params), columns, notation, expected)
        return
    if isinstance(node, exp.Column):
        _check_column(node, bound, columns, notation, expected)
        return
    if isinstance(node, exp.Var):
        if not isinstance(node.parent, _VAR_PARENTS) or not _DATE_PARTS.fullmatch(node.name):
            raise UnsafeSQLError(SQLProblem(expected, _fragment(node), "a bare word is allowed only as a date "
                                                                        "part (day, month, year...)"))
        return
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.USERDEFINED:
        raise UnsafeSQLError(SQLProblem(expected, _fragment(node), "cast to a built-in type"))
    if isinstance(node, _SAFE_NODES):
        pass
    elif isinstance(node, exp.Anonymous):
        if str(node.name).lower() not in SAFE_FUNCTIONS:
            raise UnsafeSQLError(SQLProblem(expected, _fragment(node),
                                            f"{str(node.name).lower()!r} is not an allowed function: "
                                            + HINT_ALLOWED))
    elif isinstance(node, exp.Func):
        if type(node).__name__ not in _SAFE_FUNC_CLASSES:
            raise UnsafeSQLError(SQLProblem(expected, _fragment(node),
                                            f"{_func_name(node)!r} is not an allowed function: " + HINT_ALLOWED))
    else:
        raise UnsafeSQLError(SQLProblem(expected, _fragment(node),
                                        f"{type(node).__name__} is not allowed in settings SQL: " + HINT_ALLOWED))
    for child in node.iter_expressions():
        _check_node(child, bound, columns, notation, expected)


def _did_you_mean(word: str, options: Iterable[str]) -> str | None:
    m = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.6)
    return m[0] if m else None


def _check_column(node: exp.Column, bound: frozenset[str], columns: set[str] | None, notation: Notation,
                  expected: str) -> None:
    if node.args.get("db") or node.args.get("catalog") or not isinstance(node.this, exp.Identifier):
        raise UnsafeSQLError(SQLProblem(expected, _fragment(node), "write a column as l.<column> or r.<column>"))
    name = node.name.lower()
    table = node.table.lower()
    if not table and name in bound:
        return
    if notation == "lr":
        if table not in ("l", "r"):
            hint = (f"write l.{name} or r.{name}" if not table else
                    f"columns belong to the two records: write l.{name} or r.{name}")
            raise UnsafeSQLError(SQLProblem(expected, _fragment(node), hint))
        base, side = name, table
    else:
        m = re.fullmatch(r"(.+)_(l|r)", name)
        if table or not m:
            raise UnsafeSQLError(SQLProblem(expected, _fragment(node),
                                            f"a native Splink condition names columns {name}_l and {name}_r"))
        base, side = m.group(1), m.group(2)
    if columns is not None and base not in columns:
        near = _did_you_mean(base, columns)
        shown = f"{side}.{near}" if notation == "lr" and near else f"{near}_{side}" if near else None
        raise UnsafeSQLError(SQLProblem(expected, f"unknown column {_fragment(node)}",
                                        f"did you mean {shown}?" if shown else "see 'linkage init' for the columns"))


def parse_expression(sql: object, columns: set[str] | None = None, notation: Notation = "lr") -> exp.Expression:
    """The checked sqlglot tree of ``sql``; raises ``UnsafeSQLError`` saying what is refused and where.

    ``columns`` are the known column names (None: any name); ``notation`` is ``lr`` (``l.x``, our
    settings) or ``suffix`` (``x_l``, a native Splink comparison).
    """
    expected = _expected(notation)
    if not isinstance(sql, str) or not sql.strip():
        raise UnsafeSQLError(SQLProblem(expected, "nothing" if not isinstance(sql, str) or not sql else "''"))
    if len(sql) > MAX_SQL_LENGTH:
        raise UnsafeSQLError(SQLProblem(expected, f"{len(sql):,} characters", f"at most {MAX_SQL_LENGTH:,}"))
    if _CONTROL.search(sql):
        raise UnsafeSQLError(SQLProblem(expected, _fragment(sql), "remove the control characters"))
    quiet = logging.getLogger("sqlglot")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # 'unsupported syntax, falling back to Command': refused below anyway
    try:
        trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        first = re.sub(r"\x1b\[[0-9;]*m", "", first)
        raise UnsafeSQLError(SQLProblem(expected, f"SQL that does not parse: {first}",
                                        f"in {_fragment(sql)}; check quotes and parentheses")) from exc
    except Exception as exc:  # sqlglot raises other errors on some malformed input
        raise UnsafeSQLError(SQLProblem(expected, f"SQL that does not parse ({type(exc).__name__})",
                                        f"in {_fragment(sql)}")) from exc
    finally:
        quiet.setLevel(level)
    if len(trees) != 1:
        raise UnsafeSQLError(SQLProblem(expected, f"{len(trees)} statements ({_fragment(trees[-1]) if trees else ''})",
                                        "one expression, without ';'"))
    tree = trees[0]
    _check_node(tree, frozenset(), columns, notation, expected)
    return tree


def check_expression(sql: object, columns: set[str] | None = None, notation: Notation = "lr") -> SQLProblem | None:
    """None when ``sql`` is an allowed expression over the two records' columns; else the problem."""
    try:
        tree = parse_expression(sql, columns, notation)
        engine_check(_canonical_columns(tree, swap=False).sql(dialect="duckdb", comments=False))
    except UnsafeSQLError as exc:
        return exc.problem
    return None


# ---------------------------------------------------------------------------------------------
# Second opinion: DuckDB's own parser reads the regenerated SQL, so what the engine would run is
# checked by the engine's grammar too (no parser disagreement can hide a call).

_ENGINE_CLASSES = {"BETWEEN", "CASE", "CAST", "COLUMN_REF", "COMPARISON", "CONJUNCTION", "CONSTANT", "FUNCTION",
                   "LAMBDA", "OPERATOR", "TYPE"}
# operators and helpers the SQL generator writes for allowed constructs (LIKE is ~~, [i] is array_extract...)
_ENGINE_EXTRA_FUNCTIONS = frozenset("""
    + - * / // % ^ ** || ~~ !~~ ~~* !~~* && @> <@ like_escape not_like_escape ilike_escape not_ilike_escape
    row to_days to_months to_years to_hours to_minutes to_seconds date_part array_extract array_slice list_value
    octet_length typeof trunc regexp_full_match
""".split())
_ENGINE_TABLE_TYPES = {"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE", "BASE_TABLE",
                       "TABLE_FUNCTION", "SUBQUERY", "JOIN", "EXPRESSION_LIST", "PIVOT", "SHOW_REF", "COLUMN_DATA"}
_engine: Any = None
_engine_lock = threading.Lock()


def _engine_tree(sql: str) -> dict | None:
    """DuckDB's parse tree of ``SELECT <sql>`` as JSON (None when this DuckDB cannot serialise SQL)."""
    global _engine
    import duckdb

    with _engine_lock:
        try:
            if _engine is None:
                _engine = duckdb.connect(config={"enable_external_access": False,
                                                 "autoinstall_known_extensions": False,
                                                 "autoload_known_extensions": False})
            row = _engine.execute("SELECT json_serialize_sql(?)", ["SELECT " + sql]).fetchone()
        except duckdb.CatalogException:  # a DuckDB built without the json extension
            return None
    return json.loads(row[0])


def engine_check(sql: str) -> None:
    """Raise ``UnsafeSQLError`` unless DuckDB parses ``sql`` as one expression of allowed nodes and functions."""
    tree = _engine_tree(sql)
    if tree is None:
        return
    expected = "one SQL expression DuckDB reads as allowed"
    stmts = tree.get("statements") or []
    if tree.get("error") or len(stmts) != 1:
        raise UnsafeSQLError(SQLProblem(expected, _fragment(sql), tree.get("error_message") or "one statement"))
    node = stmts[0].get("node") or {}
    clean = (node.get("type") == "SELECT_NODE" and len(node.get("select_list") or []) == 1
             and (node.get("from_table") or {}).get("type") == "EMPTY" and not node.get("where_clause")
             and not node.get("group_expressions") and not node.get("having") and not node.get("qualify")
             and not node.get("modifiers") and not (node.get("cte_map") or {}).get("map"))
    if not clean:
        raise UnsafeSQLError(SQLProblem(expected, _fragment(sql), "one expression only"))

    def walk(n: Any) -> None:
        if isinstance(n, list):
            for x in n:
                walk(x)
            return
        if not isinstance(n, dict):
            return
        if n.get("type") in _ENGINE_TABLE_TYPES or "subquery" in n:
            raise UnsafeSQLError(SQLProblem(expected, _fragment(sql), "no subqueries or tables"))
        cls = n.get("class")
        if cls is not None and cls not in _ENGINE_CLASSES:
            raise UnsafeSQLError(SQLProblem(expected, _fragment(sql), f"{str(cls).lower()} is not allowed"))
        if cls == "FUNCTION":
            name = str(n.get("function_name", "")).lower()
            if (name not in SAFE_FUNCTIONS and name not in _ENGINE_EXTRA_FUNCTIONS) or n.get("schema") or \
                    n.get("catalog") or (n.get("order_bys") or {}).get("orders") or n.get("filter"):
                raise UnsafeSQLError(SQLProblem(expected, _fragment(sql), f"{name!r} is not an allowed function"))
        for v in n.values():
            walk(v)

    walk(node["select_list"][0])


def _render(tree: exp.Expression, dialect: str, swap: bool) -> str:
    """The checked tree as SQL in ``dialect`` (comments dropped), after DuckDB's parser agrees it is safe."""
    canon = _canonical_columns(tree, swap)
    duck = canon.sql(dialect="duckdb", comments=False)
    engine_check(duck)
    return duck if dialect == "duckdb" else _for_dialect(canon, dialect).sql(dialect=dialect, comments=False)


def _canonical_columns(tree: exp.Expression, swap: bool) -> exp.Expression:
    """Columns lower-cased; with ``swap``, ``l.x`` becomes Splink's ``"x_l"``."""
    def fix(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and isinstance(node.this, exp.Identifier):
            name, table = node.name.lower(), node.table.lower()
            if table in ("l", "r"):
                if swap:
                    return exp.column(f"{name}_{table}", quoted=True)
                return exp.column(name, table=table, quoted=not re.fullmatch(r"[a-z_][a-z0-9_]*", name))
            if not table and re.fullmatch(r".+_(l|r)", name):
                return exp.column(name, quoted=True)
            if not table:  # a lambda parameter
                return exp.column(name)
        return node

    return tree.transform(fix)


def canonical_sql(sql: str, dialect: str = "duckdb", notation: Notation = "lr",
                  columns: set[str] | None = None) -> str:
    """The checked expression regenerated in ``dialect``, comments dropped, in the same notation."""
    return _render(parse_expression(sql, columns, notation), dialect, swap=False)


def to_level_sql(sql: str, dialect: str = "duckdb") -> str:
    """Rewrite ``l.col``/``r.col`` (the settings' notation) as Splink's ``col_l``/``col_r``, in ``dialect``.

    The expression is checked first (:func:`parse_expression`); the output is regenerated from the
    checked tree without comments.
    """
    return _render(parse_expression(sql, None, "lr"), dialect, swap=True)


# --- Dialect fixes (the Spark backend) -----------------------------------------------------------------
# Settings SQL is written in DuckDB and sqlglot transpiles it, except for two things it cannot know:
# DuckDB's len() of a list is Spark's size() (sqlglot emits LENGTH, a string-only function on Spark),
# and Splink's Spark similarity JAR registers Jaro(-Winkler) under its own names.
_SPARK_FUNCTIONS = {"jarowinklersimilarity": "jaro_winkler", "jaro_winkler_similarity": "jaro_winkler",
                    "jaro_similarity": "jaro_sim"}
_ARRAY_VALUED = (exp.RegexpExtractAll, exp.Array, exp.ArraySort, exp.ArrayDistinct, exp.ArrayIntersect,
                 exp.ArrayExcept, exp.ArrayConcat, exp.ArrayFilter, exp.ArraySlice, exp.Split, exp.RegexpSplit,
                 exp.Transform)


def _is_array(node: exp.Expression) -> bool:
    """Whether ``node`` is list-valued: a list function, or a ``VARCHAR[]`` column of the records."""
    from .normalise import NORMALISED_COLUMNS

    if isinstance(node, _ARRAY_VALUED):
        return True
    if isinstance(node, exp.Column):
        base = re.sub(r"_(l|r)$", "", node.name) if not node.table else node.name
        return NORMALISED_COLUMNS.get(base, "").endswith("[]")
    return False


def _spark_fix(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Length) and _is_array(node.this):
        return exp.ArraySize(this=node.this)
    if isinstance(node, exp.Func):
        name = (node.name if isinstance(node, exp.Anonymous) else type(node).__name__).lower()
        if name in _SPARK_FUNCTIONS:
            args = node.expressions if isinstance(node, exp.Anonymous) else [
                a for a in node.args.values() if isinstance(a, exp.Expression)]
            return exp.Anonymous(this=_SPARK_FUNCTIONS[name], expressions=args)
    return node


def _for_dialect(tree: exp.Expression, dialect: str) -> exp.Expression:
    """``tree`` (DuckDB semantics) with the rewrites ``dialect`` needs beyond sqlglot's transpiling."""
    return tree.transform(_spark_fix) if dialect == "spark" else tree


# ---------------------------------------------------------------------------------------------
# Binding: does the (already safe) expression type-check against the normalised records?

_DUCKDB_TYPES = {"VARCHAR": "VARCHAR", "VARCHAR[]": "VARCHAR[]", "DATE": "DATE", "INTEGER": "BIGINT",
                 "BOOLEAN": "BOOLEAN"}


class Binder:
    """Type-checks safe expressions in a sandboxed, empty in-memory DuckDB with the records' schema.

    The connection has external access disabled and its configuration locked, and every query reads
    ``LIMIT 0`` rows: binding only. Used by ``linkage validate`` to report unknown functions, wrong
    argument types and conditions that are not true/false before a run starts.
    """

    def __init__(self, column_types: dict[str, str]):
        import duckdb

        self.con = duckdb.connect(config={"enable_external_access": False, "autoinstall_known_extensions": False,
                                          "autoload_known_extensions": False})
        cols = ", ".join(f'"{c}" {_DUCKDB_TYPES.get(t, "VARCHAR")}' for c, t in column_types.items())
        suffixed = ", ".join(f'"{c}_{s}" {_DUCKDB_TYPES.get(t, "VARCHAR")}'
                             for c, t in column_types.items() for s in ("l", "r"))
        self.con.execute(f"CREATE TABLE t ({cols})")
        self.con.execute(f"CREATE TABLE p ({suffixed})")
        self.con.execute("SET lock_configuration = true")

    def check(self, sql: str, notation: Notation = "lr", boolean: bool = True) -> SQLProblem | None:
        """None when ``sql`` (checked by :func:`parse_expression`) binds and, with ``boolean``, is true/false."""
        try:
            expr = canonical_sql(sql, "duckdb", notation)
        except UnsafeSQLError as exc:
            return exc.problem
        source = "t AS l, t AS r" if notation == "lr" else "p"
        try:
            rel = self.con.sql(f"SELECT ({expr}) AS v FROM {source} LIMIT 0")
            kind = str(rel.types[0])
        except Exception as exc:  # duckdb.Error subclasses: binder, catalog, conversion errors
            msg = " ".join(str(exc).split())
            msg = re.sub(r"^(\w+ Error): ", "", msg)
            return SQLProblem("SQL that DuckDB accepts", f"an error: {msg[:200]}", f"in {_fragment(sql)}")
        if boolean and kind not in ("BOOLEAN", '"NULL"', "NULL"):
            return SQLProblem("a true/false condition", f"an expression of type {kind}",
                              f"compare it, e.g. ... = ..., ... >= 0.9; in {_fragment(sql)}")
        return None

    def close(self) -> None:
        self.con.close()
