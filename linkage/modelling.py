"""Fit (or reuse) the Fellegi-Sunter model and score pairs: the bridge between settings, training and scoring."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import LinkageError
from .scoring import choose_threshold, make_duckdb_linker, model_frame, predict_pairs
from .settings import Spec, compile_settings
from .training import TrainingReport, apply_m_floors, train


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


def transfer_parameters(src: dict, dst: dict) -> dict:
    """Copy prior and m/u per (comparison name, level position) from a trained model into a freshly
    compiled one, so a model trained on one backend scores on another."""
    dst = json.loads(json.dumps(dst))
    dst["probability_two_random_records_match"] = src.get("probability_two_random_records_match")
    by_name = {c["output_column_name"]: c for c in src.get("comparisons", [])}
    for comp in dst["comparisons"]:
        s = by_name.get(comp["output_column_name"])
        if s is None or len(s["comparison_levels"]) != len(comp["comparison_levels"]):
            raise LinkageError(f"the model's comparison {comp['output_column_name']!r} does not fit these settings",
                               "train again with 'linkage run' or use the settings the model was trained with")
        for lv, sl in zip(comp["comparison_levels"], s["comparison_levels"]):
            for k in ("m_probability", "u_probability", "tf_minimum_u_value"):
                if k in sl:
                    lv[k] = sl[k]
    return dst


def fit_and_score(records: pd.DataFrame, spec: Spec, link_type: str, seed: int, model_from=None,
                  stage=None, counts=None, dialect: str = "duckdb") -> Fitted:
    mdf = model_frame(records)
    creator = compile_settings(spec, dialect, "link" if link_type == "link" else "dedupe")
    rep = TrainingReport()
    if model_from is not None:
        trained = load_model_file(model_from)
        linker, _, _ = make_duckdb_linker(mdf, creator)
        base = linker.misc.save_model_to_json()
        model = transfer_parameters(trained, base)
        rep.prior_source = "reused"
    else:
        linker, _, _ = make_duckdb_linker(mdf, creator)
        if len(mdf) < 2:
            rep.prior_source = "fallback"
            rep.warnings.append("fewer than two records: nothing to train; shipped prior parameters used")
        else:
            rep = train(linker, spec, len(mdf), seed)
        model = rep.snapshot if rep.failed and rep.snapshot else linker.misc.save_model_to_json()
        prior = model.get("probability_two_random_records_match")
        if prior is None or not 0 < float(prior) < 1 or prior != prior:
            model["probability_two_random_records_match"] = float(spec.training.get("fallback_prior", 1e-4))
            rep.prior_source = "fallback"
            rep.warnings.append("the prior rules found no pairs: using training.fallback_prior "
                                f"({model['probability_two_random_records_match']})")
        caps = {}
        for comp in spec.comparisons:
            for lv in comp.get("levels", []):
                if "m_max" in lv:
                    label = lv.get("label")
                    caps[(comp["name"], label)] = float(lv["m_max"])
        model = apply_m_floors(model, float(spec.training.get("m_floor", 0.005)), rep,
                               u_floor=1.0 / max(rep.u_max_pairs, 1000), m_max=caps)
    rep.prior = model.get("probability_two_random_records_match")
    rep.snapshot = None
    model.pop("linker_uid", None)  # random per Linker: the same data must give the same model file
    model = round_model(model)
    import time

    t0 = time.perf_counter()
    linker, _, _ = make_duckdb_linker(mdf, model)
    pairs = predict_pairs(linker, model) if len(mdf) >= 2 else _empty_pairs(model)
    rep.timings["predict"] = round(time.perf_counter() - t0, 3)
    threshold, info = choose_threshold(pairs, spec.threshold)
    return Fitted(pairs=pairs, model=model, training=rep.as_dict(), threshold=threshold, threshold_info=info)


def _empty_pairs(model: dict) -> pd.DataFrame:
    cols = {"unique_id_l": [], "unique_id_r": [], "source_l": [], "source_r": [], "match_weight": [],
            "match_probability": []}
    for c in model["comparisons"]:
        n = c["output_column_name"]
        cols.update({f"{n}_gamma": [], f"{n}_level": [], f"{n}_weight": []})
    df = pd.DataFrame(cols)
    return df.astype({"match_weight": float, "match_probability": float})
