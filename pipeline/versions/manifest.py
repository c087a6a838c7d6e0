"""Reading a published version's manifest, checked against the schema this code reads."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from jwc.pipeline.versions.ids import MANIFEST, VersionError, published_versions
from jwc.schemas.manifest import MANIFEST_SCHEMA_VERSION, validate_manifest


def read_manifest(dataset_dir: Path, version: str) -> dict[str, Any]:
    path = dataset_dir / "versions" / version / MANIFEST
    if not path.is_file():
        known = ", ".join(published_versions(dataset_dir)) or "none"
        raise VersionError(f"no published version {version} of {dataset_dir.name} (published: {known})")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("schema_version") != MANIFEST_SCHEMA_VERSION:
        raise VersionError(f"{path}: manifest schema version {manifest.get('schema_version')} is not "
                           f"{MANIFEST_SCHEMA_VERSION}, which this code reads")
    validate_manifest(manifest)
    return manifest


def summary(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The one-line facts of a version (what `jwc versions list` prints)."""
    t = manifest["totals"]
    return {"version": manifest["version"], "created": manifest["created"], "parent": manifest["parent"],
            "crawl_ids": manifest["crawl_ids"], "documents": t["documents"], "tokens": t["tokens"],
            "shards": t["shards"], "bytes": t["bytes"], "tokenizer": manifest["tokenizer"]["id"],
            "config_digest": manifest["config_digest"][:12]}


def list_versions(dataset_dir: Path) -> list[dict[str, Any]]:
    return [summary(read_manifest(dataset_dir, v)) for v in published_versions(dataset_dir)]
