"""Reference-manager and database exports: RIS (rispy), BibTeX (bibtexparser), EndNote XML, PubMed/MEDLINE.

Every reader returns a frame whose columns already carry canonical names (title, authors, year,
venue, ...) plus the format's own extra fields, one row per entry, in file order.
"""

from __future__ import annotations

import gzip
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from ..errors import SourceError
from .encoding import decode_bytes
from .tabular import objects_to_frame

RIS_MAP = {
    "id": "id", "primary_title": "title", "title": "title", "authors": "authors", "first_authors": "authors",
    "year": "year", "publication_year": "year", "date": "date", "journal_name": "venue",
    "secondary_title": "venue", "alternate_title3": "venue_abbrev", "alternate_title2": "venue_abbrev",
    "volume": "volume", "number": "issue", "start_page": "first_page", "end_page": "last_page",
    "doi": "doi", "urls": "urls", "abstract": "abstract", "publisher": "publisher", "issn": "isbn",
    "type_of_reference": "type", "notes": "note", "language": "language", "accession_number": "accession",
}


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except OSError as exc:
            raise SourceError(f"{path}: a truncated or corrupt gzip file ({exc})") from exc
    return data


def read_ris(path: Path) -> tuple[pd.DataFrame, str]:
    import rispy

    text, enc = decode_bytes(_read_bytes(path))
    if not re.search(r"^TY  - ", text, re.M):
        raise SourceError(f"{path}: line 1: not a RIS file (no 'TY  - ' record start)",
                          "export as RIS from your reference manager")
    # Split on ER lines ourselves so that one broken entry is kept and flagged, not fatal.
    chunks = re.split(r"(?m)^ER  -.*$", text)
    rows, errors = [], []
    line = 1
    for chunk in chunks:
        if not chunk.strip():
            line += chunk.count("\n")
            continue
        start = line + len(chunk) - len(chunk.lstrip("\n\r")) and line
        try:
            entries = rispy.loads(chunk.strip() + "\nER  - \n")
            if not entries:
                raise ValueError("no TY line")
            entry = entries[0]
            row = {}
            for k, v in entry.items():
                key = RIS_MAP.get(k, k)
                if key in row and row[key]:
                    continue
                row[key] = v
            rows.append(row)
            errors.append(None)
        except Exception as exc:  # rispy raises plain exceptions on bad tags
            rows.append({"raw_entry": chunk.strip()[:10000]})
            errors.append(f"entry starting near line {start}: {exc}")
        line += chunk.count("\n")
    return objects_to_frame(rows, errors), enc


def _bib_field(value: str) -> str:
    return re.sub(r"\s+", " ", value.strip().strip("{}").strip()) if isinstance(value, str) else value


def read_bibtex(path: Path) -> tuple[pd.DataFrame, str]:
    import bibtexparser

    text, enc = decode_bytes(_read_bytes(path))
    if "@" not in text:
        raise SourceError(f"{path}: line 1: not a BibTeX file (no @entry)", "export as BibTeX")
    lib = bibtexparser.parse_string(text)
    rows, errors = [], []
    for entry in lib.entries:
        row = {"id": entry.key, "type": entry.entry_type}
        for f in entry.fields:
            row[f.key.lower()] = _bib_field(f.value)
        rows.append(row)
        errors.append(None)
    for block in lib.failed_blocks:
        raw = getattr(block, "raw", "") or ""
        line = getattr(block, "start_line", None)
        rows.append({"raw_entry": raw[:10000]})
        errors.append(f"entry at line {line + 1 if line is not None else '?'}: could not be parsed "
                      f"({type(block).__name__})")
    if not rows:
        raise SourceError(f"{path}: no BibTeX entries found", "check the file is a BibTeX export")
    df = objects_to_frame(rows, errors)
    return df, enc


def _xml_text(el) -> str | None:
    if el is None:
        return None
    s = "".join(el.itertext()).strip()
    return s or None


def read_endnote_xml(path: Path) -> tuple[pd.DataFrame, str]:
    data = _read_bytes(path)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line, col = exc.position
        raise SourceError(f"{path}: line {line}, column {col}: malformed XML ({exc})",
                          "re-export the EndNote library as XML") from exc
    records = root.findall(".//record")
    if not records:
        raise SourceError(f"{path}: no <record> elements", "export the EndNote library as XML")
    rows, errors = [], []
    for rec in records:
        authors = [_xml_text(a) for a in rec.findall("./contributors/authors/author")]
        pages = _xml_text(rec.find("./pages"))
        row = {
            "id": _xml_text(rec.find("./rec-number")),
            "type": (rec.find("./ref-type").get("name") if rec.find("./ref-type") is not None else None),
            "title": _xml_text(rec.find("./titles/title")),
            "venue": _xml_text(rec.find("./titles/secondary-title")) or _xml_text(rec.find("./periodical/full-title")),
            "venue_abbrev": _xml_text(rec.find("./periodical/abbr-1")) or _xml_text(rec.find("./titles/alt-title")),
            "authors": [a for a in authors if a],
            "year": _xml_text(rec.find("./dates/year")),
            "date": _xml_text(rec.find("./dates/pub-dates/date")),
            "volume": _xml_text(rec.find("./volume")),
            "issue": _xml_text(rec.find("./number")),
            "pages": pages,
            "doi": _xml_text(rec.find("./electronic-resource-num")),
            "abstract": _xml_text(rec.find("./abstract")),
            "isbn": _xml_text(rec.find("./isbn")),
            "urls": [u for u in (_xml_text(x) for x in rec.findall("./urls//url")) if u],
            "database": _xml_text(rec.find("./remote-database-name")),
            "accession": _xml_text(rec.find("./accession-num")),
            "language": _xml_text(rec.find("./language")),
        }
        rows.append(row)
        errors.append(None if row["title"] or row["authors"] else "record has neither title nor authors")
    return objects_to_frame(rows, errors), "xml"


NBIB_MAP = {"PMID": "id", "TI": "title", "FAU": "authors", "DP": "date", "JT": "venue", "TA": "venue_abbrev",
            "VI": "volume", "IP": "issue", "PG": "pages", "AB": "abstract", "LA": "language", "PT": "type",
            "AID": "ids", "IS": "isbn"}


def read_nbib(path: Path) -> tuple[pd.DataFrame, str]:
    text, enc = decode_bytes(_read_bytes(path))
    if not re.search(r"^PMID- ", text, re.M):
        raise SourceError(f"{path}: line 1: not a PubMed/MEDLINE file (no 'PMID- ' line)")
    rows, errors = [], []
    for block in re.split(r"\n\s*\n(?=PMID- )", text.strip()):
        row: dict = {}
        tag = None
        for ln in block.splitlines():
            m = re.match(r"^([A-Z]{2,4})\s*- (.*)$", ln)
            if m:
                tag, val = m.group(1), m.group(2).strip()
                key = NBIB_MAP.get(tag, tag.lower())
                if key in ("authors", "ids", "type"):
                    row.setdefault(key, []).append(val)
                elif key not in row:
                    row[key] = val
                else:
                    tag = None
            elif tag and ln.startswith("      "):
                key = NBIB_MAP.get(tag, tag.lower())
                if isinstance(row.get(key), str):
                    row[key] += " " + ln.strip()
        for x in row.pop("ids", []):
            if x.endswith("[doi]"):
                row["doi"] = x[:-5].strip()
        row["pmid"] = row.get("id")
        rows.append(row)
        errors.append(None)
    return objects_to_frame(rows, errors), enc


READERS = {"ris": read_ris, "bibtex": read_bibtex, "endnote": read_endnote_xml, "nbib": read_nbib}


def read_reference_file(path: Path, fmt: str):
    df, enc = READERS[fmt](path)
    return df, enc, None
