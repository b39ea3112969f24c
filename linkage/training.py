"""Training without labels: prior from deterministic rules, u by sampling, EM sessions, m floors.

Wraps Splink's training verbs and reports what happened honestly (EM sessions that stopped at
``max_iterations`` are reported as not converged; a prior that could not be estimated falls back
to the settings' value with a warning).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field

from .settings import Spec, blocking_rule_sql

log = logging.getLogger("linkage")


def _clamp_em_underflow() -> None:
    """Work around Splink 5.0.0 raising mid-EM when an observed level's m or u underflows to 0.

    That happens on real data when every pair at a level has a posterior of exactly 0 (e.g. a level
    seen only in hopeless pairs). Splink then raises ValueError and leaves the linker's settings
    half-trained. We clamp such values to Splink's own minimum (1e-300) before it validates them;
    our m floor then lifts them to a usable value.
    """
    import splink.internals.expectation_maximisation as em

    if getattr(em.populate_m_u_from_lookup, "_linkage_clamped", False):
        return
    original = em.populate_m_u_from_lookup

    def clamped(training_fixed_probabilities, comparison_level, output_column_name, m_u_records_lookup):
        rec = (m_u_records_lookup.get(output_column_name) or {}).get(comparison_level.comparison_vector_value)
        if isinstance(rec, dict):
            for k in ("m_probability", "u_probability"):
                v = rec.get(k)
                if isinstance(v, (int, float)) and v < 1e-300:
                    rec[k] = 1e-300
        return original(training_fixed_probabilities, comparison_level, output_column_name, m_u_records_lookup)

    clamped._linkage_clamped = True
    em.populate_m_u_from_lookup = clamped


@dataclass
class TrainingReport:
    prior: float | None = None
    prior_source: str = "estimated"
    u_max_pairs: int = 0
    em_sessions: list[dict] = field(default_factory=list)
    floored: list[str] = field(default_factory=list)
    unobserved: list[tuple[str, str]] = field(default_factory=list)
    capped: list[str] = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    backend: object = None
    u_from_frequencies: list[str] = field(default_factory=list)
    snapshot: dict | None = None      # the model after the last step that succeeded
    failed: bool = False
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"backend": getattr(self.backend, "name", None), "prior": self.prior,
                "prior_source": self.prior_source, "u_max_pairs": self.u_max_pairs,
                "em_sessions": self.em_sessions, "m_floored": self.floored,
                "m_untrained": [f"{c}: {lv}" for c, lv in self.unobserved], "m_capped": self.capped,
                "timings": self.timings, "u_from_frequencies": self.u_from_frequencies, "warnings": self.warnings}


# EM's pair sample on large data. Each iteration scans the sample once: 3e5 pairs keep a session at a few
# seconds, and estimate the ~40 m values as well as 1e6 did (generated 100k records: the same clusters,
# F1 0.992, EM 5.7 s instead of 15.7 s; at 1M the two sessions took 60 s on 1e6 pairs).
EM_MAX_PAIRS = 300_000


def auto_u_max_pairs(n_records: int) -> int:
    """Enough random pairs for stable u on the common levels, capped so u stays cheap: the rare
    agreement levels that sampling cannot see get u from value frequencies (exact levels) or a floor."""
    total = n_records * (n_records - 1) // 2
    return int(max(1000, min(total, 150_000)))


EXACT_U_MIN_RECORDS = 100   # records with the column present needed to trust u from value frequencies


def exact_u_sql(table: str, col: str) -> str:
    """u of an exact-match level from value frequencies: the chance that two random records with the
    column present share a value, sum c(c-1) / n(n-1). Exact over all records, O(n) with one GROUP BY,
    instead of waiting for random pairs to hit a rare value."""
    return (f"select sum(c * (c - 1)) as same, sum(c) as n from "
            f"(select count(*) as c from {table} where {col} is not null group by {col}) t")


def _md5_below(uid_sql: str, fraction: float, salt: str) -> str:
    """A row filter keeping the share ``fraction`` of ids: md5 of (id, salt) below a threshold.

    Splink samples by the engine's own hash function, so DuckDB and Spark would sample different rows
    and train slightly different models. md5 is the same everywhere, and its first 8 hex digits compare
    as text in the same order as numbers, so every engine keeps the same rows.
    """
    limit = f"{min(max(int(fraction * 16**8), 1), 16**8 - 1):08x}"
    return f" AND substr(md5(concat(cast({uid_sql} as string), '_{salt}')), 1, 8) < '{limit}'"


def portable_sample_sql(proportion: float, unique_id_cols, seed: int | None = None) -> str:
    """Splink's ``Linker._proportion_sample_sql`` (the rows of u sampling), engine-independent."""
    from splink.internals.unique_id_concat import _composite_unique_id_from_nodes_sql

    if proportion >= 1.0:
        return ""
    return _md5_below(_composite_unique_id_from_nodes_sql(unique_id_cols), proportion, str(seed))


def portable_em_sample_sql(unique_id_cols, sample_threshold: int, sample_modulus: int, table_prefix: str,
                           dialect=None) -> str:
    """Splink's ``em_sampling._em_sample_filter_sql`` (EM's ``max_pairs`` sample), engine-independent."""
    from splink.internals.unique_id_concat import _composite_unique_id_from_nodes_sql

    if sample_threshold >= sample_modulus:
        return ""
    if sample_threshold <= 0:
        return " AND 1=0"
    uid = _composite_unique_id_from_nodes_sql(unique_id_cols, table_prefix)
    return _md5_below(uid, sample_threshold / sample_modulus, "em")


class _Unobserved(logging.Handler):
    """Collects Splink's 'Level X on comparison Y not observed in dataset' warnings during EM."""

    def __init__(self):
        super().__init__(logging.WARNING)
        import re

        self.levels: set[tuple[str, str]] = set()
        self._re = re.compile(r"Level (.+) on comparison (\S+) not observed in dataset")

    def emit(self, record):
        m = self._re.search(record.getMessage())
        if m:
            self.levels.add((m.group(2), m.group(1)))


def train(linker, spec: Spec, n_records: int, seed: int, backend=None) -> TrainingReport:
    _clamp_em_underflow()
    rep = TrainingReport()
    rep.backend = backend
    splink_log = logging.getLogger("splink")
    watcher = _Unobserved()
    splink_log.addHandler(watcher)
    try:
        _train(linker, spec, n_records, seed, rep)
    finally:
        splink_log.removeHandler(watcher)
    rep.unobserved = sorted(watcher.levels)
    return rep


@contextlib.contextmanager
def _portable_em_sampling():
    """EM's pair sample (``max_pairs``) chosen by ``portable_em_sample_sql`` while the block runs."""
    import splink.internals.blocking as blocking

    original = blocking._em_sample_filter_sql
    blocking._em_sample_filter_sql = portable_em_sample_sql
    try:
        yield
    finally:
        blocking._em_sample_filter_sql = original


def _train(linker, spec: Spec, n_records: int, seed: int, rep: TrainingReport) -> None:
    tr = spec.training
    import time

    t0 = time.perf_counter()
    rules = [blocking_rule_sql(r) for r in tr.get("prior_rules", [])]
    if rules:
        try:
            linker.training.estimate_probability_two_random_records_match(rules, recall=float(tr.get("prior_recall",
                                                                                                        0.7)))
        except Exception as exc:  # Splink raises when the rules find no pairs
            rep.prior_source = "fallback"
            rep.warnings.append(f"prior could not be estimated ({str(exc).splitlines()[0][:120]}); "
                                f"using training.fallback_prior")
    rep.timings["prior"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    mp = tr.get("u_max_pairs", "auto")
    rep.u_max_pairs = auto_u_max_pairs(n_records) if mp == "auto" else int(mp)
    if n_records >= 2:
        linker._proportion_sample_sql = portable_sample_sql  # the same sampled rows on every engine
        try:
            linker.training.estimate_u_using_random_sampling(max_pairs=rep.u_max_pairs, seed=seed, num_chunks=1,
                                                             min_count_per_level=None)
        finally:
            del linker._proportion_sample_sql
        _exact_u_overrides(linker, spec, rep, rep.backend)
    rep.snapshot = linker.misc.save_model_to_json()
    rep.timings["u"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    max_it = int(tr.get("max_iterations", 25))
    for rule in tr.get("em_sessions", []):
        sql = blocking_rule_sql(rule)
        entry = {"blocking_rule": sql}
        try:
            # on large data EM trains on a hash-sampled ~em_max_pairs of the session's blocked pairs;
            # small data (every data set up to tens of thousands of records) uses all of them
            em_kw = {"max_pairs": float(tr.get("em_max_pairs", EM_MAX_PAIRS))} if n_records >= 20_000 else {}
            with _portable_em_sampling():
                sess = linker.training.estimate_parameters_using_expectation_maximisation(sql, **em_kw)
            iters = len(getattr(sess, "_core_model_settings_history", [])) - 1
            entry.update(iterations=iters, converged=iters < max_it)
            if iters >= max_it:
                rep.warnings.append(f"EM session on {sql!r} stopped at max_iterations ({max_it}) without converging")
            if not rep.failed:
                rep.snapshot = linker.misc.save_model_to_json()
        except Exception as exc:
            entry.update(iterations=0, converged=False, error=str(exc).splitlines()[0][:200])
            rep.warnings.append(f"EM session on {sql!r} could not run ({entry['error']}); the model keeps the "
                                f"parameters of the steps before it")
            rep.failed = True  # Splink may leave the linker half-trained: later sessions are skipped
            break
        rep.em_sessions.append(entry)
    rep.timings["em"] = round(time.perf_counter() - t0, 3)


def _exact_u_overrides(linker, spec: Spec, rep: TrainingReport, backend=None) -> None:
    """Replace the sampled u of each comparison's first level, when it is an exact match on one
    column, with u from value frequencies (``exact_u_sql``)."""
    from .backends import get_backend

    backend = backend or get_backend("duckdb")
    table = linker._input_tables_dict[next(iter(linker._input_tables_dict))].physical_name
    overrides = {}
    try:
        for comp in spec.comparisons:
            levels = comp.get("levels") or []
            if len(levels) < 2 or levels[1].get("kind") != "exact" or "and" in levels[1]:
                continue
            same, n = backend.scalar_row(linker, exact_u_sql(table, levels[1]["column"]))
            # few records with the value (two records sharing a date: u = 1) make the frequency estimate
            # meaningless; the sampled u stays
            if n and n >= EXACT_U_MIN_RECORDS and same:
                overrides[(comp["name"], levels[1].get("label"))] = float(same) / (float(n) * (float(n) - 1))
    except Exception as exc:  # a backend without this path keeps the sampled u
        rep.warnings.append(f"u from value frequencies unavailable ({str(exc).splitlines()[0][:100]})")
        return
    for comp in linker._settings_obj.comparisons:
        for lv in comp.comparison_levels:
            u = overrides.get((comp.output_column_name, lv.label_for_charts))
            if u is not None and u > 0:
                lv.u_probability = u
                # Splink sets u to the median of the level's trained u values after every EM session:
                # make the frequency estimate the only one, or EM would restore the sampled u
                lv._trained_u_probabilities = [{"probability": u, "description": "u from value frequencies",
                                                "m_or_u": "u"}]
                rep.u_from_frequencies.append(f"{comp.output_column_name}: {lv.label_for_charts}")


def correct_u_for_matches(model: dict, u_floor: float) -> dict:
    """Take the true matches out of u.

    u is estimated from random pairs (or value frequencies), and random pairs include true matches
    at rate lambda. On dense data (Cora: lambda ~ 0.04; three copies of every MISQ paper) that makes
    agreeing on an exact title look common among non-matches and halves its weight. With lambda and
    m from training, P(level) = lambda * m + (1 - lambda) * u, so u = (P - lambda * m) / (1 - lambda).
    """
    lam = model.get("probability_two_random_records_match")
    if not isinstance(lam, float) or not 0 < lam < 0.5:
        return model
    for comp in model.get("comparisons", []):
        for lv in comp["comparison_levels"]:
            if lv.get("is_null_level") or lv.get("fix_u_probability"):
                continue
            m, u = lv.get("m_probability"), lv.get("u_probability")
            if isinstance(m, float) and isinstance(u, float) and u == u and m == m:
                lv["u_probability"] = max((u - lam * m) / (1.0 - lam), min(u, u_floor))
    return model


def _at_bound(name: str, lv: dict, m_max: dict | None, m_min: dict | None) -> bool:
    """A level whose m sits at its settings bound (m_max or m_min): renormalising the comparison's other
    levels must not move it off the bound."""
    key = (name, lv.get("label_for_charts"))
    m = lv["m_probability"]
    return (key in (m_max or {}) and m >= m_max[key]) or (key in (m_min or {}) and m <= m_min[key])


def apply_m_floors(model: dict, floor: float, report: TrainingReport, u_floor: float = 1e-6,
                   m_max: dict[tuple[str, str], float] | None = None,
                   m_min: dict[tuple[str, str], float] | None = None) -> dict:
    """Make every level's parameters usable and honest after training.

    * m of a level EM never observed in any session: agreement levels keep a small share
      (``floor``), and the comparison's m is renormalised; disagreement (last) levels get ``floor``.
    * m below ``floor`` is raised to it (unless fixed in the settings): EM drives the m of rarely
      observed disagreement levels towards 0, so one typo would veto a true pair with -50 bits.
      Identifier conflicts keep the m fixed in the settings file.
    * u never observed in random sampling: an agreement level gets ``u_floor`` (agreeing at random
      is rare), the disagreement level gets u = m (no evidence either way).
    """
    untrained = set(report.unobserved)
    for comp in model.get("comparisons", []):
        name = comp.get("output_column_name")
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        last = levels[-1] if levels else None
        for lv in levels:
            if lv.get("fix_m_probability"):
                continue
            m = lv.get("m_probability")
            if (name, lv.get("label_for_charts")) in untrained or m is None or m != m:
                lv["m_probability"] = floor
                report.floored.append(f"{name}: {lv.get('label_for_charts')} (untrained)")
            elif m < floor:
                lv["m_probability"] = floor
                report.floored.append(f"{name}: {lv.get('label_for_charts')}")
            cap = (m_max or {}).get((name, lv.get("label_for_charts")))
            if cap is not None and lv["m_probability"] > cap:
                report.capped.append(f"{name}: {lv.get('label_for_charts')} {lv['m_probability']:.4f} -> {cap}")
                lv["m_probability"] = cap
            low = (m_min or {}).get((name, lv.get("label_for_charts")))
            if low is not None and lv["m_probability"] < low:
                report.floored.append(f"{name}: {lv.get('label_for_charts')} {lv['m_probability']:.4f} -> {low} (m_min)")
                lv["m_probability"] = low
        held = [lv for lv in levels if lv.get("fix_m_probability") or _at_bound(name, lv, m_max, m_min)]
        free = [lv for lv in levels if lv not in held]
        fixed_total = sum(lv["m_probability"] for lv in held)
        total = sum(lv["m_probability"] for lv in free)
        if free and total > 0:
            for lv in free:
                lv["m_probability"] = lv["m_probability"] * (1.0 - fixed_total) / total
        for lv in levels:
            u = lv.get("u_probability")
            if u is None or u != u or u <= 0:
                lv["u_probability"] = lv["m_probability"] if lv is last else u_floor
    return model
