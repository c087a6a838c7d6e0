"""Helpers shared by test modules and bench/: the ../shared data folder, WARC builders, `jwc nightly` in a
subprocess with the session's one uninterrupted reference run, and the demo run the stats, report and notebook
tests share. Test modules import these from here, never from one another."""
from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F

from jwc.schemas.config import resolve
from jwc.jobs.extract import extract_stage
from jwc.jobs.filter import filter_stage, redecide
from jwc.jobs.stages import DONE, RunContext, Stage, run_stage
from jwc.jobs.stats import report_stage, run_stats_inputs, stats_stage
from jwc.pipeline import config as config_mod
from jwc.pipeline.io.inputs import InputFile
from jwc.pipeline.io.store import Store
from jwc.pipeline.sample.generate import generate_sample
from jwc.pipeline.stats.tables import STATS_PARAMS, compute_stats
from jwc.pipeline.versions.ids import MANIFEST
from jwc.pipeline.versions.staging import publish_folder, release_staging, staging_dir

CRAWL = "SAMPLE-2026-48"


# ---- the shared data folder and WARC builders --------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[1]


SHARED = REPO.parent / "shared"


SHARED_DATA = SHARED / "data"


MAKE_CORPUS = SHARED / "tools" / "make_warc_corpus.py"


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data; skips the test when the folder is absent (a checkout without it)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/data not available: {path}")
    return path


def make_corpus(out_dir: Path, records: int, seed: int, *extra: str, html: bool = False) -> tuple[Path, Path]:
    """Run ../shared/tools/make_warc_corpus.py; returns (warc, truth). Skips when the tool is absent."""
    if not MAKE_CORPUS.exists():
        pytest.skip("../shared/tools/make_warc_corpus.py not available")
    warc = out_dir / f"corpus-{seed}.warc.gz"
    truth = out_dir / f"corpus-{seed}.truth.jsonl"
    args = [sys.executable, str(MAKE_CORPUS), "--text", str(SHARED_DATA / "ja_text_wikinews"),
            "--text", str(SHARED_DATA / "ja_text_ud_gsd"), "--records", str(records), "--seed", str(seed),
            "--out", str(warc), "--truth", str(truth), *extra]
    if html:
        args += ["--html", str(SHARED_DATA / "ja_html_postlight"), "--html", str(SHARED_DATA / "ja_html_misc")]
    subprocess.run(args, check=True, capture_output=True)
    return warc, truth


def write_warc(path: Path, pages: list[tuple[str, bytes, str]], gzip_members: bool = True) -> list[str]:
    """Write (url, body, content_type) responses with warcio; returns their record ids."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    ids = []
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=gzip_members)
        for url, body, ctype in pages:
            headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            rec = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers)
            ids.append(rec.rec_headers.get_header("WARC-Record-ID"))
            writer.write_record(rec)
    return ids


# ---- `jwc nightly` in a subprocess -------------------------------------------------------------------------------



RECORDS = 120


DATASET = "ja-web"


# Files of a version that record when and how long its run took (stage seconds, creation times); they differ
# between any two runs, so "the same version" means every other file: shards, tokens, the other statistics tables.
RUN_DEPENDENT = {"stats/stages.parquet", "stats/summary.json", "stats/filter_seconds.parquet", "report.html"}


RUN_TIMEOUT = 900  # seconds for one nightly of the small sample on a loaded machine


def nightly_command(store: Path, warc: Path, *extra: str, crawl: str = CRAWL) -> list[str]:
    """The `jwc nightly` command line of a crawl (the sample's by default); pins the toy tokenizer into `store`
    first (the deliberate step before a dataset's first nightly)."""
    pin_toy_tokenizer(store)
    return [sys.executable, "-m", "jwc.jobs.cli", "nightly", "--crawl-id", crawl, "--input", str(warc),
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


# ---- the demo run (extract, filter, a stand-in dedup, stats, report) --------------------------------------------

STATS_DEFAULTS = resolve("stats", STATS_PARAMS, {})


def exact_dedup(ctx: RunContext, out: Path) -> dict[str, Any]:
    """A small stand-in for the dedup stage with its output contract: exact duplicates of the kept documents."""
    docs = ctx.spark.read.parquet(str(ctx.stage_dir("filter") / "documents")).where("keep")
    group = Window.partitionBy(F.sha2("text", 256))
    ordered = group.orderBy("warc_date", "doc_id")
    ranked = docs.select("*", F.row_number().over(ordered).alias("_r"), F.first("doc_id").over(ordered).alias("_f"),
                         F.count(F.lit(1)).over(group).alias("_n"))
    kept = ranked.where("_r = 1").select(*docs.columns, F.col("doc_id").alias("cluster_id"),
                                         F.col("_n").cast("int").alias("cluster_size"))
    kept.write.parquet(str(out / "documents"))
    dups = ranked.where("_r > 1").select("doc_id", "url", "host", F.col("_f").alias("duplicate_of"),
                                         F.lit("exact").alias("reason"), F.lit(1.0).alias("jaccard"))
    dups.write.parquet(str(out / "duplicates"))
    return {"output": ctx.spark.read.parquet(str(out / "documents")).count()}


def demo_run(spark: SparkSession, base: Path) -> Path:
    """The sample crawl run through extract, filter, a stand-in dedup, stats and report; built once per session
    (under pytest's base temp folder) and shared by the stats, report and notebook tests. Returns the run folder."""
    root = base / "jwc-demo-run"
    run_dir = root / "store" / "runs" / CRAWL
    if (run_dir / "report" / DONE).is_file():
        return run_dir
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    warc = root / "sample.warc.gz"
    generate_sample(str(warc), records=200, seed=0)
    ctx = RunContext(spark=spark, cfg=config_mod.load(), store=Store.open(root / "store"), crawl_id=CRAWL,
                     inputs=[InputFile(str(warc), warc.stat().st_size)], run_dir=run_dir)
    run_dir.mkdir(parents=True)
    for stage in (Stage("extract", extract_stage, "extract"), Stage("filter", filter_stage, "filter"),
                  Stage("dedup", exact_dedup, "exact dedup stand-in"), Stage("stats", stats_stage, "stats"),
                  Stage("report", report_stage, "report")):
        run_stage(ctx, stage)
    return run_dir


def changed_threshold_run(spark: SparkSession, run_dir: Path) -> tuple[Path, str, float, float]:
    """Stats of a copy of the demo run whose filter decisions are re-made (Spark SQL on the stored signals) with
    one changed threshold: composition's min_hiragana_frac raised to the signal's median. Built once per
    session beside the demo run. Returns (stats dir, param, old, new)."""
    cfg = config_mod.load()
    docs = pq.read_table(run_dir / "filter" / "documents", columns=["sig_comp_hiragana_frac"]).to_pandas()
    old = cfg.filters["composition"]["min_hiragana_frac"]
    new = round(float(docs.sig_comp_hiragana_frac.quantile(0.5)), 3)
    dest = run_dir.parents[3] / "changed-threshold"
    if not (dest / "stats" / "summary.json").is_file():
        changed = config_mod.load(overrides={"filters": {"composition": {"min_hiragana_frac": new}}})
        if dest.exists():
            shutil.rmtree(dest)
        copy = dest / "run"
        copy.mkdir(parents=True)
        for stage in ("extract", "dedup"):
            (copy / stage).symlink_to(run_dir / stage)
        redecide(spark, str(run_dir / "filter"), changed, str(copy / "filter"))
        compute_stats(spark, run_stats_inputs(copy), dest / "stats", STATS_DEFAULTS, changed.filters)
    return dest / "stats", "min_hiragana_frac", old, new


def write_inflating_member(fh: "io.BufferedWriter", url: str, body_bytes: int, block: bytes = b" " * (1 << 20)
                           ) -> str:
    """Append one gzip member: a text/html response whose body is `body_bytes` of `block` repeated (spaces inflate
    about a thousandfold, random bytes do not shrink). Compressed as a stream, one block at a time, so the test
    never holds the body. Returns its record id."""
    import uuid
    import zlib

    record_id = f"<urn:uuid:{uuid.uuid4()}>"
    http = f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {body_bytes}\r\n\r\n".encode()
    warc = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: {url}\r\nWARC-Date: 2026-01-01T00:00:00Z\r\n"
            f"WARC-Record-ID: {record_id}\r\nContent-Type: application/http; msgtype=response\r\n"
            f"Content-Length: {len(http) + body_bytes}\r\n\r\n").encode()
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    fh.write(deflate.compress(warc + http))
    left = body_bytes
    while left:
        fh.write(deflate.compress(block[:min(left, len(block))]))
        left -= min(left, len(block))
    fh.write(deflate.compress(b"\r\n\r\n") + deflate.flush())
    return record_id


def manifest_for(version: str, parent: str | None) -> dict[str, Any]:
    sha = hashlib.sha256(b"x").hexdigest()
    return {
        "schema": "jwc.manifest", "schema_version": 1, "dataset": "d", "version": version,
        "created": "2026-11-28T00:00:00Z", "parent": parent, "crawl_ids": ["c"],
        "inputs": [{"path": "/w.warc.gz", "bytes": 10}], "config": {}, "config_digest": sha,
        "code": {"package": "jwc", "version": "0.1.0", "git_commit": None, "git_dirty": None},
        "counts": {"filter": {"documents": 10, "kept": 8}},
        "tokenizer": {"id": "sentencepiece:d:00", "vocab_size": 300, "eos_id": 2, "folder": "tokenizer/x"},
        "totals": {"documents": 8, "tokens": 80, "shards": 1, "bytes": 1},
        "shards": [{"name": "shard-00000", "parquet": "shards/shard-00000.parquet", "tokens_prefix":
                    "tokens/shard-00000", "documents": 8, "tokens": 80}],
        "files": [{"path": "shards/shard-00000.parquet", "kind": "shard", "bytes": 1, "sha256": sha, "rows": 8}],
    }


def publish_fake(ds: Path, version: str, parent: str | None) -> None:
    """Publish a version folder holding only a manifest, through the real staging rename."""
    staged = staging_dir(ds, version)
    staged.mkdir(parents=True)
    (staged / MANIFEST).write_text(json.dumps(manifest_for(version, parent)))
    publish_folder(staged, ds / "versions" / version)
    release_staging(ds, version)


def pin_toy_tokenizer(store: Path, dataset: str = "ja-web", vocab_size: int = 1000) -> str:
    """Pin a small SentencePiece model, trained on the bundled sample's paragraphs, to `dataset` in `store`: the
    deliberate pinning step a nightly needs before its first run (tests only: a toy vocabulary). Returns its id.
    Deterministic, so every store pinned with it tokenizes alike."""
    import tempfile

    from jwc.pipeline.io.store import Store
    from jwc.pipeline.sample.texts_ja import TOPICS
    from jwc.pipeline.tokens.tokenizer import load_tokenizer, train_sentencepiece
    from jwc.pipeline.versions.pins import pin_tokenizer, store_tokenizer

    dataset_dir = Store.open(store).dataset_dir(dataset)
    texts = [p for topic in TOPICS for p in topic.paragraphs]
    with tempfile.TemporaryDirectory() as tmp:
        tok = load_tokenizer(train_sentencepiece(texts, tmp, vocab_size, name=dataset))
    folder = store_tokenizer(dataset_dir, tok, "", {"toy": "tests/conftest.py pin_toy_tokenizer"})
    return pin_tokenizer(dataset_dir, folder, tok.id)["id"]


def dead_pid() -> int:
    """The pid of a process that has already exited: a lock holder that is surely gone."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid
