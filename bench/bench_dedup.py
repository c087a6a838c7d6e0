"""Benchmark of the near-dedup stage; prints JSON.

    python bench/bench_dedup.py [--sizes 20000,200000] [--datasketch-docs 40]

1. Signatures per second per core on 2,000-character Japanese documents: our vectorised MinHash against datasketch's
   MinHash with one `update` per shingle (same texts, same num_perm, same process), plus the same pipeline with a
   prime modulus `(a*h + b) mod (2**32 - 5)` to show what the multiply-add-shift family saves.
2. End-to-end `run_dedup` in local[2] for each size, with the driver's peak memory (RSS of the driver Python and
   JVM processes and the JVM's used heap, sampled every 0.2 s) and the heap still used after a full GC once the run
   is over: nothing data-sized reaches the driver, so these must stay flat as the input grows. In local mode the
   JVM is also the executor, so its peak heap includes executor buffers (the heap is capped at 2 GiB here).
3. For each size, the same corpus again as two nightly increments (split by date, the older half published into an
   index first): the time of each, and the number of kept doc_ids that differ from the one-batch run (must be 0).

Documents are mixtures of 20 random sentences of the shared Wikinews articles (unique, like a crawl) and 10% of
them get a near copy (a few sentences replaced or dropped). Needs ../shared/data beside the checkout.
"""
from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))

import numpy as np  # noqa: E402
import psutil  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from datasketch import MinHash  # noqa: E402

from jwc.pipeline.dedup import minhash as mh  # noqa: E402

WIKINEWS = REPO.parent / "shared" / "data" / "ja_text_wikinews" / "articles-a.tsv.gz"
_MECAB_SPACE = re.compile(r"(?<=[^\x00-\x7f]) +|(?<=[\x00-\x7f]) +(?=[^\x00-\x7f])")


def sentences() -> list[str]:
    """Wikinews sentences with the MeCab word spaces removed (kept only between two ASCII characters)."""
    out = []
    with gzip.open(WIKINEWS, "rt", encoding="utf-8") as stream:
        next(stream)
        for line in stream:
            article = _MECAB_SPACE.sub("", line.split("\t")[1])
            out.extend(s + "。" for s in article.split("。") if len(s) > 10)
    return out


def documents(pool: list[str], count: int, chars: int | None, rng: random.Random) -> list[str]:
    """Mixtures of 20 random sentences (cut or padded to `chars` when given)."""
    docs = []
    for _ in range(count):
        text = "".join(rng.choice(pool) for _ in range(20))
        if chars:
            while len(text) < chars:
                text += rng.choice(pool)
            text = text[:chars]
        docs.append(text)
    return docs


def prime_modulus_signatures(texts: list[str], num_perm: int, seed: int) -> np.ndarray:
    """The textbook (a*h + b) mod p with p = 2**32 - 5 (all in uint64 without overflow), same blocking."""
    p = np.uint64(2**32 - 5)
    a, b, _ = mh._coefficients(num_perm, seed)
    a, b = a % p, b % p
    hashes, counts = mh.shingle_hashes(texts, 5, seed)
    ends = np.cumsum(counts)
    out = np.empty((len(texts), num_perm), dtype=np.uint64)
    for i, (end, count) in enumerate(zip(ends, counts)):
        group = hashes[end - count: end]
        for q in range(0, num_perm, 32):
            values = a[q: q + 32, None] * group[None, :]
            values += b[q: q + 32, None]
            values %= p
            out[i, q: q + 32] = values.min(axis=1)
    return out


def bench_signatures(pool: list[str], num_perm: int, ds_docs: int) -> dict:
    rng = random.Random(1)
    texts = [mh.normalize(t) for t in documents(pool, 512, 2000, rng)]
    mh.signatures(texts[:8], num_perm, normalized=True)
    started = time.process_time()
    mh.signatures(texts, num_perm, normalized=True)
    ours = len(texts) / (time.process_time() - started)
    raw = documents(pool, 512, 2000, rng)
    started = time.process_time()
    mh.signatures(raw, num_perm)
    ours_with_normalize = len(raw) / (time.process_time() - started)
    started = time.process_time()
    prime_modulus_signatures(texts[:128], num_perm, 1)
    prime = 128 / (time.process_time() - started)
    started = time.process_time()
    for text in texts[:ds_docs]:
        sketch = MinHash(num_perm=num_perm, seed=1)
        for i in range(len(text) - 4):
            sketch.update(text[i: i + 5].encode("utf-8"))
    datasketch = ds_docs / (time.process_time() - started)
    return {
        "chars_per_doc": 2000, "num_perm": num_perm,
        "ours_docs_per_s_per_core": round(ours, 1),
        "ours_with_normalize_docs_per_s_per_core": round(ours_with_normalize, 1),
        "prime_modulus_docs_per_s_per_core": round(prime, 1),
        "datasketch_update_docs_per_s_per_core": round(datasketch, 2),
        "speedup_vs_datasketch": round(ours / datasketch, 1),
        "speedup_with_normalize_vs_datasketch": round(ours_with_normalize / datasketch, 1),
    }


def write_corpus(count: int, path: Path, seed: int) -> None:
    """`count` documents, 10% of them near copies of earlier ones, in 8 Parquet files. Runs in a child process so
    the driver's memory measured afterwards holds no corpus."""
    pool = sentences()
    rng = random.Random(seed)
    originals = int(count / 1.1)
    texts = documents(pool, originals, None, rng)
    for _ in range(count - originals):
        sentences_ = re.findall(r"[^。]*。", texts[rng.randrange(originals)])
        for _ in range(rng.randint(0, 2)):
            sentences_[rng.randrange(len(sentences_))] = rng.choice(pool)
        texts.append("".join(sentences_[: len(sentences_) - rng.randint(0, 1)]))
    order = list(range(count))
    rng.shuffle(order)
    path.mkdir(parents=True)
    for part, chunk in enumerate(np.array_split(np.array(order), 8)):
        table = pa.table({
            "doc_id": [f"doc-{i:08d}" for i in chunk],
            "text": [texts[i] for i in chunk],
            "url": [f"https://site{i % 997}.example.jp/p/{i}" for i in chunk],
            "host": [f"site{i % 997}.example.jp" for i in chunk],
            "warc_date": [f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00Z" for i in chunk],
            "crawl_id": ["CC-BENCH"] * len(chunk),
        })
        pq.write_table(table, path / f"part-{part}.parquet")


class PeakMemory:
    """Samples RSS of this process and of the driver JVM, and the JVM's used heap, in a thread."""

    def __init__(self, spark) -> None:
        self.python = psutil.Process()
        self.jvm = next(p for p in self.python.children() if "java" in p.name())
        self.runtime = spark.sparkContext._jvm.java.lang.Runtime.getRuntime()
        self.peak = {"python_rss_mb": 0.0, "jvm_rss_mb": 0.0, "jvm_heap_used_mb": 0.0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            sample = {
                "python_rss_mb": self.python.memory_info().rss / 2**20,
                "jvm_rss_mb": self.jvm.memory_info().rss / 2**20,
                "jvm_heap_used_mb": (self.runtime.totalMemory() - self.runtime.freeMemory()) / 2**20,
            }
            self.peak = {k: max(v, sample[k]) for k, v in self.peak.items()}
            self._stop.wait(0.2)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def write_corpus_in_child(count: int, path: Path, seed: int) -> None:
    child = multiprocessing.get_context("spawn").Process(target=write_corpus, args=(count, path, seed))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"writing the {count}-document corpus failed")


def retained_heap_mb(spark) -> float:
    """Used JVM heap after full GCs: what the driver JVM still holds once the run is over. System.gc() is only a
    request, so it is made three times, a moment apart, and the smallest reading counts."""
    jvm = spark.sparkContext._jvm
    runtime = jvm.java.lang.Runtime.getRuntime()
    readings = []
    for _ in range(3):
        jvm.java.lang.System.gc()
        time.sleep(0.5)
        readings.append((runtime.totalMemory() - runtime.freeMemory()) / 2**20)
    return min(readings)


def bench_increments(spark, docs: Path, batch_out: Path, root: Path) -> dict:
    """The same corpus as two nightly increments split by date, the older half published into a fresh index
    before the newer half runs: seconds of each run and of each index append, and how many kept doc_ids differ
    from the one-batch run (counted in Spark; must be 0)."""
    from pyspark.sql import functions as F

    from jwc.jobs.dedup import run_dedup
    from jwc.pipeline.dedup.index import add_to_index

    frame = spark.read.parquet(str(docs))
    index = str(root / "index")
    result: dict = {}
    for name, part in (("older", frame.where(F.col("warc_date") < "2024-07")),
                       ("newer", frame.where(F.col("warc_date") >= "2024-07"))):
        part.write.parquet(str(root / name))
        started = time.perf_counter()
        counts = run_dedup(spark, str(root / name), str(root / f"{name}_out"), {}, index, name)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        add_to_index(spark, spark.read.parquet(str(root / f"{name}_out" / "signatures")), index, name)
        result[name] = {"seconds": round(seconds, 1), "index_append_seconds": round(time.perf_counter() - started, 1),
                        "counts": counts}
    once = spark.read.parquet(str(batch_out / "documents")).select("doc_id")
    increments = spark.read.parquet(*[str(root / f"{name}_out" / "documents") for name in ("older", "newer")])
    increments = increments.select("doc_id")
    result["kept_doc_ids_differing_from_one_batch"] = once.exceptAll(increments).count() + increments.exceptAll(
        once).count()
    return result


def bench_end_to_end(sizes: list[int]) -> list[dict]:
    from jwc.jobs.dedup import run_dedup
    from jwc.pipeline.spark import get_session

    spark = get_session("bench-dedup", master="local[2]", extra_conf={"spark.driver.memory": "2g"})
    results = []
    root = Path(tempfile.mkdtemp(prefix="bench_dedup_"))
    try:
        warm = root / "warm"
        write_corpus_in_child(500, warm, 0)
        run_dedup(spark, str(warm), str(root / "warm_out"), {}, None, None)
        for size in sizes:
            docs = root / f"docs_{size}"
            write_corpus_in_child(size, docs, size)
            with PeakMemory(spark) as memory:
                started = time.perf_counter()
                counts = run_dedup(spark, str(docs), str(root / f"out_{size}"), {}, None, None)
                seconds = time.perf_counter() - started
            results.append({"docs": size, "seconds": round(seconds, 1), "docs_per_s": round(size / seconds, 1),
                            "counts": counts, **{k: round(v, 1) for k, v in memory.peak.items()},
                            "jvm_heap_after_full_gc_mb": round(retained_heap_mb(spark), 1),
                            "two_increments": bench_increments(spark, docs, root / f"out_{size}", root / f"inc_{size}")})
            shutil.rmtree(docs)
            shutil.rmtree(root / f"out_{size}")
            shutil.rmtree(root / f"inc_{size}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
        spark.stop()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,20000", help="comma-separated document counts for end-to-end runs")
    parser.add_argument("--datasketch-docs", type=int, default=40, help="documents timed with datasketch")
    args = parser.parse_args(argv)
    if not WIKINEWS.exists():
        sys.exit(f"needs {WIKINEWS}")
    num_perm = mh.dedup_options({})["num_perm"]
    report = {"cpu": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2)}
    report["signatures"] = bench_signatures(sentences(), num_perm, args.datasketch_docs)
    report["end_to_end_local2"] = bench_end_to_end([int(s) for s in args.sizes.split(",")])
    report["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
