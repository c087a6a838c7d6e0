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
# A run of two or more spaces of any kind (ASCII, tabs, no-break, typographic, ideographic U+3000: indentation and
# layout runs), or any single inline space other than ASCII and U+3000. A lone U+3000 stays: Japanese headlines
# and names use it as a separator.
_INLINE = r"\t\x0b\x0c\xa0\u1680\u2000-\u200a\u202f\u205f"
INLINE_SPACE_RE = re.compile(f"[ {_INLINE}\u3000]{{2,}}|[{_INLINE}]")
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
# A polite predicate closing a line written without 。 (photo diaries, captions in blogs): "弥山小屋の正面にきました",
# "食べやすいです（笑）". Link and menu items are names and headlines; they rarely end so. A UI message ("完了しました")
# is shorter than the eight characters this asks for.
PREDICATE_END_RE = re.compile(r"(?=.{8}).*(?:です|ます|ました|でした|ません|ましょう)(?:ね|よ|よね|か)?[！!？?～〜♪・…]*(?:[（(]笑[）)])?$")
# A table row as the extractor writes it ("| 重量 | 62.5g |"): a row of the article's data table, not a link list
# (the extractor drops tables that are mostly links).
TABLE_ROW_RE = re.compile(r"\|.*\|")
RUN_GAP_RE = re.compile(r"[\s|｜・/／]*")
SPACE_PUNCT_RE = re.compile(r"[\s|｜:：・/／>＞<＜»«›‹\-－_=＝,，.．、。!！?？()（）\[\]［］【】「」『』\"'“”‘’]+")


def _join(lines: list[str]) -> str:
    """Lines back to text, with at most one blank line in a row and no blank edges."""
    text = "\n".join(lines)
    return (BLANK_LINES_RE.sub("\n\n", text) if "\n\n\n" in text else text).strip()


class UnicodeNormalizer(Cleaner):
    """Make text comparable: one newline convention, no control or zero-width characters, single spaces (runs of
    tabs, full-width and other spaces too), at most one blank line in a row, lines stripped (indentation goes). NFKC (full-width ASCII to half-width, half-width katakana to
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
        """Remove runs of list_min_lines or more consecutive short, unpunctuated lines (blank lines end a run); a
        line ending in a polite predicate or a table row is no list item."""
        longest, need = self.options["list_max_chars"], self.options["list_min_lines"]
        is_item = [0 < len(line) <= longest and not SENTENCE_END_RE.search(line) and not PREDICATE_END_RE.match(line)
                   and not TABLE_ROW_RE.fullmatch(line) for line in lines]
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



# Site furniture newspapers and blogs put around an article (measured on the dev pages named in docs/filters.md).
# Paywall notices: the article stops here (the rest is behind the wall or on another site).
_PAYWALL = (r"会員限定|有料会員|有料記事|この記事は.{0,20}(?:限定|有料)|続きを(?:お)?読(?:み|む)(?:いただけ|になれ|には|たい|ください)"
            r"|続きは.{0,30}(?:で|から)(?:お|ご)?(?:読|覧)|残り\s*\d+\s*文字")
PAYWALL_RE = re.compile(_PAYWALL)
# Paywall, membership and newsletter notices: a short line containing one of these is not article text.
NOTICE_RE = re.compile(
    _PAYWALL + r"|無料会員|会員登録|会員の方|有料プラン|有料版|購読(?:申し?込|手続|者限定|のお申|料金|する|しよう)|電子版に登録"
    r"|(?:無料|ユーザー|アカウント)登録|(?:登録|ログイン)(?:すると|して|いただくと).{0,20}(?:続き|全文|記事|読め|読む|ご覧)"
    r"|ログインが必要|\(登録無料\)|（登録無料）|まとめ読み|メールマガジン|メルマガ|記事利用サービス|転載・複製"
    r"|情報提供はこちら|筆者見解|デジタルで読み"
)
# How a notice addresses the reader (polite requests, offers, "you can read ..."), unlike a news sentence.
ADDRESS_RE = re.compile(r"ください|下さい|いただけ|いただき|いただく|頂け|になれます|できます|必要です|限定です|お読み|ご覧|ご利用"
                        r"|読み放題|お届け|お知らせ|こちら|お申し?込み|無料です|ませんか")
# "Share this article" prompts and save buttons, as whole lines.
SHARE_RE = re.compile(
    r"(?:この(?:記事|ニュース|ページ|動画|投稿|写真)を)?(?:シェア|共有|ツイート|ポスト|保存|ブックマーク|印刷)"
    r"(?:する|しよう|して(?:ください|ね)|しませんか)?[!！?？]*"
    r"|(?:記事|Evernote|Pocket|はてな|LINE|Facebook|X|Twitter)\s*(?:に|で|へ)?\s*(?:保存|送る|シェア|ポスト)(?:する)?"
)
# The heading of a related-articles, keywords, tags or recommendations block (its items may follow on one line).
RELATED_HEAD_RE = re.compile(
    r"[【■▼◆●＜<\[［]?\s*(?:関連(?:記事|キーワード|ニュース|タグ|リンク|情報|トピックス|動画|書籍|商品|サイト|ワード)"
    r"|おすすめ(?:情報|記事|ニュース|コンテンツ|の記事)?|オススメ(?:記事|情報)?|(?:あわせて|合わせて)読みたい"
    r"|こちらも(?:おすすめ|オススメ|読まれています)|よく読まれている記事|(?:人気|注目|新着|最新)(?:の記事|記事|ニュース(?:リリース)?|プレスリリース|トピックス|TOPICS)"
    r"|アクセスランキング|ランキング|この記事(?:を読んだ人|を見た人|に関連する|の関連)[^\s。]{0,20}|ピックアップ|PICK\s?UP)"
    r"(?=\s|$|[/／|｜・:：】■▼＞>\]］])\s*[】■▼＞>\]］]?\s*[:：]?"  # a whole word: not おすすめの観光地は…
)
# A site's disclaimers: its writers' views ("記事内の筆者見解は…を代表するものではありません"), the trademark notice
# ("記載の会社名・製品名は各社の商標です") and the change notice of product pages ("仕様は予告なく変更されることがあります").
DISCLAIMER_RE = re.compile(r"(?:見解|意見)[^。]{0,40}(?:代表|反映)する(?:もの)?ではありません"
                           r"|(?:会社名|社名|製品名|商品名|サービス名|ブランド名)[^。]{0,40}商標(?:です|であります|となっています|となります)"
                           r"|予告(?:なく|なしに|無く)[^。]{0,20}(?:変更|中止|終了)[^。]{0,12}(?:場合|こと)が(?:あり|ござい)ます")
# A licence line under a text ("この作品はクリエイティブ・コモンズ … ライセンスの下に提供されています").
LICENCE_RE = re.compile(r"(?:クリエイティブ・?コモンズ|Creative\s*Commons)[^。]{0,60}(?:ライセンス|[Ll]icen[cs]e)")
# A flattened list of dated headlines: two or more items that each end in a date in brackets ("…終了へ（4/1）").
DATED_ITEMS_RE = re.compile(r"(?:[^。]{4,80}?[（(]\d{1,2}/\d{1,2}[）)]\s*){2,}")
# The signature line of an affiliate product box ("…posted with amazlet at 19.03.02").
AFFILIATE_RE = re.compile(r"posted with (?:amazlet|カエレバ|ヨメレバ|トマレバ|あまらく)|created by Rinker", re.I)
# A byline or credit: "文：山田太郎", "写真／共同", "（山田太郎記者）", "Source: バンダイ".
_NAME = r"[^\s\d。、，：:／/()（）]{1,16}"
BYLINE_RE = re.compile(
    r"[(（]?(?:文|写真|撮影|取材|取材・文|文・写真|構成|編集|執筆|記者|筆者|著者|ライター|イラスト|翻訳|聞き手|画像|"
    r"写真提供|画像提供|提供|出典|引用元|Source|Image|Photo|Text|Writer|Via|via|photo|text|source|image)"
    rf"\s*(?:[：:／/＝=|｜]|\s+by)\s*{_NAME}(?:\s*[、・/／&＆]\s*{_NAME})*[)）]?"
    rf"|[(（]?{_NAME}(?:\s{_NAME})?\s*(?:記者|編集委員|論説委員|特派員|支局長|通信員)[)）]?"
    r"|(?:[Bb]y|BY)\s+[^\s。、]{1,30}(?:\s[^\s。、]{1,30}){0,2}"
)
# A date or time stamp; a line of stamps, labels and at most a short source name (2月15日（土）7時0分 オリコン) goes.
# A month.day without a year is not taken: "3.3型液晶", "62.5g" are decimals.
_DATE_OR_TIME = (r"(?<![\d.])(?:\d{2,4}\s*[年/.\-]\s*\d{1,2}\s*[月/.\-]|\d{1,2}\s*[月/\-])\s*\d{1,2}(?![\d.])\s*日?"
                 r"|(?:午前|午後)?\s*\d{1,2}\s*(?:時\s*\d{1,2}\s*分|[:：]\s*\d{2})(?:[:：]\d{2})?")
DATE_OR_TIME_RE = re.compile(_DATE_OR_TIME)
STAMP_RE = re.compile(
    _DATE_OR_TIME + r"|[(（][月火水木金土日](?:曜日?)?[)）]|[月火水木金土日]曜日?|[（(]?(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*[)）]?"
    r"|(?:最終)?(?:更新|公開|投稿|配信|掲載|発行|発売|公表)(?:日時|日|時)?|posted|updated|published|at|[|｜/／・:：\-–—]"
)
# Navigation left-overs: breadcrumbs, previous/next links, "back to the list" links, version switches
# ("ひらがな ←→ 日本語・英語 ←→ English": two-way arrows between the labels of other versions of the page).
CRUMB_SEP_RE = re.compile(r"\s[>＞»›]\s|[＞»›]")
SWITCH_SEP_RE = re.compile(r"←→|↔|⇔|⇄")
PREV_NEXT_RE = re.compile(r"[«‹].*|.*[»›]|[<＜]\s.*|.*\s[>＞]")
LINK_END_RE = re.compile(r"(?:一覧(?:へ|を見る|に戻る|ページ)?|に戻る|へ戻る|をもっと見る|はこちら|こちらから|もっと見る)[>＞»›]*$")
# List bullets before an item; what a stamp line may keep besides stamps (a source name such as オリコン).
BULLET_RE = re.compile(r"^(?:[-・●■▶▷▼◆◇○※]\s*)+")
_SHORT_NAME_RE = re.compile(r"[^\s。、，,.！？!?]{0,12}")


class SiteFurnitureRemover(Cleaner):
    """Drop what news and blog templates wrap around an article, which the extractor keeps because it sits in the
    article's container: paywall, membership and newsletter notices (and everything after a paywall notice that
    closes the article: what follows a paywall is recommendations and footer), share and save prompts,
    related-article and recommendation blocks (heading plus its short item lines), bylines and credits, date/time
    stamp lines (not a list item's date whose entry follows), disclaimers, trademark and licence lines, and
    navigation left-overs (breadcrumbs, version switches, previous/next links, "back to the list" links, menus of
    short bullet items at the very start or end). Only lines up to max_line_chars are judged, so a paragraph that
    mentions 会員登録 stays."""

    name = "furniture"
    params = {
        "max_line_chars": Param(100, "only lines up to this length are judged as notices, prompts, bylines, dates "
                                     "or navigation", lo=1, kind=int),
        "related_max_lines": Param(20, "after a related/recommendation heading, remove up to this many following "
                                       "item lines; 0 removes the heading only", lo=0, kind=int),
        "item_max_chars": Param(100, "an item line of such a block is at most this long and does not end like a "
                                     "sentence (related headlines reach 90 characters)", lo=1, kind=int),
        "cut_at_paywall": Param(True, "drop everything after a paywall notice (会員限定, 続きをお読み, 残りN文字 ...) "
                                      "that has a lead before it (100 characters, or as many as from it on)",
                                kind=bool),
        "extra_notices": Param([], "more notice phrases (literal strings): a short line containing one is removed",
                               kind=list),
    }

    def __init__(self, options: Mapping[str, Any] | None = None):
        super().__init__(options)
        extra = self.options["extra_notices"]
        if not all(isinstance(w, str) and w for w in extra):
            raise ValueError(f"{self.name}.extra_notices: expected a list of non-empty strings, got {extra!r}")
        self._extra = re.compile("|".join(map(re.escape, extra))) if extra else None

    def is_notice(self, line: str) -> bool:
        """A paywall, membership or newsletter notice: a notice phrase in a label (no sentence end) or in a
        sentence that addresses the reader; a reported sentence ("会員登録者数は二割増えた。") is no notice."""
        if self._extra and self._extra.search(line):
            return True
        return bool(NOTICE_RE.search(line)) and (not SENTENCE_END_RE.search(line) or bool(ADDRESS_RE.search(line)))

    @staticmethod
    def is_stamp(line: str) -> bool:
        """Only dates, times, weekdays and their labels, plus at most a short source name."""
        if not DATE_OR_TIME_RE.search(line):
            return False
        return bool(_SHORT_NAME_RE.fullmatch(STAMP_RE.sub("", line).replace(" ", "")))

    @staticmethod
    def is_navigation(line: str) -> bool:
        """A breadcrumb (two or more > separators), a version switch (two or more two-way arrows), a previous/next
        link or a "to the list" link."""
        if SENTENCE_END_RE.search(line):
            return False
        return (len(CRUMB_SEP_RE.findall(line)) >= 2 or len(SWITCH_SEP_RE.findall(line)) >= 2
                or bool(PREV_NEXT_RE.fullmatch(line))
                or (len(line) <= 40 and bool(LINK_END_RE.search(line))))

    def is_furniture(self, line: str) -> bool:
        """One short line that is a notice, a prompt, a byline, a stamp, navigation, a disclaimer, a licence line,
        a line of dated headlines or an affiliate box's signature."""
        bare = BULLET_RE.sub("", line)
        return (self.is_notice(bare) or bool(SHARE_RE.fullmatch(bare)) or bool(BYLINE_RE.fullmatch(bare))
                or self.is_stamp(bare) or self.is_navigation(bare) or bool(DISCLAIMER_RE.search(bare))
                or bool(LICENCE_RE.search(bare))
                or bool(DATED_ITEMS_RE.fullmatch(bare)) or bool(AFFILIATE_RE.search(bare)))

    @staticmethod
    def ends_article(lines: list[str], i: int) -> bool:
        """A paywall notice at line i closes the article when a lead stands before it: at least 100 characters, or
        as many as from the notice on (a teaser, then the paywall, then recommendations and footer). A notice at the
        top (a pop-up before the article) does not."""
        before, after = sum(map(len, lines[:i])), sum(map(len, lines[i:]))
        return before >= min(after, 100)

    def related_block_end(self, lines: list[str], i: int) -> int:
        """Index after a related/recommendation block starting at line i, or i when line i is no such heading."""
        m = RELATED_HEAD_RE.match(lines[i])
        if m is None or SENTENCE_END_RE.search(lines[i]):
            return i
        rest = lines[i][m.end():].strip()
        if rest and len(rest) > self.options["item_max_chars"] * 2:
            return i
        end, limit = i + 1, self.options["item_max_chars"]
        while (end < len(lines) and end - i <= self.options["related_max_lines"] and lines[end]
               and len(lines[end]) <= limit and not SENTENCE_END_RE.search(lines[end])):
            end += 1
        return end

    @staticmethod
    def trim_edge_menus(lines: list[str]) -> list[str]:
        """Drop a run of two or more short bullet items (a menu: "- ホワイトペーパー") at the start or end of the text;
        inside the text such items may be the article's own list."""
        def is_item(line: str) -> bool:
            return bool(line) and len(line) <= 20 and bool(BULLET_RE.match(line)) and not SENTENCE_END_RE.search(line)

        start = 0
        while start < len(lines) and is_item(lines[start]):
            start += 1
        end = len(lines)
        while end > start and is_item(lines[end - 1]):
            end -= 1
        return lines[start if start >= 2 else 0:end if len(lines) - end >= 2 else len(lines)]

    def clean(self, text: str) -> str:
        lines = self.trim_edge_menus(text.split("\n"))
        out: list[str] = []
        longest = self.options["max_line_chars"]
        i = 0
        while i < len(lines):
            line = lines[i]
            if not line or len(line) > longest:
                out.append(line)
                i += 1
                continue
            end = self.related_block_end(lines, i)
            if end > i:
                i = end
                continue
            if (self.options["cut_at_paywall"] and PAYWALL_RE.search(line) and self.is_notice(line)
                    and self.ends_article(lines, i)):
                break
            if not self.is_furniture(line) or self.opens_dated_entry(lines, i):
                out.append(line)
            i += 1
        return _join(out)

    def opens_dated_entry(self, lines: list[str], i: int) -> bool:
        """A list item's date whose text goes on in the next line ("- 2019年3月15日公表" then the title it dates: a
        <br> inside one <li>) belongs to that entry, which is kept or dropped by its own line, not a stamp."""
        line, following = lines[i], lines[i + 1] if i + 1 < len(lines) else ""
        return (bool(BULLET_RE.match(line)) and self.is_stamp(BULLET_RE.sub("", line)) and bool(following)
                and not BULLET_RE.match(following) and not self.is_furniture(following))


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
            SiteFurnitureRemover, RepeatedLineRemover)
