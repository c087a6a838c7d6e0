"""Bytes to text for web pages, exact on Japanese legacy encodings even when the label lies.

Order of evidence: HTTP header label, then `<meta>` label, then BOM, then detection. A label is only trusted when
the body decodes strictly with it; a body that is valid multi-byte UTF-8 is UTF-8 whatever the label says (legacy
Japanese bytes almost never form valid UTF-8). Detection tries the Japanese codecs first and scores them by how
Japanese the result looks, then falls back to charset_normalizer for other languages.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from jwc.filters.charclass import HIRAGANA, KATAKANA_FULLWIDTH

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# How Japanese a candidate decoding looks: the whole hiragana/katakana blocks, the kanji of the main block (every
# JIS X 0208 kanji is there), Japanese punctuation and full-width ASCII. Narrower than the kana and kanji classes on
# purpose: Latin-1 bytes read as cp932 come out as half-width katakana, and Shift_JIS bytes read as EUC-JIS-2004 as
# rare extension kanji, so those would make a wrong decoding look right.
_JA_CHARS = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\u3000-\u303f\uff01-\uff5e]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_KANA = re.compile(f"[{HIRAGANA}{KATAKANA_FULLWIDTH}]")
# Labels that browsers treat as their superset; decoding with the superset loses nothing.
_SUPERSETS = {
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "ms_kanji": "cp932",
    "windows-31j": "cp932", "csshiftjis": "cp932", "euc-jp": "euc_jis_2004", "x-euc-jp": "euc_jis_2004",
    "eucjp": "euc_jis_2004", "iso-2022-jp": "iso2022_jp_ext", "csiso2022jp": "iso2022_jp_ext",
    "gb2312": "gb18030", "gbk": "gb18030", "iso-8859-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252",
    "ascii": "cp1252", "ks_c_5601-1987": "cp949", "euc-kr": "cp949", "big5": "big5hkscs",
}
_JAPANESE_CODECS = ("cp932", "euc_jis_2004", "iso2022_jp_ext")
_ASCII_BYTES = bytes(range(128))
_MIN_JAPANESE_BYTES = 20
_SINGLE_BYTE = {codecs.lookup(c).name for c in ("cp1252", "latin-1", "iso8859-15", "cp1251", "koi8-r", "ascii")}


_FAMILY = {"cp932": "shift_jis", "euc_jis_2004": "euc_jp", "iso2022_jp_ext": "iso2022_jp", "ascii": "utf-8"}


@dataclass(frozen=True)
class Decoded:
    text: str
    codec: str  # Python codec actually used (a superset of the labelled one where browsers widen it)
    source: str  # where the decision came from: "header", "meta", "bom", "utf8", "detected"

    @property
    def encoding(self) -> str:
        """The encoding family as people name it (shift_jis, euc_jp, iso2022_jp, utf-8, gb18030, ...)."""
        return _FAMILY.get(self.codec, self.codec)


def codec_for(label: str | None) -> str | None:
    """Python codec for a charset label, widened to the superset browsers use; None when unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _HEADER_CHARSET.search(content_type)
    return m.group(1) if m else None


def meta_charset(body: bytes) -> str | None:
    m = _META_CHARSET.search(body[:4096])
    return m.group(1).decode("ascii", "replace") if m else None


def _strict(body: bytes, codec: str) -> str | None:
    """Strict decoding; a character cut off by the end of the body (a truncated record) is dropped, not fatal."""
    try:
        return body.decode(codec)
    except LookupError:
        return None
    except UnicodeDecodeError as exc:
        cut_off = exc.reason in ("unexpected end of data", "incomplete multibyte sequence")
        cut = exc.start if cut_off and exc.end >= len(body) and exc.start >= len(body) - 3 else -1
    if cut < 0:
        return None
    try:
        return body[:cut].decode(codec)
    except UnicodeDecodeError:
        return None


def _japanese_score(text: str) -> float:
    """Share of the non-ASCII characters that are Japanese script or punctuation."""
    sample = text[:20000]
    return len(_JA_CHARS.findall(sample)) / (len(_NON_ASCII.findall(sample)) or 1)


def _is_multibyte_utf8(body: bytes) -> str | None:
    """The text when the body is strictly valid UTF-8 with at least one multi-byte sequence."""
    if body.isascii():
        return None
    text = _strict(body, "utf-8")
    return None if text is None or text.isascii() else text  # a lone cut-off byte proves nothing


def decode_html(body: bytes, content_type: str | None = None) -> Decoded | None:
    """Decode a page body; None when nothing decodes it cleanly enough to be worth extracting."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            text = _strict(body[len(bom):], codec)
            if text is not None:
                return Decoded(text, codec, "bom")
    if body.find(b"\x1b$", 0, 65536) >= 0 or body.find(b"\x1b(", 0, 65536) >= 0:  # no copies of the head
        # ISO-2022-JP escape sequences: 7-bit and unmistakable, whatever the label says.
        text = _strict(body, "iso2022_jp_ext")
        if text is not None:
            return Decoded(text, "iso2022_jp_ext", "detected")
    utf8 = _is_multibyte_utf8(body)
    for source, label in (("header", header_charset(content_type)), ("meta", meta_charset(body))):
        codec = codec_for(label)
        if codec is None:
            continue
        if codec == "utf-8" or utf8 is not None:
            if utf8 is not None:
                return Decoded(utf8, "utf-8", source if codec == "utf-8" else "utf8")
            if body.isascii():
                return Decoded(body.decode("ascii"), "utf-8", source)
            continue  # labelled UTF-8 but not valid UTF-8: the label lies
        text = _strict(body, codec)
        if text is not None:
            if codec in _SINGLE_BYTE and len(body.translate(None, _ASCII_BYTES)) >= _MIN_JAPANESE_BYTES:
                # A single-byte label decodes any bytes; a page that reads as Japanese is Japanese. (Ten kana, what
                # the pre-filter asks for, take twenty bytes above 0x7F in every legacy Japanese encoding.)
                japanese = _detect_japanese(body)
                if japanese is not None and japanese[0] >= 0.8:
                    return Decoded(japanese[2], japanese[1], "detected")
            return Decoded(text, codec, source)
    if utf8 is not None:
        return Decoded(utf8, "utf-8", "utf8")
    if body.isascii():
        return Decoded(body.decode("ascii"), "ascii", "detected")
    return _detect(body)


def _detect_japanese(body: bytes) -> tuple[float, str, str] | None:
    """(score, codec, text) of the Japanese codec whose strict decoding looks most Japanese."""
    best: tuple[float, str, str] | None = None
    for codec in _JAPANESE_CODECS:
        text = _strict(body, codec)
        if text is not None:
            score = _japanese_score(text) + (0.05 if _KANA.search(text) else 0.0)
            if best is None or score > best[0]:
                best = (score, codec, text)
    return best


def _detect(body: bytes) -> Decoded | None:
    best = _detect_japanese(body)
    if best is not None and best[0] >= 0.8:
        return Decoded(best[2], best[1], "detected")
    from charset_normalizer import from_bytes  # slow path, imported only when reached

    match = from_bytes(body[:200000]).best()
    if match is not None:
        codec = codec_for(match.encoding) or match.encoding
        text = _strict(body, codec)
        if text is not None:
            return Decoded(text, codec, "detected")
    if best is not None:
        return Decoded(best[2], best[1], "detected")
    return None
