"""The staging area: a version is assembled in staging/<id>/version/ and made visible with one rename."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from jwc.pipeline.io.atomic import atomic_write_json, fsync_dir
from jwc.pipeline.io.store import now_utc
from jwc.pipeline.versions.ids import VersionError, checked_version


def staging_dir(dataset_dir: Path, version: str) -> Path:
    """Where `version` is assembled; renamed to versions/<version> when complete."""
    return dataset_dir / "staging" / checked_version(version, "staging") / "version"


def publish_folder(staged: Path, final: Path) -> None:
    """Make a complete staged version visible with a single rename; refuses to replace a published version."""
    if final.exists():
        raise VersionError(f"{final} is already published; versions are immutable")
    final.parent.mkdir(parents=True, exist_ok=True)
    os.rename(staged, final)
    fsync_dir(final.parent)


def release_staging(dataset_dir: Path, version: str) -> None:
    """Remove a published version's staging folder (its id reservation)."""
    shutil.rmtree(dataset_dir / "staging" / checked_version(version, "staging"), ignore_errors=True)


def abandon_staging(dataset_dir: Path, version: str) -> None:
    """Give up a reserved id (`--restart`): drop what was staged but keep staging/<id>/, so that the id is never
    taken again, and record when it was abandoned beside the run that held it."""
    shutil.rmtree(staging_dir(dataset_dir, version), ignore_errors=True)
    folder = dataset_dir / "staging" / version
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / "abandoned.json", {"version": version, "abandoned": now_utc()})


def make_read_only(root: Path) -> None:
    """Published files are never written again; make that visible to people and tools."""
    for p in root.rglob("*"):
        if p.is_symlink():
            raise VersionError(f"{p} is a symbolic link; a version holds plain files only")
        if p.is_file():
            p.chmod(0o444)
