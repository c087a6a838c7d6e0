"""Sentence shape: average and longest sentence, truncated (ellipsis-ending) sentences, and whether the text
ends its sentences at all.

Sentences end at 。！？, at !? that no URL or word goes on after ("?id=1", "Yahoo!Japan" do not end one; closing
brackets and repeated marks stay with their sentence) and at line ends. For the density of sentence ends, a run of
marks counts once, and so does a list line (bullet or number) that ends without one: a page of questions,
exclamations or bullet points is not run-on text.
Ellipsis endings include the trailing "続きを読む"/"（続く）"/"more" links of truncated summaries.
"""
from __future__ import annotations

import re

from jwc.filters.base import Doc, Filter, Rule
from jwc.filters.composition import class_counts, lines, ratio
from jwc.filters.junk import BULLET_RE
from jwc.schemas.config import Param

_CLOSE = "」』）)\\]】〉》\"”’"
_GOES_ON = "[A-Za-z=&/%_.-]"  # after an ASCII !? inside a URL query or a name, which ends no sentence
# A sentence: from a non-space character up to its terminators and closing brackets, or up to the line end.
SENTENCE_RE = re.compile(
    f"[^。！？!?\\s](?:[^。！？!?\\n]++|[!?](?={_GOES_ON}))*+[。！？!?]*[{_CLOSE}]*|[。！？!?]+[{_CLOSE}]*"
)
ELLIPSIS_END_RE = re.compile(
    r"(?:…|‥|\.{3,}|・{3,}|。{3,}|．{3,})\s*"
    r"(?:[\[［(（【]?\s*(?:続きを読む|続く|つづく|もっと見る|全文を読む|more|read more|Read more)\s*[\]］)）】]?)?$"
)

# A sentence end for the density rule, as SENTENCE_RE ends sentences.
END_RE = re.compile(f"[。！？]+[!?]*|[!?]+(?!{_GOES_ON})")


def sentences(doc: Doc) -> list[str]:
    """Non-empty sentences, without leading whitespace (cached: the split is shared)."""
    return doc.cached("sentences", lambda: SENTENCE_RE.findall(doc.text))


def sentence_ends(doc: Doc) -> int:
    """Runs of sentence-end marks, plus list lines (a bullet or number, then text) that end without one."""
    items = sum(1 for line in lines(doc)
                if (m := BULLET_RE.match(line)) and m.end() < len(line) and not END_RE.search(line[-3:]))
    return len(END_RE.findall(doc.text)) + items


class SentenceFilter(Filter):
    """Prose has sentences of a few dozen characters that end in 。！？; menus and keyword lists have none or tiny
    ones, machine-joined text has endless ones, and scraped summaries end in ellipses."""

    name = "sentences"
    params = {
        "min_avg_len": Param(10.0, "minimum average sentence length (characters)", lo=0.0),
        "max_avg_len": Param(250.0, "maximum average sentence length (characters)", lo=0.0),
        "max_len": Param(1000, "maximum length of the longest sentence (characters)", lo=0, kind=int),
        "max_ellipsis_frac": Param(0.4, "maximum share of sentences ending in an ellipsis", lo=0.0, hi=1.0),
        "max_chars_per_kuten": Param(300.0, "maximum non-whitespace characters per sentence end (。！？!? run or "
                                     "list line): too few sentence ends for the length", lo=1.0),
    }
    signal_names = ("sent_count", "sent_avg_len", "sent_max_len", "sent_ellipsis_frac", "sent_chars_per_kuten")
    rules = (
        Rule("short_sentences", "sent_avg_len", "min", "min_avg_len"),
        Rule("long_sentences", "sent_avg_len", "max", "max_avg_len"),
        Rule("longest_sentence", "sent_max_len", "max", "max_len"),
        Rule("ellipsis", "sent_ellipsis_frac", "max", "max_ellipsis_frac"),
        Rule("few_kuten", "sent_chars_per_kuten", "max", "max_chars_per_kuten"),
    )

    def signals(self, doc: Doc) -> dict[str, float]:
        sents = sentences(doc)
        lengths = list(map(len, sents))
        n = len(sents)
        # Most sentences end in a single 。 and cannot end in an ellipsis: the regex only sees the others.
        ellipsis = sum(1 for s in sents if (s[-1] != "。" or s.endswith("。。。")) and ELLIPSIS_END_RE.search(s[-20:]))
        chars = int(class_counts(doc).sum())
        return {
            "sent_count": float(n),
            "sent_avg_len": ratio(sum(lengths), n),
            "sent_max_len": float(max(lengths, default=0)),
            "sent_ellipsis_frac": ratio(ellipsis, n),
            "sent_chars_per_kuten": ratio(chars, max(1, sentence_ends(doc))),
        }


FILTERS = (SentenceFilter,)
