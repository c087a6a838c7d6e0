"""Japanese NG-word (toxicity) filter over the adult, discrimination and violence dictionaries of `hojichar`.

Matching those lists as plain substrings flags most clean pages (アスパラガス contains アス, バイク contains イク,
死亡 contains 死, 経済援助 contains 援助). This filter keeps recall on pages that really carry sexual or abusive
words and stays quiet on news and encyclopaedic text by three means:

1. Boundaries. Text and entries are NFKC-normalised and lower-cased, then matched with one Aho-Corasick automaton
   over the folded text (4.), whose hits count as entries where the text is written like them.
   An entry edge in Latin letters (or digits) must not touch letters (digits): SM is not in SMBC. An edge in
   hiragana, both edges of kanji entries of one or two characters (死 is not in 死亡), and a katakana or kanji edge
   next to the same script must fall on a MeCab (fugashi) token boundary: スラム is not in イスラム, 中出し is not in
   背中出し, but アダルト is in アダルトサイト. MeCab runs only on a small window around such a hit.
2. Weights. Each entry has a weight: 1.0 for words that are sexual or abusive on their own (a single one makes a
   page toxic), 0.5 for words that are explicit but also appear in news and health text, and 0.3 down to 0 for
   ordinary vocabulary that the lists contain (news words such as 殺人・自殺・性的, brand names, body parts in
   medical use, dated job names of the discrimination list). Defaults per category, then `WEIGHT_OVERRIDES`.
3. One combined score per document (`score_matches`): the sum over distinct matched entries of
   weight * (1 + ln(count) / 2), where entries under 0.5 add only beside an entry of 0.5 or more of their own
   category and together at most `weak_cap`, divided by sqrt(length / reference_chars) for long documents.
   Distinct words count fully and repeats add slowly, so a news article naming a crime many times stays below the
   threshold while a short page with two explicit words, or one repeated, does not.

4. Spelling variants (`ng_spelling`): the automaton runs over a folded view of the text in which 伏せ字 masks,
   symbols or spaces between characters, hiragana for katakana, small kana and long-vowel marks read like the
   entry (セ○クス, ち・ん・こ, せっくす, おっぱ〜い); its matches are mapped back to the original offsets and pass the
   same boundary checks. Only entries of three or more folded characters get every variant (いく for イク, あす for
   アス are ordinary words); those of two, weighing 0.5 or more, only their spaced-out spelling (バ カ, 死・ね).
5. Morphology beyond boundaries: a verb entry followed by an auxiliary or a conjunctive particle is a conjugation,
   not the entry (死ねば, 死ねず, 死ねない are not 死ね), and a katakana entry inside a longer katakana run needs the
   rest of the run to be a word, not a fragment MeCab cut from a foreign name (キンタマ|ー|ニ, アナル|ディ).
6. Forms no list enumerates (`ng_forms`): conjugations of verb entries (ぶっ殺して, パコった) become entries, and the
   lexicon's productive suffixes (`~フィリア`, `~コキ`) match compounds ending in them that no entry matched.

The word lists: hojichar's three dictionaries, the project's lexicon `ng_lexicon_ja.tsv` beside this module (words
hojichar lacks, by category and weight, documented in the file), and user lists (one word a line, optional tab +
weight, `#` comments; category "user").
"""
from __future__ import annotations

import functools
import importlib.util
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import ahocorasick

from jwc.filters.ng_forms import AffixRule, conjugations
from jwc.filters.base import Doc, Filter, Rule
from jwc.filters.charclass import is_hiragana, is_kanji, is_katakana
from jwc.filters.ng_spelling import (LONG_MARKS, MASKS, FoldedText, fold, fold_word, kana_pattern, masked_keys,
                                     same_script_shape, spaced_out)
from jwc.schemas.config import Param

CATEGORIES = ("adult", "sexual_crime", "abuse", "violence", "discrimination", "drugs", "user")
LEXICON = Path(__file__).with_name("ng_lexicon_ja.tsv")
AFFIX_MARK = "~"  # a lexicon word written ～フィリア is a suffix (NFKC turns ～ into ~)
LEXICON_CATEGORIES = frozenset(CATEGORIES) - {"user"}
HOJICHAR_FILES = {
    "adult": "adult_keywords_ja.txt",
    "violence": "violence_keywords_ja.txt",
    "discrimination": "discrimination_keywords_ja.txt",
}
# Adult entries are mostly explicit; the violence list is mostly news vocabulary (殺人, 死刑, 拉致) and the
# discrimination list mostly dated or discouraged words (保母, 八百屋, 処女作), so those start low.
CATEGORY_WEIGHTS = {"adult": 1.0, "violence": 0.1, "discrimination": 0.2}

# Per-entry weights (keys NFKC-normalised and lower-cased like the text). Chosen by reading the lists and the
# entries that fire on Wikinews / Wikipedia / blog text; see docs/safety.md. Entries not named keep their
# category weight.
_W0 = (  # ordinary words, names and brands: not matched at all
    "同性愛 妃殿下 巨万 表日本 聖女 脳膜炎 女傑 処女作 処女峰 おかもと オカモト okamoto サガミ sagami 援助 えんじょ "
    "エンジョ 自殺 性的 子宮 卵子 精子 梅毒 淋病 露出 レントゲン技師 スチュワーデス 保母 助産婦 八百屋 パーマ屋 "
    "共稼ぎ 出稼ぎ 他力本願 紅一点 男らしく 女らしく 健全なる精神は健全なる身体に宿る 令嬢 インディアン嘘つかない"
)
# Left out of the automaton: nearly every occurrence is something else ("太郎くんに" is くん + particle に).
IGNORED_ENTRIES = frozenset({"くんに"})
_W01 = (  # mostly innocent in running text
    "死 死ぬ 挿入 前立腺 割れ目 ストッキング ローター ダッチ ディック カント ハプニング モザイク ピストン ピス "
    "ポーン バージン ヴァージン サック ジイ 性病 性暴力 性虐待 排尿 女装 側室 女中 下女 下男 三助 丁稚 亀甲 座位 "
    "側位 立位 触手 二次画像 手ぶら 恥辱 恥骨 尺八 こうもん せいき せいし せいこう 乳房まっさーじゃー 痴 妾 "
    "バイブレーター 官能 惨殺 殺人 死刑 犯罪 暴力 二号 人夫 人足 乞食 処女 アル中 スラム ガキ イモ デカ サツ シマ ブツ "
    "ガサ チビ ヤンキー エスキモー ジプシー インチキ イカサマ パクる チャリンコ アカ スケ ヒモ 出戻り 毒女 鬼女"
)
_W02 = (
    "18+ 3p 48手 av sm jk hな hの hを hに aカップ bカップ cカップ dカップ eカップ fカップ gカップ 不倫 不貞 体位 "
    "全裸 痴漢 風俗 ふうぞく フウゾク ライブチャット ナンパ ソープ へるす ヘルス デリ でり ショタ サド シット バガー "
    "ポロリ ぽろり ビクビク ちつ でっち 浣腸 海綿体 聖水 心障児 心障者 精薄 回春 情夫 情婦 女給 女衒 避妊具 一物 "
    "ルンペン マラ ニガ オルガ えんこう エンコウ エンコー 両刀使い 両刀遣い 種付け 犯す 犯る 濡れる 濡らす ガーターベルト "
    "ハイレグ トップレス オナ 乱パ 低開発国 北鮮 中共 三国人 不具 人非人 三つ口 ババア ブス クソ 殺す 殺した"
)
_W03 = (
    "人妻 幼女 ようじょ ヨウジョ ロリータ 童貞 どうてい ドウテイ 盗撮 わいせつ 猥褻 卑猥 売春 買春 キャバクラ フェチ マゾ "
    "まぞ 発情 欲情 欲求不満 性欲 性癖 性生活 性行為 肉体関係 股間 こかん コカン 恥部 秘所 陰部 陰茎 膣 睾丸 肛門 包茎 "
    "短小 初夜 夜這い 姦通 剃毛 破廉恥 破瓜 喘ぐ 喘げ 放尿 脱糞 隠し撮り 鬼畜 コンドーム こんどーむ ストリップ ストリッパー "
    "ノンケ ニューハーフ ボイン ムラムラ むらむら むちむち むっちり もっこり はだか ぱんつ ぶらじゃー ちんちん チンチン "
    "エクスタシー アブノーマル エロス イク こうび コウビ しょじょ ショジョ じょうふ らんこう ランコウ へんたい "
    "マイクロビキニ 児童ポルノ 児童ぽるの 春画 汚辱 姫始め 姫納め 低脳 低脳児 オールドミス 女々しい"
)
_W05 = (  # explicit, but also in news, health or romance writing: one alone does not make a page toxic
    "アス セイコウ エロ えろ えろい エッチ えっち アダルト 変態 ヘンタイ ロリ ろり ロリコン ろりこん 性器 愛撫 喘ぎ 喘ぎ声 あえぎ アエギ "
    "av女優 av男優 アダルトビデオ 娼婦 媚薬 淫ら 淫 ポルノ ぽるの レズ ビッチ びっち ノーパン ノーブラ ラブホ らぶほ ラブホテル パパ活 ママ活 テレクラ "
    "バイブ ばいぶ 女陰 男根 陰毛 いんもう インモウ 早漏 遅漏 裏ビデオ 貧乳 美乳 金玉 性感 和姦 夢精 恥毛 エロティック "
    "スケベ すけべ hした hしたい hして hする hしよ m字 d乳 r18 hentai tenga テンガ av監督 スパンキング スワッピング "
    "ブルセラ シーメール 催淫 巨根 尻穴 菊門 緊縛 絶倫 秘部 神待ち キ印"
)
_W1 = (  # explicit or abusive whatever the context, and rare in news and encyclopaedic text
    "セックス せっくす sex おっぱい オッパイ 巨乳 乳首 ちくび チクビ 射精 精液 勃起 ぼっき ボッキ 性交 無修正 売女 自慰 "
    "前戯 性奴隷 寝取 筆おろし 筆下ろし 乱交 援交 "
    "死ね 氏ね 4ね タヒね ジャップ チャンコロ ニガー クロンボ キチガイ キ●ガイ キチガ● ポコペン ロンパリ"
)


def _norm(s: str) -> str:
    return unicodedata.normalize("NFKC", s).lower()


_TIERS = ((_W0, 0.0), (_W01, 0.1), (_W02, 0.2), (_W03, 0.3), (_W05, 0.5), (_W1, 1.0))
WEIGHT_OVERRIDES: dict[str, float] = {
    _norm(w): weight
    for words, weight in _TIERS
    for w in words.split()
}


@dataclass(frozen=True)
class Entry:
    word: str
    categories: tuple[str, ...]
    weight: float


@functools.lru_cache(maxsize=8192)
def _script(ch: str) -> str:
    """The script of one character; cached, since a text uses few distinct characters and this runs per edge."""
    if is_katakana(ch):
        return "kata"
    if is_hiragana(ch):
        return "hira"
    if ch.isascii() and ch.isalpha():
        return "latin"
    if ch.isascii() and ch.isdigit():
        return "digit"
    if is_kanji(ch):
        return "kanji"
    return "other"


def _script_at(text: str, i: int) -> str:
    """Script of text[i]; an apostrophe between letters counts as a letter (lebanon's ex-premier)."""
    ch = text[i]
    if ch in "'’" and 0 < i < len(text) - 1 and text[i - 1].isascii() and text[i - 1].isalpha():
        return "latin"
    return _script(ch)


def _is_reading(text: str, start: int, end: int) -> bool:
    """A kana gloss in parentheses after a word with kanji, 強姦(ごうかん), 淫ら(みだら): the reading of a word, not
    a use of the entry."""
    return 1 < start and end < len(text) and text[start - 1] == "(" and text[end] == ")" \
        and _script(text[start - 2]) in ("kanji", "hira") and all(_script(c) in ("hira", "kata") for c in text[start:end])


def _edge_check(length: int, ch: str) -> str:
    """How an entry edge made of character `ch` must meet its neighbour: "latin", "digit": must not touch that
    script; "token": on a MeCab token boundary; "kata", "kanji": on a token boundary when the neighbour is of the
    same script; "": no check. Computed from the text's own character, so a variant spelling (せっくす for
    セックス) is checked as what it is."""
    script = _script(ch)
    if script in ("kata", "latin", "digit"):
        return script
    if script == "hira" or (script == "kanji" and length <= 2):
        return "token"
    return "kanji" if script == "kanji" else ""


def hojichar_dict_dir() -> Path:
    """The folder of dictionaries inside the installed hojichar package (only its data files are used)."""
    try:  # locates the package without importing it (it was installed without its dependencies)
        spec = importlib.util.find_spec("hojichar")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "ngwords: the NG-word dictionaries come from the PyPI package 'hojichar', which is not installed; "
            "install it with `pip install --no-deps hojichar`"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "dict"
    if not path.is_dir():
        raise RuntimeError(f"ngwords: hojichar is installed but has no dictionary folder at {path}")
    return path


def read_word_list(path: Path) -> list[tuple[str, float | None]]:
    """Words (normalised) with an optional weight from a `word<TAB>weight` line; `#` starts a comment line."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, weight = line.partition("\t")
        word = _norm(word.strip().strip('"').strip())
        if word and "test_string_of_" not in word and word not in IGNORED_ENTRIES:  # and hojichar's test markers
            out.append((word, float(weight) if weight.strip() else None))
    return out


def read_lexicon(path: Path) -> list[tuple[str, str, float]]:
    """(word, category, weight) rows of a lexicon file (`word<TAB>category<TAB>weight`, `#` comment lines); a
    malformed line is refused with its number."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        try:
            word, category, weight = _norm(parts[0].strip()), parts[1].strip(), float(parts[2])
        except (IndexError, ValueError):
            raise ValueError(f"ngwords: {path}:{number}: expected word<TAB>category<TAB>weight, got {line!r}") from None
        if category not in LEXICON_CATEGORIES or not 0.0 <= weight <= 1.0 or not word:
            raise ValueError(f"ngwords: {path}:{number}: category must be one of {', '.join(sorted(LEXICON_CATEGORIES))}"
                             f" and weight within 0-1, got {line!r}")
        rows.append((word, category, weight))
    return rows


def build_entries(user_lists: list[str], user_weight: float, categories: list[str],
                  lexicon: Path | None = LEXICON) -> dict[str, Entry]:
    """All entries by normalised word; a word in several lists keeps every category and its largest weight."""
    rows: list[tuple[str, str, float]] = []
    folder = hojichar_dict_dir() if set(categories) & set(HOJICHAR_FILES) else None
    sources: list[tuple[str, Path, float]] = [
        (c, folder / HOJICHAR_FILES[c], CATEGORY_WEIGHTS[c]) for c in HOJICHAR_FILES if c in categories and folder
    ]
    sources += [("user", Path(p), user_weight) for p in user_lists]
    for category, path, default in sources:
        if not path.is_file():
            raise FileNotFoundError(f"ngwords: word list {path} not found")
        for word, given in read_word_list(path):
            w = given if given is not None else WEIGHT_OVERRIDES.get(word, default) if category != "user" else default
            rows.append((word, category, w))
    if lexicon is not None:
        rows += [row for row in read_lexicon(lexicon) if not row[0].startswith(AFFIX_MARK)]
    rows += [(form, category, w) for word, category, w in rows if w >= 0.5 for form in conjugations(word)]
    cats: dict[str, set[str]] = {}
    weight: dict[str, float] = {}
    for word, category, w in rows:
        cats.setdefault(word, set()).add(category)
        weight[word] = max(weight.get(word, 0.0), w)
    return {w: Entry(w, tuple(sorted(cats[w])), weight[w]) for w in cats}


def build_affixes(lexicon: Path | None = LEXICON) -> list[AffixRule]:
    """The lexicon's productive suffixes, written `~X` (NFKC of `～X`): matched by `AffixRule`, not as words."""
    rows = read_lexicon(lexicon) if lexicon is not None else []
    return [AffixRule(word[len(AFFIX_MARK):], category, w) for word, category, w in rows
            if word.startswith(AFFIX_MARK) and len(word) > len(AFFIX_MARK)]


_wakati: Any = None
_tagger: Any = None


def _mecab(full: bool = False) -> Any:
    """One module-level fugashi tagger of each kind: wakati output for boundaries, full features for POS."""
    global _wakati, _tagger
    import fugashi

    if full:
        _tagger = _tagger or fugashi.Tagger()
        return _tagger
    _wakati = _wakati or fugashi.Tagger("-Owakati")
    return _wakati


def _token_bounds(text: str) -> set[int]:
    """Offsets in `text` where a MeCab token starts or ends."""
    bounds = {0, len(text)}
    pos = 0
    for tok in _mecab().parse(text).split(" "):
        if not tok:
            continue
        found = text.find(tok, pos)
        if found < 0:
            continue
        bounds.add(found)
        pos = found + len(tok)
        bounds.add(pos)
    return bounds


Windows = list[tuple[int, int, set[int]]]


def _window_at(text: str, at: int, windows: Windows) -> tuple[int, int, set[int]]:
    """A tokenised window of 16 characters either side of `at` (windows already tokenised for other hits are reused
    when `at` lies 6 or more characters inside them)."""
    n = len(text)
    for lo, hi, bounds in windows:
        if (lo == 0 or lo + 6 <= at) and (hi == n or at <= hi - 6):
            return lo, hi, bounds
    lo, hi = max(0, at - 16), min(n, at + 16)
    windows.append((lo, hi, {lo + b for b in _token_bounds(text[lo:hi])}))
    return windows[-1]


def _on_token_boundary(text: str, at: int, windows: Windows) -> bool:
    """Whether offset `at` is a MeCab token boundary."""
    if at <= 0 or at >= len(text):
        return True
    return at in _window_at(text, at, windows)[2]


_SMALL_OR_LONG = frozenset("ァィゥェォッャュョヮヵヶぁぃぅぇぉっゃゅょゎー")


def _is_fragment(token: str) -> bool:
    """A piece MeCab cut from an unknown katakana word rather than a word: one mora (ディ, ニ) or starting with a
    long-vowel mark or small kana (ーニ)."""
    return not token or token[0] in _SMALL_OR_LONG or sum(ch not in _SMALL_OR_LONG for ch in token) < 2


def _is_conjugated(text: str, end: int) -> bool:
    """Whether the verb or adjective ending at `end` goes on with an auxiliary or a conjunctive particle (死ね|ば,
    死ね|ず, 死ね|ない): a conjugated form that merely begins like an imperative entry."""
    lo = max(0, end - 16)
    pos = lo
    previous = None
    for word in _mecab(full=True)(text[lo:min(len(text), end + 8)]):
        start = text.find(word.surface, pos)
        if start < 0:
            return False
        pos = start + len(word.surface)
        if previous is not None:
            return previous.feature.pos1 in ("動詞", "形容詞") and (
                word.feature.pos1 == "助動詞" or (word.feature.pos1 == "助詞" and word.feature.pos2 == "接続助詞"))
        if pos == end:
            previous = word
        elif pos > end:
            return False
    return False


# What one automaton key stands for: the entries spelled so (compared with the text as written) and the entries
# it is a variant spelling of.
Key = tuple[list[Entry], list[Entry]]


class NGWordMatcher:
    """Finds accepted NG-word occurrences in text; built once per process. Entries weighing 0 (ordinary words
    such as 自殺, 援助, 同性愛) are left out: they could never change a decision, only cost boundary checks.

    One automaton over the folded text (with `variants`; over the text itself without): the folded spelling of
    every entry, whose hits are kept where the text there is written like the entry, and the masked keys of the
    entries of 3 or more folded characters weighing 0.5 or more (of 2: the folded key, for spaced-out spellings
    only), whose hits are variant spellings. Folding never
    splits an entry, so every occurrence as written is also a hit in the folded view; one pass instead of two."""

    def __init__(self, entries: Mapping[str, Entry], variants: bool = True):
        self.entries = {w: e for w, e in entries.items() if e.weight > 0}
        self.variants = variants
        keys: dict[str, Key] = {}
        for entry in self.entries.values():
            key = fold_word(entry.word) if variants else entry.word
            keys.setdefault(key, ([], []))[0].append(entry)
            if variants and len(key) >= 2 and entry.weight >= 0.5:  # weak entries' variants are ordinary words
                for k in (key, *masked_keys(key)):  # (パンツ, not ぱんつ); two characters: spaced out only
                    keys.setdefault(k, ([], []))[1].append(entry)
        self._automaton = _automaton(keys)

    def find(self, text: str) -> list[tuple[Entry, int, int]]:
        """(entry, start, end) in normalised `text` for every occurrence that passes its boundary checks, variant
        spellings included."""
        out: list[tuple[Entry, int, int]] = []
        windows: Windows = []
        variant_windows: Windows = []  # apart, as before the merge: a window's place can change MeCab's cuts
        view = fold(text) if self.variants else FoldedText(text, (0,), (0,))
        candidates: list[tuple[list[Entry], int, int]] = []
        for last, (length, (spelled, variant_of)) in self._automaton.iter(view.text) if self._automaton else ():
            start, end = view.span(last + 1 - length, last + 1)
            for entry in spelled:
                stop = start + len(entry.word)
                if text.startswith(entry.word, start) and not _is_reading(text, start, stop) \
                        and _accepted(entry, text, start, stop, windows):
                    out.append((entry, start, stop))
            if variant_of:
                candidates += self._variant_candidate(text, start, end, variant_of, variant_windows)
        return _outermost(out + self._accepted_variants(text, candidates))

    def _variant_candidate(self, text: str, start: int, end: int, entries: list[Entry], windows: Windows,
                           ) -> list[tuple[list[Entry], int, int]]:
        """The entries the span text[start:end] may be a variant spelling of, best first (none when the span is an
        entry as written, judged as such, or too short or a reading to count)."""
        end = _with_trailing_marks(text, start, end, windows)
        span = text[start:end]
        hiragana = _HIRAGANA_RUN.fullmatch(span) is not None
        if (span in self.entries and not hiragana and not _HAS_MASK.search(span)) \
                or (hiragana and end - start < 4) or _is_reading(text, start, end):
            # an entry as written is judged as such, except where MeCab cannot segment it (せっくす, ち●こ);
            # three hiragana are too often something else: くんに is くん + に, not クンニ
            return []
        written = kana_pattern(span)
        fitting = [e for e in entries if e.word != span and (spaced_out(e.word, span) if len(fold_word(e.word)) == 2
                                                             else same_script_shape(e.word, span))]
        # the entry in the same scripts first (セックス, not せっくす, for セックスー), then the heaviest
        fitting.sort(key=lambda e: (kana_pattern(e.word) == written, e.weight), reverse=True)
        return [(fitting, start, end)] if fitting else []

    @staticmethod
    def _accepted_variants(text: str, candidates: list[tuple[list[Entry], int, int]]) -> list[tuple[Entry, int, int]]:
        """Variant occurrences that pass the boundary checks of their entry, longest first where they overlap."""
        out: list[tuple[Entry, int, int]] = []
        covered = bytearray(len(text))  # variants do not overlap each other; nesting with entries is resolved later
        for fitting, start, end in sorted(candidates, key=lambda c: c[1] - c[2]):  # longest first
            entry = next((e for e in fitting if _accepted_as_written(e, text, start, end)), None)
            if entry is not None and not any(covered[start:end]):
                covered[start:end] = b"\x01" * (end - start)
                out.append((entry, start, end))
        return out


_HIRAGANA_RUN = re.compile("[\u3041-\u3096]+")
_HAS_MASK = re.compile(f"[{re.escape(MASKS)}]")


def _with_trailing_marks(text: str, start: int, end: int, windows: Windows) -> int:
    """The end of a variant span with the long-vowel marks after it when MeCab cuts the word before them (セックス|ー
    is セックスー, a stretched セックス) or when span and marks are a whole katakana run (イラマー, which MeCab keeps
    as one unknown word); unchanged when they belong to a longer word (ロックフェラー is not フェラ) or a name."""
    marks = end
    while marks < len(text) and text[marks] in LONG_MARKS:
        marks += 1
    if marks == end or (start >= 2 and text[start - 1] in "・=" and _script(text[start - 2]) == "kata"):
        return end  # after ボブ・ the run is a foreign name: ボブ・フェラー is Bob Feller
    whole_run = (start == 0 or _script(text[start - 1]) != "kata") and (marks == len(text) or _script(text[marks]) != "kata") \
        and all(_script(ch) == "kata" for ch in text[start:end])
    return marks if whole_run or _on_token_boundary(text, end, windows) else end


def _outermost(matches: list[tuple[Entry, int, int]]) -> list[tuple[Entry, int, int]]:
    """Matches not inside a longer one, in text order: アダルトビデオ is one word, not also アダルト, and クソ野郎 not
    also クソ."""
    out: list[tuple[Entry, int, int]] = []
    reach = -1
    for match in sorted(matches, key=lambda m: (m[1], -m[2])):
        if match[2] > reach:
            out.append(match)
            reach = match[2]
    return out


def _accepted_as_written(entry: Entry, text: str, start: int, end: int) -> bool:
    """The boundary checks of a variant spelling, made on its context with the entry written in place of it:
    MeCab cannot segment き.ん.た.ま or せっくす, but it can tell whether キンタマ, セックス fit where they stand."""
    lo, hi = max(0, start - 20), min(len(text), end + 20)
    restored = text[lo:start] + entry.word + text[end:hi]
    return _accepted(entry, restored, start - lo, start - lo + len(entry.word), [], written=False)


def _automaton(keys: Mapping[str, Key]) -> Any:
    """A pyahocorasick automaton from key to (key length, entries), or None without keys."""
    if not keys:
        return None
    automaton = ahocorasick.Automaton()
    for key, entries in keys.items():
        automaton.add_word(key, (len(key), entries))
    automaton.make_automaton()
    return automaton


def _accepted(entry: Entry, text: str, start: int, end: int, windows: Windows, written: bool = True) -> bool:
    """Both edges of the occurrence text[start:end] pass their checks: cheap ones first, MeCab only when needed.
    `written`: the entry stands in the text as written, not restored in place of a variant spelling."""
    checks = (_edge_check(len(entry.word), text[start]), _edge_check(len(entry.word), text[end - 1]))
    length = len(entry.word)
    start_ok, end_ok = _edge_verdict(checks[0], length, text, start, False), _edge_verdict(checks[1], length, text, end, True)
    if start_ok is False or end_ok is False:
        return False
    if start_ok is None and not _edge_on_tokens(checks[0], entry, text, start, False, windows, written):
        return False
    if end_ok is None and not _edge_on_tokens(checks[1], entry, text, end, True, windows, written):
        return False
    # a verb entry followed by an auxiliary or conjunctive particle is a conjugation (死ねば, 死ねず)
    return not (checks[1] == "token" and _script(text[end - 1]) == "hira" and end < len(text)
                and _script(text[end]) == "hira" and _is_conjugated(text, end))


_FINAL_PARTICLES = ("よ", "や", "っ", "ぇ", "ー")


def _edge_verdict(check: str, length: int, text: str, at: int, is_end: bool) -> bool | None:
    """Whether an edge with `check` of an entry of `length` characters may be at offset `at`, from the neighbouring character alone; None when
    only MeCab can tell."""
    neighbour = at if is_end else at - 1
    if not check or not 0 <= neighbour < len(text):
        return True
    if text[neighbour] in MASKS:  # a masked character beside the entry: the word is longer (○チンコ is パチンコ)
        return False
    script = _script_at(text, neighbour)
    if check in ("latin", "digit"):
        return script != check
    if check in ("kata", "kanji"):  # inside a run of the same script, only where MeCab splits (アダルト|サイト)
        return None if script == check else True
    if script in ("other", "latin", "digit"):  # punctuation, spaces, symbols: always a token boundary
        return True
    if script == "kanji" and length == 1:  # a one-kanji entry inside a kanji compound (死亡, 淫行)
        return False
    return None


def _splits_katakana_run(text: str, at: int) -> bool:
    """Whether the katakana run around offset `at` is a compound of words that splits at `at` (アダルト|サイト), not
    a name or an unknown word MeCab cut into pieces (キンタマ|ー|ニ, アナル|ディ, ジョコ|ビッチ): every token of the
    run must be a dictionary word that is not a proper noun, and the tokens on both sides of `at` real words."""
    lo, hi = at, at
    while lo > 0 and _script(text[lo - 1]) == "kata":
        lo -= 1
    while hi < len(text) and _script(text[hi]) == "kata":
        hi += 1
    pos, cut, sides = lo, False, []
    for word in _mecab(full=True)(text[lo:hi]):
        if word.is_unk or word.feature.pos2 == "固有名詞":
            return False
        if pos in (at - len(word.surface), at):
            sides.append(word.surface)
        pos += len(word.surface)
        cut = cut or pos == at
    return cut and len(sides) == 2 and not any(_is_fragment(t) for t in sides)


def _glued_to_words(text: str, at: int, is_end: bool) -> bool:
    """Whether the rest of the katakana run on one side of an entry is a compound of words (クロンボ|クラブ), read by
    MeCab apart from the entry, which MeCab may cut wrongly where it does not know it (クロ|ンボクラブ): every piece
    a dictionary word, not a proper noun and not a fragment (キンタマ|ーニ, アナル|ディ, ジョコ|ビッチ stay apart)."""
    lo, hi = at, at
    while lo > 0 and _script(text[lo - 1]) == "kata":
        lo -= 1
    while hi < len(text) and _script(text[hi]) == "kata":
        hi += 1
    rest = text[at:hi] if is_end else text[lo:at]
    return all(not w.is_unk and w.feature.pos2 != "固有名詞" and not _is_fragment(w.surface)
               for w in _mecab(full=True)(rest))


def _edge_on_tokens(check: str, entry: Entry, text: str, at: int, is_end: bool, windows: Windows,
                    written: bool = True) -> bool:
    """The MeCab part of the edge check. Glued to other words (クロンボ|クラブ) only an entry of weight 1.0 counts,
    which is abusive or explicit in any compound (ヘルス|ケア is not), and only as written: a variant's folded key
    finds too many pieces of other words (セクス|トン restored as セクース|トン)."""
    if check == "kata":  # next to katakana: only where the run is a compound of words
        return _splits_katakana_run(text, at) or (written and entry.weight >= 1.0 and len(entry.word) >= 3
                                                  and _glued_to_words(text, at, is_end))
    if _on_token_boundary(text, at, windows):
        return True
    if check == "kanji":
        return False
    if is_end and text[at:at + 1] in _FINAL_PARTICLES and _on_token_boundary(text, at + 1, windows):
        return True  # a sentence-final particle MeCab fused to the word: 死ねよ is one token
    # MeCab sometimes glues a final okurigana to the next particle (中出|しの): accept a boundary one kana earlier
    # for entries that start in kanji or katakana, but not inside one token (死ねる is not 死ね)
    return is_end and _script(entry.word[0]) in ("kanji", "kata") and _script(text[at - 1]) == "hira" \
        and _on_token_boundary(text, at - 1, windows)


def score_matches(matches: list[tuple[Entry, int, int]], length: int, reference_chars: float, weak_cap: float) -> float:
    """Sum over distinct entries of weight * (1 + ln(count) / 2), damped by sqrt(length / reference_chars) for
    documents longer than reference_chars: distinct words weigh most, repeats and sheer length add slowly. Entries
    weighing under 0.5 add only when they share a category with an entry of 0.5 or more, and together at most
    `weak_cap`: news vocabulary alone never drops a page, nor does one explicit word beside crime-report words of
    another topic (an AV actress arrested over 大麻 and 覚醒剤)."""
    counts: dict[Entry, int] = {}
    for entry, _, _ in matches:
        counts[entry] = counts.get(entry, 0) + 1
    parts = {e: e.weight * (1 + math.log(c) / 2) for e, c in counts.items()}
    strong = {e: v for e, v in parts.items() if e.weight >= 0.5}
    topics = {c for e in strong for c in e.categories}
    weak = sum(v for e, v in parts.items() if e.weight < 0.5 and topics.intersection(e.categories))
    return (sum(strong.values()) + min(weak, weak_cap)) / math.sqrt(max(1.0, length / reference_chars))


def affix_hits(rules: list[AffixRule], text: str, matches: list[tuple[Entry, int, int]],
               ) -> list[tuple[Entry, int, int]]:
    """Compounds ending in a productive suffix (ズーフィリア, 脇コキ) that no entry matched, as pseudo-entries of the
    suffix's category and weight (the compound is the word, so two of them count as two distinct words)."""
    taken = bytearray(len(text))
    for _, start, end in matches:
        taken[start:end] = b"\x01" * (end - start)
    out: list[tuple[Entry, int, int]] = []
    for rule in rules:
        for s, e in rule.find(text):
            if not any(taken[s:e]):
                taken[s:e] = b"\x01" * (e - s)
                out.append((Entry(text[s:e], (rule.category,), rule.weight), s, e))
    return out


class NGWordFilter(Filter):
    """Drops pages that carry sexual or abusive words, scored with per-entry weights (see module doc)."""

    name = "ngwords"
    params = {
        "max_score": Param(0.9, "drop when ng_score is above this; one weight-1.0 word scores 1.0, two distinct "
                           "0.5 words 1.0, a 0.5 word repeated 8 times 1.02", lo=0.0),
        "max_char_share": Param(0.25, "drop when more than this share of characters is inside matches of entries "
                                "weighing 0.5 or more: keyword-stuffed pages, whatever their length", lo=0.0, hi=1.0),
        "reference_chars": Param(3000.0, "documents longer than this get their score divided by "
                                 "sqrt(length / reference_chars)", lo=1.0),
        "weak_cap": Param(0.5, "most that entries weighing under 0.5 (news vocabulary, ambiguous words) add to "
                          "ng_score together, and only beside an explicit word (0.5 or more) of their own category",
                          lo=0.0),
        "categories": Param(["adult", "violence", "discrimination"], "hojichar dictionaries to use", kind=list,
                            item=str, choices=tuple(HOJICHAR_FILES)),
        "user_lists": Param([], "paths of extra word lists (UTF-8, one word a line, optional TAB weight)", kind=list,
                            item=str),
        "user_weight": Param(1.0, "weight of user-list words that give none", lo=0.0),
        "lexicon": Param(True, "also use the project's lexicon filters/ng_lexicon_ja.tsv: sexual, sexual-crime, "
                         "abusive, discriminatory and threatening words hojichar lacks, by category and weight"),
        "variants": Param(True, "also match obfuscated spellings of entries of 3+ characters: masks (セ○クス), "
                          "symbols or spaces between characters, hiragana for katakana, small kana, long vowels"),
    }
    rules = (
        Rule("toxic_score", "ng_score", "max", "max_score"),
        Rule("toxic_share", "ng_char_share", "max", "max_char_share"),
    )
    signal_names = (
        *(f"ng_{c}" for c in CATEGORIES), "ng_variants", "ng_distinct", "ng_char_share", "ng_score",
    )

    def __init__(self, options: Mapping[str, Any] | None = None):
        super().__init__(options)
        entries = build_entries(list(self.options["user_lists"]), self.options["user_weight"],
                                list(self.options["categories"]), LEXICON if self.options["lexicon"] else None)
        self.matcher = NGWordMatcher(entries, self.options["variants"])
        self.affixes = build_affixes(LEXICON if self.options["lexicon"] else None)

    def signals(self, doc: Doc) -> dict[str, float]:
        text = doc.cached("ng_normalised", lambda: _norm(doc.text))
        matches = self.matcher.find(text)
        matches += affix_hits(self.affixes, text, matches)
        per_category = dict.fromkeys(CATEGORIES, 0)
        covered = bytearray(len(text))
        for entry, start, end in matches:
            for c in entry.categories:
                per_category[c] += 1
            if entry.weight >= 0.5:
                covered[start:end] = b"\x01" * (end - start)
        out = {f"ng_{c}": float(per_category[c]) for c in CATEGORIES}
        out["ng_variants"] = float(sum(text[start:end] != entry.word for entry, start, end in matches))
        out["ng_distinct"] = float(len({e.word for e, _, _ in matches}))
        out["ng_char_share"] = covered.count(1) / len(text) if text else 0.0
        out["ng_score"] = score_matches(matches, len(text), self.options["reference_chars"], self.options["weak_cap"])
        return out


FILTERS = (NGWordFilter,)
