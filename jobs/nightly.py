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

from jobs.extract import extract_stage
from jobs.filter import filter_stage, validate_chain
from jobs.stages import RunContext, Stage, run_stage
from pipeline import config as config_mod
from pipeline.errors import UserError
from pipeline.inputs import resolve_inputs
from pipeline.spark import get_session
from pipeline.store import Store

STAGES: tuple[Stage, ...] = (
    Stage("extract", extract_stage, "WARC records -> Japanese documents"),
    Stage("filter", filter_stage, "clean, measure, decide and mask every document"),
)


class RunMismatch(UserError):
    """The run folder holds a run with other inputs or another config."""


def _identity(ctx_inputs: list, cfg_digest: str) -> dict[str, Any]:
    return {"config_digest": cfg_digest, "inputs": [[f.path, f.size] for f in ctx_inputs]}


def nightly(crawl_id: str, inputs: list[str], store: str, config_path: str | None = None,
            master: str | None = None, restart: bool = False) -> dict[str, dict[str, Any]]:
    """Run every stage for one crawl; returns each stage's counts."""
    cfg = config_mod.load(config_path)
    validate_chain(cfg)  # filter options (word lists, models) are checked before any work
    st = Store.open(store)
    run_dir = st.run_dir(crawl_id)
    spark = get_session("jwc-nightly", master=master or cfg["spark"]["master"] or None, ui=cfg["spark"]["ui"],
                        shuffle_partitions=cfg["spark"]["shuffle_partitions"] or None)
    files = resolve_inputs(spark, inputs)
    identity = _identity(files, cfg.digest())
    marker = run_dir / "run.json"
    if marker.is_file() and json.loads(marker.read_text()) != identity:
        if not restart:
            raise RunMismatch(
                f"{run_dir} holds an unfinished run of {crawl_id} with other inputs or another config; "
                "rerun with the same ones, or pass --restart to discard it")
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(identity, indent=2))
    print(f"nightly {crawl_id}: {len(files)} input file(s), {sum(f.size for f in files):,} bytes, "
          f"store {st.root}", file=sys.stderr, flush=True)
    ctx = RunContext(spark=spark, cfg=cfg, store=st, crawl_id=crawl_id, inputs=files, run_dir=Path(run_dir))
    for stage in STAGES:
        run_stage(ctx, stage)
    return ctx.results
