"""The Japanese character classes, defined once: every filter and every extract step that asks "is this kana?"
or "is this kanji?" uses these, so the pre-filter, the language override and the filters agree.

- Hiragana: the letters ぁ-ゖ and the iteration marks ゝゞ and the digraph ゟ.
- Katakana: the letters ァ-ヺ, the prolonged sound mark ー, ヽヾ, the digraph ヿ, the small katakana ㇰ-ㇿ, and the
  half-width forms ｦ-ﾟ (half-width ｰ included): half-width katakana is kana wherever kana is counted.
  ヶ is katakana (its block); place-name patterns that read it as the kanji 箇 add it themselves.
- Kanji: the CJK Unified Ideographs (extension A, the main block, extensions B-H in the supplementary planes), the
  compatibility ideographs, and the marks 々〆〇〻 that stand for or count as kanji.

Each class is a tuple of inclusive code-point ranges and a fragment to put inside a regex `[...]`.
"""
from __future__ import annotations

Ranges = tuple[tuple[int, int], ...]

HIRAGANA_RANGES: Ranges = ((0x3041, 0x3096), (0x309D, 0x309F))
KATAKANA_FULLWIDTH_RANGES: Ranges = ((0x30A1, 0x30FA), (0x30FC, 0x30FF), (0x31F0, 0x31FF))
KATAKANA_HALFWIDTH_RANGES: Ranges = ((0xFF66, 0xFF9F),)
KATAKANA_RANGES: Ranges = KATAKANA_FULLWIDTH_RANGES + KATAKANA_HALFWIDTH_RANGES
KANJI_RANGES: Ranges = ((0x3005, 0x3007), (0x303B, 0x303B), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
                        (0x20000, 0x323AF))
PROLONGED_SOUND_MARKS = "ー\uff70"  # full-width and half-width; both are katakana above


def fragment(ranges: Ranges) -> str:
    """The ranges as the inside of a regex character class."""
    return "".join(chr(lo) if lo == hi else f"{chr(lo)}-{chr(hi)}" for lo, hi in ranges)


def in_ranges(ch: str, ranges: Ranges) -> bool:
    o = ord(ch)
    return any(lo <= o <= hi for lo, hi in ranges)


HIRAGANA = fragment(HIRAGANA_RANGES)
KATAKANA = fragment(KATAKANA_RANGES)
KATAKANA_FULLWIDTH = fragment(KATAKANA_FULLWIDTH_RANGES)
KANA = HIRAGANA + KATAKANA
KANJI = fragment(KANJI_RANGES)
JA_LETTERS = KANA + KANJI


def is_hiragana(ch: str) -> bool:
    return in_ranges(ch, HIRAGANA_RANGES)


def is_katakana(ch: str) -> bool:
    return in_ranges(ch, KATAKANA_RANGES)


def is_kanji(ch: str) -> bool:
    return in_ranges(ch, KANJI_RANGES)
