"""Publish stage: assemble the run's outputs as a version in staging, validate, write the manifest, make the version
visible with one rename, then add the run's dedup signatures to the dataset's index.

Order of the steps, and why (a run may be killed at any point and rerun):
1. staging/<id>/version/ is rebuilt from scratch on every attempt: files are hard-linked from the run folder (no copy,
   and the run folder stays whole for a rerun), made read-only, and described by Spark tasks (bytes, sha256, rows,
   tokens; every file read back whole).
2. Counts must agree: shard rows = token documents per shard, the totals = what the shards, tokenize and dedup stages
   reported. Only then is manifest.json written.
3. One rename makes versions/<id>/ appear complete. A rerun that finds it published skips to step 4.
4. The signatures go into the dedup index after the rename: an index entry must never point at an unpublished
   version (a later run would drop documents as duplicates of text nobody can see). Re-adding a version replaces it.

All of it runs under the dataset's lock, so publishes never interleave. Before step 1 the index is compared with
the versions the run's dedup stage matched against: when another run published since, this run's documents may
duplicate that version's, so the stage raises IndexChanged and the driver redoes dedup and the stages after it.
Every source file is checked to be a plain file inside the store (a planted symlink is refused, never followed).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jwc.jobs.decontam import read_summary
from jwc.jobs.dedup import INDEX_SEEN, published_index
from jwc.jobs.shards import SHARD_GLOB
from jwc.pipeline.dedup import index as dedup_index
from jwc.pipeline.tokens.hf_export import sentencepiece_to_hf
from jwc.pipeline.tokens.megatron import merge
from jwc.pipeline.io.atomic import atomic_write_json
from jwc.pipeline.io.crash import die_at
from jwc.pipeline.io.store import StoreError, inside, now_utc
from jwc.pipeline.versions.card import CARD, published_shard_name, render_card
from jwc.pipeline.versions.chain import version_chain
from jwc.pipeline.versions.code import code_version
from jwc.pipeline.versions.files import describe_files
from jwc.pipeline.io.lock import StoreLock
from jwc.pipeline.versions.ids import MANIFEST, RunVersion
from jwc.pipeline.versions.manifest import read_manifest
from jwc.pipeline.versions.pins import TOKENIZER_INFO, read_pin
from jwc.pipeline.versions.shared import push_version
from jwc.pipeline.versions.staging import make_read_only, publish_folder, release_staging, staging_dir
from jwc.schemas.manifest import MANIFEST_SCHEMA_VERSION, shards_schema, validate_manifest

if TYPE_CHECKING:
    from jwc.jobs.stages import RunContext

TOKENIZER_DIR = "tokenizer"  # in the version: a copy of the pinned tokenizer, so a copied version decodes alone
HF_TOKENIZER = "tokenizer.json"


class PublishError(RuntimeError):
    """The staged version does not validate; nothing was published."""


class IndexChanged(RuntimeError):
    """Versions were published since this run's dedup stage matched against the index: dedup must be redone."""


def _link(src: Path, dst: Path) -> None:
    """Hard-link (same file system: instant, no extra space), else copy."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _visible_files(root: Path) -> list[Path]:
    """Files under root except bookkeeping (`_STAGE.json`, `_SUCCESS`, Spark's `.crc`, temporaries); a symlink
    anywhere is refused (it would be published as a link, and its target hashed and made read-only)."""
    found = []
    for p in sorted(root.rglob("*")):
        if p.is_symlink():
            raise StoreError(f"{p} is a symbolic link; a version is made of the run's own files only")
        if p.is_file() and not any(part.startswith(("_", ".")) for part in p.relative_to(root).parts):
            found.append(p)
    return found


def _plan(ctx: RunContext, rv: RunVersion, tokenizer_dir: Path) -> list[tuple[Path, str]]:
    """(source in the run folder, path in the version) for every file of the version, in manifest order.

    Shards and token files are renamed `<dataset>-<version>-NNNNN` so that no two versions share a file name."""
    shards = sorted(ctx.stage_dir("shards").glob(SHARD_GLOB))
    names = [published_shard_name(rv.dataset, rv.version, i) for i in range(len(shards))]
    plan = [(p, f"shards/{name}.parquet") for p, name in zip(shards, names)]
    tokens = ctx.stage_dir("tokenize")
    for p, name in zip(shards, names):
        for ext in (".bin", ".idx"):
            src = tokens / f"{p.stem}{ext}"
            if not src.is_file():
                raise PublishError(f"{src} is missing: the tokenize stage did not finish this shard")
            plan.append((src, f"tokens/{name}{ext}"))
    plan += [(p, f"{TOKENIZER_DIR}/{p.name}") for p in sorted(tokenizer_dir.iterdir())
             if p.is_file() and p.name != TOKENIZER_INFO]
    stats = ctx.stage_dir("stats")
    if stats.is_dir():
        plan += [(p, f"stats/{p.relative_to(stats).as_posix()}") for p in _visible_files(stats)]
    report = ctx.stage_dir("report") / "report.html"
    if report.is_file() or report.is_symlink():
        plan.append((report, "report.html"))
    for src, _ in plan:
        inside(ctx.store.root, src, "file to publish")
    return plan


def content_digest(entries: list[dict[str, Any]]) -> str:
    """sha256 over the shard and token files' (path, sha256): the version's data identity.

    Equal for equal documents and tokens, however the run went (interrupted and resumed, other cluster); stats and
    the report are left out because they record how long each stage took.
    """
    data = sorted((e["path"], e["sha256"]) for e in entries if _kind(e["path"]).startswith(("shard", "tokens")))
    return hashlib.sha256("".join(f"{p} {h}\n" for p, h in data).encode()).hexdigest()


def _kind(rel: str) -> str:
    if rel == CARD:
        return "card"
    if rel.startswith("shards/"):
        return "shard"
    if rel.startswith("tokens/"):
        return "tokens_" + rel.rsplit(".", 1)[1]
    return rel.split("/", 1)[0].removesuffix(".html")


def _check(ctx: RunContext, entries: list[dict[str, Any]], shard_names: list[str], merged: str | None
           ) -> list[str]:
    """Every way the described files disagree with each other or with the stage counts."""
    by_path = {e["path"]: e for e in entries}
    problems = []
    docs = tokens = 0
    for name in shard_names:
        rows = by_path[f"shards/{name}.parquet"]["rows"]
        idx = by_path[f"tokens/{name}.idx"]
        if idx["rows"] != rows:
            problems.append(f"{name}: {rows} rows in the shard, {idx['rows']} documents in its token file")
        docs += rows
        tokens += idx["tokens"]
    expected = {"shards.documents": ctx.results.get("shards", {}).get("documents"),
                "tokenize.documents": ctx.results.get("tokenize", {}).get("documents"),
                "dedup.output": ctx.results.get("dedup", {}).get("output")}
    for where, value in expected.items():
        if value is not None and value != docs:
            problems.append(f"the shards hold {docs} documents, {where} says {value}")
    if ctx.results.get("tokenize", {}).get("tokens") != tokens:
        problems.append(f"the token files hold {tokens} tokens, tokenize says {ctx.results.get('tokenize')}")
    if merged and (by_path[f"{merged}.idx"]["rows"], by_path[f"{merged}.idx"]["tokens"]) != (docs, tokens):
        problems.append(f"{merged} does not hold the {docs} documents and {tokens} tokens of the shards")
    return problems


def assemble_version(ctx: RunContext, rv: RunVersion, dataset_dir: Path) -> dict[str, Any]:
    """Build, validate and describe the version in its staging folder; returns the manifest written there."""
    signatures = ctx.stage_dir("dedup") / "signatures"
    if not signatures.is_dir():
        raise PublishError(f"{signatures} is missing: nothing to add to the dedup index")
    pin = read_pin(dataset_dir)
    tokenizer_id = ctx.results.get("tokenize", {}).get("tokenizer_id")
    if pin is None or pin["id"] != tokenizer_id:
        raise PublishError(f"the run was tokenized with {tokenizer_id}, the dataset is pinned to {pin}")
    staged = staging_dir(dataset_dir, rv.version)
    if staged.exists():  # left by a killed attempt: start over
        shutil.rmtree(staged)
    staged.mkdir(parents=True)
    info = json.loads((dataset_dir / "tokenizer" / pin["folder"] / TOKENIZER_INFO).read_text(encoding="utf-8"))
    plan = _plan(ctx, rv, dataset_dir / "tokenizer" / pin["folder"])
    for src, rel in plan:
        _link(src, staged / rel)
    rels = [rel for _, rel in plan]
    atomic_write_json(staged / TOKENIZER_DIR / TOKENIZER_INFO, {k: v for k, v in info.items() if k != "stored"})
    rels += [f"{TOKENIZER_DIR}/{TOKENIZER_INFO}", *_export_hf_tokenizer(staged, info)]
    shard_names = [Path(rel).stem for rel in rels if rel.startswith("shards/")]
    merged = f"tokens/{rv.dataset}-{rv.version}-all" if ctx.cfg["publish"]["merge_tokens"] and shard_names else None
    if merged:
        merge([staged / "tokens" / name for name in shard_names], staged / merged)
        rels += [f"{merged}.bin", f"{merged}.idx"]
    (staged / CARD).write_text(_card(ctx, rv, dataset_dir, info, shard_names), encoding="utf-8")
    rels.append(CARD)
    make_read_only(staged)
    entries = describe_files(ctx.spark, staged, rels)
    problems = _check(ctx, entries, shard_names, merged)
    if problems:
        raise PublishError(f"{rv.dataset} {rv.version} not published: " + "; ".join(problems))
    by_path = {e["path"]: e for e in entries}
    tok_files = {"model": f"{TOKENIZER_DIR}/{info['file']}", "info": f"{TOKENIZER_DIR}/{TOKENIZER_INFO}"}
    if f"{TOKENIZER_DIR}/{HF_TOKENIZER}" in by_path:
        tok_files["hf"] = f"{TOKENIZER_DIR}/{HF_TOKENIZER}"
    manifest = {
        "schema": "jwc.manifest", "schema_version": MANIFEST_SCHEMA_VERSION,
        "dataset": rv.dataset, "version": rv.version, "created": now_utc(), "parent": rv.parent,
        "crawl_ids": [ctx.crawl_id],
        "inputs": [{"path": f.path, "bytes": f.size} for f in ctx.inputs],
        "config": ctx.cfg.to_dict(), "config_digest": ctx.cfg.digest(),
        "code": code_version(),
        "counts": ctx.results,
        "tokenizer": {"id": info["id"], "vocab_size": info["vocab_size"], "eos_id": info["eos_id"],
                      "folder": f"tokenizer/{pin['folder']}", "append_eos": ctx.cfg["tokenize"]["append_eos"],
                      "files": tok_files},
        "totals": {"documents": sum(by_path[f"shards/{n}.parquet"]["rows"] for n in shard_names),
                   "tokens": sum(by_path[f"tokens/{n}.idx"]["tokens"] for n in shard_names),
                   "shards": len(shard_names), "bytes": sum(e["bytes"] for e in entries)},
        "shards": [{"name": n, "parquet": f"shards/{n}.parquet", "tokens_prefix": f"tokens/{n}",
                    "documents": by_path[f"shards/{n}.parquet"]["rows"],
                    "tokens": by_path[f"tokens/{n}.idx"]["tokens"]} for n in shard_names],
        "files": [{**e, "kind": _kind(e["path"])} for e in entries],
        "content_digest": content_digest(entries),
    }
    if merged:
        manifest["merged_tokens_prefix"] = merged
    sets = read_summary(ctx.stage_dir("filter"))
    if sets is not None:  # what this version was decontaminated against
        manifest["decontamination"] = sets
    validate_manifest(manifest)
    atomic_write_json(staged / MANIFEST, manifest)
    (staged / MANIFEST).chmod(0o444)
    die_at("publish:manifest")
    return manifest


def _check_index(ctx: RunContext, rv: RunVersion) -> None:
    """Raise IndexChanged when the index holds versions this run's dedup stage did not match against."""
    seen_file = ctx.stage_dir("dedup") / INDEX_SEEN
    seen = json.loads(seen_file.read_text(encoding="utf-8"))["versions"] if seen_file.is_file() else None
    now = published_index(ctx, rv.version, locked=True)
    if seen is None or sorted(seen) != now:
        new = sorted(set(now) - set(seen or []))
        raise IndexChanged(f"{', '.join(new) or 'the index'} published since this run's dedup stage"
                           f"{'' if seen is not None else ' (which recorded no index versions)'}")


def _export_hf_tokenizer(staged: Path, info: dict[str, Any]) -> list[str]:
    """Write tokenizer/tokenizer.json for a SentencePiece model HF can reproduce; returns the paths written."""
    target = staged / TOKENIZER_DIR / HF_TOKENIZER
    if info["kind"] != "sentencepiece" or target.exists():
        return []
    text = sentencepiece_to_hf((staged / TOKENIZER_DIR / info["file"]).read_bytes())
    if text is None:
        print(f"[publish] {info['id']} is not a unigram model without normalization: no {HF_TOKENIZER} exported",
              file=sys.stderr)
        return []
    target.write_text(text, encoding="utf-8")
    return [f"{TOKENIZER_DIR}/{HF_TOKENIZER}"]


def _card(ctx: RunContext, rv: RunVersion, dataset_dir: Path, info: dict[str, Any], shard_names: list[str]) -> str:
    """The version's README.md, from the stage counts (the files are checked against them before publishing)."""
    tokenize = ctx.results.get("tokenize", {})
    chain = [{"version": m["version"], "crawl_ids": m["crawl_ids"], "documents": m["totals"]["documents"],
              "tokens": m["totals"]["tokens"]} for m in (version_chain(dataset_dir, rv.parent) if rv.parent else [])]
    chain.append({"version": rv.version, "crawl_ids": [ctx.crawl_id], "documents": tokenize.get("documents", 0),
                  "tokens": tokenize.get("tokens", 0)})
    facts = {"dataset": rv.dataset, "version": rv.version, "parent": rv.parent, "crawl_ids": [ctx.crawl_id],
             "documents": tokenize.get("documents", 0), "tokens": tokenize.get("tokens", 0),
             "shards": len(shard_names), "shard_names": shard_names,
             "columns": shards_schema(ctx.cfg["shards"]["signals"]).names,
             "tokenizer": {"id": info["id"], "kind": info["kind"], "file": info["file"],
                           "vocab_size": info["vocab_size"], "eos_id": info["eos_id"]},
             "chain": chain, "config_digest": ctx.cfg.digest()}
    return render_card(facts, ctx.cfg["publish"])


def publish_stage(ctx: RunContext, out: Path) -> dict[str, Any]:
    """Nightly stage: the run's shards, tokens, stats and report -> datasets/<name>/versions/<id>/."""
    rv = ctx.version()
    with ctx.dataset_lock(f"publish {rv.version}") as lock:
        return _publish_locked(ctx, rv, lock, out)


def _publish_locked(ctx: RunContext, rv: RunVersion, lock: StoreLock, out: Path) -> dict[str, Any]:
    """publish_stage under the dataset's lock, checked again before each step that others can see."""
    dataset_dir = ctx.store.dataset_dir(ctx.cfg["run"]["dataset"])
    final = dataset_dir / "versions" / rv.version
    if (final / MANIFEST).is_file():
        manifest = read_manifest(dataset_dir, rv.version)
        if manifest["counts"] != json.loads(json.dumps(ctx.results)):
            raise PublishError(f"{final} was published by this run with other stage counts: the run's outputs "
                               f"changed since. Publish them as a new version: delete {ctx.run_dir / 'version.json'}"
                               " and rerun.")
        print(f"[publish] {rv.version} was already published; finishing the index update", file=sys.stderr)
    else:
        _check_index(ctx, rv)
        manifest = assemble_version(ctx, rv, dataset_dir)
        lock.check()
        publish_folder(staging_dir(dataset_dir, rv.version), final)
        die_at("publish:renamed")
    if ctx.store.shared is not None:  # a Hadoop store: the version built in the work folder is copied there
        lock.check()
        push_version(ctx.store.shared, rv.dataset, dataset_dir, rv.version)
        die_at("publish:pushed")
    signatures = ctx.spark.read.parquet(str(ctx.stage_dir("dedup") / "signatures"))
    lock.check()
    dedup_index.add_to_index(ctx.spark, signatures, ctx.store.index_dir(rv.dataset), rv.version,
                             ctx.cfg.sections.get("dedup"))
    release_staging(dataset_dir, rv.version)
    totals = manifest["totals"]
    where = ctx.store.version_location(rv.dataset, rv.version)
    atomic_write_json(out / "published.json", {"dataset": rv.dataset, "version": rv.version, "path": where})
    print(f"[publish] {rv.dataset} {rv.version}: {totals['documents']:,} documents, {totals['tokens']:,} tokens, "
          f"{totals['bytes']:,} bytes -> {where}", file=sys.stderr, flush=True)
    return {"version": rv.version, "documents": totals["documents"], "tokens": totals["tokens"],
            "files": len(manifest["files"]), "bytes": totals["bytes"]}
