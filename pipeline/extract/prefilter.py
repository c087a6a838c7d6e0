"""A cheap test on the decoded page that lets only likely-Japanese pages reach the expensive extractor.

About 95% of a real crawl is not Japanese. Japanese prose is written with kana, which Chinese pages lack and other
scripts never use, so counting kana in the decoded page (one C-level regex pass, stopping early) rejects most pages.
The pages that pass are then weighed on their visible text: Japanese characters must be a minimum share of the
letters, which turns away English pages that merely quote Japanese or carry a Japanese menu, and pages whose only
kana sit in scripts. `<html lang="ja">` is recorded but not trusted on its own: templates set it on English pages.
"""
from __future__ import annotations

import html
import re

from jwc.filters.charclass import JA_LETTERS, KANA

_KANA = f"[{KANA}]"
# Kana written as numeric entities (pages re-serialized to ASCII), hex or decimal: the block U+3040-U+30FF and the
# half-width katakana U+FF66-U+FF9F.
_KANA_ENTITY = (r"&#(?:[xX]0*(?:30[4-9a-fA-F][0-9a-fA-F]|[fF][fF](?:6[6-9a-fA-F]|[7-9][0-9a-fA-F]))"
                r"|0*(?:1235[2-9]|123[6-9][0-9]|124[0-9][0-9]|125[0-3][0-9]|1254[0-3]|6538[2-9]|6539[0-9]"
                r"|654[0-3][0-9]));")
_KANA_OR_ENTITY = re.compile(f"{_KANA}|{_KANA_ENTITY}")
_KANA_ONLY = re.compile(_KANA)  # a page without "&#" has no entities: one character class scans ~2x faster
_HTML_LANG = re.compile(r"<html[^>]*\blang\s*=\s*[\"']?\s*([A-Za-z-]+)", re.I)
# Blocks whose content is never shown; their ends are found with str.find, so an unclosed block costs one scan.
_HIDDEN_START = re.compile(r"<(?:script|style)\b|<!--", re.I)
_TAG = re.compile(r"<[^<>]*>")  # [^<>] keeps a stray "<" from scanning to the end of the page
_JAPANESE = re.compile(f"[{JA_LETTERS}]")  # kana and kanji
# Letters of alphabetic scripts (Latin, Greek, Cyrillic) and Hangul: each counts against the Japanese share.
_FOREIGN = re.compile(r"[A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\uac00-\ud7af]")
_SHARE_WINDOW = 300_000  # characters of a page weighed; enough to judge, bounded on huge pages


def html_lang(page: str) -> str:
    m = _HTML_LANG.search(page[:8192])
    return m.group(1).lower() if m else ""


def kana_count(page: str, limit: int) -> int:
    """Kana in the page, `&#x3042;`-style entities of the kana block included, stopping once `limit` is reached."""
    n = 0
    for _ in (_KANA_OR_ENTITY if "&#" in page else _KANA_ONLY).finditer(page):
        n += 1
        if n >= limit:
            break
    return n


def visible_text(page: str) -> str:
    """The page without scripts, styles, comments and tags, entities resolved: roughly what a reader sees."""
    page = page[:_SHARE_WINDOW]
    lower = page.lower()
    kept: list[str] = []
    pos = 0
    for m in _HIDDEN_START.finditer(page):
        if m.start() < pos:
            continue  # inside a block already dropped
        kept.append(page[pos:m.start()])
        closer = "-->" if m.group(0) == "<!--" else f"</{m.group(0)[1:].lower()}"
        end = lower.find(closer, m.end())
        if end < 0:
            pos = len(page)
            break
        pos = end + len(closer)
    kept.append(page[pos:])
    text = _TAG.sub(" ", " ".join(kept))
    return html.unescape(text) if "&" in text else text


def japanese_share(page: str) -> float:
    """Japanese characters (kana and kanji) as a share of all letters in the visible text; 0.0 without letters."""
    text = visible_text(page)
    ja = len(_JAPANESE.findall(text))
    foreign = len(_FOREIGN.findall(text))
    return ja / (ja + foreign) if ja else 0.0


def looks_japanese(page: str, min_kana: int, min_share: float) -> bool:
    """Keep when the page carries at least `min_kana` kana and Japanese is at least `min_share` of its letters."""
    if kana_count(page, min_kana) < min_kana:
        return False
    return min_share <= 0 or japanese_share(page) >= min_share
