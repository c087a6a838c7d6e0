"""A WARC file of 1.6 MB whose one gzip member inflates to 1 GiB goes through the whole nightly: the member is one
member_too_large row, every Japanese page of the file is kept, and no process of the run comes near the member's
size. The nightly runs as `jwc nightly` in a child process whose tree (driver, JVM, Python workers) is sampled with
psutil; the Python workers run under Spark's own memory bound (spark.executor.pyspark.memory = 3g, an address-space
limit); the peak RSS of the driver and every worker must stay under 1 GiB, where holding the member took 2.2 GB."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from jwc.pipeline.io.warc import iter_gzip_members
from jwc.pipeline.sample.generate import generate_sample
from tests.helpers import pin_toy_tokenizer, write_inflating_member

CRAWL = "BOMB-2026-01"
GIB = 1 << 30
WORKER_BOUND = "3g"  # spark.executor.pyspark.memory for the run


def _japanese_pages(truth: list[dict]) -> set[str]:
    return {t["warc_record_id"] for t in truth
            if t["lang"] == "ja" and t["status"] == 200 and t["kind"] not in ("revisit", "nonhtml")}


def build_bomb_warc(folder: Path, inflated: int = GIB) -> tuple[Path, list[dict], str]:
    """The bundled sample crawl with one extra member, `inflated` bytes once inflated, after its middle member.
    Returns (file, truth of the sample's records, the extra member's record id)."""
    sample = folder / "sample.warc.gz"
    generate_sample(str(sample), records=170, seed=7)
    truth = [json.loads(line) for line in (folder / "sample.truth.jsonl").read_text().splitlines()]
    data = sample.read_bytes()
    with open(sample, "rb") as fh:
        offsets = [offset for offset, _, _ in iter_gzip_members(fh, 64 << 20)]
    cut = offsets[len(offsets) // 2]
    path = folder / "bomb.warc.gz"
    with open(path, "wb") as fh:
        fh.write(data[:cut])
        bomb_id = write_inflating_member(fh, "https://example.jp/huge", inflated)
        fh.write(data[cut:])
    sample.unlink()
    return path, truth, bomb_id


def _role(root: psutil.Process, proc: psutil.Process) -> str | None:
    """driver (the `jwc` process), jvm, or worker (a PySpark Python worker or daemon)."""
    if proc.pid == root.pid:
        return "driver"
    if proc.name() == "java":
        return "jvm"
    return "worker" if "pyspark" in " ".join(proc.cmdline()) and "python" in proc.name() else None


def _sample_tree(root: psutil.Popen, peaks: dict[str, int]) -> None:
    """Peak resident memory by role of `root` and its descendants, every 50 ms until `root` has been reaped."""
    while root.returncode is None:
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        for proc in procs:
            try:
                role, rss = _role(root, proc), proc.memory_info().rss
            except psutil.Error:
                continue
            if role:
                peaks[role] = max(peaks[role], rss)
        time.sleep(0.05)


def run_measured(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess, dict[str, int]]:
    """Run `jwc ARGS` and sample its process tree until it ends: (result, peak RSS by role)."""
    jwc = str(Path(sys.executable).with_name("jwc"))
    proc = psutil.Popen([jwc, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peaks = {"driver": 0, "jvm": 0, "worker": 0}
    sampler = threading.Thread(target=_sample_tree, args=(proc, peaks), daemon=True)
    sampler.start()
    out, err = proc.communicate(timeout=900)
    sampler.join()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), peaks


def bounded_env() -> dict[str, str]:
    """The environment of a run whose Python workers Spark bounds to WORKER_BOUND of address space."""
    return {**os.environ, "PYSPARK_SUBMIT_ARGS": f"--conf spark.executor.pyspark.memory={WORKER_BOUND} pyspark-shell"}


def test_a_member_inflating_to_1_gib_costs_one_row(spark, tmp_path: Path) -> None:
    warc, truth, bomb_id = build_bomb_warc(tmp_path)
    assert 1_400_000 < warc.stat().st_size < 1_800_000
    store = tmp_path / "store"
    pin_toy_tokenizer(store)
    proc, peaks = run_measured(["nightly", "--crawl-id", CRAWL, "--input", str(warc), "--store", str(store)],
                               bounded_env())
    print("\npeak RSS MB: " + ", ".join(f"{k} {v / 2**20:.0f}" for k, v in peaks.items()))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "MemoryError" not in proc.stderr
    records = spark.read.parquet(str(store / "runs" / CRAWL / "extract" / "records"))
    (huge,) = records.where("outcome = 'member_too_large'").collect()
    assert (huge["warc_record_id"], huge["url"], huge["source_file"]) == (bomb_id, "https://example.jp/huge", str(warc))
    kept = {r[0] for r in records.where("outcome = 'kept'").select("warc_record_id").collect()}
    assert kept == _japanese_pages(truth) and len(kept) > 20
    counts = json.loads((store / "runs" / CRAWL / "extract" / "counts.json").read_text())
    assert counts["outcomes"]["member_too_large"] == 1 and counts["damage_by_file"] == {str(warc): 1}
    assert list((store / "datasets").glob("*/versions/v0001/manifest.json"))
    # Below the member's own inflated size: a reader that held the member whole (2.2 GB measured) cannot pass.
    assert 0 < peaks["worker"] < GIB and 0 < peaks["driver"] < GIB, peaks
