"""Properties of the normalisers (hypothesis): they never raise on arbitrary input, are idempotent where
that makes sense, and never produce a DOI that ``idutils`` rejects."""

from __future__ import annotations

import datetime as dt

import idutils
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.normalise import NORMALISED_COLUMNS, normalise_record
from linkage.normalise.abstract import abstract_tokens, clean_abstract
from linkage.normalise.authors import author_fields
from linkage.normalise.dates import MAX_YEAR, MIN_YEAR, date_fields
from linkage.normalise.identifiers import (
    normalise_arxiv,
    normalise_doi,
    normalise_isbn,
    normalise_pmid,
    url_fields,
)
from linkage.normalise.pages import number_field, page_fields
from linkage.normalise.pubtype import PUB_TYPES, publication_type
from linkage.normalise.sources import normalise_source_value
from linkage.normalise.text import fold, prep_text
from linkage.normalise.title import clean_title, title_key, title_tokens
from linkage.normalise.venue import venue_fields

# Arbitrary unicode plus the characters that trigger the special paths (entities, tags, LaTeX, mojibake).
_SPECIAL = list("aZ09 .,;:-–—/\\{}$&#<>()[]'\"`%?=_~|\nÃ¶é’“ﬁ東") + [
    "&amp;", "<i>", "\\\"o", "10.", "doi:", "http://", "arXiv:", "et al.", "1234", "/", "v2"]
TEXT = st.one_of(st.text(max_size=80), st.lists(st.sampled_from(_SPECIAL), max_size=30).map("".join))
CELL = st.one_of(st.none(), TEXT, st.lists(TEXT, max_size=4), st.integers(-10, 3000), st.floats(allow_nan=True),
                 st.dictionaries(st.sampled_from(["date-parts", "x"]), st.lists(st.integers(0, 3000), max_size=3),
                                 max_size=1))


@settings(max_examples=150, deadline=None)
@given(CELL)
def test_field_normalisers_never_raise(v):
    clean_title(v)
    author_fields(v)
    date_fields(v, v)
    normalise_doi(v)
    normalise_arxiv(v)
    normalise_pmid(v)
    normalise_isbn(v)
    url_fields(v)
    venue_fields(v)
    page_fields(v, v, v)
    number_field(v)
    clean_abstract(v)
    publication_type(v, v, v, v, v)
    normalise_source_value(v)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["id", "title", "authors", "date", "year", "venue", "volume", "issue",
                                         "pages", "first_page", "last_page", "doi", "arxiv_id", "pmid", "isbn", "urls",
                                         "abstract", "type", "institution", "report_number", "note", "venue_abbrev"]),
                       CELL))
def test_normalise_record_never_raises_and_gives_every_column(raw):
    out = normalise_record(raw)
    assert list(out) == list(NORMALISED_COLUMNS)
    assert isinstance(out["title_generic"], bool) and isinstance(out["is_preprint"], bool)
    assert out["pub_type"] is None or out["pub_type"] in PUB_TYPES
    for c, t in NORMALISED_COLUMNS.items():
        v = out[c]
        if v is None:
            continue
        if t == "VARCHAR[]":
            assert isinstance(v, list) and v and all(isinstance(x, str) for x in v), c
        elif t == "VARCHAR":
            assert isinstance(v, str) and v, c
        elif t == "INTEGER":
            assert isinstance(v, int), c
        elif t == "DATE":
            assert isinstance(v, dt.date), c


@settings(max_examples=150, deadline=None)
@given(TEXT)
def test_title_cleaning_is_idempotent(s):
    t = clean_title(s)
    if t is not None:
        assert clean_title(t) == t
        assert t == t.lower() and t.isascii() and "  " not in t and t == t.strip()
        assert title_key(t) == t.replace(" ", "")
        assert title_tokens(t) is None or title_tokens(t) == sorted(set(title_tokens(t)))


@settings(max_examples=150, deadline=None)
@given(TEXT)
def test_fold_and_prep_are_ascii_and_stable(s):
    f = fold(s)
    assert f.isascii() and fold(f) == f
    p = prep_text(s)
    assert p.isascii() and p.isprintable()


DOI_TEXT = st.one_of(TEXT, st.builds(lambda a, b, c: f"{a}10.{b}/{c}", st.sampled_from(["", "doi:", "https://doi.org/",
                                                                                       "DOI ", "(", "x"]),
                                     st.integers(0, 10**9), TEXT))


@settings(max_examples=120, deadline=None)
@given(DOI_TEXT)
def test_doi_is_valid_and_idempotent(s):
    d = normalise_doi(s)
    if d is not None:
        assert idutils.is_doi(d)
        assert d == d.lower() and d.startswith("10.")
        assert normalise_doi(d) == d


@settings(max_examples=120, deadline=None)
@given(st.one_of(TEXT, st.builds(lambda a, b, v: f"{a}{b}{v}", st.sampled_from(["", "arXiv:", "https://arxiv.org/abs/",
                                                                             "hep-th/", "10.48550/arXiv."]),
                                 st.from_regex(r"\d{4}\.\d{4,5}|\d{7}", fullmatch=True),
                                 st.sampled_from(["", "v1", "v12", ".pdf"]))))
def test_arxiv_id_is_stable(s):
    a, v = normalise_arxiv(s)
    if a is not None:
        assert normalise_arxiv(a) == (a, None)
        assert v is None or (v.startswith("v") and v[1:].isdigit())


@settings(max_examples=120, deadline=None)
@given(CELL, CELL)
def test_dates_stay_in_range(d, y):
    f = date_fields(d, y)
    if f["year_norm"] is not None:
        assert MIN_YEAR <= f["year_norm"] <= MAX_YEAR
        assert f["date_precision"] in ("day", "month", "year")
    if f["date_norm"] is not None:
        assert f["date_precision"] == "day" and f["date_norm"].year == f["year_norm"]


@settings(max_examples=120, deadline=None)
@given(CELL, CELL, CELL)
def test_page_count_is_positive(p, a, b):
    f = page_fields(p, a, b)
    assert f["page_count"] is None or 1 <= f["page_count"] <= 10000


@settings(max_examples=120, deadline=None)
@given(TEXT)
def test_abstract_tokens_are_bounded_sorted_sets(s):
    a = clean_abstract(s)
    toks = abstract_tokens(a)
    assert toks is None or (len(toks) <= 64 and toks == sorted(set(toks)))
    if a is not None:
        assert clean_abstract(a) == a


@settings(max_examples=120, deadline=None)
@given(TEXT)
def test_urls_never_keep_malformed_hosts(s):
    f = url_fields(s)
    for u in f["urls_norm"] or []:
        host = u.split("/", 1)[0].split(":")[0]
        assert "." in host and host == host.lower()
    assert f["repo_url"] is None or f["repo_url"] in {"/".join(u.lower().split("/")[:3]).removesuffix(".git")
                                                      for u in f["urls_norm"]}


_RUN_TEXT = st.lists(st.sampled_from(["a", " ", "Z", "é", "Ã", "©", "â€™", "Ð", "¾", "\x85", "\ufffd", "\x1a", "東京",
                                      "ß", "\u2019", "\ud800", "\U0001f600", "Ã ", "x y"]), max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(_RUN_TEXT | st.text(max_size=30))
def test_codec_run_scans_equal_the_regex_definitions(s):
    """to_ascii and the mojibake pre-check find non-ASCII runs with the ASCII encoder; same as the regex scan."""
    from linkage.normalise import text as t

    assert t.to_ascii(s) == (s if s.isascii() else t._NON_ASCII.sub(t._ascii_run, s))
    ref = "\x1a" in s or any(t._MOJIBAKE_RUN.search(m.group(0)) or (m.group(0)[-1] in t._SPACE_RESTORED
                                                                    and s[m.end():m.end() + 1] == " ")
                             for m in t._NON_ASCII.finditer(s))
    assert t._may_be_mojibake(s) == bool(ref)
