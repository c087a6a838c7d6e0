"""Read WARC files record by record, surviving damage.

Common Crawl WARCs are one gzip member per record. We inflate member by member ourselves and hand each member to
warcio, so a corrupt member costs one record: we resynchronise at the next gzip header and go on. Every event
(record, corrupt member, truncated tail) is yielded, so the caller can account for all of them.
"""
from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Iterator

from warcio.archiveiterator import ArchiveIterator

_GZIP_MAGIC = b"\x1f\x8b\x08"
_CHUNK = 1 << 20


@dataclass
class RawRecord:
    """One WARC record, or one damaged stretch of the file (`error` set, `rec_type` empty)."""

    offset: int
    rec_type: str = ""
    url: str = ""
    record_id: str = ""
    date: str = ""
    status: int | None = None
    content_type: str = ""
    payload: bytes = b""
    payload_truncated: bool = False  # the body was longer than the payload limit
    error: str | None = None  # corrupt_member, bad_record, truncated_at_eof, unreadable_file


def _parse(stream: BinaryIO, offset: int | None, max_payload: int) -> Iterator[RawRecord]:
    """Parse uncompressed records with warcio; `offset=None` takes each record's own offset in the stream."""
    it = ArchiveIterator(stream, check_digests=False, ensure_http_headers=False)
    try:
        for rec in it:
            headers = rec.rec_headers
            status = None
            ctype = ""
            if rec.http_headers is not None:
                code = rec.http_headers.get_statuscode()
                status = int(code) if code and code.isdigit() else None
                ctype = rec.http_headers.get_header("Content-Type") or ""
            stream = rec.content_stream()
            payload = stream.read(max_payload + 1) if rec.rec_type == "response" else b""
            yield RawRecord(
                offset=it.get_record_offset() if offset is None else offset,
                rec_type=rec.rec_type or "",
                url=headers.get_header("WARC-Target-URI") or "",
                record_id=headers.get_header("WARC-Record-ID") or "",
                date=headers.get_header("WARC-Date") or "",
                status=status,
                content_type=ctype,
                payload=payload[:max_payload],
                payload_truncated=len(payload) > max_payload,
            )
    except Exception as exc:  # warcio raises many kinds on garbage; one bad member must not stop the file
        yield RawRecord(offset=offset or 0, error="bad_record", url=f"{type(exc).__name__}: {exc}"[:300])


def iter_gzip_members(stream: BinaryIO) -> Iterator[tuple[int, bytes | None, str | None]]:
    """Yield (offset, member bytes, None) per gzip member, or (offset, None, error) for a damaged stretch."""
    buf = b""
    base = 0  # file offset of buf[0]
    while True:
        if len(buf) < len(_GZIP_MAGIC):  # a header may straddle the chunk boundary
            more = stream.read(_CHUNK)
            if not more and not buf:
                return
            buf += more
            if not more:
                yield base, None, "truncated_at_eof"
                return
        if not buf.startswith(_GZIP_MAGIC):
            yield base, None, "corrupt_member"
            skipped = _skip_to_magic(stream, buf)
            if skipped is None:
                return
            base += skipped[0]
            buf = skipped[1]
            continue
        d = zlib.decompressobj(31)
        out = []
        pos = 0
        error = None
        while True:
            try:
                out.append(d.decompress(buf[pos:]))
            except zlib.error:
                error = "corrupt_member"
                break
            if d.eof:
                break
            more = stream.read(_CHUNK)
            if not more:
                error = "truncated_at_eof"
                break
            pos = len(buf)
            buf += more
        if error is None:
            used = len(buf) - len(d.unused_data)
            yield base, b"".join(out), None
            base += used
            buf = d.unused_data
            continue
        yield base, None, error
        if error == "truncated_at_eof":
            return
        skipped = _skip_to_magic(stream, buf)
        if skipped is None:
            return
        base += skipped[0]
        buf = skipped[1]


def _skip_to_magic(stream: BinaryIO, buf: bytes) -> tuple[int, bytes] | None:
    """Bytes skipped and the buffer starting at the next gzip header after buf[0]; None at end of file."""
    skipped = 0
    nxt = buf.find(_GZIP_MAGIC, 1)
    while nxt < 0:
        more = stream.read(_CHUNK)
        if not more:
            return None
        keep = len(buf) - 2  # a header may straddle the chunk boundary
        skipped += keep
        buf = buf[keep:] + more
        nxt = buf.find(_GZIP_MAGIC, 1)
    return skipped + nxt, buf[nxt:]


_HEADER = re.compile(rb"^([A-Za-z0-9-]+):[ \t]*(.*?)[ \t]*\r?$", re.M)


def _quick(member: bytes, offset: int, max_payload: int) -> RawRecord | None:
    """The record of a one-record member, parsed directly, or None when warcio must parse it.

    The direct path covers what a Common Crawl WARC is made of: WARC headers, then for responses a plain HTTP
    header block and an identity-encoded body. Anything unusual (chunked or compressed bodies, several records in
    one member, missing lengths) goes to warcio, which is the reference. Parsing with warcio costs more than the
    whole pre-filter path, and two thirds of the records (requests, metadata) are never read at all.
    """
    end = member.find(b"\r\n\r\n", 0, 16384)
    if end < 0 or not member.startswith(b"WARC/"):
        return None
    fields = {k.lower(): v for k, v in _HEADER.findall(member[:end])}
    length = fields.get(b"content-length", b"")
    if not length.isdigit():
        return None
    block_start = end + 4
    block_end = block_start + int(length)
    if member[block_end:].strip(b"\r\n"):
        return None  # another record follows in the same member
    rec = RawRecord(offset=offset,
                    rec_type=fields.get(b"warc-type", b"").decode("ascii", "replace"),
                    url=fields.get(b"warc-target-uri", b"").decode("utf-8", "replace"),
                    record_id=fields.get(b"warc-record-id", b"").decode("utf-8", "replace"),
                    date=fields.get(b"warc-date", b"").decode("ascii", "replace"))
    if rec.rec_type != "response":
        return rec if rec.rec_type else None
    if not fields.get(b"content-type", b"").startswith(b"application/http"):
        return None
    http_end = member.find(b"\r\n\r\n", block_start, block_end)
    if http_end < 0:
        return None
    status_line, _, header_block = member[block_start:http_end].partition(b"\r\n")
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        return None
    http = {k.lower(): v for k, v in _HEADER.findall(header_block)}
    if http.get(b"transfer-encoding", b"identity").strip().lower() != b"identity":
        return None
    if http.get(b"content-encoding", b"identity").strip().lower() not in (b"identity", b""):
        return None
    rec.status = int(parts[1])
    rec.content_type = http.get(b"content-type", b"").decode("latin-1").strip()
    body_start = http_end + 4
    body_len = block_end - body_start
    rec.payload = member[body_start:body_start + min(body_len, max_payload)]
    rec.payload_truncated = body_len > max_payload
    return rec


def iter_records(stream: BinaryIO, gzipped: bool, max_payload: int) -> Iterator[RawRecord]:
    """Every record and every damaged stretch of one WARC stream, in file order."""
    if not gzipped:
        yield from _parse(stream, None, max_payload)
        return
    for offset, member, error in iter_gzip_members(stream):
        if error is not None:
            yield RawRecord(offset=offset, error=error)
        else:
            quick = _quick(member, offset, max_payload)
            if quick is not None:
                yield quick
            else:
                yield from _parse(io.BytesIO(member), offset, max_payload)
