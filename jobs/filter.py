"""Filter stage: documents -> the same documents with cleaned, PII-masked text, every signal, and the decision.

Every document is written, kept or not, with `keep`, `reject_reason` (first failing rule) and `reject_reasons`
(all failing rules), so stats and re-thresholding never need extraction again. `redecide` applies new thresholds
to stored signals with Spark SQL alone.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import pyarrow as pa
from pyspark.accumulators import AccumulatorParam
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jwc.filters.chain import Chain
from jwc.filters.registry import FILTERS, enabled
from jwc.jobs.decontam import TallyParam, broadcast_index, decontam_filter, receive_index, write_summary
from jwc.jobs.extract import kept_documents
from jwc.jobs.progress import Progress
from jwc.pipeline.config import Config, ConfigError
from jwc.pipeline.io.atomic import atomic_write_json
from jwc.pipeline.spark import spark_schema
from jwc.schemas.documents import SIGNAL_PREFIX, filtered_schema

if TYPE_CHECKING:
    from jwc.jobs.stages import RunContext

FILTER_SECONDS = "filter_seconds.json"  # in the filter stage folder: CPU seconds and documents per filter
_chains: dict[str, Chain] = {}  # one chain per worker process and config


def _chain(key: str, cleaners: dict, filters: dict) -> Chain:
    if key not in _chains:
        _chains[key] = Chain.from_config(cleaners, filters)
    return _chains[key]


def validate_chain(cfg: Config) -> list[str]:
    """Build the chain on the driver once, so option errors surface before any work; returns signal names."""
    try:
        return _chain(cfg.digest(), cfg.cleaners, cfg.filters).signal_names
    except (ValueError, FileNotFoundError) as exc:
        raise ConfigError(str(exc)) from None


class _SumsParam(AccumulatorParam):
    """Adds {filter: [cpu seconds, documents]} dictionaries key by key (the per-filter time of every task)."""

    def zero(self, value: dict[str, list[float]]) -> dict[str, list[float]]:
        return {}

    def addInPlace(self, a: dict[str, list[float]], b: dict[str, list[float]]) -> dict[str, list[float]]:
        for name, (seconds, docs) in b.items():
            total = a.setdefault(name, [0.0, 0])
            total[0] += seconds
            total[1] += docs
        return a


def _task(cfg: Config, schema: pa.Schema, acc: Any, times: Any, tally: Any, index: Any):
    key, cleaners, filters = cfg.digest(), cfg.cleaners, cfg.filters
    names = [f.name for f in schema]

    def task(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        receive_index(index)
        chain = _chain(key, cleaners, filters)
        signal_names = chain.signal_names
        decontam = decontam_filter(chain.filters)
        for batch in batches:
            cols = batch.to_pydict()
            n = batch.num_rows
            texts, keep, first, reasons = [], [], [], []
            sigs: dict[str, list[float]] = {s: [] for s in signal_names}
            for i in range(n):
                v = chain.run(cols["text"][i] or "", cols["url"][i] or "", cols["host"][i] or "",
                              cols["title"][i] or "")
                texts.append(v.text)
                keep.append(v.keep)
                first.append(v.reject_reason)
                reasons.append(v.reasons)
                for s in signal_names:
                    sigs[s].append(v.signals.get(s))
            out = {k: cols[k] for k in names if k in cols}
            out["raw_chars"] = [len(t or "") for t in cols["text"]]
            out["text"] = texts
            out["chars"] = [len(t) for t in texts]
            out["keep"] = keep
            out["reject_reason"] = first
            out["reject_reasons"] = reasons
            for s in signal_names:
                out[SIGNAL_PREFIX + s] = sigs[s]
            acc.add(n)
            if decontam is not None:
                tally.add(decontam.drain())
            times.add({name: [seconds, n] for name, seconds in chain.take_cpu_seconds().items()})
            yield pa.RecordBatch.from_pydict({k: out[k] for k in names}, schema=schema)

    return task


def run_filter(spark: SparkSession, docs: DataFrame, output_dir: str, cfg: Config, progress_every: float = 0
               ) -> dict[str, Any]:
    """Write `output_dir/documents` (every document, decided) and return counts by outcome and reason."""
    signal_names = validate_chain(cfg)
    schema = filtered_schema(docs.schema.fieldNames(), signal_names)
    acc = spark.sparkContext.accumulator(0)
    tally = spark.sparkContext.accumulator({}, TallyParam())
    driver_chain = _chain(cfg.digest(), cfg.cleaners, cfg.filters)
    index = broadcast_index(spark, driver_chain.filters)
    times = spark.sparkContext.accumulator({}, _SumsParam())
    out = docs.mapInArrow(_task(cfg, schema, acc, times, tally, index), spark_schema(schema))
    path = os.path.join(output_dir, "documents")
    with Progress(spark.sparkContext, "filter", "partitions", docs.rdd.getNumPartitions(), lambda: acc.value,
                  progress_every, item="documents"):
        out.write.mode("overwrite").parquet(path)
    counts = decision_counts(spark.read.parquet(path))
    # CPU seconds per filter summed over tasks (a retried task counts twice), for the stats' filter_seconds table;
    # a file of its own, not a count: counts are compared across reruns, timings differ on every run.
    atomic_write_json(os.path.join(output_dir, FILTER_SECONDS), {name: {"seconds": v[0], "documents": int(v[1])}
                                                                 for name, v in times.value.items()})
    atomic_write_json(os.path.join(output_dir, "counts.json"), counts)
    decontam = decontam_filter(driver_chain.filters)
    if decontam is not None:
        write_summary(output_dir, decontam, tally.value)
    return counts


def decision_counts(filtered: DataFrame) -> dict[str, Any]:
    """Documents in, kept, and removed by first reason; also every rule's own firing count."""
    first = {r[0]: r[1] for r in filtered.groupBy("reject_reason").count().collect()}
    fired = {r[0]: r[1] for r in filtered.select(F.explode("reject_reasons").alias("r")).groupBy("r").count()
             .collect()}
    total = int(sum(first.values()))
    kept = int(first.pop(None, 0))
    return {"documents": total, "kept": kept, "removed": total - kept,
            "removed_by_first_reason": dict(sorted(first.items())), "fired_by_rule": dict(sorted(fired.items()))}


def decision_columns(filters_cfg: dict[str, dict[str, Any]]) -> dict[str, Column]:
    """`keep`, `reject_reason`, `reject_reasons` as Spark expressions over stored `sig_*` columns."""
    failing = [F.when(F.expr(rule.sql(SIGNAL_PREFIX + rule.signal, options[rule.param])),
                      F.lit(f"{f.name}.{rule.name}"))
               for f, options in enabled(FILTERS, filters_cfg) for rule in f.rules]
    reasons = F.filter(F.array(*failing), lambda x: x.isNotNull()) if failing else F.array().cast("array<string>")
    return {"reject_reasons": reasons, "reject_reason": F.try_element_at(reasons, F.lit(1)),
            "keep": F.size(reasons) == 0}


def redecide(spark: SparkSession, filtered_path: str, cfg: Config, output_dir: str) -> dict[str, Any]:
    """Apply `cfg`'s thresholds to stored signals (no text is re-read); writes a re-decided copy and counts.

    Filters that were not run when the signals were stored cannot be re-decided: that is refused.
    """
    df = spark.read.parquet(os.path.join(filtered_path, "documents") if os.path.isdir(
        os.path.join(filtered_path, "documents")) else filtered_path)
    missing = sorted({SIGNAL_PREFIX + r.signal for f, _ in enabled(FILTERS, cfg.filters) for r in f.rules}
                     - set(df.columns))
    if missing:
        raise ConfigError(f"stored signals lack {', '.join(missing)}: re-run the filter stage for those filters")
    before = decision_counts(df)
    cols = decision_columns(cfg.filters)
    out = df.withColumns(cols)
    path = os.path.join(output_dir, "documents")
    out.write.mode("overwrite").parquet(path)
    after = decision_counts(spark.read.parquet(path))
    result = {"before": before, "after": after,
              "kept_change": after["kept"] - before["kept"]}
    atomic_write_json(os.path.join(output_dir, "counts.json"), result)
    return result


def filter_stage(ctx: RunContext, out: Path) -> dict[str, Any]:
    """Nightly stage: extract's kept documents -> `filter/documents`."""
    docs = kept_documents(ctx.spark, str(ctx.stage_dir("extract")))
    counts = run_filter(ctx.spark, docs, str(out), ctx.cfg, ctx.cfg["run"]["progress_seconds"])
    return {"documents": counts["documents"], "kept": counts["kept"], "removed": counts["removed"],
            **{f"removed_{k}": v for k, v in counts["removed_by_first_reason"].items()}}
