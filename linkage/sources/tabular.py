"""Readers for tables: CSV/TSV (encoding and delimiter detected), Parquet, JSON, JSON Lines, DuckDB tables.

Each reader returns a ``pandas.DataFrame`` of raw columns (strings, or lists of strings for nested
lists) with one row per input record, in file order, and a ``parse_error`` column: a row that
cannot be parsed is kept and flagged, never dropped.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd

from ..errors import SourceError
from ..fields import PARSE_ERROR
from .encoding import read_text


def _cell(value):
    """A raw cell as the pipeline keeps it: None, a string, or a list of strings."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, (list, tuple)):
        return [json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else ("" if v is None else str(v))
                for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return _cell(value.tolist())
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _frame(rows: list[dict], errors: list[str | None]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    df = df.astype(object).where(df.notna(), None) if len(df.columns) else df
    df[PARSE_ERROR] = pd.Series(errors, dtype=object) if errors else pd.Series([], dtype=object)
    return df


def sniff_delimiter(sample: str, default: str = ",") -> str:
    """Guess the delimiter of a delimited text sample among comma, tab, semicolon and pipe."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        counts = {d: sample.splitlines()[0].count(d) if sample else 0 for d in ",\t;|"}
        best = max(counts, key=counts.get)
        return best if counts[best] else default


def read_delimited(path: Path, delimiter: str | None = None) -> tuple[pd.DataFrame, str]:
    """Read a CSV/TSV file; returns the frame and the detected encoding.

    Rows with too many or too few fields are kept with a ``parse_error`` that says so (extra fields
    are joined into the last column so no text is lost).
    """
    text, encoding = read_text(path)
    if not text.strip():
        raise SourceError(f"{path}: the file is empty", "give a table with a header row and at least one record")
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else sniff_delimiter(text[:20000])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise SourceError(f"{path}: line 1: cannot read the header ({exc})") from exc
    header = [h.strip() or f"column_{i + 1}" for i, h in enumerate(header)]
    seen: dict[str, int] = {}
    for i, h in enumerate(header):  # duplicate header names get a suffix, nothing is overwritten
        if h in seen:
            seen[h] += 1
            header[i] = f"{h}_{seen[h]}"
        else:
            seen[h] = 1
    width = len(header)
    rows: list[dict] = []
    errors: list[str | None] = []
    line_no = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            line_no = reader.line_num
            rows.append({header[0]: None})
            errors.append(f"line {line_no}: {exc}")
            continue
        line_no = reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue  # blank line: not a record
        err = None
        if len(fields) != width:
            err = f"line {line_no}: expected {width} fields, got {len(fields)}"
            if len(fields) > width:
                fields = fields[: width - 1] + [delimiter.join(fields[width - 1:])]
            else:
                fields = fields + [""] * (width - len(fields))
        rows.append({h: (v if v != "" else None) for h, v in zip(header, fields)})
        errors.append(err)
    if not rows:
        raise SourceError(f"{path}: the table has a header but no records", "add at least one record")
    df = pd.DataFrame.from_records(rows, columns=header)
    df = df.astype(object).where(df.notna(), None)
    df[PARSE_ERROR] = pd.Series(errors, dtype=object)
    return df, encoding


def read_jsonl(path: Path) -> tuple[list[dict | None], list[str | None], str]:
    """Read JSON Lines: one object per line. Returns (objects, errors, encoding); a bad line gives None."""
    text, encoding = read_text(path)
    objs: list[dict | None] = []
    errors: list[str | None] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            objs.append({"raw_line": line[:10000]})
            errors.append(f"line {n}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(obj, dict):
            objs.append({"raw_line": line[:10000]})
            errors.append(f"line {n}: expected a JSON object, got {type(obj).__name__}")
            continue
        objs.append(obj)
        errors.append(None)
    return objs, errors, encoding


def read_json(path: Path) -> tuple[list[dict | None], list[str | None], str]:
    """Read a JSON file holding a list of objects (or an object with one list of objects)."""
    text, encoding = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{path}: line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})",
                          "give a JSON array of records, or JSON Lines with the .jsonl extension") from exc
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
        if len(lists) == 1:
            data = lists[0]
        elif "message" in data and isinstance(data["message"], dict):  # a Crossref API response
            msg = data["message"]
            data = msg.get("items", [msg])
        else:
            data = [data]
    if not isinstance(data, list):
        raise SourceError(f"{path}: expected a JSON array of records, got {type(data).__name__}")
    objs, errors = [], []
    for i, obj in enumerate(data, start=1):
        if isinstance(obj, dict):
            objs.append(obj)
            errors.append(None)
        else:
            objs.append({"raw_line": json.dumps(obj)[:10000]})
            errors.append(f"record {i}: expected a JSON object, got {type(obj).__name__}")
    return objs, errors, encoding


def objects_to_frame(objs: list[dict], errors: list[str | None]) -> pd.DataFrame:
    """Top-level keys become columns; nested lists stay lists of strings; nested objects become JSON text."""
    rows = [{k: _cell(v) for k, v in obj.items()} for obj in objs]
    return _frame(rows, errors)


def read_parquet(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for a bad file
        raise SourceError(f"{path}: not a readable Parquet file ({str(exc).splitlines()[0][:200]})") from exc
    out = pd.DataFrame({c: [_cell(v) for v in df[c].tolist()] for c in df.columns}, dtype=object)
    out[PARSE_ERROR] = None
    return out


def read_duckdb_table(path: Path, table: str) -> pd.DataFrame:
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except Exception as exc:
        raise SourceError(f"{path}: not a readable DuckDB database ({str(exc).splitlines()[0][:200]})") from exc
    try:
        names = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        if table not in names:
            raise SourceError(f"{path}: no table named {table!r}", f"tables: {', '.join(sorted(names)) or 'none'}")
        df = con.execute(f'select * from "{table}"').df()
    finally:
        con.close()
    out = pd.DataFrame({c: [_cell(v) for v in df[c].tolist()] for c in df.columns}, dtype=object)
    out[PARSE_ERROR] = None
    return out
