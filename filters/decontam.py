"""Benchmark decontamination: find passages of evaluation sets (JGLUE, llm-jp-eval, JMMLU, a team's own sets) copied
into crawled documents, and drop those documents or cut the copied spans out.

Matching is on character n-grams of a normalised text (NFKC, lower case, whitespace, punctuation and control
characters removed), so width changes, re-spacing, line breaks and re-punctuation do not hide a copy, and a few
edited characters only cost the n-grams that overlap them. Japanese has no word boundaries to count, so n-grams are
of characters; `ngram` (default 15) was chosen on real clean text, see docs/decontamination.md.

The index holds one 64-bit hash per distinct n-gram of every configured set, as two sorted numpy arrays (hash and
item reference: 12 bytes per n-gram), built once per worker process and cached by the sets' content digest. Without
sets the filter is a no-op whose signals are NaN, like the classifier filters without a model.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import io
import json
import math
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Mapping

import numpy as np

from jwc.filters.base import Doc, Filter, Rule
from jwc.schemas.config import Param

_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier of the rolling hash (mod 2**64)
_BASE_INVERSE = np.uint64(pow(0x9E3779B97F4A7C15, -1, 2**64))
_MIX = np.uint64(0xBF58476D1CE4E5B9)  # final multiply of the avalanche step: spreads nearby sums apart
_DROPPED_CATEGORIES = ("P", "Z", "C")  # punctuation, separators (spaces), control/format characters
_FORMATS = (".jsonl", ".json", ".tsv", ".csv", ".parquet")


_TABLE_END = 0x32400  # code points with a table entry: planes 0-3, up to the last CJK extension


@functools.cache
def _char_table() -> tuple[np.ndarray, np.ndarray, dict[int, tuple[int, ...]]]:
    """Per code point below _TABLE_END: how many characters its matching form has (0 dropped, 1, or more, as
    ℃ -> °c; -1 when a combining mark is involved, which composes with the character before), its first matching
    character, and the forms of more than one. Built once per process (about 0.2 s)."""
    counts = np.zeros(_TABLE_END, dtype=np.int8)
    first = np.zeros(_TABLE_END, dtype=np.uint32)
    longer: dict[int, tuple[int, ...]] = {}
    for cp in range(_TABLE_END):
        form = unicodedata.normalize("NFKC", chr(cp)).lower()
        if any(unicodedata.combining(c) for c in form):
            counts[cp] = -1
            continue
        kept = tuple(ord(c) for c in form if unicodedata.category(c)[0] not in _DROPPED_CATEGORIES)
        counts[cp] = len(kept)
        first[cp] = kept[0] if kept else 0
        if len(kept) > 1:
            longer[cp] = kept
    return counts, first, longer


def normalise(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The code points of the matching form of `text` and, for each, the index of the original character it comes
    from (so that matched spans can be cut from the original). Per character NFKC then lower case, punctuation,
    spaces and control characters dropped. Looked up in a table with numpy; a text with a combining mark or a code
    point past the table takes the per-character path, which gives the same result."""
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    counts, first, longer = _char_table()
    if len(cps) and int(cps.max()) >= _TABLE_END:
        return normalise_chars(text)
    n = counts[cps].astype(np.int64)
    if len(n) and int(n.min()) < 0:
        return normalise_chars(text)
    if not len(n) or int(n.max()) <= 1:
        origin = np.flatnonzero(n)
        return first[cps[origin]], origin
    ends = np.cumsum(n)
    codes = np.empty(int(ends[-1]), dtype=np.uint32)
    one = n == 1
    codes[ends[one] - 1] = first[cps[one]]
    for i in np.flatnonzero(n > 1).tolist():
        codes[ends[i] - n[i]:ends[i]] = longer[int(cps[i])]
    return codes, np.repeat(np.arange(len(cps)), n)


def normalise_chars(text: str) -> tuple[np.ndarray, np.ndarray]:
    """`normalise` one character at a time: a combining (semi-)voiced mark left by half-width katakana (ｶﾞ) is
    composed with the character before it (kept as a character of its own when they do not compose)."""
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch).lower():
            if unicodedata.combining(c) and chars:
                composed = unicodedata.normalize("NFC", chars[-1] + c)
                if len(composed) == 1:
                    chars[-1] = composed
                    continue
            if unicodedata.category(c)[0] in _DROPPED_CATEGORIES:
                continue
            chars.append(c)
            origin.append(i)
    return np.array([ord(c) for c in chars], dtype=np.uint32), np.array(origin, dtype=np.int64)


_CHUNK = 1 << 16  # windows hashed per pass: the power tables stay 1 MB whatever the text's length


def ngram_hashes(codes: np.ndarray, n: int) -> np.ndarray:
    """64-bit hash of every n-character window of normalised code points (empty when fewer than n): the polynomial
    sum c[i] B^(n-1) + ... + c[i+n-1] mod 2**64, then a multiply-xorshift so similar windows spread apart. B is odd,
    so invertible mod 2**64: the window sums come from one prefix sum of c[j] B^-j, times B^(i+n-1). A long text
    is hashed _CHUNK windows at a time (a window's hash depends on its characters only)."""
    count = len(codes) - n + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint64)
    if count > _CHUNK:
        return np.concatenate([ngram_hashes(codes[at:at + _CHUNK + n - 1], n) for at in range(0, count, _CHUNK)])
    up, down = _POWERS
    with np.errstate(over="ignore"):
        prefix = np.zeros(len(codes) + 1, dtype=np.uint64)
        np.cumsum(codes.astype(np.uint64) * down[:len(codes)], out=prefix[1:])
        h = (prefix[n:] - prefix[:-n]) * up[n - 1:len(codes)]
        h ^= h >> np.uint64(31)
        h *= _MIX
        h ^= h >> np.uint64(29)
    return h


def _powers(size: int) -> tuple[np.ndarray, np.ndarray]:
    """B^i and B^-i mod 2**64 for i < `size`."""
    up, down = np.ones(size, dtype=np.uint64), np.ones(size, dtype=np.uint64)
    with np.errstate(over="ignore"):
        np.cumprod(np.full(size - 1, _BASE, dtype=np.uint64), out=up[1:])
        np.cumprod(np.full(size - 1, _BASE_INVERSE, dtype=np.uint64), out=down[1:])
    return up, down


_POWERS = _powers(_CHUNK + 200)  # up to the longest n-gram the config allows (200)


@dataclass(frozen=True)
class Item:
    """One evaluation item: the set it belongs to, its id, and its text fields."""

    set_name: str
    item_id: str
    texts: tuple[str, ...]


def set_name(path: str) -> str:
    """The name a set is reported under: its file name without the format suffixes (`jsquad-valid`)."""
    name = PurePosixPath(path.rstrip("/")).name
    for suffix in (".gz", *_FORMATS):
        name = name.removesuffix(suffix)
    return name


def read_bytes(path: str) -> bytes:
    """The bytes of a local path, `file:` URI or any URI pyarrow's file systems know (hdfs://, s3://, gs://)."""
    if "://" not in path:
        with open(path.removeprefix("file:"), "rb") as f:
            return f.read()
    from pyarrow import fs

    filesystem, inner = fs.FileSystem.from_uri(path)
    with filesystem.open_input_stream(inner, compression=None) as f:
        return f.read()


def _rows(path: str, data: bytes) -> list[dict[str, Any]]:
    """Rows of a JSONL, TSV/CSV (with a header) or Parquet file; `.gz` text files are inflated."""
    plain = path.removesuffix(".gz")
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    if plain.endswith(".parquet"):
        import pyarrow.parquet as pq

        return pq.read_table(io.BytesIO(data)).to_pylist()
    text = data.decode("utf-8-sig")
    if plain.endswith((".jsonl", ".json")):
        rows = []
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"decontam: {path}:{n}: not a JSON line ({exc.msg})") from None
        return rows
    if plain.endswith((".tsv", ".csv")):
        import csv

        return list(csv.DictReader(io.StringIO(text), delimiter="\t" if plain.endswith(".tsv") else ","))
    raise ValueError(f"decontam: {path}: unknown format, use one of {', '.join(_FORMATS)} (optionally .gz)")


def _field_texts(value: Any) -> list[str]:
    """A field's text: a string, or each element of a list (choices), dicts' values included."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _field_texts(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _field_texts(v)]
    return [str(value)]


def read_items(path: str, data: bytes, fields: list[str], id_field: str) -> list[Item]:
    """The items of one set file. A row's id is its `id_field` value, else its line number (from 1); a set in
    which no row has any of `fields` is refused, so a misnamed field cannot silently disable the check."""
    rows = _rows(path, data)
    name = set_name(path)
    items = []
    for n, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise ValueError(f"decontam: {path}:{n}: a row must be an object with named fields")
        texts = tuple(t for f in fields for t in _field_texts(row.get(f)))
        item_id = row.get(id_field)
        items.append(Item(name, str(item_id) if item_id not in (None, "") else str(n), texts))
    if rows and not any(it.texts for it in items):
        raise ValueError(f"decontam: {path}: no row has any of the fields {', '.join(fields)}; "
                         f"it has {', '.join(sorted(rows[0]))}")
    return items


@dataclass
class Match:
    """What one document shares with the sets: n-grams matched (any item), the share of each item's n-grams found,
    and the characters and spans (original offsets, merged) of the items found above the share threshold."""

    ngrams: int
    chars: int
    shares: dict[tuple[str, str], float] = field(default_factory=dict)
    covered: int = 0
    spans: list[tuple[int, int]] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        return self.covered / self.chars if self.chars else 0.0

    @property
    def share(self) -> float:
        """The largest share of one item's n-grams found in the document (0 when none)."""
        return max(self.shares.values(), default=0.0)

    def found(self, min_share: float) -> list[tuple[str, str]]:
        """(set, item id) of the items whose share is above `min_share`."""
        return sorted(k for k, v in self.shares.items() if v > min_share)


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """The distinct values of `a`, sorted: a sort and a mask (numpy 2.4's plain `np.unique` hashes instead, 100
    times slower on 10 million random 64-bit values)."""
    a = np.sort(a)
    return a[np.concatenate(([True], a[1:] != a[:-1]))] if len(a) else a


class _Lookup:
    """Where a hash sits in a sorted hash array, with few cache misses: a bitmap of the hashes' low bits (8 bits
    per hash, one probe: about 8% of absent hashes pass) and a directory of their top bits (about two hashes per
    bucket). A binary search of a 10-million-entry array costs a cache miss per step; this, one for most n-grams."""

    def __init__(self, hashes: np.ndarray):
        bits = max(1, len(hashes).bit_length() - 1)
        self.shift = np.uint64(64 - bits)
        starts = np.zeros((1 << bits) + 1, dtype=np.int64)
        np.cumsum(np.bincount((hashes >> self.shift).astype(np.int64), minlength=1 << bits), out=starts[1:])
        self.starts = starts.astype(np.int32 if len(hashes) < 2**31 else np.int64)
        self.mask = np.uint64((1 << (max(6, (8 * len(hashes)).bit_length()))) - 1)
        probes = sorted_unique(hashes & self.mask)
        byte, first = np.unique(probes >> np.uint64(3), return_index=True)
        self.bitmap = np.zeros((int(self.mask) + 1) // 8, dtype=np.uint8)
        self.bitmap[byte.astype(np.int64)] = np.bitwise_or.reduceat(
            np.left_shift(1, (probes & np.uint64(7)).astype(np.uint8)).astype(np.uint8), first)

    @property
    def nbytes(self) -> int:
        return int(self.starts.nbytes + self.bitmap.nbytes)

    def find(self, hashes: np.ndarray, h: np.ndarray) -> np.ndarray:
        """For each of `h`, its position in `hashes` (the array this was made from), or -1."""
        pos = np.full(len(h), -1, dtype=np.int64)
        probe = h & self.mask
        maybe = np.flatnonzero((self.bitmap[(probe >> np.uint64(3)).astype(np.int64)]
                                >> (probe & np.uint64(7)).astype(np.uint8)) & 1)
        bucket = (h[maybe] >> self.shift).astype(np.int64)
        lo = self.starts[bucket].astype(np.int64)
        size = self.starts[bucket + 1] - lo
        live = np.flatnonzero(size)
        step = 0
        while len(live):
            at = lo[live] + step
            equal = hashes[at] == h[maybe[live]]
            pos[maybe[live[equal]]] = at[equal]
            step += 1
            live = live[~equal & (size[live] > step)]
        return pos


def template_ngrams(texts: list[np.ndarray], max_texts: int) -> np.ndarray:
    """The n-grams (sorted hashes) found in more than `max_texts` distinct texts of the sets: an instruction
    template, a shared box or boilerplate line, not evidence that one item was copied. A text repeated verbatim (a
    JSQuAD context under each of its questions) counts once."""
    distinct = {h.tobytes(): h for h in texts}.values()
    per_text = [sorted_unique(h) for h in distinct]
    if not per_text:
        return np.empty(0, dtype=np.uint64)
    values, counts = np.unique(np.concatenate(per_text), return_counts=True)
    return values[counts > max_texts]


class DecontamIndex:
    """The n-gram hashes of every item of some evaluation sets, sorted, each with the item it first came from, and
    how many n-grams each item is credited with (an n-gram two items share counts for the first). Looked up through
    `_Lookup`, made where the index is first used and never shipped."""

    def __init__(self, items: list[Item], n: int, digests: dict[str, str], max_ngram_texts: int = 0):
        self.n = n
        self.items = [(it.set_name, it.item_id) for it in items]
        self.digests = digests
        self.max_ngram_texts = max_ngram_texts
        self.set_items = {name: sum(1 for it in items if it.set_name == name) for name in digests}
        hashes, refs = [], []
        for ref, item in enumerate(items):
            for text in item.texts:
                h = ngram_hashes(normalise(text)[0], n)
                hashes.append(h)
                refs.append(np.full(len(h), ref, dtype=np.int32))
        all_h = np.concatenate(hashes) if hashes else np.empty(0, dtype=np.uint64)
        all_r = np.concatenate(refs) if refs else np.empty(0, dtype=np.int32)
        if max_ngram_texts:
            keep = ~np.isin(all_h, template_ngrams(hashes, max_ngram_texts))
            all_h, all_r = all_h[keep], all_r[keep]
        self.hashes, first = np.unique(all_h, return_index=True)
        self.refs = all_r[first]
        self.item_ngrams = np.bincount(self.refs, minlength=len(items))
        self._lookup: _Lookup | None = None

    def __getstate__(self) -> dict[str, Any]:
        """What a Spark broadcast ships: everything but the directory, which each process makes from the hashes."""
        return {**self.__dict__, "_lookup": None}

    @classmethod
    def from_paths(cls, paths: list[str], fields: list[str], id_field: str, n: int, max_ngram_texts: int = 0
                   ) -> "DecontamIndex":
        """Read every set (any file system) and index it; set names (file stems) must be distinct."""
        items: list[Item] = []
        digests: dict[str, str] = {}
        for path in paths:
            name = set_name(path)
            if name in digests:
                raise ValueError(f"decontam: two sets are named {name!r}: rename one of the files")
            try:
                data = read_bytes(path)
            except OSError as exc:
                raise FileNotFoundError(f"decontam.sets: cannot read {path}: {exc}") from None
            digests[name] = "sha256:" + hashlib.sha256(data).hexdigest()
            try:
                items += read_items(path, data, fields, id_field)
            except (OSError, EOFError) as exc:  # a damaged .gz
                raise ValueError(f"decontam: {path}: cannot be read: {exc}") from None
        return cls(items, n, digests, max_ngram_texts)

    @property
    def nbytes(self) -> int:
        return int(self.hashes.nbytes + self.refs.nbytes + self.item_ngrams.nbytes)

    @property
    def lookup_bytes(self) -> int:
        """Memory of the lookup tables once made (0 before): per process, not shipped."""
        return 0 if self._lookup is None else self._lookup.nbytes

    def find(self, h: np.ndarray) -> np.ndarray:
        """For each hash, its position in `self.hashes`, or -1 when it is not there."""
        if self._lookup is None:
            self._lookup = _Lookup(self.hashes)
        return self._lookup.find(self.hashes, h)

    def match(self, text: str, cap: int, min_share: float, min_found: int) -> Match:
        """Find the document's n-grams in the index. An item's share is its distinct n-grams found over its n-grams
        capped at `cap` (a long context is found from a copied stretch of it), for items with at least `min_found`
        n-grams found (one shared citation line is not a copy of a short item); spans and coverage count only the
        n-grams of items whose share is above `min_share`, so a common phrase shared with an item is not cut."""
        codes, origin = normalise(text)
        h = ngram_hashes(codes, self.n)
        if not len(h) or not len(self.hashes):
            return Match(0, len(codes))
        pos = self.find(h)
        starts = np.flatnonzero(pos >= 0)
        if not len(starts):
            return Match(0, len(codes))
        refs = self.refs[pos[starts]]
        found, counts = np.unique(self.refs[sorted_unique(pos[starts])], return_counts=True)
        enough = counts >= max(1, min_found)
        if not enough.any():
            return Match(len(starts), len(codes))
        shares = {r: min(1.0, c / min(cap, int(self.item_ngrams[r])))
                  for r, c in zip(found[enough].tolist(), counts[enough].tolist())}
        over = np.array([shares.get(r, 0.0) > min_share for r in refs.tolist()], dtype=bool)
        cover = np.zeros(len(codes) + 1, dtype=np.int32)
        np.add.at(cover, starts[over], 1)
        np.add.at(cover, starts[over] + self.n, -1)
        covered = np.cumsum(cover[:-1]) > 0
        return Match(len(starts), len(codes), {self.items[r]: float(v) for r, v in shares.items()},
                     int(covered.sum()), _spans(covered, origin))


def _spans(covered: np.ndarray, origin: np.ndarray) -> list[tuple[int, int]]:
    """Runs of covered normalised characters as [start, end) ranges of the original text."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], covered.astype(np.int8), [0]))))
    return [(int(origin[a]), int(origin[b - 1]) + 1) for a, b in zip(edges[::2], edges[1::2])]


def cut_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` without the given [start, end) ranges (sorted, not overlapping)."""
    parts, last = [], 0
    for a, b in spans:
        parts.append(text[last:a])
        last = b
    parts.append(text[last:])
    return "".join(parts)


Tally = dict[str, dict[str, Any]]  # set -> {"documents": n, "removed": n, "cut": n, "spans_cut": n, "items": {ids}}
_COUNTS = ("documents", "removed", "cut", "spans_cut")


_indexes: dict[tuple[Any, ...], DecontamIndex] = {}  # one index per worker process and set configuration


def _index_key(options: Mapping[str, Any]) -> tuple[Any, ...]:
    return (tuple(options["sets"]), tuple(options["fields"]), options["id_field"], options["ngram"],
            options["max_ngram_texts"])


def cached_index(options: Mapping[str, Any]) -> DecontamIndex:
    """The index of a `[filters.decontam]` table's sets, built once per process (or handed in by `use_index`). An
    index already held for the same file digests and n-gram length is reused instead of a second copy."""
    key = _index_key(options)
    if key not in _indexes:
        index = DecontamIndex.from_paths(options["sets"], options["fields"], options["id_field"], options["ngram"],
                                         options["max_ngram_texts"])
        same = next((i for i in _indexes.values() if (i.digests, i.n, i.max_ngram_texts) ==
                     (index.digests, index.n, index.max_ngram_texts)), None)
        _indexes[key] = same or index
    return _indexes[key]


def use_index(options: Mapping[str, Any], index: DecontamIndex) -> None:
    """Make `index` (built on the driver, received as a Spark broadcast) this process's index for these options,
    so executors never read the set files themselves."""
    _indexes.setdefault(_index_key(options), index)


def _non_empty(value: Any) -> str | None:
    """must be a non-empty path or URI"""
    return None if str(value).strip() else "is empty"


PARAMS: dict[str, Param] = {
    "sets": Param([], "Evaluation set files (JSONL, TSV/CSV with a header, Parquet; .gz allowed for text) as local "
                  "paths or URIs (hdfs://, s3://, ...); empty = filter disabled, signals NaN. A set is reported "
                  "under its file name without suffixes.", item=str, check=_non_empty),
    "fields": Param(["question", "context", "passage", "choices", "answer", "sentence1", "sentence2", "text"],
                    "Fields of a set's rows whose text is matched (a list field, e.g. choices, is matched element "
                    "by element); a set with none of them is refused", item=str),
    "id_field": Param("id", "Field holding an item's id; rows without it are numbered from 1"),
    "ngram": Param(15, "Characters per n-gram of the normalised text (chosen on real clean text: "
                   "docs/decontamination.md); text fields shorter than this cannot be found", lo=8, hi=200),
    "max_ngram_texts": Param(1, "n-grams found in more than this many distinct texts of the sets are left out of "
                             "the index: instruction templates, shared boxes and boilerplate lines are not evidence "
                             "that an item was copied (a text repeated verbatim counts once; 0 = keep all; chosen "
                             "on real text: docs/decontamination.md)", lo=0),
    "max_item_share": Param(0.5, "Drop when more than this share of one item's n-grams is found in the document "
                            "(and was not cut); decides which items count as found", lo=0.0, hi=1.0),
    "min_found_ngrams": Param(10, "An item counts only when at least this many of its n-grams are in the document: "
                              "text fields shorter than ngram + min_found_ngrams - 1 characters cannot be found",
                              lo=1),
    "item_ngrams_cap": Param(50, "An item's n-grams counted at most this many, so a long context is found from a "
                             "copied stretch of about cap + ngram characters", lo=1),
    "action": Param("drop", "drop: remove matched documents; cut: cut the matched spans out instead when the "
                    "document is long and the overlap small (see cut_min_chars, cut_max_coverage)",
                    choices=("drop", "cut")),
    "cut_min_chars": Param(2000, "cut only documents of at least this many normalised characters", lo=0),
    "cut_max_coverage": Param(0.1, "cut only when at most this share of the document is matched", lo=0.0, hi=1.0),
}


class DecontamFilter(Filter):
    """Drops documents that contain passages of the configured evaluation sets, or cuts those passages out.

    Signals: `decontam_ngrams` (n-grams shared with any item), `decontam_item_share` (the largest share of one
    item's n-grams found), `decontam_items` (items found: share above `max_item_share`), `decontam_coverage` (share
    of the normalised document those items cover), `decontam_left_share` (`decontam_item_share`, or 0 when the
    spans were cut). The rule reads `decontam_left_share`, so a cut document is kept."""

    name = "decontam"
    params = PARAMS
    rules = (Rule("contaminated", "decontam_left_share", "max", "max_item_share"),)
    signal_names = ("decontam_ngrams", "decontam_item_share", "decontam_items", "decontam_coverage",
                    "decontam_left_share")

    def __init__(self, options: Mapping[str, Any] | None = None):
        super().__init__(options)
        o = self.options
        self.index = cached_index(o) if o["sets"] else None
        self._last: tuple[str, list[tuple[int, int]]] | None = None  # the text measured last and its cut
        self.tally: Tally = {}  # per set, since the last drain()

    def matches(self, doc: Doc) -> Match | None:
        """The document's match against the sets (None when no set is configured); cached per document."""
        if self.index is None:
            return None
        o = self.options
        return doc.cached("decontam_match", lambda: self.index.match(
            doc.text, o["item_ngrams_cap"], o["max_item_share"], o["min_found_ngrams"]))

    def should_cut(self, m: Match) -> bool:
        """Cut rather than drop: configured, something matched, the document long and the overlap small."""
        o = self.options
        return (o["action"] == "cut" and m.share > o["max_item_share"] and m.chars >= o["cut_min_chars"]
                and m.coverage <= o["cut_max_coverage"])

    def signals(self, doc: Doc) -> dict[str, float]:
        m = self.matches(doc)
        if m is None:
            return dict.fromkeys(self.signal_names, math.nan)
        cut = self.should_cut(m)
        self._last = (doc.text, m.spans) if cut else None
        found = m.found(self.options["max_item_share"])
        tally_match(self.tally, found, removed=bool(found) and not cut, spans_cut=len(m.spans) if cut else 0)
        return {"decontam_ngrams": float(m.ngrams), "decontam_item_share": m.share,
                "decontam_items": float(len(found)), "decontam_coverage": m.coverage,
                "decontam_left_share": 0.0 if cut else m.share}

    def drain(self) -> Tally:
        """The per-set tally since the last call, and start a new one (a Spark task sends it to the driver)."""
        tally, self.tally = self.tally, {}
        return tally

    def mask(self, text: str) -> tuple[str, int]:
        """Cut the spans decided for the text measured last (the chain masks right after measuring); returns the
        text and the number of spans cut."""
        if self._last is None or self._last[0] is not text:
            return text, 0
        spans = self._last[1]
        self._last = None
        return cut_spans(text, spans), len(spans)


def add_tally(total: Tally, part: Tally) -> Tally:
    """Merge `part` into `total` (counts add up, item ids unite); returns `total`."""
    for name, t in part.items():
        into = total.setdefault(name, {**dict.fromkeys(_COUNTS, 0), "items": set()})
        for count in _COUNTS:
            into[count] += t.get(count, 0)
        into["items"] |= t["items"]
    return total


def tally_match(tally: Tally, items: list[tuple[str, str]], removed: bool, spans_cut: int = 0) -> None:
    """Count one document under every set with an item found in it: a document, a removal when `removed`, a cut
    document and its `spans_cut` when spans were cut instead (a document matching two sets counts under both), the
    items found."""
    for name in sorted({s for s, _ in items}):
        add_tally(tally, {name: {"documents": 1, "removed": int(removed), "cut": int(spans_cut > 0),
                                 "spans_cut": spans_cut, "items": {i for s, i in items if s == name}}})


def set_summary(index: DecontamIndex, tally: Tally, paths: list[str]) -> list[dict[str, Any]]:
    """One row per set, for the filter stage's `decontam.json`, the manifest and `jwc decontam-check`: what it is
    (name, path, digest, items) and what the crawl held of it (items found, documents matching, removed, cut and
    the spans cut from them)."""
    by_name = {set_name(p): p for p in paths}
    return [{"set": name, "path": by_name[name], "digest": digest, "ngram": index.n,
             "max_ngram_texts": index.max_ngram_texts,
             "items": index.set_items[name], "items_found": len(tally.get(name, {}).get("items", ())),
             **{count: tally.get(name, {}).get(count, 0) for count in _COUNTS}}
            for name, digest in index.digests.items()]


FILTERS = (DecontamFilter,)
