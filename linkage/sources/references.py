"""Reference-manager and database exports: RIS (rispy), BibTeX (bibtexparser 2), EndNote XML, PubMed/MEDLINE.

Each reader keeps the format's own field names as raw columns (RIS: rispy's names such as
``primary_title``, ``journal_name``, ``start_page``; BibTeX: the field names plus ``ID`` and
``ENTRYTYPE``; EndNote XML: the element names such as ``secondary-title``, ``rec-number``; MEDLINE: the
tags such as ``TI``, ``FAU``, ``JT``) and returns the canonical mapping it knows, as candidate columns
in order of preference (the source assembly combines candidates when one leaves records empty, e.g.
RIS ``TI``/``T1`` titles). Two columns are derived because no raw column holds the value whole:
RIS ``pages`` (``SP``-``EP``) and MEDLINE ``doi`` (from the ``AID``/``LID`` entries marked ``[doi]``).

Robustness: gzip-compressed files are read; one broken entry is kept with a ``parse_error`` (its raw
text in ``raw_entry``) and the entries around it are read normally:

* RIS: an entry without its ``ER  -`` line (at the end of the file, or before the next ``TY  -``) is
  kept and flagged; tag lines written with one space (``TY - JOUR``) are accepted;
* BibTeX: an entry the parser gives up on, an ``@type key, ...`` without its opening brace, and a field
  that swallowed the next one (missing comma) are flagged; entries with a citekey used before are
  normal records (a merged library often repeats keys);
* EndNote XML: when the file is not well-formed (truncated, one bad record), each ``<record>`` is
  parsed on its own, so only the bad ones are flagged;
* any other XML whose root holds repeated record elements (e.g. the Cora ``<NEWREFERENCE>`` file) is
  read generically: attributes and child elements become columns, loose text becomes ``text``.
"""

from __future__ import annotations

import contextlib
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import SourceError
from .encoding import read_bytes, read_text
from .tabular import RAW_KEEP, RawTable, records_frame

Preset = dict[str, tuple[str, ...]]

# ---------------------------------------------------------------------------------------------------------
# RIS
# ---------------------------------------------------------------------------------------------------------

RIS_PRESET: Preset = {
    "id": ("id",), "title": ("title", "primary_title", "translated_title"), "authors": ("authors", "first_authors"),
    "year": ("year", "publication_year"), "date": ("date",),
    "venue": ("journal_name", "secondary_title", "alternate_title3", "alternate_title1", "alternate_title2"),
    "volume": ("volume",), "issue": ("number",), "pages": ("pages",), "first_page": ("start_page",),
    "last_page": ("end_page",), "doi": ("doi",), "urls": ("urls",), "abstract": ("abstract", "notes_abstract"),
    "publisher": ("publisher",), "isbn": ("issn",), "type": ("type_of_reference",), "note": ("notes",),
    "language": ("language",),
}
_RIS_LINE = re.compile(r"^([A-Z][A-Z0-9]) {1,2}-(?: (.*?))?\s*$")


def _lines(text: str) -> list[str]:
    """Physical lines, whatever the line ends (``\\r\\n``, ``\\n`` or a lone ``\\r``)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _ris_chunks(text: str, stray: list[int]) -> Iterator[tuple[int, list[str], str | None]]:
    """Yield ``(start line, normalised lines, problem or None)`` for each RIS entry, in file order.

    Non-blank lines outside any entry that are not tag lines are not records: their line numbers are
    appended to ``stray``.
    """
    lines = _lines(text)
    current: list[str] | None = None
    start = 0
    problem: str | None = None
    for n, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r")
        m = _RIS_LINE.match(line)
        tag = m.group(1) if m else None
        if tag == "TY":
            if current is not None:
                yield start, current, problem or (f"line {start}: the entry has no closing 'ER  -' line before the "
                                                  f"next entry starts on line {n}")
            current, start, problem = [f"TY  - {m.group(2) or ''}"], n, None
        elif tag == "ER":
            if current is not None:
                yield start, current, problem
            current = None
        elif current is not None:
            current.append(f"{tag}  - {m.group(2) or ''}" if m else line)
        elif m:  # a tag line outside any entry: an entry that lost its TY line
            current, start = ["TY  - "], n
            current.append(f"{tag}  - {m.group(2) or ''}")
            problem = f"line {n}: tag lines outside an entry (no 'TY  -' line starts this entry)"
        elif line.strip():
            stray.append(n)
    if current is not None:
        yield start, current, problem or (f"line {start}: the last entry has no closing 'ER  -' line "
                                          "(the file may be truncated)")


def _ris_row(entry: dict[str, Any]) -> dict[str, Any]:
    import rispy

    list_names = {rispy.TAG_KEY_MAPPING.get(t, t) for t in rispy.LIST_TYPE_TAGS}
    row: dict[str, Any] = {}
    for k, v in entry.items():
        if k == "unknown_tag" and isinstance(v, dict):
            for tag, vals in v.items():
                row[tag] = vals[0] if isinstance(vals, list) and len(vals) == 1 else vals
            continue
        if isinstance(v, list) and k not in list_names:  # a single-valued tag given twice: keep every value
            filled = [x for x in v if x] or v
            row[k] = filled[0] if filled else None
            if len(filled) > 1:
                row[f"{k}_more"] = filled[1:]
            continue
        row[k] = v
    sp, ep = row.get("start_page"), row.get("end_page")
    if sp or ep:
        row["pages"] = f"{sp}-{ep}" if sp and ep and "-" not in str(sp) else (sp or ep)
    return row


def read_ris(path: Path) -> RawTable:
    """Read a RIS file: one record per ``TY  -`` ... ``ER  -`` entry (see the module docstring)."""
    import rispy

    dec = read_text(path)
    text = "\n".join(_lines(dec.text))
    if not re.search(r"^TY {1,2}-", text, re.M):
        raise SourceError(f"{path}: line 1: not a RIS file (no 'TY  - ' line starts an entry)",
                          "export the references as RIS from the reference manager or database")
    rows: list[dict[str, Any]] = []
    errors: list[str | None] = []
    stray: list[int] = []
    for start, lines, problem in _ris_chunks(text, stray):
        try:
            entries = rispy.loads("\n".join(lines) + "\nER  - \n", enforce_list_tags=False)
            if not entries:
                raise ValueError("no entry found")
            row = _ris_row(entries[0])
            if lines[0] == "TY  - ":
                row["type_of_reference"] = None
        except Exception as exc:  # rispy raises plain exceptions on odd input
            row = {"raw_entry": "\n".join(lines)[:RAW_KEEP]}
            problem = f"line {start}: the entry could not be read ({exc})"
        if problem and "raw_entry" not in row:
            row["raw_entry"] = "\n".join(lines)[:RAW_KEEP]
        rows.append(row)
        errors.append(problem)
    if not rows:
        raise SourceError(f"{path}: no RIS entries found", "each entry starts with 'TY  - ' and ends with 'ER  - '")
    warn = [f"{path}: {n}" for n in dec.notes]
    if stray:
        warn.append(f"{path}: line {stray[0]}: {len(stray)} lines outside any entry (not 'TAG  - value' lines) "
                    "were ignored")
    return RawTable(records_frame(rows), errors, dec.encoding, dict(RIS_PRESET), use_synonyms=False, warnings=warn)


# ---------------------------------------------------------------------------------------------------------
# BibTeX
# ---------------------------------------------------------------------------------------------------------

BIB_PRESET: Preset = {
    "id": ("ID",), "type": ("ENTRYTYPE",), "title": ("title",), "authors": ("author",), "year": ("year",),
    "date": ("date",), "venue": ("journal", "booktitle", "journaltitle", "series", "howpublished"),
    "volume": ("volume",), "issue": ("number", "issue"), "pages": ("pages",), "doi": ("doi",),
    "arxiv_id": ("eprint", "arxiv"), "pmid": ("pmid",), "isbn": ("isbn",), "urls": ("url", "link"),
    "abstract": ("abstract",), "publisher": ("publisher",), "institution": ("institution", "school"),
    "report_number": ("tech",), "note": ("note",), "language": ("language",),
}
_SWALLOWED = re.compile(r"[}\"]\s*\n\s*([A-Za-z][\w-]*)\s*=\s*[{\"\d]")
_ENTRY_START = re.compile(r"@\s*([A-Za-z]+)\s*[^{(\s]")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _quiet_bibtexparser() -> Iterator[_Collect]:
    """Collect bibtexparser's warnings (they explain failed blocks) instead of printing them."""
    log = logging.getLogger("bibtexparser")
    handler = _Collect()
    old = log.propagate
    log.addHandler(handler)
    log.propagate = False
    try:
        yield handler
    finally:
        log.removeHandler(handler)
        log.propagate = old


def _strip_enclosing(value: str) -> str:
    """Remove one pair of braces or quotes that encloses the whole value (balanced), nothing else."""
    v = value.strip()
    if len(v) >= 2 and ((v[0] == "{" and v[-1] == "}") or (v[0] == '"' and v[-1] == '"')):
        inner = v[1:-1]
        depth = 0
        for ch in inner:
            depth += ch == "{"
            depth -= ch == "}"
            if depth < 0:
                return v
        if depth == 0:
            return inner
    return v


def _bib_value(value: Any, enclosed: bool) -> Any:
    if not isinstance(value, str):
        return value
    if enclosed:
        value = _strip_enclosing(value)
    return re.sub(r"\s+", " ", value).strip()


def _entry_row(entry: Any, enclosed: bool = False) -> tuple[dict[str, Any], str | None]:
    row: dict[str, Any] = {"ID": entry.key, "ENTRYTYPE": entry.entry_type.lower()}
    problem = None
    for f in entry.fields:
        key = f.key.strip().lower()
        raw = f.value if isinstance(f.value, str) else str(f.value)
        m = _SWALLOWED.search(raw)
        if m and problem is None:
            problem = (f"field {key!r} runs into the next field {m.group(1)!r} (a missing comma?); "
                       "both are kept in the first")
        value = _bib_value(raw, enclosed)
        name = key
        k = 1
        while name in row:
            k += 1
            name = f"{key}_{k}"
        row[name] = value
    return row, problem


_BIB_HEAD = re.compile(r"@\s*([A-Za-z]+)\s*[{(]?\s*([^,\s{}()=]+)\s*,")


def _salvage_bib(raw: str) -> dict[str, Any]:
    """What can be said of an entry that did not parse: its raw text, and its type and key when legible."""
    row: dict[str, Any] = {}
    m = _BIB_HEAD.match(raw.lstrip())
    if m:
        row["ID"], row["ENTRYTYPE"] = m.group(2), m.group(1).lower()
    row["raw_entry"] = raw[:RAW_KEEP]
    return row


def _block_line(block: Any) -> int | None:
    line = getattr(block, "start_line", None)
    return None if line is None else int(line) + 1


def read_bibtex(path: Path) -> RawTable:
    """Read a BibTeX file: one record per entry, in file order (``@string``/``@comment``/``@preamble`` are not records)."""
    import bibtexparser
    from bibtexparser import model

    dec = read_text(path)
    text = dec.text
    if not re.search(r"@\s*[A-Za-z]+\s*[{(]", text):
        raise SourceError(f"{path}: line 1: not a BibTeX file (no '@type{{key, ...}}' entry)",
                          "export the references as BibTeX")
    with _quiet_bibtexparser() as log:
        lib = bibtexparser.parse_string(text)
    reasons: dict[int, str] = {}
    for msg in log.messages:
        m = re.search(r"\(line (\d+)\).*?error in bibtex:\s*(.*)", msg, re.S)
        if m:
            reasons[int(m.group(1)) + 1] = " ".join(m.group(2).split())
    items: list[tuple[int, dict[str, Any], str | None]] = []
    for block in lib.blocks:
        line = _block_line(block) or 0
        if isinstance(block, model.Entry):
            row, problem = _entry_row(block)
            items.append((line, row, f"line {line}: {problem}" if problem else None))
        elif isinstance(block, model.ParsingFailedBlock):
            inner = block.ignore_error_block
            if isinstance(block, model.DuplicateBlockKeyBlock) and isinstance(inner, model.Entry):
                row, problem = _entry_row(inner, enclosed=True)
                items.append((line, row, f"line {line}: {problem}" if problem else None))
                continue
            if isinstance(inner, model.Entry):  # e.g. a field given twice: every value kept
                row, _ = _entry_row(inner, enclosed=True)
                row["raw_entry"] = (block.raw or "")[:RAW_KEEP]
                if isinstance(block, model.DuplicateFieldKeyBlock):
                    keys = sorted({f.key.lower() for f in inner.fields
                                   if [g.key.lower() for g in inner.fields].count(f.key.lower()) > 1})
                    msg = (f"field {', '.join(map(repr, keys))} given more than once; every value is kept "
                           f"({keys[0]}, {keys[0]}_2, ...)" if keys else "a field is given more than once")
                else:
                    msg = str(block.error)
                items.append((line, row, f"line {line}: {msg}"))
                continue
            reason = reasons.get(line) or str(getattr(block, "error", "") or "") or "syntax error"
            items.append((line, _salvage_bib(block.raw or ""), f"line {line}: the entry could not be parsed ({reason})"))
        elif isinstance(block, model.ImplicitComment):
            raw = block.raw or ""
            m = _ENTRY_START.search(raw)
            if m and m.group(1).lower() not in ("comment", "preamble", "string"):
                at = line + raw[: m.start()].count("\n")
                items.append((at, _salvage_bib(raw[m.start():]),
                              f"line {at}: '@{m.group(1)}' is not followed by '{{' (the entry could not be parsed)"))
    if not items:
        raise SourceError(f"{path}: no BibTeX entries found", "check the file is a BibTeX export")
    items.sort(key=lambda x: x[0])
    frame = records_frame([r for _, r, _ in items])
    return RawTable(frame, [e for _, _, e in items], dec.encoding, dict(BIB_PRESET), use_synonyms=False,
                    warnings=[f"{path}: {n}" for n in dec.notes])


# ---------------------------------------------------------------------------------------------------------
# EndNote XML and other record XML
# ---------------------------------------------------------------------------------------------------------

ENDNOTE_PRESET: Preset = {
    "id": ("rec-number",), "type": ("ref-type",), "title": ("title", "translated-title", "short-title"),
    "authors": ("authors",), "year": ("year",), "date": ("date",),
    "venue": ("secondary-title", "full-title", "alt-title", "abbr-1"), "volume": ("volume",),
    "issue": ("number", "issue"), "pages": ("pages",), "doi": ("electronic-resource-num",),
    "isbn": ("isbn",), "urls": ("urls", "pdf-urls", "web-urls"), "abstract": ("abstract",),
    "publisher": ("publisher",), "note": ("notes",), "language": ("language",),
}
_LIST_GROUPS = {"authors", "secondary-authors", "tertiary-authors", "subsidiary-authors", "translated-authors",
                "keywords", "related-urls", "pdf-urls", "text-urls", "web-urls", "image-urls"}


def _text(el: ET.Element | None) -> str | None:
    if el is None:
        return None
    s = " ".join("".join(el.itertext()).split())
    return s or None


def _put(row: dict[str, Any], key: str, value: Any) -> None:
    if value is None or value == []:
        return
    name, k = key, 1
    while name in row:
        k += 1
        name = f"{key}_{k}"
    row[name] = value


def _endnote_row(rec: ET.Element) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for child in rec:
        tag = child.tag
        if tag == "ref-type":
            _put(row, tag, child.get("name") or _text(child))
        elif tag in ("contributors", "titles", "dates", "urls", "periodical", "alt-periodical"):
            prefix = "alt-" if tag == "alt-periodical" else ""
            for part in child:
                if part.tag in _LIST_GROUPS:
                    vals = [t for t in (_text(x) for x in part) if t]
                    _put(row, "urls" if part.tag == "related-urls" else part.tag, vals)
                elif part.tag == "pub-dates":
                    dates = [t for t in (_text(x) for x in part) if t]
                    _put(row, "date", dates[0] if dates else None)
                else:
                    _put(row, prefix + part.tag, _text(part))
        elif tag in _LIST_GROUPS:
            _put(row, tag, [t for t in (_text(x) for x in child) if t])
        elif tag == "foreign-keys":
            continue  # EndNote's internal database key
        else:
            _put(row, tag, _text(child))
    return row


def _xml_declared_encoding(data: bytes) -> str:
    m = re.match(rb"\s*<\?xml[^>]*encoding=[\"']([\w.-]+)[\"']", data)
    return m.group(1).decode("ascii") if m else "utf-8"


def _record_chunks(text: str) -> Iterator[tuple[int, str, bool]]:
    """``(position, chunk, closed)`` for each ``<record>`` element of an EndNote XML text."""
    pos = 0
    while True:
        i = text.find("<record>", pos)
        if i < 0:
            return
        j = text.find("</record>", i)
        nxt = text.find("<record>", i + 8)
        if j < 0 or (0 <= nxt < j):
            end = nxt if nxt >= 0 else len(text)
            yield i, text[i:end], False
            pos = end
            continue
        yield i, text[i:j + 9], True
        pos = j + 9


def _recover_endnote(path: Path, data: bytes, exc: ET.ParseError) -> RawTable:
    enc = _xml_declared_encoding(data)
    try:
        text = data.decode(enc, errors="replace")
    except LookupError:
        text = data.decode("utf-8", errors="replace")
    rows: list[dict[str, Any]] = []
    errors: list[str | None] = []
    n_ok = 0
    line, seen = 1, 0
    for k, (pos, chunk, closed) in enumerate(_record_chunks(text), start=1):
        line += text.count("\n", seen, pos)
        seen = pos
        where = f"line {line}: record {k}"
        try:
            if not closed:
                raise ValueError("no closing </record> (the file is truncated here)")
            row = _endnote_row(ET.fromstring(chunk))
            rows.append(row)
            errors.append(None)
            n_ok += 1
        except (ET.ParseError, ValueError) as err:
            num = re.search(r"<rec-number>\s*(\d+)\s*</rec-number>", chunk)
            rows.append({"rec-number": num.group(1) if num else None, "raw_entry": chunk[:RAW_KEEP]})
            errors.append(f"{where}: malformed XML ({err})")
    if n_ok == 0:
        line, col = exc.position
        raise SourceError(f"{path}: line {line}, column {col}: malformed XML ({exc}); no <record> could be read",
                          "export the EndNote library as XML again")
    warn = [f"{path}: the XML is not well-formed ({exc}); its <record> elements were read one by one"]
    return RawTable(records_frame(rows), errors, enc, dict(ENDNOTE_PRESET), use_synonyms=False, warnings=warn)


def _generic_xml(path: Path, root: ET.Element, data: bytes) -> RawTable:
    """Records as the repeated child elements of the root (or of its single container child)."""
    container = root
    while len(container) == 1 and len(container[0]) > 0:
        container = container[0]
    tags = [c.tag for c in container]
    if not tags:
        raise SourceError(f"{path}: no records found in the XML",
                          "give an EndNote XML export (<records><record>...), or convert the file to CSV")
    tag = max(set(tags), key=tags.count)
    rows: list[dict[str, Any]] = []
    for el in container:
        if el.tag != tag:
            continue
        row: dict[str, Any] = dict(el.attrib)
        loose = " ".join(" ".join(t.split()) for t in [el.text or "", *[(c.tail or "") for c in el]] if t.strip())
        if loose:
            _put(row, "text", loose)
        for c in el:
            key = c.tag.lower()
            value = _text(c)
            if key in row and isinstance(row[key], list):
                row[key].append(value or "")
            elif key in row:
                row[key] = [row[key], value or ""]
            elif value is not None:
                row[key] = value
        rows.append(row)
    warn = [f"{path}: not an EndNote XML export; read the <{tag}> elements as records"]
    return RawTable(records_frame(rows), [None] * len(rows), _xml_declared_encoding(data), warnings=warn)


def read_endnote_xml(path: Path) -> RawTable:
    """Read an EndNote XML export (``<xml><records><record>...``), gzip-compressed or not."""
    data = read_bytes(path)
    if not data.strip():
        raise SourceError(f"{path}: the file is empty", "export the EndNote library as XML")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        if b"<record>" in data:
            return _recover_endnote(path, data, exc)
        line, col = exc.position
        raise SourceError(f"{path}: line {line}, column {col}: malformed XML ({exc})",
                          "export the EndNote library as XML again") from exc
    records = root.findall(".//record")
    if not records and (root.tag == "xml" or root.find(".//records") is not None):
        raise SourceError(f"{path}: an EndNote XML file without <record> elements",
                          "export the EndNote library (with its references) as XML again")
    if not records:
        return _generic_xml(path, root, data)
    rows = [_endnote_row(rec) for rec in records]
    return RawTable(records_frame(rows), [None] * len(rows), _xml_declared_encoding(data), dict(ENDNOTE_PRESET),
                    use_synonyms=False)


# ---------------------------------------------------------------------------------------------------------
# PubMed / MEDLINE (.nbib)
# ---------------------------------------------------------------------------------------------------------

NBIB_PRESET: Preset = {
    "id": ("PMID",), "pmid": ("PMID",), "title": ("TI", "BTI"), "authors": ("FAU", "AU"), "date": ("DP",),
    "venue": ("JT", "TA"), "volume": ("VI",), "issue": ("IP",), "pages": ("PG",), "doi": ("doi",),
    "abstract": ("AB",), "language": ("LA",), "type": ("PT",), "isbn": ("ISBN",), "publisher": ("PB",),
}
# Tags that repeat within one record (author lists, identifiers, MeSH terms, ...): always lists.
NBIB_LIST_TAGS = {"FAU", "AU", "AD", "AUID", "AID", "LID", "PT", "MH", "OT", "IS", "LA", "PHST", "SI", "GR",
                  "RN", "CIN", "CON", "EIN", "CRI", "ED", "FED", "IR", "FIR", "OID", "OTO", "PMCR", "CN"}
_NBIB_LINE = re.compile(r"^([A-Z]{2,4})\s*- ?(.*)$")


def read_nbib(path: Path) -> RawTable:
    """Read a PubMed/MEDLINE file (``PMID- ``, ``TI  - ``, ...): one record per ``PMID`` line."""
    dec = read_text(path)
    text = "\n".join(_lines(dec.text))
    if not re.search(r"^PMID\s*- ", text, re.M):
        raise SourceError(f"{path}: line 1: not a PubMed/MEDLINE file (no 'PMID- ' line)",
                          "save the PubMed results in PubMed format (.nbib / .txt)")
    rows: list[dict[str, Any]] = []
    errors: list[str | None] = []
    row: dict[str, Any] | None = None
    tag: str | None = None
    stray: list[int] = []
    for n, line in enumerate(_lines(text), start=1):
        m = _NBIB_LINE.match(line)
        if m and m.group(1) == "PMID":
            row = {}
            rows.append(row)
            errors.append(None)
        if m and row is not None:
            tag, val = m.group(1), m.group(2).strip()
            if tag in NBIB_LIST_TAGS:
                row.setdefault(tag, []).append(val)
            elif tag in row:
                more = row.setdefault(f"{tag}_more", [])
                more.append(val)
            else:
                row[tag] = val
        elif line.startswith("      ") and row is not None and tag:
            cont = line.strip()
            if isinstance(row.get(tag), list) and row[tag]:
                row[tag][-1] += " " + cont
            elif isinstance(row.get(tag), str):
                row[tag] += " " + cont
        elif line.strip():
            if row is None:
                stray.append(n)
            elif not m:
                errors[-1] = errors[-1] or f"line {n}: expected a 'TAG - value' line or an indented continuation"
    for r in rows:
        for x in [*r.get("AID", []), *r.get("LID", [])]:
            if x.rstrip().endswith("[doi]"):
                r["doi"] = x.rstrip()[:-5].strip()
                break
    warn = [f"{path}: {n}" for n in dec.notes]
    if stray:
        warn.append(f"{path}: line {stray[0]}: {len(stray)} lines before the first 'PMID- ' line were ignored")
    return RawTable(records_frame(rows), errors, dec.encoding, dict(NBIB_PRESET), use_synonyms=False, warnings=warn)


READERS = {"ris": read_ris, "bibtex": read_bibtex, "endnote": read_endnote_xml, "nbib": read_nbib}


def read_reference_file(path: Path, fmt: str) -> RawTable:
    """Read a reference-manager export of format ``fmt`` (``ris``, ``bibtex``, ``endnote``, ``nbib``)."""
    return READERS[fmt](path)
