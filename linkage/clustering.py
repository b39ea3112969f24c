"""Clustering scored pairs into works, with guard rails.

Method ``guarded`` (default): edges at or above the threshold are joined strongest first
(union-find); a join is refused when it would put into one cluster

* two records with different valid DOIs from the same source (two different works the source
  itself told apart), or two different arXiv ids;
* two records of one source that runs one-to-one (a source with no within-source duplicates links
  to at most one record per other source, best first);
* two records with generic recurring titles ('Book review', 'Editorial') whose issue, pages
  and volume do not agree,
* an ambiguous link into a one-to-one source: a record whose edge to ``b`` is not at least
  ``ambiguity_margin`` bits (default 2) stronger than its edge to another record of ``b``'s source
  (or the same seen from ``b``). A one-to-one source holds no duplicates, so two of its records
  are two different works; when the evidence cannot tell which one a record matches (six
  'Reminiscences on influential papers' columns by one editor in one year), picking the first in
  sort order is a coin toss, and a wrong pick costs a false pair and a missed one,

unless the joining edge itself is overwhelming (``overwhelming`` bits, default 30). A weak bridge
between two multi-record clusters is refused unless the edge is at least ``bridge_margin`` bits
above the threshold or other edges between them support it too (average-link check).
Method ``connected_components`` joins every edge above the threshold, as Splink does.

Cluster ids are the smallest member ``unique_id``, so reruns on the same data give the same ids.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


@dataclass
class ClusterReport:
    method: str
    threshold: float
    edges_above: int = 0
    edges_used: int = 0
    refused: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    refused_examples: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"method": self.method, "threshold": self.threshold, "edges_above_threshold": self.edges_above,
                "edges_joined": self.edges_used, "joins_refused": dict(self.refused),
                "refused_examples": self.refused_examples[:20]}


GENERIC_PHRASES = re.compile(
    r"\b(editor s (comments?|notes?|introduction|foreword|remarks)|remarks from .{0,40}editor|editorial|"
    r"from the (editor|editors|chair|president)|guest editor|book reviews?|call for (papers|book reviews)|"
    r"in memoriam|obituary|erratum|errata|corrigendum|issue information|table of contents|front matter|"
    r"back matter|letters? to the editor|reviewers? acknowledg\w*|introduction to the special issue)\b")


# every alternative of GENERIC_PHRASES contains one of these literal strings: titles holding none of them
# cannot match, so the regex runs (in Python, exactly as written) only on the few that hold one
_GENERIC_HINT = ("editor|from the |book review|call for |in memoriam|obituary|errat|corrigendum|issue information|"
                 "table of contents|front matter|back matter|reviewer|introduction to the special issue")
# the ASCII characters ``str.split()`` splits on (``str.isspace``): words of ASCII text are counted on its bytes
_ASCII_SPACE = np.zeros(256, dtype=bool)
_ASCII_SPACE[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True


def _arrow_text(values: pd.Series) -> pa.Array | None:
    """``values`` (str or missing) as an Arrow string array; None when they are not all text."""
    try:
        arr = pa.array(values.astype(object), from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError, UnicodeError):
        return None
    if arr.type not in (pa.string(), pa.large_string()) and arr.null_count != len(arr):
        return None
    return arr.cast(pa.large_string())


def _word_counts(values: pd.Series) -> np.ndarray | None:
    """``len(v.split())`` of every text value (-1 for a missing one); None when the values are not all text.

    ASCII values are counted on the Arrow bytes (a word starts at a non-space byte after a space or at
    the start); others (rare after normalisation) by ``str.split`` itself."""
    arr = _arrow_text(values)
    if arr is None:
        return None
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    n = len(arr)
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset: arr.offset + n + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None and n else np.zeros(0, dtype=np.uint8)
    lo, hi = (int(offsets[0]), int(offsets[-1])) if n else (0, 0)
    data = data[lo:hi]
    starts, ends = offsets[:-1] - lo, offsets[1:] - lo
    space = _ASCII_SPACE[data]
    prev_space = np.ones(len(data), dtype=bool)
    prev_space[1:] = space[:-1]
    prev_space[starts[starts < len(data)]] = True  # each value starts afresh
    first = np.flatnonzero(~space & prev_space)  # the bytes that start a word
    counts = np.searchsorted(first, ends) - np.searchsorted(first, starts)
    wide = np.flatnonzero(data >= 0x80)
    missing = arr.is_null().to_numpy(zero_copy_only=False)
    counts[missing] = -1
    other = np.flatnonzero((np.searchsorted(wide, ends) > np.searchsorted(wide, starts)) & ~missing)
    if len(other):
        obj = values.to_numpy(dtype=object)
        counts[other] = [len(obj[i].split()) for i in other]
    return counts.astype(np.int64)


def generic_phrase_titles(records: pd.DataFrame, max_words: int = 10) -> pd.Series:
    """Short titles built around a recurring formula ('Remarks from the MIS Quarterly editor: editor's
    comments', 'Call for book reviews'): items of a journal's furniture, not works of their own."""
    if "title_norm" not in records:
        return pd.Series(False, index=records.index)
    t = records["title_norm"].astype(object)
    test = lambda v: isinstance(v, str) and len(v.split()) <= max_words and GENERIC_PHRASES.search(v) is not None  # noqa: E731
    arr = _arrow_text(t)
    if arr is None:
        return t.map(test).astype(bool)
    hint = pc.fill_null(pc.match_substring_regex(arr, _GENERIC_HINT), False).to_numpy(zero_copy_only=False)
    out = np.zeros(len(t), dtype=bool)
    cand = np.flatnonzero(hint)
    out[cand] = [test(v) for v in t.to_numpy()[cand]]
    return pd.Series(out, index=records.index)


def recurring_short_titles(records: pd.DataFrame, max_words: int = 6, min_records: int = 3) -> pd.Series:
    """Short titles that recur within one source across different volumes or issues ('Editor's comments',
    'Industry perspective'): columns of a journal, not one work. Treated like generic titles."""
    if "title_norm" not in records or len(records) == 0:
        return pd.Series(False, index=records.index)
    t = records["title_norm"].astype(object)
    words = _word_counts(t)
    if words is None:
        short = t.map(lambda v: isinstance(v, str) and len(v.split()) <= max_words).to_numpy(dtype=bool)
    else:
        short = (words >= 0) & (words <= max_words)
    rows = np.flatnonzero(short)  # only short titles can recur: the rest never enter the groups
    if len(rows) == 0:
        return pd.Series(False, index=records.index)

    def col(c):
        v = records[c].astype(object) if c in records else pd.Series(None, index=records.index, dtype=object)
        return v.where(v.notna(), None).to_numpy()[rows]

    vol, iss = col("volume_norm"), col("issue_norm")
    when = [f"{a}/{b}" if a is not None or b is not None else None for a, b in zip(vol, iss)]
    src = records["source"].astype(str).to_numpy()[rows]
    ts = t.to_numpy()[rows]
    df = pd.DataFrame({"source": src, "t": ts, "when": when})
    g = df.groupby(["source", "t"]).agg(n=("when", "size"), distinct=("when", "nunique"))
    # a column: most of its records sit in different volumes/issues (a much-cited paper repeats one volume)
    rec_keys = g[(g["n"] >= min_records) & (g["distinct"] >= 2) & (g["distinct"] >= 0.4 * g["n"])].index
    keyset = set(rec_keys)
    flags = np.zeros(len(records), dtype=bool)
    if keyset:
        flags[rows] = [(s_, v) in keyset for s_, v in zip(src, ts)]
    return pd.Series(flags, index=records.index)


def ambiguous_edges(edges: pd.DataFrame, one_to_one_sources: set[str], margin: float) -> pd.Series:
    """True for a cross-source edge (x, y, w) where y's source runs one-to-one and x has another edge
    into y's source weighing at least w - margin, or the same with x and y swapped.

    Only edges passed in (those at or above the threshold) compete. Within-source edges are never
    flagged here (the one-to-one guard handles them).
    """
    if "source_l" not in edges or "source_r" not in edges or margin is None or margin < 0:
        return pd.Series(False, index=edges.index)
    out = pd.Series(False, index=edges.index)
    m = len(edges)
    sl = edges["source_l"].astype(str).to_numpy(dtype=object)
    sr = edges["source_r"].astype(str).to_numpy(dtype=object)
    cross = sl != sr
    w = edges["match_weight"].to_numpy(dtype=float)
    # each edge seen from both ends: (end x, target source t, weight, edge position)
    t = np.concatenate([sr, sl])
    keep = np.concatenate([cross, cross]) & np.isin(t, list(one_to_one_sources))
    if not keep.any():
        return out
    x_codes, _ = pd.factorize(pd.concat([edges["unique_id_l"], edges["unique_id_r"]], ignore_index=True).astype(str))
    t_codes, _ = pd.factorize(t)
    x, tt = x_codes[keep], t_codes[keep]
    ww = np.concatenate([w, w])[keep]
    e = np.concatenate([np.arange(m), np.arange(m)])[keep]
    order = np.lexsort((-ww, tt, x))  # per (x, t), heaviest first
    x, tt, ww, e = x[order], tt[order], ww[order], e[order]
    k = len(x)
    start = np.ones(k, dtype=bool)
    start[1:] = (x[1:] != x[:-1]) | (tt[1:] != tt[:-1])
    first = np.maximum.accumulate(np.where(start, np.arange(k), 0))  # each end's group's first position
    size = np.diff(np.append(np.flatnonzero(start), k))[np.cumsum(start) - 1]
    rank = np.arange(k) - first
    top1 = ww[first]
    top2 = np.where(size >= 2, ww[np.minimum(first + 1, k - 1)], -np.inf)
    # the heaviest end competes with the second heaviest, every other end with the heaviest (ties: the
    # same weights whichever of them comes first)
    competitor = np.where(rank == 0, top2, top1)
    flag = competitor >= ww - margin
    out.loc[edges.index[np.unique(e[flag])]] = True
    return out


def _positions(values: pd.Series, ids: pa.Array, index: dict[str, int] | None) -> np.ndarray:
    """Each value's position in ``ids`` (-1 when not there). ``index`` (id -> position) is used instead
    when given (``ids`` holds a duplicate: the dict keeps the last position of an id)."""
    if index is not None:
        return values.astype(str).map(index).fillna(-1).to_numpy().astype(np.int64)
    arr = pa.array(values.astype(str), from_pandas=True).cast(pa.large_string())
    pos = pc.index_in(arr, value_set=ids)
    return pc.fill_null(pos, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def cluster(records: pd.DataFrame, pairs: pd.DataFrame, threshold: float, method: str = "guarded",
            one_to_one_sources: set[str] | None = None, overwhelming: float = 30.0, bridge_margin: float = 6.0,
            must_link: list[tuple[str, str]] | None = None, cannot_link: list[tuple[str, str]] | None = None,
            frozen: dict[str, str] | None = None, separate_relations: set[str] | None = None,
            ambiguity_margin: float = 2.0, min_link_share: float = 0.5) -> tuple[pd.DataFrame, ClusterReport]:
    """Returns (clusters: unique_id, cluster_id; report).

    ``frozen`` maps unique_id -> an existing cluster id (``linkage match``): those clusters start
    joined, keep their ids, and are never merged with each other. ``separate_relations`` names the
    pair relations (``pairs.relation``) the version policy keeps apart, e.g. ``report_published``.
    """
    rep = ClusterReport(method=method, threshold=threshold)
    ids = records["unique_id"].astype(str).tolist()
    n = len(ids)
    ids_arr = pa.array(ids, type=pa.large_string())
    # each id's place in sort order (the order of the strings; equal ids share one) and the positions
    # in that order
    by_id = pc.sort_indices(ids_arr).to_numpy().astype(np.int64) if n else np.zeros(0, dtype=np.int64)
    srt = ids_arr.take(pa.array(by_id)) if n else ids_arr
    new = np.ones(n, dtype=bool)
    if n > 1:
        new[1:] = pc.not_equal(srt.slice(1), srt.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    id_rank = np.empty(n, dtype=np.int64)
    id_rank[by_id] = np.cumsum(new, dtype=np.int64) - 1
    unique = bool(new.all())
    # id -> position, for the decisions and frozen clusters (a repeated id keeps its last position); the
    # pairs' ids are looked up in Arrow instead (``_positions``), millions at a time
    index = {u: i for i, u in enumerate(ids)} if (not unique or must_link or cannot_link or frozen) else {}
    lookup = None if unique else index
    parent = list(range(n))

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    cols = [c for c in ("unique_id_l", "unique_id_r", "match_weight", "source_l", "source_r", "relation")
            if c in pairs]
    edges = pairs.loc[pairs["match_weight"].to_numpy(dtype=float) >= threshold, cols]
    if separate_relations and "relation" in edges and method != "connected_components":
        held = edges["relation"].isin(separate_relations)
        rep.refused["version_policy"] += int(held.sum())
        for r in edges[held].head(20).itertuples():
            rep.refused_examples.append({"unique_id_l": r.unique_id_l, "unique_id_r": r.unique_id_r,
                                         "match_weight": float(r.match_weight), "reason": f"version_policy:{r.relation}"})
        edges = edges[~held]
    if one_to_one_sources and method != "connected_components" and len(edges):
        amb = ambiguous_edges(edges, one_to_one_sources, ambiguity_margin)
        if amb.any():
            rep.refused["ambiguous"] += int(amb.sum())
            for r in edges[amb].sort_values("match_weight", ascending=False, kind="mergesort").head(20).itertuples():
                rep.refused_examples.append({"unique_id_l": r.unique_id_l, "unique_id_r": r.unique_id_r,
                                             "match_weight": float(r.match_weight), "reason": "ambiguous"})
            edges = edges[~amb]
    uid_l = _positions(edges["unique_id_l"], ids_arr, lookup)
    uid_r = _positions(edges["unique_id_r"], ids_arr, lookup)
    ws = edges["match_weight"].to_numpy(dtype=float)
    # strongest first, then by the ids (as strings): a stable sort on (weight desc, id_l, id_r)
    order = np.lexsort((id_rank[uid_r], id_rank[uid_l], -ws)) if len(ws) else np.zeros(0, dtype=np.int64)
    uid_l, uid_r, ws = uid_l[order], uid_r[order], ws[order]
    rep.edges_above = len(edges)
    del edges
    # per-cluster constraint state: members' sources, DOIs per source, arXiv ids, generic-title keys
    def values(col: str) -> list:
        if col not in records:
            return [None] * n
        s = records[col].astype(object)
        return s.where(s.notna(), None).tolist()

    src = records["source"].astype(str).tolist()
    doi = [d.rstrip("/") or None if isinstance(d, str) else d for d in values("doi_norm")]  # '10.1/x/' is '10.1/x'
    arx = values("arxiv_id_norm")
    generic_arr = (records.get("title_generic", pd.Series([False] * n)).fillna(False).astype(bool)
                   | recurring_short_titles(records) | generic_phrase_titles(records)).to_numpy(dtype=bool)
    generic = generic_arr.tolist()
    gen_idx = np.flatnonzero(generic_arr).tolist()
    vol_v = values("volume_norm")
    issue = values("issue_norm")
    page = values("page_first")

    # A generic-titled record is ambiguous when its source holds another record with the same title,
    # first author and year (four 'Book review column's by one editor in one year): only DOI, issue or
    # page evidence can tell which is which. An unambiguous one ('Guest editorial' by three named
    # editors in 2003) may merge on the model's evidence alone.
    fa, yr, tn = values("first_author"), values("year_norm"), values("title_norm")
    gcount: dict = defaultdict(int)
    for i in gen_idx:
        gcount[(src[i], tn[i], fa[i], yr[i])] += 1
    ambiguous = [False] * n
    for i in gen_idx:
        ambiguous[i] = gcount[(src[i], tn[i], fa[i], yr[i])] > 1

    def _same_item(x: int, y: int) -> bool:
        """Two generic-titled records ('Editorial') are one item only if DOI, issue or first page agree,
        or, lacking those, neither is ambiguous within its source."""
        if doi[x] and doi[y]:
            return doi[x] == doi[y]
        if page[x] and page[y]:
            return page[x] == page[y]
        if issue[x] and issue[y]:
            return issue[x] == issue[y] and (str(vol_v[x]) if vol_v[x] is not None else "") == (
                str(vol_v[y]) if vol_v[y] is not None else "")
        return not ambiguous[x] and not ambiguous[y]

    members: dict[int, list[int]] = {}  # a cluster's members, for clusters of two or more (roots only)

    def mem(r: int) -> list[int]:
        return members.get(r) or [r]

    oto = one_to_one_sources or set()
    cannot = set()
    for a, b in cannot_link or []:
        if a in index and b in index:
            cannot.add((index[a], index[b]))
            cannot.add((index[b], index[a]))
    weight_between: dict[tuple[int, int], list[float]] = defaultdict(list)
    between: dict[int, set[int]] = defaultdict(set)  # root -> the roots it has weight_between entries with
    # votes between clusters for the split-vote check: every scored pair (above the threshold or not)
    # votes yes when at or above the threshold; a pair the version policy keeps apart votes no. Kept as
    # arrays (each record's scored partners, CSR) and counted only when two multi-record clusters meet.
    vote_ptr = vote_dst = vote_yes = None
    root_of = np.arange(n)
    if method != "connected_components" and min_link_share > 0 and len(pairs):
        held_rel = pairs["relation"].isin(separate_relations).to_numpy(dtype=bool) \
            if separate_relations and "relation" in pairs else np.zeros(len(pairs), dtype=bool)
        yes_v = (pairs["match_weight"].to_numpy(dtype=float) >= threshold) & ~held_rel
        pl = _positions(pairs["unique_id_l"], ids_arr, lookup)
        pr = _positions(pairs["unique_id_r"], ids_arr, lookup)
        # only records an edge (or a must-link, or an existing cluster) can join ever sit in a cluster of
        # two or more, and votes are only counted between such clusters: the other pairs are left out
        joinable = np.zeros(n + 1, dtype=bool)  # position n: ids not among the records
        joinable[uid_l] = True
        joinable[uid_r] = True
        for u in [x for pair in (must_link or []) for x in pair] + list(frozen or {}):
            if u in index:
                joinable[index[u]] = True
        ok = joinable[np.where(pl >= 0, pl, n)] & joinable[np.where(pr >= 0, pr, n)]
        pa_, pb_ = pl[ok], pr[ok]
        src_ = np.concatenate([pa_, pb_])
        order = np.argsort(src_)  # a record's partners in any order: only their counts are used
        vote_dst = np.concatenate([pb_, pa_])[order]
        vote_yes = np.concatenate([yes_v[ok], yes_v[ok]])[order]
        vote_ptr = np.searchsorted(src_[order], np.arange(n + 1))
        del pl, pr, ok, pa_, pb_, src_, order, yes_v, held_rel

    def split_votes(small: list[int], other: int) -> tuple[int, int]:
        """(yes, total) over the scored pairs between records ``small`` and the cluster rooted at ``other``."""
        starts = vote_ptr[small]
        lens = vote_ptr[np.asarray(small) + 1] - starts
        tot = int(lens.sum())
        if tot == 0:
            return 0, 0
        idx = np.arange(tot) + np.repeat(starts - np.concatenate(([0], np.cumsum(lens)[:-1])), lens)
        hit = root_of[vote_dst[idx]] == other
        return int(vote_yes[idx][hit].sum()), int(hit.sum())

    frozen_of: dict[int, str] = {index[u]: c for u, c in (frozen or {}).items() if u in index}
    frozen_root: dict[int, str] = {}

    def conflict(ra: int, rb: int, w: float) -> str | None:
        A, B = mem(ra), mem(rb)
        fa_, fb_ = frozen_root.get(ra), frozen_root.get(rb)
        if fa_ is not None and fb_ is not None and fa_ != fb_:
            return "existing_clusters"
        if cannot:
            for x in A:
                for y in B:
                    if (x, y) in cannot:
                        return "cannot_link"
        if w >= overwhelming:
            return None
        dois_a = {(src[x], doi[x]) for x in A if doi[x]}
        dois_b = {(src[x], doi[x]) for x in B if doi[x]}
        if dois_a and dois_b:
            by_src = defaultdict(set)
            for s, d in dois_a | dois_b:
                by_src[s].add(d)
            if any(len(v) > 1 for v in by_src.values()):
                return "doi_conflict_same_source"
        arx_a = {arx[x] for x in A if arx[x]}
        arx_b = {arx[x] for x in B if arx[x]}
        if arx_a and arx_b and not (arx_a & arx_b):
            return "arxiv_conflict"
        if oto:
            sa = {src[x] for x in A}
            sb = {src[x] for x in B}
            if (sa & sb) & oto:
                return "one_to_one"
        ga = [x for x in A if generic[x]]
        gb = [x for x in B if generic[x]]
        if ga and gb and not any(_same_item(x, y) for x in ga for y in gb):
            return "generic_title"
        if len(A) > 1 and len(B) > 1 and vote_ptr is not None:
            yes, total = split_votes(A, rb) if len(A) <= len(B) else split_votes(B, ra)
            if total and yes < min_link_share * total:
                return "split_vote"
        if len(A) > 1 and len(B) > 1 and w < threshold + bridge_margin:
            support = weight_between.get((min(ra, rb), max(ra, rb)), [])
            if len(support) < max(2, min(len(A), len(B)) // 2):
                return "weak_bridge"
        return None

    if method == "connected_components":
        conflict = None  # noqa: F811 - plain components, no guard rails
    forced = [(index[a], index[b], float("inf")) for a, b in (must_link or []) if a in index and b in index]
    if frozen_of:  # existing clusters start joined
        by_cluster: dict[str, list[int]] = defaultdict(list)
        for i, c in frozen_of.items():
            by_cluster[c].append(i)
        for idx in by_cluster.values():
            forced += [(idx[0], j, float("inf")) for j in idx[1:]]
        for i, c in frozen_of.items():
            frozen_root[i] = c
    pending = list(forced) + list(zip(uid_l.tolist(), uid_r.tolist(), ws.tolist()))
    del uid_l, uid_r, ws
    for a, b, w in pending:
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        why = conflict(ra, rb, w) if conflict is not None and w != float("inf") else None
        if why is not None:
            rep.refused[why] += 1
            weight_between[(min(ra, rb), max(ra, rb))].append(w)
            between[ra].add(rb)
            between[rb].add(ra)
            if len(rep.refused_examples) < 50:
                rep.refused_examples.append({"unique_id_l": ids[a], "unique_id_r": ids[b], "match_weight": w,
                                             "reason": why})
            continue
        ma, mb = members.get(ra), members.get(rb)
        if (len(ma) if ma else 1) < (len(mb) if mb else 1):
            ra, rb, ma = rb, ra, mb
        parent[rb] = ra
        moved = members.pop(rb, None) or [rb]
        root_of[moved] = ra
        if ma is None:
            members[ra] = [ra, *moved]
        else:
            ma.extend(moved)
        fz = frozen_root.pop(rb, None)
        if fz is not None:
            frozen_root[ra] = fz
        rep.edges_used += 1
        # carry over support counts of the absorbed cluster
        for other in between.pop(rb, ()):
            support = weight_between.pop((min(rb, other), max(rb, other)))
            between[other].discard(rb)
            if other != ra:
                weight_between[(min(ra, other), max(ra, other))].extend(support)
                between[ra].add(other)
                between[other].add(ra)
    # each record's root (pointer jumping over the whole forest at once), then each cluster's smallest id
    roots = np.asarray(parent, dtype=np.int64)
    while n:
        nxt = roots[roots]
        if np.array_equal(nxt, roots):
            break
        roots = nxt
    place = np.empty(n, dtype=np.int64)
    place[by_id] = np.arange(n)
    smallest = np.full(n, n, dtype=np.int64)
    np.minimum.at(smallest, roots, place)
    cluster_ids = ids_arr.take(pa.array(by_id[smallest[roots]])).to_pylist() if n else []
    kept = {r: c for r, c in frozen_root.items() if roots[r] == r}  # an existing cluster keeps its id
    if kept:
        for i in np.flatnonzero(np.isin(roots, np.fromiter(kept, dtype=np.int64, count=len(kept)))).tolist():
            cluster_ids[i] = kept[int(roots[i])]
    out = pd.DataFrame({"unique_id": ids, "cluster_id": cluster_ids})
    return out, rep


POLICY_RELATIONS = {"preprint_published": "preprint_published", "different_types": "report_published",
                    "extended_version": "conference_journal"}


def cluster_options(clustering: dict) -> dict:
    """The numeric guard settings of a settings file's ``clustering`` block, as ``cluster`` keyword arguments."""
    defaults = {"bridge_margin": 6.0, "ambiguity_margin": 2.0, "min_link_share": 0.5}
    return {k: float(clustering.get(k, v)) for k, v in defaults.items()}


def separate_relations(version_policy: dict | None) -> set[str]:
    """Pair relations the settings' ``version_policy`` keeps in separate works."""
    policy = {"preprint_published": "merge", "different_types": "separate", "extended_version": "merge"}
    policy.update(version_policy or {})
    return {POLICY_RELATIONS[k] for k, v in policy.items() if v == "separate" and k in POLICY_RELATIONS}
