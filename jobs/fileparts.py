"""One output part per input file, written by the task that reads the file, so a crash costs only the files in
flight: the extract stage keeps finished parts and redoes the rest.

In `out/`: `records/part-<key>.parquet` (rows of one input file, renamed into place only when whole),
`_files/<key>.json` (the completion marker: input path and size, part name, rows, part bytes and the run's stamp,
written after the part) and `_inflight/<key>` (records and bytes read so far while the file is being read, for the
driver's progress line; removed when the file is done). The store is one file system for driver and executors
(docs/operations.md), so tasks write these paths directly.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any, Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from jwc.schemas.documents import EXTRACT_SCHEMA

MARKERS = "_files"
INFLIGHT = "_inflight"
RECORDS = "records"


def file_key(path: str) -> str:
    """A stable, file-system-safe name for an input path."""
    return hashlib.sha1(path.encode("utf-8")).hexdigest()[:20]


def part_name(path: str) -> str:
    return f"part-{file_key(path)}.parquet"


def write_part(batches: Iterable[pa.RecordBatch], part: Path) -> int:
    """Stream batches into `part` through a hidden temporary renamed when whole (readers skip hidden names, and a
    crash never leaves half a part under the final name); returns the rows written."""
    tmp = part.with_name(f".{part.name}.{uuid.uuid4().hex}.tmp")
    rows = 0
    with pq.ParquetWriter(tmp, EXTRACT_SCHEMA, compression="zstd") as writer:
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
    os.replace(tmp, part)
    return rows


def write_marker(out: Path, path: str, size: int, part: Path, rows: int, stamp: dict[str, str]) -> None:
    """Mark one input file done (after its part is in place)."""
    info = {"path": path, "size": size, "part": part.name, "rows": rows, "part_bytes": part.stat().st_size,
            "stamp": stamp, "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    _write_json(out / MARKERS / f"{file_key(path)}.json", info)


def _write_json(path: Path, value: Any) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(value, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def prepare(out: Path) -> None:
    """Create the folders tasks write into."""
    for name in (RECORDS, MARKERS, INFLIGHT):
        (out / name).mkdir(parents=True, exist_ok=True)


def finished_files(out: Path, sizes: dict[str, int], stamp: dict[str, str]) -> set[str]:
    """The input paths (of `sizes`: path -> size, 0 when unknown) an earlier attempt finished: marker readable, same
    stamp and size, its part there with the marked bytes and rows. Everything else in `records/` and `_files/`
    (parts without a valid marker, temporaries, other inputs' leftovers) is deleted, so those files are redone."""
    records, markers = out / RECORDS, out / MARKERS
    done: set[str] = set()
    keep: set[str] = set()
    for marker in sorted(markers.glob("*.json")) if markers.is_dir() else []:
        info = _read_json(marker)
        if info is not None and _valid(info, sizes, stamp, records):
            done.add(info["path"])
            keep.add(info["part"])
        else:
            marker.unlink()
    for leftover in (p for p in (records.iterdir() if records.is_dir() else []) if p.name not in keep):
        leftover.unlink()
    return done


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _valid(info: dict[str, Any], sizes: dict[str, int], stamp: dict[str, str], records: Path) -> bool:
    try:
        path, part = info["path"], records / info["part"]
        if path not in sizes or info["stamp"] != stamp or part.name != part_name(path):
            return False
        if sizes[path] and info["size"] != sizes[path]:
            return False
        return part.stat().st_size == info["part_bytes"] and pq.read_metadata(part).num_rows == info["rows"]
    except (KeyError, TypeError, OSError, pa.ArrowException):
        return False


def clean_temporaries(out: Path) -> None:
    """Remove what failed or killed task attempts left: hidden temporaries and running counts. Only between
    writes: a running task's files would go too."""
    for folder in (out / RECORDS, out / MARKERS):
        for tmp in folder.glob(".*.tmp") if folder.is_dir() else []:
            tmp.unlink(missing_ok=True)
    shutil.rmtree(out / INFLIGHT, ignore_errors=True)


class Inflight:
    """A task's running count for one file, written to `_inflight/<key>` at most every `every` seconds (0: never),
    because Spark's accumulators reach the driver only when a task ends."""

    def __init__(self, out: Path, path: str, every: float):
        self.file = out / INFLIGHT / file_key(path)
        self.every, self.last = every, time.monotonic()
        self.records = self.offset = 0

    def count(self, rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Pass rows through, counting each one (a batch of rows can take longer than a progress interval)."""
        for row in rows:
            self.records += 1
            self.offset = max(self.offset, row.get("source_offset") or 0)
            if self.every > 0 and time.monotonic() - self.last >= self.every:
                self.last = time.monotonic()
                _write_json(self.file, [self.records, self.offset])
            yield row

    def done(self) -> None:
        self.file.unlink(missing_ok=True)


def read_inflight(out: Path) -> tuple[int, int]:
    """(records, bytes) read so far by the files in flight, summed over `_inflight/` (a file may vanish while read)."""
    records = offset = 0
    folder = out / INFLIGHT
    for name in os.listdir(folder) if folder.is_dir() else []:
        if name.startswith("."):
            continue
        n, at = _read_pair(folder / name)
        records, offset = records + n, offset + at
    return records, offset


def _read_pair(path: Path) -> tuple[int, int]:
    try:
        pair = json.loads(path.read_text(encoding="utf-8"))
        return int(pair[0]), int(pair[1])
    except (OSError, ValueError, TypeError, IndexError):
        return 0, 0


def batched(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    """Lists of at most `size` rows."""
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
