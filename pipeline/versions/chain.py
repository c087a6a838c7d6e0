"""The dataset as a chain of increments: version V holds only the documents its crawl added (dedup drops what any
earlier version holds), so "the dataset up to V" is V and every ancestor reached through `parent`.

This module resolves that chain into what a trainer needs: every version's shards and token prefixes with their
document and token counts, and the arguments Megatron-LM and NeMo take to train on them.
"""
from __future__ import annotations

import json
import posixpath
from pathlib import Path
from typing import Any, Callable, Mapping

from jwc.pipeline.versions.ids import VersionError
from jwc.pipeline.versions.manifest import read_manifest
from jwc.pipeline.versions.pins import TOKENIZER_INFO

# Megatron-LM's GPTSentencePieceTokenizer takes its end-of-document id from the model's eos piece, the one the
# bins end each document with; the plain SentencePieceTokenizer appends its own <EOD> id beyond the vocabulary.
MEGATRON_TOKENIZER_TYPES = {"sentencepiece": "GPTSentencePieceTokenizer", "hf": "HuggingFaceTokenizer"}
NEMO_TOKENIZER_LIBRARIES = {"sentencepiece": "sentencepiece", "hf": "huggingface"}


def version_chain(dataset_dir: Path, version: str) -> list[dict[str, Any]]:
    """The manifests of `version` and all its ancestors, oldest first (the first version has no parent)."""
    chain: list[dict[str, Any]] = []
    current: str | None = version
    while current is not None:
        if any(m["version"] == current for m in chain):
            raise VersionError(f"the parent links of {dataset_dir.name} loop at {current}")
        chain.append(read_manifest(dataset_dir, current))
        current = chain[-1]["parent"]
    return chain[::-1]


def resolve_dataset(dataset_dir: Path, version: str, root: str | Path | None = None) -> dict[str, Any]:
    """"The dataset up to `version`": every version of the chain with its shards (Parquet path, token prefix,
    documents, tokens), per-version and cumulative totals. Paths are under `root` (default: the store's versions
    folder), so the same listing can point at a copy of the versions elsewhere, or at a Hadoop store's URI."""
    chain = version_chain(dataset_dir, version)
    under = _versions_root(dataset_dir, root)
    tokenizers = {m["tokenizer"]["id"] for m in chain}
    if len(tokenizers) > 1:
        raise VersionError(f"the chain up to {version} mixes tokenizers {sorted(tokenizers)}")
    versions, documents, tokens = [], 0, 0
    for m in chain:
        documents += m["totals"]["documents"]
        tokens += m["totals"]["tokens"]
        versions.append({
            "version": m["version"], "parent": m["parent"], "crawl_ids": m["crawl_ids"], "created": m["created"],
            "documents": m["totals"]["documents"], "tokens": m["totals"]["tokens"],
            "cumulative_documents": documents, "cumulative_tokens": tokens,
            "shards": [{"parquet": under(m["version"], s["parquet"]),
                        "tokens_prefix": under(m["version"], s["tokens_prefix"]),
                        "documents": s["documents"], "tokens": s["tokens"]} for s in m["shards"]],
        })
    last = chain[-1]
    return {"dataset": dataset_dir.name, "up_to": version, "versions": versions,
            "totals": {"versions": len(chain), "documents": documents, "tokens": tokens,
                       "shards": sum(len(v["shards"]) for v in versions)},
            "tokenizer": {**last["tokenizer"], "model": _tokenizer_model(dataset_dir, under, last)}}


def _versions_root(dataset_dir: Path, root: str | Path | None) -> Callable[..., str]:
    """Paths under the versions folder: a local one made absolute, a URI (`hdfs://nn/jwc/...`) joined as written,
    since a Path would fold its `//`."""
    if isinstance(root, str) and "://" in root:
        base = root.rstrip("/")
        return lambda *parts: posixpath.join(base, *parts)
    local = (Path(root) if root is not None else dataset_dir / "versions").resolve()
    return lambda *parts: str(local.joinpath(*parts))


def _tokenizer_model(dataset_dir: Path, under: Callable[..., str], manifest: Mapping[str, Any]) -> str:
    """The tokenizer file a trainer loads: the copy inside the version (`tokenizer/`), named in the manifest; for a
    version published before versions held their tokenizer, the dataset's stored one."""
    files = manifest["tokenizer"].get("files")
    if files:
        return under(manifest["version"], files["model"])
    stored = dataset_dir / manifest["tokenizer"]["folder"]
    return str(stored / json.loads((stored / TOKENIZER_INFO).read_text(encoding="utf-8"))["file"])


def training_args(resolved: Mapping[str, Any]) -> dict[str, Any]:
    """Megatron-LM and NeMo arguments for a resolved dataset: every shard's token prefix weighted by its tokens
    (so sampling follows the data, each token about once per epoch), and the tokenizer setting that reads the
    pinned model with the same end-of-document id as the bins."""
    shards = [s for v in resolved["versions"] for s in v["shards"] if s["tokens"] > 0]
    total = sum(s["tokens"] for s in shards)
    if not total:
        raise VersionError(f"{resolved['dataset']} up to {resolved['up_to']} holds no tokens")
    blend: list[Any] = []
    for s in shards:
        blend += [round(s["tokens"] / total, 12), s["tokens_prefix"]]
    tok = resolved["tokenizer"]
    kind = tok["id"].split(":", 1)[0]
    model = tok["model"] if kind == "sentencepiece" else str(Path(tok["model"]).parent)
    megatron = ["--data-path", *map(str, blend), "--tokenizer-type", MEGATRON_TOKENIZER_TYPES[kind],
                "--tokenizer-model", model, "--split", "100,0,0"]
    return {
        "megatron": megatron,
        "nemo": {"model.data.data_prefix": blend,
                 "model.tokenizer.library": NEMO_TOKENIZER_LIBRARIES[kind], "model.tokenizer.model": model},
        "eos_id": tok["eos_id"], "vocab_size": tok["vocab_size"], "append_eos": tok.get("append_eos", True),
        "documents": resolved["totals"]["documents"], "tokens": total,
    }


def chain_view(dataset_dir: Path, version: str) -> list[dict[str, Any]]:
    """What changed in the dataset, version by version: each increment's new documents and tokens, and the
    dataset's size after it (the whole-chain answer to "what changed")."""
    resolved = resolve_dataset(dataset_dir, version)
    return [{k: v[k] for k in ("version", "parent", "crawl_ids", "created", "documents", "tokens",
                               "cumulative_documents", "cumulative_tokens")} | {"shards": len(v["shards"])}
            for v in resolved["versions"]]
