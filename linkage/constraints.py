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
    linked = pairs[(pairs["match_weight"] >= threshold) & (pairs["source_l"] == pairs["source_r"])]
    with_dups = set(linked["source_l"].astype(str))
    on = {s for s in sources if s not in with_dups}
    per = {s: ("no within-source duplicates found: one-to-one" if s in on else
               f"{int((linked['source_l'] == s).sum())} within-source duplicate pairs found: 1:N allowed")
           for s in sources}
    return on, {"setting": "auto", "sources": sorted(on), "reason": per}


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
