"""Calibration of the Japanese quality chain (all cleaners, then all quality filters with their defaults) on real
data: false removals on clean text, and junk removal on generated crawls with ground truth.

- Clean text: Japanese Wikinews articles, Wikipedia sentences (UD Japanese GSD) grouped into 400+ character
  documents, and the trafilatura main text of the real Japanese article pages. Each set must lose < 5%.
- Crawls from make_warc_corpus.py (seeds 7 and 11, 3,000 records): text extracted with warcio +
  trafilatura.extract after decoding with the truth's encoding. At least 90% of `lowquality:*` pages must be
  dropped (and 80% of every sub-kind), at most 5% of Japanese `article` pages, and both seeds must agree.

Skipped when ../shared is absent. Run with -s to see the per-set and per-sub-kind figures.
"""
from __future__ import annotations

import csv
import gzip
import json
import re
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from jwc.filters import cleaners, composition, junk, morphology, repetition, sentences
from jwc.filters.base import Doc
from tests.helpers import make_corpus, shared_data

pytestmark = pytest.mark.shared

FILTERS = (composition.FILTERS + sentences.FILTERS + repetition.FILTERS + junk.FILTERS + morphology.FILTERS)
MAX_CLEAN_LOSS = 0.05
SEEDS = (7, 11)
_DESPACE = re.compile(r"(?<=[^\x00-\x7f]) +(?=[^\x00-\x7f])")
_KANA = re.compile(r"[\u3041-\u30ff]")
_TEASER = re.compile(r"続きを(?:お)?読み|続きは.{0,30}で(?:お)?読み|会員限定")


class QualityChain:
    """Every cleaner and quality filter of this family with its default options, built once."""

    def __init__(self) -> None:
        self.cleaners = [c() for c in cleaners.CLEANERS]
        self.filters = [f() for f in FILTERS]

    def reasons(self, text: str) -> list[str]:
        for c in self.cleaners:
            text = c.clean(text)
        doc = Doc(text)
        return [reason for f in self.filters for reason in f.decide(f.signals(doc))]


def wikinews() -> list[str]:
    path = shared_data("ja_text_wikinews", "articles-a.tsv.gz")
    csv.field_size_limit(1 << 30)
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [_DESPACE.sub("", row["article"]) for row in csv.DictReader(fh, delimiter="\t")]


def wikipedia_documents(min_chars: int = 400) -> list[str]:
    docs, current = [], ""
    for path in sorted(shared_data("ja_text_ud_gsd").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            current += json.loads(line)["text"]
            if len(current) >= min_chars:
                docs.append(current)
                current = ""
    return docs


def real_page_texts() -> dict[str, bool]:
    """Main text of every Japanese real page (English pages and byte-identical copies left out) -> whether it is a
    teaser: a page that says its article continues behind a paywall or on another site (nikkei's 199-character
    paywalled lead, a ZDNet syndication lead of 196)."""
    import trafilatura

    from tests.realpages import ENGLISH, real_pages

    shared_data("ja_html_postlight")
    texts: dict[str, bool] = {}
    for _, path in real_pages():
        if any(e in path.name for e in ENGLISH):
            continue
        text = trafilatura.extract(path.read_bytes()) or ""
        if len(_KANA.findall(text)) >= 0.05 * len(text) > 0:
            texts[text] = bool(_TEASER.search(text))
    return texts


def real_article_texts() -> list[str]:
    """The real pages' texts except teasers: the furniture cleaner removes their notices, and what is left is a
    lead shorter than `composition.min_chars`, which is meant to drop such fragments (test below): their removal is
    no false removal."""
    return [text for text, teaser in real_page_texts().items() if not teaser]


def test_real_teasers_are_dropped_as_too_short():
    """The teasers left out of the false-removal count are dropped, and for their length: a lead cut off by a
    paywall or pointing to the full article elsewhere is a fragment (the syndicated one a partial copy)."""
    chain = QualityChain()
    teasers = [text for text, teaser in real_page_texts().items() if teaser]
    assert len(teasers) == 2
    assert all("composition.too_short" in chain.reasons(text) for text in teasers)


def crawl_verdicts(out_dir: str, seed: int) -> dict[str, list[bool]]:
    """Generate a crawl, extract its Japanese article and low-quality pages and judge them: kind -> dropped?"""
    import trafilatura
    from warcio.archiveiterator import ArchiveIterator

    warc, truth_path = make_corpus(Path(out_dir), 3000, seed)
    truth = {}
    for line in truth_path.read_text(encoding="utf-8").splitlines():
        t = json.loads(line)
        if (t["kind"] == "article" and t["lang"] == "ja") or t["kind"].startswith("lowquality:"):
            truth[t["warc_record_id"]] = t
    chain = QualityChain()
    dropped: dict[str, list[bool]] = defaultdict(list)
    with open(warc, "rb") as fh:
        for record in ArchiveIterator(fh):
            t = truth.get(record.rec_headers.get_header("WARC-Record-ID"))
            if record.rec_type != "response" or t is None:
                continue
            page = record.content_stream().read().decode(t["true_encoding"], errors="replace")
            dropped[t["kind"]].append(bool(chain.reasons(trafilatura.extract(page) or "")))
    return dict(dropped)


def rate(flags: list[bool]) -> float:
    return sum(flags) / len(flags)


@pytest.fixture(scope="module")
def crawls(tmp_path_factory) -> dict[int, dict[str, list[bool]]]:
    shared_data("ja_text_wikinews")
    dirs = [str(tmp_path_factory.mktemp(f"crawl{seed}")) for seed in SEEDS]
    with ProcessPoolExecutor(max_workers=len(SEEDS)) as pool:
        return dict(zip(SEEDS, pool.map(crawl_verdicts, dirs, SEEDS)))


def test_false_removals_on_clean_japanese_text_below_5_percent():
    chain = QualityChain()
    figures = {}
    for name, texts in (("wikinews", wikinews()), ("wikipedia_gsd", wikipedia_documents()),
                        ("real_pages", real_article_texts())):
        removed = [t for t in texts if chain.reasons(t)]
        figures[name] = (len(removed), len(texts), len(removed) / len(texts))
    print("\nfalse removals:", {k: f"{n}/{total} = {r:.1%}" for k, (n, total, r) in figures.items()})
    assert figures["wikinews"][1] > 1800 and figures["wikipedia_gsd"][1] > 90 and figures["real_pages"][1] > 30
    for name, (_, _, r) in figures.items():
        assert r < MAX_CLEAN_LOSS, (name, figures)


@pytest.mark.parametrize("seed", SEEDS)
def test_crawl_low_quality_dropped_and_articles_kept(crawls, seed):
    kinds = crawls[seed]
    low = [f for k, flags in kinds.items() if k.startswith("lowquality:") for f in flags]
    print(f"\nseed {seed}: lowquality {rate(low):.1%} of {len(low)} dropped; article "
          f"{rate(kinds['article']):.1%} of {len(kinds['article'])} dropped;",
          {k.split(":")[1]: f"{rate(v):.0%}/{len(v)}" for k, v in sorted(kinds.items()) if k != "article"})
    assert len(kinds["article"]) > 800 and len(low) > 150
    assert len([k for k in kinds if k.startswith("lowquality:")]) == 8
    assert rate(low) >= 0.90
    assert all(rate(v) >= 0.80 for k, v in kinds.items() if k.startswith("lowquality:")), kinds
    assert rate(kinds["article"]) <= 0.05


def test_a_different_seed_gives_similar_numbers(crawls):
    a, b = (crawls[s] for s in SEEDS)
    low = [rate([f for k, v in c.items() if k.startswith("lowquality:") for f in v]) for c in (a, b)]
    assert abs(low[0] - low[1]) <= 0.05
    assert abs(rate(a["article"]) - rate(b["article"])) <= 0.02
