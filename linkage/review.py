"""Clerical review: the review band's pairs as a sheet, decisions imported into the decisions file, and
cluster diagnostics that say which works to check first.

* ``review_sheet`` / ``write_review_sheet``: every scored pair in the review band (``threshold.review_band``
  bits around the run's threshold), most uncertain first, both records side by side (ids, titles,
  authors, year, venue, DOI), match weight and probability, the three comparisons that moved the weight
  most (``title +11.9 (same title)``), the decision already on file, and an empty ``decision`` column.
* ``import_decisions``: validates a decisions CSV (the filled sheet, or the report's download) against
  the run and merges it into the decisions file the run's settings name (``decisions:``, relative to
  the settings file) or ``into``; a later decision for a pair replaces the earlier one.
* ``cluster_diagnostics``: per multi-record work its linked edges, weakest edge, bridges (edges whose
  removal splits the work), sources, links refused towards other works, and a risk score to sort by;
  ``write_cluster_diagnostics`` writes ``cluster_diagnostics.parquet`` into the run folder.

The rules that turn decisions into constraints are in ``linkage.constraints``.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .constraints import (
    Decision,
    apply_decisions,
    read_decisions_file,
    settings_decisions_path,
    write_decisions_file,
)
from .errors import LinkageError
from .explain import RunData, format_value, probability, raw_field

SHEET_COLUMNS = [
    "decision", "unique_id_l", "unique_id_r", "match_weight", "match_probability", "model", "same_work",
    "evidence", "source_l", "source_r", "title_l", "title_r", "authors_l", "authors_r", "year_l", "year_r",
    "venue_l", "venue_r", "doi_l", "doi_r", "previous_decision", "who", "note",
]
DIAGNOSTICS_FILE = "cluster_diagnostics.parquet"
MAX_BRIDGES_LISTED = 50   # bridge edges listed per work (all are counted)


# ---------------------------------------------------------------------------------------------------------
# Where decisions live
# ---------------------------------------------------------------------------------------------------------


def settings_path_of(run: RunData) -> str | None:
    """The settings file the run was made with (from run.json)."""
    return (run.info.get("settings") or {}).get("path")


def decisions_target(run: RunData) -> Path | None:
    """The decisions file the run's settings name (``decisions:``), or None."""
    sp = settings_path_of(run)
    return settings_decisions_path(sp) if sp else None


def decisions_in_force(run: RunData) -> Path | None:
    """The decisions file the run applied (run.json ``decisions.file``), else the one its settings name."""
    f = (run.info.get("decisions") or {}).get("file")
    if f and Path(f).is_file():
        return Path(f)
    t = decisions_target(run)
    return t if t is not None and t.is_file() else None


def decided_pairs(path: Path | None) -> dict[tuple[str, str], Decision]:
    """The latest decision of each pair in a decisions file (key: the two ids sorted); empty without a file."""
    if path is None or not Path(path).is_file():
        return {}
    out: dict[tuple[str, str], Decision] = {}
    for r in read_decisions_file(path).rows:
        out.pop(r.key, None)
        out[r.key] = r
    return out


# ---------------------------------------------------------------------------------------------------------
# The review sheet
# ---------------------------------------------------------------------------------------------------------


def band_pairs(run: RunData) -> pd.DataFrame:
    """Scored pairs in the review band ``[threshold + below, threshold + above)``, most uncertain first
    (nearest the threshold), then by ids."""
    p = run.pairs
    lo, hi = run.threshold + run.band[0], run.threshold + run.band[1]
    w = p["match_weight"].to_numpy(dtype=float)
    d = p[(w >= lo) & (w < hi)].copy()
    d["_dist"] = (d["match_weight"].astype(float) - run.threshold).abs()
    d = d.sort_values(["_dist", "unique_id_l", "unique_id_r"], kind="mergesort").drop(columns="_dist")
    return d.reset_index(drop=True)


def evidence(row: dict[str, Any], names: Sequence[str], n: int = 3) -> str:
    """The ``n`` comparisons with the largest absolute weight: ``title +11.9 (same title); ...``."""
    items = []
    for c in names:
        w = row.get(f"{c}_weight")
        if w is None or (isinstance(w, float) and math.isnan(w)):
            continue
        items.append((abs(float(w)), c, float(w), row.get(f"{c}_level")))
    items.sort(key=lambda x: (-x[0], x[1]))
    return "; ".join(f"{c} {w:+.1f}" + (f" ({lvl})" if lvl else "") for _, c, w, lvl in items[:n])


def _strip(v: str | None) -> str | None:
    return " ".join(v.split()) or None if v else None


def _record_texts(run: RunData, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per record id: source, title, authors (as read), year, venue (as read), DOI (valid one, else as read)."""
    recs = run.records
    sub = recs[recs["unique_id"].astype(str).isin(set(ids))].reset_index(drop=True)
    info = run.info
    title = raw_field(sub, info, "title")
    authors = raw_field(sub, info, "authors")
    venue = raw_field(sub, info, "venue")
    doi_raw = raw_field(sub, info, "doi")
    year = sub["year_norm"] if "year_norm" in sub else pd.Series([None] * len(sub))
    doi = sub["doi_norm"] if "doi_norm" in sub else pd.Series([None] * len(sub))
    out = {}
    for i, uid in enumerate(sub["unique_id"].astype(str)):
        y = year.iloc[i]
        out[uid] = {
            "source": str(sub["source"].iloc[i]),
            "title": _strip(format_value(title.iloc[i], 500)), "authors": _strip(format_value(authors.iloc[i], 500)),
            "year": None if y is None or pd.isna(y) else int(y), "venue": _strip(format_value(venue.iloc[i], 300)),
            "doi": _strip(format_value(doi.iloc[i]) or format_value(doi_raw.iloc[i])),
        }
    return out


def review_sheet(run: RunData, skip_decided: bool = False) -> pd.DataFrame:
    """The review band as one row per pair (``SHEET_COLUMNS``) with an empty ``decision`` column."""
    band = band_pairs(run)
    decided = decided_pairs(decisions_in_force(run))
    names = [c.name for c in run.comparisons]
    ids = pd.unique(pd.concat([band["unique_id_l"], band["unique_id_r"]]).astype(str)).tolist() if len(band) else []
    texts = _record_texts(run, ids)
    cl = run.cluster_of
    rows = []
    for r in band.to_dict(orient="records"):
        a, b = str(r["unique_id_l"]), str(r["unique_id_r"])
        prev = decided.get((a, b) if a <= b else (b, a))
        if skip_decided and prev is not None:
            continue
        ta, tb = texts.get(a, {}), texts.get(b, {})
        w = float(r["match_weight"])
        rows.append({
            "decision": "", "unique_id_l": a, "unique_id_r": b, "match_weight": round(w, 3),
            "match_probability": round(float(r.get("match_probability", probability(w))), 6),
            "model": "linked" if w >= run.threshold else "not linked",
            "same_work": "yes" if cl.get(a) is not None and cl.get(a) == cl.get(b) else "no",
            "evidence": evidence(r, names),
            "source_l": ta.get("source"), "source_r": tb.get("source"),
            "title_l": ta.get("title"), "title_r": tb.get("title"),
            "authors_l": ta.get("authors"), "authors_r": tb.get("authors"),
            "year_l": ta.get("year"), "year_r": tb.get("year"),
            "venue_l": ta.get("venue"), "venue_r": tb.get("venue"),
            "doi_l": ta.get("doi"), "doi_r": tb.get("doi"),
            "previous_decision": prev.decision if prev else "",
            "who": "", "note": "",
        })
    df = pd.DataFrame(rows, columns=SHEET_COLUMNS)
    df["year_l"] = df["year_l"].astype("Int64")
    df["year_r"] = df["year_r"].astype("Int64")
    return df


def write_review_sheet(run_dir: str | Path | RunData, stream: IO[str], skip_decided: bool = False) -> int:
    """Write the review sheet as CSV to ``stream``; returns the number of pairs."""
    run = run_dir if isinstance(run_dir, RunData) else RunData(run_dir)
    df = review_sheet(run, skip_decided=skip_decided)
    df.to_csv(stream, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return len(df)


# ---------------------------------------------------------------------------------------------------------
# Importing decisions
# ---------------------------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What ``import_decisions`` did."""

    source: Path
    target: Path
    imported: dict[str, int]            # decision -> rows imported
    undecided: int                      # rows of the input with no decision (skipped)
    replaced: int                       # earlier decisions on file replaced by an imported one
    changed: list[dict[str, Any]]       # replaced ones whose decision changed
    total: int                          # decisions in the target after the import
    created: bool                       # the target did not exist before
    written: bool                       # False for a dry run
    target_from: str                    # "--into" or "settings"
    constraints: dict[str, Any] = field(default_factory=dict)   # apply_decisions info over the run

    @property
    def n_imported(self) -> int:
        return sum(self.imported.values())


def import_decisions(run_dir: str | Path | RunData, decisions: str | Path, into: str | Path | None = None,
                     who: str | None = None, now: str | None = None, dry_run: bool = False) -> ImportResult:
    """Validate ``decisions`` against the run and merge it into the decisions file.

    The target is ``into``, else the file the run's settings name (``decisions:``); without either this
    raises ``LinkageError`` saying to give ``--into``. Ids that are not records of the run are errors
    (with line numbers), as are unknown decision values. A pair already on file gets the imported
    decision, who and when (the row moves to the end: the file stays in decision order); rows with no
    ``who``/``when`` get ``who`` and the import time ``now``.
    """
    run = run_dir if isinstance(run_dir, RunData) else RunData(run_dir)
    src = read_decisions_file(decisions)
    known = set(run.records["unique_id"].astype(str))
    bad = []
    for r in src.rows:
        for u in (r.unique_id_l, r.unique_id_r):
            if u not in known:
                bad.append(f"line {r.line}: {u!r}")
    if bad:
        more = f" (and {len(bad) - 10} more)" if len(bad) > 10 else ""
        raise LinkageError(f"{src.path}: {len(bad)} record id{'s are' if len(bad) > 1 else ' is'} not in the run "
                           f"{run.out}: " + "; ".join(bad[:10]) + more,
                           "ids are unique_id values of the run's records.parquet, e.g. "
                           + repr(str(run.records['unique_id'].iloc[0])) if len(run.records) else None)
    if into:
        target, target_from = Path(into), "--into"
    else:
        t = decisions_target(run)
        if t is None:
            raise LinkageError(f"the run's settings file ({settings_path_of(run) or 'unknown'}) names no decisions "
                               "file, so there is nowhere to merge the decisions",
                               "give --into FILE (e.g. --into decisions.csv); then name that file in the settings "
                               "(decisions: decisions.csv) or pass 'linkage run ... --decisions FILE'")
        target, target_from = t, "settings"
    when = now or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    existing = read_decisions_file(target, allow_missing=True)
    created = not target.exists()
    rows: list[Decision] = list(existing.rows)
    pos = {r.key: i for i, r in enumerate(rows)}  # the last row of each pair on file
    replaced, changed = 0, []
    imported: dict[str, int] = {"same": 0, "different": 0, "unsure": 0}
    incoming: dict[tuple[str, str], Decision] = {}
    for r in src.rows:  # within the imported file, too, the later row of a pair wins
        incoming.pop(r.key, None)
        incoming[r.key] = r
    drop: set[int] = set()
    for key, r in incoming.items():
        new = Decision(r.unique_id_l, r.unique_id_r, r.decision, r.who or (who or ""), r.when or when, r.note)
        if key in pos:
            old = rows[pos[key]]
            replaced += 1
            if old.decision != new.decision:
                changed.append({"pair": [new.unique_id_l, new.unique_id_r], "decision": new.decision,
                                "earlier_decision": old.decision, "earlier_who": old.who, "earlier_when": old.when})
            drop.update(i for i, x in enumerate(rows) if x.key == key)
        rows.append(new)
        imported[new.decision] += 1
    rows = [r for i, r in enumerate(rows) if i not in drop]
    for i, r in enumerate(rows, start=2):
        r.line = i
    if not dry_run:
        write_decisions_file(target, rows)
    _, _, info = apply_decisions(rows, known, path=str(target))
    return ImportResult(source=src.path, target=target, imported=imported, undecided=src.undecided,
                        replaced=replaced, changed=changed, total=len(rows), created=created,
                        written=not dry_run, target_from=target_from, constraints=info)


# ---------------------------------------------------------------------------------------------------------
# Cluster diagnostics
# ---------------------------------------------------------------------------------------------------------


def bridges(n: int, us: Sequence[int], vs: Sequence[int]) -> list[int]:
    """Indices of the bridge edges of an undirected graph (nodes ``0..n-1``, edge k = ``us[k]``–``vs[k]``):
    the edges whose removal disconnects their component (iterative Tarjan, parallel edges allowed)."""
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for k, (u, v) in enumerate(zip(us, vs)):
        adj[u].append((v, k))
        adj[v].append((u, k))
    disc = [-1] * n
    low = [0] * n
    t = 0
    out: list[int] = []
    for s in range(n):
        if disc[s] != -1 or not adj[s]:
            continue
        disc[s] = low[s] = t
        t += 1
        stack: list[tuple[int, int, Any]] = [(s, -1, iter(adj[s]))]
        while stack:
            v, pe, it = stack[-1]
            descended = False
            for w, k in it:
                if k == pe:
                    continue
                if disc[w] == -1:
                    disc[w] = low[w] = t
                    t += 1
                    stack.append((w, k, iter(adj[w])))
                    descended = True
                    break
                low[v] = min(low[v], disc[w])
            if descended:
                continue
            stack.pop()
            if stack:
                u = stack[-1][0]
                low[u] = min(low[u], low[v])
                if low[v] > disc[u]:
                    out.append(pe)
    return out


def _components(n: int, us: Sequence[int], vs: Sequence[int]) -> list[int]:
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for u, v in zip(us, vs):
        ru, rv = find(u), find(v)
        if ru != rv:
            parent[ru] = rv
    return [find(i) for i in range(n)]


def _must_links(run: RunData) -> list[tuple[str, str]]:
    """The must-links the run applied (re-read from its decisions file, else the pairs listed in run.json)."""
    dinfo = run.info.get("decisions") or {}
    f = dinfo.get("file")
    if f and Path(f).is_file():
        try:
            from .constraints import load_decisions

            must, _, _ = load_decisions(f, run.records)
            return must
        except LinkageError:
            pass
    return [(a, b) for a, b, d in (dinfo.get("pairs") or []) if d == "same"]


def cluster_diagnostics(run: RunData) -> pd.DataFrame:
    """One row per work with two or more records, riskiest first.

    Columns: ``cluster_id``, ``size``, ``sources`` (sorted), ``source_counts`` (``acm, dblp ×2``),
    ``same_source_members`` (a source holds two of its records), ``edges`` (linked pairs inside it),
    ``weakest_edge`` and its ids ``weakest_edge_l``/``_r``, ``bridges`` (linked pairs whose removal
    splits it), ``weakest_bridge``, ``bridge_l``/``bridge_r``/``bridge_weights`` (up to
    ``MAX_BRIDGES_LISTED``, weakest first), ``components`` (parts its linked pairs and must-link
    decisions form: more than one means must-links or a frozen work hold it together), ``decisions_same``
    (must-links inside it), ``split_links`` / ``strongest_split_link`` (linked pairs to records of other
    works: joins the guard rails or cannot-links refused), ``risk`` and ``rank``.

    ``risk`` orders the review, it is not a calibrated probability: the model's probability that the
    weakest bridge is a non-match, ``1 - P(weakest bridge)``; for a work without bridges (every record
    joined at least twice) the product of that for its two weakest edges; must-links count as certain
    edges, so a work held by decisions alone has risk 0.
    """
    fast = _cluster_diagnostics_fast(run)
    return fast if fast is not None else _cluster_diagnostics_rows(run)


DIAGNOSTICS_COLUMNS = ["cluster_id", "size", "sources", "source_counts", "same_source_members", "edges",
                       "weakest_edge", "weakest_edge_l", "weakest_edge_r", "bridges", "weakest_bridge", "bridge_l",
                       "bridge_r", "bridge_weights", "components", "decisions_same", "split_links",
                       "strongest_split_link", "risk"]


def _arrow_ids(values: pd.Series) -> pa.Array:
    return pa.array(values.astype(str), from_pandas=True).cast(pa.large_string())


def _labels(n: int, us: np.ndarray, vs: np.ndarray) -> np.ndarray:
    """Connected-component labels of nodes ``0..n-1`` (each node's label is the smallest node of its
    component): hooking of labels along the edges with pointer jumping, whole arrays at a time."""
    lab = np.arange(n)
    if len(us) == 0:
        return lab
    while True:
        lu, lv = lab[us], lab[vs]
        m = np.minimum(lu, lv)
        new = lab.copy()
        np.minimum.at(new, lu, m)
        np.minimum.at(new, lv, m)
        while True:
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, lab):
            return lab
        lab = new


def _bridge_mask(n: int, us: np.ndarray, vs: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """``bridges`` as a mask over the edges: every edge of a tree component is a bridge (no cycle passes
    through it); components with a cycle go through ``bridges`` itself."""
    out = np.zeros(len(us), dtype=bool)
    if len(us) == 0:
        return out
    comp = lab[us]
    n_edges = np.bincount(comp, minlength=n)
    n_nodes = np.bincount(lab, minlength=n)
    tree = n_edges == n_nodes - 1
    out[tree[comp]] = True
    rest = np.flatnonzero(~tree[comp])
    if len(rest):
        sub_u, sub_v = us[rest], vs[rest]
        nodes, inv = np.unique(np.concatenate([sub_u, sub_v]), return_inverse=True)
        k = len(rest)
        found = bridges(len(nodes), inv[:k].tolist(), inv[k:].tolist())
        out[rest[np.asarray(found, dtype=np.int64)]] = True
    return out


def _lists(offsets: np.ndarray, values: pa.Array) -> list:
    """Python lists of ``values`` cut at ``offsets``."""
    vals = values.to_pylist()
    bounds = offsets.tolist()
    return [vals[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def _cluster_diagnostics_fast(run: RunData) -> pd.DataFrame | None:
    """``cluster_diagnostics`` on whole arrays: the same rows, values and types as record by record.
    None for inputs it does not take (see ``_cluster_diagnostics_rows``)."""
    cl = run.clusters
    uid_s = cl["unique_id"].astype(str)
    uid = _arrow_ids(uid_s)
    n = len(uid)
    if n == 0 or pc.count_distinct(uid).as_py() != n:
        return None
    rec_uid = _arrow_ids(run.records["unique_id"])
    if pc.count_distinct(rec_uid).as_py() != len(rec_uid):
        return None
    ccode, cuniq = pd.factorize(cl["cluster_id"].astype(str).to_numpy(dtype=object))
    sizes = np.bincount(ccode, minlength=len(cuniq))
    multi = sizes > 1
    if not multi.any():
        return None
    rpos = pc.fill_null(pc.index_in(uid, value_set=rec_uid), -1).to_numpy(zero_copy_only=False).astype(np.int64)
    rec_src = run.records["source"].astype(str).to_numpy(dtype=object)
    node_src = np.where(rpos >= 0, rec_src[np.maximum(rpos, 0)] if len(rec_src) else "?", "?")
    # each id's place in sort order: ties between edges of equal weight go by their ids as strings
    place = np.empty(n, dtype=np.int64)
    place[pc.sort_indices(uid).to_numpy()] = np.arange(n)

    p = run.pairs
    w_all = p["match_weight"].to_numpy(dtype=float)
    linked = w_all >= run.threshold
    lw = w_all[linked]

    def positions(col: str) -> np.ndarray:
        vals = _arrow_ids(p[col])
        vals = vals.filter(pa.array(linked)) if len(vals) else vals
        return pc.fill_null(pc.index_in(vals, value_set=uid), -1).to_numpy(zero_copy_only=False).astype(np.int64)

    la, lb = positions("unique_id_l"), positions("unique_id_r")
    if (la < 0).any() or (lb < 0).any():
        return None
    inside = ccode[la] == ccode[lb]
    # edges inside works, plus must-links inside works as certain edges
    node_of = {}
    must = _must_links(run)
    if must:
        ids = [x for pair in must for x in pair]
        pos = pc.fill_null(pc.index_in(pa.array(ids, type=pa.large_string()), value_set=uid), -1).to_numpy(
            zero_copy_only=False)
        node_of = dict(zip(ids, pos.tolist()))
    must_inside = [(node_of[a], node_of[b]) for a, b in must
                   if node_of.get(a, -1) >= 0 and node_of.get(b, -1) >= 0 and ccode[node_of[a]] == ccode[node_of[b]]]
    mu = np.array([a for a, _ in must_inside], dtype=np.int64)
    mv = np.array([b for _, b in must_inside], dtype=np.int64)
    eu = np.concatenate([la[inside], mu])
    ev = np.concatenate([lb[inside], mv])
    ew = np.concatenate([lw[inside], np.full(len(mu), np.inf)])
    lab = _labels(n, eu, ev)
    is_bridge = _bridge_mask(n, eu, ev, lab)
    ec = ccode[eu]
    certain = np.isinf(ew)
    n_c = len(cuniq)
    m_idx = np.flatnonzero(multi)  # the works reported, in cluster-code order
    row_of = np.full(n_c, -1, dtype=np.int64)
    row_of[m_idx] = np.arange(len(m_idx))
    rows = len(m_idx)

    # sources per work: sorted names and counts
    members = np.flatnonzero(multi[ccode])
    sc = pd.DataFrame({"c": row_of[ccode[members]], "s": node_src[members]}).groupby(["c", "s"], sort=True).size()
    s_row = sc.index.get_level_values(0).to_numpy()
    s_name = sc.index.get_level_values(1).to_numpy(dtype=object)
    s_n = sc.to_numpy()
    s_off = np.searchsorted(s_row, np.arange(rows + 1))
    piece = np.array([s if k == 1 else f"{s} ×{k}" for s, k in zip(s_name.tolist(), s_n.tolist())], dtype=object)
    names = pa.array(s_name.tolist(), type=pa.string())
    piece_lists = pa.ListArray.from_arrays(pa.array(s_off.astype(np.int32)), pa.array(piece.tolist(), type=pa.string()))
    source_counts = pc.binary_join(piece_lists, ", ").to_pylist()
    same_source = np.zeros(rows, dtype=bool)
    np.logical_or.at(same_source, s_row, s_n > 1)
    # components: distinct labels among each work's members
    comp = pd.DataFrame({"c": row_of[ccode[members]], "l": lab[members]}).drop_duplicates()
    components = np.bincount(comp["c"].to_numpy(), minlength=rows)

    def first_per_row(sel: np.ndarray):
        """The edges ``sel`` sorted by (work, weight, id_l, id_r), their rows, and each row's first one."""
        order = sel[np.lexsort((place[ev[sel]], place[eu[sel]], ew[sel], row_of[ec[sel]]))]
        r = row_of[ec[order]]
        off = np.searchsorted(r, np.arange(rows + 1))
        return order, r, off

    finite = np.flatnonzero(~certain)
    e_order, _, e_off = first_per_row(finite)
    n_edges = np.diff(e_off)
    has_edge = n_edges > 0
    first_e = e_order[np.minimum(e_off[:-1], max(len(e_order) - 1, 0))] if len(e_order) else np.zeros(rows, np.int64)
    uid_list = uid_s.to_numpy(dtype=object)
    weakest = np.where(has_edge, ew[first_e] if len(e_order) else np.nan, np.nan)
    weakest_l = [uid_list[eu[k]] if h else None for k, h in zip(first_e.tolist(), has_edge.tolist())]
    weakest_r = [uid_list[ev[k]] if h else None for k, h in zip(first_e.tolist(), has_edge.tolist())]
    second_w = np.full(rows, np.nan)
    two = n_edges >= 2
    if two.any():
        second_w[two] = ew[e_order[e_off[:-1][two] + 1]]

    b_order, b_r, b_off = first_per_row(np.flatnonzero(is_bridge & ~certain))
    n_bridges = np.diff(b_off)
    has_bridge = n_bridges > 0
    weakest_b = np.full(rows, np.nan)
    weakest_b[has_bridge] = ew[b_order[b_off[:-1][has_bridge]]]
    keep = (np.arange(len(b_order)) - b_off[:-1][b_r]) < MAX_BRIDGES_LISTED if len(b_order) else np.zeros(0, bool)
    listed = b_order[keep]
    l_off = np.searchsorted(b_r[keep], np.arange(rows + 1))
    bridge_l = _lists(l_off, pa.array(uid_list[eu[listed]].tolist(), type=pa.string()))
    bridge_r = _lists(l_off, pa.array(uid_list[ev[listed]].tolist(), type=pa.string()))
    bridge_w = _lists(l_off, pa.array([round(x, 4) for x in ew[listed].tolist()], type=pa.float64()))

    decisions_same = np.bincount(row_of[ec[certain]], minlength=rows) if certain.any() else np.zeros(rows, np.int64)
    # linked pairs between a work and another
    out_c = np.concatenate([ccode[la[~inside]], ccode[lb[~inside]]])
    out_w = np.concatenate([lw[~inside], lw[~inside]])
    sel = multi[out_c]
    out_r, out_w = row_of[out_c[sel]], out_w[sel]
    split_links = np.bincount(out_r, minlength=rows)
    strongest = np.full(rows, -np.inf)
    np.maximum.at(strongest, out_r, out_w)
    strongest[split_links == 0] = np.nan

    risk = []
    for hb, wb, ne, w0, w1 in zip(has_bridge.tolist(), weakest_b.tolist(), n_edges.tolist(), weakest.tolist(),
                                  second_w.tolist()):
        if hb:
            risk.append(float(1.0 - probability(wb)))
        elif ne >= 2:  # every record joined at least twice: two links would have to be wrong
            risk.append(float((1.0 - probability(w0)) * (1.0 - probability(w1))))
        else:  # no linked pair, or one that a must-link doubles: held by decisions
            risk.append(0.0)
    data = {
        "cluster_id": cuniq[m_idx].tolist(), "size": sizes[m_idx].astype(np.int64),
        "sources": _lists(s_off, names), "source_counts": source_counts, "same_source_members": same_source,
        "edges": n_edges.astype(np.int64), "weakest_edge": weakest, "weakest_edge_l": weakest_l,
        "weakest_edge_r": weakest_r, "bridges": n_bridges.astype(np.int64), "weakest_bridge": weakest_b,
        "bridge_l": bridge_l, "bridge_r": bridge_r, "bridge_weights": bridge_w,
        "components": components.astype(np.int64), "decisions_same": decisions_same.astype(np.int64),
        "split_links": split_links.astype(np.int64), "strongest_split_link": strongest, "risk": risk,
    }
    return _ranked(pd.DataFrame(data, columns=DIAGNOSTICS_COLUMNS))


def _ranked(df: pd.DataFrame) -> pd.DataFrame:
    """Diagnostics riskiest first (then largest, then by id), ranked from 1, weights as floats."""
    df = df.sort_values(["risk", "size", "cluster_id"], ascending=[False, False, True], kind="mergesort")
    df = df.reset_index(drop=True)
    df["rank"] = np.arange(1, len(df) + 1)
    for c in ("weakest_edge", "weakest_bridge", "strongest_split_link"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    return df


def _cluster_diagnostics_rows(run: RunData) -> pd.DataFrame:
    """``cluster_diagnostics`` record by record: for inputs ``_cluster_diagnostics_fast`` does not take
    (repeated ids, linked pairs naming records the clusters lack, no multi-record work)."""
    cl = run.clusters
    uid = cl["unique_id"].astype(str).to_numpy()
    cid = cl["cluster_id"].astype(str).to_numpy()
    cluster_of = dict(zip(uid, cid))
    sizes = pd.Series(cid).value_counts()
    multi = set(sizes[sizes > 1].index)
    src_of = dict(zip(run.records["unique_id"].astype(str), run.records["source"].astype(str)))
    p = run.pairs
    w_all = p["match_weight"].to_numpy(dtype=float)
    linked = p[w_all >= run.threshold]
    la = linked["unique_id_l"].astype(str).to_numpy()
    lb = linked["unique_id_r"].astype(str).to_numpy()
    lw = linked["match_weight"].to_numpy(dtype=float)
    ca = np.array([cluster_of.get(x) for x in la], dtype=object)
    cb = np.array([cluster_of.get(x) for x in lb], dtype=object)
    inside = ca == cb
    # edges inside works, plus must-links inside works as certain edges
    ea, eb, ew = la[inside].tolist(), lb[inside].tolist(), lw[inside].tolist()
    must_inside = [(a, b) for a, b in _must_links(run) if cluster_of.get(a) is not None
                   and cluster_of.get(a) == cluster_of.get(b)]
    ea += [a for a, _ in must_inside]
    eb += [b for _, b in must_inside]
    ew += [math.inf] * len(must_inside)
    nodes = {u: i for i, u in enumerate(uid)}
    us = [nodes[a] for a in ea]
    vs = [nodes[b] for b in eb]
    bridge_set = set(bridges(len(uid), us, vs))
    roots = _components(len(uid), us, vs)

    per: dict[str, dict[str, Any]] = {c: {"edges": [], "bridges": [], "must": 0} for c in multi}
    for k, (a, b, w) in enumerate(zip(ea, eb, ew)):
        c = cluster_of[a]
        if c not in per:
            continue
        if math.isinf(w):
            per[c]["must"] += 1
        else:
            per[c]["edges"].append((w, a, b))
        if k in bridge_set:
            per[c]["bridges"].append((w, a, b))
    split: dict[str, list[float]] = {}
    for w, x, y in zip(lw[~inside], ca[~inside], cb[~inside]):
        for c in (x, y):
            if c in per:
                split.setdefault(c, []).append(float(w))
    members: dict[str, list[str]] = {}
    for u, c in zip(uid, cid):
        if c in per:
            members.setdefault(c, []).append(u)

    rows = []
    for c, d in per.items():
        mem = members[c]
        srcs = sorted(Counter(src_of.get(u, "?") for u in mem).items())
        edges = sorted(d["edges"])
        brs = sorted(d["bridges"])
        weakest = edges[0] if edges else None
        finite_bridges = [x for x in brs if not math.isinf(x[0])]
        if finite_bridges:
            risk = 1.0 - probability(finite_bridges[0][0])
        elif len(edges) >= 2:  # every record joined at least twice: two links would have to be wrong
            risk = (1.0 - probability(edges[0][0])) * (1.0 - probability(edges[1][0]))
        else:  # no linked pair, or one that a must-link doubles: held by decisions
            risk = 0.0
        sp = split.get(c, [])
        rows.append({
            "cluster_id": c, "size": len(mem), "sources": [k for k, _ in srcs],
            "source_counts": ", ".join(s if n == 1 else f"{s} ×{n}" for s, n in srcs),
            "same_source_members": any(n > 1 for _, n in srcs),
            "edges": len(edges),
            "weakest_edge": weakest[0] if weakest else None,
            "weakest_edge_l": weakest[1] if weakest else None, "weakest_edge_r": weakest[2] if weakest else None,
            "bridges": len(finite_bridges),
            "weakest_bridge": finite_bridges[0][0] if finite_bridges else None,
            "bridge_l": [x[1] for x in finite_bridges[:MAX_BRIDGES_LISTED]],
            "bridge_r": [x[2] for x in finite_bridges[:MAX_BRIDGES_LISTED]],
            "bridge_weights": [round(x[0], 4) for x in finite_bridges[:MAX_BRIDGES_LISTED]],
            "components": len({roots[nodes[u]] for u in mem}),
            "decisions_same": d["must"],
            "split_links": len(sp), "strongest_split_link": max(sp) if sp else None,
            "risk": float(risk),
        })
    return _ranked(pd.DataFrame(rows, columns=DIAGNOSTICS_COLUMNS))


def _read_columns(path: Path, columns: list[str]) -> pd.DataFrame:
    """Those of ``columns`` the Parquet file has (all of them when it is not a Parquet file we can read)."""
    import pyarrow.parquet as pq

    try:
        names = set(pq.read_schema(path).names)
    except (OSError, ValueError):
        return pd.read_parquet(path)
    return pd.read_parquet(path, columns=[c for c in columns if c in names])


def write_cluster_diagnostics(run_dir: str | Path | RunData, diagnostics: pd.DataFrame | None = None, *,
                              records: pd.DataFrame | None = None, clusters: pd.DataFrame | None = None,
                              linked: pd.DataFrame | None = None, linked_from: float | None = None) -> Path:
    """Write ``cluster_diagnostics.parquet`` into the run folder; returns its path.

    At the end of a run the tables it wrote can be given from memory instead of being read back:
    ``records``, ``clusters``, and ``linked``, the scored pairs at or above match weight ``linked_from``
    (the diagnostics only read pairs at or above the run's threshold; pairs.parquet is read when that
    threshold is below ``linked_from``)."""
    if isinstance(run_dir, RunData):
        run = run_dir
    else:
        run = RunData(run_dir)
        # only the columns the diagnostics read: the whole records and pairs tables (every raw and normalised
        # field, every comparison's evidence) would double a large run's memory at its end
        if diagnostics is None:
            cols = ["unique_id", "source", "source_id"]
            run.__dict__["records"] = records[[c for c in cols if c in records]] if records is not None else \
                _read_columns(run.out / "records.parquet", cols)
            pair_cols = ["unique_id_l", "unique_id_r", "match_weight"]
            if linked is not None and linked_from is not None and run.threshold >= linked_from:
                run.__dict__["pairs"] = linked[pair_cols]
            else:
                run.__dict__["pairs"] = _read_columns(run.out / "pairs.parquet", pair_cols)
            if clusters is not None:
                run.__dict__["clusters"] = clusters
    df = cluster_diagnostics(run) if diagnostics is None else diagnostics
    path = run.out / DIAGNOSTICS_FILE
    df.to_parquet(path, index=False)
    return path
