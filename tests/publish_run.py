"""A run of the shards, tokenize and publish stages on stand-ins for filter and dedup (documents with the dedup
columns, signatures, counts), shared by tests/test_publish_spark.py and the driver processes it kills (`drive`)."""
from __future__ import annotations

import hashlib
import json
import os
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from jwc.schemas.config import resolve
from jwc.jobs.dedup import INDEX_SEEN, published_index
from jwc.jobs.publish import publish_stage
from jwc.jobs.shards import shards_stage
from jwc.jobs.stages import RunContext, Stage, run_stage
from jwc.jobs.tokenize import tokenize_stage
from jwc.pipeline import config as config_mod
from jwc.pipeline.config import Config
from jwc.pipeline.io.inputs import InputFile
from jwc.pipeline.io.store import Store
from jwc.pipeline.sample.texts_ja import TOPICS, TOWNS
from jwc.pipeline.tokens.tokenizer import TOKENIZE_PARAMS
from jwc.pipeline.versions.params import PUBLISH_PARAMS, SHARDS_PARAMS


HOSTS = ("news.example.jp", "blog.example.jp", "city.example.lg.jp", "shop.example.co.jp", "forum.example.ne.jp")
DATASET = "ja-test"
# Filter-stage counts of the two seeded runs.
FILTER_1 = {"documents": 200, "kept": 120, "removed": 80, "removed_composition.too_short": 50,
            "removed_ngwords.adult": 30}
FILTER_2 = {"documents": 300, "kept": 120, "removed": 180, "removed_composition.too_short": 60,
            "removed_junk.ads": 120}


def small_config() -> Config:
    """Defaults, with small shards and a small tokenizer so the sample gives several shards quickly."""
    base = config_mod.load(overrides={"run": {"dataset": DATASET, "progress_seconds": 0.0}})
    sections = {
        **base.sections,
        "shards": resolve("shards", SHARDS_PARAMS, {"shard_text_bytes": 30_000, "row_group_bytes": 8_192}),
        "tokenize": resolve("tokenize", TOKENIZE_PARAMS, {"vocab_size": 1200, "train_sample_docs": 60,
                                                        "on_no_pin": "train", "allow_toy": True}),
        "publish": resolve("publish", PUBLISH_PARAMS, {"merge_tokens": True}),
    }
    return Config(sections, base.cleaners, base.filters)


def make_docs(indices: range) -> list[dict[str, Any]]:
    """Kept documents as dedup writes them; a document's content depends on its index only."""
    docs = []
    for i in indices:
        r = random.Random(i)
        topic = TOPICS[r.randrange(len(TOPICS))]
        town = TOWNS[r.randrange(len(TOWNS))]
        paragraphs = [p.replace("{town}", town) for p in r.sample(topic.paragraphs, k=r.randint(1, 3))]
        text = "\n".join(paragraphs) + f"\n記事番号{i}。" + ("絵文字😀と𠮷野家" if i % 7 == 0 else "")
        host = HOSTS[(i * i) % len(HOSTS)]
        doc_id = hashlib.sha1(f"doc-{i}".encode()).hexdigest()[:20]
        docs.append({
            "doc_id": doc_id, "url": f"https://{host}/a/{i}", "host": host, "warc_date": f"2026-11-{1 + i % 28:02d}",
            "crawl_id": "CC-TEST", "source_file": "/data/x.warc.gz", "title": topic.titles[0], "text": text,
            "lang": "ja", "lang_score": 0.9 + (i % 10) / 100, "raw_chars": len(text) + 10, "chars": len(text),
            "keep": True, "reject_reason": None, "reject_reasons": [],
            "sig_comp_japanese_frac": 0.8 + (i % 20) / 100, "sig_ng_score": float(i % 3), "sig_comp_chars": 1.0,
            "cluster_id": doc_id, "cluster_size": 1 + i % 4,
        })
    return docs


def write_parquet(rows: list[dict[str, Any]], folder: Path, files: int, order_seed: int) -> None:
    rows = rows[:]
    random.Random(order_seed).shuffle(rows)
    folder.mkdir(parents=True)
    for k in range(files):
        pq.write_table(pa.Table.from_pylist(rows[k::files]), folder / f"part-{k}.parquet")


def seed_stages(ctx: RunContext, docs: list[dict[str, Any]], filter_counts: dict[str, int], files: int,
                order_seed: int) -> None:
    """Run stand-ins for filter and dedup through the real stage runner (same folders and markers)."""
    def filter_fn(_: RunContext, out: Path) -> dict[str, Any]:
        return filter_counts

    def dedup_fn(ctx: RunContext, out: Path) -> dict[str, Any]:
        write_parquet(docs, out / "documents", files, order_seed)
        (out / INDEX_SEEN).write_text(json.dumps({"versions": published_index(ctx, ctx.version().version)}))
        sigs = [{"doc_id": d["doc_id"], "cluster_id": d["doc_id"], "warc_date": d["warc_date"],
                 "signature": [int(b) for b in hashlib.sha1(d["text"].encode()).digest()[:8]],
                 "bands": [int.from_bytes(hashlib.sha1(d["doc_id"].encode()).digest()[:7], "big"), 7]}
                for d in docs]
        write_parquet(sigs, out / "signatures", 1, 0)
        return {"input": len(docs) + 5, "exact_removed": 3, "near_removed": 2, "published_removed": 0,
                "output": len(docs)}

    run_stage(ctx, Stage("filter", filter_fn, "stand-in"))
    run_stage(ctx, Stage("dedup", dedup_fn, "stand-in"))


def not_again(ctx: RunContext, out: Path) -> dict[str, Any]:
    raise AssertionError("seeded stages are complete and must be skipped")


MY_STAGES = (Stage("shards", shards_stage, "shards"), Stage("tokenize", tokenize_stage, "tokenize"),
             Stage("publish", publish_stage, "publish"))


def context(spark: Any, store: Path, crawl_id: str) -> RunContext:
    st = Store.open(store)
    run_dir = st.run_dir(crawl_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    return RunContext(spark=spark, cfg=small_config(), store=st, crawl_id=crawl_id,
                      inputs=[InputFile(f"/data/{crawl_id}/a.warc.gz", 1234), InputFile("/data/b.warc.gz", 99)],
                      run_dir=run_dir)


def finish_run(ctx: RunContext) -> dict[str, dict[str, Any]]:
    """What the nightly does for these stages, in order (publish takes the run's version id, as dedup would)."""
    for stage in (Stage("filter", not_again, ""), Stage("dedup", not_again, ""), *MY_STAGES):
        run_stage(ctx, stage)
    return ctx.results


def drive(store: str, crawl_id: str) -> None:
    """Entry point of the killed subprocesses: a fresh driver finishing the run in `store`."""
    from jwc.pipeline.spark import get_session

    os.environ.setdefault("JWC_SPARK_LOG_LEVEL", "ERROR")
    # A short-lived JVM: C1-only JIT and the serial collector halve its start-up and first jobs (measured 30+30 s
    # -> 15+14 s on a loaded 2-core machine).
    fast_jvm = {"spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"}
    spark = get_session("jwc-kill-test", master="local[2]", shuffle_partitions=3, extra_conf=fast_jvm)
    finish_run(context(spark, Path(store), crawl_id))
