"""Cluster diagnostics on whole arrays give the same table as record by record."""

import io
import random
from types import SimpleNamespace

import pandas as pd
import pyarrow.parquet as pq
import pytest

from linkage.review import _cluster_diagnostics_fast, _cluster_diagnostics_rows, bridges, cluster_diagnostics


def _table(df: pd.DataFrame):
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return pq.read_table(buf)


def _random_run(seed: int):
    rng = random.Random(seed)
    n = rng.randint(2, 60)
    ids = [f"{rng.choice('abc')}:{i:03d}" for i in range(n)]
    rng.shuffle(ids)
    n_clusters = rng.randint(1, max(1, n // 2))
    cl = [rng.randrange(n_clusters) for _ in ids]
    cid = {}
    for u, c in zip(ids, cl):
        cid[c] = min(cid.get(c, u), u)
    clusters = pd.DataFrame({"unique_id": ids, "cluster_id": [cid[c] for c in cl]})
    records = pd.DataFrame({"unique_id": ids, "source": [u.split(":")[0] for u in ids]})
    rows = set()
    for _ in range(rng.randint(0, 4 * n)):
        a, b = rng.sample(ids, 2)
        if (a, b) not in rows and (b, a) not in rows:
            rows.add((a, b))
    rows = sorted(rows)
    pairs = pd.DataFrame({"unique_id_l": [a for a, _ in rows], "unique_id_r": [b for _, b in rows],
                          "match_weight": [float(rng.choice([1, 3, 5, 5, 6.5, 8, 12, 12])) for _ in rows]})
    must = [[*rng.sample(ids, 2), "same"] for _ in range(rng.randint(0, 3))]
    return SimpleNamespace(clusters=clusters, records=records, pairs=pairs, threshold=5.0,
                           info={"decisions": {"pairs": must}})


@pytest.mark.parametrize("seed", range(60))
def test_fast_diagnostics_equal_row_by_row(seed):
    run = _random_run(seed)
    fast = _cluster_diagnostics_fast(run)
    rows = _cluster_diagnostics_rows(run)
    if fast is None:  # no work of two or more records
        assert len(rows) == 0
        return
    assert _table(fast).equals(_table(rows))
    assert _table(fast).schema.equals(_table(rows).schema, check_metadata=True)
    assert _table(cluster_diagnostics(run)).equals(_table(rows))


def test_bridges_of_a_cycle_with_a_tail():
    # 0-1-2-0 is a cycle; 2-3 hangs off it; 3-4 twice (parallel) is no bridge
    assert sorted(bridges(5, [0, 1, 2, 2, 3, 3], [1, 2, 0, 3, 4, 4])) == [3]
