"""The ``report`` and ``explain`` commands (registered on the ``linkage`` group by ``cli.py``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from .cli import cli, console, stdout
from .errors import LinkageError


@cli.command()
@click.argument("run_dir", type=click.Path())
@click.option("--png", "png_dir", type=click.Path(), help="Also write every chart as PNG and SVG into this folder.")
def report(run_dir, png_dir):
    """Rebuild RUN_DIR/report.html, the self-contained report of a run (no network needed to view it).

    Example: linkage report reports/example --png reports/example/charts
    """
    from .explain import RunData
    from .reports import export_charts, write_report

    RunData(run_dir)  # a clear error for a folder that is not a run
    path = write_report(run_dir)
    stdout.print(f"report: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    if png_dir:
        files = export_charts(run_dir, png_dir)
        stdout.print(f"charts: {len(files)} files in {png_dir}")


@cli.command()
@click.argument("run_dir", type=click.Path())
@click.argument("ids", nargs=-1, metavar="[ID_A ID_B]")
@click.option("--all", "all_", is_flag=True, help="Export every decision (linked and review-band pairs).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "jsonl"]), default=None,
              help="table or json for one pair (default table); csv or jsonl with --all (default csv).")
@click.option("--output", "-o", type=click.Path(), help="Write to this file instead of standard output.")
def explain(run_dir, ids, all_, fmt, output):
    """Why two records are (not) duplicates: the waterfall of their match weight, from the prior to the decision.

    ID_A and ID_B are unique_id values of RUN_DIR/records.parquet; any two records of the run work, also a
    pair blocking never compared. With --all, one row per decision with each comparison's level and weight.

    \b
    Examples:
      linkage explain reports/example aggregator:pwc-43 aggregator:arxiv-43
      linkage explain reports/example --all --format csv -o decisions.csv
    """
    from .explain import RunData, explain_pair, write_decisions

    run = RunData(run_dir)
    if all_:
        if ids:
            raise LinkageError("give either two record ids or --all, not both")
        fmt = fmt or "csv"
        if fmt not in ("csv", "jsonl"):
            raise LinkageError(f"--all writes csv or jsonl, not {fmt}", "use --format csv or --format jsonl")
        if output:
            try:
                with open(output, "w", encoding="utf-8", newline="") as f:
                    n = write_decisions(run, fmt, f)
            except OSError as exc:
                raise LinkageError(f"{output}: cannot write ({exc.strerror or exc})") from exc
            console.print(f"{n:,} decisions written to {output}")
        else:
            try:
                write_decisions(run, fmt, click.get_text_stream("stdout"))
                sys.stdout.flush()
            except BrokenPipeError:  # e.g. piped into head: stop quietly
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    if len(ids) != 2:
        raise LinkageError(f"expected two record ids, got {len(ids)}",
                           "e.g. linkage explain RUN_DIR dblp:123 acm:456, or --all for every decision")
    fmt = fmt or "table"
    if fmt not in ("table", "json"):
        raise LinkageError(f"one pair prints as table or json, not {fmt}", "use --all to export csv or jsonl")
    wf = explain_pair(run, ids[0], ids[1])
    if fmt == "json":
        import json

        text = json.dumps(wf.as_dict(), indent=2, ensure_ascii=False)
        if output:
            Path(output).write_text(text + "\n", encoding="utf-8")
        else:
            click.get_text_stream("stdout").write(text + "\n")
        return
    _print_waterfall(wf, output)


def _weight_text(w: float) -> Text:
    style = "green" if w > 0.005 else "red" if w < -0.005 else "dim"
    return Text(f"{w:+.2f}", style=style)


def _print_waterfall(wf, output: str | None) -> None:
    from rich.console import Console

    handle = None
    if output:
        handle = open(output, "w", encoding="utf-8")
        out = Console(file=handle, highlight=False, width=160)
    else:  # a terminal's own width; 160 columns when piped, so the table stays readable
        out = stdout if stdout.is_terminal else Console(highlight=False, width=160)
    try:
        out.print(Text.assemble(("left:  ", "bold"), wf.id_l, "  ", wf.title_l or "(no title)"))
        out.print(Text.assemble(("right: ", "bold"), wf.id_r, "  ", wf.title_r or "(no title)"))
        if wf.scored == "now":
            out.print(Text("blocking never generated this pair: scored now with the run's model", style="yellow"))
        t = Table(show_lines=False, header_style="bold")
        t.add_column("comparison", no_wrap=True)
        t.add_column("value left", overflow="fold", ratio=3)
        t.add_column("value right", overflow="fold", ratio=3)
        t.add_column("level", ratio=2)
        t.add_column("weight", justify="right")
        t.add_column("running total", justify="right")
        t.add_row(Text(f"prior (λ = {wf.prior:.3g})"), Text("two records at random", style="dim"), Text(""),
                  Text("starting match weight"), _weight_text(wf.prior_weight), Text(f"{wf.prior_weight:.2f}"))
        for r in wf.rows:
            t.add_row(Text(r.comparison), Text(r.value_l or "–"), Text(r.value_r or "–"), Text(r.level),
                      _weight_text(r.weight), Text(f"{r.total:.2f}"))
        out.print(t)
        lo, hi = wf.threshold + wf.band[0], wf.threshold + wf.band[1]
        style = {"duplicate": "bold green", "review": "bold yellow"}.get(wf.decision, "bold red")
        out.print(Text.assemble("match weight ", (f"{wf.match_weight:+.2f} bits", "bold"), "  probability ",
                                (f"{wf.match_probability:.4f}", "bold"), "  decision ", (wf.decision, style)))
        note = (f"threshold {wf.threshold:.2f} bits ({'linked' if wf.linked else 'not linked'}), "
                f"review band {lo:.2f} to {hi:.2f}")
        if wf.same_cluster is not None:
            note += "; the records are " + ("in the same work" if wf.same_cluster else "in different works")
        out.print(Text(note, style="dim"))
    finally:
        if handle is not None:
            handle.close()
            console.print(f"waterfall written to {output}")
