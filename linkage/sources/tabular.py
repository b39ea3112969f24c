"""Readers for tables: CSV/TSV (encoding and delimiter detected), Parquet, JSON, JSON Lines, DuckDB tables.

Every reader returns a ``RawTable``: a frame of raw columns (cells are None, a string, or a list of
strings for nested lists) with one row per input record in file order, and one parse error (or None)
per row. A row that cannot be parsed completely is kept and flagged, never dropped; a file that
cannot be read at all raises ``SourceError`` naming the file, the line and what was expected.

Delimited files:

* the delimiter is sniffed among ``, ; TAB |`` by how consistently each one splits the first records
  (a ``;``-separated file named ``.csv`` is read correctly);
* fields of any size are read (a 10 MB abstract is kept whole);
* a row with too many or too few fields is kept with ``parse_error`` "line N: expected W fields, got
  K" (extra fields are joined into the last column so no text is lost); a trailing empty field from a
  trailing delimiter is not an error;
* a file that ends inside a quoted field (truncated, or a stray opening quote) is detected: the
  record is kept and flagged, and when the open quote swallowed later lines that are themselves
  well-formed rows, those rows are read as records again;
* a header row that looks like data (numbers, years, long text, and no known column name) is an
  error that says so: without a header the columns have no names;
* duplicate column names are kept apart (``title``, ``title_2``) and reported; empty column names
  become ``column_N`` (and are dropped when the whole column is empty, as after a trailing delimiter).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import SourceError
from ..fields import SYNONYMS, column_key
from .encoding import Decoded, read_text

DELIMITERS = ",;\t|"
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
RAW_KEEP = 10_000  # characters of an unparseable line kept in ``raw_line``

Cell = str | list[str] | None


@dataclass
class RawTable:
    """A reader's result before the system columns are added.

    Attributes:
        frame: raw columns only, one row per record, cells None / str / list[str].
        errors: one parse-error message (``"line N: ..."``) or None per row.
        encoding: the detected text encoding (None for binary formats).
        mapping: canonical field -> column the reader knows for sure (e.g. BibTeX ``ENTRYTYPE`` is the
            type); applied after an explicit settings mapping and before synonyms.
        use_synonyms: False when the reader's mapping is complete (tagged formats), so a raw tag that
            happens to look like a synonym (MEDLINE ``IS`` is an ISSN, not an issue) is not mapped.
        warnings: messages for run.json, already prefixed with the file name.
        labels: pair-case files carry their own labels (``id_l``, ``id_r``, ``is_duplicate``, ``case``).
    """

    frame: pd.DataFrame
    errors: list[str | None]
    encoding: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    use_synonyms: bool = True
    warnings: list[str] = field(default_factory=list)
    labels: pd.DataFrame | None = None


# ---------------------------------------------------------------------------------------------------------
# Cells and frames
# ---------------------------------------------------------------------------------------------------------


def _scalar(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # numpy scalars and arrays
        return _scalar(value.tolist())
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def cell(value: Any) -> Cell:
    """A raw cell as the pipeline keeps it: None, a string, or a list of strings.

    Nested lists stay lists (their items as text: objects inside become JSON text, null items become
    ``""`` so positions are kept); nested objects become JSON text; numbers and booleans become their
    text (``2001``, ``true``); NaN becomes None.
    """
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)) and not isinstance(value, (int, float)):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return ["" if v is None else (_scalar(v) or "") for v in value]
    return _scalar(value)


def records_frame(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A frame from row dicts, cells converted with ``cell``; a column with a list anywhere holds lists only.

    Columns are in first-seen order (or ``columns``); absent keys are None.
    """
    if columns is None:
        seen: dict[str, None] = {}
        for r in rows:
            for k in r:
                seen.setdefault(str(k), None)
        columns = list(seen)
    data: dict[str, list[Cell]] = {}
    for c in columns:
        vals = [cell(r.get(c)) for r in rows]
        if any(isinstance(v, list) for v in vals):
            vals = [v if v is None or isinstance(v, list) else [v] for v in vals]
        data[c] = vals
    return pd.DataFrame(data, columns=list(columns), dtype=object, index=pd.RangeIndex(len(rows)))


def arrow_frame(table: Any) -> tuple[pd.DataFrame, list[str]]:
    """A frame from a pyarrow table, column by column, without pandas' int-to-float upcasting.

    Returns the frame and the column names that were repeated (kept as ``NAME_2``, ...).
    """
    names, repeated = _unique_names([str(n) for n in table.column_names])
    data = {}
    for i, name in enumerate(names):
        vals = [cell(v) for v in table.column(i).to_pylist()]
        if any(isinstance(v, list) for v in vals):
            vals = [v if v is None or isinstance(v, list) else [v] for v in vals]
        data[name] = vals
    return pd.DataFrame(data, columns=names, dtype=object, index=pd.RangeIndex(table.num_rows)), repeated


def _unique_names(names: Sequence[str]) -> tuple[list[str], list[str]]:
    """Make column names unique (``title``, ``title_2``); returns (names, the names that were repeated)."""
    out: list[str] = []
    taken: set[str] = set()
    repeated: list[str] = []
    for n in names:
        new, k = n, 1
        while new in taken:
            k += 1
            new = f"{n}_{k}"
        if new != n and n not in repeated:
            repeated.append(n)
        taken.add(new)
        out.append(new)
    return out, repeated


# ---------------------------------------------------------------------------------------------------------
# Delimited text
# ---------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _no_field_limit() -> Iterator[None]:
    """Let the csv module read fields of any size (its default limit is 128 KiB)."""
    old = csv.field_size_limit()
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            break
        except OverflowError:
            limit //= 2
    try:
        yield
    finally:
        csv.field_size_limit(old)


_LINE_END = re.compile(r"\r\n|\r|\n")


def _physical_lines(text: str) -> list[str]:
    """Lines as the csv module counts them (``\\r\\n``, ``\\r`` or ``\\n``; not the Unicode separators)."""
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _line_start(text: str, line: int) -> int:
    """The offset in ``text`` where physical line ``line`` (1-based) starts."""
    if line <= 1:
        return 0
    for k, m in enumerate(_LINE_END.finditer(text), start=2):
        if k == line:
            return m.end()
    return len(text)


def _ends_inside_quotes(text: str, delimiter: str) -> bool:
    """True when ``text`` (one or more CSV records) ends inside a quoted field that was never closed."""
    i, n = 0, len(text)
    at_field_start = True
    stop = re.compile("[" + re.escape(delimiter) + "\r\n]")
    while i < n:
        if at_field_start and text[i] == '"':
            j = i + 1
            while True:
                j = text.find('"', j)
                if j < 0:
                    return True
                if j + 1 < n and text[j + 1] == '"':
                    j += 2
                    continue
                break
            i = j + 1
            at_field_start = False
            continue
        m = stop.search(text, i)
        if m is None:
            return False
        i = m.end()
        at_field_start = True
    return False


@dataclass
class _Record:
    line: int  # 1-based physical line where the record starts
    fields: list[str]
    error: str | None = None


def _parse_records(text: str, delimiter: str, line_offset: int = 0, depth: int = 0) -> list[_Record]:
    """All records of a delimited text, each with its start line; an unclosed quote at the end is resolved."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out: list[_Record] = []
    prev_end = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # not expected with strict=False and no field limit; keep the line anyway
            out.append(_Record(line_offset + prev_end + 1, [], f"line {line_offset + prev_end + 1}: {exc}"))
            prev_end = reader.line_num
            continue
        out.append(_Record(line_offset + prev_end + 1, fields))
        prev_end = reader.line_num
    if not out:
        return out
    last = out[-1]
    start = last.line - line_offset  # 1-based within ``text``
    if not _ends_inside_quotes(text[_line_start(text, start):], delimiter):
        return out
    msg = (f"line {last.line}: a quoted field opens on this line and is never closed (the file is truncated "
           "or has a stray quote)")
    lines = _physical_lines(text[_line_start(text, start):])
    rest = lines[1:]
    if rest and depth < 20:
        again = _parse_records("\n".join(rest), delimiter, line_offset + start, depth + 1)
        width = len(out[0].fields) if len(out) > 1 else None
        good = [r for r in again if r.error is None and (width is None or len(r.fields) == width)]
        if again and len(good) >= 0.8 * len(again):
            first = next(csv.reader([lines[0]], delimiter=delimiter), [])
            out[-1] = _Record(last.line, first, msg + "; read to the end of the line, and the lines after it "
                                                       "as records again")
            return out + again
    last.error = msg + "; the record is kept as read up to the end of the file"
    return out


def sniff_delimiter(text: str, default: str = ",") -> str:
    """Guess the delimiter among comma, semicolon, tab and pipe.

    Each candidate splits the first records of the file; the one that gives a header of at least two
    columns and the most records of that same width wins (ties go to the larger width, then to the
    order ``, ; TAB |``). ``csv.Sniffer`` is not used: it misjudges files whose text holds the other
    candidates.
    """
    sample = text[:65536]
    cut = sample.rfind("\n")
    if 0 < cut < len(sample) - 1:
        sample = sample[:cut]
    best, best_score = default, (0.0, 0)
    for d in DELIMITERS:
        rows: list[list[str]] = []
        try:
            for i, row in enumerate(csv.reader(io.StringIO(sample, newline=""), delimiter=d)):
                if row:
                    rows.append(row)
                if i >= 60:
                    break
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        w = len(rows[0])
        body = rows[1:] or rows
        same = sum(1 for r in body if len(r) == w or (len(r) == w + 1 and r[-1] == "")
                   or (len(r) == w - 1 and rows[0][-1] == ""))
        score = (same / len(body), w)
        if score > best_score:
            best, best_score = d, score
    return best


_NUMBER = re.compile(r"^[-+]?\d+([.,]\d+)?$")
_VALUEISH = re.compile(r"^(10\.\d{4,9}/\S+|https?://\S+|\S+@\S+\.\w+|\d{4}-\d{2}(-\d{2})?)$", re.I)
_KNOWN_KEYS = {column_key(n) for names in SYNONYMS.values() for n in names} | {
    column_key(f) for f in SYNONYMS} | {"source", "label", "database"}


def header_looks_like_data(header: Sequence[str], known: Iterable[str] = ()) -> list[str]:
    """The header cells that look like record values, when the header row as a whole looks like a record.

    A header looks like data when none of its cells is a known column name (a canonical field, one of
    its synonyms, or a column named in the settings) and either one cell looks like a value (a number,
    a year, a DOI, a URL, an e-mail address, a date) or two cells are running text (more than 40
    characters or 5 words). Returns ``[]`` when the header looks like a header.
    """
    keys = _KNOWN_KEYS | {column_key(k) for k in known}
    cells = [h.strip() for h in header]
    if any(column_key(c) in keys for c in cells if c):
        return []
    values = [c for c in cells if c and (_NUMBER.match(c) or _VALUEISH.match(c))]
    texts = [c for c in cells if c and c not in values and (len(c) > 40 or len(c.split()) > 5)]
    if values or len(texts) >= 2:
        return [c for c in cells if c in values or c in texts]
    return []


def _show(values: Sequence[str], limit: int = 4) -> str:
    parts = [repr(v if len(v) <= 40 else v[:37] + "...") for v in values[:limit]]
    return ", ".join(parts) + (", ..." if len(values) > limit else "")


# A field that is empty after ``str.strip()`` holds only these characters (Python's whitespace: Unicode
# separators, the ASCII controls it strips, NEL): RE2 syntax, for Arrow.
_NOT_BLANK = r"[^\t\n\x0b\x0c\r\x1c-\x1f \x85\p{Z}]"


def _bulk_delimited(text: str, delimiter: str) -> tuple[list[str], list[Any]] | None:
    """The header fields and the record columns (object arrays: str, or None for an empty field) of a
    regular delimited text, parsed by Arrow; None when the text needs the careful parser.

    Regular: the header is the first line, of two or more non-empty names; every record has as many
    fields as the header; no record is blank or has only blank fields; the text does not end inside a
    quoted field. Arrow and the csv module split such a text into the same fields (quotes open a field
    only at its start, doubled quotes inside, text after a closing quote appended, CR, LF and CRLF end
    a record, quoted fields span lines); ``tests/test_read_scale_csv.py`` checks it. Anything else is
    read by ``_parse_records``, which keeps and flags irregular records.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    from .columns import text_cells

    if not text or text[0] in "\r\n" or delimiter == '"':
        return None
    m = _LINE_END.search(text)
    if m is None:
        return None
    head_line = text[: m.start()]
    if _ends_inside_quotes(head_line, delimiter):
        return None
    head = next(csv.reader([head_line], delimiter=delimiter), [])
    if len(head) < 2 or any(not h.strip().lstrip("\ufeff") for h in head):
        return None
    try:
        body = text[m.end():].encode("utf-8")
    except UnicodeEncodeError:
        return None
    if not body.endswith((b"\n", b"\r")):
        body += b"\n"
    body += b'"'  # a sentinel: a record of one field, unless the text ends inside a quoted field (closed by it)
    names = [f"f{i}" for i in range(len(head))]
    bad: list[str] = []

    def invalid(row: Any) -> str:
        bad.append(row.text)
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.py_buffer(body),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
                                             newlines_in_values=True, ignore_empty_lines=True,
                                             invalid_row_handler=invalid),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=True, null_values=[""],
                                                 quoted_strings_can_be_null=True))
    except (pa.ArrowException, ValueError):
        return None
    del body
    if bad != ['"'] or table.num_rows == 0:
        return None
    rows = None  # rows whose every field is empty after strip(): the careful reader skips and counts them
    for name in names:
        col = table.column(name)
        if rows is not None:
            col = col.take(rows)
        blank = pc.fill_null(pc.invert(pc.match_substring_regex(col, _NOT_BLANK)), True)
        if isinstance(blank, pa.ChunkedArray):
            blank = blank.combine_chunks()
        hits = pc.indices_nonzero(blank)
        rows = hits if rows is None else rows.take(hits)
        if len(rows) == 0:
            break
    if rows is not None and len(rows):
        return None
    return head, [text_cells(table.column(n)) for n in names]


def read_delimited(path: Path, delimiter: str | None = None, known_columns: Iterable[str] = (),
                   decoded: Decoded | None = None) -> RawTable:
    """Read a CSV/TSV file (see the module docstring for what is detected and how bad rows are kept).

    Args:
        path: the file (gzip-compressed files are read too).
        delimiter: the delimiter, or None to sniff it.
        known_columns: column names the settings file maps (a header holding one is a header).
        decoded: the already-decoded text, when the caller has it.

    Raises:
        SourceError: the file is empty, has no records, or its first row looks like data.
    """
    dec = decoded or read_text(path)
    text = dec.text
    if not text.strip():
        raise SourceError(f"{path}: the file is empty", "give a table with a header row and at least one record")
    warnings = [f"{path}: {n}" for n in dec.notes]
    sep = re.match(r"sep=(.)\r?\n", text)  # the delimiter hint Excel writes on the first line
    if sep:
        text = "\n" + text[sep.end():]  # keep the line numbers
        delimiter = delimiter or sep.group(1)
    if delimiter is None:
        delimiter = sniff_delimiter(text)
        if delimiter != "," and path.suffix.lower() in (".csv", ".txt"):
            warnings.append(f"{path}: the fields are separated by {DELIMITER_NAMES[delimiter]}s, not commas; "
                            "read that way")
    bulk = _bulk_delimited(text, delimiter)
    if bulk is not None:  # a regular file: Arrow parsed the records, the header is checked as usual below
        records = [_Record(1, bulk[0])]
    else:
        with _no_field_limit():
            records = _parse_records(text, delimiter)
    while records and not records[0].fields and records[0].error is None:  # leading blank lines
        records.pop(0)
    if not records:
        raise SourceError(f"{path}: the file is empty", "give a table with a header row and at least one record")
    head = records[0]
    if head.error and len(records) == 1:
        raise SourceError(f"{path}: {head.error}; no header row could be read",
                          "check the file is complete, and that every opening quote is closed")
    raw_header = [h.strip().lstrip("\ufeff") for h in head.fields]
    data_like = header_looks_like_data(raw_header, known_columns)
    if data_like:
        raise SourceError(
            f"{path}: line {head.line}: the first row looks like a record, not a header ({_show(data_like)}); "
            "a header row naming the columns is needed",
            "add a first line naming the columns in order, e.g. id,title,authors,venue,year")
    auto = [not h for h in raw_header]
    named = [h or f"column_{i + 1}" for i, h in enumerate(raw_header)]
    header, repeated = _unique_names(named)
    if repeated:
        warnings.append(f"{path}: line {head.line}: repeated column names {', '.join(map(repr, repeated))}; "
                        "the later copies are kept as NAME_2, NAME_3, ...")
    if bulk is not None:
        frame = pd.DataFrame(dict(zip(header, bulk[1], strict=True)), columns=header, dtype=object,
                             index=pd.RangeIndex(len(bulk[1][0])))
        return RawTable(frame=frame, errors=[None] * len(frame), encoding=dec.encoding, warnings=warnings)
    width = len(header)
    trailing_auto = width > 1 and auto[-1]
    rows: list[dict[str, str | None]] = []
    errors: list[str | None] = []
    n_empty = 0
    for rec in records[1:]:
        fields, err = rec.fields, rec.error
        if not fields and err is None:
            continue  # a blank line is not a record
        if err is None and all(not f.strip() for f in fields):
            n_empty += 1
            continue
        if len(fields) == width + 1 and fields[-1] == "":
            fields = fields[:-1]  # trailing delimiter
        elif len(fields) == width - 1 and trailing_auto:
            fields = fields + [""]
        if len(fields) != width:
            if err is None:
                err = f"line {rec.line}: expected {width} fields, got {len(fields)}"
            if len(fields) > width:
                fields = fields[: width - 1] + [delimiter.join(fields[width - 1:])]
            else:
                fields = fields + [""] * (width - len(fields))
        rows.append({h: (v if v != "" else None) for h, v in zip(header, fields, strict=True)})
        errors.append(err)
    if not rows:
        raise SourceError(f"{path}: the table has a header but no records", "add at least one record")
    if n_empty:
        warnings.append(f"{path}: {n_empty} rows have only empty fields; they hold no record and were skipped")
    frame = pd.DataFrame.from_records(rows, columns=header).astype(object)
    frame = frame.where(frame.notna(), None)
    drop = [h for h, a in zip(header, auto, strict=True) if a and frame[h].isna().all()]
    if drop:
        frame = frame.drop(columns=drop)
    return RawTable(frame=frame, errors=errors, encoding=dec.encoding, warnings=warnings)


# ---------------------------------------------------------------------------------------------------------
# JSON and JSON Lines
# ---------------------------------------------------------------------------------------------------------


@dataclass
class JsonItem:
    """One JSON record as read: the object (None when unreadable), its error, and where it was."""

    obj: dict[str, Any] | None
    error: str | None
    where: str
    raw: str | None = None


def _json_lines(text: str) -> list[JsonItem]:
    items: list[JsonItem] = []
    for n, line in enumerate(text.split("\n"), start=1):  # only \n: U+2028 may sit unescaped in a JSON string
        line = line.rstrip("\r")
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            where = f"{exc.msg} column {exc.colno}" if exc.msg.endswith(" at") else f"{exc.msg} at column {exc.colno}"
            cut = "; the line ends before its object is closed (cut short?)" if not line.rstrip().endswith("}") \
                else ""
            items.append(JsonItem(None, f"line {n}: not valid JSON ({where}){cut}", f"line {n}", line[:RAW_KEEP]))
            continue
        if not isinstance(obj, dict):
            items.append(JsonItem(None, f"line {n}: expected a JSON object, got {type(obj).__name__}",
                                  f"line {n}", line[:RAW_KEEP]))
            continue
        if "\\u" in line and _LONE_SURROGATE.search(line):
            obj = _without_lone_surrogates(obj)
        items.append(JsonItem(obj, None, f"line {n}"))
    return items


# "\ud800".."\udfff" escapes: JSON may encode a lone UTF-16 surrogate, which no UTF-8 text (Arrow, Parquet) can hold
_LONE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE_CHAR = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value: Any) -> Any:
    """``value`` with every lone surrogate replaced by U+FFFD, as a UTF-8 decoder replaces a bad byte
    (pairs were already joined by the JSON parser)."""
    if isinstance(value, str):
        return _SURROGATE_CHAR.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    return value


def _records_in(data: Any) -> list[Any]:
    """The list of records inside a parsed JSON document (an array, or an API response wrapping one)."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        msg = data.get("message")
        if isinstance(msg, dict) and "message-type" in data:  # Crossref API response
            items = msg.get("items")
            return items if isinstance(items, list) else [msg]
        for key in ("results", "data", "items", "records", "entries", "cases", "papers", "works"):
            if isinstance(data.get(key), list):
                return data[key]
        lists = [v for v in data.values() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
        if len(lists) == 1:
            return lists[0]
        return [data]
    return [data]


def read_json_items(path: Path, fmt: str, decoded: Decoded | None = None) -> tuple[list[JsonItem], Decoded]:
    """Read JSON (an array of objects, or an object wrapping one) or JSON Lines (one object per line).

    A ``.json`` file that holds JSON Lines, and a ``.jsonl`` file that holds one JSON array, are read
    for what they are. In JSON Lines a bad line is kept as an item with an error; a JSON document that
    does not parse is an error (no record boundary can be trusted after the fault).

    Raises:
        SourceError: the file is empty, or is a JSON document that does not parse.
    """
    dec = decoded or read_text(path)
    text = dec.text
    stripped = text.strip()
    if not stripped:
        raise SourceError(f"{path}: the file is empty", "give JSON Lines, one record object per line")
    whole: Any = None
    parsed = False
    if fmt == "json" or stripped[0] == "[" or (stripped[0] == "{" and "\n{" not in stripped):
        try:
            whole = json.loads(stripped)
            parsed = True
            if "\\u" in stripped and _LONE_SURROGATE.search(stripped):
                whole = _without_lone_surrogates(whole)
        except json.JSONDecodeError as exc:
            multi = fmt == "jsonl" or (exc.msg == "Extra data" and stripped[0] == "{")
            if not multi:
                line = text[: text.find(stripped[:1])].count("\n") + exc.lineno
                end = "; the file ends before the JSON is complete (truncated?)" if exc.pos >= len(stripped) else ""
                raise SourceError(
                    f"{path}: line {line}, column {exc.colno}: not valid JSON ({exc.msg}){end}",
                    "give a JSON array of record objects, or JSON Lines (one object per line, .jsonl)") from exc
    if not parsed:
        return _json_lines(text), dec
    items: list[JsonItem] = []
    for i, obj in enumerate(_records_in(whole), start=1):
        if isinstance(obj, dict):
            items.append(JsonItem(obj, None, f"record {i}"))
        else:
            items.append(JsonItem(None, f"record {i}: expected a JSON object, got {type(obj).__name__}",
                                  f"record {i}", json.dumps(obj, ensure_ascii=False)[:RAW_KEEP]))
    return items, dec


# Keys that make a record API-shaped, a pair case or an envelope (``api.detect_shape``, ``api.unwrap``,
# ``pair_cases.is_pair_case``): a file holding one of them is read record by record.
_SHAPE_KEYS = frozenset({"DOI", "authorships", "abstract_inverted_index", "paperId", "externalIds", "entry_id",
                         "paper", "paper_title", "url_abs", "url_pdf", "message", "citingPaper", "citedPaper",
                         "doc_1", "doc_2", "record_a", "record_b"})
_SAMPLE_LINES = 1000
_INT64 = (-(2 ** 63), 2 ** 63 - 1)


def _sample_schema(body: bytes) -> Any:
    """The Arrow schema of a JSON Lines body from its first lines, or None when the records hold values
    the bulk reader would not turn into the same cells as ``cell`` (floats, objects, nested non-text lists)."""
    import pyarrow as pa

    types: dict[str, Any] = {}
    for line in body.split(b"\n")[:_SAMPLE_LINES]:
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            break  # a cut-off last line of the sample; the bulk reader judges the rest
        if not isinstance(obj, dict):
            return None
        for k, v in obj.items():
            if v is None:
                types.setdefault(k, None)
                continue
            if isinstance(v, bool):
                t = pa.bool_()
            elif isinstance(v, int):
                if not _INT64[0] <= v <= _INT64[1]:
                    return None
                t = pa.int64()
            elif isinstance(v, str):
                t = pa.string()
            elif isinstance(v, list) and all(x is None or isinstance(x, str) for x in v):
                t = pa.list_(pa.string())
            else:
                return None
            if types.get(k) is None:
                types[k] = t
            elif types[k] != t:
                return None
    if not types:
        return None
    return pa.schema([(k, t if t is not None else pa.string()) for k, t in types.items()])


def read_json_lines_bulk(path: Path, fmt: str) -> RawTable | None:
    """Read a regular JSON Lines file with Arrow's JSON reader, or return None to read it record by record.

    Regular: UTF-8 (or ASCII) without NULs, one object per line starting at the line's first character,
    no blank lines, no keys beyond those of the first lines, values text, integers, booleans, null or
    lists of text, and no key that makes a record API-shaped or a pair case. The cells are the ones
    ``read_json_items`` + ``records_frame`` give (``tests/test_read_scale_json.py`` checks it); any other
    file, or any record Arrow does not read, goes to the record-by-record path with its error handling.
    """
    import codecs

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pj

    from .columns import arrow_lists, text_cells
    from .encoding import read_bytes

    if fmt != "jsonl":
        return None
    try:
        data = read_bytes(path)
    except SourceError:
        return None
    encoding, start, end = "utf-8", 0, len(data)  # the body is data[start:end], never copied
    if data.startswith(codecs.BOM_UTF8):
        encoding, start = "utf-8-sig", 3
    while end > start and data[end - 1] in b" \t\n\r\x0b\x0c":
        end -= 1
    if b"\x00" in data or data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE), start):
        return None
    body = memoryview(data)[start:end]
    if start or not data.isascii():
        try:
            codecs.utf_8_decode(body, "strict", True)
        except UnicodeDecodeError:
            return None
    n_breaks = data.count(b"\n", start, end)
    if not data.startswith(b"{", start) or not n_breaks or n_breaks != data.count(b"\n{", start, end):
        return None
    n_lines = n_breaks + 1
    schema = _sample_schema(bytes(body[: 1 << 22]))
    if schema is None or _SHAPE_KEYS & set(schema.names):
        return None
    try:
        table = pj.read_json(pa.BufferReader(pa.py_buffer(body)), read_options=pj.ReadOptions(block_size=1 << 24),
                             parse_options=pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error"))
    except (pa.ArrowException, ValueError):
        return None
    del body, data
    if table.num_rows != n_lines:
        return None  # two objects on one line, or a stray value after one: the careful reader flags these
    if "id" in table.column_names and pa.types.is_string(table.schema.field("id").type):
        ids = table.column("id")
        if pc.any(pc.starts_with(ids, "https://openalex.org/")).as_py() or \
                pc.any(pc.match_substring(ids, "arxiv.org/abs/")).as_py():
            return None
    data_cols: dict[str, Any] = {}
    for name in table.column_names:
        col = table.column(name)
        t = col.type
        if pa.types.is_list(t):
            vals = arrow_lists(col)
            if pc.list_flatten(col).null_count:
                vals = [v if v is None else ["" if x is None else x for x in v] for v in vals]
            data_cols[name] = vals
        else:
            if not pa.types.is_string(t):
                col = pc.cast(col, pa.string())
            data_cols[name] = text_cells(col)
        table = table.drop_columns([name])  # free each column once converted
    frame = pd.DataFrame(data_cols, columns=list(data_cols), dtype=object, index=pd.RangeIndex(n_lines))
    return RawTable(frame, [None] * n_lines, encoding, {}, use_synonyms=True)


# ---------------------------------------------------------------------------------------------------------
# Parquet and DuckDB
# ---------------------------------------------------------------------------------------------------------


def read_parquet(path: Path) -> RawTable:
    """Read a Parquet file: every column, nested lists as lists, structs as JSON text."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises many types for a bad file
        raise SourceError(f"{path}: not a readable Parquet file ({str(exc).splitlines()[0][:200]})",
                          "write the file again, or export the table as CSV") from exc
    frame, repeated = arrow_frame(table)
    warnings = [f"{path}: repeated column names {', '.join(map(repr, repeated))}; kept as NAME_2, ..."] if repeated \
        else []
    return RawTable(frame=frame, errors=[None] * len(frame), warnings=warnings)


def _quote_ident(name: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def read_duckdb_table(path: Path, table: str | None) -> RawTable:
    """Read one table or view of a DuckDB database file (``file.duckdb:table``, or ``schema.table``)."""
    import duckdb

    if not table:
        raise SourceError(f"{path}: a DuckDB source needs a table name", "write it as file.duckdb:table")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except Exception as exc:
        raise SourceError(f"{path}: not a readable DuckDB database ({str(exc).splitlines()[0][:200]})",
                          "check the file is a DuckDB database and no other program holds it open for writing"
                          ) from exc
    try:
        rows = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        names = {r[1] for r in rows} | {f"{r[0]}.{r[1]}" for r in rows}
        if table not in names:
            listed = sorted(r[1] if r[0] == "main" else f"{r[0]}.{r[1]}" for r in rows)
            raise SourceError(f"{path}: no table named {table!r}",
                              f"tables in the file: {', '.join(listed) or 'none'}")
        query = f"select * from {_quote_ident(table)}"
        rel = con.sql(query)
        arrow = rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()
    finally:
        con.close()
    frame, repeated = arrow_frame(arrow)
    warnings = [f"{path}: repeated column names {', '.join(map(repr, repeated))}; kept as NAME_2, ..."] if repeated \
        else []
    return RawTable(frame=frame, errors=[None] * len(frame), warnings=warnings)
