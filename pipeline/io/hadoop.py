"""The driver's view of a Hadoop file system (HDFS, viewfs, or any other with an atomic rename) through Hadoop's
own FileSystem API, reached through the Spark session's JVM and its Hadoop configuration, so every `spark.hadoop.*`
setting the user gave (name nodes, Kerberos, HA) applies; nothing here sets one.

Why the driver and not pyarrow's HDFS client: the JVM is already there with the cluster's configuration, and the
same code then runs against Hadoop's LocalFileSystem in tests (a `file:` URI), with no name node to start.

Every failure of the JVM comes back as HadoopError (an OSError and a UserError) with the Java exception's first
line, so the command line prints one line.
"""
from __future__ import annotations

import posixpath
import secrets
from typing import Any, Iterator

from jwc.pipeline.errors import UserError


class HadoopError(OSError, UserError):
    """A Hadoop file system refused or failed an operation; the message names the path and the JVM's reason."""


class HadoopMissing(FileNotFoundError, HadoopError):
    """The path does not exist."""


class HadoopExists(FileExistsError, HadoopError):
    """The target exists; nothing was replaced."""


class HadoopFS:
    """Files and folders under one Hadoop URI root (`hdfs://nn:8020/jwc`); paths are relative to it, '/'-joined."""

    def __init__(self, spark: Any, root: str) -> None:
        self._jvm = spark.sparkContext._jvm
        self._gateway = spark.sparkContext._gateway
        self.root = root.rstrip("/")
        conf = spark.sparkContext._jsc.hadoopConfiguration()
        root_path = self._jvm.org.apache.hadoop.fs.Path(self.root)
        with _java_errors(f"store {self.root}: no Hadoop file system for it"):
            self.fs = root_path.getFileSystem(conf)
            self.fc = self._jvm.org.apache.hadoop.fs.FileContext.getFileContext(root_path.toUri(), conf)

    def uri(self, rel: str = "") -> str:
        """The full URI of a relative path (what Spark reads and writes)."""
        return f"{self.root}/{rel}" if rel else self.root

    def _path(self, rel: str) -> Any:
        return self._jvm.org.apache.hadoop.fs.Path(self.uri(rel))

    def exists(self, rel: str) -> bool:
        with _java_errors(f"cannot look at {self.uri(rel)}"):
            return bool(self.fs.exists(self._path(rel)))

    def is_file(self, rel: str) -> bool:
        with _java_errors(f"cannot look at {self.uri(rel)}"):
            return bool(self.fs.isFile(self._path(rel)))

    def mkdirs(self, rel: str) -> None:
        with _java_errors(f"cannot create the folder {self.uri(rel)}"):
            if not self.fs.mkdirs(self._path(rel)):
                raise HadoopError(f"cannot create the folder {self.uri(rel)}")

    def children(self, rel: str) -> list[tuple[str, bool]]:
        """(name, is a folder) of every entry in a folder, sorted; [] when it is missing. A symbolic link is refused:
        links are never followed in the store."""
        if not self.exists(rel):
            return []
        with _java_errors(f"cannot list {self.uri(rel)}"):
            statuses = list(self.fs.listStatus(self._path(rel)))
            found = []
            for status in statuses:
                name = status.getPath().getName()
                if status.isSymlink():
                    raise HadoopError(f"{self.uri(posixpath.join(rel, name))} is a symbolic link; links are never "
                                  "followed in the store")
                found.append((name, bool(status.isDirectory())))
        return sorted(found)

    def files_under(self, rel: str) -> Iterator[str]:
        """Every file below a folder, as paths relative to it ('/'-joined)."""
        for name, is_dir in self.children(rel):
            if is_dir:
                yield from (f"{name}/{sub}" for sub in self.files_under(posixpath.join(rel, name)))
            else:
                yield name

    def read_bytes(self, rel: str) -> bytes:
        with _java_errors(f"cannot read {self.uri(rel)}"):
            stream = self.fs.open(self._path(rel))
            try:
                return bytes(self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
            finally:
                stream.close()

    def modified(self, rel: str) -> float:
        """Modification time, epoch seconds."""
        with _java_errors(f"cannot look at {self.uri(rel)}"):
            return self.fs.getFileStatus(self._path(rel)).getModificationTime() / 1000.0

    def size(self, rel: str) -> int:
        """A file's length in bytes."""
        with _java_errors(f"cannot look at {self.uri(rel)}"):
            return int(self.fs.getFileStatus(self._path(rel)).getLen())

    def touch(self, rel: str) -> None:
        """Set the modification time to now (a lock's heartbeat)."""
        now = self._jvm.java.lang.System.currentTimeMillis()
        with _java_errors(f"cannot touch {self.uri(rel)}"):
            self.fs.setTimes(self._path(rel), now, -1)

    def create(self, rel: str, data: bytes) -> bool:
        """Create a file with `data` unless it exists (`create(path, overwrite=false)`, atomic on HDFS); True when
        created."""
        with _java_errors(f"cannot create {self.uri(rel)}"):
            try:
                stream = self.fs.create(self._path(rel), False)
            except Exception as exc:  # py4j's error: the JVM's FileAlreadyExistsException, or another one
                if _java_class(exc).endswith("FileAlreadyExistsException"):
                    return False
                raise
            try:
                stream.write(bytearray(data))
                stream.hsync()
            finally:
                stream.close()
        return True

    def write_atomic(self, rel: str, data: bytes) -> None:
        """Write a file under a temporary name beside it, then rename it over nothing: readers see it whole or not
        at all. The target must not exist (the caller holds the lock that guards it)."""
        tmp = temp_name(rel)
        if not self.create(tmp, data):
            raise HadoopError(f"{self.uri(tmp)} exists already")
        try:
            self.rename(tmp, rel)
        except BaseException:
            self.delete(tmp)
            raise

    def rename(self, src: str, dst: str) -> None:
        """One FileContext.rename without OVERWRITE: on HDFS it fails atomically when the target exists (HadoopExists),
        where FileSystem.rename onto an existing folder would move the source *into* it. Nothing is ever replaced."""
        fs_pkg = self._jvm.org.apache.hadoop.fs
        no_overwrite = self._gateway.new_array(fs_pkg.Options.Rename, 1)
        no_overwrite[0] = fs_pkg.Options.Rename.NONE
        with _java_errors(f"cannot rename {self.uri(src)} to {self.uri(dst)}"):
            self.fc.rename(self._path(src), self._path(dst), no_overwrite)

    def delete(self, rel: str) -> None:
        """Delete a file or a folder tree, if present."""
        with _java_errors(f"cannot delete {self.uri(rel)}"):
            self.fs.delete(self._path(rel), True)

    def put(self, local: str, rel: str) -> None:
        """Copy a local file or folder to `rel` (which must not exist)."""
        with _java_errors(f"cannot copy {local} to {self.uri(rel)}"):
            self.fs.copyFromLocalFile(False, False, self._jvm.org.apache.hadoop.fs.Path(local), self._path(rel))

    def get(self, rel: str, local: str) -> None:
        """Copy one file out to a local path, without Hadoop's checksum side files."""
        with _java_errors(f"cannot copy {self.uri(rel)} to {local}"):
            self.fs.copyToLocalFile(False, self._path(rel), self._jvm.org.apache.hadoop.fs.Path(local), True)


def temp_name(rel: str) -> str:
    """A hidden temporary name beside `rel` (Spark and the store's readers skip `_`-prefixed names)."""
    head, name = posixpath.split(rel)
    return posixpath.join(head, f"_{name}.{secrets.token_hex(6)}.tmp")


class HadoopLockFile:
    """LockFile on a Hadoop file system: exclusive create, modification time as heartbeat, rename aside."""

    def __init__(self, fs: HadoopFS, rel: str) -> None:
        self.fs, self.rel = fs, rel

    def create(self, data: bytes) -> bool:
        self.fs.mkdirs(posixpath.dirname(self.rel))
        return self.fs.create(self.rel, data)

    def read(self) -> tuple[bytes, float] | None:
        try:
            return self.fs.read_bytes(self.rel), self.fs.modified(self.rel)
        except FileNotFoundError:
            return None

    def touch(self) -> None:
        self.fs.touch(self.rel)

    def take_away(self) -> bytes | None:
        aside = f"{self.rel}.{secrets.token_hex(4)}.broken"
        try:
            self.fs.rename(self.rel, aside)
        except (FileNotFoundError, FileExistsError):
            return None
        except OSError:
            if not self.fs.exists(self.rel):
                return None  # another process moved it first
            raise
        data = self.fs.read_bytes(aside)
        self.fs.delete(aside)
        return data

    def put_back(self, data: bytes) -> None:
        self.create(data)


def _java_class(exc: BaseException) -> str:
    """The Java class name behind a py4j error ('' for a Python exception)."""
    java = getattr(exc, "java_exception", None)
    return str(java.getClass().getName()) if java is not None else ""


class _java_errors:
    """Turn a JVM exception into OSError (FileNotFoundError for a missing file) with one line: `what` and the
    Java message's first line."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool:
        name = _java_class(exc) if exc is not None else ""
        if not name:
            return False
        message = str(exc.java_exception.getMessage() or name).splitlines()[0]  # type: ignore[union-attr]
        error = (HadoopMissing if name.endswith("FileNotFoundException")
                 else HadoopExists if name.endswith("FileAlreadyExistsException") else HadoopError)
        raise error(f"{self.what}: {message}") from None
