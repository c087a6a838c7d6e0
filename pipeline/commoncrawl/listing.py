"""Where a run's WARC files come from: paths and globs, listings (`warc.paths.gz`), or a Common Crawl crawl id.

A Common Crawl release is addressed from a base location (https://data.commoncrawl.org/, s3a://commoncrawl/ or a
mirror): `crawl-data/<crawl>/warc.paths.gz` lists its WARC files relative to the base, and the columnar URL index
lives under `cc-index/table/cc-main/warc/crawl=<crawl>/subset=<subset>/` (listed over HTTPS by
`crawl-data/<crawl>/cc-index-table.paths.gz`, since HTTP cannot list folders). Everything here runs on the driver
and touches only names: a listing of 90,000 lines, never a WARC byte.
"""
from __future__ import annotations

import gzip
import io
import os
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

from pyspark.sql import SparkSession

from jwc.schemas.config import Check, Param, fullmatch
from jwc.pipeline.errors import UserError
from jwc.pipeline.io.inputs import InputError, InputFile, resolve_inputs
from jwc.pipeline.io.paths import local_path, open_input
from jwc.pipeline.io.remote import RetryPolicy, is_http
from jwc.pipeline.io.warc import is_gzip

COMMONCRAWL_PARAMS: dict[str, Param] = {
    "base_url": Param("https://data.commoncrawl.org/",
                      "Base of a Common Crawl release: crawl-data/<crawl>/warc.paths.gz and the paths it lists are "
                      "read under it (https://, s3a://commoncrawl/ on AWS, or a local or HDFS mirror).", kind=str),
    "index_base": Param("", "cc-index-table location for index mode: a table root read by Spark (e.g. "
                        "s3a://commoncrawl/cc-index/table/cc-main/warc/ or a copy), or a listing of its Parquet files "
                        "(*.paths.gz, lines relative to base_url). Empty: crawl-data/<crawl>/cc-index-table.paths.gz "
                        "when base_url is http(s), else <base_url>cc-index/table/cc-main/warc/.", kind=str),
    "subset": Param("warc", "Index subset partition to select from (warc; crawldiagnostics and robotstxt hold "
                    "redirects, errors and robots.txt captures).", kind=str,
                    choices=("warc", "crawldiagnostics", "robotstxt")),
    "languages": Param(["jpn"], "Index mode selects a capture when content_languages (CLD2, ISO 639-3, up to three, "
                       "e.g. 'jpn,eng') contains one of these codes.", kind=list, item=str,
                       check=fullmatch("[a-z]{2,8}", "a lower-case language code such as 'jpn'")),
    "primary_language_only": Param(False, "Only look at the first (main) language of content_languages.", kind=bool),
    "fetch_status": Param([200], "fetch_status values index mode selects.", 100, 599, kind=list, item=int),
    "mime_types": Param(["text/html", "application/xhtml+xml"],
                        "content_mime_detected values index mode selects.", kind=list, item=str),
    "retries": Param(5, "Retries of an HTTP request that fails transiently (5xx, 408, 429, dropped connection, "
                     "timeout); the count starts again whenever bytes arrive.", 0, 100, operational=True),
    "backoff_seconds": Param(1.0, "Wait before the first retry, doubled at each further one (with jitter).",
                             0.0, 600.0, operational=True),
    "max_backoff_seconds": Param(60.0, "Longest wait between two retries.", 0.0, 3600.0, operational=True),
    "timeout_seconds": Param(60.0, "Socket timeout for connecting and for each read.", 0.1, 3600.0, operational=True),
    "range_concurrency": Param(4, "Byte-range requests in flight per WARC file in index mode (the cluster sends "
                               "up to executor cores x this at once; Common Crawl serves a few thousand requests/s "
                               "for everyone).", 1, 64, operational=True),
    "range_merge_gap": Param(0, "Index mode fetches selected records at most this many bytes apart with one request: "
                             "fewer requests, more bytes (the gaps). 0: one request per record.", 0, 16 << 20,
                             operational=True),
    "user_agent": Param("jwc-corpus (Japanese web-corpus curation)", "User-Agent of every HTTP request.", kind=str,
                        operational=True),
}



def languages_given(cc: Mapping[str, Any]) -> str | None:
    """Cross-key check of [commoncrawl]: index mode selects nothing without a language."""
    return None if cc["languages"] else "languages: give at least one language code"


COMMONCRAWL_CHECKS: tuple[Check, ...] = (languages_given,)

_CRAWL_ID = re.compile(r"CC-MAIN-\d{4}-\d{2}")
_LISTING_SUFFIXES = (".paths.gz", ".paths", ".txt", ".txt.gz", ".lst", ".lst.gz")


def check_crawl_id(crawl_id: str) -> str:
    if not _CRAWL_ID.fullmatch(crawl_id):
        raise UserError(f"not a Common Crawl crawl id: {crawl_id!r} (expected CC-MAIN-YYYY-WW, e.g. CC-MAIN-2024-10)")
    return crawl_id


def with_slash(base: str) -> str:
    return base if base.endswith("/") else base + "/"


def join_prefix(prefix: str | None, line: str) -> str:
    """A listing line made absolute: lines that are URIs or absolute paths stay; others go under the prefix."""
    if not prefix or "://" in line or line.startswith(("/", "file:")):
        return line
    return with_slash(prefix) + line.lstrip("/")


def read_listing(location: str, prefix: str | None = None, policy: RetryPolicy | None = None) -> list[str]:
    """The paths of a listing file (plain or gzip, one path a line, blank lines and #-comments skipped)."""
    try:
        with open_input(location, policy) as fh:
            data = fh.read()
    except OSError as exc:
        raise InputError(f"cannot read listing {location}: {type(exc).__name__}: {exc}") from None
    if is_gzip(data):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(f"listing {location} is not valid gzip: {exc}") from None
    lines = io.StringIO(data.decode("utf-8", "replace"))
    return [join_prefix(prefix, s) for s in (line.strip() for line in lines) if s and not s.startswith("#")]


@dataclass(frozen=True)
class IndexSource:
    """Where to read the cc-index-table and which captures to select from it."""

    location: str  # a table root (Spark, partition pruning) or a listing of Parquet files
    kind: str  # "table" or "listing"
    crawl_id: str
    subset: str
    base: str  # listing lines are relative to it
    warc_prefix: str  # warc_filename values are relative to it
    languages: tuple[str, ...]
    primary_language_only: bool
    fetch_status: tuple[int, ...]
    mime_types: tuple[str, ...]

    def describe(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def language_regex(self) -> str:
        """Matches content_languages that name a selected language (as its first entry if primary only)."""
        codes = "|".join(self.languages)
        return f"^({codes})(,|$)" if self.primary_language_only else f"(^|,)({codes})(,|$)"


def index_source(crawl_id: str, cc: Mapping[str, Any], location: str | None, base: str,
                 warc_prefix: str) -> IndexSource:
    """Resolve the index location (explicit, configured, or derived from the crawl id) and the selection rule."""
    if not crawl_id:
        raise UserError("index mode needs the crawl id (the index is partitioned by crawl)")
    location = location or cc["index_base"] or (
        f"{base}crawl-data/{crawl_id}/cc-index-table.paths.gz" if is_http(base)
        else f"{base}cc-index/table/cc-main/warc/")
    kind = "listing" if location.endswith(_LISTING_SUFFIXES) else "table"
    if kind == "table" and is_http(location):
        raise UserError(f"an index table cannot be listed over HTTP: {location}; pass its cc-index-table.paths.gz "
                        "listing, or a location Spark can list (s3a://, hdfs://, local)")
    return IndexSource(location=location, kind=kind, crawl_id=crawl_id, subset=cc["subset"], base=base,
                       warc_prefix=warc_prefix, languages=tuple(cc["languages"]),
                       primary_language_only=cc["primary_language_only"],
                       fetch_status=tuple(cc["fetch_status"]), mime_types=tuple(cc["mime_types"]))


@dataclass(frozen=True)
class RunInputs:
    """The resolved input of a run: WARC files, or an index selection still to be made (`index`)."""

    files: list[InputFile]
    index: IndexSource | None = None
    source: dict[str, Any] = field(default_factory=dict)  # what was asked for, recorded with the run


def resolve_run_inputs(spark: SparkSession, crawl_id: str, cc: Mapping[str, Any], patterns: Sequence[str] = (),
                       input_lists: Sequence[str] = (), prefix: str | None = None, source: str | None = None,
                       index: str | None = None, cc_base: str | None = None) -> RunInputs:
    """Paths/globs, listings, a crawl's warc.paths.gz (`source="commoncrawl"`), or index mode (`index` not None;
    "" derives the location from the crawl id). Refuses unusable combinations with a UserError."""
    if source not in (None, "commoncrawl"):
        raise UserError(f"unknown input source {source!r}; known: commoncrawl")
    base = with_slash(cc_base or cc["base_url"])
    policy = RetryPolicy.from_options(cc)
    if source == "commoncrawl":
        check_crawl_id(crawl_id)
    if index is not None:
        if patterns or input_lists:
            raise UserError("index mode selects the WARC records itself: do not combine --index with --input or "
                            "--input-list")
        src = index_source(crawl_id, cc, index or None, base, with_slash(prefix or base))
        return RunInputs([], src, {"mode": "index", **src.describe()})
    lists = list(input_lists)
    list_prefix = prefix
    if source == "commoncrawl":
        lists = lists or [f"{base}crawl-data/{crawl_id}/warc.paths.gz"]
        list_prefix = prefix or base
    files = resolve_inputs(spark, list(patterns)) if patterns else []
    for listing in lists:
        paths = read_listing(listing, list_prefix, policy)
        if not paths:
            raise InputError(f"listing has no paths: {listing}")
        files += [_listed_file(p) for p in paths]
    if not files:
        raise InputError("no input given: pass --input PATH_OR_GLOB, --input-list FILE or --from commoncrawl")
    unique = {f.path: f for f in files}
    asked = {"mode": "files", "from": source, "input_lists": lists, "prefix": list_prefix} if lists else {}
    return RunInputs(sorted(unique.values(), key=lambda f: f.path), None, asked)


def _listed_file(path: str) -> InputFile:
    """A listed path; local files are checked now, remote ones are sized 0 (unknown: one request each to learn)."""
    try:
        local = local_path(path)
    except OSError as exc:
        raise InputError(f"listed input file cannot be opened: {exc}") from None
    if local is None:
        return InputFile(path, 0)
    try:
        return InputFile(path, os.path.getsize(local))
    except OSError:
        raise InputError(f"listed input file does not exist: {path}") from None
