"""The stage contract of a nightly run.

A stage reads earlier stages' outputs from the run folder and writes its own folder. It writes into
`<stage>.partial/`, which is renamed to `<stage>/` with a `_STAGE.json` (counts, timings, config digest) only when
the output is whole; a rerun skips stages whose `_STAGE.json` is there, so a crash costs at most the unfinished stage.
A resumable stage (extract) is handed its `.partial/` folder as the interrupted attempt left it and redoes only
what is not marked finished there; the run's identity check (jobs/nightly.py) has already made sure the inputs and
config are the same.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pyspark.sql import SparkSession

from jwc.pipeline.config import Config
from jwc.pipeline.io.inputs import InputFile
from jwc.pipeline.io.atomic import atomic_write_json
from jwc.pipeline.io.crash import die_at
from jwc.pipeline.io.lock import StoreLock
from jwc.pipeline.io.store import Store, now_utc
from jwc.pipeline.spark import size_shuffle
from jwc.pipeline.versions.ids import RunVersion, run_version

DONE = "_STAGE.json"


@dataclass
class RunContext:
    """What every stage of one run may use."""

    spark: SparkSession
    cfg: Config
    store: Store
    crawl_id: str
    inputs: list[InputFile]
    run_dir: Path
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    break_lock: bool = False  # --break-lock: take the dataset's lock whatever its state

    def stage_dir(self, name: str) -> Path:
        return self.run_dir / name

    def version(self) -> RunVersion:
        """The version this run publishes: allocated by the first stage that asks (dedup), read back after."""
        return run_version(self.store.dataset_dir(self.cfg["run"]["dataset"]), self.run_dir, self.crawl_id)

    def dataset_lock(self, purpose: str) -> StoreLock:
        """The dataset's lock, taken: waits up to [store] publish_wait_seconds for another holder, then refuses."""
        params = self.cfg["store"]
        lock = self.store.dataset_lock(self.cfg["run"]["dataset"], f"jwc nightly {self.crawl_id}: {purpose}", params)
        return lock.acquire(params["publish_wait_seconds"], self.break_lock)


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[RunContext, Path], dict[str, Any]]  # (context, output folder) -> counts
    doc: str
    resumable: bool = False  # `run` reuses what an interrupted attempt left in the output folder (and checks it)


def run_stage(ctx: RunContext, stage: Stage) -> dict[str, Any]:
    """Run a stage unless its finished output is already there; returns its counts."""
    final = ctx.stage_dir(stage.name)
    done = final / DONE
    if done.is_file():
        info = json.loads(done.read_text())
        print(f"[{stage.name}] already complete ({info['seconds']:.1f}s earlier run), skipped", file=sys.stderr)
        ctx.results[stage.name] = info["counts"]
        return info["counts"]
    partial = ctx.run_dir / f"{stage.name}.partial"
    if final.exists():  # a rename that happened without its marker: redo (a resumable stage reuses it)
        if stage.resumable and not partial.exists():
            os.replace(final, partial)
        else:
            shutil.rmtree(final)
    if partial.exists() and not stage.resumable:
        shutil.rmtree(partial)
    resuming = partial.exists()
    partial.mkdir(parents=True, exist_ok=True)
    size_shuffle(ctx.spark)  # executors that registered since the last stage count
    print(f"[{stage.name}] {'resumed' if resuming else 'started'}: {stage.doc}", file=sys.stderr, flush=True)
    started = time.time()
    counts = stage.run(ctx, partial)
    seconds = time.time() - started
    # Crash-test points (JWC_TEST_DIE_AT): output whole but not renamed; renamed but not marked done.
    die_at(f"stage:{stage.name}:before-rename")
    os.replace(partial, final)
    die_at(f"stage:{stage.name}:after-rename")
    info = {"stage": stage.name, "counts": counts, "seconds": seconds, "config_digest": ctx.cfg.digest(),
            "finished": now_utc()}
    atomic_write_json(done, info)
    print(f"[{stage.name}] done in {seconds:.1f}s: {_summary(counts)}", file=sys.stderr, flush=True)
    ctx.results[stage.name] = counts
    return counts


def finished_stages(run_dir: Path) -> dict[str, dict[str, Any]]:
    """Name -> `_STAGE.json` record (counts, seconds, config digest) of every finished stage of a run."""
    infos = {}
    for marker in sorted(run_dir.glob(f"*/{DONE}")):
        info = json.loads(marker.read_text())
        infos[info.get("stage", marker.parent.name)] = info
    return infos


def _summary(counts: dict[str, Any]) -> str:
    flat = {k: v for k, v in counts.items() if isinstance(v, (int, float)) and v}
    return ", ".join(f"{k}={v:,}" if isinstance(v, int) else f"{k}={v:.3g}" for k, v in flat.items())
