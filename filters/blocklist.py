"""Host and URL blocklists: drop pages whose host, one of its parent domains, or URL prefix is listed.

Sources (Param `lists`, any mix):
- a plain file: one domain a line (`#` comments; hosts-file lines "0.0.0.0 example.com" and "*.example.com" are
  accepted); a line with a "/" is a URL prefix. The file name (without suffix) is the category.
- a folder in the UT1 blacklist layout (<root>/<category>/domains and <root>/<category>/urls); only the
  categories named in Param `ut1_categories` are loaded, since UT1 also lists benign categories (bank, news ...).

UT1's adult category alone holds millions of domains, and filters are built once per worker process, so entries are
kept as sorted 64-bit xxhash values (8 bytes each) with a parallel category index, not as a Python set of strings.
A page is looked up with one hash per parent domain (www.a.example.jp, a.example.jp, example.jp, jp) and one per
path-segment prefix of its URL.
"""
from __future__ import annotations

import math
from array import array
from pathlib import Path
from typing import Any, Iterator, Mapping
from urllib.parse import urlsplit

import numpy as np
import xxhash

from jwc.filters.base import Doc, Filter, Rule
from jwc.schemas.config import Param

UT1_HARMFUL = [
    "adult", "agressif", "cryptojacking", "dangerous_material", "ddos", "drogue", "gambling", "hacking", "malware",
    "phishing", "warez",
]


def normalise_host(host: str) -> str:
    """Lower-case ASCII (IDNA) host without port, trailing dot or user info."""
    host = host.strip().lower().rsplit("@", 1)[-1]
    if host.startswith("["):  # IPv6 literal
        return host.split("]", 1)[0] + "]"
    host = host.split(":", 1)[0].rstrip(".")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass
    return host


def _hash(key: str) -> int:
    return xxhash.xxh64_intdigest(key.encode("utf-8"))


def _parse_line(line: str) -> str | None:
    """The domain or URL prefix named by one list line, normalised; None for comments and blanks."""
    line = line.split("#", 1)[0].strip()
    if not line:
        return None
    line = line.split()[-1]  # hosts-file lines: "0.0.0.0 example.com"
    if "://" in line:
        line = line.split("://", 1)[1]
    host, slash, path = line.partition("/")
    host = normalise_host(host.lstrip("*").lstrip("."))
    if not host:
        return None
    if not (slash and path.strip("/")):
        return host  # a domain: it and all its subdomains
    return f"{host[4:] if host.startswith('www.') else host}/{path.strip('/')}"


def _list_files(source: Path, ut1_categories: list[str]) -> Iterator[tuple[str, Path]]:
    if source.is_file():
        yield source.stem, source
        return
    if not source.is_dir():
        raise FileNotFoundError(f"blocklist: {source} is neither a file nor a folder")
    for category in ut1_categories:
        for name in ("domains", "urls"):
            path = source / category / name
            if path.is_file():
                yield category, path


class BlockList:
    """Hashed domains and URL prefixes with their categories."""

    def __init__(self, sources: list[str], ut1_categories: list[str]):
        self.categories: list[str] = []
        hashes = array("Q")  # compact while reading millions of lines
        cats = array("H")
        for source in sources:
            for category, path in _list_files(Path(source), ut1_categories):
                if category not in self.categories:
                    self.categories.append(category)
                cat = self.categories.index(category)
                with path.open(encoding="utf-8", errors="replace") as f:
                    for line in f:
                        key = _parse_line(line)
                        if key:
                            hashes.append(_hash(key))
                            cats.append(cat)
        all_hashes = np.frombuffer(hashes, dtype=np.uint64) if hashes else np.zeros(0, dtype=np.uint64)
        order = np.argsort(all_hashes, kind="stable")
        self._hashes = all_hashes[order]
        self._cats = (np.frombuffer(cats, dtype=np.uint16) if cats else np.zeros(0, dtype=np.uint16))[order]

    def __len__(self) -> int:
        return len(self._hashes)

    def _find(self, key: str) -> str | None:
        h = np.uint64(_hash(key))
        i = int(np.searchsorted(self._hashes, h))
        if i < len(self._hashes) and self._hashes[i] == h:
            return self.categories[int(self._cats[i])]
        return None

    def host_category(self, host: str) -> str | None:
        """Category of the host or its nearest listed parent domain (IP addresses only as they are)."""
        host = normalise_host(host)
        if not host:
            return None
        if host.replace(".", "").isdigit() or host.startswith("["):
            return self._find(host)
        labels = host.split(".")
        for i in range(len(labels)):
            found = self._find(".".join(labels[i:]))
            if found:
                return found
        return None

    def url_category(self, url: str) -> str | None:
        """Category of the longest listed prefix host/seg1/seg2... of the URL (host without "www.")."""
        parts = urlsplit(url if "://" in url else "http://" + url)
        host = normalise_host(parts.netloc)
        if host.startswith("www."):
            host = host[4:]
        segments = [s for s in parts.path.split("/") if s]
        for n in range(len(segments), 0, -1):
            found = self._find(host + "/" + "/".join(segments[:n]))
            if found:
                return found
        return None


class BlocklistFilter(Filter):
    """Drops pages from listed hosts or URL prefixes. With no lists configured its signals are NaN (nothing was
    measured), so its rules never fire and stored signals say so."""

    name = "blocklist"
    params = {
        "lists": Param([], "domain-list files and/or UT1-layout folders (<category>/domains, <category>/urls)",
                       kind=list, item=str),
        "ut1_categories": Param(list(UT1_HARMFUL), "UT1 categories to load from folders", kind=list, item=str),
        "max_host_listed": Param(0.0, "drop when blocklist_host (1 = host or a parent domain listed) is above this",
                                 lo=0.0, hi=1.0),
        "max_url_listed": Param(0.0, "drop when blocklist_url (1 = a URL prefix listed) is above this", lo=0.0, hi=1.0),
    }
    rules = (
        Rule("host_listed", "blocklist_host", "max", "max_host_listed"),
        Rule("url_listed", "blocklist_url", "max", "max_url_listed"),
    )
    signal_names = ("blocklist_host", "blocklist_url")

    def __init__(self, options: Mapping[str, Any] | None = None):
        super().__init__(options)
        self.blocklist = BlockList(list(self.options["lists"]), list(self.options["ut1_categories"]))

    def categories(self, doc: Doc) -> tuple[str | None, str | None]:
        """(host category, URL category) of a document, for reports."""
        host = doc.host or urlsplit(doc.url).netloc
        return self.blocklist.host_category(host), self.blocklist.url_category(doc.url) if doc.url else None

    def signals(self, doc: Doc) -> dict[str, float]:
        if not self.options["lists"]:
            return {"blocklist_host": math.nan, "blocklist_url": math.nan}
        host_cat, url_cat = self.categories(doc)
        return {"blocklist_host": float(host_cat is not None), "blocklist_url": float(url_cat is not None)}


FILTERS = (BlocklistFilter,)
