"""Dataset versions in the store: ids, the staging area, manifests, the pinned tokenizer, and diffs.

    datasets/<name>/
      versions/v0001/                 published, immutable (files read-only): manifest.json, shards/, tokens/, ...
      staging/v0002/                  a version being built: run.json names the run that owns the id;
      staging/v0002/version/          the complete folder that becomes versions/v0002 with one rename
      tokenizer/PINNED.json           the tokenizer every version of the dataset is tokenized with
      tokenizer/<tokenizer-folder>/   a stored tokenizer: its model file and tokenizer-info.json
      dedup-index/                    see pipeline/dedup_index.py

Why it is shaped this way:
- A version id is taken when a run first needs it, by creating `staging/<id>/` (mkdir is atomic, so two runs never
  get the same id), and recorded in the run folder, so a rerun after a crash finishes the same id. An id whose run
  was abandoned stays unused (a gap in the numbers).
- Publishing is one rename of a complete folder; before it nothing under versions/ changes, so a run killed at any
  point leaves no visible partial version.
- Files are described (bytes, sha256, rows) and read back by Spark tasks, one per file, so the driver never reads
  the corpus.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

from jwc.schemas.config import Param
from jwc.pipeline.errors import UserError
from jwc.pipeline.tokens.megatron import bin_path, read_index
from jwc.pipeline.tokens.tokenizer import HFTokenizer, SentencePieceTokenizer, Tokenizer
from jwc.schemas.manifest import MANIFEST_SCHEMA_VERSION, validate_manifest

DEFAULT_SHARD_SIGNALS = ["comp_japanese_frac", "comp_hiragana_frac", "sent_avg_len", "rep_dup_line_frac",
                         "junk_symbol_frac", "junk_compression_ratio", "morph_noun_frac", "ng_score", "ng_adult",
                         "pii_total"]
SHARDS_PARAMS: dict[str, Param] = {
    "shard_text_bytes": Param(512 * 2**20, "Target UTF-8 text bytes per shard before compression; shard count = "
                                           "ceil(total text bytes / this). A zstd shard of Japanese text is "
                                           "about 0.2-0.35 of it on disk.", 1, 2**40),
    "row_group_bytes": Param(32 * 2**20, "Uncompressed bytes per Parquet row group (text + 256 per row): the unit "
                                         "streaming readers (datasets, DuckDB, Polars) load at once.",
                             2**12, 2**31 - 1),
    "signals": Param(DEFAULT_SHARD_SIGNALS, "Filter signals copied into the shards as sig_<name> columns (doubles) "
                                            "for trainers to sample by; null where that filter did not run.",
                     kind=list, item=str),
}
PUBLISH_PARAMS: dict[str, Param] = {
    "merge_tokens": Param(False, "Also write tokens/all.bin/.idx: every shard's tokens concatenated in manifest "
                                 "order, for trainers that want one file pair (doubles the token bytes).", kind=bool),
}


def shards_problem(values: Mapping[str, Any]) -> str | None:
    """The config loader's cross-key check of [shards]: signal names no filter produces (a typo would give an
    all-null column), or a name listed twice."""
    from jwc.filters.registry import FILTERS  # noqa: PLC0415 - only the driver checks; executors never need it

    known = {s for f in FILTERS for s in f.signal_names}
    signals = values["signals"]
    unknown = [s for s in signals if s not in known]
    if unknown:
        return f"signals: unknown signal(s) {unknown}; known: {', '.join(sorted(known))}"
    if len(set(signals)) != len(signals):
        return "signals: a signal is listed twice"
    return None


MANIFEST = "manifest.json"
RUN_VERSION_FILE = "version.json"  # in the run folder: the version id this run publishes
TOKENIZER_INFO = "tokenizer-info.json"
PIN_FILE = "PINNED.json"
DIE_ENV = "JWC_TEST_DIE_AT"
_VERSION = re.compile(r"v(\d{4,})")


class VersionError(UserError):
    """A version or dataset that does not exist or cannot be used; the message says which."""


def die_at(point: str) -> None:
    """Crash-test hook: SIGKILL this process at the named point when JWC_TEST_DIE_AT=<point> (tests only).

    Points: stage:<name>:before-rename (a stage's output complete in <name>.partial), stage:<name>:after-rename
    (renamed, not marked done), tokenize:written (bins written, stage not marked done), publish:manifest (staged
    version complete, not renamed), publish:renamed (version visible, dedup index not updated).
    """
    if os.environ.get(DIE_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def now_utc() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON through a temporary file, fsync, then rename: readers see the old file or the whole new one."""
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True, ensure_ascii=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---- version ids -------------------------------------------------------------------------------------------------

def version_id(number: int) -> str:
    return f"v{number:04d}"


def version_number(name: str) -> int | None:
    m = _VERSION.fullmatch(name)
    return int(m.group(1)) if m else None


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

    Call it when the run starts (the dedup stage needs the id to skip the version's own index entries on a rerun);
    every later call returns the same id. The parent is the latest version published when the id was taken.
    """
    marker = run_dir / RUN_VERSION_FILE
    if marker.is_file():
        rv = RunVersion(**json.loads(marker.read_text(encoding="utf-8")))
        if rv.dataset != dataset_dir.name:
            raise VersionError(f"{run_dir} publishes {rv.dataset} {rv.version}, not dataset {dataset_dir.name}")
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
    write_json_atomic(staging / vid / "run.json", {**asdict(rv), "run_dir": str(run_dir), "allocated": now_utc()})
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(marker, asdict(rv))
    return rv


def staging_dir(dataset_dir: Path, version: str) -> Path:
    """Where `version` is assembled; renamed to versions/<version> when complete."""
    return dataset_dir / "staging" / version / "version"


def publish_folder(staged: Path, final: Path) -> None:
    """Make a complete staged version visible with a single rename; refuses to replace a published version."""
    if final.exists():
        raise VersionError(f"{final} is already published; versions are immutable")
    final.parent.mkdir(parents=True, exist_ok=True)
    os.rename(staged, final)
    _fsync_dir(final.parent)


def release_staging(dataset_dir: Path, version: str) -> None:
    """Remove a published version's staging folder (its id reservation)."""
    shutil.rmtree(dataset_dir / "staging" / version, ignore_errors=True)


def read_manifest(dataset_dir: Path, version: str) -> dict[str, Any]:
    path = dataset_dir / "versions" / version / MANIFEST
    if not path.is_file():
        known = ", ".join(published_versions(dataset_dir)) or "none"
        raise VersionError(f"no published version {version} of {dataset_dir.name} (published: {known})")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("schema_version") != MANIFEST_SCHEMA_VERSION:
        raise VersionError(f"{path}: manifest schema version {manifest.get('schema_version')} is not "
                           f"{MANIFEST_SCHEMA_VERSION}, which this code reads")
    validate_manifest(manifest)
    return manifest


def summary(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The one-line facts of a version (what `jwc versions list` prints)."""
    t = manifest["totals"]
    return {"version": manifest["version"], "created": manifest["created"], "parent": manifest["parent"],
            "crawl_ids": manifest["crawl_ids"], "documents": t["documents"], "tokens": t["tokens"],
            "shards": t["shards"], "bytes": t["bytes"], "tokenizer": manifest["tokenizer"]["id"],
            "config_digest": manifest["config_digest"][:12]}


def list_versions(dataset_dir: Path) -> list[dict[str, Any]]:
    return [summary(read_manifest(dataset_dir, v)) for v in published_versions(dataset_dir)]


def code_version() -> dict[str, Any]:
    """Package version, and the git commit of the checkout when the code runs from one (None otherwise)."""
    try:
        version = importlib.metadata.version("jwc")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    repo = Path(__file__).resolve().parents[1]
    commit, dirty = None, None
    if (repo / ".git").exists():
        try:
            commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                                    check=True, timeout=10).stdout.strip()
            status = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                                    capture_output=True, text=True, check=True, timeout=30).stdout
            dirty = bool(status.strip())
        except (OSError, subprocess.SubprocessError):
            commit, dirty = None, None
    return {"package": "jwc", "version": version, "git_commit": commit, "git_dirty": dirty}


# ---- files of a version ------------------------------------------------------------------------------------------

def describe_file(item: tuple[str, str]) -> dict[str, Any]:
    """(relative path, absolute path) -> bytes, sha256 and, for Parquet and Megatron index files, rows/tokens.

    Reading the file whole is the readability check: every Parquet row group is decoded, and an `.idx` must parse
    and match the size of its `.bin`. The file is fsynced on the way, so a published version survives a power cut.
    """
    rel, path = item
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            digest.update(block)
            size += len(block)
        os.fsync(fh.fileno())
    entry: dict[str, Any] = {"path": rel, "bytes": size, "sha256": digest.hexdigest()}
    if rel.endswith(".parquet"):
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        rows = sum(pf.read_row_group(i).num_rows for i in range(pf.num_row_groups))
        if rows != pf.metadata.num_rows:
            raise ValueError(f"{path}: row groups hold {rows} rows, the footer says {pf.metadata.num_rows}")
        entry["rows"] = rows
    elif rel.endswith(".idx"):
        prefix = path[: -len(".idx")]
        index = read_index(prefix)
        tokens = int(index.sequence_lengths.sum(dtype="int64"))
        need = tokens * index.dtype.itemsize
        have = bin_path(prefix).stat().st_size
        if have != need:
            raise ValueError(f"{bin_path(prefix)}: {have} bytes, its index needs {need}")
        entry["rows"], entry["tokens"] = index.documents, tokens
    return entry


def describe_files(spark: Any, root: Path, rels: list[str]) -> list[dict[str, Any]]:
    """describe_file for every file under `root`, one Spark task per file; results in the order given."""
    if not rels:
        return []
    items = [(rel, str(root / rel)) for rel in rels]
    return spark.sparkContext.parallelize(items, len(items)).map(describe_file).collect()


def make_read_only(root: Path) -> None:
    """Published files are never written again; make that visible to people and tools."""
    for p in root.rglob("*"):
        if p.is_file():
            p.chmod(0o444)


# ---- the pinned tokenizer ----------------------------------------------------------------------------------------

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
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{folder}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    tmp.mkdir()
    file = f"{tok.name}.model" if isinstance(tok, SentencePieceTokenizer) else "tokenizer.json"
    (tmp / file).write_bytes(tok.model)
    eos = tok.eos_token if isinstance(tok, HFTokenizer) else eos_token
    info = {"id": tok.id, "kind": tok.kind, "name": tok.name, "file": file, "eos_token": eos, "eos_id": tok.eos_id,
            "vocab_size": tok.vocab_size, "source": dict(source), "stored": now_utc()}
    write_json_atomic(tmp / TOKENIZER_INFO, info)
    try:
        os.rename(tmp, root / folder)
    except OSError:  # another run stored the same id first
        for p in tmp.iterdir():
            p.unlink()
        tmp.rmdir()
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
    pin = dataset_dir / "tokenizer" / PIN_FILE
    return json.loads(pin.read_text(encoding="utf-8")) if pin.is_file() else None


def pin_tokenizer(dataset_dir: Path, folder: str, tokenizer_id: str) -> dict[str, Any]:
    """Pin the dataset to a stored tokenizer unless it already is; returns the pin in force.

    The pin is created with a hard link, which fails when the file exists, so two runs cannot both pin.
    """
    root = dataset_dir / "tokenizer"
    tmp = root / f".{PIN_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    write_json_atomic(tmp, {"id": tokenizer_id, "folder": folder, "pinned": now_utc()})
    try:
        os.link(tmp, root / PIN_FILE)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return read_pin(dataset_dir) or {}


# ---- diff --------------------------------------------------------------------------------------------------------

def removal_rates(counts: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """`<stage>.<reason>` -> share of the stage's input removed for that reason, from a manifest's stage counts.

    The filter stage reports `removed_<rule>` out of `documents`; dedup reports `<reason>_removed` out of `input`.
    """
    rates: dict[str, float] = {}
    for stage, c in counts.items():
        total = c.get("documents", c.get("input"))
        if not isinstance(total, int) or total <= 0:
            continue
        for key, value in c.items():
            if not isinstance(value, int) or key == "removed":
                continue
            if key.startswith("removed_"):
                rates[f"{stage}.{key[len('removed_'):]}"] = value / total
            elif key.endswith("_removed"):
                rates[f"{stage}.{key[:-len('_removed')]}"] = value / total
    return rates


def diff_versions(spark: Any, dataset_dir: Path, old: str, new: str, top_hosts: int = 20) -> dict[str, Any]:
    """What changed from `old` to `new`: documents added and removed (by doc_id), by host, totals, and the change
    of every removal rate. The doc_id sets are compared by Spark; only per-host counts reach the driver."""
    from pyspark.sql import functions as F

    manifests = {v: read_manifest(dataset_dir, v) for v in (old, new)}

    def ids(version: str, flag: str) -> Any:
        root = dataset_dir / "versions" / version
        paths = [str(root / s["parquet"]) for s in manifests[version]["shards"]]
        if not paths:
            return spark.createDataFrame([], "doc_id string, host string").withColumn(flag, F.lit(True))
        return spark.read.parquet(*paths).select("doc_id", "host", F.lit(True).alias(flag))

    joined = ids(old, "in_old").join(ids(new, "in_new").withColumnRenamed("host", "host_new"), "doc_id", "full")
    marked = joined.select(
        F.coalesce("host_new", "host").alias("host"),
        (F.col("in_new").isNotNull() & F.col("in_old").isNull()).cast("long").alias("added"),
        (F.col("in_old").isNotNull() & F.col("in_new").isNull()).cast("long").alias("removed"),
        (F.col("in_old").isNotNull() & F.col("in_new").isNotNull()).cast("long").alias("kept"),
    )
    by_host = (marked.groupBy("host").agg(F.sum("added").alias("added"), F.sum("removed").alias("removed"))
               .where((F.col("added") > 0) | (F.col("removed") > 0)).cache())
    totals = marked.agg(F.sum("added"), F.sum("removed"), F.sum("kept"), F.countDistinct("host")).first()
    hosts_changed = by_host.count()
    top = by_host.orderBy((F.col("added") + F.col("removed")).desc(), F.col("host").asc_nulls_first()).limit(top_hosts)
    host_rows = [{"host": r["host"], "added": int(r["added"]), "removed": int(r["removed"])} for r in top.collect()]
    by_host.unpersist()
    rates = {v: removal_rates(m["counts"]) for v, m in manifests.items()}
    reasons = sorted(set(rates[old]) | set(rates[new]))
    t_old, t_new = manifests[old]["totals"], manifests[new]["totals"]
    return {
        "old": old, "new": new,
        "documents": {"old": t_old["documents"], "new": t_new["documents"], "added": int(totals[0] or 0),
                      "removed": int(totals[1] or 0), "unchanged": int(totals[2] or 0)},
        "tokens": {"old": t_old["tokens"], "new": t_new["tokens"], "change": t_new["tokens"] - t_old["tokens"]},
        "hosts": {"total": int(totals[3] or 0), "changed": int(hosts_changed), "top": host_rows},
        "removal_rates": {r: {"old": rates[old].get(r, 0.0), "new": rates[new].get(r, 0.0),
                              "change": rates[new].get(r, 0.0) - rates[old].get(r, 0.0)} for r in reasons},
        "config_changed": manifests[old]["config_digest"] != manifests[new]["config_digest"],
        "tokenizer_changed": manifests[old]["tokenizer"]["id"] != manifests[new]["tokenizer"]["id"],
    }


__all__ = ["SHARDS_PARAMS", "PUBLISH_PARAMS", "shards_problem", "VersionError", "RunVersion", "run_version",
           "published_versions", "latest_version", "staging_dir", "publish_folder", "release_staging",
           "read_manifest", "list_versions", "summary", "code_version", "describe_file", "describe_files",
           "make_read_only", "store_tokenizer", "load_stored_tokenizer", "read_pin", "pin_tokenizer",
           "tokenizer_folder", "removal_rates", "diff_versions", "die_at", "write_json_atomic"]
