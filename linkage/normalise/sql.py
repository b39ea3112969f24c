"""The table path of ``normalise_frame``: DuckDB SQL for the regular majority, Python for the rest.

How a table is processed (in chunks of ``CHUNK_ROWS`` rows, as a pipeline: the DuckDB query of one chunk runs
in a worker thread, without the GIL, while Python prepares the next chunk and finishes the previous one):

1. Text fields (title, authors, abstract) are brought to their repaired ASCII form first: plain values
   (printable ASCII without markup, ``text.is_plain``) as they are, values whose only non-ASCII characters
   are typographic ones by one regex substitution, the others through ``text.prep_text`` in Python once
   per distinct value (ftfy, entities, LaTeX, anyascii). Every text normaliser is defined on that form, so
   both paths start from the same string.
2. One DuckDB query computes every output for the values whose shape it fully understands: folding of
   titles (unless a noise prefix/suffix may be present) and abstracts (id tokens, labels and copyright
   lines stripped by the same four patterns as ``abstract.clean_abstract_plain``), the common author-list
   layouts (BibTeX "Last, F. and ...", DBLP "First Last, ...", PubMed "Last FM, ...", the glued export form
   "Adeli K.Lewis G. F.", names without separators "Yuri Calleo Anat Eyal", with a trailing "et al."; JSON/API
   lists of names, also accented ones, joined), bare/prefixed DOIs (also with %2F escapes, one
   trailing full stop or a glued "PMID:123"), new-style arXiv ids, arXiv/DOI/code-hosting/plain URLs, digit
   PubMed ids, simple page ranges. For every other value it sets a "route" flag.
3. Routed values go through the same per-value Python functions ``normalise_record`` uses, once per
   distinct input. Low-cardinality fields (venue, volume, issue, dates cut to their date part, ISBN,
   publication type) always take that route; those, authors and pages are remembered across chunks.
   ASCII abstracts are folded after the query, in its thread, by one ``bytes.translate`` of the column's data
   and Arrow (``_fold_ascii``, cheaper than the regex); abstract tokens are computed over the whole
   ``abstract_norm`` column with Arrow and numpy (``_abstract_tokens_arrow``, in the main thread but for the last
   chunk, see ``TOKENS_BALANCE``: measured, the two threads are best balanced that way on two cores); the
   tokens of the titles SQL folded the same way from their words, in the query's thread (``_title_tokens_arrow``).
   Title numbers come from the query, Python's ``title_numbers`` only for the titles Python normalised. Text that is neither
   plain nor in need of repair (accents, Greek, typographic characters) is only transliterated
   (``text.prep_translit``), the rest prepared by ``prep_text``.
4. List columns (``VARCHAR[]``) stay Arrow arrays and come out as ``pd.ArrowDtype(pa.list_(pa.string()))``
   columns; Python results for routed rows are spliced in by one ``take`` (``_patched``).
5. On machines with 3 cores or more, tables of ``PROCESS_MIN_ROWS`` rows or more are spread over spawned worker
   processes (``_normalise_in_processes``); each runs the steps above on its chunks, the results are put
   together in row order.

The SQL mirrors the Python definitions exactly on the values it accepts (each ``*_SQL`` pattern sits
beside the Python it stands for); ``tests/test_normalise_frame.py`` checks table == per-record results
on real and generated records and on hypothesis-generated tricky strings.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from operator import itemgetter

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .abstract import (
    ABSTRACT_LEAD_HINT_SQL,
    ABSTRACT_STEPS_SQL,
    ABSTRACT_STOP_WORDS,
    ABSTRACT_TAIL_HINT_SQL,
    ABSTRACT_TOKEN_LIMIT,
    MIN_ABSTRACT_CHARS,
)
from .authors import AUTHOR_COLUMNS, PARTICLES, PINYIN_WORD_RE, SUFFIXES, TITLES, author_fields
from .dates import ISO_TIMESTAMP_SQL
from .identifiers import IDENTIFIER_COLUMNS, REPO_NOT_OWNER, identifier_fields, normalise_isbn, normalise_pmid
from .pages import PAGE_COLUMNS, number_field, page_fields
from .pubtype import entry_type_class
from .text import BLANKS, NOT_SIMPLE_TEXT_RE2, as_text, is_blank, is_plain, prep_text, prep_translit
from .title import (
    _GENERIC_PREFIXES,
    FOLDED_BLANKS,
    GENERIC_TITLES,
    STOP_WORDS,
    TITLE_NOISE_HINT_SQL,
    clean_title_plain,
    is_generic_title,
    title_key,
    title_tokens,
)
from .venue import venue_fields

# ---------------------------------------------------------------------------------------------- SQL

def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _in_list(words) -> str:
    return "(" + ", ".join(_q(w) for w in sorted(words)) + ")"


_LONGEST_BLANK = max(len(b.encode()) for b in BLANKS)


def _blank(x: str) -> str:
    return f"({x} IS NULL OR lower(trim({x})) IN {_in_list(BLANKS)})"


def _blank_ascii(x: str) -> str:
    """``_blank`` of a prepared (ASCII) text column, as a CASE: values longer than every placeholder and without a
    space at either end (``trim`` removes spaces, and other characters of Unicode's space separators, which ASCII
    text has none of) are no placeholder, and skip the lowercase copy. DuckDB evaluates both sides of AND/OR for
    every row, but each branch of a CASE only for the rows that reach it."""
    return (f"(CASE WHEN {x} IS NULL THEN true WHEN strlen({x}) > {_LONGEST_BLANK} AND NOT starts_with({x}, ' ') "
            f"AND NOT ends_with({x}, ' ') THEN false ELSE lower(trim({x})) IN {_in_list(BLANKS)} END)")


def _nz_list(expr: str) -> str:
    return f"CASE WHEN len({expr}) = 0 THEN NULL ELSE {expr} END"


_APOS = "''''"  # the SQL literal of one apostrophe


def _words(x: str) -> str:
    """``fold_fixed(x).split()`` for ASCII x."""
    return f"list_filter(string_split_regex(replace(lower({x}), {_APOS}, ''), '[^0-9a-z]+'), lambda w: w <> '')"


def _initials(given: str) -> str:
    """``authors.initials_of`` for the regular given-name shapes (Jean-Luc R. -> jlr, QJ -> qj, Jae-sung -> js)."""
    # one pass: a letter and the lowercase letters after it -> the letter; other characters than letters deleted
    return f"lower(regexp_replace({given}, '([A-Za-z])[a-z]+|[^A-Za-z]+', '\\1', 'g'))"


def _surname(word: str) -> str:
    """``authors.surname_key`` of one regular surname word."""
    return f"lower(replace(replace({word}, '-', ''), {_APOS}, ''))"


# Regular author-list shapes (full matches). A surname: a capitalised word with a lowercase letter,
# maybe hyphenated or with an apostrophe (McCann, O'Donnell, Fremeaux-Bacchi); a given-name token:
# Jean, J., J, JR, M.R., Jean-Luc, J.-P., Jae-sung
_SURNAME = r"(?:[A-Z][a-z][A-Za-z]*(?:['-][A-Z]?[a-z]+)*|[A-Z]'[A-Z][a-z]+(?:-[A-Z][a-z]+)*)"
_GTOK = r"(?:[A-Z](?:[a-z]+|\.)?(?:-[A-Z](?:[a-z]+|\.)?|-[a-z]+)?|(?:[A-Z]\.){2,4}|[A-Z]{2,3})"
_NAME_LF = rf"{_SURNAME}(?:, {_GTOK}(?: {_GTOK}){{0,3}})?"
_NAME_FL = rf"(?:{_GTOK} ){{1,3}}{_SURNAME}"
_GLUED_GROUP = rf"{_SURNAME} (?:[A-Z]\. ?)*[A-Z]\."
# "Last, First and Last, F." / "Last, First; Last, F." (a name may lack its given names: "Hardaway and Scamell")
AUTHORS_BIBTEX_SQL = rf"{_NAME_LF}(?: and {_NAME_LF})*|{_NAME_LF}(?:; {_NAME_LF})+"
# "First Last": one name of two or three words, or several of two to four words joined by ', ', '; ',
# ' and ' or ', and '
AUTHORS_DBLP_SQL = rf"(?:{_GTOK} ){{1,2}}{_SURNAME}|{_NAME_FL}(?:(?:, and |, | and |; ){_NAME_FL})+"
# PubMed "Karpman D, Tati RA"
AUTHORS_PUBMED_SQL = rf"{_SURNAME} [A-Z]{{1,3}}(?:, {_SURNAME} [A-Z]{{1,3}})*"
# glued export form "Adeli K.Lewis G. F." (also with a space between the names)
AUTHORS_GLUED_SQL = rf"{_GLUED_GROUP}(?: ?{_GLUED_GROUP})+"
# Names written one after the other without separators, four words or more ("Yuri Calleo Anat Eyal",
# "M. Carey J. Tygar Elisa Bertino"): ``split_names`` reads them as one person (surname the last word, the
# other words given names), or, when every word is a capitalised lowercase word, their number even and they
# are six or more or all pinyin, as pairs "Given Surname" (``authors._split_spaced``).
AUTHORS_SPACED_SQL = rf"(?:{_GTOK} ){{3,}}{_SURNAME}"
AUTHORS_PAIRS_SQL = r"[A-Z][a-z]+ [A-Z][a-z]+(?: [A-Z][a-z]+ [A-Z][a-z]+)+"
AUTHORS_PINYIN_SQL = rf"{PINYIN_WORD_RE}(?: {PINYIN_WORD_RE})*"  # of the lowercased list
# words that make every name list irregular: suffixes (dropped by Python wherever they stand), et al., and
# "And"/"AND" (a separator for Python, a name for the shapes above)
_AUTHOR_STOP = sorted(w for w in SUFFIXES | {"others", "et"} if w.isalpha())
AUTHORS_ROUTE_SQL = r"\b(?i:" + "|".join(_AUTHOR_STOP) + r")\b|\b(?:A[nN][dD]|a(?:N[dD]|nD))\b"
# particles and titles change only names written "First Last" (``parse_name``: a title first of three words or
# more is dropped, particles before the last word join the surname), and only as whole words (Python compares
# space-separated words: "Al-Khalifa" is no particle): the DBLP and spaced shapes route them. In the
# "Last, First", PubMed and glued shapes they are harmless: a one-word surname that is a particle is its own
# key (``surname_key``), initials keep them, and a PubMed name has two words.
_AUTHOR_NAME_WORDS = sorted(w for w in PARTICLES | TITLES if w.isalpha())
AUTHORS_NAME_WORDS_SQL = r"(?:^| )(?i:" + "|".join(_AUTHOR_NAME_WORDS) + r")(?:$|[ ,;])"

_DOI_SQL = r"(?i)(?:https?://(?:dx\.)?doi\.org/|doi:\s?)?10\.\d{4,9}(?:\.\d+)*/[A-Za-z0-9._;()/:-]*[A-Za-z0-9]"
_DOI_ROUTE_SQL = (r"(?i)10\.\d.*(?:https?:|doi|arxiv|pmid|pmcid|isbn|issn|url)|10\.48550/"
                  r"|(?:/(?:full|abstract|epdf|pdf|fulltext|meta|html|suppinfo|pdfdirect)|\.pdf)$")
_ARXIV_ID_SQL = r"(?i)(?:arxiv:)?(\d{4}\.\d{4,5})(v\d+)?"
_ARXIV_ANY_SQL = r"(?i)arxiv|\d{4}\.\d{4,5}|[a-z][a-z-]+(?:\.[a-z]{2})?/\d{7}"
_URL_SQL = r"https?://[A-Za-z0-9.-]+(?:/[A-Za-z0-9._~/:@!$*+=-]*)?"
_URL_WORDS_SQL = r"(?i)doi|arxiv|github|gitlab|bitbucket|codeberg|sourceforge"
# a token Python's normalise_url drops (no scheme, no www.): "nttps://gtutub.com/wukekever/fandscapes"
_URL_START_SQL = r"(?i)^[<>\"'()\[\]{}]*(?:https?://|ftp://|www\.)"
_ARXIV_URL_SQL = r"https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})(v\d+)?(?:\.pdf)?/?"
_DOI_URL_SQL = r"https?://(?:www\.|dx\.)?doi\.org/(10\.\d{4,9}(?:\.\d+)*/[A-Za-z0-9._;()/:-]*[A-Za-z0-9])"
_REPO_URL_SQL = r"https?://(?:www\.)?(?:github\.com|gitlab\.com|bitbucket\.org|codeberg\.org|sourceforge\.net)(?:/.*)?"
_HOST_SQL = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}"


def _arxiv_valid(x: str) -> str:
    """``identifiers._valid_new_arxiv`` of a 'dddd.ddddd' string."""
    return (f"coalesce(TRY_CAST(substr({x}, 3, 2) AS INTEGER) BETWEEN 1 AND 12 AND TRY_CAST(substr({x}, 1, 2) AS INTEGER) >= 7 "
            f"AND CASE WHEN length({x}) = 10 THEN TRY_CAST(substr({x}, 1, 4) AS INTEGER) >= 1501 "
            f"ELSE TRY_CAST(substr({x}, 1, 4) AS INTEGER) <= 1412 END, false)")


def _alternation(words) -> str:
    return "|".join(sorted(words, key=lambda w: (-len(w), w)))


def _query() -> str:
    generic = _q("(?:" + _alternation(GENERIC_TITLES) + r")(?: \d+)?")
    prefixes = _q("^(?:" + _alternation(_GENERIC_PREFIXES) + ") ")
    sur_last = _surname("x[length(x) - strpos(reverse(x), ' ') + 2:]")
    ini_first = _initials("x[:length(x) - strpos(reverse(x), ' ')]")
    ini_after_space = _initials("x[strpos(x, ' ') + 1:]")
    # abstract.clean_abstract_plain, step by step: the two leading steps where the leading hint matches, the two
    # trailing ones where the trailing hint does
    lead = "abstract"
    for pattern, repl in ABSTRACT_STEPS_SQL[:2]:
        lead = f"regexp_replace({lead}, {_q(pattern)}, {_q(repl)})"
    lead = f"CASE WHEN regexp_matches(abstract, {_q(ABSTRACT_LEAD_HINT_SQL)}) THEN {lead} ELSE abstract END"
    tail = lead
    for pattern, repl in ABSTRACT_STEPS_SQL[2:]:
        tail = f"regexp_replace({tail}, {_q(pattern)}, {_q(repl)})"
    abs_clean = f"CASE WHEN regexp_matches(abstract, {_q(ABSTRACT_TAIL_HINT_SQL)}) THEN {tail} ELSE {lead} END"
    # DOIs whose only irregularity is a %2F escape, one trailing full stop or a glued "PMID:123" are read in
    # SQL too: ``normalise_doi`` URL-decodes, strips trailing punctuation and cuts at "pmid:" (after a non-letter),
    # which leaves exactly the regular DOI below (checked by the same two patterns as every other DOI).
    doi_c = ("CASE WHEN contains(doi, '%') THEN CASE WHEN regexp_full_match(doi, '[^%]*(?:%2[Ff][^%]*)+') "
             "THEN replace(replace(doi, '%2F', '/'), '%2f', '/') END "
             "WHEN regexp_matches(doi, '[A-Za-z0-9]\\.$') THEN left(doi, length(doi) - 1) "
             "WHEN contains(doi, 'PMID:') THEN nullif(regexp_extract(doi, '^(.*[0-9])PMID:[0-9]+$', 1), '') END")
    return f"""
WITH s0 AS (
  SELECT * REPLACE (CASE WHEN dc IS NOT NULL AND regexp_full_match(dc, {_q(_DOI_SQL)})
                          AND NOT regexp_matches(dc, {_q(_DOI_ROUTE_SQL)}) THEN dc ELSE doi END AS doi)
  FROM (SELECT *, {doi_c} AS dc FROM t)
), s1 AS (
  SELECT
    row_id,
    -- title: plain folding unless a noise prefix/suffix may be present (then Python)
    NOT {_blank_ascii('title')} AS t_has,
    regexp_matches(coalesce(title, ''), {_q(TITLE_NOISE_HINT_SQL)}) AS t_hint,
    -- authors: a trailing "et al." dropped, then one of the regular layouts
    NOT {_blank_ascii('authors')} AS a_has,
    regexp_replace(authors, ',? et al\\.?$', '') AS a0,
    -- identifiers
    NOT {_blank('doi')} AS d_has,
    regexp_full_match(coalesce(doi, ''), {_q(_DOI_SQL)}) AND NOT regexp_matches(coalesce(doi, ''),
      {_q(_DOI_ROUTE_SQL)}) AS d_ok,
    lower(regexp_extract(doi, '(10\\.\\d{{4,9}}(?:\\.\\d+)*/.*)$', 1)) AS d_norm,
    NOT {_blank('arxiv')} AS x_has,
    regexp_full_match(coalesce(arxiv, ''), {_q(_ARXIV_ID_SQL)}) AS x_shape,
    regexp_extract(arxiv, '(\\d{{4}}\\.\\d{{4,5}})', 1) AS x_num,
    nullif(regexp_extract(arxiv, '(v\\d+)$', 1), '') AS x_ver,
    NOT {_blank('urls')} AS u_has,
    regexp_full_match(coalesce(urls, ''), '[^ |;,%]+(?: [^ |;,%]+)*') AS u_shape,
    urls,
    coalesce(regexp_matches(rid, {_q(_ARXIV_ANY_SQL)}), false)
      OR coalesce(contains(lower(volume), 'abs/'), false)
      OR coalesce(regexp_matches(venue, '(?i)arxiv|corr'), false) AS x_elsewhere,
    -- pmid, pages
    NOT {_blank('pmid')} AS p_has,
    regexp_full_match(coalesce(pmid, ''), '\\d{{1,9}}') AS p_ok,
    pmid,
    NOT {_blank('pages')} AS g_has,
    NOT {_blank('fpage')} OR NOT {_blank('lpage')} AS g_fl,
    regexp_extract(pages, '^(\\d{{1,6}})(?:-{{1,2}}(\\d{{1,6}}))?$', ['a', 'b']) AS g_ab,
    -- abstract: plain folding unless an id token, a label or a copyright line may be present
    NOT {_blank_ascii('abstract')} AS b_has,
    b_ascii, title, abstract
  FROM s0
), s2 AS (
  SELECT *,
    CASE WHEN t_has AND NOT t_hint THEN {_words('title')} END AS t_w,
    CASE WHEN b_has AND NOT b_ascii THEN
      trim(regexp_replace(replace(lower({abs_clean}), {_APOS}, ''), '[^0-9a-z]+', ' ', 'g')) END AS b_norm,
    -- ASCII abstracts are folded in Python (``_fold_ascii``: two C byte operations, cheaper than the regex)
    CASE WHEN b_has AND b_ascii THEN {abs_clean} END AS b_clean,
    a_has AND NOT regexp_matches(a0, {_q(AUTHORS_ROUTE_SQL)}) AS a_ok,
    NOT regexp_matches(a0, {_q(AUTHORS_NAME_WORDS_SQL)}) AS a_fl_ok,
    ltrim(g_ab.a, '0') AS g_a0, ltrim(g_ab.b, '0') AS g_b0,
    CASE WHEN u_has AND u_shape THEN list_transform(string_split(urls, ' '), lambda u: struct_pack(
      url := regexp_full_match(u, {_q(_URL_SQL)}),
      junk := NOT regexp_matches(u, {_q(_URL_START_SQL)}) AND NOT regexp_matches(u, {_q(_URL_WORDS_SQL)})
              AND NOT regexp_matches(u, {_q(_ARXIV_ANY_SQL)}),
      arx := regexp_extract(u, {_q('^' + _ARXIV_URL_SQL + '$')}, ['id', 'v']),
      doi := lower(regexp_extract(u, {_q('^' + _DOI_URL_SQL + '$')}, 1)),
      repo := regexp_full_match(u, {_q(_REPO_URL_SQL)}),
      word := regexp_matches(u, {_q(_URL_WORDS_SQL)}),
      host := regexp_replace(lower(regexp_extract(u, '^https?://([^/]+)', 1)), '^www\\.', ''),
      path := regexp_replace(regexp_extract(u, '^https?://[^/]+(/.*)?$', 1), '/+$', ''))) END AS u_raw
  FROM s1
), s3 AS (
  SELECT *,
    CASE WHEN NOT a_ok THEN NULL
         WHEN regexp_full_match(a0, {_q(AUTHORS_BIBTEX_SQL)}) THEN 1
         WHEN a_fl_ok AND regexp_full_match(a0, {_q(AUTHORS_DBLP_SQL)}) THEN 2
         WHEN regexp_full_match(a0, {_q(AUTHORS_PUBMED_SQL)}) THEN 3
         WHEN regexp_full_match(a0, {_q(AUTHORS_GLUED_SQL)}) THEN 4
         WHEN a_fl_ok AND regexp_full_match(a0, {_q(AUTHORS_SPACED_SQL)}) THEN
           CASE WHEN regexp_full_match(a0, {_q(AUTHORS_PAIRS_SQL)}) AND (regexp_matches(a0, '(?: [^ ]+){{5}}')
                     OR regexp_full_match(lower(a0), {_q(AUTHORS_PINYIN_SQL)})) THEN 6 ELSE 5 END END AS a_shape,
    list_transform(u_raw, lambda x: struct_pack(
      arx := CASE WHEN x.arx.id <> '' AND {_arxiv_valid('x.arx.id')} THEN x.arx.id END,
      ver := nullif(x.arx.v, ''),
      doi := CASE WHEN x.doi <> '' AND NOT regexp_matches(x.doi, {_q(_DOI_ROUTE_SQL)}) THEN x.doi END,
      repo := x.repo AND NOT regexp_matches(x.path, '(?i)doi|arxiv'),
      url := x.url, junk := x.junk, word := x.word, host := x.host, path := x.path)) AS u_cls,
    CASE WHEN array_to_string(t_w, ' ') NOT IN {_in_list(FOLDED_BLANKS | {''})} THEN array_to_string(t_w, ' ') END
      AS title_norm,
    CASE WHEN g_a0 = '' THEN '0' ELSE g_a0 END AS g_fp,
    CASE WHEN g_b0 = '' THEN '0' ELSE g_b0 END AS g_lp0
  FROM s2
), s4 AS (
  SELECT *,
    CASE a_shape WHEN 1 THEN regexp_split_to_array(a0, ' and |; ')
                 WHEN 2 THEN regexp_split_to_array(a0, ', and | and |, |; ')
                 WHEN 3 THEN string_split(a0, ', ')
                 WHEN 4 THEN list_transform(regexp_extract_all(a0, {_q(_GLUED_GROUP)}), lambda x: trim(x))
                 WHEN 5 THEN [a0]
                 WHEN 6 THEN regexp_extract_all(a0, '[A-Z][a-z]+ [A-Z][a-z]+')
    END AS a_names,
    regexp_extract_all(title_norm, '\\b\\d+\\b') AS t_n
  FROM s3
), s5 AS (
  SELECT *,
    CASE WHEN a_shape = 1 THEN list_transform(a_names, lambda x: {_surname("split_part(x, ', ', 1)")})
         WHEN a_shape IN (2, 5, 6) THEN list_transform(a_names, lambda x: {sur_last})
         ELSE list_transform(a_names, lambda x: {_surname("split_part(x, ' ', 1)")}) END AS a_surn,
    CASE WHEN a_shape = 1 THEN list_transform(a_names, lambda x: {_initials("split_part(x, ', ', 2)")})
         WHEN a_shape IN (2, 5, 6) THEN list_transform(a_names, lambda x: {ini_first})
         ELSE list_transform(a_names, lambda x: {ini_after_space}) END AS a_init
  FROM s4
)
SELECT
  row_id,
  -- title
  t_has AND t_hint AS t_route,
  title_norm,
  replace(title_norm, ' ', '') AS title_key,
  -- the words, for the title tokens (sorted distinct content words: ``_sorted_tokens_arrow`` after the query)
  t_w AS title_words,
  -- the numbers written in the title, sorted (``title_numbers``; RE2's \\b is Python's on [0-9a-z ])
  CASE WHEN len(t_n) > 0 THEN list_sort(t_n) END AS title_numbers,
  CASE WHEN len(t_w) <= 8 THEN coalesce(regexp_full_match(title_norm, {generic})
       OR (len(t_w) <= 4 AND regexp_matches(title_norm, {prefixes})), false) ELSE false END AS title_generic,
  -- authors
  a_has AND a_shape IS NULL AS a_route,
  a_surn AS author_surnames,
  a_surn[1] AS first_author,
  a_init AS author_initials,
  len(a_surn) AS author_count,
  array_to_string(list_transform(a_surn, lambda s, i: trim(s || ' ' || a_init[i])), '; ') AS authors_norm,
  -- identifiers: doi, arxiv id, urls, code repository. Each URL is an arXiv abs/pdf URL, a doi.org URL, a
  -- code-hosting URL or a plain one (no DOI/arXiv/code-host word); anything else takes the Python path.
  (d_has AND NOT d_ok) OR (x_has AND NOT (x_shape AND {_arxiv_valid('x_num')}))
    OR (u_has AND NOT (u_shape AND list_bool_and(list_transform(u_cls, lambda x: x.junk OR (x.url
          AND (x.arx IS NOT NULL OR x.doi IS NOT NULL OR x.repo OR NOT x.word)
          AND regexp_full_match(x.host, {_q(_HOST_SQL)}))))))
    OR (NOT x_has AND x_elsewhere AND coalesce(len(list_filter(u_cls, lambda x: x.arx IS NOT NULL)), 0) = 0)
    AS i_route,
  CASE WHEN d_has THEN d_norm ELSE list_filter(u_cls, lambda x: x.doi IS NOT NULL)[1].doi END AS doi_norm,
  CASE WHEN x_has THEN x_num ELSE list_filter(u_cls, lambda x: x.arx IS NOT NULL)[1].arx END AS arxiv_id_norm,
  CASE WHEN x_has THEN x_ver ELSE list_filter(u_cls, lambda x: x.arx IS NOT NULL)[1].ver END AS arxiv_version,
  {_nz_list("list_sort(list_distinct(list_transform(list_filter(u_cls, lambda x: NOT x.junk), lambda x: "
            "CASE WHEN x.arx IS NOT NULL THEN 'arxiv.org/abs/' || x.arx WHEN x.doi IS NOT NULL THEN 'doi.org/' || x.doi "
            "ELSE x.host || x.path END)))")} AS urls_norm,
  list_min(list_transform(list_filter(u_cls, lambda x: x.repo AND split_part(x.path, '/', 2) <> ''
      AND split_part(x.path, '/', 3) <> '' AND lower(split_part(x.path, '/', 2)) NOT IN {_in_list(REPO_NOT_OWNER)}),
      lambda x: x.host || '/' || lower(split_part(x.path, '/', 2)) || '/'
                || regexp_replace(lower(split_part(x.path, '/', 3)), '\\.git$', ''))) AS repo_url,
  -- pmid
  p_has AND NOT p_ok AS p_route,
  CASE WHEN p_has THEN nullif(ltrim(pmid, '0'), '') END AS pmid_norm,
  -- pages
  g_fl OR (g_has AND g_ab.a = '') AS g_route,
  CASE WHEN g_has THEN g_fp END AS page_first,
  CASE WHEN g_has AND g_ab.b <> '' THEN CASE WHEN length(g_lp0) < length(g_fp)
       THEN left(g_fp, length(g_fp) - length(g_lp0)) || g_lp0 ELSE g_lp0 END END AS page_last,
  -- abstract
  CASE WHEN length(b_norm) >= {MIN_ABSTRACT_CHARS} THEN b_norm END AS abstract_norm,
  b_clean
FROM s5
"""


# ---------------------------------------------------------------------------------------- helpers

def _type_ids(values: np.ndarray) -> np.ndarray:
    """The identity of every cell's type (compare with ``id(str)``...), computed in C loops."""
    return np.fromiter(map(id, map(type, values)), dtype=np.int64, count=len(values))


def _objects(frame: pd.DataFrame, mapping: dict[str, str], field: str, n: int) -> np.ndarray:
    c = mapping.get(field)
    if c is None or c not in frame.columns:
        return np.full(n, None, dtype=object)
    return frame[c].to_numpy(dtype=object, na_value=None)


def _cell_text(v) -> str | None:
    """A cell as the string SQL sees; None for blanks and for cells that are not text."""
    if isinstance(v, str):
        return v
    if v is None or isinstance(v, (list, tuple, dict, bool)):
        return None
    if isinstance(v, float):
        return None if v != v else as_text(v)
    if isinstance(v, (int, np.integer)):
        return str(v)
    return None


def _sql_strings(values: np.ndarray, join: Callable[[list], str | None] | None = None,
                 prep: bool = False, cache: dict | None = None) -> tuple[pa.Array, np.ndarray]:
    """(Arrow strings SQL works on, mask of cells only Python can read: lists not joined, dicts, dates)."""
    n = len(values)
    odd = np.zeros(n, dtype=bool)
    texts = values
    try:
        arr = pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # cells that are not strings (lists, numbers, dicts...): found by type in a C loop, converted one by one
        kinds = _type_ids(values)
        other = np.flatnonzero((kinds != id(str)) & (kinds != id(type(None))))
        texts = values.copy()
        for i in other.tolist():
            v = values[i]
            if isinstance(v, str):
                continue
            if isinstance(v, (list, tuple)):
                j = join(list(v)) if join is not None else None
            else:
                j = _cell_text(v)
            if j is None:
                odd[i] = True
            texts[i] = j
        arr = pa.array(texts, type=pa.string(), from_pandas=True)
    if prep:
        arr = _prep_array(arr, cache, texts)
    return arr, odd


# printable ASCII without the markup characters & < \ $ { (``text.is_plain``), as one RE2 class
_PLAIN_CLASS = r" -#%'-;=-\[\]-z|}~"
def _prep_array(arr: pa.Array, cache: dict | None = None, texts: np.ndarray | None = None) -> pa.Array:
    """``prep_text`` over a column, blanks to null.

    Plain values stay; values without markup or possible mojibake (``text.NOT_SIMPLE_TEXT_RE2``, tested over the
    column at once) whose non-ASCII characters all transliterate alone (accented letters, Greek, curly quotes,
    dashes, no-break spaces...) get one ``str.translate`` (``text.prep_translit``); the rest go through
    ``prep_text`` once per distinct value. ``texts``: the same column as Python strings (or None), when
    the caller has them: the values to fix are then taken from it and the column rebuilt from it, cheaper than
    Arrow's take and replace of long strings.
    """
    plain = pc.fill_null(pc.match_substring_regex(arr, "^[" + _PLAIN_CLASS + "]*$"), True)
    not_plain = pc.invert(plain)
    if not pc.any(not_plain).as_py():
        return arr
    idx = np.flatnonzero(not_plain.to_numpy(zero_copy_only=False))
    if texts is None:
        texts = arr.to_numpy(zero_copy_only=False)
    vals = texts[idx].tolist()  # (not plain, so not null)
    # values without markup, without possible mojibake, whose other characters transliterate alone
    simple = pc.invert(pc.match_substring_regex(pa.array(vals, type=pa.string()), NOT_SIMPLE_TEXT_RE2))
    cache = {} if cache is None else cache  # prep_text results, maybe kept across chunks
    rep = []
    for v, sim in zip(vals, simple.to_numpy(zero_copy_only=False).tolist(), strict=True):
        if sim:
            rep.append(None if is_blank(v) else prep_translit(v))
            continue
        r = cache.get(v, cache)
        if r is cache:
            r = cache[v] = None if is_blank(v) else prep_text(v)
        rep.append(r)
    out = texts.copy()
    out[idx] = rep
    return pa.array(out, type=pa.string(), from_pandas=True)


def _join_names(items: list) -> str | None:
    """A list of author names as one string SQL may parse: ', ' between 'First Last' names, ' and ' between
    'Last, First' names. Only when every item is ASCII text, or text whose ``prep_text`` is plain (``split_names``
    prepares every item of a list first: the list of prepared items reads the same); SQL still checks the layout."""
    if not items or not all(isinstance(x, str) and x for x in items):
        return None
    if not all(x.isascii() for x in items):
        items = [x if x.isascii() else prep_text(x) for x in items]
        if not all(x and is_plain(x) for x in items):
            return None
    return (" and " if any("," in x for x in items) else ", ").join(items)


def _join_space(items: list) -> str | None:
    if not all(isinstance(x, str) for x in items):
        return None
    return " ".join(items)


def _join_semicolon(items: list) -> str | None:
    return as_text(items) if all(isinstance(x, str) for x in items) else None


def _hashable(values: np.ndarray) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        if isinstance(v, list):
            out[i] = ("\x00list",) + tuple(_hashable(np.array(v, dtype=object)).tolist())
        elif isinstance(v, dict):
            out[i] = ("\x00dict", repr(sorted(v.items(), key=repr)))
        else:
            out[i] = v
    return out


def _codes(values: np.ndarray) -> np.ndarray:
    try:
        codes, _ = pd.factorize(values, use_na_sentinel=True)
    except TypeError:
        codes, _ = pd.factorize(_hashable(values), use_na_sentinel=True)
    return codes.astype(np.int64) + 1


def _groups(arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(first row of each distinct combination, group number of every row) over several columns."""
    combined = _codes(arrays[0])
    for a in arrays[1:]:
        c = _codes(a)
        combined = pd.factorize(combined * (int(c.max()) + 1) + c)[0].astype(np.int64)
    _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    return first, inverse


class _Mapped:
    """Results of a per-distinct-value function: ``rows``, their group numbers, one result per group."""

    def __init__(self, rows: np.ndarray, inverse: np.ndarray, results: list[dict], calls: int = 0):
        self.rows, self.inverse, self.results, self.calls = rows, inverse, results, calls


def _py_map(fn: Callable, arrays: Sequence[np.ndarray], rows: np.ndarray | None = None,
            memo: dict | None = None) -> _Mapped:
    """Apply ``fn`` once per distinct combination of ``arrays`` over ``rows`` (all rows when None).

    ``memo`` (a dict kept across chunks of one table) remembers results of hashable inputs."""
    if rows is None:
        rows = np.arange(len(arrays[0]))
    if len(rows) == 0:
        return _Mapped(rows, rows, [])
    sub = [a[rows] for a in arrays]
    first, inverse = _groups(sub)
    results = []
    calls = 0
    # the arguments of each group, as tuples made by zip (C) from one list per column
    for args in zip(*(a[first].tolist() for a in sub), strict=True):
        if memo is None:
            results.append(fn(*args))
            calls += 1
            continue
        try:
            r = memo.get(args)
        except TypeError:  # a list or dict cell
            results.append(fn(*args))
            calls += 1
            continue
        if r is None:
            r = memo[args] = fn(*args)
            calls += 1
        results.append(r)
    return _Mapped(rows, inverse, results, calls)


_SQL_OUTPUTS = ("title_norm", "title_key", "title_tokens", "title_generic", "title_numbers", *AUTHOR_COLUMNS, "doi_norm",
                "arxiv_id_norm", "arxiv_version", "urls_norm", "repo_url", "pmid_norm", "page_first", "page_last",
                "abstract_norm")
_FEW_DISTINCT = frozenset({"first_author", "arxiv_version", "page_first", "page_last", "title_generic"})
_SQL_FLAGS = ("t_route", "a_route", "i_route", "p_route", "g_route")


def _set(res: dict[str, np.ndarray], m: _Mapped, keys: Sequence[str], stats: dict | None = None) -> None:
    """Write the mapped results into the output columns at their rows (list columns: queued as patches of
    their Arrow column, see ``_patched``). ``stats[field]``: (rows, distinct values per chunk, Python calls)."""
    if stats is not None:
        name = keys[0] if len(keys) == 1 else keys[0].split("_")[0]
        rows, distinct, calls = stats.get(name, (0, 0, 0))
        stats[name] = (rows + len(m.rows), distinct + len(m.results), calls + m.calls)
    if len(m.rows) == 0:
        return
    for k in keys:
        # one value per group (fromiter stores each as one object: a list result stays one cell)
        per_group = np.fromiter(map(itemgetter(k), m.results), dtype=object, count=len(m.results))
        if k in LIST_COLUMNS:
            res.setdefault("_patches", {}).setdefault(k, []).append((m.rows, per_group[m.inverse]))
        else:
            res[k][m.rows] = per_group[m.inverse]


LIST_TYPE = pa.list_(pa.string())
# list outputs stay Arrow arrays (pandas ``ArrowDtype`` columns): millions of Python lists cost time and memory
LIST_COLUMNS = frozenset({"title_tokens", "author_surnames", "author_initials", "urls_norm", "abstract_tokens",
                          "title_numbers"})


def _patched(arr: pa.Array, patches: list[tuple[np.ndarray, np.ndarray]]) -> pa.Array:
    """``arr`` with the Python results of ``patches`` ((rows, one list or None per row), later ones win)."""
    if not patches:
        return arr
    idx = np.arange(len(arr), dtype=np.int64)
    extra: list = []
    for rows, vals in patches:
        idx[rows] = len(arr) + len(extra) + np.arange(len(rows))
        extra.extend(vals.tolist())
    return pa.concat_arrays([arr, pa.array(extra, type=LIST_TYPE)]).take(pa.array(idx))


# ``text.fold_fixed`` of ASCII text as one byte translation: letters lowercased, apostrophes kept (deleted next),
# every other byte but 0-9a-z a space
_FOLD_TABLE = bytes(c + 32 if 65 <= c <= 90 else c if 48 <= c <= 57 or 97 <= c <= 122 or c == 39 else 32
                    for c in range(256))


def _fold_ascii(clean: pa.Array) -> tuple[pa.Array, pa.Array]:
    """The SQL fold of ASCII abstracts (``b_norm`` in the query: lowercased, apostrophes deleted, runs of other
    characters than 0-9a-z one space, trimmed) and the length rule of ``abstract_norm``; and their words.

    The whole column's bytes are translated at once (one ``bytes.translate`` of its data buffer: the offsets do
    not move), then Arrow deletes the apostrophes and splits and re-joins the words (without the GIL)."""
    clean = clean.cast(pa.string())
    validity, offsets, data = clean.buffers()
    if len(clean) == 0 or data is None or clean.null_count == len(clean):
        return pa.nulls(len(clean), pa.string()), pa.nulls(len(clean), LIST_TYPE)
    folded = pa.py_buffer(data.to_pybytes().translate(_FOLD_TABLE))
    arr = pa.StringArray.from_buffers(len(clean), offsets, folded, validity, clean.null_count, clean.offset)
    trimmed = pc.ascii_trim_whitespace(pc.replace_substring(arr, "'", ""))
    words = pc.ascii_split_whitespace(trimmed)
    joined = pc.binary_join(words, " ")
    short = pc.fill_null(pc.less(pc.binary_length(joined), MIN_ABSTRACT_CHARS), True)
    # the words of each kept abstract (null where the abstract is dropped): what its tokens are made of
    words = pa.ListArray.from_arrays(words.offsets, words.values, type=LIST_TYPE, mask=short)
    return pc.if_else(short, pa.scalar(None, pa.string()), joined), words


def _abstract_tokens_arrow(norm: pa.Array, words: pa.Array | None = None) -> pa.Array:
    """``abstract.abstract_tokens`` over a column of folded abstracts (single spaces between words)."""
    parts = pc.ascii_split_whitespace(norm) if words is None else words  # ``words``: that split, made already
    return _sorted_tokens_arrow(parts, 3, ABSTRACT_STOP_WORDS, ABSTRACT_TOKEN_LIMIT)


def _title_tokens_arrow(words: pa.Array, title_norm: pa.Array) -> pa.Array:
    """``title.title_tokens`` of the titles SQL folded, from their words (null where ``title_norm`` is)."""
    return _sorted_tokens_arrow(words.cast(LIST_TYPE), 2, STOP_WORDS, None,
                                null=pc.is_null(title_norm).to_numpy(zero_copy_only=False))


def _sorted_tokens_arrow(parts: pa.Array, min_len: int, stop: frozenset[str], limit: int | None,
                         null: np.ndarray | None = None) -> pa.Array:
    """Per row of a list column of words, the distinct words of ``min_len`` characters or more that are not in
    ``stop``, sorted (Python's string order), the first ``limit`` of them (all when None); null where none are left
    (or ``null`` is set), vectorised: words are ranked once per distinct word, then the distinct (row, rank) pairs are
    sorted by numpy."""
    n = len(parts)
    lengths = pc.fill_null(pc.list_value_length(parts), 0).to_numpy(zero_copy_only=False)
    rows = np.repeat(np.arange(n, dtype=np.int32), lengths)
    enc = pc.dictionary_encode(pc.list_flatten(parts))
    vocab = enc.dictionary.to_pylist()
    v = len(vocab)
    if v == 0:
        return pa.nulls(n, LIST_TYPE)
    order = sorted(range(v), key=vocab.__getitem__)
    rank = np.empty(v, dtype=np.int64)
    rank[order] = np.arange(v)
    keep = np.fromiter((len(w) >= min_len and w not in stop for w in vocab), bool, v)
    idx = enc.indices.to_numpy(zero_copy_only=False)
    sel = keep[idx]
    key = np.sort(rows[sel].astype(np.int64) * v + rank[idx[sel]])  # (np.unique is much slower here)
    key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key
    row, r = key // v, key % v
    if len(row) and limit is not None:
        start = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
        pos = np.arange(len(row)) - np.repeat(start, np.diff(np.r_[start, len(row)]))
        within = pos < limit
        row, r = row[within], r[within]
    counts = np.bincount(row, minlength=n)
    if null is not None and null.any():  # rows forced to null keep no tokens
        drop = null[row]
        row, r = row[~drop], r[~drop]
        counts[null] = 0
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    values = enc.dictionary.take(pa.array(np.asarray(order, dtype=np.int64)[r]))
    return pa.ListArray.from_arrays(pa.array(offsets), values, type=LIST_TYPE, mask=pa.array(counts == 0))


# ------------------------------------------------------------------------------------------ main

CHUNK_ROWS = 100_000  # two chunks in flight (query + Python): 1M records stay under 4 GB
# Tables of at least PROCESS_MIN_ROWS rows, on machines with at least PROCESS_MIN_CORES cores, are normalised by
# worker processes (one per core, at most MAX_WORKERS), PROCESS_CHUNK_ROWS rows at a time; others in this process
# (no start-up cost). The in-process path already keeps two cores busy (DuckDB thread + Python); the process
# path costs ~40% more CPU (pickled chunks and results, interpreter start-up: 63 vs 46 CPU-s at 1M records),
# so on two cores it is slower (measured: 69 s vs 37 s at 1M, load 3-4) and only pays with more cores.
PROCESS_MIN_ROWS = 200_000
QUERY_THREADS = 1  # DuckDB threads of the query of one chunk (see _run_sql)
TOKENS_IN_QUERY_THREAD = False  # abstract tokens computed in the query's thread (else in the main thread)
# ... but for a table's last chunk, whose tokens the query's thread computes (they then overlap the main thread's work
# on the chunk before), and the chunks after which the main thread has been the busier (``_tokens_in_query``).
# Measured at 1M records, load ~1.5: also every 4th chunk made the query's thread the busier (main 16.4, query 18.0
# CPU-s, 49.6k records/s); the last chunk alone balances them (16.6 / 16.8 CPU-s, 52.1k records/s).
TOKENS_BALANCE = True
PROCESS_CHUNK_ROWS = 25_000
MAX_WORKERS = 4
PROCESS_MIN_CORES = 3


def _worker_count() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS))


def normalise_table(frame: pd.DataFrame, mapping: dict[str, str], stats: dict | None = None,
                    processes: bool | None = None) -> pd.DataFrame:
    """``normalise_frame``: same columns and values as ``normalise_record`` on every row.

    Large tables go in chunks of ``CHUNK_ROWS`` rows (bounded memory); results of the low-cardinality fields
    are remembered across chunks. Tables of ``PROCESS_MIN_ROWS`` rows or more are spread over worker
    processes (``processes=False`` forbids it, ``True`` forces it); the result is the same, in the same order.
    ``stats``, when given, receives how many rows each field group sent to Python, how many distinct values
    that took, and seconds/resident memory per stage (for the benchmark).
    """
    n = len(frame)
    if processes is None:
        processes = n >= PROCESS_MIN_ROWS and _worker_count() >= PROCESS_MIN_CORES
    if processes and n > 0:
        return _normalise_in_processes(frame, mapping, stats)
    return _normalise_here(frame, mapping, stats)


def _chunk_bounds(n: int, size: int) -> list[tuple[int, int]]:
    """Row ranges of the pipeline's chunks: ``size`` rows, but a quarter of that for the first and the last.

    The first chunk's preparation and the last chunk's Python work run alone (nothing to overlap with), so
    small end chunks shorten the time only one core works."""
    if n <= size:
        return [(0, n)]
    edge = max(size // 4, 1)
    cuts = [0, edge]
    while n - cuts[-1] > size + edge:
        cuts.append(cuts[-1] + size)
    if n - cuts[-1] > edge:
        cuts.append(n - edge)
    cuts.append(n)
    return list(zip(cuts[:-1], cuts[1:], strict=False))


def _tokens_in_query(k: int, chunks: int, main_seconds: float = 0.0, query_seconds: float = 0.0) -> bool:
    """Whether the query's thread computes the abstract tokens of chunk ``k`` of ``chunks``: the last one (see
    ``TOKENS_BALANCE``), and also whenever the main thread has taken longer on the chunks both threads have finished (``main_seconds``,
    ``query_seconds``: elapsed, not CPU, seconds, so the query thread's waits for the GIL count), so the tokens go
    where there is room (on a shared machine the balance moves)."""
    if TOKENS_IN_QUERY_THREAD:
        return True
    if TOKENS_BALANCE and main_seconds > query_seconds > 0:
        return True
    return chunks > 1 and k == chunks - 1


def _normalise_here(frame: pd.DataFrame, mapping: dict[str, str], stats: dict | None = None,
                    memos: dict[str, dict] | None = None) -> pd.DataFrame:
    """``normalise_table`` in this process (a DuckDB thread beside the Python work)."""
    from . import NORMALISED_COLUMNS

    n = len(frame)
    if n == 0:
        return pd.DataFrame({c: pd.Series([], dtype=pd.ArrowDtype(LIST_TYPE) if c in LIST_COLUMNS
                                          else object if t != "INTEGER" else "Int64")
                             for c, t in NORMALISED_COLUMNS.items()}, index=frame.index)
    memos = {} if memos is None else memos
    chunks = [frame.iloc[a:b] for a, b in _chunk_bounds(n, CHUNK_ROWS)] if n > CHUNK_ROWS else [frame]
    parts = []
    gc_was_on = gc.isenabled()
    gc.disable()  # millions of small objects: the cyclic collector would rescan them over and over
    _lap(stats, None)
    keep: dict = {}  # one DuckDB connection for all chunks, used by the pool's one thread, one query at a time
    try:
        # a pipeline: DuckDB runs the query of one chunk (in a thread, without the GIL) while Python prepares
        # the next chunk and finishes the previous one
        with ThreadPoolExecutor(max_workers=1) as pool:
            # main-thread seconds per chunk (its preparation and its finish) beside the query thread's (keep["seconds"])
            main_sec: list[float] = []
            c0 = time.perf_counter()
            nxt = _prepare(chunks[0], mapping, stats, memos)
            main_sec.append(time.perf_counter() - c0)
            fut = pool.submit(_run_sql, nxt["table"], stats, keep, _tokens_in_query(0, len(chunks)))
            for k, chunk in enumerate(chunks):
                cur, cur_fut = nxt, fut
                if k + 1 < len(chunks):
                    c0 = time.perf_counter()
                    nxt = _prepare(chunks[k + 1], mapping, stats, memos)
                    main_sec.append(time.perf_counter() - c0)
                    # chunks 0..k-1 are finished by both threads
                    fut = pool.submit(_run_sql, nxt["table"], stats, keep, _tokens_in_query(
                        k + 1, len(chunks), sum(main_sec[:k]), sum(keep.get("seconds", [])[:k])))
                out = cur_fut.result()
                _lap(stats, "sql wait")
                c0 = time.perf_counter()
                parts.append(_finish(chunk, mapping, cur, out, stats, memos))
                main_sec[k] += time.perf_counter() - c0
                chunks[k] = None
    finally:
        if keep.get("con") is not None:
            keep["con"].close()
        if gc_was_on:
            gc.enable()
    return parts[0] if len(parts) == 1 else pd.concat(parts)


# ------------------------------------------------------------------------------- worker processes

_WORKER_MEMOS: dict[str, dict] = {}  # a worker process's memo, kept across the chunks it is given


def _worker_chunk(chunk: pd.DataFrame, mapping: dict[str, str], want_stats: bool) -> tuple[pd.DataFrame, dict]:
    """One chunk in a worker process (its own DuckDB connections, created here)."""
    stats: dict | None = {} if want_stats else None
    t0 = time.process_time()
    out = _normalise_here(chunk, mapping, stats, _WORKER_MEMOS)
    trim_heap()
    if stats is not None:
        stats["_worker_cpu"] = time.process_time() - t0
        stats["_worker_pid"] = os.getpid()
    return out, stats or {}


def trim_heap() -> None:
    """Give the freed heap back to the OS (glibc ``malloc_trim``; glibc keeps it otherwise: RSS would creep)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _merge_stats(into: dict, part: dict) -> None:
    for k, v in part.items():
        if k in ("seconds", "cpu_seconds"):
            d = into.setdefault(k, {})
            for s, x in v.items():
                d[s] = d.get(s, 0.0) + x
        elif k == "rss_mb":
            d = into.setdefault("worker_rss_mb", {})
            for s, x in v.items():
                d[s] = max(d.get(s, 0.0), x)
        elif k == "_worker_cpu":
            into["worker_cpu_seconds"] = into.get("worker_cpu_seconds", 0.0) + v
        elif k == "_worker_pid":
            into.setdefault("worker_pids", set()).add(v)
        elif isinstance(v, tuple):
            old = into.get(k, (0,) * len(v))
            into[k] = tuple(a + b for a, b in zip(old, v, strict=True))


def _normalise_in_processes(frame: pd.DataFrame, mapping: dict[str, str], stats: dict | None) -> pd.DataFrame:
    """Chunks of ``PROCESS_CHUNK_ROWS`` rows normalised by worker processes, results concatenated in order.

    The workers are started with 'spawn' (fresh interpreters: no DuckDB connection or thread of this process is
    inherited) and get only the mapped columns of their chunk. At most two chunks more than workers are in flight, so
    memory stays bounded; every chunk's result is a pure function of its rows, so the output does not depend
    on which worker took which chunk.
    """
    workers = _worker_count()
    cols = sorted({c for c in mapping.values() if c in frame.columns})
    sub_mapping = {f: c for f, c in mapping.items() if c in frame.columns}
    n = len(frame)
    starts = list(range(0, n, PROCESS_CHUNK_ROWS))
    out = _Assembler(frame.index)
    t0 = time.perf_counter()
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending: dict = {}
        nxt = 0
        done = 0
        while done < len(starts):
            while nxt < len(starts) and len(pending) < workers + 2:
                a = starts[nxt]
                chunk = frame.iloc[a:a + PROCESS_CHUNK_ROWS][cols]
                pending[pool.submit(_worker_chunk, chunk, sub_mapping, stats is not None)] = nxt
                nxt += 1
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for f in finished:
                k = pending.pop(f)
                part, part_stats = f.result()
                out.put(k, starts[k], part)
                del part
                if stats is not None:
                    _merge_stats(stats, part_stats)
                done += 1
    if stats is not None:
        stats["workers"] = workers
        stats.setdefault("seconds", {})["processes (wall)"] = time.perf_counter() - t0
    return out.frame()


class _Assembler:
    """The output frame filled chunk by chunk as results arrive (any order): object/Int64/bool columns are
    written into preallocated arrays, list columns kept as the chunks' Arrow arrays in row order, so no chunk
    is held after it arrived and no concatenation copies the whole output."""

    def __init__(self, index: pd.Index):
        from . import NORMALISED_COLUMNS

        self.index, self.n = index, len(index)
        self.types = NORMALISED_COLUMNS
        self.cols: dict[str, np.ndarray] = {}
        self.mask: dict[str, np.ndarray] = {}
        self.lists: dict[str, dict[int, pa.Array]] = {c: {} for c in NORMALISED_COLUMNS if c in LIST_COLUMNS}
        for c, t in NORMALISED_COLUMNS.items():
            if c in LIST_COLUMNS:
                continue
            if t == "INTEGER":
                self.cols[c] = np.zeros(self.n, dtype=np.int64)
                self.mask[c] = np.ones(self.n, dtype=bool)
            elif t == "BOOLEAN":
                self.cols[c] = np.zeros(self.n, dtype=bool)
            else:
                self.cols[c] = np.empty(self.n, dtype=object)

    def put(self, k: int, start: int, part: pd.DataFrame) -> None:
        stop = start + len(part)
        for c in self.types:
            s = part[c]
            if c in LIST_COLUMNS:
                a = s.array._pa_array
                self.lists[c][k] = a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
            elif c in self.mask:
                arr = s.array
                self.cols[c][start:stop] = arr._data
                self.mask[c][start:stop] = arr._mask
            else:
                self.cols[c][start:stop] = s.to_numpy()

    def frame(self) -> pd.DataFrame:
        cols = {}
        for c in self.types:
            if c in LIST_COLUMNS:
                chunks = [self.lists[c][k] for k in sorted(self.lists[c])]
                cols[c] = pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array(chunks, type=LIST_TYPE)),
                                    index=self.index)
            elif c in self.mask:
                cols[c] = pd.Series(pd.arrays.IntegerArray(self.cols.pop(c), self.mask.pop(c)), index=self.index)
            else:
                v = self.cols.pop(c)
                cols[c] = pd.Series(v, index=self.index, dtype=v.dtype, copy=False)
        return pd.DataFrame(cols, index=self.index, copy=False)


def _connect() -> duckdb.DuckDBPyConnection:
    """An in-memory connection with one thread and no progress bar (workers' stderr stays quiet)."""
    con = duckdb.connect(config={"threads": 1})
    con.execute("SET enable_progress_bar = false")
    return con


def _run_sql(table: pa.Table, stats: dict | None, keep: dict | None = None, tokens: bool | None = None) -> pa.Table:
    """The main query over one chunk's input table (row order kept), then, in the same thread, the folding of
    ASCII abstracts (``_fold_ascii``): ``abstract_norm`` complete, and its ``abstract_tokens``.

    Only Python code holding the GIL is serial between this thread and the main one: work that releases it
    (DuckDB, Arrow compute, numpy) belongs here, the per-value Python functions in the main thread.
    ``keep``: a dict where the connection is kept for the next chunk (``keep["con"]``; the caller closes it):
    a new in-memory database per chunk costs its set-up and fresh allocator pages every time. ``tokens``: compute
    ``abstract_tokens`` here too (default ``TOKENS_IN_QUERY_THREAD``), else hand the split words to the main thread."""
    t0, c0 = time.perf_counter(), time.thread_time()
    # One thread: a chunk is one DuckDB row group (122,880 rows), which is the unit of parallel scans anyway;
    # the parallelism is the pipeline (this query beside Python's work on the neighbouring chunks).
    con = keep.get("con") if keep is not None else None
    if con is None:
        con = _connect()
        if QUERY_THREADS > 1:
            con.execute(f"SET threads = {QUERY_THREADS}")
        if keep is not None:
            keep["con"] = con
    try:
        if QUERY_THREADS > 1:  # DuckDB scans an Arrow table in parallel by record batch
            table = pa.Table.from_batches(table.to_batches(max_chunksize=-(-table.num_rows // (4 * QUERY_THREADS))))
        con.register("t", table)
        out = con.sql(_query()).to_arrow_table()
    finally:
        if keep is None:
            con.close()
        else:
            con.unregister("t")
    ids = out.column("row_id").to_numpy()
    if len(ids) > 1 and not (np.diff(ids) == 1).all():  # insertion order is kept; never rely on it
        out = out.sort_by("row_id")
    sql_norm = out.column("abstract_norm").combine_chunks()  # non-ASCII abstracts (ASCII ones: b_clean)
    folded, words = _fold_ascii(out.column("b_clean").combine_chunks())
    abstract_norm = pc.coalesce(sql_norm, folded)
    if sql_norm.null_count < len(sql_norm):
        words = pc.if_else(pc.is_valid(sql_norm), pc.ascii_split_whitespace(sql_norm), words)
    out = out.drop_columns(["b_clean", "abstract_norm"]).append_column("abstract_norm", abstract_norm)
    title_tokens = _title_tokens_arrow(out.column("title_words").combine_chunks(), out.column("title_norm").combine_chunks())
    out = out.drop_columns(["title_words"]).append_column("title_tokens", title_tokens)
    if TOKENS_IN_QUERY_THREAD if tokens is None else tokens:  # numpy and Arrow work that mostly runs without the GIL
        out = out.append_column("abstract_tokens", _abstract_tokens_arrow(abstract_norm, words))
    else:  # the split words, for the main thread's tokens
        out = out.append_column("abstract_words", words)
    del abstract_norm, words, sql_norm, folded
    if keep is not None:  # this thread's seconds per chunk, in order (the pipeline balances the threads with them)
        keep.setdefault("seconds", []).append(time.perf_counter() - t0)
    if stats is not None:
        sec = stats.setdefault("seconds", {})
        sec["sql query (thread)"] = sec.get("sql query (thread)", 0.0) + time.perf_counter() - t0
        cs = stats.setdefault("cpu_seconds", {})
        cs["sql query (thread)"] = cs.get("sql query (thread)", 0.0) + time.thread_time() - c0
    return out


def _prepare(frame: pd.DataFrame, mapping: dict[str, str], stats: dict | None, memos: dict | None = None) -> dict:
    """One chunk's raw cells, its venue column, the input table of the query and the cells only Python reads."""
    n = len(frame)
    raw = {f: _objects(frame, mapping, f, n) for f in (
        "title", "authors", "date", "year", "doi", "arxiv_id", "urls", "id", "volume", "issue", "venue",
        "venue_abbrev", "pmid", "isbn", "pages", "first_page", "last_page", "abstract", "type", "institution",
        "report_number", "note")}
    venue = raw["venue"].copy()
    if mapping.get("venue_abbrev") in frame.columns:
        no_venue = np.array([as_text(v) is None for v in venue], dtype=bool)
        venue[no_venue] = raw["venue_abbrev"][no_venue]

    sql_in, odd = {}, {}
    for name, field, join, prep in (
        ("title", "title", _join_semicolon, True), ("authors", "authors", _join_names, True),
        ("abstract", "abstract", _join_semicolon, True), ("doi", "doi", None, False),
        ("arxiv", "arxiv_id", None, False), ("urls", "urls", _join_space, False), ("rid", "id", None, False),
        ("volume", "volume", None, False), ("pmid", "pmid", None, False), ("pages", "pages", None, False),
        ("fpage", "first_page", None, False), ("lpage", "last_page", None, False),
    ):
        # prepared author lists and titles remembered across chunks (abstracts rarely repeat: not kept)
        cache = memos.setdefault("prep " + name, {}) if memos is not None and name != "abstract" else None
        sql_in[name], odd[name] = _sql_strings(raw[field], join, prep, cache)
    sql_in["venue"], odd["venue"] = _sql_strings(venue)
    b_ascii = pc.fill_null(pc.string_is_ascii(sql_in["abstract"]), False)
    table = pa.table({"row_id": pa.array(np.arange(n, dtype=np.int64)), **sql_in, "b_ascii": b_ascii})
    _lap(stats, 'inputs')
    return {"raw": raw, "venue": venue, "sql_in": sql_in, "odd": odd, "table": table}


def _finish(frame: pd.DataFrame, mapping: dict[str, str], prep: dict, out: pa.Table, stats: dict | None,
            memos: dict[str, dict]) -> pd.DataFrame:
    """The normalised columns of one chunk from the query's result and the Python path for the rest."""
    from . import NORMALISED_COLUMNS, abstract_fields, date_group, pub_type_of, title_fields, title_numbers

    n = len(frame)
    raw, venue, sql_in, odd = prep["raw"], prep["venue"], prep["sql_in"], prep["odd"]
    prep.clear()
    res: dict = {}
    lists: dict[str, pa.Array] = {}
    if "abstract_tokens" in out.column_names:  # computed in the query's thread
        lists["abstract_tokens"] = out.column("abstract_tokens").combine_chunks()
    else:
        lists["abstract_tokens"] = _abstract_tokens_arrow(out.column("abstract_norm").combine_chunks(),
                                                          out.column("abstract_words").combine_chunks())
        _lap(stats, "abstract tokens")
    for c in _SQL_OUTPUTS:
        col = out.column(c).combine_chunks()
        if c in LIST_COLUMNS:
            lists[c] = col.cast(LIST_TYPE)
        elif c in _FEW_DISTINCT:  # one Python string per distinct value, not one per row
            enc = pc.dictionary_encode(col)
            words = np.array(enc.dictionary.to_pylist() + [None], dtype=object)
            res[c] = words[enc.indices.fill_null(len(words) - 1).to_numpy(zero_copy_only=False)]
        else:
            res[c] = col.to_numpy(zero_copy_only=False).astype(object, copy=False)
    flag = {k: pc.fill_null(out.column(k), True).to_numpy(zero_copy_only=False) for k in _SQL_FLAGS}
    del out
    for k in list(sql_in):
        if k != "title":
            del sql_in[k]
    _lap(stats, "sql main")
    # title: routed rows through clean_title_plain on the prepared text; odd cells through title_fields
    t_rows = np.flatnonzero(flag["t_route"])
    title_sql = np.full(n, None, dtype=object)
    title_sql[t_rows] = sql_in["title"].take(pa.array(t_rows)).to_numpy(zero_copy_only=False)
    m = _py_map(_title_from_prepped, [title_sql], t_rows)
    _set(res, m, ("title_norm", "title_key", "title_tokens", "title_generic"), stats)
    odd_rows = np.flatnonzero(odd["title"])
    m = _py_map(title_fields, [raw["title"]], odd_rows)
    _set(res, m, ("title_norm", "title_key", "title_tokens", "title_generic"), stats)
    py_rows = np.union1d(t_rows, odd_rows)  # titles Python normalised: their numbers in Python too
    if len(py_rows):
        nums = np.empty(len(py_rows), dtype=object)
        nums[:] = [title_numbers(t) for t in res["title_norm"][py_rows].tolist()]
        res.setdefault("_patches", {}).setdefault("title_numbers", []).append((py_rows, nums))

    _lap(stats, 'title')
    # authors
    m = _py_map(author_fields, [raw["authors"]], np.flatnonzero(flag["a_route"] | odd["authors"]),
               memo=memos.setdefault("authors", {}))
    _set(res, m, AUTHOR_COLUMNS, stats)

    _lap(stats, 'authors')
    # identifiers
    id_rows = np.flatnonzero(flag["i_route"] | odd["doi"] | odd["arxiv"] | odd["urls"]
                             | odd["rid"] | odd["volume"] | odd["venue"])
    m = _py_map(identifier_fields, [raw["doi"], raw["arxiv_id"], raw["urls"], raw["id"],
                                                raw["volume"], venue], id_rows)
    _set(res, m, IDENTIFIER_COLUMNS, stats)
    m = _py_map(lambda v: {"pmid_norm": normalise_pmid(v)}, [raw["pmid"]],
                            np.flatnonzero(flag["p_route"] | odd["pmid"]))
    _set(res, m, ("pmid_norm",), stats)
    m = _py_map(lambda v: {"isbn_norm": normalise_isbn(v)}, [raw["isbn"]], memo=memos.setdefault("isbn", {}))
    res["isbn_norm"] = np.full(n, None, dtype=object)
    _set(res, m, ("isbn_norm",), stats)

    _lap(stats, 'identifiers')
    # pages: page_count from the SQL pages, routed rows in Python
    res["page_count"] = _page_count(res["page_first"], res["page_last"])
    m = _py_map(page_fields, [raw["pages"], raw["first_page"], raw["last_page"]],
                np.flatnonzero(flag["g_route"] | odd["pages"] | odd["fpage"] | odd["lpage"]),
                memo=memos.setdefault("pages", {}))
    _set(res, m, PAGE_COLUMNS, stats)

    _lap(stats, 'pages')
    # abstract: cells that are not text (the SQL path did all text)
    m = _py_map(abstract_fields, [raw["abstract"]], np.flatnonzero(odd["abstract"]))
    _set(res, m, ("abstract_norm", "abstract_tokens"), stats)

    _lap(stats, 'abstract')
    # low-cardinality fields: once per distinct value
    for k in ("venue_norm", "venue_key", "is_preprint", "volume_norm", "issue_norm", "date_norm", "year_norm",
              "date_precision"):
        res[k] = np.full(n, None, dtype=object)
    m = _py_map(venue_fields, [venue], memo=memos.setdefault("venue", {}))
    _set(res, m, ("venue_norm", "venue_key", "is_preprint"), stats)
    m = _py_map(lambda v: {"volume_norm": number_field(v)}, [raw["volume"]], memo=memos.setdefault("volume", {}))
    _set(res, m, ("volume_norm",), stats)
    m = _py_map(lambda v: {"issue_norm": number_field(v)}, [raw["issue"]], memo=memos.setdefault("issue", {}))
    _set(res, m, ("issue_norm",), stats)
    date_key = _date_key(raw["date"])
    m = _py_map(lambda d, y: date_group(d, y), [date_key, raw["year"]], memo=memos.setdefault("date", {}))
    _set(res, m, ("date_norm", "year_norm", "date_precision"), stats)
    missing = np.flatnonzero(pd.isna(res["year_norm"]))
    m = _py_map(date_group, [np.full(n, None, dtype=object), np.full(n, None, dtype=object),
                                         raw["title"], venue, raw["note"]], missing)
    _set(res, m, ("date_norm", "year_norm", "date_precision"), stats)

    arxiv_only = ~pd.isna(res["arxiv_id_norm"]) & pd.isna(res["doi_norm"])
    is_pre = res["is_preprint"].astype(bool)
    # the entry type alone decides most rows (``entry_type_class``, which ``publication_type`` tries first): once per
    # distinct type; the others through ``pub_type_of`` on all their fields
    res["pub_type"] = np.full(n, None, dtype=object)
    m = _py_map(lambda t: {"pub_type": entry_type_class(t)}, [raw["type"]], memo=memos.setdefault("entry_type", {}))
    _set(res, m, ("pub_type",))
    m = _py_map(lambda *a: {"pub_type": pub_type_of(*a)},
                            [raw["type"], venue, raw["institution"], raw["report_number"], raw["note"], is_pre,
                             arxiv_only], np.flatnonzero(pd.isna(res["pub_type"])), memo=memos.setdefault("pub_type", {}))
    _set(res, m, ("pub_type",), stats)

    _lap(stats, 'low-cardinality')
    patches = res.pop("_patches", {})
    for c in lists:
        lists[c] = _patched(lists[c], patches.get(c, []))
    cols = {}
    for c, t in NORMALISED_COLUMNS.items():
        if c in LIST_COLUMNS:
            cols[c] = pd.Series(pd.arrays.ArrowExtensionArray(lists[c]), index=frame.index)
            continue
        v = res[c]
        if t == "INTEGER":
            cols[c] = pd.Series(pd.array(v, dtype="Int64"), index=frame.index)
        elif t == "BOOLEAN":
            cols[c] = pd.Series(v.astype(bool), index=frame.index, dtype=bool)
        else:
            cols[c] = pd.Series(v, index=frame.index, dtype=object)
    df = pd.DataFrame(cols, index=frame.index)
    _lap(stats, "output")
    return df


def _lap(stats: dict | None, label: str | None) -> None:
    """Record the seconds since the previous lap under ``stats['seconds'][label]``."""
    if stats is None:
        return
    now, cpu = time.perf_counter(), time.thread_time()  # CPU of the main thread alone
    if label is not None:
        sec = stats.setdefault("seconds", {})
        sec[label] = sec.get(label, 0.0) + now - stats.get("_t", now)
        cs = stats.setdefault("cpu_seconds", {})
        cs[label] = cs.get(label, 0.0) + cpu - stats.get("_c", cpu)
        try:  # resident memory after the stage (Linux), for the benchmark
            with open("/proc/self/statm") as fh:
                stats.setdefault("rss_mb", {})[label] = int(fh.read().split()[1]) * 4096 / 2**20
        except OSError:
            pass
    stats["_t"], stats["_c"] = now, cpu


def _title_from_prepped(s: str | None) -> dict:
    t = None if s is None or is_blank(s) else clean_title_plain(s)
    return {"title_norm": t, "title_key": title_key(t), "title_tokens": title_tokens(t),
            "title_generic": is_generic_title(t)}


def _page_count(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    out = np.full(len(first), None, dtype=object)
    for i in np.flatnonzero(np.array([x is not None for x in last], dtype=bool)).tolist():
        a, b = first[i], last[i]
        if a is not None and a.isdigit() and b.isdigit():
            c = int(b) - int(a) + 1
            if 1 <= c <= 10000:
                out[i] = c
    return out


def _date_key(values: np.ndarray) -> np.ndarray:
    """Timestamps cut to their date part ('2021-03-20 01:46:39+00:00' -> '2021-03-20'): same result, fewer
    distinct values for the Python date parser."""
    arr, odd = _sql_strings(values)
    if odd.any():
        return values
    cut = pc.if_else(pc.fill_null(pc.match_substring_regex(arr, "^" + ISO_TIMESTAMP_SQL + "$"), False),
                     pc.utf8_slice_codeunits(arr, 0, 10), arr)
    return cut.to_numpy(zero_copy_only=False).astype(object)
