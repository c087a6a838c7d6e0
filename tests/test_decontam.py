"""Benchmark decontamination (filters/decontam.py): evaluation-style set files in JSONL, TSV and Parquet, passages
hidden in documents verbatim, re-spaced, width-changed, broken across lines and edited, and false flags on real
clean text (UD GSD sentences as a set against every Wikinews article)."""
from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jwc.filters.base import Doc
from jwc.filters.chain import Chain
from jwc.filters.decontam import DecontamFilter, DecontamIndex, Item, normalise
from jwc.pipeline.config import ConfigError, load

from tests.dceval import (flagged, gsd_pairs, gsd_sentences, index_of, quarter_articles, quarter_passages, recall,
                           variants)
from tests.helpers import shared_data

QUIZ = [  # multiple-choice items written for this test
    {"id": "q1", "question": "日本で最も長い川はどれか。流域面積の広さではなく、本流の長さで比べたときに一番長いものを次から選びなさい。",
     "choices": ["信濃川", "利根川", "石狩川"], "answer": "信濃川"},
    {"id": "q2", "question": "江戸幕府を開いた人物は誰か。関ヶ原の戦いに勝利したのち征夷大将軍に任じられた武将を答えよ。",
     "choices": ["徳川家康", "豊臣秀吉", "織田信長"], "answer": "徳川家康"},
]
READING = [  # reading-comprehension items (TSV)
    ("r1", "山あいの小さな町では、毎年秋になると住民が総出で収穫祭を開き、その年に採れた米や野菜を神社に奉納する習わしが今も続いている。",
     "収穫祭で奉納されるものは何か。"),
]
PAIRS = [  # sentence pairs (Parquet)
    {"id": "p1", "sentence1": "駅前の図書館は改装工事のため来月の初めから三か月にわたって休館し、その間は臨時の窓口で貸し出しを行う。",
     "sentence2": "図書館は改装のあいだ休む。"},
]
HOST = ("きょうは朝から晴れていて、近所の公園では子どもたちが元気に遊んでいました。午後になると風が強くなり、"
        "洗濯物を早めに取り込みました。夕方には買い物に出かけ、夕飯の材料をそろえました。")


def _write_sets(tmp: Path) -> list[str]:
    quiz = tmp / "quiz.jsonl"
    quiz.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in QUIZ), encoding="utf-8")
    reading = tmp / "reading.tsv"
    reading.write_text("id\tcontext\tquestion\n" + "".join("\t".join(r) + "\n" for r in READING), encoding="utf-8")
    pairs = tmp / "pairs.parquet"
    pq.write_table(pa.Table.from_pylist(PAIRS), pairs)
    return [str(quiz), str(reading), str(pairs)]


def _filter(tmp: Path, **options) -> DecontamFilter:
    return DecontamFilter({"sets": _write_sets(tmp), **options})


def test_normalise_maps_width_spaces_and_halfwidth_kana_back_to_the_original() -> None:
    codes, origin = normalise("ＡＢ c\nｶﾞｲﾄﾞ、本")
    assert "".join(map(chr, codes.tolist())) == "abcガイド本"
    assert origin.tolist() == [0, 1, 3, 5, 7, 8, 11]


def test_each_set_format_is_read_and_items_are_found_in_every_variant(tmp_path: Path) -> None:
    f = _filter(tmp_path)
    assert sorted(f.index.digests) == ["pairs", "quiz", "reading"]
    assert all(d.startswith("sha256:") for d in f.index.digests.values())
    rng = random.Random(3)
    assert all(len(p) >= 50 for p in (QUIZ[0]["question"], READING[0][1], PAIRS[0]["sentence1"]))
    for item_set, item_id, passage in [("quiz", "q1", QUIZ[0]["question"]), ("reading", "r1", READING[0][1]),
                                       ("pairs", "p1", PAIRS[0]["sentence1"])]:
        for kind, variant in variants(passage, rng).items():
            doc = Doc(HOST[:40] + variant + HOST[40:])
            s = f.signals(doc)
            assert f.decide(s) == ["decontam.contaminated"], (item_id, kind)
            assert (item_set, item_id) in f.matches(doc).found(0.5), (item_id, kind)
            assert 0 < s["decontam_coverage"] < 1 and s["decontam_item_share"] > 0.5 and s["decontam_items"] == 1


def test_short_common_phrases_and_short_fields_are_not_flagged(tmp_path: Path) -> None:
    f = _filter(tmp_path)
    # 12-character pieces of items (below the 15-character n-gram) and the one-word answers
    text = HOST + "日本で最も長い川はどれか。" + HOST + "駅前の図書館は改装工事" + "信濃川と徳川家康。"
    s = f.signals(Doc(text))
    assert s["decontam_ngrams"] == 0.0 and f.decide(s) == []
    # a shared citation line (one n-gram) is not a copy of a short item either
    line = "出典：日本で最も長い川はどれか。流域面積の"
    s = f.signals(Doc(HOST + line + HOST))
    assert 0 < s["decontam_ngrams"] < 10 and s["decontam_item_share"] == 0.0 and f.decide(s) == []


def test_without_sets_the_filter_is_a_no_op_with_nan_signals() -> None:
    f = DecontamFilter({})
    s = f.signals(Doc(HOST))
    assert set(s) == set(DecontamFilter.signal_names) and all(math.isnan(v) for v in s.values())
    assert f.decide(s) == []


def test_cut_mode_cuts_a_small_overlap_from_a_long_document_and_drops_a_short_one(tmp_path: Path) -> None:
    sets = _write_sets(tmp_path)
    options = {"sets": sets, "action": "cut", "cut_min_chars": 500, "cut_max_coverage": 0.2}
    f = DecontamFilter(options)
    chain = Chain([], [f])  # alone, so other filters' verdicts on the repeated host are out
    passage = READING[0][1]
    long_doc = HOST * 6 + "\n" + passage + "\n" + HOST * 6
    v = chain.run(long_doc)
    assert v.keep and v.signals["decontam_left_share"] == 0.0 and v.signals["decontam_item_share"] > 0.5
    assert passage[5:-5] not in v.text and HOST * 6 in v.text
    assert len(v.text) <= len(long_doc) - len(passage) + 2
    short = chain.run(HOST + passage)
    assert not short.keep and short.reject_reason == "decontam.contaminated"
    assert passage in short.text
    from jwc.filters.decontam import set_summary

    rows = {r["set"]: r for r in set_summary(f.index, f.drain(), sets)}
    assert {k: rows["reading"][k] for k in ("items_found", "documents", "removed", "cut", "spans_cut")} == {
        "items_found": 1, "documents": 2, "removed": 1, "cut": 1, "spans_cut": 1}
    assert rows["quiz"]["documents"] == rows["quiz"]["cut"] == 0 and f.drain() == {}


def test_config_errors_are_user_errors_before_any_work(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[filters.decontam]\nsets = ["/nonexistent/jsquad.jsonl"]\n', encoding="utf-8")
    from jwc.jobs.filter import validate_chain

    with pytest.raises(ConfigError, match="cannot read /nonexistent/jsquad.jsonl"):
        validate_chain(load(cfg))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "x"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="no row has any of the fields"):
        DecontamFilter({"sets": [str(bad)]})
    for name, data, message in [("set.xml", b"<x/>", "unknown format"), ("set.jsonl.gz", b"not gzip", "cannot be read"),
                                ("set.jsonl", b'{"question": "a"}\n{broken\n', "set.jsonl:2: not a JSON line")]:
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match=message):
            DecontamFilter({"sets": [str(tmp_path / name)]})
    cfg.write_text('[filters.decontam]\naction = "mask"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="action"):
        load(cfg)


def _real() -> dict[str, list[str]]:
    shared_data("ja_text_wikinews")
    shared_data("ja_text_ud_gsd")
    from tests.ngeval import clean_documents

    return clean_documents()


TEMPLATE = "次の文章を読んで、後の問いに答えなさい。答えは文章の中から抜き出し、句読点も含めてそのまま書くこと。"


def test_recall_of_real_passages_hidden_in_real_articles() -> None:
    """UD GSD sentence pairs 1-100 (>= 50 characters) as a set, each hidden in a different Wikinews article in
    four forms: recall >= 99%, with and without template n-grams left out, and when every item also has the same
    instruction field (an identical text counts once, so it stays, credited to the first item)."""
    _real()
    for max_ngram_texts, template in [(0, ""), (1, ""), (1, TEMPLATE)]:
        found, total = recall(gsd_pairs(0, 100), max_ngram_texts, template)
        assert total == 400 and found / total >= 0.99, (max_ngram_texts, template, found)


def test_a_template_every_item_shares_flags_nothing_once_left_out() -> None:
    """Every item's text starts with the same instruction: a page that holds only the instruction is not a copy
    of any item. With template n-grams kept (0) it is flagged (the first item is credited with them, more than half
    of its capped n-grams), left out (1) it is not, and an item's own passage is still found."""
    host = _real()["wikinews"][0]
    page = host[:200] + TEMPLATE + host[200:]
    items = [TEMPLATE + p for p in gsd_pairs(0, 100)]
    assert index_of("gsd", items, 0).match(page, 50, 0.5, 10).found(0.5)
    kept = index_of("gsd", items, 1)
    assert not kept.match(page, 50, 0.5, 10).found(0.5)
    passage = items[3][len(TEMPLATE):]
    assert kept.match(host[:200] + passage + host[200:], 50, 0.5, 10).found(0.5) == [("gsd", "3")]


def test_false_flags_on_real_clean_text_are_at_most_one_in_a_thousand() -> None:
    """Every UD GSD Wikipedia sentence as a set item; every Wikinews article as a document."""
    docs = _real()
    index = DecontamIndex([Item("gsd", str(i), (s,)) for i, s in enumerate(gsd_sentences())], 15, {"gsd": "x"})
    flagged = sum(bool(index.match(a, 50, 0.5, 10).found(0.5)) for a in docs["wikinews"])
    assert len(docs["wikinews"]) > 1800
    assert flagged / len(docs["wikinews"]) <= 0.001, flagged


def test_an_index_handed_in_is_used_without_reading_the_set_files(tmp_path: Path) -> None:
    """What an executor does with the driver's broadcast: the set files need not be readable there."""
    from jwc.filters.decontam import use_index

    built = _filter(tmp_path).index
    options = {"sets": ["hdfs://nowhere/quiz.jsonl"], "fields": ["question"], "id_field": "id", "ngram": 15,
               "max_ngram_texts": 1}
    use_index(options, built)
    f = DecontamFilter(options)
    assert f.index is built
    assert f.decide(f.signals(Doc(HOST + QUIZ[1]["question"]))) == ["decontam.contaminated"]


def test_wikinews_split_flags_only_shared_verbatim_runs() -> None:
    """Passages of one Wikinews quarter (by hash; quarters 0 and 1 were used to choose the defaults) as a set,
    the articles of another as documents. Wikinews articles share real text (related-article boxes, result tables,
    correction notices, citations), so some are flagged. Leaving out n-grams that several set texts share
    (max_ngram_texts 1) must at least halve the flags (measured 36 -> 15 of 472), and every flag left must be a
    shared verbatim run of at least 24 normalised characters, at most 1% of the articles one under 50."""
    _real()
    held, passages = quarter_articles(3), quarter_passages(2)
    before = flagged(index_of("wn", passages, 0), held)
    index = index_of("wn", passages, 1)
    longest = []
    for a in held:
        m = index.match(a, 50, 0.5, 10)
        if m.found(0.5):
            longest.append(max(len(normalise(a[x:y])[0]) for x, y in m.spans))
    assert len(held) > 400 and longest and len(longest) <= before / 2, (before, len(longest))
    assert min(longest) >= 24, sorted(longest)[:5]
    assert sum(n < 50 for n in longest) / len(held) <= 0.01, sorted(longest)[:10]


SPECIAL = ["気温は３０℃、面積は５㎡、距離は１０㎞。㈱テスト①②…", "絵文字😀と𠮷野家の𠀋", "ﾃﾞｰﾀﾍﾞｰｽとﾊﾟｿｺﾝ", "本\u3099だ",
           "e\u0301te", "İstanbul ǅ ﬁ ½", "ア\u309bイ", "\ud800孤立", "", "a"]


def _polynomial_hashes(codes: list[int], n: int) -> list[int]:
    """The n-gram hash written out, one window at a time (the definition `ngram_hashes` vectorises)."""
    base, mix, mask = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 2**64 - 1
    out = []
    for i in range(len(codes) - n + 1):
        h = 0
        for c in codes[i:i + n]:
            h = (h * base + c) & mask
        h ^= h >> 31
        h = (h * mix) & mask
        out.append(h ^ (h >> 29))
    return out


def test_table_normalisation_equals_the_per_character_one_on_real_and_special_text() -> None:
    """The numpy table path and the per-character path give the same code points and origins (so the same
    decisions): every Wikinews article, GSD sentence, and texts with multi-character forms (℃, ㎡), composing and
    non-composing combining marks, astral characters and a lone surrogate."""
    from jwc.filters.decontam import normalise_chars

    docs = _real()
    for text in docs["wikinews"] + docs["ud_gsd"] + SPECIAL:
        fast, slow = normalise(text), normalise_chars(text)
        assert fast[0].tolist() == slow[0].tolist() and fast[1].tolist() == slow[1].tolist(), text[:40]
    codes, origin = normalise(SPECIAL[0])
    assert "".join(map(chr, codes.tolist())).startswith("気温は30°c面積は5m2距離は10km株テスト12")
    assert origin.tolist()[5:8] == [5, 5, 7]  # both characters of ℃'s form point back at it
    assert "".join(map(chr, normalise("ﾃﾞｰﾀ")[0].tolist())) == "データ"


def test_hashes_and_lookup_equal_their_plain_definitions() -> None:
    """`ngram_hashes` (prefix sums) equals the window-by-window polynomial; `DecontamIndex.find` (bitmap +
    directory) finds exactly what a binary search of the sorted hashes finds, hits and misses."""
    import numpy as np

    from jwc.filters.decontam import ngram_hashes

    docs = _real()
    for text in docs["wikinews"][:50] + SPECIAL:
        codes = normalise(text)[0]
        assert ngram_hashes(codes, 15).tolist() == _polynomial_hashes(codes.tolist(), 15)
    long = normalise("".join(docs["wikinews"][:400]))[0]  # hashed 65,536 windows at a time
    assert len(long) > 150_000
    hashes = ngram_hashes(long, 15)
    assert len(hashes) == len(long) - 14
    for at in (0, 65_536 - 20, 2 * 65_536 - 3, len(long) - 60):
        assert hashes[at:at + 46].tolist() == _polynomial_hashes(long[at:at + 60].tolist(), 15), at
    items = [Item("wn", str(i), (a,)) for i, a in enumerate(docs["wikinews"][:300])]
    index = DecontamIndex(items, 15, {"wn": "x"})
    queries = np.concatenate([ngram_hashes(normalise(a)[0], 15) for a in docs["wikinews"][250:400]])
    pos = np.searchsorted(index.hashes, queries)
    pos[pos == len(index.hashes)] = 0
    expected = np.where(index.hashes[pos] == queries, pos, -1)
    found = index.find(queries)
    assert (found >= 0).sum() > 1000 and (found < 0).sum() > 1000
    assert found.tolist() == expected.tolist()
    assert index.lookup_bytes > 0 and index.__getstate__()["_lookup"] is None  # made per process, not shipped
