"""The nightly driver: one crawl's WARC files -> every stage in order, in the dataset store.

Everything that can be refused is refused before Spark does any work: the config, the store, the inputs.
A rerun after a crash continues from the first unfinished stage.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from jwc.jobs.dedup import dedup_stage
from jwc.jobs.extract import extract_stage, retry_failed_stage
from jwc.jobs.filter import filter_stage, validate_chain
from jwc.jobs.publish import publish_stage
from jwc.jobs.shards import shards_stage
from jwc.jobs.stats import report_stage, stats_stage
from jwc.jobs.tokenize import check_tokenizer_config, no_pin_warning, tokenize_stage
from jwc.jobs.stages import DONE, RunContext, Stage, run_stage
from jwc.pipeline import config as config_mod
from jwc.pipeline.io.ccindex import SELECTION_DIR, selection_files, write_selection
from jwc.pipeline.io.cclisting import resolve_run_inputs
from jwc.pipeline.errors import UserError
from jwc.pipeline.io.inputs import InputFile
from jwc.pipeline.io.remote import RetryPolicy
from jwc.pipeline.spark import get_session
from jwc.pipeline.io.store import Store
from jwc.pipeline.versions.ids import reserved_version
from jwc.pipeline.versions.staging import release_staging

STAGES: tuple[Stage, ...] = (
    Stage("extract", extract_stage, "WARC records -> Japanese documents"),
    Stage("filter", filter_stage, "clean, measure, decide and mask every document"),
    Stage("dedup", dedup_stage, "exact and MinHash near-duplicates, within the run and against published versions"),
    Stage("shards", shards_stage, "kept documents -> deterministic zstd Parquet shards"),
    Stage("tokenize", tokenize_stage, "shards -> Megatron .bin/.idx with the dataset's pinned tokenizer"),
    Stage("stats", stats_stage, "filter statistics by Spark aggregation, removed-document samples"),
    Stage("report", report_stage, "self-contained HTML report with drift against the parent version"),
    Stage("publish", publish_stage, "validate, write the manifest, publish the version atomically"),
)


def _discard_run(st: Store, dataset: str, run_dir: Path) -> None:
    """Delete an unfinished run and give back the version id it had reserved (unless that version was published)."""
    version = reserved_version(run_dir)
    if version is not None:
        dataset_dir = st.dataset_dir(dataset)
        if not (dataset_dir / "versions" / version).exists():
            release_staging(dataset_dir, version)
    shutil.rmtree(run_dir)


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
            cc_base: str | None = None, only_failed: bool = False, allow_failed: bool = False
            ) -> dict[str, dict[str, Any]]:
    """Run every stage for one crawl; returns each stage's counts.

    Inputs: paths/globs (`inputs`), listings (`input_lists`, relative lines joined to `prefix`), the crawl's own
    warc.paths.gz (`source="commoncrawl"`, under `cc_base` or [commoncrawl] base_url), or index mode (`index`: an
    index location, "" to derive it from the crawl id). `only_failed` retries the failed WARC files of the finished
    extract stage and redoes the later stages. A run whose extract stage lists failed files stops there
    (FailedFiles) unless `allow_failed`, so nothing is built or published from an incomplete crawl by accident.
    """
    cfg = config_mod.load(config_path)
    validate_chain(cfg)  # filter options (word lists, models) are checked before any work
    st = Store.open(store)
    check_tokenizer_config(st.dataset_dir(cfg["run"]["dataset"]), cfg["tokenize"])
    run_dir = st.run_dir(crawl_id)
    spark = get_session("jwc-nightly", master=master or cfg["spark"]["master"] or None, ui=cfg["spark"]["ui"],
                        shuffle_partitions=cfg["spark"]["shuffle_partitions"] or None,
                        quick_jit=cfg["spark"]["local_quick_jit"])
    marker = run_dir / "run.json"
    if only_failed:
        return _retry_failed(spark, cfg, st, crawl_id, Path(run_dir), marker, allow_failed)
    cc = cfg["commoncrawl"]
    resolved = resolve_run_inputs(spark, crawl_id, cc, inputs, input_lists or [], prefix, source, index, cc_base)
    files = resolved.files
    # Index mode: the selection written into the run folder is the input record; the index is read once per run.
    identity = _identity(files, cfg.digest()) if resolved.index is None else {"config_digest": cfg.digest()}
    if resolved.source:
        identity["source"] = resolved.source
    if marker.is_file() and json.loads(marker.read_text()) != identity:
        if not restart:
            raise RunMismatch(
                f"{run_dir} holds an unfinished run of {crawl_id} with other inputs or another config; "
                "rerun with the same ones, or pass --restart to discard it")
        _discard_run(st, cfg["run"]["dataset"], Path(run_dir))
    run_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(identity, indent=2))
    if resolved.index is not None:
        files = write_selection(spark, resolved.index, Path(run_dir) / SELECTION_DIR, RetryPolicy.from_options(cc))
    size = f"{sum(f.size for f in files):,} bytes" if all(f.size for f in files) else "sizes not known in advance"
    print(f"nightly {crawl_id}: {len(files)} input file(s), {size}"
          f"{' (selected records only)' if resolved.index is not None else ''}, store {st.root}",
          file=sys.stderr, flush=True)
    warning = no_pin_warning(st.dataset_dir(cfg["run"]["dataset"]), cfg["tokenize"])
    if warning:
        print(warning, file=sys.stderr, flush=True)
    ctx = RunContext(spark=spark, cfg=cfg, store=st, crawl_id=crawl_id, inputs=files, run_dir=Path(run_dir))
    _run_stages(ctx, allow_failed)
    return ctx.results


def _run_stages(ctx: RunContext, allow_failed: bool) -> None:
    for stage in STAGES:
        run_stage(ctx, stage)
        failed = ctx.results[stage.name].get("failed_files", 0) if stage.name == "extract" else 0
        if failed and not allow_failed:
            raise FailedFiles(
                f"{failed} WARC file(s) could not be read (listed in {ctx.stage_dir('extract') / 'failed_files.txt'}); "
                "the run stopped after extract: rerun with --only-failed to retry them, or --allow-failed to go on "
                "without them")
        survivors = {"extract": "kept", "filter": "kept", "dedup": "output"}.get(stage.name)
        if survivors and ctx.results[stage.name].get(survivors) == 0:
            counts = ctx.stage_dir(stage.name) / ("counts.json" if stage.name == "extract" else DONE)
            why = ("every document duplicates an earlier one or a published version" if stage.name == "dedup" else
                   "check that the input holds Japanese HTML responses, and the config's thresholds")
            raise NothingKept(f"the {stage.name} stage kept no document (see {counts}): nothing to publish, the run "
                              f"stopped after it; {why}")


def _retry_failed(spark: Any, cfg: config_mod.Config, st: Store, crawl_id: str, run_dir: Path, marker: Path,
                  allow_failed: bool) -> dict[str, dict[str, Any]]:
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
    ctx = RunContext(spark=spark, cfg=cfg, store=st, crawl_id=crawl_id, inputs=inputs, run_dir=run_dir)
    retried = retry_failed_stage(ctx)["retried"]
    if retried:
        for stage in STAGES[1:]:  # built on the incomplete extract output
            for folder in (run_dir / stage.name, run_dir / f"{stage.name}.partial"):
                shutil.rmtree(folder, ignore_errors=True)
    print(f"nightly {crawl_id}: retried {len(retried)} failed file(s)", file=sys.stderr, flush=True)
    _run_stages(ctx, allow_failed)
    return ctx.results
