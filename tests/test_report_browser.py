"""report.html in headless Chromium with networking disabled: charts draw, search and waterfalls work,
record text with markup stays text, no errors. Needs Debian's ``chromium`` (``make test`` installs it)."""

from __future__ import annotations

import re
import shutil
import subprocess
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from linkage.reports import write_report

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
SEED = ("aggregator:pwc-43", "aggregator:arxiv-43")
TITLE = "Understanding Loss Landscapes of Neural Network Models in Solving Partial Differential Equations"
XSS_L = '<script>alert("xss1")</script> ' + TITLE
XSS_R = '"><img src=x onerror=alert("xss2")> ' + TITLE
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars",
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000"]


def chromium() -> str:
    path = shutil.which("chromium")
    assert path, "chromium is not installed: 'make test' installs it (apt-get install chromium)"
    return path


def run_chromium(url: str, profile: Path, *extra: str) -> tuple[str, str]:
    res = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, url],
                         capture_output=True, text=True, timeout=90)
    assert res.returncode == 0, f"chromium exited with {res.returncode}: {res.stderr[-500:]}"
    return res.stdout, res.stderr


class Elements(HTMLParser):
    """Real elements of the dumped DOM (text inside <script> or attributes is not markup)."""

    def __init__(self):
        super().__init__()
        self.bad: list[str] = []
        self.open: str | None = None
        self.marks = 0
        self.comparisons: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.open = tag
        if tag == "img" and "onerror" in a:
            self.bad.append("an <img onerror> from a record became an element")
        if tag in ("svg", "canvas") and "marks" in (a.get("class") or ""):
            self.marks += 1
        if tag == "tr" and a.get("data-comparison"):
            self.comparisons.append(a["data-comparison"])

    def handle_endtag(self, tag):
        self.open = None

    def handle_data(self, data):
        if self.open == "script" and re.match(r"\s*alert\(", data):
            self.bad.append("a <script> from a record became an element")


@pytest.fixture(scope="module")
def report(example_run, tmp_path_factory) -> Path:
    """The example run's report, with markup in the titles of the seed pair's two records."""
    out = tmp_path_factory.mktemp("browser") / "run"
    shutil.copytree(example_run.out, out)
    rec = pd.read_parquet(out / "records.parquet")
    rec.loc[rec["unique_id"] == SEED[0], "title"] = XSS_L
    rec.loc[rec["unique_id"] == SEED[1], "title"] = XSS_R
    rec.to_parquet(out / "records.parquet", index=False)
    return write_report(out)


def test_report_in_headless_chromium(report, example_run, tmp_path):
    url = report.resolve().as_uri() + "#tab=decisions&q=" + urllib.parse.quote("loss landscapes") + "&open=first"
    dom, log = run_chromium(url, tmp_path / "profile", "--dump-dom")
    errors = [line for line in log.splitlines() if "Uncaught" in line or ("CONSOLE" in line and "rror" in line)]
    assert not errors, errors[:3]
    assert 'data-ready="1"' in dom, "the page did not finish loading its data and charts"
    assert "data-errors=" not in dom, re.findall(r"The report hit a problem:[^<]*", dom)[:3]
    page = Elements()
    page.feed(dom)
    assert not page.bad, page.bad
    # every chart drew: histogram, match weights, m/u, works by size, and the selected pair's waterfall
    assert page.marks >= 5, f"only {page.marks} charts rendered"
    # the search found the pair and selecting it shows its waterfall, one row per comparison
    assert "1–1 of 1 (filtered from" in dom
    assert page.comparisons == [c["output_column_name"] for c in example_run.model["comparisons"]]
    assert "same title" in dom and "starting match weight" in dom
    # the markup in the titles is shown as text
    assert '&lt;script&gt;alert("xss1")&lt;/script&gt; Understanding' in dom
    assert '"&gt;&lt;img src=x onerror=alert("xss2")&gt; Understanding' in dom

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-decisions.png"
    shot.unlink(missing_ok=True)
    run_chromium(url, tmp_path / "profile2", f"--screenshot={shot}", "--window-size=1400,2000")
    assert shot.is_file() and shot.stat().st_size > 10_000


def test_landing_view_draws_its_charts(report, tmp_path):
    dom, log = run_chromium(report.resolve().as_uri(), tmp_path / "profile", "--dump-dom")
    assert not [line for line in log.splitlines() if "Uncaught" in line]
    page = Elements()
    page.feed(dom)
    assert page.marks >= 4 and not page.bad
    assert 'id="chart-histogram"' in dom and 'id="chart-match_weights"' in dom
    assert re.search(r'id="tab-overview" class="tab"(?! hidden)', dom)
