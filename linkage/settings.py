"""Settings files: load, validate (every problem at once), and compile to Splink per backend.

A settings file is YAML (or JSON) in the project's vocabulary: comparisons as lists of levels
(``{kind: exact, column: doi_norm}``), blocking rules as lists of columns, a training plan,
thresholds. ``compile_settings(spec, dialect)`` turns it into a Splink ``SettingsCreator``; the
settings file, not a trained model JSON, is the portable artefact.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import SettingsError
from .fields import SYNONYMS
from .normalise import NORMALISED_COLUMNS
from .sqlguard import check_expression, to_level_sql

SCHEMA_VERSION = 1
PACKAGE_SETTINGS = Path(__file__).parent / "data"
DEFAULT_SETTINGS = PACKAGE_SETTINGS / "scholarly.yaml"

TOP_KEYS = {
    "version": "schema version of this file (an integer, currently 1)",
    "name": "a name for the model",
    "description": "free text",
    "link_type": "auto | dedupe | link | link_and_dedupe",
    "columns": "explicit input column mapping: canonical field -> column name",
    "seed": "random seed for sampling (an integer)",
    "comparisons": "list of comparisons, each a name and a list of levels",
    "blocking_rules": "list of blocking rules, each a list of columns or a SQL expression",
    "training": "training plan: prior rules, u estimation, EM sessions, m floors",
    "threshold": "decision threshold: a match weight, 'auto', and a review band",
    "clustering": "clustering policy and guard rails",
    "merge": "how a merged record picks each field",
    "version_policy": "whether preprint/published/extended versions merge",
    "decisions": "path of a clerical-review decisions file applied as constraints",
}
LEVEL_KINDS = {
    "missing": {"columns"},
    "exact": {"column"},
    "jaro_winkler": {"column", "threshold"},
    "levenshtein": {"column", "threshold"},
    "jaccard": {"column", "threshold"},
    "array_intersect": {"column", "min"},
    "array_jaccard": {"column", "threshold"},
    "array_equal": {"column"},
    "containment": {"column"},
    "abs_diff": {"column", "threshold"},
    "date_diff": {"column", "threshold"},
    "both_differ": {"column"},
    "sql": {"condition"},
    "else": set(),
}
LEVEL_OPTIONAL = {"label", "tf", "fix_m", "fix_u", "m_floor", "m_max", "min_length", "unit", "and", "columns", "column", "threshold",
                  "min", "condition"}
SYSTEM_COLUMNS_FOR_SQL = {"unique_id", "source"}


@dataclass
class Spec:
    """A validated settings file."""

    path: str
    data: dict
    sha256: str

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    @property
    def comparisons(self) -> list[dict]:
        return self.data.get("comparisons", [])

    @property
    def training(self) -> dict:
        return self.data.get("training") or {}

    @property
    def threshold(self) -> dict:
        return self.data.get("threshold") or {}

    @property
    def clustering(self) -> dict:
        return self.data.get("clustering") or {}

    @property
    def columns(self) -> dict[str, str]:
        return self.data.get("columns") or {}


@dataclass
class _Problems:
    items: list[str] = field(default_factory=list)

    def add(self, key: str, expected: str, got: Any = None, hint: str | None = None, raw: bool = False):
        msg = f"{key}: {expected}" if raw else f"{key}: expected {expected}, got {_show(got)}"
        self.items.append(msg + (f" ({hint})" if hint else ""))


def _show(v: Any) -> str:
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, bool):
        return f"{str(v).lower()} (a boolean)"
    if isinstance(v, (int, float)):
        return f"{v} (a number)"
    if v is None:
        return "nothing"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "a mapping"
    return type(v).__name__


def _did_you_mean(word: str, options) -> str | None:
    m = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f"did you mean {m[0]!r}?" if m else None


def read_settings_file(path: str | Path) -> dict:
    """Parse YAML/JSON; a parse error keeps its line and column."""
    p = Path(path)
    if not p.exists():
        raise SettingsError(str(p), ["no such file (check the path, or run 'linkage init DIR' for a starter file)"])
    text = p.read_text(encoding="utf-8", errors="replace")
    try:
        if p.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(str(p), [f"line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})"]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SettingsError(str(p), [f"{where}not valid YAML ({problem})"]) from exc
    if data is None:
        raise SettingsError(str(p), ["the file is empty (expected a mapping with at least 'comparisons')"])
    if not isinstance(data, dict):
        raise SettingsError(str(p), [f"top level: expected a mapping of settings, got {_show(data)}"])
    return data


def _check_level(lv: Any, key: str, known_columns: set[str], probs: _Problems) -> None:
    if not isinstance(lv, dict):
        probs.add(key, "a mapping like {kind: exact, column: doi_norm}", lv)
        return
    kind = lv.get("kind")
    if kind is None:
        probs.add(f"{key}.kind", "one of " + ", ".join(LEVEL_KINDS), None,
                  "YAML reads a bare null as nothing; the null level is written kind: missing" if "kind" in lv else None)
        return
    if kind not in LEVEL_KINDS:
        probs.add(f"{key}.kind", "one of " + ", ".join(LEVEL_KINDS), kind, _did_you_mean(kind, LEVEL_KINDS))
        return
    for k in lv:
        if k != "kind" and k not in LEVEL_KINDS[kind] | LEVEL_OPTIONAL:
            probs.add(f"{key}.{k}", f"unknown key for kind {kind!r}", raw=True,
                      hint=_did_you_mean(k, LEVEL_KINDS[kind] | LEVEL_OPTIONAL))
    for req in LEVEL_KINDS[kind]:
        if req not in lv:
            probs.add(f"{key}.{req}", f"required for kind {kind!r}", raw=True)
    cols = []
    if "column" in lv:
        if not isinstance(lv["column"], str):
            probs.add(f"{key}.column", "a column name", lv["column"])
        else:
            cols.append(lv["column"])
    if "columns" in lv:
        if not isinstance(lv["columns"], list) or not all(isinstance(c, str) for c in lv["columns"]):
            probs.add(f"{key}.columns", "a list of column names", lv["columns"])
        else:
            cols += lv["columns"]
    for c in cols:
        if c not in known_columns:
            probs.add(f"{key}.column", "a normalised column", c,
                      _did_you_mean(c, known_columns) or "see 'linkage init' for the column list")
    if "threshold" in lv:
        t = lv["threshold"]
        if isinstance(t, bool) or not isinstance(t, (int, float)):
            probs.add(f"{key}.threshold", "a number", t)
        elif kind in ("jaro_winkler", "jaccard", "array_jaccard") and not 0 < t <= 1:
            probs.add(f"{key}.threshold", "a number in (0, 1]", t)
        elif t < 0:
            probs.add(f"{key}.threshold", "a number >= 0", t)
    if "min" in lv and (isinstance(lv["min"], bool) or not isinstance(lv["min"], int) or lv["min"] < 1):
        probs.add(f"{key}.min", "a whole number >= 1", lv["min"])
    for k in ("fix_m", "fix_u", "m_floor", "m_max"):
        if k in lv:
            v = lv[k]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 1:
                probs.add(f"{key}.{k}", "a probability in (0, 1)", v)
    if "tf" in lv and not isinstance(lv["tf"], bool):
        probs.add(f"{key}.tf", "true or false", lv["tf"])
    for k in ("condition", "and"):
        if k in lv:
            err = check_expression(lv[k], known_columns | SYSTEM_COLUMNS_FOR_SQL)
            if err:
                probs.add(f"{key}.{k}", err, raw=True)


def _check_rule(rule: Any, key: str, known: set[str], probs: _Problems) -> None:
    if isinstance(rule, str):
        err = check_expression(rule, known | SYSTEM_COLUMNS_FOR_SQL)
        if err:
            probs.add(key, err, raw=True)
    elif isinstance(rule, list) and rule and all(isinstance(c, str) for c in rule):
        for c in rule:
            if c not in known:
                probs.add(key, "normalised columns", c, _did_you_mean(c, known))
    elif isinstance(rule, dict) and "columns" in rule:
        _check_rule(rule["columns"], key + ".columns", known, probs)
        if "max_pairs" in rule and (isinstance(rule["max_pairs"], bool) or not isinstance(rule["max_pairs"], int)):
            probs.add(key + ".max_pairs", "a whole number", rule["max_pairs"])
    else:
        probs.add(key, "a list of columns like [doi_norm] or a SQL expression over l./r. columns", rule)


def validate_data(data: dict, extra_columns: set[str] | None = None) -> list[str]:
    """Every problem in a parsed settings mapping, one line each (``key.path: expected X, got Y (hint)``)."""
    probs = _Problems()
    known = set(NORMALISED_COLUMNS) | (extra_columns or set())
    for k in data:
        if k not in TOP_KEYS:
            probs.add(str(k), "unknown key", raw=True, hint=_did_you_mean(k, TOP_KEYS) or
                      "known keys: " + ", ".join(TOP_KEYS))
    v = data.get("version", SCHEMA_VERSION)
    if isinstance(v, bool) or not isinstance(v, int):
        probs.add("version", "a whole number", v)
    elif v > SCHEMA_VERSION:
        probs.add("version", f"a schema version up to {SCHEMA_VERSION}", v, "upgrade linkage to read this file")
    elif v < 1:
        probs.add("version", "1", v)
    lt = data.get("link_type", "auto")
    if lt not in ("auto", "dedupe", "link", "link_and_dedupe"):
        probs.add("link_type", "auto, dedupe, link or link_and_dedupe", lt,
                  _did_you_mean(lt, ["auto", "dedupe", "link", "link_and_dedupe"]))
    if "seed" in data and (isinstance(data["seed"], bool) or not isinstance(data["seed"], int)):
        probs.add("seed", "a whole number", data["seed"])
    cols = data.get("columns", {})
    if not isinstance(cols, dict):
        probs.add("columns", "a mapping of canonical field -> input column", cols)
    else:
        for f, c in cols.items():
            if f not in SYNONYMS:
                probs.add(f"columns.{f}", "a canonical field", f, _did_you_mean(f, SYNONYMS))
            if not isinstance(c, str):
                probs.add(f"columns.{f}", "a column name", c)
    comps = data.get("comparisons")
    if comps is None:
        probs.add("comparisons", "a list of comparisons", None, "every model needs at least one")
    elif not isinstance(comps, list):
        probs.add("comparisons", "a list of comparisons", comps)
    else:
        names = set()
        for i, c in enumerate(comps):
            key = f"comparisons[{i}]"
            if not isinstance(c, dict):
                probs.add(key, "a mapping with name and levels", c)
                continue
            for k in c:
                if k not in ("name", "levels", "description", "splink"):
                    probs.add(f"{key}.{k}", "unknown key", raw=True, hint=_did_you_mean(k, ["name", "levels",
                                                                                             "description", "splink"]))
            name = c.get("name")
            if not isinstance(name, str) or not name:
                probs.add(f"{key}.name", "a name", name)
            elif name in names:
                probs.add(f"{key}.name", f"a unique name; {name!r} is used twice", raw=True)
            else:
                names.add(name)
                key = f"comparisons[{i}] ({name})"
            if "splink" in c:  # native Splink comparison dict: the escape hatch
                sp = c["splink"]
                if not isinstance(sp, dict) or not isinstance(sp.get("comparison_levels"), list):
                    probs.add(f"{key}.splink", "a Splink comparison dict with comparison_levels", sp)
                    continue
                for j, lv in enumerate(sp["comparison_levels"]):
                    cond = lv.get("sql_condition") if isinstance(lv, dict) else None
                    if not isinstance(cond, str):
                        probs.add(f"{key}.splink.comparison_levels[{j}].sql_condition", "SQL text", cond)
                    elif cond.strip().upper() != "ELSE":
                        err = check_expression(cond, known | SYSTEM_COLUMNS_FOR_SQL)
                        if err:
                            probs.add(f"{key}.splink.comparison_levels[{j}].sql_condition", err, raw=True)
                continue
            levels = c.get("levels")
            if not isinstance(levels, list) or not levels:
                probs.add(f"{key}.levels", "a non-empty list of levels", levels)
                continue
            for j, lv in enumerate(levels):
                _check_level(lv, f"{key}.levels[{j}]", known, probs)
            kinds = [lv.get("kind") for lv in levels if isinstance(lv, dict)]
            if kinds and kinds[0] != "missing":
                probs.add(f"{key}.levels[0]", "a null level first ({kind: missing, columns: [...]})", kinds[0],
                          "without it a missing value counts as a disagreement")
            if len([k for k in kinds if k not in ("missing", "else")]) < 1:
                probs.add(f"{key}.levels", "at least one level besides null and else", raw=True)
            if "else" in kinds and kinds.index("else") != len(kinds) - 1:
                probs.add(f"{key}.levels", "'else' as the last level", raw=True)
    rules = data.get("blocking_rules")
    if rules is None:
        probs.add("blocking_rules", "a list of blocking rules", None, "e.g. [[doi_norm], [title_key]]")
    elif not isinstance(rules, list) or not rules:
        probs.add("blocking_rules", "a non-empty list of blocking rules", rules)
    else:
        for i, r in enumerate(rules):
            _check_rule(r, f"blocking_rules[{i}]", known, probs)
    tr = data.get("training", {})
    if not isinstance(tr, dict):
        probs.add("training", "a mapping", tr)
    else:
        allowed = {"prior_rules", "prior_recall", "u_max_pairs", "em_sessions", "max_iterations", "em_convergence",
                   "m_floor", "fallback_prior", "u_excludes_matches", "min_records"}
        for k in tr:
            if k not in allowed:
                probs.add(f"training.{k}", "unknown key", raw=True, hint=_did_you_mean(k, allowed))
        rec = tr.get("prior_recall", 0.8)
        if isinstance(rec, bool) or not isinstance(rec, (int, float)) or not 0 < rec <= 1:
            probs.add("training.prior_recall", "a number in (0, 1]", rec)
        for i, r in enumerate(tr.get("prior_rules", []) or []):
            _check_rule(r, f"training.prior_rules[{i}]", known, probs)
        for i, r in enumerate(tr.get("em_sessions", []) or []):
            _check_rule(r, f"training.em_sessions[{i}]", known, probs)
        mi = tr.get("max_iterations", 25)
        if isinstance(mi, bool) or not isinstance(mi, int) or mi < 1:
            probs.add("training.max_iterations", "a whole number >= 1", mi)
        mp = tr.get("u_max_pairs", "auto")
        if mp != "auto" and (isinstance(mp, bool) or not isinstance(mp, (int, float)) or mp < 1000):
            probs.add("training.u_max_pairs", "'auto' or a number >= 1000", mp)
    th = data.get("threshold", {})
    if not isinstance(th, dict):
        probs.add("threshold", "a mapping like {match_weight: auto}", th)
    else:
        for k in th:
            known_th = ["match_weight", "review_band", "min_pair_probability", "target_precision"]
            if k not in known_th:
                probs.add(f"threshold.{k}", "unknown key", raw=True, hint=_did_you_mean(k, known_th))
        mw = th.get("match_weight", "auto")
        if mw != "auto" and (isinstance(mw, bool) or not isinstance(mw, (int, float))):
            probs.add("threshold.match_weight", "'auto' or a number (bits)", mw)
        band = th.get("review_band", [-2, 2])
        if not (isinstance(band, list) and len(band) == 2 and all(isinstance(b, (int, float)) and not isinstance(
                b, bool) for b in band) and band[0] <= band[1]):
            probs.add("threshold.review_band", "two numbers [below, above] around the threshold", band)
        mpp = th.get("min_pair_probability", 0.97)
        if isinstance(mpp, bool) or not isinstance(mpp, (int, float)) or not 0.5 <= mpp < 1:
            probs.add("threshold.min_pair_probability", "a number in [0.5, 1)", mpp)
        tp = th.get("target_precision", 0.99)
        if isinstance(tp, bool) or not isinstance(tp, (int, float)) or not 0 < tp < 1:
            probs.add("threshold.target_precision", "a number in (0, 1)", tp)
    cl = data.get("clustering", {})
    if not isinstance(cl, dict):
        probs.add("clustering", "a mapping", cl)
    else:
        allowed = {"one_to_one", "guard_rails", "method", "bridge_margin", "one_to_one_max_rate"}
        for k in cl:
            if k not in allowed:
                probs.add(f"clustering.{k}", "unknown key", raw=True, hint=_did_you_mean(k, allowed))
        oto = cl.get("one_to_one", "auto")
        if oto not in ("auto", True, False):
            probs.add("clustering.one_to_one", "auto, true or false", oto)
        meth = cl.get("method", "guarded")
        if meth not in ("guarded", "connected_components"):
            probs.add("clustering.method", "guarded or connected_components", meth)
    vp = data.get("version_policy", {})
    if vp and not isinstance(vp, dict):
        probs.add("version_policy", "a mapping", vp)
    elif isinstance(vp, dict):
        for k, val in vp.items():
            if k not in ("preprint_published", "extended_version", "different_types"):
                probs.add(f"version_policy.{k}", "unknown key", raw=True)
            elif val not in ("merge", "separate"):
                probs.add(f"version_policy.{k}", "merge or separate", val)
    return probs.items


def load_settings(path: str | Path | None = None, extra_columns: set[str] | None = None) -> Spec:
    """Load and validate a settings file (the shipped default when ``path`` is None)."""
    p = Path(path) if path else DEFAULT_SETTINGS
    data = read_settings_file(p)
    problems = validate_data(data, extra_columns)
    if problems:
        raise SettingsError(str(p), problems)
    sha = hashlib.sha256(p.read_bytes()).hexdigest()
    return Spec(path=str(p), data=data, sha256=sha)


# ---------------------------------------------------------------------------------------------
# Compilation to Splink

_DIALECT_SQL = {
    "array_jaccard": {
        "duckdb": "(len(list_intersect(l.{c}, r.{c}))::DOUBLE / nullif(len(list_distinct(list_concat(l.{c}, r.{c}))), 0)) >= {t}",
        "spark": "(size(array_intersect(l.{c}, r.{c})) / size(array_union(l.{c}, r.{c}))) >= {t}",
    },
    # one key is a prefix of the other (a dropped subtitle), or a suffix covering most of it
    "containment": {
        "duckdb": "(least(length(l.{c}), length(r.{c})) >= {n} and (starts_with(l.{c}, r.{c}) or starts_with(r.{c}, l.{c}) "
                  "or ((ends_with(l.{c}, r.{c}) or ends_with(r.{c}, l.{c})) and "
                  "least(length(l.{c}), length(r.{c})) >= 0.6 * greatest(length(l.{c}), length(r.{c})))))",
        "spark": "(least(length(l.{c}), length(r.{c})) >= {n} and (startswith(l.{c}, r.{c}) or startswith(r.{c}, l.{c}) "
                 "or ((endswith(l.{c}, r.{c}) or endswith(r.{c}, l.{c})) and "
                 "least(length(l.{c}), length(r.{c})) >= 0.6 * greatest(length(l.{c}), length(r.{c})))))",
    },
    "array_equal": {
        "duckdb": "l.{c} = r.{c}",
        "spark": "l.{c} = r.{c}",
    },
    "date_diff": {
        "duckdb": "abs(date_diff('day', l.{c}, r.{c})) <= {t}",
        "spark": "abs(datediff(l.{c}, r.{c})) <= {t}",
    },
}


def _level_creator(lv: dict, dialect: str):
    import splink.comparison_level_library as cll

    kind = lv["kind"]
    c = lv.get("column")
    if kind == "missing":
        cols = lv["columns"]
        cond = (f"coalesce({', '.join('l.' + x for x in cols)}) is null or "
                f"coalesce({', '.join('r.' + x for x in cols)}) is null") if len(cols) > 1 else \
            f"l.{cols[0]} is null or r.{cols[0]} is null"
        lc = cll.CustomLevel(to_level_sql(cond, dialect), label_for_charts=lv.get("label", "missing")).configure(
            is_null_level=True)
    elif kind == "exact":
        lc = cll.ExactMatchLevel(c)
    elif kind == "jaro_winkler":
        lc = cll.JaroWinklerLevel(c, lv["threshold"])
    elif kind == "levenshtein":
        lc = cll.LevenshteinLevel(c, lv["threshold"])
    elif kind == "jaccard":
        lc = cll.JaccardLevel(c, lv["threshold"])
    elif kind == "array_intersect":
        lc = cll.ArrayIntersectLevel(c, lv["min"])
    elif kind == "abs_diff":
        lc = cll.AbsoluteDifferenceLevel(c, lv["threshold"])
    elif kind == "both_differ":
        lc = cll.CustomLevel(to_level_sql(f"l.{c} is not null and r.{c} is not null and l.{c} <> r.{c}", dialect))
    elif kind == "sql":
        lc = cll.CustomLevel(to_level_sql(lv["condition"], dialect))
    elif kind == "else":
        lc = cll.ElseLevel()
    else:
        tpl = _DIALECT_SQL[kind][dialect]
        lc = cll.CustomLevel(tpl.format(c=c, t=lv.get("threshold"), n=lv.get("min_length", 1)).replace(
            f"l.{c}", f'"{c}_l"' if dialect == "duckdb" else f"`{c}_l`").replace(
            f"r.{c}", f'"{c}_r"' if dialect == "duckdb" else f"`{c}_r`"))
    extra = lv.get("and")
    if extra:
        lc = cll.And(lc, cll.CustomLevel(to_level_sql(extra, dialect)))
    conf: dict[str, Any] = {}
    if "label" in lv:
        conf["label_for_charts"] = lv["label"]
    if lv.get("tf"):
        conf["tf_adjustment_column"] = c
        conf["tf_adjustment_weight"] = 1.0
    if "fix_m" in lv:
        conf["m_probability"] = lv["fix_m"]
        conf["fix_m_probability"] = True
    if "fix_u" in lv:
        conf["u_probability"] = lv["fix_u"]
        conf["fix_u_probability"] = True
    return lc.configure(**conf) if conf else lc


def compile_comparison(comp: dict, dialect: str):
    import splink.comparison_library as cl

    if "splink" in comp:
        d = dict(comp["splink"])
        d.setdefault("output_column_name", comp["name"])
        return d
    levels = list(comp["levels"])
    if levels[-1].get("kind") != "else":
        levels.append({"kind": "else"})
    return cl.CustomComparison(comparison_levels=[_level_creator(lv, dialect) for lv in levels],
                               output_column_name=comp["name"], comparison_description=comp.get("description"))


def blocking_rule_sql(rule: Any) -> str:
    """A blocking rule in our vocabulary as SQL over l./r. columns."""
    if isinstance(rule, dict):
        rule = rule["columns"]
    if isinstance(rule, str):
        return rule
    return " and ".join(f"l.{c} = r.{c}" for c in rule)


def compile_settings(spec: Spec, dialect: str, link_type: str, retain: list[str] | None = None):
    """A Splink ``SettingsCreator`` for ``dialect`` ('duckdb' or 'spark')."""
    from splink import SettingsCreator

    rules = []
    for r in spec.get("blocking_rules"):
        sql = blocking_rule_sql(r)
        if link_type == "link":
            sql = f"({sql}) and l.source <> r.source"
        rules.append({"blocking_rule": sql, "sql_dialect": "duckdb"})
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[compile_comparison(c, dialect) for c in spec.comparisons],
        blocking_rules_to_generate_predictions=rules,
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=["source", *(retain or [])],
        probability_two_random_records_match=float(spec.training.get("fallback_prior", 1e-4)),
        em_convergence=float(spec.training.get("em_convergence", 0.0001)),
        max_iterations=int(spec.training.get("max_iterations", 25)),
    )
