"""The report's Review and Works-at-risk pages in headless Chromium with networking disabled: marking pairs
through the page's address, the decisions file it builds for download (a Blob read back into the page),
importing that file, and the works at risk with their bridges. Needs Debian's ``chromium``."""

from __future__ import annotations

import csv
import html
import io
import re
import urllib.parse

import pytest
from click.testing import CliRunner
from test_report_browser import Elements, run_chromium

from linkage.cli import cli
from linkage.constraints import read_decisions_file
from linkage.explain import RunData
from linkage.review import band_pairs

pytestmark = pytest.mark.browser


def page(report, tmp_path, hash_: str) -> str:
    dom, log = run_chromium(report.resolve().as_uri() + "#" + hash_, tmp_path / "profile", "--dump-dom")
    errors = [line for line in log.splitlines() if "Uncaught" in line or ("CONSOLE" in line and "rror" in line)]
    assert not errors, errors[:3]
    assert 'data-ready="1"' in dom, "the page did not finish loading"
    assert "data-errors=" not in dom, re.findall(r"The report hit a problem: [^<\"]*", dom)[:3]
    parsed = Elements()
    parsed.feed(dom)
    assert not parsed.bad
    return dom


def decisions_csv(dom: str) -> list[dict[str, str]]:
    m = re.search(r'<pre id="review-csv"[^>]*>(.*?)</pre>', dom, re.S)
    assert m, "no decisions file preview in the page"
    return list(csv.DictReader(io.StringIO(html.unescape(m.group(1)))))


def test_review_page_marks_and_builds_the_decisions_file(example_run, tmp_path):
    report = example_run.out / "report.html"
    run = RunData(example_run.out)
    band = band_pairs(run)
    band_set = {frozenset(p) for p in zip(band["unique_id_l"], band["unique_id_r"])}
    last = band.iloc[-1]
    by_ids = urllib.parse.quote(f"{last['unique_id_l']}|{last['unique_id_r']}:unsure", safe="")
    dom = page(report, tmp_path, f"tab=review&who=tester&mark=0:same,1:different,2:unsure,2:clear,{by_ids}&export=1")
    assert re.search(r'id="tab-review" class="tab"(?! hidden)', dom)
    assert 'data-review-file="3"' in dom
    link = re.search(r'<a [^>]*id="review-download"[^>]*>', dom).group(0)
    assert 'href="blob:' in link and 'download="decisions-' in link and 'data-rows="3"' in link
    rows = decisions_csv(dom)
    assert [r["decision"] for r in rows] == ["same", "different", "unsure"]
    assert all(r["who"] == "tester" and re.match(r"\d{4}-\d\d-\d\dT", r["when"]) for r in rows)
    assert all(frozenset((r["unique_id_l"], r["unique_id_r"])) in band_set for r in rows)
    assert {rows[2]["unique_id_l"], rows[2]["unique_id_r"]} == {last["unique_id_l"], last["unique_id_r"]}
    assert "3 marked (1 same, 1 different, 1 unsure)" in dom
    # every band pair is listed with its three buttons; the marked ones pressed
    assert dom.count('data-mark="same"') == min(len(band), 25)
    assert dom.count('aria-pressed="true"') >= 2
    # the downloaded file imports as it is
    (tmp_path / "download.csv").write_text(html.unescape(
        re.search(r'<pre id="review-csv"[^>]*>(.*?)</pre>', dom, re.S).group(1)), encoding="utf-8")
    res = CliRunner().invoke(cli, ["review", "import", str(example_run.out), str(tmp_path / "download.csv"),
                                   "--into", str(tmp_path / "decisions.csv")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    got = read_decisions_file(tmp_path / "decisions.csv").rows
    assert [(r.decision, r.who) for r in got] == [("same", "tester"), ("different", "tester"), ("unsure", "tester")]


def test_review_page_reports_bad_marks(example_run, tmp_path):
    dom, _ = run_chromium((example_run.out / "report.html").resolve().as_uri() + "#tab=review&mark=0:maybe,99999:same",
                          tmp_path / "profile", "--dump-dom")
    assert 'data-errors="2"' in dom
    assert "the decision is same, different, unsure or clear" in dom and "no such pair in the review band" in dom


def test_works_at_risk_page(example_run, tmp_path):
    dom = page(example_run.out / "report.html", tmp_path, "tab=risk&ropen=1")
    assert re.search(r'id="tab-risk" class="tab"(?! hidden)', dom)
    n = int(example_run.info["counts"]["duplicate_clusters"])
    assert f"of {n:,}" in dom or f"1–{n} of {n}" in dom
    assert "Bridges, weakest first" in dom and "Merged record" in dom and "at risk rank 1" in dom
