"""Progress lines on the console while a Spark stage runs: tasks done, and a rate from an accumulator."""
from __future__ import annotations

import sys
import threading
import time
from typing import Callable

from pyspark import SparkContext


class Progress:
    """Prints `stage: done/total units, N items, R items/s` every `every` seconds from a background thread."""

    def __init__(self, sc: SparkContext, stage: str, unit: str, total: int, count: Callable[[], int],
                 every: float, item: str = "records"):
        self.sc, self.stage, self.unit, self.total = sc, stage, unit, total
        self.count, self.every, self.item = count, every, item
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.started = time.monotonic()

    def __enter__(self) -> "Progress":
        self.started = time.monotonic()
        if self.every > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def _done_tasks(self) -> int:
        tracker = self.sc.statusTracker()
        done = 0
        for job_id in tracker.getActiveJobsIds():
            job = tracker.getJobInfo(job_id)
            for stage_id in (job.stageIds if job else []):
                info = tracker.getStageInfo(stage_id)
                if info:
                    done += info.numCompletedTasks
        return done

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        n = self.count()
        return (f"[{self.stage}] {min(self._done_tasks(), self.total)}/{self.total} {self.unit} done, "
                f"{n:,} {self.item}, {n / elapsed:,.0f} {self.item}/s, {elapsed:,.0f}s")

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            print(self.line(), file=sys.stderr, flush=True)
