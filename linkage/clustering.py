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


def generic_phrase_titles(records: pd.DataFrame, max_words: int = 10) -> pd.Series:
    """Short titles built around a recurring formula ('Remarks from the MIS Quarterly editor: editor's
    comments', 'Call for book reviews'): items of a journal's furniture, not works of their own."""
    if "title_norm" not in records:
        return pd.Series(False, index=records.index)
    t = records["title_norm"].astype(object)
    return t.map(lambda v: isinstance(v, str) and len(v.split()) <= max_words
                 and GENERIC_PHRASES.search(v) is not None).astype(bool)


def recurring_short_titles(records: pd.DataFrame, max_words: int = 6, min_records: int = 3) -> pd.Series:
    """Short titles that recur within one source across different volumes or issues ('Editor's comments',
    'Industry perspective'): columns of a journal, not one work. Treated like generic titles."""
    if "title_norm" not in records or len(records) == 0:
        return pd.Series(False, index=records.index)
    t = records["title_norm"].astype(object)
    short = t.map(lambda v: isinstance(v, str) and len(v.split()) <= max_words)
    def col(c):
        v = records[c].astype(object) if c in records else pd.Series(None, index=records.index, dtype=object)
        return v.where(v.notna(), None)

    vol, iss = col("volume_norm"), col("issue_norm")
    when = [f"{a}/{b}" if a is not None or b is not None else None for a, b in zip(vol, iss)]
    df = pd.DataFrame({"source": records["source"].astype(str), "t": t.where(short, None), "when": when},
                      index=records.index)
    df = df[df["t"].notna()]
    if df.empty:
        return pd.Series(False, index=records.index)
    g = df.groupby(["source", "t"]).agg(n=("when", "size"), distinct=("when", "nunique"))
    # a column: most of its records sit in different volumes/issues (a much-cited paper repeats one volume)
    rec_keys = g[(g["n"] >= min_records) & (g["distinct"] >= 2) & (g["distinct"] >= 0.4 * g["n"])].index
    keyset = set(rec_keys)
    flags = [(s_, v) in keyset for s_, v in zip(records["source"].astype(str), t)]
    return pd.Series(flags, index=records.index)


def ambiguous_edges(edges: pd.DataFrame, one_to_one_sources: set[str], margin: float) -> pd.Series:
    """True for a cross-source edge (x, y, w) where y's source runs one-to-one and x has another edge
    into y's source weighing at least w - margin, or the same with x and y swapped.

    Only edges passed in (those at or above the threshold) compete. Within-source edges are never
    flagged here (the one-to-one guard handles them).
    """
    if "source_l" not in edges or "source_r" not in edges or margin is None or margin < 0:
        return pd.Series(False, index=edges.index)
    sl, sr = edges["source_l"].astype(str), edges["source_r"].astype(str)
    cross = sl != sr
    w = edges["match_weight"].astype(float)
    out = pd.Series(False, index=edges.index)
    # each edge seen from both ends: (end, target source, weight, other end)
    ends = pd.concat([
        pd.DataFrame({"x": edges["unique_id_l"], "t": sr, "w": w, "y": edges["unique_id_r"], "e": edges.index}),
        pd.DataFrame({"x": edges["unique_id_r"], "t": sl, "w": w, "y": edges["unique_id_l"], "e": edges.index}),
    ])[pd.concat([cross, cross]).to_numpy()]
    ends = ends[ends["t"].isin(one_to_one_sources)]
    if ends.empty:
        return out
    ends = ends.sort_values(["x", "t", "w", "y"], ascending=[True, True, False, True], kind="mergesort")
    g = ends.groupby(["x", "t"], sort=False)["w"]
    rank = g.cumcount().to_numpy()
    top1 = g.transform("first").to_numpy()
    key = list(zip(ends["x"], ends["t"]))
    second = {k: v for k, v, r in zip(key, ends["w"].to_numpy(), rank) if r == 1}
    top2 = np.array([second.get(k, float("-inf")) for k in key])
    competitor = np.where(rank == 0, top2, top1)
    flag = competitor >= ends["w"].to_numpy() - margin
    hit = ends["e"].to_numpy()[flag]
    out.loc[np.unique(hit)] = True
    return out


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
    index = {u: i for i, u in enumerate(ids)}
    n = len(ids)
    parent = np.arange(n)

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    edges = pairs[pairs["match_weight"] >= threshold]
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
    edges = edges[["unique_id_l", "unique_id_r", "match_weight"]]
    edges = edges.sort_values(["match_weight", "unique_id_l", "unique_id_r"], ascending=[False, True, True],
                              kind="mergesort")
    rep.edges_above = len(edges)
    # per-cluster constraint state: members' sources, DOIs per source, arXiv ids, generic-title keys
    def values(col: str) -> list:
        if col not in records:
            return [None] * n
        s = records[col].astype(object)
        return s.where(s.notna(), None).tolist()

    src = records["source"].astype(str).tolist()
    doi = [d.rstrip("/") or None if isinstance(d, str) else d for d in values("doi_norm")]  # '10.1/x/' is '10.1/x'
    arx = values("arxiv_id_norm")
    generic = (records.get("title_generic", pd.Series([False] * n)).fillna(False).astype(bool)
               | recurring_short_titles(records) | generic_phrase_titles(records)).tolist()
    gkey = [
        (str(v) if v is not None else "", str(i) if i is not None else "", str(p) if p is not None else "")
        for v, i, p in zip(values("volume_norm"), values("issue_norm"), values("page_first"))
    ]
    issue = values("issue_norm")
    page = values("page_first")

    # A generic-titled record is ambiguous when its source holds another record with the same title,
    # first author and year (four 'Book review column's by one editor in one year): only DOI, issue or
    # page evidence can tell which is which. An unambiguous one ('Guest editorial' by three named
    # editors in 2003) may merge on the model's evidence alone.
    fa, yr, tn = values("first_author"), values("year_norm"), values("title_norm")
    gcount: dict = defaultdict(int)
    for i in range(n):
        if generic[i]:
            gcount[(src[i], tn[i], fa[i], yr[i])] += 1
    ambiguous = [generic[i] and gcount[(src[i], tn[i], fa[i], yr[i])] > 1 for i in range(n)]

    def _same_item(x: int, y: int) -> bool:
        """Two generic-titled records ('Editorial') are one item only if DOI, issue or first page agree,
        or, lacking those, neither is ambiguous within its source."""
        if doi[x] and doi[y]:
            return doi[x] == doi[y]
        if page[x] and page[y]:
            return page[x] == page[y]
        if issue[x] and issue[y]:
            return issue[x] == issue[y] and gkey[x][0] == gkey[y][0]
        return not ambiguous[x] and not ambiguous[y]

    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    oto = one_to_one_sources or set()
    cannot = set()
    for a, b in cannot_link or []:
        if a in index and b in index:
            cannot.add((index[a], index[b]))
            cannot.add((index[b], index[a]))
    weight_between: dict[tuple[int, int], list[float]] = defaultdict(list)
    # votes between clusters for the split-vote check: every scored pair (above the threshold or not)
    # votes yes when at or above the threshold; a pair the version policy keeps apart votes no. Kept as
    # arrays (each record's scored partners, CSR) and counted only when two multi-record clusters meet.
    vote_ptr = vote_dst = vote_yes = None
    root_of = np.arange(n)
    if method != "connected_components" and min_link_share > 0 and len(pairs):
        held_rel = pairs["relation"].isin(separate_relations) if separate_relations and "relation" in pairs \
            else pd.Series(False, index=pairs.index)
        yes_v = (pairs["match_weight"].to_numpy(dtype=float) >= threshold) & ~held_rel.to_numpy()
        pl = pairs["unique_id_l"].astype(str).map(index)
        pr = pairs["unique_id_r"].astype(str).map(index)
        ok = pl.notna().to_numpy() & pr.notna().to_numpy()
        pa_ = pl.to_numpy()[ok].astype(np.int64)
        pb_ = pr.to_numpy()[ok].astype(np.int64)
        src_ = np.concatenate([pa_, pb_])
        order = np.argsort(src_, kind="stable")
        vote_dst = np.concatenate([pb_, pa_])[order]
        vote_yes = np.concatenate([yes_v[ok], yes_v[ok]])[order]
        vote_ptr = np.searchsorted(src_[order], np.arange(n + 1))

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
        A, B = members[ra], members[rb]
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
    uid_l = edges["unique_id_l"].astype(str).map(index).to_numpy()
    uid_r = edges["unique_id_r"].astype(str).map(index).to_numpy()
    ws = edges["match_weight"].to_numpy(dtype=float)
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
    for a, b, w in pending:
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        why = conflict(ra, rb, w) if conflict is not None and w != float("inf") else None
        if why is not None:
            rep.refused[why] += 1
            weight_between[(min(ra, rb), max(ra, rb))].append(w)
            if len(rep.refused_examples) < 50:
                rep.refused_examples.append({"unique_id_l": ids[a], "unique_id_r": ids[b], "match_weight": w,
                                             "reason": why})
            continue
        if len(members[ra]) < len(members[rb]):
            ra, rb = rb, ra
        parent[rb] = ra
        moved = members.pop(rb)
        root_of[moved] = ra
        members[ra].extend(moved)
        fz = frozen_root.pop(rb, None)
        if fz is not None:
            frozen_root[ra] = fz
        rep.edges_used += 1
        # carry over support counts of the absorbed cluster
        for key in [k for k in weight_between if rb in k]:
            other = key[0] if key[1] == rb else key[1]
            if other != ra:
                weight_between[(min(ra, other), max(ra, other))].extend(weight_between.pop(key))
            else:
                weight_between.pop(key)
    roots = [find(i) for i in range(n)]
    root_min: dict[int, str] = {}
    for i, r in enumerate(roots):
        if r not in root_min or ids[i] < root_min[r]:
            root_min[r] = ids[i]
    for r, c in frozen_root.items():  # an existing cluster keeps its id
        if find(r) == r:
            root_min[r] = c
    out = pd.DataFrame({"unique_id": ids, "cluster_id": [root_min[r] for r in roots]})
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
