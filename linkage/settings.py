"""Settings files: load, migrate, validate (every problem at once), and compile to Splink per backend.

A settings file is YAML (or JSON) in the project's vocabulary: comparisons as lists of levels
(``{kind: exact, column: doi_norm}``), blocking rules as lists of columns, a training plan,
thresholds. ``compile_settings(spec, dialect)`` turns it into a Splink ``SettingsCreator``; the
settings file, not a trained model JSON, is the portable artefact.

What the validator knows is declared once, as a JSON Schema (:func:`settings_schema`, published as
``settings/schema.json``, documented in ``settings/README.md``); a small interpreter walks a file
against it and words each problem as ``key.path: expected X, got Y (hint)``. Checks a schema cannot
express (a null level first, SQL safety and binding, unique names, pair counts on real sources) are
code below. Settings are data, not code: SQL inside a file is restricted by :mod:`linkage.sqlguard`.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

from .errors import LinkageError, SettingsError
from .fields import SYNONYMS
from .normalise import NORMALISED_COLUMNS, SET_COLUMNS
from .sqlguard import (
    SAFE_FUNCTIONS,
    Binder,
    UnsafeSQLError,
    canonical_sql,
    check_expression,
    parse_expression,
    to_level_sql,
)

SCHEMA_VERSION = 1
OLDEST_VERSION = 0  # files of versions OLDEST_VERSION .. SCHEMA_VERSION - 1 are migrated when read
DEFAULT_BLOCKING_MAX_PAIRS = 10_000_000
MAX_FILE_BYTES = 1_000_000
PACKAGE_SETTINGS = Path(__file__).parent / "data"
DEFAULT_SETTINGS = PACKAGE_SETTINGS / "scholarly.yaml"
SYSTEM_COLUMNS_FOR_SQL = {"unique_id", "source"}
RESERVED_COMPARISON_NAMES = {"match"}  # pairs.parquet has match_weight / match_probability

_NO_DEFAULT = object()


# ---------------------------------------------------------------------------------------------
# What a settings file may contain: a JSON Schema (draft 2020-12) with a few x- annotations that
# the interpreter below uses for wording (x-expected, x-hint), SQL checks (x-sql), paths
# (x-label-key), level dispatch (x-discriminator) and keys that are accepted but do nothing (x-no-effect).

def _columns_of(*types: str) -> list[str]:
    return [c for c, t in NORMALISED_COLUMNS.items() if t in types]


def _num(description: str, *, integer: bool = False, minimum: float | None = None, maximum: float | None = None,
         exclusive_minimum: float | None = None, exclusive_maximum: float | None = None,
         default: Any = _NO_DEFAULT) -> dict:
    s: dict[str, Any] = {"type": "integer" if integer else "number"}
    if description:
        s["description"] = description
    for k, v in (("minimum", minimum), ("maximum", maximum), ("exclusiveMinimum", exclusive_minimum),
                 ("exclusiveMaximum", exclusive_maximum)):
        if v is not None:
            s[k] = v
    if default is not _NO_DEFAULT:
        s["default"] = default
    return s


def _prob(description: str, default: Any = _NO_DEFAULT) -> dict:
    return _num(description, exclusive_minimum=0, exclusive_maximum=1, default=default)


def _ref(name: str, description: str | None = None) -> dict:
    s: dict[str, Any] = {"$ref": f"#/$defs/{name}"}
    if description:
        s["description"] = description
    return s


LEVEL_COMMON: dict[str, dict] = {
    "label": {"type": "string", "minLength": 1, "description":
              "Name of the level in reports, explanations and pairs.parquet (NAME_level). m_max and the u "
              "estimate from value frequencies find their level by this label, so give every level its own."},
    "fix_m": _prob("Fix this level's m probability (chance of this level among true matches) instead of "
                   "training it, e.g. a small m for 'different DOIs' so one conflicting identifier counts "
                   "strongly against a match."),
    "fix_u": _prob("Fix this level's u probability (chance of this level among non-matches) instead of "
                   "estimating it, e.g. for a level whose agreement is nearly implied by other comparisons."),
    "m_max": _prob("Upper bound on the trained m of this level (applied after training; needs a label), e.g. "
                   "to stop EM from learning that true matches often disagree on a field."),
    "m_min": _prob("Lower bound on the trained m of this level (applied after training; needs a label), e.g. "
                   "so EM cannot learn from one data set that true matches never sit one year apart."),
    "and": _ref("sql", "Extra SQL condition the pair must also meet for this level (AND), over "
                       "l.<column> / r.<column>."),
}
# kind -> (description, required keys, optional kind-specific keys)
LEVEL_KINDS: dict[str, tuple[str, dict[str, dict], dict[str, dict]]] = {
    "missing": ("The null level (write it first in every comparison): the pair has no evidence when the "
                "listed columns are all empty on either record. Weight 0.",
                {"columns": _ref("column_list", "Columns that must be present; with several, the level "
                                                "applies when all of them are empty on one side.")}, {}),
    "exact": ("The two values are equal.", {"column": _ref("column")},
              {"tf": {"type": "boolean", "default": False, "description":
                      "Term-frequency adjustment: agreeing on a rare value counts more than on a common "
                      "one (e.g. a venue)."}}),
    "jaro_winkler": ("Jaro-Winkler similarity of two texts >= threshold.", {
        "column": _ref("text_column"),
        "threshold": _num("Similarity in (0, 1].", exclusive_minimum=0, maximum=1)}, {}),
    "levenshtein": ("Edit distance between two texts <= threshold.", {
        "column": _ref("text_column"),
        "threshold": _num("Largest number of edits.", integer=True, minimum=0)}, {}),
    "jaccard": ("Jaccard similarity of the two texts' characters >= threshold.", {
        "column": _ref("text_column"),
        "threshold": _num("Similarity in (0, 1].", exclusive_minimum=0, maximum=1)}, {}),
    "array_intersect": ("The two lists share at least `min` elements.", {
        "column": _ref("list_column"),
        "min": _num("Smallest number of shared elements.", integer=True, minimum=1)}, {}),
    "array_jaccard": ("Shared elements / all distinct elements of the two lists >= threshold.", {
        "column": _ref("list_column"),
        "threshold": _num("Overlap in (0, 1].", exclusive_minimum=0, maximum=1)}, {}),
    "array_equal": ("The two lists are equal, in order.", {"column": _ref("list_column")}, {}),
    "containment": ("One text starts with the other (a dropped subtitle), or ends with it and covers at least "
                    "60% of it; the shorter text has at least `min_length` characters.",
                    {"column": _ref("text_column")},
                    {"min_length": _num("Shortest text that counts.", integer=True, minimum=1, default=1)}),
    "abs_diff": ("The absolute difference of two numbers (of two dates: in days) <= threshold.", {
        "column": _ref("number_column"),
        "threshold": _num("Largest difference.", minimum=0)}, {}),
    "date_diff": ("The two dates are at most `threshold` days apart.", {
        "column": _ref("date_column"),
        "threshold": _num("Largest difference in days.", minimum=0)},
        {"unit": {"enum": ["day"], "default": "day", "description": "Unit of the threshold: days (the only "
                                                                    "unit)."}}),
    "both_differ": ("Both values are present and different.", {"column": _ref("column")}, {}),
    "sql": ("Your own condition, in SQL over l.<column> and r.<column> (restricted: see 'SQL in settings').",
            {"condition": _ref("sql")}, {}),
    "else": ("Every other pair (write it last; added when missing).", {}, {}),
}


def _level_variant(kind: str) -> dict:
    doc, required, optional = LEVEL_KINDS[kind]
    props: dict[str, Any] = {"kind": {"const": kind, "description": doc}}
    props.update(required)
    props.update(optional)
    common = dict(LEVEL_COMMON)
    if kind == "missing":  # the null level has no m/u: only its label applies
        common = {"label": LEVEL_COMMON["label"]}
    elif kind in ("sql", "else"):
        common.pop("and")
    props.update(common)
    return {"type": "object", "title": kind, "properties": props, "required": ["kind", *required],
            "additionalProperties": False}


def _blocking_rule_schema() -> dict:
    return {
        "x-expected": "a list of columns like [doi_norm], a SQL condition over l./r. columns, or "
                      "{columns: [...] | sql: '...', max_pairs: N}",
        "anyOf": [
            _ref("column_list", "Pairs whose columns are all equal (and present)."),
            _ref("sql", "Pairs meeting this SQL condition over l.<column> and r.<column>."),
            {"type": "object", "description": "A rule with its own pair limit.",
             "properties": {
                 "columns": _ref("column_list"),
                 "sql": _ref("sql"),
                 "max_pairs": _num("Largest number of candidate pairs this rule may make on your sources "
                                   "(overrides blocking_max_pairs).", integer=True, minimum=1),
                 "description": {"type": "string", "description": "Free text."}},
             "additionalProperties": False,
             "oneOf": [{"required": ["columns"]}, {"required": ["sql"]}],
             "x-expected": "a mapping with either columns or sql"},
        ],
    }


def settings_schema(extra_columns: Iterable[str] = ()) -> dict:
    """The settings format as a JSON Schema (draft 2020-12): ``settings/schema.json`` is this, written out."""
    extra = sorted(set(extra_columns) - set(NORMALISED_COLUMNS))
    all_columns = list(NORMALISED_COLUMNS) + extra
    col_hint = "the normalised columns are listed in settings/README.md and in the header of 'linkage init'"
    rules = {"type": "array", "items": _ref("blocking_rule")}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"linkage settings file, version {SCHEMA_VERSION}",
        "description": "A Fellegi-Sunter model for duplicate scholarly records: comparisons, blocking, "
                       "training, threshold and clustering. Check a file with 'linkage validate FILE [SOURCES]'.",
        "type": "object",
        "additionalProperties": False,
        "required": ["comparisons", "blocking_rules"],
        "properties": {
            "version": {"type": "integer", "const": SCHEMA_VERSION, "description":
                        f"Version of the settings format ({SCHEMA_VERSION}). Older files are migrated when "
                        "read ('linkage validate --upgrade FILE' rewrites them); newer ones need a newer "
                        "linkage. A file without it is read as version 1."},
            "name": {"type": "string", "description": "Name of the model (recorded in run.json)."},
            "description": {"type": "string", "description": "Free text."},
            "link_type": {"enum": ["auto", "dedupe", "link", "link_and_dedupe"], "default": "auto",
                          "description": "Which pairs are compared. link: only records of different sources; "
                                         "dedupe and link_and_dedupe: every pair, within and across sources; "
                                         "auto: dedupe for one source, link_and_dedupe for several."},
            "columns": {"type": "object", "default": {}, "x-expected": "a mapping of canonical field -> column",
                        "propertyNames": {"enum": list(SYNONYMS), "x-expected": "a canonical field"},
                        "additionalProperties": {"type": "string", "minLength": 1, "x-expected": "a column name"},
                        "description": "Input column per canonical field (title, authors, date, year, venue, doi, "
                                       "...), for every source; a source without that column falls back to the "
                                       "usual names (author/authors, journal/venue/booktitle, ...)."},
            "seed": _num("Random seed for u sampling ('linkage run --seed' overrides it).", integer=True,
                         default=42),
            "blocking_max_pairs": _num(
                "Largest number of candidate pairs one blocking rule (or prior rule or EM session) may make on "
                "your sources; 'linkage validate FILE SOURCES' reports rules above it.", integer=True,
                minimum=1, default=DEFAULT_BLOCKING_MAX_PAIRS),
            "comparisons": {
                "type": "array", "minItems": 1, "x-expected": "a list of comparisons",
                "description": "The model's fields of evidence. Each pair gets one level per comparison; "
                               "its weight is log2(m/u) of that level.",
                "items": {
                    "type": "object", "x-label-key": "name", "additionalProperties": False,
                    "x-expected": "a mapping with name and levels",
                    "required": ["name"],
                    "oneOf": [{"required": ["levels"]}, {"required": ["splink"]}],
                    "properties": {
                        "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$",
                                 "x-expected": "a name in lower case letters, digits and _",
                                 "description": "Prefix of the comparison's columns in pairs.parquet "
                                                "(NAME_level, NAME_gamma, NAME_weight); unique."},
                        "description": {"type": "string", "description": "Free text, shown in the report."},
                        "levels": {"type": "array", "minItems": 2, "items": _ref("level"),
                                   "x-expected": "a list of levels",
                                   "description": "Levels from the null level (first) through the strongest "
                                                  "agreement to 'else' (last); a pair takes the first level it "
                                                  "meets."},
                        "splink": _ref("splink_comparison"),
                    },
                },
            },
            "blocking_rules": {**rules, "minItems": 1, "x-expected": "a non-empty list of blocking rules",
                               "description": "Candidate pairs: a pair is scored when any rule holds. A list of "
                                              "columns means all equal and present; a string is SQL over "
                                              "l.<column> and r.<column>."},
            "training": {
                "type": "object", "additionalProperties": False, "default": {},
                "description": "Training without labels.",
                "properties": {
                    "prior_rules": {**rules, "x-expected": "a list of blocking rules", "description": "Rules whose pairs are nearly all true matches; "
                                                            "the prior (chance two random records match) is "
                                                            "estimated from them."},
                    "prior_recall": _num("Share of all true matches the prior rules are assumed to find.",
                                         exclusive_minimum=0, maximum=1, default=0.7),
                    "u_max_pairs": {"anyOf": [{"const": "auto"}, _num("", minimum=1000)], "default": "auto",
                                    "x-expected": "'auto' or a number >= 1000",
                                    "description": "Random pairs sampled to estimate u (chance of each level "
                                                   "among non-matches); auto sizes it from the data."},
                    "em_sessions": {**rules, "x-expected": "a list of blocking rules", "description": "Blocking rules for the EM sessions that estimate m; "
                                                            "each session fixes the columns of its rule."},
                    "max_iterations": _num("Most EM iterations per session.", integer=True, minimum=1, default=25),
                    "em_convergence": _num("EM stops when no parameter moves more than this.",
                                           exclusive_minimum=0, exclusive_maximum=1, default=0.0001),
                    "m_floor": _prob("Smallest m of any level after training (except fixed ones): no single "
                                     "disagreeing field vetoes a pair.", default=0.005),
                    "fallback_prior": _prob("Prior used when the prior rules find no pairs.", default=0.0001),
                    "min_records": _num("Runs on fewer records than this do not train: they score with the "
                                        "parameters of the shipped default model (linkage/data/default_model.json).",
                                        integer=True, minimum=0, default=200),
                    "em_max_pairs": _num("On 20,000 records or more, each EM session trains on about this many of "
                                         "its blocked pairs (a hash sample); smaller data uses them all.",
                                         minimum=1000, default=300000),
                    "u_excludes_matches": {"type": "boolean", "default": False, "description":
                                           "Take the true matches out of u after training (u = (P - prior * m) / "
                                           "(1 - prior)): for dense data, where random pairs often match."},
                },
            },
            "threshold": {
                "type": "object", "additionalProperties": False, "default": {},
                "description": "The decision threshold (labels are never used).",
                "properties": {
                    "match_weight": {"anyOf": [{"const": "auto"}, _num("")], "default": "auto",
                                     "x-expected": "'auto' or a number (bits)",
                                     "description": "Pairs at or above this match weight (bits) link. auto: "
                                                    "the larger of the weight where one pair's posterior "
                                                    "reaches min_pair_probability and the lowest weight "
                                                    "where the linked pairs' expected precision reaches "
                                                    "target_precision."},
                    "min_pair_probability": _num("With match_weight auto: smallest posterior of a linked pair.",
                                                 minimum=0.5, exclusive_maximum=1, default=0.97),
                    "target_precision": _prob("With match_weight auto: expected precision of the linked pairs.",
                                              default=0.99),
                    "review_band": {"type": "array", "minItems": 2, "maxItems": 2, "items": _num(""),
                                    "default": [-4, 4], "x-expected": "two numbers [below, above]",
                                    "description": "Pairs this many bits below/above the threshold go to "
                                                   "clerical review (linkage review, explain)."},
                },
            },
            "clustering": {
                "type": "object", "additionalProperties": False, "default": {},
                "description": "From linked pairs to works.",
                "properties": {
                    "method": {"enum": ["guarded", "connected_components"], "default": "guarded",
                               "description": "guarded: join pairs strongest first and refuse joins that put "
                                              "conflicting records (different DOIs from one source, different "
                                              "arXiv ids, generic titles of different issues, weak bridges, "
                                              "two multi-record clusters most of whose scored pairs fall below "
                                              "the threshold) in one work, and links into a one-to-one source "
                                              "that do not beat the record's next candidate there by 2 bits "
                                              "(ambiguous); connected_components: every linked pair joins."},
                    "one_to_one": {"enum": ["auto", True, False], "default": "auto",
                                   "description": "A one-to-one source links to at most one record of each "
                                                  "other source. auto: sources with few within-source links."},
                    "one_to_one_max_rate": _num("With one_to_one auto: largest share of a source's records "
                                                "linking within it, or of records linking to two of its "
                                                "records, for the source to count as one-to-one.",
                                                exclusive_minimum=0, maximum=1, default=0.1),
                    "guard_rails": {"type": "boolean", "default": True, "x-no-effect":
                                    "use clustering.method: connected_components to turn the guard rails off",
                                    "description": "Accepted for compatibility; has no effect (the guard "
                                                   "rails are part of method guarded)."},
                    "bridge_margin": _num("A join between two multi-record clusters needs an edge this many bits above "
                                          "the threshold, or support from several edges (weak-bridge guard).",
                                          minimum=0, default=6.0),
                    "ambiguity_margin": _num("In a one-to-one source, a record's link to one record must be this many bits "
                                             "stronger than its link to another record of that source, or neither "
                                             "link is made (the evidence cannot tell which work it is).",
                                             minimum=0, default=2.0),
                    "min_link_share": _num("Two multi-record clusters join only if at least this share of the scored "
                                           "pairs between them are at or above the threshold (split-vote guard; 0 "
                                           "turns it off).", minimum=0, maximum=1, default=0.5),
                },
            },
            "version_policy": {
                "type": "object", "additionalProperties": False, "default": {},
                "description": "How versions of one work are treated. Each scored pair records how the two "
                               "records' publication forms relate (pairs.parquet relation); with method guarded, "
                               "'separate' keeps that relation in different works whatever the score.",
                "properties": {
                    "preprint_published": {"enum": ["merge", "separate"], "default": "merge", "description":
                                           "An arXiv/SSRN preprint and its conference or journal version."},
                    "different_types": {"enum": ["merge", "separate"], "default": "separate", "description":
                                        "A technical report or thesis and a published version."},
                    "extended_version": {"enum": ["merge", "separate"], "default": "merge", "description":
                                         "A conference paper and its (extended) journal version."},
                },
            },
            "merge": {"type": "object", "x-no-effect": "merged records use the built-in rules",
                      "description": "Accepted; has no effect yet (merged records use the built-in rules)."},
            "decisions": {"type": "string", "minLength": 1,
                          "description": "Clerical-review decisions CSV (unique_id_l, unique_id_r, decision) "
                                         "applied as must-link / cannot-link constraints; a relative path is "
                                         "relative to the settings file's folder."},
        },
        "$defs": {
            "column": {"enum": all_columns, "x-expected": "a normalised column", "x-hint": col_hint},
            "text_column": {"enum": _columns_of("VARCHAR") + extra, "x-expected": "a text column",
                            "x-column-kind": "text"},
            "list_column": {"enum": _columns_of("VARCHAR[]"), "x-expected": "a list column",
                            "x-column-kind": "list"},
            "number_column": {"enum": _columns_of("INTEGER", "DATE"), "x-expected": "a number or date column",
                              "x-column-kind": "number"},
            "date_column": {"enum": _columns_of("DATE"), "x-expected": "a date column", "x-column-kind": "date"},
            "column_list": {"type": "array", "minItems": 1, "items": _ref("column"),
                            "x-expected": "a list of normalised columns"},
            "sql": {"type": "string", "minLength": 1, "x-sql": "lr",
                    "x-expected": "a SQL condition over l.<column> and r.<column>"},
            "blocking_rule": _blocking_rule_schema(),
            "level": {"type": "object", "x-discriminator": "kind", "x-expected": "a level like {kind: exact, "
                                                                               "column: doi_norm}",
                      "oneOf": [_level_variant(k) for k in LEVEL_KINDS]},
            "splink_comparison": {
                "type": "object", "additionalProperties": False, "required": ["comparison_levels"],
                "description": "A native Splink comparison dict (the escape hatch); conditions use "
                               "<column>_l / <column>_r and are restricted like all settings SQL.",
                "properties": {
                    "comparison_levels": {"type": "array", "minItems": 2, "items": _ref("splink_level")},
                    "output_column_name": {"type": "string", "description": "Must equal the comparison's name."},
                    "comparison_description": {"type": "string"},
                },
            },
            "splink_level": {
                "type": "object", "additionalProperties": False, "required": ["sql_condition"],
                "properties": {
                    "sql_condition": {"type": "string", "minLength": 1, "x-sql": "suffix",
                                      "x-expected": "a SQL condition over <column>_l and <column>_r, or ELSE"},
                    "label_for_charts": {"type": "string"},
                    "is_null_level": {"type": "boolean"},
                    "m_probability": _num("", minimum=0, maximum=1),
                    "u_probability": _num("", minimum=0, maximum=1),
                    "fix_m_probability": {"type": "boolean"},
                    "fix_u_probability": {"type": "boolean"},
                    "tf_adjustment_column": _ref("column"),
                    "tf_adjustment_weight": _num("", minimum=0, maximum=1),
                    "tf_minimum_u_value": _num("", minimum=0, maximum=1),
                    "disable_tf_exact_match_detection": {"type": "boolean"},
                },
            },
        },
    }


# ---------------------------------------------------------------------------------------------
# The interpreter: walk data against the schema, word each problem.

@dataclass
class Spec:
    """A validated settings file (migrated to the current version)."""

    path: str
    data: dict
    sha256: str
    notes: list[str] = field(default_factory=list)  # warnings: migration, no-effect keys, missing version
    version_read: int = SCHEMA_VERSION

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


def _show(v: Any) -> str:
    if isinstance(v, str):
        return repr(v if len(v) <= 80 else v[:79] + "…")
    if isinstance(v, bool):
        return f"{str(v).lower()} (true/false)"
    if isinstance(v, (int, float)):
        return f"{v} (a number)"
    if v is None:
        return "nothing"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "a mapping"
    return f"{v} (a {type(v).__name__})"


def _lit(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if v is None:
        return "null"
    return repr(v) if isinstance(v, str) else str(v)


def _did_you_mean(word: Any, options: Iterable[Any]) -> str | None:
    opts = [str(o) for o in options]
    m = difflib.get_close_matches(str(word), opts, n=1, cutoff=0.6)
    if not m:  # 'yeer' -> year_norm: compare with the columns' stems too
        stems = {re.sub(r"_(norm|key)$", "", o): o for o in opts}
        hit = difflib.get_close_matches(str(word), list(stems), n=1, cutoff=0.6)
        m = [stems[hit[0]]] if hit else []
    return f"did you mean {m[0]!r}?" if m else None


def _range(s: dict) -> str:
    lo, lo_x = (s["exclusiveMinimum"], True) if "exclusiveMinimum" in s else (s.get("minimum"), False)
    hi, hi_x = (s["exclusiveMaximum"], True) if "exclusiveMaximum" in s else (s.get("maximum"), False)
    if lo is not None and hi is not None:
        return f" in {'(' if lo_x else '['}{lo}, {hi}{')' if hi_x else ']'}"
    if lo is not None:
        return f" {'>' if lo_x else '>='} {lo}"
    if hi is not None:
        return f" {'<' if hi_x else '<='} {hi}"
    return ""


def _json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


def _type_ok(v: Any, t: str | list[str]) -> bool:
    types = [t] if isinstance(t, str) else t
    jt = _json_type(v)
    return jt in types or (jt == "integer" and "number" in types)


class _Checker:
    """Walks parsed settings against :func:`settings_schema`, collecting problems and warnings."""

    def __init__(self, schema: dict, columns: set[str], binder: Binder | None):
        self.schema = schema
        self.columns = columns
        self.binder = binder
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.sql_cache: dict[tuple[str, str], Any] = {}

    # wording -------------------------------------------------------------------------------
    def add(self, path: str, expected: str, got: Any, hint: str | None = None, shown: bool = False) -> None:
        msg = f"{path or 'top level'}: expected {expected}, got {got if shown else _show(got)}"
        self.problems.append(msg + (f" ({hint})" if hint else ""))

    def resolve(self, s: dict) -> dict:
        while "$ref" in s:
            s = self.schema["$defs"][s["$ref"].rsplit("/", 1)[-1]]
        return s

    def describe(self, s: dict) -> str:
        if "x-expected" in s:
            return s["x-expected"]
        s = self.resolve(s)
        if "x-expected" in s:
            return s["x-expected"]
        if "const" in s:
            return _lit(s["const"])
        if "enum" in s:
            vals = [_lit(v) for v in s["enum"]]
            return "one of " + ", ".join(vals) if len(vals) <= 12 else f"one of {len(vals)} values"
        if "anyOf" in s:
            return " or ".join(self.describe(v) for v in s["anyOf"])
        t = s.get("type")
        if t == "integer":
            return "a whole number" + _range(s)
        if t == "number":
            return "a number" + _range(s)
        if t == "string":
            return "text"
        if t == "boolean":
            return "true or false"
        if t == "array":
            return "a list"
        if t == "object":
            return "a mapping"
        return "a value"

    # walking -------------------------------------------------------------------------------
    def passes(self, v: Any, s: dict) -> bool:
        saved = self.problems, self.warnings
        self.problems, self.warnings = [], []
        try:
            self.walk(v, s, "")
            return not self.problems
        finally:
            self.problems, self.warnings = saved

    def walk(self, v: Any, s: dict, path: str) -> None:
        outer = s
        s = self.resolve(s)
        if "x-no-effect" in s:
            self.warnings.append(f"{path}: has no effect in this version of linkage ({s['x-no-effect']})")
        if "anyOf" in s:
            self._any_of(v, s, outer, path)
            return
        if "x-discriminator" in s:
            self._discriminated(v, s, path)
            return
        t = s.get("type")
        if t is not None and not _type_ok(v, t):
            self.add(path, self.describe(outer), v, outer.get("x-hint") or s.get("x-hint"))
            return
        if "const" in s and v != s["const"]:
            self.add(path, self.describe(outer), v)
            return
        if "enum" in s and (v not in s["enum"] or _json_type(v) not in {_json_type(e) for e in s["enum"]}):
            self._bad_enum(v, s, outer, path)
            return
        if isinstance(v, (int, float)) and not isinstance(v, bool) and not self._in_range(v, s):
            self.add(path, self.describe(outer), v)
            return
        if isinstance(v, str):
            self._string(v, s, outer, path)
        elif isinstance(v, list):
            self._array(v, s, path)
        elif isinstance(v, dict):
            self._object(v, s, outer, path)

    def _in_range(self, v: float, s: dict) -> bool:
        return not (("minimum" in s and v < s["minimum"]) or ("maximum" in s and v > s["maximum"])
                    or ("exclusiveMinimum" in s and v <= s["exclusiveMinimum"])
                    or ("exclusiveMaximum" in s and v >= s["exclusiveMaximum"]))

    def _bad_enum(self, v: Any, s: dict, outer: dict, path: str) -> None:
        hint = None
        kind = s.get("x-column-kind")
        if kind and isinstance(v, str) and v in NORMALISED_COLUMNS:
            t = NORMALISED_COLUMNS[v]
            what = {"VARCHAR": "text", "VARCHAR[]": "list", "INTEGER": "number", "DATE": "date",
                    "BOOLEAN": "true/false"}.get(t, t)
            hint = f"{v} is a {what} column; this kind compares {kind} columns: {', '.join(map(str, s['enum']))}"
        elif isinstance(v, (str, bool)) or v is None:
            hint = _did_you_mean(v, s["enum"]) if isinstance(v, str) else None
            if len(s["enum"]) > 12 and hint is None:
                hint = s.get("x-hint")
        self.add(path, self.describe(outer), v, hint)

    def _string(self, v: str, s: dict, outer: dict, path: str) -> None:
        if len(v) < s.get("minLength", 0):
            self.add(path, self.describe(outer), v)
            return
        if "pattern" in s and not re.fullmatch(s["pattern"].strip("^$"), v):
            self.add(path, self.describe(outer), v)
            return
        notation = s.get("x-sql")
        if notation:
            if notation == "suffix" and v.strip().upper() == "ELSE":
                return
            if (v, notation) not in self.sql_cache:
                problem = check_expression(v, self.columns, notation)
                if problem is None and self.binder is not None:
                    problem = self.binder.check(v, notation)
                self.sql_cache[(v, notation)] = problem
            problem = self.sql_cache[(v, notation)]
            if problem is not None:
                self.add(path, problem.expected, problem.got, problem.hint, shown=True)

    def _array(self, v: list, s: dict, path: str) -> None:
        if len(v) < s.get("minItems", 0) or len(v) > s.get("maxItems", len(v)):
            n = s.get("minItems", 0)
            m = s.get("maxItems")
            size = f"exactly {n}" if m == n else f"at least {n}" if m is None else f"{n} to {m}"
            self.add(path, f"{self.describe(s)} with {size} item{'s' if (m or n) != 1 else ''}",
                     f"{len(v)} item{'s' if len(v) != 1 else ''}", shown=True)
            if not v:
                return
        item = s.get("items")
        if item is None:
            return
        label_key = self.resolve(item).get("x-label-key")
        for i, x in enumerate(v):
            p = f"{path}[{i}]"
            if label_key and isinstance(x, dict) and isinstance(x.get(label_key), str) and x[label_key]:
                p += f" ({x[label_key]})"
            self.walk(x, item, p)

    def _object(self, v: dict, s: dict, outer: dict, path: str) -> None:
        props = s.get("properties", {})
        extra = s.get("additionalProperties", True)
        names = s.get("propertyNames")
        pre = f"{path}." if path else ""
        for k, x in v.items():
            kp = f"{pre}{k}"
            if names is not None and k not in names.get("enum", [k]):
                self.add(kp, self.describe(names), k, _did_you_mean(k, names["enum"]))
                continue
            if k in props:
                self.walk(x, props[k], kp)
            elif extra is False:
                hint = _did_you_mean(k, props) or (f"known keys{' of ' + path if path else ''}: " + ", ".join(props))
                self.add(kp, f"a known key{' of ' + path if path else ''}", f"unknown key {_show(k)}", hint,
                         shown=True)
            elif isinstance(extra, dict):
                self.walk(x, extra, kp)
        for req in s.get("required", []):
            if req not in v:
                self.add(f"{pre}{req}", self.describe(props.get(req, {})), None, "required")
        alts = s.get("oneOf")
        if alts and all(set(a) == {"required"} for a in alts):
            keys = [a["required"][0] for a in alts]
            present = [k for k in keys if k in v]
            if len(present) != 1:
                got = f"both {' and '.join(present)}" if present else f"neither {' nor '.join(keys)}"
                self.add(path, "exactly one of " + " or ".join(keys), got, shown=True)

    def _any_of(self, v: Any, s: dict, outer: dict, path: str) -> None:
        fitting = [a for a in s["anyOf"] if "type" not in self.resolve(a) or _type_ok(v, self.resolve(a)["type"])]
        fitting = [a for a in fitting if "const" not in self.resolve(a) or _json_type(v) == _json_type(
            self.resolve(a)["const"])]
        if not fitting:
            self.add(path, self.describe(outer), v)
            return
        for a in fitting:
            if self.passes(v, a):
                self.walk(v, a, path)  # again, for its warnings
                return
        if len(fitting) == 1 and (isinstance(v, (list, dict)) or "x-sql" in self.resolve(fitting[0])):
            self.walk(v, fitting[0], path)  # say what inside it is wrong
        else:
            self.add(path, self.describe(outer), v)

    def _discriminated(self, v: Any, s: dict, path: str) -> None:
        key = s["x-discriminator"]
        if not isinstance(v, dict):
            self.add(path, self.describe(s), v)
            return
        variants = {a["properties"][key]["const"]: a for a in s["oneOf"]}
        kind = v.get(key)
        if kind not in variants or not isinstance(kind, str):
            hint = (_did_you_mean(kind, variants) if isinstance(kind, str) else
                    "YAML reads a bare null as nothing: the null level is written kind: missing"
                    if key in v and kind is None else "required")
            self.add(f"{path}.{key}", "one of " + ", ".join(variants), kind, hint)
            return
        self.walk(v, variants[kind], path)


# ---------------------------------------------------------------------------------------------
# Checks a schema cannot express

def _semantic_checks(data: dict, ck: _Checker) -> None:
    comps = data.get("comparisons")
    if isinstance(comps, list):
        seen: dict[str, int] = {}
        for i, c in enumerate(comps):
            if not isinstance(c, dict):
                continue
            name = c.get("name")
            key = f"comparisons[{i}]" + (f" ({name})" if isinstance(name, str) and name else "")
            if isinstance(name, str) and name:
                if name in seen:
                    ck.add(f"{key}.name", "a name no other comparison has", name,
                           f"comparisons[{seen[name]}] is also called {name!r}")
                else:
                    seen[name] = i
                if name in RESERVED_COMPARISON_NAMES:
                    ck.add(f"{key}.name", "a name other than " + ", ".join(sorted(RESERVED_COMPARISON_NAMES)), name,
                           "pairs.parquet already has match_weight and match_probability")
            if isinstance(c.get("levels"), list):
                _check_levels(c["levels"], key, ck)
            sp = c.get("splink")
            if isinstance(sp, dict) and isinstance(sp.get("comparison_levels"), list):
                lvls = [lv for lv in sp["comparison_levels"] if isinstance(lv, dict)]
                if lvls and not any(lv.get("is_null_level") is True for lv in lvls):
                    ck.add(f"{key}.splink.comparison_levels", "a null level (is_null_level: true) first",
                           "no null level", "without it a missing value counts as a disagreement", shown=True)
                out = sp.get("output_column_name")
                if isinstance(out, str) and isinstance(name, str) and out != name:
                    ck.add(f"{key}.splink.output_column_name", f"the comparison's name {name!r}", out)
    th = data.get("threshold")
    band = th.get("review_band") if isinstance(th, dict) else None
    if (isinstance(band, list) and len(band) == 2 and all(_json_type(b) in ("integer", "number") for b in band)
            and band[0] > band[1]):
        ck.add("threshold.review_band", "[below, above] with below <= above", f"{band}", "e.g. [-4, 4]", shown=True)


def _check_levels(levels: list, key: str, ck: _Checker) -> None:
    kinds = [lv.get("kind") if isinstance(lv, dict) else None for lv in levels]
    if levels and isinstance(levels[0], dict) and kinds[0] != "missing" and kinds[0] is not None:
        ck.add(f"{key}.levels[0].kind", "'missing' (every comparison starts with its null level)", kinds[0],
               "add {kind: missing, columns: [...]} first; without it a missing value counts as a disagreement")
    for j, k in enumerate(kinds):
        if k == "missing" and j > 0:
            ck.add(f"{key}.levels[{j}].kind", "the null level only first", k, "move it to the top")
        if k == "else" and j != len(kinds) - 1:
            ck.add(f"{key}.levels[{j}].kind", "'else' only as the last level", k, "levels after it are never used")
    if kinds and not [k for k in kinds if k not in ("missing", "else", None)]:
        ck.add(f"{key}.levels", "at least one level besides missing and else", "none", shown=True)
    labels: dict[str, int] = {}
    for j, lv in enumerate(levels):
        if not isinstance(lv, dict):
            continue
        lab = lv.get("label")
        if isinstance(lab, str):
            if lab in labels:
                ck.add(f"{key}.levels[{j}].label", "a label no other level of this comparison has", lab,
                       f"levels[{labels[lab]}] has it too")
            else:
                labels[lab] = j
        if "m_max" in lv and "label" not in lv:
            ck.add(f"{key}.levels[{j}].label", "a label (m_max finds its level by label)", None, "add label: ...")
        if "m_max" in lv and "fix_m" in lv:
            ck.add(f"{key}.levels[{j}]", "fix_m or m_max, not both", "both", "a fixed m is never capped",
                   shown=True)
        if "m_min" in lv and "label" not in lv:
            ck.add(f"{key}.levels[{j}].label", "a label (m_min finds its level by label)", None, "add label: ...")
        if "m_min" in lv and "fix_m" in lv:
            ck.add(f"{key}.levels[{j}]", "fix_m or m_min, not both", "both", "a fixed m is never floored",
                   shown=True)
        if isinstance(lv.get("m_min"), (int, float)) and isinstance(lv.get("m_max"), (int, float)) \
                and lv["m_min"] > lv["m_max"]:
            ck.add(f"{key}.levels[{j}].m_min", f"at most m_max ({lv['m_max']})", lv["m_min"], shown=True)


def validate_data(data: dict, extra_columns: set[str] | None = None) -> list[str]:
    """Every problem in a parsed settings mapping, one line each (``key.path: expected X, got Y (hint)``)."""
    return _validate(data, extra_columns)[0]


def _validate(data: dict, extra_columns: set[str] | None = None, bind: bool = True) -> tuple[list[str], list[str]]:
    """(problems, warnings) of a parsed settings mapping of the current version."""
    columns = set(NORMALISED_COLUMNS) | SYSTEM_COLUMNS_FOR_SQL | set(extra_columns or ())
    binder = Binder({**NORMALISED_COLUMNS, **{c: "VARCHAR" for c in columns - set(NORMALISED_COLUMNS)}}) \
        if bind else None
    try:
        ck = _Checker(settings_schema(extra_columns or ()), columns, binder)
        ck.walk(data, ck.schema, "")
        _semantic_checks(data, ck)
    finally:
        if binder is not None:
            binder.close()
    return ck.problems, ck.warnings


# ---------------------------------------------------------------------------------------------
# Reading, versions and migration

class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that records keys written twice in one mapping (YAML keeps the last silently)."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.duplicates: list[str] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:  # type: ignore[override]
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            try:
                key = self.construct_object(key_node, deep=True)
                hash(key)
            except Exception:  # an unhashable key: the constructor below reports it
                continue
            line = key_node.start_mark.line + 1
            if key in seen:
                self.duplicates.append(f"line {line}: {key}: expected each key once in a mapping, got it again "
                                       f"(first on line {seen[key]}; YAML would keep only this later value)")
            else:
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _read(path: Path) -> tuple[dict, list[str]]:
    """(parsed mapping, duplicate-key problems); raises SettingsError for unreadable or unparsable files."""
    p = Path(path)
    if not p.exists():
        raise SettingsError(str(p), ["no such file (check the path, or run 'linkage init DIR' for a starter file)"])
    if p.is_dir():
        raise SettingsError(str(p), ["a folder, not a settings file (give the .yaml file)"])
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise SettingsError(str(p), [f"cannot read the file ({exc.strerror or exc})"]) from exc
    if len(raw) > MAX_FILE_BYTES:
        raise SettingsError(str(p), [f"expected a settings file under {MAX_FILE_BYTES // 1000:,} kB, got "
                                     f"{len(raw) // 1000:,} kB (is this the right file?)"])
    return _parse_text(raw.decode("utf-8-sig", errors="replace"), p)


def _parse_text(text: str, p: Path) -> tuple[dict, list[str]]:
    """Parse settings text (JSON when ``p`` ends in .json, else YAML): (mapping, duplicate-key problems)."""
    dups: list[str] = []
    try:
        if p.suffix.lower() == ".json":
            def pairs(items: list[tuple[str, Any]]) -> dict:
                out: dict = {}
                for k, v in items:
                    if k in out:
                        dups.append(f"{k}: expected each key once in an object, got it again (JSON would keep "
                                    "only the later value)")
                    out[k] = v
                return out

            data = json.loads(text, object_pairs_hook=pairs)
        else:
            loader = _UniqueKeyLoader(text)
            try:
                data = loader.get_single_data()
            finally:
                loader.dispose()
            dups = loader.duplicates
    except json.JSONDecodeError as exc:
        raise SettingsError(str(p), [f"line {exc.lineno}, column {exc.colno}: expected valid JSON, got "
                                     f"{exc.msg.lower()} (check commas, quotes and brackets)"]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SettingsError(str(p), [f"{where}expected valid YAML, got {problem} (check indentation, quotes "
                                     f"and brackets)"]) from exc
    except RecursionError as exc:
        raise SettingsError(str(p), ["expected a settings file, got nesting too deep to read"]) from exc
    if data is None:
        raise SettingsError(str(p), ["top level: expected a mapping with at least comparisons and blocking_rules, "
                                     "got an empty file (run 'linkage init DIR' for a starter file)"])
    if not isinstance(data, dict):
        raise SettingsError(str(p), [f"top level: expected a mapping of settings (key: value lines), got "
                                     f"{_show(data)}"])
    return data, dups


def read_settings_file(path: str | Path) -> dict:
    """Parse YAML/JSON (no validation); a parse error keeps its line and column."""
    return _read(Path(path))[0]


def _migrate_0_to_1(data: dict) -> tuple[dict, list[str]]:
    """Version 0 wrote the null level as ``kind: null``, which YAML reads as nothing: make it ``kind: missing``."""
    notes = []
    for i, c in enumerate(data.get("comparisons") or []):
        if not isinstance(c, dict) or not isinstance(c.get("levels"), list):
            continue
        for j, lv in enumerate(c["levels"]):
            if isinstance(lv, dict) and "kind" in lv and lv["kind"] is None:
                lv["kind"] = "missing"
                notes.append(f"comparisons[{i}].levels[{j}].kind: null -> missing")
    data["version"] = 1
    return data, notes


MIGRATIONS: dict[int, Callable[[dict], tuple[dict, list[str]]]] = {0: _migrate_0_to_1}


def migrate(data: dict) -> tuple[dict, int, list[str]]:
    """(data at the current version, the version read, notes). Raises SettingsError-ready problems as
    ``ValueError`` for versions this linkage cannot read."""
    v = data.get("version", SCHEMA_VERSION)
    if isinstance(v, bool) or not isinstance(v, int):
        return data, SCHEMA_VERSION, []  # the schema reports it
    if v > SCHEMA_VERSION:
        raise ValueError(f"version: expected a settings version up to {SCHEMA_VERSION}, got {v} (this file was "
                         f"written for a newer linkage: upgrade linkage, e.g. pip install -U linkage)")
    if v < OLDEST_VERSION:
        raise ValueError(f"version: expected a settings version from {OLDEST_VERSION} to {SCHEMA_VERSION}, got {v} "
                         f"(start again from 'linkage init DIR')")
    out, notes = copy.deepcopy(data), []
    out["version"] = v
    for step in range(v, SCHEMA_VERSION):
        out, step_notes = MIGRATIONS[step](out)
        notes += [f"{n} (migrating version {step} to {step + 1})" for n in step_notes]
    return out, v, notes


def upgrade_text(text: str, suffix: str = ".yaml") -> str:
    """The text of a version-0 file rewritten as version 1, comments kept (for ``validate --upgrade``)."""
    if suffix.lower() == ".json":
        text = re.sub(r'("kind"\s*:\s*)null\b', r'\1"missing"', text)
        return re.sub(r'("version"\s*:\s*)0\b', r"\g<1>1", text)
    text = re.sub(r"(\bkind\s*:[ \t]*)(?:null|Null|NULL|~)?(?=[ \t]*(?:[,}\n#]|$))", r"\1missing", text)
    text = re.sub(r"(?m)^(version\s*:\s*)0\b", r"\g<1>1", text)
    if not re.search(r"(?m)^version\s*:", text):
        text = f"version: {SCHEMA_VERSION}\n" + text
    return text


def upgrade_file(path: str | Path) -> list[str]:
    """Rewrite an older-version settings file in the current format, comments kept; the original is
    saved as ``<file>.bak``. Returns what changed; raises ``LinkageError`` when the file is current or
    cannot be rewritten safely."""
    p = Path(path)
    data, _ = _read(p)
    try:
        migrated, version, notes = migrate(data)
    except ValueError as exc:
        raise SettingsError(str(p), [str(exc)]) from None
    if version >= SCHEMA_VERSION and "version" in data:
        raise LinkageError(f"{p}: already version {SCHEMA_VERSION}; nothing to upgrade")
    text = p.read_bytes().decode("utf-8-sig", errors="replace")
    new_text = upgrade_text(text, p.suffix)
    try:
        again, _ = _parse_text(new_text, p)
    except SettingsError:
        again = None
    if again != migrated:
        raise LinkageError(f"{p}: cannot rewrite this file automatically",
                           "edit it by hand: " + ("; ".join(notes) or f"add 'version: {SCHEMA_VERSION}'"))
    bak = p.with_name(p.name + ".bak")
    try:
        bak.write_bytes(p.read_bytes())
        p.write_text(new_text, encoding="utf-8")
    except OSError as exc:
        raise LinkageError(f"{p}: cannot rewrite the file ({exc.strerror or exc})") from exc
    return (notes or [f"version: {SCHEMA_VERSION} added"]) + [f"the original is saved as {bak}"]


def _load(path: Path, extra_columns: set[str] | None = None) -> tuple[dict, list[str], list[str], int]:
    """(migrated data, problems, warnings, version read)."""
    data, dups = _read(path)
    warnings: list[str] = []
    if "version" not in data:
        warnings.append(f"version: missing; read as version {SCHEMA_VERSION} (add 'version: {SCHEMA_VERSION}' so "
                        f"later releases know which format the file is in)")
    try:
        data, version, notes = migrate(data)
    except ValueError as exc:
        raise SettingsError(str(path), [str(exc)]) from None
    if version < SCHEMA_VERSION:
        warnings.append(f"version: {version} is an older settings format, migrated to {SCHEMA_VERSION} when read "
                        f"(rewrite the file with 'linkage validate --upgrade {path}')")
        warnings += notes
    problems, more = _validate(data, extra_columns)
    return data, dups + problems, warnings + more, version


def load_settings(path: str | Path | None = None, extra_columns: set[str] | None = None) -> Spec:
    """Load, migrate and validate a settings file (the shipped default when ``path`` is None).

    Raises ``SettingsError`` listing every problem; ``Spec.notes`` holds warnings (a migrated older
    version, keys that have no effect).
    """
    p = Path(path) if path else DEFAULT_SETTINGS
    data, problems, warnings, version = _load(p, extra_columns)
    if problems:
        raise SettingsError(str(p), problems)
    sha = hashlib.sha256(p.read_bytes()).hexdigest()
    return Spec(path=str(p), data=data, sha256=sha, notes=warnings, version_read=version)


# ---------------------------------------------------------------------------------------------
# Validation against real sources: column mapping and blocking sizes

@dataclass
class BlockingCount:
    """How many candidate pairs one rule makes on given records.

    ``pairs`` counts record pairs that share the rule's equality keys (what the engine must join);
    conditions beyond equalities (``filtered``) only thin them out afterwards. ``bound`` is ``exact``
    or ``at most`` (a rule without symmetric keys).
    """

    key: str
    rule: str
    pairs: int
    limit: int
    bound: str = "exact"
    filtered: bool = False
    keys: list[str] = field(default_factory=list)

    @property
    def over(self) -> bool:
        return self.pairs > self.limit


def _equi_keys(sql: str) -> tuple[list[tuple[Any, Any]], bool]:
    """(equality keys [(l side, r side)], whether other conditions remain) of a blocking rule."""
    from sqlglot import exp

    tree = parse_expression(sql, None, "lr").unnest()
    parts = list(tree.flatten()) if isinstance(tree, exp.And) else [tree]
    keys, other = [], False
    for part in parts:
        part = part.unnest()
        if isinstance(part, exp.EQ):
            a, b = part.this, part.expression
            ta = {c.table.lower() for c in a.find_all(exp.Column) if c.table}
            tb = {c.table.lower() for c in b.find_all(exp.Column) if c.table}
            if ta == {"l"} and tb == {"r"}:
                keys.append((a, b))
                continue
            if ta == {"r"} and tb == {"l"}:
                keys.append((b, a))
                continue
        other = True
    return keys, other


def _swap_sides(e: Any) -> str:
    from sqlglot import exp

    def sw(n: Any) -> Any:
        if isinstance(n, exp.Column) and n.table.lower() in ("l", "r"):
            return exp.column(n.name.lower(), table="r" if n.table.lower() == "l" else "l")
        return n

    return e.transform(sw).sql("duckdb")


def _all_rules(data: dict) -> list[tuple[str, Any]]:
    out = [(f"blocking_rules[{i}]", r) for i, r in enumerate(data.get("blocking_rules") or [])]
    tr = data.get("training") or {}
    out += [(f"training.prior_rules[{i}]", r) for i, r in enumerate(tr.get("prior_rules") or [])]
    out += [(f"training.em_sessions[{i}]", r) for i, r in enumerate(tr.get("em_sessions") or [])]
    return out


def blocking_counts(records: Any, spec: Spec | dict, limit: int | None = None,
                    link_type: str = "dedupe") -> tuple[list[BlockingCount], int | None]:
    """Candidate pairs per rule (blocking rules, prior rules, EM sessions) on normalised ``records``,
    and the number of distinct pairs all blocking rules score together (None when too many to count).

    Counting is O(records) per rule (a GROUP BY on the rule's equality keys), so an exploding rule is
    measured without being run.
    """
    import duckdb
    import pyarrow as pa

    from .scoring import arrow_schema, model_frame

    data = spec.data if isinstance(spec, Spec) else spec
    default = int(limit or data.get("blocking_max_pairs") or DEFAULT_BLOCKING_MAX_PAIRS)
    con = duckdb.connect(config={"enable_external_access": False, "autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False})
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("t", pa.Table.from_pandas(model_frame(records), schema=arrow_schema(), preserve_index=False))
        n = int(con.execute("select count(*) from t").fetchone()[0])
        counts = []
        for key, rule in _all_rules(data):
            sql = blocking_rule_sql(rule)
            keys, other = _equi_keys(sql)
            lim = int(rule["max_pairs"]) if isinstance(rule, dict) and "max_pairs" in rule else default
            if not keys:
                counts.append(BlockingCount(key, sql, n * (n - 1) // 2, lim, "exact", True))
                continue
            ls = [a.sql("duckdb") for a, _ in keys]
            rs = [b.sql("duckdb") for _, b in keys]
            sel_l = ", ".join(f"{k} as k{i}" for i, k in enumerate(ls))
            not_null = " and ".join(f"({k}) is not null" for k in ls)
            if [_swap_sides(a) for a, _ in keys] == [b.sql("duckdb") for _, b in keys]:
                q = (f"select coalesce(sum(c * (c - 1) // 2), 0) from (select {sel_l}, count(*) as c from t as l "
                     f"where {not_null} group by all)")
                bound = "exact"
            else:
                sel_r = ", ".join(f"{k} as k{i}" for i, k in enumerate(rs))
                on = " and ".join(f"a.k{i} = b.k{i}" for i in range(len(keys)))
                q = (f"select coalesce(sum(a.c * b.c), 0) from (select {sel_l}, count(*) as c from t as l group by all) "
                     f"a join (select {sel_r}, count(*) as c from t as r group by all) b on {on}")
                bound = "at most"
            pairs = int(con.execute(q).fetchone()[0])
            counts.append(BlockingCount(key, sql, pairs, lim, bound, other, [re.sub(r"\bl\.", "", k) for k in ls]))
        total = None
        block = [c for c in counts if c.key.startswith("blocking_rules")]
        if block and sum(c.pairs for c in block) <= 5_000_000:
            cross = " and l.source <> r.source" if link_type == "link" else ""
            union = " union ".join(f"select l.unique_id as a, r.unique_id as b from t as l join t as r on "
                                   f"({c.rule}) and l.unique_id < r.unique_id{cross}" for c in block)
            total = int(con.execute(f"select count(*) from ({union})").fetchone()[0])
        return counts, total
    finally:
        con.close()


@dataclass
class ValidationReport:
    """What ``linkage validate FILE [SOURCES]`` found."""

    path: str
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    spec: Spec | None = None
    version_read: int | None = None
    sources: list[dict] = field(default_factory=list)  # name, path, format, records, mapping, missing
    blocking: list[BlockingCount] = field(default_factory=list)
    blocking_total: int | None = None
    records: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def check_settings(path: str | Path, sources: list[Any] | None = None) -> ValidationReport:
    """Validate a settings file, and with ``sources`` its column mapping and blocking sizes on them.

    Never raises for a bad file: every problem is in ``ValidationReport.problems``.
    """
    p = Path(path)
    rep = ValidationReport(path=str(p))
    try:
        data, problems, warnings, version = _load(p)
    except SettingsError as exc:
        rep.problems = list(exc.problems)
        return rep
    rep.problems, rep.warnings, rep.version_read = problems, warnings, version
    if not problems:
        rep.spec = Spec(path=str(p), data=data, sha256=hashlib.sha256(p.read_bytes()).hexdigest(), notes=warnings,
                        version_read=version)
    if sources:
        _check_sources(data, list(sources), rep)
    return rep


def _check_sources(data: dict, sources: list[Any], rep: ValidationReport) -> None:
    from .pipeline import build_records
    from .sources import read_sources

    mapping = data.get("columns") if isinstance(data.get("columns"), dict) else {}
    mapping = {k: v for k, v in mapping.items() if isinstance(v, str) and k in SYNONYMS}
    try:
        tables = read_sources(sources, mapping)
    except LinkageError:
        tables = []
        for i, s in enumerate(sources):
            try:
                read_sources([s], mapping)
            except LinkageError as exc:
                rep.problems.append(f"sources[{i}] ({s}): expected a readable table, got an error: {exc}")
        if not rep.problems:  # the tables read alone but not together
            raise
        return
    for t in tables:
        rep.sources.append({"name": t.name, "path": str(t.path), "format": t.format, "records": len(t.frame),
                            "mapping": dict(t.mapping), "missing": list(t.missing_explicit)})
        rep.warnings += [w for w in t.warnings if "no source has that column" not in w]
    raw_cols = sorted({str(c) for t in tables for c in t.frame.columns})
    for fld, col in mapping.items():
        if all(fld in t.missing_explicit for t in tables):
            rep.problems.append(f"columns.{fld}: expected a column of the sources, got {col!r} (no source has it"
                                + (f"; {_did_you_mean(col, raw_cols)}" if _did_you_mean(col, raw_cols) else "")
                                + "; origin columns source/label/database are never mapped)")
    if any(p.startswith(("blocking_rules", "training", "blocking_max_pairs", "top level")) for p in rep.problems):
        return  # rules that do not validate cannot be counted
    records, _ = build_records(tables)
    rep.records = len(records)
    lt = data.get("link_type", "auto")
    try:
        rep.blocking, rep.blocking_total = blocking_counts(records, data, link_type=lt)
    except UnsafeSQLError as exc:  # validated above; kept for robustness
        rep.problems.append(f"blocking_rules: {exc}")
        return
    for c in rep.blocking:
        if c.over:
            shared = f"records sharing {', '.join(c.keys)}" if c.keys else "no equality condition: every pair"
            limit_key = (f"{c.key}.max_pairs" if isinstance(_rule_at(data, c.key), dict) and "max_pairs" in
                         _rule_at(data, c.key) else "blocking_max_pairs")
            rep.problems.append(
                f"{c.key}: expected at most {c.limit:,} candidate pairs ({limit_key}), got {c.pairs:,} on these "
                f"sources ({shared}; the rule is too broad: add a column or a condition, e.g. [first_author, "
                f"year_norm], or raise {limit_key})")


def _rule_at(data: dict, key: str) -> Any:
    m = re.fullmatch(r"(blocking_rules|training\.prior_rules|training\.em_sessions)\[(\d+)\]", key)
    if not m:
        return None
    seq = data.get("blocking_rules") if m.group(1) == "blocking_rules" else (data.get("training") or {}).get(
        m.group(1).split(".")[1])
    return seq[int(m.group(2))]


# ---------------------------------------------------------------------------------------------
# Starter file and reference documentation

def starter_settings_text() -> str:
    """The text ``linkage init`` writes: a header on editing and validating, then the shipped default
    (with its comments), which the file's data equals."""
    shipped = DEFAULT_SETTINGS.read_text(encoding="utf-8")
    body = shipped.split("\n")
    while body and body[0].startswith("#"):
        body.pop(0)
    by_type: dict[str, list[str]] = {}
    for c, t in NORMALISED_COLUMNS.items():
        by_type.setdefault(t, []).append(c)
    names = {"VARCHAR": "text", "VARCHAR[]": "lists", "INTEGER": "numbers", "DATE": "dates", "BOOLEAN": "true/false"}
    col_lines = []
    for t, cs in by_type.items():
        wrapped = _wrap(f"{names.get(t, t)}: " + ", ".join(cs), 96)
        col_lines += [f"#   {wrapped[0]}", *[f"#     {w}" for w in wrapped[1:]]]
    kinds = _wrap("last {kind: else}. Level kinds: " + ", ".join(LEVEL_KINDS) + ".", 98)
    header = [
        "# yaml-language-server: $schema=settings.schema.json",
        "# linkage settings: a copy of the shipped default model (settings/scholarly.yaml) to edit.",
        "#",
        "# Edit, then check the file (every problem is listed at once, as key.path: expected X, got Y):",
        "#   linkage validate settings.yaml                    # the file alone",
        "#   linkage validate settings.yaml papers.csv ...     # also column mapping and blocking sizes",
        "#   linkage run papers.csv ... --settings settings.yaml",
        "# Every key is documented in settings/README.md of linkage; settings.schema.json (next to this",
        "# file) gives editors completion and checks.",
        "#",
        "# A comparison is a list of levels, tried in order: first the null level {kind: missing, ...},",
        *[f"# {k}" for k in kinds],
        "# SQL (kind: sql, and:, string blocking rules) is an expression over l.<column> and r.<column>;",
        "# only scalar functions are allowed (no tables, files, network or settings access).",
        "#",
        "# Columns of the normalised records, for comparisons and blocking rules:",
        *col_lines,
        "",
    ]
    return "\n".join(header) + "\n".join(body).lstrip("\n")


def write_starter(folder: str | Path, force: bool = False) -> list[Path]:
    """Write ``settings.yaml`` and ``settings.schema.json`` into ``folder`` (``linkage init``).

    Refuses to replace existing files unless ``force``.
    """
    d = Path(folder)
    if d.exists() and not d.is_dir():
        raise LinkageError(f"{d}: is a file, not a folder", "give a folder for the settings file")
    targets = [d / "settings.yaml", d / "settings.schema.json"]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise LinkageError(f"{existing[0]}: already exists", "use --force to overwrite it, or choose another folder")
    try:
        d.mkdir(parents=True, exist_ok=True)
        targets[0].write_text(starter_settings_text(), encoding="utf-8")
        targets[1].write_text(json.dumps(settings_schema(), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise LinkageError(f"{d}: cannot write the settings file ({exc.strerror or exc})",
                           "choose a folder you can write to") from exc
    return targets


def _doc_default(s: dict) -> str:
    if "default" not in s:
        return ""
    d = s["default"]
    if isinstance(d, bool):
        return str(d).lower()
    if isinstance(d, int) and abs(d) >= 10000:
        return f"{d:_}"
    return json.dumps(d) if isinstance(d, (list, dict)) else str(d)


def settings_reference() -> str:
    """``settings/README.md``: every key of the format, generated from :func:`settings_schema`."""
    schema = settings_schema()
    ck = _Checker(schema, set(), None)
    rows: list[tuple[str, str, str, str]] = []

    def row(path: str, s: dict) -> None:
        r = ck.resolve(s)
        desc = s.get("description") or r.get("description") or ""
        expected = ck.describe(s)
        rows.append((path, expected, _doc_default(s if "default" in s else r), desc))

    for k, s in schema["properties"].items():
        row(k, s)
        r = ck.resolve(s)
        if k == "comparisons":
            for ck_, cs in r["items"]["properties"].items():
                row(f"comparisons[].{ck_}", cs)
        elif r.get("type") == "object" and r.get("properties"):
            for sub, ss in r["properties"].items():
                row(f"{k}.{sub}", ss)
    out = [
        "# Settings files",
        "",
        "<!-- Generated by linkage.settings.settings_reference(); tests/test_settings_schema.py keeps it in sync.",
        "     Regenerate: LINKAGE_UPDATE_SETTINGS_DOCS=1 .venv/bin/pytest tests/test_settings_schema.py -->",
        "",
        "A settings file (YAML or JSON) declares the model: comparisons as lists of levels, blocking rules, the",
        "training plan, the threshold policy and clustering. `settings/scholarly.yaml` is the shipped default;",
        "`linkage init DIR` writes a commented copy to edit, with `settings.schema.json` (this format as a JSON",
        "Schema, also in this folder as `schema.json`) for editor completion.",
        "",
        "`linkage validate FILE [SOURCES...]` reports every problem at once, one line each, as",
        "`file: key.path: expected X, got Y (hint)`: unknown keys (with *did you mean*), wrong types and ranges,",
        "columns that do not exist or do not fit the level kind, comparisons without a null level, SQL that does",
        "not parse, is refused, or does not type-check. With SOURCES it also prints each source's column mapping",
        "and the candidate pairs of every blocking rule, prior rule and EM session on them, and reports rules",
        "above `blocking_max_pairs`. It exits with 1 when anything is wrong. Warnings (keys that have no effect,",
        "a migrated older version) do not fail it.",
        "",
        "## Keys",
        "",
        "| key | expected | default | meaning |",
        "|---|---|---|---|",
    ]
    for path, expected, default, desc in rows:
        esc = expected.replace("|", "\\|")
        out.append(f"| `{path}` | {esc} | {('`' + default + '`') if default else ''} | {desc.replace('|', '/')} |")
    out += [
        "",
        "## Level kinds",
        "",
        "Every level may have `label`; every level but `missing` may have `fix_m`, `fix_u`, `m_min` and `m_max`; every",
        "level but `missing`, `sql` and `else` may have `and:` (an extra SQL condition). A comparison starts",
        "with its `missing` level and ends with `else` (added when absent).",
        "",
        "| kind | keys | meaning |",
        "|---|---|---|",
    ]
    for kind, (doc, req, opt) in LEVEL_KINDS.items():
        keys = ", ".join([f"`{k}`" for k in req] + [f"`{k}` (optional)" for k in opt])
        out.append(f"| `{kind}` | {keys} | {doc} |")
    out += [
        "",
        "## Columns",
        "",
        "Comparisons and blocking rules use the normalised columns of the records (`records.parquet`):",
        "",
        "| column | type |",
        "|---|---|",
        *[f"| `{c}` | {t} |" for c, t in NORMALISED_COLUMNS.items()],
        "",
        "SQL may also use `unique_id` and `source`. Level kinds check the column type: text kinds",
        "(`jaro_winkler`, `levenshtein`, `jaccard`, `containment`) need text columns, `array_*` kinds lists,",
        "`abs_diff` numbers or dates, `date_diff` dates.",
        "",
        "## SQL in settings",
        "",
        "Settings are data, not code: a settings file received from someone else cannot read or write your",
        "files. SQL in a settings file (`kind: sql` conditions, `and:`, string blocking rules, and the",
        "`sql_condition`s of a native `splink:` comparison) must be one expression over the two records'",
        "columns, written `l.<column>` / `r.<column>` (`<column>_l` / `<column>_r` in a `splink:` comparison).",
        "It is parsed (sqlglot, DuckDB dialect) and every part of it must be allowed: literals, columns,",
        "operators (`= <> < <= > >= + - * / || AND OR NOT IS IN BETWEEN LIKE ILIKE`), `CASE`, `CAST`,",
        "`TRY_CAST`, `INTERVAL`, list indexing and slicing, lambdas (`x -> ...`, `lambda x: ...`) and calls of",
        "these scalar functions:",
        "",
        *_wrap(", ".join(f"`{f}`" for f in sorted(SAFE_FUNCTIONS)), 110),
        "",
        "Anything else is refused, with the offending fragment: statements and `;`, subqueries, tables and",
        "table functions (`read_csv`, `read_text`, `glob`, `query`...), `COPY`, `ATTACH`, `INSTALL`, `LOAD`,",
        "`PRAGMA`, `SET`, environment and settings access (`getenv`, `current_setting`), aggregates, window",
        "functions and unknown functions. The SQL that runs is regenerated from the checked expression",
        "(comments dropped), never the file's text, and DuckDB's own parser checks that SQL once more. Loading",
        "a settings file (`linkage validate`, every run) also type-checks each expression in an empty, sandboxed",
        "DuckDB (no file or network access) and reports unknown functions and conditions that are not true/false.",
        "",
        "## Versions",
        "",
        f"A file carries `version: {SCHEMA_VERSION}`. A file without it is read as version 1. An older version is",
        "migrated when read (validate says what changed; `linkage validate --upgrade FILE` rewrites the file,",
        "keeping comments, after saving a `.bak` copy). Version 0 wrote the null level as `kind: null`, which",
        "YAML reads as nothing; it becomes `kind: missing`. A newer version is refused: upgrade linkage.",
        "",
    ]
    return "\n".join(out)


def _wrap(text: str, width: int) -> list[str]:
    lines, cur = [], ""
    for word in text.split(" "):
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}" if cur else word
    if cur:
        lines.append(cur)
    return lines


# ---------------------------------------------------------------------------------------------
# Compilation to Splink

_DIALECT_SQL = {
    "array_jaccard": {
        "duckdb": "(len(list_intersect(l.{c}, r.{c}))::DOUBLE / nullif(len(list_distinct(list_concat(l.{c}, r.{c}))), 0)) >= {t}",
        # nullif: two empty lists would divide by zero, an error under Spark's ANSI mode (the default in 4.x)
        "spark": "(size(array_intersect(l.{c}, r.{c})) / nullif(size(array_union(l.{c}, r.{c})), 0)) >= {t}",
    },
    # the same on columns that hold sets (``normalise.SET_COLUMNS``): |A u B| = |A| + |B| - |A n B|, no hash set
    # a pair (that was most of the cost of scoring one); a missing list counts as empty, as list_concat treats it
    "array_jaccard_of_sets": {
        "duckdb": "(len(list_intersect(l.{c}, r.{c}))::DOUBLE / nullif(coalesce(len(l.{c}), 0) + coalesce(len(r.{c}), 0)"
                  " - coalesce(len(list_intersect(l.{c}, r.{c})), 0), 0)) >= {t}",
    },  # Spark's array_union is no hash set a pair: it keeps the generic form
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
        sets = kind == "array_jaccard" and c in SET_COLUMNS and dialect in _DIALECT_SQL["array_jaccard_of_sets"]
        tpl = _DIALECT_SQL["array_jaccard_of_sets" if sets else kind][dialect]
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
        d = copy.deepcopy(comp["splink"])
        d.setdefault("output_column_name", comp["name"])
        for lv in d.get("comparison_levels", []):  # what runs is the checked expression, regenerated
            cond = lv.get("sql_condition")
            if isinstance(cond, str) and cond.strip().upper() != "ELSE":
                lv["sql_condition"] = canonical_sql(cond, dialect, "suffix")
        return d
    levels = list(comp["levels"])
    if levels[-1].get("kind") != "else":
        levels.append({"kind": "else"})
    return cl.CustomComparison(comparison_levels=[_level_creator(lv, dialect) for lv in levels],
                               output_column_name=comp["name"], comparison_description=comp.get("description"))


def blocking_rule_sql(rule: Any) -> str:
    """A blocking rule in our vocabulary as SQL over l./r. columns (DuckDB dialect).

    A string rule is the checked expression regenerated (``sqlguard.canonical_sql``), never the
    file's text; ``{columns: [...]}`` and ``{sql: ...}`` are the forms with a ``max_pairs``.
    """
    if isinstance(rule, dict):
        rule = rule["columns"] if "columns" in rule else rule["sql"]
    if isinstance(rule, str):
        return canonical_sql(rule, "duckdb", "lr")
    return " and ".join(f"l.{c} = r.{c}" for c in rule)


def compile_settings(spec: Spec, dialect: str, link_type: str, retain: list[str] | None = None):
    """A Splink ``SettingsCreator`` for ``dialect`` ('duckdb' or 'spark')."""
    from splink import SettingsCreator

    rules = []
    for r in spec.get("blocking_rules"):
        sql = blocking_rule_sql(r)
        if link_type == "link":
            sql = f"({sql}) and l.source <> r.source"
        if dialect != "duckdb":
            # rendered with the same dialect fixes as the comparisons (Splink's own transpiling of a
            # DuckDB rule would keep DuckDB's function names, e.g. jaro_winkler_similarity)
            sql = canonical_sql(sql, dialect, "lr")
        rules.append({"blocking_rule": sql, "sql_dialect": dialect})
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
