"""The Spark backend: the same settings file, compiled to Spark SQL, run by Splink's ``SparkAPI``.

Normalisation, clustering, merging and the report stay in pandas/DuckDB on the driver; Spark runs
what grows with the number of record pairs: blocking, comparison vectors, training (u, EM) and
prediction. Pairs come back to the driver as a pandas frame.

The session comes from standard Spark configuration. In order:

1. ``spark=`` an existing ``SparkSession`` (the library API), used as it is;
2. the active session of the process (e.g. under ``spark-submit`` or in a notebook);
3. a new session whose master is ``--spark-master``, else ``$SPARK_MASTER``, else ``spark.master`` of
   ``spark-defaults.conf`` (``$SPARK_CONF_DIR``, ``$SPARK_HOME/conf``), else ``local[*]`` (every core
   of this machine: 2 here; Spark's own default, and the parallelism DuckDB uses too).

A new session gets Splink's similarity JAR (``jaro_winkler`` and friends). A new *local* session
also gets local defaults (``LOCAL_DEFAULTS``): one shuffle partition per core instead of 200 (every
partition is a task, and our pair tables are small), no adaptive execution or whole-stage code
generation, no web UI, no console progress bar, logs at ERROR. A session we did not create keeps its
configuration; we only make the JAR's functions callable on it.

Three things would make Spark's results differ from DuckDB's, and are handled: settings SQL written
in DuckDB is transpiled with two Spark fixes (``sqlguard._for_dialect``); the rows that u sampling and
EM's pair sample use are chosen by md5 of the record id, not by the engine's hash
(``training.portable_sample_sql``); and Jaro-Winkler comes from rapidfuzz, which gives DuckDB's values,
instead of Splink's JAR (``register_exact_similarity``; the JAR stays where executors cannot run it).
So both engines train the same model from the same records and score every pair alike.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import uuid
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from .backends import Backend
from .errors import LinkageError

log = logging.getLogger("linkage")

#: Spark settings for a new local session (each is skipped when spark-defaults.conf sets it). Measured on
#: the bundled examples (2 cores): training took 127 s with Spark's defaults and 61 s with one shuffle
#: partition per core, adaptive execution off and whole-stage code generation off. Every EM iteration
#: is a new query whose literals change, so Spark would compile new code each time for a few thousand
#: rows; a cluster session keeps its own (codegen-friendly) configuration.
LOCAL_DEFAULTS: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}
_LOG4J2 = """rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
"""

# PySpark 4.x warns on every pandas conversion that pandas 3 is "not yet fully supported"; the
# conversions we use (Arrow, explicit schemas) are covered by tests/test_spark.py.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)


def _local_cores(master: str) -> int:
    """The number of worker threads of a ``local``/``local[N]``/``local[*]`` master."""
    m = re.fullmatch(r"local(?:\[(\d+|\*)(?:,\s*\d+)?\])?", master.strip())
    if m is None:  # local-cluster[...] and the like
        return os.cpu_count() or 1
    n = m.group(1)
    if n is None:  # "local": one thread
        return 1
    return (os.cpu_count() or 1) if n == "*" else int(n)


def _spark_defaults() -> dict[str, str]:
    """``spark-defaults.conf`` of ``$SPARK_CONF_DIR`` or ``$SPARK_HOME/conf``, when there is one."""
    dirs = [os.environ.get("SPARK_CONF_DIR")]
    if os.environ.get("SPARK_HOME"):
        dirs.append(str(Path(os.environ["SPARK_HOME"]) / "conf"))
    for d in filter(None, dirs):
        p = Path(d) / "spark-defaults.conf"
        if p.is_file():
            out = {}
            for line in p.read_text(encoding="utf-8", errors="replace").splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    parts = line.split(None, 1)
                    out[parts[0]] = parts[1].strip() if len(parts) > 1 else ""
            return out
    return {}


def resolve_master(spark_master: str | None = None) -> tuple[str, str]:
    """The master URL for a new session and where it came from."""
    if spark_master:
        return spark_master, "--spark-master"
    if os.environ.get("SPARK_MASTER"):
        return os.environ["SPARK_MASTER"], "SPARK_MASTER"
    conf = _spark_defaults().get("spark.master")
    if conf:
        return conf, "spark-defaults.conf"
    return "local[*]", "default"


def _log4j2_file() -> Path:
    """A log4j2 configuration that shows errors only (Spark's default prints warnings at start-up)."""
    import tempfile

    p = Path(tempfile.gettempdir()) / "linkage-spark-log4j2.properties"
    if not p.exists() or p.read_text() != _LOG4J2:
        tmp = p.with_name(f"{p.name}.{os.getpid()}")
        tmp.write_text(_LOG4J2)
        os.replace(tmp, p)
    return p


def _check_java() -> None:
    if os.environ.get("JAVA_HOME") or shutil.which("java"):
        return
    raise LinkageError("the Spark backend needs a Java runtime (Java 17 or 21) and none was found",
                       "install one (Debian: apt-get install default-jdk-headless) or set JAVA_HOME")


def _jar_classes_loaded(spark) -> bool:
    try:
        spark.sparkContext._jvm.java.lang.Class.forName(
            "uk.gov.moj.dash.linkage.JaroWinklerSimilarity", True,
            spark.sparkContext._jvm.Thread.currentThread().getContextClassLoader())
        return True
    except Exception:
        return False


def ensure_similarity_functions(spark) -> None:
    """Make Splink's Scala similarity functions callable on ``spark`` (``ADD JAR`` on a session that
    was started without it)."""
    from splink.backends.spark import similarity_jar_location

    if not _jar_classes_loaded(spark):
        spark.sql(f"ADD JAR '{similarity_jar_location()}'")


def create_session(spark_master: str | None = None, app_name: str = "linkage"):
    """A new ``SparkSession`` from standard configuration (see the module docstring), or the active one."""
    _check_java()
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    active = SparkSession.getActiveSession()
    if active is not None:  # a running session's master cannot change
        if spark_master and spark_master != active.sparkContext.master:
            log.warning("using the active Spark session (master %s), not %s", active.sparkContext.master,
                        spark_master)
        ensure_similarity_functions(active)
        return active
    master, origin = resolve_master(spark_master)
    defaults = _spark_defaults()
    builder = SparkSession.builder.appName(app_name).master(master)
    jars = [j for j in (defaults.get("spark.jars") or "").split(",") if j]
    builder = builder.config("spark.jars", ",".join([*jars, similarity_jar_location()]))
    if master.startswith("local"):
        cores = _local_cores(master)
        local = {**LOCAL_DEFAULTS, "spark.sql.shuffle.partitions": str(cores), "spark.default.parallelism": str(cores),
                 "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{_log4j2_file()}"}
        if not os.environ.get("PYSPARK_PYTHON"):  # local Python workers (the Jaro-Winkler UDF): this interpreter
            os.environ["PYSPARK_PYTHON"] = sys.executable
        for k, v in local.items():
            if k not in defaults:
                builder = builder.config(k, v)
    log.info("starting Spark (master %s, from %s)", master, origin)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            spark = builder.getOrCreate()
        except Exception as exc:  # no JVM, a bad master URL, ...
            raise LinkageError(f"Spark did not start (master {master}): {str(exc).splitlines()[0][:200]}",
                               "check the master URL and that Java 17+ runs ('java -version')") from exc
    if master.startswith("local"):
        spark.sparkContext.setLogLevel("ERROR")
    ensure_similarity_functions(spark)
    return spark


def register_exact_similarity(spark, probe: bool = True) -> bool:
    """Replace the JAR's ``jaro_winkler`` and ``jaro_sim`` on ``spark`` with vectorised UDFs computed by
    rapidfuzz, which gives DuckDB's values bit for bit; False (the JAR's functions stay) without rapidfuzz.

    The JAR implements the textbook Jaro match, DuckDB (like rapidfuzz) another valid one; on long
    strings they differ by up to ~0.007 (one transposition), enough to move a pair across a level's
    threshold: 19 of DBLP-ACM's 6,670 scored pairs got a different title level with the JAR.
    """
    try:
        import rapidfuzz  # noqa: F401
    except ImportError:
        return False
    from pyspark.sql.functions import pandas_udf

    def similarity(a: pd.Series, b: pd.Series, jaro_winkler: bool) -> pd.Series:
        # defined here, not at module level, so that executors unpickle it without linkage installed
        import numpy as np
        from rapidfuzz.distance import Jaro, JaroWinkler
        from rapidfuzz.process import cpdist

        out = np.zeros(len(a))
        ok = (a.notna() & b.notna()).to_numpy()
        if ok.any():
            left, right = a[ok].astype(str).tolist(), b[ok].astype(str).tolist()
            scorer = JaroWinkler.similarity if jaro_winkler else Jaro.similarity
            out[ok] = cpdist(left, right, scorer=scorer, dtype=np.float64, workers=1)
            both_empty = np.array([x == "" and y == "" for x, y in zip(left, right)], dtype=bool)
            out[np.flatnonzero(ok)[both_empty]] = 0.0  # DuckDB: 0 for two empty strings
        return pd.Series(pd.array(np.where(ok, out, np.nan), dtype="Float64")).mask(~ok)

    @pandas_udf("double")
    def jaro_winkler(a: pd.Series, b: pd.Series) -> pd.Series:
        return similarity(a, b, True)

    @pandas_udf("double")
    def jaro_sim(a: pd.Series, b: pd.Series) -> pd.Series:
        return similarity(a, b, False)

    spark.udf.register("jaro_winkler", jaro_winkler)
    spark.udf.register("jaro_sim", jaro_sim)
    if probe:  # executors must run Python with pandas, pyarrow and rapidfuzz; else keep the JAR's
        try:
            ok = abs(spark.sql("select jaro_winkler('martha', 'marhta') as v").collect()[0]["v"] - 0.961111) < 1e-5
        except Exception as exc:
            log.warning("Jaro-Winkler via rapidfuzz does not run on this cluster (%s); using Splink's JAR",
                        str(exc).strip().splitlines()[-1][:160])
            ok = False
        if not ok:
            from splink.internals.spark.jar_location import get_scala_udfs

            for udf in get_scala_udfs():
                if udf[0] in ("jaro_winkler", "jaro_sim"):
                    spark.udf.registerJavaFunction(*udf)
            return False
    return True


def spark_schema():
    """The Spark schema of a model frame: ``scoring.arrow_schema()`` in Spark types."""
    from pyspark.sql import types as T

    from .normalise import NORMALISED_COLUMNS

    kinds = {"VARCHAR": T.StringType(), "VARCHAR[]": T.ArrayType(T.StringType(), True),
             "BOOLEAN": T.BooleanType(), "INTEGER": T.LongType(), "DATE": T.DateType()}
    fields = [T.StructField("unique_id", T.StringType(), True), T.StructField("source", T.StringType(), True)]
    fields += [T.StructField(c, kinds[t], True) for c, t in NORMALISED_COLUMNS.items()]
    return T.StructType(fields)


class SparkBackend(Backend):
    """Splink on Spark. ``spark``: an existing session to use; ``spark_master``: a master URL for a
    new one (ignored when ``spark`` is given)."""

    def __init__(self, spark: Any = None, spark_master: str | None = None):
        super().__init__("spark", "spark", {"spark_master": spark_master})
        self._spark = spark
        self._ready = False
        self._exact: bool | None = None
        self._warned = False

    @property
    def spark(self):
        """The session: the one given, else the active one or a new one, on first use."""
        if self._spark is None:
            self._spark = create_session(self.options.get("spark_master"))
        elif not self._ready:  # a session the caller made: it may lack the JAR
            ensure_similarity_functions(self._spark)
        self._ready = True
        return self._spark

    def to_spark(self, model_df: pd.DataFrame):
        """``model_df`` as a Spark DataFrame with the explicit schema of ``spark_schema()``."""
        import pyarrow as pa

        from .scoring import arrow_schema

        table = pa.Table.from_pandas(model_df, schema=arrow_schema(), preserve_index=False)
        schema = spark_schema()
        major = int(self.spark.version.split(".")[0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if major >= 4:
                return self.spark.createDataFrame(table, schema=schema)
            return self.spark.createDataFrame(table.to_pylist(), schema=schema)

    def _db_api(self):
        from splink.backends.spark import SparkAPI

        master = self.spark.sparkContext.master
        checkpoint = self.spark.sparkContext._jsc.sc().getCheckpointDir()
        # Splink's default writes every intermediate table as parquet under the checkpoint dir;
        # in local mode (or with no checkpoint dir) caching in memory/disk is enough.
        method = "persist" if master.startswith("local") or checkpoint.isEmpty() else "parquet"
        api = SparkAPI(spark_session=self.spark, break_lineage_method=method, register_udfs_automatically=True)
        if self._exact is not False:  # after the JAR's functions: same names, DuckDB's values
            self._exact = register_exact_similarity(self.spark, probe=self._exact is None)
        if not self._exact and not self._warned:
            log.warning("Jaro-Winkler on Spark comes from Splink's JAR, which differs slightly from DuckDB's on long "
                        "strings: install rapidfuzz (pip install -e '.[spark]') where Spark runs Python")
            self._warned = True
        return api

    def register(self, linker, model_df: pd.DataFrame, name: str):
        """Register ``model_df`` (a model frame) with ``linker``'s engine as ``name``; a SplinkDataFrame."""
        return self._register(linker._db_api, model_df, name)

    def _register(self, db_api, model_df: pd.DataFrame, name: str):
        sdf = self.to_spark(model_df)
        physical = f"linkage_{re.sub(r'[^A-Za-z0-9_]', '_', name)}_{uuid.uuid4().hex[:10]}"
        sdf.createOrReplaceTempView(physical)
        return db_api.register(physical, dataset_display_name=name)

    def make_linker(self, model_df: pd.DataFrame, settings: Any, name: str = "records", other_sql: tuple = ()):
        from splink import Linker

        db_api = self._db_api()
        sdf = self._register(db_api, model_df, name)
        return Linker(sdf, settings, log_level=logging.ERROR)

    def scalar_row(self, linker, sql: str) -> tuple:
        return tuple(linker._db_api._execute_sql_against_backend(sql).collect()[0])

    def describe(self) -> dict:
        s = self._spark
        out: dict[str, Any] = {"name": self.name, "dialect": self.dialect}
        if s is not None:
            out.update(master=s.sparkContext.master, spark_version=s.version,
                       shuffle_partitions=s.conf.get("spark.sql.shuffle.partitions"),
                       jaro_winkler="rapidfuzz (DuckDB's values)" if self._exact else "Splink JAR")
        else:
            out["master"] = self.options.get("spark_master")
        return out
