"""WARC file -> one row per record with its outcome: the per-record work of the extract stage.

Cheap tests run first (record type, status, content type, size, charset, Japanese pre-filter) so that the
expensive extractor only sees likely-Japanese pages; language ID runs on batches of extracted texts.
"""
from __future__ import annotations

import hashlib
import io
import logging
import re
import zlib
from typing import Any, BinaryIO, Callable, Iterator
from urllib.parse import urlsplit

from jwc.schemas.config import Param
from jwc.pipeline.extract.charset import decode_html
from jwc.pipeline.extract.maintext import ExtractionTimeout, extract_main_text
from jwc.pipeline.extract.langid import identify, kana_share
from jwc.pipeline.extract.prefilter import html_lang, looks_japanese
from jwc.pipeline.io.paths import open_input, read_ranges
from jwc.pipeline.io.remote import RetryPolicy
from jwc.pipeline.io.warc import RawRecord, is_gzip, iter_records

log = logging.getLogger(__name__)

EXTRACT_PARAMS: dict[str, Param] = {
    "max_html_bytes": Param(5_000_000, "Pages larger than this are counted as too_large, not parsed.", 10_000, 1_000_000_000),
    "max_member_bytes": Param(
        64 << 20, "A gzip member (one WARC record) that inflates to more than this is counted as member_too_large "
        "and skipped; the rest of its file is read. Bounds a task's memory (a member is held whole while it is "
        "parsed; a 1.6 MB member can inflate to 1 GiB). Keep it well above max_html_bytes.", 1 << 20, 1 << 32),
    "timeout_seconds": Param(5.0, "Time limit for extracting one page; slower pages count as extraction_timeout.",
                             0.1, 600),
    "prefilter_min_kana": Param(
        10, "Kana characters a page needs to reach the extractor; 0 disables the pre-filter.", 0, 10_000),
    "prefilter_min_ja_share": Param(
        0.1, "Share of the visible letters that must be Japanese (kana, kanji) for a page to reach the extractor; "
        "turns away foreign pages quoting Japanese. Real Japanese pages measured 0.19 and up; 0 disables.",
        0.0, 1.0),
    "min_text_chars": Param(1, "Extracted texts shorter than this count as empty_extraction.", 1, 100_000),
    "fast": Param(True, "Use trafilatura's fast mode (no fallback extractors).", kind=bool),
    "prune_hidden": Param(True, "Remove elements a browser does not show (display:none, visibility:hidden, the hidden "
                          "and aria-hidden attributes, screen-reader-only classes) before extraction: paywall "
                          "pop-ups and share-bar labels live there.", kind=bool),
    "html_types": Param(["text/html", "application/xhtml+xml"],
                        "Content types treated as HTML (prefix match, case-insensitive).", kind=list, item=str),
    "langid_batch": Param(64, "Texts per fastText call.", 1, 100_000, operational=True),
}
LANGID_PARAMS: dict[str, Param] = {
    "ja_threshold": Param(0.5, "Minimum fastText probability of 'ja' for a page to be kept as Japanese.", 0.0, 1.0),
    "max_chars": Param(2000, "Characters of the text given to fastText.", 50, 1_000_000),
    "kana_override": Param(
        0.2, "A text whose word characters are at least this share kana is Japanese whatever fastText says "
        "(fastText misreads short or repetitive Japanese); 1.0 turns the override off.", 0.0, 1.0),
}


def doc_id_for(record_id: str, source_file: str, offset: int) -> str:
    """Stable across reruns: derived from the WARC record id (or file and offset when the id is unreadable)."""
    key = record_id or f"{source_file}@{offset}"
    return hashlib.sha1(key.encode("utf-8", "replace")).hexdigest()[:20]


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _unreadable(path: str, crawl_id: str, exc: BaseException, where: str = "") -> dict[str, Any]:
    """The one row that stands for a file (or the rest of one) that could not be read."""
    return {"doc_id": doc_id_for("", path, -1), "outcome": "unreadable_file", "records": 1, "crawl_id": crawl_id,
            "source_file": path, "detail": f"{where}{type(exc).__name__}: {exc}"[:300]}


def _tally_rows(path: str, crawl_id: str, tally: dict[str, int]) -> list[dict[str, Any]]:
    """One not_response row per WARC type of a file, standing for that many records."""
    return [{"doc_id": doc_id_for("", f"{path}#not_response:{rec_type}", -1), "outcome": "not_response", "records": n,
             "crawl_id": crawl_id, "source_file": path, "detail": rec_type} for rec_type, n in sorted(tally.items())]


def _row(rec: RawRecord, source_file: str, crawl_id: str, outcome: str, **extra: Any) -> dict[str, Any]:
    row = {
        "doc_id": doc_id_for(rec.record_id, source_file, rec.offset),
        "outcome": outcome,
        "records": 1,
        "url": rec.url or None,
        "host": host_of(rec.url) or None,
        "warc_record_id": rec.record_id or None,
        "warc_date": rec.date or None,
        "crawl_id": crawl_id,
        "source_file": source_file,
        "source_offset": rec.offset,
        "http_status": rec.status,
        "content_type": rec.content_type or None,
    }
    row.update(extra)
    return row


_HTML_START = re.compile(rb"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head)\b", re.I | re.S)


def _sniffs_html(payload: bytes) -> bool:
    """A response without a readable Content-Type whose body starts like an HTML document (as browsers sniff)."""
    return bool(_HTML_START.match(payload.removeprefix(b"\xef\xbb\xbf")[:1024]))


class RecordProcessor:
    """Turns raw records into rows; holds the validated options of [extract] and [langid]."""

    def __init__(self, extract: dict[str, Any], langid: dict[str, Any], crawl_id: str,
                 remote: dict[str, Any] | None = None):
        """`remote`: the [commoncrawl] options (retries, back-off, timeout, range concurrency and merging)."""
        self.x = extract
        self.lid = langid
        self.crawl_id = crawl_id
        self.remote = RetryPolicy.from_options(remote)
        self.range_concurrency = int((remote or {}).get("range_concurrency", 4))
        self.merge_gap = int((remote or {}).get("range_merge_gap", 0))
        self.html_types = tuple(t.lower() for t in extract["html_types"])

    def screen(self, rec: RawRecord, source_file: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(final row, None) when the response stops here, or (None, pending row with page) for extraction."""
        if rec.error:
            return _row(rec, source_file, self.crawl_id, rec.error, detail=rec.detail or None), None
        if rec.status != 200:
            return _row(rec, source_file, self.crawl_id, "not_200"), None
        ctype = rec.content_type.strip().lower()
        if not (ctype.startswith(self.html_types) or (not ctype and _sniffs_html(rec.payload))):
            return _row(rec, source_file, self.crawl_id, "not_html"), None
        size = len(rec.payload)
        if rec.payload_truncated:
            return _row(rec, source_file, self.crawl_id, "too_large", html_bytes=size), None
        decoded = decode_html(rec.payload, rec.content_type)
        if decoded is None:
            return _row(rec, source_file, self.crawl_id, "undecodable", html_bytes=size), None
        lang_attr = html_lang(decoded.text)
        base = _row(rec, source_file, self.crawl_id, "", html_bytes=size, encoding=decoded.encoding,
                    encoding_source=decoded.source, html_lang=lang_attr or None)
        min_kana = self.x["prefilter_min_kana"]
        if min_kana and not looks_japanese(decoded.text, min_kana, self.x["prefilter_min_ja_share"]):
            base["outcome"] = "prefilter_skip"
            return base, None
        base["_page"] = decoded.text
        return None, base

    def extract(self, pending: dict[str, Any]) -> dict[str, Any]:
        """Run trafilatura on a pending row; sets outcome unless language ID is still to come."""
        page = pending.pop("_page")
        try:
            result = extract_main_text(page, pending["url"] or "", self.x["timeout_seconds"], self.x["fast"],
                                       self.x["prune_hidden"])
        except ExtractionTimeout:
            pending["outcome"] = "extraction_timeout"
            return pending
        except Exception as exc:  # a parser crash on one page is that page's outcome, not the task's
            pending["outcome"] = "extraction_error"
            pending["detail"] = f"{type(exc).__name__}: {exc}"[:300]
            return pending
        if result is None or len(result.text) < self.x["min_text_chars"]:
            pending["outcome"] = "empty_extraction"
            return pending
        pending["title"] = result.title or None
        pending["text"] = result.text
        return pending

    def decide_language(self, rows: list[dict[str, Any]]) -> None:
        """Language ID for extracted rows in one batch; non-Japanese rows lose their text."""
        todo = [r for r in rows if r.get("text") and not r["outcome"]]
        max_chars = self.lid["max_chars"]
        for row, scores in zip(todo, identify([r["text"] for r in todo], max_chars)):
            top = max(scores, key=scores.get) if scores else ""
            row["lang_score"] = scores.get("ja", 0.0)
            japanese = top == "ja" and row["lang_score"] >= self.lid["ja_threshold"]
            if not japanese and kana_share(row["text"][:max_chars]) >= self.lid["kana_override"]:
                japanese = True
                row["detail"] = f"kana_override (fastText: {top} {scores.get(top, 0.0):.2f})"
            row["lang"] = "ja" if japanese else top
            row["outcome"] = "kept" if japanese else "not_japanese"
            if not japanese:
                row["text"] = None

    def process_stream(self, stream: BinaryIO, source_file: str, gzipped: bool,
                       on_error: Callable[[str, Exception], None] | None = None) -> Iterator[dict[str, Any]]:
        """Rows for every record of one WARC stream, in batches of `langid_batch` extracted pages."""
        records = iter_records(stream, gzipped, int(self.x["max_html_bytes"]), int(self.x["max_member_bytes"]))
        yield from self._rows(records, source_file, on_error)

    def _rows(self, records: Iterator[RawRecord], source_file: str,
              on_error: Callable[[str, Exception], None] | None) -> Iterator[dict[str, Any]]:
        """Rows of the records, in batches for language ID, then the tally of records that are not responses.
        A read error (OSError: retries exhausted, file gone) ends the file: the rows read so far, the tally, then
        one unreadable_file row saying where it stopped."""
        batch: list[dict[str, Any]] = []
        others: dict[str, int] = {}
        done, last = 0, -1
        while True:
            try:
                rec = next(records, None)
            except OSError as exc:
                if on_error:
                    on_error(source_file, exc)
                self.decide_language(batch)
                yield from batch
                yield from _tally_rows(source_file, self.crawl_id, others)
                yield _unreadable(source_file, self.crawl_id, exc,
                                  f"stopped after {done} record(s), last at offset {last}: ")
                return
            if rec is None:
                break
            done, last = done + 1, rec.offset
            if rec.rec_type != "response" and not rec.error:
                others[rec.rec_type] = others.get(rec.rec_type, 0) + 1
                continue
            final, pending = self.screen(rec, source_file)
            if final is not None:
                batch.append(final)
            else:
                batch.append(self.extract(pending))
            if len(batch) >= self.x["langid_batch"]:
                self.decide_language(batch)
                yield from batch
                batch = []
        self.decide_language(batch)
        yield from batch
        yield from _tally_rows(source_file, self.crawl_id, others)

    def process_file(self, path: str, on_open_error: Callable[[str, Exception], None] | None = None
                     ) -> Iterator[dict[str, Any]]:
        """Rows for one WARC file; an unreadable file, or one that is not a WARC file, is one row, not a crash."""
        try:
            raw = open_input(path, self.remote)
            head = raw.read(_HEAD_BYTES)  # a remote file is first requested here
            _check_warc(head)
        except Exception as exc:
            if on_open_error:
                on_open_error(path, exc)
            yield _unreadable(path, self.crawl_id, exc)
            return
        with raw:
            yield from self.process_stream(_Prefixed(head, raw), path, is_gzip(head), on_open_error)

    def process_ranges(self, path: str, ranges: list[tuple[int, int]],
                       on_error: Callable[[str, Exception], None] | None = None) -> Iterator[dict[str, Any]]:
        """Rows for the records at these (offset, length) byte ranges of one WARC file (index mode): the same rows
        a scan of the whole file gives for them. A range that cannot be read ends the file like a read error."""
        max_bytes, max_member = int(self.x["max_html_bytes"]), int(self.x["max_member_bytes"])

        def records() -> Iterator[RawRecord]:
            for offset, _, data in read_ranges(path, ranges, self.remote, self.range_concurrency, self.merge_gap):
                for rec in iter_records(io.BytesIO(data), is_gzip(data), max_bytes, max_member):
                    rec.offset += offset
                    yield rec

        yield from self._rows(records(), path, on_error)


_HEAD_BYTES = 1 << 16


class NotWarc(ValueError):
    """The file does not start like a WARC file (plain or gzip-compressed)."""


def _check_warc(head: bytes) -> None:
    """Refuse a file whose first bytes (or, gzipped, whose first inflated bytes) are not a WARC record header."""
    start = head
    if is_gzip(head):
        try:
            start = zlib.decompressobj(31).decompress(head, 16)
        except zlib.error as exc:
            raise NotWarc(f"not a WARC file: its first gzip member does not inflate ({exc})") from None
    if not start.lstrip(b"\r\n").startswith(b"WARC/"):
        shown = start[:16].decode("latin-1").encode("unicode_escape").decode("ascii")
        raise NotWarc(f"not a WARC file: it starts with '{shown}', not a WARC/1.x record header")


class _Prefixed:
    """A read-only stream that replays bytes already read from the start of another stream."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self.head = head
        self.rest = rest

    def read(self, n: int = -1) -> bytes:
        if not self.head:
            return self.rest.read(n)
        if n is None or n < 0:
            out, self.head = self.head + self.rest.read(), b""
            return out
        out, self.head = self.head[:n], self.head[n:]
        if len(out) < n:
            out += self.rest.read(n - len(out))
        return out

    def readline(self, limit: int = -1) -> bytes:
        if self.head:
            out, self.head = self.head, b""
            return out + self.rest.readline(limit)
        return self.rest.readline(limit)
