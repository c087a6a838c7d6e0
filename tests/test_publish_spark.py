"""Shards, tokenize and publish on a small dedup-like output, with real Spark: the shards' content and layout, the
bins read by megatron-core's own reader, runs killed (SIGKILL) while tokenizing and publishing, versions diff, and
the `jwc versions` commands.

The filter and dedup stages are stood in for by stages that write what those stages write (tests/publish_run.py),
so these tests do not depend on them.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from jwc.jobs.stages import run_stage
from jwc.jobs.tokenize import train_tokenizer
from jwc.pipeline.io.store import Store
from jwc.pipeline.tokens.tokenizer import load_tokenizer
from jwc.pipeline.versions.ids import published_versions
from jwc.pipeline.versions.manifest import read_manifest
from jwc.pipeline.versions.params import SHARDS_PARAMS
from jwc.pipeline.versions.pins import read_pin
from tests.helpers import REPO
from tests.publish_run import (DATASET, FILTER_1, FILTER_2, MY_STAGES, context, finish_run, make_docs, seed_stages,
                               small_config)



@pytest.fixture(scope="module")
def published(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One uninterrupted run: documents 0..119 in three shuffled input files -> version v0001 of store A."""
    store = tmp_path_factory.mktemp("storeA")
    ctx = context(spark, store, "crawl-1")
    docs = make_docs(range(120))
    seed_stages(ctx, docs, FILTER_1, files=3, order_seed=1)
    results = finish_run(ctx)
    return {"store": store, "docs": docs, "results": results, "dataset_dir": Store.open(store).dataset_dir(DATASET)}


def test_shards_content_and_layout(published: dict[str, Any]) -> None:
    ds = published["dataset_dir"]
    manifest = read_manifest(ds, "v0001")
    version = ds / "versions" / "v0001"
    assert manifest["totals"]["documents"] == 120 and manifest["totals"]["shards"] == len(manifest["shards"]) >= 3
    assert sorted(p.name for p in (version / "shards").iterdir()) == [
        f"{DATASET}-v0001-{i:05d}.parquet" for i in range(manifest["totals"]["shards"])]
    by_id = {d["doc_id"]: d for d in published["docs"]}
    seen = []
    expected_cols = ["text", "doc_id", "url", "host", "crawl_id", "warc_date", "lang_score", "chars",
                     *[f"sig_{s}" for s in SHARDS_PARAMS["signals"].default], "cluster_size"]
    for shard in manifest["shards"]:
        path = version / shard["parquet"]
        frame = pd_read(path)
        assert list(frame.columns) == expected_cols
        meta = pq.ParquetFile(path).metadata
        assert meta.row_group(0).column(0).compression == "ZSTD"
        assert meta.metadata[b"schema"] == b"jwc.shards" and meta.num_row_groups > 1
        sizes = [sum(len(t.encode()) + 256 for t in pq.ParquetFile(path).read_row_group(i).column("text").to_pylist())
                 for i in range(meta.num_row_groups)]
        assert all(size >= 8_192 for size in sizes[:-1]), "row groups are cut once they reach row_group_bytes"
        assert [c.column_index for c in meta.row_group(0).sorting_columns] == [3, 1]  # host, doc_id
        keys = list(zip(frame["host"], frame["doc_id"]))
        assert keys == sorted(keys), "rows sorted by host then doc_id"
        for row in frame.itertuples():
            src = by_id[row.doc_id]
            assert (row.text, row.url, row.host, row.cluster_size) == (src["text"], src["url"], src["host"],
                                                                       src["cluster_size"])
            assert row.sig_comp_japanese_frac == src["sig_comp_japanese_frac"] and np.isnan(row.sig_pii_total)
        seen += list(frame["doc_id"])
    assert sorted(seen) == sorted(by_id)
    assert pd_read(version / "shards").shape[0] == 120  # the folder reads as one table
    files = {f["path"]: f for f in manifest["files"]}
    for shard in manifest["shards"]:
        assert files[shard["parquet"]]["rows"] == shard["documents"] == files[shard["tokens_prefix"] + ".idx"]["rows"]
        data = (version / shard["parquet"]).read_bytes()
        assert files[shard["parquet"]]["sha256"] == hashlib.sha256(data).hexdigest()
    assert not any(p.stat().st_mode & 0o222 for p in version.rglob("*") if p.is_file()), "published files read-only"
    assert sorted(p.name for p in version.iterdir()) == ["README.md", "manifest.json", "shards", "tokenizer", "tokens"]
    assert not (ds / "staging" / "v0001").exists()


def pd_read(path: Path) -> Any:
    import pandas as pd

    return pd.read_parquet(path)


def test_megatron_core_reads_the_tokens_in_manifest_order(published: dict[str, Any]) -> None:
    idx_mod = pytest.importorskip("megatron.core.datasets.indexed_dataset")
    ds = published["dataset_dir"]
    manifest = read_manifest(ds, "v0001")
    version = ds / "versions" / "v0001"
    info = json.loads((ds / manifest["tokenizer"]["folder"] / "tokenizer-info.json").read_text())
    tok = load_tokenizer(ds / manifest["tokenizer"]["folder"] / info["file"])
    assert tok.id == manifest["tokenizer"]["id"] == read_pin(ds)["id"]
    assert manifest["tokenizer"]["vocab_size"] == tok.vocab_size
    everything: list[list[int]] = []
    for shard in manifest["shards"]:
        texts = pq.read_table(version / shard["parquet"], columns=["text"]).column(0).to_pylist()
        expected = [ids.tolist() + [tok.eos_id] for ids in tok.encode_batch(texts)]
        ds_shard = idx_mod.IndexedDataset(str(version / shard["tokens_prefix"]))
        assert len(ds_shard) == len(texts) == shard["documents"]
        assert [ds_shard[i].tolist() for i in range(len(ds_shard))] == expected
        assert sum(map(len, expected)) == shard["tokens"]
        everything += expected
    merged = idx_mod.IndexedDataset(str(version / manifest["merged_tokens_prefix"]))
    assert [merged[i].tolist() for i in range(len(merged))] == everything
    assert manifest["totals"]["tokens"] == sum(map(len, everything)) == published["results"]["tokenize"]["tokens"]


def _run_killed(store: Path, crawl_id: str, point: str) -> None:
    """Run the remaining stages in a new driver process that SIGKILLs itself at `point`."""
    started = time.monotonic()
    env = {**os.environ, "JWC_TEST_DIE_AT": point, "PYTHONPATH": str(REPO)}
    code = f"from tests.publish_run import drive; drive({str(store)!r}, {crawl_id!r})"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _, err = proc.communicate(timeout=240)
    finally:
        try:  # the JVM this driver started, should it outlive its parent
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert proc.returncode == -signal.SIGKILL, f"{point}: exit {proc.returncode}\n{err.decode()[-3000:]}"
    print(f"driver killed at {point} after {time.monotonic() - started:.1f}s", file=sys.stderr)


def _file_hashes(manifest: dict[str, Any]) -> list[tuple[str, str, int | None]]:
    return [(f["path"], f["sha256"], f.get("rows")) for f in manifest["files"]]


def test_killed_runs_leave_no_version_and_rerun_matches(spark: Any, published: dict[str, Any],
                                                          tmp_path: Path) -> None:
    store = tmp_path / "storeB"
    ctx = context(spark, store, "crawl-1")
    seed_stages(ctx, published["docs"], FILTER_1, files=1, order_seed=7)  # same documents, other file layout
    run_stage(ctx, MY_STAGES[0])  # shards here, in the warm session: the kills are in tokenize and publish
    ds = ctx.store.dataset_dir(DATASET)

    _run_killed(store, "crawl-1", "tokenize:written")
    assert published_versions(ds) == [] and not (ds / "versions" / "v0001").exists()
    assert (ctx.run_dir / "tokenize.partial").is_dir() and not (ctx.run_dir / "tokenize").exists()

    _run_killed(store, "crawl-1", "publish:manifest")
    assert published_versions(ds) == [] and not (ds / "versions" / "v0001").exists()
    assert (ds / "staging" / "v0001" / "version" / "manifest.json").is_file()  # complete, but not visible

    ctx = context(spark, store, "crawl-1")
    results = finish_run(ctx)
    assert results["publish"]["version"] == "v0001" and published_versions(ds) == ["v0001"]
    assert (ds / "dedup-index" / "version=v0001").is_dir() and not (ds / "staging" / "v0001").exists()

    # What a kill right after the rename leaves: the version published, the index not updated, the stage unfinished.
    shutil.rmtree(ds / "dedup-index" / "version=v0001")
    shutil.rmtree(ctx.run_dir / "publish")
    assert finish_run(context(spark, store, "crawl-1"))["publish"]["version"] == "v0001"
    assert (ds / "dedup-index" / "version=v0001").is_dir() and published_versions(ds) == ["v0001"]
    rerun = read_manifest(ds, "v0001")
    uninterrupted = read_manifest(published["dataset_dir"], "v0001")
    assert _file_hashes(rerun) == _file_hashes(uninterrupted)
    assert rerun["tokenizer"] == uninterrupted["tokenizer"] and rerun["totals"] == uninterrupted["totals"]
    assert rerun["config_digest"] == uninterrupted["config_digest"] and rerun["counts"] == uninterrupted["counts"]


def test_second_version_diff_and_cli(spark: Any, published: dict[str, Any], capsys: pytest.CaptureFixture) -> None:
    from jwc.jobs.cli import main

    store, ds = published["store"], published["dataset_dir"]
    ctx = context(spark, store, "crawl-2")
    docs2 = make_docs(range(40, 160))  # 0..39 dropped, 120..159 new
    seed_stages(ctx, docs2, FILTER_2, files=2, order_seed=3)
    finish_run(ctx)
    assert published_versions(ds) == ["v0001", "v0002"]
    m2 = read_manifest(ds, "v0002")
    assert m2["parent"] == "v0001" and m2["tokenizer"]["id"] == read_manifest(ds, "v0001")["tokenizer"]["id"]

    assert main(["versions", "diff", "v0001", "v0002", "--store", str(store), "--dataset", DATASET]) == 0
    diff = json.loads(capsys.readouterr().out)
    docs1 = {d["doc_id"]: d["host"] for d in published["docs"]}
    docs2_ids = {d["doc_id"]: d["host"] for d in docs2}
    added = {k: h for k, h in docs2_ids.items() if k not in docs1}
    removed = {k: h for k, h in docs1.items() if k not in docs2_ids}
    # v0002 is an increment over its parent: v0001's documents are still in the dataset, not "removed".
    assert diff["kind"] == "increment" and diff["increments"] == ["v0002"]
    assert diff["documents"] == {"old": 120, "new": 120, "new_documents": len(added), "overlap_with_old": 80,
                                 "dataset_before": 120, "dataset_after": 240}
    assert main(["versions", "diff", "v0002", "v0001", "--store", str(store), "--dataset", DATASET]) == 0
    backwards = json.loads(capsys.readouterr().out)  # not an increment: a plain comparison of the two versions
    assert backwards["kind"] == "versions" and backwards["documents"] == {
        "old": 120, "new": 120, "added": len(removed), "removed": len(added), "unchanged": 80}
    expected_hosts = {h: (sum(v == h for v in added.values()), sum(v == h for v in removed.values()))
                      for h in set(added.values()) | set(removed.values())}
    assert {r["host"]: (r["added"], r["removed"]) for r in diff["hosts"]["top"]} == expected_hosts
    rates = diff["removal_rates"]
    assert rates["filter.composition.too_short"] == pytest.approx({"old": 0.25, "new": 0.2, "change": -0.05})
    assert rates["filter.ngwords.adult"] == pytest.approx({"old": 0.15, "new": 0.0, "change": -0.15})
    assert rates["filter.junk.ads"] == pytest.approx({"old": 0.0, "new": 0.4, "change": 0.4})
    assert rates["dedup.exact"] == pytest.approx({"old": 3 / 125, "new": 3 / 125, "change": 0.0})
    assert diff["config_changed"] is False and diff["tokenizer_changed"] is False

    assert main(["versions", "list", "--store", str(store), "--dataset", DATASET]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    assert [(r[0], r[2], r[3], r[-1]) for r in rows] == [("v0001", "-", "120", "crawl-1"),
                                                         ("v0002", "v0001", "120", "crawl-2")]
    assert main(["versions", "show", "v0002", "--store", str(store), "--dataset", DATASET]) == 0
    assert json.loads(capsys.readouterr().out) == m2
    assert main(["versions", "show", "v0009", "--store", str(store), "--dataset", DATASET]) == 2
    assert "no published version v0009" in capsys.readouterr().err


def test_train_tokenizer_on_a_version_reproduces_the_pinned_one(spark: Any, published: dict[str, Any]) -> None:
    """The run trained on a hash-ordered sample of its shards; the same sample of the published version (same
    documents) must give the same model, and pinning it again is a no-op."""
    ds = published["dataset_dir"]
    info = train_tokenizer(spark, ds, ["v0001"], small_config()["tokenize"], pin=True)
    assert info["id"] == read_pin(ds)["id"] and info["pinned"] is True
