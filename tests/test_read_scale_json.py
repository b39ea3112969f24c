"""The bulk (Arrow) JSON Lines path gives the same table as reading record by record, and leaves every
irregular file (bad lines, API shapes, floats, nested objects...) to the record-by-record path."""

from __future__ import annotations

import json

import pytest

from linkage.errors import SourceError
from linkage.sources import read_source, tabular


def _outcome(path):
    try:
        t = read_source(str(path))
    except SourceError as exc:
        return ("error", str(exc))
    f = t.frame
    return ("ok", t.format, list(f.columns), [f[c].tolist() for c in f.columns], [str(f[c].dtype) for c in f.columns],
            t.mapping, t.encoding, t.warnings, t.n_parse_errors)


def _read_both(path, monkeypatch):
    bulk = _outcome(path)
    with monkeypatch.context() as m:
        m.setattr(tabular, "read_json_lines_bulk", lambda *a: None)
        careful = _outcome(path)
    return bulk, careful


def _lines(*objs) -> str:
    return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs)


R1 = {"id": "a1", "title": "A study", "authors": ["Ann Lee", "Bo Li"], "year": 2001, "open": True,
      "date": "2013-02-01 15:27:49+00:00", "journal": None, "urls": []}
R2 = {"id": "a2", "title": "Another", "authors": None, "year": None, "open": False, "date": "2020-01-01",
      "journal": "J", "urls": ["https://x.org/1", None]}
REGULAR = {
    "plain": _lines(R1, R2),
    "missing_keys": _lines(R1, {"id": "a3", "title": "T"}),
    "crlf": _lines(R1, R2).replace("\n", "\r\n"),
    "trailing_blank_lines": _lines(R1, R2) + "\n  \n\n",
    "no_final_newline": _lines(R1, R2).rstrip("\n"),
    "escapes_and_unicode": _lines({"id": "u", "title": "Émile \\ \"q\" \u2028 😀 日本", "authors": ["Zoë"]},
                                  {"id": "v", "title": "x\ty", "authors": []}),
    "ascii_escaped": "".join(json.dumps(o) + "\n" for o in ({"id": "e", "title": "Caf\u00e9 \U0001f600"}, R2)),
    "origin_columns": _lines({"id": "s1", "source": "SupportedSources.ARXIV", "title": "T", "label": "x"}, R2),
    "empty_strings": _lines({"id": "", "title": "", "authors": [""]}, R1),
    "new_key_in_sample": _lines({"id": "1", "title": "T"}, {"id": "2", "title": "U", "extra": "x"}),
}
IRREGULAR = {
    "bad_line": _lines(R1) + '{"id": "a2", "title": \n' + _lines(R2),
    "two_objects_one_line": _lines(R1).rstrip("\n") + " " + _lines(R2),
    "object_then_null": _lines(R1).rstrip("\n") + " null\n" + _lines(R2),
    "null_line": _lines(R1) + "null\n" + _lines(R2),
    "null_first": "null\n" + _lines(R1, R2),
    "array_line": _lines(R1) + "[1, 2]\n" + _lines(R2),
    "blank_line_inside": _lines(R1) + "\n" + _lines(R2),
    "leading_blank_line": "\n" + _lines(R1, R2),
    "indented_line": _lines(R1) + "  " + _lines(R2),
    "floats": _lines({"id": "f", "title": "T", "score": 1.5}, {"id": "g", "title": "U", "score": 2}),
    "nested_object": _lines({"id": "n", "title": "T", "meta": {"b": 1, "a": [1]}}, R2),
    "int_list": _lines({"id": "n", "title": "T", "pages": [1, 2]}, R2),
    "mixed_types": _lines({"id": "m", "title": "T", "year": 2001}, {"id": "n", "title": "U", "year": "2002"}),
    "big_int": _lines({"id": "b", "title": "T", "n": 2 ** 70}, R2),
    "nan": _lines(R1) + '{"id": "x", "title": "T", "v": NaN}\n',
    "duplicate_key": _lines(R1) + '{"id": "x", "title": "T", "title": "U"}\n',
    "lone_surrogate": _lines(R1) + '{"id": "x", "title": "T\\ud800"}\n',
    "raw_control_char": _lines(R1) + '{"id": "x", "title": "T\tU"}\n',
    "new_key_after_sample": _lines(*[{"id": str(i), "title": f"T{i}"} for i in range(1200)],
                                   {"id": "late", "title": "L", "extra": "x"}),
    "crossref_shape": _lines({"DOI": "10.1/x", "title": ["T"], "issued": {"date-parts": [[2020]]}},
                             {"DOI": "10.1/y", "title": ["U"], "issued": {"date-parts": [[2021]]}}),
    "openalex_id": _lines({"id": "https://openalex.org/W1", "title": "T"}, {"id": "https://openalex.org/W2",
                                                                           "title": "U"}),
    "arxiv_id": _lines({"id": "http://arxiv.org/abs/1234.5678", "title": "T", "summary": "S"}, R2),
    "pwc_links": _lines({"paper_title": "T", "repo_url": "https://github.com/a/b", "paper_url": "p"}, R2),
    "pair_cases": _lines({"id": "1", "doc_1": {"title": "A"}, "doc_2": {"title": "A"}, "decision": "DUPLICATES"},
                         {"id": "2", "doc_1": {"title": "B"}, "doc_2": {"title": "C"}, "decision": "NOT_DUPLICATES"}),
    "cr_separated": _lines(R1).rstrip("\n") + "\r" + _lines(R2),
    "no_title": _lines({"id": "1", "name": "x"}, {"id": "2", "name": "y"}),
}


@pytest.mark.parametrize("name", sorted(REGULAR))
def test_regular_files_take_the_bulk_path_with_the_same_result(name, tmp_path, monkeypatch):
    path = tmp_path / f"{name}.jsonl"
    path.write_bytes(REGULAR[name].encode("utf-8"))
    assert tabular.read_json_lines_bulk(path, "jsonl") is not None
    bulk, careful = _read_both(path, monkeypatch)
    assert bulk == careful


@pytest.mark.parametrize("name", sorted(IRREGULAR))
def test_irregular_files_take_the_record_by_record_path(name, tmp_path, monkeypatch):
    path = tmp_path / f"{name}.jsonl"
    path.write_bytes(IRREGULAR[name].encode("utf-8"))
    if name != "no_title":
        assert tabular.read_json_lines_bulk(path, "jsonl") is None
    bulk, careful = _read_both(path, monkeypatch)
    assert bulk == careful


def test_bom_and_gzip_same_result(tmp_path, monkeypatch):
    import gzip

    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + _lines(R1, R2).encode("utf-8"))
    assert tabular.read_json_lines_bulk(path, "jsonl") is not None
    bulk, careful = _read_both(path, monkeypatch)
    assert bulk == careful and bulk[6] == "utf-8-sig"
    gz = tmp_path / "g.jsonl.gz"
    gz.write_bytes(gzip.compress(_lines(R1, R2).encode("utf-8")))
    assert tabular.read_json_lines_bulk(gz, "jsonl") is not None
    bulk, careful = _read_both(gz, monkeypatch)
    assert bulk == careful


def test_not_utf8_goes_record_by_record(tmp_path, monkeypatch):
    path = tmp_path / "cp.jsonl"
    path.write_bytes(_lines(R1).encode("utf-8") + '{"id": "c", "title": "Café"}\n'.encode("cp1252"))
    assert tabular.read_json_lines_bulk(path, "jsonl") is None
    bulk, careful = _read_both(path, monkeypatch)
    assert bulk == careful


def test_large_file_same_result(tmp_path, monkeypatch):
    objs = [{"id": f"r{i}", "title": f"Title {i}", "authors": [f"A{i}", None] if i % 3 else [],
             "year": 1990 + i % 30 if i % 4 else None, "flag": bool(i % 2)} for i in range(30000)]
    path = tmp_path / "big.jsonl"
    path.write_text(_lines(*objs), encoding="utf-8")
    assert tabular.read_json_lines_bulk(path, "jsonl") is not None
    bulk, careful = _read_both(path, monkeypatch)
    assert bulk == careful
