"""Live progress of the extract stage: lines from inside a task while a file is read, not only when it ends."""
from __future__ import annotations

import re

import pyarrow as pa

from pathlib import Path

from jwc.jobs.extract import _make_task, run_extract
from jwc.jobs.fileparts import prepare
from jwc.pipeline import config
from jwc.pipeline.io.inputs import InputFile
from jwc.pipeline.sample.generate import generate_sample


class _Count:
    def __init__(self) -> None:
        self.value = 0

    def add(self, n: int) -> None:
        self.value += n


def _run(path: str, every: float, out: Path) -> int:
    cfg = config.load()
    prepare(out)
    task = _make_task(cfg["extract"], cfg["langid"], "P", str(out), {"crawl_id": "P"}, (_Count(), _Count()), None,
                      every)
    return sum(b.column("rows")[0].as_py() for b in task(iter([pa.RecordBatch.from_pydict({"path": [path]})])))


def test_extract_task_reports_progress_while_reading_a_file(tmp_path, capsys) -> None:
    warc = tmp_path / "s.warc.gz"
    generate_sample(str(warc), records=1600, seed=5)
    rows = _run(str(warc), 1e-6, tmp_path / "out")
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("[extract] s.warc.gz:")]
    read = [int(m.group(1).replace(",", "")) for m in (re.search(r"([\d,]+) responses read", x) for x in lines)]
    assert len(read) >= 3 and read == sorted(read) and read[-1] <= rows  # several lines, growing, mid-file
    assert all("Japanese documents" in x and "responses/s" in x for x in lines)
    _run(str(warc), 0, tmp_path / "out")
    assert "[extract]" not in capsys.readouterr().err  # 0 turns them off


def test_driver_progress_moves_while_the_first_file_is_read(spark, tmp_path, capsys) -> None:
    """The driver's line counts records the running task has read, before any file ends, and gives an ETA."""
    warc = tmp_path / "big.warc.gz"
    generate_sample(str(warc), records=1600, seed=7)
    cfg = config.load(overrides={"run": {"progress_seconds": 1}})
    out = tmp_path / "out"
    run_extract(spark, [InputFile(str(warc), warc.stat().st_size)], out, cfg, "P")
    rows = spark.read.parquet(str(out / "records")).count()
    lines = [x for x in capsys.readouterr().err.splitlines() if x.startswith("[extract] 0/1 files done")]
    shown = [int(re.search(r"done, ([\d,]+) records", x).group(1).replace(",", "")) for x in lines]
    assert [n for n in shown if 0 < n < rows], lines  # non-zero while the only file was still being read
    assert shown == sorted(shown) and max(shown) <= rows
    assert any(re.search(r", ETA \d+(s|m \d\ds)$", x) for x in lines if not x.startswith("[extract] 0/1 files done, 0 "))
    assert not (out / "_inflight").exists()  # nothing left in flight
