"""One-off: copy small samples of real records into ``benchmarks/data/normalise/real_records.jsonl``.

Run once from the repository root with the shared data sets present (``python
benchmarks/data/normalise/make_samples.py ../shared/data``); the benchmark itself reads only the JSONL.
Each line is one record as ``{canonical field: raw value}`` plus ``sample`` (where it came from).
See PROVENANCE.md for the origin and licence of every sample.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

from linkage.sources import read_source

SAMPLES = [  # (path under the data root, sample name, records)
    ("dblp-acm-leipzig/DBLP2.csv", "dblp", 600),
    ("dblp-acm-leipzig/ACM.csv", "acm", 600),
    ("colrev-ldd-respiratory/records_pre_merged.csv", "colrev-respiratory", 400),
    ("colrev-ldd-stroke/records_pre_merged.csv", "colrev-stroke", 300),
    ("colrev-ldd-haematology/records_pre_merged.csv", "colrev-haematology", 300),
    ("colrev-ldd-cytology-screening/records_pre_merged.csv", "colrev-cytology", 300),
    ("colrev-misq-multisource/mixed/records_pre_merged.csv", "colrev-misq", 500),
    ("api-records/semantic_scholar_papers.jsonl", "semantic-scholar", 400),
    ("api-records/crossref_works.jsonl", "crossref", 25),
    ("cora-1295-pyjedai/cora.csv", "cora", 300),
]


def _cora_xml(root: Path, k: int, rng: random.Random) -> list[dict]:
    txt = (root / "cora-1879-cleanzr/CORA.xml").read_text(encoding="utf-8")
    tags = {"author": "authors", "title": "title", "booktitle": "venue", "booktile": "venue", "journal": "venue",
            "year": "year", "date": "date", "pages": "pages", "volume": "volume", "institution": "institution",
            "tech": "report_number", "type": "type", "note": "note", "publisher": "publisher"}
    recs = []
    for m in re.finditer(r'<NEWREFERENCE id="(\d+)">(.*?)</NEWREFERENCE>', txt, re.S):
        r = {"id": "cora-" + m.group(1)}
        for tag, val in re.findall(r"<(\w+)>(.*?)</\1>", m.group(2), re.S):
            f = tags.get(tag.lower())
            if f and f not in r:
                r[f] = val.strip()
        recs.append(r)
    return rng.sample(recs, k)


def main(root: Path, out: Path) -> None:
    rng = random.Random(20240607)
    rows = []
    for rel, name, k in SAMPLES:
        t = read_source(root / rel)
        recs = t.frame.to_dict("records")
        for r in rng.sample(recs, min(k, len(recs))):
            rec = {f: r[c] for f, c in t.mapping.items() if r.get(c) is not None}
            rec["sample"] = name
            rows.append(rec)
    for r in _cora_xml(root, 300, rng):
        r["sample"] = "cora-xml"
        rows.append(r)
    names = {"publication_date": "date", "journal": "venue"}
    for line in (Path(__file__).parents[3] / "examples/sources/aggregator.jsonl").read_text().splitlines():
        seed = json.loads(line)
        rec = {names.get(k, k): v for k, v in seed.items() if k != "source" and v not in ("", [], None)}
        rec["sample"] = "seed-case"
        rows.append(rec)
    with out.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(__file__).with_name("real_records.jsonl"))
