"""Index mode: pick the captures to read from Common Crawl's columnar URL index (the cc-index-table).

The table is Parquet partitioned as `crawl=CC-MAIN-.../subset=warc/`; one row per capture with `content_languages`
(CLD2's guesses), `fetch_status`, `content_mime_detected`, `warc_filename`, `warc_record_offset` and
`warc_record_length`. Selecting `jpn` HTML 200s and reading only their byte ranges fetches about a twentieth of the
crawl. Two ways to reach the table, both reading only the columns the rule needs:

- a location Spark can list (s3a://commoncrawl/cc-index/table/cc-main/warc/, HDFS, local): Spark reads just the
  `crawl=<id>/subset=<subset>/` folder (partition pruning at listing time, not after listing every crawl);
- a listing of its Parquet files (crawl-data/<id>/cc-index-table.paths.gz over HTTPS): one Spark task per Parquet
  file reads its footer and the needed column chunks with range requests (pyarrow over pipeline.remote).

The selection is grouped by WARC file on the executors (ranges sorted by offset) and written as Parquet, so a
resumed or retried run reuses it instead of reading the index again. Only file names reach the driver.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.utils import AnalysisException

from jwc.pipeline.commoncrawl.listing import IndexSource, read_listing
from jwc.pipeline.errors import UserError
from jwc.pipeline.io.inputs import InputFile
from jwc.pipeline.io.paths import open_input
from jwc.pipeline.io.remote import RetryPolicy

SELECTION_DIR = "index-selection"  # in a run folder (nightly) or an extract output folder
_RULE_COLUMNS = ["content_languages", "fetch_status", "content_mime_detected"]
_OUT_COLUMNS = ["warc_filename", "warc_record_offset", "warc_record_length"]
_CAPTURES = "warc_filename string, warc_record_offset bigint, warc_record_length bigint"


class IndexReadError(UserError):
    """The index cannot be read at the given location; the message says where and why."""


def select_captures(spark: SparkSession, src: IndexSource, policy: RetryPolicy | None = None) -> DataFrame:
    """Lazy (warc_filename, warc_record_offset, warc_record_length) of the captures the rule selects."""
    if src.kind == "listing":
        return _select_from_listing(spark, src, policy)
    root = src.location if src.location.endswith("/") else src.location + "/"
    folder = f"{root}crawl={src.crawl_id}/subset={src.subset}/"
    try:
        table = spark.read.option("basePath", root).parquet(folder)
    except AnalysisException as exc:
        raise IndexReadError(f"no index partition for crawl {src.crawl_id}, subset {src.subset} at {folder}: "
                          f"{str(exc).splitlines()[0]}") from None
    rule = (F.col("content_languages").rlike(src.language_regex())
            & F.col("fetch_status").isin(*src.fetch_status)
            & F.col("content_mime_detected").isin(*src.mime_types))
    return (table.where((F.col("crawl") == src.crawl_id) & (F.col("subset") == src.subset))
            .where(rule).select("warc_filename", F.col("warc_record_offset").cast("bigint"),
                                F.col("warc_record_length").cast("bigint")))


def _select_from_listing(spark: SparkSession, src: IndexSource, policy: RetryPolicy | None) -> DataFrame:
    partition = f"crawl={src.crawl_id}/subset={src.subset}/"
    files = [p for p in read_listing(src.location, src.base, policy) if partition in p and p.endswith(".parquet")]
    if not files:
        raise IndexReadError(f"{src.location} lists no Parquet file under {partition}")
    frame = spark.createDataFrame(
        spark.sparkContext.parallelize([(f,) for f in files], numSlices=len(files)), "path string")
    return frame.mapInArrow(_parquet_task(src, policy), _CAPTURES)


def _parquet_task(src: IndexSource, policy: RetryPolicy | None):
    regex = src.language_regex()
    statuses = pa.array(list(src.fetch_status), pa.int64())
    mimes = pa.array(list(src.mime_types), pa.string())

    def task(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow.parquet as pq

        for batch in batches:
            for path in batch.column("path").to_pylist():
                with open_input(path, policy, random_access=True) as fh:
                    parquet = pq.ParquetFile(fh)
                    for group in range(parquet.num_row_groups):
                        table = parquet.read_row_group(group, columns=_RULE_COLUMNS + _OUT_COLUMNS)
                        keep = pc.and_(
                            pc.and_(pc.fill_null(pc.match_substring_regex(table["content_languages"], regex), False),
                                    pc.fill_null(pc.is_in(pc.cast(table["fetch_status"], pa.int64()),
                                                          value_set=statuses), False)),
                            pc.fill_null(pc.is_in(table["content_mime_detected"], value_set=mimes), False))
                        picked = table.filter(keep).select(_OUT_COLUMNS)
                        picked = picked.cast(pa.schema([("warc_filename", pa.string()),
                                                        ("warc_record_offset", pa.int64()),
                                                        ("warc_record_length", pa.int64())]))
                        yield from picked.to_batches()

    return task


def group_by_file(captures: DataFrame, warc_prefix: str) -> DataFrame:
    """One row per WARC file: `path` (prefix + warc_filename), `ranges` (offset, length) sorted by offset,
    `bytes` (their total) and `records`. Grouped on the executors."""
    ranges = F.struct(F.col("warc_record_offset").alias("offset"), F.col("warc_record_length").alias("length"))
    return (captures.groupBy("warc_filename")
            .agg(F.sort_array(F.collect_list(ranges)).alias("ranges"),
                 F.sum("warc_record_length").alias("bytes"), F.count(F.lit(1)).alias("records"))
            .select(F.concat(F.lit(warc_prefix), F.col("warc_filename")).alias("path"), "ranges", "bytes",
                    "records"))


def write_selection(spark: SparkSession, src: IndexSource, out: Path, policy: RetryPolicy | None = None,
                    reuse: bool = True) -> list[InputFile]:
    """Select, group and write the selection to `out` (kept when already complete and `reuse`); returns its
    WARC files with the bytes to fetch from each, biggest first."""
    if not (reuse and (out / "_SUCCESS").is_file()):
        group_by_file(select_captures(spark, src, policy), src.warc_prefix).write.mode("overwrite").parquet(str(out))
    return selection_files(spark, out)


def selection_files(spark: SparkSession, selection: Path) -> list[InputFile]:
    """The WARC files of a written selection, with the bytes to fetch from each, biggest first."""
    rows = spark.read.parquet(str(selection)).select("path", "bytes").collect()  # one row per WARC file
    return sorted((InputFile(r["path"], int(r["bytes"])) for r in rows), key=lambda f: (-f.size, f.path))
