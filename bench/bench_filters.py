"""Documents per second per core for the Japanese quality chain (every cleaner, then the composition, sentence,
repetition and junk filters, with and without the fugashi morphology filter) on 2,000-character documents, beside
the plain cost of writing and reading the same documents as Parquet with pyarrow, measured in the same run.
Prints JSON.

    python bench/bench_filters.py [--docs 2000] [--best-of 3]

Text: the shared Wikinews articles (MeCab spaces removed) cut into 2,000-character documents when present, else
generated Japanese sentences. Every figure is the best of N passes in CPU seconds of this one process (per core).
"""
from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jwc.filters import cleaners, composition, junk, morphology, repetition, sentences  # noqa: E402
from jwc.filters.base import Doc  # noqa: E402

WIKINEWS = ROOT.parent / "shared" / "data" / "ja_text_wikinews" / "articles-a.tsv.gz"
DOC_CHARS = 2000
CHEAP_FILTERS = composition.FILTERS + sentences.FILTERS + repetition.FILTERS + junk.FILTERS


def load_documents(n: int) -> tuple[str, list[str]]:
    """`n` documents of DOC_CHARS characters cut from one stream of real (or generated) Japanese text."""
    if WIKINEWS.exists():
        despace = re.compile(r"(?<=[^\x00-\x7f]) +(?=[^\x00-\x7f])")
        csv.field_size_limit(1 << 30)
        with gzip.open(WIKINEWS, "rt", encoding="utf-8") as fh:
            stream = "\n".join(despace.sub("", row["article"]) for row in csv.DictReader(fh, delimiter="\t"))
        source = "wikinews"
    else:
        rng = random.Random(0)
        subjects = ["市役所", "研究チーム", "地元の商店街", "新しい駅ビル", "気象庁", "小学校の先生", "観光客"]
        rests = ["は来月から新しい取り組みを始めると発表した。", "では週末に秋祭りの準備が進んでいる。",
                 "によると、明日は全国的に雨が降る見込みだ。", "について、住民からは賛否の声が上がっている。",
                 "は駅前の図書館で子ども向けの読み聞かせ会を開いた。"]
        stream = "\n".join(rng.choice(subjects) + rng.choice(rests) for _ in range(n * DOC_CHARS // 20))
        source = "generated"
    while len(stream) < n * DOC_CHARS:
        stream += "\n" + stream
    return source, [stream[i * DOC_CHARS:(i + 1) * DOC_CHARS] for i in range(n)]


def best_cpu(fn: Callable[[], object], reps: int) -> float:
    """Fewest CPU seconds of `reps` runs (the run least disturbed by other load)."""
    best = float("inf")
    for _ in range(reps):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def parquet_round_trip(docs: list[str], folder: str) -> int:
    """Write the documents as Parquet and read them back into Python strings: the floor any stage pays."""
    path = os.path.join(folder, "docs.parquet")
    pq.write_table(pa.table({"text": docs}), path)
    return len(pq.read_table(path).column("text").to_pylist())


def run_chain(docs: list[str], filter_classes: tuple) -> int:
    cleaner_objs = [c() for c in cleaners.CLEANERS]
    filter_objs = [f() for f in filter_classes]
    kept = 0
    for text in docs:
        for c in cleaner_objs:
            text = c.clean(text)
        doc = Doc(text)
        kept += not [r for f in filter_objs for r in f.decide(f.signals(doc))]
    return kept


def step_costs(docs: list[str]) -> dict[str, float]:
    """Microseconds per document of each cleaner and filter (one pass; filters share the per-document cache)."""
    costs: dict[str, float] = {}
    for cls in cleaners.CLEANERS:
        c = cls()
        start = time.process_time()
        docs = [c.clean(t) for t in docs]
        costs[f"cleaner.{cls.name}"] = (time.process_time() - start) / len(docs) * 1e6
    shared = [Doc(t) for t in docs]
    for cls in CHEAP_FILTERS + morphology.FILTERS:
        f = cls()
        start = time.process_time()
        for d in shared:
            f.signals(d)
        costs[f"filter.{cls.name}"] = (time.process_time() - start) / len(docs) * 1e6
    return {k: round(v, 1) for k, v in costs.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--best-of", type=int, default=3)
    args = ap.parse_args()
    source, docs = load_documents(args.docs)
    morphology.tagger()  # load the dictionary outside the measurement, as a long-lived worker would
    with tempfile.TemporaryDirectory() as tmp:
        parquet_s = best_cpu(lambda: parquet_round_trip(docs, tmp), args.best_of)
    cheap_s = best_cpu(lambda: run_chain(docs, CHEAP_FILTERS), args.best_of)
    full_s = best_cpu(lambda: run_chain(docs, CHEAP_FILTERS + morphology.FILTERS), args.best_of)
    n = len(docs)
    result = {
        "benchmark": "filters", "source": source, "documents": n, "chars_per_document": DOC_CHARS,
        "best_of": args.best_of,
        "docs_per_s_per_core": {
            "parquet_write_and_read": round(n / parquet_s),
            "chain_without_fugashi": round(n / cheap_s),
            "chain_with_fugashi": round(n / full_s),
        },
        "cost_vs_parquet_round_trip": {
            "chain_without_fugashi": round(cheap_s / parquet_s, 1),
            "chain_with_fugashi": round(full_s / parquet_s, 1),
        },
        "kept_by_chain_with_fugashi": run_chain(docs, CHEAP_FILTERS + morphology.FILTERS),
        "microseconds_per_document": step_costs(docs),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
