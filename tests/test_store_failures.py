"""The store on a read-only or full file system, through the `jwc` command in a mount namespace of its own
(`unshare -m`: a read-only bind mount, a tiny tmpfs): one error line and exit code 2, never a traceback, and a
published crawl can be rerun on a read-only store. Skipped where mount namespaces are not available."""
from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jwc.jobs.nightly import nightly
from jwc.pipeline.sample.generate import generate_sample
from tests.helpers import pin_toy_tokenizer

CRAWL = "STORE-2026-01"
JWC = str(Path(sys.executable).with_name("jwc"))


def _namespaced(script: str) -> subprocess.CompletedProcess:
    """Run a shell script in a new mount namespace: its mounts vanish with it."""
    return subprocess.run(["unshare", "-m", "sh", "-euc", script], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def mounts_work(tmp_path_factory) -> None:
    probe = tmp_path_factory.mktemp("probe")
    if shutil.which("unshare") is None or _namespaced(f"mount -t tmpfs -o size=1m tmpfs {probe}").returncode:
        pytest.skip("cannot mount in a private mount namespace here (needs unshare -m and CAP_SYS_ADMIN)")


@pytest.fixture(scope="module")
def published(spark, tmp_path_factory) -> tuple[Path, Path]:
    """A store with one published crawl, and its input."""
    tmp = tmp_path_factory.mktemp("published")
    warc = tmp / "in.warc.gz"
    generate_sample(str(warc), records=60, seed=1)
    store = tmp / "store"
    pin_toy_tokenizer(store)
    nightly(CRAWL, [str(warc)], str(store))
    return store, warc


def _nightly(crawl: str, warc: Path, store: Path) -> str:
    return " ".join(shlex.quote(a) for a in [JWC, "nightly", "--crawl-id", crawl, "--input", str(warc),
                                                  "--store", str(store)])


def _error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return [line for line in proc.stderr.splitlines() if line.startswith("jwc nightly: error:")]


def _read_only(folder: Path) -> str:
    return f"mount --bind {folder} {folder}; mount -o remount,bind,ro {folder}; "


def test_published_crawl_reruns_on_a_read_only_store(mounts_work, published) -> None:
    """Every stage is skipped and nothing is written (run.json was rewritten once), so the rerun succeeds."""
    store, warc = published
    marker = store / "runs" / CRAWL / "run.json"
    before = marker.stat().st_mtime_ns
    proc = _namespaced(_read_only(store) + _nightly(CRAWL, warc, store))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "[publish] already complete" in proc.stderr and _error_lines(proc) == []
    assert marker.stat().st_mtime_ns == before


def test_new_run_on_a_read_only_store_is_refused_before_work(mounts_work, published) -> None:
    store, warc = published
    proc = _namespaced(_read_only(store) + _nightly("OTHER-2026-02", warc, store))
    (line,) = _error_lines(proc)
    assert proc.returncode == 2 and "cannot write to the store" in line and "Read-only file system" in line, line
    assert "[extract] started" not in proc.stderr
    assert not (store / "runs" / "OTHER-2026-02").exists()


def test_new_store_in_a_read_only_folder_is_one_line(mounts_work, published, tmp_path) -> None:
    _, warc = published
    proc = _namespaced(_read_only(tmp_path) + _nightly(CRAWL, warc, tmp_path / "store"))
    (line,) = _error_lines(proc)
    assert proc.returncode == 2 and "Read-only file system" in line and str(tmp_path / "store") in line, line


def test_disk_full_during_dedup_is_one_line(mounts_work, published, tmp_path) -> None:
    """A store on a 16 MiB tmpfs holding a run whose extract and filter stages are done; the disk is then filled,
    so the dedup stage's Spark write fails: one line naming the full disk, exit 2, the finished stages kept."""
    store, warc = published
    disk = tmp_path / "disk"
    disk.mkdir()
    small = disk / "store"
    run = f"{small}/runs/{CRAWL}"
    script = (f"mount -t tmpfs -o size=16m tmpfs {disk}; mkdir -p {run}; "
              f"cp {store}/jwc-store.json {small}/; cp -r {store}/runs/{CRAWL}/run.json "
              f"{store}/runs/{CRAWL}/extract {store}/runs/{CRAWL}/filter {run}/; "
              f"dd if=/dev/zero of={disk}/filler bs=64k 2>/dev/null || true; "
              + _nightly(CRAWL, warc, small) + f" || code=$?; ls {run} >&2; exit ${{code:-0}}")  # ls: what is kept
    proc = _namespaced(script)
    (line,) = _error_lines(proc)
    assert proc.returncode == 2 and "No space left on device" in line and "free space" in line, line
    # the full disk is met at the first write (the run's lock file, or dedup's output); finished stages stay
    assert {"extract", "filter", "run.json"} <= set(proc.stderr.splitlines())  # `ls` of the run folder
