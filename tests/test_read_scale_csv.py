"""The bulk (Arrow) CSV path gives the same table as the careful csv-module path, and leaves every
irregular file to the careful path."""

from __future__ import annotations

import pytest

from linkage.errors import SourceError
from linkage.sources import read_source, tabular
from linkage.sources.encoding import read_text


def _read_both(path, monkeypatch):
    def outcome():
        try:
            t = read_source(str(path))
        except SourceError as exc:
            return ("error", str(exc))
        f = t.frame
        return ("ok", list(f.columns), [f[c].tolist() for c in f.columns], [str(f[c].dtype) for c in f.columns],
                t.mapping, t.encoding, t.warnings, t.n_parse_errors)

    bulk = outcome()
    with monkeypatch.context() as m:
        m.setattr(tabular, "_bulk_delimited", lambda *a: None)
        careful = outcome()
    return bulk, careful


def _bulk_used(path) -> bool:
    text = read_text(path).text
    return tabular._bulk_delimited(text, tabular.sniff_delimiter(text)) is not None


HEAD = "id,title,authors,year\n"
REGULAR = {
    "plain": HEAD + "1,A study of things,Ann Lee,2001\n2,Another,Bo Li,2002\n",
    "no_final_newline": HEAD + "1,A study,Ann Lee,2001\n2,Another,Bo Li,2002",
    "crlf": HEAD.replace("\n", "\r\n") + "1,A study,Ann Lee,2001\r\n2,Another,Bo Li,2002\r\n",
    "cr_only": HEAD.replace("\n", "\r") + "1,A study,Ann Lee,2001\r2,Another,Bo Li,2002\r",
    "quotes": HEAD + '1,"A, study ""quoted""",Ann Lee,2001\n2,abc"def",x"y,2002\n3,"abc"def,"q" ,2003\n',
    "quoted_newlines": HEAD + '1,"A study\nover two lines","Lee, Ann\r\nand Li, Bo",2001\n2,B,C,2002\n',
    "empty_fields": HEAD + '1,,"",2001\n2,B,,\n',
    "quoted_closed_newline_at_end": HEAD + '1,A,"B\n",2001\n',
    "unicode": HEAD + "1,Études sur la ﬁbre — naïve,Zoë Ångström,2001\n2,日本語のタイトル,山田 太郎,2002\n",
    "whitespace_cells": HEAD + "1,  padded  , ,2001\n",
    "semicolons": "id;title;authors;year\n1;A, b;Ann;2001\n2;C;D;2002\n",
    "bom": "\ufeff" + HEAD + "1,A,B,2001\n",
    "blank_lines_inside": HEAD + "1,A,B,2001\n\n\n2,C,D,2002\n",
    "unicode_separators_in_fields": HEAD + "1,A\u2028B\x85C,x\x0cy\x1cz,2001\n2,\u3000,D,2002\n",
    "tabs_in_comma_file": HEAD + "1,A\tB,C\tD,2001\n2,E,F,2002\n",
}
IRREGULAR = {
    "unclosed_quote_right_width": HEAD + '1,A,B,2001\n2,C,"D\n3,E,F,2003\n',
    "unclosed_quote_at_end": HEAD + '1,A,B,2001\n2,C,D,"2002\n',
    "too_many_fields": HEAD + "1,A,B,2001,extra\n2,C,D,2002\n",
    "too_few_fields": HEAD + "1,A,B\n2,C,D,2002\n",
    "trailing_delimiter": HEAD + "1,A,B,2001,\n2,C,D,2002,\n",
    "blank_row": HEAD + "1,A,B,2001\n,,,\n2,C,D,2002\n",
    "whitespace_row": HEAD + "1,A,B,2001\n  , ,\t,\n2,C,D,2002\n",
    "unicode_space_row": HEAD + "1,A,B,2001\n\u3000,\xa0,\x1c,\u2028\n2,C,D,2002\n",
    "empty_header_cell": "id,title,,year\n1,A,B,2001\n",
    "leading_blank_line": "\n" + HEAD + "1,A,B,2001\n",
    "sep_hint": "sep=;\nid;title;authors;year\n1;A;B;2001\n",
    "header_only": HEAD,
    "one_column": "title\nA\nB\n",
    "multiline_header": 'id,"ti\ntle",authors,year\n1,A,B,2001\n',
}


# Read in bulk, then the header is judged as on the careful path (renamed, or an error).
HEADER_CASES = {
    "duplicate_header": "id,title,title,year\n1,A,B,2001\n",
    "header_looks_like_data": "1,A study of the things we know today,Ann Lee,2001\n2,B,C,2002\n",
}


@pytest.mark.parametrize("name", sorted(HEADER_CASES))
def test_header_cases_same_result(name, tmp_path, monkeypatch):
    path = tmp_path / f"{name}.csv"
    path.write_bytes(HEADER_CASES[name].encode("utf-8"))
    bulk, careful = _read_both(path, monkeypatch)
    assert bulk == careful


@pytest.mark.parametrize("name", sorted(REGULAR))
def test_regular_files_take_the_bulk_path_with_the_same_result(name, tmp_path, monkeypatch):
    path = tmp_path / f"{name}.csv"
    path.write_bytes(REGULAR[name].encode("utf-8"))
    assert _bulk_used(path)
    bulk, careful = _read_both(path, monkeypatch)
    assert bulk == careful


@pytest.mark.parametrize("name", sorted(IRREGULAR))
def test_irregular_files_take_the_careful_path(name, tmp_path, monkeypatch):
    path = tmp_path / f"{name}.csv"
    path.write_bytes(IRREGULAR[name].encode("utf-8"))
    assert not _bulk_used(path)
    bulk, careful = _read_both(path, monkeypatch)
    assert bulk == careful


def test_cp1252_file_same_result(tmp_path, monkeypatch):
    path = tmp_path / "cp.csv"
    path.write_bytes((HEAD + "1,Caf\xe9 \x93quoted\x94,M\xfcller,2001\n").encode("latin-1"))
    assert _bulk_used(path)
    bulk, careful = _read_both(path, monkeypatch)
    assert bulk == careful and bulk[5] == "cp1252"


def test_large_generated_file_same_result(tmp_path, monkeypatch):
    rows = [HEAD.strip()]
    for i in range(5000):
        title = f'"Title {i}, with ""quotes"" and\nnewline"' if i % 7 == 0 else f"Title {i}"
        rows.append(f"{i},{title},{'' if i % 5 == 0 else 'Lee, A.'.replace(',', ';')},{1990 + i % 30}")
    path = tmp_path / "big.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert _bulk_used(path)
    bulk, careful = _read_both(path, monkeypatch)
    assert bulk == careful
