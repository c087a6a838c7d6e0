"""Extract stage: WARC files -> one Parquet row per response record (documents are the rows with outcome "kept"),
plus one tally row per file and type of the other records.

Files are spread over the executors one per task; each task streams its file through the record processor into
the file's own part (`records/part-<key>.parquet`) and marks the file done (jobs/fileparts.py), so the driver only
ever sees file names and counts, and a nightly killed during extract redoes only the files that were not done.
In index mode a task gets one WARC file and the byte ranges of its selected records (pipeline.commoncrawl.index) and writes
the same rows for those records.

A file that cannot be read (after the reader's retries and resumes) ends with one `unreadable_file` row and is
listed in `failed_files.txt`; `retry_failed` reruns only those files and replaces every row they had, so a retry
never duplicates rows. Each task writes one part file, so replacing a file's rows removes part files, not rows.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jwc.jobs.fileparts import (MARKERS, RECORDS, Inflight, batched, clean_temporaries, finished_files, part_name,
                                prepare, read_inflight, write_marker, write_part)
from jwc.jobs.progress import Progress
from jwc.pipeline.io.atomic import atomic_write_json, atomic_write_text
from jwc.pipeline.commoncrawl.index import SELECTION_DIR, selection_files, write_selection
from jwc.pipeline.commoncrawl.listing import resolve_run_inputs
from jwc.pipeline.config import Config
from jwc.pipeline.errors import UserError
from jwc.pipeline.io.inputs import InputFile
from jwc.pipeline.extract.records import RecordProcessor
from jwc.pipeline.io.remote import RetryPolicy
from jwc.schemas.documents import EXTRACT_OUTCOMES, EXTRACT_SCHEMA

if TYPE_CHECKING:
    from jwc.jobs.stages import RunContext

log = logging.getLogger(__name__)
_BATCH_ROWS = 512
FAILED_FILES = "failed_files.txt"
_RETRY_JOURNAL = "retry-journal.json"
_RANGES = "path string, ranges array<struct<offset:bigint,length:bigint>>, bytes bigint"
_SUMMARY = "path string, part string, rows bigint"
_SUMMARY_ARROW = pa.schema([("path", pa.string()), ("part", pa.string()), ("rows", pa.int64())])


def _to_batch(rows: list[dict[str, Any]]) -> pa.RecordBatch:
    cols = {f.name: [r.get(f.name) for r in rows] for f in EXTRACT_SCHEMA}
    return pa.RecordBatch.from_pydict(cols, schema=EXTRACT_SCHEMA)


def _make_task(extract: dict[str, Any], langid: dict[str, Any], crawl_id: str, out_dir: str, stamp: dict[str, str],
               counters: tuple[Any, Any], remote: dict[str, Any] | None = None, progress_seconds: float = 0.0,
               records_dir: str | None = None):
    """The task of one partition: each WARC file it is given (with its byte ranges in index mode) -> one part file in
    `records_dir` (default `out_dir/records`) and its completion marker; yields one (path, part, rows) row per file.
    `counters` are the (records, bytes) accumulators: records as they are read, a file's size when it is done."""
    records_acc, bytes_acc = counters

    def task(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        processor = RecordProcessor(extract, langid, crawl_id, remote)
        out = Path(out_dir)
        records = Path(records_dir) if records_dir else out / RECORDS
        for batch in batches:
            cols = batch.to_pydict()
            paths = cols["path"]
            sizes = cols.get("size", cols.get("bytes", [0] * len(paths)))  # index mode: the selected bytes
            for path, ranges, size in zip(paths, cols.get("ranges", [None] * len(paths)), sizes):
                source = (processor.process_file(path, _warn_unreadable) if ranges is None else
                          processor.process_ranges(path, [(r["offset"], r["length"]) for r in ranges],
                                                   _warn_unreadable))
                inflight = Inflight(out, path, _inflight_every(progress_seconds))
                part = records / part_name(path)
                rows = write_part(_arrow_batches(source, inflight, _FileProgress(path, progress_seconds),
                                                 records_acc), part)
                write_marker(out, path, size, part, rows, stamp)
                inflight.done()
                bytes_acc.add(size)
                yield pa.RecordBatch.from_pydict({"path": [path], "part": [part.name], "rows": [rows]},
                                                 schema=_SUMMARY_ARROW)

    return task


def _arrow_batches(source: Iterator[dict[str, Any]], inflight: Inflight, progress: _FileProgress,
                   records_acc: Any) -> Iterator[pa.RecordBatch]:
    """One file's rows as Arrow batches, counted on the way: running count, the task's log line, the accumulator."""
    for rows in batched(inflight.count(source), _BATCH_ROWS):
        records_acc.add(len(rows))
        progress.add(rows)
        yield _to_batch(rows)


def _inflight_every(progress_seconds: float) -> float:
    """How often a task publishes its running count: twice per progress line, between 0.5 and 5 seconds."""
    return min(max(progress_seconds / 2, 0.5), 5.0) if progress_seconds > 0 else 0.0


class _FileProgress:
    """Live progress of one file from inside its task (Spark's own counts only move when a task ends): a line on
    the worker's stderr every `every` seconds, which local mode shows on the console and a cluster in the
    executor's log."""

    def __init__(self, path: str, every: float):
        self.path, self.every = path, every
        self.started = self.last = time.monotonic()
        self.responses = self.kept = 0

    def add(self, rows: list[dict[str, Any]]) -> None:
        if self.every <= 0:
            return
        self.responses += sum(r["outcome"] != "not_response" for r in rows)
        self.kept += sum(r["outcome"] == "kept" for r in rows)
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            rate = self.responses / max(now - self.started, 1e-9)
            print(f"[extract] {os.path.basename(self.path)}: {self.responses:,} responses read, {self.kept:,} "
                  f"Japanese documents, {rate:,.0f} responses/s", file=sys.stderr, flush=True)


def _warn_unreadable(path: str, exc: Exception) -> None:
    print(f"WARNING: cannot read {path}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)


def _stamp(cfg: Config, crawl_id: str) -> dict[str, str]:
    """What a finished file's marker must match to be kept on resume: the config digest and the crawl id."""
    return {"config_digest": cfg.digest(), "crawl_id": crawl_id}


def _counters(spark: SparkSession) -> tuple[Any, Any]:
    return spark.sparkContext.accumulator(0), spark.sparkContext.accumulator(0)


def extract_frame(spark: SparkSession, files: list[InputFile], cfg: Config, crawl_id: str, out: Path,
                  records_dir: Path | None = None) -> tuple[DataFrame, tuple[Any, Any]]:
    """The lazy per-file summary rows of extracting `files` (one partition per file, each writing its part and
    marker under `out`) and the (records, bytes) accumulators."""
    # One file per partition (parallelize slices evenly), biggest first so a large file does not start last.
    ordered = sorted(files, key=lambda f: -f.size)
    rdd = spark.sparkContext.parallelize([(f.path, f.size) for f in ordered], numSlices=max(1, len(files)))
    paths = spark.createDataFrame(rdd, "path string, size bigint")
    counters = _counters(spark)
    task = _make_task(cfg["extract"], cfg["langid"], crawl_id, str(out), _stamp(cfg, crawl_id), counters,
                      cfg["commoncrawl"], cfg["run"]["progress_seconds"], str(records_dir or ""))
    return paths.mapInArrow(task, _SUMMARY), counters


def ranges_frame(spark: SparkSession, selection: Path, cfg: Config, crawl_id: str, out: Path,
                 only: list[str] | None = None, records_dir: Path | None = None
                 ) -> tuple[DataFrame, tuple[Any, Any], int]:
    """Index mode of extract_frame: one task per WARC file of a written selection with its byte ranges, biggest
    first, and the number of files. `only` restricts it to those paths."""
    sel = spark.read.parquet(str(selection)).select("path", "ranges", "bytes")
    if only is not None:
        sel = sel.where(F.col("path").isin(only))
    n = sel.count()
    # zipWithIndex + an identity partitioner: exactly one WARC file per partition (one task, one part file).
    numbered = sel.orderBy(F.desc("bytes"), "path").rdd.zipWithIndex().map(lambda t: (t[1], t[0]))
    groups = spark.createDataFrame(numbered.partitionBy(max(1, n), lambda k: k).values(), _RANGES)
    counters = _counters(spark)
    task = _make_task(cfg["extract"], cfg["langid"], crawl_id, str(out), _stamp(cfg, crawl_id), counters,
                      cfg["commoncrawl"], cfg["run"]["progress_seconds"], str(records_dir or ""))
    return groups.mapInArrow(task, _SUMMARY), counters, n


def run_extract(spark: SparkSession, files: list[InputFile], output_dir: str | Path, cfg: Config, crawl_id: str,
                resume: bool = False) -> dict[str, Any]:
    """Write `output_dir/records` (one part per input file), `counts.json` and `failed_files.txt`; return the
    counts by outcome and by file. `resume` keeps the parts of files an earlier attempt finished (fileparts)."""
    out = Path(output_dir)
    todo = _start(out, files, _stamp(cfg, crawl_id), resume)
    if todo:
        frame, counters = extract_frame(spark, todo, cfg, crawl_id, out)
        sizes = [f.size for f in todo]
        _run(spark, frame, counters, len(todo), sum(sizes) if all(sizes) else 0, out, cfg)
    clean_temporaries(out)
    return _finish(spark, out)


def run_extract_ranges(spark: SparkSession, selection: Path, output_dir: str | Path, cfg: Config, crawl_id: str,
                       resume: bool = False) -> dict[str, Any]:
    """Index mode of `run_extract`: the records of a written selection (pipeline.commoncrawl.index.write_selection)."""
    out = Path(output_dir)
    todo = _start(out, selection_files(spark, selection), _stamp(cfg, crawl_id), resume)
    if todo:
        frame, counters, n = ranges_frame(spark, selection, cfg, crawl_id, out, only=[f.path for f in todo])
        _run(spark, frame, counters, n, 0, out, cfg)  # ranges: bytes read are not comparable to file sizes
    clean_temporaries(out)
    return _finish(spark, out)


def _start(out: Path, files: list[InputFile], stamp: dict[str, str], resume: bool) -> list[InputFile]:
    """The files still to read: all of them (earlier output removed), or with `resume` those without a valid
    completion marker."""
    if not resume:
        for name in (RECORDS, MARKERS):
            shutil.rmtree(out / name, ignore_errors=True)
    clean_temporaries(out)  # a killed attempt's running counts would inflate the progress line
    prepare(out)
    done = finished_files(out, {f.path: f.size for f in files}, stamp) if resume else set()
    todo = [f for f in files if f.path not in done]
    if done:
        print(f"[extract] resuming: {len(done)} of {len(files)} file(s) already extracted, reading the other "
              f"{len(todo)}", file=sys.stderr, flush=True)
    return todo


def _run(spark: SparkSession, frame: DataFrame, counters: tuple[Any, Any], files: int, total_bytes: int,
         out: Path, cfg: Config) -> None:
    """Run the extract tasks with a progress line that moves while files are read: finished records (accumulator)
    plus the running counts the tasks publish, and an ETA from bytes (when every size is known) or files."""
    records_acc, bytes_acc = counters

    def fraction() -> float | None:
        return (bytes_acc.value + read_inflight(out)[1]) / total_bytes if total_bytes else None

    with Progress(spark.sparkContext, "extract", "files", files, lambda: records_acc.value + read_inflight(out)[0],
                  cfg["run"]["progress_seconds"], fraction=fraction):
        frame.collect()  # one small row per file; the rows themselves are in the part files


def _finish(spark: SparkSession, out: Path) -> dict[str, Any]:
    """Counts of `out/records` into counts.json, and the unreadable files into failed_files.txt."""
    counts = outcome_counts(spark.read.parquet(str(out / "records")))
    failed = counts["failed_files"]
    atomic_write_json(out / "counts.json", counts)
    atomic_write_text(out / FAILED_FILES, "".join(f"{f}\n" for f in failed))
    lost = {f: c for f, c in counts["damage_by_file"].items() if c}
    for f, c in lost.items():
        print(f"WARNING: {f}: {c} damaged stretch(es) skipped (corrupt, truncated, too large to inflate or "
              "unreadable)", file=sys.stderr, flush=True)
    if failed:
        print(f"WARNING: {len(failed)} file(s) could not be read, listed in {out / FAILED_FILES}; "
              "rerun with --only-failed to retry only them", file=sys.stderr, flush=True)
    return counts


def print_extract_summary(counts: dict[str, Any], output_dir: str | Path) -> None:
    """`jwc extract`'s last lines for a person: records read, documents kept, damage, where the output is."""
    damaged = sum(counts["damage_by_file"].values())
    print(f"jwc extract: {counts['records']:,} WARC records read, {counts['kept']:,} Japanese documents kept, "
          f"{damaged:,} damaged stretch(es), {len(counts['failed_files'])} unreadable file(s)\n"
          f"  records: {Path(output_dir) / 'records'}  (counts by outcome: {Path(output_dir) / 'counts.json'})",
          file=sys.stderr, flush=True)


def retry_failed(spark: SparkSession, output_dir: str | Path, cfg: Config, crawl_id: str,
                 selection: Path | None = None) -> dict[str, Any]:
    """Rerun only the files in `failed_files.txt` of an extract output and replace every row they had.

    The new rows are written beside `records/`; then a journal names the part files to add and the part files
    that held the failed files' rows (rows of other files sharing those part files are copied over first), and
    is applied move by move. An interrupted merge is completed by the next call, so no row is lost or doubled.
    """
    out = Path(output_dir)
    records, retry, journal = out / "records", out / "records.retry", out / _RETRY_JOURNAL
    if not records.is_dir():
        raise UserError(f"--only-failed: no extract output in {out} to retry")
    _apply_journal(records, retry, journal)
    shutil.rmtree(retry, ignore_errors=True)
    listed = out / FAILED_FILES
    failed = [line for line in listed.read_text(encoding="utf-8").splitlines() if line] if listed.is_file() else []
    if not failed:
        print(f"extract: no failed files listed in {listed}, nothing to retry", file=sys.stderr, flush=True)
        return {**_finish(spark, out), "retried": []}
    clean_temporaries(out)
    prepare(out)
    retry.mkdir()
    if selection is not None:
        frame, counters, n = ranges_frame(spark, selection, cfg, crawl_id, out, only=failed, records_dir=retry)
    else:
        frame, counters = extract_frame(spark, [InputFile(p, 0) for p in failed], cfg, crawl_id, out, retry)
        n = len(failed)
    _run(spark, frame, counters, n, 0, out, cfg)
    old = spark.read.parquet(str(records)).where(F.col("source_file").isin(failed))
    affected = sorted({_part_name(r[0]) for r in old.select(F.input_file_name()).distinct().collect()})
    if affected:
        others = spark.read.parquet(*[str(records / a) for a in affected]).where(~F.col("source_file").isin(failed))
        if others.limit(1).count():
            others.write.mode("append").parquet(str(retry))
    added = sorted(n for n in os.listdir(retry) if n.endswith(".parquet"))
    # A file's new part has its old part's name and replaces it; other old parts that held its rows go.
    atomic_write_json(journal, {"add": added, "remove": sorted(set(affected) - set(added))})
    _apply_journal(records, retry, journal)
    clean_temporaries(out)
    return {**_finish(spark, out), "retried": failed}


def _part_name(uri: str) -> str:
    from urllib.parse import unquote, urlsplit

    return os.path.basename(unquote(urlsplit(uri).path))


def _apply_journal(records: Path, retry: Path, journal: Path) -> None:
    """Move the journal's new part files into `records`, delete the replaced ones; safe to repeat."""
    if not journal.is_file():
        return
    plan = json.loads(journal.read_text(encoding="utf-8"))
    for name in plan["add"]:
        for n in (name, f".{name}.crc"):
            if (retry / n).exists():
                os.replace(retry / n, records / n)
    for name in plan["remove"]:
        for n in (name, f".{name}.crc"):
            (records / n).unlink(missing_ok=True)
    journal.unlink()
    shutil.rmtree(retry, ignore_errors=True)


def extract_command(spark: SparkSession, cfg: Config, output_dir: str, crawl_id: str, patterns: list[str],
                    input_lists: list[str] | None = None, prefix: str | None = None, source: str | None = None,
                    index: str | None = None, cc_base: str | None = None, only_failed: bool = False
                    ) -> dict[str, Any]:
    """`jwc extract`: resolve the inputs (files, listings, a crawl id, or index mode) and run; or retry the
    failed files of an earlier output in `output_dir`."""
    out = Path(output_dir)
    selection = out / SELECTION_DIR
    if only_failed:  # the rows keep the crawl id they were written with
        if (out / "records").is_dir():
            known = spark.read.parquet(str(out / "records")).select("crawl_id").limit(1).collect()
            crawl_id = known[0][0] if known else crawl_id
        return retry_failed(spark, out, cfg, crawl_id, selection if selection.is_dir() else None)
    cc = cfg["commoncrawl"]
    run = resolve_run_inputs(spark, crawl_id, cc, patterns, input_lists or [], prefix, source, index, cc_base)
    if run.index is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_selection(spark, run.index, selection, RetryPolicy.from_options(cc), reuse=False)
        return run_extract_ranges(spark, selection, out, cfg, crawl_id)
    shutil.rmtree(selection, ignore_errors=True)  # a stale selection would make --only-failed read ranges
    out.mkdir(parents=True, exist_ok=True)
    return run_extract(spark, run.files, str(out), cfg, crawl_id)


_DAMAGE = ("corrupt_member", "bad_record", "truncated_at_eof", "member_too_large", "unreadable_file")


def outcome_counts(records: DataFrame) -> dict[str, Any]:
    """Counts by outcome (every known outcome present, zero or not), damage per source file and the unreadable
    files, from one small group-by (a row's `records` says how many records it stands for)."""
    damaged = F.col("outcome").isin(*_DAMAGE)
    groups = records.groupBy("outcome", F.when(damaged, F.col("source_file")).alias("file")).agg(
        F.sum("records").alias("n")).collect()  # outcomes x damaged files: small
    outcomes = {o: 0 for o in EXTRACT_OUTCOMES}
    by_file: dict[str, int] = {}
    failed: set[str] = set()
    for r in groups:
        outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + int(r["n"])
        if r["file"] is not None:
            by_file[r["file"]] = by_file.get(r["file"], 0) + int(r["n"])
            if r["outcome"] == "unreadable_file":
                failed.add(r["file"])
    return {"records": sum(outcomes.values()), "outcomes": outcomes, "damage_by_file": by_file,
            "kept": outcomes["kept"], "failed_files": sorted(failed)}


def kept_documents(spark: SparkSession, extract_dir: str) -> DataFrame:
    """The documents of an extract output: kept rows, without the bookkeeping columns."""
    records = spark.read.parquet(os.path.join(extract_dir, "records"))
    return records.where(F.col("outcome") == "kept").drop("outcome", "detail", "records")


def extract_stage(ctx: RunContext, out: Path) -> dict[str, Any]:
    """Nightly stage: the run's input files (or, in index mode, its selection) -> `extract/records`."""
    selection = ctx.run_dir / SELECTION_DIR
    if selection.is_dir():
        counts = run_extract_ranges(ctx.spark, selection, out, ctx.cfg, ctx.crawl_id, resume=True)
    else:
        counts = run_extract(ctx.spark, ctx.inputs, out, ctx.cfg, ctx.crawl_id, resume=True)
    return _stage_counts(counts)


def _stage_counts(counts: dict[str, Any]) -> dict[str, Any]:
    return {"records": counts["records"], "kept": counts["kept"], "failed_files": len(counts["failed_files"]),
            **{f"outcome_{k}": v for k, v in counts["outcomes"].items()}}


def retry_failed_stage(ctx: RunContext) -> dict[str, Any]:
    """`nightly --only-failed`: retry the finished extract stage's failed files in place and update its counts."""
    from jwc.jobs.stages import DONE

    out = ctx.stage_dir("extract")
    done = out / DONE
    if not done.is_file():
        raise UserError(f"--only-failed: the extract stage of {ctx.crawl_id} has not finished; "
                        "rerun without --only-failed to continue the run")
    selection = ctx.run_dir / SELECTION_DIR
    counts = retry_failed(ctx.spark, out, ctx.cfg, ctx.crawl_id, selection if selection.is_dir() else None)
    info = json.loads(done.read_text())
    info["counts"] = _stage_counts(counts)
    info["retried_files"] = len(counts["retried"])
    atomic_write_json(done, info)
    ctx.results["extract"] = info["counts"]
    return {**info["counts"], "retried": counts["retried"]}
