"""Japanese quality cleaners and filters on texts written for the tests: exact signal values, edge cases
(supplementary-plane kanji, full-width digits, empty text, one enormous line) and the filter contract."""
from __future__ import annotations

import math
import random
import time

import pytest

from jwc.filters import cleaners, composition, junk, morphology, repetition, sentences
from jwc.filters.base import Cleaner, Doc, Filter
from jwc.filters.cleaners import (
    BoilerplateLineRemover,
    NonJapaneseLineRemover,
    PunctuationNormalizer,
    RepeatedLineRemover,
    SiteFurnitureRemover,
    UnicodeNormalizer,
)
from jwc.filters.composition import CompositionFilter, class_counts, lines
from jwc.filters.junk import JunkFilter, is_menu_line, longest_run
from jwc.filters.morphology import MorphologyFilter, tagger, tokens
from jwc.filters.repetition import RepetitionFilter, char_ngram_repetition, duplicate_share
from jwc.filters.sentences import SentenceFilter, sentences as split_sentences
from jwc.schemas.config import resolve

FILTER_CLASSES: tuple[type[Filter], ...] = (composition.FILTERS + sentences.FILTERS + repetition.FILTERS
                                            + junk.FILTERS + morphology.FILTERS)
PROSE = ("昨日は朝から雨が降っていたので、駅まで歩いて行くのをやめてバスに乗った。"
         "車内は混んでいたが、窓の外の景色を眺めているうちに気分が落ち着いてきた。")


def signals(cls: type[Filter], text: str, **options) -> dict[str, float]:
    return cls(options).signals(Doc(text))


# --- the contract -------------------------------------------------------------------------------------------


def test_filters_declare_unique_prefixed_signals_and_valid_rules():
    names = [n for cls in FILTER_CLASSES for n in cls.signal_names]
    assert len(names) == len(set(names))
    prefixes = {"composition": "comp_", "sentences": "sent_", "repetition": "rep_", "junk": "junk_",
                "morphology": "morph_"}
    for cls in FILTER_CLASSES:
        assert all(n.startswith(prefixes[cls.name]) for n in cls.signal_names)
        for rule in cls.rules:
            assert rule.signal in cls.signal_names and rule.param in cls.params
    assert len({cls.name for cls in FILTER_CLASSES}) == len(FILTER_CLASSES)
    assert [c.name for c in cleaners.CLEANERS] == ["unicode", "punctuation", "non_japanese_lines", "boilerplate",
                                                   "furniture", "repeated_lines"]
    assert all(issubclass(c, Cleaner) for c in cleaners.CLEANERS)


@pytest.mark.parametrize("text", ["", "　\n\n ", PROSE, "𠮷", "１２３４５", "★" * 50, "ab\n" * 30])
def test_signals_are_exactly_the_declared_finite_floats(text):
    for cls in FILTER_CLASSES:
        out = signals(cls, text)
        assert tuple(out) == cls.signal_names
        assert all(type(v) is float and math.isfinite(v) for v in out.values()), (cls.name, out)


def test_unknown_option_and_bad_word_list_are_refused():
    with pytest.raises(ValueError, match="unknown key"):
        CompositionFilter({"min_length": 10})
    with pytest.raises(ValueError, match=r"^boilerplate.extra_words\[1\]: expected a string, got int \(3\)$"):
        resolve("boilerplate", BoilerplateLineRemover.params, {"extra_words": ["ok", 3]})
    with pytest.raises(ValueError, match=r"^boilerplate.extra_words\[0\]: '' is not a non-empty string$"):
        resolve("boilerplate", BoilerplateLineRemover.params, {"extra_words": [""]})


# --- composition --------------------------------------------------------------------------------------------


def test_composition_counts_supplementary_kanji_and_keeps_full_width_digits_out_of_letters():
    s = signals(CompositionFilter, "𠮷野家で３０分待った。")
    # 𠮷 野 家 分 待 = 5 kanji, で っ た = 3 hiragana; ３ ０ 。 are Japanese typography but not letters.
    assert s["comp_chars"] == 11.0
    assert s["comp_ja_letters"] == 8.0
    assert s["comp_hiragana_frac"] == pytest.approx(3 / 8)
    assert s["comp_katakana_frac"] == 0.0
    assert s["comp_japanese_frac"] == 1.0


def test_composition_katakana_marks_and_other_scripts():
    doc = Doc("ABC テスト ｱｲｳ ーヶ 々〆〇 123 ★")
    c = class_counts(doc)
    assert (c[composition.KATAKANA], c[composition.KANJI], c[composition.OTHER]) == (8, 3, 3)
    assert (c[composition.NEUTRAL], c[composition.SYMBOL], c[composition.SPACE]) == (3, 1, 0)
    s = CompositionFilter().signals(doc)
    assert s["comp_katakana_frac"] == pytest.approx(8 / 11)
    # Digits and symbols are neutral: only the three Latin letters count against Japanese.
    assert s["comp_japanese_frac"] == pytest.approx(11 / 14)
    assert CompositionFilter().decide(s) == ["composition.too_short", "composition.few_ja_letters",
                                             "composition.low_hiragana", "composition.high_katakana"]


def test_composition_empty_text_is_zero_and_too_short():
    f = CompositionFilter()
    s = f.signals(Doc(""))
    assert set(s.values()) == {0.0}
    assert f.decide(s)[0] == "composition.too_short"


def test_composition_keeps_prose():
    f = CompositionFilter()
    assert f.decide(f.signals(Doc(PROSE * 3))) == []


# --- sentences ----------------------------------------------------------------------------------------------


def test_sentence_split_lengths_and_kuten_density():
    text = "今日は晴れ。明日は雨！本当？\n見出し"
    assert split_sentences(Doc(text)) == ["今日は晴れ。", "明日は雨！", "本当？", "見出し"]
    s = signals(SentenceFilter, text)
    assert s == {"sent_count": 4.0, "sent_avg_len": 17 / 4, "sent_max_len": 6.0, "sent_ellipsis_frac": 0.0,
                 "sent_chars_per_kuten": 17 / 3}


def test_closing_brackets_stay_with_their_sentence():
    assert split_sentences(Doc("「行く。」と彼は言った。そうか！！")) == ["「行く。」", "と彼は言った。", "そうか！！"]


def test_ascii_marks_inside_urls_and_names_end_no_sentence():
    text = "福岡Yahoo!Japanドーム。詳細はhttps://a.jp/?id=1&q=2にある。葛西が銀!7度目"
    assert split_sentences(Doc(text)) == ["福岡Yahoo!Japanドーム。", "詳細はhttps://a.jp/?id=1&q=2にある。", "葛西が銀!",
                                          "7度目"]


def test_ellipsis_endings_include_read_more_links():
    text = "速報です…\n続報は…続きを読む\n詳しくは...\n次回へ……（続く）\n普通の文。"
    s = signals(SentenceFilter, text)
    assert s["sent_ellipsis_frac"] == pytest.approx(4 / 5)
    assert "sentences.ellipsis" in SentenceFilter().decide(s)


def test_questions_exclamations_and_list_lines_end_sentences():
    questions = "この町の人口はどのくらい減ったのでしょうか？駅前の商店街はこの先も残るのでしょうか？" * 8
    exclaims = "今年の花火大会は過去最高の人出になりました！来年もぜひ皆さんで見に来てください！" * 8
    items = "\n".join(f"・{n}番目の項目では申請に必要な書類と窓口の受付時間を説明しています" for n in range(12))
    for text in (questions, exclaims, items):
        assert text.count("。") == 0 and SentenceFilter().decide(signals(SentenceFilter, text)) == [], text
    assert signals(SentenceFilter, questions)["sent_chars_per_kuten"] == len(questions) / 16
    assert signals(SentenceFilter, items)["sent_chars_per_kuten"] == len(items.replace("\n", "")) / 12
    assert signals(SentenceFilter, "1. 書類をそろえる\n2) 窓口へ行く\n3．受付票を取る")["sent_chars_per_kuten"] == 24 / 3
    # ?! inside URLs and names are no sentence ends; a run of marks counts once; a bare bullet is no list item
    assert signals(SentenceFilter, "https://a.jp/?id=1&q=2 Yahoo!Japan")["sent_chars_per_kuten"] == 33.0
    assert signals(SentenceFilter, "本当？！？\n・\nええ!?")["sent_chars_per_kuten"] == 10 / 2


def test_text_without_kuten_reports_its_length_per_kuten():
    s = signals(SentenceFilter, "キャンプ テント ランタン " * 40)
    assert s["sent_chars_per_kuten"] == 11 * 40
    assert "sentences.few_kuten" in SentenceFilter().decide(s)


# --- repetition ---------------------------------------------------------------------------------------------


def test_duplicate_lines_and_paragraphs_by_count_and_characters():
    assert duplicate_share(["あ", "いい", "あ", "あ"]) == (0.5, 2 / 5)
    s = signals(RepetitionFilter, "段落その一\n\n段落その二\n\n段落その一")
    assert s["rep_dup_para_frac"] == pytest.approx(1 / 3)
    assert s["rep_dup_para_char_frac"] == pytest.approx(1 / 3)
    assert s["rep_dup_line_frac"] == pytest.approx(1 / 3)


def test_character_ngram_repetition_exact_values():
    text = "あいうえおかきくけこ" * 3  # 30 characters, the 10-character block three times
    doc = Doc(text)
    g = char_ngram_repetition(composition.codepoints(doc))
    # Every n-gram occurs 3 times: the top n-gram covers 3n of 30 characters; everything after the first block
    # repeats the first block.
    assert (g[2], g[3], g[4]) == (pytest.approx(0.2), pytest.approx(0.3), pytest.approx(0.4))
    assert all(g[n] == pytest.approx(20 / 30) for n in range(5, 11))


def test_ngram_repetition_ignores_whitespace_and_unique_text_is_zero():
    g = char_ngram_repetition(composition.codepoints(Doc("あいうえおかきくけこさしすせそ")))
    assert set(g.values()) == {0.0}
    spaced = char_ngram_repetition(composition.codepoints(Doc("あいう えおかきく けこ\n" * 3)))
    assert spaced[5] == pytest.approx(20 / 30)


def test_repetition_rejects_a_repeated_paragraph_and_keeps_prose():
    f = RepetitionFilter()
    assert f.decide(f.signals(Doc(PROSE))) == []
    reasons = f.decide(f.signals(Doc("\n\n".join([PROSE] * 4))))
    assert "repetition.dup_paragraphs" in reasons and "repetition.dup10gram" in reasons


# --- junk ---------------------------------------------------------------------------------------------------


def test_ad_and_bbs_marks_per_thousand_characters():
    s = signals(JunkFilter, "送料無料！税込1,980円。今すぐクリック")
    assert s["junk_ad_per_kchar"] == 8.0  # 4 hits; short texts count as 500 characters
    bbs = "1 名前：名無しさん 2024/01/02(火) 12:34:56.78 ID:abcd1234\n草"
    assert signals(JunkFilter, bbs)["junk_bbs_per_kchar"] == 8.0  # 名前： 名無し ID: and the time stamp
    assert signals(JunkFilter, "2024年1月2日、東京で会見した。午後の予定は未定。")["junk_bbs_per_kchar"] == 0.0


def test_menu_like_lines():
    assert is_menu_line("ホーム | 会社概要 | 採用情報", 12)
    assert is_menu_line("ホーム > ニュース > 経済", 12)
    assert is_menu_line("- ヨガマット 6mm ￥3,698（税込）", 12)
    assert is_menu_line("ダイエット サプリメント コラーゲン ビタミン", 12)
    assert not is_menu_line("今日は晴れ。", 12)
    assert not is_menu_line("- 接続タイプは、有線と無線の二種類から選べます。", 12)


def test_short_lines_runs_symbols_and_compression():
    s = signals(JunkFilter, "あ\nいい\n今日はとても良い天気でした。")
    assert s["junk_short_line_frac"] == pytest.approx(3 / 17)  # characters in lines under 10 characters
    assert signals(JunkFilter, "わ" + "ー" * 40 + "い")["junk_max_char_run"] == 40.0
    assert longest_run(composition.codepoints(Doc("ああ あ い"))) == 3  # whitespace is ignored
    assert signals(JunkFilter, "★★★☆☆ 😀😀 テスト")["junk_symbol_frac"] == pytest.approx(7 / 10)
    assert signals(JunkFilter, "ここをクリック。" * 200)["junk_compression_ratio"] > 20
    assert signals(JunkFilter, PROSE)["junk_compression_ratio"] < 2


def test_junk_keeps_prose_and_rejects_a_product_list():
    f = JunkFilter()
    assert f.decide(f.signals(Doc(PROSE + "\n" + PROSE))) == []
    listing = "\n".join(f"- 商品{i} ￥{i * 100:,}（税込） 送料無料 ポイント10倍" for i in range(1, 30))
    assert f.decide(f.signals(Doc(listing)))[:2] == ["junk.ads", "junk.menu_lines"]


# --- morphology ---------------------------------------------------------------------------------------------


def test_tokens_are_computed_once_per_document_and_the_tagger_once_per_process():
    doc = Doc(PROSE)
    first = tokens(doc)
    MorphologyFilter().signals(doc)
    assert tokens(doc) is first
    assert tagger() is tagger()
    assert ("雨", "名詞") in first and all(pos != "補助記号" for _, pos in first)


def test_noun_ratio_word_repetition_and_word_length():
    f = MorphologyFilter()
    prose = f.signals(Doc(PROSE))
    assert prose["morph_noun_frac"] < 0.5 and prose["morph_word_dup_frac"] == 0.0
    assert 1.0 < prose["morph_avg_word_len"] < 2.0
    nouns = f.signals(Doc("ダイエット サプリメント コラーゲン プラセンタ ビタミン スキンケア"))
    assert nouns["morph_noun_frac"] == 1.0
    assert f.decide(nouns) == ["morphology.nouns", "morphology.long_words"]
    assert f.signals(Doc("今日は晴れです。" * 10))["morph_word_dup_frac"] > 0.9


def test_morphology_handles_supplementary_kanji_and_empty_text():
    # unidic-lite does not know supplementary-plane kanji: MeCab calls 𠮷 a symbol, so it is not a word token.
    assert tokens(Doc("𠮷野家に行った")) == [("野家", "名詞"), ("に", "助詞"), ("行っ", "動詞"), ("た", "助動詞")]
    assert set(MorphologyFilter().signals(Doc("")).values()) == {0.0}


# --- cleaners -----------------------------------------------------------------------------------------------


def test_unicode_normalizer_whitespace_controls_and_optional_nfkc():
    raw = "\ufeffＡＢＣ\r\nテ\u200bスト\t\tです\u3000。  \n\n\n\n  次の行  "
    assert UnicodeNormalizer().clean(raw) == "ＡＢＣ\nテスト です\u3000。\n\n次の行"
    assert UnicodeNormalizer({"nfkc": True}).clean("ＡＢＣ　ｶﾀｶﾅ ㈱") == "ABC カタカナ (株)"


def test_punctuation_normalized_only_where_that_style_dominates():
    p = PunctuationNormalizer()
    assert p.clean("これは，テストです．円周率は３．１４です，３，０００円．") == "これは、テストです。円周率は３．１４です、３，０００円。"
    mixed = "これは、テストです。Ｈｉ，それは．"
    assert p.clean(mixed) == mixed


def test_lines_without_japanese_are_dropped():
    assert NonJapaneseLineRemover().clean("Home\n本文です。\n123\n| |\n\nEnglish only\nまた𠮷。") == "本文です。\n\nまた𠮷。"
    assert NonJapaneseLineRemover({"min_ja_letters": 3}).clean("OK です\n日本語です") == "日本語です"


def test_boilerplate_lines_and_footer_are_removed_but_the_body_stays():
    body = ("市は十日、駅前の再開発計画を発表した。総事業費は約三百億円で、二〇三〇年の完成を目指す。"
            "市長は「ランキング上位の住みやすい街にしたい」と話し、利用規約の改定にも触れた。")
    page = "\n".join([
        "トップページ > ニュース一覧", "ログイン | 新規会員登録", "2024年5月10日(金) 12:00 配信",
        body, "この記事をシェアする", "詳しくはこちら",
        "市の担当者は今後も説明会を開く。", "関連記事", "会社概要｜プライバシーポリシー｜お問い合わせ",
        "Copyright © 2024 Example News All Rights Reserved.", "市民の声",
    ])
    assert BoilerplateLineRemover().clean(page) == body + "\n市の担当者は今後も説明会を開く。"


def test_footer_search_never_reaches_into_a_short_pages_body():
    text = "会員登録で便利に\n本文の一行目です。\n本文の二行目です。"
    assert BoilerplateLineRemover().clean(text) == "本文の一行目です。\n本文の二行目です。"
    assert BoilerplateLineRemover({"extra_words": ["市民の声"]}).clean("本文です。\n市民の声") == "本文です。"


def test_site_furniture_lines_go_and_article_lines_stay():
    lead = ("政府は三日、新しい経済対策を閣議決定した。総額は約二十兆円で、所得の低い世帯への給付が柱となる。"
            "首相は記者会見で「物価高に苦しむ人を支える」と述べた。")
    keeps = [
        lead,
        "会員登録者数は前年より二割増え、同社は「有料会員の伸びが収益を支えた」と説明した。この傾向は続く見込みだ。",
        "岸田総理", "その判断は…", "写真：セレクトセールでの落札シーン＆落札後の横姿(2017/7/11撮影)",
        "手順3：犬の年齢を計算する", "定休日：水曜日",
    ]
    furniture = [
        "このニュースをシェア", "記事保存", "Evernote保存", "ご利用には会員登録が必要です", "文：山田太郎",
        "岡田浩幸 記者", "Source: バンダイ", "2月15日（土）7時0分 オリコン", "2019年4月11日 12時00分 更新",
        "福娘童話集 > きょうのイソップ童話 > 欲張りなイヌ", "« 前の記事 | トップ |", "- ニュースリリース一覧へ",
    ]
    cleaner = SiteFurnitureRemover()
    assert [line for line in keeps if cleaner.is_furniture(line)] == []
    assert [line for line in furniture if not cleaner.is_furniture(line)] == []
    text = "\n".join(["- 政治", "- 経済", furniture[0], *keeps, "関連キーワード", "経済対策", "給付金", "物価"])
    assert cleaner.clean(text) == "\n".join(keeps)
    # A related heading is a whole word: a line that only starts with one is text, and so are the lines after it.
    assert cleaner.clean("おすすめの観光地は京都です\n嵐山\n清水寺") == "おすすめの観光地は京都です\n嵐山\n清水寺"


def test_text_after_a_closing_paywall_notice_goes_a_top_notice_only_itself():
    lead = "六月十二日の首脳会談を巡って戦っていたのは、二人の首脳ばかりではなかった。その判断は…"
    paywalled = "\n".join([lead, "この記事は会員限定です。電子版に登録すると続きをお読みいただけます。", "天気", "訂正・おわび"])
    assert SiteFurnitureRemover().clean(paywalled) == lead
    assert SiteFurnitureRemover({"cut_at_paywall": False}).clean(paywalled) == "\n".join([lead, "天気", "訂正・おわび"])
    popup = "\n".join(["有料会員の方のみご利用になれます。", lead, lead + "続く。"])
    assert SiteFurnitureRemover().clean(popup) == "\n".join([lead, lead + "続く。"])
    assert SiteFurnitureRemover({"extra_notices": ["天気"]}).is_furniture("今日の天気")
    with pytest.raises(ValueError, match="extra_notices"):
        SiteFurnitureRemover({"extra_notices": [""]})


def test_full_width_and_tab_runs_become_one_space_a_lone_full_width_space_stays():
    text = "\u3000\u3000字下げの段落です。\u3000 次の文。\t\tタブ\u3000区切り  二つ"
    assert UnicodeNormalizer().clean(text) == "字下げの段落です。 次の文。 タブ\u3000区切り 二つ"


def test_link_list_blocks_and_archive_lines_are_removed_short_lists_stay():
    text = "\n".join([
        "ひだまり日記", "今日は図書館で本を三冊借りた。", "最近の記事",
        "花見のマナー", "家庭でできる地震への備え", "市民天文台で土星の観望会", "盆踊り大会に子どもたちの笑顔",
        "2026年11月 (12)", "2026年10月 (9)", "帰りにパン屋へ寄った。", "持ち物", "水筒", "帽子",
    ])
    # The four headlines form a list block; the three-line packing list is shorter than list_min_lines.
    assert BoilerplateLineRemover().clean(text) == "ひだまり日記\n今日は図書館で本を三冊借りた。\n帰りにパン屋へ寄った。\n持ち物\n水筒\n帽子"
    assert "花見のマナー" in BoilerplateLineRemover({"list_min_lines": 0}).clean(text)


def test_diary_lines_in_polite_form_and_table_rows_are_no_list_block():
    diary = ["駅から川沿いを歩きました", "桜がもう満開でした", "お昼はおにぎりです", "帰りは電車にしました"]
    rows = ["| 重量 | 62.5g |", "| 価格 | 4万4800円 |", "| 画面 | 3.3型液晶 |", "| 電池 | 800mAh |"]
    headlines = ["花見のマナー", "市民天文台で土星の観望会", "完了しました", "盆踊り大会に子どもたちの笑顔"]  # a short UI line
    text = "\n".join([*diary, "", *rows, "", *headlines])
    assert BoilerplateLineRemover().clean(text) == "\n".join([*diary, "", *rows])


def test_disclaimers_dated_headline_lines_and_affiliate_signatures_are_furniture():
    cleaner = SiteFurnitureRemover()
    furniture = ["- 記事内の筆者見解は明示のない限り当サイトを代表するものではありません。",
                 "新製品を発表--春の限定モデル（4/1） 決算は増収増益に（4/4）",
                 "やさしい家計簿入門posted with amazlet at 19.03.02", "週刊ニュースの最新情報を購読しよう"]
    keeps = ["総会は4月1日（月）に開く予定だ。", "重量 62.5g", "3.3型液晶を搭載した。",
             "委員会の見解は分かれたが、結論は来月に持ち越された。"]
    assert [line for line in furniture if not cleaner.is_furniture(line)] == []
    assert [line for line in keeps if cleaner.is_furniture(line)] == []
    assert cleaner.is_stamp("2019.03.08") and cleaner.is_stamp("3月8日") and not cleaner.is_stamp("62.5g")


def test_legal_notices_licence_lines_and_version_switches_are_furniture():
    cleaner = SiteFurnitureRemover()
    furniture = ["- ※ 掲載の会社名・製品名は、各社の商標または登録商標です。",
                 "※ 価格・仕様は予告なく変更される場合があります。",
                 "この文章はクリエイティブ・コモンズ 表示 4.0 国際 ライセンスで提供しています。",
                 "ふりがな ←→ 漢字 ←→ English"]
    keeps = ["同社は新しい製品名を商標登録したと発表した。", "料金は予告なく変わったと利用者が訴えた。",
             "東京 ⇔ 大阪の夜行バスに乗った", "まちの話題 2024年5月2日 晴れのち雨で、祭りは午後から始まった"]
    assert [line for line in furniture if not cleaner.is_furniture(line)] == []
    assert [line for line in keeps if cleaner.is_furniture(line)] == []


def test_a_list_items_date_stays_with_the_entry_it_dates():
    """A <br> inside an <li> ("- date" then the title on the next line): the date is part of the entry."""
    lead = "市は大型連休中の詐欺に注意するよう呼びかけている。過去の注意喚起は次のとおり。"
    entry = ["- 2024年4月1日公表", "「連休に便乗した偽の通販サイトにご注意ください」"]
    assert SiteFurnitureRemover().clean("\n".join([lead, *entry])) == "\n".join([lead, *entry])
    # A date item followed by another item, or by furniture, is a stamp as before.
    assert SiteFurnitureRemover().clean("\n".join([lead, "- 2024年4月1日", "- お知らせ一覧へ"])) == lead
    assert SiteFurnitureRemover().clean("\n".join([lead, "- 2024年4月1日", "この記事をシェア"])) == lead


def test_share_bar_flattened_into_a_line_is_cut_but_two_words_in_prose_stay():
    line = ("市は駅前の再開発計画を発表した。 LINEで送る Facebookでシェア リンクをコピー "
            "総事業費は約三百億円で、広告配信の会社も参加する。")
    assert BoilerplateLineRemover().clean(line) == ("市は駅前の再開発計画を発表した。 総事業費は約三百億円で、"
                                                    "広告配信の会社も参加する。")
    assert BoilerplateLineRemover({"min_word_run": 0}).clean(line) == line


def test_repeated_short_lines_dropped_long_ones_kept():
    long_line = "この段落は三十文字より長いので繰り返されても掃除では消さずにフィルタに任せる。"
    text = f"続きを読む\n本文A。\n続きを読む\n{long_line}\n{long_line}\nいいね！\nいいね！"
    assert RepeatedLineRemover().clean(text) == f"続きを読む\n本文A。\n{long_line}\n{long_line}\nいいね！"


# --- whole chain on enormous input ---------------------------------------------------------------------------


def _run_chain(text: str) -> tuple[Doc, list[str]]:
    for cls in cleaners.CLEANERS:
        text = cls().clean(text)
    doc = Doc(text)
    reasons = []
    for cls in FILTER_CLASSES:
        f = cls()
        reasons += f.decide(f.signals(doc))
    return doc, reasons


@pytest.mark.parametrize("kind", ["prose", "random"])
def test_one_megabyte_line_is_fast(kind):
    if kind == "prose":
        text = (PROSE * (1_000_000 // len(PROSE) + 1))[:1_000_000]
    else:
        rng = random.Random(5)
        alphabet = [chr(c) for c in range(0x3041, 0x3097)] + [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
        text = "".join(rng.choices(alphabet, k=1_000_000))
    start = time.perf_counter()
    doc, reasons = _run_chain(text)
    elapsed = time.perf_counter() - start
    assert len(lines(doc)) == 1 and len(doc.text) == 1_000_000
    assert elapsed < 10, elapsed  # a quadratic step would take many minutes on 10^6 characters
    if kind == "prose":
        assert "repetition.dup10gram" in reasons and "sentences.longest_sentence" not in reasons
    else:
        assert "sentences.longest_sentence" in reasons and "repetition.dup10gram" not in reasons
