"""A generated PII test set: values in every written format, glued to Japanese text, followed by punctuation.

Each item is a Japanese lead, an optional bracket, a label, the value, the closing bracket and a tail ("まで。",
"．", "、" ...). Which (label, bracket, tail) combinations an item may use is split in two halves: `half="dev"` is
what the patterns were built on, `half="report"` is what the numbers are reported on (every format, label, bracket
and tail occurs in both halves, in different combinations, and with a different seed the values differ too).

`look_alikes(seed)` writes the things that must never be masked: version numbers, dates, times, ISBNs, product
codes, ordinals and coordinates, in the same contexts.
"""
from __future__ import annotations

import random
from typing import Callable

Value = Callable[[random.Random], str]

FULLWIDTH = str.maketrans({**{str(i): chr(0xFF10 + i) for i in range(10)}, "-": "－", "+": "＋", "@": "＠",
                           ".": "．", "(": "（", ")": "）"}
                          | {chr(0x61 + i): chr(0xFF41 + i) for i in range(26)})
DASHES = "-－‐‑‒–—―−ー"

LEADS = ("", "詳しくは", "本件に関するお問い合わせ", "株式会社サンプル広報部", "受付は平日10時から18時まで",
         "担当：山田", "ご予約は", "東京本社", "なお、", "【お問い合わせ先】")
TAILS = ("。", "．", ".", "、", "まで。", "までお願いします。", "です。", "！", "\n次の行", "", " ", "（平日のみ）",
         "）", "へどうぞ。", "にて受付。", ",", "／")
BRACKETS = (("", ""), ("（", "）"), ("(", ")"), ("「", "」"), ("【", "】"), ("<", ">"), ("［", "］"), ("『", "』"))

PHONE_LABELS = ("TEL.", "FAX.", "Tel:", "TEL．", "電話：", "☎", "℡", "TEL：", "tel.", "Fax:", "電話 ", "電話番号は",
                "携帯：", "ＴＥＬ．", "TEL/FAX：", "Tel. ", "FAX:", "フリーダイヤル", "ナビダイヤル ", "TEL ", "電話", "", "代表", "受付 ")
UNLABELLED = ("", "代表", "受付 ")  # phone labels without a phone word
EMAIL_LABELS = ("", "E-mail:", "E-mail．", "Mail：", "メール：", "✉", "メールアドレスは", "連絡先 ", "mailto:",
                "Email: ", "e-mail：", "メール ")
PLAIN_LABELS = ("", "連絡先：", "所在地：", "送付先は", "住所 ", "接続元IPアドレス：", "IP：", "サーバー ")


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(n))


def _landline(rng: random.Random) -> tuple[str, str, str]:
    """Area code (2-5 digits; 020 ... 090 are mobile and IP prefixes) + exchange: 6 digits together, then 4
    subscriber digits."""
    area = "0" + str(rng.randint(1, 9)) + "".join(str(rng.randint(1, 9)) for _ in range(rng.choice((0, 1, 1, 2, 3))))
    return area, str(rng.randint(1, 9)) + _digits(rng, 5 - len(area)), _digits(rng, 4)


def _mobile(rng: random.Random) -> tuple[str, str, str]:
    return rng.choice(("090", "080", "070", "050")), str(rng.randint(1, 9)) + _digits(rng, 3), _digits(rng, 4)


def _free(rng: random.Random) -> tuple[str, str, str]:
    head = rng.choice(("0120", "0120", "0800", "0570"))
    return (head, _digits(rng, 3), _digits(rng, 4)) if head == "0800" else (head, _digits(rng, 3), _digits(rng, 3))


def _joined(parts: Callable[[random.Random], tuple[str, str, str]], a: str, b: str, c: str = "") -> Value:
    """Three groups written as a + g1 + b + g2 + c + g3 ("" for no separator)."""
    return lambda rng: "{}{}{}{}{}{}".format(a, (g := parts(rng))[0], b, g[1], c or b, g[2])


def _intl(sep: str, trunk: str = "") -> Value:
    def value(rng: random.Random) -> str:
        g = rng.choice((_landline, _mobile))(rng)
        return "+81" + sep + trunk + g[0][1:] + sep + g[1] + sep + g[2]
    return value


def _plain(parts: Callable[[random.Random], tuple[str, str, str]]) -> Value:
    return lambda rng: "".join(parts(rng))


PHONE_FORMATS: dict[str, Value] = {
    "landline-hyphen": _joined(_landline, "", "-"),
    "landline-paren-area": _joined(_landline, "(", ")", "-"),
    "landline-paren-exchange": _joined(_landline, "", "(", ")"),
    "landline-fw-paren-area": _joined(_landline, "（", "）", "-"),
    "landline-space": _joined(_landline, "", " "),
    "landline-dots": _joined(_landline, "", "."),
    "landline-plain": _plain(_landline),
    "mobile-hyphen": _joined(_mobile, "", "-"),
    "mobile-dots": _joined(_mobile, "", "."),
    "mobile-space": _joined(_mobile, "", " "),
    "mobile-plain": _plain(_mobile),
    "free-hyphen": _joined(_free, "", "-"),
    "free-paren": _joined(_free, "(", ")", "-"),
    "free-plain": lambda rng: "0120" + _digits(rng, 6),
    "intl-hyphen": _intl("-"),
    "intl-space": _intl(" "),
    "intl-trunk": _intl("-", "(0)"),
    "intl-plain": _intl(""),
}

_NAMES = ("taro", "hanako", "yamada", "suzuki", "info", "support", "press", "sales", "k.tanaka", "saito_h",
          "m-ito", "contact", "webmaster", "recruit", "y.kobayashi2024")
_DOMAINS = ("example.com", "example.co.jp", "mail.example.ne.jp", "sample.or.jp", "univ.ac.jp", "shop.jp",
            "news.example.org", "example.net", "corp.example.info", "lab.cs.univ.ac.jp")


def _email(local: Callable[[random.Random], str], domain: Callable[[random.Random], str]) -> Value:
    return lambda rng: local(rng) + "@" + domain(rng)


def _name(rng: random.Random) -> str:
    return rng.choice(_NAMES) + rng.choice(("", "", str(rng.randint(1, 99))))


EMAIL_FORMATS: dict[str, Value] = {
    "plain": _email(_name, lambda rng: rng.choice(_DOMAINS)),
    "subdomain": _email(_name, lambda rng: rng.choice(("mail", "m", "pr", "jp")) + "." + rng.choice(_DOMAINS)),
    "plus-tag": _email(lambda rng: _name(rng) + "+" + rng.choice(("news", "jwc", "2024", "a-b")),
                       lambda rng: rng.choice(_DOMAINS)),
    "upper": lambda rng: (_name(rng) + "@" + rng.choice(_DOMAINS)).upper(),
    "fullwidth": lambda rng: (_name(rng) + "@" + rng.choice(_DOMAINS)).translate(FULLWIDTH),
}

_PLACES = (("東京都", "港区", "芝公園"), ("大阪府", "大阪市北区", "梅田"), ("神奈川県", "横浜市中区", "本町"),
           ("福岡県", "福岡市博多区", "博多駅前"), ("北海道", "札幌市中央区", "大通西"), ("愛知県", "名古屋市中村区", "名駅"))


_KANSUJI = "〇一二三四五六七八九"


def _kansuji(n: int) -> str:
    """1-99 in kanji numerals as addresses write them (十二, 二十, 二十五)."""
    tens, ones = divmod(n, 10)
    return ("" if tens == 0 else "十" if tens == 1 else _KANSUJI[tens] + "十") + ("" if ones == 0 else _KANSUJI[ones])


def _address(kanji: bool) -> Value:
    def value(rng: random.Random) -> str:
        pref, city, town = rng.choice(_PLACES)
        numbers = rng.randint(1, 9), rng.randint(1, 30), rng.randint(1, 25)
        if kanji:
            block = "{}丁目{}番{}号".format(*map(_kansuji, numbers))
        else:
            block = rng.choice(("{}丁目{}番{}号", "{}-{}-{}", "{}丁目{}-{}")).format(*numbers)
        return rng.choice((pref, "")) + city + town + block + rng.choice(("", "", " サンプルビル5F", "グランドハイツ302号室"))
    return value


def _public_ipv4(rng: random.Random) -> str:
    while True:
        a = rng.randint(1, 223)
        if a not in (10, 100, 127, 169, 172, 192, 198, 203):
            return f"{a}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randint(1, 254)}"


OTHER_FORMATS: dict[str, dict[str, Value]] = {
    "postal_code": {"mark": lambda rng: f"〒{rng.randint(100, 999)}-{_digits(rng, 4)}",
                    "mark-plain": lambda rng: f"〒{rng.randint(100, 999)}{_digits(rng, 4)}",
                    "fullwidth": lambda rng: f"〒{rng.randint(100, 999)}-{_digits(rng, 4)}".translate(FULLWIDTH)},
    "ipv4": {"dotted": _public_ipv4},
    "address": {"block": _address(False), "kanji-block": _address(True)},
}
FORMATS: dict[str, dict[str, Value]] = {"phone": PHONE_FORMATS, "email": EMAIL_FORMATS, **OTHER_FORMATS}
LABELS = {"phone": PHONE_LABELS, "email": EMAIL_LABELS}


def _styled(kind: str, value: str, rng: random.Random) -> str:
    """Phones also come with full-width digits and any dash variant."""
    if kind != "phone":
        return value
    if rng.random() < 0.3:
        value = value.translate(FULLWIDTH)
    dash = rng.choice(DASHES)
    return value.replace("-", dash).replace("－", dash)


def _in_half(*indices: int, half: str) -> bool:
    return (sum(indices) % 2 == 0) == (half == "dev")


def generate(seed: int, half: str, per_type: int = 240, min_per_format: int = 40) -> list[tuple[str, str, str, str]]:
    """(text, type, format, value) items: at least per_type items of every type, spread evenly over its formats."""
    rng = random.Random(seed)
    out = []
    for kind, formats in FORMATS.items():
        labels = LABELS.get(kind, PLAIN_LABELS)
        per_format = max(min_per_format, -(-per_type // len(formats)))
        for fmt, make in formats.items():
            made = 0
            while made < per_format:
                li, bi, ti = rng.randrange(len(labels)), rng.randrange(len(BRACKETS)), rng.randrange(len(TAILS))
                if not _in_half(li, bi, ti, half=half):
                    continue
                if fmt == "landline-plain" and labels[li] in UNLABELLED:
                    continue  # an unseparated 10-digit number needs a phone word; documented, not a miss
                value = _styled(kind, make(rng), rng)
                opening, closing = BRACKETS[bi]
                text = rng.choice(LEADS) + opening + labels[li] + value + closing + TAILS[ti]
                out.append((text, kind, fmt, value))
                made += 1
    return out


def _version(rng: random.Random) -> str:
    return rng.choice((
        f"{rng.randint(1, 20)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 99)}",
        f"{rng.randint(1, 12)}.0.0.{rng.randint(0, 9)}",
        f"10.0.{rng.randint(10000, 22631)}.{rng.randint(1, 4000)}",
        f"{rng.randint(1, 130)}.0.{rng.randint(1000, 6500)}.{rng.randint(1, 200)}",
        f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}",
    ))


def _date(rng: random.Random) -> str:
    y, m, d = rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice((f"{y}.{m:02d}.{d:02d}", f"{y}-{m:02d}-{d:02d}", f"{y}/{m}/{d}", f"{d:02d}.{m:02d}.{y}",
                       f"{y}年{m}月{d}日", f"R{rng.randint(1, 6)}.{m}.{d}", f"{y}{m:02d}{d:02d}",
                       f"{y}.{m}.{d}～{y}.{m}.{d + 1}", f"{m:02d}-{d:02d}-{y}"))


def _time(rng: random.Random) -> str:
    h, m, s = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    return rng.choice((f"{h}:{m:02d}", f"{h:02d}:{m:02d}:{s:02d}", f"{h:02d}:{m:02d}:{s:02d}.{rng.randint(0, 999)}",
                       f"{h}時{m}分", f"{h:02d}:{m:02d}～{h:02d}:{m:02d}", f"{h:02d}.{m:02d}.{s:02d}"))


def _isbn(rng: random.Random) -> str:
    body = rng.choice((f"978-4-{_digits(rng, 2)}-{_digits(rng, 6)}-{_digits(rng, 1)}",
                       f"4-{_digits(rng, 3)}-{_digits(rng, 5)}-{_digits(rng, 1)}",
                       f"0-{_digits(rng, 3)}-{_digits(rng, 5)}-{_digits(rng, 1)}",
                       f"978{_digits(rng, 10)}", f"0{_digits(rng, 8)}X"))
    return rng.choice(("ISBN", "ISBN ", "ISBN：", "ISBN-13: ", "ISBN-10 ")) + body


def _code(rng: random.Random) -> str:
    return rng.choice((
        f"品番：{_digits(rng, 3)}-{_digits(rng, 4)}A",
        f"型番 {rng.choice(('KJ', 'SR', 'NW'))}-{_digits(rng, 2)}X{_digits(rng, 4)}",
        f"JAN {rng.choice(('45', '49'))}{_digits(rng, 11)}", f"注文番号：{_digits(rng, 3)}-{_digits(rng, 7)}",
        f"商品コード 0{_digits(rng, 3)}-{_digits(rng, 6)}", f"SKU-0{_digits(rng, 2)}-{_digits(rng, 4)}-{_digits(rng, 4)}",
        f"第{_digits(rng, 3)}-{_digits(rng, 4)}号", f"伝票番号 {_digits(rng, 4)}-{_digits(rng, 4)}-{_digits(rng, 4)}",
    ))


def _ordinal(rng: random.Random) -> str:
    pref, city, town = rng.choice(_PLACES)
    n = rng.randint(1, 30)
    return rng.choice((f"{pref}{city}{n}番目の", f"{city}{town}{n}番目に多い", f"{city}{n}番線",
                       f"{pref}{city}{town}の{n}番人気", f"{city}{n}番手", f"第{n}位", f"{pref}で{n}番目"))


def _coordinate(rng: random.Random) -> str:
    lat, lon = rng.uniform(24, 45), rng.uniform(123, 146)
    return rng.choice((f"{lat:.4f}, {lon:.4f}", f"北緯{lat:.6f}度 東経{lon:.6f}度", f"({lat:.6f},{lon:.6f})",
                       f"{int(lat)}°{rng.randint(0, 59)}′{rng.randint(0, 59)}″N {int(lon)}°{rng.randint(0, 59)}′E",
                       f"N{lat:.5f} E{lon:.5f}", f"{lat:.5f},{lon:.5f}"))


LOOK_ALIKE_KINDS: dict[str, Value] = {"version": _version, "date": _date, "time": _time, "isbn": _isbn,
                                      "code": _code, "ordinal": _ordinal, "coordinate": _coordinate}
_LOOK_ALIKE_LEADS = ("", "ソフトは", "バージョン", "最新版", "発売日は", "開始時刻は", "書籍", "対象商品：",
                     "ファームウェアを", "位置は", "現在", "アップデートで")


def look_alikes(seed: int, per_kind: int = 200) -> list[tuple[str, str]]:
    """(kind, text) items that hold no PII."""
    rng = random.Random(seed)
    return [(kind, rng.choice(_LOOK_ALIKE_LEADS) + make(rng) + rng.choice(TAILS))
            for kind, make in LOOK_ALIKE_KINDS.items() for _ in range(per_kind)]
