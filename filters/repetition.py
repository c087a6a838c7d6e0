"""Gopher-style repetition measured in characters (Japanese has no spaces, so character n-grams replace the word
n-grams of the English original).

- duplicate lines / paragraphs: the share of lines (paragraphs) that repeat an earlier one, by count and by
  characters;
- top n-gram (n = 2, 3, 4): the share of characters covered by the most frequent character n-gram;
- duplicate n-gram (n = 5 .. 10): the share of characters covered by n-grams that repeat an earlier occurrence.

N-grams are hashed with numpy over the code points (whitespace removed), so a 1 MB line costs a few sorts, not a
Python loop. Hash collisions are possible in principle (64 bits minus the position's bits are compared) and
negligible in practice.
"""
from __future__ import annotations

import re

import numpy as np

from jwc.filters.base import Doc, Filter, Rule
from jwc.schemas.config import Param
from jwc.filters.composition import codepoints, lines, ratio

PARA_BREAK_RE = re.compile(r"\n\s*\n")
_MULT = np.uint64(0x9E3779B97F4A7C15)
_MIX = np.uint64(0xD6E8FEB86659FD93)
TOP_NS = (2, 3, 4)
DUP_NS = (5, 6, 7, 8, 9, 10)


def duplicate_share(items: list[str]) -> tuple[float, float]:
    """(share of items equal to an earlier item, share of characters in those items)."""
    seen: set[str] = set()
    dup_items = dup_chars = 0
    for item in items:
        if item in seen:
            dup_items += 1
            dup_chars += len(item)
        else:
            seen.add(item)
    return ratio(dup_items, len(items)), ratio(dup_chars, sum(map(len, items)))


def char_ngram_repetition(cps: np.ndarray) -> dict[int, float]:
    """For n in TOP_NS: characters covered by the most frequent n-gram / all characters (capped at 1; 0 when no
    n-gram occurs twice).
    For n in DUP_NS: characters covered by repeated (non-first) occurrences of n-grams / all characters.

    The n-gram hashes are built incrementally (h_n from h_(n-1)). For the duplicate n-grams each hash is mixed and
    its low bits replaced by the position, so one plain sort orders every group by position and the first
    occurrence leads its run. An n-gram can only repeat where its (n-1)-gram repeats, so each longer n sorts only
    the members of the previous n's repeated groups.
    """
    size = len(cps)
    out = {n: 0.0 for n in TOP_NS + DUP_NS}
    if size < 2:
        return out
    wide = cps.astype(np.uint64)
    pos_bits = np.uint64(max(1, (size - 1).bit_length()))
    pos_mask = np.uint64((1 << int(pos_bits)) - 1)
    candidates = np.arange(size, dtype=np.uint64)  # start positions that can still hold a repeated n-gram
    h = wide
    with np.errstate(over="ignore"):
        for n in range(2, DUP_NS[-1] + 1):
            m = size - n + 1
            if m <= 1:
                break
            h = h[:m] * _MULT ^ wide[n - 1:]
            if n in TOP_NS:
                s = np.sort(h)
                cuts = np.flatnonzero(s[1:] != s[:-1])
                top = int(np.diff(cuts, prepend=-1, append=m - 1).max())
                out[n] = min(1.0, top * n / size) if top > 1 else 0.0
                continue
            candidates = candidates[candidates < m]
            s = np.sort((((h[candidates.astype(np.intp)] * _MIX) >> pos_bits) << pos_bits) | candidates)
            same = (s[1:] >> pos_bits) == (s[:-1] >> pos_bits)
            if not same.any():
                break
            starts = (s[1:][same] & pos_mask).astype(np.intp)
            edge = np.zeros(size + 1, dtype=np.int32)
            edge[starts] += 1
            edge[starts + n] -= 1
            out[n] = int(np.count_nonzero(np.cumsum(edge[:size]))) / size
            member = np.zeros(len(s), dtype=bool)
            member[1:] = same
            member[:-1] |= same
            candidates = s[member] & pos_mask
    return out


class RepetitionFilter(Filter):
    """Repeated lines, paragraphs and character n-grams: template pages, spam that repeats a phrase, and
    generated filler. Thresholds are far above the published Gopher/Swallow ones because clean Japanese news
    repeats short strings (ている。 によると ...) much more than English repeats words."""

    name = "repetition"
    params = {
        "max_dup_line_frac": Param(0.3, "maximum share of lines that repeat an earlier line", lo=0.0, hi=1.0),
        "max_dup_line_char_frac": Param(0.2, "maximum share of line characters in repeated lines", lo=0.0, hi=1.0),
        "max_dup_para_frac": Param(0.3, "maximum share of paragraphs that repeat an earlier one", lo=0.0, hi=1.0),
        "max_dup_para_char_frac": Param(0.2, "maximum share of paragraph characters in repeated paragraphs",
                                        lo=0.0, hi=1.0),
        **{f"max_top{n}_frac": Param(v, f"maximum share of characters covered by the most frequent {n}-gram",
                                     lo=0.0, hi=1.0)
           for n, v in ((2, 0.2), (3, 0.2), (4, 0.25))},
        **{f"max_dup{n}_frac": Param(v, f"maximum share of characters in repeated {n}-grams", lo=0.0, hi=1.0)
           for n, v in ((5, 0.55), (6, 0.52), (7, 0.49), (8, 0.46), (9, 0.43), (10, 0.40))},
    }
    signal_names = ("rep_dup_line_frac", "rep_dup_line_char_frac", "rep_dup_para_frac", "rep_dup_para_char_frac",
                    *(f"rep_top{n}_frac" for n in TOP_NS), *(f"rep_dup{n}_frac" for n in DUP_NS))
    rules = (
        Rule("dup_lines", "rep_dup_line_frac", "max", "max_dup_line_frac"),
        Rule("dup_line_chars", "rep_dup_line_char_frac", "max", "max_dup_line_char_frac"),
        Rule("dup_paragraphs", "rep_dup_para_frac", "max", "max_dup_para_frac"),
        Rule("dup_paragraph_chars", "rep_dup_para_char_frac", "max", "max_dup_para_char_frac"),
        *(Rule(f"top{n}gram", f"rep_top{n}_frac", "max", f"max_top{n}_frac") for n in TOP_NS),
        *(Rule(f"dup{n}gram", f"rep_dup{n}_frac", "max", f"max_dup{n}_frac") for n in DUP_NS),
    )

    def signals(self, doc: Doc) -> dict[str, float]:
        line_dup, line_chars = duplicate_share(lines(doc))
        paras = [p for p in map(str.strip, PARA_BREAK_RE.split(doc.text)) if p]
        para_dup, para_chars = duplicate_share(paras)
        grams = char_ngram_repetition(codepoints(doc))
        return {
            "rep_dup_line_frac": line_dup,
            "rep_dup_line_char_frac": line_chars,
            "rep_dup_para_frac": para_dup,
            "rep_dup_para_char_frac": para_chars,
            **{f"rep_top{n}_frac": grams[n] for n in TOP_NS},
            **{f"rep_dup{n}_frac": grams[n] for n in DUP_NS},
        }


FILTERS = (RepetitionFilter,)
