"""Crash safety of the whole nightly: the driver is SIGKILLed inside each stage in turn, always in the same store;
each rerun finishes what the killed run had finished without redoing it, and the last one publishes the version an
uninterrupted run publishes.

Also the shared helpers of the other whole-run tests (test_cluster, test_offline): `jwc nightly` in a subprocess
(its own process group, so the JVM dies with it), the one uninterrupted reference run of the session, and the
comparable content of a published version.
"""
from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from jwc.jobs.nightly import STAGES
from jwc.pipeline.sample.generate import generate_sample
from tests.conftest import REPO

CRAWL = "SAMPLE-2026-48"
RECORDS = 120
DATASET = "ja-web"
DONE = "_STAGE.json"
# Files of a version that record when and how long its run took (stage seconds, creation times); they differ
# between any two runs, so "the same version" means every other file: shards, tokens, the other statistics tables.
RUN_DEPENDENT = {"stats/stages.parquet", "stats/summary.json", "stats/filter_seconds.parquet", "report.html"}
RUN_TIMEOUT = 900  # seconds for one nightly of the small sample on a loaded machine


def nightly_command(store: Path, warc: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "jwc.jobs.cli", "nightly", "--crawl-id", CRAWL, "--input", str(warc),
            "--store", str(store), *extra]


def spawn(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start a command in its own process group with the repo importable; stdout/stderr are piped."""
    full_env = {k: v for k, v in os.environ.items() if k != "JWC_TEST_DIE_AT"}
    full_env.update({"PYTHONPATH": str(REPO), "JWC_SPARK_LOG_LEVEL": "ERROR", **(env or {})})
    return subprocess.Popen(cmd, cwd=REPO, env=full_env, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: float = RUN_TIMEOUT,
           stop_when: Callable[[], bool] | None = None) -> tuple[int, str]:
    """Wait for the process (or SIGKILL its group as soon as `stop_when()` holds); (exit code, stderr).
    The group is killed in any case, so no JVM outlives its driver."""
    try:
        if stop_when is not None:
            deadline = time.monotonic() + timeout
            while proc.poll() is None and not stop_when():
                assert time.monotonic() < deadline, "the awaited point was never reached"
                time.sleep(0.05)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=timeout)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if proc.poll() is None:
            proc.communicate()
    return proc.returncode, err


def run_nightly(store: Path, warc: Path, *extra: str, env: dict[str, str] | None = None,
                wrap: tuple[str, ...] = ()) -> tuple[int, str]:
    """`jwc nightly` of the sample crawl in a subprocess (`wrap` goes before the command, e.g. unshare)."""
    return finish(spawn([*wrap, *nightly_command(store, warc, *extra)], env))


@functools.cache
def sample_warc(base: Path) -> Path:
    """The bundled sample crawl, small (`jwc sample --records 120`), written once per session."""
    path = base / "hardening-sample" / "sample.warc.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    generate_sample(str(path), records=RECORDS, seed=0)
    return path


@functools.cache
def reference_run(base: Path) -> Path:
    """The store of one uninterrupted local-mode `jwc nightly` of the sample, made once per session."""
    store = base / "hardening-reference" / "store"
    code, err = run_nightly(store, sample_warc(base))
    assert code == 0, err[-4000:]
    return store


def published(store: Path) -> list[str]:
    versions = store / "datasets" / DATASET / "versions"
    return sorted(p.name for p in versions.iterdir()) if versions.is_dir() else []


def manifest(store: Path, version: str = "v0001") -> dict[str, Any]:
    return json.loads((store / "datasets" / DATASET / "versions" / version / "manifest.json").read_text())


def data_totals(store: Path) -> dict[str, int]:
    """The manifest's totals without `bytes` (which counts the run-dependent files too)."""
    return {k: v for k, v in manifest(store)["totals"].items() if k != "bytes"}


def version_content(store: Path) -> dict[str, str]:
    """sha256 of every file of the published v0001 that does not record run times (those must exist)."""
    files = {f["path"]: f["sha256"] for f in manifest(store)["files"]}
    assert RUN_DEPENDENT <= set(files)
    return {p: h for p, h in files.items() if p not in RUN_DEPENDENT}


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
