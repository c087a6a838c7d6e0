"""Reading damaged WARC files: records before and after the damage survive, the damage is counted."""
from __future__ import annotations

import io
from pathlib import Path

from jwc.pipeline.io.warc import iter_records
from tests.helpers import write_warc

PAGES = [(f"https://example.jp/{i}", f"<html><body><p>ページ{i}の本文です。</p></body></html>".encode(),
          "text/html; charset=utf-8") for i in range(5)]
MAX_MEMBER = 64 << 20


def _records(data: bytes) -> list:
    return list(iter_records(io.BytesIO(data), gzipped=True, max_payload=1_000_000, max_member=MAX_MEMBER))


def test_clean_file_reads_every_record(tmp_path: Path) -> None:
    ids = write_warc(tmp_path / "a.warc.gz", PAGES)
    recs = _records((tmp_path / "a.warc.gz").read_bytes())
    assert [r.record_id for r in recs] == ids
    assert [r.status for r in recs] == [200] * 5
    assert recs[2].payload.decode() == PAGES[2][1].decode()
    assert all(r.error is None for r in recs)


def test_corrupt_member_in_the_middle_costs_one_record(tmp_path: Path) -> None:
    ids = write_warc(tmp_path / "a.warc.gz", PAGES)
    data = bytearray((tmp_path / "a.warc.gz").read_bytes())
    offsets = [r.offset for r in _records(bytes(data))]
    # Overwrite the deflate data of the third member with garbage.
    start = offsets[2] + 20
    data[start:start + 40] = b"\xff" * 40
    recs = _records(bytes(data))
    good = [r.record_id for r in recs if r.error is None]
    assert good == [ids[0], ids[1], ids[3], ids[4]]
    assert [r.error for r in recs if r.error] == ["corrupt_member"]


def test_truncated_tail_keeps_everything_before(tmp_path: Path) -> None:
    ids = write_warc(tmp_path / "a.warc.gz", PAGES)
    data = (tmp_path / "a.warc.gz").read_bytes()
    recs = _records(data[:-30])
    assert [r.record_id for r in recs if r.error is None] == ids[:4]
    assert recs[-1].error == "truncated_at_eof"


def test_garbage_between_members_is_skipped(tmp_path: Path) -> None:
    ids = write_warc(tmp_path / "a.warc.gz", PAGES[:2])
    data = (tmp_path / "a.warc.gz").read_bytes()
    first_len = _records(data)[1].offset
    spliced = data[:first_len] + b"garbage that is not gzip" * 100 + data[first_len:]
    recs = _records(spliced)
    assert [r.record_id for r in recs if r.error is None] == ids
    assert [r.error for r in recs if r.error] == ["corrupt_member"]


def test_oversized_payload_is_flagged_not_loaded(tmp_path: Path) -> None:
    big = [("https://example.jp/big", b"<html>" + b"a" * 50_000 + b"</html>", "text/html")]
    write_warc(tmp_path / "b.warc.gz", big)
    data = (tmp_path / "b.warc.gz").read_bytes()
    recs = list(iter_records(io.BytesIO(data), True, max_payload=10_000, max_member=MAX_MEMBER))
    assert recs[0].payload_truncated and len(recs[0].payload) == 10_000


def test_uncompressed_warc(tmp_path: Path) -> None:
    ids = write_warc(tmp_path / "c.warc", PAGES, gzip_members=False)
    with open(tmp_path / "c.warc", "rb") as fh:
        recs = list(iter_records(fh, gzipped=False, max_payload=1_000_000, max_member=MAX_MEMBER))
    assert [r.record_id for r in recs] == ids
    assert recs[0].offset == 0 and recs[1].offset > 0


def test_member_boundary_on_a_chunk_boundary(tmp_path: Path, monkeypatch) -> None:
    """A gzip header split across two reads is still a header (a bug once cost one record per such split)."""
    import jwc.pipeline.io.warc as warc

    ids = write_warc(tmp_path / "a.warc.gz", PAGES)
    data = (tmp_path / "a.warc.gz").read_bytes()
    second = _records(data)[1].offset
    for cut in (second - 2, second - 1, second + 1):
        monkeypatch.setattr(warc, "_CHUNK", cut)
        recs = _records(data)
        assert [r.record_id for r in recs] == ids, cut


def test_direct_parser_agrees_with_warcio(tmp_path: Path) -> None:
    """Every record of a generated crawl: the direct path and warcio give the same fields and payload."""
    from jwc.pipeline.sample.generate import generate_sample
    from jwc.pipeline.io.warc import _parse, _quick, iter_gzip_members

    warc = tmp_path / "s.warc.gz"
    generate_sample(str(warc), records=120, seed=3)
    direct = 0
    with open(warc, "rb") as fh:
        for offset, member, error in iter_gzip_members(fh, MAX_MEMBER):
            assert error is None
            (ref,) = list(_parse(io.BytesIO(member), offset, 1_000_000))
            quick = _quick(member, offset, 1_000_000)
            if quick is None:
                continue
            direct += 1
            assert quick.rec_type == ref.rec_type
            if ref.rec_type == "response":
                assert (quick.url, quick.record_id, quick.date) == (ref.url, ref.record_id, ref.date)
                assert (quick.status, quick.content_type, quick.payload) == (ref.status, ref.content_type,
                                                                           ref.payload)
    assert direct >= 300


def test_chunked_response_goes_to_warcio(tmp_path: Path) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    body = b"<html><body>" + "日本語の本文です。".encode() * 10 + b"</body></html>"
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    with open(tmp_path / "c.warc.gz", "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")],
                                   protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record("https://x.jp/", "response", payload=io.BytesIO(chunked),
                                                      http_headers=headers))
    (rec,) = _records((tmp_path / "c.warc.gz").read_bytes())
    assert rec.payload == body


def test_member_over_the_limit_is_counted_and_the_file_goes_on(tmp_path: Path) -> None:
    """A member that inflates to 256 MiB between good records: one member_too_large record named by its WARC
    headers, every other record read, and the reader's Python allocations stay near the limit (1 MiB here), far
    from the member's size."""
    import tracemalloc

    from tests.helpers import write_inflating_member

    before, after = tmp_path / "before.warc.gz", tmp_path / "after.warc.gz"
    ids = write_warc(before, PAGES[:2]) + write_warc(after, PAGES[2:])
    path = tmp_path / "bomb.warc.gz"
    with open(path, "wb") as fh:
        fh.write(before.read_bytes())
        bomb_id = write_inflating_member(fh, "https://example.jp/bomb", 256 << 20)
        fh.write(after.read_bytes())
    assert path.stat().st_size < 400_000
    tracemalloc.start()
    with open(path, "rb") as fh:
        recs = list(iter_records(fh, gzipped=True, max_payload=1_000_000, max_member=1 << 20))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [r.record_id for r in recs if not r.error] == ids
    (bomb,) = [r for r in recs if r.error]
    assert (bomb.error, bomb.record_id, bomb.url, bomb.rec_type) == ("member_too_large", bomb_id,
                                                                    "https://example.jp/bomb", "response")
    assert "1,048,576" in bomb.detail
    assert peak < 8 << 20, peak


def test_member_just_under_the_limit_is_read_whole(tmp_path: Path) -> None:
    """The limit is on the inflated member: a member of 1 MiB minus a little is a normal (too_large) record."""
    from tests.helpers import write_inflating_member

    path = tmp_path / "edge.warc.gz"
    with open(path, "wb") as fh:
        rid = write_inflating_member(fh, "https://example.jp/edge", (1 << 20) - 1000)
    with open(path, "rb") as fh:
        (rec,) = list(iter_records(fh, gzipped=True, max_payload=10_000, max_member=1 << 20))
    assert rec.error is None and rec.record_id == rid and rec.payload_truncated and len(rec.payload) == 10_000


def test_incompressible_member_over_the_limit_is_not_buffered(tmp_path: Path) -> None:
    """A 16 MiB member of random bytes (16 MiB on disk too) over a 1 MiB limit: neither its inflated nor its
    compressed bytes are held, and the record after it is read."""
    import os
    import tracemalloc

    from tests.helpers import write_inflating_member

    after = tmp_path / "after.warc.gz"
    ids = write_warc(after, PAGES[:1])
    path = tmp_path / "random.warc.gz"
    with open(path, "wb") as fh:
        write_inflating_member(fh, "https://example.jp/random", 16 << 20, os.urandom(1 << 20))
        fh.write(after.read_bytes())
    assert path.stat().st_size > 16 << 20
    tracemalloc.start()
    with open(path, "rb") as fh:
        recs = list(iter_records(fh, gzipped=True, max_payload=1_000_000, max_member=1 << 20))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [r.error for r in recs] == ["member_too_large", None] and recs[1].record_id == ids[0]
    assert peak < 8 << 20, peak
