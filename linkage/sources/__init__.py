"""Source tables in: read each input file, keep every record, name its columns.

``read_source`` turns one input (a path, ``name=path``, or ``file.duckdb:table``) into a
``SourceTable``: the raw columns as read, system columns (``source``, ``source_id``,
``source_row``, ``parse_error``) and a mapping from canonical fields to raw columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import SourceError
from ..fields import (
    ORIGIN_COLUMNS,
    PARSE_ERROR,
    SOURCE,
    SOURCE_ID,
    SOURCE_ROW,
    SYNONYMS,
    column_key,
)
from . import tabular
from .api import flatten_api_record

FORMATS = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "csv",
    ".parquet": "parquet", ".pq": "parquet",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json",
    ".duckdb": "duckdb", ".db": "duckdb",
    ".ris": "ris", ".bib": "bibtex", ".bibtex": "bibtex",
    ".xml": "endnote", ".nbib": "nbib", ".medline": "nbib",
}


@dataclass
class SourceTable:
    """One input table as read: raw columns plus system columns, and its canonical column mapping."""

    name: str
    path: Path
    format: str
    frame: pd.DataFrame
    mapping: dict[str, str]
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)
    labels: pd.DataFrame | None = None  # pair-case files carry their own labels

    @property
    def n_parse_errors(self) -> int:
        return int(self.frame[PARSE_ERROR].notna().sum())


def normalise_source_name(name: str) -> str:
    """``SupportedSources.ARXIV``, ``arXiv``, ``arxiv`` -> ``arxiv``; ``Papers with Code`` -> ``papers_with_code``."""
    s = str(name).strip()
    if "." in s and not s.startswith("."):
        s = s.rsplit(".", 1)[-1] if re.fullmatch(r"[\w]+\.[\w]+", s) else s
    s = re.sub(r"[^0-9a-zA-Z]+", "_", s).strip("_").lower()
    return s or "source"


def parse_source_arg(arg: str) -> tuple[str | None, Path, str | None]:
    """Split ``name=path`` and ``file.duckdb:table``; returns (name or None, path, table or None)."""
    name = None
    if "=" in arg and not Path(arg).exists():
        name, arg = arg.split("=", 1)
        name = name.strip() or None
    table = None
    m = re.match(r"^(.*\.(?:duckdb|db)):(\w+)$", arg)
    if m and not Path(arg).exists():
        arg, table = m.group(1), m.group(2)
    return name, Path(arg), table


def detect_format(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    fmt = FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        known = ", ".join(sorted({k for k in FORMATS}))
        raise SourceError(f"{path}: unknown format {path.suffix or '(no extension)'!r}",
                          f"use one of the extensions {known}")
    return fmt


def resolve_mapping(columns: list[str], explicit: dict[str, str] | None = None) -> dict[str, str]:
    """Canonical field -> raw column, by explicit mapping first, then by synonyms (case/punctuation-insensitive)."""
    by_key: dict[str, str] = {}
    for c in columns:
        by_key.setdefault(column_key(c), c)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for fld, col in (explicit or {}).items():
        if col in columns:
            mapping[fld] = col
            used.add(col)
    for fld, names in SYNONYMS.items():
        if fld in mapping:
            continue
        for n in names:
            col = by_key.get(column_key(n))
            if col is not None and col not in used:
                mapping[fld] = col
                used.add(col)
                break
    return mapping


def _rename_origin_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Columns named source/label/database inside a file are raw data (maybe ground truth), never features."""
    ren = {}
    for c in df.columns:
        key = str(c).strip().lower()
        if key in ORIGIN_COLUMNS:
            new = ORIGIN_COLUMNS[key]
            while new in df.columns or new in ren.values():
                new = "raw_" + new
            ren[c] = new
    reserved = {SOURCE, SOURCE_ID, SOURCE_ROW, "unique_id"}
    for c in df.columns:
        if c in reserved and c not in ren:
            ren[c] = "raw_" + c
    return df.rename(columns=ren)


def _read_frame(path: Path, fmt: str, table: str | None) -> tuple[pd.DataFrame, str | None, pd.DataFrame | None]:
    """Read a file into a raw frame; returns (frame, encoding, labels or None)."""
    if fmt in ("csv", "tsv"):
        df, enc = tabular.read_delimited(path, "\t" if fmt == "tsv" else None)
        return df, enc, None
    if fmt == "parquet":
        return tabular.read_parquet(path), None, None
    if fmt == "duckdb":
        if not table:
            raise SourceError(f"{path}: a DuckDB source needs a table name", "write it as file.duckdb:table")
        return tabular.read_duckdb_table(path, table), None, None
    if fmt in ("jsonl", "json"):
        objs, errors, enc = (tabular.read_jsonl if fmt == "jsonl" else tabular.read_json)(path)
        if objs and any(o and "doc_1" in o and "doc_2" in o for o in objs):
            from .pair_cases import pair_case_frame

            df, labels = pair_case_frame(objs, errors, path)
            return df, enc, labels
        objs = [flatten_api_record(o) if o and "raw_line" not in o else o for o in objs]
        return tabular.objects_to_frame(objs, errors), enc, None
    from . import references  # reference-manager formats

    return references.read_reference_file(path, fmt)


def read_source(arg: str | Path | tuple[str, str | Path], mapping: dict[str, str] | None = None) -> SourceTable:
    """Read one source table. ``arg`` is a path, ``name=path``, ``(name, path)`` or ``file.duckdb:table``."""
    if isinstance(arg, tuple):
        name, path, table = arg[0], Path(arg[1]), None
    else:
        name, path, table = parse_source_arg(str(arg))
    if not path.exists():
        raise SourceError(f"{path}: no such file", "check the path, or write name=path to name a source")
    if path.is_dir():
        raise SourceError(f"{path}: is a folder, not a table", "give the table's file")
    fmt = detect_format(path)
    df, encoding, labels = _read_frame(path, fmt, table)
    if len(df) == 0:
        raise SourceError(f"{path}: the table has no records", "give a file with at least one record")
    stem = path.name.split(".")[0] if not table else table
    src = normalise_source_name(name or stem)
    df = _rename_origin_columns(df)
    raw_cols = [c for c in df.columns if c != PARSE_ERROR]
    mp = resolve_mapping(raw_cols, mapping)
    if "title" not in mp:
        raise SourceError(
            f"{path}: no title column (columns: {', '.join(map(str, raw_cols[:20]))})",
            "name a column 'title', or map one in the settings file under columns: {title: YOUR_COLUMN}",
        )
    warnings: list[str] = []
    if "id" in mp:
        ids = df[mp["id"]].map(lambda v: None if v is None else (str(v[0]) if isinstance(v, list) and v else str(v)).strip())
        missing = ids.isna() | (ids == "")
        row_ids = pd.Series([str(i + 1) for i in range(len(df))], index=df.index)
        ids = ids.where(~missing, "row" + row_ids)
        dup = ids.duplicated(keep="first")
        if dup.any():
            warnings.append(f"{path}: {int(dup.sum())} duplicate ids in column {mp['id']!r}; "
                            "the later ones get '#row' appended so every record stays distinct")
            ids = ids.where(~dup, ids + "#" + row_ids)
        if missing.any():
            warnings.append(f"{path}: {int(missing.sum())} records have no id; they are named by row number")
    else:
        ids = pd.Series([str(i + 1) for i in range(len(df))], index=df.index)
    n_err = int(df[PARSE_ERROR].notna().sum())
    if n_err:
        warnings.append(f"{path}: {n_err} rows could not be fully parsed; kept with a parse_error flag")
    front = pd.DataFrame({SOURCE: src, SOURCE_ID: ids.astype(str).values,
                          SOURCE_ROW: range(1, len(df) + 1)}, index=df.index)
    frame = pd.concat([front, df], axis=1)
    return SourceTable(name=src, path=path, format=fmt, frame=frame, mapping=mp, encoding=encoding,
                       warnings=warnings, labels=labels)


def read_sources(args, mapping: dict[str, str] | None = None) -> list[SourceTable]:
    """Read several sources; two inputs with the same source name get numbered suffixes."""
    tables = [read_source(a, mapping) for a in args]
    seen: dict[str, int] = {}
    for t in tables:
        if t.name in seen:
            seen[t.name] += 1
            t.name = f"{t.name}_{seen[t.name]}"
            t.frame[SOURCE] = t.name
        else:
            seen[t.name] = 1
    return tables
