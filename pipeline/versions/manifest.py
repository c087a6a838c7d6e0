"""Reading a published version's manifest, checked against the schema this code reads."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from jwc.pipeline.io.store import StoreError, inside
from jwc.pipeline.versions.ids import MANIFEST, VersionError, checked_version, published_versions
from jwc.schemas.manifest import MANIFEST_SCHEMA_VERSION, validate_manifest


def read_manifest(dataset_dir: Path, version: str) -> dict[str, Any]:
    """A published version's manifest, checked: the id is a version id, no link on the way, the schema is the one
    this code reads and every path it names stays inside the version."""
    path = dataset_dir / "versions" / checked_version(version, "version") / MANIFEST
    try:
        inside(dataset_dir, path, "manifest")
    except StoreError as exc:
        raise VersionError(str(exc)) from None
    if not path.is_file():
        known = ", ".join(published_versions(dataset_dir)) or "none"
        raise VersionError(f"no published version {version} of {dataset_dir.name} (published: {known})")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("schema_version") != MANIFEST_SCHEMA_VERSION:
        raise VersionError(f"{path}: manifest schema version {manifest.get('schema_version')} is not "
                           f"{MANIFEST_SCHEMA_VERSION}, which this code reads")
    validate_manifest(manifest)
    for rel in _named_paths(manifest):
        if rel.startswith("/") or "\\" in rel or ".." in rel.split("/"):
            raise VersionError(f"{path}: names {rel!r}, a path outside the version")
    return manifest


def _named_paths(manifest: Mapping[str, Any]) -> list[str]:
    """Every path in a manifest that readers join to the version folder."""
    paths = [f["path"] for f in manifest["files"]]
    paths += [s[key] for s in manifest["shards"] for key in ("parquet", "tokens_prefix")]
    return paths + [manifest["tokenizer"]["folder"]] + ([manifest["merged_tokens_prefix"]]
                                                       if "merged_tokens_prefix" in manifest else [])


def summary(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The one-line facts of a version (what `jwc versions list` prints)."""
    t = manifest["totals"]
    return {"version": manifest["version"], "created": manifest["created"], "parent": manifest["parent"],
            "crawl_ids": manifest["crawl_ids"], "documents": t["documents"], "tokens": t["tokens"],
            "shards": t["shards"], "bytes": t["bytes"], "tokenizer": manifest["tokenizer"]["id"],
            "config_digest": manifest["config_digest"][:12]}


def list_versions(dataset_dir: Path) -> list[dict[str, Any]]:
    return [summary(read_manifest(dataset_dir, v)) for v in published_versions(dataset_dir)]
