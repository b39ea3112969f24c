"""Execution backends: where Splink runs the SQL. DuckDB (embedded, the default) and Spark.

The settings file is compiled per backend (``Backend.dialect``); a trained model's parameters are
carried across backends by comparison name and level position (``modelling.transfer_parameters``),
never by its dialect-specific SQL.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .errors import LinkageError

BACKENDS = ("duckdb", "spark")


@dataclass
class Backend:
    name: str
    dialect: str
    options: dict = field(default_factory=dict)

    def make_linker(self, model_df: pd.DataFrame, settings: Any, name: str = "records"):
        """A Splink ``Linker`` over ``model_df`` with ``settings`` (a SettingsCreator or model dict)."""
        raise NotImplementedError

    def scalar_row(self, linker, sql: str) -> tuple:
        """Run ``sql`` against the linker's engine and return its first row (used for u from frequencies)."""
        raise NotImplementedError

    def describe(self) -> dict:
        return {"name": self.name, "dialect": self.dialect}


class DuckDBBackend(Backend):
    def __init__(self, threads: int | None = None):
        super().__init__("duckdb", "duckdb", {"threads": threads})

    def make_linker(self, model_df: pd.DataFrame, settings: Any, name: str = "records"):
        import duckdb
        import pyarrow as pa
        from splink import DuckDBAPI, Linker

        from .scoring import arrow_schema

        # the engine only sees tables handed to it: no file or network access from SQL (defence in depth
        # behind the settings' SQL restrictions)
        con = duckdb.connect(config={"enable_external_access": False})
        con.execute("SET enable_progress_bar = false")
        threads = self.options.get("threads") or os.environ.get("LINKAGE_THREADS")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        db_api = DuckDBAPI(connection=con)
        table = pa.Table.from_pandas(model_df, schema=arrow_schema(), preserve_index=False)
        sdf = db_api.register(table, dataset_display_name=name)
        return Linker(sdf, settings, log_level=logging.ERROR)

    def scalar_row(self, linker, sql: str) -> tuple:
        return linker._db_api._execute_sql_against_backend(sql).fetchall()[0]


def get_backend(name: str = "duckdb", **options: Any) -> Backend:
    """The backend called ``name``; Spark options: ``spark`` (an existing SparkSession), ``spark_master``."""
    if name == "duckdb":
        return DuckDBBackend(threads=options.get("threads"))
    if name == "spark":
        try:
            from .spark import SparkBackend
        except ImportError as exc:
            raise LinkageError("the Spark backend needs pyspark",
                               "install the extra: pip install -e '.[spark]' (and a Java runtime)") from exc
        return SparkBackend(**{k: v for k, v in options.items() if k in ("spark", "spark_master")})
    raise LinkageError(f"unknown backend {name!r}", f"use one of {', '.join(BACKENDS)}")
