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


def pin_toy_tokenizer(store: Path, dataset: str = "ja-web", vocab_size: int = 1000) -> str:
    """Pin a small SentencePiece model, trained on the bundled sample's paragraphs, to `dataset` in `store`: the
    deliberate pinning step a nightly needs before its first run (tests only: a toy vocabulary). Returns its id.
    Deterministic, so every store pinned with it tokenizes alike."""
    import tempfile

    from jwc.pipeline.io.store import Store
    from jwc.pipeline.sample.texts_ja import TOPICS
    from jwc.pipeline.tokens.tokenizer import load_tokenizer, train_sentencepiece
    from jwc.pipeline.versions.pins import pin_tokenizer, store_tokenizer

    dataset_dir = Store.open(store).dataset_dir(dataset)
    texts = [p for topic in TOPICS for p in topic.paragraphs]
    with tempfile.TemporaryDirectory() as tmp:
        tok = load_tokenizer(train_sentencepiece(texts, tmp, vocab_size, name=dataset))
    folder = store_tokenizer(dataset_dir, tok, "", {"toy": "tests/conftest.py pin_toy_tokenizer"})
    return pin_tokenizer(dataset_dir, folder, tok.id)["id"]


@pytest.fixture(scope="session")
def spark():
    from jwc.pipeline.spark import get_session

    os.environ.setdefault("JWC_SPARK_LOG_LEVEL", "ERROR")
    session = get_session("jwc-tests", master="local[2]", shuffle_partitions=4)
    yield session
    session.stop()
