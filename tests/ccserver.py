"""A small Common Crawl release on disk and a local HTTP server for it, for tests and the index benchmark.

`CrawlServer` serves a folder on 127.0.0.1 over HTTP/1.1 (keep-alive) with single Range requests (206, 416, ETag; `ranges=False` ignores them),
counts the body bytes it sends per path, and can misbehave: a share of requests answered 500, dropped without an
answer, or cut off halfway through the body (`fail_rate`); paths that always answer 503 (`always_fail`); paths
that serve bytes only up to an offset and then cut every transfer (`cut_at`, a file that breaks midway). For
benchmarks it can act like a distant server: `latency` seconds before each answer, and `rate` bytes/s shared by all
connections.

`build_release` lays WARC files out as Common Crawl does (crawl-data/<crawl>/segments/.../warc/*.warc.gz,
warc.paths.gz, cc-index-table.paths.gz) with a cc-index-table-like Parquet (cc-index/table/cc-main/warc/
crawl=<crawl>/subset=<warc|crawldiagnostics>/) built from the generators' truth files, plus a decoy crawl.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import shutil
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")
_CLD2 = {"ja": "jpn", "en": "eng", "zh": "zho", "ko": "kor", "fr": "fra", "ru": "rus"}


class CrawlServer:
    """Serves `root` at `self.url` while started (use as a context manager)."""

    def __init__(self, root: Path, fail_rate: float = 0.0, seed: int = 0, latency: float = 0.0, rate: float = 0.0):
        self.root = Path(root).resolve()
        self.fail_rate = fail_rate
        self.latency = latency
        self.rate = rate
        self.ranges = True  # False: ignore Range headers, like some servers do
        self._free_at = 0.0  # when the shared link is free again (rate pacing)
        self.always_fail: set[str] = set()
        self.cut_at: dict[str, int] = {}
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.bytes_sent: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.range_starts: list[tuple[str, int]] = []
        self._httpd: ThreadingHTTPServer | None = None
        self.url = ""

    def __enter__(self) -> "CrawlServer":
        handler = type("Handler", (_Handler,), {"crawl": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()

    def reset_counts(self) -> None:
        with self.lock:
            self.bytes_sent.clear()
            self.requests.clear()
            self.failures.clear()
            self.range_starts.clear()

    def sent(self, suffix: str = "") -> int:
        """Body bytes sent for paths ending with `suffix`."""
        with self.lock:
            return sum(n for p, n in self.bytes_sent.items() if p.endswith(suffix))

    def _pace(self, n: int) -> None:
        """Wait for this chunk's slot on the shared link (no wait when `rate` is 0)."""
        if not self.rate:
            return
        with self.lock:
            now = time.monotonic()
            self._free_at = max(now, self._free_at) + n / self.rate
            done = self._free_at
        time.sleep(done - now)

    def _roll(self) -> str:
        with self.lock:
            x = self.rng.random()
        if x >= self.fail_rate:
            return ""
        return ("error", "drop", "cut")[int(3 * x / self.fail_rate)]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    crawl: CrawlServer

    def log_message(self, *args: Any) -> None:
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _empty(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _serve(self, head: bool) -> None:
        c = self.crawl
        rel = unquote(urlsplit(self.path).path).lstrip("/")
        path = (c.root / rel).resolve()
        if not path.is_file() or c.root not in path.parents:
            self._empty(404)
            return
        with c.lock:
            c.requests[rel] += 1
        if c.latency:
            time.sleep(c.latency)
        size = path.stat().st_size
        start, end = 0, size - 1
        ranged = False
        m = _RANGE.match(self.headers.get("Range", "")) if c.ranges else None
        if m and (m.group(1) or m.group(2)):
            ranged = True
            if m.group(1):
                start = int(m.group(1))
                end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            else:
                start = max(0, size - int(m.group(2)))
        mode = "always" if rel in c.always_fail else c._roll()
        cut = c.cut_at.get(rel)
        if mode or (cut is not None and start >= cut):
            with c.lock:
                c.failures[rel] += 1
            if mode == "always":
                self._empty(503)
                return
            if mode == "error":
                self._empty(500)
                return
            if mode == "drop" or cut is not None:
                self.close_connection = True  # no answer at all
                return
        if start >= size:
            self._empty(416, {"Content-Range": f"bytes */{size}"})
            return
        self.send_response(206 if ranged else 200)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{size:x}-{path.stat().st_mtime_ns:x}"')
        self.send_header("Content-Length", str(end - start + 1))
        if ranged:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            with c.lock:
                c.range_starts.append((rel, start))
        self.end_headers()
        if head:
            return
        stop = end + 1
        if mode == "cut":
            stop = start + (end + 1 - start) // 2
        if cut is not None:
            stop = min(stop, cut)
        with open(path, "rb") as fh:
            fh.seek(start)
            pos = start
            while pos < stop:
                data = fh.read(min(1 << 16, stop - pos))
                c._pace(len(data))
                try:
                    self.wfile.write(data)
                except OSError:
                    self.close_connection = True
                    return
                pos += len(data)
                with c.lock:
                    c.bytes_sent[rel] += len(data)
        if stop < end + 1:  # cut off: close before the promised length
            self.close_connection = True


def cld2_languages(truth: dict[str, Any], miss_share: float) -> str | None:
    """What CLD2 might have said: the page's language (Japanese pages sometimes with English), and for a
    deterministic `miss_share` of Japanese pages a miss (English only), as CLD2 misses some Japanese."""
    lang = truth.get("lang")
    if lang not in _CLD2:
        return None
    h = int(hashlib.sha1(truth["warc_record_id"].encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    if lang == "ja":
        if h < miss_share:
            return "eng"
        return "jpn,eng" if h > 0.8 else "jpn"
    return _CLD2[lang] + (",jpn" if truth.get("variant") == "en_ja_snippet" else "")


def index_rows(truth: list[dict[str, Any]], warc_filename: str, miss_share: float) -> list[dict[str, Any]]:
    """cc-index-table rows (with a `subset`) for every response/revisit of one WARC's truth."""
    rows = []
    for t in truth:
        if t.get("warc_offset") is None:
            continue
        status = int(t["status"] or 0)
        ctype = (t.get("content_type") or "").split(";")[0].strip().lower()
        revisit = t.get("kind") == "revisit"
        rows.append({
            "url": t["url"], "url_host_name": t["host"], "fetch_status": status,
            "content_mime_detected": "warc/revisit" if revisit else ctype,
            "content_charset": t.get("http_charset"), "content_languages": cld2_languages(t, miss_share),
            "warc_filename": warc_filename, "warc_record_offset": int(t["warc_offset"]),
            "warc_record_length": int(t["warc_length"]),
            "subset": "warc" if status == 200 else "crawldiagnostics",
        })
    return rows


def build_release(root: Path, crawl_id: str, warcs: list[tuple[Path, Path]], miss_share: float = 0.1,
                  row_group_size: int = 256) -> dict[str, Any]:
    """Lay out `warcs` ((warc, truth) pairs) as a Common Crawl release of `crawl_id` under `root`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names, rows = [], []
    for i, (warc, truth_path) in enumerate(warcs):
        name = (f"crawl-data/{crawl_id}/segments/1700000000000.{i // 2}/warc/"
                f"{crawl_id}-20990101000000-{i:05d}.warc.gz")
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(warc, root / name)
        names.append(name)
        truth = [json.loads(line) for line in Path(truth_path).read_text(encoding="utf-8").splitlines()]
        rows += index_rows(truth, name, miss_share)
    listing = root / "crawl-data" / crawl_id / "warc.paths.gz"
    listing.write_bytes(gzip.compress("".join(f"{n}\n" for n in names).encode()))
    schema = pa.schema([("url", pa.string()), ("url_host_name", pa.string()), ("fetch_status", pa.int16()),
                        ("content_mime_detected", pa.string()), ("content_charset", pa.string()),
                        ("content_languages", pa.string()), ("warc_filename", pa.string()),
                        ("warc_record_offset", pa.int32()), ("warc_record_length", pa.int32())])
    table_root = root / "cc-index" / "table" / "cc-main" / "warc"
    parquet_files = []
    decoy = [{**r, "warc_filename": r["warc_filename"].replace(crawl_id, "CC-MAIN-1999-01")} for r in rows]
    for crawl, crawl_rows in ((crawl_id, rows), ("CC-MAIN-1999-01", decoy)):
        for subset in ("warc", "crawldiagnostics"):
            part = sorted((r for r in crawl_rows if r["subset"] == subset), key=lambda r: r["url"])
            rel = f"cc-index/table/cc-main/warc/crawl={crawl}/subset={subset}/part-00000.c000.gz.parquet"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            table = pa.Table.from_pylist([{k: r[k] for k in schema.names} for r in part], schema=schema)
            pq.write_table(table, root / rel, row_group_size=row_group_size, compression="gzip")
            parquet_files.append(rel)
    (root / "crawl-data" / crawl_id / "cc-index-table.paths.gz").write_bytes(
        gzip.compress("".join(f"{p}\n" for p in parquet_files).encode()))
    return {"warc_names": names, "index_rows": rows, "table_root": table_root}
