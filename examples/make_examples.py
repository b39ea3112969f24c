"""Rebuilds the bundled example data from the shared data sets (run from the repository root).

    python examples/make_examples.py ../shared/data

Selection is deterministic: the first 200 pairs of the DBLP-ACM perfect mapping (sorted by DBLP id),
plus the first 100 DBLP and 100 ACM records that are in no pair; the two seed-case records.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

data = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
here = Path(__file__).parent
da = data / "dblp-acm-leipzig"
dblp = pd.read_csv(da / "DBLP2.csv", dtype=str, encoding="latin-1")
acm = pd.read_csv(da / "ACM.csv", dtype=str, encoding="latin-1")
mapping = pd.read_csv(da / "DBLP-ACM_perfectMapping.csv", dtype=str, encoding="latin-1")
mapping = mapping.sort_values("idDBLP", kind="mergesort").head(200)
d = pd.concat([dblp[dblp.id.isin(mapping.idDBLP)],
               dblp[~dblp.id.isin(set(pd.read_csv(da / "DBLP-ACM_perfectMapping.csv", dtype=str).idDBLP))].head(100)])
a = pd.concat([acm[acm.id.isin(mapping.idACM)],
               acm[~acm.id.isin(set(pd.read_csv(da / "DBLP-ACM_perfectMapping.csv", dtype=str).idACM))].head(100)])
# DBLP stays Latin-1 and ACM keeps its HTML entities, as published: the readers must cope.
d.to_csv(here / "sources" / "dblp.csv", index=False, encoding="latin-1")
a.to_csv(here / "sources" / "acm.csv", index=False, encoding="latin-1")
mapping.to_csv(here / "labels" / "dblp_acm_mapping.csv", index=False)

seed = [
    {"id": "pwc-43", "source": "SupportedSources.PAPERS_WITH_CODE", "authors": [],
     "title": "Understanding Loss Landscapes of Neural Network Models in Solving Partial Differential Equations",
     "publication_date": "2021-03-20 00:00:00", "journal": "", "volume": "", "doi": "144//",
     "urls": ["https://arxiv.org/pdf/2103.11069v1.pdf", "https://github.com/wukekever/landscapes",
              "nttps://gtutub.com/wukekever/fandscapes"],
     "abstract": None},
    {"id": "arxiv-43", "source": "SupportedSources.ARXIV", "authors": ["Keke Wu Rui Du Jingrun Chen Xiang Zhou"],
     "title": "Understanding Loss Landscapes of Neural Network Models in Solving Partial Differential Equations",
     "publication_date": "2021-03-20 01:46:39+00:00", "journal": None, "volume": "", "doi": "", "urls": [],
     "abstract": None},
]
text = (data / "seed-case" / "000_6af0b1500a8b2289.txt").read_text(encoding="utf-8")
abstracts = [line.split("\t") for line in text.splitlines() if "\tabstract\t" in line][0]
seed[0]["abstract"] = abstracts[2].strip()
seed[1]["abstract"] = abstracts[4].strip()
with open(here / "sources" / "aggregator.jsonl", "w", encoding="utf-8") as fh:
    for r in seed:
        fh.write(json.dumps(r, ensure_ascii=False) + "\n")
pd.DataFrame([{"id_a": "pwc-43", "id_b": "arxiv-43", "label": "same"}]).to_csv(
    here / "labels" / "seed_pair.csv", index=False)
print(len(d), len(a), len(mapping))
