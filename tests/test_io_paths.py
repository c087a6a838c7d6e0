"""The store's one atomic writer and the one path/URI normaliser and opener (pipeline/io/atomic.py, paths.py)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jwc.pipeline.io.atomic import (AtomicFile, atomic_folder, atomic_write_bytes, atomic_write_json, atomic_write_text,
                                    create_once)
from jwc.pipeline.io.paths import local_path, open_input, read_ranges


@pytest.mark.parametrize(("uri", "expected"), [
    ("/data/a.warc.gz", "/data/a.warc.gz"),
    ("relative/a.warc.gz", "relative/a.warc.gz"),
    ("file:/data/a.warc.gz", "/data/a.warc.gz"),
    ("file:///data/a.warc.gz", "/data/a.warc.gz"),
    ("file://localhost/data/a.warc.gz", "/data/a.warc.gz"),
    ("s3://bucket/a.warc.gz", None),
    ("https://data.commoncrawl.org/a.warc.gz", None),
    ("hdfs://nn:8020/a.warc.gz", None),
])
def test_local_path_normalises_every_spelling_of_a_local_file(uri: str, expected: str | None) -> None:
    assert local_path(uri) == expected


def test_a_file_uri_of_another_host_is_refused() -> None:
    with pytest.raises(OSError, match="another host"):
        local_path("file://fileserver/data/a.warc.gz")


def test_open_input_reads_plain_paths_and_file_uris_alike(tmp_path: Path) -> None:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)) * 4)
    for name in (str(blob), f"file:{blob}", f"file://{blob}", f"file://localhost{blob}"):
        with open_input(name) as fh:
            assert fh.read() == blob.read_bytes()
        with open_input(name, random_access=True) as fh:
            fh.seek(300)
            assert fh.read(3) == bytes([44, 45, 46])


def test_read_ranges_of_a_file_uri(tmp_path: Path) -> None:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"0123456789")
    assert list(read_ranges(f"file://{blob}", [(1, 2), (7, 3)])) == [(1, 2, b"12"), (7, 3, b"789")]
    with pytest.raises(OSError, match="past the end"):
        list(read_ranges(str(blob), [(8, 5)]))


def test_atomic_writes_leave_only_the_target(tmp_path: Path) -> None:
    atomic_write_bytes(tmp_path / "a.bin", b"\x00\x01")
    atomic_write_text(tmp_path / "b.txt", "日本語\n")
    atomic_write_json(tmp_path / "c.json", {"b": 1, "a": "東京"})
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b.txt").read_text(encoding="utf-8") == "日本語\n"
    text = (tmp_path / "c.json").read_text(encoding="utf-8")
    assert json.loads(text) == {"a": "東京", "b": 1} and text.index('"a"') < text.index('"b"') and "東京" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "b.txt", "c.json"]


def test_a_failed_streaming_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "t.parquet"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError):
        with AtomicFile(target) as fh:
            fh.write(b"half a file")
            raise RuntimeError("task killed")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["t.parquet"]


def test_parquet_written_through_an_atomic_file_is_readable(tmp_path: Path) -> None:
    table = pa.table({"doc_id": ["a", "b"], "text": ["東京", "大阪"]})
    out = AtomicFile(tmp_path / "s.parquet")
    writer = pq.ParquetWriter(out.fh, table.schema)
    writer.write_table(table)
    writer.close()
    out.commit()
    assert pq.read_table(tmp_path / "s.parquet").equals(table)


def test_atomic_folder_appears_whole_keeps_a_winner_and_drops_a_failed_fill(tmp_path: Path) -> None:
    dest = tmp_path / "models" / "tok-1"
    with pytest.raises(RuntimeError):
        with atomic_folder(dest) as tmp:
            (tmp / "part").write_text("half")
            raise RuntimeError("copy failed")
    assert not dest.exists() and os.listdir(tmp_path / "models") == []
    with atomic_folder(dest) as tmp:
        (tmp / "model").write_text("first")
        assert not dest.exists()  # nothing visible while it is filled
    with atomic_folder(dest) as tmp:  # a second process that lost the race
        (tmp / "model").write_text("second")
    assert (dest / "model").read_text() == "first" and os.listdir(tmp_path / "models") == ["tok-1"]


def test_create_once_creates_exactly_once(tmp_path: Path) -> None:
    target = tmp_path / "PINNED.json"
    assert create_once(target, lambda tmp: tmp.write_text("a"))
    assert not create_once(target, lambda tmp: tmp.write_text("b"))
    assert target.read_text() == "a" and os.listdir(tmp_path) == ["PINNED.json"]
