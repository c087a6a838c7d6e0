"""The extract stage on real Japanese pages, in real Spark: language, non-empty text, gold-text recall."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from jwc.jobs.extract import run_extract
from jwc.pipeline import config
from jwc.pipeline.io.inputs import resolve_inputs
from tests.helpers import shared_data
from tests.realpages import ENGLISH, char_recall, gold_texts, pack, snippet_gold

pytestmark = pytest.mark.shared

# Measured on 2026-11-28 (trafilatura 2.3.1, fast mode with full-mode fallback): see docs/extraction.md.
MIN_MEAN_GOLD_RECALL = 0.85


@pytest.fixture(scope="module")
def extracted(spark, tmp_path_factory):
    shared_data("ja_html_postlight")
    tmp = tmp_path_factory.mktemp("real")
    by_url = pack(tmp / "real.warc.gz")
    files = resolve_inputs(spark, [str(tmp / "real.warc.gz")])
    counts = run_extract(spark, files, str(tmp / "out"), config.load(), "REAL")
    rows = spark.read.parquet(str(tmp / "out" / "records")).select(
        "url", "outcome", "lang", "lang_score", "text", "title", "encoding").collect()  # ~40 test rows
    return by_url, counts, {r["url"]: r for r in rows}


def test_every_real_japanese_page_is_kept_with_text(extracted) -> None:
    by_url, counts, rows = extracted
    assert len(rows) == len(by_url) == counts["records"]
    japanese = [u for u, f in by_url.items() if not any(e in f.name for e in ENGLISH)]
    assert len(japanese) >= 38
    bad = {u: (rows[u]["outcome"], rows[u]["lang"]) for u in japanese
           if rows[u]["outcome"] != "kept" or rows[u]["lang"] != "ja" or not rows[u]["text"]}
    assert bad == {}


def test_english_pages_are_not_kept(extracted) -> None:
    by_url, _, rows = extracted
    english = [u for u, f in by_url.items() if any(e in f.name for e in ENGLISH)]
    assert english
    for u in english:
        assert rows[u]["outcome"] in ("not_japanese", "prefilter_skip")
        assert rows[u]["text"] is None


def test_gold_main_text_recall(extracted) -> None:
    by_url, _, rows = extracted
    name_of = {u: (f"{f.parent.name}/{f.name}" if f.name == "source.html" else f.name) for u, f in by_url.items()}
    url_of = {v: k for k, v in name_of.items()}
    recalls = {}
    for name, gold in gold_texts().items():
        recalls[name] = char_recall(gold, rows[url_of[name]]["text"] or "")
    for name, (must, must_not) in snippet_gold().items():
        url = url_of.get(name)
        if url is None or any(e in name for e in ENGLISH):
            continue
        text = rows[url]["text"] or ""
        recalls[name] = sum(s in text for s in must) / len(must)
    print("gold recall:", json.dumps(recalls, indent=1))
    assert len(recalls) >= 4
    mean = sum(recalls.values()) / len(recalls)
    assert mean >= MIN_MEAN_GOLD_RECALL, recalls


def test_postlight_titles_match(extracted) -> None:
    by_url, _, rows = extracted
    expected = json.loads((shared_data("ja_html_postlight") / "expected_from_tests.json").read_text())
    hits = total = 0
    for e in expected:
        url = next((u for u, f in by_url.items() if f.name == Path(e["fixture"]).name), None)
        if url is None or not e.get("title"):
            continue
        total += 1
        hits += (rows[url]["title"] or "").strip() == e["title"].strip()
    assert total >= 15
    assert hits / total >= 0.6
