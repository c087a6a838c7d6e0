"""Write the project's bundled sample crawl: a small Common-Crawl-shaped WARC plus a truth JSONL.

The demo and the tests need a crawl that exercises every stage (charset decoding, extraction, language ID, quality,
toxicity and PII filters, near-dedup) in seconds and without outside data, so the pages are built here from the text
in `texts_ja.py`. Everything derives from (records, seed, crawl_id): record ids are uuid5, WARC-Dates count up from a
fixed instant, and warcio's gzip members carry mtime 0, so the same arguments give the same bytes.

    python -m pipeline.sample.generate sample.warc.gz --records 300 --seed 0
"""
from __future__ import annotations

import argparse
import hashlib
import html
import io
import json
import random
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import quote, urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from jwc.pipeline.errors import UserError
from jwc.pipeline.sample import texts_ja as T

GENERATOR = "jwc-sample-generator/1.0"
CRAWL_START = datetime(2026, 11, 23, tzinfo=timezone.utc)

# Article texts of unrelated pages may share at most this share of (length-weighted) paragraphs. Shared 5-grams
# that are not whole paragraphs add a few points on top, so the measured 5-gram Jaccard stays well under 0.3.
MAX_SHARED = 0.2
MIN_ARTICLE_CHARS, MAX_ARTICLE_CHARS = 400, 3000
NEAR_DUP_MIN_JACCARD = 0.5

JA_ENCODINGS: tuple[tuple[str, float], ...] = (("utf-8", 0.70), ("cp932", 0.15), ("euc_jp", 0.10), ("iso2022_jp", 0.05))
CHARSET_LABELS: dict[str, tuple[str, ...]] = {
    "utf-8": ("UTF-8", "utf-8"),
    "cp932": ("Shift_JIS", "shift_jis", "Windows-31J"),
    "euc_jp": ("EUC-JP", "euc-jp"),
    "iso2022_jp": ("ISO-2022-JP",),
    "gbk": ("GBK",),
    "big5": ("Big5",),
    "euc_kr": ("EUC-KR",),
    "cp1252": ("windows-1252",),
}
# Wrong or missing labels; every one has its body in a legacy Japanese charset.
CHARSET_CASES = ("http_wrong", "http_wrong_meta_missing", "meta_wrong", "none")
FOREIGN_LEGACY = {"zh-Hans": "gbk", "zh-Hant": "big5", "ko": "euc_kr", "fr": "cp1252", "en": "utf-8"}
FOREIGN_HTML_LANG = {"en": "en", "zh-Hans": "zh-CN", "zh-Hant": "zh-TW", "ko": "ko", "fr": "fr"}
LOWQUALITY = ("link_list", "seo_spam", "very_short", "repeated_line", "bbs", "katakana_keywords")
PII_KINDS = (
    ("email", "email"), ("phone", "landline"), ("phone", "mobile"), ("phone", "tollfree"), ("phone", "intl"),
    ("postal", "postal"), ("my_number", "my_number"), ("credit_card", "visa"), ("phone", "fullwidth"),
    ("ipv4", "ipv4"), ("phone", "no_hyphen"), ("credit_card", "jcb"), ("phone", "paren"),
)
CATEGORIES = ("地域", "暮らし", "社会", "文化", "スポーツ", "グルメ", "科学・IT", "話題")

HOSTS: dict[str, tuple[str, ...]] = {
    "news": ("www.sakuragaoka-shimbun.jp", "news.minato-times.jp", "www.kitahama-nippo.co.jp"),
    "blog": ("hidamari.nikki-blog.jp", "yururi.kurashi-note.net", "mamechishiki.blog-go.jp"),
    "portal": ("news.koko-portal.jp", "www.machi-navi.net"),
    "gov": ("www.city.sakuragaoka.lg.jp", "www.town.wakaba.lg.jp"),
    "legacy": ("www5.hanamizuki-net.ne.jp", "homepage2.furusato.or.jp"),
    "corporate": ("www.midorikawa-foods.co.jp", "www.aozora-denki.co.jp"),
    "bbs": ("kousoku.machi-bbs.net", "hayabusa5.nanashi-ch.net"),
    "shop": ("www.kakuyasu-ichiba.com", "shop.beauty-select.jp"),
    "links": ("www.sougo-link.net", "link.omoshiro-site.com"),
    "en": ("www.riverside-gazette.com", "news.greenfield-times.org"),
    "zh-Hans": ("news.chengshi-ribao.cn",),
    "zh-Hant": ("www.taichung-news.tw",),
    "ko": ("www.sinmun-daily.kr",),
    "fr": ("www.le-courrier-local.fr",),
}
SITE_NAMES: dict[str, str] = {
    "www.sakuragaoka-shimbun.jp": "桜ヶ丘新聞", "news.minato-times.jp": "みなとタイムズ", "www.kitahama-nippo.co.jp": "北浜日報",
    "hidamari.nikki-blog.jp": "ひだまり日記", "yururi.kurashi-note.net": "ゆるり暮らしノート",
    "mamechishiki.blog-go.jp": "まめちしき帳", "news.koko-portal.jp": "ここポータル", "www.machi-navi.net": "まちナビ",
    "www.city.sakuragaoka.lg.jp": "桜ヶ丘市", "www.town.wakaba.lg.jp": "若葉町",
    "www5.hanamizuki-net.ne.jp": "はなみずきの部屋", "homepage2.furusato.or.jp": "ふるさと便り",
    "www.midorikawa-foods.co.jp": "緑川食品株式会社", "www.aozora-denki.co.jp": "あおぞら電機株式会社",
    "kousoku.machi-bbs.net": "まち速掲示板", "hayabusa5.nanashi-ch.net": "ななしちゃんねる",
    "www.kakuyasu-ichiba.com": "格安市場", "shop.beauty-select.jp": "ビューティーセレクト",
    "www.sougo-link.net": "相互リンク集ネット", "link.omoshiro-site.com": "おもしろサイト集",
    "www.riverside-gazette.com": "Riverside Gazette", "news.greenfield-times.org": "Greenfield Times",
    "news.chengshi-ribao.cn": "城市日报", "www.taichung-news.tw": "台中新聞網", "www.sinmun-daily.kr": "데일리 신문",
    "www.le-courrier-local.fr": "Le Courrier Local",
}
ARTICLE_TEMPLATES = ("news", "blog", "portal", "gov", "legacy", "corporate")


def truth_path_for(out_path: str | Path) -> Path:
    """`x.warc.gz` -> `x.truth.jsonl`, so the truth always sits beside its WARC."""
    name = str(out_path)
    stem = name[: -len(".warc.gz")] if name.endswith(".warc.gz") else name
    return Path(stem + ".truth.jsonl")


# --------------------------------------------------------------------------------------------------------------------
# PII values


def my_number_check_digit(first11: str) -> int:
    """Check digit of a 12-digit 個人番号 (My Number), per the government ordinance on its computation."""
    total = 0
    for n in range(1, 12):
        p = int(first11[11 - n])
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    r = total % 11
    return 0 if r <= 1 else 11 - r


def luhn_check_digit(partial: str) -> int:
    """Digit that makes `partial + digit` pass the Luhn test."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def luhn_valid(number: str) -> bool:
    """Luhn test on the digits of `number` (separators ignored)."""
    digits = re.sub(r"\D", "", number)
    return luhn_check_digit(digits[:-1]) == int(digits[-1])


_FULLWIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")
_PUBLIC_FIRST_OCTETS = (
    49, 60, 101, 106, 110, 111, 114, 118, 122, 126, 133, 150, 153, 157, 163, 180, 202, 210, 219, 221,
)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(n))


def _pii_value(rng: random.Random, kind: str, sub: str) -> str:
    """A value of one PII kind, written the way Japanese pages write it."""
    if kind == "email":
        return f"{rng.choice(T.EMAIL_LOCALS)}@{rng.choice(T.EMAIL_DOMAINS)}"
    if kind == "postal":
        return f"〒{_digits(rng, 3)}-{_digits(rng, 4)}"
    if kind == "ipv4":
        return f"{rng.choice(_PUBLIC_FIRST_OCTETS)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randint(1, 254)}"
    if kind == "my_number":
        first = str(rng.randint(1, 9)) + _digits(rng, 10)
        full = first + str(my_number_check_digit(first))
        return full if rng.random() < 0.5 else f"{full[:4]} {full[4:8]} {full[8:]}"
    if kind == "credit_card":
        prefix = "4" if sub == "visa" else f"35{rng.randint(28, 89)}"
        partial = prefix + _digits(rng, 15 - len(prefix))
        full = partial + str(luhn_check_digit(partial))
        sep = rng.choice((" ", "-"))
        return sep.join(full[i:i + 4] for i in range(0, 16, 4))
    mobile = f"{rng.choice(('090', '080', '070'))}-{_digits(rng, 4)}-{_digits(rng, 4)}"
    area, local = rng.choice((("03", 4), ("06", 4), ("045", 3), ("052", 3), ("011", 3), ("092", 3)))
    landline = f"{area}-{_digits(rng, local)}-{_digits(rng, 4)}"
    if sub == "landline":
        return landline
    if sub == "mobile":
        return mobile
    if sub == "tollfree":
        return f"0120-{_digits(rng, 3)}-{_digits(rng, 3)}"
    if sub == "intl":
        return f"+81-{landline[1:]}" if rng.random() < 0.5 else f"+81 {mobile[1:]}"
    if sub == "fullwidth":
        return rng.choice((landline, mobile)).translate(_FULLWIDTH)
    if sub == "no_hyphen":
        return mobile.replace("-", "")
    if sub == "paren":
        a, b, c = landline.split("-")
        return f"{a}({b}){c}"
    raise ValueError(f"unknown PII kind {kind}/{sub}")


# --------------------------------------------------------------------------------------------------------------------
# Article texts


def char_ngrams(text: str, n: int = 5) -> set[str]:
    """Character n-gram set (newlines included), the unit the duplicate labels are measured in."""
    return {text[i:i + n] for i in range(len(text) - n + 1)}


def jaccard(a: str, b: str, n: int = 5) -> float:
    """Exact Jaccard similarity of the character n-gram sets of two texts."""
    x, y = char_ngrams(a, n), char_ngrams(b, n)
    return len(x & y) / len(x | y) if x or y else 1.0


@dataclass
class _Text:
    """Main text of one Japanese page before it is put into HTML."""

    title: str
    paragraphs: list[str]
    topic: str
    town: str


class _ArticlePool:
    """Combines the written paragraphs into article texts that are not near-duplicates of each other.

    Each article opens with one to three paragraphs of a lead topic (whose headline it takes) and is filled with
    paragraphs of other topics up to a drawn length. A candidate is rejected when the paragraphs it shares with any
    earlier article make up more than MAX_SHARED of the two texts together.
    """

    def __init__(self) -> None:
        self.paragraphs: list[tuple[int, str]] = [(ti, p) for ti, t in enumerate(T.TOPICS) for p in t.paragraphs]
        self.lengths = [len(p.replace("{town}", T.TOWNS[0])) for _, p in self.paragraphs]
        self.by_topic: dict[int, list[int]] = {}
        for pid, (ti, _) in enumerate(self.paragraphs):
            self.by_topic.setdefault(ti, []).append(pid)
        self.accepted: list[tuple[frozenset[int], int]] = []

    def _target_length(self, rng: random.Random) -> int:
        r = rng.random()
        if r < 0.65:
            return rng.randint(MIN_ARTICLE_CHARS, 900)
        if r < 0.9:
            return rng.randint(900, 1600)
        return rng.randint(1600, MAX_ARTICLE_CHARS - 150)

    def _shared_ok(self, chosen: frozenset[int], total: int) -> bool:
        for other, other_total in self.accepted:
            common = chosen & other
            if common:
                shared = sum(self.lengths[pid] for pid in common)
                if shared / (total + other_total - shared) > MAX_SHARED:
                    return False
        return True

    def draw(self, rng: random.Random) -> _Text:
        """Next article text; raises RuntimeError when the paragraph pool cannot give another distinct one."""
        for _ in range(500):
            lead = rng.randrange(len(T.TOPICS))
            lead_pids = sorted(rng.sample(self.by_topic[lead], rng.randint(1, 3)))
            others = [pid for pid in range(len(self.paragraphs)) if self.paragraphs[pid][0] != lead]
            rng.shuffle(others)
            target = self._target_length(rng)
            chosen = list(lead_pids)
            total = sum(self.lengths[p] for p in chosen)
            for pid in others:
                if total >= target:
                    break
                if total + self.lengths[pid] <= MAX_ARTICLE_CHARS - 100:
                    chosen.append(pid)
                    total += self.lengths[pid]
            key = frozenset(chosen)
            if total < MIN_ARTICLE_CHARS or not self._shared_ok(key, total):
                continue
            self.accepted.append((key, total))
            town = rng.choice(T.TOWNS)
            topic = T.TOPICS[lead]
            return _Text(
                title=rng.choice(topic.titles).replace("{town}", town),
                paragraphs=[self.paragraphs[pid][1].replace("{town}", town) for pid in chosen],
                topic=topic.key,
                town=town,
            )
        raise RuntimeError(
            f"the sample paragraph pool is exhausted after {len(self.accepted)} distinct articles; "
            "use fewer records"
        )


def _sentences(paragraph: str) -> list[str]:
    return [s for s in re.split(r"(?<=。)", paragraph) if s]


def _near_copy(rng: random.Random, paragraphs: list[str]) -> tuple[list[str], list[str]]:
    """A copy with one or two small edits whose 5-gram Jaccard to the original stays >= NEAR_DUP_MIN_JACCARD."""
    original = "\n".join(paragraphs)
    ops = ("sentence_replaced", "sentence_deleted", "footer_added", "header_added", "truncated")
    for _ in range(20):
        paras = list(paragraphs)
        edits = rng.sample(ops, rng.randint(1, 2))
        for edit in edits:
            if edit == "sentence_replaced":
                i = rng.randrange(len(paras))
                sents = _sentences(paras[i])
                sents[rng.randrange(len(sents))] = rng.choice(T.EDIT_SENTENCES)
                paras[i] = "".join(sents)
            elif edit == "sentence_deleted":
                i = rng.randrange(len(paras))
                sents = _sentences(paras[i])
                if len(sents) > 1:
                    del sents[rng.randrange(len(sents))]
                    paras[i] = "".join(sents)
                else:
                    del paras[i]
            elif edit == "footer_added":
                paras.append(rng.choice(T.EDIT_FOOTERS))
            elif edit == "header_added":
                paras.insert(0, rng.choice(T.EDIT_HEADERS))
            elif len(paras) >= 5:
                paras.pop()
            else:
                paras.append(rng.choice(T.EDIT_FOOTERS))
                edits[edits.index(edit)] = "footer_added"
        if "\n".join(paras) != original and jaccard(original, "\n".join(paras)) >= NEAR_DUP_MIN_JACCARD:
            return paras, edits
    return paragraphs + [T.EDIT_FOOTERS[0]], ["footer_added"]


# --------------------------------------------------------------------------------------------------------------------
# HTML


@dataclass
class _Ctx:
    """What a site template needs to render one page."""

    title: str
    paragraphs: list[str]
    site: str
    url: str
    html_lang: str | None
    meta: str
    published: datetime
    ranking: list[str]
    category: str
    serial: int


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _ps(paragraphs: list[str]) -> str:
    return "\n".join(f"<p>{_esc(p)}</p>" for p in paragraphs)


def _lis(items: list[str], href: str = "#") -> str:
    return "".join(f'<li><a href="{href}">{_esc(t)}</a></li>' for t in items)


def _open(c: _Ctx, title: str, head_extra: str = "") -> str:
    lang = f' lang="{c.html_lang}"' if c.html_lang else ""
    return (f"<!DOCTYPE html>\n<html{lang}>\n<head>\n{c.meta}<title>{_esc(title)}</title>\n"
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n{head_extra}</head>\n')


def _jdate(d: datetime) -> str:
    return f"{d.year}年{d.month}月{d.day}日 {d.hour:02d}:{d.minute:02d}"


def _tpl_news(c: _Ctx) -> str:
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": c.title,
                     "datePublished": c.published.strftime("%Y-%m-%dT%H:%M:%S+09:00"),
                     "publisher": {"@type": "Organization", "name": c.site}}, ensure_ascii=False)
    head = (f'<meta property="og:title" content="{html.escape(c.title)}">\n'
            '<meta property="og:type" content="article">\n'
            f'<meta property="og:url" content="{c.url}">\n'
            '<link rel="stylesheet" href="/assets/css/main.css?v=20261101">\n'
            '<style>body{font-family:"Hiragino Kaku Gothic ProN",Meiryo,sans-serif;margin:0}'
            '.gnav li{display:inline-block;'
            'padding:0 8px}.ranking ol{padding-left:1.2em}.share a{margin-right:6px}</style>\n'
            f'<script type="application/ld+json">{ld}</script>\n'
            "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}"
            f"gtag('js',new Date());gtag('config','G-SMPL{c.serial % 97:02d}');</script>\n")
    return _open(c, f"{c.title} | {c.site}", head) + f"""<body>
<header class="site-header"><div class="logo"><a href="/">{_esc(c.site)}</a></div>
<nav class="gnav"><ul><li><a href="/">トップ</a></li>
<li><a href="/local/">地域</a></li>
<li><a href="/society/">社会</a></li>
<li><a href="/economy/">経済</a></li>
<li><a href="/sports/">スポーツ</a></li>
<li><a href="/culture/">文化・暮らし</a></li>
<li><a href="/weather/">天気</a></li>
<li><a href="/movie/">動画</a></li></ul></nav>
<form class="search" action="/search/"><input type="text" name="q" placeholder="記事を検索">
<button type="submit">検索</button></form>
</header>
<div class="breadcrumb">
<a href="/">トップ</a> &gt; <a href="/local/">{_esc(c.category)}</a> &gt; <span>{_esc(c.title)}</span></div>
<main>
<article class="article">
<h1 class="article-title">{_esc(c.title)}</h1>
<div class="article-meta"><time>{_jdate(c.published)}</time> 更新</div>
<div class="article-body">
{_ps(c.paragraphs)}
</div>
<div class="share"><span>この記事をシェアする</span><a href="#">ポスト</a><a href="#">シェア</a><a href="#">LINEで送る</a>
<a href="#">はてなブックマーク</a></div>
<p class="notice">掲載記事・写真の無断転載を禁じます。</p>
</article>
<section class="related"><h2>関連記事</h2><ul>{_lis(c.ranking[3:6])}</ul></section>
</main>
<aside class="sidebar">
<div class="ranking"><h2>アクセスランキング</h2><ol>{_lis(c.ranking[:5])}</ol></div>
<div class="ad">PR <a href="#">【公式】今なら初回送料無料キャンペーン実施中</a></div>
</aside>
<footer>
<ul class="fnav"><li><a href="/terms/">利用規約</a></li>
<li><a href="/privacy/">プライバシーポリシー</a></li>
<li><a href="/company/">会社概要</a></li>
<li><a href="/ad/">広告掲載について</a></li>
<li><a href="/contact/">お問い合わせ</a></li></ul>
<p class="copyright">Copyright (C) 2026 {_esc(c.site)} All Rights Reserved.</p>
</footer>
</body>
</html>
"""


def _tpl_blog(c: _Ctx) -> str:
    head = ('<link rel="stylesheet" href="/css/theme.css">\n'
            "<style>.entry-content p{line-height:1.9}.side h3{border-bottom:2px solid #f90}</style>\n")
    d = c.published
    return _open(c, f"{c.title} - {c.site}", head) + f"""<body>
<div id="container">
<header id="blog-title"><h1><a href="/">{_esc(c.site)}</a></h1><p class="desc">日々の暮らしや気になったことを気ままに綴っています。</p></header>
<div id="content"><article class="entry">
<div class="date">{d.year}/{d.month:02d}/{d.day:02d}</div>
<h2 class="entry-title"><a href="{c.url}">{_esc(c.title)}</a></h2>
<div class="entry-content">
{_ps(c.paragraphs)}
</div>
<div class="entry-footer">カテゴリー：<a href="#">{_esc(c.category)}</a>｜<a href="#">コメント(0)</a>
｜<a href="#">トラックバック(0)</a></div>
<div class="share-buttons">この記事をシェアする <a href="#">ポスト</a> <a href="#">シェア</a> <a href="#">ブックマーク</a></div>
<div class="pager"><a href="#">&laquo; 前の記事</a> | <a href="/">ホーム</a> | <a href="#">次の記事 &raquo;</a></div>
</article></div>
<div id="side">
<div class="side"><h3>プロフィール</h3><p>ハンドルネーム：ひだまり</p><p>猫と散歩と本が好きな会社員です。</p></div>
<div class="side"><h3>最近の記事</h3><ul>{_lis(c.ranking[:4])}</ul></div>
<div class="side"><h3>人気記事ランキング</h3><ol>{_lis(c.ranking[2:7])}</ol></div>
<div class="side"><h3>アーカイブ</h3><ul><li><a href="#">2026年11月 (12)</a></li>
<li><a href="#">2026年10月 (9)</a></li>
<li><a href="#">2026年9月 (15)</a></li></ul></div>
</div>
<footer>Copyright &copy; {_esc(c.site)} All Rights Reserved.
| <a href="/privacy">プライバシーポリシー</a> | <a href="/contact">お問い合わせ</a></footer>
<script src="/js/counter.js"></script>
</div>
</body>
</html>
"""


def _tpl_portal(c: _Ctx) -> str:
    head = ("<style>.topics li{list-style:none}.pr{font-size:small;color:#999}</style>\n"
            "<script>var adSlots=['top','side'];</script>\n")
    return _open(c, f"{c.title}（{c.site}）", head) + f"""<body>
<div id="header"><a href="/" class="logo">{_esc(c.site)}</a>
<form action="/search"><input type="text" name="p" placeholder="キーワードを入力"><input type="submit" value="検索"></form>
<ul class="menu"><li><a href="/">ニュース</a></li>
<li><a href="/">天気・災害</a></li>
<li><a href="/">スポーツ</a></li>
<li><a href="/">エンタメ</a></li>
<li><a href="/">ショッピング</a></li>
<li><a href="/">占い</a></li></ul></div>
<div id="wrap"><div class="main">
<p class="pr">PR</p>
<h1>{_esc(c.title)}</h1>
<p class="date">{_jdate(c.published)}配信</p>
{_ps(c.paragraphs)}
<div class="source">提供：{_esc(c.site)}ニュース</div>
<div class="topics"><h2>関連リンク</h2><ul>{_lis(c.ranking[1:4])}</ul></div>
</div>
<div class="side"><h2>ランキング（総合）</h2><ol>{_lis(c.ranking[:6])}</ol>
<h2>トピックス</h2><ul>{_lis(c.ranking[4:8])}</ul></div></div>
<div id="footer"><a href="/">ヘルプ</a> - <a href="/">プライバシーポリシー</a> - <a href="/">利用規約</a>
- <a href="/">会社概要</a> - <a href="/">広告掲載</a><br>
Copyright (C) 2026 {_esc(c.site)} Corporation. All Rights Reserved.</div>
</body>
</html>
"""


def _tpl_gov(c: _Ctx) -> str:
    head = '<link rel="stylesheet" href="/css/common.css">\n<script src="/js/fontsize.js"></script>\n'
    return _open(c, f"{c.title}／{c.site}", head) + f"""<body>
<p class="skip"><a href="#main">本文へスキップ</a></p>
<div id="tmp_header"><p class="logo"><a href="/">{_esc(c.site)}</a></p>
<ul class="tools"><li>文字サイズ <a href="#">標準</a> <a href="#">大</a></li>
<li><a href="#">やさしい日本語</a></li>
<li><a href="#">Foreign Language</a></li>
<li><a href="#">サイトマップ</a></li></ul>
<ul class="gnav"><li><a href="/kurashi/">くらし・手続き</a></li>
<li><a href="/kosodate/">子育て・教育</a></li>
<li><a href="/kenko/">健康・福祉</a></li>
<li><a href="/kanko/">観光・文化</a></li>
<li><a href="/shisei/">行政情報</a></li></ul></div>
<div id="tmp_pankuzu"><a href="/">ホーム</a> &gt; <a href="/kurashi/">くらし・手続き</a> &gt; {_esc(c.title)}</div>
<div id="main"><h1>{_esc(c.title)}</h1>
<p class="update">更新日：{c.published.year}年{c.published.month}月{c.published.day}日</p>
{_ps(c.paragraphs)}
<div id="tmp_inquiry"><h2>このページに関するお問い合わせ</h2><p>企画部 広報課</p></div>
<div id="tmp_enquete"><h2>このページの情報は役に立ちましたか？</h2><form><label><input type="radio" name="q1">役に立った</label><label>
<input type="radio" name="q1">役に立たなかった</label><input type="submit" value="送信"></form></div>
</div>
<div id="tmp_footer"><p>{_esc(c.site)}役所　開庁時間：平日8時30分から17時15分（祝日・年末年始を除く）</p>
<ul><li><a href="/">ウェブアクセシビリティ</a></li>
<li><a href="/">個人情報の取り扱い</a></li>
<li><a href="/">リンク・著作権・免責事項</a></li></ul>
<p>Copyright (C) {_esc(c.site)} All Rights Reserved.</p></div>
</body>
</html>
"""


def _tpl_legacy(c: _Ctx) -> str:
    """Old personal-site style: table layout, upper-case tags, paragraphs separated by <BR><BR>."""
    lang = f' lang="{c.html_lang}"' if c.html_lang else ""
    body = "<BR><BR>\n".join(_esc(p) for p in c.paragraphs)
    links = "<BR>\n".join(f'<A HREF="#">{_esc(t)}</A>' for t in c.ranking[:4])
    return f"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">
<HTML{lang}>
<HEAD>
{c.meta}<TITLE>{_esc(c.site)} - {_esc(c.title)}</TITLE>
</HEAD>
<BODY BGCOLOR="#FFFFF0" TEXT="#333333" LINK="#0000CC">
<TABLE WIDTH="760" BORDER="0" CELLPADDING="4"><TR>
<TD WIDTH="160" VALIGN="top" BGCOLOR="#EEF4E0"><FONT SIZE="2"><B>メニュー</B><BR>
<A HREF="/">トップページへ</A><BR><A HREF="#">日記</A><BR><A HREF="#">写真館</A><BR><A HREF="#">掲示板</A><BR><A HREF="#">リンク</A>
<BR><BR>
<B>最近の更新</B><BR>
{links}<BR><BR>
あなたは <IMG SRC="/cgi-bin/count.cgi" ALT="カウンター"> 人目のお客様です。</FONT></TD>
<TD VALIGN="top"><FONT SIZE="4"><B>{_esc(c.title)}</B></FONT><BR>
<FONT SIZE="2">{c.published.year}年{c.published.month}月{c.published.day}日</FONT><HR>
{body}
<HR><CENTER><A HREF="/">戻る</A> | <A HREF="#">ページの先頭へ</A></CENTER></TD>
</TR></TABLE>
<CENTER><FONT SIZE="1">当サイトはリンクフリーです。画像の無断転載はご遠慮ください。<BR>Copyright (C) 2003-2026 {_esc(c.site)}</FONT></CENTER>
</BODY>
</HTML>
"""


def _tpl_corporate(c: _Ctx) -> str:
    head = ('<link rel="stylesheet" href="/common/css/style.css">\n'
            '<script src="/common/js/jquery.min.js"></script>\n<script>$(function(){$(".gnav").show();});</script>\n')
    return _open(c, f"{c.title}｜ニュースリリース｜{c.site}", head) + f"""<body>
<header><div class="logo"><a href="/">{_esc(c.site)}</a></div>
<ul class="gnav"><li><a href="/products/">製品情報</a></li>
<li><a href="/company/">企業情報</a></li>
<li><a href="/ir/">株主・投資家情報</a></li>
<li><a href="/recruit/">採用情報</a></li>
<li><a href="/contact/">お問い合わせ</a></li></ul></header>
<nav class="breadcrumb"><a href="/">ホーム</a> &gt; <a href="/news/">ニュースリリース</a> &gt; {_esc(c.title)}</nav>
<main><div class="news-detail"><p class="date">{c.published.year}年{c.published.month}月{c.published.day}日</p>
<h1>{_esc(c.title)}</h1>
{_ps(c.paragraphs)}
<p class="back"><a href="/news/">ニュースリリース一覧へ戻る</a></p></div></main>
<footer><ul><li><a href="/company/">会社概要</a></li>
<li><a href="/sitepolicy/">サイトポリシー</a></li>
<li><a href="/privacy/">個人情報保護方針</a></li>
<li><a href="/sitemap/">サイトマップ</a></li></ul>
<p class="copyright">Copyright (C) {c.published.year} {_esc(c.site)} All rights reserved.</p></footer>
</body>
</html>
"""


def _tpl_shop(c: _Ctx) -> str:
    return _open(c, f"{c.title}｜{c.site}", "<style>.item{float:left;width:24%}</style>\n") + f"""<body>
<div class="head"><a href="/">{_esc(c.site)}</a> <a href="/cart">カートを見る</a>
<a href="/login">ログイン</a> <a href="/mypage">マイページ</a></div>
<ul class="cat"><li><a href="#">レディース</a></li>
<li><a href="#">メンズ</a></li>
<li><a href="#">コスメ</a></li>
<li><a href="#">健康食品</a></li>
<li><a href="#">セール</a></li></ul>
<div class="main"><h1>{_esc(c.title)}</h1>
{_ps(c.paragraphs)}
</div>
<div class="foot"><a href="#">特定商取引法に基づく表記</a> <a href="#">プライバシーポリシー</a>
<a href="#">会社概要</a> Copyright (C) {_esc(c.site)}</div>
</body>
</html>
"""


def _tpl_links(c: _Ctx) -> str:
    """A page that is nothing but links (the `paragraphs` are the anchor texts)."""
    items = "\n".join(f'<li><a href="/link/{i}">{_esc(t)}</a></li>' for i, t in enumerate(c.paragraphs))
    return _open(c, f"{c.title} | {c.site}") + f"""<body>
<div id="header"><a href="/">{_esc(c.site)}</a></div>
<h1>{_esc(c.title)}</h1>
<ul class="links">
{items}
</ul>
<div id="footer">Copyright (C) {_esc(c.site)}</div>
</body>
</html>
"""


def _tpl_bbs(c: _Ctx) -> str:
    """2ch-style thread; `paragraphs` alternate post header and post body."""
    posts = "\n".join(f"<dt>{_esc(h)}</dt><dd>{_esc(b)}</dd>" for h, b in zip(c.paragraphs[::2], c.paragraphs[1::2]))
    return _open(c, c.title, "<style>dd{margin-bottom:1em}</style>\n") + f"""<body bgcolor="#efefef">
<div class="menu"><a href="/">■掲示板に戻る■</a> <a href="#">全部</a> <a href="#">1-100</a> <a href="#">最新50</a></div>
<h1 style="color:red">{_esc(c.title)}</h1>
<dl class="thread">
{posts}
</dl>
<form method="POST" action="/test/bbs.cgi">
<input type="submit" value="書き込む"> 名前：<input name="FROM"> E-mail：<input name="mail"><br><textarea name="MESSAGE">
</textarea></form>
<div class="footer">{_esc(c.site)} read.cgi ver 07.7.2</div>
</body>
</html>
"""


_FOREIGN_NAV = {
    "en": ("Home", "News", "Contact", "Privacy Policy"),
    "zh-Hans": ("首页", "新闻", "联系我们", "隐私政策"),
    "zh-Hant": ("首頁", "新聞", "聯絡我們", "隱私權政策"),
    "ko": ("홈", "뉴스", "문의하기", "개인정보처리방침"),
    "fr": ("Accueil", "Actualités", "Contact", "Politique de confidentialité"),
}


def _tpl_foreign(c: _Ctx, lang: str) -> str:
    home, news, contact, privacy = _FOREIGN_NAV[lang]
    return _open(c, f"{c.title} - {c.site}", "<style>article p{line-height:1.7}</style>\n") + f"""<body>
<header><a href="/">{_esc(c.site)}</a><nav>
<a href="/">{home}</a> | <a href="/news/">{news}</a> | <a href="/contact/">{contact}</a></nav></header>
<article><h1>{_esc(c.title)}</h1>
<p class="date">{c.published.strftime("%Y-%m-%d")}</p>
{_ps(c.paragraphs)}
</article>
<footer><a href="/privacy/">{privacy}</a> | Copyright (C) 2026 {_esc(c.site)}</footer>
</body>
</html>
"""


TEMPLATES: dict[str, Callable[[_Ctx], str]] = {
    "news": _tpl_news, "blog": _tpl_blog, "portal": _tpl_portal, "gov": _tpl_gov, "legacy": _tpl_legacy,
    "corporate": _tpl_corporate, "shop": _tpl_shop, "links": _tpl_links, "bbs": _tpl_bbs,
}


def _entity_escape(text: str) -> str:
    """Every non-ASCII character as `&#x...;`, as some CMS exports write Japanese."""
    return "".join(ch if ord(ch) < 128 else f"&#x{ord(ch):X};" for ch in text)


def _round_trips(text: str, encoding: str) -> bool:
    try:
        return text.encode(encoding).decode(encoding) == text
    except UnicodeError:
        return False


# --------------------------------------------------------------------------------------------------------------------
# WARC writing


class _Writer(WARCWriter):
    """warcio writer that refuses to invent ids or dates, so nothing time- or random-dependent reaches the file."""

    def _make_warc_id(self) -> str:  # type: ignore[override]
        raise AssertionError("every record must be given an explicit WARC-Record-ID")

    def curr_warc_date(self) -> str:
        raise AssertionError("every record must be given an explicit WARC-Date")


def _host_ip(host: str) -> str:
    h = hashlib.sha1(host.encode()).digest()
    return f"{_PUBLIC_FIRST_OCTETS[h[0] % len(_PUBLIC_FIRST_OCTETS)]}.{h[1]}.{h[2]}.{h[3] % 254 + 1}"


def _host_server(host: str) -> str:
    return ("nginx", "Apache", "Apache/2.4.57 (Unix)", "cloudflare", "Microsoft-IIS/10.0")[
        hashlib.sha1(host.encode()).digest()[4] % 5]


@dataclass
class _Page:
    """One fetched URL: what to send and what the truth says about it."""

    url: str
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    truth: dict[str, Any]


def _truth(**fields: Any) -> dict[str, Any]:
    """A truth line with every key present, so the JSONL has one schema."""
    base: dict[str, Any] = {
        "warc_record_id": None, "url": None, "host": None, "status": None, "content_type": None,
        "http_charset": None, "meta_charset": None, "true_encoding": None, "charset_case": None, "kind": None,
        "variant": None, "lang": None, "html_lang": None, "template": None, "topic": None, "title": None,
        "article_text": None, "dup_of": None, "dup_cluster": None, "jaccard_to_original": None, "dup_edits": None,
        "pii": [], "ng_words": [], "refers_to": None, "location": None, "warc_offset": None, "warc_length": None,
    }
    unknown = set(fields) - set(base)
    if unknown:
        raise KeyError(f"unknown truth fields {sorted(unknown)}")
    base.update(fields)
    return base


class _Generator:
    """Builds the pages in plan order and writes them; one instance per generate_sample call."""

    def __init__(self, records: int, seed: int, crawl_id: str, filename: str) -> None:
        self.records, self.seed, self.crawl_id, self.filename = records, seed, crawl_id, filename
        self.rng = random.Random(seed)
        self.pool = _ArticlePool()
        self.serial = 0
        self.ids = 0
        self.clock = CRAWL_START + timedelta(seconds=self.rng.randrange(6 * 3600))
        self.truth: list[dict[str, Any]] = []
        self.originals: list[tuple[dict[str, Any], list[str], _Text]] = []
        self.fetched: list[dict[str, Any]] = []
        self.pii_cursor = 0
        self.toxic_cursor = 0
        self.warc_records = 0
        self.warcinfo_id = ""

    # ---- identity -----------------------------------------------------------------------------------------------

    def _record_id(self) -> str:
        self.ids += 1
        return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{self.crawl_id}/{self.seed}/{self.ids}')}>"

    def _tick(self) -> str:
        self.clock += timedelta(seconds=self.rng.randint(1, 40))
        return self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _published(self) -> datetime:
        return datetime(2025, 1, 1, 6) + timedelta(minutes=self.rng.randrange(690 * 24 * 60))

    def _ranking(self) -> list[str]:
        picks = self.rng.sample(T.TOPICS, 8)
        return [self.rng.choice(t.titles).replace("{town}", self.rng.choice(T.TOWNS)) for t in picks]

    def _url(self, template: str, host: str, title: str, published: datetime) -> str:
        self.serial += 1
        n, d = self.serial, published
        paths = {
            "news": f"/articles/{d.year}/{d.month:02d}/{d.day:02d}/{100000 + n * 37}.html",
            "blog": (f"/entry/{d.year}/{d.month:02d}/{d.day:02d}/{d.hour:02d}{d.minute:02d}{n % 60:02d}"
                     if n % 3 else f"/entry/{quote(title[:8])}-{n}"),
            "portal": f"/topics/detail/{7000000 + n * 131}",
            "gov": f"/soshiki/kikaku/koho/{n + 1000}.html",
            "legacy": f"/~hana/diary/{d.year}{d.month:02d}_{n}.html",
            "corporate": f"/news/{d.year}/{d.year}{d.month:02d}{d.day:02d}_{n}.html",
            "shop": f"/item/{n * 7 + 10000}/",
            "links": f"/link{n}.html",
            "bbs": f"/test/read.cgi/news/{1700000000 + n * 3761}/",
        }
        scheme = "http" if template == "legacy" else "https"
        return f"{scheme}://{host}{paths.get(template, f'/article/{n}.html')}"

    # ---- charset and headers ------------------------------------------------------------------------------------

    def _labels(self, encoding: str, case: str) -> tuple[str | None, str | None]:
        """(HTTP charset, meta charset) as written for a body in `encoding` under a charset case."""
        true = self.rng.choice(CHARSET_LABELS[encoding])
        if case == "ok":
            where = self.rng.random()
            return (true if where < 0.8 else None), (true if where > 0.2 else None)
        if case == "http_wrong":
            return "UTF-8", true
        if case == "http_wrong_meta_missing":
            return "UTF-8", None
        if case == "meta_wrong":
            return None, ("EUC-JP" if encoding == "cp932" else "Shift_JIS")
        return None, None

    def _meta_tag(self, label: str | None) -> str:
        if label is None:
            return ""
        if self.rng.random() < 0.5:
            return f'<meta charset="{label}">\n'
        return f'<meta http-equiv="Content-Type" content="text/html; charset={label}">\n'

    def _headers(self, host: str, content_type: str, body: bytes,
                 extra: tuple[tuple[str, str], ...] = ()) -> list[tuple[str, str]]:
        date = self.clock.strftime("%a, %d %b %Y %H:%M:%S GMT")
        headers = [("Date", date), ("Server", _host_server(host)), ("Content-Type", content_type),
                   ("Content-Length", str(len(body)))]
        headers += list(extra)
        if self.rng.random() < 0.5:
            headers.append(("Cache-Control", "max-age=600"))
        headers.append(("Connection", "close"))
        return headers

    def _html_page(self, ctx: _Ctx, template: str, encoding: str, case: str, render: Callable[[_Ctx], str],
                   **truth: Any) -> _Page:
        """Render, encode and label a page; falls back to UTF-8 when the text does not round-trip the codec."""
        for enc in (encoding, "utf-8"):
            http_cs, meta_cs = self._labels(enc, case if enc != "utf-8" else "ok")
            ctx.meta = self._meta_tag(meta_cs)
            text = render(ctx)
            if _round_trips(text, enc):
                break
        body = text.encode(enc)
        content_type = f"text/html; charset={http_cs}" if http_cs else "text/html"
        host = urlsplit(ctx.url).hostname or ""
        return _Page(ctx.url, "200 OK", self._headers(host, content_type, body), body, _truth(
            url=ctx.url, host=host, status=200, content_type=content_type, http_charset=http_cs, meta_charset=meta_cs,
            true_encoding=enc, charset_case=case if enc != "utf-8" else "ok", html_lang=ctx.html_lang,
            template=template, title=ctx.title, **truth))

    def _ja_html_lang(self, forced: str | None = None) -> str | None:
        if forced is not None:
            return None if forced == "missing" else forced
        r = self.rng.random()
        return "ja" if r < 0.55 else "ja-JP" if r < 0.8 else None if r < 0.95 else "en"

    def _ja_encoding(self, forced: str | None = None) -> str:
        if forced is not None:
            return forced
        r, acc = self.rng.random(), 0.0
        for enc, weight in JA_ENCODINGS:
            acc += weight
            if r < acc:
                return enc
        return "utf-8"

    def _ctx(self, template: str, host: str, title: str, paragraphs: list[str], html_lang: str | None) -> _Ctx:
        published = self._published()
        return _Ctx(title=title, paragraphs=paragraphs, site=SITE_NAMES[host],
                    url=self._url(template, host, title, published), html_lang=html_lang, meta="",
                    published=published, ranking=self._ranking(), category=self.rng.choice(CATEGORIES),
                    serial=self.serial)

    # ---- page kinds ---------------------------------------------------------------------------------------------

    def _ja_text_page(self, kind: str, text: _Text, paragraphs: list[str], force: dict[str, str],
                      template: str | None = None, **truth: Any) -> _Page:
        template = template or self.rng.choice(ARTICLE_TEMPLATES)
        host = self.rng.choice(HOSTS[template])
        encoding = self._ja_encoding(force.get("encoding"))
        case = force.get("charset_case", "ok")
        if case != "ok" and encoding == "utf-8":
            encoding = self.rng.choice(("cp932", "euc_jp"))
        ctx = self._ctx(template, host, text.title, paragraphs, self._ja_html_lang(force.get("html_lang")))
        return self._html_page(ctx, template, encoding, case, TEMPLATES[template], kind=kind, lang="ja",
                               topic=text.topic, article_text="\n".join(paragraphs), **truth)

    def _article(self, force: dict[str, str]) -> _Page:
        text = self.pool.draw(self.rng)
        page = self._ja_text_page("article", text, text.paragraphs, force)
        self.originals.append((page.truth, text.paragraphs, text))
        return page

    def _entity_article(self) -> _Page:
        text = self.pool.draw(self.rng)
        ctx = self._ctx("news", HOSTS["news"][0], text.title, text.paragraphs, "ja")
        ctx.meta = ""
        body = _entity_escape(_tpl_news(ctx)).encode("ascii")
        content_type = "text/html; charset=UTF-8"
        host = HOSTS["news"][0]
        return _Page(ctx.url, "200 OK", self._headers(host, content_type, body), body, _truth(
            url=ctx.url, host=host, status=200, content_type=content_type, http_charset="UTF-8", meta_charset=None,
            true_encoding="ascii", charset_case="ok", kind="article", variant="entity_escaped", lang="ja",
            html_lang="ja", template="news", topic=text.topic, title=text.title,
            article_text="\n".join(text.paragraphs)))

    def _pii_article(self) -> _Page:
        text = self.pool.draw(self.rng)
        paragraphs = list(text.paragraphs)
        found: list[dict[str, Any]] = []
        for _ in range(self.rng.randint(2, 4)):
            kind, sub = PII_KINDS[self.pii_cursor % len(PII_KINDS)]
            self.pii_cursor += 1
            value = _pii_value(self.rng, kind, sub)
            name = self.rng.choice(T.PERSON_NAMES)
            sentence = self.rng.choice(T.PII_SENTENCES[kind])
            filled = sentence.replace("{value}", value).replace("{name}", name).replace("{town}", text.town)
            item: dict[str, Any] = {"type": kind, "subtype": sub, "value": value}
            if kind == "my_number":
                item["check_digit_valid"] = True
            if kind == "credit_card":
                item["luhn_valid"] = luhn_valid(value)
            found.append(item)
            if "{name}" in sentence:
                found.append({"type": "person_name", "subtype": "name", "value": name})
            if kind == "postal":
                found.append({"type": "address", "subtype": "street",
                              "value": f"{text.town}中町三丁目四番十二号"})
            paragraphs.insert(self.rng.randint(1, len(paragraphs)), filled)
        return self._ja_text_page("pii", text, paragraphs, {}, pii=found)

    def _toxic_article(self) -> _Page:
        text = self.pool.draw(self.rng)
        paragraphs = list(text.paragraphs)
        words: list[str] = []
        for _ in range(3):
            sentence, ng = T.TOXIC_SENTENCES[self.toxic_cursor % len(T.TOXIC_SENTENCES)]
            self.toxic_cursor += 1
            words.extend(ng)
            paragraphs.insert(self.rng.randint(0, len(paragraphs)), sentence)
        return self._ja_text_page("toxic", text, paragraphs, {}, template="blog", ng_words=words)

    def _duplicate(self, exact: bool) -> _Page:
        truth, paragraphs, text = self.rng.choice(self.originals)
        original_id = truth["warc_record_id"]
        truth["dup_cluster"] = original_id
        truth["jaccard_to_original"] = 1.0
        if exact:
            new_paragraphs, edits = list(paragraphs), []
        else:
            new_paragraphs, edits = _near_copy(self.rng, paragraphs)
        others = [t for t in ARTICLE_TEMPLATES if t != truth["template"]]
        template = truth["template"] if exact else self.rng.choice(others)
        return self._ja_text_page(
            "article", text, new_paragraphs, {}, template=template, variant="exact_dup" if exact else "near_dup",
            dup_of=original_id, dup_cluster=original_id, dup_edits=edits,
            jaccard_to_original=round(jaccard("\n".join(paragraphs), "\n".join(new_paragraphs)), 4))

    def _lowquality(self, sub: str) -> _Page:
        rng = self.rng
        template = {"link_list": "links", "bbs": "bbs", "seo_spam": "shop", "katakana_keywords": "shop"}.get(
            sub, rng.choice(("blog", "corporate")))
        if sub == "link_list":
            title = rng.choice(("リンク集", "サイトマップ", "相互リンク"))
            lines = rng.sample(T.NAV_WORDS, 12) + [f"{p}の格安情報" for p in rng.sample(T.PREFECTURES, 18)]
        elif sub == "seo_spam":
            title = "【最安値】" + "・".join(rng.sample(T.SEO_WORDS, 4))
            lines = [rng.choice(T.SEO_PATTERNS).format(**{k: rng.choice(T.SEO_WORDS) for k in "abcde"})
                     for _ in range(rng.randint(15, 30))]
        elif sub == "very_short":
            title = rng.choice(("お知らせ", "準備中", "ページ"))
            lines = [rng.choice(T.SHORT_PAGES)]
        elif sub == "repeated_line":
            title = "お知らせ"
            lines = [rng.choice(T.REPEATED_LINES)] * rng.randint(20, 40)
        elif sub == "katakana_keywords":
            title = "人気キーワード一覧"
            lines = ["・".join(rng.sample(T.KATAKANA_WORDS, rng.randint(6, 10))) for _ in range(rng.randint(8, 15))]
        else:
            title = rng.choice(T.BBS_TITLES)
            lines = []
            day = self._published()
            for no in range(1, rng.randint(15, 30)):
                day += timedelta(seconds=rng.randint(5, 900))
                wd = "月火水木金土日"[day.weekday()]
                uid = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789/+")
                              for _ in range(8))
                lines.append(f"{no} ：名無しさん＠お腹いっぱい。：{day:%Y/%m/%d}({wd}) {day:%H:%M:%S}.{rng.randrange(100):02d}"
                             f" ID:{uid}")
                comment = rng.choice(T.BBS_COMMENTS)
                lines.append(f">>{rng.randint(1, no - 1)} {comment}" if no > 2 and rng.random() < 0.3 else comment)
        host = rng.choice(HOSTS[template])
        ctx = self._ctx(template, host, title, lines, self._ja_html_lang())
        return self._html_page(ctx, template, self._ja_encoding(), "ok", TEMPLATES[template],
                               kind=f"lowquality:{sub}", lang="ja", article_text="\n".join(lines))

    def _foreign(self, variant: str) -> _Page:
        rng = self.rng
        lang = variant.split("_")[0] if variant.startswith("en") else variant
        sentences = rng.sample(T.FOREIGN[lang], rng.randint(4, len(T.FOREIGN[lang])))
        group = 2 if lang.startswith("zh") or lang == "ko" else 3
        paragraphs = ["".join(sentences[i:i + group]) if lang.startswith("zh") else " ".join(sentences[i:i + group])
                      for i in range(0, len(sentences), group)]
        title = rng.choice(T.FOREIGN_TITLES[lang])
        truth_lang = "zh" if lang.startswith("zh") else lang
        if variant == "en_ja_nav":
            host = rng.choice(HOSTS["news"])
            ctx = self._ctx("news", host, title, paragraphs, "ja")
            return self._html_page(ctx, "news", "utf-8", "ok", _tpl_news, kind="foreign", variant=variant,
                                   lang=truth_lang, article_text="\n".join(paragraphs))
        host = rng.choice(HOSTS[lang])
        ctx = self._ctx("foreign", host, title, paragraphs, FOREIGN_HTML_LANG[lang])
        encoding = FOREIGN_LEGACY[lang] if rng.random() < 0.3 else "utf-8"
        return self._html_page(ctx, "foreign", encoding, "ok", lambda c: _tpl_foreign(c, lang), kind="foreign",
                               variant=lang if lang.startswith("zh") else None, lang=truth_lang,
                               article_text="\n".join(paragraphs))

    def _nonpage(self, kind: str) -> _Page:
        rng = self.rng
        template = rng.choice(("news", "blog", "corporate", "portal"))
        host = rng.choice(HOSTS[template])
        self.serial += 1
        if kind == "notfound":
            url = f"https://{host}/archives/old/{self.serial}.html"
            body = ("<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"UTF-8\">"
                    "<title>404 Not Found</title></head>"
                    "<body><h1>お探しのページは見つかりませんでした</h1><p>URLが間違っているか、ページが移動または削除された"
                    "可能性があります。</p><p><a href=\"/\">トップページへ戻る</a></p></body></html>\n").encode()
            return _Page(url, "404 Not Found", self._headers(host, "text/html; charset=UTF-8", body), body, _truth(
                url=url, host=host, status=404, content_type="text/html; charset=UTF-8", kind="notfound"))
        if kind == "redirect":
            url = f"http://{host}/old/page{self.serial}.html"
            location = f"https://{host}/new/page{self.serial}.html"
            body = (f"<html><head><title>301 Moved Permanently</title></head><body><h1>Moved Permanently</h1>"
                    f"<p>The document has moved <a href=\"{location}\">here</a>.</p></body></html>\n").encode()
            headers = self._headers(host, "text/html; charset=iso-8859-1", body, (("Location", location),))
            return _Page(url, "301 Moved Permanently", headers, body, _truth(
                url=url, host=host, status=301, content_type="text/html; charset=iso-8859-1", kind="redirect",
                location=location))
        if kind == "image":
            url = f"https://{host}/images/photo_{self.serial}.jpg"
            body = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + rng.randbytes(
                rng.randint(800, 2000)) + b"\xff\xd9"
            return _Page(url, "200 OK", self._headers(host, "image/jpeg", body), body, _truth(
                url=url, host=host, status=200, content_type="image/jpeg", kind="nonhtml", variant="jpeg"))
        url = f"https://{host}/files/report_{self.serial}.pdf"
        stream = f"BT /F1 12 Tf 72 720 Td (Annual report {self.serial}) Tj ET"
        body = (f"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
                f"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
                f"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >> endobj\n"
                f"4 0 obj << /Length {len(stream)} >> stream\n{stream}\nendstream endobj\ntrailer << /Root 1 0 R >>\n"
                f"%%EOF\n").encode()
        return _Page(url, "200 OK", self._headers(host, "application/pdf", body), body, _truth(
            url=url, host=host, status=200, content_type="application/pdf", kind="nonhtml", variant="pdf"))

    # ---- plan ---------------------------------------------------------------------------------------------------

    def plan(self) -> tuple[list[str], dict[int, dict[str, str]]]:
        """Kinds of the `records` truth records in crawl order, and per-index overrides that guarantee coverage."""
        n = self.records

        def share(p: float, least: int) -> int:
            return max(least, round(p * n))

        independent: list[str] = []
        for kind, p, least in (("notfound", 0.015, 1), ("redirect", 0.015, 1), ("image", 0.01, 1), ("pdf", 0.01, 1),
                               ("toxic", 0.01, 2), ("pii", 0.08, 3), ("entity", 0.0, 1)):
            independent += [kind] * share(p, least)
        for lang in ("en", "zh-Hans", "zh-Hant", "ko", "fr"):
            independent += [f"foreign:{lang}"] * share(0.05, 2)
        independent[independent.index("foreign:en")] = "foreign:en_ja_nav"
        for sub in LOWQUALITY:
            independent += [f"lowquality:{sub}"] * share(0.02, 1)
        dependent = ["revisit"] * share(0.015, 1) + ["near_dup"] * share(0.05, 2) + ["exact_dup"] * share(0.007, 2)
        articles = n - len(independent) - len(dependent)
        if articles < 12:
            raise UserError(f"records={n} is too small for a sample that covers every page kind (need >= "
                            f"{n - articles + 12})")
        kinds = independent + ["article"] * articles
        self.rng.shuffle(kinds)
        first = kinds.index("article")
        for kind in dependent:
            kinds.insert(self.rng.randint(first + 1, len(kinds)), kind)
        article_slots = [i for i, k in enumerate(kinds) if k == "article"]
        forced_values = [{"charset_case": c} for c in CHARSET_CASES for _ in range(max(1, round(0.01 * n)))]
        forced_values += [{"encoding": e} for e in ("cp932", "euc_jp", "iso2022_jp")]
        forced_values += [{"html_lang": "en"}, {"html_lang": "missing"}]
        slots = self.rng.sample(article_slots, len(forced_values))
        return kinds, dict(zip(slots, forced_values))

    # ---- writing ------------------------------------------------------------------------------------------------

    def _request(self, writer: _Writer, url: str, date: str) -> None:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = StatusAndHeaders(f"GET {path} HTTP/1.1", [
            ("User-Agent", "CCBot/2.0 (https://commoncrawl.org/faq/)"),
            ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            ("Accept-Language", "en-US,en;q=0.5"), ("Accept-Encoding", "br,gzip"), ("Host", parts.netloc),
            ("Connection", "Keep-Alive")], is_http_request=True)
        rec = writer.create_warc_record(url, "request", payload=io.BytesIO(b""), length=0, http_headers=headers,
                                        warc_headers_dict={"WARC-Record-ID": self._record_id(), "WARC-Date": date,
                                                           "WARC-Warcinfo-ID": self.warcinfo_id})
        writer.write_record(rec)
        self.warc_records += 1

    def _write_page(self, writer: _Writer, out: io.BytesIO, page: _Page) -> None:
        date = self._tick()
        self._request(writer, page.url, date)
        record_id = self._record_id()
        http = StatusAndHeaders(page.status, page.headers, protocol="HTTP/1.1")
        rec = writer.create_warc_record(page.url, "response", payload=io.BytesIO(page.body), length=len(page.body),
                                        http_headers=http, warc_headers_dict={
                                            "WARC-Record-ID": record_id, "WARC-Date": date,
                                            "WARC-Warcinfo-ID": self.warcinfo_id,
                                            "WARC-IP-Address": _host_ip(page.truth["host"])})
        offset = out.tell()
        writer.write_record(rec)
        self.warc_records += 1
        page.truth.update(warc_record_id=record_id, warc_offset=offset, warc_length=out.tell() - offset)
        if page.truth["status"] == 200 and page.truth["content_type"].startswith("text/html"):
            self.fetched.append({"id": record_id, "url": page.url, "date": date, "status": page.status,
                                 "headers": page.headers, "truth": page.truth,
                                 "digest": rec.rec_headers.get_header("WARC-Payload-Digest")})
        meta = f"fetchTimeMs: {self.rng.randint(80, 2500)}\r\n".encode()
        writer.write_record(writer.create_warc_record(
            page.url, "metadata", payload=io.BytesIO(meta), length=len(meta),
            warc_content_type="application/warc-fields",
            warc_headers_dict={"WARC-Record-ID": self._record_id(), "WARC-Date": date,
                               "WARC-Warcinfo-ID": self.warcinfo_id, "WARC-Concurrent-To": record_id}))
        self.warc_records += 1
        self.truth.append(page.truth)

    def _write_revisit(self, writer: _Writer, out: io.BytesIO) -> None:
        original = self.rng.choice(self.fetched)
        date = self._tick()
        self._request(writer, original["url"], date)
        record_id = self._record_id()
        http = StatusAndHeaders(original["status"], original["headers"], protocol="HTTP/1.1")
        rec = writer.create_revisit_record(original["url"], original["digest"], original["url"], original["date"],
                                           http_headers=http, warc_headers_dict={
                                               "WARC-Record-ID": record_id, "WARC-Date": date,
                                               "WARC-Warcinfo-ID": self.warcinfo_id,
                                               "WARC-Refers-To": original["id"]})
        offset = out.tell()
        writer.write_record(rec)
        self.warc_records += 1
        src = original["truth"]
        self.truth.append(_truth(
            warc_record_id=record_id, url=original["url"], host=src["host"], status=200,
            content_type=src["content_type"], kind="revisit", lang=src["lang"], refers_to=original["id"],
            warc_offset=offset, warc_length=out.tell() - offset))

    def run(self) -> bytes:
        kinds, forced = self.plan()
        out = io.BytesIO()
        writer = _Writer(out, gzip=True)
        self.warcinfo_id = self._record_id()
        info = (f"software: {GENERATOR}\r\nformat: WARC File Format 1.0\r\n"
                "conformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.0/\r\n"
                f"isPartOf: {self.crawl_id}\r\ndescription: Synthetic sample crawl (records={self.records}, "
                f"seed={self.seed}) with ground truth beside it\r\nrobots: checked via crawler-commons\r\n").encode()
        writer.write_record(writer.create_warc_record(
            "", "warcinfo", payload=io.BytesIO(info), length=len(info), warc_content_type="application/warc-fields",
            warc_headers_dict={"WARC-Record-ID": self.warcinfo_id, "WARC-Date": self._tick(),
                               "WARC-Filename": self.filename}))
        self.warc_records += 1
        for i, kind in enumerate(kinds):
            if kind == "revisit":
                self._write_revisit(writer, out)
                continue
            if kind == "article":
                page = self._article(forced.get(i, {}))
            elif kind in ("near_dup", "exact_dup"):
                page = self._duplicate(exact=kind == "exact_dup")
            elif kind == "pii":
                page = self._pii_article()
            elif kind == "toxic":
                page = self._toxic_article()
            elif kind == "entity":
                page = self._entity_article()
            elif kind.startswith("lowquality:"):
                page = self._lowquality(kind.split(":", 1)[1])
            elif kind.startswith("foreign:"):
                page = self._foreign(kind.split(":", 1)[1])
            else:
                page = self._nonpage(kind)
            self._write_page(writer, out, page)
        return out.getvalue()


def iter_truth(truth_path: str | Path) -> Iterator[dict[str, Any]]:
    """Truth lines of a generated sample, in WARC order."""
    with open(truth_path, encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def generate_sample(out_path: str, records: int = 300, seed: int = 0, crawl_id: str = "SAMPLE-2026-48") -> dict:
    """Write the sample WARC to `out_path` and its truth to `truth_path_for(out_path)`; return counts.

    `records` is the number of response + revisit records (= truth lines); each page also gets a request and a
    metadata record. Output depends only on the arguments and the file's base name (written into warcinfo).
    The written paragraphs give about 890 mutually distinct articles, so up to ~1,500 records work; more raise
    RuntimeError rather than emitting unlabelled near-duplicates.
    """
    gen = _Generator(records, seed, crawl_id, Path(out_path).name)
    data = gen.run()
    Path(out_path).write_bytes(data)
    truth_path = truth_path_for(out_path)
    with open(truth_path, "w", encoding="utf-8") as f:
        for line in gen.truth:
            f.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
    return {
        "warc_path": str(out_path),
        "truth_path": str(truth_path),
        "bytes": len(data),
        "records": len(gen.truth),
        "warc_records": gen.warc_records,
        "by_kind": dict(sorted(Counter(t["kind"] for t in gen.truth).items())),
        "by_lang": dict(sorted(Counter(str(t["lang"]) for t in gen.truth).items())),
        "by_encoding": dict(sorted(Counter(str(t["true_encoding"]) for t in gen.truth).items())),
        "by_charset_case": dict(sorted(Counter(str(t["charset_case"]) for t in gen.truth).items())),
        "near_duplicates": sum(t["variant"] == "near_dup" for t in gen.truth),
        "exact_duplicates": sum(t["variant"] == "exact_dup" for t in gen.truth),
        "pii_values": sum(len(t["pii"]) for t in gen.truth),
    }


def main(argv: list[str] | None = None) -> None:
    """CLI: write the sample and print its summary as JSON."""
    parser = argparse.ArgumentParser(description="Write the bundled sample crawl (WARC + truth JSONL).")
    parser.add_argument("out", help="output path, e.g. data/sample.warc.gz (truth goes beside it)")
    parser.add_argument("--records", type=int, default=300, help="response + revisit records (default 300)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--crawl-id", default="SAMPLE-2026-48")
    args = parser.parse_args(argv)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    summary = generate_sample(args.out, records=args.records, seed=args.seed, crawl_id=args.crawl_id)
    print(json.dumps(summary, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
