"""The real pages of ../shared/data packed into a WARC, with the gold main text where the source has it."""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

from tests.helpers import SHARED_DATA, write_warc

# The English pages among them: japantimes, and a Reuters tweet page whose only Japanese is UI strings.
ENGLISH = ("japantimes", "1676646261")


def real_pages() -> list[tuple[str, Path]]:
    """(url, file) for every real page; urls are invented but unique and stable."""
    root = SHARED_DATA
    files = sorted((root / "ja_html_postlight" / "html").glob("*.html"))
    files += sorted((root / "ja_html_misc" / "htmldate").glob("*.html"))
    files += sorted((root / "ja_html_misc" / "trafilatura").glob("*.html"))
    files += sorted((root / "ja_html_misc" / "mozilla_readability").glob("*/source.html"))
    files += sorted((root / "ja_html_misc" / "newspaper4k" / "html").glob("*.html"))
    return [(f"https://real.example/{f.parent.name}/{f.name}", f) for f in files]


def pack(path: Path) -> dict[str, Path]:
    """Write the WARC (no charset in the header: meta tags and detection must do the work); url -> file."""
    pages = real_pages()
    write_warc(path, [(url, f.read_bytes(), "text/html") for url, f in pages])
    return dict(pages)


def _strip_tags(fragment: str) -> str:
    fragment = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", " ", fragment)
    fragment = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</h\d>|</li>", "\n", fragment)
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


def gold_texts() -> dict[str, str]:
    """file name -> gold main text, for the pages whose source repository gives it."""
    root = SHARED_DATA / "ja_html_misc"
    gold = {}
    for txt in sorted((root / "newspaper4k" / "txt").glob("*.txt")):
        gold[txt.stem + ".html"] = txt.read_text(encoding="utf-8")
    for exp in sorted((root / "mozilla_readability").glob("*/expected.html")):
        gold[f"{exp.parent.name}/source.html"] = _strip_tags(exp.read_text(encoding="utf-8"))
    return gold


def snippet_gold() -> dict[str, tuple[list[str], list[str]]]:
    """file name -> (snippets that must be in the main text, snippets that must not), from trafilatura's eval."""
    data = json.loads((SHARED_DATA / "ja_html_misc" / "trafilatura" / "evaldata_subset.json").read_text())
    return {v["file"]: (v.get("with", []), v.get("without", [])) for v in data.values()}


_SPLIT = re.compile(r"(?<=[。！？!?])|\n")
_SPACE = re.compile(r"\s+")


def char_recall(gold: str, extracted: str) -> float:
    """Share of the gold text's characters (whitespace ignored) in sentences found verbatim in the extraction."""
    hay = _SPACE.sub("", extracted)
    total = found = 0
    for sentence in _SPLIT.split(gold):
        s = _SPACE.sub("", sentence)
        if not s:
            continue
        total += len(s)
        found += len(s) if s in hay else 0
    return found / total if total else 1.0
