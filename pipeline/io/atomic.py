"""Atomic writes to the local file system: readers see the old file or the whole new one, never a part.

Every write goes to a temporary file beside the target (same folder, so the rename cannot cross file systems), is
fsynced, then renamed over the target; a crash leaves at most a hidden `.<name>.<pid>.<rand>.tmp` file.
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any


def temp_path(path: Path) -> Path:
    """A hidden temporary name beside `path`, unique per process and call."""
    return path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file, fsync, then rename."""
    path = Path(path)
    tmp = temp_path(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """atomic_write_bytes of UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, data: Any) -> None:
    """JSON as people read it (indented, sorted keys, Japanese unescaped, final newline), written atomically."""
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def fsync_dir(path: Path) -> None:
    """Make a rename inside `path` durable (the folder's entry list reaches the disk)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
