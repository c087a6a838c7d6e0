"""Resolve the input WARC files of a run, on the driver, before any work starts.

Paths and globs go through Hadoop's file system layer, so local paths, file:, hdfs:, s3a: and any other scheme the
cluster knows work alike. Only file names and sizes reach the driver, never contents.
"""
from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import SparkSession

from jwc.pipeline.errors import UserError
from jwc.pipeline.io.paths import local_path


class InputError(UserError):
    """An input that cannot be read; the message names it."""


@dataclass(frozen=True)
class InputFile:
    path: str
    size: int


def _has_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[{")


def resolve_inputs(spark: SparkSession, patterns: list[str]) -> list[InputFile]:
    """Every file matched by the patterns, sorted, each once. Raises InputError for a missing path or empty glob."""
    if not patterns:
        raise InputError("no input given: pass --input PATH_OR_GLOB (repeatable)")
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    found: dict[str, int] = {}
    for pattern in patterns:
        path = jvm.org.apache.hadoop.fs.Path(pattern)
        fs = path.getFileSystem(conf)
        statuses = fs.globStatus(path)
        if statuses is None or len(statuses) == 0:
            kind = "glob matched no files" if _has_glob(pattern) else "input path does not exist"
            raise InputError(f"{kind}: {pattern}")
        for st in statuses:
            if st.isDirectory():
                children = [c for c in fs.listStatus(st.getPath()) if c.isFile()
                            and not c.getPath().getName().startswith((".", "_"))]
                if not children:
                    raise InputError(f"input directory has no files: {st.getPath().toString()}")
                for c in children:
                    found[_worker_path(c.getPath().toString())] = int(c.getLen())
            else:
                found[_worker_path(st.getPath().toString())] = int(st.getLen())
    return [InputFile(p, s) for p, s in sorted(found.items())]


def _worker_path(uri: str) -> str:
    """file:/x/y -> /x/y, so workers open local files directly; other schemes stay URIs."""
    return local_path(uri) or uri
