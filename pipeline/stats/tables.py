"""Statistics of one run, computed with Spark aggregations, and drift against the parent version.

Why it is shaped this way:
- Every number comes from a Spark aggregation (group-bys, `percentile_approx`, bucketing for histograms); only
  aggregates and a small per-reason sample of removed documents ever reach the driver, so the cost does not grow
  with what the driver can hold.
- The output is a folder of small single-file Parquet tables plus `summary.json`, readable with pandas alone, so the
  report, the notebook and a published version need neither Spark nor the run's documents.
- Thresholds are recorded with the stats (from the config's filter tables and each filter's `rules`), so a version's
  report shows the thresholds that version was made with, whatever today's config says.
- Drift is measured on quantities that one threshold change moves in one place only: each filter's *fired* rate
  (documents failing any of its rules, independent of chain order) and the distributions of rule signals
  (measured on every document before any decision, so thresholds do not move them).
"""
from __future__ import annotations

import bisect
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from jwc.schemas.config import Param
from jwc.filters.ngwords import CATEGORIES as NG_CATEGORIES
from jwc.filters.pii import PII_TYPES
from jwc.filters.registry import FILTERS, enabled
from jwc.pipeline.io.atomic import atomic_write_json
from jwc.pipeline.io.store import now_utc
from jwc.schemas.documents import SIGNAL_PREFIX

STATS_FORMAT = 1
SUMMARY = "summary.json"
DECONTAM = "decontam.json"  # per evaluation set: what the filter stage found and removed (jobs/decontam.py)

STATS_PARAMS: dict[str, Param] = {
    "sample_size": Param(5, "Removed documents kept as a sample per reason (smallest hash of doc_id first).", 0, 1000),
    "sample_chars": Param(600, "Sampled texts longer than this are cut (PII is already masked).", 20, 100_000),
    "histogram_bins": Param(30, "Bins of each signal histogram between its minimum and its 99th percentile (or "
                            "threshold); larger values fall in one overflow bin.", 2, 1000),
    "top_hosts": Param(20, "Hosts listed per kind (kept, removed by filters, removed by dedup).", 1, 100_000),
    "quantile_accuracy": Param(10_000, "percentile_approx accuracy: percentiles are within 1/accuracy of rank.",
                               100, 10_000_000),
    "drift_rate_tolerance": Param(0.02, "Drift when a filter's fired rate (share of documents failing any of its "
                                  "rules) moves by more than this, absolute, from the parent version.", 0.0, 1.0),
    "drift_signal_tolerance": Param(0.1, "Drift when a rule signal's distribution moves by more than this "
                                    "Kolmogorov-Smirnov distance (from the stored percentiles).", 0.0, 1.0),
    "trend_versions": Param(7, "Versions in the nightly report's trend section (the published chain, then the run)"
                            "; 0 or 1: no trend.", 0, 366),
    "fail_on_drift": Param(False, "Exit non-zero after the nightly run (and `jwc report`) when there is drift.",
                           kind=bool),
}

# Percentiles stored per signal: 0..100 in steps of 1, enough for the report and for drift (KS to about 0.01).
PROBS: tuple[float, ...] = tuple(i / 100 for i in range(101))
STAGE_ORDER = ("extract", "filter", "dedup", "shards", "tokenize")

_S, _I, _D, _B = pa.string(), pa.int64(), pa.float64(), pa.bool_()
SCHEMAS: dict[str, pa.Schema] = {
    # documents_in/out: extract counts WARC records in and documents out; later stages count documents.
    "stages": pa.schema([("stage", _S), ("documents_in", _I), ("documents_out", _I), ("chars_in", _I),
                         ("chars_out", _I), ("seconds", _D)]),
    "outcomes": pa.schema([("outcome", _S), ("records", _I)]),
    # One row per filter in chain order: a sequential funnel (removed = first failing reason is this filter's)
    # and the order-independent fired count (any rule of this filter failed).
    "filters": pa.schema([("filter", _S), ("position", _I), ("documents_in", _I), ("documents_out", _I),
                          ("chars_in", _I), ("chars_out", _I), ("removed", _I), ("removed_rate", _D),
                          ("fired", _I), ("fired_rate", _D)]),
    "rules": pa.schema([("reason", _S), ("filter", _S), ("rule", _S), ("signal", _S), ("op", _S), ("param", _S),
                        ("threshold", _D), ("fired", _I), ("fired_rate", _D), ("removed", _I),
                        ("removed_chars", _I)]),
    "signals": pa.schema([("signal", _S), ("filter", _S), ("documents", _I), ("missing", _I), ("mean", _D),
                          ("min", _D), ("max", _D), ("p01", _D), ("p05", _D), ("p25", _D), ("p50", _D),
                          ("p75", _D), ("p95", _D), ("p99", _D)]),
    "quantiles": pa.schema([("signal", _S), ("prob", _D), ("value", _D)]),
    # The overflow bin (values above the last edge) has lo = that edge, hi = the maximum.
    "histograms": pa.schema([("signal", _S), ("bin", _I), ("lo", _D), ("hi", _D), ("overflow", _B),
                             ("documents", _I), ("kept", _I)]),
    "languages": pa.schema([("lang", _S), ("records", _I), ("kept", _I)]),
    "encodings": pa.schema([("encoding", _S), ("encoding_source", _S), ("records", _I), ("kept", _I)]),
    # kind: kept (in the final output), removed_filter, removed_dedup.
    "hosts": pa.schema([("kind", _S), ("rank", _I), ("host", _S), ("documents", _I), ("chars", _I)]),
    "clusters": pa.schema([("cluster_size", _I), ("clusters", _I), ("documents", _I)]),
    "dedup_reasons": pa.schema([("reason", _S), ("documents", _I), ("mean_jaccard", _D)]),
    "pii": pa.schema([("type", _S), ("documents", _I), ("occurrences", _I), ("kept_documents", _I)]),
    "ngwords": pa.schema([("category", _S), ("documents", _I), ("hits", _I), ("kept_documents", _I)]),
    "samples": pa.schema([("stage", _S), ("reason", _S), ("rank", _I), ("doc_id", _S), ("url", _S), ("host", _S),
                          ("chars", _I), ("text", _S), ("signal", _S), ("value", _D), ("threshold", _D),
                          ("duplicate_of", _S), ("jaccard", _D)]),
    # Documents of the final output, chosen like the removed samples: what the removed ones are compared with.
    "kept_samples": pa.schema([("rank", _I), ("doc_id", _S), ("url", _S), ("host", _S), ("chars", _I),
                               ("text", _S)]),
    # Measured in the filter stage: CPU seconds each filter spent computing its signals, summed over tasks.
    "filter_seconds": pa.schema([("filter", _S), ("seconds", _D), ("documents", _I)]),
}
# The column(s) that identify a row of each table (joined with "|"): the report cites numbers by these keys.
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "stages": ("stage",), "outcomes": ("outcome",), "filters": ("filter",), "rules": ("reason",),
    "signals": ("signal",), "quantiles": ("signal", "prob"), "histograms": ("signal", "bin"),
    "languages": ("lang",), "encodings": ("encoding", "encoding_source"), "hosts": ("kind", "host"),
    "clusters": ("cluster_size",), "dedup_reasons": ("reason",), "pii": ("type",), "ngwords": ("category",),
    "samples": ("reason", "rank"), "kept_samples": ("rank",), "filter_seconds": ("filter",),
}
NONE_LABEL = "(none)"


# ----------------------------------------------------------------------------------------------- reading


@dataclass
class Stats:
    """One stats folder as pandas tables plus its summary."""

    path: Path
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    decontam: list[dict[str, Any]] | None = None  # one row per evaluation set; None when the run had none

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]

    def thresholds(self, signal: str) -> list[dict[str, Any]]:
        """Rules on `signal` with their thresholds, as recorded when the stats were made."""
        return [r for r in self.summary["rules"] if r["signal"] == signal]


def read_stats(stats_dir: str | Path) -> Stats:
    """Read a stats folder (a run's `stats/` stage or a published version's `stats/`)."""
    path = Path(stats_dir)
    summary_path = path / SUMMARY
    if not summary_path.is_file():
        raise FileNotFoundError(f"not a stats folder (no {SUMMARY}): {path}")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    tables = {name: pq.read_table(path / f"{name}.parquet").to_pandas() for name in SCHEMAS
              if (path / f"{name}.parquet").is_file()}
    decontam = json.loads((path / DECONTAM).read_text(encoding="utf-8")) if (path / DECONTAM).is_file() else None
    return Stats(path, summary, tables, decontam)


def row_key(table: str, row: Mapping[str, Any]) -> str:
    """The key of a row, as the report writes it in `data-key`."""
    return "|".join(_key_part(row[c]) for c in TABLE_KEYS[table])


def _key_part(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return NONE_LABEL
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 2**53 else repr(value)
    return str(value)


# ----------------------------------------------------------------------------------------------- computing


def rule_rows(filters_cfg: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every rule of every enabled filter with its configured threshold, in chain order."""
    return [{"reason": f"{f.name}.{rule.name}", "filter": f.name, "rule": rule.name, "signal": rule.signal,
             "op": rule.op, "param": rule.param, "threshold": float(options[rule.param])}
            for f, options in enabled(FILTERS, filters_cfg) for rule in f.rules]


def _signal_owner() -> dict[str, str]:
    return {s: f.name for f in FILTERS for s in f.signal_names}


def _num(c: str) -> Column:
    """A signal column with NaN as null, so min/max/means and quantiles skip it like a missing value."""
    col = F.col(c)
    return F.when(F.isnan(col), F.lit(None)).otherwise(col)


def _int(v: Any) -> int | None:
    return None if v is None else int(v)


@dataclass(frozen=True)
class StatsInputs:
    """What the stats are computed from, named by the driver: this module knows no other stage's folders.

    `records`: extract's records (every WARC record with its outcome); `documents`: the filter stage's documents
    (signals, keep, reasons); `dedup_documents` / `dedup_duplicates`: the dedup stage's kept documents and removed
    duplicates (None before dedup ran); `stage_seconds`: wall seconds of every finished stage, by stage name;
    `stage_counts`: the counts every finished stage recorded (shards and tokenize rows of the funnel, tokens);
    `filter_seconds`: the filter stage's CPU seconds per filter, by filter name (empty when not measured).
    """

    records: str
    documents: str
    dedup_documents: str | None = None
    dedup_duplicates: str | None = None
    stage_seconds: Mapping[str, float] = field(default_factory=dict)
    stage_counts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    filter_seconds: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


def compute_stats(spark: SparkSession, inputs: StatsInputs, out_dir: str | Path, params: Mapping[str, Any],
                  filters_cfg: Mapping[str, Mapping[str, Any]], info: Mapping[str, Any] | None = None
                  ) -> dict[str, Any]:
    """Write the stats tables and `summary.json` of one run into `out_dir`; returns the summary.

    `filters_cfg` is the resolved `[filters.*]` config the filter stage ran with; `info` (crawl id, config digest,
    ...) is copied into the summary. About seven Spark jobs in all, each a group-by whose result has at most a few
    thousand rows.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    records = spark.read.parquet(inputs.records)
    docs = spark.read.parquet(inputs.documents)
    dedup_docs = dedup_dups = None
    if inputs.dedup_documents is not None and inputs.dedup_duplicates is not None:
        dedup_docs = spark.read.parquet(inputs.dedup_documents)
        dedup_dups = spark.read.parquet(inputs.dedup_duplicates)

    signals = [c[len(SIGNAL_PREFIX):] for c in docs.columns if c.startswith(SIGNAL_PREFIX)]
    rules = [r for r in rule_rows(filters_cfg) if r["signal"] in signals]
    tables: dict[str, list[dict[str, Any]]] = {}
    tables["outcomes"], tables["languages"], tables["encodings"], extract_row = _extract_tables(records)
    totals, tables["filters"], tables["rules"] = _filter_funnel(docs, rules)
    tables["stages"] = _stages(inputs.stage_seconds, inputs.stage_counts, extract_row, dedup_docs, totals)
    tables["signals"], tables["quantiles"], positives = _signal_summaries(docs, signals,
                                                                          int(params["quantile_accuracy"]))
    tables["histograms"] = _histograms(spark, docs, _ranges(tables["signals"], tables["quantiles"], rules,
                                                             int(params["histogram_bins"])))
    tables["pii"] = _count_table(positives, "type", "occurrences", {f"pii_{t}": t for t in PII_TYPES})
    tables["ngwords"] = _count_table(positives, "category", "hits", {f"ng_{c}": c for c in NG_CATEGORIES})
    tables["hosts"] = _hosts(docs, dedup_docs, dedup_dups, int(params["top_hosts"]))
    tables["clusters"], tables["dedup_reasons"] = _dedup_tables(dedup_docs, dedup_dups)
    tables["samples"] = removed_samples(docs, dedup_dups, rules, int(params["sample_size"]),
                                        int(params["sample_chars"]))
    tables["kept_samples"] = kept_samples(dedup_docs if dedup_docs is not None else docs.where(F.col("keep")),
                                          int(params["sample_size"]), int(params["sample_chars"]))
    chain = [r["filter"] for r in tables["filters"]]
    tables["filter_seconds"] = [{"filter": f, "seconds": float(v["seconds"]), "documents": int(v["documents"])}
                                for f, v in sorted(inputs.filter_seconds.items(),
                                                   key=lambda kv: (kv[0] not in chain, chain.index(kv[0])
                                                                   if kv[0] in chain else 0, kv[0]))]

    for name, rows in tables.items():
        pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMAS[name]), out / f"{name}.parquet")
    final = [r for r in tables["stages"] if r["documents_out"] is not None][-1]  # the run's output so far
    summary = {
        "format": STATS_FORMAT,
        "created": now_utc(),
        **dict(info or {}),
        "params": dict(params),
        "totals": {"records": extract_row["documents_in"], "documents": totals["documents"],
                   "filter_kept": totals["kept"], "final_documents": final["documents_out"],
                   "final_chars": final["chars_out"],
                   "tokens": _int(inputs.stage_counts.get("tokenize", {}).get("tokens"))},
        "rules": rules,
        "signal_filters": {s: _signal_owner().get(s) for s in signals},
        "tables": {name: f"{name}.parquet" for name in tables},
    }
    atomic_write_json(out / SUMMARY, summary)
    return summary


def _tally(rows: Iterable[Any], key: Callable[[Any], Any], fields: tuple[str, ...]) -> dict[Any, list[int]]:
    """Sum the given fields of collected aggregate rows per key."""
    out: dict[Any, list[int]] = {}
    for r in rows:
        acc = out.setdefault(key(r), [0] * len(fields))
        for i, f in enumerate(fields):
            acc[i] += int(r[f] or 0)
    return out


def _extract_tables(records: DataFrame) -> tuple[list[dict[str, Any]], ...]:
    """Outcomes, languages, encodings and the extract funnel row from one group-by of the records."""
    is_kept = F.col("outcome") == "kept"
    rows = records.groupBy("outcome", "lang", "encoding", "encoding_source").agg(
        F.sum("records").alias("n"), F.sum(F.when(is_kept, F.length("text")).otherwise(0)).alias("chars")
    ).collect()
    kept = [{**r.asDict(), "k": r["n"] if r["outcome"] == "kept" else 0} for r in rows]
    outcomes = _tally(kept, lambda r: r["outcome"], ("n",))
    langs = _tally([r for r in kept if r["lang"] is not None], lambda r: r["lang"], ("n", "k"))
    encs = _tally([r for r in kept if r["encoding"] is not None],
                  lambda r: (r["encoding"], r["encoding_source"] or NONE_LABEL), ("n", "k"))
    outcome_rows = sorted(({"outcome": o, "records": v[0]} for o, v in outcomes.items()),
                          key=lambda r: (-r["records"], r["outcome"]))
    lang_rows = sorted(({"lang": k, "records": v[0], "kept": v[1]} for k, v in langs.items()),
                       key=lambda r: (-r["records"], r["lang"]))
    enc_rows = sorted(({"encoding": k[0], "encoding_source": k[1], "records": v[0], "kept": v[1]}
                       for k, v in encs.items()), key=lambda r: (-r["records"], r["encoding"], r["encoding_source"]))
    extract = {"documents_in": sum(int(r["n"]) for r in kept), "documents_out": sum(int(r["k"]) for r in kept),
               "chars_in": None, "chars_out": sum(int(r["chars"] or 0) for r in kept)}
    return outcome_rows, lang_rows, enc_rows, extract


def _filter_funnel(docs: DataFrame, rules: list[dict[str, Any]]
                   ) -> tuple[dict[str, int], list[dict[str, Any]], list[dict[str, Any]]]:
    """Totals, per-filter funnel rows and per-rule rows, from one group-by on the lists of failing rules."""
    combos = docs.groupBy("reject_reasons").agg(
        F.count(F.lit(1)).alias("n"), F.sum("chars").alias("chars"), F.sum("raw_chars").alias("raw")).collect()
    total = sum(int(r["n"]) for r in combos)
    by_first: dict[str | None, tuple[int, int]] = {}
    fired_rule: dict[str, int] = {}
    fired_filter: dict[str, int] = {}
    for r in combos:
        reasons = list(r["reject_reasons"] or [])
        first = reasons[0] if reasons else None
        n, c = by_first.get(first, (0, 0))
        by_first[first] = (n + int(r["n"]), c + int(r["chars"] or 0))
        for reason in set(reasons):
            fired_rule[reason] = fired_rule.get(reason, 0) + int(r["n"])
        for f in {x.split(".")[0] for x in reasons}:
            fired_filter[f] = fired_filter.get(f, 0) + int(r["n"])
    total_chars = sum(c for _, c in by_first.values())
    kept, kept_chars = by_first.get(None, (0, 0))
    totals = {"documents": total, "kept": kept, "chars": total_chars, "kept_chars": kept_chars,
              "raw_chars": sum(int(r["raw"] or 0) for r in combos)}

    order = list(dict.fromkeys(r["filter"] for r in rules))
    order += sorted(set(fired_filter) - set(order))  # reasons of filters no longer registered still count
    removed_by_filter: dict[str, tuple[int, int]] = {}
    for reason, (n, chars) in by_first.items():
        if reason:
            a, b = removed_by_filter.get(reason.split(".")[0], (0, 0))
            removed_by_filter[reason.split(".")[0]] = (a + n, b + chars)
    rows, docs_in, chars_in = [], total, total_chars
    for pos, name in enumerate(order):
        removed, removed_chars = removed_by_filter.get(name, (0, 0))
        fired = fired_filter.get(name, 0)
        rows.append({"filter": name, "position": pos, "documents_in": docs_in, "documents_out": docs_in - removed,
                     "chars_in": chars_in, "chars_out": chars_in - removed_chars, "removed": removed,
                     "removed_rate": removed / docs_in if docs_in else 0.0, "fired": fired,
                     "fired_rate": fired / total if total else 0.0})
        docs_in -= removed
        chars_in -= removed_chars
    rule_table = []
    for r in rules:
        n, chars = by_first.get(r["reason"], (0, 0))
        fired = fired_rule.get(r["reason"], 0)
        rule_table.append({**r, "fired": fired, "fired_rate": fired / total if total else 0.0, "removed": n,
                           "removed_chars": chars})
    return totals, rows, rule_table


def _stages(stage_seconds: Mapping[str, float], stage_counts: Mapping[str, Mapping[str, Any]],
            extract: dict[str, Any], dedup_docs: DataFrame | None, totals: dict[str, int]) -> list[dict[str, Any]]:
    """The funnel of stages: extract (records -> documents), filter, dedup; shards and tokenize with the documents
    they recorded (they keep every document: in = out, chars of the dedup output); others with their seconds."""
    rows = {
        "extract": extract,
        "filter": {"documents_in": totals["documents"], "documents_out": totals["kept"],
                   "chars_in": totals["raw_chars"], "chars_out": totals["kept_chars"]},
    }
    if dedup_docs is not None:
        d = dedup_docs.agg(F.count(F.lit(1)).alias("n"), F.sum(F.length("text")).alias("chars")).first()
        rows["dedup"] = {"documents_in": totals["kept"], "documents_out": int(d["n"]),
                         "chars_in": totals["kept_chars"], "chars_out": int(d["chars"] or 0)}
    chars = rows["dedup"]["chars_out"] if "dedup" in rows else None
    for name in ("shards", "tokenize"):
        n = _int(stage_counts.get(name, {}).get("documents"))
        if n is not None:
            rows[name] = {"documents_in": n, "documents_out": n, "chars_in": chars, "chars_out": chars}
    names = [s for s in STAGE_ORDER if s in rows or s in stage_seconds]
    names += sorted(set(stage_seconds) - set(names))
    out = []
    for name in names:
        row = rows.get(name, {"documents_in": None, "documents_out": None, "chars_in": None, "chars_out": None})
        seconds = stage_seconds.get(name)
        out.append({"stage": name, **row, "seconds": None if seconds is None else float(seconds)})
    return out


def _long_signals(docs: DataFrame, signals: list[str]) -> DataFrame:
    """(keep, signal, value): one row per document and signal, NaN as null."""
    return docs.select("keep", F.inline(F.array(*[
        F.struct(F.lit(s).alias("signal"), _num(SIGNAL_PREFIX + s).alias("value")) for s in signals])))


def _signal_summaries(docs: DataFrame, signals: list[str], accuracy: int
                      ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, tuple[int, int, int]]]:
    """Per-signal counts, moments and percentiles in one group-by over the unpivoted signals (a wide aggregation
    of every column costs far more in code generation), and (documents > 0, sum, kept documents > 0) per signal
    for the count signals (PII types, NG-word categories)."""
    if not signals:
        return [], [], {}
    v = F.col("value")
    positive = F.coalesce(v, F.lit(0.0)) > 0
    agg = {r["signal"]: r for r in _long_signals(docs, signals).groupBy("signal").agg(
        F.count(v).alias("n"), F.sum(F.when(v.isNull(), 1).otherwise(0)).alias("missing"), F.avg(v).alias("mean"),
        F.min(v).alias("min"), F.max(v).alias("max"),
        F.percentile_approx(v, list(PROBS), accuracy).alias("q"),
        F.sum(F.when(positive, 1).otherwise(0)).alias("pos"), F.sum(F.coalesce(v, F.lit(0.0))).alias("total"),
        F.sum(F.when(positive & F.col("keep"), 1).otherwise(0)).alias("pos_kept")).collect()}
    owner = _signal_owner()
    rows, quantiles, positives = [], [], {}
    for s in signals:
        a = agg[s]
        q = list(a["q"] or [])
        row: dict[str, Any] = {"signal": s, "filter": owner.get(s), "documents": int(a["n"]),
                               "missing": int(a["missing"] or 0), "mean": a["mean"], "min": a["min"], "max": a["max"]}
        for p in (1, 5, 25, 50, 75, 95, 99):
            row[f"p{p:02d}"] = q[p] if q else None
        rows.append(row)
        quantiles += [{"signal": s, "prob": p, "value": x} for p, x in zip(PROBS, q)]
        positives[s] = (int(a["pos"] or 0), int(round(a["total"] or 0)), int(a["pos_kept"] or 0))
    return rows, quantiles, positives


def _ranges(signal_rows: list[dict[str, Any]], quantiles: list[dict[str, Any]], rules: list[dict[str, Any]],
            bins: int) -> dict[str, tuple[float, float, int, float]]:
    """Histogram range of each signal, (lo, hi, bins, max): minimum to the 99th percentile, widened to take in
    the thresholds that fall inside the values; constant signals get one bin."""
    p99 = {q["signal"]: q["value"] for q in quantiles if q["prob"] == PROBS[99]}
    out = {}
    for r in signal_rows:
        s = r["signal"]
        if not r["documents"]:
            continue
        lo, top = float(r["min"]), float(r["max"])
        hi = float(p99[s])
        for rule in rules:
            if rule["signal"] == s and lo <= rule["threshold"] <= top:
                hi = max(hi, rule["threshold"])
        out[s] = (lo, hi, bins if hi > lo else 1, top)
    return out


def bin_edges(lo: float, hi: float, bins: int) -> list[float]:
    """The bins + 1 edges of a histogram range (the overflow bin, if any, runs from the last edge to the max)."""
    width = (hi - lo) / bins
    return [lo + i * width for i in range(bins)] + [hi]


def _histograms(spark: SparkSession, docs: DataFrame, ranges: dict[str, tuple[float, float, int, float]]
                ) -> list[dict[str, Any]]:
    """Counts per bin for every signal in one pass: signals unpivoted to (signal, value), bucketed, grouped."""
    if not ranges:
        return []
    table = spark.createDataFrame([(s, lo, hi, b) for s, (lo, hi, b, _) in ranges.items()],
                                  "signal string, lo double, hi double, bins int")
    v, lo, hi, bins = F.col("value"), F.col("lo"), F.col("hi"), F.col("bins")
    index = (F.when(v > hi, bins).when(hi == lo, 0)
             .otherwise(F.least(F.floor((v - lo) / ((hi - lo) / bins)).cast("int"), bins - 1)))
    counted = (_long_signals(docs, list(ranges)).where(v.isNotNull()).join(F.broadcast(table), "signal")
               .groupBy("signal", index.alias("bin"))
               .agg(F.count(F.lit(1)).alias("n"), F.sum(F.col("keep").cast("int")).alias("kept")).collect())
    counts = {(r["signal"], int(r["bin"])): (int(r["n"]), int(r["kept"] or 0)) for r in counted}
    rows = []
    for s, (lo_, hi_, b, top) in ranges.items():
        e = bin_edges(lo_, hi_, b)
        for i in range(b):
            n, k = counts.get((s, i), (0, 0))
            rows.append({"signal": s, "bin": i, "lo": e[i], "hi": e[i + 1], "overflow": False, "documents": n,
                         "kept": k})
        if top > hi_:
            n, k = counts.get((s, b), (0, 0))
            rows.append({"signal": s, "bin": b, "lo": hi_, "hi": top, "overflow": True, "documents": n,
                         "kept": k})
    return rows


def _count_table(positives: dict[str, tuple[int, int, int]], key: str, total_name: str, labels: dict[str, str]
                 ) -> list[dict[str, Any]]:
    """Rows of documents with a positive count signal, the counts' sum, kept documents with one."""
    return [{key: label, "documents": positives[s][0], total_name: positives[s][1],
             "kept_documents": positives[s][2]} for s, label in labels.items() if s in positives]


def _hosts(docs: DataFrame, dedup_docs: DataFrame | None, dups: DataFrame | None, n: int) -> list[dict[str, Any]]:
    """Top hosts of the final output, of filter removals and of dedup removals, in one group-by and window."""
    if dedup_docs is not None:
        kept = dedup_docs.select(F.lit("kept").alias("kind"), "host", F.length("text").alias("chars"))
    else:
        kept = docs.where(F.col("keep")).select(F.lit("kept").alias("kind"), "host", "chars")
    parts = kept.unionByName(docs.where(~F.col("keep")).select(F.lit("removed_filter").alias("kind"), "host",
                                                                "chars"))
    if dups is not None:
        parts = parts.unionByName(dups.select("doc_id", "host").join(docs.select("doc_id", "chars"), "doc_id", "left")
                                  .select(F.lit("removed_dedup").alias("kind"), "host", "chars"))
    grouped = parts.groupBy("kind", F.coalesce(F.col("host"), F.lit(NONE_LABEL)).alias("host")).agg(
        F.count(F.lit(1)).alias("documents"), F.sum("chars").alias("chars"))
    w = Window.partitionBy("kind").orderBy(F.col("documents").desc(), F.col("host").asc())
    ranked = grouped.withColumn("rank", F.row_number().over(w)).where(F.col("rank") <= n).collect()
    kinds = {"kept": 0, "removed_filter": 1, "removed_dedup": 2}
    return [{"kind": r["kind"], "rank": int(r["rank"]), "host": r["host"], "documents": int(r["documents"]),
             "chars": _int(r["chars"])} for r in sorted(ranked, key=lambda r: (kinds[r["kind"]], r["rank"]))]


def _dedup_tables(dedup_docs: DataFrame | None, dups: DataFrame | None
                  ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Near-duplicate cluster sizes (each kept document stands for its cluster) and removals by reason."""
    if dedup_docs is None or dups is None:
        return [], []
    sizes = dedup_docs.groupBy("cluster_size").agg(F.count(F.lit(1)).alias("n")).collect()
    clusters = sorted(({"cluster_size": int(r["cluster_size"]), "clusters": int(r["n"]),
                        "documents": int(r["n"]) * int(r["cluster_size"])} for r in sizes),
                      key=lambda r: r["cluster_size"])
    reasons = dups.groupBy("reason").agg(F.count(F.lit(1)).alias("n"), F.avg("jaccard").alias("j")).collect()
    return clusters, sorted(({"reason": r["reason"], "documents": int(r["n"]), "mean_jaccard": r["j"]}
                             for r in reasons), key=lambda r: r["reason"])


def _truncate(text: Column, n: int) -> Column:
    return F.when(F.length(text) > n, F.concat(F.substring(text, 1, n), F.lit("…"))).otherwise(text)


def kept_samples(kept: DataFrame, size: int, chars: int) -> list[dict[str, Any]]:
    """The `size` kept documents with the smallest xxhash64(doc_id), chosen like the removed samples."""
    if size <= 0:
        return []
    picked = (kept.select("doc_id", "url", "host", "chars", _truncate(F.col("text"), chars).alias("text"))
              .orderBy(F.xxhash64("doc_id"), F.col("doc_id")).limit(size).collect())
    return [{"rank": i + 1, **{k: r[k] for k in ("doc_id", "url", "host", "text")}, "chars": _int(r["chars"])}
            for i, r in enumerate(picked)]


def removed_samples(docs: DataFrame, dups: DataFrame | None, rules: list[dict[str, Any]], size: int, chars: int
                    ) -> list[dict[str, Any]]:
    """Per removal reason, the `size` removed documents with the smallest xxhash64(doc_id): the same documents on
    every run over the same data, whatever the partitioning."""
    if size <= 0:
        return []
    order = Window.partitionBy("reason").orderBy(F.xxhash64("doc_id"), F.col("doc_id"))
    reason = F.col("reject_reason")
    value = F.lit(None).cast("double")
    signal = threshold = F.lit(None)
    for r in rules:
        hit = reason == r["reason"]
        value = F.when(hit, F.col(SIGNAL_PREFIX + r["signal"])).otherwise(value)
        signal = F.when(hit, F.lit(r["signal"])).otherwise(signal)
        threshold = F.when(hit, F.lit(r["threshold"])).otherwise(threshold)
    removed = docs.where(~F.col("keep")).select(
        F.lit("filter").alias("stage"), reason.alias("reason"), "doc_id", "url", "host", "chars",
        _truncate(F.col("text"), chars).alias("text"), signal.cast("string").alias("signal"), value.alias("value"),
        threshold.cast("double").alias("threshold"), F.lit(None).cast("string").alias("duplicate_of"),
        F.lit(None).cast("double").alias("jaccard"))
    if dups is not None:
        texts = docs.select("doc_id", "chars", _truncate(F.col("text"), chars).alias("text"))
        removed = removed.unionByName(dups.join(texts, "doc_id", "left").select(
            F.lit("dedup").alias("stage"), F.concat(F.lit("dedup."), F.col("reason")).alias("reason"), "doc_id",
            "url", "host", "chars", "text", F.lit(None).cast("string").alias("signal"),
            F.lit(None).cast("double").alias("value"), F.lit(None).cast("double").alias("threshold"),
            "duplicate_of", F.col("jaccard").cast("double")))
    picked = removed.withColumn("rank", F.row_number().over(order)).where(F.col("rank") <= size).collect()
    rows = [{k: r[k] for k in SCHEMAS["samples"].names} for r in picked]
    for row in rows:
        row["chars"] = _int(row["chars"])
    return sorted(rows, key=lambda r: (r["stage"] != "filter", r["reason"], r["rank"]))


# ----------------------------------------------------------------------------------------------- drift


@dataclass(frozen=True)
class DriftFinding:
    """One change from the parent version beyond its tolerance."""

    kind: str  # "filter_rate": a filter's fired rate; "signal": a rule signal's distribution (KS distance);
    #            "filter_presence": a filter ran in one version only
    subject: str  # filter name or signal name
    filter: str  # the filter concerned (the signal's owner for kind "signal")
    parent: float | None
    current: float | None
    change: float  # current - parent for rates, KS distance for signals
    tolerance: float
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def quantile_cdf(values: list[float], probs: Iterable[float], x: float) -> float:
    """The step CDF given by percentiles: the largest probability whose percentile is <= x (0 below all)."""
    i = bisect.bisect_right(values, x)
    return list(probs)[i - 1] if i else 0.0


def ks_distance(a: list[float], b: list[float], probs: tuple[float, ...] = PROBS) -> float:
    """Kolmogorov-Smirnov distance of two distributions known by the same percentiles (sorted values)."""
    return max((abs(quantile_cdf(a, probs, x) - quantile_cdf(b, probs, x)) for x in set(a) | set(b)), default=0.0)


def _threshold_changes(cur: Stats, par: Stats, filter_name: str) -> list[str]:
    old = {r["reason"]: r for r in par.summary["rules"] if r["filter"] == filter_name}
    return [f"{r['param']} {old[r['reason']]['threshold']:g} -> {r['threshold']:g}"
            for r in cur.summary["rules"] if r["filter"] == filter_name and r["reason"] in old
            and r["threshold"] != old[r["reason"]]["threshold"]]


# Sampling noise floors (two-sided, about 1 in 1000 false alarms between two crawls of the same web): a two-proportion
# z bound for rates and the Kolmogorov-Smirnov critical value c(0.001) for distributions. They only matter for small
# runs (a few hundred documents); at crawl scale the configured tolerances are far above them.
_Z = 3.29
_KS_C = 1.95


def rate_noise(p1: float, n1: int, p2: float, n2: int) -> float:
    """The change of a rate that sampling alone explains (pooled two-proportion bound)."""
    if not n1 or not n2:
        return 0.0
    p = (p1 * n1 + p2 * n2) / (n1 + n2)
    return _Z * math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))


def ks_noise(n1: int, n2: int) -> float:
    """The KS distance that sampling alone explains between samples of n1 and n2 values."""
    return _KS_C * math.sqrt((n1 + n2) / (n1 * n2)) if n1 and n2 else 1.0


def drift_findings(stats_dir: str | Path, parent_stats_dir: str | Path | None, params: Mapping[str, Any]
                   ) -> list[DriftFinding]:
    """Changes from the parent version beyond the tolerances in `params` (the `[stats]` config section).

    Compared: each filter's fired rate (absolute difference) and each rule signal's distribution (KS distance from
    the stored percentiles). A change must also exceed what sampling alone explains at the two versions' sizes, so
    small runs do not raise noise. No parent: no findings. Ordered filters first, then signals, largest change
    first.
    """
    if parent_stats_dir is None:
        return []
    cur, par = read_stats(stats_dir), read_stats(parent_stats_dir)
    rate_tol, sig_tol = float(params["drift_rate_tolerance"]), float(params["drift_signal_tolerance"])
    n_cur, n_par = int(cur.summary["totals"]["documents"]), int(par.summary["totals"]["documents"])
    found: list[DriftFinding] = []
    cur_f = {r["filter"]: r for r in cur["filters"].to_dict("records")}
    par_f = {r["filter"]: r for r in par["filters"].to_dict("records")}
    for name in list(cur_f) + [n for n in par_f if n not in cur_f]:
        if name not in par_f or name not in cur_f:
            where = "this version" if name in cur_f else "the parent version"
            c, p = cur_f.get(name, {}).get("fired_rate"), par_f.get(name, {}).get("fired_rate")
            found.append(DriftFinding("filter_presence", name, name, p, c, (c or 0.0) - (p or 0.0), rate_tol,
                                      f"filter {name} ran only in {where}"))
            continue
        c, p = float(cur_f[name]["fired_rate"]), float(par_f[name]["fired_rate"])
        bound = max(rate_tol, rate_noise(c, n_cur, p, n_par))
        if abs(c - p) > bound:
            cause = _threshold_changes(cur, par, name)
            found.append(DriftFinding(
                "filter_rate", name, name, p, c, c - p, bound,
                f"filter {name} fired on {c:.2%} of documents, parent {p:.2%} ({c - p:+.2%}, tolerance "
                f"{bound:.2%})" + (f"; thresholds changed: {', '.join(cause)}" if cause else "")))
    rule_signals = list(dict.fromkeys(r["signal"] for r in cur.summary["rules"]))
    cq, pq_ = cur["quantiles"], par["quantiles"]
    counts_cur = dict(zip(cur["signals"]["signal"], cur["signals"]["documents"]))
    counts_par = dict(zip(par["signals"]["signal"], par["signals"]["documents"]))
    owner = cur.summary.get("signal_filters", {})
    for s in rule_signals:
        a = cq[cq["signal"] == s].sort_values("prob")["value"].tolist()
        b = pq_[pq_["signal"] == s].sort_values("prob")["value"].tolist()
        if len(a) != len(PROBS) or len(b) != len(PROBS):
            continue
        d = ks_distance(sorted(a), sorted(b))
        bound = max(sig_tol, ks_noise(int(counts_cur.get(s, 0)), int(counts_par.get(s, 0))))
        if d > bound + 1e-9:  # percentiles step by 0.01: 0.1 must not count as above 0.1
            found.append(DriftFinding("signal", s, owner.get(s) or "", b[50], a[50], d, bound,
                                      f"signal {s} distribution moved (KS {d:.3f}, tolerance {bound:.3f}); median "
                                      f"{b[50]:.4g} -> {a[50]:.4g}"))
    order = {"filter_presence": 0, "filter_rate": 1, "signal": 2}
    return sorted(found, key=lambda f: (order[f.kind], -abs(f.change), f.subject))
