"""Personal information in Japanese web text: detect, count and mask.

Detection is one scan of one combined regular expression over a width-normalised copy of the text (full-width
digits, letters and dash variants mapped 1:1 to ASCII, so offsets are shared with the original). The regex only
proposes candidates by shape; callbacks decide with checksums and context, because shape alone cannot tell a phone
number from an order number or a card number from a JAN code:

- e-mail: local@domain with an alphabetic TLD; a full stop after it ends the sentence, not the domain.
- phone: Japanese numbers (landline 10 digits, mobile/IP 070/080/090/050 11 digits, 0120/0570 10, 0800 11,
  +81 forms with or without separators, hyphens/spaces/dots/parentheses), also right after a "TEL."/"FAX." label.
  Unseparated 10-digit numbers need a phone word (TEL, 電話 ...) or +81; a product/order code word before the
  number (商品コード, 品番 ...) rules it out. Brackets around the number that belong to the text are not masked.
- postal_code: 〒 or 郵便番号 + 7 digits, or a bare ddd-dddd unless preceded by an order/product/ISBN-style word.
- my_number: 12 digits whose check digit is valid.
- credit_card: 14-19 digits in card grouping, Luhn-valid, with a known issuer prefix and length.
- ipv4 / ipv6: globally routable addresses only (private, loopback, documentation and reserved ranges are kept;
  IPv6 must be in 2000::/3, the global unicast block); a version-shaped quad (9.0.0.6) needs an IP word before it.
- address: prefecture (or a kanji city) + municipality + town + block number (丁目/番地/1-2-3) + building/room;
  ordinals and ranks (2番目, 3番線, 1番人気) are no block numbers.

Dates, times, prices, ISBNs, JAN codes, version strings and order numbers fail those checks by construction.
"""
from __future__ import annotations

import ipaddress
import math
import re
from typing import Any, Callable, Iterator

from jwc.filters.base import Doc, Filter, Rule
from jwc.schemas.config import Param, fullmatch
from jwc.filters.charclass import KANA, KANJI, KATAKANA, PROLONGED_SOUND_MARKS

PII_TYPES = ("email", "phone", "postal_code", "my_number", "credit_card", "ipv4", "ipv6", "address")
_TAG_NAMES = {"ipv4": "IP_ADDRESS", "ipv6": "IP_ADDRESS"}

# 1:1 character map, so match offsets in the normalised copy are offsets in the original text. Full-width
# parentheses, colon and space are common in all Japanese text, so the patterns accept them instead.
_NORMALISE = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
        **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
        **{c: "-" for c in "－‐‑‒–—―−﹣─ｰ"},
        "＋": "+", "＠": "@", "．": ".", "＿": "_", "％": "%",
    }
)
_NEEDS_NORMALISING = re.compile("[" + re.escape("".join(map(chr, _NORMALISE))) + "]")

_PREFECTURES = (
    "北海道 青森県 岩手県 宮城県 秋田県 山形県 福島県 茨城県 栃木県 群馬県 埼玉県 千葉県 東京都 神奈川県 新潟県 富山県 "
    "石川県 福井県 山梨県 長野県 岐阜県 静岡県 愛知県 三重県 滋賀県 京都府 大阪府 兵庫県 奈良県 和歌山県 鳥取県 島根県 "
    "岡山県 広島県 山口県 徳島県 香川県 愛媛県 高知県 福岡県 佐賀県 長崎県 熊本県 大分県 宮崎県 鹿児島県 沖縄県"
).split()

# The 20 designated cities: a city head even right after another kanji word (広報部名古屋市中村区...).
_DESIGNATED_CITIES = (
    "札幌 仙台 さいたま 千葉 横浜 川崎 相模原 新潟 静岡 浜松 名古屋 京都 大阪 堺 神戸 岡山 広島 北九州 福岡 熊本"
).split()

# ヶ is katakana by its block, but in place names (霞ヶ関, 鎌ヶ谷市) it stands for the kanji 箇.
_KANJI = KANJI + "ヶ"
_KANA = KANA
# 番 of a block number, not of an ordinal or a rank: 2番目, 3番線 (platform), 1番人気, 2番手, 4番打者, 300番台
_BAN = r"番(?!目|線|手|台|組|人気|打者|ホーム|出口|乗り?場)"
_KANJI_DIGITS = "〇一二三四五六七八九十百"
_BLOCK = (  # 1丁目2番3号, 1丁目2-3, 1-2-3, 12番地, 12番地3, 三丁目四番十二号; a bare "2丁目" names an area, not a home
    rf"\d{{1,4}}丁目\d{{1,4}}(?:{_BAN}地?|-)(?:\d{{1,4}}号?)?"
    rf"|[{_KANJI_DIGITS}]{{1,3}}丁目[{_KANJI_DIGITS}]{{1,4}}{_BAN}地?(?:[{_KANJI_DIGITS}]{{1,4}}号)?"
    r"|\d{1,4}(?:-\d{1,4}){1,2}(?![\d-])"
    rf"|\d{{1,4}}{_BAN}地?(?:\d{{1,4}}号?)?"
)
_BUILDING = (  # "さくらビル5F", "グランドハイツ302号室", "コーポ中央 503", "第一マンション704号"
    rf"(?:\s?[{_KANJI}{_KANA}A-Za-z]{{0,10}}"
    r"(?:ビル|マンション|ハイツ|コーポ|レジデンス|ハウス|タワー|アパート|パレス|プラザ|メゾン|荘)"
    rf"[{_KANJI}{_KANA}A-Za-z]{{0,10}}\s?(?:\d{{1,4}}(?:号室|号|F|階)?)?)"
)
_ADDRESS = (
    rf"(?P<address>(?P<addr_head>(?:{'|'.join(_PREFECTURES)})(?:[{_KANJI}{_KANA}]{{1,8}}?[市区町村郡]){{1,2}}"
    rf"|(?<![{_KANJI}])(?!同)[{_KANJI}]{{1,4}}(?<!同)[市区](?:[{_KANJI}]{{1,4}}区)?"
    rf"|(?:{'|'.join(_DESIGNATED_CITIES)})市(?:[{_KANJI}]{{1,4}}区)?)"
    rf"(?P<addr_tail>[{_KANJI}{KATAKANA}がのケ]{{0,8}}?(?:{_BLOCK}){_BUILDING}?))"
)
_EMAIL = (
    r"(?P<email>(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*+@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.(?=[A-Za-z0-9]))++"  # a dot before no letter ends a sentence
    # TLD: alphabetic; a case change ends it ("user@mail.jpE-mail:" when sentences run together)
    r"(?:[a-z]{2,24}(?![a-z-])|[A-Z]{2,24}(?![A-Za-z-])|[A-Z][a-z]{1,23}(?![a-z-])))"
)
_POSTAL = r"(?P<postal>(?:〒|郵便番号\s?[:：]?)\s?(?:\d{3}-\d{4}|\d{7}(?!\d)))"
_IPV4 = r"(?P<ipv4>(?<![\d.])\d{1,3}(?:\.\d{1,3}){2}\.\d++(?!\.\d))"  # last octet may run into a number
# Global unicast IPv6 (2000::/3) only: everything routable today; "Encode::JP" or "AZ::Blog" never match.
_IPV6 = r"(?P<ipv6>(?<![0-9A-Za-z:.])[23][0-9A-Fa-f]{3}:(?:[0-9A-Fa-f]{0,4}:){1,6}[0-9A-Fa-f]{0,4}(?![0-9A-Za-z:]))"
# Where a number may start: not inside a word, a decimal or a code, but right after a TEL/FAX label ("TEL.03-").
_NUM_START = (
    r"(?:(?<![A-Za-z0-9_.,/=#&%@+\-])|(?<=[Tt][Ee][Ll]\.)|(?<=[Ff][Aa][Xx]\.)|(?<=[Tt][Ee][Ll])|(?<=[Ff][Aa][Xx]))"
)
# Digits in groups joined by one separator: "-", " ", "(", ")", ")-", "-(" ... Possessive, so no backtracking;
# the lookahead skips the many short numbers (years, counts) that cannot be PII before any work is done.
_NUMBER = (
    rf"(?P<num>(?=[\d\s()（）+-]{{7}}){_NUM_START}"
    r"(?:\+\s?)?[(（]?\d++(?:(?:[)）][-\s]?[(（]?|[-\s][(（]?|[(（])\d++)*+[)）]?"
    r"(?![_]|[.,]\d|-[A-Za-z0-9]))"
)
# A phone number written with dots, 090.1234.5678: three groups, the first starting with 0 (dates start with a year).
_DOTTED = rf"(?P<dotted>(?=0\d{{1,4}}\.){_NUM_START}0\d{{1,4}}\.\d{{1,4}}\.\d{{3,4}}(?![\d_]|\.\d))"
# The lookaheads dispatch on the first character, so most positions are rejected by one class test.
_SCAN = re.compile(
    rf"(?=[{_KANJI}])(?:{_ADDRESS})"
    rf"|(?=[0-9A-Za-z+(（〒郵])(?:{'|'.join((_EMAIL, _POSTAL, _IPV6, _IPV4, _DOTTED, _NUMBER))})"
)

_SENTENCE_END = re.compile(r"[。！？!?\n]")
_LAST_GROUP = re.compile(r"\d+$")
_CHOONPU_DASH = re.compile(rf"(?<=[\d)）])[{PROLONGED_SOUND_MARKS}](?=[\d(（])")
_OPEN, _CLOSE = "(（", ")）"
_PHONE_WORDS = re.compile(r"TEL|Tel|tel|電話|☎|℡|FAX|Fax|携帯|連絡先|問い?合わ?せ|ダイヤル|コール")
_NOT_POSTAL_WORDS = re.compile(
    r"(?<!郵便)番号|No|NO|no\.|ISBN|ISSN|品番|型番|型式|注文|受注|伝票|整理|管理|会員|口座|登録|証券|商品|コード|ID|問題|JIS"
)
# Before a product code that has a phone number's shape (商品コード 0974-220090), unless a phone word is closer.
_CODE_WORDS = re.compile(
    r"品番|型番|型式|商品コード|製品コード|商品番号|JAN|ISBN|ISSN|注文番号|受注番号|伝票番号|管理番号|整理番号|会員番号"
    r"|口座番号|登録番号|証券番号|シリアル|製造番号|受付番号|問題番号|SKU|会員ID|ユーザーID|ID[:：]"
)
# Near an address written with short numbers (8.8.8.8 as a DNS server); versions (9.0.0.6) have none of these.
_IP_WORDS = re.compile(
    r"IP|アドレス|DNS|dns|サーバ|[Ss]erver|ホスト|[Hh]ost|ping|接続|アクセス|(?<!ブ)ログ|ルータ|ゲートウェイ|プロキシ"
    r"|[Pp]roxy|whois|ネットワーク|書き込み|発信元|送信元|from"
)
_MAIL_LABEL = re.compile(r"(?i)(?:e-?)?mail\.")
_VERSION_WORDS = re.compile(r"(?i:ver|version|バージョン|v)\s?$")
_SECTION_AFTER = re.compile(r"\s?[節章項条版]")

_MY_NUMBER_WORDS = re.compile(r"マイナンバー|個人番号")
_MY_NUMBER_HEAD = re.compile(r"\d{4}([-\s]?)\d{4}\1\d{4}")
_CODE_SUFFIX = re.compile(r"[A-Za-z]{1,2}(?![A-Za-z])")
# What may directly follow a number that was run into a PII value: a year or a counter ("03-1234-56782016年").
_RUN_ON = re.compile(r"(?:19|20)\d\d(?!\d)|\d{1,3}[年月日歳時分秒人件回号円万億位]")
_MOBILE = ("070", "080", "090", "050", "020", "060")
_SHORT_LAST_GROUP = ("0120", "0570", "0990")


def my_number_valid(digits: str) -> bool:
    """Check digit of the 12-digit individual number (weights 2-7, 2-6 from the right, mod 11)."""
    if len(digits) != 12 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    total = sum(int(ch) * (n + 1 if n <= 6 else n - 5) for n, ch in enumerate(reversed(digits[:11]), start=1))
    check = 11 - total % 11
    return int(digits[11]) == (0 if check >= 10 else check)


def luhn_valid(digits: str) -> bool:
    """Card check digit; a random digit string passes one time in ten, so the issuer check follows."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_issuer(digits: str) -> str | None:
    """Issuer whose prefix and length fit, else None. 13-digit Visa is left out: JAN-13 codes start with 45/49."""
    n, p2, p4 = len(digits), int(digits[:2]), int(digits[:4])
    if digits[0] == "4" and n in (16, 19):
        return "visa"
    if (51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16:
        return "mastercard"
    if p2 in (34, 37) and n == 15:
        return "amex"
    if 3528 <= p4 <= 3589 and 16 <= n <= 19:
        return "jcb"
    if (300 <= p4 // 10 <= 305 or p2 in (36, 38, 39)) and 14 <= n <= 16:
        return "diners"
    if (p4 == 6011 or 644 <= p4 // 10 <= 649 or p2 == 65) and 16 <= n <= 19:
        return "discover"
    if p2 == 62 and 16 <= n <= 19:
        return "unionpay"
    return None


def _card_grouping(groups: list[str]) -> bool:
    lens = [len(g) for g in groups]
    if len(lens) == 1:
        return True
    if lens[:-1] == [4] * (len(lens) - 1) and 1 <= lens[-1] <= 4:
        return True
    return lens in ([4, 6, 5], [4, 6, 4])


def _phone_valid(national: str, groups: list[str], text: str, start: int, labelled: bool = False) -> bool:
    """`national` starts with 0; `groups` are its digit groups (the first one without a leading 0 for +81 forms);
    `labelled` when the value itself says it is a phone number (+81), as a phone word before it would."""
    n = len(national)
    if n not in (10, 11) or national[1] == "0":
        return False
    if n == 11 and not (national.startswith(_MOBILE) or national.startswith("0800")):
        return False
    if n == 10 and (national.startswith(_MOBILE[:4]) or national.startswith("0800")):
        return False
    if len(groups) == 1:
        if n == 11 or national.startswith("0120") or labelled:
            return True
        return bool(_PHONE_WORDS.search(text, max(0, start - 12), start))
    first, last = groups[0], groups[-1]
    if not 1 <= len(first) <= 5 or not 2 <= len(last) <= 8:
        return False
    if len(groups) > 2 and (len(last) not in (3, 4) or any(not 1 <= len(g) <= 4 for g in groups[1:-1])):
        return False
    return len(last) != 3 or national.startswith(_SHORT_LAST_GROUP)


def _after_code_word(text: str, start: int) -> bool:
    """A product/order/member code word in the 12 characters before, with no phone word after it."""
    words = list(_CODE_WORDS.finditer(text, max(0, start - 12), start))
    return bool(words) and not _PHONE_WORDS.search(text, words[-1].end(), start)


def _trim_brackets(text: str, start: int, end: int) -> tuple[int, int]:
    """Leave out brackets at the ends of a number span that belong to the text around it: "(電話 03-1234-5678)" and
    "(03-1234-5678)" mask only the number, "(03)1234-5678" and "03(1234)5678" keep their own."""
    depth = sum((c in _OPEN) - (c in _CLOSE) for c in text[start:end])
    while depth < 0 and text[end - 1] in _CLOSE:
        end, depth = end - 1, depth + 1
    while depth > 0 and text[start] in _OPEN:
        start, depth = start + 1, depth - 1
    if text[start] in _OPEN and text[end - 1] in _CLOSE and not any(c in _CLOSE for c in text[start + 1:end - 1]):
        start, end = start + 1, end - 1
    return start, end


def _classify_number(cand: str, text: str, start: int, end: int) -> str | None:
    """Type of a digit-group candidate (normalised text) at text[start:end], or None when it is no PII."""
    groups = re.findall(r"\d+", cand)
    digits = "".join(groups)
    n = len(digits)
    if cand.startswith("+"):
        if not digits.startswith("81"):
            return None
        rest = groups[1:] if groups[0] == "81" else [groups[0][2:]] + groups[1:]  # +81-3-..., +81312345678
        if rest and rest[0] == "0":  # +81 (0)3-1234-5678
            rest = rest[1:]
        if not rest or rest[0].startswith("0"):
            return None
        return "phone" if _phone_valid("0" + "".join(rest), rest, text, start, labelled=True) else None
    if n == 7 and [len(g) for g in groups] == [3, 4] and cand[3] == "-":
        if _CODE_SUFFIX.match(text, end) or text[end:end + 1] == "号" or text[start - 1:start] == "第":
            return None  # product codes (123-4567A, 123-4567XL) and serials (第123-4567号)
        ends = [m.end() for m in _SENTENCE_END.finditer(text, max(0, start - 10), start)]
        words = _NOT_POSTAL_WORDS.search(text, ends[-1] if ends else max(0, start - 10), start)
        return None if words else "postal_code"
    if n in (10, 11) and digits[0] == "0":
        return "phone" if _phone_valid(digits, groups, text, start) and not _after_code_word(text, start) else None
    if n == 12 and [len(g) for g in groups] in ([12], [4, 4, 4]):
        return "my_number" if my_number_valid(digits) and not _after_code_word(text, start) else None
    if 14 <= n <= 19 and _card_grouping(groups) and luhn_valid(digits) and card_issuer(digits):
        return "credit_card"
    return None


def _classify_run(cand: str, text: str, start: int) -> Iterator[tuple[str, int, int]]:
    """Whole run if it is PII, else the longest PII sub-runs between spaces ("〒100-0001 03-1234-5678")."""
    head = _MY_NUMBER_HEAD.match(cand)  # after マイナンバー, 12 valid digits even when a number follows unspaced
    if head and _MY_NUMBER_WORDS.search(text, max(0, start - 10), start):
        if my_number_valid(re.sub(r"\D", "", head.group())):
            yield "my_number", start, start + head.end()
            return
    kind = _classify_number(cand.strip("()（）"), text, start, start + len(cand))
    if kind:
        yield kind, start, start + len(cand)
        return
    tail = _LAST_GROUP.search(cand)
    if tail and tail.start() > 0 and len(tail.group()) > 3:  # "03-1234-56782016年": cut the run-on number
        for cut in (c for c in (tail.start() + 4, tail.start() + 3) if c < len(cand)):
            if _RUN_ON.fullmatch(text, start + cut, start + len(cand) + 1) or _RUN_ON.fullmatch(
                text, start + cut, start + len(cand)
            ):
                kind = _classify_number(cand[:cut].strip("()（）"), text, start, start + cut)
                if kind in ("phone", "postal_code"):
                    yield kind, start, start + cut
                    return
    segs = [(m.start(), m.end()) for m in re.finditer(r"\S+", cand)]
    i = 0
    while i < len(segs):
        for j in range(len(segs), i, -1):
            if i == 0 and j == len(segs):
                continue  # the whole run, tried above
            a, b = segs[i][0], segs[j - 1][1]
            kind = _classify_number(cand[a:b].strip("()（）"), text, start + a, start + b)
            if kind:
                yield kind, start + a, start + b
                i = j
                break
        else:
            i += 1


def _version_shaped(quad: str) -> bool:
    """Small parts with a 0 or two single digits, as versions are (9.0.0.6, 2.3.1.12); 1 in 600 random public
    addresses has that shape."""
    parts = quad.split(".")
    return max(map(len, parts)) <= 2 and ("0" in parts or sum(len(p) == 1 for p in parts) >= 2)


def _valid_ip(value: str, version_check: bool, text: str, start: int, end: int) -> bool:
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return False
    if not ip.is_global or ip.is_multicast:
        return False
    if version_check:  # "ver 1.2.3.4", "第1.2.3.4節", "アップデートで9.0.0.6へ"
        if _VERSION_WORDS.search(text[max(0, start - 10):start]) or text[start - 1:start] == "第":
            return False
        if _SECTION_AFTER.match(text, end):
            return False
        if _version_shaped(value) and not _IP_WORDS.search(text, max(0, start - 20), start):
            return False
    return True


def find_pii(text: str) -> list[tuple[str, int, int, int]]:
    """All PII spans as (type, start, end, head_end) in text order; head_end > start marks a part to keep when
    masking partially (the prefecture/city of an address), else equals start."""
    norm = text.translate(_NORMALISE) if _NEEDS_NORMALISING.search(text) else text
    if any(m in norm for m in PROLONGED_SOUND_MARKS):  # the long-vowel mark typed as a dash: 03ー1234ー5678
        norm = _CHOONPU_DASH.sub("-", norm)
    out: list[tuple[str, int, int, int]] = []
    pos = 0
    while True:
        m = _SCAN.search(norm, pos)
        if m is None:
            return out
        kind = m.lastgroup
        s, e = m.start(kind), m.end(kind)
        found = False
        if kind == "address":
            out.append(("address", s, e, m.end("addr_head")))
            found = True
        elif kind == "email":
            label = _MAIL_LABEL.match(norm, s, e)  # "E-mail.taro@", "Mail．taro@": the label is no part of it
            if label and (label.group()[0] in "Ee" or text[label.end() - 1] == "．"):
                s = label.end()
            local, _, domain = norm[s:e].rpartition("@")
            if local and not local.endswith(".") and ".." not in local and ".." not in domain:
                out.append(("email", s, e, s))
                found = True
        elif kind == "postal":
            out.append(("postal_code", s, e, s))
            found = True
        elif kind == "ipv6":
            if _valid_ip(m.group(kind), False, norm, s, e):
                out.append((kind, s, e, s))
                found = True
        elif kind == "ipv4":
            last = len(m.group(kind)) - m.group(kind).rfind(".") - 1
            for cut in (c for c in (last - 3, last - 2, last - 1) if c >= 0):
                if (not cut or _RUN_ON.fullmatch(norm, e - cut, e + 1) or _RUN_ON.fullmatch(norm, e - cut, e)) \
                        and _valid_ip(norm[s:e - cut], True, norm, s, e - cut):
                    out.append((kind, s, e - cut, s))
                    e, found = e - cut, True
                    break
        elif kind == "dotted":
            groups = m.group(kind).split(".")
            if _phone_valid("".join(groups), groups, norm, s) and not _after_code_word(norm, s):
                out.append(("phone", s, e, s))
                found = True
        else:
            for sub_kind, a, b in _classify_run(m.group(kind), norm, s):
                a, b = _trim_brackets(norm, a, b)
                out.append((sub_kind, a, b, a))
                found = True
        pos = e if found else s + 1


def _partial(kind: str, value: str, head: int, mask_char: str) -> str:
    """Keep what says little about the person (domain, area code, last 4 card digits, prefecture), mask the rest."""
    if kind == "email":
        local, _, domain = value.rpartition("@")
        return local[0] + mask_char * 3 + "@" + domain
    if kind == "address":
        tail = re.sub(rf"[{_KANJI_DIGITS}]+(?=丁目|番|号)", lambda m: mask_char * len(m.group()), value[head:])
        return value[:head] + re.sub(r"[0-9０-９]", mask_char, tail)
    digit = re.compile(r"[0-9０-９A-Fa-f]" if kind == "ipv6" else r"[0-9０-９]")
    positions = [m.start() for m in digit.finditer(value)]
    if kind == "credit_card":
        hide = set(positions[:-4])
    elif kind == "phone":  # keep the area code or mobile prefix (after +81 when present)
        groups = [m.end() for m in re.finditer(r"[0-9０-９]+", value)]
        keep = groups[1] if value.startswith(("+", "＋")) and len(groups) > 1 else groups[0]
        if len(groups) == 1:
            keep = positions[2] + 1
        hide = {p for p in positions if p >= keep}
    elif kind == "postal_code":
        hide = set(positions[3:])
    elif kind in ("ipv4", "ipv6"):
        sep = "." if kind == "ipv4" else ":"
        cut = [i for i, c in enumerate(value) if c == sep][1]
        hide = {p for p in positions if p > cut}
    else:
        hide = set(positions)
    return "".join(mask_char if i in hide else c for i, c in enumerate(value))


class PIIFilter(Filter):
    """Counts PII per type (signals) and masks it in kept text (`mask`); drops pages with a lot of it, such as
    leaked customer lists, which masking would leave as noise."""

    name = "pii"
    params = {
        "max_pii": Param(10.0, "drop a document with more PII items than this (all enabled types together)", lo=0),
        "types": Param(list(PII_TYPES), "PII types to detect and mask", kind=list, item=str, choices=PII_TYPES),
        "mask_style": Param("tag", "'tag' replaces each item with a type tag; 'partial' keeps separators, area "
                            "code, e-mail domain, last 4 card digits, prefecture/city and masks the rest",
                            choices=("tag", "partial")),
        "tag_format": Param("<{TYPE}>", "tag for mask_style='tag'; {TYPE} becomes EMAIL, PHONE, POSTAL_CODE, "
                            "MY_NUMBER, CREDIT_CARD, IP_ADDRESS or ADDRESS"),
        "mask_char": Param("*", "character that replaces masked characters for mask_style='partial'",
                           check=fullmatch(".", "one character")),
    }
    rules = (Rule("too_much_pii", "pii_total", "max", "max_pii"),)
    signal_names = tuple(f"pii_{t}" for t in PII_TYPES) + ("pii_total",)

    def __init__(self, options: dict[str, Any] | None = None):
        super().__init__(options)
        self._types = frozenset(self.options["types"])
        self._memo: tuple[str, list[tuple[str, int, int, int]]] | None = None

    def spans(self, text: str) -> list[tuple[str, int, int, int]]:
        """Spans of enabled types; the last result is memoised so `signals` then `mask` on one text scan once."""
        if self._memo is not None and self._memo[0] == text:  # identity first, then length, then content
            return self._memo[1]
        found = [s for s in find_pii(text) if s[0] in self._types]
        self._memo = (text, found)
        return found

    def signals(self, doc: Doc) -> dict[str, float]:
        counts = dict.fromkeys(PII_TYPES, 0)
        for kind, *_ in self.spans(doc.text):
            counts[kind] += 1
        out = {f"pii_{t}": float(counts[t]) if t in self._types else math.nan for t in PII_TYPES}
        out["pii_total"] = float(sum(counts.values()))
        return out

    def mask(self, text: str) -> tuple[str, dict[str, int]]:
        """Text with every detected item masked, and the number masked per type."""
        spans = self.spans(text)
        counts = dict.fromkeys(PII_TYPES, 0)
        if not spans:
            return text, counts
        replace: Callable[[str, str, int], str]
        if self.options["mask_style"] == "tag":
            fmt = self.options["tag_format"]
            replace = lambda kind, value, head: fmt.replace("{TYPE}", _TAG_NAMES.get(kind, kind.upper()))  # noqa: E731
        else:
            char = self.options["mask_char"]
            replace = lambda kind, value, head: _partial(kind, value, head, char)  # noqa: E731
        parts, last = [], 0
        for kind, s, e, head in spans:
            parts.append(text[last:s])
            parts.append(replace(kind, text[s:e], head - s))
            counts[kind] += 1
            last = e
        parts.append(text[last:])
        return "".join(parts), counts


FILTERS = (PIIFilter,)
