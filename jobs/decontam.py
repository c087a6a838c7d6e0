"""Decontamination outside the filter itself: the per-set tally a filter-stage run sends to the driver
(`decontam.json` beside the filter stage's documents, copied into the manifest by publish), and `jwc decontam-check`,
which checks a published version against new evaluation sets without re-running the pipeline (report only)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa
from pyspark.accumulators import AccumulatorParam
from pyspark.sql import SparkSession

from jwc.filters.decontam import DecontamFilter, Tally, add_tally, set_summary, tally_match, use_index
from jwc.pipeline.errors import UserError
from jwc.pipeline.io.atomic import atomic_write_json
from jwc.pipeline.stats.tables import DECONTAM

SUMMARY_FILE = DECONTAM


class TallyParam(AccumulatorParam):
    """Spark accumulator of per-set tallies. A retried task adds its documents again (Spark's rule for
    accumulators updated in transformations); item ids are a set, so items found are exact."""

    def zero(self, value: Tally) -> Tally:
        return {}

    def addInPlace(self, value1: Tally, value2: Tally) -> Tally:
        return add_tally(value1, value2)


def decontam_filter(filters: list[Any]) -> DecontamFilter | None:
    """The chain's decontamination filter when it has sets to match, else None."""
    return next((f for f in filters if isinstance(f, DecontamFilter) and f.index is not None), None)


def broadcast_index(spark: SparkSession, filters: list[Any]) -> Any:
    """A broadcast of the driver chain's index (None without sets): built once per run, shipped to every executor."""
    f = decontam_filter(filters)
    return None if f is None else (f.options, spark.sparkContext.broadcast(f.index))


def receive_index(shipped: Any) -> None:
    """On an executor, before its chain is built: take the broadcast index instead of reading the set files."""
    if shipped is not None:
        options, index = shipped
        use_index(options, index.value)


def write_summary(output_dir: str, f: DecontamFilter, tally: Tally) -> list[dict[str, Any]]:
    """`output_dir/decontam.json`: one row per set (path, digest, items, items found, documents, removed)."""
    rows = set_summary(f.index, tally, f.options["sets"])
    atomic_write_json(os.path.join(output_dir, SUMMARY_FILE), rows)
    return rows


def read_summary(filter_dir: Path) -> list[dict[str, Any]] | None:
    """The sets a filter-stage run was decontaminated against, or None when it had none."""
    path = filter_dir / SUMMARY_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def check_version(spark: SparkSession, version_dir: Path, options: dict[str, Any]) -> dict[str, Any]:
    """Match every document of a published version against `options["sets"]` (a `[filters.decontam]` table):
    per set the items found and the documents that would be removed, plus up to 20 example document ids.
    Nothing is written; the index is built once on the driver and broadcast."""
    manifest_path = version_dir / "manifest.json"
    if not manifest_path.is_file():
        raise UserError(f"{version_dir} is not a published version (no manifest.json)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    try:
        f = DecontamFilter(options)
    except (ValueError, OSError) as exc:
        raise UserError(str(exc)) from None
    if f.index is None:
        raise UserError("decontam-check needs at least one --set")
    shards = [str(version_dir / s["parquet"]) for s in manifest["shards"]]
    index = spark.sparkContext.broadcast(f.index)
    o = f.options
    cap, min_share, min_found = o["item_ngrams_cap"], o["max_item_share"], o["min_found_ngrams"]

    def task(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            found = []
            for doc_id, text in zip(batch.column("doc_id").to_pylist(), batch.column("text").to_pylist()):
                m = index.value.match(text or "", cap, min_share, min_found)
                if m.found(min_share):
                    found.append({"doc_id": doc_id, "items": json.dumps(m.found(min_share), ensure_ascii=False),
                                  "share": m.share})
            yield pa.RecordBatch.from_pylist(found, schema=_FOUND_SCHEMA)

    rows = (spark.read.parquet(*shards).select("doc_id", "text")
            .mapInArrow(task, "doc_id string, items string, share double").collect()) if shards else []
    tally: Tally = {}
    for r in rows:
        tally_match(tally, [tuple(i) for i in json.loads(r["items"])], removed=True)
    return {"version": manifest["version"], "dataset": manifest["dataset"],
            "documents": manifest["totals"]["documents"], "documents_removed": len(rows),
            "sets": set_summary(f.index, tally, f.options["sets"]), "examples": sorted(r["doc_id"] for r in rows)[:20]}


_FOUND_SCHEMA = pa.schema([("doc_id", pa.string()), ("items", pa.string()), ("share", pa.float64())])
