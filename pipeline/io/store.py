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
import time
from pathlib import Path

from jwc.pipeline.errors import UserError
from jwc.pipeline.io.atomic import atomic_write_json

STORE_FORMAT = 1
MARKER = "jwc-store.json"


def now_utc() -> str:
    """The timestamp format every record in the store uses (UTC, seconds)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


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
        atomic_write_json(marker, {"format": STORE_FORMAT})
        return cls(path)

    def run_dir(self, crawl_id: str) -> Path:
        return self.root / "runs" / _safe(crawl_id)

    def dataset_dir(self, dataset: str) -> Path:
        return self.root / "datasets" / _safe(dataset)


def _safe(name: str) -> str:
    """Names become folder names: refuse anything that could escape the store."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or name.startswith("."):
        raise StoreError(f"not a usable name for a folder in the store: {name!r}")
    return name
