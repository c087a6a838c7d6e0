"""Shards stage: the kept documents of dedup -> the version's zstd Parquet shards, shard-00000.parquet, ...

Why it is shaped this way:
- A document's shard is `pmod(xxhash64(doc_id), n)` with n = ceil(text bytes / shard_text_bytes). That depends on
  neither the input's partitioning nor its row order, so every run over the same documents writes byte-identical
  shards (Spark's range partitioning samples its bounds with a seed that changes between sessions, so it would not).
  Each shard is also a uniform random sample of the version: any k of n shards are a k/n sample.
- Within a shard rows are sorted by host then doc_id: a host's pages sit together (they compress better and can be
  dropped or held out together), and the order is total, so it is reproducible.
- Spark writes one directory per shard value (`partitionBy`), each holding exactly one file because the data was
  repartitioned by that value first; the driver then only renames files, never reads documents.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from filters.base import Param, resolve
from filters.registry import FILTERS
from pipeline.config import ConfigError
from schemas.manifest import shards_schema

if TYPE_CHECKING:
    from jobs.stages import RunContext

DEFAULT_SIGNALS = ["comp_japanese_frac", "comp_hiragana_frac", "sent_avg_len", "rep_dup_line_frac",
                   "junk_symbol_frac", "junk_compression_ratio", "morph_noun_frac", "ng_score", "ng_adult",
                   "pii_total"]

SHARDS_PARAMS: dict[str, Param] = {
    "shard_text_bytes": Param(512 * 2**20, "Target UTF-8 text bytes per shard before compression; shard count = "
                                           "ceil(total text bytes / this). A zstd shard of Japanese text is "
                                           "about 0.3-0.4 of it on disk.", 1, 2**40),
    "row_group_bytes": Param(32 * 2**20, "Parquet row group size (parquet.block.size, about the compressed bytes): "
                                         "the unit streaming readers (datasets, DuckDB, Polars) load at once.",
                             2**16, 2**31 - 1),
    "signals": Param(DEFAULT_SIGNALS, "Filter signals copied into the shards as sig_<name> columns (doubles) for "
                                      "trainers to sample by; a signal whose filter did not run is null.", kind=list),
}

SHARD_GLOB = "shard-*.parquet"


def shard_name(index: int) -> str:
    return f"shard-{index:05d}"


def check_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Resolved params; refuses signal names no filter produces (a typo would give an all-null column)."""
    try:
        opts = resolve("shards", SHARDS_PARAMS, params)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    known = {s for f in FILTERS for s in f.signal_names}
    unknown = [s for s in opts["signals"] if not isinstance(s, str) or s not in known]
    if unknown:
        raise ConfigError(f"shards.signals: unknown signal(s) {unknown}; known: {', '.join(sorted(known))}")
    if len(set(opts["signals"])) != len(opts["signals"]):
        raise ConfigError("shards.signals: a signal is listed twice")
    return opts


_SPARK_TYPES = {pa.string(): "string", pa.float64(): "double", pa.int64(): "bigint", pa.int32(): "int"}


def shard_columns(docs: DataFrame, signals: list[str]) -> list[Column]:
    """The shard schema's columns from a dedup output, cast to the schema's types; absent columns are null
    (`chars` is computed when absent)."""
    out = []
    for field in shards_schema(signals):
        kind = _SPARK_TYPES[field.type]
        if field.name in docs.columns:
            out.append(F.col(field.name).cast(kind).alias(field.name))
        elif field.name == "chars":
            out.append(F.length("text").cast(kind).alias("chars"))
        else:
            out.append(F.lit(None).cast(kind).alias(field.name))
    return out


def write_shards(spark: SparkSession, docs_path: str, out_dir: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Write `out_dir/shard-NNNNN.parquet` from the documents at `docs_path`; returns counts and per-shard rows."""
    opts = check_params(params)
    docs = spark.read.parquet(docs_path)
    missing = [c for c in ("text", "doc_id", "host") if c not in docs.columns]
    if missing:
        raise ValueError(f"{docs_path} lacks column(s) {', '.join(missing)}")
    row = docs.agg(F.count(F.lit(1)).alias("n"), F.sum(F.octet_length("text")).alias("bytes")).first()
    documents, text_bytes = int(row["n"]), int(row["bytes"] or 0)
    n = max(1, math.ceil(text_bytes / opts["shard_text_bytes"]))
    tmp = os.path.join(out_dir, "_spark")
    (docs.select(*shard_columns(docs, opts["signals"]), F.pmod(F.xxhash64("doc_id"), F.lit(n)).alias("shard"))
     .repartition(n, "shard")
     .sortWithinPartitions("shard", F.col("host").asc_nulls_first(), "doc_id")
     .write.mode("overwrite")
     .option("compression", "zstd")
     .option("parquet.block.size", opts["row_group_bytes"])
     .option("maxRecordsPerFile", 0)
     .partitionBy("shard")
     .parquet(tmp))
    rows = _rename_shards(tmp, out_dir)
    shutil.rmtree(tmp)
    if sum(rows) != documents:
        raise RuntimeError(f"shards hold {sum(rows)} rows, the input has {documents}")
    parquet_bytes = sum(p.stat().st_size for p in Path(out_dir).glob(SHARD_GLOB))
    counts = {"documents": documents, "shards": len(rows), "text_bytes": text_bytes, "parquet_bytes": parquet_bytes}
    with open(os.path.join(out_dir, "shards.json"), "w", encoding="utf-8") as fh:
        json.dump({**counts, "rows": rows}, fh, indent=2)
    return counts


def _rename_shards(tmp: str, out_dir: str) -> list[int]:
    """shard=K/part-<uuid>.parquet -> shard-<i>.parquet in K order (empty shard values leave no gap); rows each."""
    folders = sorted((int(p.name.split("=", 1)[1]), p) for p in Path(tmp).glob("shard=*") if p.is_dir())
    rows = []
    for i, (_, folder) in enumerate(folders):
        files = [p for p in folder.iterdir() if p.name.endswith(".parquet") and not p.name.startswith((".", "_"))]
        if len(files) != 1:
            raise RuntimeError(f"{folder}: expected one Parquet file per shard, found {len(files)}")
        target = Path(out_dir) / f"{shard_name(i)}.parquet"
        os.replace(files[0], target)
        rows.append(pq.read_metadata(target).num_rows)  # the footer only
    return rows


def shards_stage(ctx: RunContext, out: Path) -> dict[str, Any]:
    """Nightly stage: dedup/documents -> shards/shard-NNNNN.parquet."""
    counts = write_shards(ctx.spark, str(ctx.stage_dir("dedup") / "documents"), str(out), ctx.cfg["shards"])
    print(f"[shards] {counts['documents']:,} documents in {counts['shards']} shard(s), "
          f"{counts['parquet_bytes']:,} bytes", file=sys.stderr, flush=True)
    return counts
