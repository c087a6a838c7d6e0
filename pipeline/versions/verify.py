"""Re-checking a published version, or a copy of one (after `aws s3 sync`, an upload, a disk move), against its
manifest: every file listed must be there with the same size and sha256 (Parquet and `.idx` files are also read
back whole), and nothing unlisted may sit beside them except the manifest itself."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jwc.pipeline.versions.files import describe_file
from jwc.pipeline.versions.ids import MANIFEST, VersionError
from jwc.schemas.manifest import validate_manifest


def _listed(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def _check_file(folder: Path, entry: dict[str, Any]) -> str | None:
    """What is wrong with one listed file, or None."""
    path = folder / entry["path"]
    if not path.is_file():
        return f"{entry['path']}: missing"
    try:
        found = describe_file((entry["path"], str(path)))
    except (OSError, ValueError) as exc:  # pyarrow raises ArrowInvalid, a ValueError, on a damaged file
        return f"{entry['path']}: unreadable ({exc})"
    for key in ("bytes", "sha256", "rows", "tokens"):
        if key in entry and found.get(key) != entry[key]:
            return f"{entry['path']}: {key} {found.get(key)}, the manifest says {entry[key]}"
    return None


def verify_folder(folder: Path) -> dict[str, Any]:
    """Check a version folder against the manifest.json inside it; returns what was checked and every problem."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise VersionError(f"{folder} holds no {MANIFEST}: not a published version (or an incomplete copy)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    try:
        validate_manifest(manifest)
    except ValueError as exc:
        raise VersionError(f"{manifest_path}: {exc}") from None
    problems = [p for p in (_check_file(folder, e) for e in manifest["files"]) if p]
    extra = sorted(_listed(folder) - {e["path"] for e in manifest["files"]} - {MANIFEST})
    problems += [f"{rel}: not in the manifest" for rel in extra]
    return {"dataset": manifest["dataset"], "version": manifest["version"], "path": str(folder),
            "files": len(manifest["files"]), "bytes": sum(e["bytes"] for e in manifest["files"]),
            "ok": not problems, "problems": problems}
