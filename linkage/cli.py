"""The ``linkage`` command: a thin layer over the library. Each command parses its arguments, calls one
library function, and turns a ``LinkageError`` into a one-line message and exit code 1 (``--debug``
shows the traceback)."""

from __future__ import annotations

import logging
import sys
import time
import traceback
import warnings
from pathlib import Path

import click
from rich.console import Console

from .errors import LinkageError, SettingsError

console = Console(stderr=True, highlight=False)
stdout = Console(highlight=False)


class LinkageGroup(click.Group):
    def invoke(self, ctx):
        debug = "--debug" in sys.argv
        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            if debug:
                traceback.print_exc()
            for p in exc.problems:
                console.print(f"[red]error:[/red] {_escape(str(exc.path))}: {_escape(str(p))}", soft_wrap=True)
            ctx.exit(1)
        except LinkageError as exc:
            if debug:
                traceback.print_exc()
            console.print(f"[red]error:[/red] {_escape(str(exc))}", soft_wrap=True)
            ctx.exit(1)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            console.print("interrupted")
            ctx.exit(130)
        except Exception as exc:  # an unexpected failure: one line, the traceback only with --debug
            if debug:
                traceback.print_exc()
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            console.print(f"[red]error:[/red] unexpected {type(exc).__name__}: {_escape(first)} "
                          f"(run again with --debug for details)", soft_wrap=True)
            ctx.exit(2)


def _escape(s: str) -> str:
    from rich.markup import escape

    return escape(s)


def _quiet_libraries() -> None:
    warnings.filterwarnings("ignore")
    logging.getLogger("splink").setLevel(logging.ERROR)


class StageProgress:
    """Prints one line per finished stage: name, rows, elapsed."""

    def __init__(self):
        self.t0 = time.perf_counter()

    def __call__(self, stage: str, info: dict) -> None:
        if info.get("event") == "start":
            if console.is_terminal:
                console.print(f"[dim]… {stage}[/dim]", end="\r")
        else:
            rows = f"{info['rows']:>10,} rows" if "rows" in info else " " * 15
            console.print(f"✓ {stage:<10} {rows}  {info.get('seconds', 0):7.2f} s")


@click.group(cls=LinkageGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.version_option(package_name="linkage")
def cli(debug: bool) -> None:
    """Find duplicate scholarly-paper records across sources, and explain every decision."""
    if not debug:
        _quiet_libraries()


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--settings", "-s", type=click.Path(), help="Settings file (default: the shipped scholarly.yaml).")
@click.option("--out", "-o", type=click.Path(), default="reports/run", show_default=True, help="Run folder to write.")
@click.option("--seed", type=int, help="Random seed (default: the settings file's).")
@click.option("--model", type=click.Path(), help="Reuse a trained model (a model.json or a run folder): no training.")
@click.option("--decisions", type=click.Path(), help="Clerical-review decisions CSV applied as constraints.")
@click.option("--labels", type=click.Path(), help="Labels to evaluate the run against (never used for training).")
@click.option("--no-report", is_flag=True, help="Skip report.html.")
@click.option("--backend", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
              help="Engine: embedded DuckDB, or Spark (needs the spark extra and Java).")
@click.option("--spark-master", help="Spark master URL (default: local[*] or SPARK_MASTER / spark-defaults).")
def run(sources, settings, out, seed, model, decisions, labels, no_report, backend, spark_master):
    """Read, normalise, train, score, cluster, merge and report.

    SOURCES are tables (CSV, TSV, Parquet, JSON Lines, JSON, RIS, BibTeX, EndNote XML, PubMed .nbib,
    file.duckdb:table); write name=path to name a source.

    Example: linkage run dblp=examples/sources/dblp.csv acm=examples/sources/acm.csv --out reports/example
    """
    from .pipeline import run as run_job

    result = run_job(list(sources), settings=settings, out=out, seed=seed, model=model, decisions=decisions,
                     report=not no_report, progress=StageProgress(), backend=backend, spark_master=spark_master)
    c = result.info["counts"]
    th = result.info["threshold"]
    console.print(f"\n{c['records']:,} records → {c['clusters']:,} works ({c['duplicate_clusters']:,} with duplicates, "
                  f"{c['records'] - c['clusters']:,} duplicates found); {c['pairs_scored']:,} pairs scored, "
                  f"{c['pairs_linked']:,} linked at match weight ≥ {th['match_weight']:.2f} "
                  f"(model expects precision {th.get('expected_precision', float('nan')):.3f})")
    dec = result.info.get("decisions") or {}
    if dec.get("file"):
        console.print(f"decisions {dec['file']}: {dec.get('must_link', 0):,} must-link and {dec.get('cannot_link', 0):,} "
                      f"cannot-link applied, {dec.get('unsure', 0):,} unsure, {dec.get('conflicts_total', 0):,} "
                      f"conflicts", soft_wrap=True)
    for w in result.info.get("warnings", [])[:10]:
        console.print(f"[yellow]warning:[/yellow] {_escape(str(w))}", soft_wrap=True)
    if labels:
        from .evaluation import evaluate_run, format_metrics

        metrics = evaluate_run(result.out, labels)
        stdout.print(format_metrics(metrics), soft_wrap=True)
        if not no_report:  # rebuild so the report gets its accuracy section
            from .reports import write_report

            write_report(result.out)
    stdout.print(f"run folder: {result.out}")
    if not no_report:
        stdout.print(f"report:     {result.report_path}")


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--settings", "-s", type=click.Path(), help="Settings file (default: the shipped scholarly.yaml).")
@click.option("--out", "-o", type=click.Path(), default="reports/model.json", show_default=True,
              help="Model file to write (a folder gets model.json).")
@click.option("--seed", type=int, help="Random seed (default: the settings file's).")
@click.option("--backend", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True)
@click.option("--spark-master", help="Spark master URL.")
def train(sources, settings, out, seed, backend, spark_master):
    """Train a model on SOURCES and write it, without scoring or clustering.

    Reuse it with `linkage run --model FILE`. Example: linkage train examples/sources/* --out reports/model.json
    """
    from .pipeline import train_model

    path = train_model(list(sources), out, settings=settings, seed=seed, progress=StageProgress(),
                       backend=backend, spark_master=spark_master)
    stdout.print(f"model: {path}")


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--run", "run_dir", required=True, type=click.Path(), help="A finished run folder to match against.")
@click.option("--out", "-o", type=click.Path(), help="Run folder to write (default: RUN-matched).")
@click.option("--no-report", is_flag=True, help="Skip report.html.")
@click.option("--backend", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True)
@click.option("--spark-master", help="Spark master URL.")
@click.option("--decisions", type=click.Path(),
              help="Clerical-review decisions CSV (default: the run's decisions file, else the settings').")
def match(sources, run_dir, out, no_report, backend, spark_master, decisions):
    """Score new records (SOURCES) against a finished run without retraining; existing clusters keep their ids.

    Example: linkage match new_papers.csv --run reports/example --out reports/example-plus
    """
    from .pipeline import match as match_job

    result = match_job(list(sources), run_dir, out=out, progress=StageProgress(), report=not no_report,
                       backend=backend, spark_master=spark_master, decisions=decisions)
    m = result.info["match"]
    console.print(f"\n{m['new_records']:,} new records: {m['joined_existing_clusters']:,} joined existing works, "
                  f"{m['new_clusters']:,} new works; {m['new_pairs_scored']:,} pairs scored")
    stdout.print(f"run folder: {result.out}")


@cli.command()
@click.argument("run_dir", type=click.Path())
@click.option("--labels", required=True, type=click.Path(), help="Truth: pair list, cluster ids, mapping or colrev file.")
def evaluate(run_dir, labels):
    """Precision, recall and F1 of a run against labels; writes metrics.json in the run folder.

    Example: linkage evaluate reports/example --labels examples/labels/dblp_acm_mapping.csv
    """
    from .evaluation import evaluate_run, format_metrics

    _require_run(run_dir)
    metrics = evaluate_run(Path(run_dir), labels)
    stdout.print(format_metrics(metrics), soft_wrap=True)
    if (Path(run_dir) / "report.html").exists():
        from .reports import write_report

        write_report(Path(run_dir))


def _require_run(run_dir) -> None:
    from .pipeline import Run

    Run.open(run_dir)


# Commands owned by other modules register themselves on ``cli`` (one module per area).
for _mod in ("cli_settings", "cli_reports", "cli_review"):
    try:
        __import__(f"{__package__}.{_mod}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"{__package__}.{_mod}":
            raise


def main() -> None:
    cli(prog_name="linkage")


if __name__ == "__main__":
    main()
