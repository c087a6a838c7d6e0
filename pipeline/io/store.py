"""The dataset store: a folder a person can read with `ls`.

    store/
      jwc-store.json                       marks the folder as a store (format version)
      runs/<crawl-id>/<stage>/             work in progress, one folder per finished stage
      datasets/<name>/versions/<id>/       published, immutable versions
      datasets/<name>/dedup-index/         band keys and signatures of everything published
      datasets/<name>/tokenizer/           the tokenizer the dataset is pinned to
      locks/run-<crawl-id>.lock            held while a run of that crawl id runs (pipeline/io/lock.py)
      locks/dataset-<name>.lock            held while publishing to the dataset or compacting its index

Names and paths read back from store files (version ids, tokenizer folders, manifest paths) are checked with
`safe_name` and `inside` before they are used: a crafted file must not make the pipeline read, write or delete
anything outside the store, and symlinks planted in it are never followed.
"""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any, Mapping

from jwc.pipeline.errors import UserError
from jwc.pipeline.io.atomic import temp_path
from jwc.pipeline.io.paths import local_path
from jwc.pipeline.io.lock import PosixLockFile, StoreLock

STORE_FORMAT = 1
MARKER = "jwc-store.json"
LOCKS = "locks"


def now_utc() -> str:
    """The timestamp format every record in the store uses (UTC, seconds)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class StoreError(UserError):
    """The store folder cannot be used; the message says why."""


class Store:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    @classmethod
    def open(cls, root: str | Path, create: bool = True) -> "Store":
        """Open a store, creating it in a missing or empty folder; refuse a folder that holds something else.

        Two processes may create the same store at once (two nightlies started together): the marker is linked
        into place from a private temporary file, so one of them creates it and both open it.
        """
        path = Path(_local_root(str(root)))
        marker = path / MARKER
        if path.exists() and not path.is_dir():
            raise StoreError(f"store path is a file, not a folder: {path}")
        # The marker is checked again after listing: another process may have created the store meanwhile.
        if not marker.is_file() and path.exists() and _other_entries(path) and not marker.is_file():
            raise StoreError(f"not a jwc store (no {MARKER}) and not empty: {path}")
        if not marker.is_file():
            if not create:
                raise StoreError(f"no store at {path}")
            path.mkdir(parents=True, exist_ok=True)
            tmp = temp_path(marker)
            tmp.write_text(json.dumps({"format": STORE_FORMAT}) + "\n")
            try:
                os.link(tmp, marker)
            except FileExistsError:
                pass  # created by another process at the same moment
            finally:
                tmp.unlink()
        try:
            fmt = json.loads(marker.read_text())["format"]
        except (ValueError, KeyError) as exc:
            raise StoreError(f"{marker} is damaged: {exc}") from None
        if fmt != STORE_FORMAT:
            raise StoreError(f"store {path} has format {fmt}; this version reads format {STORE_FORMAT}")
        return cls(path)

    def check_writable(self) -> None:
        """Refuse a store that cannot be written (read-only mount, permissions, full disk) before any work."""
        probe = self.root / f".{MARKER}.probe"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise StoreError(f"cannot write to the store {self.root}: {exc.strerror}; a run needs a writable store "
                             "(a published crawl can be rerun read-only: every stage is skipped)") from None

    def run_dir(self, crawl_id: str) -> Path:
        return self.root / "runs" / safe_name(crawl_id, "crawl id")

    def dataset_dir(self, dataset: str) -> Path:
        return self.root / "datasets" / safe_name(dataset, "dataset name")

    def run_lock(self, crawl_id: str, owner: str, params: Mapping[str, Any]) -> StoreLock:
        """The lock of a crawl's run folder (outside it: deleting the folder, or refusing a run, leaves no trace)."""
        file = PosixLockFile(self.root / LOCKS / f"run-{safe_name(crawl_id, 'crawl id')}.lock")
        return StoreLock(file, f"run folder {self.run_dir(crawl_id)}", owner, params)

    def dataset_lock(self, dataset: str, owner: str, params: Mapping[str, Any]) -> StoreLock:
        """The lock of a dataset: publishing a version, changing its dedup index."""
        file = PosixLockFile(self.root / LOCKS / f"dataset-{safe_name(dataset, 'dataset name')}.lock")
        return StoreLock(file, f"dataset {self.dataset_dir(dataset)}", owner, params)


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def _local_root(root: str) -> str:
    """A store is a local folder or a shared POSIX mount (NFS, a FUSE-mounted HDFS): a path or a file: URI. Any other
    URI is refused before anything is created (Path() would turn hdfs://nn/x into a local folder hdfs:/nn/x)."""
    try:
        local = local_path(root)
    except OSError as exc:
        raise StoreError(str(exc)) from None
    if local is None or (_SCHEME.match(root) and not root.startswith("file:")):
        raise StoreError(f"store {root}: only a local or mounted POSIX folder (a path or file: URI) can hold a store; "
                         "for HDFS or an object store, publish into a local or mounted folder, copy the version "
                         "folder, then check the copy with `jwc versions verify` (docs/operations.md)")
    return local


def _other_entries(path: Path) -> bool:
    """Whether a folder holds anything but the temporary marker files of a store being created."""
    return any(not (p.name.startswith(f".{MARKER}.") and p.name.endswith(".tmp")) for p in path.iterdir())


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def safe_name(name: str, what: str) -> str:
    """Crawl ids and dataset names become folder names in the store and parts of Spark paths: only letters, digits,
    '.', '_' and '-' (Spark reads `[` and `{` as globs and `:` as a URI scheme; `/` could leave the store), at most
    100 characters (file systems cap a name at 255 bytes)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        shown = repr(name) if not isinstance(name, str) or len(name) <= 60 else f"{name[:40]!r}... ({len(name)} characters)"
        raise StoreError(f"not a usable {what}: {shown}; it names a folder in the store: use letters, digits, '.', "
                         "'_' and '-', at most 100 characters, starting with a letter or digit")
    return name


def inside(root: Path, path: Path, what: str = "path") -> Path:
    """`path`, checked to lie under `root` with no symlink on the way (a planted link would lead outside, or make
    the pipeline change the mode or contents of its target); refuses with StoreError."""
    root, path = Path(root), Path(path)
    try:
        rel = path.relative_to(root)
    except ValueError:
        raise StoreError(f"{what} {path} is outside {root}") from None
    if ".." in rel.parts:
        raise StoreError(f"{what} {path} leaves {root} through '..'")
    current = root
    for part in rel.parts:
        current = current / part
        if current.is_symlink():
            raise StoreError(f"{what} {current} is a symbolic link; links are never followed in the store")
    return path
