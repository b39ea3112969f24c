"""Loaders of the labelled data sets in ``benchmarks/data/`` (see each folder's PROVENANCE.md).

Every data set is turned into what each system is given:

* ``inputs``: the files a user would have, written into a work folder and passed to ``linkage run``
  unchanged (Cora's CSV is derived from the XML the way a user would flatten it; everything else is
  copied as published);
* ``peer_records``: the same records under BibTeX-style column names (``ID``, ``ENTRYTYPE``, ``title``,
  ``author``, ``year``, ``journal``, ``booktitle``, ``volume``, ``number``, ``pages``, ``doi``,
  ``abstract``, ``url``) for bib-dedupe and the plain Splink baseline: a column rename, no cleaning;
* ``truth``: each record's true entity, keyed by ``uid`` = ``"<source>:<id>"``.

Pair-case sets (bib-dedupe's test cases, the seed case) are lists of :class:`Case`: two records and the
expected decision each; every system runs each case on its own (two records), as bib-dedupe's tests do.
"""

from __future__ import annotations

import collections
import csv
import html
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parent / "data"
PEER_COLUMNS = ["uid", "source", "ID", "ENTRYTYPE", "title", "author", "year", "journal", "booktitle", "volume",
                "number", "pages", "doi", "abstract", "url"]


@dataclass
class Prepared:
    """A record-set benchmark ready to run."""

    inputs: list[tuple[str, Path]]      # (source key, file) in the order given to ``linkage run``
    peer_records: pd.DataFrame          # PEER_COLUMNS
    truth: pd.Series                    # uid -> entity key (every record)


@dataclass
class Case:
    """One labelled pair: the two records, as the user file holds them and as the peers get them."""

    case_id: str
    expected: bool
    user_records: list[dict]            # written to the case's input file for ``linkage run``
    user_format: str                    # "csv" or "jsonl"
    peer_records: list[dict]            # PEER_COLUMNS-style dicts (``ID`` = the record's id)
    note: str = ""

    @property
    def ids(self) -> tuple[str, str]:
        return str(self.peer_records[0]["ID"]), str(self.peer_records[1]["ID"])


@dataclass
class Dataset:
    key: str
    title: str
    kind: str                           # "records" or "cases"
    cross_source: bool = False
    description: str = ""
    loader: object = field(default=None, repr=False)
    truth_note: str = ""                # what is known about the truth file's own consistency (shown with errors)

    def prepare(self, workdir: Path) -> Prepared:
        assert self.kind == "records"
        return self.loader(Path(workdir))

    def cases(self) -> list[Case]:
        assert self.kind == "cases"
        return self.loader()


# ---------------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------------


def _str_frame(path: Path, encoding: str = "utf-8") -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)


def _peer_frame(df: pd.DataFrame, source: str, rename: dict[str, str]) -> pd.DataFrame:
    """The peers' view of a user table: columns renamed to PEER_COLUMNS, values untouched."""
    out = pd.DataFrame(index=df.index)
    src = {v: k for k, v in rename.items()}
    for col in PEER_COLUMNS[2:]:
        name = src.get(col, col if col in df.columns else None)
        out[col] = df[name].astype(str) if name is not None and name in df.columns else ""
    out["ID"] = out["ID"].str.strip()
    out.insert(0, "source", source)
    out.insert(0, "uid", source + ":" + out["ID"])
    return out.reset_index(drop=True)


def components(uids: list[str], pairs) -> pd.Series:
    """uid -> entity (smallest member uid) for the transitive closure of ``pairs`` over ``uids``."""
    parent = {u: u for u in uids}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return pd.Series({u: find(u) for u in uids}, name="entity")


def true_pairs(truth: pd.Series, cross_source: bool = False) -> int:
    """Number of true pairs implied by ``truth`` (uid -> entity)."""
    if not cross_source:
        return int(sum(n * (n - 1) // 2 for n in truth.value_counts()))
    src = truth.index.str.split(":", n=1).str[0]
    df = pd.DataFrame({"e": truth.to_numpy(), "s": src})
    total = 0
    for _, g in df.groupby("e"):
        c = g["s"].value_counts()
        n = int(c.sum())
        total += n * (n - 1) // 2 - int(sum(v * (v - 1) // 2 for v in c))
    return total


# ---------------------------------------------------------------------------------------------------------
# Cora
# ---------------------------------------------------------------------------------------------------------

CORA_COLUMNS = ["id", "title", "authors", "year", "venue", "pages", "volume", "publisher", "institution", "tech",
                "type", "note"]


def cora_records(folder: Path = DATA / "cora") -> pd.DataFrame:
    """The CSV a user would make of CORA.xml (one row per NEWREFERENCE; venue = journal or booktitle)."""
    xml = (folder / "CORA.xml").read_text("utf-8", "replace")
    rows = []
    for rid, body in re.findall(r'<NEWREFERENCE id="?(\d+)"?>(.*?)</NEWREFERENCE>', xml, re.S):
        f = collections.defaultdict(list)
        for tag, val in re.findall(r"<(\w+)>(.*?)</\1>", body, re.S):
            f[tag.lower().replace("booktile", "booktitle")].append(html.unescape(re.sub(r"\s+", " ", val)).strip())

        def g(k, f=f):
            return " ".join(f.get(k, [])) or None

        rows.append({"id": rid, "title": g("title"), "authors": g("author"), "year": g("year") or g("date"),
                     "venue": g("journal") or g("booktitle"), "pages": g("pages"), "volume": g("volume"),
                     "publisher": g("publisher"), "institution": g("institution"), "tech": g("tech"),
                     "type": g("type"), "note": g("note")})
    return pd.DataFrame(rows, columns=CORA_COLUMNS)


def cora_gold_pairs(folder: Path = DATA / "cora") -> list[tuple[str, str]]:
    gold = pd.read_csv(folder / "cora_gold.csv", sep=";", dtype=str)
    return [(a.strip(), b.strip()) for a, b in gold.itertuples(index=False)]


def _load_cora(workdir: Path) -> Prepared:
    df = cora_records()
    path = workdir / "cora.csv"
    df.to_csv(path, index=False)
    user = _str_frame(path)
    peer = _peer_frame(user, "cora", {"id": "ID", "authors": "author", "venue": "journal"})
    truth = components(peer["uid"].tolist(), [(f"cora:{a}", f"cora:{b}") for a, b in cora_gold_pairs()])
    return Prepared([("cora", path)], peer, truth)


# ---------------------------------------------------------------------------------------------------------
# DBLP-ACM
# ---------------------------------------------------------------------------------------------------------


def dblp_acm_tables(folder: Path = DATA / "dblp-acm") -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    dblp = _str_frame(folder / "DBLP2.csv", encoding="latin-1")
    acm = _str_frame(folder / "ACM.csv", encoding="latin-1")
    mapping = _str_frame(folder / "DBLP-ACM_perfectMapping.csv", encoding="latin-1")
    return dblp, acm, mapping


def _load_dblp_acm(workdir: Path) -> Prepared:
    folder = DATA / "dblp-acm"
    dblp, acm, mapping = dblp_acm_tables(folder)
    paths = []
    for name in ("DBLP2.csv", "ACM.csv"):
        shutil.copyfile(folder / name, workdir / name)
        paths.append(workdir / name)
    ren = {"id": "ID", "authors": "author", "venue": "journal"}
    peer = pd.concat([_peer_frame(dblp, "dblp", ren), _peer_frame(acm, "acm", ren)], ignore_index=True)
    pairs = [(f"dblp:{a.strip()}", f"acm:{b.strip()}") for a, b in zip(mapping["idDBLP"], mapping["idACM"], strict=True)]
    truth = components(peer["uid"].tolist(), pairs)
    return Prepared([("dblp", paths[0]), ("acm", paths[1])], peer, truth)


# ---------------------------------------------------------------------------------------------------------
# CoLRev sets (records_pre_merged.csv + merged_record_ids.csv)
# ---------------------------------------------------------------------------------------------------------


def colrev_truth(uids: list[str], merged_ids: Path, source: str) -> pd.Series:
    clusters = _str_frame(merged_ids).iloc[:, 0].str.split(";")
    pairs = []
    for members in clusters:
        m = [f"{source}:{x.strip()}" for x in members if x.strip()]
        pairs += [(m[0], x) for x in m[1:]]
    return components(uids, pairs)


def _colrev_loader(folder: Path, source: str):
    def load(workdir: Path) -> Prepared:
        path = workdir / "records.csv"
        shutil.copyfile(folder / "records_pre_merged.csv", path)
        user = _str_frame(path)
        peer = _peer_frame(user, source, {})
        return Prepared([(source, path)], peer, colrev_truth(peer["uid"].tolist(),
                                                             folder / "merged_record_ids.csv", source))
    return load


# ---------------------------------------------------------------------------------------------------------
# Pair cases
# ---------------------------------------------------------------------------------------------------------

_CASE_FIELDS = {"issue": "number"}


def _case_peer(rec: dict, rid: str) -> dict:
    out = {c: "" for c in PEER_COLUMNS[2:]}
    for k, v in rec.items():
        k2 = _CASE_FIELDS.get(k, k)
        if k2 in out and k2 != "ID" and v is not None:
            if k2 == "number" and out["number"]:
                continue
            out[k2] = str(v)
    out["ID"] = rid
    return out


def bib_dedupe_cases(path: Path = DATA / "bib-dedupe-cases" / "test_cases.json") -> list[Case]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for c in doc["cases"]:
        user, peer = [], []
        for rid, rec in (("a", c["record_a"]), ("b", c["record_b"])):
            r = {k: v for k, v in rec.items() if k != "ID"}
            user.append({"ID": rid, **r})
            peer.append(_case_peer(r, rid))
        out.append(Case(str(c["id"]), bool(c["expected_duplicate"]), user, "csv", peer, c.get("note", "")))
    return out


def seed_case(folder: Path = DATA / "seed-case") -> list[Case]:
    """The seed pair (Papers with Code vs arXiv), transcribed from the lossy rendering as in examples/."""
    text = (folder / "000_6af0b1500a8b2289.txt").read_text(encoding="utf-8")
    cells = [line.split("\t") for line in text.splitlines() if "\tabstract\t" in line][0]
    title = "Understanding Loss Landscapes of Neural Network Models in Solving Partial Differential Equations"
    assert title in text, "seed case: title not found"
    pwc = {"id": "pwc-43", "source": "SupportedSources.PAPERS_WITH_CODE", "authors": [], "title": title,
           "publication_date": "2021-03-20 00:00:00", "journal": "", "volume": "", "doi": "144//",
           "urls": ["https://arxiv.org/pdf/2103.11069v1.pdf", "https://github.com/wukekever/landscapes",
                    "nttps://gtutub.com/wukekever/fandscapes"],
           "abstract": cells[2].strip()}
    arxiv = {"id": "arxiv-43", "source": "SupportedSources.ARXIV", "authors": ["Keke Wu Rui Du Jingrun Chen Xiang Zhou"],
             "title": title, "publication_date": "2021-03-20 01:46:39+00:00", "journal": None, "volume": "",
             "doi": "", "urls": [], "abstract": cells[4].strip()}
    for needle in ("144//", "nttps://gtutub.com/wukekever/fandscapes", "2021-03-20 01:46:39+00:00", "DUPLICATES"):
        assert needle in text, f"seed case: {needle!r} not in the rendering"
    peer = []
    for r in (pwc, arxiv):
        # the peers take BibTeX-style fields: authors joined, year = the date's year, first url
        peer.append({"ID": r["id"], "ENTRYTYPE": "article", "title": r["title"], "author": " and ".join(r["authors"]),
                     "year": r["publication_date"][:4], "journal": r["journal"] or "", "booktitle": "",
                     "volume": r["volume"], "number": "", "pages": "", "doi": r["doi"], "abstract": r["abstract"],
                     "url": " ".join(r["urls"])})
    return [Case("seed-43", True, [pwc, arxiv], "jsonl", peer, "Papers with Code vs arXiv record of one paper")]


def write_case_input(case: Case, folder: Path) -> Path:
    """Write a case's two records as the user file ``linkage run`` reads."""
    folder.mkdir(parents=True, exist_ok=True)
    if case.user_format == "jsonl":
        path = folder / "records.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for r in case.user_records:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        return path
    path = folder / "records.csv"
    cols = list(dict.fromkeys(k for r in case.user_records for k in r))
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for r in case.user_records:
            w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return path


# ---------------------------------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------------------------------

DATASETS: list[Dataset] = [
    Dataset("cora", "Cora", "records", False, "1,879 citation strings, 182 papers (McCallum; cleanzr gold)",
            _load_cora),
    Dataset("dblp-acm", "DBLP-ACM", "records", True, "2,616 DBLP + 2,294 ACM records, 2,224 cross-source pairs",
            _load_dblp_acm),
    Dataset("cytology", "SR cytology screening", "records", False, "CoLRev LDD, 1,856 records",
            _colrev_loader(DATA / "colrev-cytology-screening", "cytology")),
    Dataset("haematology", "SR haematology", "records", False, "CoLRev LDD, 1,415 records",
            _colrev_loader(DATA / "colrev-haematology", "haematology")),
    Dataset("respiratory", "SR respiratory", "records", False, "CoLRev LDD, 1,988 records",
            _colrev_loader(DATA / "colrev-respiratory", "respiratory")),
    Dataset("stroke", "SR stroke", "records", False, "CoLRev LDD, 1,292 records",
            _colrev_loader(DATA / "colrev-stroke", "stroke"),
            truth_note=("both missed pairs have an identical counterpart the truth file labels as different works: "
                        "the dissertation-abstract/thesis pair 9/10 (a duplicate) vs 892/893 (not), and the "
                        "conference abstract printed in Can J Neurol Sci and Stroke, 428/429 (a duplicate) vs "
                        "1024/1025 (not: same meeting, same titles and authors). Any rule that links one of a "
                        "pair links its counterpart too, so F1 cannot rise above 0.9979 without reading the "
                        "labels; bib-dedupe misses the same two pairs.")),
    Dataset("misq-baseline", "MISQ Crossref+DBLP", "records", False, "3,487 records from Crossref and DBLP",
            _colrev_loader(DATA / "misq" / "baseline", "misq")),
    Dataset("misq-mixed", "MISQ Crossref+DBLP+PDF", "records", False,
            "5,379 records from Crossref, DBLP and GROBID-parsed PDFs", _colrev_loader(DATA / "misq" / "mixed", "misq")),
    Dataset("bib-dedupe-cases", "bib-dedupe pair cases", "cases", False, "25 hand-written pairs, each run alone",
            bib_dedupe_cases),
    Dataset("seed", "Seed case", "cases", False, "the Papers with Code / arXiv pair the product was described from",
            seed_case),
]
BY_KEY = {d.key: d for d in DATASETS}
