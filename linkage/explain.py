"""Waterfalls: how each comparison moves a pair's match weight from the prior to the decision.

A waterfall starts at the prior (the match weight of two random records, ``log2(λ / (1 - λ))``),
adds each comparison's match weight (term-frequency adjustment included) and ends at the pair's
match weight, its probability and the decision:

* ``duplicate``: at or above the review band (so also above the threshold),
* ``review``: inside the review band ``[threshold + below, threshold + above)``,
* ``not duplicate``: below the review band.

A pair the run scored is explained from ``pairs.parquet`` (the numbers the run decided with). Any
other pair of the run's records (blocking never generated it) is scored now with Splink from
``model.json`` over the run's model frame, so both paths give the same numbers.

Used by ``linkage explain`` (one pair, or every decision as CSV / JSON Lines) and by the report.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from .errors import LinkageError
from .runfolder import RunFolder

DEFAULT_REVIEW_BAND: tuple[float, float] = (-4.0, 4.0)
MAX_TEXT = 160          # characters of a value shown in a waterfall
MAX_LIST_ITEMS = 12     # items of a list value (abstract words, URLs) shown in a waterfall

# A comparison's columns that only restate another one of its columns: shown only when the other is empty.
DERIVED_COLUMNS: dict[str, str] = {
    "title_key": "title_norm", "title_tokens": "title_norm", "venue_key": "venue_norm",
    "first_author": "author_surnames", "author_initials": "author_surnames", "author_count": "author_surnames",
    "year_norm": "date_norm",
    "abstract_norm": "abstract_tokens",
}
DECISIONS = ("duplicate", "review", "not duplicate")


# ---------------------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------------------


def is_missing(v: Any) -> bool:
    """True for None, NaN, pandas NA and empty strings/lists."""
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    if isinstance(v, str):
        return v.strip() == ""
    if isinstance(v, (list, tuple, np.ndarray)):
        return len(v) == 0
    return False


def plain(v: Any) -> Any:
    """A value as plain Python (numpy scalars and arrays, NaN/NA -> None, dates -> ISO text)."""
    if isinstance(v, np.ndarray):
        return [plain(x) for x in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if is_missing(v) and not isinstance(v, (list, tuple)):
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, (dt.date, dt.datetime, pd.Timestamp)):
        return v.isoformat()[:10]
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def truncate(text: str | None, limit: int = MAX_TEXT) -> str | None:
    """``text`` cut to ``limit`` characters with an ellipsis (None stays None)."""
    if text is None:
        return None
    text = str(text)
    return text if len(text) <= limit else text[: max(limit - 1, 1)].rstrip() + "…"


def format_value(v: Any, limit: int = MAX_TEXT) -> str | None:
    """One value as display text: lists joined by ``", "`` (at most ``MAX_LIST_ITEMS``), long text cut."""
    if v is None:
        return None
    if isinstance(v, str):
        return truncate(v, limit) if v.strip() else None
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        items: list[str] = []
        n = 0
        for x in v:
            if x is None or (isinstance(x, float) and math.isnan(x)):
                continue
            x = x if isinstance(x, str) else str(plain(x))
            if x == "":
                continue
            n += 1
            if len(items) < MAX_LIST_ITEMS:
                items.append(x)
        if not items:
            return None
        more = n - len(items)
        return truncate(", ".join(items) + (f", … (+{more})" if more > 0 else ""), limit)
    v = plain(v)
    if v is None:
        return None
    if isinstance(v, bool):
        return "yes" if v else "no"
    return truncate(str(v), limit)


# ---------------------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------------------

_COLUMN_RE = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)_l"|\bl\.([A-Za-z_][A-Za-z0-9_]*)')


@dataclass(frozen=True)
class Comparison:
    """One comparison of the model: its name, the record columns it reads, and its levels."""

    name: str
    columns: tuple[str, ...]
    labels: dict[int, str]      # gamma -> level label (-1 = missing)
    weights: dict[int, float]   # gamma -> match weight in bits (without term-frequency adjustment)
    m: dict[int, float | None] = field(default_factory=dict)
    u: dict[int, float | None] = field(default_factory=dict)
    sql: dict[int, str] = field(default_factory=dict)
    tf_column: str | None = None                           # the column of its term-frequency adjustment, if any
    tf_levels: dict[int, str] = field(default_factory=dict)  # gamma -> tf column, for the levels that adjust


def comparison_columns(comp: Mapping[str, Any]) -> tuple[str, ...]:
    """The record columns a comparison reads, in order of first use in its levels' SQL."""
    cols: list[str] = []
    for lv in comp.get("comparison_levels", []):
        for a, b in _COLUMN_RE.findall(str(lv.get("sql_condition") or "")):
            c = a or b
            if c not in cols:
                cols.append(c)
    return tuple(cols)


def _weight(m: Any, u: Any) -> float:
    try:
        m, u = float(m), float(u)
    except (TypeError, ValueError):
        return 0.0
    if not (m > 0 and u > 0) or math.isnan(m) or math.isnan(u):
        return 0.0
    return math.log2(m / u)


def model_comparisons(model: Mapping[str, Any]) -> list[Comparison]:
    """The model's comparisons with gamma -> label/weight tables (gamma as in ``pairs.parquet``)."""
    out = []
    for comp in model.get("comparisons", []):
        levels = comp.get("comparison_levels", [])
        non_null = [lv for lv in levels if not lv.get("is_null_level")]
        labels, weights, ms, us, sql, tf_levels = {}, {}, {}, {}, {}, {}
        tf = None
        for i, lv in enumerate(non_null):
            g = len(non_null) - 1 - i
            labels[g] = lv.get("label_for_charts") or lv.get("sql_condition") or f"level {g}"
            weights[g] = _weight(lv.get("m_probability"), lv.get("u_probability"))
            ms[g], us[g] = lv.get("m_probability"), lv.get("u_probability")
            sql[g] = str(lv.get("sql_condition") or "")
            if lv.get("tf_adjustment_column"):
                tf_levels[g] = str(lv["tf_adjustment_column"])
                tf = tf or tf_levels[g]
        null = next((lv for lv in levels if lv.get("is_null_level")), None)
        labels[-1] = (null.get("label_for_charts") if null else None) or "missing"
        weights[-1] = 0.0
        sql[-1] = str(null.get("sql_condition") or "") if null else ""
        out.append(Comparison(name=comp.get("output_column_name") or comp.get("comparison_description") or "?",
                              columns=comparison_columns(comp), labels=labels, weights=weights, m=ms, u=us,
                              sql=sql, tf_column=tf, tf_levels=tf_levels))
    return out


def prior_weight(model: Mapping[str, Any]) -> float:
    """The starting match weight: ``log2(λ / (1 - λ))`` for λ = probability_two_random_records_match."""
    lam = float(model.get("probability_two_random_records_match") or 1e-4)
    lam = min(max(lam, 1e-300), 1 - 1e-16)
    return math.log2(lam / (1 - lam))


def probability(weight: float) -> float:
    """Match probability of a match weight (bits)."""
    if weight > 1000:
        return 1.0
    if weight < -1000:
        return 0.0
    return 1.0 / (1.0 + 2.0 ** (-weight))


def decide(weight: float, threshold: float, band: tuple[float, float]) -> str:
    """``duplicate``, ``review`` or ``not duplicate`` for a pair of this match weight."""
    lo, hi = threshold + band[0], threshold + band[1]
    if lo <= weight < hi:
        return "review"
    return "duplicate" if weight >= threshold else "not duplicate"


def combine_values(texts: Mapping[str, str | None], columns: Sequence[str], limit: int = MAX_TEXT) -> str | None:
    """What a comparison saw of one record, from its columns' display texts (``format_value`` of each):
    derived columns only when their base column is empty, a page range as ``first–last``."""
    cols = list(columns)
    if texts.get("page_first") and texts.get("page_last") and "page_last" in cols:
        texts = {**texts, "page_first": f"{texts['page_first']}–{texts['page_last']}"}
        cols.remove("page_last")
    parts: list[str] = []
    for c in cols:
        base = DERIVED_COLUMNS.get(c)
        if base in columns and texts.get(base):
            continue
        v = texts.get(c)
        if v and not any(v in p for p in parts):
            parts.append(v)
    return truncate(" · ".join(parts), limit) if parts else None


def display_value(rec: Mapping[str, Any], columns: Sequence[str], limit: int = MAX_TEXT) -> str | None:
    """What a comparison saw of one record: its columns' normalised values (derived ones only when needed)."""
    return combine_values({c: format_value(rec.get(c), limit) for c in columns}, columns, limit)


# ---------------------------------------------------------------------------------------------------------
# A run folder
# ---------------------------------------------------------------------------------------------------------


def review_band(info: Mapping[str, Any]) -> tuple[float, float]:
    """The review band ``(below, above)`` in bits around the threshold, from the run's settings file."""
    path = (info.get("settings") or {}).get("path")
    if path:
        try:
            from .settings import read_settings_file

            data = read_settings_file(Path(path))
            band = ((data or {}).get("threshold") or {}).get("review_band")
            if isinstance(band, (list, tuple)) and len(band) == 2:
                lo, hi = float(band[0]), float(band[1])
                if lo <= hi:
                    return lo, hi
        except Exception:  # a moved or edited settings file: fall back to the default band
            pass
    return DEFAULT_REVIEW_BAND


def _raw_column(c: str) -> str:
    from .normalise import NORMALISED_COLUMNS

    return f"raw_{c}" if c in NORMALISED_COLUMNS or c == "unique_id" else c


def raw_field(records: pd.DataFrame, info: dict[str, Any], field: str) -> pd.Series:
    """Each record's raw value of a canonical field (via each source's column mapping in run.json)."""
    out = pd.Series([None] * len(records), index=records.index, dtype=object)
    src = records["source"].astype(str)
    mapped = False
    for inp in info.get("inputs") or []:
        col = (inp.get("column_mapping") or {}).get(field)
        if not col:
            continue
        col = _raw_column(col)
        if col not in records.columns:
            continue
        mask = (src == str(inp.get("source"))).to_numpy()
        out[mask] = records.loc[mask, col].to_numpy(dtype=object)
        mapped = True
    if not mapped and field in records.columns:
        out[:] = records[field].to_numpy(dtype=object)
    return out


class RunData(RunFolder):
    """A run folder's tables (``linkage.runfolder``), with the lookups waterfalls need."""

    @cached_property
    def comparisons(self) -> list[Comparison]:
        return model_comparisons(self.model)

    @cached_property
    def threshold(self) -> float:
        th = self.info.get("threshold") or {}
        if th.get("match_weight") is not None:
            return float(th["match_weight"])
        return float((self.info.get("clustering") or {}).get("threshold", 0.0))

    @cached_property
    def band(self) -> tuple[float, float]:
        return review_band(self.info)

    @cached_property
    def prior_weight(self) -> float:
        return prior_weight(self.model)

    @cached_property
    def record_index(self) -> pd.Index:
        return pd.Index(self.records["unique_id"].astype(str))

    @cached_property
    def titles(self) -> dict[str, Any]:
        """unique_id -> the record's title as read (through each source's column mapping)."""
        return dict(zip(self.records["unique_id"].astype(str), raw_field(self.records, self.info, "title"),
                        strict=True))

    @cached_property
    def cluster_of(self) -> dict[str, str]:
        c = self.clusters
        return dict(zip(c["unique_id"].astype(str), c["cluster_id"].astype(str), strict=True))

    def record(self, uid: str) -> dict[str, Any]:
        """One record as a dict (raises ``LinkageError`` for an unknown id)."""
        pos = self.record_index.get_indexer([str(uid)])[0]
        if pos < 0:
            raise LinkageError(f"no record with unique_id {uid!r} in {self.out}",
                               "ids look like 'source:source_id', e.g. " + self._example_id())
        return self.records.iloc[int(pos)].to_dict()

    def _example_id(self) -> str:
        return repr(str(self.records["unique_id"].iloc[0])) if len(self.records) else "'dblp:123'"

    def decision_lower_bound(self) -> float:
        """Pairs at or above this weight are decisions (linked, or in the review band)."""
        return min(self.threshold, self.threshold + self.band[0])

    def decisions(self) -> pd.DataFrame:
        """Every linked pair and every pair in the review band, highest weight first."""
        p = self.pairs
        d = p[p["match_weight"].to_numpy(dtype=float) >= self.decision_lower_bound()]
        return d.sort_values(["match_weight", "unique_id_l", "unique_id_r"], ascending=[False, True, True],
                             kind="mergesort").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------------------
# Waterfalls
# ---------------------------------------------------------------------------------------------------------


@dataclass
class WaterfallRow:
    """One comparison's step: the values it compared, the level they fell in, its weight and the total."""

    comparison: str
    value_l: str | None
    value_r: str | None
    level: str
    gamma: int
    weight: float
    total: float


@dataclass
class Waterfall:
    """A pair's evidence from the prior to the decision."""

    id_l: str
    id_r: str
    title_l: str | None
    title_r: str | None
    prior: float                 # λ
    prior_weight: float          # log2(λ / (1 - λ))
    rows: list[WaterfallRow]
    match_weight: float
    match_probability: float
    threshold: float
    band: tuple[float, float]
    decision: str
    linked: bool
    scored: str                  # "blocking" (scored by the run) or "now" (blocking never generated it)
    same_cluster: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["band"] = list(self.band)
        return d


def _row_get(row: Mapping[str, Any], key: str, default: Any = None) -> Any:
    v = row.get(key, default)
    return default if v is None or (isinstance(v, float) and math.isnan(v)) else v


def waterfall(run: RunData, pair: Mapping[str, Any], left: str | None = None, scored: str = "blocking") -> Waterfall:
    """The waterfall of one row of ``pairs.parquet`` (or of the same layout), ``left`` shown on the left."""
    a, b = str(pair["unique_id_l"]), str(pair["unique_id_r"])
    if left is not None and str(left) == b:
        a, b = b, a
    ra, rb = run.record(a), run.record(b)
    total = run.prior_weight
    rows = []
    for c in run.comparisons:
        gamma = int(_row_get(pair, f"{c.name}_gamma", -1))
        w = float(_row_get(pair, f"{c.name}_weight", c.weights.get(gamma, 0.0)))
        total += w
        rows.append(WaterfallRow(comparison=c.name, value_l=display_value(ra, c.columns),
                                 value_r=display_value(rb, c.columns),
                                 level=str(_row_get(pair, f"{c.name}_level", c.labels.get(gamma, "?"))),
                                 gamma=gamma, weight=w, total=total))
    mw = float(pair["match_weight"])
    cl = run.cluster_of
    same = (cl.get(a) == cl.get(b)) if a in cl and b in cl else None
    return Waterfall(id_l=a, id_r=b, title_l=format_value(run.titles.get(a)), title_r=format_value(run.titles.get(b)),
                     prior=float(run.model.get("probability_two_random_records_match") or 0.0),
                     prior_weight=run.prior_weight, rows=rows, match_weight=mw,
                     match_probability=float(_row_get(pair, "match_probability", probability(mw))),
                     threshold=run.threshold, band=run.band, decision=decide(mw, run.threshold, run.band),
                     linked=mw >= run.threshold, scored=scored, same_cluster=same)


def find_pair(run: RunData, a: str, b: str) -> dict[str, Any] | None:
    """The scored pair of records ``a`` and ``b`` (either order), or None if blocking never generated it."""
    p = run.pairs
    lo, hi = (a, b) if a <= b else (b, a)
    hit = p[((p["unique_id_l"] == lo) & (p["unique_id_r"] == hi)) | ((p["unique_id_l"] == hi) & (p["unique_id_r"] == lo))]
    return hit.iloc[0].to_dict() if len(hit) else None


def explain_pair(run_dir: str | Path | RunData, id_a: str, id_b: str, rescore: bool = False) -> Waterfall:
    """The waterfall of records ``id_a`` (left) and ``id_b`` (right) of a run: any two of its records.

    A pair the run scored is read from ``pairs.parquet``; any other pair (or every pair with
    ``rescore=True``) is scored now with Splink from ``model.json``.

    Raises:
        LinkageError: an id is not a record of the run, or both ids are the same record.
    """
    run = run_dir if isinstance(run_dir, RunData) else RunData(run_dir)
    id_a, id_b = str(id_a), str(id_b)
    run.record(id_a)
    run.record(id_b)
    if id_a == id_b:
        raise LinkageError(f"{id_a!r} given twice", "name two different records")
    pair = None if rescore else find_pair(run, id_a, id_b)
    if pair is not None:
        return waterfall(run, pair, left=id_a, scored="blocking")
    scored = score_pairs_now(run, [(id_a, id_b)])
    return waterfall(run, scored.iloc[0].to_dict(), left=id_a, scored="now")


# ---------------------------------------------------------------------------------------------------------
# Scoring pairs blocking never generated
# ---------------------------------------------------------------------------------------------------------


def model_linker(model: Mapping[str, Any], frame: pd.DataFrame, name: str = "__linkage_records"):
    """A Splink ``Linker`` of a saved model over ``frame`` (a model frame), and its DuckDB API.

    The model was validated when it was trained, so Splink's (slow) settings validation is skipped.
    """
    import logging

    import pyarrow as pa
    from splink import DuckDBAPI, Linker

    from .scoring import arrow_schema

    _check_model_sql(model)
    db_api = DuckDBAPI()
    sdf = db_api.register(pa.Table.from_pandas(frame, schema=arrow_schema(), preserve_index=False),
                          dataset_display_name=name)
    linker = Linker(sdf, dict(model), log_level=logging.ERROR, validate_settings=False)
    return linker, db_api


def _check_model_sql(model: dict) -> None:
    """A run folder may come from someone else: its model.json's SQL must pass the same restrictions
    as a settings file's before DuckDB runs it (no file, network or table access)."""
    from .errors import LinkageError
    from .sqlguard import check_expression

    for comp in model.get("comparisons", []):
        for lv in comp.get("comparison_levels", []):
            cond = lv.get("sql_condition")
            if not isinstance(cond, str) or cond.strip().upper() == "ELSE":
                continue
            problem = check_expression(cond, None, notation="suffix")
            if problem is not None:
                raise LinkageError(f"model.json: comparison {comp.get('output_column_name')!r}: refused SQL "
                                   f"({problem})", "only explain runs whose model you trust, or rerun linkage run")


class _Scorer:
    """A Splink linker over a run's model frame, with term-frequency tables, built once per run."""

    def __init__(self, run: RunData):
        from .scoring import model_frame

        self.frame = model_frame(run.records)
        self.linker, self.db_api = model_linker(run.model, self.frame)
        for col in sorted({c.tf_column for c in run.comparisons if c.tf_column}):
            self.linker.table_management.compute_tf_table(col)
        self.by_id = self.frame.set_index("unique_id", drop=False)
        self.n = 0

    def table(self, frame: pd.DataFrame):
        import pyarrow as pa

        from .scoring import arrow_schema

        self.n += 1
        return self.db_api.register(pa.Table.from_pandas(frame, schema=arrow_schema(), preserve_index=False),
                                    dataset_display_name=f"__linkage_explain_{self.n}")


def score_pairs_now(run: RunData, id_pairs: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Score record pairs with Splink from the run's model (no blocking), in ``pairs.parquet`` layout.

    One pair goes through ``linker.inference.score_pair``; several go through one
    ``predict_between`` whose only blocking rule pairs row *k* on the left with row *k* on the right.
    """
    from .scoring import tidy_pairs

    if not id_pairs:
        return tidy_pairs(pd.DataFrame({"unique_id_l": [], "unique_id_r": [], "match_weight": [],
                                        "match_probability": []}), run.model)
    scorer: _Scorer = run.__dict__.get("_scorer") or _Scorer(run)
    run.__dict__["_scorer"] = scorer
    lefts = scorer.by_id.loc[[str(a) for a, _ in id_pairs]].reset_index(drop=True)
    rights = scorer.by_id.loc[[str(b) for _, b in id_pairs]].reset_index(drop=True)
    if len(id_pairs) == 1:
        df = scorer.linker.inference.score_pair(scorer.table(lefts), scorer.table(rights)).as_pandas_dataframe()
    else:
        keys = [str(i) for i in range(len(id_pairs))]
        lefts["source"], rights["source"] = keys, keys
        lefts["unique_id"] = [f"{k}:l" for k in keys]
        rights["unique_id"] = [f"{k}:r" for k in keys]
        df = scorer.linker.inference.predict_between(
            scorer.table(lefts), scorer.table(rights),
            blocking_rules_to_generate_predictions=["l.source = r.source"]).as_pandas_dataframe()
        df = df.drop_duplicates("source_l")
        k = df["source_l"].astype(int).to_numpy()
        df["unique_id_l"] = [str(id_pairs[i][0]) for i in k]
        df["unique_id_r"] = [str(id_pairs[i][1]) for i in k]
        df["source_l"] = scorer.by_id.loc[df["unique_id_l"], "source"].to_numpy()
        df["source_r"] = scorer.by_id.loc[df["unique_id_r"], "source"].to_numpy()
    return tidy_pairs(df, run.model)


# ---------------------------------------------------------------------------------------------------------
# Bulk export
# ---------------------------------------------------------------------------------------------------------


def decision_rows(run: RunData) -> Iterable[dict[str, Any]]:
    """One flat row per decision (linked or review band): ids, titles, totals, each comparison's evidence."""
    d = run.decisions()
    if d.empty:
        return
    titles = run.titles
    cl = run.cluster_of
    t, band = run.threshold, run.band
    names = [c.name for c in run.comparisons]
    cols = {c: d[c].tolist() for c in d.columns}
    for i in range(len(d)):
        a, b = cols["unique_id_l"][i], cols["unique_id_r"][i]
        w = float(cols["match_weight"][i])
        row: dict[str, Any] = {
            "unique_id_l": a, "unique_id_r": b,
            "source_l": cols["source_l"][i] if "source_l" in cols else None,
            "source_r": cols["source_r"][i] if "source_r" in cols else None,
            "title_l": format_value(titles.get(a), 300), "title_r": format_value(titles.get(b), 300),
            "match_weight": round(w, 4), "match_probability": round(float(cols["match_probability"][i]), 6),
            "decision": decide(w, t, band), "linked": w >= t,
            "same_cluster": (cl.get(a) == cl.get(b)) if a in cl and b in cl else None,
            "prior_weight": round(run.prior_weight, 4),
        }
        for n in names:
            row[f"{n}_level"] = cols.get(f"{n}_level", [None] * len(d))[i]
            wv = cols.get(f"{n}_weight", [0.0] * len(d))[i]
            row[f"{n}_weight"] = None if wv is None else round(float(wv), 4)
        yield row


def write_decisions(run_dir: str | Path | RunData, fmt: str, stream: IO[str]) -> int:
    """Write every decision (linked + review band) as ``csv`` or ``jsonl`` to ``stream``; returns the row count."""
    run = run_dir if isinstance(run_dir, RunData) else RunData(run_dir)
    fmt = fmt.lower()
    if fmt not in ("csv", "jsonl"):
        raise LinkageError(f"unknown format {fmt!r}", "use csv or jsonl")
    n = 0
    header = ["unique_id_l", "unique_id_r", "source_l", "source_r", "title_l", "title_r", "match_weight",
              "match_probability", "decision", "linked", "same_cluster", "prior_weight"]
    for c in run.comparisons:
        header += [f"{c.name}_level", f"{c.name}_weight"]
    writer = csv.DictWriter(stream, fieldnames=header, lineterminator="\n") if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    for row in decision_rows(run):
        if writer is not None:
            writer.writerow(row)
        else:
            stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        n += 1
    return n
