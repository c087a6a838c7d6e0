"""MinHash signatures, LSH band keys and Jaccard estimates for near-duplicate detection, vectorised with numpy.

Why it is built this way:
- Shingles are character n-grams of a normalised text (Japanese has no spaces, so word shingles would need a
  tokenizer and would be slower and less stable). The texts of a batch are concatenated into one UTF-32 code-point
  array and every n-gram gets a rolling polynomial hash in n vector operations, then a murmur3 finaliser.
- Each of the `num_perm` hash functions is `(a*h + b) mod 2**64` over uint64 arrays, keeping the top 31 bits
  (Dietzfelbinger's multiply-add-shift family, 2-universal like `(a*h + b) mod p`). The uint64 wrap-around is the
  modulus for free; a prime modulus via numpy's remainder measured about 5x slower (see docs/dedup.md). The minimum
  per document is taken with `np.minimum.reduceat` over blocks of 32 permutations x 16,384 shingles.
- Signatures are int32 (31-bit values; -1 marks a document without characters) so Spark stores them as array<int>.
- Nothing here touches Spark: `arrow_signatures` is the per-batch adapter the Spark job runs on the executors.
"""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import pyarrow as pa
import xxhash

from jwc.schemas.config import Check, Param, filled

KEEP_POLICIES = ("oldest", "newest")

DEDUP_PARAMS: dict[str, Param] = {
    "ngram": Param(5, "characters per shingle (character n-grams of the normalised text)", lo=1, hi=32),
    "num_perm": Param(256, "hash functions per MinHash signature; more = tighter Jaccard estimate in verify "
                           "(std = sqrt(J(1-J)/num_perm)) but larger signatures (4 bytes each)", lo=16, hi=2048),
    "bands": Param(32, "LSH bands; a pair becomes a candidate when all rows of any band agree", lo=1, hi=1024),
    "rows": Param(8, "signature rows per band; bands*rows must be <= num_perm", lo=1, hi=256),
    "threshold": Param(0.8, "minimum estimated Jaccard (from the full signatures) for two documents to be "
                            "near-duplicates; every candidate edge is verified against it", lo=0.05, hi=1.0),
    "keep": Param("oldest", "which document of a cluster survives: 'oldest' (earliest warc_date, then smallest "
                            "doc_id) or 'newest' (latest warc_date, then smallest doc_id); documents already in "
                            "the published index always win", kind=str, choices=KEEP_POLICIES),
    "exact": Param(True, "remove exact duplicates (same normalised text) before MinHash, reason 'exact'"),
    "seed": Param(1, "seed of the shingle hash and the permutations; an index is only valid for one seed",
                  lo=0, hi=2**31 - 1),
    "pair_bucket_max": Param(16, "each document is compared with at most this many earlier documents of every LSH "
                                 "bucket it is in (the bucket's first ones in keep order): buckets this small verify "
                                 "every pair, larger ones (boilerplate) stay bounded", lo=2, hi=10_000),
    "max_cc_iterations": Param(64, "bound on the large-star/small-star rounds that resolve chains of duplicates to "
                                   "their kept document", lo=1, hi=1000),
}

# Parameters that change signatures or band keys: an index written with other values cannot be matched.
SIGNATURE_PARAMS = ("ngram", "num_perm", "bands", "rows", "seed")
NORMALIZATION_VERSION = 1

_WS = re.compile(r"\s+")
_C1 = np.uint64(0xFF51AFD7ED558CCD)
_C2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_MASK64 = 2**64 - 1
_PERM_BLOCK = 32  # permutations per block
_SHINGLE_BLOCK = 16384  # shingles per block: 32 x 16384 uint64 = 4 MiB (measured fastest, see bench)


def bands_fit_signature(opts: Mapping[str, Any]) -> str | None:
    """Cross-key check of [dedup]: the LSH bands must not use more rows than the signature has."""
    if opts["bands"] * opts["rows"] > opts["num_perm"]:
        return (f"bands*rows = {opts['bands']}*{opts['rows']} = {opts['bands'] * opts['rows']} exceeds "
                f"num_perm = {opts['num_perm']}")
    return None


DEDUP_CHECKS: tuple[Check, ...] = (bands_fit_signature,)


def dedup_options(given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """[dedup] values with defaults filled in; the config loader checked them (`DEDUP_PARAMS`, `DEDUP_CHECKS`)."""
    return filled("dedup", DEDUP_PARAMS, given)


def normalize(text: str | None) -> str:
    """NFKC, lower case, whitespace runs to one space: full/half-width and layout variants hash the same."""
    if not text:
        return ""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


def text_hash(normalized: str) -> bytes:
    """128-bit hash of a normalised text, the key of exact dedup."""
    return xxhash.xxh3_128_digest(normalized.encode("utf-8"))


def _stream(seed: int, tag: int, count: int) -> np.ndarray:
    """`count` uint64 values from PCG64 (stable across numpy versions); one stream per tag."""
    return np.random.Generator(np.random.PCG64([seed, tag])).bit_generator.random_raw(count).astype(np.uint64)


@functools.lru_cache(maxsize=16)
def _coefficients(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.uint64]:
    """Odd multipliers a, offsets b and the odd polynomial base, from `seed`. Separate streams make the first k
    permutations the same for every num_perm >= k, and the shingle hashes independent of num_perm."""
    a = _stream(seed, 1, num_perm) | np.uint64(1)
    b = _stream(seed, 2, num_perm)
    base = _stream(seed, 3, 1)[0] | np.uint64(1)
    a.setflags(write=False)
    b.setflags(write=False)
    return a, b, base


def _fmix64(x: np.ndarray) -> np.ndarray:
    """murmur3's 64-bit finaliser, in place: spreads the polynomial hash over all bits."""
    x ^= x >> _S33
    x *= _C1
    x ^= x >> _S33
    x *= _C2
    x ^= x >> _S33
    return x


def shingle_hashes(texts: Sequence[str], ngram: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """32-bit hashes (as uint64) of the character n-grams of already normalised texts, concatenated in text order,
    and the shingle count per text. A text shorter than `ngram` is one shingle; an empty text has none."""
    _, _, base = _coefficients(1, seed)
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    starts = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    cps = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    windows = max(cps.size - ngram + 1, 0)
    rolled = np.zeros(windows, dtype=np.uint64)
    for i in range(ngram):  # one vector operation per n-gram position, not per shingle
        rolled *= base
        rolled += cps[i: i + windows]
    short = np.flatnonzero((lengths > 0) & (lengths < ngram))
    short_hashes = np.zeros(short.size, dtype=np.uint64)
    for k, doc in enumerate(short):  # one whole-text shingle per short text (fewer than `ngram` characters)
        rolled_short = 0
        for cp in texts[doc]:
            rolled_short = (rolled_short * int(base) + ord(cp)) & _MASK64
        short_hashes[k] = rolled_short
    source = np.concatenate([rolled, short_hashes])
    counts = np.where(lengths >= ngram, lengths - ngram + 1, (lengths > 0).astype(np.int64))
    first = starts.copy()
    first[short] = windows + np.arange(short.size)
    offsets = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(counts[:-1], out=offsets[1:])
    gather = np.repeat(first - offsets, counts) + np.arange(int(counts.sum()), dtype=np.int64)
    hashes = _fmix64(source[gather]) >> np.uint64(32)
    return hashes, counts


def signatures(texts: Sequence[str], num_perm: int = 256, ngram: int = 5, seed: int = 1,
               normalized: bool = False) -> np.ndarray:
    """MinHash signatures, shape (len(texts), num_perm), int32; -1 everywhere for a text without characters."""
    if not normalized:
        texts = [normalize(t) for t in texts]
    a, b, _ = _coefficients(num_perm, seed)
    hashes, counts = shingle_hashes(texts, ngram, seed)
    out = np.full((len(texts), num_perm), -1, dtype=np.int32)
    docs = np.flatnonzero(counts)
    if docs.size == 0:
        return out
    seg_counts = counts[docs]
    seg_end = np.cumsum(seg_counts)
    seg_start = seg_end - seg_counts
    mins = np.empty((num_perm, docs.size), dtype=np.uint64)
    block = np.empty(_PERM_BLOCK * max(_SHINGLE_BLOCK, int(seg_counts.max())), dtype=np.uint64)
    lo = 0
    while lo < docs.size:  # groups of whole documents of about _SHINGLE_BLOCK shingles
        hi = max(int(np.searchsorted(seg_end, seg_start[lo] + _SHINGLE_BLOCK, side="right")), lo + 1)
        group = hashes[seg_start[lo]: seg_end[hi - 1]]
        local = seg_start[lo:hi] - seg_start[lo]
        for p in range(0, num_perm, _PERM_BLOCK):
            q = min(p + _PERM_BLOCK, num_perm)
            values = block[: (q - p) * group.size].reshape(q - p, group.size)
            np.multiply(a[p:q, None], group[None, :], out=values)
            values += b[p:q, None]
            mins[p:q, lo:hi] = np.minimum.reduceat(values, local, axis=1)
        lo = hi
    out[docs] = (mins.T >> _S33).astype(np.int32)
    return out


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One int64 key per band, shape (n, bands): two documents share a key iff the band's rows agree (up to
    64-bit hash collisions). The band index is mixed in so equal rows in different bands give different keys."""
    n = sigs.shape[0]
    view = sigs[:, : bands * rows].astype(np.int64).view(np.uint64).reshape(n, bands, rows)
    keys = np.broadcast_to(np.arange(1, bands + 1, dtype=np.uint64) * _C2, (n, bands)).copy()
    for r in range(rows):
        keys ^= view[:, :, r]
        keys *= _C1
        _fmix64(keys)
    return keys.view(np.int64)


def jaccard_estimate(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray | float:
    """Share of equal signature positions; works row-wise on 2-D arrays."""
    equal = np.mean(np.asarray(sig_a) == np.asarray(sig_b), axis=-1)
    return float(equal) if np.ndim(equal) == 0 else equal


def candidate_probability(s: float, bands: int, rows: int) -> float:
    """The LSH S-curve: chance that two documents of Jaccard s share at least one band."""
    return 1.0 - (1.0 - s**rows) ** bands


def verify_probability(s: float, num_perm: int, threshold: float) -> float:
    """Chance that the signature estimate of a pair with Jaccard s reaches the threshold (binomial tail)."""
    need = math.ceil(threshold * num_perm - 1e-9)
    return sum(math.comb(num_perm, k) * s**k * (1 - s) ** (num_perm - k) for k in range(need, num_perm + 1))


def arrow_signatures(batches: Iterator[pa.RecordBatch], params: Mapping[str, Any]) -> Iterator[pa.RecordBatch]:
    """Executor side of the Spark job: (doc_id, text, other columns...) -> (doc_id, other columns..., text_hash,
    signature, bands). The text is dropped; every other column is passed through."""
    num_perm, bands, rows = params["num_perm"], params["bands"], params["rows"]
    for batch in batches:
        texts = [normalize(t) for t in batch.column("text").to_pylist()]
        sigs = signatures(texts, num_perm, params["ngram"], params["seed"], normalized=True)
        keys = band_keys(sigs, bands, rows)
        n = len(texts)
        sig_col = pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32) * num_perm),
                                           pa.array(sigs.reshape(-1)))
        key_col = pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32) * bands),
                                           pa.array(keys.reshape(-1)))
        hash_col = pa.array([text_hash(t) for t in texts], type=pa.binary())
        keep = [name for name in batch.schema.names if name != "text"]
        yield pa.RecordBatch.from_arrays(
            [batch.column(name) for name in keep] + [hash_col, sig_col, key_col],
            names=keep + ["text_hash", "signature", "bands"],
        )
