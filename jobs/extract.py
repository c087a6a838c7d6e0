"""Extract stage: WARC files -> one Parquet row per record (documents are the rows with outcome "kept").

Files are spread over the executors one per task; each task streams its file through the record processor and
emits Arrow batches, so the driver only ever sees file names and counts.
"""
from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.progress import Progress
from pipeline.config import Config
from pipeline.inputs import InputFile
from pipeline.records import RecordProcessor
from schemas.documents import EXTRACT_OUTCOMES, EXTRACT_SCHEMA

if TYPE_CHECKING:
    from jobs.stages import RunContext

log = logging.getLogger(__name__)
_BATCH_ROWS = 512


def _to_batch(rows: list[dict[str, Any]]) -> pa.RecordBatch:
    cols = {f.name: [r.get(f.name) for r in rows] for f in EXTRACT_SCHEMA}
    return pa.RecordBatch.from_pydict(cols, schema=EXTRACT_SCHEMA)


def _make_task(extract: dict[str, Any], langid: dict[str, Any], crawl_id: str, records_acc: Any):
    def task(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        processor = RecordProcessor(extract, langid, crawl_id)
        for batch in batches:
            for path in batch.column("path").to_pylist():
                rows: list[dict[str, Any]] = []
                for row in processor.process_file(path, _warn_unreadable):
                    rows.append(row)
                    if len(rows) >= _BATCH_ROWS:
                        records_acc.add(len(rows))
                        yield _to_batch(rows)
                        rows = []
                if rows:
                    records_acc.add(len(rows))
                    yield _to_batch(rows)

    return task


def _warn_unreadable(path: str, exc: Exception) -> None:
    print(f"WARNING: cannot read {path}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)


def extract_frame(spark: SparkSession, files: list[InputFile], cfg: Config, crawl_id: str) -> tuple[DataFrame, Any]:
    """The lazy DataFrame of extract rows (one partition per file) and the accumulator counting its records."""
    # One file per partition (parallelize slices evenly), biggest first so a large file does not start last.
    ordered = sorted(files, key=lambda f: -f.size)
    rdd = spark.sparkContext.parallelize([(f.path,) for f in ordered], numSlices=max(1, len(files)))
    paths = spark.createDataFrame(rdd, "path string")
    acc = spark.sparkContext.accumulator(0)
    task = _make_task(cfg["extract"], cfg["langid"], crawl_id, acc)
    arrow_schema = EXTRACT_SCHEMA
    spark_schema = ", ".join(f"`{f.name}` {_spark_type(f.type)}" for f in arrow_schema)
    return paths.mapInArrow(task, spark_schema), acc


def _spark_type(t: pa.DataType) -> str:
    return {pa.string(): "string", pa.int64(): "bigint", pa.int32(): "int", pa.float64(): "double"}[t]


def run_extract(spark: SparkSession, files: list[InputFile], output_dir: str, cfg: Config, crawl_id: str
                ) -> dict[str, Any]:
    """Write `output_dir/records` and `output_dir/counts.json`; return the counts by outcome and by file."""
    frame, acc = extract_frame(spark, files, cfg, crawl_id)
    records_path = os.path.join(output_dir, "records")
    with Progress(spark.sparkContext, "extract", "files", len(files), lambda: acc.value,
                  cfg["run"]["progress_seconds"]):
        frame.write.mode("overwrite").parquet(records_path)
    counts = outcome_counts(spark.read.parquet(records_path))
    with open(os.path.join(output_dir, "counts.json"), "w", encoding="utf-8") as fh:
        json.dump(counts, fh, indent=2, sort_keys=True)
    lost = {f: c for f, c in counts["damage_by_file"].items() if c}
    for f, c in lost.items():
        print(f"WARNING: {f}: {c} damaged stretch(es) skipped (corrupt, truncated or unreadable)",
              file=sys.stderr, flush=True)
    return counts


def outcome_counts(records: DataFrame) -> dict[str, Any]:
    """Counts by outcome (every known outcome present, zero or not), and damage per source file."""
    by_outcome = {r["outcome"]: r["n"] for r in records.groupBy("outcome").agg(F.count("*").alias("n")).collect()}
    damage = ("corrupt_member", "bad_record", "truncated_at_eof", "unreadable_file")
    by_file = {
        r["source_file"]: r["n"]
        for r in records.where(F.col("outcome").isin(*damage)).groupBy("source_file").agg(F.count("*").alias("n"))
        .collect()
    }
    outcomes = {o: int(by_outcome.get(o, 0)) for o in EXTRACT_OUTCOMES}
    outcomes.update({o: int(n) for o, n in by_outcome.items() if o not in outcomes})
    return {"records": int(sum(outcomes.values())), "outcomes": outcomes, "damage_by_file": by_file,
            "kept": outcomes["kept"]}


def kept_documents(spark: SparkSession, extract_dir: str) -> DataFrame:
    """The documents of an extract output: kept rows, without the bookkeeping columns."""
    records = spark.read.parquet(os.path.join(extract_dir, "records"))
    return records.where(F.col("outcome") == "kept").drop("outcome", "detail")


def extract_stage(ctx: RunContext, out: Path) -> dict[str, Any]:
    """Nightly stage: the run's input files -> `extract/records`."""
    counts = run_extract(ctx.spark, ctx.inputs, str(out), ctx.cfg, ctx.crawl_id)
    return {"records": counts["records"], "kept": counts["kept"],
            **{f"outcome_{k}": v for k, v in counts["outcomes"].items()}}
