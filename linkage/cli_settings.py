"""Settings commands: ``linkage validate`` (and ``linkage init``)."""

from __future__ import annotations

import click

from .cli import cli, stdout


@cli.command()
@click.argument("file", type=click.Path())
@click.argument("sources", nargs=-1)
def validate(file, sources):
    """Check a settings file; with SOURCES, also its column mapping and blocking sizes on them.

    Example: linkage validate settings/scholarly.yaml
    """
    from .settings import load_settings

    spec = load_settings(file)
    if sources:
        from .sources import read_sources

        tables = read_sources(list(sources), spec.columns)
        for t in tables:
            stdout.print(f"{t.path}: {len(t.frame):,} records, columns mapped: "
                      + ", ".join(f"{k}←{v}" for k, v in t.mapping.items()))
    stdout.print(f"{file}: ok ({len(spec.comparisons)} comparisons, {len(spec.get('blocking_rules'))} blocking rules)")
