"""Resolve the input WARC files of a run, on the driver, before any work starts.

Local paths (no scheme, or file:, while Hadoop's default file system is the local one) are listed with Python, so
any file name works: Hadoop's Path refuses a `:` in a name (and then every glob over its folder), and has no way to
name a literal `[`. Other schemes (hdfs:, s3a:, ...) go through Hadoop's file system layer. Only file names and
sizes reach the driver, never contents.

Globs: `*`, `?`, `[abc]` and `{a,b}`; a backslash makes the next character literal (`\\[`, `\\*`, `\\{`). A local
path that exists is taken as it is, glob characters and all.
"""
from __future__ import annotations

import glob
import os
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


_GLOB_CHARS = "*?[{"
_ESCAPE_HINT = "a literal [, *, ? or { in a name is written \\[, \\*, \\? or \\{"


def _has_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in _GLOB_CHARS)


def resolve_inputs(spark: SparkSession, patterns: list[str]) -> list[InputFile]:
    """Every file matched by the patterns, sorted, each once. Raises InputError for a missing path or empty glob."""
    if not patterns:
        raise InputError("no input given: pass --input PATH_OR_GLOB (repeatable)")
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    local_default = (conf.get("fs.defaultFS") or "file:///").startswith("file:")
    found: dict[str, int] = {}
    for pattern in patterns:
        if pattern.startswith("file:") or ("://" not in pattern and local_default):
            found.update(_local_files(pattern))
        else:
            found.update(_hadoop_files(spark, pattern))
    return [InputFile(p, s) for p, s in sorted(found.items())]


def _no_match(pattern: str) -> InputError:
    if _has_glob(pattern):
        return InputError(f"glob matched no files: {pattern} ({_ESCAPE_HINT})")
    return InputError(f"input path does not exist: {pattern}")


def _local_files(pattern: str) -> dict[str, int]:
    """Files of a local path, folder or glob (see the module docstring), with their sizes."""
    path = local_path(pattern) or pattern
    if os.path.lexists(path):
        matches = [path]
    else:
        matches = sorted({m for p in _expand_braces(path) for m in glob.glob(_to_python_glob(p))})
    if not matches:
        raise _no_match(pattern)
    found: dict[str, int] = {}
    for match in matches:
        if os.path.isdir(match):
            children = [e for e in os.scandir(match) if e.is_file() and not e.name.startswith((".", "_"))]
            if not children:
                raise InputError(f"input directory has no files: {os.path.abspath(match)}")
            found.update((os.path.abspath(e.path), e.stat().st_size) for e in children)
        elif os.path.isfile(match):
            found[os.path.abspath(match)] = os.path.getsize(match)
        elif match == path:
            raise _no_match(pattern)  # a broken symbolic link
    return found


def _expand_braces(pattern: str) -> list[str]:
    """`a{b,c}d` -> [`abd`, `acd`], innermost first; escaped braces and commas are left alone."""
    depth, start, commas = 0, -1, []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            if depth == 0:
                start, commas = i, []
            depth += 1
        elif ch == "," and depth == 1:
            commas.append(i)
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                cuts = [start, *commas, i]
                options = [pattern[a + 1:b] for a, b in zip(cuts, cuts[1:])]
                return [x for o in options for x in _expand_braces(pattern[:start] + o + pattern[i + 1:])]
        i += 1
    return [pattern]


def _to_python_glob(pattern: str) -> str:
    """Backslash escapes -> Python's glob escapes (`\\[` -> `[[]`)."""
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            out.append(glob.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out)


def _hadoop_files(spark: SparkSession, pattern: str) -> dict[str, int]:
    """Files of a path or glob on a Hadoop file system (hdfs:, s3a:, ...), with their sizes."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors.exceptions.captured import CapturedException

    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    try:
        path = jvm.org.apache.hadoop.fs.Path(pattern)
        fs = path.getFileSystem(conf)
        statuses = fs.globStatus(path)
    except (Py4JJavaError, CapturedException) as exc:  # PySpark converts most Java errors to the latter
        reason = str(exc.java_exception.getMessage()) if isinstance(exc, Py4JJavaError) else str(exc)
        hint = " (Hadoop paths cannot hold ':' in a file name: rename the file)" if "URISyntax" in reason else ""
        raise InputError(f"cannot list input {pattern}: {reason.splitlines()[0]}{hint}") from None
    if statuses is None or len(statuses) == 0:
        raise _no_match(pattern)
    found: dict[str, int] = {}
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
    return found


def _worker_path(uri: str) -> str:
    """file:/x/y -> /x/y, so workers open local files directly; other schemes stay URIs."""
    return local_path(uri) or uri
