"""Started by tests/test_spark_settings.py, under spark-submit or plain python: builds the session the way every
jwc command does (config file in argv[1], then `--conf` items) and prints the settings that matter as JSON."""
from __future__ import annotations

import json
import sys

from jwc.jobs.cli import _spark_conf, build_parser
from jwc.pipeline import config
from jwc.pipeline.spark import session_for

KEYS = ("spark.sql.shuffle.partitions", "spark.ui.enabled", "spark.sql.adaptive.enabled",
        "spark.sql.session.timeZone", "spark.sql.parquet.compression.codec", "spark.master")


def main() -> None:
    args = build_parser().parse_args(["extract", "--input", "x", "--output", "y", *sys.argv[2:]])
    spark = session_for("probe", config.load(sys.argv[1] or None)["spark"], args.master, _spark_conf(args))
    # A warning from the JVM must still reach the console in local mode.
    spark.sparkContext._jvm.org.apache.logging.log4j.LogManager.getLogger("jwc.probe").warn("probe warning")
    out = {k: spark.conf.get(k, None) for k in KEYS}
    out["parallelism"] = spark.sparkContext.defaultParallelism
    print("PROBE " + json.dumps(out), flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
