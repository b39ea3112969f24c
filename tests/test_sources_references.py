"""RIS, BibTeX, EndNote XML and PubMed/MEDLINE readers: real samples, and their malformed variants."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from linkage.errors import SourceError
from linkage.sources import read_source

DATA = Path(__file__).parent / "data" / "sources"


# ---------------------------------------------------------------------------------------------------------
# RIS
# ---------------------------------------------------------------------------------------------------------


def test_ris_stroke_sample():
    t = read_source(DATA / "stroke.ris")
    assert t.format == "ris" and len(t.frame) == 20 and t.n_parse_errors == 0
    row = t.frame.iloc[0]
    assert row["source_id"] == "id_0000091"
    assert row["authors"][:2] == ["Si Hyun, Kang", "Kim, Don-Kyu"]
    assert row["journal_name"] == "Clinical Rehabilitation" and row["pages"] == "434-444"
    assert t.mapping["title"] == "title" and t.mapping["venue"] == "journal_name"
    assert t.mapping["type"] == "type_of_reference" and t.mapping["issue"] == "number"
    # the ids agree with the BibTeX and ASySD copies of the same records
    assert t.frame["source_id"].tolist() == read_source(DATA / "stroke.bib").frame["source_id"].tolist()


def test_ris_missing_er_at_end():
    t = read_source(DATA / "stroke_missing_er.ris")
    good = read_source(DATA / "stroke.ris")
    assert len(t.frame) == 20
    assert t.frame["title"].tolist() == good.frame["title"].tolist()
    err = t.frame["parse_error"].iloc[-1]
    assert err.startswith("line ") and "the last entry has no closing 'ER  -' line" in err
    assert t.n_parse_errors == 1


def test_ris_entry_without_er_before_next_and_orphan_tags(tmp_path):
    p = tmp_path / "mid.ris"
    p.write_text("TY  - JOUR\nTI  - One\nTY  - JOUR\nTI  - Two\nER  - \n\nAU  - Orphan, A.\nTI  - Three\nER  - \n")
    t = read_source(p)
    assert t.frame["title"].tolist() == ["One", "Two", "Three"]
    err = t.frame["parse_error"].tolist()
    assert err[0] == "line 1: the entry has no closing 'ER  -' line before the next entry starts on line 3"
    assert err[1] is None
    assert err[2] == "line 7: tag lines outside an entry (no 'TY  -' line starts this entry)"


def test_ris_variants(tmp_path):
    p = tmp_path / "variants.ris"
    p.write_text("TY - JOUR\nT1 - Primary title only\nA1 - Doe, J.\nAB - An abstract line\ncontinued here\n"
                 "SP - 5\nXX - custom tag\nER - \n"
                 "TY  - CONF\nTI  - \nTI  - Second\nTI  - Second again\nAU  - Roe, R.\nT2  - Proc. of Things\nER  - \n")
    t = read_source(p)
    assert t.n_parse_errors == 0
    # TI/T1 and AU/A1 are combined into derived columns, since each leaves a record empty
    assert t.mapping["title"] == "title_combined" and t.derived["title_combined"] == ["title", "primary_title"]
    assert t.frame["title_combined"].tolist() == ["Primary title only", "Second"]
    assert t.frame["primary_title"].tolist() == ["Primary title only", None]  # raw columns unchanged
    assert t.frame[t.mapping["authors"]].tolist() == [["Doe, J."], ["Roe, R."]]
    assert t.frame["abstract"].iloc[0] == "An abstract line continued here"
    assert t.frame["title_more"].iloc[1] == ["Second again"]  # a single-valued tag given twice: nothing lost
    assert t.frame["XX"].iloc[0] == "custom tag" and t.frame["pages"].iloc[0] == "5"
    assert t.frame[t.mapping["venue"]].tolist() == [None, "Proc. of Things"]


def test_ris_old_mac_line_ends_and_stray_text(tmp_path):
    p = tmp_path / "mac.ris"
    p.write_bytes(b"Exported from a database\rTY  - JOUR\rTI  - One\rER  - \r\rTY  - JOUR\rTI  - Two\rER  - \r")
    t = read_source(p)
    assert t.frame["title"].tolist() == ["One", "Two"] and t.n_parse_errors == 0
    assert any("line 1: 1 lines outside any entry" in w for w in t.warnings)


def test_not_a_ris_file(tmp_path):
    p = tmp_path / "x.ris"
    p.write_text("title,year\nA,2001\n")
    with pytest.raises(SourceError, match=r"x\.ris: line 1: not a RIS file \(no 'TY  - ' line"):
        read_source(p)


# ---------------------------------------------------------------------------------------------------------
# BibTeX
# ---------------------------------------------------------------------------------------------------------


def test_bibtex_stroke_sample():
    t = read_source(DATA / "stroke.bib")
    assert t.format == "bibtex" and len(t.frame) == 20 and t.n_parse_errors == 0
    row = t.frame.iloc[0]
    assert row["ID"] == "id_0000091" and row["ENTRYTYPE"] == "article"
    assert row["author"].startswith("Si Hyun, Kang and Kim, Don-Kyu")
    assert t.mapping == {"id": "ID", "type": "ENTRYTYPE", "title": "title", "authors": "author", "year": "year",
                         "venue": "journal", "volume": "volume", "pages": "pages"}


def test_bibtex_broken_entry_among_good_ones(caplog):
    t = read_source(DATA / "stroke_broken_entry.bib")
    assert len(t.frame) == 20
    bad = t.frame[t.frame["parse_error"].notna()]
    assert len(bad) == 1
    assert bad["parse_error"].iloc[0].startswith("line 37: the entry could not be parsed (Unexpected block start")
    assert bad["ID"].iloc[0] == "id_0000095" and bad["source_row"].iloc[0] == 5  # in file order, key salvaged
    assert bad["raw_entry"].iloc[0].startswith("@article{id_0000095,")
    good = read_source(DATA / "stroke.bib")
    assert t.frame["source_id"].tolist() == good.frame["source_id"].tolist()
    assert not [r for r in caplog.records if r.name.startswith("bibtexparser")]  # nothing printed


def test_bibtex_odd_entries(tmp_path):
    p = tmp_path / "odd.bib"
    p.write_text(
        "@string{jr = {Journal of Results}}\n"
        "@article{a1, title={One}, journal=jr}\n"
        "@article{a1, title={Two}}\n"
        "@article{a2, title={x}, title={y}}\n"
        "@article{a3,\n  title = {Good one}\n  author = {A, B},\n  year = {2001}\n}\n"
        "@article a4, title={Four}}\n"
        "@inproceedings{a5, title={The {DNA} story \\& more}, booktitle={Proc. of Things}}\n"
        "@comment{not a record}\n")
    t = read_source(p)
    f = t.frame.set_index("source_id")
    assert f.index.tolist() == ["a1", "a1#2", "a2", "a3", "a4", "a5"]
    assert f.loc["a1", "journal"] == "Journal of Results"  # @string resolved
    assert f.loc["a1#2", "title"] == "Two" and f.loc["a1#2", "parse_error"] is None  # repeated key: a record
    assert f.loc["a2", "title"] == "x" and f.loc["a2", "title_2"] == "y"
    assert f.loc["a2", "parse_error"] == "line 4: field 'title' given more than once; every value is kept " \
                                         "(title, title_2, ...)"
    assert "runs into the next field 'author' (a missing comma?)" in f.loc["a3", "parse_error"]
    assert f.loc["a4", "parse_error"] == "line 10: '@article' is not followed by '{' (the entry could not be parsed)"
    assert f.loc["a5", "title"] == "The {DNA} story \\& more"  # inner braces and escapes stay raw
    # journal and booktitle are combined into a derived venue column
    assert t.mapping["venue"] == "venue" and t.derived["venue"] == ["journal", "booktitle"]
    assert f.loc["a5", "venue"] == "Proc. of Things" and f.loc["a1", "venue"] == "Journal of Results"


def test_bibtex_braces_and_ampersands_like_the_check(tmp_path):
    p = tmp_path / "amp.bib"
    p.write_text("@article{k1,\n  title = {Risk & reward: stroke care in R&D settings},\n  author = {Doe, J.},\n"
                 "  year = {2001}\n}\n")
    t = read_source(p)
    assert t.frame["title"].iloc[0] == "Risk & reward: stroke care in R&D settings" and t.n_parse_errors == 0


def test_not_a_bibtex_file(tmp_path):
    p = tmp_path / "x.bib"
    p.write_text("just some text\n")
    with pytest.raises(SourceError, match=r"x\.bib: line 1: not a BibTeX file"):
        read_source(p)


# ---------------------------------------------------------------------------------------------------------
# EndNote XML
# ---------------------------------------------------------------------------------------------------------


def test_endnote_respiratory_gzipped():
    t = read_source(DATA / "respiratory_20.xml.gz")
    n_records = gzip.decompress((DATA / "respiratory_20.xml.gz").read_bytes()).count(b"<record>")
    assert t.format == "endnote" and len(t.frame) == n_records == 20 and t.n_parse_errors == 0
    row = t.frame.iloc[0]
    assert row["source_id"] == "2" and row["ref-type"] == "Journal Article"
    assert row["authors"] == ["Ziegler, T. R."] and row["secondary-title"].startswith("Jpen: Journal of Parenteral &")
    assert row["origin_database"] == "Respiratory.enl"  # <database> is an origin column
    assert t.mapping["venue"] == "secondary-title" and t.mapping["id"] == "rec-number"
    assert "caption" in t.frame.columns and "caption" not in t.mapping.values()  # kept raw, never a feature


def test_endnote_truncated_gzip():
    with pytest.raises(SourceError) as e:
        read_source(DATA / "respiratory_truncated.xml.gz")
    assert "respiratory_truncated.xml.gz: the gzip file is truncated" in str(e.value)
    assert "gzip -t" in str(e.value)


def test_endnote_cut_mid_record_keeps_the_others():
    t = read_source(DATA / "respiratory_cut.xml")
    assert len(t.frame) == 18 and t.n_parse_errors == 1
    last = t.frame.iloc[-1]
    assert last["parse_error"] == "line 1: record 18: malformed XML (no closing </record> (the file is truncated here))"
    assert last["raw_entry"].startswith("<record>") and last["source_id"] == last["rec-number"]
    assert any("not well-formed" in w for w in t.warnings)
    good = read_source(DATA / "respiratory_20.xml.gz")
    assert t.frame["title"].iloc[:17].tolist() == good.frame["title"].iloc[:17].tolist()


def test_malformed_xml_without_records(tmp_path):
    p = tmp_path / "bad.xml"
    p.write_text("<xml><records>\n<oops></records></xml>")
    with pytest.raises(SourceError, match=r"bad\.xml: line 2, column \d+: malformed XML"):
        read_source(p)


def test_endnote_without_records(tmp_path):
    p = tmp_path / "empty.xml"
    p.write_text('<?xml version="1.0" encoding="UTF-8" ?><xml><records></records></xml>')
    with pytest.raises(SourceError, match=r"empty\.xml: an EndNote XML file without <record> elements"):
        read_source(p)


def test_generic_record_xml(tmp_path):
    p = tmp_path / "cora.xml"
    p.write_text('<CORA>\n<NEWREFERENCE id="1">\nahlskog1994a <author> M. Ahlskog, J. Paloheimo </author> '
                 '<title> Inganas and M.R. </title> <date> (1994). </date>\n</NEWREFERENCE>'
                 '<NEWREFERENCE id="2">key2 <author> B. Other </author><title> A title </title></NEWREFERENCE>\n</CORA>')
    t = read_source(p)
    assert t.frame["source_id"].tolist() == ["1", "2"]
    assert t.frame["text"].tolist() == ["ahlskog1994a", "key2"]
    assert t.frame["title"].tolist() == ["Inganas and M.R.", "A title"]
    assert any("read the <NEWREFERENCE> elements as records" in w for w in t.warnings)


# ---------------------------------------------------------------------------------------------------------
# PubMed / MEDLINE
# ---------------------------------------------------------------------------------------------------------


def test_nbib_sample():
    t = read_source(DATA / "pubmed.nbib")
    assert t.format == "nbib" and len(t.frame) == 3 and t.n_parse_errors == 0
    row = t.frame.iloc[0]
    assert row["source_id"] == "90000091"
    assert row["TI"].startswith("A computerized visual perception") and "\n" not in row["TI"]
    assert row["TI"].endswith("pilot clinical trial study.")
    assert row["FAU"] == ["Kang, Si Hyun", "Kim, Don-Kyu", "Seo, Kyung Mook"]
    assert row["PT"] == ["Journal Article", "Randomized Controlled Trial"] and row["MH"][0] == "Humans"
    assert t.frame["doi"].tolist()[:2] == ["10.0000/placeholder.2009.0091", "10.0000/placeholder.2011.0092"]
    assert t.mapping["venue"] == "JT" and t.mapping["authors"] == "FAU" and t.mapping["date"] == "DP"
    assert "IS" not in t.mapping.values()  # MEDLINE IS is an ISSN, not an issue


def test_nbib_as_txt_and_errors(tmp_path):
    p = tmp_path / "export.txt"
    p.write_text("PMID- 1\nTI  - From a txt export\n\nPMID- 2\nTI  - Two\n")
    t = read_source(p)
    assert t.format == "nbib" and t.frame["TI"].tolist() == ["From a txt export", "Two"]
    q = tmp_path / "x.nbib"
    q.write_text("TI  - no pmid\n")
    with pytest.raises(SourceError, match=r"x\.nbib: line 1: not a PubMed/MEDLINE file"):
        read_source(q)
