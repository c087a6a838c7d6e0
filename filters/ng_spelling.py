"""Spelling variants of NG words: one folded view of a text in which obfuscated spellings read like the entry.

Pages that want to slip past word lists write セ○クス, ち●こ (伏せ字 masks), セ・ッ・ク・ス or ち ん こ (symbols or
spaces between characters), せっくす for セックス (hiragana for katakana), セックス with ッ written full size or
small kana elsewhere, and おっぱ〜い or セーックス (long-vowel marks). `fold` maps all of them onto one spelling:

- katakana become hiragana and small kana full size (a 1:1 character mapping, `str.translate`);
- mask symbols (○●◯〇＊×■□◆◇ ...) become `○`, which entries match through masked keys (`masked_keys`);
- long-vowel marks after kana, and separators (spaces, ・, dots, hyphens, ♪☆♡ ...) between Japanese letters or
  masks, are deleted.

The folded text keeps a map back to the original offsets (`FoldedText.span`), so a match found in the folded view
is counted, scored and checked for word boundaries on the original text.
"""
from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass

MASK = "○"
_MASKS = "○●◯〇*×✕☓■□◎◆◇"
_SEPARATORS = " \u3000・･.\\-_/|+♪♡♥❤☆★※\u200b\u200c\u200d\u2060\ufeff\u00ad"
_LONG_MARKS = "ー〜~∼"
_SMALL_TO_FULL = dict(zip("ぁぃぅぇぉっゃゅょゎゕゖ", "あいうえおつやゆよわかけ"))


def _fold_char(ch: str) -> str:
    """Katakana to hiragana, then small kana to full size."""
    if 0x30A1 <= ord(ch) <= 0x30F6:
        ch = chr(ord(ch) - 0x60)
    return _SMALL_TO_FULL.get(ch, ch)


_TABLE = {c: _fold_char(chr(c)) for c in [*range(0x30A1, 0x30F7), *map(ord, _SMALL_TO_FULL)]}
_TABLE.update({ord(c): MASK for c in _MASKS})

_JA = "ぁ-ゖ一-鿿々" + MASK  # a Japanese letter or a mask, after folding
# deleted: long-vowel marks after kana; separators between two Japanese letters (or masks, or a long mark after)
_DELETE = re.compile(f"(?<=[ぁ-ゖ{MASK}])[{_LONG_MARKS}]+|(?<=[{_JA}])[{_SEPARATORS}]+(?=[{_JA}{_LONG_MARKS}])")


def fold_word(word: str) -> str:
    """The folded spelling of a (normalised) entry."""
    return fold(word).text


@dataclass(frozen=True)
class FoldedText:
    """A folded text and where each of its kept segments starts in the original."""

    text: str
    folded_starts: tuple[int, ...]  # start of each kept segment in `text`
    original_starts: tuple[int, ...]  # and in the original

    def offset(self, i: int) -> int:
        """Original offset of folded character i."""
        seg = bisect.bisect_right(self.folded_starts, i) - 1
        return self.original_starts[seg] + i - self.folded_starts[seg]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original (start, end) of the folded span [start, end)."""
        return self.offset(start), self.offset(end - 1) + 1


def fold(text: str) -> FoldedText:
    """Fold a normalised (NFKC, lower-case) text; see the module doc."""
    mapped = text.translate(_TABLE)
    pieces, folded_starts, original_starts = [], [0], [0]
    kept = last = 0
    for m in _DELETE.finditer(mapped):
        pieces.append(mapped[last:m.start()])
        kept += m.start() - last
        last = m.end()
        folded_starts.append(kept)
        original_starts.append(last)
    pieces.append(mapped[last:])
    return FoldedText("".join(pieces), tuple(folded_starts), tuple(original_starts))


def masked_keys(key: str) -> list[str]:
    """Folded key with one character (keys of 4 or more: up to two) replaced by the mask, always keeping at least
    two real characters: セ○クス, ち○こ, お○○い. Keys shorter than 3 get none (○ね could be anything)."""
    if len(key) < 3:
        return []
    out = []
    for n in (1, 2) if len(key) >= 4 else (1,):
        for positions in itertools.combinations(range(len(key)), n):
            if len(key) - n >= 2:
                chars = list(key)
                for p in positions:
                    chars[p] = MASK
                out.append("".join(chars))
    return out
