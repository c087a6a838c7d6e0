"""Main text and title from HTML with trafilatura, under a per-document time limit.

A pathological page (deep nesting, megabytes of markup) must not stall a Spark task, so extraction runs under a
SIGALRM timer in the worker's main thread; pages over a size cap are cut before parsing.
"""
from __future__ import annotations

import html
import re
import signal
import threading
from contextlib import contextmanager
from copy import copy
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

import trafilatura
from lxml.html import HtmlElement
from trafilatura.metadata import extract_title
from trafilatura.settings import Extractor
from trafilatura.utils import load_html

from jwc.filters.cleaners import RELATED_HEAD_RE, SENTENCE_END_RE

_OG_TITLE = re.compile(r"""<meta[^>]+property=["']og:title["'][^>]+content=["']([^"']+)""", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_DIV_TAG = re.compile(r"<(/?)div\b[^<>]*>", re.I)
_MAX_PARSER_DEPTH = 255  # libxml2's default nesting limit for HTML
# Elements a browser does not show: inline display:none / visibility:hidden, the hidden and aria-hidden attributes,
# the usual screen-reader-only classes, and dialogs (role=dialog, aria-modal, class *-modal: shown only when opened).
# Templates keep paywall pop-ups, share-bar labels and purchase notices there.
_HIDDEN_STYLE = ("display:none", "visibility:hidden")  # in the style attribute without its spaces
_HIDDEN_CLASS = re.compile(
    r"(^|\s)(hidden|hide-text|sr-only|visually-hidden|visuallyhidden|screen-reader-text|is-hidden)(\s|$)")
_MODAL_CLASS = re.compile(r"(^|\s)([a-z0-9]+[_-])*modal(\s|$)", re.I)
# Author and site profile boxes: a class word ending in "profile", or author-box / author-info / about-author.
_PROFILE_CLASS = re.compile(r"(^|\s)([a-z]+[_-])?(profile|author-?box|author-?info|about-?author)(\s|$)", re.I)
_LOWER = "translate(@class, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
# The candidates in native XPath: every element hidden by its attributes, plus elements whose class merely contains
# a word the class regexes need, which Python then tests with the regex. An XPath regex (EXSLT re:test) calls back
# into Python for every element that has a class, which cost twice the parse of the page.
_HIDDEN_CANDIDATES = (
    "//*[@hidden or @aria-hidden='true' or @role='dialog' or @aria-modal='true' or "
    "contains(translate(@style, ' ', ''), 'display:none') or contains(translate(@style, ' ', ''), 'visibility:hidden')"
    f" or contains({_LOWER}, 'hid') or contains({_LOWER}, 'sr-only') or contains({_LOWER}, 'screen-reader-text')"
    f" or contains({_LOWER}, 'modal')]"
)
_PROFILE_CANDIDATES = f"//*[contains({_LOWER}, 'profile') or contains({_LOWER}, 'author')]"
# Media a photo caption sits next to (in the caption's parent).
_MEDIA = ".//img | .//picture | .//figure | .//video | .//iframe | .//svg | .//canvas"
_CAPTION_CANDIDATES = ("//*[self::div or self::p or self::span or self::section]"
                       "[contains(@class, 'caption') or contains(@id, 'caption')]")
_HEADINGS = "//h1 | //h2 | //h3 | //h4 | //h5 | //h6"
# Links wrapping blocks that hold a sentence: teaser and notice cards (HTML allows an <a> around a whole block).
_BLOCK_LINKS = ("//a[contains(., '。')][.//p or .//div or .//dl or .//ul or .//ol or .//table or .//h1 or .//h2 "
                "or .//h3 or .//h4 or .//h5 or .//h6]")
_LINK_TABLE_SHARE = 0.4  # a table whose text is this much link text is a box of links, not data
# Where the headline is looked for: the first lines of the text; what may stand before it: label lines (section
# name, breadcrumb, date) up to this long without a sentence end; what separates it from the site name in <title>.
_HEADLINE_LINES = 4
_LABEL_MAX_CHARS = 80
_TITLE_SEPARATORS = "|｜-－–—:：<＜《【[［(（/／・»«"
_SPLIT_BODY_MIN_CHARS = 150  # paragraph text of one part of a split article body (a teaser card holds less)


class ExtractionTimeout(BaseException):
    """Extraction of one page took longer than its limit (not an Exception: trafilatura catches those and goes on
    with its fallbacks, which swallowed the time limit)."""


@dataclass(frozen=True)
class Extracted:
    title: str
    text: str


def _on_alarm(signum, frame):  # noqa: ARG001 - signal handler signature
    raise ExtractionTimeout()


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ExtractionTimeout in the block after `seconds` (main thread only; elsewhere no limit can be set)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@lru_cache(maxsize=None)
def _options(fast: bool, favor_recall: bool) -> Extractor:
    """trafilatura's options, built once: building them reads its config file's values, per call that cost 5%."""
    return Extractor(
        output_format="python",
        fast=fast,
        recall=favor_recall,
        comments=False,
        tables=True,
        with_metadata=False,  # metadata means date parsing, which costs more than extraction itself
        dedup=False,
    )


def _run(page: str | HtmlElement | None, url: str, fast: bool, favor_recall: bool) -> str | None:
    if page is None:
        return None
    options = copy(_options(fast, favor_recall))
    options.url = url or None
    options.source = url.encode("utf-8", "replace").decode("utf-8") if url else None
    doc = trafilatura.bare_extraction(page, options=options)
    text = (doc.text or "").strip() if doc is not None else ""
    return text or None


def page_title(page: str) -> str:
    """og:title, else <title>: the fallback when trafilatura's title rules find nothing."""
    head = page[:65536]
    m = _OG_TITLE.search(head) or _TITLE.search(head)
    return " ".join(html.unescape(m.group(1)).split()) if m else ""


def prune_hidden(tree: HtmlElement) -> HtmlElement:
    """Remove the elements a browser does not show (their tail text stays): what a reader never sees is not
    article text, and paywall pop-ups ("有料会員の方のみ…") and share-bar headings hide there. An element holding
    half the page's text or more stays: a page wrapped whole in a hidden element (the backdrop of an open dialog,
    content a script reveals) is still the page."""
    return _prune(tree, [element for element in tree.xpath(_HIDDEN_CANDIDATES) if _is_hidden(element)])


def prune_profiles(tree: HtmlElement) -> HtmlElement:
    """Remove author and site profile boxes (class si_profile, author-profile, author-box ...): templates put them
    inside the article container after the text, so the extractor keeps them. Same half-page guard as above."""
    return _prune(tree, [element for element in tree.xpath(_PROFILE_CANDIDATES)
                         if _PROFILE_CLASS.search(element.get("class") or "")])


def _prune(tree: HtmlElement, found: list[HtmlElement]) -> HtmlElement:
    """Remove the elements found, keeping their tail text, unless one holds half the page's text."""
    if not found:
        return tree
    half = len(tree.text_content()) / 2
    for element in found:
        parent = element.getparent()
        if parent is None or element.tag in ("html", "body") or len(element.text_content()) >= half:
            continue
        tail, previous = element.tail, element.getprevious()
        parent.remove(element)
        if tail:  # text after a removed element belongs to its parent
            if previous is not None:
                previous.tail = (previous.tail or "") + tail
            else:
                parent.text = (parent.text or "") + tail
    return tree


def merge_split_body(tree: HtmlElement, min_chars: int = _SPLIT_BODY_MIN_CHARS) -> HtmlElement:
    """Move the paragraphs of an article body split into several containers of one tag and class (ads and
    recirculation boxes between them) into the first container: trafilatura keeps one main block, so it kept the
    first part only. Containers count when their own <p> children hold min_chars or more; nested ones do not."""
    groups: dict[tuple[str, str], list[HtmlElement]] = {}
    for element in tree.xpath("//*[@class][p]"):
        if sum(_letters(p) for p in element.xpath("p")) >= min_chars:
            groups.setdefault((element.tag, element.get("class")), []).append(element)
    for first, *rest in groups.values():
        for part in rest:
            if any(a is first for a in part.iterancestors()) or any(a is part for a in first.iterancestors()):
                continue
            if part.text and part.text.strip():  # text before the part's first child moves along
                if len(first):
                    first[-1].tail = (first[-1].tail or "") + part.text
                else:
                    first.text = (first.text or "") + part.text
            first.extend(list(part))
            part.getparent().remove(part)
    return tree


def unwrap_layout_tables(tree: HtmlElement) -> HtmlElement:
    """Turn tables used for page layout (a table holding another table) into plain blocks, and drop the link
    tables among what is left (link text LINK_TABLE_SHARE of their text or more: widget boxes). The extractor keeps
    a table whole, row by row, so a page laid out in one table came out with every sidebar widget in it."""
    for table in tree.xpath("//table[.//table]"):
        for element in table.xpath("descendant-or-self::*[self::table or self::thead or self::tbody or self::tfoot "
                                   "or self::tr or self::td or self::th][not(ancestor-or-self::table[not(.//table)])]"):
            element.tag = "div"
    for table in tree.xpath("//table"):
        text = _letters(table)
        if text and sum(_letters(a) for a in table.xpath(".//a")) >= _LINK_TABLE_SHARE * text:
            table.drop_tree()
    return tree


def keep_text_captions(tree: HtmlElement) -> HtmlElement:
    """Take the word "caption" out of the class and id of blocks with no image, video or figure in their parent:
    such a "caption" captions nothing (a book's catch line, a lead), but trafilatura drops every caption class when
    it leaves images out."""
    has_media: dict[HtmlElement, bool] = {}  # per parent: many captions in one big block search it once
    for element in tree.xpath(_CAPTION_CANDIDATES):
        parent = element.getparent()
        if parent is not None and parent not in has_media:
            has_media[parent] = bool(parent.xpath(_MEDIA))
        if parent is None or has_media[parent]:
            continue
        for attribute in ("class", "id"):
            words = (element.get(attribute) or "").split()
            if any("caption" in word for word in words):
                element.set(attribute, " ".join(word for word in words if "caption" not in word))
    return tree


def prune_titled_boxes(tree: HtmlElement) -> HtmlElement:
    """Remove a box whose first child is a related/latest/recommended-articles heading ("新着ニュースリリース",
    "関連記事", "最新TOPICS"): a recirculation box inside the article's container, whose teaser lines are full
    sentences the line cleaner cannot tell from text. Same half-page guard as hidden elements."""
    found = []
    for heading in tree.xpath(_HEADINGS):
        box, text = heading.getparent(), " ".join(heading.text_content().split())
        m = RELATED_HEAD_RE.match(text)
        if (m is not None and m.end() == len(text) and box is not None and heading.getprevious() is None
                and not (box.text or "").strip()):
            found.append(box)
    return _prune(tree, found)


def prune_block_links(tree: HtmlElement) -> HtmlElement:
    """Remove links that wrap blocks (paragraphs, lists, headings) holding a sentence: cards leading to another
    page (a teaser, the contact page, a newsletter sign-up), whose text is that page's, not the article's; the
    extractor keeps their sentences (link boxes of bare headlines it already leaves out)."""
    return _prune(tree, tree.xpath(_BLOCK_LINKS))


def _letters(element: HtmlElement) -> int:
    """Characters of the element's text, whitespace not counted."""
    return len("".join(element.text_content().split()))


def _prepared(tree: HtmlElement, hidden: bool) -> HtmlElement:
    """The tree trafilatura reads: hidden elements (when asked), profile boxes, related-article boxes and block
    links pruned, text captions kept, layout tables opened and link tables dropped, a split body merged."""
    pruned = prune_block_links(prune_titled_boxes(prune_profiles(prune_hidden(tree) if hidden else tree)))
    return merge_split_body(unwrap_layout_tables(keep_text_captions(pruned)))


def _is_hidden(element: HtmlElement) -> bool:
    """Whether a browser hides the element by its own attributes (style, hidden, aria-hidden, dialog, class)."""
    style = (element.get("style") or "").replace(" ", "")
    return (any(rule in style for rule in _HIDDEN_STYLE) or element.get("hidden") is not None
            or element.get("aria-hidden") == "true" or element.get("role") == "dialog"
            or element.get("aria-modal") == "true" or _HIDDEN_CLASS.search(element.get("class") or "") is not None
            or _MODAL_CLASS.search(element.get("class") or "") is not None)


def _parsed(page: str, hidden: bool) -> HtmlElement | None:
    tree = load_html(page)
    return _prepared(tree, hidden) if tree is not None else None


def extract_main_text(page: str, url: str, timeout: float, fast: bool = True, hidden: bool = True
                      ) -> Extracted | None:
    """Title and main text, or None when trafilatura finds none. Raises ExtractionTimeout.

    Fast mode first; only when it finds nothing, the full extractor with its fallbacks and recall bias, so that
    unusual layouts are not lost while the common case stays cheap. One time limit covers both attempts.
    `hidden`: remove elements a browser does not show before extracting (prune_hidden).
    """
    with time_limit(timeout):
        tree = load_html(page)
        if tree is None:
            return None
        # Title first: trafilatura's title rules (h1, og:title, <title> without the site name) on the parsed
        # tree, without its metadata pass, whose date parsing costs more than the extraction itself.
        title = extract_title(tree)
        text = _run(_prepared(tree, hidden), url, fast=fast, favor_recall=False)
        if text is None and fast:
            text = _run(_parsed(page, hidden), url, fast=False, favor_recall=True)
        if text is None and _div_depth(page) > _MAX_PARSER_DEPTH:
            # The HTML parser stops at its nesting limit and drops what lies deeper; <div>s carry no text, so a
            # page nested past it (broken templates, hostile pages) is read again without them.
            text = _run(_parsed(_DIV_TAG.sub("", page), hidden), url, fast=fast, favor_recall=False)
    if not text:
        return None
    head = page_title(page)  # og:title or <title>: the title when trafilatura's rules found none, and the headline
    return Extracted(*headline_first(title or head, text, head))


def headline_first(title: str, text: str, page_head: str) -> tuple[str, str]:
    """(title, text) starting at the headline: a page's <title> is its headline plus the site name, so when one of
    the first lines of the text is that headline, with only label lines (a section name, a breadcrumb, a date)
    before it, it is the title and the labels go. trafilatura's title may be the section heading (the first of two
    <h1>) or the <title> with the site name, and the labels would be published as text."""
    lines = text.split("\n")
    head = " ".join(page_head.split())
    for k, line in enumerate(lines[:_HEADLINE_LINES]):
        candidate = " ".join(line.split())
        if len(candidate) >= 4 and _heads(head, candidate):
            if all(len(label) <= _LABEL_MAX_CHARS and not SENTENCE_END_RE.search(label.strip()) for label in lines[:k]):
                return candidate, "\n".join(lines[k:])
            break
    return title, text


def _heads(page_head: str, line: str) -> bool:
    """Whether the <title> is the line, or the line followed by a separator and the site name."""
    if not page_head.startswith(line):
        return False
    rest = page_head[len(line):].lstrip("。．！？!? \u3000")
    return not rest or rest[0] in _TITLE_SEPARATORS


def _div_depth(page: str) -> int:
    """Deepest nesting of <div> elements in the page's markup."""
    depth = deepest = 0
    for m in _DIV_TAG.finditer(page):
        depth = max(0, depth - 1) if m.group(1) else depth + 1
        deepest = max(deepest, depth)
    return deepest
