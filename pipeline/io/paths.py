"""One way to name and open an input: local paths, file: URIs, http(s) URLs and the URIs pyarrow's file systems know.

local_path() is the one place a `file:` URI becomes a local path (Hadoop lists local files as `file:/x`, users
write `file:///x`); open_input() is the one opener every reader uses, streaming or random-access.
"""
from __future__ import annotations

from typing import Any, BinaryIO, Iterator

from jwc.pipeline.io.remote import HttpFile, RetryPolicy, fetch_ranges, is_http

_LOCAL_HOSTS = ("", "localhost")


def local_path(uri: str) -> str | None:
    """The local file a path or `file:` URI names (file:/x, file:///x, file://localhost/x -> /x), or None for a URI
    of another scheme. A `file:` URI naming another host raises OSError: it cannot be opened here."""
    if uri.startswith("file:"):
        rest = uri[len("file:"):]
        if not rest.startswith("//"):
            return rest
        host, sep, path = rest[2:].partition("/")
        if host not in _LOCAL_HOSTS:
            raise OSError(f"{uri}: a file: URI of another host ({host}) cannot be opened here")
        return "/" + path if sep else "/"
    return None if "://" in uri else uri


def open_input(path: str, remote: RetryPolicy | None = None, random_access: bool = False) -> BinaryIO:
    """Open a local path, a file: URI, an http(s) URL (resuming reader, `remote` retry policy), or any URI pyarrow's
    file systems understand (hdfs://, s3://, ...). `random_access` asks for a seekable file whose reads at an
    offset are exact (range requests over http) rather than a stream. An http stream is not wrapped in
    io.BufferedReader: that drops the bytes of a read that ends in an error, and those bytes hold the records
    before the failure."""
    if is_http(path):
        return HttpFile(path, remote, exact=random_access)
    local = local_path(path)
    if local is not None:
        return open(local, "rb")
    from pyarrow import fs

    filesystem, inner = fs.FileSystem.from_uri(path)
    if random_access:
        return filesystem.open_input_file(inner)
    return filesystem.open_input_stream(inner, compression=None)


def read_ranges(path: str, ranges: list[tuple[int, int]], remote: RetryPolicy | None = None,
                concurrency: int = 4, merge_gap: int = 0) -> Iterator[tuple[int, int, bytes]]:
    """(offset, length, bytes) of each byte range of one file, in order: range requests over http(s) (see
    pipeline.io.remote.fetch_ranges), reads at offsets elsewhere. A range past the end of the file raises OSError."""
    if is_http(path):
        yield from fetch_ranges(path, ranges, remote, concurrency, merge_gap)
        return
    handle: Any = open_input(path, remote, random_access=True)
    with handle:
        for offset, length in ranges:
            handle.seek(offset)
            data = handle.read(length)
            if len(data) != length:
                raise OSError(f"{path}: range {offset}+{length} runs past the end of the file")
            yield offset, length, bytes(data)
