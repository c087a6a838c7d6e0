"""Character composition of Japanese text, and the character classes and per-document splits that the other
quality filters share.

Japanese letters are hiragana, katakana and kanji as filters/charclass.py defines them (half-width katakana and
the long-vowel mark ー are katakana; the marks 々〆〇〻 and the supplementary-plane extensions are kanji).
Every character is classified with one lookup table over all code points (numpy, built once per process), so a
document's whole class histogram costs one vectorised pass instead of a Python loop or one regex per class.
"""
from __future__ import annotations

import unicodedata

import numpy as np

from jwc.filters.base import Doc, Filter, Rule
from jwc.schemas.config import Param
from jwc.filters.charclass import HIRAGANA_RANGES, KANJI_RANGES, KATAKANA_RANGES

OTHER, NEUTRAL, HIRAGANA, KATAKANA, KANJI, JA_OTHER, SPACE, SYMBOL = range(8)
N_CLASSES = 8

_RANGES = {HIRAGANA: HIRAGANA_RANGES, KATAKANA: KATAKANA_RANGES, KANJI: KANJI_RANGES}


def _build_table() -> np.ndarray:
    """Class of every code point.

    OTHER: letters of other scripts (Latin, Hangul, Cyrillic ...). NEUTRAL: digits, punctuation, separators and
    controls, which belong to no script. SYMBOL: Unicode categories S* (math, currency, modifier and other
    symbols, which include emoji) plus emoji joiners/selectors and decorative bullets. JA_OTHER: Japanese
    punctuation and full-width forms, part of normal Japanese typography. Code points above the BMP that are
    neither kanji nor emoji count as OTHER.
    """
    table = np.full(0x110000, OTHER, dtype=np.uint8)
    for cp in range(0x10000):
        ch = chr(cp)
        major = unicodedata.category(ch)[0]
        if ch.isspace():
            table[cp] = SPACE
        elif major == "S":
            table[cp] = SYMBOL
        elif major not in "LM":
            table[cp] = NEUTRAL
    for cp in range(0x1F000, 0x1FB00):
        if unicodedata.category(chr(cp))[0] == "S":
            table[cp] = SYMBOL
    for cp in (0x2022, 0x2023, 0x2043, 0x203B, 0x200D, 0x20E3, 0xFE0E, 0xFE0F):
        table[cp] = SYMBOL
    for lo, hi in ((0x3001, 0x303F), (0x30FB, 0x30FB), (0xFF01, 0xFF65)):
        block = table[lo:hi + 1]
        block[block != SYMBOL] = JA_OTHER
    for cls, ranges in _RANGES.items():
        for lo, hi in ranges:
            table[lo:hi + 1] = cls
    return table


CLASS_TABLE = _build_table()


def codepoints(doc: Doc) -> np.ndarray:
    """Code points of the text, whitespace removed (the unit of lengths and character n-grams)."""

    def compute() -> np.ndarray:
        cps = np.frombuffer(doc.text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        return cps[CLASS_TABLE[cps] != SPACE]

    return doc.cached("codepoints", compute)


def class_counts(doc: Doc) -> np.ndarray:
    """How many non-whitespace characters fall in each class (index with HIRAGANA, KANJI, ...)."""
    return doc.cached("class_counts", lambda: np.bincount(CLASS_TABLE[codepoints(doc)], minlength=N_CLASSES))


def lines(doc: Doc) -> list[str]:
    """Non-empty lines, stripped. Shared by the sentence, repetition and junk filters."""
    return doc.cached("lines", lambda: [s for s in (line.strip() for line in doc.text.split("\n")) if s])


def ratio(num: float, den: float) -> float:
    """num/den as a float, 0.0 for an empty denominator (signals stay finite)."""
    return float(num / den) if den else 0.0


class CompositionFilter(Filter):
    """Length and script mix. Japanese prose is roughly half hiragana; keyword lists, product tables and
    transliterated spam are katakana- or symbol-heavy; very short pages carry no usable text."""

    name = "composition"
    params = {
        "min_chars": Param(200, "minimum non-whitespace characters", lo=0, kind=int),
        "min_ja_letters": Param(100, "minimum Japanese letters (hiragana, katakana, kanji)", lo=0, kind=int),
        "min_hiragana_frac": Param(0.1, "minimum hiragana share of Japanese letters", lo=0.0, hi=1.0),
        "max_katakana_frac": Param(0.6, "maximum katakana share of Japanese letters", lo=0.0, hi=1.0),
        "min_japanese_frac": Param(0.5, "minimum share of Japanese letters, Japanese punctuation and full-width "
                                        "forms among those plus letters of other scripts (digits, symbols and "
                                        "ASCII punctuation are neutral)", lo=0.0, hi=1.0),
    }
    signal_names = ("comp_chars", "comp_ja_letters", "comp_hiragana_frac", "comp_katakana_frac",
                    "comp_japanese_frac")
    rules = (
        Rule("too_short", "comp_chars", "min", "min_chars"),
        Rule("few_ja_letters", "comp_ja_letters", "min", "min_ja_letters"),
        Rule("low_hiragana", "comp_hiragana_frac", "min", "min_hiragana_frac"),
        Rule("high_katakana", "comp_katakana_frac", "max", "max_katakana_frac"),
        Rule("low_japanese", "comp_japanese_frac", "min", "min_japanese_frac"),
    )

    def signals(self, doc: Doc) -> dict[str, float]:
        c = class_counts(doc)
        chars = int(c.sum())
        letters = int(c[HIRAGANA] + c[KATAKANA] + c[KANJI])
        return {
            "comp_chars": float(chars),
            "comp_ja_letters": float(letters),
            "comp_hiragana_frac": ratio(c[HIRAGANA], letters),
            "comp_katakana_frac": ratio(c[KATAKANA], letters),
            "comp_japanese_frac": ratio(letters + c[JA_OTHER], letters + c[JA_OTHER] + c[OTHER]),
        }


FILTERS = (CompositionFilter,)
