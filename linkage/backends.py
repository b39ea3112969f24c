"""Execution backends: where Splink runs the SQL. DuckDB (embedded, the default) and Spark.

The settings file is compiled per backend (``Backend.dialect``); a trained model's parameters are
carried across backends by comparison name and level position (``modelling.transfer_parameters``),
never by its dialect-specific SQL.
"""

from __future__ import annotations

import itertools
import logging
import os
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .errors import LinkageError

BACKENDS = ("duckdb", "spark")
_CONNECTIONS = itertools.count()


@dataclass
class Backend:
    name: str
    dialect: str
    options: dict = field(default_factory=dict)

    def make_linker(self, model_df: pd.DataFrame, settings: Any, name: str = "records", other_sql: tuple = ()):
        """A Splink ``Linker`` over ``model_df`` with ``settings`` (a SettingsCreator or model dict).

        ``other_sql``: SQL the linker will also run over the records (training's blocking rules)."""
        raise NotImplementedError

    def register(self, linker, model_df: pd.DataFrame, name: str):
        """Register ``model_df`` (a model frame) with ``linker``'s engine as ``name``; a SplinkDataFrame."""
        raise NotImplementedError

    def scalar_row(self, linker, sql: str) -> tuple:
        """Run ``sql`` against the linker's engine and return its first row (used for u from frequencies)."""
        raise NotImplementedError

    def describe(self) -> dict:
        return {"name": self.name, "dialect": self.dialect}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but belongs to someone else
        return True
    return True


def remove_stale_spill_folders(parent: str) -> list[str]:
    """Remove spill folders (``linkage-duckdb-PID-N``) left by processes that no longer run.

    DuckDB removes its temp folder when the connection closes; a run killed mid-way (out of memory, Ctrl-C
    twice, a job scheduler) leaves it behind, possibly gigabytes. Folders of live processes are kept.
    """
    import re
    import shutil

    removed = []
    try:
        names = os.listdir(parent)
    except OSError:
        return removed
    for name in names:
        m = re.fullmatch(r"linkage-duckdb-(\d+)-\d+", name)
        if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            path = os.path.join(parent, name)
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


class DuckDBBackend(Backend):
    """Embedded DuckDB.

    ``threads`` (or ``LINKAGE_THREADS``), ``memory_limit`` (or ``LINKAGE_MEMORY_LIMIT``, e.g. ``"2GB"``;
    default: an eighth of the machine's memory, at least 1 GB and at most 1.5 GB) and ``temp_directory`` (or
    ``LINKAGE_TEMP_DIRECTORY``; default: a folder of this process under the system temp folder, which
    DuckDB creates on its first spill and removes when the connection closes) bound the engine: above the
    limit DuckDB spills joins, sorts and tables to the temp folder instead of growing. At a million generated
    records (``python -m benchmarks.speed --sizes 1000000``) the run peaks at 3.6 GB with this default and at
    4.0 GB with ``LINKAGE_MEMORY_LIMIT=2GB``, in the same time (81.9 s both).
    """

    def __init__(self, threads: int | None = None, memory_limit: str | None = None,
                 temp_directory: str | None = None):
        super().__init__("duckdb", "duckdb", {"threads": threads, "memory_limit": memory_limit,
                                              "temp_directory": temp_directory})

    def _memory_limit(self) -> str:
        lim = self.options.get("memory_limit") or os.environ.get("LINKAGE_MEMORY_LIMIT")
        if lim:
            return str(lim)
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            total = 8 * 1024 ** 3
        return f"{max(1024, min(1536, total // 8 // 1024 ** 2))}MB"

    def connect(self):
        """A DuckDB connection with this backend's limits; no file or network access from SQL."""
        import tempfile

        import duckdb

        tmp = self.options.get("temp_directory") or os.environ.get("LINKAGE_TEMP_DIRECTORY")
        if not tmp:
            remove_stale_spill_folders(tempfile.gettempdir())
            tmp = os.path.join(tempfile.gettempdir(), f"linkage-duckdb-{os.getpid()}-{next(_CONNECTIONS)}")
        config = {"enable_external_access": False, "memory_limit": self._memory_limit(), "temp_directory": str(tmp)}
        threads = self.options.get("threads") or os.environ.get("LINKAGE_THREADS")
        if threads:
            config["threads"] = int(threads)
        con = duckdb.connect(config=config)
        con.execute("SET enable_progress_bar = false")
        return con

    def make_linker(self, model_df: pd.DataFrame, settings: Any, name: str = "records", other_sql: tuple = ()):
        import gc

        from splink import DuckDBAPI, Linker

        # a previous linker of this run (training's) sits in reference cycles with its whole in-memory
        # database: collect it before building the next one
        gc.collect()
        # the engine only sees tables handed to it: no file or network access from SQL (defence in depth
        # behind the settings' SQL restrictions)
        con = self.connect()
        db_api = DuckDBAPI(connection=con)
        hashed = hashable_set_columns(settings, other_sql, list(model_df.columns))
        sdf = self._load(db_api, model_df, name, hashed)
        linker = Linker(sdf, settings, log_level=logging.ERROR)
        linker._linkage_hashed_sets = hashed  # the records registered later (``register``) are held alike
        return linker

    def register(self, linker, model_df: pd.DataFrame, name: str):
        """Register ``model_df`` (a model frame) with ``linker``'s engine as ``name``, its token sets held
        as the linker's records are; a SplinkDataFrame."""
        return self._load(linker._db_api, model_df, name, getattr(linker, "_linkage_hashed_sets", []))

    @staticmethod
    def _load(db_api, model_df: pd.DataFrame, name: str, hashed: list[str]):
        """``model_df`` as the DuckDB table ``name``, the set columns ``hashed`` as word hashes
        (``hashable_set_columns``)."""
        import pyarrow as pa

        from .scoring import arrow_schema

        con = db_api._con
        table = pa.Table.from_pandas(model_df, schema=arrow_schema(), preserve_index=False)
        replace = ", ".join(f'list_transform("{c}", lambda x: hash(x)) as "{c}"' for c in hashed)
        select = f'select * {f"replace ({replace})" if replace else ""} from "__linkage_arrow_{name}"'
        con.register(f"__linkage_arrow_{name}", table)
        if _shares_buffers(model_df):
            # a view over the Arrow table: the records' own Arrow buffers (texts and lists are Arrow-backed),
            # not a copy; Splink materialises its one table of the records (with term frequencies) from it
            con.execute(f'create view "{name}" as {select}')
        else:
            # Python objects: converted once into a DuckDB table (compressed, under the memory limit) and the
            # Arrow copy let go, rather than kept alive with the linker
            con.execute(f'create table "{name}" as {select}')
            con.unregister(f"__linkage_arrow_{name}")
        del table
        return db_api.register(name)

    def scalar_row(self, linker, sql: str) -> tuple:
        return linker._db_api._execute_sql_against_backend(sql).fetchall()[0]


def _shares_buffers(df: pd.DataFrame) -> bool:
    """Whether ``df``'s text and list columns are Arrow-backed (``build_records`` keeps them so), so that its
    Arrow table shares their buffers; the rest (dates, flags) is small to convert."""
    from .normalise import NORMALISED_COLUMNS

    texts = ["unique_id", "source", *(c for c, t in NORMALISED_COLUMNS.items() if t in ("VARCHAR", "VARCHAR[]"))]
    return all(df[c].dtype != object for c in texts if c in df)


def _settings_sql(settings: Any) -> list[str]:
    """Every SQL text of ``settings`` (a SettingsCreator or a model dict): level conditions, blocking rules."""
    d = settings if isinstance(settings, dict) else settings.get_settings("duckdb").as_dict()
    out = [str(lv.get("sql_condition", "")) for c in d.get("comparisons", []) for lv in c.get("comparison_levels", [])]
    for b in d.get("blocking_rules_to_generate_predictions", []) or []:
        out.append(str(b.get("blocking_rule", "")) if isinstance(b, dict) else str(b))
    return out


def hashable_set_columns(settings: Any, other_sql=(), columns=None) -> list[str]:
    """The set columns (``normalise.SET_COLUMNS``) that DuckDB may hold as sets of 64-bit word hashes.

    Scoring a pair on a token set only counts the words the two sets share (the Jaccard levels of the
    settings compiler: ``len(list_intersect(l, r))`` and ``len`` of each side) or asks whether a side is
    missing; blocking rules may count the words two records share (``array_intersect(l.c, r.c)``,
    ``list_has_any(l.c, r.c)``, which Splink writes ``l.c && r.c``). Those counts are the same on the sets
    of the words' hashes unless two different words of one pair share a 64-bit hash (below 1e-15 a pair
    of 64-word sets; below 1e-8 over ten million pairs), and DuckDB intersects lists of integers several
    times faster than lists of strings, and copies them faster into every blocked pair. A column is hashed
    only when every mention of it in the SQL is one of those forms: a settings file that looks inside the
    words (``list_contains(l.title_tokens, 'review')``) keeps them as text.
    """
    import re

    from .normalise import SET_COLUMNS

    texts = "\n".join([*_settings_sql(settings), *map(str, other_sql)])
    out = []
    for c in sorted(SET_COLUMNS):
        if columns is not None and c not in columns:
            continue
        allowed = (rf'list_intersect\("{c}_l", "{c}_r"\)|len\("{c}_[lr]"\)|"{c}_[lr]" IS NULL'
                   rf"|(?:list|array)_(?:has_any|intersect)\(l\.{c}, r\.{c}\)|\bl\.{c} && r\.{c}|\b[lr]\.{c} is null")
        rest = re.sub(allowed, "", texts, flags=re.IGNORECASE)
        if c in texts and not re.search(rf"\b{c}", rest):
            out.append(c)
    return out


def get_backend(name: str = "duckdb", **options: Any) -> Backend:
    """The backend called ``name``; Spark options: ``spark`` (an existing SparkSession), ``spark_master``."""
    if name == "duckdb":
        return DuckDBBackend(**{k: options.get(k) for k in ("threads", "memory_limit", "temp_directory")
                                if options.get(k) is not None})
    if name == "spark":
        try:
            from .spark import SparkBackend
        except ImportError as exc:
            raise LinkageError("the Spark backend needs pyspark",
                               "install the extra: pip install -e '.[spark]' (and a Java runtime)") from exc
        return SparkBackend(**{k: v for k, v in options.items() if k in ("spark", "spark_master")})
    raise LinkageError(f"unknown backend {name!r}", f"use one of {', '.join(BACKENDS)}")
