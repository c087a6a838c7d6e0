"""Shards stage: the kept documents of dedup -> the version's zstd Parquet shards, shard-00000.parquet, ...

Why it is shaped this way:
- A document's shard is `pmod(xxhash64(doc_id), n)` with n = ceil(text bytes / shard_text_bytes). That depends on
  neither the input's partitioning nor its row order, so every run over the same documents writes the same shards
  (Spark's range partitioning samples its bounds with a seed that changes between sessions, so it would not).
  Each shard is also a uniform random sample of the version: any k of n shards are a k/n sample.
- Within a shard rows are sorted by host then doc_id: a host's pages sit together (they compress better and can be
  dropped or held out together), and the order is total, so it is reproducible.
- Spark shuffles by shard and sorts; each task then writes its shards itself with pyarrow, cutting row groups at
  fixed byte totals. Spark's own Parquet writer is not used because its files differ between JVM runs (parquet-mr
  lists a column's encodings from a hash set whose order follows identity hash codes), which would change the
  files' sha256 between a run and its rerun. pyarrow's bytes depend only on the rows and the pyarrow version.
- The driver only sees (shard, rows, bytes) per file and renames files to dense numbers; it never reads documents.
"""
from __future__ import annotations

import functools
import math
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jwc.pipeline.versions.params import SHARDS_PARAMS
from jwc.schemas.config import filled
from jwc.pipeline.io.atomic import AtomicFile, atomic_write_json
from jwc.pipeline.spark import spark_schema
from jwc.schemas.manifest import shards_schema

if TYPE_CHECKING:
    from jwc.jobs.stages import RunContext

SHARD_GLOB = "shard-*.parquet"
_ROW_OVERHEAD = 256  # bytes a row takes besides its text (ids, url, signals), for row group sizing
_ZSTD_LEVEL = 3
_SUMMARY = pa.schema([("shard", pa.int64()), ("rows", pa.int64()), ("bytes", pa.int64())])


def shard_name(index: int) -> str:
    return f"shard-{index:05d}"


def shards_options(params: Mapping[str, Any]) -> dict[str, Any]:
    """[shards] values with defaults filled in; the config loader checked them (`SHARDS_PARAMS`, `shards_problem`)."""
    return filled("shards", SHARDS_PARAMS, params)


def shard_columns(docs: DataFrame, signals: list[str]) -> list[Column]:
    """The shard schema's columns from a dedup output, cast to the schema's types; absent columns are null
    (`chars` is computed when absent)."""
    out = []
    for field in spark_schema(shards_schema(signals)):
        kind = field.dataType
        if field.name in docs.columns:
            out.append(F.col(field.name).cast(kind).alias(field.name))
        elif field.name == "chars":
            out.append(F.length("text").cast(kind).alias("chars"))
        else:
            out.append(F.lit(None).cast(kind).alias(field.name))
    return out


class _ShardWriter:
    """Streams one shard's rows into `path` with row groups cut after the row where the running size (text bytes +
    _ROW_OVERHEAD per row) reaches `row_group_bytes`: the cuts depend on the rows alone, not on how Spark batched
    them. Memory: one row group plus one batch. Written under a temporary name, so a retried task never leaves
    half a file."""

    def __init__(self, path: str, schema: pa.Schema, row_group_bytes: int):
        self.path, self.schema, self.target = path, schema, row_group_bytes
        self.file = AtomicFile(path)
        sorting = [pq.SortingColumn(schema.get_field_index(c)) for c in ("host", "doc_id")]
        self.writer = pq.ParquetWriter(self.file.fh, schema, compression="zstd", compression_level=_ZSTD_LEVEL,
                                       sorting_columns=sorting)
        self.pending: list[pa.Table] = []
        self.sizes: list[np.ndarray] = []
        self.rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        table = pa.Table.from_batches([batch]).select(self.schema.names).cast(self.schema)
        self.pending.append(table)
        self.sizes.append(pc.binary_length(table.column("text")).fill_null(0).to_numpy() + _ROW_OVERHEAD)
        self.rows += table.num_rows
        sizes = np.concatenate(self.sizes)
        running = np.cumsum(sizes)
        if running[-1] < self.target:
            return
        rows = pa.concat_tables(self.pending)
        start, base = 0, 0
        while (end := int(np.searchsorted(running, base + self.target))) < len(running):
            self.writer.write_table(rows.slice(start, end + 1 - start), row_group_size=end + 1 - start)
            start, base = end + 1, int(running[end])
        self.pending, self.sizes = [rows.slice(start)], [sizes[start:]]

    def close(self) -> int:
        """Write the last row group, move the file into place; returns its size."""
        rest = pa.concat_tables(self.pending)
        if rest.num_rows:
            self.writer.write_table(rest, row_group_size=rest.num_rows)
        self.writer.close()
        self.file.commit()
        return os.path.getsize(self.path)


def _write_task(batches: Iterator[pa.RecordBatch], parts_dir: str, signals: list[str], row_group_bytes: int
                ) -> Iterator[pa.RecordBatch]:
    """A Spark task: rows sorted by (shard, host, doc_id) -> one file per shard value, `<parts_dir>/<shard>.parquet`,
    and one summary row (shard, rows, bytes) per file. A shard value never spans two tasks: the rows were
    repartitioned by it."""
    schema = shards_schema(signals)
    current: tuple[int, _ShardWriter] | None = None

    def finish(shard: int, writer: _ShardWriter) -> pa.RecordBatch:
        size = writer.close()
        return pa.RecordBatch.from_pydict({"shard": [shard], "rows": [writer.rows], "bytes": [size]},
                                          schema=_SUMMARY)

    for batch in batches:
        if batch.num_rows == 0:
            continue
        shards = batch.column("shard").to_numpy()
        bounds = [0, *(np.flatnonzero(np.diff(shards)) + 1).tolist(), batch.num_rows]
        for start, end in zip(bounds, bounds[1:]):
            shard = int(shards[start])
            if current is not None and current[0] != shard:
                yield finish(*current)
                current = None
            if current is None:
                current = (shard, _ShardWriter(os.path.join(parts_dir, f"{shard}.parquet"), schema, row_group_bytes))
            current[1].add(batch.slice(start, end - start))
    if current is not None:
        yield finish(*current)


def write_shards(spark: SparkSession, docs_path: str, out_dir: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Write `out_dir/shard-NNNNN.parquet` from the documents at `docs_path`; returns the counts."""
    opts = shards_options(params)
    docs = spark.read.parquet(docs_path)
    missing = [c for c in ("text", "doc_id", "host") if c not in docs.columns]
    if missing:
        raise ValueError(f"{docs_path} lacks column(s) {', '.join(missing)}")
    row = docs.agg(F.count(F.lit(1)).alias("n"), F.sum(F.octet_length("text")).alias("bytes")).first()
    documents, text_bytes = int(row["n"]), int(row["bytes"] or 0)
    n = max(1, math.ceil(text_bytes / opts["shard_text_bytes"]))
    parts = os.path.join(out_dir, "_parts")
    os.makedirs(parts, exist_ok=True)
    task = functools.partial(_write_task, parts_dir=parts, signals=opts["signals"],
                             row_group_bytes=opts["row_group_bytes"])
    written = (docs.select(*shard_columns(docs, opts["signals"]), F.pmod(F.xxhash64("doc_id"), F.lit(n)).alias("shard"))
               .repartition(n, "shard")
               .sortWithinPartitions("shard", F.col("host").asc_nulls_first(), "doc_id")
               .mapInArrow(task, "shard bigint, rows bigint, bytes bigint")
               .collect())
    written = sorted((r["shard"], r["rows"], r["bytes"]) for r in written)
    if len({s for s, _, _ in written}) != len(written):
        raise RuntimeError("a shard was written by two tasks")
    for i, (shard, _, _) in enumerate(written):  # dense names: an empty shard value leaves no gap
        os.replace(os.path.join(parts, f"{shard}.parquet"), os.path.join(out_dir, f"{shard_name(i)}.parquet"))
    shutil.rmtree(parts)
    rows = [r for _, r, _ in written]
    if sum(rows) != documents:
        raise RuntimeError(f"shards hold {sum(rows)} rows, the input has {documents}")
    counts = {"documents": documents, "shards": len(rows), "text_bytes": text_bytes,
              "parquet_bytes": sum(b for _, _, b in written)}
    atomic_write_json(Path(out_dir) / "_shards.json", {**counts, "rows": rows})
    return counts


def shards_stage(ctx: RunContext, out: Path) -> dict[str, Any]:
    """Nightly stage: dedup/documents -> shards/shard-NNNNN.parquet."""
    counts = write_shards(ctx.spark, str(ctx.stage_dir("dedup") / "documents"), str(out), ctx.cfg["shards"])
    print(f"[shards] {counts['documents']:,} documents in {counts['shards']} shard(s), "
          f"{counts['parquet_bytes']:,} bytes", file=sys.stderr, flush=True)
    return counts
