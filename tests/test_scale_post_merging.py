"""Merged records with each field's record chosen on arrays equal those of the all-SQL query."""

import datetime as dt
import io
import random

import pandas as pd
import pyarrow.parquet as pq
import pytest

from linkage import merging


def _table(df):
    """``df`` as the run writes it to merged.parquet (``pipeline._arrow_table``) and reads it back."""
    from linkage.pipeline import _arrow_table

    buf = io.BytesIO()
    pq.write_table(_arrow_table(df), buf)
    return pq.read_table(buf)


def _records(seed: int):
    rng = random.Random(seed)
    n = rng.randint(1, 80)
    ids = [f"{rng.choice('ab')}:{i:03d}" for i in range(n)]
    rng.shuffle(ids)
    pick = lambda *xs: rng.choice(xs)  # noqa: E731
    rec = pd.DataFrame({
        "unique_id": ids, "source": [u[0] for u in ids],
        "title": [pick(None, "A title", "A  title", "Another", "é title") for _ in ids],
        "authors": [pick(None, "Smith, J", "Smith, John", "Doe") for _ in ids],
        "venue": [pick(None, "VLDB", "Proc. VLDB") for _ in ids],
        "abstract": [pick(None, "abc", "abcd", "xyz") for _ in ids],
        "vol": [pick(None, "3", "4") for _ in ids], "pg": [pick(None, "10-12", "10") for _ in ids],
        "iss": [pick(None, "1", None) if seed % 2 else None for _ in ids],
        "title_norm": [pick(None, "a title", "another") for _ in ids],
        "author_count": pd.array([pick(None, 1, 2, 2) for _ in ids], dtype="Int64"),
        "date_norm": [pick(None, dt.date(2001, 1, 2), dt.date(2001, 1, 1), dt.date(1999, 5, 5)) for _ in ids],
        "year_norm": pd.array([pick(None, 1999, 2001, 2002) for _ in ids], dtype="Int64"),
        "venue_norm": [pick(None, "vldb", "sigmod") for _ in ids],
        "volume_norm": [pick(None, "3", "4") for _ in ids],
        "issue_norm": [pick(None, "1") if seed % 2 else None for _ in ids],
        "page_first": [pick(None, "10", "11") for _ in ids],
        "doi_norm": [pick(None, "10.1/a", "10.1/b") for _ in ids],
        "arxiv_id_norm": [pick(None, "1234.5678") for _ in ids],
        "urls_norm": [pick(None, ["http://a", "http://b"], ["http://b"], []) for _ in ids],
        "abstract_norm": [pick(None, "abc", "abcd", "xyz") for _ in ids],
        "pub_type": [pick(None, "article", "preprint") for _ in ids],
    })
    for c in ("title", "authors", "venue", "abstract", "vol", "pg", "iss", "title_norm", "venue_norm", "volume_norm", "issue_norm",
              "page_first", "doi_norm", "arxiv_id_norm", "abstract_norm", "pub_type", "date_norm", "urls_norm"):
        rec[c] = rec[c].astype(object)
    k = rng.randint(1, n)
    cid = {}
    cl = [rng.randrange(k) for _ in ids]
    for u, c in zip(ids, cl):
        cid[c] = min(cid.get(c, u), u)
    clusters = pd.DataFrame({"unique_id": ids, "cluster_id": [cid[c] for c in cl]})
    mp = {"title": "title", "authors": "authors", "venue": "venue", "abstract": "abstract"}
    mp_b = {**mp, "volume": "vol", "pages": "pg", "issue": "iss"}
    return rec, clusters, {"a": mp, "b": mp_b}


@pytest.mark.parametrize("seed", range(40))
def test_chosen_merge_equals_sql_merge(seed, monkeypatch):
    rec, clusters, mappings = _records(seed)
    fast = merging.merge_clusters(rec, clusters, mappings)
    monkeypatch.setattr(merging, "_one_to_one", lambda r, c: None)
    slow = merging.merge_clusters(rec, clusters, mappings)
    assert _table(fast).equals(_table(slow))
    assert _table(fast).schema.equals(_table(slow).schema, check_metadata=True)
    assert fast.dtypes.equals(slow.dtypes)


def test_display_text_equals_value_by_value():
    import re

    from linkage.normalise.text import fix_text

    rng = random.Random(11)
    parts = ["a", "B", " ", "\t", "\x1c", "&amp;", "<b>", "</b>", "é", "Ã©", "$x$", "{", "\\", "id12345678 ",
             "0123456789abcdef0123 ", "\x0b", "\xa0", "ID-abcdef "]
    vals = [None if rng.random() < 0.1 else "".join(rng.choice(parts) for _ in range(rng.randint(0, 6)))
            for _ in range(3000)]
    df = pd.DataFrame({"title": vals, "authors": vals[::-1], "venue": vals, "abstract": vals[1:] + vals[:1]})
    df = df.astype({c: "str" for c in df})
    lead_id = re.compile(r"^\s*(?:id[0-9a-f\-]{6,}|[0-9a-f]{16,})\s+", re.I)
    want = df.copy()
    for col in ("title", "authors", "venue", "abstract"):
        want[col] = want[col].map(lambda v: fix_text(v).strip() if isinstance(v, str) else v)
    want["abstract"] = want["abstract"].map(lambda v: lead_id.sub("", v) if isinstance(v, str) else v)
    got = merging._display_text(df.copy())
    pd.testing.assert_frame_equal(got, want)
    assert got.dtypes.equals(want.dtypes)
