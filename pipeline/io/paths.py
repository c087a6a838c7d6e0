"""Opening inputs by path or URI: local paths, file: URIs, http(s) URLs and the URIs pyarrow's file systems know."""
from __future__ import annotations

from typing import Any, BinaryIO, Iterator

from jwc.pipeline.io.remote import RetryPolicy, fetch_ranges, is_http, open_remote


def open_input(path: str, remote: RetryPolicy | None = None) -> BinaryIO:
    """Open a local path, a file: URI, an http(s) URL (resuming reader, `remote` retry policy), or any URI
    pyarrow's file systems understand (hdfs://, s3://, ...)."""
    if is_http(path):
        return open_remote(path, remote)
    if path.startswith("file:"):
        path = path[5:].lstrip("/")
        path = "/" + path
    if "://" not in path:
        return open(path, "rb")
    from pyarrow import fs

    filesystem, inner = fs.FileSystem.from_uri(path)
    return filesystem.open_input_stream(inner, compression=None)


def read_ranges(path: str, ranges: list[tuple[int, int]], remote: RetryPolicy | None = None,
                concurrency: int = 4, merge_gap: int = 0) -> Iterator[tuple[int, int, bytes]]:
    """(offset, length, bytes) of each byte range of one file, in order: range requests over http(s) (see
    pipeline.io.remote.fetch_ranges), reads at offsets elsewhere. A range past the end of the file raises OSError."""
    if is_http(path):
        yield from fetch_ranges(path, ranges, remote, concurrency, merge_gap)
        return
    if path.startswith("file:"):
        path = "/" + path[5:].lstrip("/")
    if "://" in path:
        from pyarrow import fs

        filesystem, inner = fs.FileSystem.from_uri(path)
        handle: Any = filesystem.open_input_file(inner)
    else:
        handle = open(path, "rb")
    with handle:
        for offset, length in ranges:
            handle.seek(offset)
            data = handle.read(length)
            if len(data) != length:
                raise OSError(f"{path}: range {offset}+{length} runs past the end of the file")
            yield offset, length, bytes(data)
