"""Helpers shared by the benchmarks: locating ../shared, generating crawls, timing, JSON results."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
RESULTS = REPO / "bench" / "results"


def generated_crawl(out_dir: Path, records: int, seed: int, ja_fraction: float) -> tuple[Path, Path]:
    """A Common-Crawl-like WARC from ../shared/tools/make_warc_corpus.py (cached by its arguments)."""
    tool = SHARED / "tools" / "make_warc_corpus.py"
    if not tool.exists():
        sys.exit(f"benchmark needs {tool} (the shared folder beside the checkout)")
    warc = out_dir / f"crawl-{records}-{seed}-{ja_fraction}.warc.gz"
    truth = warc.with_suffix("").with_suffix(".truth.jsonl")
    if not warc.exists():
        out_dir.mkdir(parents=True, exist_ok=True)
        data = SHARED / "data"
        subprocess.run([sys.executable, str(tool), "--text", str(data / "ja_text_wikinews"), "--text",
                        str(data / "ja_text_ud_gsd"), "--records", str(records), "--seed", str(seed),
                        "--ja-fraction", str(ja_fraction), "--out", str(warc), "--truth", str(truth)],
                       check=True, capture_output=True)
    return warc, truth


def tree_cpu_seconds() -> float:
    """CPU seconds used so far by this process and all its descendants (Spark's JVM and Python workers included).

    On a shared machine wall time per core says more about the neighbours than about the code; CPU seconds of the
    whole process tree do not.
    """
    import psutil

    me = psutil.Process()
    total = 0.0
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


class TreeCpu:
    """CPU seconds of this process and every descendant seen so far, counted per process and kept after it exits.

    Summing a live tree's `children_*` times loses a process that exits unreaped or whose parent is gone (Spark's
    Python daemon and workers when their JVM stops them), so the total could go down; this total does not. It
    misses only what a process used after the last sample before it exited, so sample often (every 0.2 s).
    """

    def __init__(self) -> None:
        import psutil

        self.me = psutil.Process()
        self.seen: dict[tuple[int, float], float] = {}  # (pid, start time) -> its own user + system seconds

    def total(self) -> float:
        import psutil

        for proc in [self.me, *self.me.children(recursive=True)]:
            try:
                t = proc.cpu_times()
                self.seen[(proc.pid, proc.create_time())] = t.user + t.system
            except psutil.Error:
                continue
        return sum(self.seen.values())


@contextmanager
def timed() -> Iterator[dict[str, float]]:
    """Wall seconds and CPU seconds of the whole process tree spent in the block."""
    out: dict[str, float] = {}
    start = time.perf_counter()
    cpu = tree_cpu_seconds()
    yield out
    out["seconds"] = time.perf_counter() - start
    out["cpu_seconds"] = tree_cpu_seconds() - cpu


def save(name: str, result: dict) -> None:
    """Print the result and write it to bench/results/<name>.json for comparisons between runs."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {"benchmark": name, "cores": os.cpu_count(), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                             time.gmtime()), **result}
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps(result, indent=2, ensure_ascii=False))
