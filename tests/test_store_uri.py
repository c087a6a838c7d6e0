"""A store given as a URI: file: URIs name local folders; the local store opener refuses every other scheme before
anything is created (Hadoop stores go through their own opener: tests/test_hadoop_store.py)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from jwc.jobs.cli import main
from jwc.pipeline.io.store import Store, StoreError


@pytest.mark.parametrize("uri", ["hdfs://nn:8020/jwc", "s3a://bucket/x", "s3://bucket/x", "gs://b/x", "hdfs:/nn/x"])
def test_unsupported_uri_stores_are_refused_and_nothing_is_created(tmp_path: Path, monkeypatch, uri: str) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match="not a supported store"):
        Store.open(uri)
    assert os.listdir(tmp_path) == []


def test_unsupported_uri_store_is_one_line_and_exit_2_from_the_command_line(tmp_path: Path, monkeypatch,
                                                                          capsys) -> None:
    monkeypatch.chdir(tmp_path)
    warc = tmp_path / "in.warc.gz"
    warc.write_bytes(b"")
    code = main(["nightly", "--crawl-id", "X", "--input", str(warc), "--store", "hdfs:/nn/jwc"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "hdfs:/nn/jwc" in err[0] and "hdfs://namenode:8020/path" in err[0]
    assert sorted(os.listdir(tmp_path)) == ["in.warc.gz"]


def test_file_uris_name_local_folders(tmp_path: Path) -> None:
    for uri in (f"file://{tmp_path}/a", f"file:{tmp_path}/b", f"file://localhost{tmp_path}/c"):
        st = Store.open(uri)
        assert st.root.is_dir() and st.root.parent == tmp_path
    with pytest.raises(StoreError, match="another host"):
        Store.open("file://otherhost/x")
