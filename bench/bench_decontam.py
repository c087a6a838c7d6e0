"""What the decontamination filter adds to the filter stage: the default chain (every cleaner and filter, fugashi
included) with and without a 100,000-item evaluation set, on a crawl-like mix of documents. Prints JSON.

    python bench/bench_decontam.py [--items 100000] [--docs 1500] [--best-of 3]

Wikinews articles are split in two halves by a hash of their number. The set is generated from one half: a word
bigram chain over its (MeCab-spaced) articles writes reading-comprehension items (question + context) and
multiple-choice items (question + four choices), so items read like Japanese news but are new text. The documents
are the other half's real articles, the same number of documents generated from that half's words, and 1% of
them with an item's context or question pasted in (so the matching path runs too). The set file is written to a
temporary folder and read as the pipeline reads it; nothing is kept.

Figures are CPU seconds of this one process, best of N passes, alternating the two chains. `stage_time_ratio` is the
stage's time with the filter over without it; on a shared machine other processes' load moves either by more than
10% (they share caches and memory bandwidth), so `decontam_added_share` also gives the filter's own CPU seconds
inside the chain (the chain times every filter) over the stage's time without it.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import pickle
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jwc.filters.chain import Chain  # noqa: E402
from jwc.filters.morphology import tagger  # noqa: E402
from jwc.pipeline.config import load  # noqa: E402

WIKINEWS = ROOT.parent / "shared" / "data" / "ja_text_wikinews" / "articles-a.tsv.gz"
_DESPACE = re.compile(r"(?<=[^\x00-\x7f]) +(?=[^\x00-\x7f])")


def spaced_articles() -> tuple[list[list[str]], list[list[str]]]:
    """Wikinews articles as word lists, in the set half and the document half (by SHA-1 of the row number)."""
    if not WIKINEWS.exists():
        sys.exit(f"benchmark needs {WIKINEWS} (the shared folder beside the checkout)")
    csv.field_size_limit(1 << 30)
    with gzip.open(WIKINEWS, "rt", encoding="utf-8") as fh:
        rows = [r["article"].split() for r in csv.DictReader(fh, delimiter="\t")]
    side = [int(hashlib.sha1(str(i).encode()).hexdigest(), 16) % 2 for i in range(len(rows))]
    return [r for r, s in zip(rows, side) if s == 0], [r for r, s in zip(rows, side) if s == 1]


def join_words(words: list[str]) -> str:
    """Words back to raw text: the space is kept only between two ASCII words."""
    return _DESPACE.sub("", " ".join(words))


class Bigrams:
    """A word bigram chain: writes new text with the word pairs of the text it was built on."""

    def __init__(self, articles: list[list[str]], seed: int):
        self.rng = random.Random(seed)
        self.next: dict[str, list[str]] = {}
        for words in articles:
            for a, b in zip(words, words[1:]):
                self.next.setdefault(a, []).append(b)
        self.starts = [w[0] for w in articles if w]

    def text(self, chars: int) -> str:
        """About `chars` characters of generated text."""
        words = [self.rng.choice(self.starts)]
        length = len(words[0])
        while length < chars:
            following = self.next.get(words[-1])
            words.append(self.rng.choice(following) if following else self.rng.choice(self.starts))
            length += len(words[-1])
        return join_words(words)


def eval_items(chain: Bigrams, n: int) -> list[dict[str, object]]:
    """One third reading comprehension (question 30-60 characters, context 120-360), two thirds multiple choice
    (question 40-100 characters, four choices of 2-10)."""
    rng = chain.rng
    items: list[dict[str, object]] = []
    for i in range(n):
        if i % 3 == 0:
            items.append({"id": f"rc{i}", "question": chain.text(rng.randint(30, 60)),
                          "context": chain.text(rng.randint(120, 360))})
        else:
            items.append({"id": f"mc{i}", "question": chain.text(rng.randint(40, 100)),
                          "choices": [chain.text(rng.randint(2, 10)) for _ in range(4)]})
    return items


def crawl_mix(real: list[list[str]], items: list[dict[str, object]], seed: int) -> list[str]:
    """The real articles, as many generated documents (300-3,000 characters), and 1% of all with a pasted item."""
    chain = Bigrams(real, seed)
    docs = [join_words(w) for w in real] + [chain.text(chain.rng.randint(300, 3000)) for _ in real]
    rng = random.Random(seed)
    for k in rng.sample(range(len(docs)), len(docs) // 100):
        item = rng.choice(items)
        passage = str(item.get("context") or item["question"])
        at = rng.randrange(len(docs[k]) + 1)
        docs[k] = docs[k][:at] + "\n" + passage + "\n" + docs[k][at:]
    return docs


def run(chain: Chain, docs: list[str]) -> int:
    """Documents the chain keeps."""
    return sum(chain.run(d).keep for d in docs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--docs", type=int, default=1500, help="real articles used (as many are generated)")
    ap.add_argument("--best-of", type=int, default=3)
    args = ap.parse_args()
    set_half, doc_half = spaced_articles()
    items = eval_items(Bigrams(set_half, 1), args.items)
    docs = crawl_mix(doc_half[:args.docs], items, 2)
    tagger()  # load the dictionary outside the measurement, as a long-lived worker would
    with tempfile.TemporaryDirectory() as tmp:
        set_file = Path(tmp) / "bench-set.jsonl"
        set_file.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in items), encoding="utf-8")
        cfg = load()
        start = time.process_time()
        with_decontam = Chain.from_config(cfg.cleaners, {**cfg.filters, "decontam": {"sets": [str(set_file)]}})
        build_s = time.process_time() - start
    without = Chain.from_config(cfg.cleaners, cfg.filters)
    decontam = next(f for f in with_decontam.filters if f.name == "decontam")
    index = decontam.index
    start = time.process_time()
    index.find(index.hashes[:1])  # the lookup tables, made once per process
    lookup_s = time.process_time() - start
    best = {"without": float("inf"), "with": float("inf")}
    kept: dict[str, int] = {}
    own = float("inf")
    for _ in range(args.best_of):
        for name, chain in (("without", without), ("with", with_decontam)):
            chain.take_cpu_seconds()
            start = time.process_time()
            kept[name] = run(chain, docs)
            best[name] = min(best[name], time.process_time() - start)
        own = min(own, with_decontam.take_cpu_seconds()["decontam"])
    chars = sum(map(len, docs))
    print(json.dumps({
        "benchmark": "decontam", "items": len(items), "documents": len(docs), "chars": chars,
        "contaminated_documents_pasted": len(docs) // 100, "removed_by_decontam": kept["without"] - kept["with"],
        "best_of": args.best_of, "cpu_seconds": {k: round(v, 3) for k, v in best.items()},
        "stage_time_ratio": round(best["with"] / best["without"], 4),
        "decontam_filter_cpu_seconds": round(own, 3),
        "decontam_added_share": round(own / best["without"], 4),
        "decontam_chars_per_s_per_core": round(chars / own),
        "chain_without_chars_per_s_per_core": round(chars / best["without"]),
        "index": {"ngrams": int(len(index.hashes)), "bytes": index.nbytes,
                  "pickled_bytes": len(pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL)),
                  "lookup_bytes": index.lookup_bytes,
                  "build_cpu_seconds": round(build_s, 2), "lookup_cpu_seconds": round(lookup_s, 3)},
        "options": {k: v for k, v in decontam.options.items() if k != "sets"},
    }, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
