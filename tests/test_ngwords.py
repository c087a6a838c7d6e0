"""NG-word filter: boundary rules, weights, user lists, clean text and the toxic pages of a generated crawl."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from jwc.filters.base import Doc
from jwc.filters.ng_forms import AffixRule, conjugations
from jwc.filters.ngwords import (LEXICON, LEXICON_CATEGORIES, NGWordFilter, affix_hits, hojichar_dict_dir,
                                read_lexicon)
from jwc.schemas.config import resolve
from tests import ngeval

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
GENERATOR = DATA.parent / "tools" / "make_warc_corpus.py"
REPO = Path(__file__).resolve().parents[1]

# Innocent words that contain dictionary entries (アス, イク, スケ, スラム, アカ, ロリ, 死, マラ, SM, AV, sex, 痴 ...).
INNOCENT = [
    "朝食にアスパラガスのソテーを作った。", "バイクで通勤するのが好きだ。", "イクラ丼を食べに北海道へ行った。",
    "来週のスケジュールを確認してください。", "イスラム教の礼拝について学んだ。", "アカデミー賞の授賞式が行われた。",
    "新しいアカウントを作成しました。", "このお菓子はカロリーが高い。", "東京マラソンに参加した。",
    "アスマラはエリトリアの首都である。", "スケートボードの大会が開かれた。", "事故で3人が死亡した。",
    "必死に勉強して合格した。", "ロリポップキャンディーを買った。", "ピザのデリバリーを頼んだ。",
    "ヘルスケア産業が成長している。", "ピストルの形をした玩具。", "カントリーミュージックを聴く。",
    "サックスを演奏する。", "SMBCの口座を開設した。", "AVXの命令に対応したCPU。",
    "SMAPの曲が流れていた。", "Essex is a county in England.", "She wore a sexy dress.",
    "Lebanon's ex-premier visited Paris.", "太郎くんに本を貸した。", "愚痴をこぼしても仕方がない。",
    "彼は音痴だと言われる。", "以下女性の参加者を募集します。", "背中出しのワンピースが流行している。",
    "姦しい声が廊下に響いた。", "アナリストの予測が外れた。", "オナガガモが池にいた。",
    "チンパンジーの研究をしている。", "バイブレーション機能付きの時計。", "エロンゴ州はナミビアにある。",
    "パンツスーツを買った。", "クリトンはプラトンの対話篇だ。", "彼女は事業に成功した。", "20世紀の歴史を学ぶ。",
    "車が静止していた。", "1893年に創業した。", "死ねる覚悟",
    # ordinary words around entries of the lexicon's second part (見抜き, 野菜売ります were taken out for these)
    "嘘を見抜き、真相に迫った。", "農家が野菜を売ります。", "アスペルガー症候群について学ぶ。", "買い取りと売り専門の店。",
    "シャブシャブを食べた。", "殺せる相手ではない。", "エッチングの技法を学ぶ。",
]
# Compounds MeCab splits at the entry, which carries its ordinary sense here; such entries weigh 0.1 and, with no
# explicit word of their topic on the page, add nothing to the score.
WEAK_COMPOUNDS = ["ダッチオーブンで料理をした。", "スラムダンクを全巻読んだ。", "モザイクアートの展示会。"]


@pytest.fixture(scope="module")
def ng() -> NGWordFilter:
    return NGWordFilter()


def words(f: NGWordFilter, text: str) -> list[str]:
    return [e.word for e, _, _ in f.matcher.find(text.lower())]


@pytest.mark.parametrize("sentence", INNOCENT)
def test_innocent_words_do_not_hit(ng: NGWordFilter, sentence: str) -> None:
    assert words(ng, sentence) == []


@pytest.mark.parametrize("sentence", WEAK_COMPOUNDS)
def test_weak_compound_hits_stay_far_below_threshold(ng: NGWordFilter, sentence: str) -> None:
    assert [e.weight for e, _, _ in ng.matcher.find(sentence)] == [0.1]
    assert ng.signals(Doc(sentence))["ng_score"] == 0.0


def test_real_uses_hit_and_score(ng: NGWordFilter) -> None:
    assert words(ng, "アスが見えた") == ["アス"]  # the entry standing alone still matches
    assert words(ng, "フェラハメ撮り動画") == ["フェラ", "ハメ撮り"]  # a katakana run MeCab splits
    assert words(ng, "アダルトサイトを運営") == ["アダルト"]
    assert words(ng, "強姦(ごうかん)致死容疑") == ["強姦"]  # the kana reading in parentheses is not a second use
    assert words(ng, "中出しの動画") == ["中出し"]  # MeCab cuts this as 中出|しの: the okurigana rule
    assert words(ng, "死ねよ") == ["死ね"]
    sig = ng.signals(Doc("当サイトでは無修正の中出し動画を毎日公開中。今月は巨乳の人妻が登場します。会員登録は無料です。"))
    assert sig["ng_adult"] == 4.0 and sig["ng_distinct"] == 4.0
    assert sig["ng_score"] == pytest.approx(1.0 + 1.0 + 1.0 + 0.3)  # 無修正, 中出し, 巨乳 and 人妻
    assert ng.decide(sig) == ["ngwords.toxic_score"]


def test_one_medium_word_is_not_enough_but_two_are(ng: NGWordFilter) -> None:
    one = ng.signals(Doc("記事によると、容疑者はアダルトサイトを運営していた。"))
    two = ng.signals(Doc("記事によると、容疑者はアダルトサイトを運営し、変態的な画像を掲載していたという。"))
    assert one["ng_score"] == pytest.approx(0.5) and ng.decide(one) == []
    assert two["ng_score"] == pytest.approx(1.0) and ng.decide(two) == ["ngwords.toxic_score"]


def test_news_vocabulary_stays_below_threshold(ng: NGWordFilter) -> None:
    text = ("警察によると、男は殺人と死体遺棄の疑いで逮捕された。男は暴力団員で、拳銃を所持していた。"
            "検察は死刑を求刑した。被害者は事故で死亡したとみられていたが、犯罪の可能性が浮上した。")
    sig = ng.signals(Doc(text))
    assert sig["ng_violence"] >= 4 and sig["ng_score"] == 0.0 and ng.decide(sig) == []  # no explicit word


def test_weak_words_count_only_beside_an_explicit_word_of_their_topic(ng: NGWordFilter) -> None:
    """A 0.5 word with weak words of its own category reaches the threshold (capped at weak_cap); weak words of
    another topic (crime-report vocabulary beside an adult word) add nothing."""
    same = ng.signals(Doc("ラブホテルで不倫、痴漢、人妻、童貞の話。"))  # 0.5 + adult 0.2, 0.2, 0.3, 0.3
    other = ng.signals(Doc("ラブホテルで殺人、死刑、暴力、拳銃の話。"))  # 0.5 + violence 0.1 x 4
    assert same["ng_score"] == pytest.approx(0.5 + 0.5) and ng.decide(same) == ["ngwords.toxic_score"]
    assert other["ng_score"] == pytest.approx(0.5) and ng.decide(other) == []


def test_signals_and_share(ng: NGWordFilter) -> None:
    spam = "エロ動画 無料 巨乳 中出し フェラ " * 10
    sig = ng.signals(Doc(spam))
    assert list(sig) == list(NGWordFilter.signal_names)
    assert sig["ng_char_share"] == pytest.approx((4 + 2 + 3 + 3) * 10 / len(spam))  # エロ動画 巨乳 中出し フェラ
    assert ng.decide(sig) == ["ngwords.toxic_score", "ngwords.toxic_share"]
    empty = ng.signals(Doc(""))
    assert empty["ng_score"] == 0.0 and empty["ng_char_share"] == 0.0


def test_long_documents_are_damped(ng: NGWordFilter) -> None:
    filler = "今日は晴れて気持ちのよい一日だった。" * 600  # about 10,800 characters
    short, long = ng.signals(Doc("巨乳" + "。")), ng.signals(Doc("巨乳。" + filler))
    assert short["ng_score"] == pytest.approx(1.0)
    assert long["ng_score"] == pytest.approx(1.0 / ((len(filler) + 3) / 3000) ** 0.5)


def test_user_lists_and_categories(tmp_path: Path) -> None:
    lst = tmp_path / "mine.txt"
    lst.write_text("# comment\nゴミ野郎\nきもい\t0.5\n", encoding="utf-8")
    f = NGWordFilter({"user_lists": [str(lst)], "categories": ["adult"]})
    sig = f.signals(Doc("あのゴミ野郎は本当にきもい。殺人事件のニュース。"))
    assert (sig["ng_user"], sig["ng_violence"], sig["ng_adult"]) == (2.0, 0.0, 0.0)
    assert sig["ng_score"] == pytest.approx(1.5)
    with pytest.raises(FileNotFoundError):
        NGWordFilter({"user_lists": [str(tmp_path / "missing.txt")]})
    with pytest.raises(ValueError, match=r"^ngwords.categories\[1\]: 'spam' is not one of 'adult', "):
        resolve("ngwords", NGWordFilter.params, {"categories": ["adult", "spam"]})


def test_dictionaries_come_from_installed_hojichar() -> None:
    folder = hojichar_dict_dir()
    assert (folder / "adult_keywords_ja.txt").is_file() and not (REPO / "filters" / "adult_keywords_ja.txt").exists()
    hide = ("import sys, importlib.abc\n"
            "class Hide(importlib.abc.MetaPathFinder):\n"
            "    def find_spec(self, name, path, target=None):\n"
            "        if name == 'hojichar': raise ModuleNotFoundError(name)\n"
            "sys.meta_path.insert(0, Hide())\n"
            "from jwc.filters.ngwords import NGWordFilter\n"
            "NGWordFilter()\n")
    run = subprocess.run([sys.executable, "-c", hide], cwd=REPO, capture_output=True, text=True)
    assert run.returncode != 0 and "pip install --no-deps hojichar" in run.stderr


# Obfuscated spellings (伏せ字 masks, symbols or spaces between characters, hiragana for katakana, full-size small
# kana, long-vowel marks, half-width) and the entry each stands for.
OBFUSCATED = [
    ("セ○クス", "セ○クス"), ("ち●こ", "ちんこ"), ("ま○こ", "まんこ|まむこ"), ("お○ぱい", "お●ぱい"), ("オ○ニー", "オ○ニー"),
    ("セ・ッ・ク・ス", "セックス"), ("ち ん こ", "ちんこ"), ("き.ん.た.ま", "きんたま"), ("エ　ロ　動　画", "エロ動画"),
    ("イ メ ー ジ ク ラ ブ", "イメージクラブ"), ("きもおた", "キモオタ"), ("ごみくず", "ゴミクズ"), ("セツクス", "セックス"),
    ("セーックス", "セックス"), ("おっぱ〜い", "おっぱい"), ("セックスー", "セックス"), ("ｾｯｸｽ", "セックス"),
    ("く そ 野 郎", "クソ野郎"), ("ガ・イ・ジ", "ガイジ"),
]
# Katakana runs and conjugations that begin like an entry, and kana sequences that fold onto one.
NOT_ENTRIES = [
    "キンタマーニ高原に行った。", "アナルディ選手が得点した。", "ジョコビッチが優勝した。", "デブレツェンはハンガリーの都市。",
    "ファックスで送る。", "バイブルを読む。", "シナリオを書く。", "東シナ海の資源。", "フィンランドの首都。",
    "フェラーリが勝った。", "デンマーク代表。", "セクハラ問題が起きた。", "マンコカパックはインカの初代皇帝。",
    "ペニシリンを投与した。", "シコルスキー社のヘリ。", "ヤリスを買った。", "ホモ・サピエンスの歴史。",
    "死ねばいいと思わない。", "そんなことでは死ねず、生き延びた。", "まだ死ねない。", "ページをめくらない。",
    "メールはメールで送る。", "テレサ似のパンが盗まれた。", "○チンコで大勝ちした。", "ブスッと刺した。",
    "米国ロックフェラー財団に招かれた。",
    # issue 15, third part: names and words around the new forms, suffixes, glued and spaced-out matching
    "ボブ・フェラーが速球を投げた。", "ホセ・フェラー氏が主演した。", "コキアの紅葉を見に行った。", "野郎ども、出発だ。",
    "教会のセクストンが鐘を鳴らした。", "日・米・英の首脳が会談した。", "ワクチンを接種した。", "ヘルスケア産業が伸びた。",
    "アナルコキャピタリズムを論じた。",
]


@pytest.mark.parametrize("written, entry", OBFUSCATED)
def test_obfuscated_spellings_hit_with_their_span(ng: NGWordFilter, written: str, entry: str) -> None:
    text = "記事によると、" + written + "という言葉が書き込まれた。"
    normalised = text.lower() if written != "ｾｯｸｽ" else text.replace("ｾｯｸｽ", "セックス")
    found = ng.matcher.find(normalised)
    assert len(found) == 1 and found[0][0].word in entry.split("|")
    _, start, end = found[0]
    assert (start, end) == (7, 7 + len(normalised) - len(text) + len(written))  # the whole obfuscated form
    sig = ng.signals(Doc(text))
    assert sig["ng_variants"] == float(normalised[start:end] != found[0][0].word)
    assert "ngwords.toxic_score" in ng.decide(sig)


def test_variants_keep_counts_and_shares(ng: NGWordFilter) -> None:
    text = "セ・ッ・ク・ス。ち ん こ。セックス。"
    sig = ng.signals(Doc(text))
    assert (sig["ng_adult"], sig["ng_variants"], sig["ng_distinct"]) == (3.0, 2.0, 2.0)
    assert sig["ng_char_share"] == pytest.approx((7 + 5 + 4) / len(text))  # the spans of the written forms
    assert sig["ng_score"] == pytest.approx(1.0 * (1 + math.log(2) / 2) + 1.0)
    plain = NGWordFilter({"variants": False}).signals(Doc(text))
    assert (plain["ng_adult"], plain["ng_variants"]) == (1.0, 0.0)  # セ・ッ・ク・ス and ち ん こ unseen


@pytest.mark.parametrize("sentence", NOT_ENTRIES)
def test_no_hit_on_conjugations_katakana_runs_and_folded_kana(ng: NGWordFilter, sentence: str) -> None:
    assert words(ng, sentence) == []


def test_one_pass_finds_the_entries_as_written_like_the_plain_matcher(ng: NGWordFilter) -> None:
    """The folded automaton keeps a hit as an entry where the text is written like it: on text without obfuscation
    it finds exactly what matching the entries as written finds (variants off)."""
    plain = NGWordFilter({"variants": False})
    text = "無修正の中出し動画、巨乳の人妻。アダルトビデオとエロゲー、死ねよ。アスパラガスとイスラム、セックスー。"
    expected = [("無修正", 0, 3), ("中出し", 4, 7), ("巨乳", 10, 12), ("人妻", 13, 15), ("アダルトビデオ", 16, 23),
                ("エロゲー", 24, 28), ("死ね", 29, 31)]
    assert [(e.word, a, b) for e, a, b in plain.matcher.find(text)] == expected
    # with variants, the same plus the stretched セックスー (as written, セックス|ー is a katakana run cut by a fragment)
    assert [(e.word, a, b) for e, a, b in ng.matcher.find(text)] == expected + [("セックス", 45, 50)]


def test_imperatives_and_compounds_still_hit(ng: NGWordFilter) -> None:
    assert words(ng, "お前なんか死ね。") == ["死ね"]
    assert words(ng, "死ねと言われた") == ["死ね"]  # a quotation particle, not a conjugation
    assert words(ng, "ヤリマンビッチが") == ["ヤリマン", "ビッチ"]  # a compound of two dictionary words
    assert words(ng, "アダルトビデオ") == ["アダルトビデオ"]  # the longest match only, not also アダルト


# Forms no list enumerates (filters/ng_forms.py): conjugations of verb entries, productive suffixes, weight-1.0
# entries glued to dictionary words, spaced-out two-character entries, stretched katakana runs: (text, word found).
FORMS = [
    ("お前をぶっ殺してやる。", "ぶっ殺してやる"), ("昨日パコった相手", "パコった"), ("ぶっ殺せ！", "ぶっ殺せ"),
    ("ハメまくりの夜", "ハメまくり"), ("ズーフィリアの男", "ズーフィリア"), ("ヘベフィリアという嗜好", "ヘベフィリア"),
    ("脇コキ動画", "脇コキ"), ("屍姦の描写", "屍姦"), ("母子相姦もの", "母子相姦"), ("このブタ野郎が", "ブタ野郎"),
    ("クロンボクラブW杯", "クロンボ"), ("パイズリサービス", "パイズリ"), ("お前はバ カだ", "バカ"), ("死・ねよ", "死ね"),
    ("巨・乳の画像", "巨乳"), ("イラマーの動画", "イラマ"), ("オナニーーした", "オナニ"),
]


@pytest.mark.parametrize("text, word", FORMS)
def test_forms_no_list_enumerates_hit(ng: NGWordFilter, text: str, word: str) -> None:
    matches = ng.matcher.find(text.lower())
    assert [e.word for e, _, _ in matches + affix_hits(ng.affixes, text.lower(), matches)] == [word]


# Native slang the published lists lack, added to the lexicon from own knowledge (issue 15): (text, word found).
NATIVE_SLANG = [("ちっぱい女子の画像", "ちっぱい"), ("あの害児が", "害児"), ("シナ人は出ていけ", "シナ人"),
                ("この糞ガキ！", "糞ガキ"), ("ナマポのくせに", "ナマポ"), ("あいつをボコる", "ボコる")]


@pytest.mark.parametrize("text, word", NATIVE_SLANG)
def test_native_slang_of_the_lexicon_hits(ng: NGWordFilter, text: str, word: str) -> None:
    assert [e.word for e, _, _ in ng.matcher.find(text.lower())] == [word]


def test_conjugations_and_suffixes() -> None:
    assert conjugations("ぶっ殺す") == ["ぶっ殺さない", "ぶっ殺される", "ぶっ殺した", "ぶっ殺したい", "ぶっ殺したら",
                                    "ぶっ殺して", "ぶっ殺しまくり", "ぶっ殺しまくる", "ぶっ殺します", "ぶっ殺せ"]
    assert "くわえ込んだ" in conjugations("くわえ込む") and "ハメた" in conjugations("ハメる")  # voiced; ichidan reading
    assert conjugations("おなほーる") == conjugations("セックス") == []  # nouns: a long mark or no verb ending
    rule = AffixRule("フィリア", "adult", 0.5)
    assert list(rule.find("。ズーフィリアは")) == [(1, 7)] and list(rule.find("ヘベフィリア大統領")) == [(0, 6)]
    assert list(rule.find("アフィリア")) == list(rule.find("ペドフィリアス")) == []  # one-kana prefix; a longer name
    assert list(AffixRule("姦", "adult", 1.0).find("獣姦罪")) == []  # the compound goes on in kanji
    assert list(AffixRule("野郎", "abuse", 0.5).find("「〇〇野郎」")) == [(1, 5)]  # 〇 is kanji (filters/charclass)


def test_affix_hits_score_like_entries(ng: NGWordFilter) -> None:
    sig = ng.signals(Doc("脇コキと髪コキの動画。"))  # two compounds of ～コキ (1.0): two distinct words
    assert (sig["ng_adult"], sig["ng_distinct"], sig["ng_score"]) == (2.0, 2.0, 2.0)
    assert ng.signals(Doc("手コキ動画。"))["ng_distinct"] == 1.0  # an entry itself is not also a suffix hit
    one = ng.signals(Doc("ヘベフィリアについての記事を読んだが、専門家の解説は丁寧で分かりやすかった。"))  # ～フィリア: 0.5
    assert one["ng_score"] == 0.5 and not ng.decide(one)
    assert NGWordFilter({"lexicon": False}).affixes == []


def test_lexicon_adds_categories_hojichar_lacks(ng: NGWordFilter, tmp_path: Path) -> None:
    rows = read_lexicon(LEXICON)
    by_category = {c: [w for w, cat, _ in rows if cat == c] for c in LEXICON_CATEGORIES}
    sizes = {c: len(ws) for c, ws in by_category.items()}
    assert sizes["drugs"] >= 10 and all(n >= 50 for c, n in sizes.items() if c != "drugs"), sizes
    assert len({w for w, _, _ in rows}) == len(rows)  # one line per word
    sig = ng.signals(Doc("あいつはガイジだ。"))
    assert (sig["ng_abuse"], sig["ng_score"]) == (1.0, 1.0) and ng.decide(sig)
    assert NGWordFilter({"lexicon": False}).signals(Doc("あいつはガイジだ。"))["ng_score"] == 0.0
    assert ng.signals(Doc("昏睡レイプの被害"))["ng_sexual_crime"] == 1.0
    deal, news = ng.signals(Doc("大麻売ります、連絡は下記の番号までお気軽にどうぞ。")), ng.signals(Doc("男は大麻を所持していた。"))
    assert (deal["ng_drugs"], ng.decide(deal)) == (1.0, ["ngwords.toxic_score"])
    assert (news["ng_drugs"], news["ng_score"], ng.decide(news)) == (1.0, 0.0, [])
    bad = tmp_path / "lexicon.tsv"
    bad.write_text("# header\nクズ\tabuse\t0.5\nカス\tinsult\t0.5\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"lexicon.tsv:3: category must be one of"):
        read_lexicon(bad)
    bad.write_text("クズ\tabuse\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"lexicon.tsv:1: expected word<TAB>category<TAB>weight"):
        read_lexicon(bad)


def test_lexicon_ships_with_the_installed_package() -> None:
    import importlib.metadata

    files = [str(f) for f in importlib.metadata.files("jwc") or []]
    assert LEXICON.is_file() and (any(f.endswith("ng_lexicon_ja.tsv") for f in files) or
                                  any(f.endswith(".pth") or "__editable__" in f for f in files))
    assert '"*.tsv"' in (REPO / "pyproject.toml").read_text(encoding="utf-8")


# --- measured on data -----------------------------------------------------------------------------------------

needs_data = pytest.mark.skipif(not (DATA.is_dir() and GENERATOR.is_file()), reason="../shared data not present")
shared = pytest.mark.shared

# Explicit and abusive words for the generator's toxic pages; some are not in hojichar's lists (デブ, ガイジ ...).
TOXIC_WORDS = """セックス まんこ ちんこ ちんぽ フェラ フェラチオ 中出し 顔射 手コキ パイズリ 巨乳 爆乳 乳首 潮吹き オナニー
手マン クンニ 淫乱 痴女 ヤリマン 肉便器 生ハメ ハメ撮り 無修正 エロ動画 アナル 騎乗位 正常位 射精 精液 ザーメン 勃起 童貞
援交 乱交 人妻 熟女 死ね 殺すぞ ぶっ殺す キチガイ ガイジ クズ ゴミ野郎 氏ね ブス デブ きもい うざい ビッチ 売女 チンカス
おっぱい エッチ SEX porn 18禁 アダルト動画 素人ナンパ オフパコ""".split()


@shared
@needs_data
def test_clean_text_flag_rate(ng: NGWordFilter) -> None:
    docs = ngeval.clean_documents()
    assert (len(docs["wikinews"]), len(docs["ud_gsd"])) == (1835, 105)
    assert ngeval.drop_rate(ng, docs["wikinews"]) <= 0.005  # measured 0.44 % (8 articles)
    assert ngeval.drop_rate(ng, docs["ud_gsd"]) <= 0.02  # measured 1.9 % (2 of 105: エロゲー, バカ + 売春)


@shared
@needs_data
def test_toxic_pages_of_generated_crawl(tmp_path: Path, ng: NGWordFilter) -> None:
    word_file = tmp_path / "ng.txt"
    word_file.write_text("\n".join(TOXIC_WORDS) + "\n", encoding="utf-8")
    truth = tmp_path / "c.truth.jsonl"
    subprocess.run([sys.executable, str(GENERATOR), "--text", str(DATA / "ja_text_wikinews"), "--text",
                    str(DATA / "ja_text_ud_gsd"), "--ng-words", str(word_file), "--records", "3000", "--seed", "31",
                    "--out", str(tmp_path / "c.warc.gz"), "--truth", str(truth)], check=True, capture_output=True)
    pages = [json.loads(line) for line in truth.open(encoding="utf-8")]
    toxic = [p for p in pages if p["kind"] == "toxic"]
    clean = [p for p in pages if p["kind"] == "article" and p["lang"] == "ja"]
    with_list = NGWordFilter({"user_lists": [str(word_file)]})

    def caught(f: NGWordFilter, ps: list[dict]) -> float:
        return sum(bool(f.decide(f.signals(Doc(p["article_text"])))) for p in ps) / len(ps)

    several = [p for p in toxic if len(set(p["ng_words"])) >= 2]
    assert len(toxic) >= 60 and len(several) >= 30
    # hojichar's lists alone: pages with two or more different inserted words are caught; one medium word
    # (人妻, 童貞) or a word missing from the lists (デブ, ガイジ) alone is not, by design
    assert caught(ng, several) >= 0.95
    assert caught(ng, toxic) >= 0.75
    # with the same words given as a user list, what remains are words glued into other words by the generator
    assert caught(with_list, toxic) >= 0.95
    # clean articles (news): the default stays within 1%; the user list weighs 人妻, 熟女, ブス ... at 1.0
    assert caught(ng, clean) <= 0.01 and caught(with_list, clean) <= 0.02


@shared
@needs_data
def test_held_out_words_and_their_obfuscations(tmp_path: Path, ng: NGWordFilter) -> None:
    """Pages carrying words of the held-back half of the lists (never looked at while building the filter), as
    written and obfuscated; docs/safety.md has the larger measurement (8,000 records, seeds 41-52)."""
    sets = ngeval.word_sets("held")
    if not sets["published_other"]:
        pytest.skip("safetext / glin-profanity (test data) not installed")
    plain_off = NGWordFilter({"variants": False})

    def rate(f: NGWordFilter, pages: list[dict]) -> float:
        return ngeval.drop_rate(f, [p["article_text"] for p in pages])

    obfuscated = ngeval.toxic_pages(tmp_path, ngeval.obfuscate(sets["hojichar_adult"], 61), 3000, 61)
    toxic = ngeval.toxic_pages(tmp_path, sets["published_other_toxic"], 3000, 62)
    assert len(obfuscated) >= 100 and len(toxic) >= 100
    # measured 0.82 with variants (0.78 before issue 15's third part), 0.48 without (seed 61)
    assert rate(ng, obfuscated) >= 0.80 and rate(plain_off, obfuscated) <= rate(ng, obfuscated) - 0.2
    # measured 0.72 (seed 62; 0.71 before issue 15's second part, 0.72 before its third); the goal of 0.9 is not
    # met (docs/safety.md)
    assert rate(ng, toxic) >= 0.70
