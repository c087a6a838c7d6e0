"""The dataset store: a folder a person can read with `ls`.

    store/
      jwc-store.json                       marks the folder as a store (format version)
      runs/<crawl-id>/<stage>/             work in progress, one folder per finished stage
      datasets/<name>/versions/<id>/       published, immutable versions
      datasets/<name>/dedup-index/         band keys and signatures of everything published
      datasets/<name>/tokenizer/           the tokenizer the dataset is pinned to
      locks/run-<crawl-id>.lock            held while a run of that crawl id runs (pipeline/io/lock.py)
      locks/dataset-<name>.lock            held while publishing to the dataset or compacting its index

A store may also live on a Hadoop file system with an atomic rename (`hdfs://`, `viewfs://`, or any URI with
`[store] api = "hadoop"`): there it keeps what is shared and long-lived (the marker, published versions, the dedup
index, the tokenizer pin, the locks), and a run works in a local store folder (`SharedStore`, `store_location`).

Names and paths read back from store files (version ids, tokenizer folders, manifest paths) are checked with
`safe_name` and `inside` before they are used: a crafted file must not make the pipeline read, write or delete
anything outside the store, and symlinks planted in it are never followed.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from jwc.pipeline.errors import UserError
from jwc.pipeline.io.atomic import create_once
from jwc.pipeline.io.paths import local_path
from jwc.pipeline.io.lock import LOCK_PARAMS, LockFile, PosixLockFile, StoreLock
from jwc.schemas.config import Param

if TYPE_CHECKING:
    from jwc.pipeline.io.hadoop import HadoopFS

STORE_FORMAT = 1
MARKER = "jwc-store.json"
LOCKS = "locks"
WORK_MARKER = "jwc-work.json"  # in a run's local work folder: the Hadoop store it works for
HADOOP_SCHEMES = ("hdfs", "viewfs")  # go through Hadoop's FileSystem API without being asked
OBJECT_STORES = ("s3", "s3a", "s3n", "gs", "wasb", "wasbs", "abfs", "abfss", "adl", "oss", "cos", "cosn", "obs")
STORE_PARAMS: dict[str, Param] = {
    **LOCK_PARAMS,
    "api": Param("auto", "How the store is reached: auto (a path or file: URI is a POSIX folder; hdfs:// and viewfs:// "
                         "go through Hadoop's FileSystem API) or hadoop (every URI through Hadoop's FileSystem API, "
                         "e.g. a file: URI through Hadoop's LocalFileSystem).", kind=str, choices=("auto", "hadoop"),
                 operational=True),
    "work_dir": Param("jwc-work", "Local folder where a run on a Hadoop store works (runs/, staging); executors write "
                                  "some outputs from Python, which needs a POSIX folder. Relative to the current "
                                  "folder.", kind=str, operational=True),
}


def now_utc() -> str:
    """The timestamp format every record in the store uses (UTC, seconds)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class StoreError(UserError):
    """The store folder cannot be used; the message says why."""


@dataclass(frozen=True)
class Location:
    """Where a --store points: a local folder (`path`), or a Hadoop URI (`uri`)."""

    path: str | None = None
    uri: str | None = None


def store_location(root: str, api: str = "auto") -> Location:
    """Classify a --store before any work: a local folder, a Hadoop URI, or a refusal (one line, nothing created).

    Object stores are refused: publishing needs an atomic folder rename, which they do not have."""
    scheme = root.split(":", 1)[0].lower() if _SCHEME.match(root) else ""
    if scheme in OBJECT_STORES:
        raise StoreError(f"store {root}: {scheme}:// is an object store without an atomic rename; a store is a local "
                         f"or mounted POSIX folder, or on {', '.join(f'{s}://' for s in HADOOP_SCHEMES)} (or any "
                         "Hadoop file system with [store] api = \"hadoop\"); publish there, copy the version folder "
                         "to the object store, then check the copy with `jwc versions verify` (docs/operations.md)")
    if scheme in HADOOP_SCHEMES or (api == "hadoop" and scheme):
        if "//" not in root.split(":", 1)[1][:2]:
            raise StoreError(f"store {root}: a Hadoop store is a URI with an authority or an empty one "
                             f"({scheme}://namenode:8020/path or {scheme}:///path)")
        return Location(uri=root.rstrip("/"))
    if api == "hadoop":
        raise StoreError(f"store {root}: [store] api = \"hadoop\" takes a URI (hdfs://nn:8020/jwc, file:///path)")
    return Location(path=_local_root(root))


class SharedStore:
    """The shared part of a store on a Hadoop file system: marker, locks, dataset folders, reached by URI."""

    def __init__(self, fs: "HadoopFS") -> None:
        self.fs = fs

    @classmethod
    def open(cls, fs: "HadoopFS", create: bool = True) -> "SharedStore":
        """Open (or create in a missing or empty folder) the store at the root of `fs`; the same checks as
        Store.open. The marker is written under a temporary name and renamed, so it is whole or absent."""
        if not fs.is_file(MARKER):
            if not create:
                raise StoreError(f"no store at {fs.root}")
            others = [n for n, _ in fs.children("") if not n.startswith(f"_{MARKER}.")]
            if others:
                raise StoreError(f"not a jwc store (no {MARKER}) and not empty: {fs.root}")
            fs.mkdirs("")
            try:
                fs.write_atomic(MARKER, (json.dumps({"format": STORE_FORMAT}) + "\n").encode())
            except FileExistsError:
                pass  # created by another process at the same moment
        try:
            fmt = json.loads(fs.read_bytes(MARKER))["format"]
        except (ValueError, KeyError) as exc:
            raise StoreError(f"{fs.uri(MARKER)} is damaged: {exc}") from None
        if fmt != STORE_FORMAT:
            raise StoreError(f"store {fs.root} has format {fmt}; this version reads format {STORE_FORMAT}")
        return cls(fs)

    def dataset(self, dataset: str) -> str:
        """The dataset's folder, relative to the store root."""
        return f"datasets/{safe_name(dataset, 'dataset name')}"

    def lock_file(self, name: str) -> LockFile:
        from jwc.pipeline.io.hadoop import HadoopLockFile  # noqa: PLC0415 - Hadoop stores only

        return HadoopLockFile(self.fs, f"{LOCKS}/{name}")

    def dataset_lock(self, dataset: str, owner: str, params: Mapping[str, Any]) -> StoreLock:
        """The dataset's lock (publishing, changing its dedup index), held in the Hadoop store."""
        return StoreLock(self.lock_file(dataset_lock_name(dataset)), f"dataset {self.fs.uri(self.dataset(dataset))}",
                         owner, params)

    def index_uri(self, dataset: str) -> str:
        """The dataset's dedup index, as Spark reads it."""
        return self.fs.uri(f"{self.dataset(dataset)}/dedup-index")


def dataset_lock_name(dataset: str) -> str:
    """The lock file of a dataset, the same name in a local and a Hadoop store."""
    return f"dataset-{safe_name(dataset, 'dataset name')}.lock"


class Store:
    def __init__(self, root: str | Path, shared: SharedStore | None = None):
        self.root = Path(root)
        self.shared = shared  # set when the store is on a Hadoop file system and `root` is a run's work folder

    @classmethod
    def open_shared(cls, shared: SharedStore, work: str | Path) -> "Store":
        """A run's view of a Hadoop store: the local work folder `work` (a store of its own, bound to that one
        Hadoop store, so two Hadoop stores never share one work folder's runs) with `shared` for the rest."""
        local = cls.open(work)
        binding = local.root / WORK_MARKER
        if not binding.is_file():
            create_once(binding, lambda tmp: tmp.write_text(json.dumps({"store": shared.fs.root}) + "\n"))
        bound = json.loads(binding.read_text())["store"]
        if bound != shared.fs.root:
            raise StoreError(f"work folder {local.root} works for the store {bound}, not {shared.fs.root}: give "
                             "another one with [store] work_dir or --work")
        return cls(local.root, shared)

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
            # another process may create it at the same moment: then both open its store
            create_once(marker, lambda tmp: tmp.write_text(json.dumps({"format": STORE_FORMAT}) + "\n"))
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
        return StoreLock(self._lock_file(f"run-{safe_name(crawl_id, 'crawl id')}.lock"),
                         f"run folder {self.run_dir(crawl_id)}", owner, params)

    def dataset_lock(self, dataset: str, owner: str, params: Mapping[str, Any]) -> StoreLock:
        """The lock of a dataset: publishing a version, changing its dedup index (in the Hadoop store when there
        is one)."""
        if self.shared:
            return self.shared.dataset_lock(dataset, owner, params)
        return StoreLock(self._lock_file(dataset_lock_name(dataset)), f"dataset {self.dataset_dir(dataset)}", owner,
                         params)

    def _lock_file(self, name: str) -> LockFile:
        """Locks live where the things they guard are shared: in the Hadoop store when there is one."""
        return self.shared.lock_file(name) if self.shared else PosixLockFile(self.root / LOCKS / name)

    def index_dir(self, dataset: str) -> str:
        """The dataset's dedup index, as Spark reads it: a local path, or a URI in the Hadoop store."""
        if self.shared:
            return self.shared.index_uri(dataset)
        return str(self.dataset_dir(dataset) / "dedup-index")

    def version_location(self, dataset: str, version: str) -> str:
        """Where a published version is for people: its local folder, or its URI in the Hadoop store."""
        if self.shared:
            return self.shared.fs.uri(f"{self.shared.dataset(dataset)}/versions/{version}")
        return str(self.dataset_dir(dataset) / "versions" / version)


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def _local_root(root: str) -> str:
    """A store is a local folder or a shared POSIX mount (NFS, a FUSE-mounted HDFS): a path or a file: URI. Any other
    URI is refused before anything is created (Path() would turn hdfs://nn/x into a local folder hdfs:/nn/x)."""
    try:
        local = local_path(root)
    except OSError as exc:
        raise StoreError(str(exc)) from None
    if local is None or (_SCHEME.match(root) and not root.startswith("file:")):
        raise StoreError(f"store {root}: not a supported store: a local or mounted POSIX folder (a path or file: URI), "
                         f"or {', '.join(f'{s}://' for s in HADOOP_SCHEMES)} (any Hadoop file system with [store] "
                         "api = \"hadoop\"); for an object store, publish there, copy the version folder, then check "
                         "the copy with `jwc versions verify` (docs/operations.md)")
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
