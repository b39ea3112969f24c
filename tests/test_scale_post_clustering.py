"""The vectorised helpers of clustering give what the plain Python they replace gives."""

import random

import numpy as np
import pandas as pd

from linkage.clustering import (
    _ASCII_SPACE,
    GENERIC_PHRASES,
    _word_counts,
    ambiguous_edges,
    cluster,
    generic_phrase_titles,
)


def test_ascii_space_is_pythons():
    assert {i for i in range(128) if chr(i).isspace()} == set(np.flatnonzero(_ASCII_SPACE).tolist())


def test_word_counts_match_str_split():
    rng = random.Random(3)
    chars = [" ", "\t", "\x1c", "\x1f", "\xa0", "\u3000", "a", "b", "é", "\n", "\x85", "x", "\u2028", "\x0b"]
    vals = [None if rng.random() < 0.1 else "".join(rng.choice(chars) for _ in range(rng.randint(0, 8)))
            for _ in range(5000)]
    s = pd.Series(vals, dtype=object)
    for part in (s, s.iloc[7:], s.iloc[:0], pd.Series([None], dtype=object), pd.Series(["a b", None, ""], dtype="str")):
        want = [len(v.split()) if isinstance(v, str) else -1 for v in part]
        assert _word_counts(part).tolist() == want
    assert _word_counts(pd.Series([1, "a"], dtype=object)) is None


def test_generic_phrase_titles_match_the_regex():
    titles = ["editorial", "from the editors", "a study of editorial boards in journals of the world and more",
              "book reviews", "call for papers", "letters to the editor", "reviewers acknowledgement", None,
              "the errata of life", "Editorial", "in memoriam john smith", "deep learning", "from the chair"]
    rec = pd.DataFrame({"title_norm": pd.Series(titles, dtype=object)})
    want = [isinstance(v, str) and len(v.split()) <= 10 and GENERIC_PHRASES.search(v) is not None for v in titles]
    assert generic_phrase_titles(rec).tolist() == want


def _ambiguous_reference(edges, oto, margin):
    """The row-by-row definition: an end competes with its other edges into the same one-to-one source."""
    out = pd.Series(False, index=edges.index)
    rows = list(edges.itertuples())
    for r in rows:
        if r.source_l == r.source_r:
            continue
        for x, t in ((r.unique_id_l, r.source_r), (r.unique_id_r, r.source_l)):
            if t not in oto:
                continue
            others = [q.match_weight for q in rows if q.Index != r.Index and q.source_l != q.source_r and (
                (q.unique_id_l == x and q.source_r == t) or (q.unique_id_r == x and q.source_l == t))]
            if others and max(others) >= r.match_weight - margin:
                out[r.Index] = True
    return out


def test_ambiguous_edges_match_the_definition():
    rng = random.Random(5)
    for _ in range(30):
        m = rng.randint(1, 40)
        ids = [f"{s}:{i}" for s in "abc" for i in range(6)]
        rows = []
        for _ in range(m):
            a, b = rng.sample(ids, 2)
            rows.append({"unique_id_l": a, "unique_id_r": b, "source_l": a[0], "source_r": b[0],
                         "match_weight": float(rng.choice([5, 6, 7, 7.5, 9, 12]))})
        edges = pd.DataFrame(rows, index=rng.sample(range(1000), m))
        for oto in ({"a"}, {"a", "b", "c"}):
            got = ambiguous_edges(edges, oto, 2.0)
            assert got.equals(_ambiguous_reference(edges, oto, 2.0))


def test_cluster_ids_are_the_smallest_member_and_repeat():
    rec = pd.DataFrame({"unique_id": ["s:3", "s:1", "s:2", "s:10", "s:4"], "source": ["s"] * 5})
    pairs = pd.DataFrame({"unique_id_l": ["s:3", "s:2", "s:10"], "unique_id_r": ["s:1", "s:3", "s:4"],
                          "match_weight": [9.0, 8.0, 7.0]})
    out, rep = cluster(rec, pairs, 5.0, method="connected_components")
    assert out["cluster_id"].tolist() == ["s:1", "s:1", "s:1", "s:10", "s:10"]
    assert rep.edges_used == 3
