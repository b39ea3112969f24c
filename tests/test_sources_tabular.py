"""Delimited text, JSON, Parquet and DuckDB readers: real samples, and their malformed variants."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from linkage.errors import SourceError
from linkage.sources import read_source
from linkage.sources.encoding import decode
from linkage.sources.tabular import header_looks_like_data, sniff_delimiter

DATA = Path(__file__).parent / "data" / "sources"
SYSTEM = ["source", "source_id", "source_row"]


def cells(t, col):
    return t.frame[col].tolist()


# ---------------------------------------------------------------------------------------------------------
# CSV: encodings
# ---------------------------------------------------------------------------------------------------------


def test_dblp2_latin1_decoded():
    t = read_source(DATA / "dblp2_latin1.csv")
    assert len(t.frame) == 20 and t.n_parse_errors == 0
    assert t.encoding in ("cp1252", "latin-1")
    authors = " ".join(a for a in cells(t, "authors") if a)
    assert "Ö" in authors or "ö" in authors or "Ç" in authors or "é" in authors
    assert "\ufffd" not in authors
    assert list(t.frame.columns) == [*SYSTEM, "id", "title", "authors", "venue", "year", "parse_error"]
    assert t.frame["source_id"].iloc[0] == "journals/sigmod/Mackay99"
    assert t.mapping == {"id": "id", "title": "title", "authors": "authors", "year": "year", "venue": "venue"}


def test_acm_entities_stay_raw():
    t = read_source(DATA / "acm_entities.csv")
    assert len(t.frame) == 12 and t.encoding == "utf-8"
    raw = " ".join(str(v) for v in t.frame[["title", "authors"]].to_numpy().ravel() if v)
    assert "&#" in raw  # decoded later by normalisation, never by the reader
    assert t.frame["source_id"].tolist()[:2] == ["304586", "304587"]
    assert t.frame["year"].iloc[0] == "1999"


def test_asysd_cp1252_layout():
    t = read_source(DATA / "stroke_asysd_cp1252.csv")
    assert len(t.frame) == 30 and t.n_parse_errors == 0
    assert t.encoding == "cp1252"
    first = t.frame["title"].iloc[0]
    assert first.endswith("café naïve – “quoted”")
    # label and source are origin columns, record_id is the id, number the issue
    assert "origin_label" in t.frame and "origin_source" in t.frame
    assert "label" not in t.frame.columns[3:-1].tolist() and "source" not in t.frame.columns[3:-1].tolist()
    assert set(t.frame["origin_source"]) == {"Embase"}
    assert t.mapping["id"] == "record_id" and t.mapping["issue"] == "number" and t.mapping["authors"] == "author"
    assert t.frame["source_id"].iloc[0] == "id_0000091"
    assert "origin_source" not in t.mapping.values() and "origin_label" not in t.mapping.values()


def test_utf16_with_bom():
    t = read_source(DATA / "dblp2_utf16.csv")
    good = read_source(DATA / "dblp2_latin1.csv")
    assert t.encoding == "utf-16"
    assert t.frame["authors"].tolist() == good.frame["authors"].tolist()


def test_utf8_bom_and_mixed_encodings(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes("\ufeffid,title\n1,Café\n".encode())
    t = read_source(p)
    assert t.encoding == "utf-8-sig" and "id" in t.frame.columns and t.frame["title"].iloc[0] == "Café"
    p = tmp_path / "mixed.csv"
    p.write_bytes("id,title\n1,Café one\n".encode() + "2,Naïve two\n".encode("cp1252"))
    t = read_source(p)
    assert t.frame["title"].tolist() == ["Café one", "Naïve two"]
    assert t.encoding == "utf-8+cp1252" and any("mixed text encodings" in w for w in t.warnings)


def test_decode_order():
    assert decode("é".encode()).encoding == "utf-8"
    assert decode("é".encode("cp1252")).encoding == "cp1252"
    assert decode(b"\x81\x8d").encoding == "latin-1"  # bytes cp1252 leaves undefined
    assert decode("ab".encode("utf-16-le")).text == "ab"  # UTF-16 without a BOM
    d = decode(b"a\x00b")
    assert d.text == "ab" and d.notes


def test_gzipped_csv(tmp_path):
    p = tmp_path / "dblp.csv.gz"
    p.write_bytes(gzip.compress((DATA / "dblp2_latin1.csv").read_bytes()))
    assert len(read_source(p).frame) == 20


def test_binary_file_named_csv(tmp_path):
    p = tmp_path / "papers.csv"
    pd.DataFrame({"title": ["a"]}).to_parquet(p)
    with pytest.raises(SourceError, match=r"papers\.csv: expected a text file, but this looks like a Parquet file"):
        read_source(p)


# ---------------------------------------------------------------------------------------------------------
# CSV: structure
# ---------------------------------------------------------------------------------------------------------


def test_semicolon_file_named_csv_is_sniffed():
    t = read_source(DATA / "dblp2_semicolon.csv")
    good = read_source(DATA / "dblp2_latin1.csv")
    assert t.frame.drop(columns="source").equals(good.frame.drop(columns="source"))
    assert any("separated by semicolons" in w for w in t.warnings)


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_sniff_delimiter_with_other_candidates_in_text(delim):
    rows = [["id", "title", "authors"], ["1", "A; b, c | d", "X, Y; Z"], ["2", "Plain", "W"], ["3", "t", "a"]]
    text = "\n".join(delim.join(f'"{c}"' if any(x in c for x in ",;|\t") else c for c in r) for r in rows)
    assert sniff_delimiter(text) == delim


def test_excel_sep_line(tmp_path):
    p = tmp_path / "excel.csv"
    p.write_text("sep=;\nid;title\n1;A, b\n2;C\n3;D;extra\n")
    t = read_source(p)
    assert t.frame["title"].tolist() == ["A, b", "C", "D;extra"]
    assert t.frame["parse_error"].iloc[2] == "line 5: expected 2 fields, got 3"


def test_pipe_file_with_trailing_delimiter(tmp_path):
    p = tmp_path / "cora.csv"
    p.write_text("Entity Id|author|title|year|\n0|p. auer,|gambling,|1995,|\n1|a. blum|crypto|1993.|\n")
    t = read_source(p)
    assert list(t.frame.columns) == [*SYSTEM, "Entity Id", "author", "title", "year", "parse_error"]
    assert t.n_parse_errors == 0 and t.mapping["id"] == "Entity Id"


def test_missing_header_is_detected():
    with pytest.raises(SourceError) as e:
        read_source(DATA / "acm_no_header.csv")
    msg = str(e.value)
    assert "acm_no_header.csv: line 1: the first row looks like a record, not a header" in msg
    assert "'304586'" in msg and "add a first line naming the columns" in msg


def test_header_heuristic():
    assert header_looks_like_data(["1", "Some paper title", "2001"]) == ["1", "2001"]
    assert header_looks_like_data(["id", "title", "year"]) == []
    assert header_looks_like_data(["name_of_thing", "year"]) == []
    assert header_looks_like_data(["a", "b"]) == []  # short names: a header of unknown columns
    assert header_looks_like_data(["Paper", "2001"], known=["Paper"]) == []
    assert header_looks_like_data(["What is the paper you read about, in full?", "Notes"]) == []
    row = ["journals/x/Y99", "A long title of a paper on things", "Ann Author, Bob Other and Cy Third"]
    assert header_looks_like_data(row) == row[1:]  # two cells of running text


def test_truncated_csv_ending_mid_quote():
    t = read_source(DATA / "dblp2_truncated.csv")
    assert len(t.frame) == 11
    last = t.frame.iloc[-1]
    assert last["parse_error"].startswith("line 12: a quoted field opens on this line and is never closed")
    assert "truncated" in last["parse_error"]
    assert last["title"].startswith("Dual-Buffering")  # kept as read
    assert t.frame["parse_error"].iloc[:-1].isna().all()


def test_stray_quote_does_not_swallow_later_rows(tmp_path):
    p = tmp_path / "stray.csv"
    p.write_text('id,title,year\n1,"Stray quote opens here,2001\n2,Second,2002\n3,Third,2003\n')
    t = read_source(p)
    assert t.frame["id"].tolist() == ["1", "2", "3"]
    assert t.frame["parse_error"].iloc[0].startswith("line 2: a quoted field opens")
    assert t.frame["parse_error"].iloc[1:].isna().all()
    assert t.frame["year"].tolist()[1:] == ["2002", "2003"]


def test_rows_with_wrong_field_count_are_kept_and_flagged(tmp_path):
    p = tmp_path / "papers.csv"
    p.write_text('id,title,year\n1,Good,2001\n2,"Broken, with, extra",2002,oops\n3,Short\n\n4,Last,2004\n')
    t = read_source(p)
    assert t.frame["id"].tolist() == ["1", "2", "3", "4"]  # the blank line is not a record
    err = t.frame.set_index("id")["parse_error"]
    assert err["2"] == "line 3: expected 3 fields, got 4"
    assert err["3"] == "line 4: expected 3 fields, got 2"
    assert t.frame.set_index("id").loc["2", "year"] == "2002,oops"  # no text lost
    assert t.n_parse_errors == 2
    assert any("2 records could not be fully parsed" in w for w in t.warnings)


def test_duplicate_column_names_kept_apart(tmp_path):
    p = tmp_path / "dup.csv"
    p.write_text("id,title,title,Title,\n1,a,b,c,\n")
    t = read_source(p)
    assert [c for c in t.frame.columns if c.lower().startswith("title")] == ["title", "title_2", "Title"]
    assert t.frame[["title", "title_2", "Title"]].iloc[0].tolist() == ["a", "b", "c"]
    assert t.mapping["title"] == "title"
    assert any("repeated column names 'title'" in w for w in t.warnings)


def test_ten_megabyte_abstract_is_kept(tmp_path):
    big = "word " * 2_000_000
    p = tmp_path / "big.csv"
    p.write_text(f'id,title,abstract\n1,Big one,"{big}"\n2,Small,short\n')
    t = read_source(p)
    assert len(t.frame["abstract"].iloc[0]) == len(big)
    assert t.frame["abstract"].iloc[1] == "short" and t.n_parse_errors == 0


def test_tsv_and_empty_files(tmp_path):
    p = tmp_path / "papers.tsv"
    p.write_text("id\ttitle\n1\tA, with comma\n")
    assert read_source(p).frame["title"].iloc[0] == "A, with comma"
    e = tmp_path / "empty.csv"
    e.write_text("\n\n")
    with pytest.raises(SourceError, match="empty.csv: the file is empty"):
        read_source(e)
    h = tmp_path / "header.csv"
    h.write_text("id,title\n,\n")
    with pytest.raises(SourceError, match="header but no records"):
        read_source(h)


# ---------------------------------------------------------------------------------------------------------
# JSON and JSON Lines
# ---------------------------------------------------------------------------------------------------------


def test_jsonl_line_cut_in_half_is_kept_and_flagged():
    t = read_source(DATA / "crossref_cut_line.jsonl")
    assert len(t.frame) == 3
    err = t.frame["parse_error"].tolist()
    assert err[0] is None and err[2] is None
    assert err[1].startswith("line 2: not valid JSON (Unterminated string") and "cut short" in err[1]
    assert t.frame["raw_line"].iloc[1].startswith('{"indexed"')
    assert t.frame["source_id"].iloc[1] == "row2"


def test_jsonl_nested_values(tmp_path):
    p = tmp_path / "recs.jsonl"
    rec = {"id": 7, "title": "A\u2028B", "authors": ["X", None, {"name": "Y"}], "urls": [], "meta": {"k": 1},
           "ok": True, "score": 0.5, "missing": None}
    p.write_text(json.dumps(rec, ensure_ascii=False) + "\n\n[1, 2]\n")
    t = read_source(p)
    row = t.frame.iloc[0]
    assert row["source_id"] == "7" and row["title"] == "A\u2028B"  # U+2028 is not a line break in JSON Lines
    assert row["authors"] == ["X", "", '{"name": "Y"}']
    assert row["urls"] == [] and row["meta"] == '{"k": 1}' and row["ok"] == "true" and row["score"] == "0.5"
    assert row["missing"] is None
    assert t.frame["parse_error"].iloc[1] == "line 3: expected a JSON object, got list"


def test_json_array_wrappers_and_misnamed_files(tmp_path):
    p = tmp_path / "page.json"
    p.write_text(json.dumps({"meta": {"count": 2}, "results": [{"title": "A"}, {"title": "B"}]}))
    assert read_source(p).frame["title"].tolist() == ["A", "B"]
    p = tmp_path / "lines.json"  # JSON Lines named .json
    p.write_text('{"title": "A"}\n{"title": "B"}\n')
    assert read_source(p).frame["title"].tolist() == ["A", "B"]
    p = tmp_path / "array.jsonl"  # a JSON array named .jsonl
    p.write_text(json.dumps([{"title": "A"}, {"title": "B"}], indent=2))
    assert read_source(p).frame["title"].tolist() == ["A", "B"]


def test_malformed_json_document_names_line(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text('[{"title": "A"},\n {"title": "B"\n')
    with pytest.raises(SourceError, match=r"bad\.json: line 2, column 15: not valid JSON .*file ends before"):
        read_source(p)
    p.write_text('[{"title": "A"} {"title": "B"}]')
    with pytest.raises(SourceError, match=r"bad\.json: line 1, column 17: not valid JSON \(Expecting ',' delimiter\)"):
        read_source(p)


# ---------------------------------------------------------------------------------------------------------
# Parquet and DuckDB
# ---------------------------------------------------------------------------------------------------------


def _arrow_table():
    import pyarrow as pa

    return pa.table({"id": pa.array([1, None, 3], pa.int64()), "title": ["a", "b", None],
                     "authors": [["x", "y"], [], None], "meta": [{"k": 1}, None, {"k": 2}],
                     "year": pa.array([2001, None, 1999], pa.int64())})


def test_parquet_keeps_lists_and_integers(tmp_path):
    import pyarrow.parquet as pq

    p = tmp_path / "t.parquet"
    pq.write_table(_arrow_table(), p)
    t = read_source(p)
    assert t.frame["authors"].tolist() == [["x", "y"], [], None]
    assert t.frame["year"].tolist() == ["2001", None, "1999"]  # not 2001.0
    assert t.frame["meta"].iloc[0] == '{"k": 1}'
    assert t.frame["source_id"].tolist() == ["1", "row2", "3"]
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really")
    with pytest.raises(SourceError, match=r"bad\.parquet: not a readable Parquet file"):
        read_source(bad)


def test_duckdb_table(tmp_path):
    import duckdb

    db = tmp_path / "papers.duckdb"
    con = duckdb.connect(str(db))
    con.register("t", _arrow_table())
    con.execute("create table papers as select * from t")
    con.close()
    t = read_source(f"{db}:papers")
    assert t.name == "papers" and t.format == "duckdb"
    assert t.frame["authors"].tolist() == [["x", "y"], [], None]
    with pytest.raises(SourceError, match="no table named 'nope'.*tables in the file: papers"):
        read_source(f"{db}:nope")
    with pytest.raises(SourceError, match="needs a table name"):
        read_source(db)


@pytest.mark.parametrize("body", [
    '{"id": "a", "title": "Bad \\ud800 surrogate", "authors": ["A \\udfff B"]}\n{"id": "b", "title": "Fine"}\n',
    '[{"id": "a", "title": "Bad \\ud800 surrogate", "authors": ["A \\udfff B"]}, {"id": "b", "title": "Fine"}]',
])
def test_lone_surrogate_escapes_become_replacement_characters(tmp_path, body):
    """JSON may escape a lone UTF-16 surrogate, which UTF-8 (Arrow, Parquet) cannot hold: it is read as U+FFFD
    (as a bad byte in a text file is) instead of failing the run; a valid pair stays one character."""
    from linkage.pipeline import build_records
    from linkage.sources import read_sources

    p = tmp_path / ("s.jsonl" if body.startswith("{") else "s.json")
    p.write_text(body.replace("Fine", "Fine \\ud83d\\ude00"), encoding="utf-8")
    tables = read_sources([str(p)])
    records, _ = build_records(tables)
    assert len(records) == 2
    titles = records["title"].tolist()
    assert titles[0] == "Bad \ufffd surrogate" and titles[1] == "Fine \U0001F600"
    assert records["title_norm"].tolist()[0] == "bad surrogate"
