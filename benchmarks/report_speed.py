"""Benchmark: build report.html for a synthetic run folder with 100,000 linked pairs.

Synthesises a run folder with the run folder's contract (records, pairs, clusters, merged, model.json,
run.json): works of 2-4 records whose pairs are all linked, review-band pairs between different works,
low-scoring pairs, and single-record works. The model and run.json come from the bundled example run
(trained once, without a report). Prints the time ``write_report`` takes and the file size.

    .venv/bin/python benchmarks/report_speed.py [--pairs 100000] [--out benchmarks/runs/report-100k] [--seed 1]

Targets: at most 60 s and 50 MB for 100,000 linked pairs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [ROOT / "examples" / "sources" / n for n in ("dblp.csv", "acm.csv", "aggregator.jsonl")]
SOURCES = ("dblp", "acm", "crossref", "openalex")
VENUES = ["Proceedings of the ACM SIGMOD International Conference on Management of Data", "VLDB Journal",
          "ACM Transactions on Database Systems", "Information Systems", "SIGMOD Record", "IEEE TKDE",
          "Very Large Data Bases", "International Conference on Data Engineering", "arXiv", "PVLDB",
          "Journal of the ACM", "Data and Knowledge Engineering", "EDBT", "CIKM", "KDD", "WWW"]


def _words(rng: np.random.Generator, n: int) -> np.ndarray:
    """A vocabulary of pronounceable words (so the text compresses like real titles, not like noise)."""
    syll = np.array(["da", "ta", "ba", "ne", "ri", "lo", "mi", "qu", "ery", "tion", "ing", "al", "data", "base",
                     "graph", "net", "work", "model", "learn", "opt", "dis", "tri", "bu", "ted", "sys", "tem",
                     "in", "dex", "scal", "able", "cache", "stream", "join", "query", "log", "ic"])
    parts = rng.integers(0, len(syll), size=(n, 3))
    lens = rng.integers(1, 4, size=n)
    return np.array(["".join(syll[p[:k]]) for p, k in zip(parts, lens, strict=True)])


def synthesise(out: Path, n_pairs: int, seed: int) -> dict:
    """Write a synthetic run folder with about ``n_pairs`` linked pairs; returns its counts."""
    import linkage

    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        template = linkage.run([str(p) for p in EXAMPLES], out=Path(tmp) / "run", report=False)
        model = template.model
        info = template.info
    vocab = _words(rng, 3000)
    surnames = np.array([w.capitalize() for w in _words(rng, 4000)])

    # works: sizes 2-4 whose within-work pairs are all linked, until n_pairs
    sizes = []
    total = 0
    while total < n_pairs:
        s = int(rng.choice([2, 2, 2, 2, 3, 3, 4]))
        sizes.append(s)
        total += s * (s - 1) // 2
    n_single = len(sizes) // 2
    sizes += [1] * n_single
    n_works = len(sizes)
    work_of = np.repeat(np.arange(n_works), sizes)
    n = len(work_of)

    # one canonical paper per work
    n_words = rng.integers(5, 13, size=n_works)
    titles = [" ".join(vocab[rng.integers(0, len(vocab), k)]).capitalize() for k in n_words]
    n_auth = rng.integers(1, 6, size=n_works)
    authors = [[f"{surnames[rng.integers(0, len(surnames))][:1]}. {surnames[rng.integers(0, len(surnames))]}"
                for _ in range(k)] for k in n_auth]
    years = rng.integers(1990, 2024, size=n_works)
    venues = rng.integers(0, len(VENUES), size=n_works)
    has_doi = rng.random(n_works) < 0.5
    has_abs = rng.random(n_works) < 0.2

    # records: each a noisy copy of its work's paper
    src = np.array(SOURCES)[rng.integers(0, len(SOURCES), n)]
    noisy = rng.random(n) < 0.3
    rec_titles = []
    for i in range(n):
        t = titles[work_of[i]]
        if noisy[i]:
            t = t.upper() if rng.random() < 0.3 else t[:-1] + "s"
        rec_titles.append(t)
    rows = {
        "unique_id": [f"{s}:{i}" for i, s in enumerate(src)], "source": src, "source_id": [str(i) for i in range(n)],
        "source_row": np.arange(n), "parse_error": [None] * n, "id": [str(i) for i in range(n)],
        "title": rec_titles,
        "authors": [", ".join(authors[w]) for w in work_of],
        "venue": [VENUES[venues[w]] for w in work_of], "year": [str(years[w]) for w in work_of],
        "doi": [f"10.1145/{w}.{w % 97}" if has_doi[w] else None for w in work_of],
        "abstract": [" ".join(vocab[rng.integers(0, len(vocab), 120)]) if has_abs[w] else None for w in work_of],
    }
    rec = pd.DataFrame(rows)
    rec["title_norm"] = rec["title"].str.lower()
    rec["title_key"] = rec["title_norm"].str.replace(" ", "", regex=False)
    rec["title_tokens"] = rec["title_norm"].str.split(" ").map(lambda x: sorted(set(x)))
    rec["title_generic"] = False
    rec["author_surnames"] = [[a.split(" ")[-1].lower() for a in authors[w]] for w in work_of]
    rec["first_author"] = rec["author_surnames"].map(lambda x: x[0])
    rec["author_initials"] = [[a[0].lower() for a in authors[w]] for w in work_of]
    rec["author_count"] = rec["author_surnames"].map(len).astype("Int64")
    rec["authors_norm"] = rec["author_surnames"].map("; ".join)
    rec["date_norm"] = None
    rec["year_norm"] = pd.array([int(years[w]) for w in work_of], dtype="Int64")
    rec["date_precision"] = "year"
    rec["doi_norm"] = rec["doi"]
    for c in ("arxiv_id_norm", "arxiv_version", "pmid_norm", "isbn_norm", "urls_norm", "repo_url", "volume_norm",
              "issue_norm", "page_first", "page_last", "abstract_norm"):
        rec[c] = None
    rec["venue_norm"] = rec["venue"].str.lower()
    rec["venue_key"] = rec["venue_norm"].str[:12]
    rec["is_preprint"] = False
    rec["page_count"] = pd.array([None] * n, dtype="Int64")
    rec["abstract_tokens"] = [sorted(set(a.split(" "))) if isinstance(a, str) else None for a in rec["abstract"]]
    rec["pub_type"] = "article"
    out.mkdir(parents=True, exist_ok=True)
    rec.to_parquet(out / "records.parquet", index=False)

    # pairs: every within-work pair linked, plus review-band and low pairs between works
    comps = model["comparisons"]
    names = [c["output_column_name"] for c in comps]

    def levels(c):
        non_null = [lv for lv in c["comparison_levels"] if not lv.get("is_null_level")]
        out_ = {}
        for i, lv in enumerate(non_null):
            m, u = lv.get("m_probability") or 1e-6, lv.get("u_probability") or 1e-6
            out_[len(non_null) - 1 - i] = (lv.get("label_for_charts"), float(np.log2(m / u)))
        return out_

    lv = {c["output_column_name"]: levels(c) for c in comps}
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    left, right = [], []
    for s, k in zip(starts, sizes, strict=True):
        for a in range(k):
            for b in range(a + 1, k):
                left.append(s + a)
                right.append(s + b)
    n_link = len(left)
    n_band, n_low = n_link // 5, n_link
    other_l = rng.integers(0, n, n_band + n_low)
    other_r = rng.integers(0, n, n_band + n_low)
    keep = work_of[other_l] != work_of[other_r]
    left += other_l[keep].tolist()
    right += other_r[keep].tolist()
    kind = np.concatenate([np.array(["link"] * n_link), np.array(["band"] * n_band + ["low"] * n_low)[keep]])
    prior = float(np.log2(model["probability_two_random_records_match"] / (1 - model["probability_two_random_records_match"])))
    uid = rec["unique_id"].to_numpy()
    pairs = {"unique_id_l": uid[left], "unique_id_r": uid[right], "source_l": src[left], "source_r": src[right]}
    total = np.full(len(left), prior)
    for name in names:
        table = lv[name]
        top = max(table) if table else -1
        if name in ("title", "authors", "date", "venue"):
            g = np.where(kind == "link", top, np.where(kind == "band", max(top - 1, 0), 0))
        elif name == "doi":
            both = has_doi[work_of[left]] & has_doi[work_of[right]]
            g = np.where(both, np.where(kind == "link", top, 0), -1)
        else:
            g = np.full(len(left), -1)
        g = np.asarray(g)
        w = np.array([table.get(int(x), (None, 0.0))[1] if x >= 0 else 0.0 for x in g])
        pairs[f"{name}_gamma"] = g
        pairs[f"{name}_level"] = [table.get(int(x), ("missing", 0))[0] if x >= 0 else "missing" for x in g]
        pairs[f"{name}_weight"] = np.round(w, 6)
        total += w
    # the threshold sits just below the linked pairs; the band pairs are moved inside the review band
    threshold = float(np.quantile(total[kind == "link"], 0.01)) - 0.5
    band = kind == "band"
    shift = rng.uniform(threshold - 4, threshold + 4, int(band.sum())) - total[band]
    pairs["title_weight"][band] += shift
    total[band] += shift
    pairs = pd.DataFrame(pairs)
    pairs.insert(4, "match_weight", total)
    pairs.insert(5, "match_probability", 1 / (1 + np.power(2.0, -total)))
    swap = pairs["unique_id_l"] > pairs["unique_id_r"]
    pairs.loc[swap, ["unique_id_l", "unique_id_r", "source_l", "source_r"]] = \
        pairs.loc[swap, ["unique_id_r", "unique_id_l", "source_r", "source_l"]].to_numpy()
    pairs.to_parquet(out / "pairs.parquet", index=False)

    # clusters and merged records
    cid = pd.Series(uid).groupby(work_of).transform("min").to_numpy()
    clusters = pd.DataFrame({"unique_id": uid, "cluster_id": cid})
    clusters.to_parquet(out / "clusters.parquet", index=False)
    first = starts
    merged = pd.DataFrame({
        "cluster_id": cid[first], "size": sizes,
        "member_ids": [uid[s:s + k].tolist() for s, k in zip(starts, sizes, strict=True)],
        "sources": [sorted(set(src[s:s + k])) for s, k in zip(starts, sizes, strict=True)],
        "title": [rec_titles[s] for s in first], "title_from": uid[first],
        "authors": rec["authors"].to_numpy()[first], "authors_from": uid[first],
        "date": None, "year": years, "date_from": uid[first],
        "venue": rec["venue"].to_numpy()[first], "venue_from": uid[first],
        "volume": None, "volume_from": None, "issue": None, "issue_from": None, "pages": None, "pages_from": None,
        "dois": [[f"10.1145/{w}.{w % 97}"] if has_doi[w] else [] for w in range(n_works)],
        "arxiv_ids": [[] for _ in range(n_works)], "pmids": [[] for _ in range(n_works)],
        "urls": [[] for _ in range(n_works)], "repo_urls": [[] for _ in range(n_works)],
        "abstract": rec["abstract"].to_numpy()[first], "abstract_from": uid[first],
        "pub_types": [["article"] for _ in range(n_works)],
    })
    merged.to_parquet(out / "merged.parquet", index=False)
    (out / "model.json").write_text(json.dumps(model, indent=2))
    linked = int((pairs["match_weight"] >= threshold).sum())
    info = dict(info)
    info["inputs"] = [{"source": s, "path": f"synthetic/{s}.csv", "format": "csv", "encoding": "utf-8",
                       "rows": int((src == s).sum()), "parse_errors": 0,
                       "column_mapping": {"id": "id", "title": "title", "authors": "authors", "year": "year",
                                          "venue": "venue", "doi": "doi", "abstract": "abstract"}} for s in SOURCES]
    info["counts"] = {"records": n, "parse_errors": 0, "pairs_scored": len(pairs), "pairs_linked": linked,
                      "clusters": n_works, "duplicate_clusters": n_works - n_single,
                      "records_in_duplicate_clusters": n - n_single, "largest_cluster": max(sizes)}
    info["threshold"] = {"mode": "fixed", "match_weight": round(threshold, 4),
                         "match_probability": 1 / (1 + 2 ** -threshold), "pairs_linked": linked}
    info["clustering"] = {"method": "synthetic", "threshold": threshold}
    (out / "run.json").write_text(json.dumps(info, indent=2, default=str))
    (out / "metrics.json").unlink(missing_ok=True)
    return {"records": n, "pairs": len(pairs), "linked": linked, "works": n_works}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=100_000, help="linked pairs to synthesise (default 100000)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "runs" / "report-100k")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the synthetic run folder")
    ap.add_argument("--no-write", action="store_true", help="print only; do not update BENCHMARKS.md")
    args = ap.parse_args(argv)

    from linkage.reports import vega_bundle, write_report

    t0 = time.perf_counter()
    counts = synthesise(args.out, args.pairs, args.seed)
    t_synth = time.perf_counter() - t0
    vega_bundle()  # the one-off bundle build (cached on disk) is not part of the report's time
    t0 = time.perf_counter()
    path = write_report(args.out)
    seconds = time.perf_counter() - t0
    size = path.stat().st_size
    from linkage.explain import RunData

    decisions = len(RunData(args.out).decisions())
    print(f"synthetic run: {counts['records']:,} records, {counts['pairs']:,} pairs, {counts['linked']:,} linked, "  # noqa: T201
          f"{decisions:,} decisions, {counts['works']:,} works (built in {t_synth:.1f} s)")
    print(f"write_report: {seconds:.1f} s, report.html {size / 1e6:.1f} MB")  # noqa: T201
    met = "met" if seconds <= 60 and size <= 50e6 else "NOT met"
    print("targets: <= 60 s and <= 50 MB:", met)  # noqa: T201
    if not args.no_write:
        from benchmarks.report import markdown_table, write_section

        body = markdown_table(
            ["linked pairs", "decisions in the page", "records", "works", "report build (s)", "report.html (MB)",
             "target (<= 60 s, <= 50 MB)"],
            [[f"{counts['linked']:,}", f"{decisions:,}", f"{counts['records']:,}", f"{counts['works']:,}",
              f"{seconds:.1f}", f"{size / 1e6:.1f}", met]])
        body += ("\n\nA synthetic run folder (records, pairs with every comparison's evidence, clusters, merged "
                 "records) is built first; only `write_report` is timed. The one-off Vega bundle build is cached "
                 "and not counted.\n")
        write_section("report-speed", "Report build at 100,000 linked pairs",
                      f"python -m benchmarks.report_speed --pairs {args.pairs}", body)
    if not args.keep:
        shutil.rmtree(args.out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
