from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
EXAMPLE_SOURCES = [EXAMPLES / "sources" / n for n in ("dblp.csv", "acm.csv", "aggregator.jsonl")]


@pytest.fixture(scope="session")
def example_run(tmp_path_factory):
    """The bundled example job, run once per test session."""
    import linkage

    out = tmp_path_factory.mktemp("example") / "run"
    return linkage.run([str(p) for p in EXAMPLE_SOURCES], out=out)


TITLE_WORDS = ["graph", "neural", "network", "learning", "deep", "model", "data", "fast", "sparse", "kernel"]


def word_records(n: int, fields):
    """``n`` normalised records (a model frame's columns) titled from ten words, three a title, so that titles
    share words and keys in many ways; ``fields(i, tokens)`` gives row ``i``'s other fields (or overrides)."""
    import pandas as pd

    from linkage.normalise import NORMALISED_COLUMNS

    rows = []
    for i in range(n):
        toks = sorted({TITLE_WORDS[i % 10], TITLE_WORDS[(i * 3) % 10], TITLE_WORDS[(i * 7 + 1) % 10]})
        rec = dict.fromkeys(NORMALISED_COLUMNS)
        rec.update(unique_id=f"r{i:03d}", source="s", title_norm=" ".join(toks) + f" {i % 4}",
                   title_key="".join(toks) + str(i % 4), title_tokens=toks, year_norm=2000 + i % 3,
                   title_generic=False)
        rec.update(fields(i, toks))
        rows.append(rec)
    return pd.DataFrame(rows)
