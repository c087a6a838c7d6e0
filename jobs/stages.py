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
from jwc.pipeline.io.store import Store
from jwc.pipeline.spark import size_shuffle
from jwc.pipeline.versions import die_at

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

    def stage_dir(self, name: str) -> Path:
        return self.run_dir / name


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
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    tmp = final / f".{DONE}.tmp"
    tmp.write_text(json.dumps(info, indent=2, sort_keys=True))
    os.replace(tmp, done)
    print(f"[{stage.name}] done in {seconds:.1f}s: {_summary(counts)}", file=sys.stderr, flush=True)
    ctx.results[stage.name] = counts
    return counts


def _summary(counts: dict[str, Any]) -> str:
    flat = {k: v for k, v in counts.items() if isinstance(v, (int, float)) and v}
    return ", ".join(f"{k}={v:,}" if isinstance(v, int) else f"{k}={v:.3g}" for k, v in flat.items())
