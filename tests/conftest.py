"""Shared fixtures: one real local Spark session, the shared real data folder, and small WARC builders."""
from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SHARED_DATA = SHARED / "data"
MAKE_CORPUS = SHARED / "tools" / "make_warc_corpus.py"


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data; skips the test when the folder is absent (a checkout without it)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/data not available: {path}")
    return path


def make_corpus(out_dir: Path, records: int, seed: int, *extra: str, html: bool = False) -> tuple[Path, Path]:
    """Run ../shared/tools/make_warc_corpus.py; returns (warc, truth). Skips when the tool is absent."""
    import subprocess

    if not MAKE_CORPUS.exists():
        pytest.skip("../shared/tools/make_warc_corpus.py not available")
    warc = out_dir / f"corpus-{seed}.warc.gz"
    truth = out_dir / f"corpus-{seed}.truth.jsonl"
    args = [sys.executable, str(MAKE_CORPUS), "--text", str(SHARED_DATA / "ja_text_wikinews"),
            "--text", str(SHARED_DATA / "ja_text_ud_gsd"), "--records", str(records), "--seed", str(seed),
            "--out", str(warc), "--truth", str(truth), *extra]
    if html:
        args += ["--html", str(SHARED_DATA / "ja_html_postlight"), "--html", str(SHARED_DATA / "ja_html_misc")]
    subprocess.run(args, check=True, capture_output=True)
    return warc, truth


def write_warc(path: Path, pages: list[tuple[str, bytes, str]], gzip_members: bool = True) -> list[str]:
    """Write (url, body, content_type) responses with warcio; returns their record ids."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    ids = []
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=gzip_members)
        for url, body, ctype in pages:
            headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            rec = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers)
            ids.append(rec.rec_headers.get_header("WARC-Record-ID"))
            writer.write_record(rec)
    return ids


def write_inflating_member(fh: "io.BufferedWriter", url: str, body_bytes: int, block: bytes = b" " * (1 << 20)
                           ) -> str:
    """Append one gzip member: a text/html response whose body is `body_bytes` of `block` repeated (spaces inflate
    about a thousandfold, random bytes do not shrink). Compressed as a stream, one block at a time, so the test
    never holds the body. Returns its record id."""
    import uuid
    import zlib

    record_id = f"<urn:uuid:{uuid.uuid4()}>"
    http = f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {body_bytes}\r\n\r\n".encode()
    warc = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: {url}\r\nWARC-Date: 2026-01-01T00:00:00Z\r\n"
            f"WARC-Record-ID: {record_id}\r\nContent-Type: application/http; msgtype=response\r\n"
            f"Content-Length: {len(http) + body_bytes}\r\n\r\n").encode()
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    fh.write(deflate.compress(warc + http))
    left = body_bytes
    while left:
        fh.write(deflate.compress(block[:min(left, len(block))]))
        left -= min(left, len(block))
    fh.write(deflate.compress(b"\r\n\r\n") + deflate.flush())
    return record_id


@pytest.fixture(scope="session")
def spark():
    from jwc.pipeline.spark import get_session

    os.environ.setdefault("JWC_SPARK_LOG_LEVEL", "ERROR")
    session = get_session("jwc-tests", master="local[2]", shuffle_partitions=4,
                          extra_conf={"spark.ui.enabled": "false"})
    yield session
    session.stop()
