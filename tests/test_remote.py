"""HTTP range reading against a real local server: resume without re-reading, retries, give-up, permanent errors,
random access for Parquet, listings, and the record processor over HTTP (whole file and byte ranges)."""
from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jwc.schemas.config import resolve
from jwc.pipeline.commoncrawl.listing import COMMONCRAWL_PARAMS, join_prefix, read_listing
from jwc.pipeline.extract.records import EXTRACT_PARAMS, LANGID_PARAMS, RecordProcessor
from jwc.pipeline.io.paths import open_input
from jwc.pipeline.io.remote import (MAX_SPAN, HttpFile, PermanentRemoteError, RemoteError, RetryPolicy, coalesce,
                             fetch_ranges)
from jwc.pipeline.sample.generate import generate_sample
from tests.ccserver import CrawlServer

FAST = RetryPolicy(retries=8, backoff=0.001, max_backoff=0.01, timeout=10)


@pytest.fixture()
def blob(tmp_path: Path) -> Path:
    path = tmp_path / "blob.bin"
    path.write_bytes(os.urandom(3_000_000))
    return path


def test_stream_survives_failures_and_resumes_without_rereading(blob: Path) -> None:
    with CrawlServer(blob.parent, fail_rate=0.5, seed=4) as server:  # seeded: 6 failures, 2 resumes
        with open_input(server.url + "blob.bin", FAST) as fh:
            data = fh.read()
    assert data == blob.read_bytes()
    assert sum(server.failures.values()) >= 3
    assert any(start > 0 for _, start in server.range_starts)  # resumed from where the transfer stopped
    assert server.sent() == blob.stat().st_size  # ...so no byte was sent twice


def test_ranges_come_back_in_order_through_failures(blob: Path) -> None:
    content = blob.read_bytes()
    ranges = [(o, 1000 + o % 7000) for o in range(0, 2_900_000, 37_000)]
    with CrawlServer(blob.parent, fail_rate=0.3, seed=2) as server:
        got = list(fetch_ranges(server.url + "blob.bin", ranges, FAST, concurrency=4))
    assert [(o, n) for o, n, _ in got] == ranges
    assert all(data == content[o:o + n] for o, n, data in got)
    assert server.sent() == sum(n for _, n in ranges)
    assert sum(server.failures.values()) >= 5


def test_server_without_range_support_still_streams_but_refuses_ranges(blob: Path) -> None:
    with CrawlServer(blob.parent, fail_rate=0.5, seed=4) as server:
        server.ranges = False
        assert open_input(server.url + "blob.bin", FAST).read() == blob.read_bytes()  # resumes by skipping
        assert sum(server.failures.values()) >= 3
        with pytest.raises(PermanentRemoteError, match="ignores Range"):
            list(fetch_ranges(server.url + "blob.bin", [(10, 10), (5000, 10)], FAST))


def test_missing_file_fails_at_once(blob: Path) -> None:
    with CrawlServer(blob.parent) as server:
        f = HttpFile(server.url + "nothing.bin", FAST)
        with pytest.raises(PermanentRemoteError, match="HTTP 404"):
            f.read(10)
    assert f.requests == 1 and f.retries == 0


def test_always_failing_file_is_given_up_after_the_retries(blob: Path) -> None:
    policy = RetryPolicy(retries=3, backoff=0.001, max_backoff=0.01, timeout=10)
    with CrawlServer(blob.parent) as server:
        server.always_fail.add("blob.bin")
        with pytest.raises(RemoteError, match="after 4 attempts") as err:
            open_input(server.url + "blob.bin", policy).read(10)
    assert not isinstance(err.value, PermanentRemoteError)
    assert server.requests["blob.bin"] == 4


def test_file_breaking_midway_fails_at_that_byte(blob: Path) -> None:
    with CrawlServer(blob.parent) as server:
        server.cut_at["blob.bin"] = 1_234_567
        f = HttpFile(server.url + "blob.bin", FAST)
        got = f.read(1_000_000) + f.read(1_000_000)  # the bytes before the break come first...
        with pytest.raises(RemoteError, match="gave up at byte 1234567"):
            f.read(1_000_000)  # ...then the error
    assert got == blob.read_bytes()[:1_234_567]
    assert server.sent() == 1_234_567


def test_seek_from_the_end_in_the_middle_of_a_stream(blob: Path) -> None:
    data = blob.read_bytes()
    with CrawlServer(blob.parent) as server:
        with HttpFile(server.url + "blob.bin", FAST) as f:
            assert f.read(1000) == data[:1000]
            assert f.seek(-500, 2) == len(data) - 500
            assert f.read() == data[-500:]
            assert f.retries == 0 and f.requests == 2  # the size came with the first answer's Content-Range
        with HttpFile(server.url + "blob.bin", FAST) as f:
            assert f.seek(-500, 2) == len(data) - 500  # size unknown yet: a HEAD request
            assert f.read(100) == data[-500:-400]
            assert f.retries == 0 and f.requests == 2


def test_file_changed_between_requests_is_refused(blob: Path) -> None:
    with CrawlServer(blob.parent) as server:
        f = HttpFile(server.url + "blob.bin", FAST, exact=True)
        assert f.read(100) == blob.read_bytes()[:100]
        with open(blob, "ab") as fh:
            fh.write(b"more")
        f.seek(5000)
        with pytest.raises(PermanentRemoteError, match="changed while being read"):
            f.read(100)


def test_parquet_over_http_fetches_only_the_columns_read(tmp_path: Path) -> None:
    n = 20_000
    table = pa.table({"small": pa.array(range(n), pa.int32()),
                      "wide": pa.array([os.urandom(60).hex() for _ in range(n)])})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=5000)
    with CrawlServer(tmp_path) as server:
        with HttpFile(server.url + "t.parquet", FAST, exact=True) as fh:
            got = pq.ParquetFile(fh).read(columns=["small"])
    assert got.column("small").to_pylist() == list(range(n))
    assert server.sent() < 0.1 * (tmp_path / "t.parquet").stat().st_size


def test_listing_plain_or_gzip_local_or_http_with_prefix(tmp_path: Path) -> None:
    lines = "# a comment\ncrawl-data/X/a.warc.gz\n\n/abs/b.warc.gz\nhttps://host/c.warc.gz\n"
    (tmp_path / "plain.txt").write_text(lines)
    (tmp_path / "warc.paths.gz").write_bytes(gzip.compress(lines.encode()))
    expect = ["s3a://bucket/crawl-data/X/a.warc.gz", "/abs/b.warc.gz", "https://host/c.warc.gz"]
    assert read_listing(str(tmp_path / "plain.txt"), "s3a://bucket") == expect
    with CrawlServer(tmp_path) as server:
        assert read_listing(server.url + "warc.paths.gz", "s3a://bucket/", FAST) == expect
    assert read_listing(str(tmp_path / "plain.txt")) == ["crawl-data/X/a.warc.gz", *expect[1:]]
    assert join_prefix("https://data.commoncrawl.org", "/x") == "/x"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, list[dict]]:
    tmp = tmp_path_factory.mktemp("remote-sample")
    generate_sample(str(tmp / "s.warc.gz"), records=60, seed=3)
    return tmp, [json.loads(line) for line in (tmp / "s.truth.jsonl").read_text().splitlines()]


def _processor(retries: int = 8, merge_gap: int = 0) -> RecordProcessor:
    remote = resolve("commoncrawl", COMMONCRAWL_PARAMS, {"retries": retries, "backoff_seconds": 0.001,
                                                         "max_backoff_seconds": 0.01, "range_concurrency": 3,
                                                         "range_merge_gap": merge_gap})
    return RecordProcessor(resolve("extract", EXTRACT_PARAMS, {}), resolve("langid", LANGID_PARAMS, {}), "T", remote)


def test_byte_ranges_give_the_rows_of_a_whole_file_scan(sample) -> None:
    folder, truth = sample
    ranges = [(t["warc_offset"], t["warc_length"]) for t in truth if t["lang"] == "ja"][::2]
    with CrawlServer(folder, fail_rate=0.2, seed=4) as server:
        url = server.url + "s.warc.gz"
        full = {r["source_offset"]: r for r in _processor().process_file(url) if r["outcome"] != "not_response"}
        server.reset_counts()
        picked = list(_processor().process_ranges(url, ranges))
        assert server.sent() == sum(n for _, n in ranges)
        server.reset_counts()
        merged = list(_processor(merge_gap=50_000).process_ranges(url, ranges))
        merged_requests = sum(server.requests.values()) - sum(server.failures.values())
        assert merged_requests < len(ranges) / 3 and server.sent() > sum(n for _, n in ranges)
    assert [r["source_offset"] for r in picked] == [o for o, _ in ranges]
    assert all(r == full[r["source_offset"]] for r in picked)
    assert merged == picked
    assert sum(r["outcome"] == "kept" for r in picked) >= 0.8 * len(ranges)


def test_coalesce_joins_near_ranges_in_order_only() -> None:
    ranges = [(0, 10), (15, 5), (100, 10), (50, 5), (112, 3)]
    assert coalesce(ranges, 5) == [(0, 20, [(0, 10), (15, 5)]), (100, 10, [(100, 10)]), (50, 5, [(50, 5)]),
                                   (112, 3, [(112, 3)])]
    assert coalesce(ranges, 0) == [(o, n, [(o, n)]) for o, n in ranges]
    assert coalesce([(0, 10), (20, MAX_SPAN)], 100) == [(0, 10, [(0, 10)]), (20, MAX_SPAN, [(20, MAX_SPAN)])]


def test_byte_ranges_of_a_local_file_match_http(sample) -> None:
    folder, truth = sample
    ranges = [(t["warc_offset"], t["warc_length"]) for t in truth if t["status"] == 200][:12]
    local = list(_processor().process_ranges(str(folder / "s.warc.gz"), ranges))
    with CrawlServer(folder) as server:
        remote = list(_processor().process_ranges(server.url + "s.warc.gz", ranges))
    strip = [{k: v for k, v in r.items() if k != "source_file"} for r in local]
    assert strip == [{k: v for k, v in r.items() if k != "source_file"} for r in remote]
    assert [r["source_offset"] for r in local] == [o for o, _ in ranges]


def test_file_breaking_midway_keeps_earlier_rows_and_ends_with_one_unreadable_row(sample) -> None:
    folder, truth = sample
    cut = truth[len(truth) // 2]["warc_offset"] + 10
    with CrawlServer(folder) as server:
        server.cut_at["s.warc.gz"] = cut
        rows = list(_processor(retries=2)
                    .process_file(server.url + "s.warc.gz"))
    assert rows[-1]["outcome"] == "unreadable_file"
    assert "stopped after" in rows[-1]["detail"] and "gave up at byte" in rows[-1]["detail"]
    assert [r["outcome"] for r in rows].count("unreadable_file") == 1
    # responses before the cut have their rows; revisits, requests and metadata are in the tally rows
    before = [t["warc_record_id"] for t in truth if t["warc_offset"] + t["warc_length"] <= cut
              and t["kind"] != "revisit"]
    assert set(before) <= {r.get("warc_record_id") for r in rows[:-1]}
    assert all(r["source_offset"] < cut for r in rows[:-1] if r["outcome"] != "not_response")
    assert {r["detail"] for r in rows if r["outcome"] == "not_response"} >= {"request", "metadata"}
