"""The dataset card of a published version: `README.md` at the version's root.

Its YAML header is what Hugging Face loaders read (`configs` / `data_files`), so `datasets.load_dataset(<version
folder>)` yields the shards' documents and nothing else (the stats Parquet files beside them are not data). The
body says what the version is, that it is one increment of a chain, and how to load and train on it. It holds no
time, so two runs over the same documents write the same card.
"""
from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

CARD = "README.md"
SHARD_FILES = "shards/*.parquet"


def published_shard_name(dataset: str, version: str, index: int) -> str:
    """A shard's name in a published version: unique across versions and datasets, so versions can be copied
    into one folder or repository side by side."""
    return f"{dataset}-{version}-{index:05d}"


def _yaml_str(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def card_header(dataset: str, version: str, publish: Mapping[str, Any], documents: int) -> str:
    """The YAML front matter: licence, language, size and the one config whose only split is the shards."""
    size = next(name for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"),
                                         (float("inf"), "n>10M")) if documents < limit)
    return "\n".join([
        "---", f"license: {_yaml_str(publish['license'])}", "language:", "- ja",
        f"pretty_name: {_yaml_str(f'{dataset} {version}')}", "task_categories:", "- text-generation",
        "size_categories:", f"- {size}", "configs:", "- config_name: default", "  data_files:",
        "  - split: train", f"    path: {_yaml_str(SHARD_FILES)}", "---", ""])


def _chain_table(chain: Sequence[Mapping[str, Any]]) -> list[str]:
    rows = ["| version | crawls | new documents | new tokens |", "|---|---|---:|---:|"]
    rows += [f"| {c['version']} | {', '.join(c['crawl_ids'])} | {c['documents']:,} | {c['tokens']:,} |"
             for c in chain]
    return rows


def render_card(facts: Mapping[str, Any], publish: Mapping[str, Any]) -> str:
    """The whole README.md. `facts`: dataset, version, parent, crawl_ids, documents, tokens, shards, columns,
    tokenizer (id, file, vocab_size, eos_id, kind), chain (the ancestors' version, crawl_ids, documents, tokens,
    oldest first, this version last), config_digest. The code version (git commit) is left to manifest.json: the
    card depends on the documents and config only, so a rerun from another checkout writes the same bytes."""
    d, v, tok = facts["dataset"], facts["version"], facts["tokenizer"]
    chain = facts["chain"]
    total_docs = sum(c["documents"] for c in chain)
    total_tokens = sum(c["tokens"] for c in chain)
    description = publish["description"] or (
        f"Japanese web text for language-model pre-training, extracted from Common Crawl by the `jwc` pipeline: "
        f"charset repair, main-text extraction (trafilatura), language ID (fastText), quality, toxicity and PII "
        f"filters, MinHash near-deduplication against every earlier version.")
    megatron_type = "GPTSentencePieceTokenizer" if tok["kind"] == "sentencepiece" else "HuggingFaceTokenizer"
    lines = [
        card_header(d, v, publish, facts["documents"]),
        f"# {d} {v}", "", description, "",
        "## This folder is one increment", "",
        f"`{v}` holds **only the documents its crawl ({', '.join(facts['crawl_ids'])}) added**: "
        f"{facts['documents']:,} documents, {facts['tokens']:,} tokens in {facts['shards']} shard(s). Documents "
        "that any earlier version already holds (exactly or nearly) were removed, so the dataset up to "
        f"{v} is every version of the chain below; train on all of them together.", "",
        *_chain_table(chain), "",
        f"The dataset up to {v}: {len(chain)} version(s), {total_docs:,} documents, {total_tokens:,} tokens"
        f" (parent: {facts['parent'] or 'none, this is the first version'}).", "",
        "## Files", "",
        "- `shards/*.parquet`: the documents (zstd Parquet), one row each; columns: "
        + ", ".join(f"`{c}`" for c in facts["columns"]) + ".",
        "- `tokens/<shard>.bin/.idx`: Megatron-LM indexed datasets, document *i* of a token file is row *i* of "
        f"the shard of the same name; every document ends with the eos id {tok['eos_id']}.",
        f"- `tokenizer/`: the tokenizer the bins were made with (`{tok['file']}`, {tok['vocab_size']:,} ids, "
        f"id `{tok['id']}`), its `tokenizer-info.json`, and `tokenizer.json` for Hugging Face when exported.",
        "- `stats/`, `report.html`: how the version was filtered (not data).",
        "- `manifest.json`: every file's size and sha256; `jwc versions verify` re-checks a copy against it.", "",
        "## Load", "", "```python", "import datasets",
        f"ds = datasets.load_dataset(\"path/to/{v}\", split=\"train\")   # reads shards/*.parquet only", "```", "",
        "## Train", "",
        "With the jwc store at hand, `jwc versions train-args " + v + " --store STORE` prints Megatron-LM's "
        "`--data-path` over every version of the chain (weights by tokens), the tokenizer arguments and NeMo's "
        "`data_prefix`. For this folder alone:", "", "```sh",
        "--data-path " + " ".join(f"tokens/{name}" for name in facts["shard_names"]),
        f"--tokenizer-type {megatron_type} --tokenizer-model tokenizer/{tok['file']}", "```", "",
        "## Licence and provenance", "", publish["license_note"], "",
        f"- config digest `{facts['config_digest']}`; the full config, every input WARC file and the code version "
        "(git commit) are in `manifest.json`",
    ]
    if publish["maintainer"]:
        lines.append(f"- maintainer: {publish['maintainer']}")
    return "\n".join(lines) + "\n"
