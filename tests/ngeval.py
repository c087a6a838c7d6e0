"""Measuring the NG-word filter on words it was not built on.

Every word list is split in two halves by a hash of its normalised words (`half`): the filter's lexicon and rules
were written looking only at the "build" half; the measurements embed words of the "held" half into real clean text
(Wikinews and UD GSD sentences) with ../shared/tools/make_warc_corpus.py, as they are or obfuscated (`obfuscate`),
and count the toxic pages the filter drops. Lists: hojichar's three dictionaries (shipped in the product) and two
other published Japanese lists installed as test data (safetext, glin-profanity; `pip install --no-deps`).

`python -m tests.ngeval [--before OLD_NGWORDS.py]` prints the numbers of docs/safety.md; tests/test_ngwords.py
asserts them on smaller crawls.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import importlib.util
import json
import random
import re
import sys
import tempfile
import unicodedata
from pathlib import Path
from typing import Any, Callable

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATA = SHARED / "data"
GENERATOR = SHARED / "tools" / "make_warc_corpus.py"
# published Japanese lists other than hojichar's: (package, file inside it)
PUBLISHED = {"safetext": ("safetext", "languages/ja/words.txt"),
             "glin": ("glin_profanity", "data/dictionaries/japanese.json")}


def norm(word: str) -> str:
    return unicodedata.normalize("NFKC", word).strip().lower()


def half(word: str) -> str:
    """"build" or "held", fixed by the SHA-1 of the normalised word: the same word is in the same half in every
    list."""
    return "held" if int(hashlib.sha1(norm(word).encode()).hexdigest(), 16) % 2 else "build"


def _japanese(word: str) -> bool:
    """Written in Japanese (has kana or kanji): romanised entries (baka yarou) do not occur on Japanese pages."""
    return any("\u3041" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in word)


def package_file(package: str, relative: str) -> Path | None:
    """A data file inside an installed package, located without importing it; None when not installed."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    return path if path.is_file() else None


def published_words(name: str) -> list[str] | None:
    """Normalised Japanese-script words of a published list, sorted and unique; None when not installed."""
    path = package_file(*PUBLISHED[name])
    if path is None:
        return None
    text = path.read_text(encoding="utf-8")
    words = json.loads(text)["words"] if path.suffix == ".json" else text.splitlines()
    return sorted({norm(w) for w in words if norm(w) and not w.startswith("#") and _japanese(norm(w))})


def hojichar_words(category: str) -> list[str]:
    """Normalised words of one hojichar dictionary, as the filter reads them."""
    from jwc.filters.ngwords import HOJICHAR_FILES, hojichar_dict_dir, read_word_list

    return sorted({w for w, _ in read_word_list(hojichar_dict_dir() / HOJICHAR_FILES[category])})


def split(words: list[str], which: str) -> list[str]:
    return [w for w in words if half(w) == which]


_MASKS = "○●◯＊×"
_SEPARATORS = ("・", " ", "　", "☆", ".", "♡")


def _to_hiragana(word: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in word)


def _to_katakana(word: str) -> str:
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in word)


def _kana(ch: str) -> bool:
    return "ぁ" <= ch <= "ゖ" or "ァ" <= ch <= "ヶ"


def obfuscations(word: str) -> dict[str, str]:
    """The obfuscated spellings that apply to `word`, by kind (the generator of pages that dodge word lists)."""
    out: dict[str, str] = {}
    if len(word) >= 3:
        out["mask"] = word[:len(word) // 2] + _MASKS[len(word) % len(_MASKS)] + word[len(word) // 2 + 1:]
    if len(word) >= 2:
        out["separator"] = _SEPARATORS[len(word) % len(_SEPARATORS)].join(word)
    kana = [c for c in word if _kana(c)]
    if len(kana) >= 3 and all("ァ" <= c <= "ヶ" or c == "ー" for c in kana):
        out["hiragana"] = _to_hiragana(word)
    if len(kana) >= 3 and all("ぁ" <= c <= "ゖ" for c in kana):
        out["katakana"] = _to_katakana(word)
    small = {"ッ": "ツ", "ャ": "ヤ", "ュ": "ユ", "ョ": "ヨ", "っ": "つ", "ゃ": "や", "ゅ": "ゆ", "ょ": "よ"}
    if any(c in small for c in word):
        out["small_kana"] = "".join(small.get(c, c) for c in word)
    last_kana = max((i for i, c in enumerate(word) if _kana(c)), default=-1)
    if last_kana >= 0 and len(word) >= 3:
        out["long_vowel"] = word[:last_kana + 1] + ("〜" if "ぁ" <= word[last_kana] <= "ゖ" else "ー") + \
            word[last_kana + 1:]
    return out


def obfuscate(words: list[str], seed: int) -> list[str]:
    """One obfuscated spelling per word (of a kind drawn with `seed`), for words that have one."""
    rng = random.Random(seed)
    out = []
    for w in words:
        kinds = obfuscations(w)
        if kinds:
            out.append(kinds[rng.choice(sorted(kinds))])
    return out


def toxic_pages(out_dir: Path, words: list[str], records: int, seed: int) -> list[dict[str, Any]]:
    """Truth rows of the toxic pages of a generated all-Japanese crawl whose NG words are `words`."""
    import subprocess

    word_file = out_dir / f"words-{seed}.txt"
    word_file.write_text("\n".join(words) + "\n", encoding="utf-8")
    truth = out_dir / f"crawl-{seed}.truth.jsonl"
    subprocess.run([sys.executable, str(GENERATOR), "--text", str(DATA / "ja_text_wikinews"), "--text",
                    str(DATA / "ja_text_ud_gsd"), "--ng-words", str(word_file), "--records", str(records),
                    "--seed", str(seed), "--ja-fraction", "1.0", "--out", str(out_dir / f"crawl-{seed}.warc.gz"),
                    "--truth", str(truth)], check=True, capture_output=True)
    rows = [json.loads(line) for line in truth.open(encoding="utf-8")]
    return [r for r in rows if r["kind"] == "toxic"]


def despace(s: str) -> str:
    """Undo MeCab segmentation of the Wikinews file: keep a space only between two ASCII letters/digits."""
    return re.sub(r"(?<![A-Za-z0-9]) +| +(?![A-Za-z0-9])", "", s).strip()


def clean_documents() -> dict[str, list[str]]:
    """Wikinews articles (1,835) and UD GSD Wikipedia sentences grouped ten to a document (105)."""
    with gzip.open(DATA / "ja_text_wikinews" / "articles-a.tsv.gz", "rt", encoding="utf-8") as f:
        rows = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(rows)
        articles = [despace(r[1]) for r in rows if len(r) > 1]
    sentences = [json.loads(line)["text"] for p in sorted((DATA / "ja_text_ud_gsd").glob("*.jsonl"))
                 for line in p.open(encoding="utf-8")]
    return {"wikinews": articles, "ud_gsd": ["".join(sentences[i:i + 10]) for i in range(0, len(sentences), 10)]}


def drop_rate(ng: Any, texts: list[str]) -> float:
    """Share of texts the filter's rules drop."""
    from jwc.filters.base import Doc

    return sum(bool(ng.decide(ng.signals(Doc(t)))) for t in texts) / len(texts)


# Held-half words of the other published lists that are not toxic in their ordinary meaning: machine-translation
# debris of an English list (曇り, 柄, 遅延), anatomy and medicine (陰茎, 直腸), identities (レズビアン, ユダヤ人) and
# news words (殺人事件, ナチス). Labelled after the filter was frozen (commit 2644992), by reading the held half once;
# the filter was not changed after. The toxic rate is reported on the held words without these and on all of them.
NOT_TOXIC_HELD = frozenset("""
うんち おもらし お尻 お尻クッカー くそー しばり なめ ばかげた ぽっちゃり やけどする アンビセクシュアリティ アンボセクシャル
エロティズム オシリ オタク カーマスートラ ゲイの男性 コカイン サディスト シパ ジャーク スカンク スマット スメグマ スリット
セクシーな ソドム ナチ ナチス ニンフ ノブ ファニー ファルス ファンタジー フェッチ フランジ ブセタ ペニス ボール ボールを蹴る
ボールバッグ ユダヤ人 ラティーナ ラバー リム レズビアン ロゼット ロバ ローター 両刀 両性 中絶 人妻 倒錯 公爵夫人 剃毛 地獄 大陰唇
女 女子高生 女王様 女装 嫌い 宦官 小便 尿道 怒って 愚痴 拷問 挿入 支配 放尿 放棄 曇り 柄 欲望 殺人事件 毛深い 泌尿器 浸透
王 直立 直腸 神だらけの 糞便 縛り 肛門 裸 角質の 足を広げる 遅らせる 遅延 陰唇 陰嚢 陰核 陰毛 陰茎 隙 際どい 震え
パンセクシャル ヒトラー クリトリス
""".split())


def word_sets(which: str = "held") -> dict[str, list[str]]:
    """One half of the other published lists together, and of hojichar's adult list."""
    other = sorted({w for name in PUBLISHED for w in (published_words(name) or [])})
    held = split(other, which)
    return {"published_other": held, "published_other_toxic": [w for w in held if w not in NOT_TOXIC_HELD],
            "hojichar_adult": split(hojichar_words("adult"), which)}


def _load_filter(path: Path | None) -> Callable[[], Any]:
    """The NGWordFilter class of this checkout, or of an older ngwords.py (for before/after numbers)."""
    if path is None:
        from jwc.filters.ngwords import NGWordFilter

        return NGWordFilter
    spec = importlib.util.spec_from_file_location("ngwords_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module.NGWordFilter


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, help="an older filters/ngwords.py to measure beside this one")
    ap.add_argument("--records", type=int, default=8000)
    ap.add_argument("--seed", type=int, default=41)
    ap.add_argument("--half", choices=("held", "build"), default="held", help="build: the half for development")
    ap.add_argument("--sets", nargs="*", help="only these word sets (published_other, published_other_toxic, "
                    "hojichar_adult)")
    args = ap.parse_args()
    filters = {"after": _load_filter(None)()}
    if args.before:
        filters["before"] = _load_filter(args.before)()
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, words) in enumerate(word_sets(args.half).items()):
            if args.sets and name not in args.sets:
                continue
            for variant, ws in (("plain", words), ("obfuscated", obfuscate(words, args.seed + i))):
                pages = toxic_pages(Path(tmp), ws, args.records, args.seed + 10 * i + (variant == "obfuscated"))
                single = [p for p in pages if len(p["ng_words"]) == 1]
                result[f"{name}/{variant}"] = {"words": len(ws), "pages": len(pages), "single_word_pages": len(single),
                                               **{k: {"all": round(drop_rate(f, [p["article_text"] for p in pages]), 4),
                                                      "single": round(drop_rate(f, [p["article_text"] for p in single]), 4)}
                                                  for k, f in filters.items()}}
                print(json.dumps({f"{name}/{variant}": result[f"{name}/{variant}"]}, ensure_ascii=False), flush=True)
    for name, docs in clean_documents().items():
        result[name] = {"docs": len(docs), **{k: round(drop_rate(f, docs), 4) for k, f in filters.items()}}
        print(json.dumps({name: result[name]}), flush=True)


if __name__ == "__main__":
    main()
