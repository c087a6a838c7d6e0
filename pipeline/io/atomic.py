"""Atomic writes to the local file system: readers see the old file or the whole new one, never a part.

Every write goes to a temporary file beside the target (same folder, so the rename cannot cross file systems), is
fsynced, then renamed over the target; a crash leaves at most a hidden `.<name>.<pid>.<rand>.tmp` file, and a
retried Spark task never leaves half a file. AtomicFile is the streaming form (Megatron files, Parquet shards);
atomic_write_bytes/text/json write a value at once.
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO


def temp_path(path: Path) -> Path:
    """A hidden temporary name beside `path`, unique per process and call."""
    return path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"


class AtomicFile:
    """A binary file written under a temporary name and renamed onto `target` by commit() (or a clean `with` exit);
    abort() (or an exception in the `with` block) removes it and leaves the target as it was."""

    def __init__(self, target: str | os.PathLike[str], buffering: int = 1 << 20):
        self.target = Path(target)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = temp_path(self.target)
        # os.open with 0o666 (not mkstemp's 0o600) so the final file gets the usual umask-based permissions.
        fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        self.fh: BinaryIO = os.fdopen(fd, "wb", buffering=buffering)

    def commit(self) -> None:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        os.replace(self.tmp, self.target)

    def abort(self) -> None:
        self.fh.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> BinaryIO:
        return self.fh

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            self.commit()
        else:
            self.abort()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` through a temporary file, fsync, then rename."""
    with AtomicFile(path) as fh:
        fh.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """atomic_write_bytes of UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], data: Any) -> None:
    """JSON as people read it (indented, sorted keys, Japanese unescaped, final newline), written atomically."""
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def fsync_dir(path: Path) -> None:
    """Make a rename inside `path` durable (the folder's entry list reaches the disk)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
