"""The tokenizer a dataset is pinned to: stored once per id in datasets/<name>/tokenizer/, pinned by PINNED.json."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Mapping

from jwc.pipeline.io.atomic import atomic_folder, atomic_write_bytes, atomic_write_json, create_once
from jwc.pipeline.io.store import now_utc, safe_name
from jwc.pipeline.tokens.tokenizer import HFTokenizer, SentencePieceTokenizer, Tokenizer
from jwc.pipeline.versions.ids import VersionError

TOKENIZER_INFO = "tokenizer-info.json"
PIN_FILE = "PINNED.json"


def tokenizer_folder(tokenizer_id: str) -> str:
    """A folder name for a tokenizer id (ids hold ':', which Hadoop paths refuse)."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", tokenizer_id)


def store_tokenizer(dataset_dir: Path, tok: Tokenizer, eos_token: str, source: Mapping[str, Any]) -> str:
    """Copy a tokenizer's model into datasets/<name>/tokenizer/<folder>/ (once per id); returns the folder name.

    `eos_token` is what the tokenizer was loaded with, so reloading gives the same eos id.
    """
    root = dataset_dir / "tokenizer"
    folder = tokenizer_folder(tok.id)
    if (root / folder / TOKENIZER_INFO).is_file():
        return folder
    file = f"{tok.name}.model" if isinstance(tok, SentencePieceTokenizer) else "tokenizer.json"
    eos = tok.eos_token if isinstance(tok, HFTokenizer) else eos_token
    info = {"id": tok.id, "kind": tok.kind, "name": tok.name, "file": file, "eos_token": eos, "eos_id": tok.eos_id,
            "vocab_size": tok.vocab_size, "source": dict(source), "stored": now_utc()}
    with atomic_folder(root / folder) as tmp:  # another run may store the same id first: its folder wins
        atomic_write_bytes(tmp / file, tok.model)
        atomic_write_json(tmp / TOKENIZER_INFO, info)
    return folder


def load_stored_tokenizer(dataset_dir: Path, folder: str, num_threads: int = 1) -> Tokenizer:
    """Rebuild a stored tokenizer; its id must be the one recorded (the model bytes are checked by the id)."""
    path = dataset_dir / "tokenizer" / folder
    info = json.loads((path / TOKENIZER_INFO).read_text(encoding="utf-8"))
    model = (path / info["file"]).read_bytes()
    if info["kind"] == SentencePieceTokenizer.kind:
        tok: Tokenizer = SentencePieceTokenizer(model, info["name"], info["eos_token"], num_threads)
    else:
        tok = HFTokenizer(model, info["name"], info["eos_token"])
    if tok.id != info["id"] or tok.eos_id != info["eos_id"]:
        raise VersionError(f"{path}: the stored model gives {tok.id} eos {tok.eos_id}, "
                           f"the record says {info['id']} eos {info['eos_id']}")
    return tok


def read_pin(dataset_dir: Path) -> dict[str, Any] | None:
    """The pin, or None; its folder is checked, since it becomes a path in the store."""
    pin = dataset_dir / "tokenizer" / PIN_FILE
    if not pin.is_file():
        return None
    found = json.loads(pin.read_text(encoding="utf-8"))
    safe_name(found.get("folder"), f"a tokenizer folder ({pin})")
    return found


def pin_tokenizer(dataset_dir: Path, folder: str, tokenizer_id: str) -> dict[str, Any]:
    """Pin the dataset to a stored tokenizer unless it already is; returns the pin in force.

    The pin is created once (create_once), so two runs cannot both pin.
    """
    pin = {"id": tokenizer_id, "folder": folder, "pinned": now_utc()}
    create_once(dataset_dir / "tokenizer" / PIN_FILE, lambda tmp: atomic_write_json(tmp, pin))
    return read_pin(dataset_dir) or {}
