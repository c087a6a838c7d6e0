"""Charset decoding: labels are evidence, not truth; legacy Japanese encodings decode even when mislabelled."""
from __future__ import annotations

import pytest

from pipeline.encoding import decode_html
from tests.conftest import shared_data

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
