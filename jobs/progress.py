"""Progress lines on the console while a Spark stage runs: tasks done, items and their rate, an ETA."""
from __future__ import annotations

import sys
import threading
import time
from typing import Callable

from pyspark import SparkContext


class Progress:
    """Prints `stage: done/total units, N items, R items/s, elapsed, ETA` every `every` seconds from a background
    thread. The ETA comes from `fraction()` (share of the work done, None when unknown), else from the units done.
    The item count shown never goes down (a task's running count and its final one may briefly overlap or miss)."""

    def __init__(self, sc: SparkContext, stage: str, unit: str, total: int, count: Callable[[], int],
                 every: float, item: str = "records", fraction: Callable[[], float | None] | None = None):
        self.sc, self.stage, self.unit, self.total = sc, stage, unit, total
        self.count, self.every, self.item, self.fraction = count, every, item, fraction
        self._shown = 0
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
        self._shown = n = max(self._shown, self.count())
        done = min(self._done_tasks(), self.total)
        share = self.fraction() if self.fraction else None
        if share is None and done:
            share = done / self.total
        eta = f", ETA {duration(elapsed * (1 - share) / share)}" if share and 0 < share < 1 else ""
        return (f"[{self.stage}] {done}/{self.total} {self.unit} done, {n:,} {self.item}, "
                f"{n / elapsed:,.0f} {self.item}/s, {elapsed:,.0f}s{eta}")

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            print(self.line(), file=sys.stderr, flush=True)


def duration(seconds: float) -> str:
    """`45s`, `12m 03s`, `3h 07m`: precise enough for an estimate."""
    secs = int(round(seconds))
    if secs < 60:
        return f"{secs}s"
    if secs < 3600:
        return f"{secs // 60}m {secs % 60:02d}s"
    return f"{secs // 3600}h {secs % 3600 // 60:02d}m"
