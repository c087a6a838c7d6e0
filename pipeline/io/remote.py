"""Reading files over HTTP(S) with range requests: streaming, random access and byte-range batches, with retries.

Common Crawl serves ~1 GB WARC files from https://data.commoncrawl.org/, which answers 503 under load and drops
long transfers now and then. A dropped transfer is resumed with a Range request from the byte where it stopped, so
the record parser downstream never sees a byte twice (no duplicated rows) and a 1 GB read never restarts from 0.
Transient failures (5xx, 408, 429, dropped or timed-out connections, short bodies) are retried with exponential
back-off and jitter; the failure count resets whenever bytes arrive, so only a file that stops making progress is
given up on (RemoteError). Permanent answers (404, 403, a file that changed between requests, a server that ignores
Range where ranges are needed) fail at once (PermanentRemoteError).

Only the standard library is used (http.client), one persistent connection per reader.
"""
from __future__ import annotations

import http.client
import io
import random
import re
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

_TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_SPAN = 32 << 20  # merged byte ranges are fetched as one request of at most this many bytes
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)")


class RemoteError(OSError):
    """A remote read that was given up on; the message names the URL, the byte offset and the last error."""


class PermanentRemoteError(RemoteError):
    """A failure that retrying cannot fix (404, changed file, bad range answer)."""


class _Transient(Exception):
    """A failure worth retrying that is not an OSError (an HTTP status, a short body)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: `retries` after the first attempt, back-off doubling from `backoff` up to `max_backoff`."""

    retries: int = 5
    backoff: float = 1.0
    max_backoff: float = 60.0
    timeout: float = 60.0
    user_agent: str = "jwc-corpus"

    @classmethod
    def from_options(cls, opts: Mapping[str, Any] | None) -> "RetryPolicy":
        """From a [commoncrawl] config section (missing keys keep the defaults)."""
        opts = opts or {}
        return cls(retries=int(opts.get("retries", cls.retries)),
                   backoff=float(opts.get("backoff_seconds", cls.backoff)),
                   max_backoff=float(opts.get("max_backoff_seconds", cls.max_backoff)),
                   timeout=float(opts.get("timeout_seconds", cls.timeout)),
                   user_agent=str(opts.get("user_agent", cls.user_agent)))

    def delay(self, failures: int) -> float:
        """Seconds to wait before retry number `failures` (1-based): exponential, never below the base (Common
        Crawl asks for at most one retry a second), plus up to 50% jitter so tasks do not retry in step."""
        base = min(self.max_backoff, self.backoff * 2 ** (failures - 1))
        return base * (1 + random.random() / 2)


def is_http(path: str) -> bool:
    return path.startswith(("http://", "https://"))


class HttpFile(io.RawIOBase):
    """A remote file read through Range requests: sequential reads stream one open-ended response; `exact=True`
    asks for exactly the bytes each read wants (random access, e.g. Parquet footers and column chunks).

    Not thread-safe: use one per thread. `requests`, `retries` and `bytes_read` count what it did.
    """

    def __init__(self, url: str, policy: RetryPolicy | None = None, exact: bool = False):
        super().__init__()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PermanentRemoteError(f"not an http(s) URL: {url}")
        self.url = url
        self.policy = policy or RetryPolicy()
        self.exact = exact
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._conn: http.client.HTTPConnection | None = None
        self._conn_used = False  # the connection already served a request (a stale keep-alive may have closed it)
        self._resp: http.client.HTTPResponse | None = None
        self._resp_end: int | None = None  # exclusive end offset of the open response's body, None if unknown
        self._validator: str | None = None  # ETag (or Last-Modified) of the first answer
        self._pos = 0
        self._error: RemoteError | None = None  # raised by the next read, after the bytes that came before it
        self.size: int | None = None
        self.requests = 0
        self.retries = 0
        self.bytes_read = 0

    # -- io.RawIOBase ------------------------------------------------------------------------------------------
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            offset += self.file_size()
        if offset < 0:
            raise ValueError(f"negative seek position {offset}")
        if offset != self._pos:
            self._drop_response()
            self._pos = offset
            self._error = None
        return self._pos

    def read(self, n: int | None = -1) -> bytes:
        """Up to `n` bytes (all the rest when n < 0). Fewer only at the end of the file, or when the file was
        given up on after them: the bytes that did arrive come first, the next read raises."""
        if self._error is not None:
            raise self._error
        out = bytearray()
        while n is None or n < 0 or len(out) < n:
            want = 1 << 20 if n is None or n < 0 else n - len(out)
            try:
                chunk = self._retrying(lambda: self._read_some(want))
            except RemoteError as exc:
                if not out:
                    raise
                self._error = exc
                break
            if not chunk:
                break
            out += chunk
        return bytes(out)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        return self.read(-1)

    def close(self) -> None:
        self._drop_response()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        super().close()

    # -- size ---------------------------------------------------------------------------------------------------
    def file_size(self) -> int:
        """The file's length, from an earlier answer or a HEAD request."""
        if self.size is None:
            self._retrying(self._head)
        assert self.size is not None
        return self.size

    def _head(self) -> None:
        self._drop_response()  # the connection cannot send while a body is still coming in
        resp = self._request("HEAD", {})
        resp.read()
        if resp.status in _TRANSIENT_STATUS:
            raise _Transient(f"HTTP {resp.status} {resp.reason}")
        if resp.status != 200:
            raise PermanentRemoteError(f"{self.url}: HTTP {resp.status} {resp.reason}")
        length = resp.getheader("Content-Length")
        if length is None or not length.isdigit():
            raise PermanentRemoteError(f"{self.url}: the server does not say how long the file is")
        self._check_validator(resp)
        self.size = int(length)

    # -- the retry loop -----------------------------------------------------------------------------------------
    def _retrying(self, op: Callable[[], T]) -> T:
        failures = 0
        stale_retried = False
        while True:
            reused = self._conn_used
            try:
                return op()
            except PermanentRemoteError:
                self._reset_connection()
                raise
            except (_Transient, OSError, http.client.HTTPException) as exc:
                self._reset_connection()
                if reused and not stale_retried and isinstance(exc, (http.client.RemoteDisconnected,
                                                                     ConnectionResetError, BrokenPipeError)):
                    stale_retried = True  # an idle keep-alive connection the server closed: not a failure
                    continue
                failures += 1
                if failures > self.policy.retries:
                    raise RemoteError(f"{self.url}: gave up at byte {self._pos} after {failures} attempts: "
                                      f"{type(exc).__name__}: {exc}") from exc
                self.retries += 1
                time.sleep(self.policy.delay(failures))

    # -- one attempt ---------------------------------------------------------------------------------------------
    def _read_some(self, n: int) -> bytes:
        """At most n bytes from the current position; b'' only at the end of the file."""
        while True:
            if self._resp is None:
                if self.size is not None and self._pos >= self.size:
                    return b""
                if not self._open(n):
                    return b""
            assert self._resp is not None
            want = n if self._resp_end is None else min(n, self._resp_end - self._pos)
            if want <= 0:  # this response is used up; the next one starts where it ended
                self._finish_response()
                continue
            data = self._resp.read(want)
            if not data:
                if self._resp_end is None:  # length unknown: the close is the end of the file
                    self._finish_response()
                    self.size = self._pos
                    return b""
                raise _Transient(f"connection closed at byte {self._pos}, {self._resp_end - self._pos} bytes short")
            self._pos += len(data)
            self.bytes_read += len(data)
            if self._resp_end is not None and self._pos >= self._resp_end:
                self._finish_response()
            return data

    def _open(self, n: int) -> bool:
        """Start a response at the current position; False when the position is the end of the file."""
        end = f"{self._pos + n - 1}" if self.exact else ""
        resp = self._request("GET", {"Range": f"bytes={self._pos}-{end}"})
        status = resp.status
        if status == 416:
            resp.read()
            m = _UNSATISFIED_RANGE.match(resp.getheader("Content-Range") or "")
            total = int(m.group(1)) if m else None
            if total is not None and self._pos >= total:
                self.size = total
                return False
            raise PermanentRemoteError(f"{self.url}: range from byte {self._pos} refused (file size {total})")
        if status in _TRANSIENT_STATUS:
            raise _Transient(f"HTTP {status} {resp.reason}")
        if status not in (200, 206):
            raise PermanentRemoteError(f"{self.url}: HTTP {status} {resp.reason}")
        self._check_validator(resp)
        if status == 206:
            m = _CONTENT_RANGE.match(resp.getheader("Content-Range") or "")
            if not m or int(m.group(1)) != self._pos:
                raise PermanentRemoteError(f"{self.url}: asked for byte {self._pos}, got range "
                                           f"{resp.getheader('Content-Range')!r}")
            if m.group(3) != "*":
                self.size = int(m.group(3))
            self._resp, self._resp_end = resp, int(m.group(2)) + 1
            return True
        # 200: the server sent the whole file (it ignores Range).
        length = resp.getheader("Content-Length")
        if length is not None and length.isdigit():
            self.size = int(length)
        self._resp, self._resp_end = resp, self.size
        if self._pos:
            if self.exact:
                raise PermanentRemoteError(f"{self.url}: the server ignores Range requests; byte ranges need them")
            self._skip(self._pos)
        return True

    def _skip(self, n: int) -> None:
        """Discard the first n bytes of a whole-file answer (resuming on a server without Range support)."""
        assert self._resp is not None
        left = n
        while left:
            data = self._resp.read(min(left, 1 << 20))
            if not data:
                raise _Transient(f"connection closed while skipping to byte {n}")
            left -= len(data)

    def _request(self, method: str, headers: dict[str, str]) -> http.client.HTTPResponse:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self.policy.timeout)
            self._conn_used = False
        self.requests += 1
        self._conn.request(method, self._target, headers={
            "User-Agent": self.policy.user_agent, "Accept-Encoding": "identity", **headers})
        resp = self._conn.getresponse()
        self._conn_used = True
        return resp

    def _check_validator(self, resp: http.client.HTTPResponse) -> None:
        tag = resp.getheader("ETag") or resp.getheader("Last-Modified")
        if tag is None:
            return
        if self._validator is None:
            self._validator = tag
        elif tag != self._validator:
            raise PermanentRemoteError(f"{self.url}: the file changed while being read ({self._validator} -> {tag})")

    def _finish_response(self) -> None:
        """The body was read to its end: the connection can serve the next request."""
        self._resp = None
        self._resp_end = None

    def _drop_response(self) -> None:
        """Abandon an unfinished body; its connection cannot be reused."""
        if self._resp is not None:
            self._resp = None
            self._resp_end = None
            self._reset_connection()

    def _reset_connection(self) -> None:
        self._resp = None
        self._resp_end = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def coalesce(ranges: list[tuple[int, int]], merge_gap: int) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """Consecutive ranges at most `merge_gap` bytes apart joined into spans (start, length, members), each span
    at most MAX_SPAN bytes unless one range alone is longer. Order is kept; overlapping ranges are not joined."""
    spans: list[tuple[int, int, list[tuple[int, int]]]] = []
    for offset, length in ranges:
        if spans:
            start, span_len, members = spans[-1]
            end = start + span_len
            if end <= offset <= end + merge_gap and offset + length - start <= MAX_SPAN:
                spans[-1] = (start, offset + length - start, members + [(offset, length)])
                continue
        spans.append((offset, length, [(offset, length)]))
    return spans


def fetch_ranges(url: str, ranges: list[tuple[int, int]], policy: RetryPolicy | None = None,
                 concurrency: int = 4, merge_gap: int = 0) -> Iterator[tuple[int, int, bytes]]:
    """(offset, length, bytes) for each (offset, length), in the given order; `concurrency` requests in flight.

    Ranges at most `merge_gap` bytes apart are fetched with one request (fewer requests, more bytes: the gaps).
    Each worker thread keeps one persistent connection. The first range that cannot be read raises (RemoteError),
    and nothing is fetched after it.
    """
    if merge_gap > 0:
        spans = coalesce(ranges, merge_gap)
        with closing(fetch_ranges(url, [(s, n) for s, n, _ in spans], policy, concurrency)) as fetched:
            for (start, _, members), (_, _, data) in zip(spans, fetched):
                for offset, length in members:
                    yield offset, length, data[offset - start:offset - start + length]
        return
    policy = policy or RetryPolicy()
    local = threading.local()
    opened: list[HttpFile] = []
    lock = threading.Lock()

    def fetch(offset: int, length: int) -> bytes:
        f = getattr(local, "file", None)
        if f is None:
            f = local.file = HttpFile(url, policy, exact=True)
            with lock:
                opened.append(f)
        f.seek(offset)
        data = bytearray()
        while len(data) < length:
            chunk = f.read(length - len(data))  # a short read is followed by the error, or is the end of the file
            if not chunk:
                raise PermanentRemoteError(f"{url}: range {offset}+{length} runs past the end of the file "
                                           f"({f.size} bytes)")
            data += chunk
        return bytes(data)

    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="jwc-range")
    pending: list[tuple[int, int, Future[bytes]]] = []
    todo = iter(ranges)
    try:
        for offset, length in todo:
            pending.append((offset, length, pool.submit(fetch, offset, length)))
            if len(pending) >= 2 * max(1, concurrency):
                break
        while pending:
            offset, length, fut = pending.pop(0)
            data = fut.result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append((nxt[0], nxt[1], pool.submit(fetch, nxt[0], nxt[1])))
            yield offset, length, data
    finally:
        for _, _, fut in pending:
            fut.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        for f in opened:
            f.close()
