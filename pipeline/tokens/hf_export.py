"""A Hugging Face `tokenizer.json` for a SentencePiece unigram model trained the way `train_sentencepiece` trains:
identity normalization, no dummy prefix, byte fallback. HF trainers (transformers' PreTrainedTokenizerFast,
`tokenizers`) can then read the same vocabulary and ids as the bins.

Only what the `tokenizers` library can reproduce is exported: unigram pieces with their scores, spaces written as
U+2581 and split before it (SentencePiece's whitespace rule), digits split when the model splits them, bytes for
characters without a piece. BPE models and models with a normalization rule are not exported (None), because
their HF equivalents would not give the same ids. `agreement` measures how often both give the same ids.
"""
from __future__ import annotations

from typing import Sequence

import sentencepiece as spm
import tokenizers
from tokenizers import decoders, models, pre_tokenizers

_SPACE = "\u2581"


def _is_identity_unigram(sp: spm.SentencePieceProcessor) -> bool:
    """True when the model encodes like a unigram model without normalization: a full-width letter stays itself
    (NFKC would fold it) and the model scores its pieces (BPE models score pieces by merge order, all negative
    integers, and have no byte pieces with score 0 besides; unigram scores are log probabilities)."""
    if sp.decode(sp.encode("Ａ１")) != "Ａ１":
        return False
    scores = [sp.get_score(i) for i in range(sp.get_piece_size()) if not (sp.is_control(i) or sp.is_unknown(i)
                                                                          or sp.is_byte(i))]
    return bool(scores) and any(s != int(s) for s in scores)


def _splits_digits(sp: spm.SentencePieceProcessor) -> bool:
    """True when no multi-character piece holds a digit: the model was trained with split_digits."""
    return not any(len(p := sp.id_to_piece(i)) > 1 and any(c.isdigit() for c in p) and not sp.is_byte(i)
                   and not sp.is_control(i) for i in range(sp.get_piece_size()))


def sentencepiece_to_hf(model: bytes) -> str | None:
    """The tokenizer.json text for a SentencePiece unigram model, or None when it cannot be reproduced."""
    sp = spm.SentencePieceProcessor(model_proto=model)
    if not _is_identity_unigram(sp):
        return None
    vocab = [(sp.id_to_piece(i), sp.get_score(i)) for i in range(sp.get_piece_size())]
    tok = tokenizers.Tokenizer(models.Unigram(vocab, unk_id=sp.unk_id(), byte_fallback=True))
    splits: list[pre_tokenizers.PreTokenizer] = [pre_tokenizers.Metaspace(replacement=_SPACE,
                                                                          prepend_scheme="never", split=True)]
    if _splits_digits(sp):
        splits.append(pre_tokenizers.Digits(individual_digits=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence(splits)
    tok.decoder = decoders.Sequence([decoders.Replace(_SPACE, " "), decoders.ByteFallback(), decoders.Fuse()])
    tok.add_special_tokens([sp.id_to_piece(i) for i in range(sp.get_piece_size()) if sp.is_control(i)])
    return tok.to_str()


def agreement(model: bytes, hf_json: str, texts: Sequence[str]) -> dict[str, float]:
    """Share of `texts` both tokenizers encode to the same ids, and share of HF decodes equal to the text."""
    sp = spm.SentencePieceProcessor(model_proto=model)
    hf = tokenizers.Tokenizer.from_str(hf_json)
    sp_ids = sp.encode(list(texts))
    hf_ids = [e.ids for e in hf.encode_batch(list(texts), add_special_tokens=False)]
    same = sum(a == b for a, b in zip(sp_ids, hf_ids))
    exact = sum(hf.decode(ids, skip_special_tokens=False) == t for ids, t in zip(hf_ids, texts))
    n = max(1, len(texts))
    return {"texts": len(texts), "same_ids": same / n, "lossless_decode": exact / n}
