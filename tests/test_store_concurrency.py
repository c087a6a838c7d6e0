"""The store under concurrency, crashes and hostile files, with whole `jwc` processes:

- two nightlies of one crawl id started together: one runs, the other is refused at once naming it, and the
  version is the one a lone run publishes;
- two crawl ids over the same input started together: every document ends up in exactly one version;
- `jwc index compact` SIGKILLed at every step, then run again: the index rows and a later run's dedup decisions
  are those of the index before compaction;
- a crafted version id in a run folder and a symlink planted in a run's stats/ are refused, and nothing outside
  the store is touched.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from jwc.jobs.cli import main
from jwc.jobs.dedup import run_dedup
from jwc.pipeline import config as config_mod
from jwc.pipeline.dedup import index as dedup_index
from tests.helpers import (CRAWL, DATASET, finish, manifest, nightly_command, published,
                           reference_run, run_nightly, sample_warc, spawn)

COMPACT_STEPS = ("written", "retired", "switched", "cleaned")


def doc_ids(store: Path) -> list[str]:
    """Every doc_id in every published version's shards (with repeats, if any)."""
    ids: list[str] = []
    for version in published(store):
        for shard in sorted((store / "datasets" / DATASET / "versions" / version / "shards").glob("*.parquet")):
            ids += pq.read_table(shard, columns=["doc_id"]).column("doc_id").to_pylist()
    return ids


@pytest.mark.slow
def test_two_nightlies_of_one_crawl_at_once_one_runs_and_one_is_refused(tmp_path_factory) -> None:
    base = tmp_path_factory.getbasetemp()
    warc, reference = sample_warc(base), reference_run(base)
    store = tmp_path_factory.mktemp("same-crawl") / "store"
    procs = [spawn(nightly_command(store, warc)) for _ in range(2)]
    started = time.monotonic()
    while all(p.poll() is None for p in procs):
        assert time.monotonic() - started < 300, "neither run was refused"
        time.sleep(0.1)
    refused = next(p for p in procs if p.poll() is not None)
    running = next(p for p in procs if p is not refused)
    assert running.poll() is None, "the refused run ended while the other still runs"
    code, err = finish(refused)
    assert code == 2, err[-3000:]
    assert f"is locked by jwc nightly {CRAWL} (pid {running.pid} on " in err and "--break-lock" in err
    assert published(store) == []
    code, err = finish(running)
    assert code == 0, err[-4000:]
    assert manifest(store)["content_digest"] == manifest(reference)["content_digest"]
    assert manifest(store)["counts"] == manifest(reference)["counts"]  # no record was read twice
    assert list((store / "locks").iterdir()) == []  # both locks released
    code, err = run_nightly(store, warc)  # the refused command, run again: everything is done
    assert code == 0 and "already complete" in err, err[-3000:]
    assert published(store) == ["v0001"] and not any((store / "datasets" / DATASET / "staging").iterdir())


@pytest.mark.slow
def test_two_crawl_ids_over_one_input_at_once_publish_each_document_once(tmp_path_factory) -> None:
    base = tmp_path_factory.getbasetemp()
    warc, reference = sample_warc(base), reference_run(base)
    store = tmp_path_factory.mktemp("two-crawls") / "store"
    procs = [spawn(nightly_command(store, warc, crawl=crawl)) for crawl in ("TWIN-A", "TWIN-B")]
    with ThreadPoolExecutor(2) as pool:
        (code_a, err_a), (code_b, err_b) = pool.map(finish, procs)
    assert sorted([code_a, code_b]) == [0, 2], (err_a[-3000:], err_b[-3000:])
    second = err_a if code_a == 2 else err_b
    assert "the dedup stage kept no document" in second, second[-3000:]
    print("the second run " + ("redid dedup after the first published" if "redoing dedup" in second
                               else "ran dedup after the first published"), file=sys.stderr)
    assert len(published(store)) == 1
    ids = doc_ids(store)
    assert len(ids) == len(set(ids)) and sorted(ids) == sorted(doc_ids(reference))


def index_rows(index: Path) -> dict[str, list[tuple]]:
    """Every version's index rows, sorted, read from the files (no Spark)."""
    out = {}
    for folder in sorted(index.glob("version=*")):
        table = pq.ParquetDataset(str(folder)).read()
        rows = zip(*(table.column(c).to_pylist() for c in dedup_index.INDEX_COLUMNS))
        out[folder.name] = sorted((d, c, w, h, tuple(s), tuple(b)) for d, c, w, h, s, b in rows)
    return out


def decisions(spark, run_dir: Path, index: Path, out: Path) -> list[tuple]:
    """What dedup decides for the run's filtered documents against the index: (doc_id, kept, duplicate_of, reason)."""
    docs = spark.read.parquet(str(run_dir / "filter" / "documents")).where("keep")
    run_dedup(spark, docs, str(out), config_mod.load()["dedup"], str(index))
    kept = [(r.doc_id, True, None, None) for r in spark.read.parquet(str(out / "documents")).select("doc_id").collect()]
    removed = [(r.doc_id, False, r.duplicate_of, r.reason)
               for r in spark.read.parquet(str(out / "duplicates")).select("doc_id", "duplicate_of", "reason").collect()]
    return sorted(kept + removed)


@pytest.mark.slow
def test_index_compact_killed_at_every_step_then_rerun_keeps_rows_and_decisions(spark, tmp_path_factory,
                                                                                capsys) -> None:
    base = tmp_path_factory.getbasetemp()
    reference = reference_run(base)
    split = tmp_path_factory.mktemp("compact") / "store"
    shutil.copytree(reference, split)
    index = split / "datasets" / DATASET / "dedup-index"
    rows = spark.read.parquet(str(index / "version=v0001"))
    dedup_index.add_to_index(spark, rows.repartition(3), str(index), "v0001")  # the same rows in 3 files
    before = index_rows(index)
    assert len(list((index / "version=v0001").glob("*.parquet"))) == 3
    expected = decisions(spark, split / "runs" / CRAWL, index, tmp_path_factory.mktemp("dedup-before"))
    assert sum(1 for d in expected if d[3] == "published") > 0, "the index decides something"
    for step in COMPACT_STEPS:
        store = tmp_path_factory.mktemp(f"compact-{step}") / "store"
        shutil.copytree(split, store)
        live = store / "datasets" / DATASET / "dedup-index" / "version=v0001"
        code, err = finish(spawn([sys.executable, "-m", "jwc.jobs.cli", "index", "compact", "--store", str(store)],
                                 {"JWC_TEST_DIE_AT": f"compact:{step}"}))
        assert code == -signal.SIGKILL, f"{step}: exit {code}\n{err[-3000:]}"
        assert live.is_dir() == (step != "retired"), step  # killed between the renames: the version is away
        capsys.readouterr()
        assert main(["index", "compact", "--store", str(store)]) == 0
        out = capsys.readouterr().out
        assert ("recovered an interrupted compaction" in out) == (step != "cleaned"), out
        index_dir = live.parent
        assert index_rows(index_dir) == before, step
        assert len(list(live.glob("*.parquet"))) == 1 and not (index_dir / dedup_index.SWITCHING).exists()
        got = decisions(spark, store / "runs" / CRAWL, index_dir, tmp_path_factory.mktemp(f"dedup-{step}"))
        assert got == expected, step


def unpublish(store: Path) -> Path:
    """Turn a finished store into one whose run was killed just before publishing; returns the run folder."""
    ds, run_dir = store / "datasets" / DATASET, store / "runs" / CRAWL
    for folder in (ds / "versions" / "v0001", ds / "dedup-index", run_dir / "publish"):
        shutil.rmtree(folder)
    (ds / "staging" / "v0001").mkdir(parents=True)
    return run_dir


@pytest.mark.slow
def test_a_crafted_version_id_and_a_planted_symlink_are_refused(spark, tmp_path_factory, capsys) -> None:
    base = tmp_path_factory.getbasetemp()
    warc, reference = sample_warc(base), reference_run(base)
    root = tmp_path_factory.mktemp("hostile")
    store = root / "store"
    shutil.copytree(reference, store)
    run_dir = unpublish(store)
    command = ["nightly", "--crawl-id", CRAWL, "--input", str(warc), "--store", str(store)]
    sentinel = root / "escape" / "version" / "keep.txt"  # where staging/../../../../escape/version would lead
    sentinel.parent.mkdir(parents=True)
    sentinel.write_text("outside the store")
    record = json.loads((run_dir / "version.json").read_text())
    (run_dir / "version.json").write_text(json.dumps({**record, "version": "../../../../escape"}))
    capsys.readouterr()
    assert main(command) == 2
    assert "'../../../../escape' is not a version id" in capsys.readouterr().err
    assert sentinel.read_text() == "outside the store" and published(store) == []

    (run_dir / "version.json").write_text(json.dumps(record))
    target = root / "outside.bin"
    target.write_bytes(b"not the store's")
    target.chmod(0o640)
    planted = run_dir / "stats" / "planted.parquet"
    planted.symlink_to(target)
    assert main(command) == 2
    assert f"{planted} is a symbolic link" in capsys.readouterr().err
    assert (target.stat().st_mode & 0o777, target.stat().st_nlink, target.read_bytes()) == (0o640, 1,
                                                                                            b"not the store's")
    assert published(store) == []

    planted.unlink()  # the store is still usable: the same run now publishes what a lone run published
    assert main(command) == 0
    assert manifest(store)["content_digest"] == manifest(reference)["content_digest"]
    assert os.listdir(root / "escape" / "version") == ["keep.txt"]


@pytest.mark.slow
def test_publish_redoes_dedup_when_a_version_was_published_since(spark, tmp_path_factory, capsys) -> None:
    """The run's dedup stage saw an empty index; before it publishes, another run publishes the same documents
    (v0002 here, copied from the reference's index). Publishing notices, redoes dedup, and finds nothing left."""
    base = tmp_path_factory.getbasetemp()
    warc, reference = sample_warc(base), reference_run(base)
    store = tmp_path_factory.mktemp("moving-index") / "store"
    shutil.copytree(reference, store)
    run_dir = unpublish(store)
    assert json.loads((run_dir / "dedup" / "index_seen.json").read_text()) == {"versions": []}
    index = store / "datasets" / DATASET / "dedup-index"
    shutil.copytree(reference / "datasets" / DATASET / "dedup-index", index)
    (index / "version=v0001").rename(index / "version=v0002")
    capsys.readouterr()
    assert main(["nightly", "--crawl-id", CRAWL, "--input", str(warc), "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert "v0002 published since this run's dedup stage; redoing dedup and the stages after it" in err
    assert "the dedup stage kept no document" in err
    counts = json.loads((run_dir / "dedup" / "_STAGE.json").read_text())["counts"]
    assert counts["output"] == 0 and counts["published_removed"] > 0
    assert json.loads((run_dir / "dedup" / "index_seen.json").read_text()) == {"versions": ["v0002"]}
    assert published(store) == [] and not (run_dir / "shards").exists()
