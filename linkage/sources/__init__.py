"""Source tables in: read each input file, keep every record, name its columns.

``read_source`` turns one input (a path, ``name=path``, ``(name, path)`` or ``file.duckdb:table``) into
a ``SourceTable``: system columns (``source``, ``source_id``, ``source_row``), the raw columns as read
(cells None, str or list[str]), ``parse_error`` (None, or ``"line N: ..."`` for a record that could not
be read completely: it is kept, flagged and counted), and a mapping from canonical fields to raw
columns.

Formats, by extension (``.gz`` allowed on the text formats; ``.txt`` and extension-less files are
recognised by their content):

* delimited text: ``.csv``, ``.tsv``/``.tab``, ``.txt`` (encoding and delimiter detected), including
  the ASySD export layout (``author, year, journal, doi, title, pages, volume, number, abstract,
  record_id, isbn, label, source``);
* ``.parquet``; ``.json`` / ``.jsonl`` (records of any shape, and the records of scholarly APIs:
  Crossref, OpenAlex, Semantic Scholar, arXiv, Papers with Code, see ``api``); ``file.duckdb:table``;
* ``.ris``, ``.bib``, EndNote ``.xml``, PubMed ``.nbib`` (see ``references``);
* pair-case files (``.jsonl`` with ``doc_1``/``doc_2``/``decision``, or bib-dedupe JSON), read as two
  records per case with their labels (see ``pair_cases``).

Column mapping, per table: the explicit ``columns:`` mapping of the settings file first, then what the
reader knows (e.g. BibTeX ``ENTRYTYPE`` is the type), then the synonyms of ``linkage.fields``
(case- and punctuation-insensitive). Unmapped columns are kept as raw data. When a field's first
column leaves records empty that another candidate column fills (BibTeX ``journal`` and
``booktitle``, RIS ``TI`` and ``T1``), a derived column named after the field (``venue``, or
``venue_combined`` when that name is taken) takes the first non-empty value of the candidates, and
the field maps to it; the raw columns stay as they were. Columns named ``source``, ``label`` or
``database`` in a file are renamed ``origin_source``, ``origin_label``, ``origin_database``: they are
raw data (perhaps the truth) and never features.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import SourceError
from ..fields import (
    ORIGIN_COLUMNS,
    PARSE_ERROR,
    SOURCE,
    SOURCE_ID,
    SOURCE_ROW,
    SYNONYMS,
    UNIQUE_ID,
    column_key,
)
from . import tabular
from .api import API_FIELDS, detect_shape, flatten_api_record, unwrap
from .columns import no_gc
from .encoding import decode, head_bytes
from .tabular import RawTable

__all__ = ["SourceError", "SourceTable", "detect_format", "parse_source_arg", "read_source", "read_sources",
           "resolve_mapping"]

FORMATS = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "csv",
    ".parquet": "parquet", ".pq": "parquet",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json",
    ".duckdb": "duckdb", ".db": "duckdb",
    ".ris": "ris", ".bib": "bibtex", ".bibtex": "bibtex",
    ".xml": "endnote", ".nbib": "nbib", ".medline": "nbib",
}
UNSUPPORTED = {".xlsx": "a spreadsheet", ".xls": "a spreadsheet", ".ods": "a spreadsheet", ".zip": "a zip archive",
               ".enl": "an EndNote library", ".pdf": "a PDF"}
BINARY_FORMATS = {"parquet", "duckdb"}
# Fields whose candidate columns are combined when the first leaves records empty (synonym mapping only;
# a reader's own candidates are always combined).
COMBINE_BY_SYNONYM = ("title", "authors", "venue", "year", "abstract", "doi", "volume", "issue", "pages")
RESERVED = {SOURCE, SOURCE_ID, SOURCE_ROW, UNIQUE_ID, PARSE_ERROR}


@dataclass
class SourceTable:
    """One input table as read: system and raw columns, and its canonical column mapping.

    Attributes:
        name: the source name (``name=`` of the argument, else the file's stem, normalised).
        path: the file.
        format: ``csv``, ``tsv``, ``parquet``, ``json``, ``jsonl``, ``duckdb``, ``ris``, ``bibtex``,
            ``endnote``, ``nbib`` or ``pair_cases``.
        frame: ``source``, ``source_id``, ``source_row``, the raw columns, ``parse_error``.
        mapping: canonical field -> column of ``frame``.
        encoding: the detected text encoding (None for Parquet/DuckDB).
        warnings: messages for run.json (each names the file).
        labels: for pair-case files, the labelled pairs (``id_l``, ``id_r`` as source ids,
            ``is_duplicate``, ``case``, ``note``).
        derived: derived column -> the raw columns it combines.
        missing_explicit: explicit mapping entries (``field``) whose column is not in this table.
    """

    name: str
    path: Path
    format: str
    frame: pd.DataFrame
    mapping: dict[str, str]
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)
    labels: pd.DataFrame | None = None
    derived: dict[str, list[str]] = field(default_factory=dict)
    missing_explicit: list[str] = field(default_factory=list)

    @property
    def n_parse_errors(self) -> int:
        """How many records were kept with a ``parse_error``."""
        return int(self.frame[PARSE_ERROR].notna().sum())

    @property
    def n_records(self) -> int:
        """How many records the table holds."""
        return len(self.frame)


def normalise_source_name(name: str) -> str:
    """``SupportedSources.ARXIV``, ``arXiv``, ``arxiv`` -> ``arxiv``; ``Papers with Code`` -> ``papers_with_code``."""
    s = str(name).strip()
    if re.fullmatch(r"\w+\.\w+", s):
        s = s.rsplit(".", 1)[-1]
    s = re.sub(r"[^0-9a-zA-Z]+", "_", s).strip("_").lower()
    return s or "source"


def parse_source_arg(arg: str) -> tuple[str | None, Path, str | None]:
    """Split ``name=path`` and ``file.duckdb:table``; returns (name or None, path, table or None)."""
    name = None
    if "=" in arg and not Path(arg).exists():
        name, arg = arg.split("=", 1)
        name = name.strip() or None
    table = None
    m = re.match(r"^(.*\.(?:duckdb|db)):([\w.]+)$", arg)
    if m and not Path(arg).exists():
        arg, table = m.group(1), m.group(2)
    return name, Path(arg), table


def sniff_format(head: bytes) -> str | None:
    """The format of a file from its first bytes, or None when it looks like delimited text."""
    if head[:4] == b"PAR1":
        return "parquet"
    if head[8:12] == b"DUCK":
        return "duckdb"
    text = decode(head).text.lstrip()
    if re.search(r"^TY {1,2}- ", text[:4096], re.M):
        return "ris"
    if re.search(r"^PMID\s*- ", text[:4096], re.M):
        return "nbib"
    if text.startswith("<"):
        return "endnote"
    if re.match(r"(?:%[^\n]*\n|\s)*@\s*[A-Za-z]+\s*[{(]", text):
        return "bibtex"
    if text[:1] == "[":
        return "json"
    if text[:1] == "{":
        return "jsonl"
    return None


def detect_format(path: Path) -> str:
    """The format of ``path``: by its extension (``.gz`` skipped); ``.txt`` and no extension by content.

    Raises:
        SourceError: an unknown extension (the message lists the known ones).
    """
    suffixes = [s.lower() for s in path.suffixes if re.fullmatch(r"\.[A-Za-z0-9]{1,10}", s)]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    if ext in UNSUPPORTED:
        raise SourceError(f"{path}: {UNSUPPORTED[ext]} ({ext}) cannot be read directly",
                          "export it as CSV (or RIS/BibTeX for a reference library) and give that file")
    if ext == ".txt" or not ext:
        return sniff_format(head_bytes(path)) or "csv"
    fmt = FORMATS.get(ext)
    if fmt is None:
        known = ", ".join(sorted(FORMATS))
        raise SourceError(f"{path}: unknown format {path.suffix or '(no extension)'!r}",
                          f"use one of the extensions {known}")
    return fmt


def _explicit_columns(mapping: dict[str, str] | None) -> list[str]:
    return [str(c) for c in (mapping or {}).values() if isinstance(c, str)]


def _read_json(path: Path, fmt: str) -> tuple[RawTable, str]:
    bulk = tabular.read_json_lines_bulk(path, fmt)  # regular JSON Lines: Arrow reads them, same cells
    if bulk is not None:
        return bulk, fmt
    items, dec = tabular.read_json_items(path, fmt)
    from .pair_cases import looks_like_pair_cases, read_pair_case_file

    if looks_like_pair_cases(items):
        return read_pair_case_file(path, dec.encoding), "pair_cases"
    rows: list[dict[str, Any]] = []
    errors: list[str | None] = []
    n_api = 0
    for it in items:
        if it.obj is None:
            rows.append({"raw_line": it.raw})
        else:
            obj = unwrap(it.obj)
            if detect_shape(obj):
                n_api += 1
            rows.append(flatten_api_record(obj))
        errors.append(it.error)
    frame = tabular.records_frame(rows)
    if n_api:  # canonical fields first, in their usual order, then the API name, then the rest as read
        first = [f for f in (*API_FIELDS, "api") if f in frame.columns]
        frame = frame[first + [c for c in frame.columns if c not in first]]
    preset = {f: (f,) for f in API_FIELDS if f in frame.columns} if n_api else {}
    n_ok = sum(1 for it in items if it.obj is not None)
    raw = RawTable(frame, errors, dec.encoding, preset, use_synonyms=n_api < n_ok,
                   warnings=[f"{path}: {n}" for n in dec.notes])
    return raw, fmt


def _read_raw(path: Path, fmt: str, table: str | None, explicit: dict[str, str] | None) -> tuple[RawTable, str]:
    """Read a file with the reader of its format; returns the raw table and the format (pair cases found)."""
    if fmt in ("csv", "tsv"):
        return tabular.read_delimited(path, "\t" if fmt == "tsv" else None, _explicit_columns(explicit)), fmt
    if fmt == "parquet":
        return tabular.read_parquet(path), fmt
    if fmt == "duckdb":
        return tabular.read_duckdb_table(path, table), fmt
    if fmt in ("jsonl", "json"):
        return _read_json(path, fmt)
    from . import references

    return references.read_reference_file(path, fmt), fmt


def _rename_columns(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rename origin columns (source/label/database) and system names found in a file; returns the renames."""
    taken = set(map(str, frame.columns))
    ren: dict[str, str] = {}
    for c in frame.columns:
        key = str(c).strip().lower()
        new = ORIGIN_COLUMNS.get(key) or ("raw_" + key if key in RESERVED else None)
        if new is None:
            continue
        while new in taken:
            new = "raw_" + new
        taken.add(new)
        ren[str(c)] = new
    return (frame.rename(columns=ren) if ren else frame), ren


def _is_empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, list) and not any(
        isinstance(x, str) and x.strip() for x in v))


def resolve_mapping(columns: Sequence[str], explicit: dict[str, str] | None = None,
                    preset: dict[str, tuple[str, ...]] | None = None,
                    use_synonyms: bool = True) -> dict[str, str]:
    """Canonical field -> raw column: explicit mapping first, then the reader's preset, then synonyms.

    Explicit and synonym names match case- and punctuation-insensitively; a column is used by one field
    only. ``preset`` gives the reader's candidate columns per field, in order of preference;
    ``use_synonyms=False`` maps by explicit and preset names only.
    """
    return _candidates(columns, explicit, preset, use_synonyms)[0]


def _candidates(columns: Sequence[str], explicit: dict[str, str] | None, preset: dict[str, tuple[str, ...]] | None,
                use_synonyms: bool) -> tuple[dict[str, str], dict[str, list[str]], list[str]]:
    """(mapping, candidate columns per field, explicit fields whose column is missing)."""
    cols = [str(c) for c in columns]
    by_key: dict[str, str] = {}
    for c in cols:
        by_key.setdefault(column_key(c), c)
    mapping: dict[str, str] = {}
    cands: dict[str, list[str]] = {}
    missing: list[str] = []
    used: set[str] = set()
    for fld, col in (explicit or {}).items():
        hit = col if col in cols else by_key.get(column_key(col)) if isinstance(col, str) else None
        if hit is None or column_key(hit) in {column_key(o) for o in ORIGIN_COLUMNS.values()}:
            missing.append(fld)
            continue
        mapping[fld] = hit
        used.add(hit)
    for fld, names in (preset or {}).items():
        if fld in mapping:
            continue
        present = [n for n in names if n in cols and n not in used]
        if present:
            mapping[fld] = present[0]
            cands[fld] = present
            used.add(present[0])
    if use_synonyms:
        for fld, names in SYNONYMS.items():
            if fld in mapping:
                continue
            present = []
            for n in names:
                col = by_key.get(column_key(n))
                if col is not None and col not in used and col not in present:
                    present.append(col)
            if present:
                mapping[fld] = present[0]
                used.add(present[0])
                if fld in COMBINE_BY_SYNONYM:
                    cands[fld] = present
    for fld, cs in cands.items():  # a candidate that another field took as its own stays with that field
        cands[fld] = [c for c in cs if c == mapping[fld] or c not in used]
    return mapping, cands, missing


def _combine(frame: pd.DataFrame, mapping: dict[str, str], cands: dict[str, list[str]]) -> dict[str, list[str]]:
    """Add derived columns where a field's first column leaves records empty that another candidate fills."""
    derived: dict[str, list[str]] = {}
    for fld, cs in cands.items():
        if len(cs) < 2:
            continue
        cols = [frame[c].tolist() for c in cs]
        values = []
        gained = False
        for k in range(len(frame)):
            v = cols[0][k]
            if _is_empty(v):
                for other in cols[1:]:
                    if not _is_empty(other[k]):
                        v = other[k]
                        gained = True
                        break
            values.append(v)
        if not gained:
            continue
        if any(isinstance(v, list) for v in values):
            values = [v if v is None or isinstance(v, list) else [v] for v in values]
        name = fld if fld not in frame.columns else f"{fld}_combined"
        while name in frame.columns:
            name += "_"
        frame[name] = pd.Series(values, index=frame.index, dtype=object)
        mapping[fld] = name
        derived[name] = list(cs)
    return derived


def _source_ids(frame: pd.DataFrame, col: str | None, path: Path, warnings: list[str]) -> pd.Series:
    n = len(frame)
    row_ids = pd.Series([str(i + 1) for i in range(n)], index=frame.index, dtype=object)
    if col is None:
        return row_ids

    def one(v: Any) -> str | None:
        if isinstance(v, list):
            v = next((x for x in v if x and x.strip()), None)
        return v.strip() if isinstance(v, str) and v.strip() else None

    vals = frame[col].to_numpy(dtype=object)
    if set(map(type, vals)) <= {str, type(None)}:  # the usual case, without a call per cell
        ids = pd.Series([(v.strip() or None) if v is not None else None for v in vals], index=frame.index,
                        dtype=object)
    else:
        ids = frame[col].map(one)
    missing = ids.isna()
    ids = ids.where(~missing, "row" + row_ids)
    dup = ids.duplicated(keep="first")
    if dup.any():
        warnings.append(f"{path}: {int(dup.sum())} duplicate ids in column {col!r}; "
                        "the later ones get '#row' appended so every record stays distinct")
        ids = ids.where(~dup, ids + "#" + row_ids)
    if missing.any():
        warnings.append(f"{path}: {int(missing.sum())} records have no id in column {col!r}; "
                        "they are named by row number (row1, row2, ...)")
    return ids.astype(str)


def read_source(arg: str | Path | tuple[str, str | Path], mapping: dict[str, str] | None = None) -> SourceTable:
    """Read one source table.

    Args:
        arg: a path, ``name=path``, ``(name, path)`` or ``file.duckdb:table``.
        mapping: the explicit column mapping of the settings file (canonical field -> column).

    Returns:
        The table: every record of the file, in file order.

    Raises:
        SourceError: the file is missing, of an unknown format, malformed as a whole, empty, or has no
            title column; the message names the file (and the line) and says what was expected.
    """
    if isinstance(arg, tuple):
        name, path, table = arg[0], Path(arg[1]), None
        if table is None:
            _, path, table = parse_source_arg(str(arg[1]))
    else:
        name, path, table = parse_source_arg(str(arg))
    if not path.exists():
        raise SourceError(f"{path}: no such file", "check the path, or write name=path to name a source")
    if path.is_dir():
        raise SourceError(f"{path}: is a folder, not a table", "give the table's file")
    fmt = detect_format(path)
    with no_gc():  # millions of cells: see no_gc
        return _read_table(path, fmt, table, name, mapping)


def _read_table(path: Path, fmt: str, table: str | None, name: str | None,
                mapping: dict[str, str] | None) -> SourceTable:
    raw, fmt = _read_raw(path, fmt, table, mapping)
    df = raw.frame
    if len(df) == 0:
        raise SourceError(f"{path}: the table has no records", "give a file with at least one record")
    stem = path.name.split(".")[0] if not table else table.rsplit(".", 1)[-1]
    src = normalise_source_name(name or stem)
    df, renamed = _rename_columns(df.copy())
    preset = {f: tuple(renamed.get(c, c) for c in cs) for f, cs in raw.mapping.items()}
    raw_cols = list(map(str, df.columns))
    mp, cands, missing = _candidates(raw_cols, mapping, preset, raw.use_synonyms)
    if "title" not in mp:
        raise SourceError(
            f"{path}: no title column (columns: {', '.join(raw_cols[:20])}{', ...' if len(raw_cols) > 20 else ''})",
            "name a column 'title', or map one in the settings file under columns: {title: YOUR_COLUMN}",
        )
    derived = _combine(df, mp, cands)
    warnings = list(raw.warnings)
    ids = _source_ids(df, mp.get("id"), path, warnings)
    n_err = sum(1 for e in raw.errors if e)
    if n_err:
        first = next(e for e in raw.errors if e)
        warnings.append(f"{path}: {n_err} records could not be fully parsed; kept with a parse_error flag "
                        f"(first: {first})")
    front = pd.DataFrame({SOURCE: src, SOURCE_ID: ids.values, SOURCE_ROW: range(1, len(df) + 1)}, index=df.index)
    frame = pd.concat([front, df], axis=1)
    frame[PARSE_ERROR] = pd.Series(list(raw.errors), index=df.index, dtype=object)
    return SourceTable(name=src, path=path, format=fmt, frame=frame, mapping=mp, encoding=raw.encoding,
                       warnings=warnings, labels=raw.labels, derived=derived, missing_explicit=missing)


def read_sources(args: Iterable[Any], mapping: dict[str, str] | None = None) -> list[SourceTable]:
    """Read several sources; two inputs with the same source name get numbered suffixes (``papers_2``).

    An explicit mapping entry whose column is in none of the tables is reported as a warning.
    """
    tables = [read_source(a, mapping) for a in args]
    seen: dict[str, int] = {}
    names = {t.name for t in tables}
    for t in tables:
        if t.name in seen:
            k = seen[t.name] + 1
            while f"{t.name}_{k}" in names:
                k += 1
            seen[t.name] = k
            t.name = f"{t.name}_{k}"
            names.add(t.name)
            t.frame[SOURCE] = t.name
        else:
            seen[t.name] = 1
    if tables and mapping:
        for fld in [f for f in mapping if all(f in t.missing_explicit for t in tables)]:
            tables[0].warnings.append(f"settings columns: {fld} -> {mapping[fld]!r}: no source has that column "
                                      "(origin columns source/label/database are never mapped)")
    return tables
