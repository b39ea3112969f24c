"""Pair-case files as a source: every case gives two records, and the file carries its own labels.

The format (parsed by ``linkage.evaluation.read_pair_cases``, which also reads it as labels):

JSON Lines, one case per line::

    {"id": "43", "doc_1": {"title": "...", "authors": [...], "doi": "...", ...},
                 "doc_2": {"title": "...", ...}, "decision": "DUPLICATES", "note": "optional"}

``doc_1`` and ``doc_2`` are records with any fields (as in a JSON Lines source; API-shaped records
such as Crossref works are mapped too); ``decision`` is ``DUPLICATES`` / ``NOT_DUPLICATES`` (or
true/false, duplicate/distinct, 1/0); ``id`` names the case (default: its line number). The
bib-dedupe layout ``{"schema": "dedupe_test_cases/v1", "cases": [{"id", "record_a", "record_b",
"expected_duplicate", "note"}]}`` is read the same way.

Records get the source id ``PairCase.id_a`` / ``id_b``: their own ``id`` when ids are consistent across
the file, else ``<case id>:1`` / ``<case id>:2``, so that ``linkage evaluate RUN --labels FILE`` finds
them again. Each record also carries ``pair_case`` (the case id) and ``pair_side`` (1 or 2) as raw
columns; the decision itself is never a record column (it would leak the truth), it is in
``SourceTable.labels``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import LabelsError, SourceError
from .api import flatten_api_record
from .encoding import GZIP_MAGIC, read_text
from .tabular import JsonItem, RawTable, records_frame

PAIR_KEYS = (("doc_1", "doc_2"), ("record_a", "record_b"))
RECORD_ID = "pair_record_id"


def is_pair_case(obj: dict[str, Any] | None) -> bool:
    """True when ``obj`` is a pair case (``doc_1``/``doc_2`` or ``record_a``/``record_b``)."""
    return isinstance(obj, dict) and any(a in obj and b in obj for a, b in PAIR_KEYS)


def looks_like_pair_cases(items: list[JsonItem]) -> bool:
    """True when the JSON records of a file are pair cases (judged on the readable ones)."""
    good = [it.obj for it in items if it.obj is not None]
    return bool(good) and sum(is_pair_case(o) for o in good) * 2 >= len(good)


def _read_cases(path: Path) -> list[Any]:
    """``read_pair_cases`` on the file (gunzipped to a temporary file first when compressed)."""
    from ..evaluation import read_pair_cases

    with open(path, "rb") as fh:
        compressed = fh.read(2) == GZIP_MAGIC
    target = str(path)
    try:
        if not compressed:
            return read_pair_cases(path)
        fd, target = tempfile.mkstemp(suffix=".jsonl")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(read_text(path).text)
            return read_pair_cases(target)
        finally:
            os.unlink(target)
    except LabelsError as exc:
        msg = exc.message[len(target) + 2:] if exc.message.startswith(target + ": ") else exc.message
        raise SourceError(f"{path}: {msg}", exc.hint or "each line needs doc_1, doc_2 and decision") from exc


def read_pair_case_file(path: Path, encoding: str | None = None) -> RawTable:
    """Read a pair-case file as records (two per case) with its labels in ``RawTable.labels``.

    Raises:
        SourceError: the file is not valid pair cases (the message names the line or case).
    """
    cases = _read_cases(path)
    rows: list[dict[str, Any]] = []
    labels = []
    for case in cases:
        for side, rec, rid in ((1, case.record_a, case.id_a), (2, case.record_b, case.id_b)):
            row: dict[str, Any] = {RECORD_ID: rid, "pair_case": case.case_id, "pair_side": str(side)}
            for k, v in flatten_api_record(dict(rec)).items():
                key = k
                while key in row:
                    key = f"doc_{key}"
                row[key] = v
            rows.append(row)
        labels.append({"id_l": case.id_a, "id_r": case.id_b, "is_duplicate": bool(case.is_duplicate),
                       "case": case.case_id, "note": case.note})
    if not rows:
        raise SourceError(f"{path}: no pair cases found", "each line needs doc_1, doc_2 and decision")
    return RawTable(records_frame(rows), [None] * len(rows), encoding, {"id": (RECORD_ID,)},
                    labels=pd.DataFrame(labels, columns=["id_l", "id_r", "is_duplicate", "case", "note"]))
