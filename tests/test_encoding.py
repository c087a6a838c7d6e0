"""Charset decoding: labels are evidence, not truth; legacy Japanese encodings decode even when mislabelled."""
from __future__ import annotations

import pytest

from jwc.pipeline.extract.charset import decode_html
from tests.helpers import shared_data

TEXT = "今日は駅前の図書館で、子ども向けの読み聞かせ会が開かれました。参加者は二十人ほどでした。"
PAGE = f"<html><head><title>お知らせ</title></head><body><p>{TEXT}</p></body></html>"


@pytest.mark.parametrize("codec,family", [("cp932", "shift_jis"), ("euc_jp", "euc_jp"),
                                          ("iso2022_jp", "iso2022_jp"), ("utf-8", "utf-8")])
@pytest.mark.parametrize("label", [None, "utf-8", "shift_jis", "euc-jp", "iso-8859-1"])
def test_japanese_decodes_whatever_the_label(codec: str, family: str, label: str | None) -> None:
    body = PAGE.encode(codec)
    ctype = f"text/html; charset={label}" if label else "text/html"
    decoded = decode_html(body, ctype)
    assert decoded is not None
    assert decoded.text == PAGE
    assert decoded.encoding == family


def test_meta_label_used_when_header_has_none() -> None:
    page = f'<html><head><meta charset="Shift_JIS"></head><body>{TEXT}</body></html>'
    decoded = decode_html(page.encode("cp932"), "text/html")
    assert decoded.text == page and decoded.source == "meta" and decoded.encoding == "shift_jis"


def test_bom_and_cp932_extensions() -> None:
    text = "①番の髙橋さん ㈱テスト"  # NEC/IBM extensions exist only in CP932, not strict Shift_JIS
    assert decode_html(text.encode("cp932"), "text/html; charset=Shift_JIS").text == text
    bom = decode_html(b"\xef\xbb\xbf" + TEXT.encode(), "text/html; charset=cp932")
    assert bom.text == TEXT and bom.source == "bom"


def test_other_languages_keep_their_label() -> None:
    zh = "这是一个关于天气的简单中文网页，今天下雨了。" * 3
    decoded = decode_html(zh.encode("gbk"), "text/html; charset=GBK")
    assert decoded.text == zh


@pytest.mark.shared
def test_real_legacy_feeds_all_decode() -> None:
    """Every file of the real chardet test feeds decodes exactly, with no label given (detection only)."""
    root = shared_data("ja_encoding_chardet")
    truth_codec = {"SHIFT_JIS": "cp932", "CP932": "cp932", "EUC-JP": "euc_jp", "ISO-2022-JP": "iso2022_jp"}
    total = ok = 0
    for folder in sorted(root.iterdir()):
        for f in sorted(folder.iterdir()):
            body = f.read_bytes()
            expected = body.decode(truth_codec[folder.name.upper()])
            decoded = decode_html(body, "text/html; charset=utf-8")  # a lying label, the hard case
            total += 1
            ok += decoded is not None and decoded.text == expected
    assert total >= 60
    assert ok == total


@pytest.mark.parametrize("codec", ["utf-8", "cp932", "euc_jis_2004"])
def test_character_cut_off_by_a_truncated_record_is_dropped(codec: str) -> None:
    """A record cut inside its last character (WARC-Truncated, short Content-Length) still decodes, minus it."""
    text = "<html><body><p>雨のち晴れ、明日は暖かくなるでしょう。</p></body></html>日本"
    body = text.encode(codec)[:-1]
    decoded = decode_html(body, "text/html")
    assert decoded is not None and decoded.text == text[:-1]


def test_a_lone_cut_off_byte_does_not_make_a_page_utf8() -> None:
    """A Latin-1 page whose only non-ASCII byte ends it is not taken for UTF-8 missing a character."""
    decoded = decode_html("<p>Le menu du jour au café".encode("cp1252"), "text/html; charset=windows-1252")
    assert decoded is not None and decoded.text.endswith("é") and decoded.codec == "cp1252"
