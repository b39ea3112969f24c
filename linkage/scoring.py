"""Scoring: build the Splink linker for a backend, predict every blocked pair, keep per-comparison evidence.

``pairs`` carries, for each comparison NAME, ``NAME_level`` (the level's label), ``NAME_gamma``
(its index, -1 for null) and ``NAME_weight`` (its match weight in bits, term-frequency
adjustment included).
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pandas as pd

from .normalise import NORMALISED_COLUMNS

MODEL_COLUMNS = ["unique_id", "source", *NORMALISED_COLUMNS]


def _as_list(v) -> list | None:
    """A list cell as a Python list; None for missing (None, NaN, pd.NA from Arrow-backed columns)."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    # a list is taken as it is (nothing changes it), not copied: the records' lists are shared, not doubled
    return v if type(v) is list else list(v)


def model_frame(records: pd.DataFrame) -> pd.DataFrame:
    """The columns Splink sees: ids, source and normalised fields only (never raw ids or labels)."""
    df = records[MODEL_COLUMNS].copy()
    for c, t in NORMALISED_COLUMNS.items():
        if t.endswith("[]") and not isinstance(df[c].dtype, pd.ArrowDtype):
            df[c] = pd.Series([_as_list(v) for v in df[c].tolist()], index=df.index, dtype=object)
    return df


def make_duckdb_linker(model_df: pd.DataFrame, settings, name: str = "records"):
    """A DuckDB-backed linker (kept for callers that do not pick a backend)."""
    from .backends import DuckDBBackend

    return DuckDBBackend().make_linker(model_df, settings, name), None, None


def arrow_schema():
    import pyarrow as pa

    types = {"VARCHAR": pa.string(), "VARCHAR[]": pa.list_(pa.string()), "BOOLEAN": pa.bool_(),
             "INTEGER": pa.int64(), "DATE": pa.date32()}
    fields = [pa.field("unique_id", pa.string()), pa.field("source", pa.string())]
    fields += [pa.field(c, types[t]) for c, t in NORMALISED_COLUMNS.items()]
    return pa.schema(fields)


def level_labels(model: dict) -> dict[str, dict[int, str]]:
    """comparison name -> gamma index -> level label."""
    out = {}
    for comp in model["comparisons"]:
        name = comp["output_column_name"]
        labels = {}
        non_null = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        for i, lv in enumerate(non_null):
            labels[len(non_null) - 1 - i] = lv.get("label_for_charts") or lv["sql_condition"]
        labels[-1] = next((lv.get("label_for_charts") or "null" for lv in comp["comparison_levels"]
                           if lv.get("is_null_level")), "null")
        out[name] = labels
    return out


def predict_pairs(linker, model: dict, threshold_match_weight: float | None = None) -> pd.DataFrame:
    """Every blocked pair with its total and per-comparison evidence."""
    kw = {} if threshold_match_weight is None else {"threshold_match_weight": threshold_match_weight}
    pred = linker.inference.predict(**kw)
    return tidy_pairs(evidence_frame(linker, pred, model), model)


def _evidence_columns(pred, model: dict) -> str:
    """The SELECT list of the pairs table's columns among Splink's prediction columns."""
    wanted = ["unique_id_l", "unique_id_r", "source_l", "source_r", "match_weight", "match_probability"]
    for c in model["comparisons"]:
        n = c["output_column_name"]
        wanted += [f"gamma_{n}", f"mw_{n}", f"mw_tf_adj_{n}"]
    available = {c.unquote().name for c in pred.columns}
    return ", ".join(f'"{c}"' for c in wanted if c in available)


def evidence_frame(linker, pred, model: dict) -> pd.DataFrame:
    """Only the columns the pairs table keeps (ids, sources, weights, per-comparison gamma and weights):
    Splink's predictions also carry both records' compared values, which would multiply memory."""
    try:
        rel = linker._db_api._execute_sql_against_backend(
            f"select {_evidence_columns(pred, model)} from {pred.physical_name}")
        return rel.df()
    except Exception:  # a backend without this path: take everything
        return pred.as_pandas_dataframe()


def _level_column(gammas: np.ndarray, labels: dict[int, str]) -> pd.Categorical:
    """Each gamma's level label, as a categorical over the comparison's labels (one byte a pair, not a
    string each: at millions of pairs the labels were most of the table). Unknown gammas are missing."""
    cats = list(dict.fromkeys(labels[k] for k in sorted(labels)))
    lo = min(min(labels), -1)
    lookup = np.full(max(labels) - lo + 1, -1, dtype=np.int16)
    for k, lab in labels.items():
        lookup[k - lo] = cats.index(lab)
    idx = gammas.astype(np.int16) - lo
    inside = (idx >= 0) & (idx < len(lookup))
    codes = np.where(inside, lookup[np.clip(idx, 0, len(lookup) - 1)], -1).astype(np.int8)
    return pd.Categorical.from_codes(codes, categories=cats)


def tidy_pairs(df: pd.DataFrame, model: dict, sort: bool = True) -> pd.DataFrame:
    """The pairs table from Splink's predictions: canonical id order, per-comparison gamma (int8),
    level label (categorical) and weight, sorted by the pair's ids.

    ``sort=False``: ``df`` already comes in the order of (least id, greatest id), as
    ``predict_pairs_chunked`` selects it; sorting each chunk again was a fifth of its time."""
    names = [c["output_column_name"] for c in model["comparisons"]]
    labels = level_labels(model)
    out = pd.DataFrame({
        "unique_id_l": df["unique_id_l"].astype(str), "unique_id_r": df["unique_id_r"].astype(str),
        "source_l": df["source_l"].astype(str) if "source_l" in df else None,
        "source_r": df["source_r"].astype(str) if "source_r" in df else None,
        "match_weight": df["match_weight"].astype(float), "match_probability": df["match_probability"].astype(float),
    })
    # canonical order: unique_id_l < unique_id_r
    swap = out["unique_id_l"] > out["unique_id_r"]
    if swap.any():
        for a, b in (("unique_id_l", "unique_id_r"), ("source_l", "source_r")):
            la, lb = out.loc[swap, a].copy(), out.loc[swap, b].copy()
            out.loc[swap, a], out.loc[swap, b] = lb, la
    for n in names:
        g = df.get(f"gamma_{n}")
        gam = g.to_numpy(dtype=np.int8) if g is not None else np.full(len(df), -1, dtype=np.int8)
        out[f"{n}_gamma"] = gam
        out[f"{n}_level"] = _level_column(gam, labels[n])
        w = df.get(f"mw_{n}")
        if w is None:
            w = pd.Series(0.0, index=df.index)
        tf = df.get(f"mw_tf_adj_{n}")
        total = w.astype(float) + (tf.astype(float) if tf is not None else 0.0)
        out[f"{n}_weight"] = total.round(6)
    if sort:
        out = out.sort_values(["unique_id_l", "unique_id_r"], kind="mergesort").reset_index(drop=True)
    return out


def choose_threshold(pairs: pd.DataFrame, threshold: dict) -> tuple[float, dict]:
    """The decision threshold in bits, and how it was chosen. Labels are never read here.

    ``match_weight: auto`` takes the larger of two weights read off the model's own posterior
    p(w) = 1 / (1 + 2^-w): the weight at which a single pair's posterior reaches
    ``min_pair_probability`` (default 0.97, i.e. 5 bits: EM posteriors are over-confident because
    fields are not independent, so a pair needs clear evidence on its own), and the lowest weight at
    which the linked pairs' expected precision reaches ``target_precision``. The expected precision
    and recall (of the scored pairs) the model believes it has at that threshold are reported.
    """
    import numpy as np

    mw = threshold.get("match_weight", "auto")
    target = float(threshold.get("target_precision", 0.99))
    p_min = float(threshold.get("min_pair_probability", 0.97))
    info: dict = {"mode": "fixed" if mw != "auto" else "auto", "target_precision": target,
                  "min_pair_probability": p_min}
    w = pairs["match_weight"].to_numpy(dtype=float) if len(pairs) else np.array([])
    floor = float(np.log2(p_min / (1.0 - p_min)))
    if mw != "auto":
        t = float(mw)
    elif len(w) == 0:
        t = floor
    else:
        order = np.sort(w)[::-1]
        p = 1.0 / (1.0 + np.power(2.0, -order))
        cum_prec = np.cumsum(p) / np.arange(1, len(p) + 1)
        ok = np.nonzero(cum_prec >= target)[0]
        if len(ok) == len(order):      # every scored pair keeps the expected precision: no constraint
            t_prec = float("-inf")
        elif len(ok) == 0:             # not even the best pair does: link nothing
            t_prec = float(order[0]) + 1e-6
        else:                          # between the last pair that keeps it and the first that breaks it
            k = ok[-1]
            t_prec = float(order[k] + order[k + 1]) / 2.0
        t = max(t_prec, floor)
        info["weight_for_target_precision"] = round(t_prec, 4) if t_prec != float("-inf") else None
        info["weight_for_min_pair_probability"] = round(floor, 4)
    if len(w):
        sel = w >= t
        p_all = 1.0 / (1.0 + np.power(2.0, -w))
        exp_tp = float(p_all[sel].sum())
        info.update(expected_precision=round(exp_tp / max(int(sel.sum()), 1), 4),
                    expected_recall_of_scored=round(exp_tp / max(float(p_all.sum()), 1e-12), 4),
                    pairs_linked=int(sel.sum()))
    info["match_weight"] = round(t, 4)
    info["match_probability"] = round(1.0 / (1.0 + 2.0 ** -t), 6)
    return t, info


FORMS = {"preprint": "preprint", "techreport": "report", "thesis": "report", "conference": "conference",
         "article": "journal", "chapter": "book", "book": "book"}


RELATIONS = ["same_form", "preprint_published", "report_published", "conference_journal", "unknown"]
_FORM_NAMES = sorted(set(FORMS.values()))


def _relation(a: str | None, b: str | None) -> str:
    if not isinstance(a, str) or not isinstance(b, str):
        return "unknown"
    if a == b:
        return "same_form"
    pair = {a, b}
    if "report" in pair:
        return "report_published" if pair & {"conference", "journal", "preprint", "book"} else "unknown"
    if "preprint" in pair:
        return "preprint_published"
    if pair == {"conference", "journal"}:
        return "conference_journal"
    return "unknown"


# form code (0 = unknown, i + 1 = _FORM_NAMES[i]) x form code -> RELATIONS code
_RELATION_CODES = np.array([[RELATIONS.index(_relation(a, b)) for b in [None, *_FORM_NAMES]]
                            for a in [None, *_FORM_NAMES]], dtype=np.int8)


def form_codes(records: pd.DataFrame) -> pd.Series:
    """Each record's publication form as a small code (0 unknown), indexed by ``unique_id``: what
    ``add_relations`` needs, computed once when it is called chunk by chunk."""
    code = {t: _FORM_NAMES.index(f) + 1 for t, f in FORMS.items()}
    pub = records["pub_type"].astype(object).map(lambda t: code.get(t, 0) if isinstance(t, str) else 0)
    return pd.Series(pub.to_numpy(dtype=np.int8), index=pd.Index(records["unique_id"].astype(object)))


def add_relations(pairs: pd.DataFrame, records: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """Add ``relation``: how the two records' publication forms relate, for the version policy.

    ``same_form``, ``preprint_published`` (a preprint and a conference/journal version),
    ``report_published`` (a technical report or thesis and a published version),
    ``conference_journal`` (a conference paper and a journal version, often extended), or
    ``unknown`` when either form is unknown. ``records`` may also be ``form_codes(records)``.
    The column is categorical; the input frame is not changed.
    """
    codes = records if isinstance(records, pd.Series) else form_codes(records)
    if not codes.index.is_unique:
        codes = codes[~codes.index.duplicated(keep="last")]

    def side(col: str) -> np.ndarray:
        pos = codes.index.get_indexer(pairs[col].astype(object))
        vals = codes.to_numpy()
        return np.where(pos >= 0, vals[np.maximum(pos, 0)] if len(vals) else 0, 0)

    rel = _RELATION_CODES[side("unique_id_l"), side("unique_id_r")] if len(pairs) else np.array([], dtype=np.int8)
    pairs = pairs.copy(deep=False)
    pairs["relation"] = pd.Categorical.from_codes(rel, categories=RELATIONS)
    return pairs


# rows of Splink's predictions turned into pairs at a time by ``predict_pairs_chunked``
PAIRS_CHUNK = 500_000


@contextlib.contextmanager
def lean_predictions():
    """Splink's predictions table without both records' compared values.

    The run keeps ids, sources, gammas and weights of each pair; Splink's table also holds every compared
    column twice (titles, author lists, abstract tokens...), which at millions of pairs is most of it and
    spills gigabytes to disk. Splink keeps the gammas only with those values or in its training mode, so
    the final select is built as in training mode (gammas kept), with the intermediate columns
    (weights, term-frequency adjustments) still retained. Blocking, comparison and weights are unchanged.
    """
    import splink.internals.linker_components.inference as inference
    from splink.internals.dialects import SplinkDialect
    from splink.internals.predict import predict_from_comparison_vectors_sqls

    original = inference.predict_from_comparison_vectors_sqls_using_settings

    def lean(settings_obj, threshold_match_probability=None, threshold_match_weight=None,
             include_clerical_match_score=False):
        return predict_from_comparison_vectors_sqls(
            unique_id_input_columns=settings_obj.column_info_settings.unique_id_input_columns,
            core_model_settings=settings_obj.core_model_settings,
            sql_dialect=SplinkDialect.from_string(settings_obj._sql_dialect_str),
            threshold_match_probability=threshold_match_probability,
            threshold_match_weight=threshold_match_weight,
            retain_matching_columns=False, retain_intermediate_calculation_columns=True, training_mode=True,
            additional_columns_to_retain=settings_obj._additional_columns_to_retain,
            include_clerical_match_score=include_clerical_match_score)

    inference.predict_from_comparison_vectors_sqls_using_settings = lean
    try:
        yield
    finally:
        inference.predict_from_comparison_vectors_sqls_using_settings = original


BLOCKED_PAIRS_DEDUPLICATED_SQL = """
    select cast(min(cast(match_key as integer)) as varchar) as match_key, join_key_l, join_key_r
    from __splink__blocked_id_pairs_non_unique
    group by join_key_l, join_key_r
"""


@contextlib.contextmanager
def deduplicated_blocking():
    """Splink's blocked pairs made by one join per rule and a GROUP BY, not by excluding earlier rules.

    Splink makes each pair once by adding to rule k's join ``AND NOT (rule 1 OR ... OR rule k-1)``, so
    every candidate pair of a late rule evaluates every earlier rule again (with 14 rules, half the
    blocking time at 1M records). Here the rules' joins are concatenated as they are and the pairs
    grouped, keeping each pair's first rule as its ``match_key``: the same pairs with the same match
    keys (Splink's own way for exploding rules, with the keys compared as numbers, not as text).
    """
    import splink.internals.blocking as blocking

    original_sqls = blocking.block_using_rules_sqls
    original_exclude = blocking.BlockingRule.exclude_pairs_generated_by_all_preceding_rules_sql

    def grouped(*args, **kwargs):
        sqls = original_sqls(*args, **kwargs)
        last = sqls[-1]
        if last["output_table_name"] == "__splink__blocked_id_pairs" and len(sqls) == 1:
            last["output_table_name"] = "__splink__blocked_id_pairs_non_unique"
            sqls.append({"sql": BLOCKED_PAIRS_DEDUPLICATED_SQL, "output_table_name": "__splink__blocked_id_pairs"})
        return sqls

    blocking.block_using_rules_sqls = grouped
    blocking.BlockingRule.exclude_pairs_generated_by_all_preceding_rules_sql = lambda self, *a, **k: ""
    try:
        yield
    finally:
        blocking.block_using_rules_sqls = original_sqls
        blocking.BlockingRule.exclude_pairs_generated_by_all_preceding_rules_sql = original_exclude


def predict_pairs_chunked(linker, model: dict, forms: pd.DataFrame) -> pd.DataFrame:
    """Every blocked pair, as ``scoring.tidy_pairs`` + ``scoring.add_relations`` make it, chunk by chunk."""
    import pyarrow as pa

    with lean_predictions(), deduplicated_blocking():
        pred = linker.inference.predict()
    con = linker._db_api._execute_sql_against_backend
    reader = con(f"select {_evidence_columns(pred, model)} from {pred.physical_name} "
                 f"order by least(unique_id_l, unique_id_r), "
                 f"greatest(unique_id_l, unique_id_r)").to_arrow_reader(PAIRS_CHUNK)
    codes = form_codes(forms)
    parts = []
    for batch in reader:
        chunk = add_relations(tidy_pairs(batch.to_pandas(), model, sort=False), codes)
        parts.append(pa.Table.from_pandas(chunk, preserve_index=False))
        del chunk
    pred.drop_table_from_database_and_remove_from_cache()
    if not parts:
        return add_relations(empty_pairs(model), forms)
    table = pa.concat_tables(parts)
    del parts
    # each column's Arrow buffers are released as it is converted: not the whole table twice at once
    return table.to_pandas(self_destruct=True, split_blocks=True)


def empty_pairs(model: dict) -> pd.DataFrame:
    cols = {"unique_id_l": [], "unique_id_r": [], "source_l": [], "source_r": [], "match_weight": [],
            "match_probability": []}
    for c in model["comparisons"]:
        n = c["output_column_name"]
        cols.update({f"{n}_gamma": [], f"{n}_level": [], f"{n}_weight": []})
    cols["relation"] = []
    df = pd.DataFrame(cols)
    return df.astype({"match_weight": float, "match_probability": float})
