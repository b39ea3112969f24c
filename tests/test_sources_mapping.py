"""Source dispatch and assembly: format detection, column mapping, origin columns, ids, source names."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkage.errors import SourceError
from linkage.sources import (
    detect_format,
    normalise_source_name,
    parse_source_arg,
    read_source,
    read_sources,
    resolve_mapping,
)

DATA = Path(__file__).parent / "data" / "sources"


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_contract_columns_and_types(tmp_path):
    p = write(tmp_path, "papers.csv", "id,title,authors\nx1,A paper,\n,Second,B\n")
    t = read_source(p)
    assert list(t.frame.columns) == ["source", "source_id", "source_row", "id", "title", "authors", "parse_error"]
    assert t.frame["source_row"].tolist() == [1, 2]
    assert t.frame["source_id"].tolist() == ["x1", "row2"]
    assert t.frame["authors"].tolist() == [None, "B"]
    assert all(v is None or isinstance(v, str) for c in ("id", "title", "authors") for v in t.frame[c])


def test_row_numbers_when_no_id_column(tmp_path):
    t = read_source(write(tmp_path, "papers.csv", "title\nA\nB\n"))
    assert t.frame["source_id"].tolist() == ["1", "2"] and "id" not in t.mapping


def test_origin_and_reserved_columns_are_renamed(tmp_path):
    p = write(tmp_path, "agg.csv", "title,Source,label,database,unique_id,parse_error,source_id\n"
                                   "A,Embase,dup,Medline,u1,oops,s1\n")
    t = read_source(p)
    cols = list(t.frame.columns)
    assert cols == ["source", "source_id", "source_row", "title", "origin_source", "origin_label", "origin_database",
                    "raw_unique_id", "raw_parse_error", "raw_source_id", "parse_error"]
    assert t.frame["source"].iloc[0] == "agg" and t.frame["parse_error"].iloc[0] is None
    assert t.mapping["id"] == "raw_unique_id"
    assert not {"origin_source", "origin_label", "origin_database"} & set(t.mapping.values())


def test_explicit_mapping_wins_and_unknown_columns_are_kept(tmp_path):
    p = write(tmp_path, "papers.csv", "Paper,Who,title,Extra stuff\nReal title,Doe,Not the title,x\n")
    t = read_source(p, {"title": "paper", "authors": "Who"})  # case-insensitive column match
    assert t.mapping["title"] == "Paper" and t.mapping["authors"] == "Who"
    assert t.frame["Extra stuff"].iloc[0] == "x" and "title" in t.frame.columns
    assert t.missing_explicit == []


def test_explicit_mapping_to_missing_or_origin_column_is_reported(tmp_path):
    a = write(tmp_path, "a.csv", "title,source\nA,Embase\n")
    b = write(tmp_path, "b.csv", "title,venue_x\nB,V\n")
    tables = read_sources([a, b], {"venue": "venue_x", "abstract": "nowhere", "note": "source"})
    assert tables[1].mapping["venue"] == "venue_x" and "venue" not in tables[0].mapping
    warned = " ".join(tables[0].warnings)
    assert "abstract -> 'nowhere': no source has that column" in warned
    assert "note -> 'source'" in warned and "venue" not in warned


def test_header_with_an_explicit_column_is_a_header(tmp_path):
    p = write(tmp_path, "odd.csv", "Paper 2001 edition,1999\nA,2\n")
    with pytest.raises(SourceError, match="looks like a record"):
        read_source(p)
    t = read_source(p, {"title": "Paper 2001 edition"})
    assert t.frame["Paper 2001 edition"].iloc[0] == "A"


def test_synonyms_and_combined_columns(tmp_path):
    p = write(tmp_path, "colrev.csv", "ID,ENTRYTYPE,author,title,journal,booktitle,number\n"
                                      "a,article,X,T1,J,,3\nb,inproceedings,Y,T2,,Proc,\n")
    t = read_source(p)
    assert t.mapping["id"] == "ID" and t.mapping["type"] == "ENTRYTYPE" and t.mapping["issue"] == "number"
    assert t.mapping["venue"] == "venue" and t.derived == {"venue": ["journal", "booktitle"]}
    assert t.frame["venue"].tolist() == ["J", "Proc"]
    assert t.frame["journal"].tolist() == ["J", None] and t.frame["booktitle"].tolist() == [None, "Proc"]
    # no combining when the first column is complete
    q = write(tmp_path, "full.csv", "title,journal,booktitle\nT,J,B\n")
    assert read_source(q).derived == {} and read_source(q).mapping["venue"] == "journal"


def test_resolve_mapping_api():
    assert resolve_mapping(["Title", "AU", "py"]) == {"title": "Title", "authors": "AU", "year": "py"}
    assert resolve_mapping(["TI", "IS"], preset={"title": ("TI",)}, use_synonyms=False) == {"title": "TI"}
    assert resolve_mapping(["x", "title"], explicit={"title": "x"}) == {"title": "x"}


def test_no_title_column(tmp_path):
    with pytest.raises(SourceError, match=r"no title column \(columns: name_of_thing, year\)"):
        read_source(write(tmp_path, "papers.csv", "name_of_thing,year\n1,2001\n"))


@pytest.mark.parametrize(("name", "content", "fmt"), [
    ("a.csv", "title\nA\n", "csv"), ("a.tsv", "title\nA\n", "tsv"), ("a.bib", "@article{k, title={A}}", "bibtex"),
    ("a.ris", "TY  - JOUR\nER  - \n", "ris"), ("a.xml", "<xml/>", "endnote"), ("a.nbib", "PMID- 1\n", "nbib"),
    ("a.json", "[]", "json"), ("a.jsonl", "{}", "jsonl"), ("a.csv.gz", "", "csv"), ("a.xml.gz", "", "endnote"),
    ("export.txt", "TY  - JOUR\nTI  - A\nER  - \n", "ris"), ("export.txt", "id,title\n1,A\n", "csv"),
    ("noext", "@article{k, title={A}}\n", "bibtex"), ("noext", '{"title": "A"}\n', "jsonl"),
    ("noext", "PMID- 1\nTI  - A\n", "nbib"), ("v1.2.csv", "title\nA\n", "csv"),
])
def test_detect_format(tmp_path, name, content, fmt):
    assert detect_format(write(tmp_path, name, content)) == fmt


def test_unknown_and_unsupported_formats(tmp_path):
    with pytest.raises(SourceError, match=r"unknown format '\.xyz' \(use one of the extensions"):
        read_source(write(tmp_path, "papers.xyz", "title\nA\n"))
    with pytest.raises(SourceError, match=r"a spreadsheet \(\.xlsx\) cannot be read directly \(export it as CSV"):
        read_source(write(tmp_path, "papers.xlsx", "x"))
    with pytest.raises(SourceError, match="no such file"):
        read_source(tmp_path / "missing.csv")
    with pytest.raises(SourceError, match="is a folder"):
        read_source(tmp_path)


def test_source_args_and_names(tmp_path):
    p = write(tmp_path, "papers.csv", "title\nA\n")
    assert parse_source_arg(f"dblp={p}") == ("dblp", p, None)
    assert parse_source_arg("lib.duckdb:main.papers") == (None, Path("lib.duckdb"), "main.papers")
    assert normalise_source_name("SupportedSources.PAPERS_WITH_CODE") == "papers_with_code"
    assert normalise_source_name("Web of Science") == "web_of_science"
    assert read_source(("My Source", p)).name == "my_source"
    tables = read_sources([p, p, f"papers_2={p}"])
    assert [t.name for t in tables] == ["papers", "papers_3", "papers_2"]
    assert set(tables[1].frame["source"]) == {"papers_3"}


def test_samples_hold_no_local_paths():
    needle = "/".join(["", "work", ""]).encode()  # the machine's data folder, spelled so this file holds none
    for f in DATA.iterdir():
        assert needle not in f.read_bytes(), f.name
