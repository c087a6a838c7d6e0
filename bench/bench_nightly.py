"""The whole nightly (every stage, extract to publish) on a generated crawl-like mix, at 1x and 4x input; prints JSON.

    python bench/bench_nightly.py [--sizes 2000,8000] [--ja-fraction 0.05] [--cores 2]
    python bench/bench_nightly.py --sizes 20000,200000     # the memory check: ~5 min on 2 cores (crawls cached)

Each size runs in a fresh driver process (after a warm-up run on a small crawl in that process), so the sizes start
from the same memory. For each: wall seconds, WARC records per second per core, seconds per stage, and the driver's
memory: peak RSS of the driver's Python process and of its JVM and peak used JVM heap, sampled every 0.2 s in a
thread, per stage, and the live heap (used after a full GC) when each stage ends and after the run. No stage brings
documents to the driver, so these must stay flat while the input grows. In local mode the executors live in the
driver JVM, so its RSS and heap also hold task buffers (a stage's end is seen when the next one has started, with
its tasks running), and with a large maximum heap the JVM collects late, so peaks follow the GC more than the data;
the live heap after the run is what the driver itself keeps. Python workers are separate processes and are not
counted in the memory, but they are in the CPU seconds: the same sampler charges the CPU time of the whole process
tree (driver Python, JVM, Python workers; bench.common.TreeCpu) to the stage running at each 0.2 s sample.
Then the scaling ratio (time at the largest size over time at the smallest) and, as the
baseline measured in the same run, the naive one-process loop of bench_extract.py (warcio -> trafilatura ->
fastText for every HTML response) over the smallest crawl.

Input: WARC files from ../shared/tools/make_warc_corpus.py, at least one per core and at most 20,000 response
records each (like a crawl's many files), cached by their arguments under the temp folder. Every run starts with a
fresh store, so it also trains the dataset's first tokenizer.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import math
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import TreeCpu, generated_crawl, save  # noqa: E402

MAX_RECORDS_PER_FILE = 20_000


class DriverMemory:
    """Peak RSS of this process and of its JVM, and the JVM's used heap, overall and per running stage."""

    def __init__(self, spark: Any, run_dir: Path) -> None:
        self.python = psutil.Process()
        self.jvm = next(p for p in self.python.children(recursive=True) if "java" in p.name())
        self.runtime = spark.sparkContext._jvm.java.lang.Runtime.getRuntime()
        self.run_dir = run_dir
        self.peak: dict[str, float] = {"python_rss_mb": 0.0, "jvm_rss_mb": 0.0, "jvm_heap_used_mb": 0.0}
        self.by_stage: dict[str, dict[str, float]] = {}
        self.live_after: dict[str, float] = {}  # stage -> used heap after a full GC when it ended
        self.cpu_by_stage: dict[str, float] = {}  # stage -> CPU seconds of the process tree while it ran
        self.cpu = TreeCpu()
        self._cpu = self.cpu.total()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _stage(self) -> str:
        running = sorted(p.name.removesuffix(".partial") for p in self.run_dir.glob("*.partial")) \
            if self.run_dir.is_dir() else []
        return running[0] if running else "between stages"

    def _live_heap_mb(self) -> float:
        self.runtime.gc()
        return (self.runtime.totalMemory() - self.runtime.freeMemory()) / 2**20

    def _add_cpu(self, label: str) -> None:
        """Charge the tree's CPU seconds since the last sample to the stage that was running then."""
        cpu = self.cpu.total()
        key = label or "between stages"
        self.cpu_by_stage[key] = self.cpu_by_stage.get(key, 0.0) + cpu - self._cpu
        self._cpu = cpu

    def _run(self) -> None:
        current = ""
        while not self._stop.is_set():
            label = self._stage()
            self._add_cpu(current)
            if label != current:
                if current not in ("", "between stages"):
                    self.live_after[current] = self._live_heap_mb()
                current = label
            sample = {"python_rss_mb": self.python.memory_info().rss / 2**20,
                      "jvm_rss_mb": self.jvm.memory_info().rss / 2**20,
                      "jvm_heap_used_mb": (self.runtime.totalMemory() - self.runtime.freeMemory()) / 2**20}
            stage = self.by_stage.setdefault(label, dict.fromkeys(sample, 0.0))
            for key, value in sample.items():
                self.peak[key] = max(self.peak[key], value)
                stage[key] = max(stage[key], value)
            self._stop.wait(0.2)
        self._add_cpu(current)

    def __enter__(self) -> "DriverMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.live_after["end"] = self._live_heap_mb()


def crawl_files(cache: Path, size: int, cores: int, ja_fraction: float) -> list[Path]:
    """`size` response records in at least `cores` files of at most MAX_RECORDS_PER_FILE."""
    files = max(cores, math.ceil(size / MAX_RECORDS_PER_FILE))
    return [generated_crawl(cache, size // files, 1000 * size + i, ja_fraction)[0] for i in range(files)]


def run_size(spark: Any, work: Path, config: Path, files: list[Path], size: int, cores: int) -> dict[str, Any]:
    from jwc.jobs.nightly import nightly

    crawl = f"BENCH-{size}"
    store = work / f"store-{size}"
    with DriverMemory(spark, store / "runs" / crawl) as memory:
        started = time.perf_counter()
        results = nightly(crawl, [str(f) for f in files], str(store), str(config))
        seconds = time.perf_counter() - started
    cpu = sum(memory.cpu_by_stage.values())
    stages = {}
    for stage in results:
        info = json.loads((store / "runs" / crawl / stage / "_STAGE.json").read_text())
        stages[stage] = round(info["seconds"], 1)
    warc_records = results["extract"]["records"]
    out = {"response_records": size, "files": len(files), "warc_records": warc_records,
           "input_bytes": sum(f.stat().st_size for f in files), "seconds": round(seconds, 1),
           "cpu_seconds": round(cpu, 1),
           "stage_cpu_seconds": {s: round(v, 1) for s, v in memory.cpu_by_stage.items()},
           "warc_records_per_s_per_core": round(warc_records / seconds / cores, 1),
           "japanese_documents": results["extract"]["kept"], "published_documents": results["publish"]["documents"],
           "tokens": results["publish"]["tokens"], "stage_seconds": stages,
           "driver_peak": {k: round(v, 1) for k, v in memory.peak.items()},
           "driver_peak_by_stage": {s: {k: round(v, 1) for k, v in p.items()} for s, p in memory.by_stage.items()},
           "driver_live_heap_mb_after_stage": {s: round(v, 1) for s, v in memory.live_after.items()},
           "driver_live_heap_mb_end": round(memory.live_after["end"], 1)}
    shutil.rmtree(store, ignore_errors=True)
    return out


def one_size(args: argparse.Namespace) -> dict[str, Any]:
    """This process: a warm-up run, then the measured run of one size."""
    cache = Path(args.cache)
    files = crawl_files(cache, args.single, args.cores, args.ja_fraction)
    return measure(files, args.single, args.cores, cache, args.ja_fraction)


def measure(files: list[Path], size: int, cores: int, cache: Path, ja_fraction: float, tokenizer: str = ""
            ) -> dict[str, Any]:
    """A warm-up nightly on a small crawl (JVM, workers, models), then the measured nightly on `files`; with
    `tokenizer` (a model file) every store starts with that tokenizer instead of training its first one."""
    from jwc.jobs.nightly import nightly
    from jwc.pipeline.spark import get_session

    warm = crawl_files(cache, 200, 1, ja_fraction)
    work = Path(tempfile.mkdtemp(prefix="jwc-bench-nightly-"))
    try:
        config = work / "bench.toml"
        # Without `tokenizer` it trains and pins the first tokenizer on each store's own shards, as a deliberate toy
        # (size checks off).
        given = f"tokenizer = {json.dumps(tokenizer)}\n" if tokenizer else ""
        config.write_text(f"[run]\nprogress_seconds = 0\n[tokenize]\non_no_pin = \"train\"\nallow_toy = true\n{given}")
        spark = get_session("bench-nightly", master=f"local[{cores}]")
        nightly("BENCH-WARMUP", [str(f) for f in warm], str(work / "store-warmup"), str(config))  # JVM, workers
        return run_size(spark, work, config, files, size, cores)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2000,8000", help="comma-separated response-record counts (1x,4x)")
    ap.add_argument("--ja-fraction", type=float, default=0.05, help="share of Japanese pages (0.05 ~ a real crawl)")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "jwc-bench-crawls"))
    ap.add_argument("--single", type=int, help=argparse.SUPPRESS)  # internal: measure one size in this process
    args = ap.parse_args(argv)
    if args.single:
        print(json.dumps(one_size(args)))
        return {}
    sizes = sorted(int(s) for s in args.sizes.split(","))
    inputs = {size: crawl_files(Path(args.cache), size, args.cores, args.ja_fraction) for size in sizes}
    runs = []
    for size in sizes:
        proc = subprocess.run([sys.executable, __file__, "--single", str(size), "--ja-fraction",
                               str(args.ja_fraction), "--cores", str(args.cores), "--cache", args.cache],
                              stdout=subprocess.PIPE, text=True, check=True)
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))

    from bench.bench_extract import baseline
    from jwc.pipeline.extract.langid import load_model

    load_model()
    started = time.perf_counter()
    base_records, _ = baseline(inputs[sizes[0]])
    base_seconds = time.perf_counter() - started
    base_rate = base_records / base_seconds
    first, last = runs[0], runs[-1]
    result = {
        "ja_fraction": args.ja_fraction, "cores": args.cores, "load_average_1m": round(os.getloadavg()[0], 1),
        "runs": runs,
        "baseline": {"what": "one process: warcio -> trafilatura -> fastText on every HTML response (bench_extract)",
                     "warc_records": base_records, "seconds": round(base_seconds, 1),
                     "warc_records_per_s_per_core": round(base_rate, 1)},
        "nightly_vs_baseline_per_core": round(first["warc_records_per_s_per_core"] / base_rate, 3),
        "input_ratio": round(last["response_records"] / first["response_records"], 2),
        "time_ratio": round(last["seconds"] / first["seconds"], 2),
        "driver_peak_ratio": {k: round(last["driver_peak"][k] / max(first["driver_peak"][k], 1e-9), 2)
                              for k in first["driver_peak"]},
        "driver_live_heap_end_ratio": round(last["driver_live_heap_mb_end"] / first["driver_live_heap_mb_end"], 2),
    }
    save("nightly", result)
    return result


if __name__ == "__main__":
    main()
