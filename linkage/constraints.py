"""Constraints on clustering: one-to-one sources and clerical-review decisions (must-link / cannot-link)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import LinkageError
from .settings import Spec


def one_to_one_sources(records: pd.DataFrame, pairs: pd.DataFrame, threshold: float, spec: Spec,
                       n_sources: int) -> tuple[set[str], dict]:
    """Sources that link one-to-one: forced by settings, or (auto) those with no within-source pair
    at or above the threshold. Only meaningful with two or more sources."""
    setting = spec.clustering.get("one_to_one", "auto")
    sources = sorted(records["source"].astype(str).unique())
    if n_sources < 2 or setting is False:
        reason = "one source: nothing to link across" if n_sources < 2 else "off in the settings"
        return set(), {"setting": setting, "sources": [], "reason": reason}
    if setting is True:
        return set(sources), {"setting": True, "sources": sources, "reason": "forced on in the settings"}
    # A source is one-to-one when (a) few of its records link to another record of the same source and
    # (b) records of the other sources rarely link to two of its records. Clean catalogues (DBLP, ACM)
    # show a few percent of either (lookalike columns, errata); a source holding several versions of
    # works, or duplicates of its own, shows many.
    linked = pairs[pairs["match_weight"] >= threshold]
    within = linked[linked["source_l"] == linked["source_r"]]
    x = linked[linked["source_l"] != linked["source_r"]]
    ends = pd.concat([pd.DataFrame({"r": x["unique_id_l"], "target": x["source_r"]}),
                      pd.DataFrame({"r": x["unique_id_r"], "target": x["source_l"]})])
    per = ends.groupby(["target", "r"]).size()
    sizes = records.groupby(records["source"].astype(str)).size()
    on, why = set(), {}
    limit = float(spec.clustering.get("one_to_one_max_rate", 0.1))
    for s in sources:
        c = per.xs(s, level="target") if s in per.index.get_level_values(0) else pd.Series(dtype=int)
        multi = float((c >= 2).mean()) if len(c) else 0.0
        w = within[within["source_l"] == s]
        dup = len(set(w["unique_id_l"]) | set(w["unique_id_r"])) / max(int(sizes.get(s, 1)), 1)
        text = (f"{dup:.1%} of its records link within {s}; {multi:.1%} of records linking into {s} link to two "
                f"or more of its records (limit {limit:.0%} each)")
        if dup <= limit and multi <= limit:
            on.add(s)
            why[s] = "one-to-one: " + text
        else:
            why[s] = "1:N allowed: " + text
    return on, {"setting": "auto", "sources": sorted(on), "reason": why}


VALID = {"same": "same", "different": "different", "unsure": "unsure", "match": "same", "duplicate": "same",
         "non-match": "different", "distinct": "different", "1": "same", "0": "different"}


def load_decisions(path, records: pd.DataFrame) -> tuple[list, list, dict]:
    """(must-link pairs, cannot-link pairs, info) from a decisions CSV (unique_id_l, unique_id_r, decision)."""
    if not path:
        return [], [], {"file": None, "applied": 0}
    p = Path(path)
    if not p.exists():
        raise LinkageError(f"{p}: no such decisions file", "give a CSV with unique_id_l, unique_id_r, decision")
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise LinkageError(f"{p}: not a readable CSV ({str(exc).splitlines()[0]})") from exc
    missing = {"unique_id_l", "unique_id_r", "decision"} - set(df.columns)
    if missing:
        raise LinkageError(f"{p}: missing columns {', '.join(sorted(missing))}",
                           "a decisions file has unique_id_l, unique_id_r, decision (same/different/unsure)")
    known = set(records["unique_id"].astype(str))
    must, cannot, unknown, bad = [], [], [], []
    for i, r in enumerate(df.itertuples(index=False), start=2):
        d = VALID.get(str(r.decision).strip().lower())
        if d is None:
            bad.append(f"line {i}: decision {r.decision!r}")
            continue
        a, b = str(r.unique_id_l).strip(), str(r.unique_id_r).strip()
        if a not in known or b not in known:
            unknown.append(f"line {i}: {a if a not in known else b}")
            continue
        if d == "same":
            must.append((a, b))
        elif d == "different":
            cannot.append((a, b))
    if bad:
        raise LinkageError(f"{p}: {len(bad)} rows have an unknown decision ({bad[0]})",
                           "use same, different or unsure")
    conflicts = sorted({tuple(sorted(x)) for x in must} & {tuple(sorted(x)) for x in cannot})
    info = {"file": str(p), "applied": len(must) + len(cannot), "must_link": len(must), "cannot_link": len(cannot),
            "unknown_ids": unknown[:20], "conflicts": [list(c) for c in conflicts]}
    if conflicts:
        cset = set(conflicts)
        must = [x for x in must if tuple(sorted(x)) not in cset]
        cannot = [x for x in cannot if tuple(sorted(x)) not in cset]
        info["applied"] = len(must) + len(cannot)
    return must, cannot, info
