"""Spark settings on a cluster: spark-submit's and the command line's --conf win over jwc's defaults, shuffle
partitions follow the cluster's parallelism when nobody set them, the UI is Spark's default, and local mode starts
without the JVM's and log4j's start-up lines while warnings still show."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jwc.jobs.cli import _spark_conf, build_parser
from jwc.pipeline.errors import UserError
from jwc.pipeline.spark import jwc_defaults, plan_conf
from tests.helpers import REPO

PROBE = str(REPO / "tests" / "spark_probe.py")
SPARK_SUBMIT = Path(sys.executable).with_name("spark-submit")
# What a local session used to print before any output of ours (pyspark 4 defaults).
START_NOISE = ("Using incubator modules", "log4j profile", "Setting default log level", "To adjust logging level",
               "NativeCodeLoader", "resolves to a loopback address", "Set SPARK_LOCAL_IP")


def _probe(cmd: list[str], tmp_path: Path) -> tuple[dict, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("JWC_SPARK_LOG_LEVEL", "PYSPARK_SUBMIT_ARGS")}
    env.update({"PYTHONPATH": str(REPO), "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable})
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("PROBE "))
    return json.loads(line.removeprefix("PROBE ")), proc.stderr


@pytest.mark.slow
def test_spark_submit_conf_is_kept_and_command_line_conf_wins(tmp_path) -> None:
    if not SPARK_SUBMIT.is_file():
        pytest.skip("spark-submit not in the venv")
    got, _ = _probe([str(SPARK_SUBMIT), "--master", "local[1]", "--conf", "spark.sql.shuffle.partitions=777",
                     "--conf", "spark.ui.enabled=true", "--conf", "spark.sql.adaptive.enabled=false",
                     "--conf", "spark.sql.session.timeZone=UTC", PROBE, "",
                     "--conf", "spark.sql.session.timeZone=Asia/Tokyo"], tmp_path)
    assert got["spark.sql.shuffle.partitions"] == "777"      # spark-submit's, not jwc's sizing
    assert got["spark.ui.enabled"] == "true"
    assert got["spark.sql.adaptive.enabled"] == "false"      # jwc's default "true" does not override it
    assert got["spark.sql.session.timeZone"] == "Asia/Tokyo"  # the command line's --conf beats spark-submit's
    assert got["spark.sql.parquet.compression.codec"] == "zstd"  # jwc's default where nobody set anything
    assert got["spark.master"] == "local[1]"


@pytest.mark.slow
def test_local_session_sizes_shuffle_from_parallelism_and_starts_quietly(tmp_path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[spark]\nmaster = \"local[3]\"\n")
    got, err = _probe([sys.executable, PROBE, str(cfg)], tmp_path)
    assert got["parallelism"] == 3 and got["spark.sql.shuffle.partitions"] == "6"  # 2 x the parallelism
    assert got["spark.ui.enabled"] in (None, "true")  # left to Spark: on
    assert got["spark.sql.session.timeZone"] == "UTC"
    assert not [line for line in err.splitlines() if any(n in line for n in START_NOISE)], err
    assert "WARN probe: probe warning" in err  # warnings still reach the console


def test_config_and_conf_precedence_without_spark() -> None:
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    submitted = {"spark.master": "yarn", "spark.sql.shuffle.partitions": "777", "spark.sql.adaptive.enabled": "false"}
    conf = plan_conf(submitted, {})
    assert "spark.sql.shuffle.partitions" not in conf and "spark.sql.adaptive.enabled" not in conf
    assert conf["spark.master"] == "yarn" and "spark.driver.memory" not in conf  # no local-mode settings
    assert conf["spark.jwc.autoShufflePartitions"] == "false"
    assert not {"spark.ui.enabled", "spark.sql.shuffle.partitions"} & set(jwc_defaults())
    conf = plan_conf(submitted, {"spark.sql.shuffle.partitions": "9", "spark.master": "local[2]"})
    assert conf["spark.sql.shuffle.partitions"] == "9" and conf["spark.master"] == "local[2]"
    conf = plan_conf({}, {"spark.driver.extraJavaOptions": "-Xss4m"}, quick_jit=True)
    opts = conf["spark.driver.extraJavaOptions"].split()
    assert opts[-1] == "-Xss4m" and "-XX:TieredStopAtLevel=1" in opts  # the user's options last: they win
    assert conf["spark.jwc.autoShufflePartitions"] == "true"


def test_cli_conf_flags_are_parsed_and_bad_ones_refused() -> None:
    args = build_parser().parse_args(["extract", "--input", "x", "--output", "y", "--conf", "spark.a=1",
                                      "--conf", "spark.b=x=y"])
    assert _spark_conf(args) == {"spark.a": "1", "spark.b": "x=y"}
    with pytest.raises(UserError, match="KEY=VALUE"):
        _spark_conf(build_parser().parse_args(["extract", "--input", "x", "--output", "y", "--conf", "spark.a"]))


def test_settings_made_before_the_jvm_starts_count_as_preset(monkeypatch, tmp_path) -> None:
    """Without a running JVM, spark-defaults.conf and PYSPARK_SUBMIT_ARGS are what pyspark will start it with."""
    from pyspark import SparkContext

    from jwc.pipeline.spark import preset_conf

    (tmp_path / "spark-defaults.conf").write_text("# cluster defaults\nspark.sql.shuffle.partitions   64\n"
                                                  "spark.ui.enabled=false\nspark.driver.memory: 3g\n")
    monkeypatch.setattr(SparkContext, "_gateway", None)
    monkeypatch.delenv("PYSPARK_GATEWAY_PORT", raising=False)
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path))
    monkeypatch.setenv("PYSPARK_SUBMIT_ARGS", "--master local[3] --conf spark.sql.shuffle.partitions=96 pyspark-shell")
    assert preset_conf() == {"spark.sql.shuffle.partitions": "96", "spark.ui.enabled": "false",
                             "spark.driver.memory": "3g", "spark.master": "local[3]"}
