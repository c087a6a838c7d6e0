"""Tokenize stage: each Parquet shard -> a Megatron indexed dataset (`shard-NNNNN.bin/.idx`), one Spark task per shard.

The dataset is pinned to one tokenizer (datasets/<name>/tokenizer/PINNED.json) so every version's tokens are
comparable. The tokenizer is, in order: the pinned one; else the one `[tokenize] tokenizer` names (stored and
pinned); else, by default, none: the run stops before this stage and says how to pin one (`jwc train-tokenizer
--pin`, a deliberate step on a sample large enough for the vocabulary). With `on_no_pin = "train"` a SentencePiece
model is trained on a deterministic sample of this run's shards and pinned only if its vocabulary and sample pass
the size checks (`min_vocab_fraction`, `min_sample_docs`) or `allow_toy` is set. A pin is for ever, hence the
checks. A configured tokenizer that differs from the pin is refused rather than silently mixing vocabularies.
"""
from __future__ import annotations

import functools
import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jwc.jobs.progress import Progress
from jwc.jobs.shards import SHARD_GLOB
from jwc.pipeline.config import ConfigError
from jwc.pipeline.errors import UserError
from jwc.pipeline.tokens.tokenizer import Tokenizer, load_tokenizer, train_sentencepiece, write_tokens
from jwc.pipeline.io.atomic import atomic_write_json
from jwc.pipeline.io.crash import die_at
from jwc.pipeline.versions.manifest import read_manifest
from jwc.pipeline.versions.pins import TOKENIZER_INFO, load_stored_tokenizer, pin_tokenizer, read_pin, store_tokenizer

if TYPE_CHECKING:
    from jwc.jobs.stages import RunContext

TRAIN_KEYS = ("vocab_size", "model_type", "character_coverage", "train_sample_docs", "max_sentence_length",
              "split_digits", "normalization", "train_threads", "seed")


class TokenizerMismatch(UserError):
    """The config names a tokenizer other than the one the dataset is pinned to."""


class NoTokenizerPinned(UserError):
    """The dataset has no tokenizer and the config does not allow training one during a nightly."""


class TokenizerTooSmall(UserError):
    """A trained tokenizer's vocabulary or sample is too small to pin (the pin would hold for every version)."""


def training_frame(spark: SparkSession, paths: list[str], text_field: str = "text") -> DataFrame:
    """(doc_id, text) rows to train on from Parquet files or folders (a `text_field` column), JSON Lines files
    (`.jsonl`, same field) or plain text files (`.txt`, one document each). Rows without a doc_id column get the
    sha1 of their text, so the sample's choice depends on the content alone."""
    frames = []
    for path in paths:
        if path.endswith((".jsonl", ".json", ".jsonl.gz")):
            frame = spark.read.json(path)
        elif path.endswith(".txt"):
            frame = spark.read.text(path, wholetext=True).withColumnRenamed("value", text_field)
        else:
            frame = spark.read.parquet(path)
        if text_field not in frame.columns:
            raise UserError(f"{path} has no {text_field!r} field to train on (columns: {', '.join(frame.columns)})")
        doc_id = F.col("doc_id").cast("string") if "doc_id" in frame.columns else F.sha1(F.col(text_field))
        frames.append(frame.select(doc_id.alias("doc_id"), F.col(text_field).cast("string").alias("text")))
    return functools.reduce(DataFrame.unionByName, frames)


def train_in_task(spark: SparkSession, source: str | DataFrame, tcfg: Mapping[str, Any], name: str
                  ) -> tuple[bytes, int]:
    """Train SentencePiece in one Spark task on the `train_sample_docs` documents with the smallest seeded hash of
    doc_id; returns (model file bytes, documents trained on).

    Spark keeps a top-n per partition and merges them in a single task (TakeOrderedAndProject), and that task's
    Python worker trains, so the sample (up to hundreds of MB of text) never reaches the driver; only the model
    does. The choice and order depend on the doc_ids alone, not on how the data is split into files.
    """
    seed = tcfg["seed"]
    frame = spark.read.parquet(source) if isinstance(source, str) else source
    ranked = (frame
              .select(F.xxhash64(F.lit(seed), "doc_id").alias("rank"), "doc_id", "text")
              .orderBy("rank", "doc_id").limit(tcfg["train_sample_docs"]).coalesce(1))
    options = {"vocab_size": tcfg["vocab_size"], "model_type": tcfg["model_type"],
               "character_coverage": tcfg["character_coverage"], "sample_docs": tcfg["train_sample_docs"],
               "max_sentence_length": tcfg["max_sentence_length"], "split_digits": tcfg["split_digits"],
               "normalization": tcfg["normalization"], "num_threads": tcfg["train_threads"], "seed": seed,
               "name": name}
    out = ranked.mapInArrow(functools.partial(_train_batches, options), "model binary, docs bigint").collect()
    if not out or not out[0]["docs"]:  # one row: the model
        raise UserError(f"no documents in {source} to train a tokenizer on")
    return bytes(out[0]["model"]), int(out[0]["docs"])


def _train_batches(options: dict[str, Any], batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Task side of train_in_task: every row of the (single) partition, in rank order, into the trainer."""
    rows = sorted((r, d, t or "") for b in batches for r, d, t in
                  zip(b.column("rank").to_pylist(), b.column("doc_id").to_pylist(), b.column("text").to_pylist()))
    if not rows:
        yield pa.RecordBatch.from_pydict({"model": [None], "docs": [0]}, schema=_TRAINED)
        return
    with tempfile.TemporaryDirectory() as tmp:
        model = train_sentencepiece([t for _, _, t in rows], tmp, **options)
        yield pa.RecordBatch.from_pydict({"model": [model.read_bytes()], "docs": [len(rows)]}, schema=_TRAINED)


_TRAINED = pa.schema([("model", pa.binary()), ("docs", pa.int64())])


def train_and_store(spark: SparkSession, dataset_dir: Path, sample: str | DataFrame, tcfg: Mapping[str, Any],
                    source: Mapping[str, Any]) -> tuple[str, str]:
    """Train SentencePiece (byte fallback) on a sample of `sample` (a Parquet path or a (doc_id, text) frame) and
    store it; returns (folder, id)."""
    model_bytes, docs = train_in_task(spark, sample, tcfg, dataset_dir.name)
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / f"{dataset_dir.name}.model"
        model.write_bytes(model_bytes)
        tok = load_tokenizer(model, tcfg["eos_token"])
    trained_on = {**source, "sample_docs": docs, **{k: tcfg[k] for k in TRAIN_KEYS}}
    return store_tokenizer(dataset_dir, tok, tcfg["eos_token"], {"trained_on": trained_on}), tok.id


def pinned_tokenizer(spark: SparkSession | None, dataset_dir: Path, tcfg: Mapping[str, Any], sample_path: str | None,
                     source: Mapping[str, Any]) -> Tokenizer:
    """The dataset's tokenizer, pinning one first when there is none (see the module doc).

    `sample_path` is the Parquet to train on when training is needed; None refuses to train.
    """
    pin = read_pin(dataset_dir)
    if pin is None:
        if tcfg["tokenizer"]:
            tok = load_tokenizer(tcfg["tokenizer"], tcfg["eos_token"])
            folder = store_tokenizer(dataset_dir, tok, tcfg["eos_token"], {"path": tcfg["tokenizer"]})
        elif sample_path is not None and tcfg["on_no_pin"] == "train":
            folder, _ = train_and_store(spark, dataset_dir, sample_path, tcfg, source)
        else:
            raise NoTokenizerPinned(no_pin_message(dataset_dir, sample_path))
        pin = pin_checked(dataset_dir, folder, tcfg, tcfg["allow_toy"])
    tok = load_stored_tokenizer(dataset_dir, pin["folder"], tcfg["num_threads"])
    if tcfg["tokenizer"]:
        wanted = load_tokenizer(tcfg["tokenizer"], tcfg["eos_token"])
    elif tcfg["eos_token"]:
        wanted = type(tok)(tok.model, tok.name, tcfg["eos_token"])
    else:
        return tok
    if wanted.id != tok.id or wanted.eos_id != tok.eos_id:
        raise TokenizerMismatch(
            f"dataset {dataset_dir.name} is pinned to {tok.id} (eos id {tok.eos_id}); the config asks for "
            f"{wanted.id} (eos id {wanted.eos_id}). Use another dataset name for another tokenizer.")
    return tok


def no_pin_message(dataset_dir: Path, sample_path: str | None) -> str:
    """What to do when a dataset has no tokenizer: the deliberate pinning step, with this run's shards."""
    shards = f" --input {sample_path}" if sample_path else " --input TEXTS"
    store = dataset_dir.parent.parent
    return (f"dataset {dataset_dir.name} has no pinned tokenizer. Pinning is for ever, so it is a step of its own: "
            f"jwc train-tokenizer --store {store} --dataset {dataset_dir.name}{shards} --pin (on a sample large "
            "enough for [tokenize] vocab_size), or name one in [tokenize] tokenizer, or set [tokenize] on_no_pin = "
            "\"train\"; then rerun the same nightly command: it resumes at the tokenize stage")


def size_problems(info: Mapping[str, Any], tcfg: Mapping[str, Any]) -> list[str]:
    """Why a trained tokenizer is too small to pin: a vocabulary far below the one asked for, or a tiny sample."""
    trained = info.get("source", {}).get("trained_on")
    if not trained:  # a tokenizer given by the user, not trained here
        return []
    problems = []
    if info["vocab_size"] < tcfg["min_vocab_fraction"] * trained["vocab_size"]:
        problems.append(f"its vocabulary has {info['vocab_size']:,} pieces where {trained['vocab_size']:,} were "
                        f"asked for (min_vocab_fraction {tcfg['min_vocab_fraction']})")
    if trained["sample_docs"] < tcfg["min_sample_docs"]:
        problems.append(f"it was trained on {trained['sample_docs']:,} documents (min_sample_docs "
                        f"{tcfg['min_sample_docs']:,})")
    return problems


def pin_checked(dataset_dir: Path, folder: str, tcfg: Mapping[str, Any], force: bool) -> dict[str, Any]:
    """Pin a stored tokenizer after the size checks (skipped with `force`, and then called a toy), and say loudly
    what was pinned; returns the pin in force (another run's, when it pinned first)."""
    info = json.loads((dataset_dir / "tokenizer" / folder / TOKENIZER_INFO).read_text(encoding="utf-8"))
    problems = size_problems(info, tcfg)
    if problems and not force:
        raise TokenizerTooSmall(f"not pinning {info['id']} to dataset {dataset_dir.name}: " + "; ".join(problems)
                                + ". Train on more text (jwc train-tokenizer --input/--version), ask for a smaller "
                                "vocab_size, or force a toy pin (--toy, or [tokenize] allow_toy = true)")
    pin = pin_tokenizer(dataset_dir, folder, info["id"])
    if pin["id"] == info["id"]:
        trained = info.get("source", {}).get("trained_on", {})
        label = "TOY TOKENIZER (size checks skipped: for demos and tests only)" if problems else "tokenizer"
        lines = [f"PINNED {label} {info['id']} to dataset {dataset_dir.name}: every version from now on uses it",
                 f"  vocabulary {info['vocab_size']:,}" + (f" of {trained['vocab_size']:,} asked for, trained on "
                                                          f"{trained['sample_docs']:,} documents" if trained else
                                                          f", from {info.get('source', {}).get('path')}"),
                 *(f"  {p}" for p in problems)]
        bar = "=" * 100
        print("\n".join([bar, *lines, bar]), file=sys.stderr, flush=True)
    return pin


def check_tokenizer_config(dataset_dir: Path, tcfg: Mapping[str, Any]) -> None:
    """Refuse before any work what the tokenize stage would refuse later: a configured tokenizer that does not
    load, or one (or an eos token) other than the dataset's pin."""
    if tcfg["tokenizer"]:
        try:
            load_tokenizer(tcfg["tokenizer"], tcfg["eos_token"])
        except (OSError, ValueError) as exc:
            raise ConfigError(f"tokenize.tokenizer: cannot load {tcfg['tokenizer']}: {exc}") from None
    if read_pin(dataset_dir) is not None:
        pinned_tokenizer(None, dataset_dir, tcfg, None, {})


def no_pin_warning(dataset_dir: Path, tcfg: Mapping[str, Any]) -> str | None:
    """The line a nightly prints when it starts, if it will stop before the tokenize stage for want of a pin."""
    if read_pin(dataset_dir) is None and not tcfg["tokenizer"] and tcfg["on_no_pin"] == "stop":
        return (f"warning: dataset {dataset_dir.name} has no pinned tokenizer: the run will stop before the "
                "tokenize stage (see `jwc train-tokenizer --help`)")
    return None


def _tokenize_shard(item: tuple[str, str, str], tok_bc: Any, batch_size: int, append_eos: bool,
                    docs_acc: Any) -> tuple[str, int, int]:
    """One Spark task: stream one shard's texts (by row group) into `<prefix>.bin/.idx`."""
    name, parquet, prefix = item

    def texts() -> Iterator[str]:
        for batch in pq.ParquetFile(parquet).iter_batches(batch_size=batch_size, columns=["text"]):
            yield from (t if t is not None else "" for t in batch.column(0).to_pylist())

    docs, tokens = write_tokens(texts(), tok_bc.value, prefix, batch_size, append_eos)
    docs_acc.add(docs)
    return name, docs, tokens


def tokenize_shards(spark: SparkSession, shards_dir: Path, out_dir: Path, tok: Tokenizer, batch_size: int,
                    append_eos: bool, progress_seconds: float = 0) -> list[tuple[str, int, int]]:
    """Tokenize every shard-NNNNN.parquet of `shards_dir` into out_dir/shard-NNNNN.bin/.idx, in parallel;
    returns (name, documents, tokens) per shard in shard order."""
    shards = sorted(shards_dir.glob(SHARD_GLOB))
    if not shards:
        return []
    items = [(p.stem, str(p), str(out_dir / p.stem)) for p in shards]
    sc = spark.sparkContext
    tok_bc = sc.broadcast(tok)
    acc = sc.accumulator(0)
    task = functools.partial(_tokenize_shard, tok_bc=tok_bc, batch_size=batch_size, append_eos=append_eos,
                             docs_acc=acc)
    with Progress(sc, "tokenize", "shards", len(items), lambda: acc.value, progress_seconds, item="documents"):
        results = sc.parallelize(items, len(items)).map(task).collect()
    tok_bc.destroy()
    return results


def tokenize_stage(ctx: RunContext, out: Path) -> dict[str, Any]:
    """Nightly stage: shards/shard-NNNNN.parquet -> tokenize/shard-NNNNN.bin/.idx with the pinned tokenizer."""
    tcfg = ctx.cfg["tokenize"]
    shards_dir = ctx.stage_dir("shards")
    dataset_dir = ctx.store.dataset_dir(ctx.cfg["run"]["dataset"])
    has_shards = any(shards_dir.glob(SHARD_GLOB))
    tok = pinned_tokenizer(ctx.spark, dataset_dir, tcfg, str(shards_dir) if has_shards else None,
                           {"crawl_id": ctx.crawl_id})
    results = tokenize_shards(ctx.spark, shards_dir, out, tok, tcfg["batch_size"], tcfg["append_eos"],
                              ctx.cfg["run"]["progress_seconds"])
    rows = json.loads((shards_dir / "_shards.json").read_text())["rows"]
    if [d for _, d, _ in results] != rows:
        raise RuntimeError(f"token files hold {[d for _, d, _ in results]} documents, the shards {rows}")
    info = {"tokenizer_id": tok.id, "vocab_size": tok.vocab_size, "eos_id": tok.eos_id,
            "append_eos": tcfg["append_eos"], "shards": [{"name": n, "documents": d, "tokens": t}
                                                         for n, d, t in results]}
    atomic_write_json(out / "tokens.json", info)
    die_at("tokenize:written")
    counts = {"documents": sum(d for _, d, _ in results), "tokens": sum(t for _, _, t in results),
              "shards": len(results), "tokenizer_id": tok.id, "vocab_size": tok.vocab_size}
    print(f"[tokenize] {counts['tokens']:,} tokens in {counts['documents']:,} documents with {tok.id}",
          file=sys.stderr, flush=True)
    return counts


def train_tokenizer(spark: SparkSession, dataset_dir: Path, versions: list[str], tcfg: Mapping[str, Any],
                    pin: bool = False, inputs: list[str] | None = None, text_field: str = "text",
                    toy: bool = False) -> dict[str, Any]:
    """`jwc train-tokenizer`: train on a sample of published versions and/or input files, store it, and pin it when
    asked: refused when the dataset is pinned to another tokenizer, or when the result fails the size checks
    (unless `toy`). Returns the stored tokenizer's record."""
    paths = [str(dataset_dir / "versions" / v / "shards") for v in versions]
    crawls = [c for v in versions for c in read_manifest(dataset_dir, v)["crawl_ids"]]
    paths += list(inputs or [])
    if not paths:
        raise UserError("nothing to train on: give --version and/or --input")
    frame = training_frame(spark, paths, text_field)
    folder, tok_id = train_and_store(spark, dataset_dir, frame, tcfg, {
        "dataset": dataset_dir.name, "versions": versions, "inputs": list(inputs or []), "crawl_ids": crawls})
    info = json.loads((dataset_dir / "tokenizer" / folder / TOKENIZER_INFO).read_text(encoding="utf-8"))
    info["problems"] = size_problems(info, tcfg)
    if pin:
        current = pin_checked(dataset_dir, folder, tcfg, toy or tcfg["allow_toy"])
        if current["id"] != info["id"]:
            raise TokenizerMismatch(f"dataset {dataset_dir.name} is already pinned to {current['id']}; "
                                    f"stored {info['id']} in tokenizer/{folder} without pinning it")
    return {**info, "folder": folder, "pinned": (read_pin(dataset_dir) or {}).get("id") == info["id"]}
