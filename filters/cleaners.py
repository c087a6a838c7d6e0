"""Cleaners: run before the filters and change text, never judge it.

Order (CLEANERS): normalise Unicode and whitespace, normalise Japanese punctuation, drop lines without Japanese,
drop boilerplate (navigation, legal, account, share and date lines, link-list blocks, a keyword-dense footer),
then drop repeated short lines. Each works line by line with compiled regexes and str methods.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Mapping

from jwc.filters.base import Cleaner
from jwc.schemas.config import Param, fullmatch
from jwc.filters.charclass import JA_LETTERS

CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\u00ad\u200b\u200c\u2060\ufeff]")
NEWLINE_RE = re.compile(r"\r\n?|[\u2028\u2029\x85]")
# Two or more spaces, or any other inline whitespace (tabs, no-break and typographic spaces), but not U+3000.
_INLINE = r"\t\x0b\x0c\xa0\u1680\u2000-\u200a\u202f\u205f"
INLINE_SPACE_RE = re.compile(f"  +|[{_INLINE}][ {_INLINE}]*")
BLANK_LINES_RE = re.compile(r"\n{3,}")
# Full-width comma/period directly after a Japanese letter or closing bracket: the "，．" writing style.
JA_CONTEXT = f"[{JA_LETTERS}）」』］〕】〉》]"
TOTEN_RE = re.compile(f"(?<={JA_CONTEXT})、")
KUTEN_RE = re.compile(f"(?<={JA_CONTEXT})。")
FW_COMMA_RE = re.compile(f"(?<={JA_CONTEXT})，")
FW_PERIOD_RE = re.compile(f"(?<={JA_CONTEXT})．")
# Replace only where the mark does not sit after a digit or Latin letter (３．１４, Ｖｅｒ．２, ３，０００ stay).
FW_COMMA_TARGET_RE = re.compile(r"(?<![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])，")
FW_PERIOD_TARGET_RE = re.compile(r"(?<![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])．")

# Navigation, legal, account, share, comment and advertising words that make up site chrome.
BOILERPLATE_WORDS = (
    "ホーム", "トップページ", "トップへ", "トップに戻る", "ページトップ", "ページの先頭", "先頭へ", "メニュー",
    "サイトマップ", "カテゴリー", "カテゴリ", "タグ一覧", "タグ", "アーカイブ", "バックナンバー", "一覧へ", "一覧を見る",
    "一覧", "前の記事", "次の記事", "前のページ", "次のページ", "前へ", "次へ", "戻る", "もっと見る", "続きを読む",
    "全文を読む", "詳しくはこちら", "詳細はこちら", "こちら", "関連記事", "関連リンク", "人気記事", "新着記事",
    "おすすめ記事", "注目のトピックス", "注目記事", "最近の記事", "最新の記事", "最新記事", "人気の記事", "ランキング", "アクセスランキング", "サイト内検索", "検索",
    "Copyright", "COPYRIGHT", "copyright", "All Rights Reserved", "All rights reserved", "all rights reserved",
    "©", "(C)", "(c)", "無断転載", "無断複製", "禁止", "禁じます", "著作権", "プライバシーポリシー",
    "個人情報保護方針", "個人情報の取り扱い", "個人情報", "利用規約", "ご利用規約", "サイトポリシー", "ソーシャルメディアポリシー",
    "免責事項", "特定商取引法に基づく表記", "特定商取引法", "会社概要", "会社案内", "運営会社", "運営者情報",
    "採用情報", "お問い合わせ", "お問合せ", "問い合わせ", "広告掲載", "クッキー", "Cookie", "ログイン", "ログアウト",
    "新規会員登録", "会員登録", "新規登録", "マイページ", "パスワード", "シェアする", "シェア", "ツイート", "ポスト",
    "いいね", "Facebookでシェア", "Facebook", "Twitter", "X（旧Twitter）でポスト", "Xでポスト", "X（旧Twitter）",
    "LINEで送る", "LINE", "メールで送る", "印刷する", "はてなブックマークに追加", "はてなブックマーク", "ブックマーク",
    "Pocketに保存",
    "Pocket", "リンクをコピー", "共有", "フォローする", "フォロー", "RSS", "コメント", "トラックバック", "固定リンク",
    "プロフィール", "お知らせ", "よくある質問", "ヘルプ", "ベストアンサー", "その他の回答", "回答受付中", "解決済み",
    "質問する", "回答する", "閉じる", "同意する", "スポンサーリンク", "スポンサー",
    "広告", "PR", "出典", "提供", "配信", "更新日", "公開日", "投稿日", "最終更新", "更新",
)
# A date (with optional weekday and time) standing alone or labelled as publication/update metadata.
DATE_LINE_RE = re.compile(
    r"\d{4}\s*年\s*\d{1,2}\s*月\s*(?:[(（]\d+[)）])?"  # archive widget: 2024年11月 (12)
    r"|(?:(?:更新日|公開日|投稿日|配信日|掲載日|最終更新日?|更新|公開|投稿|配信)(?:時)?\s*[:：]?\s*)?"
    r"\d{2,4}\s*[年/.\-]\s*\d{1,2}\s*[月/.\-]\s*\d{1,2}\s*日?"
    r"\s*(?:[(（][月火水木金土日](?:曜日?)?[)）]|[月火水木金土日]曜日?)?"
    r"\s*(?:\d{1,2}\s*[:：時]\s*\d{1,2}\s*分?(?:[:：]\d{2})?)?"
    r"\s*(?:配信|更新|公開|投稿|掲載)?"
)
# A line that ends like a sentence: terminal punctuation, optionally inside closing brackets or quotes.
SENTENCE_END_RE = re.compile(r"[。！？!?．…][」』）)\]】〉》\"”’]*$")
RUN_GAP_RE = re.compile(r"[\s|｜・/／]*")
SPACE_PUNCT_RE = re.compile(r"[\s|｜:：・/／>＞<＜»«›‹\-－_=＝,，.．、。!！?？()（）\[\]［］【】「」『』\"'“”‘’]+")


def _join(lines: list[str]) -> str:
    """Lines back to text, with at most one blank line in a row and no blank edges."""
    text = "\n".join(lines)
    return (BLANK_LINES_RE.sub("\n\n", text) if "\n\n\n" in text else text).strip()


class UnicodeNormalizer(Cleaner):
    """Make text comparable: one newline convention, no control or zero-width characters, single spaces, at most
    one blank line in a row, lines stripped. NFKC (full-width ASCII to half-width, half-width katakana to
    full-width, ㈱ to (株)) is optional and off by default because it rewrites Japanese typography."""

    name = "unicode"
    params = {"nfkc": Param(False, "apply Unicode NFKC normalisation")}

    def clean(self, text: str) -> str:
        if self.options["nfkc"]:
            text = unicodedata.normalize("NFKC", text)
        if "\r" in text or "\u2028" in text or "\u2029" in text or "\x85" in text:
            text = NEWLINE_RE.sub("\n", text)
        text = CONTROL_RE.sub("", text)
        return _join([line.strip() for line in INLINE_SPACE_RE.sub(" ", text).split("\n")])


class PunctuationNormalizer(Cleaner):
    """Some Japanese writing (academic, government) uses ，．instead of 、。 ; filters that count 。 would
    misjudge it. Replace them only where that style dominates after Japanese letters, so stray full-width commas
    in otherwise 、。 text stay, and never after a digit or Latin letter (３．１４ and ３，０００ stay)."""

    name = "punctuation"
    params = {}

    def clean(self, text: str) -> str:
        if "，" in text and len(FW_COMMA_RE.findall(text)) > len(TOTEN_RE.findall(text)):
            text = FW_COMMA_TARGET_RE.sub("、", text)
        if "．" in text and len(FW_PERIOD_RE.findall(text)) > len(KUTEN_RE.findall(text)):
            text = FW_PERIOD_TARGET_RE.sub("。", text)
        return text


class NonJapaneseLineRemover(Cleaner):
    """Drop lines without a single Japanese letter: leftover numbers, pipes, English menus, URLs, code."""

    name = "non_japanese_lines"
    params = {"min_ja_letters": Param(1, "a line needs at least this many Japanese letters", lo=1, kind=int)}

    def __init__(self, options: Mapping[str, Any] | None = None):
        super().__init__(options)
        need = self.options["min_ja_letters"]
        self._enough = re.compile(f"(?:[^{JA_LETTERS}]*[{JA_LETTERS}]){{{need}}}")

    def clean(self, text: str) -> str:
        return _join([line for line in text.split("\n") if not line or self._enough.match(line)])


class BoilerplateLineRemover(Cleaner):
    """Drop site chrome. A short line goes when boilerplate words (navigation, legal, login, share, ranking ...)
    cover most of its letters; a line that is only a date or an archive entry goes; runs of such words inside a
    longer line (a flattened share bar) are cut out; blocks of several short lines that do not end like sentences
    (link lists, "recent posts" widgets) go; and, as in the Swallow corpus, the text is cut at the first
    keyword-dense line among the last few (the footer starts there). Unlike Swallow, the footer is never searched
    in the first half of the lines, so a page of a few lines does not lose its body."""

    name = "boilerplate"
    params = {
        "max_line_chars": Param(40, "only lines up to this length are removed for keyword density", lo=1,
                                kind=int),
        "line_keyword_frac": Param(0.5, "remove a short line when boilerplate words cover at least this share "
                                        "of its letters", lo=0.0, hi=1.0),
        "list_min_lines": Param(4, "remove runs of at least this many consecutive short lines that do not end like "
                                   "a sentence (link lists, 'recent posts' widgets); 0 keeps them", lo=0, kind=int),
        "list_max_chars": Param(30, "longest line of such a list block", lo=1, kind=int),
        "footer_lines": Param(10, "how many last lines are searched for the start of a footer", lo=0, kind=int),
        "footer_keyword_frac": Param(0.3, "a footer line has boilerplate words covering more than this share "
                                          "of its letters", lo=0.0, hi=1.0),
        "footer_max_chars": Param(200, "longer lines are paragraphs, never the start of a footer", lo=1, kind=int),
        "min_word_run": Param(3, "inside longer lines, cut runs of this many boilerplate words in a row (share "
                                 "bars and menus flattened into a line); 0 keeps them", lo=0, kind=int),
        "extra_words": Param([], "more boilerplate words (literal strings)", kind=list, item=str,
                             check=fullmatch(".+", "a non-empty string")),
    }

    def __init__(self, options: Mapping[str, Any] | None = None):
        super().__init__(options)
        extra = self.options["extra_words"]
        self._words = re.compile("|".join(map(re.escape, sorted({*BOILERPLATE_WORDS, *extra}, key=len,
                                                                  reverse=True))))

    def keyword_share(self, line: str) -> float:
        """Share of the line's letters (spaces and punctuation ignored) covered by boilerplate words; 1.0 for
        a line that is only a date (with optional weekday, time and a 配信/更新 label)."""
        letters = len(SPACE_PUNCT_RE.sub("", line))
        if not letters or DATE_LINE_RE.fullmatch(line):
            return 1.0
        covered = len(SPACE_PUNCT_RE.sub("", "".join(self._words.findall(line))))
        return covered / letters

    def cut_word_runs(self, line: str) -> str:
        """Cut runs of min_word_run or more boilerplate words separated by nothing but spaces, bars or dots."""
        spans = [m.span() for m in self._words.finditer(line)]
        need = self.options["min_word_run"]
        if len(spans) < need:
            return line
        pieces, kept_from, first = [], 0, 0
        for i in range(1, len(spans) + 1):
            if i < len(spans) and RUN_GAP_RE.fullmatch(line, spans[i - 1][1], spans[i][0]):
                continue
            if i - first >= need:
                pieces.append(line[kept_from:spans[first][0]])
                kept_from = spans[i - 1][1]
            first = i
        if not pieces:
            return line
        pieces.append(line[kept_from:])
        return " ".join(p.strip() for p in pieces if p.strip())

    def drop_list_blocks(self, lines: list[str]) -> list[str]:
        """Remove runs of list_min_lines or more consecutive short, unpunctuated lines (blank lines end a run)."""
        longest, need = self.options["list_max_chars"], self.options["list_min_lines"]
        is_item = [0 < len(line) <= longest and not SENTENCE_END_RE.search(line) for line in lines]
        out: list[str] = []
        start = 0
        for i in range(len(lines) + 1):
            if i < len(lines) and is_item[i]:
                continue
            if i - start < need:
                out += lines[start:i]
            if i < len(lines):
                out.append(lines[i])
            start = i + 1
        return out

    def clean(self, text: str) -> str:
        o = self.options
        short, line_frac = o["max_line_chars"], o["line_keyword_frac"]
        out = [line for line in text.split("\n")
               if not line or len(line) > short or self.keyword_share(line) < line_frac]
        if o["min_word_run"]:
            out = [self.cut_word_runs(line) if len(line) > short else line for line in out]
        if o["list_min_lines"]:
            out = self.drop_list_blocks(out)
        content = [i for i, line in enumerate(out) if line]
        # The footer is searched in the last lines, but never in the first half (a short page's header).
        for i in content[max(len(content) - o["footer_lines"], (len(content) + 1) // 2):]:
            if len(out[i]) <= o["footer_max_chars"] and self.keyword_share(out[i]) > o["footer_keyword_frac"]:
                out = out[:i]
                break
        return _join(out)


class RepeatedLineRemover(Cleaner):
    """Drop later copies of a short line already seen in the document (repeated "続きを読む", share bars,
    per-post labels). Longer repeated lines are left for the repetition filter to judge, since a page that
    repeats whole paragraphs is itself suspect."""

    name = "repeated_lines"
    params = {"max_line_chars": Param(30, "only repeated lines up to this length are removed", lo=0, kind=int)}

    def clean(self, text: str) -> str:
        limit = self.options["max_line_chars"]
        seen: set[str] = set()
        out = []
        for line in text.split("\n"):
            if line and len(line) <= limit:
                if line in seen:
                    continue
                seen.add(line)
            out.append(line)
        return _join(out)


CLEANERS = (UnicodeNormalizer, PunctuationNormalizer, NonJapaneseLineRemover, BoilerplateLineRemover,
            RepeatedLineRemover)
