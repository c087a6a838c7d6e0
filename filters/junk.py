"""Web junk that survives extraction: shop and affiliate vocabulary, bulletin-board post headers, link lists and
menus, walls of short lines, a character hammered many times, symbol/emoji soup, and text so repetitive that it
compresses several times better than prose.
"""
from __future__ import annotations

import re
import zlib

import numpy as np

from jwc.filters.base import Doc, Filter, Rule
from jwc.schemas.config import Param
from jwc.filters.composition import SYMBOL, class_counts, codepoints, lines, ratio

# Shop, affiliate and click-bait vocabulary. Words that news uses in passing (人気, 無料, 審査, 割引, セール ...)
# are left out or only counted in their advertising collocations, so an article about a sale is not an ad.
AD_PATTERNS = (
    r"送料無料", r"送料込み?", r"税込", r"税抜", r"在庫あり", r"在庫切れ", r"残りわずか", r"翌日配送", r"即日発送",
    r"ポイント\d+倍", r"ポイント獲得", r"最安値", r"激安", r"お買い得", r"お買い物", r"カートに入れる",
    r"買い物かご", r"お気に入りに追加", r"今すぐ", r"クリック", r"こちらから", r"詳しくはこちら", r"詳細はこちら",
    r"公式サイト", r"無料で", r"お試し", r"初回限定", r"期間限定", r"数量限定", r"限定キャンペーン",
    r"キャンペーン実施中", r"クーポン", r"おすすめ", r"オススメ", r"口コミ", r"ランキングTOP", r"TOP\d+", r"徹底比較",
    r"比較しました", r"選び方", r"必見", r"損してる", r"おまかせ", r"稼げる", r"稼ぐ", r"副業", r"申し込み",
    r"お申込み", r"資料請求", r"アフィリエイト",
)
# Every alternative starts with a literal character, which lets the regex engine skip non-candidate positions.
AD_RE = re.compile("|".join(AD_PATTERNS))

# Post headers of bulletin boards and comment sections: numbered anonymous posters, poster IDs, reply anchors,
# date + time stamps, "投稿者/投稿日/返信" labels. A bare date (news) is not enough.
BBS_MARK_RE = re.compile(
    r"ID[:：][A-Za-z0-9+/.]{4,}|名前[:：]|名無し|>>[0-9０-９]+|＞＞[0-9０-９]+|≫[0-9０-９]+"
    r"|投稿者|投稿日|返信する|返信|コメントする|コメント\s*[(（]?\d+[)）]?|通報する|違反報告|ナイス[!！]?\s*\d+"
)
CLOCK_RE = re.compile(r"[:：]\d\d")
STAMP_RE = re.compile(
    r"(?<!\d)\d{2,4}[年/.\-]\d{1,2}[月/.\-]\d{1,2}日?\s*(?:[(（][月火水木金土日]曜?日?[)）])?\s*\d{1,2}[:：]\d{2}"
)
# A line that is a list item (bullet or numbered) without a sentence, or a row of short items split by
# separators: menus, breadcrumbs, tag clouds, link lists, product rows.
BULLET_RE = re.compile(r"^(?:[-－・•●○■□◆◇▶►▸▼▲★☆→⇒>＞»※]|\d{1,3}[.)．）]|[0-9０-９]{1,3}\s)\s*")
MENU_SPLIT_RE = re.compile(r"\s*[|｜>＞»›/／]\s*|\s+")
SENTENCE_MARK_RE = re.compile(r"[。、！？!?]")


def per_kchar(hits: int, chars: int) -> float:
    """Hits per 1,000 characters; a text shorter than 500 characters counts as 500, so one hit in a short text is
    not read as a high density."""
    return 1000.0 * hits / max(chars, 500)


def bbs_marks(text: str) -> int:
    """Post-header marks; the date + time stamp regex (slow: it starts with a digit) only runs when the text has a
    clock time at all."""
    marks = len(BBS_MARK_RE.findall(text))
    if CLOCK_RE.search(text):
        marks += len(STAMP_RE.findall(text))
    return marks


def longest_run(cps: np.ndarray) -> int:
    """Longest run of one repeated code point (whitespace already removed)."""
    if len(cps) < 2:
        return len(cps)
    cuts = np.flatnonzero(cps[1:] != cps[:-1])
    return int(np.diff(cuts, prepend=-1, append=len(cps) - 1).max())


def is_menu_line(line: str, max_item_chars: int) -> bool:
    """A list item without a sentence, or at least three short items separated by | > / or spaces."""
    if SENTENCE_MARK_RE.search(line):
        return False
    if len(line) <= 2 * max_item_chars and BULLET_RE.match(line):
        return True
    items = [i for i in MENU_SPLIT_RE.split(line) if i]
    return len(items) >= 3 and max(map(len, items)) <= max_item_chars


class JunkFilter(Filter):
    """Structural and lexical marks of non-prose pages (shops, affiliate spam, bulletin boards, navigation)."""

    name = "junk"
    params = {
        "max_ad_per_kchar": Param(10.0, "maximum shop/affiliate keyword hits per 1,000 characters", lo=0.0),
        "max_bbs_per_kchar": Param(10.0, "maximum bulletin-board/comment post marks per 1,000 characters", lo=0.0),
        "max_menu_line_frac": Param(0.5, "maximum share of lines that look like menu or link-list items",
                                    lo=0.0, hi=1.0),
        "max_short_line_frac": Param(0.3, "maximum share of characters in lines shorter than short_line_chars",
                                     lo=0.0, hi=1.0),
        "max_char_run": Param(30, "maximum run of one character repeated (whitespace ignored)", lo=1, kind=int),
        "max_symbol_frac": Param(0.1, "maximum share of symbols and emoji among non-whitespace characters",
                                 lo=0.0, hi=1.0),
        "max_compression_ratio": Param(4.5, "maximum UTF-8 size / zlib size (level 6)", lo=1.0),
        "short_line_chars": Param(10, "lines with fewer characters than this count as short", lo=1, kind=int),
        "menu_item_chars": Param(12, "longest item of a menu-like line (characters)", lo=1, kind=int),
    }
    signal_names = ("junk_ad_per_kchar", "junk_bbs_per_kchar", "junk_menu_line_frac", "junk_short_line_frac",
                    "junk_max_char_run", "junk_symbol_frac", "junk_compression_ratio")
    rules = (
        Rule("ads", "junk_ad_per_kchar", "max", "max_ad_per_kchar"),
        Rule("bbs", "junk_bbs_per_kchar", "max", "max_bbs_per_kchar"),
        Rule("menu_lines", "junk_menu_line_frac", "max", "max_menu_line_frac"),
        Rule("short_lines", "junk_short_line_frac", "max", "max_short_line_frac"),
        Rule("char_run", "junk_max_char_run", "max", "max_char_run"),
        Rule("symbols", "junk_symbol_frac", "max", "max_symbol_frac"),
        Rule("compressible", "junk_compression_ratio", "max", "max_compression_ratio"),
    )

    def signals(self, doc: Doc) -> dict[str, float]:
        text = doc.text
        ls = lines(doc)
        counts = class_counts(doc)
        chars = int(counts.sum())
        short = self.options["short_line_chars"]
        item = self.options["menu_item_chars"]
        raw = text.encode("utf-8", "surrogatepass")
        return {
            "junk_ad_per_kchar": per_kchar(len(AD_RE.findall(text)), chars),
            "junk_bbs_per_kchar": per_kchar(bbs_marks(text), chars),
            "junk_menu_line_frac": ratio(sum(1 for line in ls if is_menu_line(line, item)), len(ls)),
            "junk_short_line_frac": ratio(sum(len(line) for line in ls if len(line) < short), sum(map(len, ls))),
            "junk_max_char_run": float(longest_run(codepoints(doc))),
            "junk_symbol_frac": ratio(counts[SYMBOL], chars),
            "junk_compression_ratio": ratio(len(raw), len(zlib.compress(raw, 6))),
        }


FILTERS = (JunkFilter,)
