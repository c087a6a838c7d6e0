"""Throughput of the safety filters on 2,000-character Japanese documents, one core, printed as JSON.

Measures, in one run on the same documents:
- PII: detection (`PIIFilter.signals`) and detection + masking (signals, then `mask` reusing the scan);
- NG words: the full `NGWordFilter.signals` (NFKC, automaton, MeCab windows, score) and, as the naive baseline,
  a Python loop over the same normalised word list with `in` / `str.count` (substring hits only, no boundaries).

Documents are cut from Japanese Wikinews in ../shared/data (a built-in paragraph when absent); every tenth gets a few
PII sentences and every twentieth a few NG words, so both code paths that only run on hits are exercised.

Usage: python bench/bench_safety.py [--docs 1000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import csv
import gzip
import json
import platform
import random
import re
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jwc.filters.base import Doc  # noqa: E402
from jwc.filters.ngwords import NGWordFilter, _norm  # noqa: E402
from jwc.filters.pii import PIIFilter  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DOC_CHARS = 2000
FALLBACK = ("気象庁によると、本日午後に関東地方で震度3の地震が観測された。震源は千葉県東方沖で、深さは約40キロ。"
            "この地震による津波の心配はないという。鉄道各社は一時運転を見合わせたが、現在は平常通り運行している。")
PII_SENTENCES = ["お問い合わせは info@example-shop.co.jp まで。", "電話番号は03-1234-5678です。", "〒100-0001",
                 "携帯：090-1234-5678", "カード番号 4111 1111 1111 1111", "接続元IPアドレス：8.8.8.8"]
NG_SENTENCES = ["無修正の動画です。", "巨乳の人妻が登場。", "お前なんか死ね。", "アダルトサイトの広告。"]


def source_text() -> str:
    path = DATA / "ja_text_wikinews" / "articles-a.tsv.gz"
    if not path.is_file():
        return FALLBACK * 2000
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(rows)
        # undo MeCab segmentation: a space survives only between two ASCII letters or digits
        return "".join(re.sub(r"(?<![A-Za-z0-9]) | (?![A-Za-z0-9])", "", r[1]) for r in rows if len(r) > 1)


def make_docs(n: int) -> list[str]:
    text, rng = source_text(), random.Random(0)
    docs = []
    for i in range(n):
        start = rng.randrange(0, len(text) - DOC_CHARS)
        doc = text[start:start + DOC_CHARS]
        extra = rng.sample(PII_SENTENCES, 3) if i % 10 == 0 else rng.sample(NG_SENTENCES, 2) if i % 20 == 5 else []
        for s in extra:
            cut = rng.randrange(len(doc))
            doc = doc[:cut] + s + doc[cut:]
        docs.append(doc[:DOC_CHARS])
    return docs


def timed(fn: Callable[[str], object], docs: list[str], repeat: int) -> float:
    """Best of `repeat` runs, in characters per second."""
    chars = sum(map(len, docs))
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for d in docs:
            fn(d)
        best = min(best, time.perf_counter() - t0)
    return chars / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    docs = make_docs(args.docs)

    pii = PIIFilter()

    def pii_detect(text: str) -> object:
        pii._memo = None  # measure a fresh scan per document
        return pii.signals(Doc(text))

    def pii_detect_and_mask(text: str) -> object:
        pii.signals(Doc(text))
        return pii.mask(text)

    ng = NGWordFilter()
    words = sorted(ng.matcher.entries)

    def ng_filter(text: str) -> object:
        return ng.signals(Doc(text))

    def ng_naive(text: str) -> object:
        text = _norm(text)
        return sum(text.count(w) for w in words if w in text)

    ng_fast, ng_slow = timed(ng_filter, docs, args.repeat), timed(ng_naive, docs, args.repeat)
    result = {
        "docs": len(docs),
        "chars_per_doc": DOC_CHARS,
        "source": "wikinews" if (DATA / "ja_text_wikinews").is_dir() else "built-in paragraph",
        "python": platform.python_version(),
        "pii": {
            "detect_chars_per_s": round(timed(pii_detect, docs, args.repeat)),
            "detect_and_mask_chars_per_s": round(timed(pii_detect_and_mask, docs, args.repeat)),
        },
        "ngwords": {
            "entries": len(words),
            "filter_chars_per_s": round(ng_fast),
            "naive_in_loop_chars_per_s": round(ng_slow),
            "speedup_over_naive": round(ng_fast / ng_slow, 1),
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
