"""fastText classifier: training report on a held-out split, scoring filters, disabled default, bad options."""
from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from jwc.filters.base import Doc
from jwc.filters.classifier import (
    QualityClassifierFilter, ToxicityClassifierFilter, fasttext_tokens, train_classifier,
)

PLACES = ["札幌", "仙台", "金沢", "静岡", "岡山", "松山", "熊本", "那覇", "長野", "福井", "秋田", "高知"]
THINGS = ["城", "川", "港", "大学", "博物館", "神社", "鉄道", "空港", "公園", "図書館"]


def wiki_sentence(rng: random.Random) -> str:
    p, t = rng.choice(PLACES), rng.choice(THINGS)
    return rng.choice([
        f"{p}{t}は、日本の{p}市にある{t}である。{rng.randint(1600, 2000)}年に建設された。",
        f"{p}{t}（{p}{t}）は、{p}県の中心部に位置する。面積は約{rng.randint(2, 90)}平方キロメートル。",
        f"{p}市の人口は{rng.randint(10, 200)}万人であり、県庁所在地として行政の中心となっている。",
        f"{t}の歴史は古く、{rng.randint(8, 19)}世紀には既に記録が残されている。",
    ])


def web_sentence(rng: random.Random) -> str:
    p, t = rng.choice(PLACES), rng.choice(THINGS)
    return rng.choice([
        f"今日は{p}の{t}に行ってきました！めっちゃ楽しかった〜♪",
        f"【激安】{p}発の格安ツアー、今だけ{rng.randint(10, 70)}%OFF！今すぐクリック！！",
        f"{t}なう。{p}まじ最高ｗｗｗ また来たいな〜",
        f"★送料無料★ {p}限定グッズ 在庫わずか！ポイント{rng.randint(2, 10)}倍キャンペーン中",
    ])


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    rng = random.Random(7)
    d = tmp_path_factory.mktemp("clf")
    data = d / "train.jsonl"
    with data.open("w", encoding="utf-8") as f:
        for _ in range(300):
            f.write(json.dumps({"text": "".join(wiki_sentence(rng) for _ in range(3)), "label": "wiki"},
                               ensure_ascii=False) + "\n")
            f.write(json.dumps({"text": "".join(web_sentence(rng) for _ in range(3)), "label": "web"},
                               ensure_ascii=False) + "\n")
    report = train_classifier(data, d / "model.bin", valid_fraction=0.2, seed=3, epoch=10, bucket=50_000)
    return d / "model.bin", report


def test_training_report(model: tuple[Path, dict]) -> None:
    path, report = model
    assert path.is_file() and report["labels"] == ["web", "wiki"]
    assert (report["n_train"], report["n_valid"]) == (480, 120)
    for label in ("web", "wiki"):
        stats = report["per_label"][label]
        assert stats["support"] == 60 and stats["precision"] >= 0.95 and stats["recall"] >= 0.95


def test_quality_filter_scores_with_the_model(model: tuple[Path, dict]) -> None:
    path, _ = model
    f = QualityClassifierFilter({"model_path": str(path), "min_prob": 0.5})
    rng = random.Random(99)
    wiki = f.signals(Doc("".join(wiki_sentence(rng) for _ in range(3))))["clf_quality_prob"]
    web = f.signals(Doc("".join(web_sentence(rng) for _ in range(3))))["clf_quality_prob"]
    assert wiki > 0.9 and web < 0.1
    assert f.decide({"clf_quality_prob": web}) == ["quality_classifier.low_prob"]
    assert f.decide({"clf_quality_prob": wiki}) == []
    # the toxicity filter uses the same mechanism with another label and direction
    t = ToxicityClassifierFilter({"model_path": str(path), "label": "web", "max_prob": 0.5})
    doc = Doc("".join(web_sentence(rng) for _ in range(3)))
    assert t.decide(t.signals(doc)) == ["toxicity_classifier.high_prob"]
    assert "fasttext_tokens" in doc._cache  # tokens are shared between the two filters


def test_disabled_without_model_and_bad_options(model: tuple[Path, dict], tmp_path: Path) -> None:
    for cls in (ToxicityClassifierFilter, QualityClassifierFilter):
        f = cls()
        sig = f.signals(Doc("なんでも"))
        assert list(sig) == list(cls.signal_names) and math.isnan(sig[cls.signal_names[0]]) and f.decide(sig) == []
    with pytest.raises(FileNotFoundError):
        QualityClassifierFilter({"model_path": str(tmp_path / "none.bin")})
    with pytest.raises(ValueError, match="not a label"):
        ToxicityClassifierFilter({"model_path": str(model[0])})  # the model has no label "toxic"
    one_label = tmp_path / "one.jsonl"
    one_label.write_text('{"text": "あいう", "label": "a"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="two labels"):
        train_classifier(one_label, tmp_path / "m.bin")


def test_tokens() -> None:
    assert fasttext_tokens("東京都に行った。\nＡＢＣ　です") == "東京 都 に 行っ た 。 abc です"
