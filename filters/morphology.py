"""Word-level signals from fugashi + unidic-lite: noun ratio, word n-gram repetition, average word length.

Each document is tokenized once (`tokens(doc)`, cached under the key "tokens") and the tokens are shared by every
filter that needs words. One MeCab tagger per process, created on first use. MeCab is asked for plain text
(surface and coarse part of speech) and the string is split, several times faster than building a Python node
object per token.
"""
from __future__ import annotations

from collections import Counter

from jwc.filters.base import Doc, Filter, Rule
from jwc.schemas.config import Param
from jwc.filters.composition import ratio

# Word tokens: (surface, coarse UniDic part of speech such as 名詞, 動詞, 助詞, 補助記号).
Token = tuple[str, str]

_TAGGER = None
# MeCab output: the surface and the coarse part of speech on two lines per token, nothing around sentences. Split
# once on newlines, the surfaces and the parts of speech are the even and odd items (C-level slicing, no loop).
_TAGGER_ARGS = (r"--output-format-type= --node-format=%m\\n%f[0]\\n --unk-format=%m\\n%f[0]\\n "
                r"--eos-format= --bos-format=")
NON_WORD_POS = frozenset({"補助記号", "空白"})
MAX_CHUNK = 20_000  # characters per MeCab call; long lines are cut so one call never holds a huge lattice


def tagger():
    """The process-wide fugashi tagger (created lazily: workers that never tokenize never load the dictionary)."""
    global _TAGGER
    if _TAGGER is None:
        import fugashi

        _TAGGER = fugashi.Tagger(_TAGGER_ARGS)
    return _TAGGER


def tokenize(text: str, max_chars: int) -> list[Token]:
    """Word tokens of the first `max_chars` characters; symbols and spaces are not words."""
    parse = tagger().parse
    text = text[:max_chars]
    out: list[Token] = []
    for start in range(0, len(text), MAX_CHUNK):
        parts = parse(text[start:start + MAX_CHUNK]).split("\n")
        out += [t for t in zip(parts[0::2], parts[1::2]) if t[1] not in NON_WORD_POS]
    return out


def tokens(doc: Doc, max_chars: int = 100_000) -> list[Token]:
    """The document's word tokens, computed once per document and shared between filters."""
    return doc.cached("tokens", lambda: tokenize(doc.text, max_chars))


class MorphologyFilter(Filter):
    """Keyword stuffing and product lists are nearly all nouns; generated or copy-pasted filler repeats word
    sequences; unsegmentable junk (IDs, URLs, long katakana strings) makes words long."""

    name = "morphology"
    params = {
        "max_noun_frac": Param(0.8, "maximum share of nouns among words (symbols excluded)", lo=0.0, hi=1.0),
        "max_word_dup_frac": Param(0.4, "maximum share of word n-grams that occur more than once", lo=0.0, hi=1.0),
        "min_avg_word_len": Param(1.0, "minimum average word length (characters)", lo=0.0),
        "max_avg_word_len": Param(4.0, "maximum average word length (characters)", lo=0.0),
        "word_ngram": Param(7, "n of the word n-grams counted by the repetition signal", lo=1, hi=20, kind=int),
        "max_chars": Param(100_000, "characters tokenized per document (the rest is not read)", lo=1, kind=int),
    }
    signal_names = ("morph_words", "morph_noun_frac", "morph_word_dup_frac", "morph_avg_word_len")
    rules = (
        Rule("nouns", "morph_noun_frac", "max", "max_noun_frac"),
        Rule("word_repetition", "morph_word_dup_frac", "max", "max_word_dup_frac"),
        Rule("short_words", "morph_avg_word_len", "min", "min_avg_word_len"),
        Rule("long_words", "morph_avg_word_len", "max", "max_avg_word_len"),
    )

    def signals(self, doc: Doc) -> dict[str, float]:
        toks = tokens(doc, self.options["max_chars"])
        surfaces = [s for s, _ in toks]
        nouns = sum(1 for _, pos in toks if pos == "名詞")
        n = self.options["word_ngram"]
        grams = Counter(zip(*(surfaces[i:] for i in range(n))))
        repeated = sum(c for c in grams.values() if c > 1)
        return {
            "morph_words": float(len(toks)),
            "morph_noun_frac": ratio(nouns, len(toks)),
            "morph_word_dup_frac": ratio(repeated, sum(grams.values())),
            "morph_avg_word_len": ratio(sum(map(len, surfaces)), len(toks)),
        }


FILTERS = (MorphologyFilter,)
