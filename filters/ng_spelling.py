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

from jwc.filters.charclass import HIRAGANA, KANJI, is_hiragana, is_katakana

MASK = "○"
MASKS = "○●◯〇*×✕☓■□◎◆◇"
_SEPARATORS = " \u3000・･.\\-_/|+♪♡♥❤☆★※\u200b\u200c\u200d\u2060\ufeff\u00ad"
LONG_MARKS = "ー〜~∼"
_SMALL_TO_FULL = dict(zip("ぁぃぅぇぉっゃゅょゎゕゖ", "あいうえおつやゆよわかけ"))
_NOT_INITIAL = frozenset("ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ" + LONG_MARKS)


def _fold_char(ch: str) -> str:
    """Katakana to hiragana, then small kana to full size."""
    if 0x30A1 <= ord(ch) <= 0x30F6:
        ch = chr(ord(ch) - 0x60)
    return _SMALL_TO_FULL.get(ch, ch)


_TABLE = {c: ord(_fold_char(chr(c))) for c in [*range(0x30A1, 0x30F7), *map(ord, _SMALL_TO_FULL)]}
_TABLE.update({ord(c): ord(MASK) for c in MASKS})  # int values: str.translate is faster with them
_RUNS = re.compile(f"[{_SEPARATORS}{LONG_MARKS}]+")


# Character tests on the translated text (katakana are hiragana there), as compiled one-character matchers: called
# for every separator run, they are several times faster than range loops.
_kana_or_mask = re.compile(f"[{HIRAGANA}{MASK}]").match
_japanese = re.compile(f"[{HIRAGANA}{KANJI}{MASK}]").match


def _deleted(mapped: str) -> list[tuple[int, int]]:
    """Spans to delete from a translated text: long-vowel marks after kana (with separators among them: イ メ ー
    ジ), and separators between two Japanese letters or masks. One regex finds the runs; the rules are plain
    Python (a regex with lookbehinds tried at every position is six times slower)."""
    out = []
    for m in _RUNS.finditer(mapped):
        a, b = m.span()
        if a == 0:
            continue
        run, before, after = m.group(), mapped[a - 1], mapped[b] if b < len(mapped) else ""
        marks_end = len(run.rstrip(_SEPARATORS))  # the run holds only separators and marks
        if _kana_or_mask(before) and marks_end:
            out.append((a, b if after and _japanese(after) else a + marks_end))
        elif _japanese(before):
            first_mark = len(run) - len(run.lstrip(_SEPARATORS))
            if first_mark < len(run) or (after and _japanese(after)):
                out.append((a, a + first_mark))
    return [(x, y) for x, y in out if y > x]


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
    for start, end in _deleted(mapped):
        pieces.append(mapped[last:start])
        kept += start - last
        last = end
        folded_starts.append(kept)
        original_starts.append(last)
    pieces.append(mapped[last:])
    return FoldedText("".join(pieces), tuple(folded_starts), tuple(original_starts))


def masked_keys(key: str) -> list[str]:
    """Folded key with one character after the first (keys of 4 or more: up to two) replaced by the mask, always
    keeping at least two real characters: セ○クス, ち○こ, お○○い. None for keys shorter than 3 (○ね could be anything), keys with
    Latin letters or digits (18× is arithmetic) and keys that already hold a mask."""
    if len(key) < 3 or MASK in key or any(ch.isascii() for ch in key):
        return []
    out = []
    for n in (1, 2) if len(key) >= 4 else (1,):
        for positions in itertools.combinations(range(1, len(key)), n):  # not the first: ○チンコ is パチンコ
            if len(key) - n >= 2:
                chars = list(key)
                for p in positions:
                    chars[p] = MASK
                out.append("".join(chars))
    return out


def spaced_out(entry: str, span: str) -> bool:
    """Whether `span` is `entry` as written with separators between its characters (ク ソ, 死・ね): the only variant
    of a two-character entry, whose masked or re-scripted forms are mostly other words (○ね, くそ)."""
    return len(span) > len(entry) and span.translate(_NO_SEPARATORS) == entry


_NO_SEPARATORS = str.maketrans("", "", _SEPARATORS)


def kana_pattern(text: str) -> str:
    """The script of each kana or mask in `text` ("h" hiragana, "k" katakana, "?" a mask), long-vowel marks left
    out: a variant spelling must swap the script of a whole word, not of part of it (はメール is not ハメる)."""
    return "".join("h" if is_hiragana(ch) else "k" if is_katakana(ch) else "?"
                   for ch in text if ch not in LONG_MARKS and (is_hiragana(ch) or is_katakana(ch) or ch in MASKS))


def same_script_shape(entry: str, span: str) -> bool:
    """Whether `span` writes `entry` in its own scripts or a katakana entry all in hiragana (せっくす). Not the other
    way: a hiragana entry is mostly a spelling of a katakana word that is ordinary news vocabulary (せくはら,
    でんま for セクハラ, デンマーク); an entry mixing scripts (ヤりたい) only as written. The span must not start
    inside a word, with a small kana or a long-vowel mark (フィンランド holds ィンラン)."""
    if not span or span[0] in _NOT_INITIAL:
        return False
    pattern, written = kana_pattern(entry), kana_pattern(span)
    scripts = set(written) - {"?"}
    if set(pattern) <= {"k", "?"}:
        return scripts <= {"k"} or scripts == {"h"}
    if set(pattern) <= {"h", "?"}:
        return scripts <= {"h"}
    return len(pattern) == len(written) and all(w in (p, "?") for p, w in zip(pattern, written))
