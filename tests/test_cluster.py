"""The nightly on a real Spark standalone cluster (a master and two one-core workers on 127.0.0.1, started from the
installed pyspark) keeps the same documents and writes the same tokens as in local mode."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pyarrow.parquet as pq
import pytest

from tests.helpers import data_totals, manifest, reference_run, run_nightly, sample_warc, version_content

pytestmark = pytest.mark.slow
LOOPBACK = "127.0.0.1"
# Every daemon and the driver bind and advertise the loopback address only, and Python workers are this venv's.
CLUSTER_ENV = {"SPARK_LOCAL_IP": LOOPBACK, "SPARK_LOCAL_HOSTNAME": LOOPBACK, "PYSPARK_PYTHON": sys.executable}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def _wait_for(log: Path, pattern: str, count: int, timeout: float, procs: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + timeout
    while len(re.findall(pattern, log.read_text(errors="replace"))) < count:
        dead = [p.args for p in procs if p.poll() is not None]
        assert not dead and time.monotonic() < deadline, (
            f"cluster did not come up ({pattern!r} x{count}); exited: {dead}\n{log.read_text()[-3000:]}")
        time.sleep(0.25)


@contextmanager
def standalone_cluster(work: Path, workers: int = 2) -> Iterator[tuple[str, list[Path]]]:
    """A standalone master and `workers` one-core, 1 GB workers; yields (master URL, worker logs). The daemons
    are killed (whole process groups) on exit, whatever happened."""
    import pyspark

    spark_home = Path(pyspark.__file__).parent
    spark_class = str(spark_home / "bin" / "spark-class")
    env = {**os.environ, **CLUSTER_ENV, "SPARK_HOME": str(spark_home)}
    port = _free_port()
    url = f"spark://{LOOPBACK}:{port}"
    procs: list[subprocess.Popen] = []
    logs: list[Path] = []

    def start(name: str, args: list[str]) -> Path:
        log = work / f"{name}.log"
        with open(log, "wb") as fh:
            procs.append(subprocess.Popen([spark_class, *args], env=env, cwd=work, stdout=fh,
                                          stderr=subprocess.STDOUT, start_new_session=True))
        logs.append(log)
        return log

    try:
        master_log = start("master", ["org.apache.spark.deploy.master.Master", "--host", LOOPBACK,
                                      "--port", str(port), "--webui-port", "0"])
        _wait_for(master_log, r"I have been elected leader", 1, 180, procs)
        for i in range(workers):
            (work / f"worker-{i}").mkdir()
            start(f"worker-{i}", ["org.apache.spark.deploy.worker.Worker", url, "--host", LOOPBACK,
                                  "--cores", "1", "--memory", "1g", "--webui-port", "0",
                                  "--work-dir", str(work / f"worker-{i}")])
        _wait_for(master_log, r"Registering worker", workers, 180, procs)
        yield url, logs[1:]
    finally:
        for proc in procs:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


def _doc_ids(store: Path) -> list[list[str]]:
    """The doc_id column of every shard of v0001, in manifest order."""
    root = store / "datasets" / "ja-web" / "versions" / "v0001"
    return [pq.read_table(root / s["parquet"], columns=["doc_id"]).column(0).to_pylist()
            for s in manifest(store)["shards"]]


def _token_files(store: Path) -> dict[str, str]:
    return {f["path"]: f["sha256"] for f in manifest(store)["files"] if f["kind"].startswith("tokens")}


def test_standalone_cluster_gives_the_local_mode_version(tmp_path_factory) -> None:
    base = tmp_path_factory.getbasetemp()
    warc = sample_warc(base)
    local = reference_run(base)
    work = tmp_path_factory.mktemp("cluster")
    store = work / "store"
    with standalone_cluster(work) as (url, worker_logs):
        code, err = run_nightly(store, warc, "--master", url, env=CLUSTER_ENV)
        assert code == 0, err[-4000:]
        for log in worker_logs:  # both workers ran executors of the nightly, with the venv's Python
            assert "Asked to launch executor app-" in log.read_text(errors="replace"), log.read_text()[-2000:]
        executor_logs = list(work.glob("worker-*/app-*/*/stderr"))
        assert len({p.parts[-4] for p in executor_logs}) == 2
        for log in executor_logs:  # executors reached the driver on the loopback address
            assert f"CoarseGrainedScheduler@{LOOPBACK}:" in log.read_text(errors="replace")
    ids = _doc_ids(store)
    assert ids == _doc_ids(local) and sum(map(len, ids)) > 30
    assert _token_files(store) == _token_files(local) and len(_token_files(store)) >= 2
    assert data_totals(store) == data_totals(local)
    assert manifest(store)["content_digest"] == manifest(local)["content_digest"]
    assert version_content(store) == version_content(local)  # the statistics tables too
