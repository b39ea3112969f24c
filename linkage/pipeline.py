"""The linkage run: sources -> normalised records -> model -> scored pairs -> clusters -> merged records and report.

``run()`` is what ``linkage run`` calls; a notebook user calls it the same way and gets a ``Run``
back with the same tables the run folder holds.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import math
import os
import platform
import time
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from . import __version__
from .errors import LinkageError, RunFolderError
from .fields import PARSE_ERROR, SOURCE, SOURCE_ID, SOURCE_ROW, UNIQUE_ID
from .normalise import NORMALISED_COLUMNS, normalise_frame
from .runfolder import RunFolder
from .settings import Spec, load_settings
from .sources import SourceTable, read_sources

Progress = Callable[[str, dict], None]


def _noop(stage: str, info: dict) -> None:
    return None


class Run(RunFolder):
    """A finished run: its folder and its tables (loaded on first access); see ``linkage.runfolder``."""


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
    """One row per input record: system columns, raw columns as read, normalised columns beside them.

    Assembled column by column (no whole-frame concat and reorder copies); the same frame as concatenating
    each table's system, raw and normalised columns, with None (not NaN) where a source had no value,
    except in the normalised texts and lists, which are Arrow-backed (missing as NaN and NA).
    """
    import numpy as np

    from .sources.columns import no_gc

    system = (UNIQUE_ID, SOURCE, SOURCE_ID, SOURCE_ROW, PARSE_ERROR)
    parts: list[dict[str, pd.Series]] = []
    mappings: dict[str, dict[str, str]] = {}
    raw_cols: list[str] = []
    for t in tables:
        f = t.frame
        norm = normalise_frame(f, t.mapping)
        if not norm.index.equals(f.index):
            norm = norm.reindex(f.index)
        mappings[t.name] = {k: _raw_column_name(v) for k, v in t.mapping.items()}
        ids = f[SOURCE_ID].astype(str)
        cols = {UNIQUE_ID: t.name + ":" + ids, SOURCE: f[SOURCE], SOURCE_ID: ids,
                SOURCE_ROW: f[SOURCE_ROW].astype("int64"), PARSE_ERROR: f[PARSE_ERROR]}
        for c in f.columns:
            if c in (SOURCE, SOURCE_ID, SOURCE_ROW, PARSE_ERROR):
                continue
            name = _raw_column_name(c)
            cols[name] = f[c]
            if name not in raw_cols:
                raw_cols.append(name)
        for c in norm.columns:
            cols[c] = norm[c]
        parts.append(cols)
    with no_gc():  # millions of lists and strings: see no_gc
        sizes = [len(t.frame) for t in tables]
        data: dict[str, pd.Series] = {}
        for c in [*system, *raw_cols]:
            pieces = [p.pop(c, None) for p in parts]  # each table's piece freed once used
            if c in raw_cols:  # object columns; a source without the column gives NaN, as concat does
                data[c] = pd.Series(np.concatenate([x.to_numpy(dtype=object) if x is not None else
                                                    np.full(n, np.nan, dtype=object) for x, n in zip(pieces, sizes)]),
                                    dtype=object)
            else:
                data[c] = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0].reset_index(drop=True)
        # Normalised texts and lists stay Arrow-backed (pandas' str dtype, missing as NaN; ``ArrowDtype``
        # lists, missing as NA): at a million records, Python strings and lists doubled the records' memory
        # and made every hand-over to DuckDB (training, scoring, merging) a conversion. Other columns keep
        # None where a source had no value (concat leaves NaN there).
        for c, t in NORMALISED_COLUMNS.items():
            pieces = [p.pop(c) for p in parts]
            col = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0].reset_index(drop=True)
            if isinstance(col.dtype, pd.ArrowDtype):  # normalise_frame's lists
                pass
            elif t == "VARCHAR":
                col = col if col.dtype == "str" else col.astype("str")
            elif t in ("VARCHAR[]", "DATE", "BOOLEAN"):
                if col.dtype != object or not set(map(type, col.to_numpy())) <= {str, type(None)}:  # else as is
                    col = col.astype(object).where(col.notna(), None)
            elif t == "INTEGER":
                col = col.astype("Int64")
            data[c] = col
        del parts
        # copy=False: the columns as built, not consolidated into 2-D blocks (a copy of every object column)
        records = pd.DataFrame(data, columns=[*system, *raw_cols, *NORMALISED_COLUMNS], copy=False)
        del data
        return _harmonise_raw(records, raw_cols), mappings


def _is_missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


def _text_lists(lists: list[list], index: pd.Index) -> pd.Series:
    """Lists of texts as an Arrow-backed column (``ArrowDtype``): a million records' raw author and URL
    lists held as Python lists and strings took ~0.3 GB more. Lists holding anything but texts stay
    Python lists."""
    import pyarrow as pa

    try:
        arr = pa.array(lists, type=pa.list_(pa.string()))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pd.Series(lists, index=index, dtype=object)
    return pd.Series(pd.arrays.ArrowExtensionArray(arr), index=index)


def _harmonise_raw(records: pd.DataFrame, raw_cols: list[str]) -> pd.DataFrame:
    """A raw column is either text or a list of texts, never both (Parquet needs one type a column).

    Columns holding only str, list, None and float (NaN) cells, as read, are converted in one pass;
    others (numpy arrays from Parquet, pd.NA, numbers) cell by cell. A text column gets the dtype
    ``Series.map`` infers (pandas' ``str``, missing values NaN; object when every value is missing).
    """
    from .sources.columns import no_gc, text_series

    simple = {str, list, float, type(None)}
    with no_gc():
        for c in raw_cols:
            vals = records[c]
            arr = vals.to_numpy(dtype=object) if vals.dtype == object else None
            kinds = set(map(type, arr)) if arr is not None else None
            if kinds is not None and kinds <= simple:
                if list in kinds:  # v != v: NaN
                    records[c] = _text_lists([v if v.__class__ is list else [] if v is None or v != v else [str(v)]
                                              for v in arr], vals.index)
                else:  # dtype inferred as Series.map infers it: str (missing as NaN), object when all missing
                    texts = [None if v is None or v != v else v if v.__class__ is str else str(v)
                             for v in arr] if float in kinds else arr
                    records[c] = text_series(texts, vals.index)
                continue
            if vals.map(lambda v: isinstance(v, (list, tuple)) or hasattr(v, "tolist") and not isinstance(v, str)).any():
                records[c] = _text_lists(vals.map(lambda v: list(v.tolist() if hasattr(v, "tolist") else v)
                                                  if isinstance(v, (list, tuple)) or hasattr(v, "tolist")
                                                  and not isinstance(v, str)
                                                  else ([] if _is_missing(v) else [str(v)])).tolist(), vals.index)
            else:
                records[c] = vals.map(lambda v: None if _is_missing(v) else str(v))
    return records


def _link_type(spec: Spec, tables: list[SourceTable]) -> str:
    lt = spec.get("link_type", "auto")
    if lt == "auto":
        return "dedupe" if len(tables) == 1 else "link_and_dedupe"
    return lt


def _arrow_table(df: pd.DataFrame):
    """``df`` as the Arrow table ``df.to_parquet`` writes, the records' Arrow-backed columns (normalised
    texts and lists, held that way to keep a million records light) described in the pandas metadata as
    the object columns they were: a reader gets the same frame as before, and pandas cannot parse its
    own name for an Arrow list type (``list<item: string>[pyarrow]``) back."""
    import pyarrow as pa

    table = pa.Table.from_pandas(df, preserve_index=False)
    meta = table.schema.metadata or {}
    as_object = {c for c in df.columns if isinstance(df[c].dtype, pd.ArrowDtype)
                 or (c in NORMALISED_COLUMNS and df[c].dtype == "str")}
    if as_object and b"pandas" in meta:
        pandas_meta = json.loads(meta[b"pandas"])
        for col in pandas_meta.get("columns", []):
            if col.get("name") in as_object:
                col["numpy_type"] = "object"
        meta = {**meta, b"pandas": json.dumps(pandas_meta).encode()}
    if df.attrs:  # as pandas stores them
        meta = {**meta, b"PANDAS_ATTRS": json.dumps(df.attrs).encode()}
    return table.replace_schema_metadata(meta)


def _write_parquet(df: pd.DataFrame, path: Path, background: bool = False):
    """Write ``df`` as ``df.to_parquet(path, index=False)`` does (``_arrow_table``). ``background``: the
    Arrow table is made here (pandas is only read from this thread) and a thread writes the file; returns
    a function that waits for the thread (and raises its error)."""
    import pyarrow.parquet as pq

    if not df.columns.is_unique or not all(isinstance(c, str) for c in df.columns):
        df.to_parquet(path, index=False)
        return lambda: None
    table = _arrow_table(df)
    if not background:
        pq.write_table(table, path, compression="snappy")
        return lambda: None
    import threading

    failed: list[BaseException] = []

    def write() -> None:
        try:
            pq.write_table(table, path, compression="snappy")
        except BaseException as exc:  # handed to the waiting thread
            failed.append(exc)

    thread = threading.Thread(target=write, name=f"write {path.name}")
    thread.start()

    def wait() -> None:
        thread.join()
        if failed:
            raise failed[0]

    return wait


def _peak_rss_mb() -> float | None:
    """This process's peak resident memory so far, in MB (None where the platform does not say)."""
    try:
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return round(peak / 1024 ** 2 if sys.platform == "darwin" else peak / 1024, 1)
    except (ImportError, OSError, ValueError):
        return None


class _Stages:
    """Per-stage timings and progress callbacks."""

    def __init__(self, progress: Progress | None):
        self.say = progress or _noop
        self.timings: dict[str, float] = {}
        self.counts: dict[str, Any] = {}
        self.peak_mb: dict[str, float | None] = {}  # the process's peak resident memory when each stage ended
        self.t_start = time.perf_counter()

    def __call__(self, name: str):
        stages = self

        class _S:
            def __enter__(self):
                self.t = time.perf_counter()
                stages.say(name, {"event": "start"})
                return self

            def __exit__(self, et, ev, tb):
                stages.timings[name] = round(time.perf_counter() - self.t, 3)
                stages.peak_mb[name] = _peak_rss_mb()
                if et is None:
                    stages.say(name, {"event": "end", "seconds": stages.timings[name],
                                      **stages.counts.get(name, {})})
                return False

        return _S()


def _read_and_normalise(sources, spec: Spec, st: _Stages, warnings: list[str]):
    if not sources:
        raise LinkageError("no sources given", "name at least one table, e.g. linkage run papers.csv")
    with st("read"):
        tables = read_sources(sources, spec.columns)
        for t in tables:
            warnings.extend(t.warnings)
        st.counts["read"] = {"rows": sum(len(t.frame) for t in tables)}
    with st("normalise"):
        records, mappings = build_records(tables)
        st.counts["normalise"] = {"rows": len(records)}
    return tables, records, mappings


def _portable_path(path: str) -> str:
    """A path relative to the working folder when it lies inside it (so files written for the repo hold
    no machine-specific paths); the shipped default settings as 'default'."""
    from .settings import DEFAULT_SETTINGS

    p = Path(path)
    try:
        if p.resolve() == DEFAULT_SETTINGS.resolve():
            return "default (settings/scholarly.yaml)"
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def _input_info(tables: list[SourceTable]) -> list[dict]:
    return [{"source": t.name, "path": str(t.path), "format": t.format, "encoding": t.encoding,
             "rows": len(t.frame), "parse_errors": t.n_parse_errors, "column_mapping": t.mapping}
            for t in tables]


def _backend(backend, spark=None, spark_master=None):
    from .backends import Backend, get_backend

    if isinstance(backend, Backend):
        return backend
    return get_backend(backend or "duckdb", spark=spark, spark_master=spark_master)


def run(
    sources: list[Any],
    settings: str | Path | None = None,
    out: str | Path | None = None,
    seed: int | None = None,
    model: str | Path | None = None,
    decisions: str | Path | None = None,
    report: bool = True,
    progress: Progress | None = None,
    backend: str | Any = "duckdb",
    spark: Any = None,
    spark_master: str | None = None,
) -> Run:
    """Run the whole job on ``sources`` (paths, ``name=path`` strings or ``(name, path)`` tuples).

    Writes the run folder ``out`` (default ``reports/run``) and returns a ``Run``. ``model`` reuses a
    trained model (a model.json or a run folder) instead of training; ``backend`` is ``duckdb``
    (embedded, default) or ``spark`` (an existing ``spark`` session, or ``spark_master``).
    """
    st = _Stages(progress)
    warnings: list[str] = []
    spec = load_settings(settings)
    warnings.extend(getattr(spec, "notes", []) or [])
    seed = int(seed if seed is not None else spec.get("seed", 42))
    out_path = Path(out) if out else Path("reports") / "run"
    _prepare_out(out_path)
    engine = _backend(backend, spark, spark_master)
    tables, records, mappings = _read_and_normalise(sources, spec, st, warnings)
    inputs, link_type, n_tables = _input_info(tables), _link_type(spec, tables), len(tables)
    del tables  # the raw source frames are in ``records`` now: let them go before training
    _release_memory()
    return _after_normalise(records, mappings, spec, st, warnings, out_path, seed=seed, model=model,
                            decisions=decisions, report=report, engine=engine, n_tables=n_tables,
                            link_type=link_type, inputs=inputs)


def _release_memory() -> None:
    """Collect garbage and hand the freed heap back to the operating system (glibc ``malloc_trim``).

    Normalisation frees gigabytes of intermediate values at 1M records, but the C allocator keeps the
    pages, so the process would enter training ~3 GB above what it holds; later stages reuse them only
    in part."""
    from .normalise.sql import trim_heap

    gc.collect()
    trim_heap()


def _after_normalise(records: pd.DataFrame, mappings: dict, spec: Spec, st: _Stages, warnings: list[str],
                     out_path: Path, *, seed: int, model, decisions, report: bool, engine, n_tables: int,
                     link_type: str, inputs: list[dict]) -> Run:
    """Train (or reuse a model), score, cluster, merge and write: everything after normalisation."""
    from .modelling import fit_and_score

    with st("train"):
        fitted = fit_and_score(records, spec, link_type, seed, model_from=model, backend=engine)
    warnings.extend(fitted.training.get("warnings", []))
    from .clustering import cluster, cluster_options, separate_relations
    from .constraints import load_decisions, one_to_one_sources, settings_decisions_path

    pairs, threshold = fitted.pairs, fitted.threshold
    # pairs.parquet is written by a thread while clustering runs (clustering only reads the pairs)
    pairs_written = _write_pairs(out_path, pairs, threshold, background=True)
    with st("cluster"):
        oto, oto_info = one_to_one_sources(records, pairs, threshold, spec, n_tables)
        must, cannot, dec_info = load_decisions(decisions or settings_decisions_path(spec), records)
        warnings.extend(dec_info.get("warnings", []))
        clusters, cl_rep = cluster(records, pairs, threshold, method=spec.clustering.get("method", "guarded"),
                                   one_to_one_sources=oto, must_link=must, cannot_link=cannot,
                                   separate_relations=separate_relations(spec.get("version_policy")),
                                   **cluster_options(spec.clustering))
        st.counts["cluster"] = {"rows": int(clusters["cluster_id"].nunique())}
    info = {
        "settings": {"path": spec.path, "sha256": spec.sha256, "name": spec.get("name")},
        "seed": seed, "backend": engine.describe(), "link_type": link_type, "inputs": inputs,
        "threshold": fitted.threshold_info, "training": fitted.training,
        "model_from": str(model) if model else None, "one_to_one": oto_info,
        "clustering": cl_rep.as_dict(), "decisions": dec_info,
    }
    model_dict = fitted.model
    del fitted
    written = pairs_written()
    # the linked pairs (a small part of them) stay for the cluster diagnostics, which read only those
    linked = pairs.loc[pairs["match_weight"].to_numpy(dtype=float) >= threshold,
                       ["unique_id_l", "unique_id_r", "match_weight"]]
    del pairs
    _release_memory()  # the scoring linker and its database, and the pairs table, before merging and writing
    return _finish(out_path, records, mappings, written, clusters, model_dict, threshold, info, warnings, st, report,
                   linked=linked)


def _write_pairs(out_path: Path, pairs: pd.DataFrame, threshold: float, background: bool = False):
    """Write pairs.parquet and return its counts (and the seconds it took, for the write stage).

    Done before merging, so the pairs table (gigabytes at millions of pairs, and not needed to merge)
    can be freed first. ``background``: a thread writes the file while the caller clusters (which only
    reads the pairs); returns a function that waits for it and returns the counts, ``seconds`` then
    being the time spent waiting (the Arrow conversion included), not the thread's."""
    t0 = time.perf_counter()
    counts = {"pairs_scored": len(pairs), "pairs_linked": int((pairs["match_weight"] >= threshold).sum())}
    wait = _write_parquet(pairs, out_path / "pairs.parquet", background=background)
    if not background:
        return {**counts, "seconds": time.perf_counter() - t0}
    started = time.perf_counter() - t0

    def written() -> dict:
        t1 = time.perf_counter()
        wait()
        return {**counts, "seconds": started + time.perf_counter() - t1}

    return written


def _finish(out_path: Path, records: pd.DataFrame, mappings: dict, pairs: pd.DataFrame | dict,
            clusters: pd.DataFrame, model_dict: dict, threshold: float, info: dict, warnings: list[str],
            st: _Stages, report: bool, linked: pd.DataFrame | None = None) -> Run:
    """Merge, write the run folder and run.json, build the report. ``pairs``: the pairs table, or what
    ``_write_pairs`` returned when it was written already; ``linked``: its pairs at or above ``threshold``
    (the cluster diagnostics take them, and the records and clusters, from memory)."""
    from .merging import merge_clusters

    written = pairs if isinstance(pairs, dict) else _write_pairs(out_path, pairs, threshold)
    del pairs
    with st("merge"):
        merged = merge_clusters(records, clusters, mappings)
        st.counts["merge"] = {"rows": len(merged)}
    with st("write"):
        # made into Arrow tables here; threads encode and write them while the diagnostics run (which
        # take these tables from memory); waited for before the report reads the folder
        pending = [_write_parquet(records, out_path / "records.parquet", background=True),
                   _write_parquet(clusters, out_path / "clusters.parquet", background=True),
                   _write_parquet(merged, out_path / "merged.parquet", background=True)]
        (out_path / "model.json").write_text(json.dumps(model_dict, indent=2, default=str))
        (out_path / "mappings.json").write_text(json.dumps(mappings, indent=2))
    del merged
    st.timings["write"] = round(st.timings["write"] + written["seconds"], 3)  # pairs.parquet included

    def files_written() -> None:
        """Wait for the table writers; the time waited counts to the write stage."""
        t0 = time.perf_counter()
        while pending:
            pending.pop(0)()
        st.timings["write"] = round(st.timings["write"] + time.perf_counter() - t0, 3)

    sizes = clusters.groupby("cluster_id").size()
    full = {
        "linkage_version": __version__,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        **info,
        "counts": {
            "records": len(records), "parse_errors": int(records[PARSE_ERROR].notna().sum()),
            "pairs_scored": written["pairs_scored"], "pairs_linked": written["pairs_linked"],
            "clusters": int(len(sizes)), "duplicate_clusters": int((sizes > 1).sum()),
            "records_in_duplicate_clusters": int(sizes[sizes > 1].sum()),
            "duplicates_removed": int(len(records) - len(sizes)),
            "largest_cluster": int(sizes.max()) if len(sizes) else 0,
        },
        "timings": st.timings,
        "peak_memory_mb": st.peak_mb,
        "warnings": warnings,
    }
    (out_path / "run.json").write_text(json.dumps(full, indent=2, default=str))
    from .review import write_cluster_diagnostics

    if not report:  # write_report writes cluster_diagnostics.parquet itself
        with st("diagnose"):
            write_cluster_diagnostics(out_path, records=records, clusters=clusters, linked=linked,
                                      linked_from=threshold)
    files_written()
    if report:
        from .reports import write_report

        with st("report"):
            write_report(out_path)
    full["timings"]["total"] = round(time.perf_counter() - st.t_start, 3)
    (out_path / "run.json").write_text(json.dumps(full, indent=2, default=str))
    return Run(out=out_path, info=full)


def train_model(sources: list[Any], out: str | Path, settings: str | Path | None = None, seed: int | None = None,
                progress: Progress | None = None, backend: str | Any = "duckdb", spark: Any = None,
                spark_master: str | None = None) -> Path:
    """Train a model on ``sources`` and write it (Splink model JSON) to ``out``; no scoring or clustering.

    A sidecar ``<out>.linkage.json`` records the settings file and its hash, so ``run --model`` and
    ``match`` can check that they score with the settings the model was trained with.
    """
    from .backends import Backend  # noqa: F401
    from .modelling import fit_model

    st = _Stages(progress)
    warnings: list[str] = []
    spec = load_settings(settings)
    seed = int(seed if seed is not None else spec.get("seed", 42))
    engine = _backend(backend, spark, spark_master)
    tables, records, _ = _read_and_normalise(sources, spec, st, warnings)
    with st("train"):
        model, rep = fit_model(records, spec, _link_type(spec, tables), seed, backend=engine)
        training = rep.as_dict()
    out_path = Path(out)
    if out_path.is_dir() or not out_path.suffix:
        out_path.mkdir(parents=True, exist_ok=True)
        out_path = out_path / "model.json"
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(model, indent=2, default=str))
    except OSError as exc:
        raise RunFolderError(f"{out_path}: cannot write the model ({exc.strerror or exc})",
                             "choose another --out path") from exc
    meta = {"settings": {"path": _portable_path(spec.path), "sha256": spec.sha256}, "seed": seed,
            "backend": engine.describe(),
            "inputs": _input_info(tables), "training": training, "timings": st.timings,
            "warnings": warnings + training.get("warnings", []), "linkage_version": __version__}
    out_path.with_suffix(".linkage.json").write_text(json.dumps(meta, indent=2, default=str))
    return out_path


def match(new_sources: list[Any], run_dir: str | Path, out: str | Path | None = None,
          progress: Progress | None = None, report: bool = True, backend: str | Any = "duckdb",
          spark: Any = None, spark_master: str | None = None, decisions: str | Path | None = None) -> Run:
    """Score new records against a finished run without retraining and add them to its clusters.

    New records are compared with the run's records and with each other (Splink
    ``predict_between`` / ``predict_within``), with the run's model, settings and threshold. A new
    record joins the existing cluster it links to best (guard rails apply); existing clusters keep
    their ids and are never merged with each other here; new records that link to no existing
    cluster form clusters of their own. Writes a new run folder (``out``, default ``RUN_DIR-matched``).
    """
    from .clustering import cluster, cluster_options, separate_relations
    from .constraints import load_decisions, settings_decisions_path
    from .modelling import load_model_file, score_new_records

    base = Run.open(run_dir)
    st = _Stages(progress)
    warnings: list[str] = []
    settings_path = base.info.get("settings", {}).get("path")
    spec = load_settings(settings_path if settings_path and Path(settings_path).exists() else None)
    if spec.sha256 != base.info.get("settings", {}).get("sha256"):
        warnings.append(f"the settings file {spec.path} changed since the run; matching with it as it is now")
    out_path = Path(out) if out else Path(str(run_dir).rstrip("/") + "-matched")
    _prepare_out(out_path)
    engine = _backend(backend, spark, spark_master)
    tables, new_records, new_mappings = _read_and_normalise(new_sources, spec, st, warnings)
    old_records = base.records
    clash = set(new_records["unique_id"]) & set(old_records["unique_id"])
    if clash:
        raise LinkageError(f"{len(clash)} new records have ids already in the run (e.g. {sorted(clash)[0]})",
                           "name the new source differently with name=path, or give new ids")
    model = load_model_file(Path(run_dir))
    threshold = float(base.info["threshold"]["match_weight"])
    with st("score"):
        new_pairs = score_new_records(old_records, new_records, model, spec, engine)
        st.counts["score"] = {"rows": len(new_pairs)}
    records = pd.concat([old_records, new_records], ignore_index=True, sort=False)
    raw_cols = [c for c in records.columns if c not in NORMALISED_COLUMNS and c not in
                (UNIQUE_ID, SOURCE, SOURCE_ID, SOURCE_ROW, PARSE_ERROR)]
    records = _harmonise_raw(records, raw_cols)
    for c, t in NORMALISED_COLUMNS.items():  # concat leaves NaN where one side had None
        if t == "INTEGER":
            records[c] = pd.to_numeric(records[c], errors="coerce").astype("Int64")
        else:
            records[c] = records[c].astype(object).where(records[c].notna(), None)
    pairs = pd.concat([base.pairs, new_pairs], ignore_index=True, sort=False)
    mappings = json.loads((Path(run_dir) / "mappings.json").read_text()) if (Path(run_dir) / "mappings.json").exists() else {}
    mappings.update(new_mappings)
    with st("cluster"):
        frozen = dict(zip(base.clusters["unique_id"], base.clusters["cluster_id"]))
        must, cannot, dec_info = load_decisions(decisions or (base.info.get("decisions") or {}).get("file")
                                                or settings_decisions_path(spec), records, frozen=frozen)
        warnings.extend(dec_info.get("warnings", []))
        clusters, cl_rep = cluster(records, pairs, threshold, method=spec.clustering.get("method", "guarded"),
                                   frozen=frozen, must_link=must, cannot_link=cannot,
                                   separate_relations=separate_relations(spec.get("version_policy")),
                                   **cluster_options(spec.clustering))
        st.counts["cluster"] = {"rows": int(clusters["cluster_id"].nunique())}
    joined = clusters[clusters["unique_id"].isin(new_records["unique_id"]) & clusters["cluster_id"].isin(
        set(base.clusters["cluster_id"]))]
    info = {
        "settings": {"path": spec.path, "sha256": spec.sha256, "name": spec.get("name")},
        "seed": base.info.get("seed"), "backend": engine.describe(), "link_type": base.info.get("link_type"),
        "inputs": base.info.get("inputs", []) + _input_info(tables),
        "threshold": base.info["threshold"], "training": {"model_from": str(run_dir), "retrained": False},
        "model_from": str(run_dir), "one_to_one": {"setting": "not applied when matching"},
        "clustering": cl_rep.as_dict(), "decisions": dec_info,
        "match": {"base_run": str(run_dir), "new_records": len(new_records), "new_pairs_scored": len(new_pairs),
                  "joined_existing_clusters": int(len(joined)),
                  "new_clusters": int(clusters[clusters["unique_id"].isin(new_records["unique_id"])]
                                      ["cluster_id"].nunique() - joined["cluster_id"].nunique())},
    }
    return _finish(out_path, records, mappings, pairs, clusters, model, threshold, info, warnings, st, report)


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("splink", "duckdb", "pandas", "pyarrow", "altair", "sqlglot"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out
