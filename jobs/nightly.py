"""The nightly driver: one crawl's WARC files -> every stage in order, in the dataset store.

Everything that can be refused is refused before Spark does any work: the config, the store, the inputs.
A rerun after a crash continues from the first unfinished stage.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from jwc.jobs.dedup import dedup_stage
from jwc.jobs.extract import extract_stage, retry_failed_stage
from jwc.jobs.filter import filter_stage, validate_chain
from jwc.jobs.progress import duration
from jwc.jobs.publish import IndexChanged, publish_stage
from jwc.jobs.shards import shards_stage
from jwc.jobs.stats import report_stage, stats_stage
from jwc.jobs.tokenize import check_tokenizer_config, no_pin_warning, tokenize_stage
from jwc.jobs.stages import DONE, RunContext, Stage, run_stage
from jwc.pipeline import config as config_mod
from jwc.pipeline.io.atomic import atomic_write_json
from jwc.pipeline.commoncrawl.index import SELECTION_DIR, selection_files, write_selection
from jwc.pipeline.commoncrawl.listing import resolve_run_inputs
from jwc.pipeline.errors import UserError
from jwc.pipeline.io.inputs import InputFile
from jwc.pipeline.io.remote import RetryPolicy
from jwc.pipeline.spark import session_for
from jwc.pipeline.io.hadoop import HadoopFS
from jwc.pipeline.io.store import SharedStore, Store, safe_name, store_location
from jwc.pipeline.versions.ids import reserved_version
from jwc.pipeline.versions.shared import pull_published
from jwc.pipeline.versions.staging import abandon_staging

STAGES: tuple[Stage, ...] = (
    Stage("extract", extract_stage, "WARC records -> Japanese documents", resumable=True),
    Stage("filter", filter_stage, "clean, measure, decide and mask every document"),
    Stage("dedup", dedup_stage, "exact and MinHash near-duplicates, within the run and against published versions"),
    Stage("shards", shards_stage, "kept documents -> deterministic zstd Parquet shards"),
    Stage("tokenize", tokenize_stage, "shards -> Megatron .bin/.idx with the dataset's pinned tokenizer"),
    Stage("stats", stats_stage, "filter statistics by Spark aggregation, removed-document samples"),
    Stage("report", report_stage, "self-contained HTML report with drift against the parent version"),
    Stage("publish", publish_stage, "validate, write the manifest, publish the version atomically"),
)


MAX_DEDUP_REDOS = 3  # publishes by other runs that one run follows by redoing dedup before it gives up


def _discard_run(st: Store, dataset: str, run_dir: Path) -> None:
    """Delete a run folder; the version id it had reserved stays taken (ids are never reused) but what was staged
    under it is dropped."""
    version = reserved_version(run_dir)
    if version is not None:
        dataset_dir = st.dataset_dir(dataset)
        if not (dataset_dir / "versions" / version).exists():
            abandon_staging(dataset_dir, version)
    shutil.rmtree(run_dir)


def _mismatch(run_dir: Path, crawl_id: str) -> str:
    """The refusal of a rerun with other inputs or another config: it differs for a crawl already published."""
    done = run_dir / "publish" / DONE
    if done.is_file():
        version = json.loads(done.read_text())["counts"].get("version", "a version")
        return (f"{run_dir} holds crawl {crawl_id}, already published as {version} with other inputs or another "
                "config; a published crawl is not published again (its documents are in the dedup index, a new run "
                "would drop them as duplicates): use a new crawl id for new inputs, `jwc redecide` to try "
                "thresholds, or --restart to discard the run folder anyway")
    return (f"{run_dir} holds an unfinished run of {crawl_id} with other inputs or another config; rerun with the "
            "same ones, or pass --restart to discard it")


class RunMismatch(UserError):
    """The run folder holds a run with other inputs or another config."""


class FailedFiles(UserError):
    """WARC files could not be read: the run stops after extract until they are retried or allowed."""


class NothingKept(UserError):
    """No document survived a stage: there is nothing to tokenize or publish."""


def _identity(ctx_inputs: list, cfg_digest: str) -> dict[str, Any]:
    return {"config_digest": cfg_digest, "inputs": [[f.path, f.size] for f in ctx_inputs]}


def nightly(crawl_id: str, inputs: list[str], store: str, config_path: str | None = None,
            master: str | None = None, restart: bool = False, *, input_lists: list[str] | None = None,
            prefix: str | None = None, source: str | None = None, index: str | None = None,
            cc_base: str | None = None, only_failed: bool = False, allow_failed: bool = False,
            break_lock: bool = False, spark_conf: dict[str, str] | None = None, work: str | None = None
            ) -> dict[str, dict[str, Any]]:
    """Run every stage for one crawl; returns each stage's counts.

    Inputs: paths/globs (`inputs`), listings (`input_lists`, relative lines joined to `prefix`), the crawl's own
    warc.paths.gz (`source="commoncrawl"`, under `cc_base` or [commoncrawl] base_url), or index mode (`index`: an
    index location, "" to derive it from the crawl id). `only_failed` retries the failed WARC files of the finished
    extract stage and redoes the later stages. A run whose extract stage lists failed files stops there
    (FailedFiles) unless `allow_failed`, so nothing is built or published from an incomplete crawl by accident.
    The run folder is locked for the whole run: a second run of the same crawl id is refused at once (LockHeld);
    `break_lock` takes the run folder's and the dataset's locks whatever their state.
    `spark_conf` (the command line's --conf) beats the config's [spark] keys and spark-submit's settings.
    `work` is the local work folder of a run on a Hadoop store (default [store] work_dir).
    A human summary of the published version ends the run on stderr.
    """
    started = time.monotonic()
    cfg = config_mod.load(config_path)
    validate_chain(cfg)  # filter options (word lists, models) are checked before any work
    safe_name(crawl_id, "crawl id")
    safe_name(cfg["run"]["dataset"], "dataset name")
    st = _open_store(cfg, store, work, master, spark_conf)
    check_tokenizer_config(st.dataset_dir(cfg["run"]["dataset"]), cfg["tokenize"])
    published = (st.run_dir(crawl_id) / "publish" / DONE).is_file()
    if not published:
        st.check_writable()  # one line before any work, not an error at the lock file
    # A published crawl's rerun writes nothing, so on a read-only store it runs without the lock.
    lock = (st.run_lock(crawl_id, f"jwc nightly {crawl_id}", cfg["store"]).acquire(0, break_lock)
            if not published or os.access(st.root, os.W_OK) else contextlib.nullcontext())
    with lock:
        return _locked_nightly(cfg, st, crawl_id, inputs, master, restart, input_lists, prefix, source, index,
                               cc_base, only_failed, allow_failed, break_lock, spark_conf, started)


def _open_store(cfg: config_mod.Config, store: str, work: str | None, master: str | None,
                spark_conf: dict[str, str] | None) -> Store:
    """The run's store: a local folder, or a Hadoop store worked on in a local folder, with the published versions'
    manifests and the tokenizer pin copied in. Spark starts first for a Hadoop store (its file system is reached
    through Spark's JVM); an unsupported store is refused before either, with nothing created."""
    location = store_location(store, cfg["store"]["api"])
    if location.uri is None:
        if work:
            raise UserError(f"--work is for a store on a Hadoop file system; {store} is a local folder")
        return Store.open(location.path)
    spark = session_for("jwc-nightly", cfg["spark"], master, spark_conf)
    shared = SharedStore.open(HadoopFS(spark, location.uri))
    st = Store.open_shared(shared, work or cfg["store"]["work_dir"])
    dataset = cfg["run"]["dataset"]
    pull_published(shared, dataset, st.dataset_dir(dataset))
    return st


def _locked_nightly(cfg: config_mod.Config, st: Store, crawl_id: str, inputs: list[str], master: str | None,
                    restart: bool, input_lists: list[str] | None, prefix: str | None, source: str | None,
                    index: str | None, cc_base: str | None, only_failed: bool, allow_failed: bool,
                    break_lock: bool, spark_conf: dict[str, str] | None, started: float
                    ) -> dict[str, dict[str, Any]]:
    """`nightly` once the run folder's lock is held."""
    run_dir = st.run_dir(crawl_id)
    spark = session_for("jwc-nightly", cfg["spark"], master, spark_conf)
    marker = run_dir / "run.json"
    if only_failed:
        results = _retry_failed(spark, cfg, st, crawl_id, Path(run_dir), marker, allow_failed, break_lock)
        print_summary(Path(run_dir), crawl_id, results, time.monotonic() - started)
        return results
    cc = cfg["commoncrawl"]
    resolved = resolve_run_inputs(spark, crawl_id, cc, inputs, input_lists or [], prefix, source, index, cc_base)
    files = resolved.files
    # Index mode: the selection written into the run folder is the input record; the index is read once per run.
    identity = _identity(files, cfg.digest()) if resolved.index is None else {"config_digest": cfg.digest()}
    if resolved.source:
        identity["source"] = resolved.source
    if marker.is_file() and json.loads(marker.read_text()) != identity:
        if not restart:
            raise RunMismatch(_mismatch(Path(run_dir), crawl_id))
        _discard_run(st, cfg["run"]["dataset"], Path(run_dir))
    if not marker.is_file():  # a matching marker stays untouched: a published run's store may be read-only
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(marker, identity)
    if resolved.index is not None:
        files = write_selection(spark, resolved.index, Path(run_dir) / SELECTION_DIR, RetryPolicy.from_options(cc))
    size = f"{sum(f.size for f in files):,} bytes" if all(f.size for f in files) else "sizes not known in advance"
    print(f"nightly {crawl_id}: {len(files)} input file(s), {size}"
          f"{' (selected records only)' if resolved.index is not None else ''}, store {st.root}",
          file=sys.stderr, flush=True)
    warning = no_pin_warning(st.dataset_dir(cfg["run"]["dataset"]), cfg["tokenize"])
    if warning:
        print(warning, file=sys.stderr, flush=True)
    ctx = RunContext(spark=spark, cfg=cfg, store=st, crawl_id=crawl_id, inputs=files, run_dir=Path(run_dir),
                     break_lock=break_lock)
    _run_stages(ctx, allow_failed)
    print_summary(ctx.run_dir, crawl_id, ctx.results, time.monotonic() - started)
    return ctx.results


def print_summary(run_dir: Path, crawl_id: str, results: dict[str, dict[str, Any]], seconds: float) -> None:
    """The end of a nightly for a person: what was published, how much, where the report is, drift or not."""
    published = json.loads((run_dir / "publish" / "published.json").read_text())
    drift = json.loads((run_dir / "report" / "drift.json").read_text())
    pub, extract = results["publish"], results["extract"]
    findings = len(drift["findings"])
    drift_line = ("no (no parent version to compare with)" if drift["parent"] is None else
                  f"no, against {drift['parent']}" if not findings else
                  f"YES, {findings} finding(s) against {drift['parent']}"
                  f"{' (fail_on_drift: exit code 3)' if drift['alarm'] else ''}; read the report")
    lines = [f"jwc nightly {crawl_id}: published {published['dataset']} {published['version']} in "
             f"{duration(seconds)}",
             f"  documents: {pub['documents']:,} (of {extract['kept']:,} Japanese pages in "
             f"{extract['records']:,} WARC records)",
             f"  tokens:    {pub['tokens']:,}",
             f"  version:   {published['path']}",
             f"  report:    {published['path']}/report.html",
             f"  drift:     {drift_line}"]
    print("\n".join(lines), file=sys.stderr, flush=True)


def _run_stages(ctx: RunContext, allow_failed: bool) -> None:
    """Every stage in order; when publishing finds versions published since dedup ran, dedup and every stage after
    it are redone (their output may hold duplicates of those versions' documents)."""
    for redo in range(MAX_DEDUP_REDOS + 1):
        try:
            _run_stage_list(ctx, allow_failed)
            return
        except IndexChanged as exc:
            if redo == MAX_DEDUP_REDOS:
                raise UserError(f"{exc}: other runs published {MAX_DEDUP_REDOS + 1} times while this one was "
                                "between dedup and publish; rerun the same command to try again") from None
            print(f"nightly {ctx.crawl_id}: {exc}; redoing dedup and the stages after it", file=sys.stderr,
                  flush=True)
            _discard_stages(ctx, "dedup")


def _discard_stages(ctx: RunContext, first: str) -> None:
    """Delete the output of stage `first` and every stage after it, so that they run again."""
    names = [s.name for s in STAGES]
    for name in names[names.index(first):]:
        for folder in (ctx.run_dir / name, ctx.run_dir / f"{name}.partial"):
            shutil.rmtree(folder, ignore_errors=True)
        ctx.results.pop(name, None)


def _run_stage_list(ctx: RunContext, allow_failed: bool) -> None:
    for stage in STAGES:
        run_stage(ctx, stage)
        failed = ctx.results[stage.name].get("failed_files", 0) if stage.name == "extract" else 0
        if failed and not allow_failed:
            raise FailedFiles(_failed_files_message(ctx, failed))
        survivors = {"extract": "kept", "filter": "kept", "dedup": "output"}.get(stage.name)
        if survivors and ctx.results[stage.name].get(survivors) == 0:
            counts = ctx.stage_dir(stage.name) / ("counts.json" if stage.name == "extract" else DONE)
            why = ("every document duplicates an earlier one or a published version" if stage.name == "dedup" else
                   "check that the input holds Japanese HTML responses, and the config's thresholds")
            raise NothingKept(f"the {stage.name} stage kept no document (see {counts}): nothing to publish, the run "
                              f"stopped after it; {why}")


def _failed_files_message(ctx: RunContext, failed: int) -> str:
    """Why the run stopped after extract, with the first file's reason; a file that is not a WARC file is not
    retried by --only-failed, so the fix named is to take it out of the inputs."""
    extract = ctx.stage_dir("extract")
    reasons = {r["source_file"]: r["detail"] or "" for r in ctx.spark.read.parquet(str(extract / "records"))
               .where("outcome = 'unreadable_file'").select("source_file", "detail").collect()}  # one per file
    first = min(reasons) if reasons else ""
    listed = f"listed in {extract / 'failed_files.txt'}"
    if reasons and all(d.startswith("NotWarc: ") for d in reasons.values()):
        return (f"{failed} input file(s) could not be read: they are not WARC files ({listed}; {first}: "
                f"{reasons[first].removeprefix('NotWarc: ')}); the run stopped after extract: remove them from the "
                "inputs (--only-failed would read them again), or rerun with --allow-failed to go on without them")
    return (f"{failed} WARC file(s) could not be read ({listed}; {first}: {reasons.get(first, '?')}); the run "
            "stopped after extract: rerun with --only-failed to retry them, or --allow-failed to go on without them")


def _retry_failed(spark: Any, cfg: config_mod.Config, st: Store, crawl_id: str, run_dir: Path, marker: Path,
                  allow_failed: bool, break_lock: bool) -> dict[str, dict[str, Any]]:
    """Retry the failed files of the run's extract stage, then redo every later stage on the completed output."""
    if not marker.is_file():
        raise UserError(f"--only-failed: no run of {crawl_id} in {st.root}")
    saved = json.loads(marker.read_text())
    if saved.get("config_digest") != cfg.digest():
        raise RunMismatch(f"{run_dir} was run with another config; --only-failed must use the same one")
    if (run_dir / "publish" / DONE).is_file():
        raise UserError(f"--only-failed: {crawl_id} is already published; retrying would change a published run")
    selection = run_dir / SELECTION_DIR
    inputs = (selection_files(spark, selection) if selection.is_dir()
              else [InputFile(p, s) for p, s in saved.get("inputs", [])])
    ctx = RunContext(spark=spark, cfg=cfg, store=st, crawl_id=crawl_id, inputs=inputs, run_dir=run_dir,
                     break_lock=break_lock)
    retried = retry_failed_stage(ctx)["retried"]
    if retried:
        _discard_stages(ctx, STAGES[1].name)  # built on the incomplete extract output
    print(f"nightly {crawl_id}: retried {len(retried)} failed file(s)", file=sys.stderr, flush=True)
    _run_stages(ctx, allow_failed)
    return ctx.results
