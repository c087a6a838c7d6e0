"""A store on a Hadoop file system, reached through Hadoop's FileSystem API: tested through Hadoop's own
LocalFileSystem (a file: URI with [store] api = "hadoop"), the same code path as hdfs:// without a name node.

The nightlies run in subprocesses (real Spark local mode); `jwc versions` runs in this process on the test session.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from jwc.jobs.cli import main
from jwc.pipeline import config as config_mod
from jwc.pipeline.io.hadoop import HadoopFS
from jwc.pipeline.io.store import SharedStore, Store
from tests.helpers import DATASET, dead_pid, finish, pin_toy_tokenizer, sample_warc, spawn

CRAWL_A, CRAWL_B = "HSTORE-A", "HSTORE-B"


def _config(path: Path) -> Path:
    path.write_text('[store]\napi = "hadoop"\n')
    return path


def _nightly(uri: str, work: Path, cfg: Path, warc: Path, crawl: str) -> list[str]:
    return [sys.executable, "-m", "jwc.jobs.cli", "nightly", "--crawl-id", crawl, "--input", str(warc),
            "--store", uri, "--work", str(work), "--config", str(cfg)]


@pytest.fixture(scope="module")
def published_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | str]:
    """One nightly of the bundled sample into a Hadoop store (Hadoop's LocalFileSystem), working in a local folder
    whose tokenizer pin is the only thing set up beforehand (publishing copies it into the Hadoop store)."""
    base = tmp_path_factory.mktemp("hadoop-store")
    folder, work, cfg = base / "hstore", base / "work", _config(base / "jwc.toml")
    pin_toy_tokenizer(work)
    code, err = finish(spawn(_nightly(f"file://{folder}", work, cfg, sample_warc(base), CRAWL_A)))
    assert code == 0, err[-4000:]
    return {"folder": folder, "uri": f"file://{folder}", "work": work, "cfg": cfg, "err": err, "base": base}


def _versions(capsys: pytest.CaptureFixture[str], store: dict, *args: str) -> tuple[int, str]:
    code = main(["versions", *args, "--store", str(store["uri"]), "--config", str(store["cfg"])])
    return code, capsys.readouterr().out


def test_a_nightly_publishes_into_the_hadoop_store_and_versions_read_it_back(published_store: dict, spark,
                                                                             capsys: pytest.CaptureFixture[str]
                                                                             ) -> None:
    folder: Path = published_store["folder"]
    versions = folder / "datasets" / DATASET / "versions"
    assert sorted(p.name for p in versions.iterdir() if not p.name.startswith(".")) == ["v0001"]
    stored = json.loads((versions / "v0001" / "manifest.json").read_text())
    documents = stored["totals"]["documents"]
    assert documents > 0 and stored["version"] == "v0001"
    # The shared part is in the Hadoop store: pin, index (with its parameters written whole), locks released.
    dataset = folder / "datasets" / DATASET
    assert (dataset / "tokenizer" / "PINNED.json").is_file()
    assert json.loads((dataset / "dedup-index" / "_params.json").read_text())["num_perm"] > 0
    assert [p.name for p in (dataset / "dedup-index").iterdir() if p.name.endswith(".tmp")] == []
    assert [p for p in (folder / "locks").iterdir() if p.suffix == ".lock"] == []
    assert not (dataset / "staging").exists() or not any((dataset / "staging").iterdir())
    # The run's work (runs/) stayed in the local work folder.
    assert not (folder / "runs").exists() and (published_store["work"] / "runs" / CRAWL_A / "publish").is_dir()
    assert f"file://{folder}/datasets/{DATASET}/versions/v0001" in published_store["err"]

    code, out = _versions(capsys, published_store, "list", "--json")
    rows = json.loads(out)
    assert code == 0 and [(r["version"], r["documents"]) for r in rows] == [("v0001", documents)]
    code, out = _versions(capsys, published_store, "show", "v0001")
    assert code == 0 and json.loads(out)["content_digest"] == stored["content_digest"]
    code, out = _versions(capsys, published_store, "verify", "v0001")
    assert code == 0 and out.rstrip().endswith(": OK") and str(published_store["uri"]) in out


def test_resolve_and_train_args_read_the_hadoop_store(published_store: dict, spark, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """resolve lists the store's own URIs; train-args needs --root (trainers read local or mounted files) and then
    points into it; diff's Spark reads the shards in the store (a version against itself: nothing added or removed,
    every document unchanged)."""
    stored = json.loads((published_store["folder"] / "datasets" / DATASET / "versions" / "v0001" /
                         "manifest.json").read_text())
    versions_uri = f"{published_store['uri']}/datasets/{DATASET}/versions"
    code, out = _versions(capsys, published_store, "resolve")
    resolved = json.loads(out)
    shards = resolved["versions"][0]["shards"]
    assert code == 0 and resolved["up_to"] == "v0001" and resolved["totals"]["tokens"] == stored["totals"]["tokens"]
    assert [s["parquet"] for s in shards] == [f"{versions_uri}/v0001/{s['parquet']}" for s in stored["shards"]]
    assert resolved["tokenizer"]["model"].startswith(f"{versions_uri}/v0001/")
    def refused(*args: str) -> str:
        code = main(["versions", *args, "--store", published_store["uri"], "--config", str(published_store["cfg"])])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1
        return err

    assert "give --root DIR" in refused("train-args")
    copy = tmp_path / "copied-versions"
    code, out = _versions(capsys, published_store, "train-args", "--root", str(copy), "--json")
    args = json.loads(out)
    prefixes = args["megatron"][2:2 * len(stored["shards"]) + 1:2]  # --data-path W1 P1 W2 P2 ...
    assert code == 0 and args["tokens"] == stored["totals"]["tokens"]
    assert all(p.startswith(f"{copy.resolve()}/v0001/") for p in prefixes)
    code, out = _versions(capsys, published_store, "diff", "v0001", "v0001")
    documents = json.loads(out)["documents"]
    assert code == 0 and documents == {"old": stored["totals"]["documents"], "new": stored["totals"]["documents"],
                                       "added": 0, "removed": 0, "unchanged": stored["totals"]["documents"]}


def test_report_of_a_version_in_the_hadoop_store(published_store: dict, spark, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    """`jwc report` copies the version's stats out through the adapter and writes the same report as locally: the
    published document count is in it, and nothing is left in the temporary folder's place."""
    import tempfile

    stored = json.loads((published_store["folder"] / "datasets" / DATASET / "versions" / "v0001" /
                         "manifest.json").read_text())
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    out = tmp_path / "v0001.html"
    code = main(["report", "v0001", "--store", published_store["uri"], "--config", str(published_store["cfg"]),
                 "--out", str(out)])
    assert code == 0 and capsys.readouterr().out.strip() == str(out)
    page = out.read_text(encoding="utf-8")
    assert "v0001" in page and f"{stored['totals']['documents']:,}" in page
    code = main(["report", "v0009", "--store", published_store["uri"], "--config", str(published_store["cfg"])])
    assert code == 2 and "no version v0009" in capsys.readouterr().err
    assert list(temporary.iterdir()) == []


def test_index_show_and_compact_on_the_hadoop_store(published_store: dict, spark, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """`jwc index show|compact --store hdfs://...`: the rows Spark counts through the adapter are the local footers'
    count for each version (v0001 in three files, v0002 a third of it, v0003 a folder without files), compaction
    under the Hadoop dataset lock leaves the same rows in fewer files and releases the lock."""
    import shutil

    import pyarrow.parquet as pq

    from jwc.pipeline.dedup.index import summary

    copy = tmp_path / "copy"
    shutil.copytree(published_store["folder"], copy)
    index = copy / "datasets" / DATASET / "dedup-index"
    version = index / "version=v0001"
    table = pq.read_table(next(version.glob("*.parquet")))
    for p in version.iterdir():
        p.unlink()
    cuts = [k * table.num_rows // 3 for k in range(4)]
    for k in range(3):  # as an index that grew in small files
        pq.write_table(table.slice(cuts[k], cuts[k + 1] - cuts[k]), version / f"part-{k}.parquet")
    (index / "version=v0002").mkdir()
    pq.write_table(table.slice(0, cuts[1]), index / "version=v0002" / "part-0.parquet")
    (index / "version=v0003").mkdir()
    before = summary(index)
    assert [(r["version"], r["rows"], r["files"]) for r in before] == [
        ("v0001", table.num_rows, 3), ("v0002", cuts[1], 1), ("v0003", 0, 0)]
    assert 0 < cuts[1] < table.num_rows

    def index_cmd(*args: str) -> list[list[str]]:
        code = main(["index", *args, "--store", f"file://{copy}", "--config", str(published_store["cfg"])])
        out = capsys.readouterr().out
        assert code == 0, out
        return [line.split() for line in out.splitlines()]

    shown = index_cmd("show")
    assert [line[:3] for line in shown[1:]] == [
        *([r["version"], f"{r['rows']:,}", str(r["files"])] for r in before),
        ["total", f"{table.num_rows + cuts[1]:,}", "4"]]
    index_cmd("compact", "--target-mb", "64")
    after = summary(index)
    assert [(r["version"], r["rows"], r["files"]) for r in after] == [
        ("v0001", table.num_rows, 1), ("v0002", cuts[1], 1), ("v0003", 0, 0)]
    assert not [p for p in (copy / "locks").iterdir() if p.suffix == ".lock"]


def test_verify_through_the_hadoop_api_finds_a_damaged_file(published_store: dict, spark, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A copy of the store with one shard changed by a byte: verify (through the adapter) must fail on it."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(published_store["folder"], copy)
    shard = next((copy / "datasets" / DATASET / "versions" / "v0001" / "shards").glob("*.parquet"))
    shard.chmod(0o644)
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    (shard.parent / f".{shard.name}.crc").unlink(missing_ok=True)  # else Hadoop refuses the read first
    code, out = _versions(capsys, {**published_store, "uri": f"file://{copy}"}, "verify", "v0001")
    assert code == 1 and "FAILED" in out


def test_a_second_nightly_matches_against_the_first_version_in_the_hadoop_index(published_store: dict) -> None:
    """The same crawl under another id: every document is a duplicate of the published v0001, so the run stops
    after dedup (exit 2) with all of them removed as 'published', having read the index in the Hadoop store."""
    store = published_store
    warc = sample_warc(store["base"])
    code, err = finish(spawn(_nightly(store["uri"], store["work"], store["cfg"], warc, CRAWL_B)))
    assert code == 2 and "kept no document" in err.strip().splitlines()[-1], err[-3000:]
    dedup = store["work"] / "runs" / CRAWL_B / "dedup"
    assert json.loads((dedup / "index_seen.json").read_text())["versions"] == ["v0001"]
    counts = json.loads((dedup / "_STAGE.json").read_text())["counts"]
    published_docs = json.loads((store["folder"] / "datasets" / DATASET / "versions" / "v0001" /
                                 "manifest.json").read_text())["totals"]["documents"]
    assert counts["output"] == 0 and counts["published_removed"] >= published_docs


def test_a_lock_held_in_the_hadoop_store_stops_a_second_run(published_store: dict, spark, tmp_path: Path) -> None:
    store = published_store
    shared = SharedStore.open(HadoopFS(spark, str(store["uri"])), create=False)
    params = config_mod.load(str(store["cfg"]))["store"]
    holder = Store.open_shared(shared, tmp_path / "other-work").run_lock("HSTORE-C", "test holder", params)
    with holder.acquire():
        assert (store["folder"] / "locks" / "run-HSTORE-C.lock").is_file()
        code, err = finish(spawn(_nightly(store["uri"], tmp_path / "work", store["cfg"],
                                          sample_warc(store["base"]), "HSTORE-C")))
    lines = err.strip().splitlines()
    assert code == 2 and "locked by test holder" in lines[-1], err[-3000:]
    assert not (tmp_path / "work" / "runs" / "HSTORE-C").exists()


@pytest.mark.parametrize("uri", ["s3a://bucket/jwc", "gs://bucket/jwc", "abfs://c@acct.dfs.core.windows.net/x"])
def test_object_stores_are_refused_in_one_line_with_nothing_created(tmp_path: Path, monkeypatch,
                                                                     capsys: pytest.CaptureFixture[str],
                                                                     uri: str) -> None:
    monkeypatch.chdir(tmp_path)
    warc = tmp_path / "in.warc.gz"
    warc.write_bytes(b"")
    code = main(["nightly", "--crawl-id", "X", "--input", str(warc), "--store", uri])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "object store" in err[0] and "versions verify" in err[0]
    assert os.listdir(tmp_path) == ["in.warc.gz"]


def test_a_scheme_hadoop_cannot_open_is_refused_with_nothing_created(tmp_path: Path, monkeypatch, spark,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = _config(tmp_path / "jwc.toml")
    warc = tmp_path / "in.warc.gz"
    warc.write_bytes(b"")
    code = main(["nightly", "--crawl-id", "X", "--input", str(warc), "--store", "nohadoopfs://host/jwc",
                 "--config", str(cfg)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "No FileSystem for scheme" in err[0], err
    assert sorted(os.listdir(tmp_path)) == ["in.warc.gz", "jwc.toml"]


def test_a_run_killed_after_copying_into_the_hadoop_store_publishes_on_rerun(tmp_path: Path, spark,
                                                                            capsys: pytest.CaptureFixture[str]
                                                                            ) -> None:
    """SIGKILL after the version was copied into the Hadoop store's staging folder, before its rename: readers see
    no version (the staging folder is ignored), and the rerun deletes the leftover and publishes."""
    folder, work, cfg = tmp_path / "hstore", tmp_path / "work", _config(tmp_path / "jwc.toml")
    store = {"uri": f"file://{folder}", "cfg": cfg}
    pin_toy_tokenizer(work)
    command = _nightly(str(store["uri"]), work, cfg, sample_warc(tmp_path), CRAWL_A)
    code, err = finish(spawn(command, {"JWC_TEST_DIE_AT": "publish:uploaded"}))
    dataset = folder / "datasets" / DATASET
    assert code == -9, err[-3000:]
    assert (dataset / "staging" / "v0001" / "manifest.json").is_file()
    assert not (dataset / "versions" / "v0001").exists()
    code, out = _versions(capsys, store, "list", "--json")
    assert code == 0 and json.loads(out) == []
    code, err = finish(spawn(command))
    assert code == 0, err[-3000:]
    assert "took over the lock" in err  # the killed run's locks, held by a pid that is gone
    assert not (dataset / "staging" / "v0001").exists()
    code, out = _versions(capsys, store, "verify", "v0001")
    assert code == 0 and out.rstrip().endswith(": OK")


def test_hadoop_locks_refuse_a_live_holder_take_over_a_dead_one_and_beat(spark, tmp_path: Path, capsys) -> None:
    """The lock protocol on HadoopLockFile (Hadoop's LocalFileSystem through the FileSystem API), no nightly."""
    from jwc.pipeline.io.hadoop import HadoopExists, HadoopLockFile
    from jwc.pipeline.io.lock import LOCK_PARAMS, LockHeld, StoreLock

    fs = HadoopFS(spark, f"file://{tmp_path}/h")
    params = {**{k: p.default for k, p in LOCK_PARAMS.items()}, "lock_heartbeat_seconds": 0.2}

    def lock(owner: str) -> StoreLock:
        return StoreLock(HadoopLockFile(fs, "locks/x.lock"), "thing x", owner, params)

    with lock("first").acquire() as held:
        with pytest.raises(LockHeld, match="locked by first"):
            lock("second").acquire()
        beat = fs.modified("locks/x.lock")
        time.sleep(1.0)
        assert held.held() and fs.modified("locks/x.lock") > beat  # the heartbeat thread touched it
    assert not fs.exists("locks/x.lock")
    holder = {"owner": "dead run", "host": os.uname().nodename, "pid": dead_pid(), "started": "x", "token": "t"}
    assert fs.create("locks/x.lock", json.dumps(holder).encode())
    assert not fs.create("locks/x.lock", b"{}")  # exclusive create
    with lock("third").acquire() as taken:
        assert json.loads(fs.read_bytes("locks/x.lock"))["owner"] == "third" and taken.held()
    assert f"pid {holder['pid']} on this host is gone" in capsys.readouterr().err
    fs.write_atomic("a.txt", b"1")
    with pytest.raises(HadoopExists):
        fs.write_atomic("a.txt", b"2")  # never replaces
    assert fs.read_bytes("a.txt") == b"1" and [n for n, _ in fs.children("")] == ["a.txt", "locks"]
    fs.write_atomic("src/b.txt", b"b")
    fs.write_atomic("dst/c.txt", b"c")
    with pytest.raises(HadoopExists):
        fs.rename("src", "dst")  # FileSystem.rename would have moved src inside dst
    assert [n for n, _ in fs.children("dst")] == ["c.txt"] and fs.read_bytes("src/b.txt") == b"b"
    with pytest.raises(FileNotFoundError):
        fs.rename("nothing", "elsewhere")
