"""Fit (or reuse) the Fellegi-Sunter model and score pairs: the bridge between settings, training and scoring."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .backends import Backend, get_backend
from .errors import LinkageError
from .scoring import (
    add_relations,
    choose_threshold,
    empty_pairs,
    model_frame,
    predict_pairs,
    predict_pairs_chunked,
)
from .settings import Spec, blocking_rule_sql, compile_settings
from .training import TrainingReport, apply_m_floors, correct_u_for_matches, train


@dataclass
class Fitted:
    pairs: pd.DataFrame
    model: dict
    training: dict
    threshold: float
    threshold_info: dict


def load_model_file(path: str | Path) -> dict:
    """A trained model: a model.json file or a run folder holding one."""
    p = Path(path)
    if p.is_dir():
        p = p / "model.json"
    if not p.exists():
        raise LinkageError(f"{path}: no model.json found", "give a run folder or a model file from 'linkage train'")
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise LinkageError(f"{p}: not a valid model file (line {exc.lineno}: {exc.msg})") from exc


def round_model(model: dict, digits: int = 9) -> dict:
    """Round m, u and the prior to ``digits`` significant digits.

    DuckDB sums EM's expectations in parallel, so the last bits of a float vary from run to run;
    rounding makes the same inputs, settings and seed give the same model file (and so the same
    weights and clusters).
    """
    def r(x):
        return float(f"{x:.{digits}g}") if isinstance(x, float) else x

    model["probability_two_random_records_match"] = r(model.get("probability_two_random_records_match"))
    for comp in model.get("comparisons", []):
        for lv in comp.get("comparison_levels", []):
            for k in ("m_probability", "u_probability"):
                if k in lv:
                    lv[k] = r(lv[k])
    return model


def transfer_parameters(src: dict, dst: dict, reference: dict | None = None) -> dict:
    """Copy prior and m/u per (comparison name, level position) from a trained model into a freshly
    compiled one, so a model trained on one backend scores on another.

    ``reference`` is the same settings compiled for the model's own dialect: when given, every level's
    SQL must equal the model's, so a level whose definition changed (a threshold edited in the
    settings file) cannot silently inherit the old level's parameters. Comparisons must match both
    ways.
    """
    hint = "train again ('linkage train' or 'linkage run') or use the settings the model was trained with"
    dst = json.loads(json.dumps(dst))
    dst["probability_two_random_records_match"] = src.get("probability_two_random_records_match")
    by_name = {c["output_column_name"]: c for c in src.get("comparisons", [])}
    dst_names = {c["output_column_name"] for c in dst["comparisons"]}
    missing = [n for n in by_name if n not in dst_names]
    if missing:
        raise LinkageError(f"the model has comparisons these settings lack: {', '.join(missing)}", hint)
    ref = {c["output_column_name"]: c for c in (reference or {}).get("comparisons", [])}
    for comp in dst["comparisons"]:
        name = comp["output_column_name"]
        s = by_name.get(name)
        if s is None:
            raise LinkageError(f"these settings have a comparison the model lacks: {name!r}", hint)
        if len(s["comparison_levels"]) != len(comp["comparison_levels"]):
            raise LinkageError(f"comparison {name!r} has {len(comp['comparison_levels'])} levels in these settings "
                               f"but {len(s['comparison_levels'])} in the model", hint)
        if name in ref:
            for i, (rl, sl) in enumerate(zip(ref[name]["comparison_levels"], s["comparison_levels"])):
                if rl.get("sql_condition") != sl.get("sql_condition"):
                    raise LinkageError(f"comparison {name!r} level {i} ({sl.get('label_for_charts')}) is defined "
                                       f"differently in these settings than in the model", hint)
        for lv, sl in zip(comp["comparison_levels"], s["comparison_levels"]):
            for k in ("m_probability", "u_probability", "tf_minimum_u_value"):
                if k in sl:
                    lv[k] = sl[k]
    return dst


def fit_model(records: pd.DataFrame, spec: Spec, link_type: str, seed: int,
              backend: Backend | None = None, mdf: pd.DataFrame | None = None) -> tuple[dict, TrainingReport]:
    """Train on ``records``: prior, u, EM sessions, then floors and caps. Returns (model dict, report).

    ``mdf``: ``model_frame(records)`` when the caller already has it (it is not changed here)."""
    backend = backend or get_backend("duckdb")
    mdf = model_frame(records) if mdf is None else mdf
    creator = compile_settings(spec, backend.dialect, "link" if link_type == "link" else "dedupe")
    tr = spec.training
    linker = backend.make_linker(mdf, creator, other_sql=tuple(
        blocking_rule_sql(r) for r in [*tr.get("prior_rules", []), *tr.get("em_sessions", [])]))
    rep = TrainingReport()
    min_records = int(spec.training.get("min_records", 200))
    if len(mdf) < min_records:
        shipped = _shipped_parameters(linker.misc.save_model_to_json(), rep)
        if shipped is not None:
            rep.prior_source = "shipped"
            rep.warnings.append(f"{len(mdf)} records are too few to train on (training.min_records is {min_records}):"
                                " the shipped default model's parameters are used")
            shipped.pop("linker_uid", None)
            return round_model(_in_duckdb_sql(shipped, spec, mdf, link_type, backend)), rep
        rep.prior_source = "fallback"
        rep.warnings.append("too few records to train on and no shipped model fits these settings: "
                            "untrained parameters are used")
    else:
        rep = train(linker, spec, len(mdf), seed, backend=backend)
    model = rep.snapshot if rep.failed and rep.snapshot else linker.misc.save_model_to_json()
    prior = model.get("probability_two_random_records_match")
    if prior is None or not 0 < float(prior) < 1 or prior != prior:
        model["probability_two_random_records_match"] = float(spec.training.get("fallback_prior", 1e-4))
        rep.prior_source = "fallback"
        rep.warnings.append("the prior rules found no pairs: using training.fallback_prior "
                            f"({model['probability_two_random_records_match']})")
    caps = {(comp["name"], lv.get("label")): float(lv["m_max"])
            for comp in spec.comparisons for lv in comp.get("levels", []) if "m_max" in lv}
    mins = {(comp["name"], lv.get("label")): float(lv["m_min"])
            for comp in spec.comparisons for lv in comp.get("levels", []) if "m_min" in lv}
    model = apply_m_floors(model, float(spec.training.get("m_floor", 0.005)), rep,
                           u_floor=1.0 / max(rep.u_max_pairs, 1000), m_max=caps, m_min=mins)
    model = frequency_u_without_matches(model, rep.u_from_frequencies)
    if spec.training.get("u_excludes_matches", False):
        model = correct_u_for_matches(model, u_floor=1.0 / max(rep.u_max_pairs, 1000))
    rep.prior = model.get("probability_two_random_records_match")
    rep.snapshot = None
    model.pop("linker_uid", None)  # random per Linker: the same data must give the same model file
    return round_model(_in_duckdb_sql(model, spec, mdf, link_type, backend)), rep


def frequency_u_without_matches(model: dict, levels: list[str], max_gain: float = 10.0) -> dict:
    """Take the true matches out of the u of exact levels estimated from value frequencies.

    Value frequencies give P(two random records agree) = lambda * m + (1 - lambda) * u; on data where
    most records have a match (two catalogues of one field) the matches dominate it, and 'same title'
    looks ten times commoner among non-matches than it is. With lambda and m from training,
    u = (P - lambda * m) / (1 - lambda), never below P / ``max_gain`` (a noisy lambda or m cannot
    make agreement look arbitrarily rare).
    """
    lam = model.get("probability_two_random_records_match")
    if not levels or not isinstance(lam, float) or not 0 < lam < 0.5:
        return model
    wanted = set(levels)
    for comp in model.get("comparisons", []):
        for lv in comp["comparison_levels"]:
            if f"{comp.get('output_column_name')}: {lv.get('label_for_charts')}" not in wanted:
                continue
            m, u = lv.get("m_probability"), lv.get("u_probability")
            if isinstance(m, float) and isinstance(u, float) and u > 0:
                lv["u_probability"] = max((u - lam * m) / (1.0 - lam), u / max_gain)
    return model


SHIPPED_MODEL = Path(__file__).parent / "data" / "default_model.json"


def _shipped_parameters(compiled: dict, rep: TrainingReport) -> dict | None:
    """The shipped default model's parameters on ``compiled`` settings, or None when they do not fit.

    ``linkage/data/default_model.json`` is trained with the shipped settings on real data
    (``make default-model``: DBLP-ACM, a systematic-review export, MIS Quarterly Crossref + DBLP).
    """
    if not SHIPPED_MODEL.exists():
        return None
    try:
        return transfer_parameters(json.loads(SHIPPED_MODEL.read_text()), compiled)
    except LinkageError as exc:
        rep.warnings.append(f"the shipped default model does not fit these settings ({exc.message})")
        return None


def _in_duckdb_sql(model: dict, spec: Spec, mdf: pd.DataFrame, link_type: str, backend: Backend) -> dict:
    """A model trained on another engine, on the settings compiled for DuckDB: a model file is always
    DuckDB SQL, so explain and the report (DuckDB) read it and ``--model`` carries it to any backend."""
    if backend.dialect == "duckdb":
        return model
    return _compiled_for(model, spec, mdf, link_type, get_backend("duckdb"))


def _compiled_for(model: dict, spec: Spec, mdf: pd.DataFrame, link_type: str, backend: Backend) -> dict:
    """``model``'s parameters on the settings compiled for ``backend`` (portable across dialects)."""
    lt = "link" if link_type == "link" else "dedupe"
    base = compile_settings(spec, backend.dialect, lt).get_settings(backend.dialect).as_dict()
    base.pop("linker_uid", None)
    model_dialect = model.get("sql_dialect") or backend.dialect
    reference = compile_settings(spec, model_dialect, lt).get_settings(model_dialect).as_dict()
    return transfer_parameters(model, base, reference=reference)


def fit_and_score(records: pd.DataFrame, spec: Spec, link_type: str, seed: int, model_from=None,
                  backend: Backend | None = None) -> Fitted:
    """Train (or reuse ``model_from``), then score every blocked pair and choose the threshold.

    On DuckDB the pairs table is built in chunks (``scoring.predict_pairs_chunked``: the same rows,
    columns and order, one chunk's intermediate frames at a time); other engines build it whole.
    """
    import time

    backend = backend or get_backend("duckdb")
    mdf = model_frame(records)  # built once, for training and for scoring
    if model_from is not None:
        model = _compiled_for(load_model_file(model_from), spec, mdf, link_type, get_backend("duckdb"))
        model = round_model(model)
        rep = TrainingReport()
        rep.prior_source = "reused"
        rep.prior = model.get("probability_two_random_records_match")
    else:
        model, rep = fit_model(records, spec, link_type, seed, backend, mdf=mdf)
    t0 = time.perf_counter()
    # ``model`` (the run folder's model.json) is in DuckDB SQL; another engine scores with the same
    # parameters on the settings compiled for its dialect
    engine_model = model if backend.dialect == "duckdb" else round_model(
        _compiled_for(model, spec, mdf, link_type, backend))
    n = len(mdf)
    linker = backend.make_linker(mdf, engine_model)
    del mdf  # the engine holds its own copy
    if n < 2:
        pairs = add_relations(empty_pairs(model), records)
    elif backend.dialect == "duckdb":
        pairs = predict_pairs_chunked(linker, engine_model, records[["unique_id", "pub_type"]])
    else:
        pairs = add_relations(predict_pairs(linker, engine_model), records)
    if backend.dialect == "duckdb":  # its database (up to the engine's memory limit) freed now, not at a
        linker._db_api._con.close()  # later garbage collection: clustering follows
    del linker
    rep.timings["predict"] = round(time.perf_counter() - t0, 3)
    threshold, info = choose_threshold(pairs, spec.threshold)
    return Fitted(pairs=pairs, model=model, training=rep.as_dict(), threshold=threshold, threshold_info=info)


def score_new_records(old_records: pd.DataFrame, new_records: pd.DataFrame, model: dict, spec: Spec,
                      backend: Backend | None = None) -> pd.DataFrame:
    """Pairs between new and existing records and among new records, scored with ``model``
    (Splink ``predict_between`` and ``predict_within``), in the run's pairs layout."""
    from .scoring import tidy_pairs

    backend = backend or get_backend("duckdb")
    old_mdf, new_mdf = model_frame(old_records), model_frame(new_records)
    compiled = round_model(_compiled_for(model, spec, old_mdf, "dedupe", backend))
    linker = backend.make_linker(old_mdf, compiled)
    old_sdf = next(iter(linker._input_tables_dict.values()))
    new_sdf = backend.register(linker, new_mdf, "new_records")
    for comp in compiled["comparisons"]:
        for lv in comp["comparison_levels"]:
            col = lv.get("tf_adjustment_column")
            if col:
                linker.table_management.compute_tf_table(col)
    frames = [linker.inference.predict_between(old_sdf, new_sdf).as_pandas_dataframe(),
              linker.inference.predict_within(new_sdf).as_pandas_dataframe()]
    frames = [f for f in frames if len(f)]
    if not frames:
        return add_relations(empty_pairs(compiled), new_records)
    out = tidy_pairs(pd.concat(frames, ignore_index=True), compiled)
    out = out.drop_duplicates(["unique_id_l", "unique_id_r"]).reset_index(drop=True)
    return add_relations(out, pd.concat([old_records[["unique_id", "pub_type"]], new_records[["unique_id", "pub_type"]]]))
