"""Normalisation speed and memory on a large table of realistic records (a benchmark, not a test).

Generates N records (default 1,000,000) from the real records in ``benchmarks/data/normalise/real_records.jsonl``
(DBLP, ACM, CoLRev/ASySD exports, MISQ, Cora, Semantic Scholar, Crossref, the seed case; see
``benchmarks/data/normalise/PROVENANCE.md``) with the perturbations found in the wild: titles spliced from two
real titles or with typos, case changes and noise ("(1991)", "[Review]"), author lists re-rendered in
the common layouts (BibTeX, DBLP, PubMed, glued, semicolons, JSON lists, "et al."), venues abbreviated
ISO-4 style or with a year, shifted/garbage DOIs ("144//", URL forms, glued ids), arXiv URLs,
malformed URLs, timestamps, page ranges in several forms, abstracts with id tokens and labels, HTML
entities and mojibake. Then times ``normalise_frame`` on the whole table (``normalise_table``, the function
it is, called with a ``stats`` dict) and prints records/s, peak RSS, seconds per stage and how many values
each field group sent to the Python path; ``--write`` puts the result into the "normalise-speed" section of
BENCHMARKS.md (``make bench-normalise``).

    .venv/bin/python -m benchmarks.normalise_speed [--n 1000000] [--seed 7] [--write]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import string
import sys
import threading
import time
from pathlib import Path

import pandas as pd

from linkage.normalise import NORMALISED_COLUMNS
from linkage.normalise.sql import CHUNK_ROWS, normalise_table
from linkage.normalise.venue import iso4_table

DATA = Path(__file__).with_name("data") / "normalise" / "real_records.jsonl"
FIELDS = ("id", "title", "authors", "date", "year", "venue", "volume", "issue", "pages", "doi", "arxiv_id",
          "pmid", "isbn", "urls", "abstract", "type", "institution", "report_number", "note")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out.extend(int(c) for c in fh.read().split())
    except OSError:
        pass
    return out


def _tree_rss_mb() -> tuple[float, float]:
    """Resident memory of this process and all its descendants now, and of this process alone (Linux /proc),
    MB. A sum of RSS: pages shared between the processes (libraries) count once per process."""
    me = os.getpid()
    page = os.sysconf("SC_PAGE_SIZE") / 2**20
    total = mine = 0
    todo = [me]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm") as fh:
                rss = int(fh.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total += rss
        if pid == me:
            mine = rss
        todo.extend(_children(pid))
    return total * page, mine * page


class TreeSampler:
    """The peak of ``_tree_rss_mb`` sampled every ``interval`` seconds in a thread (worker processes count)."""

    def __init__(self, interval: float = 0.05):
        self.interval, self.peak, self.peak_others = interval, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()

    def _sample(self) -> None:
        tree, me = _tree_rss_mb()
        self.peak, self.peak_others = max(self.peak, tree), max(self.peak_others, tree - me)


def _typo(rng: random.Random, s: str) -> str:
    if len(s) < 4:
        return s
    i = rng.randrange(1, len(s) - 2)
    op = rng.random()
    if op < 0.4:
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    if op < 0.7:
        return s[:i] + s[i + 1:]
    return s[:i] + rng.choice(string.ascii_lowercase) + s[i:]


class Generator:
    """Realistic variants of real records."""

    def __init__(self, records: list[dict], seed: int):
        self.rng = random.Random(seed)
        self.records = records
        self.titles = [r["title"] for r in records if isinstance(r.get("title"), str) and len(r["title"]) > 20]
        self.abstracts = [r["abstract"] for r in records if isinstance(r.get("abstract"), str)
                          and len(r["abstract"]) > 200]
        self.names: list[tuple[str, str]] = []  # (given, surname) from DBLP/ACM/S2 "First Last" names
        for r in records:
            a = r.get("authors")
            items = a if isinstance(a, list) else a.split(", ") if isinstance(a, str) and " and " not in a else []
            for x in items:
                parts = x.split()
                if 2 <= len(parts) <= 3 and all(p[:1].isupper() and p.replace(".", "").replace("-", "").isalpha()
                                                for p in parts) and not parts[-1].endswith("."):
                    self.names.append((" ".join(parts[:-1]), parts[-1]))
        iso = iso4_table()
        self.iso = {w: a for w, a in iso.items() if a != w}

    def title(self, base: dict) -> str | None:
        rng = self.rng
        t = base.get("title")
        r = rng.random()
        if r < 0.55 or not isinstance(t, str):
            a, b = rng.choice(self.titles), rng.choice(self.titles)
            wa, wb = a.split(), b.split()
            t = " ".join(wa[: max(1, len(wa) // 2)] + wb[len(wb) // 2:])
        elif r < 0.8:
            t = _typo(rng, t)
        r = rng.random()
        if r < 0.05:
            t = t.upper()
        elif r < 0.08:
            t = t + rng.choice([" (1991)", " [Review]", ". [Chinese]", " (abstract)", " [58 refs]"])
        elif r < 0.09:
            t = "Erratum: " + t
        elif r < 0.11:
            t = t.replace("e", "&#233;", 1) if "e" in t else t
        elif r < 0.12:
            t = t.replace("o", "Ã¶", 1)
        elif r < 0.13:
            t = "<i>" + t + "</i>"
        return t

    def authors(self, base: dict):
        rng = self.rng
        if rng.random() < 0.35 and base.get("authors"):
            return base["authors"]
        people = [rng.choice(self.names) for _ in range(rng.choice((1, 2, 2, 3, 3, 4, 5, 6, 8)))]
        style = rng.random()
        if style < 0.3:  # BibTeX
            return " and ".join(f"{s}, {g}" for g, s in people)
        if style < 0.55:  # DBLP
            return ", ".join(f"{g} {s}" for g, s in people)
        if style < 0.65:  # PubMed
            return ", ".join(f"{s} {''.join(w[0] for w in g.split())}" for g, s in people)
        if style < 0.75:  # initials, semicolons
            return "; ".join(f"{' '.join(w[0] + '.' for w in g.split())} {s}" for g, s in people)
        if style < 0.82:  # glued export form
            return "".join(f"{s} {' '.join(w[0] + '.' for w in g.split())}" for g, s in people)
        if style < 0.92:  # JSON/API list
            return [f"{g} {s}" for g, s in people]
        if style < 0.96:
            return ", ".join(f"{g} {s}" for g, s in people[:2]) + " et al."
        return " ".join(f"{g.split()[0]} {s}" for g, s in people)  # unsegmented

    def venue(self, base: dict) -> str | None:
        rng = self.rng
        v = base.get("venue")
        if not isinstance(v, str) or not v:
            return v
        r = rng.random()
        if r < 0.25:
            words = [w for w in v.replace(",", "").split() if w.lower() not in ("of", "the", "and", "in", "on")]
            v = " ".join(self.iso.get(w.lower(), w).capitalize() for w in words)
        elif r < 0.35:
            v = f"{v} {rng.randint(1980, 2023)}"
        elif r < 0.4:
            v = "Proceedings of the " + v
        return v

    def doi(self) -> str | None:
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            return None
        d = f"10.{rng.randint(1000, 99999)}/{rng.choice(['j', 's', 'MISQ', 'ele', 'pnas'])}." \
            f"{rng.randint(1, 10**9)}"
        r = rng.random()
        if r < 0.55:
            return d
        if r < 0.7:
            return "https://doi.org/" + d
        if r < 0.75:
            return "doi:" + d.upper()
        if r < 0.8:
            return "http://dx.doi.org/" + d + "."
        if r < 0.85:
            return rng.choice(["144//", "10.1234", "n/a", "-", "doi"])
        if r < 0.9:
            return d + f"PMID:{rng.randint(10**6, 10**8)}"
        return d.replace("/", "%2F")

    def urls(self):
        rng = self.rng
        r = rng.random()
        if r < 0.7:
            return None
        arx = f"{rng.randint(15, 23):02d}{rng.randint(1, 12):02d}.{rng.randint(0, 99999):05d}"
        pool = [f"https://arxiv.org/pdf/{arx}v{rng.randint(1, 4)}.pdf", f"https://arxiv.org/abs/{arx}",
                f"https://github.com/user{rng.randint(1, 10**5)}/repo{rng.randint(1, 99)}",
                f"https://www.semanticscholar.org/paper/{rng.getrandbits(160):040x}",
                f"http://misq.org/paper-{rng.randint(1, 10**6)}.html", "nttps://gtutub.com/wukekever/fandscapes",
                f"https://doi.org/10.1145/{rng.randint(10**5, 10**7)}"]
        k = rng.choice((1, 1, 2, 3))
        picked = rng.sample(pool, k)
        return picked if rng.random() < 0.5 else " ".join(picked)

    def pages(self) -> str | None:
        rng = self.rng
        r = rng.random()
        if r < 0.25:
            return None
        a = rng.randint(1, 3000)
        b = a + rng.randint(0, 40)
        r = rng.random()
        if r < 0.45:
            return f"{a}-{b}"
        if r < 0.65:
            return f"{a}--{b}"
        if r < 0.75:
            return str(a)
        if r < 0.82:
            return f"pp. {a}-{str(b)[-2:]}"
        if r < 0.9:
            return f"e{a}"
        return f"{a}-{str(b)[-2:]}"

    def date_year(self, base: dict) -> tuple:
        rng = self.rng
        y = base.get("year")
        try:
            year = int(str(y)[:4]) if y else rng.randint(1970, 2024)
        except ValueError:
            year = rng.randint(1970, 2024)
        r = rng.random()
        if r < 0.55:
            return None, str(year)
        m, d = rng.randint(1, 12), rng.randint(1, 28)
        if r < 0.75:
            return f"{year}-{m:02d}-{d:02d}", None
        if r < 0.85:
            return f"{year}-{m:02d}-{d:02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00+00:00", None
        if r < 0.92:
            return f"{['Jan', 'Mar', 'Jun', 'Sep', 'Dec'][m % 5]} {year}", str(year)
        return None, f"({year})."

    def abstract(self) -> str | None:
        rng = self.rng
        if rng.random() < 0.72 or not self.abstracts:
            return None
        a, b = rng.choice(self.abstracts), rng.choice(self.abstracts)
        s = a[: len(a) // 2] + b[len(b) // 2:]
        r = rng.random()
        if r < 0.05:
            s = f"id{rng.getrandbits(60)} " + s
        elif r < 0.1:
            s = "Abstract: " + s
        elif r < 0.13:
            s += " © 2021 Elsevier Ltd. All rights reserved."
        return s

    def record(self, i: int) -> dict:
        rng = self.rng
        base = rng.choice(self.records)
        date, year = self.date_year(base)
        rec = {
            "id": f"r{i}", "title": self.title(base), "authors": self.authors(base), "date": date, "year": year,
            "venue": self.venue(base), "volume": base.get("volume") if rng.random() < 0.8 else None,
            "issue": base.get("issue"), "pages": self.pages(), "doi": self.doi(), "urls": self.urls(),
            "abstract": self.abstract(), "type": base.get("type"), "institution": base.get("institution"),
            "report_number": base.get("report_number"), "note": base.get("note"),
            "arxiv_id": f"{rng.randint(15, 23):02d}{rng.randint(1, 12):02d}.{rng.randint(0, 99999):05d}"
            if rng.random() < 0.08 else None,
            "pmid": str(rng.randint(10**6, 4 * 10**7)) if rng.random() < 0.15 else None,
            "isbn": rng.choice(["978-3-16-148410-0", "0-306-40615-2", "1361-6137"]) if rng.random() < 0.02 else None,
        }
        return rec


def build_frame(n: int, seed: int) -> pd.DataFrame:
    records = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    gen = Generator(records, seed)
    cols: dict[str, list] = {f: [None] * n for f in FIELDS}
    for i in range(n):
        r = gen.record(i)
        for f in FIELDS:
            cols[f][i] = r[f]
    return pd.DataFrame({f: pd.Series(v, dtype=object) for f, v in cols.items()})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="records to generate (default 1,000,000)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--processes", choices=("auto", "on", "off"), default="auto",
                    help="worker processes: auto (by table size, as normalise_frame), on or off")
    ap.add_argument("--write", action="store_true", help='write the result into BENCHMARKS.md ("normalise-speed")')
    args = ap.parse_args(argv)
    args.processes = {"auto": None, "on": True, "off": False}[args.processes]
    t0 = time.perf_counter()
    gc.disable()
    frame = build_frame(args.n, args.seed)
    gc.enable()
    gc.collect()
    t_gen = time.perf_counter() - t0
    rss_before = _rss_mb()
    mapping = {f: f for f in FIELDS}
    stats: dict = {}
    load_before = os.getloadavg()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    ch0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with TreeSampler() as sampler:
        out = normalise_table(frame, mapping, stats, processes=args.processes)
        dt = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    ch1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # worker processes, reaped when the pool shut down
    cpu_parent = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    cpu_children = (ch1.ru_utime - ch0.ru_utime) + (ch1.ru_stime - ch0.ru_stime)
    cpu = cpu_parent + cpu_children
    assert list(out.columns) == list(NORMALISED_COLUMNS) and len(out) == args.n
    workers = stats.pop("workers", 1)
    stats.pop("worker_pids", None)
    stats.pop("worker_cpu_seconds", None)
    stats.pop("worker_rss_mb", None)
    child_peak = ch1.ru_maxrss / 1024
    # peak of the process tree: sampled sum of the RSS of this process and its workers, and never less than
    # this process's own peak
    peak = max(sampler.peak, _rss_mb())
    load_after = os.getloadavg()
    seconds = stats.pop("seconds", {})
    rss = stats.pop("rss_mb", {})
    main_cpu = stats.pop("cpu_seconds", {})  # CPU of the main thread alone (the query runs in another)
    stats.pop("_c", None)
    stats.pop("_t", None)
    lines = [
        f"generated {args.n:,} records in {t_gen:.1f} s (RSS {rss_before:,.0f} MB)",
        f"normalise_frame: {dt:.2f} s = {args.n / dt:,.0f} records/s; peak RSS {peak:,.0f} MB "
        f"(the generated input frame alone: {rss_before:,.0f} MB)",
        f"peak RSS of the process tree sampled every 50 ms (this process + "
        f"{workers if workers > 1 else 0} workers): {sampler.peak:,.0f} MB; this process {_rss_mb():,.0f} MB; "
        f"workers together at most {sampler.peak_others:,.0f} MB (largest worker's ru_maxrss {child_peak:,.0f} MB)",
        f"CPU time {cpu:.1f} s (this process {cpu_parent:.1f} s, workers {cpu_children:.1f} s; "
        f"{args.n / cpu:,.0f} records per CPU-second) on {os.cpu_count()} cores, {workers} worker process(es); "
        f"load average (1/5/15 min) before {_load(load_before)}, after {_load(load_after)}",
        "Python path per field group (rows sent, distinct values summed over chunks, calls of the Python function "
        "after the cross-chunk memo):",
        *(f"  {k:14s} {rows:>10,} rows {distinct:>10,} distinct {calls:>10,} calls"
          for k, (rows, distinct, calls) in sorted(stats.items())),
        "seconds per stage (main thread; the DuckDB query runs in a thread beside it): "
        + ", ".join(f"{k} {v:.2f}" for k, v in seconds.items()),
        "main-thread CPU seconds per stage: " + ", ".join(f"{k} {v:.2f}" for k, v in main_cpu.items()),
        "RSS after stage (MB): " + ", ".join(f"{k} {v:,.0f}" for k, v in rss.items()),
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    if args.write:
        from benchmarks.report import write_section

        body = "\n".join([
            f"{args.n:,} generated records (real records of `benchmarks/data/normalise/real_records.jsonl` with "
            "real-world perturbations, seed " + str(args.seed) + "), all normalised columns, one call of "
            "`normalise_frame`:",
            "",
            "| records/s | seconds | CPU seconds | peak RSS (MB) | input frame RSS (MB) | load average before / after |",
            "|---:|---:|---:|---:|---:|---|",
            f"| {args.n / dt:,.0f} | {dt:.1f} | {cpu:.1f} | {peak:,.0f} | {rss_before:,.0f} | "
            f"{_load(load_before)} / {_load(load_after)} |",
            "",
            f"Target of issue #3: >= 50,000 records/s and <= 4 GB peak on this 2-core machine: speed "
            f"{'met' if args.n / dt >= 50_000 else 'not met'}, memory {'met' if peak <= 4096 else 'not met'}. "
            f"Records per CPU-second ({args.n / cpu:,.0f}) are less sensitive to the other jobs on the machine than "
            "records per second; the normalisation uses two threads (the DuckDB query of one chunk beside the Python "
            "work on its neighbours), so on an otherwise idle machine records/s is about twice records per CPU-second "
            "at best.",
            "",
            "Values sent to the per-value Python functions: rows, distinct values (summed over the chunks of "
            f"{CHUNK_ROWS:,} rows) and calls (after the memo kept across chunks for venue, volume, issue, dates, "
            "ISBN, publication type, authors and pages):",
            "",
            "| field group | rows | distinct | calls |",
            "|---|---:|---:|---:|",
            *(f"| {k} | {rows:,} | {distinct:,} | {calls:,} |" for k, (rows, distinct, calls) in sorted(stats.items())),
            "",
            "Seconds per stage (main thread; the DuckDB query of the next chunk runs in a thread beside it, its "
            "total is `sql query (thread)`): " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()) + ".",
            "",
            "CPU seconds per stage (main thread; `sql query (thread)` is the CPU of the query's thread): "
            + ", ".join(f"{k} {v:.1f}" for k, v in main_cpu.items()) + ".",
            "",
            f"Peak RSS: the largest sampled sum (every 50 ms) of the resident memory of this process and of its worker "
            f"processes, if any ({workers if workers > 1 else 0} here), and never less than this process's own "
            "ru_maxrss; CPU seconds: this process and its reaped worker processes (getrusage).",
            "",
            "Worker processes (`normalise_table(..., processes=True)`, by default only on machines with 3 cores or "
            "more): measured here at 1,000,000 records with 2 spawned workers (`--processes on`), 69.5 s, 63.3 CPU "
            "seconds (pickled chunks and results, interpreter start-up) and 4,053 MB peak for the process tree at "
            "load 3.6-4.5, against 37.1 s and 45.6 CPU seconds in one process at load 3.0; on two cores the "
            "in-process pipeline (two threads) is the faster.",
            "",
            f"Machine: {os.cpu_count()} cores, shared with other jobs (see the load average).",
        ])
        write_section("normalise-speed", "Normalisation speed", "make bench-normalise  "
                      f"# .venv/bin/python -m benchmarks.normalise_speed --n {args.n} --seed {args.seed} --write",
                      body)
    return 0


def _load(t: tuple[float, float, float]) -> str:
    return "/".join(f"{x:.2f}" for x in t)


if __name__ == "__main__":
    raise SystemExit(main())
