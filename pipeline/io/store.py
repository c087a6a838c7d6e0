"""The dataset store: a folder a person can read with `ls`.

    store/
      jwc-store.json                       marks the folder as a store (format version)
      runs/<crawl-id>/<stage>/             work in progress, one folder per finished stage
      datasets/<name>/versions/<id>/       published, immutable versions
      datasets/<name>/dedup-index/         band keys and signatures of everything published
      datasets/<name>/tokenizer/           the tokenizer the dataset is pinned to
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from jwc.pipeline.errors import UserError

STORE_FORMAT = 1
MARKER = "jwc-store.json"


class StoreError(UserError):
    """The store folder cannot be used; the message says why."""


class Store:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    @classmethod
    def open(cls, root: str | Path, create: bool = True) -> "Store":
        """Open a store, creating it in a missing or empty folder; refuse a folder that holds something else."""
        path = Path(root)
        marker = path / MARKER
        if path.exists() and not path.is_dir():
            raise StoreError(f"store path is a file, not a folder: {path}")
        if marker.is_file():
            try:
                fmt = json.loads(marker.read_text())["format"]
            except (ValueError, KeyError) as exc:
                raise StoreError(f"{marker} is damaged: {exc}") from None
            if fmt != STORE_FORMAT:
                raise StoreError(f"store {path} has format {fmt}; this version reads format {STORE_FORMAT}")
            return cls(path)
        if path.exists() and any(path.iterdir()):
            raise StoreError(f"not a jwc store (no {MARKER}) and not empty: {path}")
        if not create:
            raise StoreError(f"no store at {path}")
        path.mkdir(parents=True, exist_ok=True)
        tmp = path / f".{MARKER}.tmp"
        tmp.write_text(json.dumps({"format": STORE_FORMAT}) + "\n")
        os.replace(tmp, marker)
        return cls(path)

    def check_writable(self) -> None:
        """Refuse a store that cannot be written (read-only mount, permissions, full disk) before any work."""
        probe = self.root / f".{MARKER}.probe"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise StoreError(f"cannot write to the store {self.root}: {exc.strerror}; a run needs a writable store "
                             "(a published crawl can be rerun read-only: every stage is skipped)") from None

    def run_dir(self, crawl_id: str) -> Path:
        return self.root / "runs" / safe_name(crawl_id, "crawl id")

    def dataset_dir(self, dataset: str) -> Path:
        return self.root / "datasets" / safe_name(dataset, "dataset name")


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def safe_name(name: str, what: str) -> str:
    """Crawl ids and dataset names become folder names in the store and parts of Spark paths: only letters, digits,
    '.', '_' and '-' (Spark reads `[` and `{` as globs and `:` as a URI scheme; `/` could leave the store), at most
    100 characters (file systems cap a name at 255 bytes)."""
    if not _NAME.fullmatch(name):
        shown = repr(name) if len(name) <= 60 else f"{name[:40]!r}... ({len(name)} characters)"
        raise StoreError(f"not a usable {what}: {shown}; it names a folder in the store: use letters, digits, '.', "
                         "'_' and '-', at most 100 characters, starting with a letter or digit")
    return name
