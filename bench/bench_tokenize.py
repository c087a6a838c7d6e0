"""Tokens per second per core: our export path (write_tokens: encode_batch + IndexedDatasetWriter to disk) beside the
raw tokenizer's own batch encode on the same texts, in the same run. Prints JSON.

    python bench/bench_tokenize.py [--tokenizer PATH] [--copies 2] [--best-of 3] [--batch-size 1024]

Without --tokenizer it trains a SentencePiece unigram model (pipeline.tokenizer.train_sentencepiece) and a
byte-level BPE tokenizer.json (tokenizers library) on a sample and measures both. Text: the shared Wikinews
articles when present, else a generated Japanese text. Hugging Face tokenizers run with RAYON_NUM_THREADS=1 and
SentencePiece with one thread, so the numbers are per core (CPU seconds are reported too).
"""
from __future__ import annotations

import os

os.environ.setdefault("RAYON_NUM_THREADS", "1")  # before tokenizers starts its thread pool

import argparse
import gzip
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import sentencepiece as spm
import tokenizers
from tokenizers import decoders, models, pre_tokenizers, trainers

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jwc.pipeline.tokens.tokenizer import Tokenizer, load_tokenizer, train_sentencepiece, write_tokens  # noqa: E402

WIKINEWS = ROOT.parent / "shared" / "data" / "ja_text_wikinews" / "articles-a.tsv.gz"


def load_texts() -> tuple[str, list[str]]:
    """Raw Japanese documents: Wikinews (MeCab spaces removed), else sentences combined deterministically."""
    if WIKINEWS.exists():
        joined = re.compile(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])")
        with gzip.open(WIKINEWS, "rt", encoding="utf-8") as f:
            next(f)
            return "wikinews", [joined.sub("", line.split("\t")[1]).replace("  ", "\n") for line in f]
    subjects = ["市役所", "研究チーム", "地元の商店街", "新しい駅ビル", "気象庁", "小学校の先生", "観光客", "祖母"]
    verbs = ["は来月から新しい取り組みを始めると発表した。", "では週末に秋祭りの準備が進んでいる。",
             "によると、明日は全国的に雨が降る見込みだ。", "が公開した資料には2024年の売上高が記されていた。",
             "は駅前の図書館で子ども向けの読み聞かせ会を開いた。", "について、住民からは賛否の声が上がっている。"]
    rng = np.random.default_rng(0)
    docs = ["\n".join(subjects[rng.integers(len(subjects))] + verbs[rng.integers(len(verbs))]
                      for _ in range(int(rng.integers(5, 40)))) for _ in range(2000)]
    return "generated", docs


def hf_bpe(texts: Sequence[str], folder: Path, vocab_size: int) -> Path:
    tok = tokenizers.Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    folder.mkdir()
    tok.save(str(folder / "tokenizer.json"))
    return folder / "tokenizer.json"


def raw_encoder(tok: Tokenizer) -> Callable[[list[str]], int]:
    """The library's own batch call on the same model, as a user of it would write it; returns the token count."""
    if tok.kind == "sentencepiece":
        sp = spm.SentencePieceProcessor(model_proto=tok.model)
        return lambda batch: sum(len(ids) for ids in sp.encode(batch, num_threads=1))
    hf = tokenizers.Tokenizer.from_str(tok.model.decode("utf-8"))
    return lambda batch: sum(len(e.ids) for e in hf.encode_batch(batch, add_special_tokens=False))


def timed(fn: Callable[[], int], reps: int) -> dict[str, float]:
    """Best of `reps` runs (least disturbed by other load): tokens, wall and CPU seconds, tokens per CPU second."""
    best: dict[str, float] = {}
    for _ in range(reps):
        w0, c0 = time.perf_counter(), time.process_time()
        tokens = fn()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        if not best or cpu < best["cpu_s"]:
            best = {"tokens": tokens, "wall_s": round(wall, 4), "cpu_s": round(cpu, 4),
                    "tokens_per_s_per_core": round(tokens / cpu)}
    return best


def bench(tok: Tokenizer, texts: list[str], batch_size: int, reps: int, out: Path) -> dict[str, object]:
    batches = [texts[i:i + batch_size] for i in range(0, len(texts), batch_size)]
    raw = raw_encoder(tok)

    def ours_encode() -> int:
        return sum(a.size for b in batches for a in tok.encode_batch(b))

    def ours_export() -> int:
        return write_tokens(texts, tok, out / "bench", batch_size=batch_size)[1]

    raw_r = timed(lambda: sum(raw(b) for b in batches), reps)
    enc_r = timed(ours_encode, reps)
    exp_r = timed(ours_export, reps)
    chars = sum(map(len, texts))
    return {
        "tokenizer": tok.id, "vocab_size": tok.vocab_size, "chars_per_token": round(chars / raw_r["tokens"], 3),
        "raw_batch_encode": raw_r, "ours_encode_batch": enc_r, "ours_encode_and_write": exp_r,
        "bin_bytes": (out / "bench.bin").stat().st_size, "idx_bytes": (out / "bench.idx").stat().st_size,
        "export_vs_raw_speed": round(exp_r["tokens_per_s_per_core"] / raw_r["tokens_per_s_per_core"], 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokenizer", help="tokenizer.json or SentencePiece .model to measure instead of trained ones")
    ap.add_argument("--copies", type=int, default=2, help="copies of the corpus per measured pass")
    ap.add_argument("--best-of", type=int, default=3, help="passes per measurement; the fastest counts")
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--vocab-size", type=int, default=8000, help="vocabulary of the models trained here")
    args = ap.parse_args()
    source, docs = load_texts()
    texts = docs * args.copies
    result: dict[str, object] = {"text": source, "documents": len(texts), "chars": sum(map(len, texts)),
                                 "batch_size": args.batch_size, "rayon_num_threads": os.environ["RAYON_NUM_THREADS"]}
    with tempfile.TemporaryDirectory(prefix="bench_tokenize_") as tmp:
        folder = Path(tmp)
        if args.tokenizer:
            toks = [load_tokenizer(args.tokenizer)]
        else:
            t0 = time.perf_counter()
            sp = train_sentencepiece(docs[:500], folder, vocab_size=args.vocab_size)
            result["sentencepiece_train_s"] = round(time.perf_counter() - t0, 2)
            hf = hf_bpe(docs[:500], folder / "hf-bytelevel-bpe", args.vocab_size)
            toks = [load_tokenizer(sp), load_tokenizer(hf)]
        result["runs"] = [bench(t, texts, args.batch_size, args.best_of, folder) for t in toks]
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
