"""Forms of NG entries that a word list cannot enumerate: conjugations of verb entries and productive affixes.

Slang verbs are written conjugated far more often than in their dictionary form (パコった, ぶっ殺して, ハメまくり), and
sexual vocabulary builds new compounds on a few productive pieces (ズーフィリア, ヘベフィリア from ～フィリア; 脇コキ,
髪コキ from ～コキ). `conjugations` spells the forms of a verb entry from its last kana, without MeCab (which reads
hiragana-spelled nouns as verbs and does not know katakana slang verbs); `AffixRule` matches a lexicon suffix
written `~X` at the end of a run of kanji or katakana, as its own kind of hit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from jwc.filters.charclass import KANJI, is_kanji, is_katakana

# Godan endings: (stem before た/て, before ない/れる, before たい/まくる, imperative), and whether た/て are voiced.
_GODAN = {
    "す": ("し", "さ", "し", "せ", False), "く": ("い", "か", "き", "け", False), "ぐ": ("い", "が", "ぎ", "げ", True),
    "む": ("ん", "ま", "み", "め", True), "ぶ": ("ん", "ば", "び", "べ", True), "ぬ": ("ん", "な", "に", "ね", True),
    "る": ("っ", "ら", "り", "れ", False), "う": ("っ", "わ", "い", "え", False), "つ": ("っ", "た", "ち", "て", False),
}
# A verb entry: a kanji or katakana stem (not a long mark: おなほーる is a noun) and one godan ending.
_VERB = re.compile(f".*[{KANJI}\u30a1-\u30fa][すくぐむぶぬるうつ]")
LONG = "ー"


def conjugations(word: str) -> list[str]:
    """Conjugated forms of a verb entry (ぶっ殺す: ぶっ殺した, ぶっ殺して, ぶっ殺さない, ぶっ殺せ ...); none for
    other words. A katakana stem before る may be ichidan (ハメる: ハメた), so both readings are spelled: the wrong
    one is never written, so it never matches."""
    if not _VERB.fullmatch(word):
        return []
    stem, ending = word[:-1], word[-1]
    onbin, mizen, renyou, imperative, voiced = _GODAN[ending]
    ta, te = ("だ", "で") if voiced else ("た", "て")
    forms = [stem + onbin + s for s in (ta, te, ta + "ら")]
    forms += [stem + mizen + s for s in ("ない", "れる")]
    forms += [stem + renyou + s for s in ("たい", "まくる", "まくり", "ます")]
    forms.append(stem + imperative)
    if ending == "る" and is_katakana(stem[-1]):
        forms += [stem + s for s in ("た", "て", "たら", "ない", "たい", "まくる", "まくり", "ろ")]
    return sorted(set(forms))


@dataclass(frozen=True)
class AffixRule:
    """A suffix such as ～フィリア: a hit where a run of kanji or katakana ends in it after a prefix of its own (one
    kanji, or two or more characters: ア|フィリア is not a compound), and the next character does not go on in the
    suffix's script (ペドフィリアス is a name, 獣姦罪 a legal term)."""

    suffix: str
    category: str
    weight: float

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        """(start, end) of every compound of `text` ending in the suffix, prefix included. A plain `str.find` of the
        suffix, then a walk back over the run: suffixes are rare, and a regex tried at every offset is slow."""
        katakana_end = is_katakana(self.suffix[-1])
        at = text.find(self.suffix)
        while at >= 0:
            end = at + len(self.suffix)
            start = at
            while start > 0 and _in_run(text[start - 1]):
                start -= 1
            prefix, after = text[start:at], text[end:end + 1]
            goes_on = bool(after) and (_in_run(after) and not is_kanji(after) if katakana_end else is_kanji(after))
            if prefix and prefix[0] != LONG and (len(prefix) >= 2 or is_kanji(prefix)) and not goes_on:
                yield start, end
            at = text.find(self.suffix, end)


def _in_run(ch: str) -> bool:
    """A character of a kanji/katakana run (long marks included)."""
    return is_kanji(ch) or is_katakana(ch)
