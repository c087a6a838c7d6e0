"""Schemas of a published dataset version: the Parquet shards' columns and the version's `manifest.json`.

The manifest is plain JSON so anyone can read it without this code; `MANIFEST_SCHEMA` is its JSON Schema
(draft 2020-12 subset) and `validate_manifest` checks a manifest against it with no extra dependency.
Bump `MANIFEST_SCHEMA_VERSION` when a field changes meaning or type; readers refuse versions they do not know.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

import pyarrow as pa

MANIFEST_SCHEMA_VERSION = 1
SHARDS_SCHEMA_VERSION = 1

# Columns of every shard, in order; `sig_*` columns (doubles) sit between `chars` and `cluster_size`.
_SHARD_HEAD = [
    pa.field("text", pa.string()),
    pa.field("doc_id", pa.string()),
    pa.field("url", pa.string()),
    pa.field("host", pa.string()),
    pa.field("crawl_id", pa.string()),
    pa.field("warc_date", pa.string()),
    pa.field("lang_score", pa.float64()),
    pa.field("chars", pa.int64()),
]
_SHARD_TAIL = [pa.field("cluster_size", pa.int32())]


def shards_schema(signals: list[str]) -> pa.Schema:
    """Shard columns for the chosen signals (names without the `sig_` prefix)."""
    fields = _SHARD_HEAD + [pa.field(f"sig_{s}", pa.float64()) for s in signals] + _SHARD_TAIL
    return pa.schema(fields, metadata={"schema": "jwc.shards", "version": str(SHARDS_SCHEMA_VERSION)})


_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_COUNT = {"type": "integer", "minimum": 0}
_VERSION_ID = {"type": "string", "pattern": "^v[0-9]{4,}$"}

MANIFEST_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "jwc dataset version manifest",
    "type": "object",
    "required": ["schema", "schema_version", "dataset", "version", "created", "parent", "crawl_ids", "inputs",
                 "config", "config_digest", "code", "counts", "tokenizer", "totals", "shards", "files"],
    "properties": {
        "schema": {"type": "string", "enum": ["jwc.manifest"]},
        "schema_version": {"type": "integer", "enum": [MANIFEST_SCHEMA_VERSION]},
        "dataset": {"type": "string"},
        "version": _VERSION_ID,
        "created": {"type": "string"},  # UTC, ISO 8601; the only time in a version, and only in this file
        "parent": {"type": ["string", "null"], "pattern": "^v[0-9]{4,}$"},
        "crawl_ids": {"type": "array", "items": {"type": "string"}},
        "inputs": {"type": "array", "items": {
            "type": "object", "required": ["path", "bytes"],
            "properties": {"path": {"type": "string"}, "bytes": _COUNT}}},
        "config": {"type": "object"},  # the resolved config (Config.to_dict())
        "config_digest": _SHA256,
        "code": {"type": "object", "required": ["package", "version", "git_commit"], "properties": {
            "package": {"type": "string"}, "version": {"type": "string"},
            "git_commit": {"type": ["string", "null"]}, "git_dirty": {"type": ["boolean", "null"]}}},
        "counts": {"type": "object"},  # stage -> that stage's counts
        "tokenizer": {"type": "object", "required": ["id", "vocab_size", "eos_id", "folder"], "properties": {
            "id": {"type": "string"}, "vocab_size": _COUNT, "eos_id": _COUNT, "folder": {"type": "string"},
            "append_eos": {"type": "boolean"}}},
        "totals": {"type": "object", "required": ["documents", "tokens", "shards", "bytes"], "properties": {
            "documents": _COUNT, "tokens": _COUNT, "shards": _COUNT, "bytes": _COUNT}},
        # Training order: shards in this order, rows in file order; bins hold the same documents in the same order.
        "shards": {"type": "array", "items": {
            "type": "object", "required": ["name", "parquet", "tokens_prefix", "documents", "tokens"],
            "properties": {"name": {"type": "string"}, "parquet": {"type": "string"},
                           "tokens_prefix": {"type": "string"}, "documents": _COUNT, "tokens": _COUNT}}},
        "merged_tokens_prefix": {"type": "string"},  # only with [publish] merge_tokens
        # only with [filters.decontam] sets: every evaluation set the version was decontaminated against
        "decontamination": {"type": "array", "items": {
            "type": "object", "required": ["set", "path", "digest", "items", "items_found", "documents", "removed"],
            "properties": {"set": {"type": "string"}, "path": {"type": "string"},
                           "digest": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"}, "items": _COUNT,
                           "items_found": _COUNT, "documents": _COUNT, "removed": _COUNT, "cut": _COUNT,
                           "spans_cut": _COUNT}}},
        "files": {"type": "array", "items": {
            "type": "object", "required": ["path", "kind", "bytes", "sha256"],
            "properties": {"path": {"type": "string"}, "kind": {"type": "string"}, "bytes": _COUNT,
                           "sha256": _SHA256, "rows": _COUNT, "tokens": _COUNT}}},
    },
}

_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict, "array": list, "string": str, "integer": int, "number": (int, float), "boolean": bool,
    "null": type(None),
}


def _is(value: Any, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[name])


def _check(value: Any, schema: Mapping[str, Any], where: str, problems: list[str]) -> None:
    kinds = schema.get("type")
    if kinds is not None:
        names = [kinds] if isinstance(kinds, str) else list(kinds)
        if not any(_is(value, k) for k in names):
            problems.append(f"{where}: expected {' or '.join(names)}, got {type(value).__name__}")
            return
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        problems.append(f"{where}: {value!r} does not match {schema['pattern']}")
    if _is(value, "number") and "minimum" in schema and value < schema["minimum"]:
        problems.append(f"{where}: {value!r} is below {schema['minimum']}")
    if isinstance(value, dict):
        for key in schema.get("required", ()):
            if key not in value:
                problems.append(f"{where}: missing {key!r}")
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                _check(value[key], sub, f"{where}.{key}", problems)
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            _check(item, schema["items"], f"{where}[{i}]", problems)


def validate_manifest(manifest: Mapping[str, Any]) -> None:
    """Raise ValueError listing every way `manifest` departs from MANIFEST_SCHEMA (types, required keys, ranges)."""
    problems: list[str] = []
    _check(manifest, MANIFEST_SCHEMA, "manifest", problems)
    if problems:
        raise ValueError("invalid manifest: " + "; ".join(problems))


__all__ = ["MANIFEST_SCHEMA", "MANIFEST_SCHEMA_VERSION", "SHARDS_SCHEMA_VERSION", "shards_schema",
           "validate_manifest"]
