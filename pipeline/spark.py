"""One place that makes the SparkSession, so every job runs the same in local mode and under spark-submit.

Who decides a Spark setting, strongest first: `--conf` on the jwc command line (`extra_conf`), the config's
`[spark]` keys, what was set before jwc ran (spark-submit's flags and --conf, spark-defaults.conf,
PYSPARK_SUBMIT_ARGS), and only then jwc's own defaults. So an operator's `spark-submit --conf` is never overridden.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyspark import SparkConf, SparkContext
from pyspark.sql import SparkSession
from pyspark.sql.pandas.types import from_arrow_type
from pyspark.sql.types import StructField, StructType

# In local mode the JVM mostly moves Arrow batches between Python workers and Parquet files; its optimizing (C2)
# compiler spent more CPU compiling than the compiled code saved: measured on the extract stage over 48,000
# records, JVM CPU 14-16 s -> 8 s on the first run and 2.3-3.6 s -> 1.4-1.6 s on later runs, task time unchanged.
QUICK_JIT = "-XX:TieredStopAtLevel=1"
# Local mode's log4j2 setup: warnings stay, the known start-up noise does not (see the file).
LOCAL_LOG4J = Path(__file__).with_name("log4j2-local.properties")
# JVM start-up lines that no log4j setting reaches: the launcher always adds an incubator module.
_JVM_NOISE = (b"WARNING: Using incubator modules:",)
SHUFFLE = "spark.sql.shuffle.partitions"
# Set on sessions whose shuffle partitions jwc sizes itself (nothing else set them): see size_shuffle.
_AUTO_SHUFFLE = "spark.jwc.autoShufflePartitions"


def _local_memory() -> str:
    """Driver memory for local mode: half the machine, at least 1 GiB, at most 16 GiB."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return "2g"
    gib = max(1, min(16, int(total / 2**30 / 2)))
    return f"{gib}g"


def require_java() -> None:
    """Fail early with the exact thing to install, instead of a py4j stack trace."""
    if os.environ.get("JAVA_HOME") or shutil.which("java"):
        return
    raise RuntimeError(
        "Java 17 or newer is required by Spark and was not found. Install it (Debian/Ubuntu: "
        "`apt-get install -y openjdk-17-jre-headless`) or set JAVA_HOME."
    )


def jwc_defaults() -> dict[str, str]:
    """jwc's choices for settings nobody else made: Arrow transfer, adaptive execution, zstd Parquet, UTC."""
    return {
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.maxRecordsPerBatch": "256",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.adaptive.enabled": "true",
        "spark.python.worker.reuse": "true",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.parquet.compression.codec": "zstd",
        "spark.executorEnv.PYSPARK_PYTHON": os.environ["PYSPARK_PYTHON"],
    }


def preset_conf() -> dict[str, str]:
    """Spark settings made before jwc's code runs. When a JVM is up (spark-submit started this driver) it knows
    them all; otherwise pyspark is about to start one from spark-defaults.conf and PYSPARK_SUBMIT_ARGS."""
    if "PYSPARK_GATEWAY_PORT" in os.environ or SparkContext._gateway is not None:
        SparkContext._ensure_initialized()
        return dict(SparkConf().getAll())
    return {**_defaults_file(), **_submit_args()}


def _defaults_file() -> dict[str, str]:
    """spark-defaults.conf of SPARK_CONF_DIR, else of the Spark home (a Java properties file)."""
    from pyspark.find_spark_home import _find_spark_home

    folder = os.environ.get("SPARK_CONF_DIR") or os.path.join(_find_spark_home(), "conf")
    path = Path(folder) / "spark-defaults.conf"
    if not path.is_file():
        return {}
    out = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        key, *value = re.split(r"\s*[=:\s]\s*", line, maxsplit=1)
        out[key] = value[0] if value else ""
    return out


_SUBMIT_FLAGS = {"--master": "spark.master", "--driver-memory": "spark.driver.memory",
                 "--driver-java-options": "spark.driver.extraJavaOptions"}


def _submit_args() -> dict[str, str]:
    """The settings in PYSPARK_SUBMIT_ARGS (`--conf k=v`, `--master`, `--driver-memory`, `--driver-java-options`)."""
    words = shlex.split(os.environ.get("PYSPARK_SUBMIT_ARGS", ""))
    out = {}
    for flag, value in zip(words, words[1:]):
        if flag == "--conf" and "=" in value:
            key, _, val = value.partition("=")
            out[key] = val
        elif flag in _SUBMIT_FLAGS:
            out[_SUBMIT_FLAGS[flag]] = value
    return out


def get_session(
    app_name: str = "jwc",
    master: str | None = None,
    ui: bool | None = None,
    shuffle_partitions: int | None = None,
    extra_conf: dict[str, str] | None = None,
    quick_jit: bool = True,
) -> SparkSession:
    """Return the active session or build one.

    `master`, `ui`, `shuffle_partitions` come from the config (None: not set there), `extra_conf` from `--conf`;
    both beat spark-submit's settings, which beat jwc_defaults(). Without any master, `local[*]`. Unset shuffle
    partitions follow the cluster's parallelism (size_shuffle). Local mode also gets half the machine's memory,
    the quick JIT (`quick_jit`) and quiet start-up logging.
    """
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    require_java()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    preset = preset_conf()
    chosen = {"spark.master": master, "spark.ui.enabled": None if ui is None else str(ui).lower(),
              SHUFFLE: str(shuffle_partitions) if shuffle_partitions else None}
    chosen = {k: v for k, v in chosen.items() if v is not None}
    conf = plan_conf(preset, {**chosen, **(extra_conf or {})}, quick_jit)
    if conf["spark.master"].startswith("local") and SparkContext._gateway is None:
        _launch_quiet_jvm(conf)
    builder = SparkSession.builder.appName(app_name)
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    size_shuffle(spark)
    level = os.environ.get("JWC_SPARK_LOG_LEVEL")
    if level:
        spark.sparkContext.setLogLevel(level)
    return spark


def plan_conf(preset: dict[str, str], chosen: dict[str, str], quick_jit: bool = True) -> dict[str, str]:
    """The settings a new session gets: `chosen` (config and --conf), then jwc_defaults() where `preset`
    (spark-submit's) has nothing, local mode's launch settings, and whether jwc sizes the shuffle itself."""
    conf = {k: v for k, v in jwc_defaults().items() if k not in preset}
    conf.update(chosen)
    conf["spark.master"] = chosen.get("spark.master") or preset.get("spark.master") or "local[*]"
    if conf["spark.master"].startswith("local"):
        conf.update(_local_launch(preset, conf, quick_jit))
    conf[_AUTO_SHUFFLE] = str(SHUFFLE not in preset and SHUFFLE not in chosen).lower()
    return conf


def session_for(app_name: str, spark_cfg: dict[str, Any], master: str | None = None,
                conf: dict[str, str] | None = None) -> SparkSession:
    """The session of a command: its `--master` and `--conf` (`master`, `conf`) over the config's [spark] keys."""
    return get_session(app_name, master=master or spark_cfg["master"] or None,
                       ui=None if spark_cfg["ui"] == "" else spark_cfg["ui"],
                       shuffle_partitions=spark_cfg["shuffle_partitions"] or None, extra_conf=conf,
                       quick_jit=spark_cfg["local_quick_jit"])


def _local_launch(preset: dict[str, str], conf: dict[str, str], quick_jit: bool) -> dict[str, str]:
    """Local mode's JVM settings: memory unless set; jwc's Java options before the user's (later flags win)."""
    out = {}
    if "spark.driver.memory" not in preset and "spark.driver.memory" not in conf:
        out["spark.driver.memory"] = _local_memory()
    key = "spark.driver.extraJavaOptions"
    ours = [f"-Dlog4j2.configurationFile={LOCAL_LOG4J.as_uri()}", *([QUICK_JIT] if quick_jit else [])]
    theirs = conf.get(key, preset.get(key, ""))
    out[key] = " ".join([*ours, theirs]).strip()
    return out


def _launch_quiet_jvm(conf: dict[str, str]) -> None:
    """Start the local JVM with its stderr passed through a filter that drops the start-up lines no log4j setting
    reaches. Everything else (warnings, the Python workers' progress lines) is forwarded to our stderr."""
    from pyspark.java_gateway import launch_gateway

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # local mode: no "hostname resolves to loopback" warning
    launch_keys = ("spark.master", "spark.driver.memory", "spark.driver.extraJavaOptions")
    read_fd, write_fd = os.pipe()
    threading.Thread(target=_forward_stderr, args=(read_fd,), daemon=True, name="jwc-jvm-stderr").start()
    try:
        gateway = launch_gateway(SparkConf(loadDefaults=False).setAll([(k, conf[k]) for k in launch_keys
                                                                       if k in conf]),
                                 popen_kwargs={"stderr": write_fd})
    finally:
        os.close(write_fd)
    SparkContext._ensure_initialized(gateway=gateway)


def _forward_stderr(read_fd: int) -> None:
    """Copy the JVM's stderr to ours line by line, without the known noise. Never stops reading while the JVM
    lives (a full pipe would block it), even when our stderr is gone."""
    with open(read_fd, "rb") as pipe:
        for line in pipe:
            if line.startswith(_JVM_NOISE):
                continue
            try:
                os.write(2, line)
            except OSError:
                pass


def size_shuffle(spark: SparkSession) -> int:
    """Shuffle partitions = 2 x the cluster's parallelism (Spark's tuning guide: 2-3 tasks per core), unless
    someone set them. Called again before each stage, so executors that registered after the start count."""
    if spark.conf.get(_AUTO_SHUFFLE, "false") == "true":
        spark.conf.set(SHUFFLE, str(2 * spark.sparkContext.defaultParallelism))
    return int(spark.conf.get(SHUFFLE))


def spark_schema(arrow_schema: pa.Schema) -> StructType:
    """The Spark schema of an Arrow schema, by pyspark's own type converter. Every column is nullable, as Spark
    declares the columns it reads and writes: mapInArrow outputs and Parquet files keep optional columns."""
    return StructType([StructField(f.name, from_arrow_type(f.type), nullable=True) for f in arrow_schema])
