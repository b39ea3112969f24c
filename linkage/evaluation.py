"""Evaluate a linkage run against ground-truth labels.

Three steps, each usable on its own:

1. ``read_labels(path, records)`` reads a labels file in any of the common layouts (pair lists, the
   Leipzig "perfect mapping", cluster-id tables, CoLRev ``merged_record_ids.csv``, pair-case JSON Lines
   and the bib-dedupe test-case JSON), resolves its ids against the run's records and returns a ``Truth``:
   every record's true entity (the transitive closure of the positive labels) plus explicit negatives.
2. ``cluster_metrics``, ``bcubed_metrics``, ``edge_metrics`` and ``labelled_pair_metrics`` score a
   clustering / the scored edges against that truth. Pair counts come from group sizes
   (``n * (n - 1) / 2``), so nothing enumerates pairs and millions of records are fine.
3. ``evaluate_run(run_dir, labels_path)`` does both for a run folder and writes ``metrics.json``;
   ``format_metrics`` renders the result as a short text table and ``error_pairs`` lists (capped)
   false-positive and false-negative pairs for the report.

Conventions: a record's truth entity is an ``int`` key (records no label mentions are singletons).
A ratio whose denominator is zero is reported as ``0.0`` (as scikit-learn's default ``zero_division``).
With ``cross_source=True`` only pairs whose two records come from different sources count, both as
predicted and as true pairs (B-cubed is always computed over whole clusters).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .errors import LabelsError, RunFolderError
from .fields import SOURCE, SOURCE_ID, UNIQUE_ID, column_key

__all__ = [
    "ErrorPairs",
    "PairCase",
    "Truth",
    "bcubed_metrics",
    "cluster_metrics",
    "edge_metrics",
    "error_pairs",
    "evaluate_run",
    "format_metrics",
    "labelled_pair_metrics",
    "read_labels",
    "read_pair_cases",
    "truth_from_clusters",
    "truth_from_pairs",
]

METRICS_FILE = "metrics.json"
ERROR_PAIRS_LIMIT = 10_000

# Label values, compared after lower-casing and turning spaces/dashes into underscores.
POSITIVE_LABELS = frozenset({
    "1", "1.0", "true", "t", "yes", "y", "same", "match", "matched", "matches", "duplicate", "duplicates",
    "dup", "positive", "pos", "+1",
})
NEGATIVE_LABELS = frozenset({
    "0", "0.0", "-1", "false", "f", "no", "n", "different", "distinct", "non_duplicate", "non_duplicates",
    "nonduplicate", "not_duplicate", "not_duplicates", "no_duplicate", "non_match", "nonmatch", "no_match",
    "not_match", "mismatch", "unmatch", "negative", "neg",
})

# Column-name vocabularies, compared with ``fields.column_key`` (lower case, alphanumerics only).
_COLREV_COLUMNS = frozenset({"mergedids", "mergedrecordids"})
_LABEL_COLUMNS = frozenset({
    "label", "labels", "match", "ismatch", "matched", "isduplicate", "duplicate", "decision", "gold",
    "goldlabel", "truelabel", "class", "target", "same", "expectedduplicate",
})
_CLUSTER_COLUMNS = ("clusterid", "cluster", "entityid", "trueid", "goldcluster", "clusterlabel",
                    "duplicateid", "entity", "label")
_RECORD_ID_COLUMNS = ("uniqueid", "sourceid", "id", "recordid", "recid", "uid", "identifier", "key")
_SOURCE_COLUMNS = ("source", "sourcedataset", "sourcename", "dataset")
_SIDE = r"(?:l|r|a|b|1|2|left|right|x|y)"
_PAIR_ID_PATTERNS = (
    re.compile(rf"^(?:uniqueid|sourceid|recordid|recid|id|uid|key){_SIDE}$"),
    re.compile(rf"^(?:{_SIDE}|ltable|rtable|table[12ab]|doc[12]|record[12ab]|rec[12ab])(?:id|uid|key)$"),
)
# ``idDBLP`` / ``id_acm`` (Leipzig) and ``dblp_id``: the text names the source.
_SOURCE_ID_PATTERNS = (re.compile(r"^id[_ .-]?([A-Za-z][A-Za-z0-9]*)$"),
                       re.compile(r"^([A-Za-z][A-Za-z0-9]*)[_ .-]id$"))
_NOT_SOURCE_TEXT = frozenset({"entifier", "entity", "cluster", "true", "record", "source", "unique", "rec",
                              "duplicate", "gold"})
_DELIMITERS = (",", ";", "\t", "|")
_SEP = "\x1f"


# ---------------------------------------------------------------------------------------------------------
# Public data types
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Truth:
    """Ground truth resolved against a run's records.

    Attributes:
        entity: ``unique_id`` -> int entity key, one row per run record (the transitive closure of the
            positive labels; records no label mentions are singletons).
        negatives: explicit negative pairs (``unique_id_l``, ``unique_id_r``), resolved.
        n_unresolved: distinct label ids that matched no record (ambiguous ids included).
        warnings: human-readable problems found while reading (unresolved ids, contradictions, ...).
        format: the detected layout, e.g. ``"leipzig_mapping"`` or ``"colrev_merged_ids"``.
        source: ``unique_id`` -> source name, aligned with ``entity``.
        positives: explicit positive pairs as labelled (pair formats; None for cluster formats).
        n_ambiguous: distinct label ids whose ``source_id`` is shared by records of several sources.
        n_label_rows: data rows (or cases) read from the file.
        path: the labels file.
        encoding: the text encoding the file was decoded with (text formats).
    """

    entity: pd.Series
    negatives: pd.DataFrame
    n_unresolved: int = 0
    warnings: list[str] = field(default_factory=list)
    format: str = "pairs"
    source: pd.Series | None = None
    positives: pd.DataFrame | None = None
    n_ambiguous: int = 0
    n_label_rows: int = 0
    path: str = ""
    encoding: str | None = None

    def info(self) -> dict[str, Any]:
        """The JSON-ready summary written under ``labels`` in ``metrics.json``."""
        n_entities = int(self.entity.nunique()) if len(self.entity) else 0
        return {
            "path": self.path,
            "format": self.format,
            "encoding": self.encoding,
            "n_label_rows": int(self.n_label_rows),
            "n_unresolved": int(self.n_unresolved),
            "n_ambiguous": int(self.n_ambiguous),
            "n_positive_pairs": 0 if self.positives is None else int(len(self.positives)),
            "n_negative_pairs": int(len(self.negatives)),
            "n_entities": n_entities,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class PairCase:
    """One labelled pair of records from a pair-case file.

    Attributes:
        case_id: the case's id (``id`` in the file, else its 1-based position).
        record_a: the first record's fields as in the file.
        record_b: the second record's fields as in the file.
        is_duplicate: the expected decision.
        note: free-text note, if any.
        id_a: the id to give the first record (its own ``id``/``ID`` when ids are consistent across the
            file, else ``"<case_id>:1"``); ``read_labels`` resolves labels through these ids.
        id_b: the same for the second record (``"<case_id>:2"`` as fallback).
    """

    case_id: str
    record_a: dict[str, Any]
    record_b: dict[str, Any]
    is_duplicate: bool
    note: str = ""
    id_a: str = ""
    id_b: str = ""


class ErrorPairs(NamedTuple):
    """Cluster-level error pairs (each list capped; the totals come from ``cluster_metrics``)."""

    false_positives: pd.DataFrame
    false_negatives: pd.DataFrame


# ---------------------------------------------------------------------------------------------------------
# Records and id resolution
# ---------------------------------------------------------------------------------------------------------


class _RecordIndex:
    """Lookups from label ids to record positions: by unique_id, (source, source_id) and source_id."""

    def __init__(self, records: pd.DataFrame):
        if UNIQUE_ID not in records.columns:
            raise LabelsError(f"records table has no {UNIQUE_ID!r} column",
                              f"columns are {', '.join(map(str, records.columns))}")
        uids = _clean_str(records[UNIQUE_ID])
        first = ~pd.Index(uids).duplicated()
        recs = records[first]
        self.uids = pd.Index(uids[first])
        src_col = SOURCE if SOURCE in recs.columns else ("source_dataset" if "source_dataset" in recs.columns
                                                         else None)
        self.sources = (_clean_str(recs[src_col]) if src_col else np.full(len(recs), "", dtype=object))
        self.source_ids = (_clean_str(recs[SOURCE_ID]) if SOURCE_ID in recs.columns
                           else np.full(len(recs), "", dtype=object))
        self.run_sources = sorted({s for s in self.sources if s})
        self._by_sid = _unique_lookup(self.source_ids)
        self._by_key = _unique_lookup((pd.Series(self.sources, dtype=object) + _SEP
                                       + pd.Series(self.source_ids, dtype=object)).to_numpy(dtype=object))
        self.resolved_any = False
        self.unresolved: set[tuple[str, str]] = set()
        self.ambiguous: set[tuple[str, str]] = set()

    def __len__(self) -> int:
        return len(self.uids)

    def resolve(self, ids: np.ndarray, sources: np.ndarray | str | None = None,
                fallbacks: Sequence[np.ndarray] = ()) -> np.ndarray:
        """Record positions for ``ids`` (-1 where unresolved or ambiguous); records the failures.

        Args:
            ids: label ids (strings, already stripped).
            sources: the run source of each id (array), of all ids (str), or None when unknown. An empty
                string means unknown for that id.
            fallbacks: other spellings of the same ids, tried in order where ``ids`` did not resolve.

        Returns:
            int64 positions into the records, -1 where an id did not resolve.
        """
        ids = np.asarray(ids, dtype=object)
        if sources is None:
            src = np.full(len(ids), "", dtype=object)
        elif isinstance(sources, str):
            src = np.full(len(ids), sources, dtype=object)
        else:
            src = np.asarray(sources, dtype=object)
        pos = self._positions(ids, src)
        for alt in fallbacks:
            alt = np.asarray(alt, dtype=object)
            retry = (pos < 0) & (alt != "")
            if retry.any():
                found = self._positions(alt[retry], src[retry])
                pos[retry] = np.where(found >= 0, found, np.minimum(pos[retry], found))
        bad = pos < 0
        self.resolved_any = self.resolved_any or bool((~bad).any())
        if bad.any():
            failed = pd.DataFrame({"s": src[bad], "i": ids[bad], "p": pos[bad]}).drop_duplicates()
            amb = failed["p"] == -2
            self.ambiguous.update(zip(failed["s"][amb], failed["i"][amb], strict=True))
            self.unresolved.update(zip(failed["s"], failed["i"], strict=True))
            pos[bad] = -1
        return pos

    def _positions(self, ids: np.ndarray, src: np.ndarray) -> np.ndarray:
        """Positions by unique_id, else (source, source_id), else source_id; -1 missing, -2 ambiguous."""
        pos = self.uids.get_indexer(ids).astype(np.int64)
        miss = pos < 0
        known = miss & (src != "")
        if known.any():
            keys = (pd.Series(src[known]).astype(str) + _SEP + pd.Series(ids[known]).astype(str)).to_numpy()
            pos[known] = _lookup(self._by_key, keys)
        unknown = miss & (src == "")
        if unknown.any():
            pos[unknown] = _lookup(self._by_sid, ids[unknown])
        return pos

    def match_source(self, text: str) -> str | None:
        """The run source a column name's text names (case-insensitive containment), or None."""
        t = text.strip().lower()
        if not t:
            return None
        exact = [s for s in self.run_sources if s.lower() == t]
        if exact:
            return exact[0]
        contained = [s for s in self.run_sources if t in s.lower()]
        return contained[0] if len(contained) == 1 else None

    def source_values(self, values: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Map a file's per-row source names to run sources ("" where none fits)."""
        out = np.full(len(values), "", dtype=object)
        notes = []
        for v in pd.unique(values):
            m = self.match_source(str(v)) if v else None
            if m is None and v:
                notes.append(f"source {v!r} in the labels names no run source "
                             f"(run sources: {', '.join(self.run_sources) or 'none'}); its ids were matched "
                             f"by source_id alone")
            out[values == v] = m or ""
        return out, notes


def _clean_str(col: pd.Series) -> np.ndarray:
    """A column as stripped Python strings ("" for missing)."""
    s = pd.Series(col, dtype=object)
    return s.where(s.notna(), "").astype(str).str.strip().to_numpy(dtype=object)


def _unique_lookup(keys: np.ndarray) -> pd.Series:
    """key -> position, or -2 where several positions share the key; empty keys are left out."""
    s = pd.Series(np.arange(len(keys), dtype=np.int64), index=pd.Index(keys, dtype=object))
    s = s[s.index != ""]
    dup = s.index.duplicated(keep=False)
    out = s[~s.index.duplicated(keep="first")].copy()
    out[pd.Index(s.index[dup]).unique()] = -2
    return out


def _lookup(table: pd.Series, keys: np.ndarray) -> np.ndarray:
    idx = table.index.get_indexer(keys)
    vals = table.to_numpy()
    return np.where(idx >= 0, vals[np.maximum(idx, 0)] if len(vals) else -1, -1).astype(np.int64)


def _source_array(records: pd.DataFrame) -> np.ndarray:
    col = SOURCE if SOURCE in records.columns else ("source_dataset" if "source_dataset" in records.columns
                                                    else None)
    if col is None:
        return np.full(len(records), "", dtype=object)
    return _clean_str(records[col])


# ---------------------------------------------------------------------------------------------------------
# Connected components (vectorised union-find)
# ---------------------------------------------------------------------------------------------------------


def _components(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Component label (smallest member position) of each of ``n`` nodes linked by edges ``u``-``v``."""
    parent = np.arange(n, dtype=np.int64)
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    while len(u):
        pu, pv = parent[u], parent[v]
        diff = pu != pv
        if not diff.any():
            break
        u, v, pu, pv = u[diff], v[diff], pu[diff], pv[diff]
        np.minimum.at(parent, np.maximum(pu, pv), np.minimum(pu, pv))
        while True:  # pointer jumping until every node points at its root
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
    return parent


# ---------------------------------------------------------------------------------------------------------
# Building a Truth
# ---------------------------------------------------------------------------------------------------------


def _make_truth(index: _RecordIndex, pos_l: np.ndarray, pos_r: np.ndarray, positive: np.ndarray,
                *, fmt: str, warnings: list[str], keep_positives: bool) -> Truth:
    """Truth from resolved label pairs (positions into ``index``; -1 = unresolved)."""
    ok = (pos_l >= 0) & (pos_r >= 0)
    same = ok & (pos_l == pos_r)
    ok &= pos_l != pos_r
    pl, pr, lab = pos_l[ok], pos_r[ok], positive[ok]
    labels = _components(len(index), pl[lab], pr[lab])
    uids = index.uids.to_numpy()
    entity = pd.Series(labels, index=pd.Index(uids, name=UNIQUE_ID), name="entity")
    neg = pd.DataFrame({"unique_id_l": uids[pl[~lab]], "unique_id_r": uids[pr[~lab]]}).drop_duplicates()
    positives = (pd.DataFrame({"unique_id_l": uids[pl[lab]], "unique_id_r": uids[pr[lab]]}).drop_duplicates()
                 if keep_positives else None)
    n_dropped = int((~ok & ~same).sum())
    if n_dropped:
        warnings.append(f"{n_dropped} labelled pairs were dropped because an id did not resolve")
    if same.any():
        warnings.append(f"{int(same.sum())} labelled pairs name the same record twice (ignored)")
    if len(neg):
        contra = int((labels[pl[~lab]] == labels[pr[~lab]]).sum())
        if contra:
            warnings.append(f"{contra} negative labels contradict the transitive closure of the positive "
                            f"labels (both records end up in one true entity)")
    return Truth(entity=entity, negatives=neg.reset_index(drop=True), warnings=warnings, format=fmt,
                 source=pd.Series(index.sources, index=entity.index, name=SOURCE),
                 positives=None if positives is None else positives.reset_index(drop=True))


def _membership_truth(index: _RecordIndex, groups: np.ndarray, pos: np.ndarray, *, fmt: str,
                      warnings: list[str]) -> Truth:
    """Truth from (group key, record position) rows: records sharing a group are one entity."""
    ok = pos >= 0
    g, p = pd.factorize(pd.Series(groups[ok], dtype=object))[0], pos[ok]
    dup = pd.Series(p).duplicated(keep=False)
    if dup.any():
        n_multi = int(pd.Series(p[dup.to_numpy()]).nunique())
        warnings.append(f"{n_multi} records are listed in more than one cluster; those clusters were merged")
    order = np.argsort(g, kind="stable")
    _, first = np.unique(g[order], return_index=True)
    first_pos = p[order][first]
    labels = _components(len(index), p, first_pos[g]) if len(g) else np.arange(len(index), dtype=np.int64)
    uids = index.uids.to_numpy()
    entity = pd.Series(labels, index=pd.Index(uids, name=UNIQUE_ID), name="entity")
    return Truth(entity=entity, negatives=_empty_pairs(), warnings=warnings, format=fmt,
                 source=pd.Series(index.sources, index=entity.index, name=SOURCE))


def _empty_pairs() -> pd.DataFrame:
    return pd.DataFrame({"unique_id_l": pd.Series([], dtype=object), "unique_id_r": pd.Series([], dtype=object)})


def truth_from_pairs(records: pd.DataFrame, positives: pd.DataFrame,
                     negatives: pd.DataFrame | None = None) -> Truth:
    """Build a ``Truth`` from pairs of ``unique_id`` values (no file involved).

    Args:
        records: the run's records (``unique_id``, optionally ``source`` and ``source_id``).
        positives: true pairs in columns ``unique_id_l`` and ``unique_id_r``; closed transitively.
        negatives: optional explicit non-matches in the same columns.

    Returns:
        The truth; ids that match no record are counted in ``n_unresolved``.

    Examples:
        >>> recs = pd.DataFrame({"unique_id": ["a", "b", "c"]})
        >>> t = truth_from_pairs(recs, pd.DataFrame({"unique_id_l": ["a"], "unique_id_r": ["b"]}))
        >>> t.entity.tolist()
        [0, 0, 2]
    """
    index = _RecordIndex(records)
    neg = negatives if negatives is not None else _empty_pairs()
    left = np.concatenate([_clean_str(positives["unique_id_l"]), _clean_str(neg["unique_id_l"])])
    right = np.concatenate([_clean_str(positives["unique_id_r"]), _clean_str(neg["unique_id_r"])])
    lab = np.concatenate([np.ones(len(positives), bool), np.zeros(len(neg), bool)])
    truth = _make_truth(index, index.resolve(left), index.resolve(right), lab, fmt="pairs", warnings=[],
                        keep_positives=True)
    return _finish(truth, index, len(lab), path="", encoding=None)


def truth_from_clusters(records: pd.DataFrame, entity: pd.Series | dict[str, Any]) -> Truth:
    """Build a ``Truth`` from a ``unique_id -> entity`` mapping (records not in it are singletons).

    Args:
        records: the run's records.
        entity: any hashable entity label per ``unique_id``.

    Returns:
        The truth.
    """
    index = _RecordIndex(records)
    ent = pd.Series(entity)
    pos = index.resolve(_clean_str(pd.Series(ent.index.astype(str))))
    truth = _membership_truth(index, ent.to_numpy(dtype=object), pos, fmt="clusters", warnings=[])
    return _finish(truth, index, len(ent), path="", encoding=None)


def _finish(truth: Truth, index: _RecordIndex, n_rows: int, *, path: str, encoding: str | None) -> Truth:
    truth.n_unresolved = len(index.unresolved)
    truth.n_ambiguous = len(index.ambiguous)
    truth.n_label_rows = n_rows
    truth.path = path
    truth.encoding = encoding
    if index.unresolved:
        examples = ", ".join(repr(i) for _, i in sorted(index.unresolved)[:5])
        truth.warnings.insert(0, f"{len(index.unresolved)} label ids matched no record (e.g. {examples})")
    if index.ambiguous:
        examples = ", ".join(repr(i) for _, i in sorted(index.ambiguous)[:5])
        truth.warnings.insert(1 if index.unresolved else 0,
                              f"{len(index.ambiguous)} label ids are ambiguous: several sources have a record "
                              f"with that source_id (e.g. {examples}); they were not used. Use unique_id "
                              f"values, or name the id columns after the sources (e.g. idDBLP, idACM)")
    return truth


# ---------------------------------------------------------------------------------------------------------
# Reading label files
# ---------------------------------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    for enc in ("utf-8", "cp1252"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _norm_label(value: str) -> str:
    v = str(value).strip().lower()
    return v if v in POSITIVE_LABELS or v in NEGATIVE_LABELS else re.sub(r"[\s\-]+", "_", v)


def _parse_labels(values: Sequence[Any], path: Path, lines: np.ndarray | None, what: str) -> np.ndarray:
    """Label values -> bool array; a value outside the vocabulary raises with its line."""
    norm = np.array([_norm_label(v) for v in values], dtype=object)
    pos = np.isin(norm, list(POSITIVE_LABELS))
    neg = np.isin(norm, list(NEGATIVE_LABELS))
    bad = ~(pos | neg)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        where = f"line {int(lines[i])}: " if lines is not None else ""
        raise LabelsError(f"{path}: {where}{what} {values[i]!r} is not a match label",
                          "expected 1/0, true/false, yes/no, same/different, duplicate/non-duplicate or match")
    return pos


def _sniff_delimiter(text: str) -> str:
    lines = [ln for ln in text[:65536].splitlines()[:50] if ln.strip()]
    if len(lines) > 1 and len(text) > 65536:
        lines = lines[:-1]  # the sample may cut the last line
    best, best_score = ",", (0, 0, 0)
    for d in _DELIMITERS:
        counts = [len(r) for r in csv.reader(lines, delimiter=d)]
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        if mode < 2:
            continue
        consistent = all(c == mode for c in counts)
        score = (int(consistent), counts.count(mode), mode)
        if score > best_score:
            best, best_score = d, score
    return best


def _is_header_name(name: str) -> bool:
    key = column_key(name)
    if not key or _norm_label(name) in POSITIVE_LABELS | NEGATIVE_LABELS:
        return False  # "match" or "duplicate" in a first row is more likely a label value than a name
    if (key in _COLREV_COLUMNS or key in _LABEL_COLUMNS or key in _CLUSTER_COLUMNS or key in _RECORD_ID_COLUMNS
            or key in _SOURCE_COLUMNS):
        return True
    if any(p.match(key) for p in _PAIR_ID_PATTERNS):
        return True
    return _source_text(name) is not None


def _source_text(name: str) -> str | None:
    """``idDBLP`` -> ``DBLP``, ``acm_id`` -> ``acm``; None when the name names no source."""
    n = str(name).strip()
    if any(p.match(column_key(n)) for p in _PAIR_ID_PATTERNS):
        return None
    for p in _SOURCE_ID_PATTERNS:
        m = p.match(n)
        if m and m.group(1).lower() not in _NOT_SOURCE_TEXT and not re.fullmatch(_SIDE, m.group(1).lower()):
            return m.group(1)
    return None


def _read_table(text: str, path: Path, delim: str | None = None) -> tuple[pd.DataFrame, str]:
    """All cells as stripped strings; the row index is the file line number."""
    delim = delim or _sniff_delimiter(text)
    try:
        df = pd.read_csv(io.StringIO(text), sep=delim, header=None, dtype=str, keep_default_na=False,
                         na_filter=False, skip_blank_lines=False, engine="c")
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if m:
            raise LabelsError(f"{path}: line {m.group(2)}: expected {m.group(1)} fields separated by "
                              f"{delim!r} (as on the first line), found {m.group(3)}",
                              "every row of a labels table needs the same columns") from exc
        raise LabelsError(f"{path}: not a readable delimited table ({exc})".strip(),
                          "expected CSV/TSV, JSON or JSON Lines") from exc
    except pd.errors.EmptyDataError as exc:
        raise LabelsError(f"{path}: the file is empty", "expected a labels table") from exc
    df = df.apply(lambda c: c.str.strip())
    if df.shape[1] > 1 and (df.iloc[:, -1] == "").all():
        df = df.iloc[:, :-1]  # trailing delimiter
    df.index = pd.RangeIndex(1, len(df) + 1)  # index = line number
    df = df[(df != "").any(axis=1)]
    return df, delim


def read_labels(path: str | Path, records: pd.DataFrame) -> Truth:
    """Read a ground-truth file and resolve it against a run's records.

    The layout is detected from the content: JSON (bib-dedupe cases), JSON Lines (pair cases), or a
    delimited table (delimiter sniffed among ``, ; TAB |``, header optional) holding a pair list (two id
    columns, optional label column), a Leipzig mapping (``"idDBLP","idACM"``: each column names a run
    source), a cluster table (an id column and a cluster column) or CoLRev ``merged_ids``.

    An id resolves to the record whose ``unique_id`` equals it, else to the record with that
    ``source_id`` in the column's source (when known), else to the only record with that ``source_id``.
    Ids that do not resolve are counted and reported in ``Truth.warnings``.

    Args:
        path: the labels file.
        records: the run's records (``unique_id``, ``source``, ``source_id``).

    Returns:
        The resolved truth.

    Raises:
        LabelsError: the file is missing, malformed (message names the line and what was expected) or no
            id in it matches a record.

    Examples:
        >>> truth = read_labels("DBLP-ACM_perfectMapping.csv", records)  # doctest: +SKIP
        >>> truth.format  # doctest: +SKIP
        'leipzig_mapping'
    """
    path = Path(path)
    if not path.is_file():
        raise LabelsError(f"{path}: labels file not found", "give the path of a CSV, TSV, JSON or JSONL file")
    index = _RecordIndex(records)
    text, encoding = _decode(path.read_bytes())
    stripped = text.lstrip()
    if not stripped:
        raise LabelsError(f"{path}: the file is empty", "expected a labels table")
    suffix = path.suffix.lower()
    warnings: list[str] = []
    if suffix in {".json", ".jsonl", ".ndjson"} or stripped[0] in "{[":
        cases = _pair_cases_from_text(text, path)
        fmt = "bib_dedupe_cases" if _is_bib_dedupe(text) else "pair_cases"
        lab = np.array([c.is_duplicate for c in cases], dtype=bool)
        pos = []
        for side, rec_of, id_of in (("1", lambda c: c.record_a, lambda c: c.id_a),
                                    ("2", lambda c: c.record_b, lambda c: c.id_b)):
            # the readers may have kept a record's own id, or used "<case>:1" for all: accept either
            own = np.array([_record_id(rec_of(c)) or "" for c in cases], dtype=object)
            qualified = np.array([f"{c.case_id}:{side}" for c in cases], dtype=object)
            pos.append(index.resolve(np.array([id_of(c) for c in cases], dtype=object),
                                     fallbacks=(own, qualified)))
        truth = _make_truth(index, pos[0], pos[1], lab, fmt=fmt, warnings=warnings, keep_positives=True)
        n_rows = len(cases)
    else:
        truth, n_rows = _table_truth(text, path, index, warnings)
    truth = _finish(truth, index, n_rows, path=str(path), encoding=encoding)
    _check_resolved(truth, index, path)
    return truth


def _check_resolved(truth: Truth, index: _RecordIndex, path: Path) -> None:
    if index.resolved_any or truth.n_label_rows == 0:
        return
    if index.unresolved:
        label_ex = ", ".join(repr(i) for _, i in sorted(index.unresolved)[:3])
        uid_ex = ", ".join(repr(u) for u in index.uids[:3])
        sid_ex = ", ".join(repr(s) for s in index.source_ids[:3])
        amb = (f"; {len(index.ambiguous)} were ambiguous (the same source_id in several sources)"
               if index.ambiguous else "")
        raise LabelsError(
            f"{path}: none of the {len(index.unresolved)} label ids matches a record{amb} "
            f"(label ids look like {label_ex}; record unique_ids look like {uid_ex}, source_ids like {sid_ex})",
            "the labels must use the records' unique_id or their own ids (source_id) from the input files; "
            "for two sources name the columns id<Source> (e.g. idDBLP, idACM)")


def _table_truth(text: str, path: Path, index: _RecordIndex, warnings: list[str]) -> tuple[Truth, int]:
    first_line = next((ln for ln in text[:4096].splitlines() if ln.strip()), "")
    colrev_file = any(column_key(f) in _COLREV_COLUMNS for f in next(csv.reader([first_line]), []))
    # CoLRev rows are ids joined by ";" (quoted or not): never sniff ";" as the delimiter there
    df, delim = _read_table(text, path, "," if colrev_file else None)
    if df.empty:
        raise LabelsError(f"{path}: the file has no rows", "expected a labels table")
    first = [str(v) for v in df.iloc[0]]
    header = any(_is_header_name(v) for v in first)
    header_line = int(df.index[0])
    if header:
        names = first
        df = df.iloc[1:]
    else:
        names = [f"column {i + 1}" for i in range(df.shape[1])]
    df.columns = range(df.shape[1])
    keys = [column_key(n) for n in names]
    lines = df.index.to_numpy()

    colrev = [i for i, k in enumerate(keys) if k in _COLREV_COLUMNS]
    if header and colrev:
        return _colrev_truth(df[colrev[0]], lines, path, index, warnings), len(df)

    if header:
        label_cols = [i for i, k in enumerate(keys) if k in _LABEL_COLUMNS]
        pair_cols = [i for i, (n, k) in enumerate(zip(names, keys, strict=True))
                     if any(p.match(k) for p in _PAIR_ID_PATTERNS) or _source_text(n) is not None]
        record_cols = [i for k in _RECORD_ID_COLUMNS for i, kk in enumerate(keys) if kk == k]
        cluster_cols = [i for k in _CLUSTER_COLUMNS for i, kk in enumerate(keys) if kk == k]
        id_like = [c for c in dict.fromkeys(record_cols + pair_cols) if c not in cluster_cols]
        if cluster_cols and len(pair_cols) < 2 and id_like:
            src_col = next((i for i, k in enumerate(keys) if k in _SOURCE_COLUMNS), None)
            return _cluster_table_truth(df, names, id_like[0], cluster_cols[0], src_col, lines, path, index,
                                        warnings), len(df)
        if len(pair_cols) >= 2:
            left, right = pair_cols[0], pair_cols[1]
        elif len(id_like) >= 2:
            left, right = id_like[0], id_like[1]
        elif len(names) in (2, 3) and len(label_cols) == len(names) - 2:
            left, right = [i for i in range(len(names)) if i not in label_cols][:2]
        else:
            raise LabelsError(
                f"{path}: line {header_line}: cannot tell the layout from the columns {', '.join(map(repr, names))}",
                "expected two id columns (e.g. id1,id2 or idDBLP,idACM) with an optional label column, an id "
                "column with a cluster column (e.g. unique_id,cluster_id), or a merged_ids column")
        label_col = label_cols[0] if label_cols else None
    else:
        if df.shape[1] == 2:
            left, right, label_col = 0, 1, None
        elif df.shape[1] == 3:
            left, right, label_col = 0, 1, 2
        else:
            raise LabelsError(
                f"{path}: line {int(lines[0])}: expected 2 id columns (and an optional label column) "
                f"separated by {delim!r}, found {df.shape[1]} columns and no recognised header",
                "add a header naming the columns, e.g. id1,id2,label or unique_id,cluster_id")
    for col in (left, right):
        empty = (df[col] == "").to_numpy()
        if empty.any():
            raise LabelsError(f"{path}: line {int(lines[np.flatnonzero(empty)[0]])}: empty id in column "
                              f"{names[col]!r}", "every row needs two ids")
    if label_col is not None:
        positive = _parse_labels(df[label_col].tolist(), path, lines, f"{names[label_col]}")
    else:
        positive = np.ones(len(df), dtype=bool)
    sources: list[str | None] = []
    for col in (left, right):
        text_src = _source_text(names[col]) if header else None
        src = index.match_source(text_src) if text_src else None
        if text_src and src is None:
            warnings.append(f"column {names[col]!r} names no run source (run sources: "
                            f"{', '.join(index.run_sources) or 'none'}); its ids were matched by source_id alone")
        sources.append(src)
    fmt = "leipzig_mapping" if all(sources) else "pairs"
    truth = _make_truth(index, index.resolve(df[left].to_numpy(dtype=object), sources[0]),
                        index.resolve(df[right].to_numpy(dtype=object), sources[1]), positive, fmt=fmt,
                        warnings=warnings, keep_positives=True)
    return truth, len(df)


def _cluster_table_truth(df: pd.DataFrame, names: list[str], id_col: int, cluster_col: int,
                         src_col: int | None, lines: np.ndarray, path: Path, index: _RecordIndex,
                         warnings: list[str]) -> Truth:
    empty = (df[id_col] == "").to_numpy()
    if empty.any():
        raise LabelsError(f"{path}: line {int(lines[np.flatnonzero(empty)[0]])}: empty id in column "
                          f"{names[id_col]!r}", "every row needs a record id and a cluster")
    keep = (df[cluster_col] != "").to_numpy()  # no cluster: a singleton
    ids = df[id_col].to_numpy(dtype=object)[keep]
    sources: np.ndarray | str | None = None
    text_src = _source_text(names[id_col])
    if src_col is not None:
        sources, notes = index.source_values(df[src_col].to_numpy(dtype=object)[keep])
        warnings.extend(notes)
    elif text_src:
        sources = index.match_source(text_src)
        if sources is None:
            warnings.append(f"column {names[id_col]!r} names no run source (run sources: "
                            f"{', '.join(index.run_sources) or 'none'}); its ids were matched by source_id alone")
    pos = index.resolve(ids, sources)
    return _membership_truth(index, df[cluster_col].to_numpy(dtype=object)[keep], pos, fmt="clusters",
                             warnings=warnings)


def _colrev_truth(col: pd.Series, lines: np.ndarray, path: Path, index: _RecordIndex,
                  warnings: list[str]) -> Truth:
    parts = col.str.split(";")
    exploded = parts.explode()
    ids = exploded.str.strip().to_numpy(dtype=object)
    groups = exploded.index.to_numpy()  # the line number: one row = one cluster
    keep = ids != ""
    pos = index.resolve(ids[keep])
    return _membership_truth(index, groups[keep].astype(object), pos, fmt="colrev_merged_ids",
                             warnings=warnings)


# ---------------------------------------------------------------------------------------------------------
# Pair cases
# ---------------------------------------------------------------------------------------------------------


def _is_bib_dedupe(text: str) -> bool:
    return '"dedupe_test_cases' in text[:4096] or '"expected_duplicate"' in text


def _record_id(rec: dict[str, Any]) -> str | None:
    for k in ("id", "ID", "record_id", "unique_id"):
        v = rec.get(k)
        if v is not None and str(v).strip():
            return str(v).strip()
    return None


def read_pair_cases(path: str | Path) -> list[PairCase]:
    """Read a pair-case file: JSON Lines (``doc_1``, ``doc_2``, ``decision``) or bib-dedupe JSON.

    The bib-dedupe layout is ``{"schema": "dedupe_test_cases/v1", "cases": [{"id", "record_a",
    "record_b", "expected_duplicate", "note"}]}``; a JSON array of JSON-Lines-style objects is read too.

    Record ids (``PairCase.id_a`` / ``id_b``): each record's own ``id`` (or ``ID``) when every id in the
    file names one record; when the same id is used for different records (bib-dedupe reuses ``"1"`` and
    ``"2"``) or a record has none, every record gets ``"<case_id>:1"`` / ``"<case_id>:2"`` instead.

    Args:
        path: the file.

    Returns:
        The cases in file order.

    Raises:
        LabelsError: the file is not valid JSON / JSON Lines or a case lacks its records or decision.
    """
    path = Path(path)
    if not path.is_file():
        raise LabelsError(f"{path}: pair-case file not found")
    text, _ = _decode(path.read_bytes())
    return _pair_cases_from_text(text, path)


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def _pair_cases_from_text(text: str, path: Path) -> list[PairCase]:
    objs: list[tuple[str, dict[str, Any]]] = []  # (where, object)
    doc = _json_or_none(text)
    if doc is None:
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LabelsError(f"{path}: line {n}: not valid JSON ({exc.msg} at column {exc.colno})",
                                  "expected one JSON object per line with doc_1, doc_2 and decision") from exc
            if not isinstance(obj, dict):
                raise LabelsError(f"{path}: line {n}: expected a JSON object, found {type(obj).__name__}")
            objs.append((f"line {n}", obj))
    if doc is not None:
        if isinstance(doc, dict) and "cases" in doc:
            items = doc["cases"]
            if not isinstance(items, list):
                raise LabelsError(f"{path}: 'cases' must be a list, found {type(items).__name__}")
        elif isinstance(doc, list):
            items = doc
        elif isinstance(doc, dict):
            items = [doc]
        else:
            raise LabelsError(f"{path}: expected a JSON object or list of cases, found {type(doc).__name__}")
        for n, obj in enumerate(items, start=1):
            if not isinstance(obj, dict):
                raise LabelsError(f"{path}: case {n}: expected a JSON object, found {type(obj).__name__}")
            one_line = isinstance(doc, dict) and "cases" not in doc and len(text.strip().splitlines()) == 1
            objs.append(("line 1" if one_line else f"case {n}", obj))
    if not objs:
        raise LabelsError(f"{path}: no pair cases found", "expected doc_1/doc_2/decision objects")

    raw: list[tuple[str, dict[str, Any], dict[str, Any], bool, str]] = []
    for n, (where, obj) in enumerate(objs, start=1):
        if "record_a" in obj or "record_b" in obj:
            a, b, decision_key = obj.get("record_a"), obj.get("record_b"), "expected_duplicate"
        else:
            a, b, decision_key = obj.get("doc_1"), obj.get("doc_2"), "decision"
        if not isinstance(a, dict) or not isinstance(b, dict):
            raise LabelsError(f"{path}: {where}: expected two record objects (doc_1 and doc_2, or record_a "
                              f"and record_b), found keys {', '.join(map(repr, obj)) or 'none'}")
        if decision_key not in obj:
            raise LabelsError(f"{path}: {where}: missing {decision_key!r}",
                              "expected DUPLICATES / NOT_DUPLICATES, true / false")
        value = obj[decision_key]
        if isinstance(value, bool):
            label = value
        else:
            label = bool(_parse_labels([value], path, None, f"{where}: {decision_key}")[0])
        case_id = str(obj.get("id", n)).strip() or str(n)
        raw.append((case_id, a, b, label, str(obj.get("note") or "")))

    seen: dict[str, dict[str, Any]] = {}
    own_ids = True
    for _, a, b, _, _ in raw:
        for rec in (a, b):
            rid = _record_id(rec)
            if rid is None or seen.setdefault(rid, rec) != rec:
                own_ids = False
    for _, a, b, _, _ in raw:
        if _record_id(a) == _record_id(b):
            own_ids = False
    out = []
    for case_id, a, b, label, note in raw:
        ia, ib = (_record_id(a), _record_id(b)) if own_ids else (f"{case_id}:1", f"{case_id}:2")
        out.append(PairCase(case_id=case_id, record_a=a, record_b=b, is_duplicate=label, note=note,
                            id_a=str(ia), id_b=str(ib)))
    return out


# ---------------------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------------------


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if (p + r) else 0.0


def _n_pairs(sizes: Iterable[int] | np.ndarray) -> int:
    s = np.asarray(sizes, dtype=np.int64)
    return int((s * (s - 1) // 2).sum())


def _codes(values: np.ndarray) -> np.ndarray:
    return pd.factorize(pd.Series(values, dtype=object))[0].astype(np.int64)


def _frame(records: pd.DataFrame, clusters: pd.DataFrame, truth: Truth) -> pd.DataFrame:
    """One row per record: integer codes for predicted cluster ``c``, true entity ``e`` and source ``s``."""
    all_uids = _clean_str(records[UNIQUE_ID])
    first = ~pd.Index(all_uids).duplicated()
    uids = pd.Index(all_uids[first])
    n = len(uids)
    cl = clusters[[UNIQUE_ID, "cluster_id"]]
    cl_uids = pd.Index(_clean_str(cl[UNIQUE_ID]))
    if cl_uids.has_duplicates:
        dup = cl_uids[cl_uids.duplicated()][0]
        raise RunFolderError(f"clusters: record {dup!r} appears in more than one row",
                             "every record must be in exactly one cluster")
    ci = cl_uids.get_indexer(uids)
    c = np.where(ci >= 0, _codes(cl["cluster_id"].to_numpy(dtype=object))[np.maximum(ci, 0)]
                 if len(cl) else -1, -1)
    c = _fill_singletons(c)
    ei = truth.entity.index.get_indexer(uids) if len(truth.entity) else np.full(n, -1)
    ent = truth.entity.to_numpy()
    e = _fill_singletons(np.where(ei >= 0, _codes(ent.astype(object))[np.maximum(ei, 0)] if len(ent) else -1,
                                  -1))
    s = _codes(_source_array(records)[first])
    return pd.DataFrame({"uid": uids.to_numpy(), "c": c, "e": e, "s": s})


def _fill_singletons(codes: np.ndarray) -> np.ndarray:
    codes = np.asarray(codes, dtype=np.int64).copy()
    miss = codes < 0
    if miss.any():
        start = codes.max() + 1 if (~miss).any() else 0
        codes[miss] = np.arange(start, start + miss.sum())
    return codes


def _group_sizes(df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    return df.groupby(cols, sort=False).size().to_numpy()


def _pair_counts(df: pd.DataFrame, cross_source: bool) -> dict[str, int]:
    pred = _n_pairs(_group_sizes(df, ["c"]))
    true = _n_pairs(_group_sizes(df, ["e"]))
    tp = _n_pairs(_group_sizes(df, ["c", "e"]))
    if cross_source:
        pred -= _n_pairs(_group_sizes(df, ["c", "s"]))
        true -= _n_pairs(_group_sizes(df, ["e", "s"]))
        tp -= _n_pairs(_group_sizes(df, ["c", "e", "s"]))
    return {"pred_pairs": pred, "true_pairs": true, "tp": tp}


def cluster_metrics(records: pd.DataFrame, clusters: pd.DataFrame, truth: Truth,
                    cross_source: bool = False) -> dict[str, Any]:
    """Pairwise precision, recall and F1 of a clustering.

    Every pair of records in one predicted cluster is a predicted pair; every pair in one true entity is
    a true pair. Counted from group sizes, never by listing pairs.

    Args:
        records: the run's records (``unique_id``, ``source``).
        clusters: ``unique_id`` -> ``cluster_id`` (records missing here count as singletons).
        truth: the resolved labels.
        cross_source: count only pairs whose records come from different sources.

    Returns:
        ``precision``, ``recall``, ``f1``, ``tp``, ``fp``, ``fn``, ``pred_pairs``, ``true_pairs``.

    Examples:
        Records a, b, c in one predicted cluster; truth {a, b}, {c}: 3 predicted pairs, 1 true.

        >>> recs = pd.DataFrame({"unique_id": ["a", "b", "c"]})
        >>> cl = pd.DataFrame({"unique_id": ["a", "b", "c"], "cluster_id": [1, 1, 1]})
        >>> t = truth_from_pairs(recs, pd.DataFrame({"unique_id_l": ["a"], "unique_id_r": ["b"]}))
        >>> m = cluster_metrics(recs, cl, t)
        >>> (m["tp"], m["fp"], m["fn"])
        (1, 2, 0)
    """
    counts = _pair_counts(_frame(records, clusters, truth), cross_source)
    tp, pred, true = counts["tp"], counts["pred_pairs"], counts["true_pairs"]
    p, r = _ratio(tp, pred), _ratio(tp, true)
    return {"precision": p, "recall": r, "f1": _f1(p, r), "tp": tp, "fp": pred - tp, "fn": true - tp,
            "pred_pairs": pred, "true_pairs": true}


def bcubed_metrics(records: pd.DataFrame, clusters: pd.DataFrame, truth: Truth) -> dict[str, float]:
    """B-cubed precision, recall and F1 (Bagga & Baldwin), averaged over records.

    A record's precision is the share of its predicted cluster (itself included) that is in its true
    entity; its recall is the share of its true entity that is in its predicted cluster.

    Args:
        records: the run's records.
        clusters: ``unique_id`` -> ``cluster_id``.
        truth: the resolved labels.

    Returns:
        ``precision``, ``recall``, ``f1``.
    """
    df = _frame(records, clusters, truth)
    n = len(df)
    if n == 0:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    inter = df.groupby(["c", "e"], sort=False).size().rename("n").reset_index()
    csize = df.groupby("c").size()
    esize = df.groupby("e").size()
    nn = inter["n"].to_numpy(dtype=np.float64)
    p = float((nn * nn / csize.reindex(inter["c"]).to_numpy()).sum() / n)
    r = float((nn * nn / esize.reindex(inter["e"]).to_numpy()).sum() / n)
    return {"precision": p, "recall": r, "f1": _f1(p, r)}


def _scored_pairs(pairs: pd.DataFrame, truth: Truth, cross_source: bool) -> tuple[pd.DataFrame, int]:
    """Scored pairs with ``is_true``: deduplicated, orientation-free, known records only."""
    if "match_weight" in pairs.columns:
        w = pd.to_numeric(pairs["match_weight"], errors="coerce").to_numpy(dtype=np.float64)
    elif "match_probability" in pairs.columns:
        pr = np.clip(pd.to_numeric(pairs["match_probability"], errors="coerce").to_numpy(dtype=np.float64),
                     1e-300, 1 - 1e-16)
        w = np.log2(pr / (1 - pr))
    else:
        raise RunFolderError("pairs table has neither match_weight nor match_probability",
                             f"columns are {', '.join(map(str, pairs.columns))}")
    ent = truth.entity
    li = ent.index.get_indexer(_clean_str(pairs["unique_id_l"]))
    ri = ent.index.get_indexer(_clean_str(pairs["unique_id_r"]))
    ok = (li >= 0) & (ri >= 0) & (li != ri) & ~np.isnan(w)
    if cross_source and truth.source is not None:
        src = truth.source.to_numpy(dtype=object)
        ok &= src[np.maximum(li, 0)] != src[np.maximum(ri, 0)]
    n_ignored = int((~ok).sum())
    li, ri, w = li[ok], ri[ok], w[ok]
    a, b = np.minimum(li, ri), np.maximum(li, ri)
    df = pd.DataFrame({"a": a, "b": b, "w": w})
    df = df.sort_values("w", ascending=False, kind="stable").drop_duplicates(["a", "b"])
    e = ent.to_numpy()
    df["is_true"] = e[df["a"].to_numpy()] == e[df["b"].to_numpy()]
    return df, n_ignored


def _true_pair_count(truth: Truth, cross_source: bool) -> int:
    df = pd.DataFrame({"e": truth.entity.to_numpy(),
                       "s": _codes(truth.source.to_numpy(dtype=object)) if truth.source is not None
                       else np.zeros(len(truth.entity), dtype=np.int64)})
    n = _n_pairs(_group_sizes(df, ["e"]))
    if cross_source:
        n -= _n_pairs(_group_sizes(df, ["e", "s"]))
    return n


def _default_thresholds(w: np.ndarray) -> np.ndarray:
    if len(w) == 0:
        return np.array([], dtype=np.float64)
    lo, hi = math.floor(float(w.min())), math.ceil(float(w.max()))
    step = 0.5
    while (hi - lo) / step > 200:
        step *= 2
    return np.arange(lo, hi + step / 2, step, dtype=np.float64)


def edge_metrics(pairs: pd.DataFrame, truth: Truth, cross_source: bool = False,
                 thresholds: Sequence[float] | np.ndarray | None = None,
                 threshold: float | None = None) -> dict[str, Any]:
    """Precision, recall and F1 of the scored edges swept over match-weight thresholds.

    A pair is predicted at threshold ``t`` when its ``match_weight >= t``. Recall's denominator is every
    true pair, including pairs blocking never scored, so ``max_recall`` shows what blocking allowed.
    ``best_threshold`` is the weight maximising F1 over every distinct weight: reported, never applied.

    Args:
        pairs: scored edges (``unique_id_l``, ``unique_id_r``, ``match_weight`` or ``match_probability``).
        truth: the resolved labels.
        cross_source: ignore within-source pairs, both scored and true.
        thresholds: weights for the sweep table; default every 0.5 (or coarser) from min to max weight.
        threshold: a weight to report precision/recall/F1 at (e.g. the run's clustering threshold).

    Returns:
        ``sweep`` (DataFrame: threshold, tp, fp, fn, precision, recall, f1), ``best_threshold``,
        ``best_f1``, ``best_precision``, ``best_recall``, ``true_pairs``, ``n_pairs`` (scored pairs
        used), ``n_pairs_ignored``, ``true_pairs_scored``, ``max_recall`` and, when ``threshold`` is
        given, ``at_threshold`` (a dict with the same fields as a sweep row).
    """
    df, n_ignored = _scored_pairs(pairs, truth, cross_source)
    true_pairs = _true_pair_count(truth, cross_source)
    w = df["w"].to_numpy()  # sorted descending
    hit = df["is_true"].to_numpy()
    cum_tp = np.cumsum(hit)

    def at(ts: np.ndarray) -> pd.DataFrame:
        # number of pairs with weight >= t: w is descending, so search the negated ascending array
        k = np.searchsorted(-w, -np.asarray(ts, dtype=np.float64), side="right")
        tp = np.where(k > 0, cum_tp[np.maximum(k - 1, 0)] if len(cum_tp) else 0, 0).astype(np.int64)
        fp = k - tp
        fn = true_pairs - tp
        prec = np.divide(tp, k, out=np.zeros(len(k)), where=k > 0)
        rec = np.divide(tp, true_pairs, out=np.zeros(len(k)), where=true_pairs > 0) if true_pairs else \
            np.zeros(len(k))
        f1 = np.divide(2 * prec * rec, prec + rec, out=np.zeros(len(k)), where=(prec + rec) > 0)
        return pd.DataFrame({"threshold": np.asarray(ts, dtype=np.float64), "tp": tp, "fp": fp, "fn": fn,
                             "precision": prec, "recall": rec, "f1": f1})

    grid = _default_thresholds(w) if thresholds is None else np.asarray(list(thresholds), dtype=np.float64)
    sweep = at(grid)
    out: dict[str, Any] = {"sweep": sweep, "true_pairs": true_pairs, "n_pairs": int(len(df)),
                           "n_pairs_ignored": n_ignored, "true_pairs_scored": int(hit.sum()),
                           "max_recall": _ratio(int(hit.sum()), true_pairs)}
    if len(w):
        distinct = np.unique(w)[::-1]
        exact = at(distinct)
        best = exact.iloc[int(np.argmax(exact["f1"].to_numpy()))]  # ties: the highest threshold
        out.update({"best_threshold": float(best["threshold"]), "best_f1": float(best["f1"]),
                    "best_precision": float(best["precision"]), "best_recall": float(best["recall"])})
    else:
        out.update({"best_threshold": None, "best_f1": 0.0, "best_precision": 0.0, "best_recall": 0.0})
    if threshold is not None:
        row = at(np.array([threshold], dtype=np.float64)).iloc[0]
        out["at_threshold"] = {k: (float(v) if k in {"threshold", "precision", "recall", "f1"} else int(v))
                               for k, v in row.items()}
    return out


def labelled_pair_metrics(records: pd.DataFrame, clusters: pd.DataFrame, truth: Truth) -> dict[str, Any]:
    """How the clustering treats the explicitly labelled pairs (pair-list and pair-case labels).

    Args:
        records: the run's records.
        clusters: ``unique_id`` -> ``cluster_id``.
        truth: the resolved labels.

    Returns:
        ``n_positive``, ``n_negative``, ``tp`` (positives in one cluster), ``fn``, ``fp`` (negatives in one
        cluster), ``tn`` and ``accuracy``.
    """
    df = _frame(records, clusters, truth)
    c = pd.Series(df["c"].to_numpy(), index=pd.Index(df["uid"].to_numpy()))

    def together(pairs: pd.DataFrame | None) -> tuple[int, int]:
        if pairs is None or not len(pairs):
            return 0, 0
        li = c.index.get_indexer(_clean_str(pairs["unique_id_l"]))
        ri = c.index.get_indexer(_clean_str(pairs["unique_id_r"]))
        ok = (li >= 0) & (ri >= 0)
        cv = c.to_numpy()
        return int(ok.sum()), int((cv[li[ok]] == cv[ri[ok]]).sum())

    n_pos, tp = together(truth.positives)
    n_neg, fp = together(truth.negatives)
    return {"n_positive": n_pos, "n_negative": n_neg, "tp": tp, "fn": n_pos - tp, "fp": fp, "tn": n_neg - fp,
            "accuracy": _ratio(tp + n_neg - fp, n_pos + n_neg)}


# ---------------------------------------------------------------------------------------------------------
# Error pairs
# ---------------------------------------------------------------------------------------------------------


def _pairs_per_group(df: pd.DataFrame, cols: list[str]) -> pd.Series:
    """Number of record pairs within each group of ``cols``, summed to the first column's level."""
    sizes = df.groupby(cols, sort=False).size()
    pairs = sizes * (sizes - 1) // 2
    return pairs.groupby(level=0).sum() if len(cols) > 1 else pairs


_PAIR_BUDGET = 4_000_000  # candidate pairs materialised at once while listing error pairs


def _enumerate_errors(df: pd.DataFrame, outer: str, inner: str, cross_source: bool, limit: int) -> np.ndarray:
    """Pairs of row positions sharing ``outer`` but differing in ``inner``; groups with most errors first.

    With ``outer="c", inner="e"`` these are false positives, with ``outer="e", inner="c"`` false negatives.
    Only the groups needed to reach ``limit`` (known from counts) are visited; small groups are expanded
    together in vectorised chunks, large ones sub-group by sub-group.
    """
    errors = _pairs_per_group(df, [outer]) - _pairs_per_group(df, [outer, inner])
    if cross_source:
        errors = (errors - _pairs_per_group(df, [outer, "s"]).reindex(errors.index, fill_value=0)
                  + _pairs_per_group(df, [outer, inner, "s"]).reindex(errors.index, fill_value=0))
    errors = errors[errors > 0].sort_values(ascending=False, kind="stable")
    if errors.empty or limit <= 0:
        return np.empty((0, 2), dtype=np.int64)
    selected = errors.index[: int(np.searchsorted(errors.cumsum().to_numpy(), limit)) + 1]
    members = df[df[outer].isin(selected)]
    sizes = members.groupby(outer, sort=False).size().reindex(selected).to_numpy()
    member_rows = members.index.to_numpy()  # df has a RangeIndex: labels are row positions
    by_group = {k: member_rows[v] for k, v in members.groupby(outer, sort=False).indices.items()}
    out: list[np.ndarray] = []
    total = 0
    chunk: list[Any] = []
    budget = 0

    def flush() -> None:
        nonlocal total, chunk, budget
        if chunk and total < limit:
            out.append(_errors_small(df, by_group, chunk, outer, inner, cross_source, limit - total))
            total += len(out[-1])
        chunk, budget = [], 0

    for key, size in zip(selected, sizes, strict=True):
        if total >= limit:
            break
        cost = int(size) * int(size)
        if cost > _PAIR_BUDGET:
            flush()
            if total < limit:
                out.append(_errors_large(df.iloc[by_group[key]], inner, cross_source, int(errors[key]),
                                         limit - total))
                total += len(out[-1])
            continue
        if budget + cost > _PAIR_BUDGET:
            flush()
        chunk.append(key)
        budget += cost
    flush()
    return np.concatenate(out)[:limit] if out else np.empty((0, 2), dtype=np.int64)


def _errors_small(df: pd.DataFrame, by_group: dict[Any, np.ndarray], keys: list[Any],
                  outer: str, inner: str, cross_source: bool, limit: int) -> np.ndarray:
    """Error pairs of several small groups at once, in the order of ``keys``."""
    pos = np.concatenate([by_group[k] for k in keys])
    grp = np.repeat(np.arange(len(keys)), [len(by_group[k]) for k in keys])
    m = pd.DataFrame({"g": grp, "p": pos, "i": df[inner].to_numpy()[pos], "s": df["s"].to_numpy()[pos]})
    pairs = m.merge(m, on="g", suffixes=("_l", "_r"))
    keep = (pairs["p_l"] < pairs["p_r"]) & (pairs["i_l"] != pairs["i_r"])
    if cross_source:
        keep &= pairs["s_l"] != pairs["s_r"]
    pairs = pairs[keep].sort_values(["g", "p_l", "p_r"], kind="stable").head(limit)
    return np.stack([pairs["p_l"].to_numpy(), pairs["p_r"].to_numpy()], axis=1).astype(np.int64)


def _errors_large(group: pd.DataFrame, inner: str, cross_source: bool, expected: int, limit: int) -> np.ndarray:
    """Error pairs of one large group, built from its sub-groups (same inner value and source)."""
    sub_cols = [inner, "s"] if cross_source else [inner]
    subs = [(np.atleast_1d(np.asarray(k)), grp.index.to_numpy()) for k, grp in group.groupby(sub_cols, sort=True)]
    inner_vals = np.array([k[0] for k, _ in subs])
    src_vals = np.array([k[1] if len(k) > 1 else 0 for k, _ in subs])
    out: list[np.ndarray] = []
    total = 0
    for a in range(len(subs)):
        if total >= min(limit, expected):
            break
        cand = np.arange(a + 1, len(subs))
        mask = inner_vals[cand] != inner_vals[a]
        if cross_source:
            mask &= src_vals[cand] != src_vals[a]
        for b in cand[mask]:
            left, right = subs[a][1], subs[b][1]
            take = min(limit - total, len(left) * len(right))
            out.append(np.stack([np.repeat(left, len(right))[:take], np.tile(right, len(left))[:take]], axis=1))
            total += take
            if total >= limit:
                break
    if not out:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(out)
    return np.sort(pairs, axis=1)  # lower row position first, as for small groups


def error_pairs(records: pd.DataFrame, clusters: pd.DataFrame, truth: Truth, cross_source: bool = False,
                limit: int = ERROR_PAIRS_LIMIT, pairs: pd.DataFrame | None = None) -> ErrorPairs:
    """List cluster-level false-positive and false-negative pairs, at most ``limit`` of each.

    False positives are pairs in one predicted cluster but different true entities (clusters with the
    most false positives first); false negatives are pairs of one true entity split across clusters.
    Only groups known to hold errors are visited, so the cost follows ``limit``, not the data size.

    Args:
        records: the run's records.
        clusters: ``unique_id`` -> ``cluster_id``.
        truth: the resolved labels.
        cross_source: list only pairs whose records come from different sources.
        limit: the most rows per list.
        pairs: optional scored edges; adds their ``match_weight``/``match_probability`` (NaN when the
            pair was never scored).

    Returns:
        ``ErrorPairs(false_positives, false_negatives)``. False positives have ``unique_id_l``,
        ``unique_id_r``, ``cluster_id``, ``entity_l``, ``entity_r``, ``source_l``, ``source_r``; false
        negatives ``unique_id_l``, ``unique_id_r``, ``entity``, ``cluster_id_l``, ``cluster_id_r``,
        ``source_l``, ``source_r``.
    """
    df = _frame(records, clusters, truth)
    uids = df["uid"].to_numpy(dtype=object)
    cl = clusters[[UNIQUE_ID, "cluster_id"]].copy()
    cl.index = pd.Index(_clean_str(cl[UNIQUE_ID]))
    cluster_of = cl["cluster_id"].reindex(uids).to_numpy(dtype=object)
    ent = truth.entity.reindex(uids).to_numpy(dtype=object)
    src = truth.source.reindex(uids).to_numpy(dtype=object) if truth.source is not None else \
        np.full(len(uids), "", dtype=object)

    fp_idx = _enumerate_errors(df, "c", "e", cross_source, limit)
    fn_idx = _enumerate_errors(df, "e", "c", cross_source, limit)
    fp = pd.DataFrame({"unique_id_l": uids[fp_idx[:, 0]], "unique_id_r": uids[fp_idx[:, 1]],
                       "cluster_id": cluster_of[fp_idx[:, 0]], "entity_l": ent[fp_idx[:, 0]],
                       "entity_r": ent[fp_idx[:, 1]], "source_l": src[fp_idx[:, 0]],
                       "source_r": src[fp_idx[:, 1]]})
    fn = pd.DataFrame({"unique_id_l": uids[fn_idx[:, 0]], "unique_id_r": uids[fn_idx[:, 1]],
                       "entity": ent[fn_idx[:, 0]], "cluster_id_l": cluster_of[fn_idx[:, 0]],
                       "cluster_id_r": cluster_of[fn_idx[:, 1]], "source_l": src[fn_idx[:, 0]],
                       "source_r": src[fn_idx[:, 1]]})
    if pairs is not None:
        fp, fn = _attach_scores(fp, pairs), _attach_scores(fn, pairs)
    return ErrorPairs(fp, fn)


def _attach_scores(df: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in ("match_weight", "match_probability") if c in pairs.columns]
    if not cols or df.empty:
        return df.assign(**{c: np.nan for c in cols})
    l_, r_ = _clean_str(pairs["unique_id_l"]), _clean_str(pairs["unique_id_r"])
    scores = pd.DataFrame({"a": np.where(l_ <= r_, l_, r_), "b": np.where(l_ <= r_, r_, l_)})
    for c in cols:
        scores[c] = pd.to_numeric(pairs[c], errors="coerce").to_numpy()
    scores = scores.sort_values(cols[0], ascending=False, kind="stable").drop_duplicates(["a", "b"])
    l2, r2 = df["unique_id_l"].to_numpy(dtype=object), df["unique_id_r"].to_numpy(dtype=object)
    key = pd.DataFrame({"a": np.where(l2 <= r2, l2, r2), "b": np.where(l2 <= r2, r2, l2)})
    merged = key.merge(scores, on=["a", "b"], how="left")
    out = df.copy()
    for c in cols:
        out[c] = merged[c].to_numpy()
    return out


# ---------------------------------------------------------------------------------------------------------
# Run folders
# ---------------------------------------------------------------------------------------------------------


def _find_key(obj: Any, names: Sequence[str]) -> tuple[str, Any] | None:
    """The first of ``names`` found in a nested JSON object (breadth-first), with its value."""
    queue = [obj]
    while queue:
        cur = queue.pop(0)
        if isinstance(cur, dict):
            for n in names:
                if n in cur and cur[n] is not None and not isinstance(cur[n], (dict, list)):
                    return n, cur[n]
            queue.extend(v for v in cur.values() if isinstance(v, (dict, list)))
        elif isinstance(cur, list):
            queue.extend(v for v in cur if isinstance(v, (dict, list)))
    return None


def _run_threshold(run: dict[str, Any]) -> tuple[float | None, str]:
    """The clustering threshold as a match weight, from run.json if it names one."""
    th = run.get("threshold")
    if isinstance(th, dict) and isinstance(th.get("match_weight"), (int, float)):
        return float(th["match_weight"]), "run.json:threshold.match_weight"
    if isinstance(th, (int, float)) and not isinstance(th, bool):
        return float(th), "run.json:threshold"
    cl = run.get("clustering")
    if isinstance(cl, dict) and isinstance(cl.get("threshold"), (int, float)):
        return float(cl["threshold"]), "run.json:clustering.threshold"
    found = _find_key(run, ("threshold_match_weight", "cluster_threshold_match_weight"))
    if found:
        return float(found[1]), f"run.json:{found[0]}"
    found = _find_key(run, ("threshold_match_probability", "cluster_threshold_match_probability",
                            "cluster_threshold"))
    if found:
        p = min(max(float(found[1]), 1e-300), 1 - 1e-16)
        # rounded so that e.g. p = 0.8 gives exactly weight 2 (0.8 / 0.2 is 4.000000000000001 in floats)
        return round(math.log2(p / (1 - p)), 9), f"run.json:{found[0]}={found[1]}"
    return None, ""


def _read_parquet(run: Path, name: str, required: Sequence[str]) -> pd.DataFrame:
    path = run / name
    if not path.is_file():
        raise RunFolderError(f"{run}: {name} is missing", "run the pipeline first, or give the right run folder")
    df = pd.read_parquet(path)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise RunFolderError(f"{path}: missing column(s) {', '.join(missing)}",
                             f"columns are {', '.join(map(str, df.columns))}")
    return df


def _has_within_source_positive(truth: Truth) -> bool:
    if truth.source is None or not len(truth.entity):
        return False
    df = pd.DataFrame({"e": truth.entity.to_numpy(), "s": truth.source.to_numpy(dtype=object)})
    return bool((df.groupby(["e", "s"], sort=False).size() > 1).any())


def _json_value(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def evaluate_run(run_dir: str | Path, labels_path: str | Path, cross_source: bool | None = None,
                 *, threshold: float | None = None) -> dict[str, Any]:
    """Score a run folder against a labels file and write ``metrics.json`` into the folder.

    Reads ``records.parquet``, ``clusters.parquet``, ``pairs.parquet`` and ``run.json`` (optional).
    Cross-source counting is used when asked, when ``run.json`` says ``"link_type": "link_only"``, or,
    when not given, if the run has two or more sources and the labels pair no two records of one source.

    Args:
        run_dir: the run folder.
        labels_path: the ground-truth file (any layout ``read_labels`` accepts).
        cross_source: force cross-source counting on or off; None decides as above.
        threshold: the match weight for the ``edge.*_at_threshold`` keys; default the clustering
            threshold in ``run.json`` (``threshold.match_weight``, ``clustering.threshold``, or a
            ``threshold_match_weight`` / ``threshold_match_probability`` key), else 0 (probability 0.5).

    Returns:
        The metrics as written: flat ``cluster.*``, ``bcubed.*``, ``edge.*`` keys plus ``edge_sweep``,
        ``labels`` and ``cross_source``.

    Raises:
        RunFolderError: a run file is missing or lacks a column.
        LabelsError: the labels file cannot be read or matches no record.
    """
    run = Path(run_dir)
    if not run.is_dir():
        raise RunFolderError(f"{run}: run folder not found")
    records = _read_parquet(run, "records.parquet", [UNIQUE_ID])
    clusters = _read_parquet(run, "clusters.parquet", [UNIQUE_ID, "cluster_id"])
    pairs = _read_parquet(run, "pairs.parquet", ["unique_id_l", "unique_id_r"])
    run_info: dict[str, Any] = {}
    run_json = run / "run.json"
    if run_json.is_file():
        try:
            run_info = json.loads(run_json.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise RunFolderError(f"{run_json}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc

    truth = read_labels(labels_path, records)
    n_sources = len({s for s in _source_array(records) if s})
    link_type = _find_key(run_info, ("link_type",))
    if cross_source is not None:
        cross, reason = bool(cross_source), "given"
    elif link_type and link_type[1] == "link_only":
        cross, reason = True, "run.json link_type is link_only"
    elif n_sources >= 2 and not _has_within_source_positive(truth):
        cross, reason = True, f"{n_sources} sources and no within-source pair in the labels"
    else:
        cross, reason = False, ("one source" if n_sources < 2 else "the labels pair records of one source")

    if threshold is not None:
        thr, thr_source = float(threshold), "given"
    else:
        thr_run, thr_source = _run_threshold(run_info)
        thr, thr_source = (thr_run, thr_source) if thr_run is not None else (0.0, "default (probability 0.5)")

    cm = cluster_metrics(records, clusters, truth, cross_source=cross)
    bm = bcubed_metrics(records, clusters, truth)
    em = edge_metrics(pairs, truth, cross_source=cross, threshold=thr)
    at = em["at_threshold"]
    metrics: dict[str, Any] = {
        "cross_source": cross,
        "cross_source_reason": reason,
        "n_records": int(len(truth.entity)),
        "n_sources": n_sources,
        "n_clusters": int(clusters["cluster_id"].nunique()),
        "n_entities": int(truth.entity.nunique()),
    }
    metrics.update({f"cluster.{k}": cm[k] for k in ("precision", "recall", "f1", "tp", "fp", "fn",
                                                   "pred_pairs", "true_pairs")})
    metrics.update({f"bcubed.{k}": bm[k] for k in ("precision", "recall", "f1")})
    metrics.update({
        "edge.threshold": thr,
        "edge.threshold_source": thr_source,
        "edge.precision_at_threshold": at["precision"],
        "edge.recall_at_threshold": at["recall"],
        "edge.f1_at_threshold": at["f1"],
        "edge.tp_at_threshold": at["tp"],
        "edge.fp_at_threshold": at["fp"],
        "edge.fn_at_threshold": at["fn"],
        "edge.best_threshold": em["best_threshold"],
        "edge.best_f1": em["best_f1"],
        "edge.best_precision": em["best_precision"],
        "edge.best_recall": em["best_recall"],
        "edge.max_recall": em["max_recall"],
        "edge.n_pairs": em["n_pairs"],
        "edge.n_pairs_ignored": em["n_pairs_ignored"],
        "edge.true_pairs": em["true_pairs"],
        "edge.true_pairs_scored": em["true_pairs_scored"],
    })
    if (truth.positives is not None and len(truth.positives)) or len(truth.negatives):
        lm = labelled_pair_metrics(records, clusters, truth)
        metrics.update({f"labelled.{k}": v for k, v in lm.items()})
    metrics["edge_sweep"] = em["sweep"].to_dict(orient="records")
    metrics["labels"] = truth.info()
    metrics = _json_value(metrics)
    (run / METRICS_FILE).write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return metrics


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def format_metrics(metrics: dict[str, Any]) -> str:
    """A short text table of ``evaluate_run``'s metrics.

    Args:
        metrics: the dict returned by ``evaluate_run`` (or read back from ``metrics.json``).

    Returns:
        Lines such as ``cluster  precision 0.9912  recall 0.9870  f1 0.9891  (tp 2200, fp 20, fn 29)``.
    """
    g = metrics.get
    labels = g("labels") or {}
    lines = [
        f"labels   {labels.get('path', '?')} ({labels.get('format', '?')}), "
        f"{labels.get('n_unresolved', 0)} unresolved ids",
        f"pairs    {'cross-source only' if g('cross_source') else 'all'} ({g('cross_source_reason', '')})",
        f"cluster  precision {_fmt(g('cluster.precision'))}  recall {_fmt(g('cluster.recall'))}  "
        f"f1 {_fmt(g('cluster.f1'))}  (tp {_fmt(g('cluster.tp'))}, fp {_fmt(g('cluster.fp'))}, "
        f"fn {_fmt(g('cluster.fn'))})",
        f"bcubed   precision {_fmt(g('bcubed.precision'))}  recall {_fmt(g('bcubed.recall'))}  "
        f"f1 {_fmt(g('bcubed.f1'))}",
        f"edge     precision {_fmt(g('edge.precision_at_threshold'))}  recall "
        f"{_fmt(g('edge.recall_at_threshold'))}  f1 {_fmt(g('edge.f1_at_threshold'))}  "
        f"at weight >= {_fmt(g('edge.threshold'), 2)}",
        f"best     f1 {_fmt(g('edge.best_f1'))} at weight >= {_fmt(g('edge.best_threshold'), 2)} "
        f"(not applied); blocking recall {_fmt(g('edge.max_recall'))}",
    ]
    if "labelled.accuracy" in metrics:
        lines.append(f"labelled accuracy {_fmt(g('labelled.accuracy'))}  (tp {g('labelled.tp')}, "
                     f"fn {g('labelled.fn')}, fp {g('labelled.fp')}, tn {g('labelled.tn')})")
    lines.extend(f"warning  {w}" for w in labels.get("warnings", []))
    return "\n".join(lines)
