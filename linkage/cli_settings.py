"""Settings commands: ``linkage validate`` and ``linkage init``."""

from __future__ import annotations

import click
from rich.markup import escape

from .cli import cli, console, stdout


def _rule_text(rule: object) -> str:
    if isinstance(rule, dict):
        rule = rule.get("columns", rule.get("sql"))
    if isinstance(rule, list):
        return "[" + ", ".join(map(str, rule)) + "]"
    text = " ".join(str(rule).split())
    return text if len(text) <= 58 else text[:57] + "…"


@cli.command()
@click.argument("file", type=click.Path())
@click.argument("sources", nargs=-1)
@click.option("--upgrade", is_flag=True,
              help="Rewrite a file of an older settings version in the current format (keeps FILE.bak).")
@click.pass_context
def validate(ctx: click.Context, file: str, sources: tuple[str, ...], upgrade: bool) -> None:
    """Check a settings file and report every problem at once; exit code 1 when anything is wrong.

    With SOURCES (tables as for `linkage run`), also print each source's column mapping and the
    candidate pairs every blocking rule, prior rule and EM session makes on them, and report rules
    above blocking_max_pairs.

    Example: linkage validate settings/scholarly.yaml examples/sources/dblp.csv examples/sources/acm.csv
    """
    from .settings import _rule_at, check_settings, upgrade_file

    if upgrade:
        for note in upgrade_file(file):
            console.print(f"upgraded: {escape(file)}: {escape(note)}", soft_wrap=True)
    rep = check_settings(file, list(sources) or None)
    if rep.sources:
        stdout.print(f"sources ({sum(s['records'] for s in rep.sources):,} records):")
        for s in rep.sources:
            stdout.print(f"  {escape(s['name'])}: {escape(s['path'])} ({s['format']}, {s['records']:,} records)",
                         soft_wrap=True)
            mapped = ", ".join(f"{k} ← {v}" for k, v in s["mapping"].items()) or "nothing mapped"
            stdout.print(f"    columns: {escape(mapped)}", soft_wrap=True)
            if s["missing"]:
                stdout.print(f"    not in this source: {escape(', '.join(s['missing']))} (settings columns:)")
    if rep.blocking:
        stdout.print(f"candidate pairs per rule on these {rep.records:,} records:")
        width = max(len(c.key) for c in rep.blocking)
        data = rep.spec.data if rep.spec else None
        for c in rep.blocking:
            shown = _rule_text(_rule_at(data, c.key)) if data else _rule_text(c.rule)
            flag = f"  over the limit {c.limit:,}" if c.over else ""
            more = " (before its other conditions)" if c.filtered and c.keys else ""
            bound = "at most " if c.bound != "exact" else ""
            stdout.print(f"  {c.key:<{width}}  {escape(shown):<58}  {bound}{c.pairs:>12,}{more}{flag}",
                         soft_wrap=True)
        if rep.blocking_total is not None:
            n = rep.records
            stdout.print(f"  all blocking rules together: {rep.blocking_total:,} distinct pairs to score "
                         f"(of {n * (n - 1) // 2:,} possible)")
    for w in rep.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(rep.path)}: {escape(w)}", soft_wrap=True)
    if rep.problems:
        for p in rep.problems:
            console.print(f"[red]error:[/red] {escape(rep.path)}: {escape(p)}", soft_wrap=True)
        console.print(f"{escape(rep.path)}: {len(rep.problems)} problem{'s' if len(rep.problems) != 1 else ''}")
        ctx.exit(1)
    spec = rep.spec
    assert spec is not None
    migrated = f", read as version {rep.version_read} and migrated" if rep.version_read != spec.get("version") else ""
    nc, nb = len(spec.comparisons), len(spec.get("blocking_rules"))
    stdout.print(f"{escape(file)}: ok ({nc} comparison{'s' if nc != 1 else ''}, {nb} blocking rule"
                 f"{'s' if nb != 1 else ''}{migrated})", soft_wrap=True)


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing settings.yaml / settings.schema.json.")
def init(folder: str, force: bool) -> None:
    """Write a starter settings file to edit: FOLDER/settings.yaml (a commented copy of the shipped
    model) and FOLDER/settings.schema.json (the format, for editor completion).

    Example: linkage init my-model && linkage validate my-model/settings.yaml
    """
    from .settings import write_starter

    settings_path, schema_path = write_starter(folder, force=force)
    stdout.print(f"wrote {escape(str(settings_path))} and {escape(str(schema_path))}", soft_wrap=True)
    stdout.print(f"next: edit it, then  linkage validate {escape(str(settings_path))} YOUR_SOURCES...", soft_wrap=True)
    stdout.print(f"      and run        linkage run YOUR_SOURCES... --settings {escape(str(settings_path))}",
                 soft_wrap=True)
