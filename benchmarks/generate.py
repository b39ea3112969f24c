"""Generated multi-source paper records for the speed benchmark, built from the real records in
``benchmarks/data`` and corrupted the way the seed case is.

Works are made from real material: titles are walks on a word-bigram chain of the real titles (so their
words, openings and endings are distributed as in real titles, e.g. many end in "controlled trial"),
authors are real given names and surnames, venues are real venues. Each work appears in one to three sources, each with its own layout and noise:

* ``crossref.csv``: ``id, title, author ("Surname, Given and ..."; sometimes abbreviated "Surname, G."),
  year, journal, volume, pages, doi, published`` (a date);
* ``arxiv.jsonl``: the seed's arXiv record: ``authors`` as ONE unsegmented string ("Keke Wu Rui Du ..."),
  ``publication_date`` as a timestamp with time zone, an id glued onto the abstract
  ("id3424933303362828601 Solving ..."), an arXiv URL;
* ``pwc.jsonl``: the seed's Papers-with-Code record: authors often missing, ``publication_date`` as
  "YYYY-MM-DD 00:00:00", garbage DOIs like ``144//``, typo'd URLs (``nttps://gtutub.com/...``) beside
  good ones, the title sometimes shifted into the authors field.

Everywhere: title case changes and typos, missing fields, years off by one. ``truth.csv`` has each
record's work (``source, id, entity``).

    python -m benchmarks.generate 100000 OUT_DIR [--seed 7]
"""

from __future__ import annotations

import bisect
import csv
import itertools
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from .datasets import DATA, cora_records

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
# Works per 20-character title opening at most (the real single-topic sets in benchmarks/data reach 7 per
# 2.5k titles on DBLP-ACM and 76 per 1.2k on one systematic review's search; a corpus of 1M papers spans
# thousands of topics, not the handful this material comes from). Without the cap the generator's block
# sizes grow quadratically with the record count: 63M title[1:20] pairs at 1M records.
MAX_OPENING = 40


def _pools() -> dict:
    """Vocabulary, title tails, names and venues from the real data sets."""
    titles: list[str] = []
    authors: list[str] = []
    venues: list[str] = []
    abstracts: list[str] = []
    dblp = pd.read_csv(DATA / "dblp-acm" / "DBLP2.csv", dtype=str, encoding="latin-1", keep_default_na=False)
    acm = pd.read_csv(DATA / "dblp-acm" / "ACM.csv", dtype=str, encoding="latin-1", keep_default_na=False)
    for df in (dblp, acm):
        titles += df["title"].tolist()
        venues += df["venue"].tolist()
        for a in df["authors"]:
            authors += [x.strip() for x in a.split(",") if x.strip()]
    for folder in ("colrev-cytology-screening", "colrev-haematology", "colrev-respiratory", "colrev-stroke",
                   "misq/baseline"):
        df = pd.read_csv(DATA / folder / "records_pre_merged.csv", dtype=str, keep_default_na=False)
        titles += df["title"].tolist()
        venues += df["journal"].tolist()
        if "abstract" in df.columns:
            abstracts += [a for a in df["abstract"] if len(a) > 200]
        for a in df["author"]:
            for name in a.split(" and "):
                if "," in name:
                    sur, given = name.split(",", 1)
                    if len(given.strip()) > 2 and "." not in given:
                        authors.append(f"{given.strip()} {sur.strip()}")
    titles += [t for t in cora_records()["title"].dropna().tolist()]
    titles = [re.sub(r"\s+", " ", t).strip() for t in titles if t and len(t.split()) >= 4]
    # one copy of each title: the data sets hold duplicates (Cora has ~10 per paper) that would skew the chain
    titles = list({re.sub(r"[^a-z0-9]", "", t.lower()): t for t in titles}.values())
    words = Counter(w.lower() for t in titles for w in _WORD.findall(t) if len(w) > 2)
    vocab = [w for w, c in words.most_common(20000)]
    freq = np.array([words[w] for w in vocab], dtype=float)
    given, sur = [], []
    for a in authors:
        parts = a.split()
        if len(parts) >= 2 and all(_WORD.fullmatch(p) for p in (parts[0], parts[-1])):
            given.append(parts[0])
            sur.append(parts[-1])
    abs_words = [w for a in abstracts for w in a.split()][:200000]
    # a word-bigram chain over the real titles: new titles whose words, and endings, follow real usage
    nxt: dict[str, Counter] = {}
    for t in titles:
        toks = ["^"] + t.split() + ["$"]
        for a, b in zip(toks, toks[1:], strict=False):
            nxt.setdefault(a, Counter())[b] += 1
    chain = {}
    for a, c in nxt.items():
        words_, counts_ = zip(*c.items(), strict=True)
        chain[a] = (list(words_), list(itertools.accumulate(counts_)))
    states = [w for w in chain if w != "^" and len(w) > 2]
    starts = (states, list(itertools.accumulate(chain[w][1][-1] for w in states)))
    return {"chain": chain, "starts": starts, "vocab": vocab,
            "freq": freq / freq.sum(), "given": sorted(set(given)), "sur": sorted(set(sur)),
            "venues": sorted({v.strip() for v in venues if v.strip()}), "abs_words": abs_words}


def _chain_title(chain: dict, r: random.Random, starts: tuple | None = None, min_words: int = 4,
                 max_words: int = 22) -> str:
    """A new title walked on the bigram chain of real titles (restarted until long enough).

    With ``starts`` (chain states and their cumulative weights), half the walks open at a word drawn from
    anywhere in a real title and each step leaves the chain for such a word with probability 0.2 (an
    interpolated unigram/bigram model): the material is the same, but openings are no longer limited to
    the few thousand openings of the ~15k real titles (see ``generate``)."""
    while True:
        w, out = "^", []
        if starts is not None and r.random() < 0.5:
            w = starts[0][bisect.bisect_right(starts[1], r.random() * starts[1][-1])]
            out.append(w[:1].upper() + w[1:])
        while len(out) < max_words:
            if starts is not None and out and r.random() < 0.2:
                w = starts[0][bisect.bisect_right(starts[1], r.random() * starts[1][-1])]
            else:
                words, cum = chain[w]
                w = words[bisect.bisect_right(cum, r.random() * cum[-1])]
                if w == "$":
                    break
            out.append(w)
        if len(out) >= min_words:
            return " ".join(out)


def _typo(s: str, rng: np.random.Generator) -> str:
    if len(s) < 6:
        return s
    i = int(rng.integers(1, len(s) - 2))
    op = rng.integers(3)
    if op == 0:
        return s[:i] + s[i + 1:]
    if op == 1:
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    return s[:i] + "e" + s[i:]


def generate(n_records: int, out: Path, seed: int = 7) -> dict:
    """Write crossref.csv, arxiv.jsonl, pwc.jsonl and truth.csv (about ``n_records`` rows in all) to ``out``."""
    rng = np.random.default_rng(seed)
    P = _pools()
    out.mkdir(parents=True, exist_ok=True)
    # mean 1.6 copies a work: draw ~7 % more works than needed so the copies always reach n_records
    copies = rng.choice([1, 2, 3], size=int(n_records / 1.5) + 100, p=[0.55, 0.30, 0.15])
    n_works = int(np.searchsorted(np.cumsum(copies), n_records) + 1)
    copies = copies[:n_works]
    vocab, given, sur, venues = P["vocab"], P["given"], P["sur"], P["venues"]
    w1 = rng.choice(len(vocab), size=(n_works, 1), p=P["freq"])
    pyr = random.Random(seed)
    used_titles: set[str] = set()
    openings: Counter = Counter()
    n_auth = rng.choice([1, 2, 3, 4, 5, 6], size=n_works, p=[0.12, 0.25, 0.27, 0.18, 0.1, 0.08])
    year = rng.integers(1995, 2025, size=n_works)
    month = rng.integers(1, 13, size=n_works)
    day = rng.integers(1, 29, size=n_works)
    venue = rng.integers(len(venues), size=n_works)
    has_doi = rng.random(n_works) < 0.7
    has_arxiv = rng.random(n_works) < 0.6
    abs_w = P["abs_words"] or vocab

    cr = open(out / "crossref.csv", "w", newline="", encoding="utf-8")
    crw = csv.writer(cr)
    crw.writerow(["id", "title", "author", "year", "journal", "volume", "pages", "doi", "published"])
    ax = open(out / "arxiv.jsonl", "w", encoding="utf-8")
    pw = open(out / "pwc.jsonl", "w", encoding="utf-8")
    truth = open(out / "truth.csv", "w", newline="", encoding="utf-8")
    tw = csv.writer(truth)
    tw.writerow(["source", "id", "entity"])
    counts = Counter()
    arxiv_seq: Counter = Counter()
    written = works = 0
    srcs = np.array(["crossref", "arxiv", "pwc"])
    for w in range(n_works):
        if written >= n_records:
            break
        # distinct works get distinct titles, and at most MAX_OPENING works share a 20-character opening
        for _ in range(50):
            title = _chain_title(P["chain"], pyr, P["starts"])
            if title.lower() not in used_titles and openings[title.lower()[:20]] < MAX_OPENING:
                break
        used_titles.add(title.lower())
        openings[title.lower()[:20]] += 1
        names = [(given[int(rng.integers(len(given)))], sur[int(rng.integers(len(sur)))]) for _ in range(n_auth[w])]
        doi = f"10.{1000 + w % 9000}/{w:07d}.{int(year[w])}" if has_doi[w] else ""
        arxiv_id = ""
        if has_arxiv[w]:
            yymm = f"{int(year[w]) % 100:02d}{int(month[w]):02d}"
            arxiv_seq[yymm] += 1
            arxiv_id = f"{yymm}.{arxiv_seq[yymm]:05d}"
        date = f"{int(year[w])}-{int(month[w]):02d}-{int(day[w]):02d}"
        abstract = " ".join(abs_w[int(i)] for i in rng.integers(len(abs_w), size=int(rng.integers(15, 40))))
        vol, p1 = str(int(rng.integers(1, 60))), int(rng.integers(1, 900))
        pages = f"{p1}-{p1 + int(rng.integers(5, 30))}"
        works += 1
        for s in rng.choice(srcs, size=min(int(copies[w]), n_records - written), replace=False):
            counts[s] += 1
            rid = f"{s[:2]}{counts[s]:08d}"
            t = title
            r = rng.random(6)
            if r[0] < 0.10:
                t = _typo(t, rng)
            if r[1] < 0.05:
                t = t.upper()
            elif r[1] < 0.15:
                t = t.lower()
            if r[2] < 0.003:
                t = ""
            yr = int(year[w]) + (int(rng.choice([-1, 1])) if r[3] < 0.05 else 0)
            if s == "crossref":
                if r[4] < 0.3:
                    auth = " and ".join(f"{b}, {a[0]}." for a, b in names)
                else:
                    auth = " and ".join(f"{b}, {a}" for a, b in names)
                if r[5] < 0.05:
                    auth = ""
                crw.writerow([rid, t, auth, yr, venues[venue[w]] if r[5] > 0.1 else "", vol, pages, doi,
                              f"{yr}-{int(month[w]):02d}-{int(day[w]):02d}"])
            elif s == "arxiv":
                rec = {"id": rid, "source": "SupportedSources.ARXIV",
                       "authors": [" ".join(f"{a} {b}" for a, b in names)] if r[4] < 0.6
                       else [f"{a} {b}" for a, b in names],
                       "title": t, "publication_date": f"{date} {int(rng.integers(24)):02d}:{int(rng.integers(60)):02d}:"
                                                        f"{int(rng.integers(60)):02d}+00:00",
                       "journal": None, "volume": "", "doi": doi if r[5] < 0.2 else "",
                       "urls": [f"https://arxiv.org/abs/{arxiv_id}v1"] if arxiv_id else [],
                       "abstract": (f"id{int(rng.integers(10**18, 9 * 10**18))} " if r[4] < 0.5 else "") + abstract}
                ax.write(json.dumps(rec) + "\n")
            else:
                urls = []
                if arxiv_id:
                    urls.append(f"https://arxiv.org/pdf/{arxiv_id}v1.pdf")
                repo = f"{names[0][1].lower()}{w % 997}/{vocab[w1[w, 0]]}"
                urls.append(f"https://github.com/{repo}")
                if r[4] < 0.2:
                    urls.append(f"nttps://gtutub.com/{_typo(repo, rng)}")
                authors = [] if r[5] < 0.5 else [f"{a[0]}. {b}" for a, b in names]
                rec = {"id": rid, "source": "SupportedSources.PAPERS_WITH_CODE", "authors": authors,
                       "title": t, "publication_date": f"{date} 00:00:00", "journal": "", "volume": "",
                       "doi": "144//" if r[3] < 0.1 else (doi if r[3] < 0.6 else ""), "urls": urls,
                       "abstract": abstract if r[2] > 0.2 else ""}
                if r[0] > 0.99:  # shifted: the title lands under the authors key
                    rec["authors"], rec["title"] = [t], ""
                pw.write(json.dumps(rec) + "\n")
            tw.writerow([s, rid, w])
            written += 1
    for fh in (cr, ax, pw, truth):
        fh.close()
    return {"records": written, "works": works, "per_source": dict(counts)}


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m benchmarks.generate")
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)
    print(json.dumps(generate(a.n, Path(a.out), a.seed)))  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
