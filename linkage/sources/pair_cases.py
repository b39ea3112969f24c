"""Pair-case files: JSON Lines of ``{"doc_1": {...}, "doc_2": {...}, "decision": ...}``.

Each case becomes two records (``<case>:1`` and ``<case>:2`` unless the docs carry ids) and one label.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import SourceError
from . import tabular

POSITIVE = {"duplicates", "duplicate", "same", "match", "true", "1", "yes", "dup"}


def is_positive(decision) -> bool:
    return str(decision).strip().lower() in POSITIVE


def pair_case_frame(objs: list[dict], errors: list[str | None], path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, errs, labels = [], [], []
    for n, (obj, err) in enumerate(zip(objs, errors), start=1):
        if err or not isinstance(obj.get("doc_1"), dict) or not isinstance(obj.get("doc_2"), dict):
            rows.append(obj)
            errs.append(err or f"case {n}: expected doc_1 and doc_2 objects")
            continue
        case = str(obj.get("id", n))
        ids = []
        for k in ("doc_1", "doc_2"):
            doc = dict(obj[k])
            doc_id = str(doc.get("id") or f"{case}:{k[-1]}")
            doc["id"] = doc_id
            doc["pair_case"] = case
            ids.append(doc_id)
            rows.append(doc)
            errs.append(None)
        labels.append({"id_l": ids[0], "id_r": ids[1], "is_duplicate": is_positive(obj.get("decision")),
                       "case": case})
    if not labels:
        raise SourceError(f"{path}: no valid pair cases", "each line needs doc_1, doc_2 and decision")
    return tabular.objects_to_frame(rows, errs), pd.DataFrame(labels)
