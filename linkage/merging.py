"""Merged records: one row per cluster, field by field, with the source of each chosen value.

Rules: title — the most frequent normalised title, shown as its longest raw form; authors — the
record with the most authors; date — the earliest known date/year; venue, volume, issue, pages —
the most frequent non-empty value; identifiers and URLs — the union; members and sources — all.
"""

from __future__ import annotations

import pandas as pd

from .fields import UNIQUE_ID


def present(v) -> bool:
    """Not None, NaN or pandas NA; lists count when non-empty."""
    if v is None or v is pd.NA:
        return False
    if isinstance(v, float):
        return v == v
    if isinstance(v, (list, tuple)) or hasattr(v, "__len__") and not isinstance(v, str):
        return len(v) > 0
    return v != ""


def _raw(rec: dict, mapping: dict[str, str], fld: str):
    col = mapping.get(fld)
    if col is None:
        return None
    v = rec.get(col)
    if isinstance(v, list):
        return "; ".join(map(str, v)) if v else None
    return v


def merge_clusters(records: pd.DataFrame, clusters: pd.DataFrame, mappings: dict[str, dict[str, str]]) -> pd.DataFrame:
    """``records`` holds raw + normalised columns; ``mappings`` maps source -> canonical field -> raw column."""
    df = records.merge(clusters, on=UNIQUE_ID, how="left")
    rows = []
    for cid, g in df.groupby("cluster_id", sort=True):
        g = g.sort_values(UNIQUE_ID)
        recs = [{k: (v if present(v) else None) for k, v in r.items()} for r in g.to_dict("records")]

        def raw(r, f):
            return _raw(r, mappings.get(r["source"], {}), f)

        out: dict = {"cluster_id": cid, "size": len(g), "member_ids": g[UNIQUE_ID].tolist(),
                     "sources": sorted(set(g["source"]))}
        # title: most frequent normalised title, longest raw spelling of it
        tn = g["title_norm"].dropna()
        if len(tn):
            best = tn.value_counts().sort_index().sort_values(ascending=False, kind="mergesort").index[0]
            cands = [r for r in recs if r["title_norm"] == best and raw(r, "title")]
            pick = max(cands, key=lambda r: len(str(raw(r, "title")))) if cands else None
            out["title"] = raw(pick, "title") if pick is not None else best
            out["title_from"] = pick[UNIQUE_ID] if pick is not None else None
        else:
            out["title"], out["title_from"] = None, None
        # authors: the record with the most parsed authors
        with_auth = [r for r in recs if r.get("author_count")]
        if with_auth:
            pick = max(with_auth, key=lambda r: (r["author_count"], len(str(raw(r, "authors") or ""))))
            out["authors"], out["authors_from"] = raw(pick, "authors"), pick[UNIQUE_ID]
        else:
            out["authors"], out["authors_from"] = None, None
        # date: earliest day, else earliest year
        dated = [r for r in recs if r.get("date_norm") is not None]
        yeared = [r for r in recs if r.get("year_norm") is not None]
        if dated:
            pick = min(dated, key=lambda r: r["date_norm"])
            out["date"], out["year"], out["date_from"] = str(pick["date_norm"]), int(pick["year_norm"]), pick[UNIQUE_ID]
        elif yeared:
            pick = min(yeared, key=lambda r: r["year_norm"])
            out["date"], out["year"], out["date_from"] = None, int(pick["year_norm"]), pick[UNIQUE_ID]
        else:
            out["date"], out["year"], out["date_from"] = None, None, None
        for fld, norm in (("venue", "venue_norm"), ("volume", "volume_norm"), ("issue", "issue_norm"),
                          ("pages", "page_first")):
            vals = [r for r in recs if r.get(norm) is not None and raw(r, fld)]
            if vals:
                counts = pd.Series([r[norm] for r in vals]).value_counts()
                top = counts.index[0]
                pick = next(r for r in vals if r[norm] == top)
                out[fld], out[f"{fld}_from"] = raw(pick, fld), pick[UNIQUE_ID]
            else:
                out[fld], out[f"{fld}_from"] = None, None
        for fld, norm in (("doi", "doi_norm"), ("arxiv_id", "arxiv_id_norm"), ("pmid", "pmid_norm")):
            out[f"{fld}s"] = sorted({r[norm] for r in recs if r.get(norm)})
        urls = set()
        for r in recs:
            u = r.get("urls_norm")
            if u is not None and len(u):
                urls.update(u)
        out["urls"] = sorted(urls)
        out["repo_urls"] = sorted({r["repo_url"] for r in recs if r.get("repo_url")})
        abst = [r for r in recs if r.get("abstract_norm")]
        if abst:
            pick = max(abst, key=lambda r: len(r["abstract_norm"]))
            out["abstract"], out["abstract_from"] = raw(pick, "abstract"), pick[UNIQUE_ID]
        else:
            out["abstract"], out["abstract_from"] = None, None
        types = [r["pub_type"] for r in recs if r.get("pub_type")]
        out["pub_types"] = sorted(set(types))
        rows.append(out)
    res = pd.DataFrame(rows)
    for c in ("title", "authors", "venue", "volume", "issue", "pages", "abstract", "date"):
        if c in res:
            res[c] = res[c].map(lambda v: None if v is None or v != v else str(v))
    return res
