"""Training without labels: prior from deterministic rules, u by sampling, EM sessions, m floors.

Wraps Splink's training verbs and reports what happened honestly (EM sessions that stopped at
``max_iterations`` are reported as not converged; a prior that could not be estimated falls back
to the settings' value with a warning).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

from .settings import Spec, blocking_rule_sql

log = logging.getLogger("linkage")


@dataclass
class TrainingReport:
    prior: float | None = None
    prior_source: str = "estimated"
    u_max_pairs: int = 0
    em_sessions: list[dict] = field(default_factory=list)
    floored: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"prior": self.prior, "prior_source": self.prior_source, "u_max_pairs": self.u_max_pairs,
                "em_sessions": self.em_sessions, "m_floored": self.floored, "warnings": self.warnings}


def auto_u_max_pairs(n_records: int) -> int:
    """Enough random pairs for stable u on the non-rare levels, capped so u stays cheap."""
    total = n_records * (n_records - 1) // 2
    return int(max(1000, min(total, 400_000)))


def train(linker, spec: Spec, n_records: int, seed: int) -> TrainingReport:
    rep = TrainingReport()
    tr = spec.training
    rules = [blocking_rule_sql(r) for r in tr.get("prior_rules", [])]
    if rules:
        try:
            linker.training.estimate_probability_two_random_records_match(rules, recall=float(tr.get("prior_recall",
                                                                                                        0.7)))
        except Exception as exc:  # Splink raises when the rules find no pairs
            rep.prior_source = "fallback"
            rep.warnings.append(f"prior could not be estimated ({str(exc).splitlines()[0][:120]}); "
                                f"using training.fallback_prior")
    mp = tr.get("u_max_pairs", "auto")
    rep.u_max_pairs = auto_u_max_pairs(n_records) if mp == "auto" else int(mp)
    if n_records >= 2:
        linker.training.estimate_u_using_random_sampling(max_pairs=rep.u_max_pairs, seed=seed)
    max_it = int(tr.get("max_iterations", 25))
    for rule in tr.get("em_sessions", []):
        sql = blocking_rule_sql(rule)
        entry = {"blocking_rule": sql}
        try:
            sess = linker.training.estimate_parameters_using_expectation_maximisation(sql)
            iters = len(getattr(sess, "_core_model_settings_history", [])) - 1
            entry.update(iterations=iters, converged=iters < max_it)
            if iters >= max_it:
                rep.warnings.append(f"EM session on {sql!r} stopped at max_iterations ({max_it}) without converging")
        except Exception as exc:
            entry.update(iterations=0, converged=False, error=str(exc).splitlines()[0][:200])
            rep.warnings.append(f"EM session on {sql!r} could not run ({entry['error']}); its parameters keep "
                                f"their defaults")
        rep.em_sessions.append(entry)
    return rep


def apply_m_floors(model: dict, floor: float, report: TrainingReport) -> dict:
    """Raise any non-null level's m to ``floor`` (unless fixed by the settings) and renormalise.

    EM drives the m of rarely observed disagreement levels towards 0, so one typo would veto a true
    pair with -50 bits. A floor keeps every single field from vetoing on its own; identifier
    conflicts keep the m fixed in the settings file.
    """
    for comp in model.get("comparisons", []):
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        changed = False
        for lv in levels:
            m = lv.get("m_probability")
            if lv.get("fix_m_probability"):
                continue
            if m is None or (isinstance(m, float) and math.isnan(m)) or m < floor:
                lv["m_probability"] = floor
                report.floored.append(f"{comp.get('output_column_name')}: {lv.get('label_for_charts')}")
                changed = True
        if changed:
            total = sum(lv["m_probability"] for lv in levels if lv.get("m_probability") is not None)
            for lv in levels:
                if lv.get("m_probability") is not None:
                    lv["m_probability"] = lv["m_probability"] / total
        for lv in levels:
            u = lv.get("u_probability")
            if u is None or (isinstance(u, float) and math.isnan(u)) or u <= 0:
                lv["u_probability"] = 1e-6
    return model
