"""Tokenizers: SentencePiece training on Japanese (round trip, byte fallback, eos, determinism), loading a
Hugging Face tokenizer.json, and the [tokenize] params."""
from __future__ import annotations

import gzip
import json
import logging
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import sentencepiece as spm
import tokenizers
from tokenizers import decoders, models, pre_tokenizers, trainers

from jwc.schemas.config import resolve
from jwc.pipeline.tokens.megatron import read_documents
from jwc.pipeline.tokens.tokenizer import (TOKENIZE_PARAMS, HFTokenizer, SentencePieceTokenizer, load_tokenizer,
                                train_sentencepiece, write_tokens)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
WIKINEWS = DATA / "ja_text_wikinews" / "articles-a.tsv.gz"

JA_TEXTS = [
    "今朝の東京は晴れ、最高気温は二十五度まで上がる見込みです。\n午後からは南風がやや強く吹くでしょう。",
    "市役所の窓口は月曜日から金曜日までの午前八時半から午後五時まで開いています。",
    "新しい駅ビルには書店、喫茶店、パン屋、それに小さな映画館が入る予定だ。",
    "彼女は大学で化学を専攻し、卒業後は製薬会社の研究所に就職した。",
    "祭りの夜、川沿いの道には提灯が並び、浴衣姿の人々が行き交っていた。",
    "このアプリは Android と iOS の両方に対応しており、無料で利用できます。",
    "気象庁によると、台風十号は明日の夕方に九州南部へ接近するおそれがある。",
    "図書館の本は二週間まで借りられますが、予約がなければ一度だけ延長できます。",
    "祖父は若いころ漁師をしていて、今でも天気の変化を空の色で言い当てる。",
    "会議の資料は前日までに共有フォルダーへ保存しておいてください。",
    "京都の寺院を巡る旅は、紅葉の季節になると多くの観光客でにぎわう。",
    "価格は税込みで三千八百円、送料は全国一律五百円となっております。",
    "子どもたちは公園の砂場で山を作り、トンネルを掘って遊んでいた。",
    "研究チームは新しい素材が従来の半分の重さで同じ強度を持つことを示した。",
    "駅から徒歩十分の場所に、静かなカフェがあることを最近知った。",
    "試験の前日は早めに寝て、朝ごはんをしっかり食べるのが一番だと思う。",
    "地域の図書館では、毎週土曜日に子ども向けの読み聞かせ会が開かれている。",
    "電車の中で読んだ小説があまりに面白くて、降りる駅を乗り過ごしてしまった。",
    "この料理のこつは、玉ねぎを弱火でじっくり炒めて甘みを引き出すことです。",
    "北海道の冬は長く厳しいが、雪まつりの時期には世界中から人が集まる。",
    "お問い合わせは、メール（info@example.jp）またはお電話でお願いいたします。",
    "2024年の売上高は前年比12.5%増の3,400億円となった。",
    "山田さんは毎朝六時に起きて、近所の川沿いを一時間ほど散歩している。",
    "ウェブサイトのデザインを一新し、スマートフォンでも読みやすくなりました。",
    "日本語の文章には、ひらがな、カタカナ、漢字、そしてローマ字が混在する。",
    "その博物館では、江戸時代の町人の暮らしを再現した展示が人気を集めている。",
    "来週の遠足は雨天の場合、体育館でのレクリエーションに変更になります。",
    "新製品の発表会には、国内外から三百人を超える記者が詰めかけた。",
    "ベランダで育てているトマトが、ようやく赤く色づき始めた。",
    "長い坂道を自転車で上りきると、眼下に港町の景色が広がっていた。",
]
# Characters the sample never contains: an emoji and a rare kanji outside the BMP.
UNSEEN = "絵文字😀と稀な漢字𠮷（つちよし）"


@pytest.fixture(scope="module")
def sp_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_sentencepiece(JA_TEXTS, tmp_path_factory.mktemp("sp"), vocab_size=800)


def test_round_trip_and_byte_fallback(sp_model: Path) -> None:
    tok = load_tokenizer(sp_model)
    assert isinstance(tok, SentencePieceTokenizer) and 300 < tok.vocab_size <= 800
    texts = JA_TEXTS[:5] + [UNSEEN, "", "  空白  と\t改行\n\nを含む  "]
    ids = tok.encode_batch(texts)
    assert all(isinstance(a, np.ndarray) and a.dtype == np.int32 for a in ids)
    assert [tok.decode(a) for a in ids] == texts  # identity normalization: lossless
    assert ids[6].size == 0
    sp = spm.SentencePieceProcessor(model_file=str(sp_model))
    for ch in ("😀", "𠮷"):
        pieces = [sp.id_to_piece(int(i)) for i in tok.encode_batch([ch])[0]]
        assert pieces == [f"<0x{b:02X}>" for b in ch.encode("utf-8")]
    assert "<unk>" not in [sp.id_to_piece(int(i)) for i in ids[5]]


def test_write_tokens_appends_eos(sp_model: Path, tmp_path: Path) -> None:
    tok = load_tokenizer(sp_model)
    assert tok.eos_id == 2 and spm.SentencePieceProcessor(model_file=str(sp_model)).id_to_piece(2) == "</s>"
    texts = JA_TEXTS[:3] + ["", UNSEEN]
    ids = tok.encode_batch(texts)
    assert write_tokens(iter(texts), tok, tmp_path / "ja", batch_size=2) == (5, sum(a.size + 1 for a in ids))
    back = list(read_documents(tmp_path / "ja"))
    assert [d[-1] for d in back] == [2] * 5
    assert [d[:-1].tolist() for d in back] == [a.tolist() for a in ids]
    assert tok.decode(back[4][:-1]) == UNSEEN
    assert write_tokens(texts, tok, tmp_path / "plain", append_eos=False) == (5, sum(a.size for a in ids))
    assert [d.tolist() for d in read_documents(tmp_path / "plain")] == [a.tolist() for a in ids]


def test_training_is_deterministic(sp_model: Path, tmp_path: Path) -> None:
    again = train_sentencepiece(iter(JA_TEXTS), tmp_path / "again", vocab_size=800)
    assert again.read_bytes() == sp_model.read_bytes()
    assert load_tokenizer(again).id.split(":")[2] == load_tokenizer(sp_model).id.split(":")[2]
    other = train_sentencepiece(JA_TEXTS[1:], tmp_path / "other", vocab_size=800)
    assert other.read_bytes() != sp_model.read_bytes()


def test_tokenizer_id_and_pickling(sp_model: Path, tmp_path: Path) -> None:
    tok = load_tokenizer(sp_model)
    assert re.fullmatch(r"sentencepiece:sp:[0-9a-f]{16}", tok.id)
    copy = tmp_path / "sp.model"
    copy.write_bytes(sp_model.read_bytes())
    assert load_tokenizer(copy).id == tok.id  # the id depends on the bytes and name, not the folder
    clone = pickle.loads(pickle.dumps(tok))
    assert clone.id == tok.id and clone.eos_id == tok.eos_id
    same = [a.tolist() for a in tok.encode_batch(JA_TEXTS[:3])]
    assert [a.tolist() for a in clone.encode_batch(JA_TEXTS[:3])] == same


def test_bpe_and_small_vocab(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="jwc.pipeline.tokens.tokenizer"):
        path = train_sentencepiece(JA_TEXTS, tmp_path, vocab_size=300, model_type="bpe", name="tiny")
    assert "left to byte fallback" in caplog.text  # 300 pieces cannot hold every character of the sample
    tok = load_tokenizer(path)
    assert tok.vocab_size <= 300
    assert [tok.decode(a) for a in tok.encode_batch(JA_TEXTS[:4])] == JA_TEXTS[:4]
    with pytest.raises(ValueError, match="no training text"):
        train_sentencepiece(["", " \n "], tmp_path)


def test_sample_docs_limits_the_training_text(tmp_path: Path) -> None:
    first = train_sentencepiece(JA_TEXTS[:10], tmp_path / "a", vocab_size=500)
    limited = train_sentencepiece(JA_TEXTS + ["別の文書"] * 50, tmp_path / "b", vocab_size=500, sample_docs=10)
    assert first.read_bytes() == limited.read_bytes()


def _hf_tokenizer_json(folder: Path, specials: list[str]) -> Path:
    """A byte-level BPE tokenizer.json trained with the tokenizers library on the Japanese sample."""
    tok = tokenizers.Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(JA_TEXTS, trainer)
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    return folder / "tokenizer.json"


def test_hugging_face_tokenizer(tmp_path: Path) -> None:
    path = _hf_tokenizer_json(tmp_path / "my-bpe", ["<|padding|>", "<|endoftext|>"])
    tok = load_tokenizer(path)
    assert isinstance(tok, HFTokenizer) and tok.eos_id == 1 and tok.eos_token == "<|endoftext|>"
    assert re.fullmatch(r"hf:my-bpe:[0-9a-f]{16}", tok.id) and load_tokenizer(tmp_path / "my-bpe").id == tok.id
    raw = tokenizers.Tokenizer.from_file(str(path))
    texts = JA_TEXTS[:6] + [UNSEEN, ""]
    ids = tok.encode_batch(texts)
    assert [a.tolist() for a in ids] == [e.ids for e in raw.encode_batch(texts, add_special_tokens=False)]
    assert [tok.decode(a) for a in ids] == texts
    assert tok.vocab_size == raw.get_vocab_size()
    clone = pickle.loads(pickle.dumps(tok))
    assert clone.id == tok.id and clone.encode_batch([UNSEEN])[0].tolist() == ids[6].tolist()


def test_hugging_face_eos_sources(tmp_path: Path) -> None:
    path = _hf_tokenizer_json(tmp_path / "cfg", ["<s>", "</s>", "<|im_end|>"])
    assert load_tokenizer(path).eos_id == 1  # a usual name
    (tmp_path / "cfg" / "tokenizer_config.json").write_text(json.dumps({"eos_token": {"content": "<|im_end|>"}}))
    assert load_tokenizer(path).eos_id == 2  # tokenizer_config.json wins
    assert load_tokenizer(path, eos_token="<s>").eos_id == 0  # an explicit name wins over both
    with pytest.raises(ValueError, match="no eos token"):
        load_tokenizer(path, eos_token="<|nope|>")
    bare = _hf_tokenizer_json(tmp_path / "bare", ["<pad>"])
    with pytest.raises(ValueError, match="no eos token"):
        load_tokenizer(bare)


def test_tokenize_params_defaults_validate() -> None:
    opts = resolve("tokenize", TOKENIZE_PARAMS, {"vocab_size": 4000, "model_type": "bpe"})
    assert opts["vocab_size"] == 4000 and opts["character_coverage"] == 0.9995 and opts["append_eos"] is True
    with pytest.raises(ValueError, match="below the allowed minimum"):
        resolve("tokenize", TOKENIZE_PARAMS, {"vocab_size": 100})
    with pytest.raises(ValueError, match="^tokenize.model_type: 'wordpiece' is not one of 'unigram', 'bpe'$"):
        resolve("tokenize", TOKENIZE_PARAMS, {"model_type": "wordpiece"})
    with pytest.raises(ValueError, match="^tokenize.normalization: 'NFKC' is not one of 'identity', 'nfkc'"):
        resolve("tokenize", TOKENIZE_PARAMS, {"normalization": "NFKC"})


def _wikinews(n: int) -> list[str]:
    """Wikinews articles as raw text: MeCab's spaces between non-ASCII characters removed, one sentence a line."""
    joined = re.compile(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])")
    out = []
    with gzip.open(WIKINEWS, "rt", encoding="utf-8") as f:
        next(f)
        for line in f:
            out.append(joined.sub("", line.split("\t")[1]).replace("  ", "\n"))
            if len(out) == n:
                break
    return out


@pytest.mark.skipif(not WIKINEWS.exists(), reason="shared Wikinews data not present")
def test_wikinews_demo_vocab(tmp_path: Path) -> None:
    articles = _wikinews(400)
    tok = load_tokenizer(train_sentencepiece(articles[:300], tmp_path, vocab_size=4000))
    assert tok.vocab_size == 4000
    held_out = articles[300:]
    ids = tok.encode_batch(held_out)
    assert [tok.decode(a) for a in ids] == held_out
    chars_per_token = sum(map(len, held_out)) / sum(map(len, ids))
    assert chars_per_token > 1.3  # a real subword model, not characters or bytes
