"""Versions of a store on a Hadoop file system: what a run copies in from it, and how it publishes into it.

A run builds and checks its version in a local work store exactly as on a POSIX store. Before it starts, the
published versions' manifests and statistics and the dataset's tokenizers and pin are copied into the work store
(`pull_published`), so choosing the parent, the dataset card's chain, the report's comparison and the tokenizer
checks read local files as usual. Publishing (`push_version`, under the dataset's lock held in the Hadoop store)
copies the finished version into `staging/<id>/` of the Hadoop store, reads the copy's file list back, then makes it
visible with one rename into `versions/<id>`: a killed copy leaves only a staging folder, which readers never look
at and the next publish of that id deletes first. Every name read back from the Hadoop store is checked before it
becomes a local path.
"""
from __future__ import annotations

import json
import posixpath
from pathlib import Path

from jwc.pipeline.io.atomic import atomic_folder, create_once
from jwc.pipeline.io.crash import die_at
from jwc.pipeline.io.store import SharedStore, StoreError, inside, safe_name
from jwc.pipeline.versions.ids import MANIFEST, VersionError, checked_version, version_number
from jwc.pipeline.versions.manifest import read_manifest
from jwc.pipeline.versions.pins import PIN_FILE, read_pin

_SKIPPED = ("_", ".")  # temporaries and hidden files: not part of the metadata a run copies in


def _visible(names: list[str]) -> list[str]:
    return [n for n in names if not any(part.startswith(_SKIPPED) for part in n.split("/"))]


def published_ids(shared: SharedStore, dataset: str) -> list[str]:
    """Published version ids in the Hadoop store, oldest first (a folder counts only with its manifest)."""
    base = f"{shared.dataset(dataset)}/versions"
    found = [name for name, is_dir in shared.fs.children(base) if is_dir and version_number(name) is not None]
    return sorted((v for v in found if shared.fs.is_file(f"{base}/{v}/{MANIFEST}")), key=version_number)


def _copy_out(shared: SharedStore, rel: str, dest: Path, files: list[str]) -> None:
    """Copy the named files of folder `rel` into a new local folder `dest`, written aside then renamed (a folder
    that appears is whole); `dest` already there is left as it is (another run copied it first)."""
    if dest.exists():
        return
    with atomic_folder(dest) as tmp:
        for name in files:
            local = inside(tmp, tmp / name, f"file of {shared.fs.uri(rel)}")
            local.parent.mkdir(parents=True, exist_ok=True)
            shared.fs.get(posixpath.join(rel, name), str(local))


def pull_published(shared: SharedStore, dataset: str, dataset_dir: Path, stats: bool = True) -> list[str]:
    """Copy into a local dataset folder what reading the published versions needs: each version's manifest (and its
    `stats/`, which the report compares with), every stored tokenizer and the pin. Returns the version ids."""
    base = shared.dataset(dataset)
    ids = published_ids(shared, dataset)
    for version in ids:
        rel = f"{base}/versions/{version}"
        files = [MANIFEST] + ([f"stats/{f}" for f in _visible(list(shared.fs.files_under(f"{rel}/stats")))]
                              if stats else [])
        _copy_out(shared, rel, dataset_dir / "versions" / version, files)
        read_manifest(dataset_dir, version)  # checked before anything reads it
    for name, is_dir in shared.fs.children(f"{base}/tokenizer"):
        if is_dir and not name.startswith(_SKIPPED):
            folder = safe_name(name, f"a tokenizer folder of {shared.fs.uri(base)}")
            _copy_out(shared, f"{base}/tokenizer/{folder}", dataset_dir / "tokenizer" / folder,
                      _visible(list(shared.fs.files_under(f"{base}/tokenizer/{folder}"))))
    pin = f"{base}/tokenizer/{PIN_FILE}"
    local_pin = dataset_dir / "tokenizer" / PIN_FILE
    if shared.fs.is_file(pin):
        if not local_pin.is_file():
            local_pin.parent.mkdir(parents=True, exist_ok=True)
            create_once(local_pin, lambda tmp: shared.fs.get(pin, str(tmp)))
        if read_pin(dataset_dir)["id"] != json.loads(shared.fs.read_bytes(pin))["id"]:
            raise VersionError(f"the work folder's {local_pin} and the store's {shared.fs.uri(pin)} pin different "
                               "tokenizers")
    return ids


def download_version(shared: SharedStore, dataset: str, version: str, dest: Path) -> Path:
    """Copy a whole published version out to a new local folder `dest` (to re-hash it: `jwc versions verify`)."""
    rel = f"{shared.dataset(dataset)}/versions/{checked_version(version, 'version')}"
    if not shared.fs.is_file(f"{rel}/{MANIFEST}"):
        known = ", ".join(published_ids(shared, dataset)) or "none"
        raise VersionError(f"no published version {version} of {dataset} in {shared.fs.root} (published: {known})")
    _copy_out(shared, rel, dest, list(shared.fs.files_under(rel)))
    return dest


def _upload(shared: SharedStore, local: Path, staging: str, final: str, hook: str = "") -> None:
    """Copy a local folder into `staging` (emptied first), check every file arrived whole (its size), then rename
    it to `final` in one step. `hook` names the crash-test point between the copy and the rename."""
    fs = shared.fs
    fs.delete(staging)
    fs.mkdirs(posixpath.dirname(staging))
    fs.put(str(local), staging)
    wanted = {p.relative_to(local).as_posix(): p.stat().st_size for p in local.rglob("*") if p.is_file()}
    arrived = {name: fs.size(f"{staging}/{name}") for name in fs.files_under(staging)}
    if arrived != wanted:
        differ = sorted(set(wanted.items()) ^ set(arrived.items()))[:5]
        raise StoreError(f"copying {local} to {fs.uri(staging)}: (file, bytes) {differ} differ")
    if hook:
        die_at(hook)
    fs.mkdirs(posixpath.dirname(final))
    fs.rename(staging, final)


def push_pin(shared: SharedStore, dataset: str, dataset_dir: Path) -> None:
    """Give the Hadoop store the work store's pinned tokenizer, unless it has it; refuse when it pins another."""
    pin = read_pin(dataset_dir)
    if pin is None:
        return
    base, fs = shared.dataset(dataset), shared.fs
    remote = f"{base}/tokenizer/{PIN_FILE}"
    if fs.is_file(remote):
        found = json.loads(fs.read_bytes(remote))
        if found["id"] != pin["id"]:
            raise VersionError(f"{fs.uri(remote)} pins {found['id']}, this run tokenized with {pin['id']}")
        return
    folder = f"{base}/tokenizer/{pin['folder']}"
    if not fs.exists(folder):
        _upload(shared, dataset_dir / "tokenizer" / pin["folder"], f"{base}/staging/_tokenizer-{pin['folder']}",
                folder)
    fs.write_atomic(remote, (dataset_dir / "tokenizer" / PIN_FILE).read_bytes())


def push_version(shared: SharedStore, dataset: str, dataset_dir: Path, version: str) -> bool:
    """Publish the work store's finished `versions/<version>` into the Hadoop store (the caller holds the dataset's
    lock there); False when it is there already with the same content, refused when with other content."""
    base, fs = shared.dataset(dataset), shared.fs
    final = f"{base}/versions/{checked_version(version, 'version')}"
    local = read_manifest(dataset_dir, version)
    if fs.is_file(f"{final}/{MANIFEST}"):
        there = json.loads(fs.read_bytes(f"{final}/{MANIFEST}"))
        if there.get("content_digest") != local["content_digest"]:
            raise VersionError(f"{fs.uri(final)} was published by another run with other content: runs of different "
                               "crawl ids on one Hadoop store must share one work folder")
        return False
    push_pin(shared, dataset, dataset_dir)
    _upload(shared, dataset_dir / "versions" / version, f"{base}/staging/{version}", final, "publish:uploaded")
    return True
