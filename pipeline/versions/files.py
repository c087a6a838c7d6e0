"""Describing a version's files (bytes, sha256, rows, tokens) by reading each one back whole in a Spark task."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from jwc.pipeline.tokens.megatron import bin_path, read_index


def describe_file(item: tuple[str, str]) -> dict[str, Any]:
    """(relative path, absolute path) -> bytes, sha256 and, for Parquet and Megatron index files, rows/tokens.

    Reading the file whole is the readability check: every Parquet row group is decoded, and an `.idx` must parse
    and match the size of its `.bin`. The file is fsynced on the way, so a published version survives a power cut.
    """
    rel, path = item
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            digest.update(block)
            size += len(block)
        os.fsync(fh.fileno())
    entry: dict[str, Any] = {"path": rel, "bytes": size, "sha256": digest.hexdigest()}
    if rel.endswith(".parquet"):
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        rows = sum(pf.read_row_group(i).num_rows for i in range(pf.num_row_groups))
        if rows != pf.metadata.num_rows:
            raise ValueError(f"{path}: row groups hold {rows} rows, the footer says {pf.metadata.num_rows}")
        entry["rows"] = rows
    elif rel.endswith(".idx"):
        prefix = path[: -len(".idx")]
        index = read_index(prefix)
        tokens = int(index.sequence_lengths.sum(dtype="int64"))
        need = tokens * index.dtype.itemsize
        have = bin_path(prefix).stat().st_size
        if have != need:
            raise ValueError(f"{bin_path(prefix)}: {have} bytes, its index needs {need}")
        entry["rows"], entry["tokens"] = index.documents, tokens
    return entry


def describe_files(spark: Any, root: Path, rels: list[str]) -> list[dict[str, Any]]:
    """describe_file for every file under `root`, one Spark task per file; results in the order given."""
    if not rels:
        return []
    items = [(rel, str(root / rel)) for rel in rels]
    return spark.sparkContext.parallelize(items, len(items)).map(describe_file).collect()
