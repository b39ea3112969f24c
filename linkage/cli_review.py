"""The ``review`` commands (export the review band, import decisions, list works at risk) and ``export``
(the deduplicated library), registered on the ``linkage`` group by ``cli.py``."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import click
from rich.table import Table
from rich.text import Text

from .cli import _escape, cli, console, stdout
from .errors import LinkageError


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[IO[str]]:
    """A UTF-8 text stream: the file ``path`` (written whole or not at all), else standard output."""
    if path:
        p = Path(path)
        tmp = p.with_name(f".{p.name}.tmp")
        try:
            f = open(tmp, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise LinkageError(f"{p}: cannot write ({exc.strerror or exc})", "choose another -o file") from exc
        try:
            with f:
                yield f
            os.replace(tmp, p)
        finally:
            if tmp.exists():
                tmp.unlink()
        return
    binary = click.get_binary_stream("stdout")
    wrapper = io.TextIOWrapper(binary, encoding="utf-8", newline="", write_through=False)
    try:
        yield wrapper
        wrapper.flush()
    except BrokenPipeError:  # e.g. piped into head: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        with contextlib.suppress(Exception):
            wrapper.detach()


@cli.group()
def review() -> None:
    """Clerical review: the review band as a sheet, decisions into the decisions file, works at risk.

    \b
    Round trip:
      linkage review export RUN -o band.csv          # fill the 'decision' column: same / different / unsure
      linkage review import RUN band.csv --into decisions.csv
      linkage run SOURCES... --decisions decisions.csv
    The report's Review page downloads a decisions file too (mark pairs offline, then 'Download').
    """


@review.command("export")
@click.argument("run_dir", type=click.Path())
@click.option("--output", "-o", type=click.Path(), help="Write to this CSV file instead of standard output.")
@click.option("--skip-decided", is_flag=True, help="Leave out pairs the decisions file already decides.")
def review_export(run_dir, output, skip_decided):
    """Write the review band's pairs of RUN_DIR as a CSV sheet with an empty 'decision' column.

    One row per scored pair within the settings' review band around the threshold, nearest the
    threshold first: both records side by side (ids, sources, titles, authors, year, venue, DOI), the
    match weight and probability, what the model decided, the three comparisons that weighed most, and
    any decision already on file. Fill 'decision' (same / different / unsure; 'who' and 'note' if you
    like) and import it with 'linkage review import'.

    Example: linkage review export reports/example -o band.csv
    """
    from .explain import RunData
    from .review import write_review_sheet

    run = RunData(run_dir)
    with _output(output) as f:
        n = write_review_sheet(run, f, skip_decided=skip_decided)
    lo, hi = run.threshold + run.band[0], run.threshold + run.band[1]
    where = f" to {output}" if output else ""
    console.print(f"{n:,} pairs in the review band (match weight {lo:.2f} to {hi:.2f}, threshold "
                  f"{run.threshold:.2f}) written{where}", soft_wrap=True)


@review.command("import")
@click.argument("run_dir", type=click.Path())
@click.argument("decisions", type=click.Path())
@click.option("--into", type=click.Path(),
              help="Decisions file to merge into (default: the one the run's settings name under 'decisions:').")
@click.option("--who", help="Reviewer recorded for rows without a 'who'.")
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
def review_import(run_dir, decisions, into, who, dry_run):
    """Validate DECISIONS against RUN_DIR and merge it into the decisions file.

    DECISIONS is a CSV with unique_id_l, unique_id_r, decision (same / different / unsure) and, if
    wanted, who, when, note: a filled review sheet or the report's download. Unknown record ids and
    decisions are errors naming their lines; rows without a decision are skipped. A later decision for
    a pair replaces the earlier one. Conflicting decisions (A–B same, B–C same, A–C different) are
    reported: the cannot-link holds and the must-links joining its pair are not applied.

    Example: linkage review import reports/example decisions-download.csv --into decisions.csv
    """
    from .review import import_decisions

    res = import_decisions(run_dir, decisions, into=into, who=who, dry_run=dry_run)
    imp = res.imported
    verb = "would import" if dry_run else "imported"
    console.print(f"{verb} {res.n_imported:,} decisions from {res.source} ({imp['same']:,} same, "
                  f"{imp['different']:,} different, {imp['unsure']:,} unsure)"
                  + (f"; {res.undecided:,} rows without a decision skipped" if res.undecided else ""),
                  soft_wrap=True)
    if res.replaced:
        console.print(f"{res.replaced:,} earlier decisions replaced ({len(res.changed):,} changed)", soft_wrap=True)
        for ch in res.changed[:10]:
            by = f" by {ch['earlier_who']}" if ch.get("earlier_who") else ""
            console.print(Text(f"  {ch['pair'][0]} – {ch['pair'][1]}: {ch['earlier_decision']}{by} → "
                               f"{ch['decision']}"), soft_wrap=True)
    info = res.constraints
    for w in info.get("warnings", [])[:20]:
        console.print(f"[yellow]warning:[/yellow] {_escape(str(w))}", soft_wrap=True)
    state = "new file" if res.created else "updated"
    if dry_run:
        stdout.print(f"decisions file: {res.target} (not written: --dry-run)")
    else:
        stdout.print(f"decisions file: {res.target} ({state}, {res.total:,} decisions: {info.get('must_link', 0):,} "
                     f"must-link, {info.get('cannot_link', 0):,} cannot-link, {info.get('unsure', 0):,} unsure, "
                     f"{info.get('conflicts_total', 0):,} conflicts)")
    if res.target_from == "settings":
        console.print("every later 'linkage run' with these settings applies it", soft_wrap=True)
    else:
        console.print(f"apply it with: linkage run SOURCES... --decisions {res.target} (or name it in the "
                      "settings: decisions: FILE, relative to the settings file)", soft_wrap=True)


@review.command("clusters")
@click.argument("run_dir", type=click.Path())
@click.option("--top", type=int, default=20, show_default=True, help="Works to list.")
@click.option("--output", "-o", type=click.Path(),
              help="Also write the diagnostics as CSV (cluster_diagnostics.parquet is always written).")
def review_clusters(run_dir, top, output):
    """The works of RUN_DIR most at risk of being wrongly merged: weakest links and bridges first.

    Writes RUN_DIR/cluster_diagnostics.parquet (one row per multi-record work: size, sources, weakest
    edge, bridges whose removal splits it, links to other works refused, risk) and lists the top ones.

    Example: linkage review clusters reports/example --top 10
    """
    from .explain import RunData
    from .review import cluster_diagnostics, write_cluster_diagnostics

    run = RunData(run_dir)
    df = cluster_diagnostics(run)
    path = write_cluster_diagnostics(run, df)
    if output:
        flat = df.copy()
        for c in ("sources", "bridge_l", "bridge_r", "bridge_weights"):
            flat[c] = flat[c].map(lambda v: "; ".join(str(x) for x in v))
        with _output(output) as f:
            flat.to_csv(f, index=False, lineterminator="\n")
    t = Table(header_style="bold")
    for c, j in (("rank", "right"), ("work", "left"), ("size", "right"), ("sources", "left"),
                 ("weakest edge", "right"), ("bridges", "right"), ("weakest bridge", "right"),
                 ("links refused", "right"), ("risk", "right")):
        t.add_column(c, justify=j, overflow="fold")
    for r in df.head(top).to_dict(orient="records"):
        def f(v: float | None) -> str:
            return "–" if v is None or v != v else f"{v:.2f}"

        t.add_row(str(r["rank"]), Text(str(r["cluster_id"])), str(r["size"]), Text(r["source_counts"]),
                  f(r["weakest_edge"]), str(r["bridges"]), f(r["weakest_bridge"]), str(r["split_links"]),
                  f"{r['risk']:.3g}")
    from rich.console import Console

    out = stdout if stdout.is_terminal else Console(highlight=False, width=160)  # readable when piped
    out.print(t)
    out.print(Text(f"{len(df):,} works with more than one record; diagnostics: {path}"
                   + (f" and {output}" if output else "")), soft_wrap=True)


@cli.command("export")
@click.argument("run_dir", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["csv", "ris", "bibtex", "bib", "jsonl"]), default=None,
              help="Output format (default: from the -o file's extension, else csv).")
@click.option("--keep", type=click.Choice(["merged", "first", "all"]), default="merged", show_default=True,
              help="merged: one merged record per work; first: each work's first record as read; "
                   "all: every record with its work's id.")
@click.option("--output", "-o", type=click.Path(), help="Write to this file instead of standard output.")
@click.option("--summary", type=click.Path(), help="Also write the counts (PRISMA numbers) as JSON to this file.")
def export(run_dir, fmt, keep, output, summary):
    """Write the deduplicated library of RUN_DIR as CSV, RIS, BibTeX or JSON Lines.

    RIS and BibTeX carry each entry's provenance (work id, member record ids, sources) and read back
    into reference managers and 'linkage run'. The counts go to standard error: records identified per
    source, duplicates removed, unique works, reviewed pairs (records = unique works + duplicates removed).

    \b
    Examples:
      linkage export reports/example --format ris -o library.ris
      linkage export reports/example --format bibtex --keep all > all.bib
    """
    from .explain import RunData
    from .export import export_library, format_counts, format_for

    run = RunData(run_dir)
    fmt = format_for(fmt, output)
    with _output(output) as f:
        counts = export_library(run, fmt, keep, f)
    for line in format_counts(counts):
        console.print(Text(line), soft_wrap=True)
    if output:
        console.print(Text(f"library: {output}"))
    if summary:
        try:
            Path(summary).write_text(json.dumps(counts, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        except OSError as exc:
            raise LinkageError(f"{summary}: cannot write ({exc.strerror or exc})") from exc
