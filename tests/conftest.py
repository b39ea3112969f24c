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
