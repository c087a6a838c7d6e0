"""Arrow schemas of the stage outputs. Bump a schema's version when a column changes meaning or type."""
from __future__ import annotations

import pyarrow as pa

EXTRACT_SCHEMA_VERSION = 2

# One row per response record or damaged stretch of a file. Rows with outcome "kept" are the documents;
# every other outcome says why a record is not one, so nothing is lost silently. Records that are not responses
# (requests, metadata: two thirds of a Common Crawl file) are tallied: one "not_response" row per file and WARC type,
# `records` holding how many it stands for (1 on every other row). Version 2 added `records`.
EXTRACT_SCHEMA = pa.schema(
    [
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("outcome", pa.string(), nullable=False),
        pa.field("records", pa.int64(), nullable=False),
        pa.field("detail", pa.string()),
        pa.field("url", pa.string()),
        pa.field("host", pa.string()),
        pa.field("warc_record_id", pa.string()),
        pa.field("warc_date", pa.string()),
        pa.field("crawl_id", pa.string()),
        pa.field("source_file", pa.string()),
        pa.field("source_offset", pa.int64()),
        pa.field("http_status", pa.int32()),
        pa.field("content_type", pa.string()),
        pa.field("html_bytes", pa.int64()),
        pa.field("encoding", pa.string()),
        pa.field("encoding_source", pa.string()),
        pa.field("html_lang", pa.string()),
        pa.field("title", pa.string()),
        pa.field("text", pa.string()),
        pa.field("lang", pa.string()),
        pa.field("lang_score", pa.float64()),
    ],
    metadata={"schema": "jwc.extract", "version": str(EXTRACT_SCHEMA_VERSION)},
)

# Outcomes of the extract stage, in pipeline order. "kept" rows are documents.
EXTRACT_OUTCOMES = (
    "not_response",  # warcinfo, request, metadata, revisit, ...
    "not_200",
    "not_html",
    "too_large",
    "undecodable",
    "prefilter_skip",
    "extraction_timeout",
    "extraction_error",
    "empty_extraction",
    "not_japanese",
    "kept",
    # damage in the file itself
    "corrupt_member",
    "bad_record",
    "truncated_at_eof",
    "member_too_large",  # a gzip member over [extract] max_member_bytes once inflated: skipped, not held
    "unreadable_file",
)

FILTERED_SCHEMA_VERSION = 1
SIGNAL_PREFIX = "sig_"
# Columns the filter stage adds to a document; signal columns (`sig_<name>`, double) follow them.
_FILTER_COLUMNS = [
    pa.field("raw_chars", pa.int64()),  # length of the extracted text before cleaning
    pa.field("chars", pa.int64()),  # length of the stored (cleaned, masked) text
    pa.field("keep", pa.bool_()),
    pa.field("reject_reason", pa.string()),
    pa.field("reject_reasons", pa.list_(pa.string())),
]


def filtered_schema(document_columns: list[str], signal_names: list[str]) -> pa.Schema:
    """The filter stage's output: the input document columns, the decision columns, then one column per signal."""
    by_name = {f.name: f for f in EXTRACT_SCHEMA}
    fields = [by_name[c] for c in document_columns if c in by_name]
    fields += _FILTER_COLUMNS
    fields += [pa.field(SIGNAL_PREFIX + s, pa.float64()) for s in signal_names]
    return pa.schema(fields, metadata={"schema": "jwc.filtered", "version": str(FILTERED_SCHEMA_VERSION)})
