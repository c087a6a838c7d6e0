"""Version ids: allocating one per run (once, even across crashes and reruns) and listing the published ones."""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from jwc.pipeline.errors import UserError
from jwc.pipeline.io.atomic import atomic_write_json
from jwc.pipeline.io.store import now_utc

MANIFEST = "manifest.json"  # a version folder counts as published only once it holds this file
RUN_VERSION_FILE = "version.json"  # in the run folder: the version id this run publishes
_VERSION = re.compile(r"v(\d{4,})")


class VersionError(UserError):
    """A version or dataset that does not exist or cannot be used; the message says which."""


def version_id(number: int) -> str:
    return f"v{number:04d}"


def version_number(name: str) -> int | None:
    m = _VERSION.fullmatch(name) if isinstance(name, str) else None
    return int(m.group(1)) if m else None


def checked_version(name: object, where: str) -> str:
    """A version id read from a file or the command line, refused unless it is one (`v0001`): ids become paths."""
    if version_number(name) is None:  # type: ignore[arg-type]
        raise VersionError(f"{where}: {name!r} is not a version id (v0001, v0002, ...)")
    return name  # type: ignore[return-value]


def _numbers(folder: Path) -> list[int]:
    if not folder.is_dir():
        return []
    return [n for n in (version_number(p.name) for p in folder.iterdir()) if n is not None]


def published_versions(dataset_dir: Path) -> list[str]:
    """Published version ids, oldest first (a folder counts only with its manifest)."""
    root = dataset_dir / "versions"
    return [version_id(n) for n in sorted(_numbers(root)) if (root / version_id(n) / MANIFEST).is_file()]


def latest_version(dataset_dir: Path, below: int | None = None) -> str | None:
    """The highest published version id (below `below` when given), or None."""
    found = [v for v in published_versions(dataset_dir) if below is None or version_number(v) < below]
    return found[-1] if found else None


@dataclass(frozen=True)
class RunVersion:
    """The version a run publishes: allocated once, stored in the run folder."""

    dataset: str
    version: str
    parent: str | None
    crawl_id: str


def run_version(dataset_dir: Path, run_dir: Path, crawl_id: str) -> RunVersion:
    """The version id of this run: the one recorded in the run folder, else a newly allocated one.

    Stages get it through RunContext.version() (jobs/stages.py), the one caller in a run; every later call returns
    the same id. The parent is the latest version published when the id was taken.
    """
    marker = run_dir / RUN_VERSION_FILE
    if marker.is_file():
        rv = _read_run_version(marker)
        if rv.dataset != dataset_dir.name or rv.crawl_id != crawl_id:
            raise VersionError(f"{marker}: the run publishes {rv.dataset} {rv.version} of crawl {rv.crawl_id}, not "
                               f"dataset {dataset_dir.name} of crawl {crawl_id}")
        return rv
    versions, staging = dataset_dir / "versions", dataset_dir / "staging"
    versions.mkdir(parents=True, exist_ok=True)
    staging.mkdir(parents=True, exist_ok=True)
    number = max(_numbers(versions) + _numbers(staging), default=0) + 1
    while True:
        vid = version_id(number)
        try:
            (staging / vid).mkdir()
        except FileExistsError:
            number += 1
            continue
        # A run that published vid and released its staging folder between our two listings: take the next one.
        if (versions / vid).exists():
            (staging / vid).rmdir()
            number += 1
            continue
        break
    rv = RunVersion(dataset_dir.name, vid, latest_version(dataset_dir, below=number), crawl_id)
    atomic_write_json(staging / vid / "run.json", {**asdict(rv), "run_dir": str(run_dir), "allocated": now_utc()})
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(marker, asdict(rv))
    return rv


def _read_run_version(marker: Path) -> RunVersion:
    """A run's version.json, every field checked: the version id becomes a path in publish."""
    if marker.is_symlink():
        raise VersionError(f"{marker} is a symbolic link; the store's records must be plain files")
    try:
        rv = RunVersion(**json.loads(marker.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise VersionError(f"{marker} is damaged: {exc}") from None
    checked_version(rv.version, str(marker))
    if rv.parent is not None:
        checked_version(rv.parent, f"{marker} parent")
    return rv


def reserved_version(run_dir: Path) -> str | None:
    """The version id a run folder has reserved, or None when it has not taken one yet."""
    marker = run_dir / RUN_VERSION_FILE
    return _read_run_version(marker).version if marker.is_file() or marker.is_symlink() else None
