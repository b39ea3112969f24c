"""The author shapes the table path reads in SQL give exactly what ``authors.author_fields`` gives.

Covers the shapes widened for speed: names written one after the other without separators (four words or more,
one person or "Given Surname" pairs), particles and titles inside "Last, First", PubMed and glued lists (SQL),
and in "First Last" lists (routed to Python unless the particle is part of a word, "Al-Khalifa"), given names with
a lowercase part after a hyphen ("Jae-sung"), and JSON/API lists whose names have accents.
"""

from __future__ import annotations

import pandas as pd
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.normalise import normalise_frame
from linkage.normalise.authors import AUTHOR_COLUMNS, author_fields
from linkage.normalise.sql import _prepare, _run_sql


def _plain(v):
    if v is None or v is pd.NA:
        return None
    return v.tolist() if hasattr(v, "tolist") and not isinstance(v, str) else v


def _table_fields(values: list) -> tuple[list[dict], list[bool]]:
    """Author columns of the table path, and whether SQL (not Python) read each value."""
    frame = pd.DataFrame({"authors": pd.Series(values, dtype=object)})
    out = normalise_frame(frame, {"authors": "authors"})
    rows = [{c: _plain(r[c]) for c in AUTHOR_COLUMNS} for r in out.to_dict("records")]
    prep = _prepare(frame, {"authors": "authors"}, None)
    odd = prep["odd"]["authors"]
    routed = pc.fill_null(_run_sql(prep["table"], None).column("a_route"), True).to_numpy(zero_copy_only=False)
    return rows, [not (r or o) for r, o in zip(routed, odd, strict=True)]


def _assert_same(values: list) -> list[bool]:
    rows, in_sql = _table_fields(values)
    for v, got in zip(values, rows, strict=True):
        assert got == author_fields(v), v
    return in_sql


# table-driven: (value, read in SQL)
CASES = [
    ("Yuri Calleo Anat Eyal", True),                       # four words, not pinyin: one person "eyal yca"
    ("Vinay Chaudhri David Culler Bruce Martin", True),    # six capitalised words: three pairs
    ("Keke Wu Rui Zhou", True),                            # four pinyin words: two pairs
    ("Keke Wu Rui Du", False),                             # "Du" is a particle: Python
    ("M. Carey J. Tygar Elisa Bertino", True),             # one person with five given names
    ("Xiang Liu Shirley Jen Ravi Narrendar Pankaj", True),  # seven words: one person
    ("Jae-sung Bae Kian Tan Lee Wong", True),              # a hyphenated given name: not pairs
    ("Souvik Das, Amr El Abbadi", False),                  # a particle before the surname (DBLP): Python
    ("Shurug Al-Khalifa, Lukas Relly", True),              # "Al" inside a word is no particle
    ("Dr John Smith, Jane Doe", False),                    # a title first of three words: Python
    ("Yusuf, M. and El, Omar A.", True),                   # particle as a surname / given name (BibTeX)
    ("Das, Gautam and Le, Hong and Van, J.", True),
    ("Sarawagi S, Solla S, Das G, Lu H, Meiabadi MS", True),  # PubMed: particles, a title as initials
    ("Wilson LO, Gibbons PB, DeRose SJ, Stolboushkin AP", True),
    ("Haritsa JR, Madden S", False),                       # JR is a suffix Python drops: Python
    ("Bae, Jae-sung and Surani, Salim", True),
    ("Kim, Hye-youn and Fong, Joseph", True),
    ("Le K.Lewis G. F.", True),                            # glued, a particle as a surname
    (["Günter Sauter", "Brad Adelberg", "Theo Härder"], True),  # a list with accents
    (["Zoé Lacroix"], True),
    (["Günter Sauter", "A &amp; B"], False),
    (["Günter Sauter", "Jörg van Dijk"], False),
    ("Wenfei Fan Ahmed Elmagarmid et al.", True),
    ("John Smith Jr Peter Jones", False),
    ("Ebpg Expert Group on Renal Transplantation", False),
]


def test_widened_author_shapes_equal_python_and_are_read_in_sql():
    values = [v for v, _ in CASES]
    in_sql = _assert_same(values)
    assert in_sql == [s for _, s in CASES]


_GIVEN = st.sampled_from(["J.", "J", "JR", "QJ", "M.R.", "Jean", "Jean-Luc", "J.-P.", "Jae-sung", "Li", "Wu", "Keke",
                          "Rui", "Van", "Das", "Le", "Dr", "Ms", "Al", "De", "Jr", "Iv", "Zhou", "Anat"])
_SUR = st.sampled_from(["Smith", "Eyal", "O'Neill", "Fremeaux-Bacchi", "McCann", "Al-Khalifa", "Du", "Das", "Le",
                        "Van", "El", "Li", "Wu", "Chen", "Zhou", "Sir", "Jnr", "Prof", "Ng", "Kelty-Stephen"])
_INIT = st.sampled_from(["J", "QJ", "JR", "MS", "AP", "LO", "DE", "II", "IV", "K"])


def _fl(g, s):
    return " ".join(g + [s])


_NAME_FL = st.builds(_fl, st.lists(_GIVEN, min_size=1, max_size=3), _SUR)
_NAME_LF = st.builds(lambda s, g: f"{s}, {' '.join(g)}" if g else s, _SUR, st.lists(_GIVEN, max_size=3))
_NAME_PM = st.builds(lambda s, i: f"{s} {i}", _SUR, _INIT)
_NAME_GLUED = st.builds(lambda s, i: f"{s} {' '.join(c + '.' for c in i)}", _SUR, _INIT)
_AUTHORS = st.one_of(
    st.lists(_NAME_FL, min_size=1, max_size=4).flatmap(
        lambda names: st.sampled_from([", ", "; ", " and ", ", and "]).map(lambda sep: sep.join(names))),
    st.lists(_NAME_LF, min_size=1, max_size=4).flatmap(
        lambda names: st.sampled_from([" and ", "; "]).map(lambda sep: sep.join(names))),
    st.lists(_NAME_PM, min_size=1, max_size=4).map(", ".join),
    st.lists(_NAME_GLUED, min_size=2, max_size=4).flatmap(
        lambda names: st.sampled_from(["", " "]).map(lambda sep: sep.join(names))),
    st.lists(st.one_of(_GIVEN, _SUR), min_size=4, max_size=9).map(" ".join),  # spaced, any words
    st.lists(st.tuples(_GIVEN, _SUR), min_size=2, max_size=5).map(
        lambda p: " ".join(f"{g} {s}" for g, s in p)),                          # spaced pairs
    st.lists(st.builds(_fl, st.lists(st.sampled_from(["Jörg", "Zoé", "Günter", "Łukasz", "J."]), min_size=1,
                                     max_size=2), st.sampled_from(["Müller", "Härder", "Smith", "Dağ"])),
             min_size=1, max_size=4),                                            # lists with accents
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_AUTHORS, min_size=1, max_size=15))
def test_sql_author_shapes_equal_parse_authors(values):
    _assert_same(values)


@pytest.mark.parametrize("value", ["Keke Wu Rui Zhou Jingrun Chen", "Yuri Calleo Anat Eyal Li"])
def test_spaced_names_without_pinyin_rule(value):
    _assert_same([value])
