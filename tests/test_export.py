"""The deduplicated library: RIS, BibTeX, CSV and JSON Lines exports read back through rispy, bibtexparser
and the project's own readers with no record lost, provenance kept, special characters safe, and the
PRISMA counts adding up."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import bibtexparser
import pandas as pd
import pytest
import rispy
from click.testing import CliRunner

import linkage
from linkage.cli import cli
from linkage.errors import LinkageError
from linkage.explain import RunData
from linkage.export import (
    Work,
    balance_braces,
    export_library,
    format_for,
    latex_escape,
    prisma_counts,
    ris_name,
    split_authors,
    unique_keys,
    write_bibtex,
    write_ris,
)
from linkage.sources import read_source


def export(run_dir: Path, *args: str):
    res = CliRunner().invoke(cli, ["export", str(run_dir), *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res


def read_back(text: str, tmp_path: Path, ext: str):
    p = tmp_path / f"library.{ext}"
    p.write_text(text, encoding="utf-8")
    return read_source(str(p))


def one_line(s: str | None) -> str:
    return " ".join(str(s).split()) if s else ""


@pytest.mark.parametrize("keep", ["merged", "first", "all"])
def test_ris_reads_back_whole(example_run, tmp_path, keep):
    res = export(example_run.out, "--format", "ris", "--keep", keep)
    entries = rispy.loads(res.stdout)
    clusters = example_run.clusters
    want = len(clusters) if keep == "all" else clusters["cluster_id"].nunique()
    assert len(entries) == want
    # provenance: the work id of every entry, and every record accounted for
    assert {e["custom1"] for e in entries} == set(clusters["cluster_id"])
    members = [m for e in entries for m in e["custom2"].split("; ")]
    if keep == "all":
        assert sorted(e["id"] for e in entries) == sorted(clusters["unique_id"])
    else:
        assert sorted(members) == sorted(clusters["unique_id"])  # each record in exactly one entry
    assert all(e["notes"][0].startswith("linkage: ") for e in entries)
    table = read_back(res.stdout, tmp_path, "ris")
    assert len(table.frame) == want and table.n_parse_errors == 0 and not table.warnings
    if keep == "merged":  # the merged titles, as chosen
        titles = {one_line(t) for t in example_run.merged["title"] if isinstance(t, str)}
        assert {e["title"] for e in entries if "title" in e} == titles
        seed = next(e for e in entries if "aggregator:arxiv-43" in e["custom2"])
        assert seed["type_of_reference"] == "UNPB" and "https://arxiv.org/abs/2103.11069" in seed["urls"]
        assert seed["authors"][0] == "Wu, Keke" and seed["date"] == "2021/03/20"


@pytest.mark.parametrize("keep", ["merged", "first", "all"])
def test_bibtex_reads_back_whole(example_run, tmp_path, keep):
    res = export(example_run.out, "--format", "bibtex", "--keep", keep)
    lib = bibtexparser.parse_string(res.stdout)
    clusters = example_run.clusters
    want = len(clusters) if keep == "all" else clusters["cluster_id"].nunique()
    assert len(lib.entries) == want and not lib.failed_blocks
    keys = [e.key for e in lib.entries]
    assert len(set(keys)) == len(keys) and all(re.fullmatch(r"[a-z0-9]+", k) for k in keys)
    works = {e.fields_dict["linkage_work"].value for e in lib.entries}
    assert works == set(clusters["cluster_id"])
    if keep == "all":
        assert sorted(e.fields_dict["linkage_id"].value for e in lib.entries) == sorted(clusters["unique_id"])
    else:
        members = [m for e in lib.entries for m in e.fields_dict["linkage_members"].value.split("; ")]
        assert sorted(members) == sorted(clusters["unique_id"])
    table = read_back(res.stdout, tmp_path, "bib")
    assert len(table.frame) == want and table.n_parse_errors == 0 and not table.warnings


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_tables_read_back_whole(example_run, tmp_path, fmt):
    clusters = example_run.clusters
    cluster_of = dict(zip(clusters["unique_id"], clusters["cluster_id"]))
    for keep, want in (("merged", clusters["cluster_id"].nunique()), ("first", clusters["cluster_id"].nunique()),
                       ("all", len(clusters))):
        res = export(example_run.out, "--format", fmt, "--keep", keep)
        table = read_back(res.stdout, tmp_path, fmt)
        assert len(table.frame) == want and table.n_parse_errors == 0
        df = (pd.read_csv(io.StringIO(res.stdout), dtype=str, keep_default_na=False) if fmt == "csv"
              else pd.DataFrame([json.loads(line) for line in res.stdout.splitlines()]))
        assert len(df) == want
        if keep == "merged":
            assert list(df.columns[:4]) == ["cluster_id", "size", "member_ids", "sources"]
            assert set(df["cluster_id"]) == set(clusters["cluster_id"])
        else:
            assert list(df.columns[:6]) == ["cluster_id", "cluster_size", "first_in_cluster", "unique_id", "source",
                                            "source_id"]
            assert all(cluster_of[u] == c for u, c in zip(df["unique_id"], df["cluster_id"]))
            assert "title_norm" not in df.columns and "title" in df.columns  # raw fields only
        if keep == "first":
            assert set(df["cluster_id"]) == set(clusters["cluster_id"])
            assert {str(v) for v in df["first_in_cluster"]} == {"True"}
            # the first record in input order: dblp was given first
            first_of = clusters.assign(o=range(len(clusters))).sort_values("o").groupby("cluster_id").head(1)
            records = example_run.records.reset_index()
            pos = dict(zip(records["unique_id"], records["index"]))
            expect = {c: min(g, key=pos.get) for c, g in clusters.groupby("cluster_id")["unique_id"]}
            assert dict(zip(df["cluster_id"], df["unique_id"])) == expect
            assert len(first_of) == len(df)


def test_counts_add_up(example_run, tmp_path):
    res = export(example_run.out, "--format", "ris", "--keep", "merged", "-o", str(tmp_path / "lib.ris"),
                 "--summary", str(tmp_path / "counts.json"))
    assert res.stdout == "" and (tmp_path / "lib.ris").is_file()
    c = json.loads((tmp_path / "counts.json").read_text())
    info = example_run.info["counts"]
    assert c["records_identified"] == info["records"] == sum(c["records_per_source"].values())
    assert c["unique_works"] == info["clusters"]
    assert c["records_identified"] == c["unique_works"] + c["duplicates_removed"]
    assert c["duplicates_removed"] == sum(c["duplicates_removed_per_source"].values()) == info["duplicates_removed"]
    assert c["records_per_source"] == {"acm": 270, "aggregator": 2, "dblp": 300}
    assert c["entries_written"] == c["unique_works"] and c["reviewed_pairs"]["decided"] == 0
    assert "records identified: 572" in res.stderr and "duplicates removed:" in res.stderr
    assert "unique works:" in res.stderr and "reviewed pairs:" in res.stderr


def test_counts_include_reviewed_pairs(example_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(example_run.out, run_dir)
    info = json.loads((run_dir / "run.json").read_text())
    info["decisions"] = {"file": "d.csv", "pairs_decided": 5, "must_link": 2, "cannot_link": 2, "unsure": 1,
                         "conflicts_total": 1}
    (run_dir / "run.json").write_text(json.dumps(info))
    c = prisma_counts(RunData(run_dir))
    assert c["reviewed_pairs"] == {"file": "d.csv", "decided": 5, "same": 2, "different": 2, "unsure": 1,
                                   "conflicts": 1}


def test_format_and_keep_choices(example_run, tmp_path):
    assert format_for(None, "x.bib") == "bibtex" and format_for(None, "x.RIS") == "ris"
    assert format_for(None, None) == "csv" and format_for("bib", None) == "bibtex"
    export(example_run.out, "-o", str(tmp_path / "lib.bib"))
    assert bibtexparser.parse_string((tmp_path / "lib.bib").read_text()).entries
    with pytest.raises(LinkageError, match="unknown --keep"):
        export_library(example_run.out, "ris", "some", io.StringIO())
    res = CliRunner().invoke(cli, ["export", str(tmp_path / "nothing")])
    assert res.exit_code == 1 and "not a run folder" in res.output


# ---------------------------------------------------------------------------------------------------------
# Values: escaping, names, keys
# ---------------------------------------------------------------------------------------------------------

NASTY = [
    "Cost & benefit: 100% of $x_1$ #1 ~ ^ back\\slash",
    "Unbalanced { brace and } } extra",
    "Looks like an entry @article{evil, title={x}} inside",
    'Quotes " and commas, newlines\nand\ttabs',
    "Ünïcödé — 数据 ∑",
]


def test_bibtex_escapes_special_characters(tmp_path):
    works = [Work(ident=f"s:{i}", cluster_id=f"s:{i}", members=[f"s:{i}"], sources=["s"], title=t,
                  authors=["O'Neill, Zoë", "van der Berg, Jan"], year=2020, venue="J. {Weird} & Co",
                  pages="1-10", dois=["10.1/a_b"], urls=["example.org/a_b%20c"])
             for i, t in enumerate(NASTY)]
    buf = io.StringIO()
    assert write_bibtex(works, buf) == len(works)
    lib = bibtexparser.parse_string(buf.getvalue())
    assert len(lib.entries) == len(works) and not lib.failed_blocks
    e = lib.entries[0].fields_dict
    assert e["title"].value == r"Cost \& benefit: 100\% of \$x\_1\$ \#1 \textasciitilde{} \textasciicircum{} back" \
                               r"\textbackslash{}slash"
    assert e["pages"].value == "1--10" and e["doi"].value == "10.1/a_b"
    assert e["url"].value == "https://example.org/a_b%20c"
    assert e["author"].value == "O'Neill, Zoë and van der Berg, Jan"
    for entry in lib.entries:  # every value's braces balance, as BibTeX counts them (escaped or not)
        for f in entry.fields:
            assert f.value.count("{") == f.value.count("}"), (f.key, f.value)
    p = tmp_path / "nasty.bib"
    p.write_text(buf.getvalue(), encoding="utf-8")
    t = read_source(str(p))
    assert len(t.frame) == len(works) and t.n_parse_errors == 0
    assert t.frame["title"].iloc[4] == "Ünïcödé — 数据 ∑"


def test_ris_keeps_one_line_values():
    w = Work(ident="s:1", cluster_id="s:1", members=["s:1", "t:2"], sources=["s", "t"], title=NASTY[3],
             abstract="line one\nER  - \nline two", authors=["Daniel J. Abadi", "Chen J. R."], pub_type="article")
    buf = io.StringIO()
    write_ris([w, w], buf)
    text = buf.getvalue()
    assert not text.startswith("1.")  # no rispy numbering lines
    entries = rispy.loads(text)
    assert len(entries) == 2 and entries[0]["abstract"] == "line one ER - line two"
    assert entries[0]["authors"] == ["Abadi, Daniel J.", "Chen, J. R."] and entries[0]["type_of_reference"] == "JOUR"


def test_latex_helpers():
    assert balance_braces("a { b } } c {") == "a { b }  c "
    assert latex_escape("{x}") == r"\{x\}"
    assert latex_escape("a_b & c") == r"a\_b \& c"


def test_split_authors_keeps_characters():
    assert split_authors("Bertram Ludäscher, Zoë O'Neill and others") == ["Bertram Ludäscher", "Zoë O'Neill"]
    assert split_authors("Lud&#228;scher, B. and Ólafsson, Ó.") == ["Ludäscher, B.", "Ólafsson, Ó."]
    assert split_authors(["Keke Wu", "Rui Du"]) == ["Keke Wu", "Rui Du"]
    assert split_authors("Aha, D. W., Kibler, D., and Albert, M. K.") == ["Aha, D. W.", "Kibler, D.", "Albert, M. K."]
    assert split_authors(None) == [] and split_authors("") == []
    assert ris_name("Ludwig van Beethoven") == "van Beethoven, Ludwig"
    assert ris_name("Martin Luther King Jr.") == "King, Martin Luther, Jr."
    assert ris_name("Smith, J.") == "Smith, J." and ris_name("Plato") == "Plato"


def test_unique_keys():
    assert unique_keys(["a2020x", "a2020x", "b", "a2020x", "a2020xa"]) == ["a2020x", "a2020xa", "b", "a2020xb",
                                                                         "a2020xaa"]
    assert len(set(unique_keys(["k"] * 100))) == 100


# ---------------------------------------------------------------------------------------------------------
# Reference-manager sources in, reference-manager files out
# ---------------------------------------------------------------------------------------------------------

BIB = r"""
@article{knuth1984,
  author = {Knuth, Donald E.},
  title = {Literate Programming},
  journal = {The Computer Journal},
  year = {1984}, volume = {27}, number = {2}, pages = {97--111},
  doi = {10.1093/comjnl/27.2.97}
}
@inproceedings{barbara94,
  author = {Barbar{\'a}, Daniel and Imieli{\'n}ski, Tomasz},
  title = {Sleepers and Workaholics: {C}aching Strategies in Mobile Environments},
  booktitle = {Proc. SIGMOD \& PODS},
  year = {1994}, pages = {1--12}
}
"""
RIS = """TY  - JOUR
ID  - r1
TI  - Literate programming
AU  - Knuth, D. E.
PY  - 1984
JO  - Computer Journal
VL  - 27
SP  - 97
EP  - 111
DO  - 10.1093/COMJNL/27.2.97
ER  -

TY  - JOUR
ID  - r2
TI  - An unrelated paper on graph colouring
AU  - Doe, Jane
PY  - 2001
ER  -
"""


@pytest.mark.slow
def test_reference_sources_round_trip(tmp_path):
    (tmp_path / "mine.bib").write_text(BIB, encoding="utf-8")
    (tmp_path / "db.ris").write_text(RIS, encoding="utf-8")
    run = linkage.run([str(tmp_path / "mine.bib"), str(tmp_path / "db.ris")], out=tmp_path / "run", report=False)
    c = run.clusters.set_index("unique_id")["cluster_id"]
    assert c["mine:knuth1984"] == c["db:r1"]  # one work by DOI
    n_works = c.nunique()
    out = {}
    for fmt in ("bibtex", "ris"):
        for keep in ("merged", "all"):
            buf = io.StringIO()
            export_library(run.out, fmt, keep, buf)
            out[fmt, keep] = buf.getvalue()
    assert len(bibtexparser.parse_string(out["bibtex", "merged"]).entries) == n_works == 3
    assert len(rispy.loads(out["ris", "all"])) == 4
    # --keep all in BibTeX: a record read from BibTeX keeps its LaTeX; in RIS it is repaired text
    bib_all = bibtexparser.parse_string(out["bibtex", "all"])
    b94 = next(e for e in bib_all.entries if e.fields_dict["linkage_id"].value == "mine:barbara94").fields_dict
    assert b94["title"].value == "Sleepers and Workaholics: {C}aching Strategies in Mobile Environments"
    assert b94["booktitle"].value == r"Proc. SIGMOD \& PODS"
    assert b94["author"].value == "Barbará, Daniel and Imieliński, Tomasz"
    ris94 = next(e for e in rispy.loads(out["ris", "all"]) if e["id"] == "mine:barbara94")
    assert "\\" not in ris94["secondary_title"] and "&" in ris94["secondary_title"]  # LaTeX repaired in RIS
    assert ris94["title"] == "Sleepers and Workaholics: Caching Strategies in Mobile Environments"
    assert ris94["authors"][0] == "Barbará, Daniel"
    assert ris94["start_page"] == "1" and ris94["end_page"] == "12"
    # the exports are inputs again: a second run on them finds no record lost
    for (fmt, keep), text in out.items():
        p = tmp_path / f"again-{keep}.{'bib' if fmt == 'bibtex' else 'ris'}"
        p.write_text(text, encoding="utf-8")
        assert len(read_source(str(p)).frame) == (4 if keep == "all" else 3)
