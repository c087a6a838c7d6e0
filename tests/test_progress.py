"""Live progress of the extract stage: lines from inside a task while a file is read, not only when it ends."""
from __future__ import annotations

import re

import pyarrow as pa

from jwc.jobs.extract import _make_task
from jwc.pipeline import config
from jwc.pipeline.sample.generate import generate_sample


class _Count:
    def __init__(self) -> None:
        self.value = 0

    def add(self, n: int) -> None:
        self.value += n


def _run(path: str, every: float) -> int:
    cfg = config.load()
    task = _make_task(cfg["extract"], cfg["langid"], "P", _Count(), None, every)
    return sum(b.num_rows for b in task(iter([pa.RecordBatch.from_pydict({"path": [path]})])))


def test_extract_task_reports_progress_while_reading_a_file(tmp_path, capsys) -> None:
    warc = tmp_path / "s.warc.gz"
    generate_sample(str(warc), records=1600, seed=5)
    rows = _run(str(warc), 1e-6)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("[extract] s.warc.gz:")]
    read = [int(m.group(1).replace(",", "")) for m in (re.search(r"([\d,]+) responses read", x) for x in lines)]
    assert len(read) >= 3 and read == sorted(read) and read[-1] <= rows  # several lines, growing, mid-file
    assert all("Japanese documents" in x and "responses/s" in x for x in lines)
    _run(str(warc), 0)
    assert "[extract]" not in capsys.readouterr().err  # 0 turns them off
