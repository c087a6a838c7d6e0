"""Atomic writes to the local file system: readers see the old file or the whole new one, never a part.

Every write goes to a temporary file beside the target (same folder, so the rename cannot cross file systems), is
fsynced, then renamed over the target; a crash leaves at most a hidden `.<name>.<pid>.<rand>.tmp` file, and a
retried Spark task never leaves half a file. AtomicFile is the streaming form (Megatron files, Parquet shards);
atomic_write_bytes/text/json write a value at once; atomic_folder does the same for a folder of files, and create_once makes a file
that only one of several racing processes may create.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Callable, Iterator


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


@contextmanager
def atomic_folder(dest: Path) -> Iterator[Path]:
    """A new folder filled under a temporary name beside `dest` (the yielded path) and renamed into place on a clean
    exit, so a folder that appears is whole. When another process placed `dest` first, its folder wins and the copy
    is removed; an error in the block removes the copy and leaves `dest` as it was."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(dest)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        os.rename(tmp, dest)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not dest.is_dir():
            raise
    else:
        fsync_dir(dest.parent)


def create_once(path: Path, fill: Callable[[Path], None]) -> bool:
    """Create `path` unless it exists, whole or not at all: `fill` writes a private temporary file, which is then
    hard-linked into place (a link fails when the name exists, so of two racing processes exactly one creates it).
    True when this call created it."""
    tmp = temp_path(path)
    try:
        fill(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    return True
