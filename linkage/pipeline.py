"""The linkage run: sources -> normalised records -> model -> scored pairs -> clusters -> merged records and report.

``run()`` is what ``linkage run`` calls; a notebook user calls it the same way and gets a ``Run``
back with the same tables the run folder holds.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from . import __version__
from .errors import LinkageError, RunFolderError
from .fields import PARSE_ERROR, SOURCE, SOURCE_ID, SOURCE_ROW, UNIQUE_ID
from .normalise import NORMALISED_COLUMNS, normalise_frame
from .settings import Spec, load_settings
from .sources import SourceTable, read_sources

Progress = Callable[[str, dict], None]


def _noop(stage: str, info: dict) -> None:
    return None


@dataclass
class Run:
    """A finished run: its folder and its tables (loaded on first access)."""

    out: Path
    info: dict = field(default_factory=dict)
    _cache: dict = field(default_factory=dict, repr=False)

    def _table(self, name: str) -> pd.DataFrame:
        if name not in self._cache:
            self._cache[name] = pd.read_parquet(self.out / f"{name}.parquet")
        return self._cache[name]

    @property
    def records(self) -> pd.DataFrame:
        return self._table("records")

    @property
    def pairs(self) -> pd.DataFrame:
        return self._table("pairs")

    @property
    def clusters(self) -> pd.DataFrame:
        return self._table("clusters")

    @property
    def merged(self) -> pd.DataFrame:
        return self._table("merged")

    @property
    def model(self) -> dict:
        return json.loads((self.out / "model.json").read_text())

    @property
    def report_path(self) -> Path:
        return self.out / "report.html"

    @classmethod
    def open(cls, out: str | Path) -> Run:
        p = Path(out)
        if not (p / "run.json").exists():
            raise RunFolderError(f"{p}: not a run folder (no run.json)", "give the --out folder of a 'linkage run'")
        return cls(out=p, info=json.loads((p / "run.json").read_text()))


def _prepare_out(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise RunFolderError(f"{out}: cannot write the output folder ({exc.strerror or exc})",
                             "choose another --out folder you can write to") from exc


def _raw_column_name(c: str) -> str:
    return f"raw_{c}" if c in NORMALISED_COLUMNS or c == UNIQUE_ID else c


def build_records(tables: list[SourceTable]) -> tuple[pd.DataFrame, dict[str, dict[str, str]]]:
    """One row per input record: system columns, raw columns as read, normalised columns beside them."""
    frames, mappings = [], {}
    for t in tables:
        f = t.frame
        norm = normalise_frame(f, t.mapping)
        raw = f.drop(columns=[SOURCE, SOURCE_ID, SOURCE_ROW, PARSE_ERROR])
        raw = raw.rename(columns={c: _raw_column_name(c) for c in raw.columns})
        mappings[t.name] = {k: _raw_column_name(v) for k, v in t.mapping.items()}
        sys_cols = pd.DataFrame({UNIQUE_ID: t.name + ":" + f[SOURCE_ID].astype(str), SOURCE: f[SOURCE],
                                 SOURCE_ID: f[SOURCE_ID].astype(str), SOURCE_ROW: f[SOURCE_ROW].astype("int64"),
                                 PARSE_ERROR: f[PARSE_ERROR]}, index=f.index)
        frames.append(pd.concat([sys_cols, raw, norm], axis=1))
    records = pd.concat(frames, ignore_index=True, sort=False) if len(frames) > 1 else frames[0].reset_index(drop=True)
    raw_cols = [c for c in records.columns if c not in NORMALISED_COLUMNS and c not in
                (UNIQUE_ID, SOURCE, SOURCE_ID, SOURCE_ROW, PARSE_ERROR)]
    order = [UNIQUE_ID, SOURCE, SOURCE_ID, SOURCE_ROW, PARSE_ERROR, *raw_cols, *NORMALISED_COLUMNS]
    records = records[order]
    for c, t in NORMALISED_COLUMNS.items():  # concat leaves NaN where a source had None: keep None
        if t in ("VARCHAR", "VARCHAR[]", "DATE", "BOOLEAN"):
            records[c] = records[c].astype(object).where(records[c].notna(), None)
        elif t == "INTEGER":
            records[c] = records[c].astype("Int64")
    for c in raw_cols:  # a column is either text or a list of texts, never both
        vals = records[c]
        if vals.map(lambda v: isinstance(v, list)).any():
            records[c] = vals.map(lambda v: v if isinstance(v, list) else ([] if v is None else [str(v)]))
        else:
            records[c] = vals.map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
    return records, mappings


def _link_type(spec: Spec, tables: list[SourceTable]) -> str:
    lt = spec.get("link_type", "auto")
    if lt == "auto":
        return "dedupe" if len(tables) == 1 else "link_and_dedupe"
    return lt


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    df.to_parquet(path, index=False)


def run(
    sources: list[Any],
    settings: str | Path | None = None,
    out: str | Path | None = None,
    seed: int | None = None,
    model: str | Path | None = None,
    decisions: str | Path | None = None,
    report: bool = True,
    progress: Progress | None = None,
) -> Run:
    """Run the whole job on ``sources`` (paths, ``name=path`` strings or ``(name, path)`` tuples).

    Writes the run folder ``out`` (default ``reports/run``) and returns a ``Run``.
    """
    say = progress or _noop
    timings: dict[str, float] = {}
    counts: dict[str, Any] = {}
    warnings: list[str] = []
    t_start = time.perf_counter()

    def stage(name: str):
        class _S:
            def __enter__(self):
                self.t = time.perf_counter()
                say(name, {"event": "start"})
                return self

            def __exit__(self, et, ev, tb):
                timings[name] = round(time.perf_counter() - self.t, 3)
                if et is None:
                    say(name, {"event": "end", "seconds": timings[name], **counts.get(name, {})})
                return False

        return _S()

    if not sources:
        raise LinkageError("no sources given", "name at least one table, e.g. linkage run papers.csv")
    spec = load_settings(settings)
    seed = int(seed if seed is not None else spec.get("seed", 42))
    out_path = Path(out) if out else Path("reports") / "run"
    _prepare_out(out_path)

    with stage("read"):
        tables = read_sources(sources, spec.columns)
        for t in tables:
            warnings.extend(t.warnings)
        counts["read"] = {"rows": sum(len(t.frame) for t in tables)}
    with stage("normalise"):
        records, mappings = build_records(tables)
        counts["normalise"] = {"rows": len(records)}
    link_type = _link_type(spec, tables)

    from .modelling import fit_and_score

    with stage("train"):
        fitted = fit_and_score(records, spec, link_type, seed, model_from=model, stage=stage, counts=counts)
    pairs, model_dict, training_info, threshold, threshold_info = (
        fitted.pairs, fitted.model, fitted.training, fitted.threshold, fitted.threshold_info)
    warnings.extend(training_info.get("warnings", []))
    counts["score"] = {"rows": len(pairs)}

    from .clustering import cluster
    from .constraints import load_decisions, one_to_one_sources

    with stage("cluster"):
        oto, oto_info = one_to_one_sources(records, pairs, threshold, spec, len(tables))
        must, cannot, dec_info = load_decisions(decisions or spec.get("decisions"), records)
        clusters, cl_rep = cluster(records, pairs, threshold, method=spec.clustering.get("method", "guarded"),
                                   one_to_one_sources=oto, must_link=must, cannot_link=cannot)
        counts["cluster"] = {"rows": int(clusters["cluster_id"].nunique())}
    from .merging import merge_clusters

    with stage("merge"):
        merged = merge_clusters(records, clusters, mappings)
        counts["merge"] = {"rows": len(merged)}
    with stage("write"):
        _write_parquet(records, out_path / "records.parquet")
        _write_parquet(pairs, out_path / "pairs.parquet")
        _write_parquet(clusters, out_path / "clusters.parquet")
        _write_parquet(merged, out_path / "merged.parquet")
        (out_path / "model.json").write_text(json.dumps(model_dict, indent=2, default=str))
    sizes = clusters.groupby("cluster_id").size()
    info = {
        "linkage_version": __version__,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "settings": {"path": spec.path, "sha256": spec.sha256, "name": spec.get("name")},
        "seed": seed,
        "backend": "duckdb",
        "link_type": link_type,
        "inputs": [{"source": t.name, "path": str(t.path), "format": t.format, "encoding": t.encoding,
                    "rows": len(t.frame), "parse_errors": t.n_parse_errors, "column_mapping": t.mapping}
                   for t in tables],
        "counts": {
            "records": len(records), "parse_errors": int(records[PARSE_ERROR].notna().sum()),
            "pairs_scored": len(pairs), "pairs_linked": int((pairs["match_weight"] >= threshold).sum()),
            "clusters": int(len(sizes)), "duplicate_clusters": int((sizes > 1).sum()),
            "records_in_duplicate_clusters": int(sizes[sizes > 1].sum()),
            "largest_cluster": int(sizes.max()) if len(sizes) else 0,
        },
        "threshold": threshold_info,
        "training": training_info,
        "model_from": str(model) if model else None,
        "one_to_one": oto_info,
        "clustering": cl_rep.as_dict(),
        "decisions": dec_info,
        "timings": timings,
        "warnings": warnings,
    }
    (out_path / "run.json").write_text(json.dumps(info, indent=2, default=str))
    if report:
        from .reports import write_report

        with stage("report"):
            write_report(out_path)
        info["timings"] = timings
    info["timings"]["total"] = round(time.perf_counter() - t_start, 3)
    (out_path / "run.json").write_text(json.dumps(info, indent=2, default=str))
    return Run(out=out_path, info=info)


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("splink", "duckdb", "pandas", "pyarrow", "altair", "sqlglot"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out
