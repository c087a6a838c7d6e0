"""Main text and title from HTML with trafilatura, under a per-document time limit.

A pathological page (deep nesting, megabytes of markup) must not stall a Spark task, so extraction runs under a
SIGALRM timer in the worker's main thread; pages over a size cap are cut before parsing.
"""
from __future__ import annotations

import html
import re
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import trafilatura


_OG_TITLE = re.compile(r"""<meta[^>]+property=["']og:title["'][^>]+content=["']([^"']+)""", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


class ExtractionTimeout(BaseException):
    """Extraction of one page took longer than its limit (not an Exception: trafilatura catches those and goes on
    with its fallbacks, which swallowed the time limit)."""


@dataclass(frozen=True)
class Extracted:
    title: str
    text: str


def _on_alarm(signum, frame):  # noqa: ARG001 - signal handler signature
    raise ExtractionTimeout()


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ExtractionTimeout in the block after `seconds` (main thread only; elsewhere no limit can be set)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _run(page: str, url: str, fast: bool, favor_recall: bool) -> Extracted | None:
    doc = trafilatura.bare_extraction(
        page,
        url=url or None,
        fast=fast,
        favor_recall=favor_recall,
        include_comments=False,
        include_tables=True,
        with_metadata=False,  # metadata means date parsing, which costs more than extraction itself
        deduplicate=False,
    )
    text = (doc.text or "").strip() if doc is not None else ""
    if not text:
        return None
    return Extracted(title=page_title(page), text=text)


def page_title(page: str) -> str:
    """og:title, else <title>: cheap regexes over the head instead of trafilatura's metadata pass."""
    head = page[:65536]
    m = _OG_TITLE.search(head) or _TITLE.search(head)
    return " ".join(html.unescape(m.group(1)).split()) if m else ""


def extract_main_text(page: str, url: str, timeout: float, fast: bool = True) -> Extracted | None:
    """Title and main text, or None when trafilatura finds none. Raises ExtractionTimeout.

    Fast mode first; only when it finds nothing, the full extractor with its fallbacks and recall bias, so that
    unusual layouts are not lost while the common case stays cheap. One time limit covers both attempts.
    """
    with time_limit(timeout):
        result = _run(page, url, fast=fast, favor_recall=False)
        if result is None and fast:
            result = _run(page, url, fast=False, favor_recall=True)
    return result
