"""Tokenizers for the Megatron export: load a Hugging Face `tokenizer.json` or a SentencePiece `.model`, or train
a SentencePiece model on a sample of the corpus.

Every tokenizer has a stable `id` (kind, file name and the sha256 of the model bytes) so exported token files can
name exactly which tokenizer made them, and it pickles as its model bytes, so Spark can ship it to executors.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from abc import ABC, abstractmethod
from collections import Counter
from itertools import islice
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import sentencepiece as spm
import tokenizers

from jwc.schemas.config import Param
from jwc.pipeline.io.atomic import atomic_write_bytes
from jwc.pipeline.tokens.megatron import IndexedDatasetWriter

log = logging.getLogger(__name__)

MODEL_TYPES = ("unigram", "bpe")
NORMALIZATIONS = ("identity", "nfkc", "nmt_nfkc", "nfkc_cf", "nmt_nfkc_cf")
# Pieces every trained model holds besides characters and merges: <unk>, <s>, </s> and the 256 byte pieces.
_META_PIECES = 3 + 256
# Tried in order when a tokenizer.json has no tokenizer_config.json naming its eos token.
_HF_EOS_CANDIDATES = ("</s>", "<|endoftext|>", "<|end_of_text|>", "<eos>", "<|eos|>", "[EOS]")

TOKENIZE_PARAMS: dict[str, Param] = {
    "tokenizer": Param("", "Path to a Hugging Face tokenizer.json (or its folder) or a SentencePiece .model; "
                           "empty = train a SentencePiece model on a sample of the kept documents.", kind=str),
    "eos_token": Param("", "End-of-document token; empty = the model's own (SentencePiece eos, or "
                           "tokenizer_config.json's eos_token, or a usual name such as </s>).", kind=str),
    "append_eos": Param(True, "Append the eos token to every document (Megatron's --append-eod).", kind=bool),
    "batch_size": Param(1024, "Documents per encode_batch call and per write.", 1, 1_000_000),
    "num_threads": Param(1, "SentencePiece threads per encode call; Spark already runs one task per core. "
                            "(Hugging Face tokenizers size their own pool: set RAYON_NUM_THREADS.)", 1, 256),
    "vocab_size": Param(32000, "Training: requested vocabulary. A small sample may give fewer pieces (the data "
                               "caps it); it must exceed 259 (3 specials + 256 byte-fallback pieces).", 300, 1 << 20),
    "model_type": Param("unigram", "Training: SentencePiece model type.", kind=str, choices=MODEL_TYPES),
    "character_coverage": Param(0.9995, "Training: share of characters that get their own piece; the rest are "
                                        "spelled with byte pieces. When those characters would take more than 3/4 of "
                                        "the vocabulary, only the most frequent ones that fit get pieces.", 0.98, 1.0),
    "train_sample_docs": Param(100_000, "Training: documents fed to the trainer (the first N of the sample given).",
                               1, 100_000_000),
    "max_sentence_length": Param(16384, "Training: lines longer than this many bytes are left out of training.",
                                 256, 1 << 24),
    "split_digits": Param(True, "Training: every digit is its own piece.", kind=bool),
    "normalization": Param("identity", "Training: SentencePiece normalization rule; 'identity' keeps decode(encode(x)) "
                                       "== x, 'nmt_nfkc' folds full-width forms.", kind=str,
                             choices=NORMALIZATIONS),
    "train_threads": Param(2, "Training threads. Part of the result: a unigram model trained with another thread "
                              "count differs slightly, so keep it fixed to reproduce a model.", 1, 256),
    "seed": Param(42, "Training: SentencePiece random seed.", 0, 2**31 - 1),
    # The pinning policy decides whether a run goes on, not what it produces (the pin's id is in every manifest).
    "on_no_pin": Param("stop", "What a nightly does when the dataset has no pinned tokenizer and `tokenizer` is "
                               "empty: 'stop' stops the run before the tokenize stage and says how to pin one "
                               "(`jwc train-tokenizer ... --pin`; the rerun resumes there); 'train' trains one on "
                               "this run's shards and pins it if it passes the size checks below.", kind=str,
                       choices=("stop", "train"), operational=True),
    "min_vocab_fraction": Param(0.9, "Pinning a trained tokenizer: refused when its vocabulary is below this share "
                                     "of vocab_size (the sample was too small for the vocabulary asked for).",
                                0.0, 1.0, operational=True),
    "min_sample_docs": Param(1000, "Pinning a trained tokenizer: refused when it was trained on fewer documents.",
                             1, 100_000_000, operational=True),
    "allow_toy": Param(False, "Pin a trained tokenizer even when it fails the size checks (demos and tests only: "
                              "the pin is marked as a toy and every later version of the dataset uses it).",
                       kind=bool, operational=True),
}


class Tokenizer(ABC):
    """What the exporter needs from a tokenizer."""

    kind: str = ""
    vocab_size: int
    eos_id: int

    def __init__(self, model: bytes, name: str):
        self.model = model
        self.name = name
        self.id = f"{self.kind}:{name}:{hashlib.sha256(model).hexdigest()[:16]}"

    @abstractmethod
    def encode_batch(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Token ids (int32) of each text, without special tokens."""

    @abstractmethod
    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        """Text of a token id sequence (for checks)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} vocab={self.vocab_size} eos={self.eos_id}>"


class SentencePieceTokenizer(Tokenizer):
    """A SentencePiece `.model`; batches are encoded in C++ straight into numpy arrays."""

    kind = "sentencepiece"

    def __init__(self, model: bytes, name: str, eos_token: str = "", num_threads: int = 1):
        super().__init__(model, name)
        self._args = (eos_token, num_threads)
        self._sp = spm.SentencePieceProcessor(model_proto=model)
        self.vocab_size = self._sp.get_piece_size()
        self.num_threads = num_threads
        if eos_token:
            self.eos_id = self._sp.piece_to_id(eos_token)
            if self.eos_id == self._sp.unk_id() and eos_token != self._sp.id_to_piece(self.eos_id):
                raise ValueError(f"{name}: eos token {eos_token!r} is not in the vocabulary")
        else:
            self.eos_id = self._sp.eos_id()
            if self.eos_id < 0:
                raise ValueError(f"{name}: the model has no eos piece; name one with eos_token")

    def encode_batch(self, texts: Sequence[str]) -> list[np.ndarray]:
        return self._sp.encode(list(texts), return_type="numpy", num_threads=self.num_threads)

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        return self._sp.decode([int(i) for i in ids])

    def __reduce__(self) -> tuple[Any, ...]:
        return (SentencePieceTokenizer, (self.model, self.name, *self._args))


class HFTokenizer(Tokenizer):
    """A Hugging Face `tokenizer.json` run by the `tokenizers` library (no transformers needed)."""

    kind = "hf"

    def __init__(self, model: bytes, name: str, eos_token: str = "", config_eos: str = ""):
        super().__init__(model, name)
        self._args = (eos_token, config_eos)
        self._tok = tokenizers.Tokenizer.from_str(model.decode("utf-8"))
        # The highest id + 1, not the token count: added tokens may leave holes in the id range.
        self.vocab_size = max(self._tok.get_vocab(with_added_tokens=True).values()) + 1
        candidates = (eos_token,) if eos_token else ((config_eos,) if config_eos else _HF_EOS_CANDIDATES)
        ids = [(t, self._tok.token_to_id(t)) for t in candidates]
        found = [(t, i) for t, i in ids if i is not None]
        if not found:
            raise ValueError(f"{name}: no eos token among {list(candidates)}; name one with eos_token")
        self.eos_token, self.eos_id = found[0]

    def encode_batch(self, texts: Sequence[str]) -> list[np.ndarray]:
        encodings = self._tok.encode_batch_fast(list(texts), add_special_tokens=False)
        return [np.array(e.ids, dtype=np.int32) for e in encodings]

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        return self._tok.decode([int(i) for i in ids], skip_special_tokens=False)

    def __reduce__(self) -> tuple[Any, ...]:
        return (HFTokenizer, (self.model, self.name, *self._args))


def load_tokenizer(path: str | os.PathLike[str], eos_token: str = "", num_threads: int = 1) -> Tokenizer:
    """Load `tokenizer.json` (or a folder holding one) with `tokenizers`, or a `.model` with SentencePiece.

    The eos id is `eos_token` when given; otherwise SentencePiece's eos piece, or for Hugging Face the
    `eos_token` of a `tokenizer_config.json` beside the file, or the first of the usual names found.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "tokenizer.json"
    model = p.read_bytes()
    if p.suffix == ".json" or model[:1] == b"{":
        name = p.parent.name if p.name == "tokenizer.json" and p.parent.name else p.stem
        return HFTokenizer(model, name, eos_token, _config_eos(p.parent / "tokenizer_config.json"))
    return SentencePieceTokenizer(model, p.stem, eos_token, num_threads)


def write_tokens(texts: Iterable[str], tokenizer: Tokenizer, prefix: str | os.PathLike[str],
                 batch_size: int = 1024, append_eos: bool = True) -> tuple[int, int]:
    """Tokenize a stream of documents in batches into `<prefix>.bin/.idx` (one Spark partition's export);
    returns (documents, tokens). Memory holds one batch plus 4 bytes per document."""
    with IndexedDatasetWriter(prefix, tokenizer.vocab_size, tokenizer.eos_id if append_eos else None) as writer:
        for batch in _batched(texts, batch_size):
            writer.add_batch(tokenizer.encode_batch(batch))
    return writer.documents, writer.tokens


def _batched(items: Iterable[str], size: int) -> Iterator[list[str]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _config_eos(config: Path) -> str:
    """The eos token a transformers tokenizer_config.json names (a string or an AddedToken dict), else ''."""
    if not config.is_file():
        return ""
    eos = json.loads(config.read_text(encoding="utf-8")).get("eos_token") or ""
    return eos.get("content", "") if isinstance(eos, dict) else str(eos)


def train_sentencepiece(texts: Iterable[str], out_dir: str | os.PathLike[str], vocab_size: int = 32000, *,
                        model_type: str = "unigram", character_coverage: float = 0.9995,
                        sample_docs: int = 100_000, max_sentence_length: int = 16384, split_digits: bool = True,
                        normalization: str = "identity", num_threads: int = 2, seed: int = 42,
                        name: str = "sp") -> Path:
    """Train a byte-fallback SentencePiece model on the first `sample_docs` texts; returns `<out_dir>/<name>.model`.

    Each line of a text is one training sentence. The same texts and arguments give a byte-identical model file
    (no sampling inside the trainer, fixed seed and thread count, no file paths stored in the model). When the
    data allows fewer pieces than `vocab_size`, the model is smaller (soft limit) rather than failing. When the
    characters needed for `character_coverage` would take more than 3/4 of the non-special vocabulary, only
    the most frequent characters that fit are trained on (lines are cut at the others), and the rest fall back
    to bytes.
    """
    lines, chars = _training_lines(texts, sample_docs, max_sentence_length)
    if not lines:
        raise ValueError("no training text: every document was empty or longer than max_sentence_length")
    rare = _rare_chars(chars, character_coverage, (vocab_size - _META_PIECES) * 3 // 4)
    if rare:
        share = sum(chars[c] for c in rare) / sum(chars.values())
        log.warning("%d rare characters (%.3f%% of the sample) left to byte fallback to fit vocab_size %d",
                    len(rare), 100 * share, vocab_size)
        cut = str.maketrans(dict.fromkeys(rare, "\n"))
        lines = [part for line in lines for part in line.translate(cut).split("\n") if part.strip()]
    model = io.BytesIO()
    spm.set_random_generator_seed(seed)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=model, vocab_size=vocab_size, model_type=model_type,
        character_coverage=character_coverage, byte_fallback=True, hard_vocab_limit=False, input_sentence_size=0,
        max_sentence_length=max_sentence_length, num_threads=num_threads, split_digits=split_digits,
        normalization_rule_name=normalization, remove_extra_whitespaces=False, add_dummy_prefix=False,
        allow_whitespace_only_pieces=True, minloglevel=2)
    out = Path(out_dir) / f"{name}.model"
    atomic_write_bytes(out, model.getvalue())
    return out


def _training_lines(texts: Iterable[str], sample_docs: int, max_bytes: int) -> tuple[list[str], Counter[str]]:
    """Non-blank lines of the first `sample_docs` texts that the trainer will keep, and their character counts."""
    lines: list[str] = []
    chars: Counter[str] = Counter()
    for n, text in enumerate(texts):
        if n >= sample_docs:
            break
        for line in text.split("\n"):
            if line.strip() and len(line.encode("utf-8")) <= max_bytes:
                lines.append(line)
                chars.update(line)
    return lines, chars


def _rare_chars(chars: Counter[str], coverage: float, max_chars: int) -> list[str]:
    """Characters to leave out of training so that SentencePiece keeps at most `max_chars` characters; empty
    when `coverage` already needs no more than that.

    SentencePiece takes characters by falling frequency until the covered share reaches the coverage. It refuses
    coverages under 0.98, which small vocabularies on Japanese need, so instead of lowering the coverage the rarest
    characters are removed from the sample; at encode time they are spelled with byte pieces.
    """
    ranked = chars.most_common()  # ties keep first-seen order, so the choice is deterministic
    covered = np.cumsum([c for _, c in ranked]) / max(1, sum(chars.values()))
    needed = int(np.searchsorted(covered, coverage)) + 1
    return [] if needed <= max_chars else [ch for ch, _ in ranked[max_chars:]]


__all__ = ["TOKENIZE_PARAMS", "Tokenizer", "SentencePieceTokenizer", "HFTokenizer", "load_tokenizer",
           "train_sentencepiece", "write_tokens"]
