"""One definition of the Japanese character classes (filters/charclass.py), and every user of it agreeing:
half-width katakana is kana for the composition filter, the pre-filter and the language override alike."""
from __future__ import annotations

import re

import pytest

from jwc.filters.base import Doc
from jwc.filters.charclass import JA_LETTERS, KANA, KANJI, KATAKANA, fragment, is_hiragana, is_kanji, is_katakana
from jwc.filters.composition import HIRAGANA, KANJI as KANJI_CLASS, KATAKANA as KATAKANA_CLASS, class_counts
from jwc.filters.pii import find_pii
from jwc.pipeline.extract.langid import kana_share
from jwc.pipeline.extract.prefilter import japanese_share, kana_count

HALF_WIDTH = "ｶﾀｶﾅﾃﾞｽｰ"  # 8 half-width katakana code points (ﾃﾞ is two, ｰ is the half-width long-vowel mark)


def test_fragment_writes_ranges_and_single_code_points() -> None:
    assert fragment(((0x3041, 0x3096), (0x303B, 0x303B))) == "ぁ-ゖ〻"


@pytest.mark.parametrize(("chars", "hira", "kata", "kanji"), [
    ("ぁゖゝゞゟ", True, False, False),
    ("ァヺーヽヾヿㇰㇿ", False, True, False),
    ("ｦｱﾝﾞﾟｰ", False, True, False),
    ("ヶ", False, True, False),
    ("々〆〇〻㐀一龥鿿豈𠀋", False, False, True),
    ("AＡ1１、。・「", False, False, False),
])
def test_each_character_has_one_class(chars: str, hira: bool, kata: bool, kanji: bool) -> None:
    for ch in chars:
        assert (is_hiragana(ch), is_katakana(ch), is_kanji(ch)) == (hira, kata, kanji), ch
        assert bool(re.fullmatch(f"[{KANA}]", ch)) == (hira or kata)
        assert bool(re.fullmatch(f"[{KANJI}]", ch)) == kanji
        assert bool(re.fullmatch(f"[{JA_LETTERS}]", ch)) == (hira or kata or kanji)


def test_the_composition_table_is_the_same_classes() -> None:
    text = "ぁゝゟァーヽｦｰ々〇一𠀋"
    counts = class_counts(Doc(text))
    assert (counts[HIRAGANA], counts[KATAKANA_CLASS], counts[KANJI_CLASS]) == (3, 5, 4)


def test_half_width_katakana_is_kana_for_the_prefilter_and_the_language_override() -> None:
    page = f"<html><body><p>{HALF_WIDTH} {HALF_WIDTH}</p></body></html>"
    assert kana_count(page, 100) == 2 * len(HALF_WIDTH)
    assert japanese_share(page) == 1.0
    for entity in ("&#x{:x};", "&#X{:X};", "&#{:d};"):
        encoded = "".join(entity.format(ord(c)) for c in HALF_WIDTH)
        assert kana_count(f"<p>{encoded}</p>", 100) == len(HALF_WIDTH)
    assert kana_count("&#xff65;&#xffa0;&#65381;&#65440;", 100) == 0  # the neighbours of the block are not kana
    assert kana_share(HALF_WIDTH) == 1.0
    assert kana_share("abcd" + HALF_WIDTH) == pytest.approx(8 / 12)


def test_pii_place_names_read_ke_as_a_kanji() -> None:
    for text, address in (("本社は千葉県鎌ヶ谷市道野辺中央2-1-10です。", "千葉県鎌ヶ谷市道野辺中央2-1-10"),
                          ("住所：鎌ヶ谷市道野辺中央2-1-10", "鎌ヶ谷市道野辺中央2-1-10")):
        assert [(k, text[s:e]) for k, s, e, _ in find_pii(text)] == [("address", address)]
    assert re.fullmatch(f"[{KATAKANA}]+", HALF_WIDTH)
