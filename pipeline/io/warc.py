"""Read WARC files record by record, surviving damage.

Common Crawl WARCs are one gzip member per record. We inflate member by member ourselves and hand each member to
warcio, so a corrupt member costs one record: we resynchronise at the next gzip header and go on. Every event
(record, corrupt member, truncated tail, member too large to hold) is yielded, so the caller can account for all
of them. Memory per file is bounded by the member limit: a member that inflates past it is inflated to its end (to
find the next member exactly; about 2.5 CPU seconds per GiB) but not held.
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
_WINDOW = 1 << 14
_PIECE = 1 << 20  # most inflated bytes one call returns
_HEAD_KEEP = 1 << 14  # of a member too large to hold: enough for its WARC headers


def is_gzip(data: bytes) -> bool:
    """The bytes start like gzip (the bytes decide, not the file name)."""
    return data[:2] == _GZIP_MAGIC[:2]


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
    error: str | None = None  # corrupt_member, bad_record, truncated_at_eof, member_too_large
    detail: str = ""  # what went wrong, for a record with `error`


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
        yield RawRecord(offset=offset or 0, error="bad_record", detail=f"{type(exc).__name__}: {exc}"[:300])


class _Input:
    """A read buffer over a stream: `data[pos:]` is unread, `base` is the file offset of `data[0]`."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.data = b""
        self.base = 0
        self.pos = 0

    @property
    def offset(self) -> int:
        return self.base + self.pos

    def available(self) -> int:
        return len(self.data) - self.pos

    def more(self) -> bool:
        """Append the next chunk (dropping what was consumed); False at end of file."""
        chunk = self.stream.read(_CHUNK)
        if not chunk:
            return False
        self.base += self.pos
        self.data = self.data[self.pos:] + chunk
        self.pos = 0
        return True

    def skip_to_magic(self) -> bool:
        """Move to the next gzip header after the current position; False at end of file."""
        nxt = self.data.find(_GZIP_MAGIC, self.pos + 1)
        while nxt < 0:
            self.pos = max(self.pos, len(self.data) - 2)  # a header may straddle the chunk boundary
            if not self.more():
                return False
            nxt = self.data.find(_GZIP_MAGIC, self.pos + 1)
        self.pos = nxt
        return True


def iter_gzip_members(stream: BinaryIO, max_member: int) -> Iterator[tuple[int, bytes | None, str | None]]:
    """Yield (offset, member bytes, None) per gzip member, or (offset, None, error) for a damaged stretch, or
    (offset, first bytes, "member_too_large") for a member that inflates to more than `max_member` bytes.

    The inflater is fed windows of the buffer and returns at most one piece per call, so finishing a member copies at
    most one window of left-over input, and a member that inflates a thousandfold (a gzip bomb, or a crawler's
    giant download) is inflated to its end without being held: only its first bytes are kept, for its headers.
    """
    inp = _Input(stream)
    while True:
        while inp.available() < len(_GZIP_MAGIC):
            if not inp.more():
                if inp.available():
                    yield inp.offset, None, "truncated_at_eof"
                return
        if not inp.data.startswith(_GZIP_MAGIC, inp.pos):
            yield inp.offset, None, "corrupt_member"
            if not inp.skip_to_magic():
                return
            continue
        start = inp.offset
        member = _Member(max_member)
        done = 0  # bytes of this member fed to the inflater
        error = None
        while True:
            if done >= inp.available() and not inp.more():
                error = "truncated_at_eof"
                break
            window = memoryview(inp.data)[inp.pos + done:inp.pos + done + _WINDOW]
            done += len(window)
            try:
                member.inflate(window)
            except zlib.error:
                error = "corrupt_member"
                break
            if member.ended:
                done -= member.unused
                break
            if not member.kept and done >= _CHUNK:  # nor is the input of a member no longer held
                inp.pos, done = inp.pos + done, 0
        if error is None:
            inp.pos += done
            yield (start, member.data(), None) if member.kept else (start, member.head, "member_too_large")
            continue
        yield start, None, error
        if error == "truncated_at_eof" or not inp.skip_to_magic():
            return


class _Member:
    """The inflated bytes of one gzip member, kept while they stay within `limit`; past it only the first
    `_HEAD_KEEP` bytes are kept and the rest is inflated and dropped."""

    def __init__(self, limit: int):
        self.limit = limit
        self.inflater = zlib.decompressobj(31)
        self.parts: list[bytes] = []
        self.size = 0
        self.kept = True
        self.head = b""

    @property
    def ended(self) -> bool:
        return self.inflater.eof

    @property
    def unused(self) -> int:
        """Input bytes of the last window that lie after the end of the member."""
        return len(self.inflater.unused_data)

    def inflate(self, window: memoryview) -> None:
        """Inflate one window of input, at most `_PIECE` output bytes at a time."""
        data: bytes | memoryview = window
        while data:
            piece = self.inflater.decompress(data, _PIECE)
            self._add(piece)
            data = self.inflater.unconsumed_tail
            if self.inflater.eof:
                return

    def _add(self, piece: bytes) -> None:
        self.size += len(piece)
        if not self.kept:
            return
        if self.size <= self.limit:
            self.parts.append(piece)
            return
        self.head = (b"".join(self.parts) + piece)[:_HEAD_KEEP]
        self.parts, self.kept = [], False

    def data(self) -> bytes:
        return b"".join(self.parts)


_NAME = re.compile(rb"[A-Za-z0-9-]+")
_WARC_TYPE = re.compile(rb"^WARC-Type:[ \t]*([A-Za-z-]+)[ \t]*\r?$", re.I | re.M)
_CONTENT_LENGTH = re.compile(rb"^Content-Length:[ \t]*([0-9]+)[ \t]*\r?$", re.I | re.M)


def _fields(block: bytes) -> dict[bytes, bytes]:
    """Header fields of a header block, names lower-cased; folded and malformed lines are ignored."""
    out = {}
    for line in block.split(b"\n"):
        name, sep, value = line.partition(b":")
        if sep and _NAME.fullmatch(name):
            out[name.lower()] = value.strip()
    return out


def _quick(member: bytes, offset: int, max_payload: int) -> RawRecord | None:
    """The record of a one-record member, parsed directly, or None when warcio must parse it. Of a record that
    is not a response only the type is read (the extract stage tallies those by type).

    The direct path covers what a Common Crawl WARC is made of: WARC headers, then for responses a plain HTTP
    header block and an identity-encoded body. Anything unusual (chunked or compressed bodies, several records in
    one member, missing lengths) goes to warcio, which is the reference. Parsing with warcio costs more than the
    whole pre-filter path, and two thirds of the records (requests, metadata) are never read at all.
    """
    end = member.find(b"\r\n\r\n", 0, 16384)
    if end < 0 or not member.startswith(b"WARC/"):
        return None
    head = member[:end]
    kind, length = _WARC_TYPE.search(head), _CONTENT_LENGTH.search(head)
    if kind is None or length is None:
        return None
    block_start = end + 4
    block_end = block_start + int(length.group(1))
    if member[block_end:].strip(b"\r\n"):
        return None  # another record follows in the same member
    rec_type = kind.group(1).decode("ascii")
    if rec_type != "response":
        return RawRecord(offset=offset, rec_type=rec_type)  # only its type is needed: it is tallied, not read
    fields = _fields(head)
    rec = RawRecord(offset=offset, rec_type=rec_type,
                    url=fields.get(b"warc-target-uri", b"").decode("utf-8", "replace"),
                    record_id=fields.get(b"warc-record-id", b"").decode("utf-8", "replace"),
                    date=fields.get(b"warc-date", b"").decode("ascii", "replace"))
    if not fields.get(b"content-type", b"").startswith(b"application/http"):
        return None
    http_end = member.find(b"\r\n\r\n", block_start, block_end)
    if http_end < 0:
        return None
    status_line, _, header_block = member[block_start:http_end].partition(b"\r\n")
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        return None
    http = _fields(header_block)
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


def _too_large(head: bytes, offset: int, max_member: int) -> RawRecord:
    """The record of a member too large to hold, named from the WARC headers in its first bytes."""
    fields = _fields(head[:head.find(b"\r\n\r\n")]) if head.startswith(b"WARC/") else {}
    return RawRecord(offset=offset, rec_type=fields.get(b"warc-type", b"").decode("ascii", "replace"),
                     url=fields.get(b"warc-target-uri", b"").decode("utf-8", "replace"),
                     record_id=fields.get(b"warc-record-id", b"").decode("utf-8", "replace"),
                     date=fields.get(b"warc-date", b"").decode("ascii", "replace"), error="member_too_large",
                     detail=f"gzip member inflates to more than {max_member:,} bytes ([extract] max_member_bytes)")


def iter_records(stream: BinaryIO, gzipped: bool, max_payload: int, max_member: int) -> Iterator[RawRecord]:
    """Every record and every damaged or oversized stretch of one WARC stream, in file order. A gzip member larger
    than `max_member` once inflated is one `member_too_large` record; a plain WARC is streamed by warcio."""
    if not gzipped:
        yield from _parse(stream, None, max_payload)
        return
    for offset, member, error in iter_gzip_members(stream, max_member):
        if error == "member_too_large":
            yield _too_large(member or b"", offset, max_member)
        elif error is not None:
            yield RawRecord(offset=offset, error=error)
        else:
            quick = _quick(member, offset, max_payload)
            if quick is not None:
                yield quick
            else:
                yield from _parse(io.BytesIO(member), offset, max_payload)
