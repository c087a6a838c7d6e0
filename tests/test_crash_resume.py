"""Crash safety of the whole nightly: the driver is SIGKILLed inside each stage in turn, always in the same store;
each rerun finishes what the killed run had finished without redoing it, and the last one publishes the version an
uninterrupted run publishes (`jwc nightly` in a subprocess and the reference run: tests/helpers.py).
"""
from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path

import pytest

from jwc.jobs.nightly import STAGES
from jwc.jobs.stages import DONE
from jwc.pipeline.sample.generate import generate_sample
from tests.helpers import (CRAWL, data_totals, finish, manifest, nightly_command, published, reference_run,
                           run_nightly, sample_warc, spawn, version_content)


# Where each run is killed, in stage order. "mid-write" kills the process group while Spark writes the stage's
# output; the others are JWC_TEST_DIE_AT points (jobs/stages.py run_stage, jobs/publish.py).
KILLS: tuple[tuple[str, str], ...] = (
    ("extract", "mid-write"),
    ("filter", "stage:filter:before-rename"),
    ("dedup", "stage:dedup:before-rename"),
    ("shards", "stage:shards:after-rename"),
    ("tokenize", "tokenize:written"),
    ("stats", "stage:stats:before-rename"),
    ("report", "stage:report:after-rename"),
    ("publish", "publish:manifest"),
    ("publish", "stage:publish:before-rename"),
)


def _markers(run_dir: Path) -> dict[str, tuple[bytes, int]]:
    """Each finished stage's _STAGE.json: its bytes and modification time."""
    out = {}
    for stage in STAGES:
        marker = run_dir / stage.name / DONE
        if marker.is_file():
            out[stage.name] = (marker.read_bytes(), marker.stat().st_mtime_ns)
    return out


@pytest.mark.slow
def test_killed_in_every_stage_then_resumed_publishes_the_same_version(tmp_path_factory) -> None:
    base = tmp_path_factory.getbasetemp()
    warc = sample_warc(base)
    reference = reference_run(base)
    store = tmp_path_factory.mktemp("crash") / "store"
    run_dir = store / "runs" / CRAWL
    order = [s.name for s in STAGES]
    finished: dict[str, tuple[bytes, int]] = {}  # stage -> its marker when first seen; must never change
    for stage, point in KILLS:
        started = time.monotonic()
        if point == "mid-write":  # a task has started writing the stage's records
            proc = spawn(nightly_command(store, warc))
            code, err = finish(proc, stop_when=lambda: any((run_dir / f"{stage}.partial" / "records").glob("*")))
        else:
            code, err = run_nightly(store, warc, env={"JWC_TEST_DIE_AT": point})
        assert code == -signal.SIGKILL, f"{point}: exit {code}\n{err[-3000:]}"
        print(f"killed in {stage} at {point} after {time.monotonic() - started:.0f}s", file=sys.stderr)
        markers = _markers(run_dir)
        assert sorted(markers, key=order.index) == order[:order.index(stage)], point  # exactly the earlier stages
        for name, marker in finished.items():
            assert markers[name] == marker, f"{name} was redone by the run killed at {point}"
        finished.update(markers)
        if point.endswith("after-rename"):  # renamed, not marked: the rerun must redo it
            assert (run_dir / stage).is_dir() and not (run_dir / f"{stage}.partial").exists()
        else:
            assert (run_dir / f"{stage}.partial").is_dir() and not (run_dir / stage).exists()
        # Nothing is visible before publish renames the version; after that it is there exactly once.
        assert published(store) == (["v0001"] if point == "stage:publish:before-rename" else [])

    code, err = run_nightly(store, warc)
    assert code == 0, err[-4000:]
    markers = _markers(run_dir)
    assert sorted(markers) == sorted(order)
    assert {name: markers[name] for name in finished} == finished  # no finished stage was redone
    assert published(store) == ["v0001"]
    assert version_content(store) == version_content(reference)
    ours, theirs = manifest(store), manifest(reference)
    assert ours["content_digest"] == theirs["content_digest"] and data_totals(store) == data_totals(reference)
    assert ours["counts"] == theirs["counts"]
    assert ours["tokenizer"] == theirs["tokenizer"] and ours["config_digest"] == theirs["config_digest"]


def _finished_parts(extract_dir: Path) -> dict[str, tuple[bytes, int, int]]:
    """Each completion marker of an extract folder: its bytes, its mtime and its part's mtime."""
    out = {}
    for marker in sorted((extract_dir / "_files").glob("*.json")):
        info = json.loads(marker.read_text())
        part = extract_dir / "records" / info["part"]
        out[info["path"]] = (marker.read_bytes(), marker.stat().st_mtime_ns, part.stat().st_mtime_ns)
    return out


@pytest.mark.slow
def test_killed_during_extract_redoes_only_the_unfinished_files(tmp_path_factory) -> None:
    """SIGKILL while a 6-file extract is half done: the rerun reads only the files without a completion marker,
    leaves the finished parts untouched, and publishes what an uninterrupted run publishes."""
    base = tmp_path_factory.mktemp("resume-files")
    inputs = base / "in"
    inputs.mkdir()
    for seed in range(6):
        generate_sample(str(inputs / f"part-{seed}.warc.gz"), records=400, seed=100 + seed)
    reference, store = base / "reference", base / "store"
    warcs = inputs / "*.warc.gz"
    code, err = finish(spawn(nightly_command(reference, warcs)))
    assert code == 0, err[-4000:]
    partial = store / "runs" / CRAWL / "extract.partial"
    code, err = finish(spawn(nightly_command(store, warcs)),
                       stop_when=lambda: len(list((partial / "_files").glob("*.json"))) >= 2)
    assert code == -signal.SIGKILL, err[-3000:]
    before = _finished_parts(partial)
    assert 2 <= len(before) < 6, f"{len(before)} files were finished at the kill; the test needs a partial stage"

    code, err = finish(spawn(nightly_command(store, warcs)))
    assert code == 0, err[-4000:]
    left = 6 - len(before)
    assert f"[extract] resuming: {len(before)} of 6 file(s) already extracted, reading the other {left}" in err
    after = _finished_parts(store / "runs" / CRAWL / "extract")
    assert len(after) == 6
    assert {p: after[p] for p in before} == before  # finished files were not read or written again
    redone = [p for p in after if p not in before]
    assert len(redone) == left
    assert published(store) == ["v0001"]
    assert manifest(store)["content_digest"] == manifest(reference)["content_digest"]
    assert version_content(store) == version_content(reference)
    assert manifest(store)["counts"]["extract"] == manifest(reference)["counts"]["extract"]
