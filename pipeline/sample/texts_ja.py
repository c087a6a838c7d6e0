"""Text the sample crawl is made of, all written for this project, read from `texts_ja.json` beside this file.

Japanese article paragraphs are grouped by topic so an article can open on one subject; `{town}` is filled with one of
the fictional `TOWNS` per article. Every string must round-trip through cp932, EUC-JP and ISO-2022-JP so any page can
be sent in any legacy charset (tests/test_sample.py checks this). The non-Japanese control texts and the junk
vocabularies live there too, so the generator holds only logic and the text is data.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple


class Topic(NamedTuple):
    """One everyday subject: possible headlines and three paragraphs that can open or fill an article."""

    key: str
    titles: tuple[str, ...]
    paragraphs: tuple[str, ...]


def _frozen(value: Any) -> Any:
    """JSON lists as tuples (the generator's choices index them), dicts kept."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    return value


_DATA = {k: _frozen(v) for k, v in json.loads((Path(__file__).with_name("texts_ja.json")).read_text("utf-8")).items()}

TOWNS: tuple[str, ...] = _DATA["TOWNS"]
TOPICS: tuple[Topic, ...] = tuple(Topic(t["key"], t["titles"], t["paragraphs"]) for t in _DATA["TOPICS"])
EDIT_SENTENCES: tuple[str, ...] = _DATA["EDIT_SENTENCES"]
EDIT_HEADERS: tuple[str, ...] = _DATA["EDIT_HEADERS"]
EDIT_FOOTERS: tuple[str, ...] = _DATA["EDIT_FOOTERS"]
PII_SENTENCES: dict[str, tuple[str, ...]] = _DATA["PII_SENTENCES"]
PERSON_NAMES: tuple[str, ...] = _DATA["PERSON_NAMES"]
EMAIL_LOCALS: tuple[str, ...] = _DATA["EMAIL_LOCALS"]
EMAIL_DOMAINS: tuple[str, ...] = _DATA["EMAIL_DOMAINS"]
TOXIC_SENTENCES: tuple[tuple[str, tuple[str, ...]], ...] = _DATA["TOXIC_SENTENCES"]
NAV_WORDS: tuple[str, ...] = _DATA["NAV_WORDS"]
PREFECTURES: tuple[str, ...] = _DATA["PREFECTURES"]
SEO_WORDS: tuple[str, ...] = _DATA["SEO_WORDS"]
SEO_PATTERNS: tuple[str, ...] = _DATA["SEO_PATTERNS"]
KATAKANA_WORDS: tuple[str, ...] = _DATA["KATAKANA_WORDS"]
SHORT_PAGES: tuple[str, ...] = _DATA["SHORT_PAGES"]
REPEATED_LINES: tuple[str, ...] = _DATA["REPEATED_LINES"]
BBS_COMMENTS: tuple[str, ...] = _DATA["BBS_COMMENTS"]
BBS_TITLES: tuple[str, ...] = _DATA["BBS_TITLES"]
FOREIGN: dict[str, tuple[str, ...]] = _DATA["FOREIGN"]
FOREIGN_TITLES: dict[str, tuple[str, ...]] = _DATA["FOREIGN_TITLES"]
