"""Measuring the decontamination filter on real text (../shared/data), for docs/decontamination.md and the tests.

- False flags: sets made of real text that is not Wikinews (every UD GSD sentence; passages of the real pages'
  main text and of the real RSS/Atom feeds and snippets) against every Wikinews article as a document.
- Wikinews split: passages of one hash quarter of Wikinews as a set, the articles of another as documents. Quarters
  0 -> 1 are the tuning split (used to choose `max_ngram_texts`), 2 -> 3 and 3 -> 2 the reported ones.
- Recall: UD GSD sentence pairs (>= 50 characters) hidden in Wikinews articles verbatim, re-spaced and
  width-changed, across line breaks and edited; pairs 101-200 for tuning, 1-100 reported.

`python -m tests.dceval` prints every number as JSON.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import random
import re
from typing import Any

from jwc.filters.decontam import DecontamIndex, Item
from tests.ngeval import DATA, clean_documents

CAP, SHARE, MIN_FOUND = 50, 0.5, 10  # the filter's defaults: item_ngrams_cap, max_item_share, min_found_ngrams
_SENTENCE_END = re.compile(r"(?<=[。！？!?])|\n")
_FEED_CODECS = {"CP932": "cp932", "EUC-JP": "euc_jp", "SHIFT_JIS": "shift_jis", "iso-2022-jp": "iso2022_jp"}


def passages(text: str, min_chars: int = 50, max_chars: int = 200) -> list[str]:
    """Consecutive sentences (or lines) joined into passages of `min_chars` to about `max_chars` characters, the
    size of a reading-comprehension context or a long question; a shorter tail is dropped."""
    out, current = [], ""
    for piece in (p.strip() for p in _SENTENCE_END.split(text)):
        current += piece
        if len(current) >= max_chars or (len(current) >= min_chars and piece.endswith(("。", "！", "？"))):
            out.append(current)
            current = ""
    return out + ([current] if len(current) >= min_chars else [])


def gsd_sentences() -> list[str]:
    return [json.loads(line)["text"] for p in sorted((DATA / "ja_text_ud_gsd").glob("*.jsonl"))
            for line in p.open(encoding="utf-8")]


def page_texts() -> list[str]:
    """Main text of every real page (the pipeline's decoding and trafilatura extraction)."""
    from jwc.pipeline.extract.charset import decode_html
    from jwc.pipeline.extract.maintext import extract_main_text
    from tests.realpages import real_pages

    texts = []
    for url, path in real_pages():
        decoded = decode_html(path.read_bytes())
        extracted = extract_main_text(decoded.text, url, timeout=60) if decoded else None
        if extracted is not None and extracted.text:
            texts.append(extracted.text)
    return texts


def feed_texts() -> list[str]:
    """Visible text of the real feeds and snippets, decoded with the encoding their folder names."""
    from jwc.pipeline.extract.prefilter import visible_text

    texts = []
    for folder, codec in _FEED_CODECS.items():
        for path in sorted((DATA / "ja_encoding_chardet" / folder).iterdir()):
            texts.append(visible_text(path.read_bytes().decode(codec, errors="replace")))
    return texts


def other_text_sets() -> dict[str, list[str]]:
    """Items of real text that is not Wikinews: GSD sentences, and passages of pages and of feeds."""
    return {"ud_gsd_sentences": gsd_sentences(),
            "page_passages": [p for t in page_texts() for p in passages(t)],
            "feed_passages": [p for t in feed_texts() for p in passages(t)]}


def index_of(name: str, texts: list[str] | list[tuple[str, ...]], max_ngram_texts: int = 0) -> DecontamIndex:
    """One item per text (or per tuple of text fields), numbered from 0."""
    return DecontamIndex([Item(name, str(i), t if isinstance(t, tuple) else (t,)) for i, t in enumerate(texts)], 15,
                         {name: "x"}, max_ngram_texts)


def flagged(index: DecontamIndex, docs: list[str]) -> int:
    """Documents in which at least one item is found."""
    return sum(bool(index.match(d, CAP, SHARE, MIN_FOUND).found(SHARE)) for d in docs)


def quarter(i: int) -> int:
    """The hash quarter of Wikinews article number `i`."""
    return int(hashlib.sha1(str(i).encode()).hexdigest(), 16) % 4


def quarter_articles(q: int) -> list[str]:
    return [a for i, a in enumerate(clean_documents()["wikinews"]) if quarter(i) == q]


def quarter_passages(q: int) -> list[str]:
    """Three-sentence passages of the articles of one quarter."""
    out = []
    for a in quarter_articles(q):
        sentences = [s + "。" for s in a.split("。") if s.strip()]
        out += ["".join(sentences[k:k + 3]) for k in range(0, len(sentences), 3)]
    return out


def wikinews_split(set_quarter: int, doc_quarter: int, max_ngram_texts: int) -> tuple[int, int, int]:
    """(articles flagged, articles, n-grams left out as templates): passages of one quarter as the set, the
    articles of another as documents."""
    items, held = quarter_passages(set_quarter), quarter_articles(doc_quarter)
    index = index_of("wn", items, max_ngram_texts)
    left_out = len(index_of("wn", items).hashes) - len(index.hashes)
    return flagged(index, held), len(held), left_out


def to_fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


def variants(passage: str, rng: random.Random) -> dict[str, str]:
    """The passage as a crawl might hold it: verbatim, re-spaced and width-changed, across line breaks, edited
    (one character per 40 replaced, never two within 15 characters of each other)."""
    spaced = "".join(c + (" " if rng.random() < 0.15 else "") for c in to_fullwidth(passage))
    broken = "\n".join(passage[i:i + 17] for i in range(0, len(passage), 17))
    edited = list(passage)
    for k in range(max(1, len(passage) // 40)):
        i = min(len(passage) - 1, 20 + k * 40 + rng.randrange(5))
        edited[i] = "＊" if edited[i] != "＊" else "※"
    return {"verbatim": passage, "spaced_width": spaced, "line_breaks": broken, "edited": "".join(edited)}


def gsd_pairs(first: int, count: int) -> list[str]:
    """GSD sentence pairs of >= 50 characters, numbers first .. first + count - 1 (from 0)."""
    sentences = gsd_sentences()
    pairs = (sentences[i] + sentences[i + 1] for i in range(0, len(sentences) - 1, 2))
    return list(itertools.islice((p for p in pairs if len(p) >= 50), first, first + count))


def recall(passages_: list[str], max_ngram_texts: int = 0, template: str = "") -> tuple[int, int]:
    """(found, hidden): each passage is an item (with `template`, an instruction field every item of the set
    shares, as its first field); each of its four variants is hidden in a different Wikinews article."""
    docs = clean_documents()["wikinews"]
    rng = random.Random(7)
    index = index_of("gsd", [(template, p) if template else p for p in passages_], max_ngram_texts)
    hosts = itertools.cycle(docs)
    found = total = 0
    for i, p in enumerate(passages_):
        for variant in variants(p, rng).values():
            host = next(hosts)
            at = rng.randrange(len(host) + 1)
            m = index.match(host[:at] + "\n" + variant + "\n" + host[at:], CAP, SHARE, MIN_FOUND)
            total += 1
            found += ("gsd", str(i)) in m.found(SHARE)
    return found, total


def measure(max_ngram_texts: list[int]) -> dict[str, Any]:
    """Every number of docs/decontamination.md's measurements."""
    wikinews = clean_documents()["wikinews"]
    out: dict[str, Any] = {"other_text_sets": {}}
    for name, texts in other_text_sets().items():
        for m in (0, *max_ngram_texts):
            out["other_text_sets"][f"{name} (max_ngram_texts={m})"] = {
                "items": len(texts), "flagged": flagged(index_of(name, texts, m), wikinews), "documents": len(wikinews)}
    for label, (a, b) in {"tuning q0->q1": (0, 1), "reported q2->q3": (2, 3), "reported q3->q2": (3, 2)}.items():
        out[label] = {m: dict(zip(("flagged", "documents", "ngrams_left_out"), wikinews_split(a, b, m)))
                      for m in (0, *max_ngram_texts)}
    for label, first in {"recall tuning pairs 101-200": 100, "recall reported pairs 1-100": 0}.items():
        out[label] = {m: recall(gsd_pairs(first, 100), m) for m in (0, *max_ngram_texts)}
    return out


if __name__ == "__main__":
    import sys

    print(json.dumps(measure([int(a) for a in sys.argv[1:]] or [1, 2, 3, 5]), indent=2, ensure_ascii=False))
