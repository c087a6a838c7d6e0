"""MinHash maths without Spark: hashes equal a plain-Python reference, estimates are as accurate as datasketch's,
band keys behave, parameters are validated and the default S-curve meets the recall / false-merge targets."""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from datasketch import MinHash

from jwc.pipeline.config import ConfigError, build
from jwc.pipeline.dedup import minhash as mh

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MASK = 2**64 - 1


def _fmix(x: int) -> int:
    x ^= x >> 33
    x = (x * 0xFF51AFD7ED558CCD) & MASK
    x ^= x >> 33
    x = (x * 0xC4CEB9FE1A85EC53) & MASK
    return x ^ (x >> 33)


def _reference_signature(text: str, num_perm: int, ngram: int, seed: int) -> list[int]:
    """The definition, one shingle at a time in plain Python integers."""
    a, b, base = mh._coefficients(num_perm, seed)
    norm = mh.normalize(text)
    grams = [norm[i: i + ngram] for i in range(len(norm) - ngram + 1)] if len(norm) >= ngram else [norm]
    hashes = []
    for gram in grams:
        rolled = 0
        for ch in gram:
            rolled = (rolled * int(base) + ord(ch)) & MASK
        hashes.append(_fmix(rolled) >> 32)
    return [min(((int(a[k]) * h + int(b[k])) & MASK) >> 33 for h in hashes) for k in range(num_perm)]


def _grams(text: str, n: int = 5) -> set[str]:
    return {text[i: i + n] for i in range(len(text) - n + 1)}


def _exact_jaccard(x: str, y: str) -> float:
    a, b = _grams(mh.normalize(x)), _grams(mh.normalize(y))
    return len(a & b) / len(a | b)


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    folder = SHARED / "ja_text_ud_gsd"
    if not folder.exists():
        pytest.skip("shared data missing")
    return [json.loads(line)["text"] for path in sorted(folder.glob("*.jsonl")) for line in path.open(encoding="utf-8")]


def test_normalize_folds_width_case_and_spaces() -> None:
    assert mh.normalize("ＡＢＣ　ﾃｽﾄ\n\n  x\t") == "abc テスト x"
    assert mh.normalize(None) == "" and mh.normalize("") == ""


def test_signatures_match_plain_python_reference() -> None:
    texts = ["東京都で新しい条例が可決された。", "ab", "", "Ｔｏｋｙｏ　タワー は 高い", "日本語" * 40]
    sigs = mh.signatures(texts, num_perm=48, ngram=5, seed=7)
    assert sigs.dtype == np.int32 and sigs.shape == (5, 48)
    for text, sig in zip(texts, sigs):
        if text:
            assert sig.tolist() == _reference_signature(text, 48, 5, 7)
        else:
            assert (sig == -1).all()
    assert (sigs[sigs >= 0] < 2**31).all()


def test_signatures_do_not_depend_on_batching() -> None:
    texts = [f"記事{i}の本文です。" * (i % 7 + 1) for i in range(60)] + ["短い"]
    whole = mh.signatures(texts)
    parts = np.vstack([mh.signatures(texts[i: i + 7]) for i in range(0, len(texts), 7)])
    assert np.array_equal(whole, parts)
    assert not np.array_equal(mh.signatures(texts[:3], seed=2), whole[:3])


def test_estimates_are_as_accurate_as_datasketch(sentences: list[str]) -> None:
    rng = random.Random(5)
    errors_ours, errors_ds, truths = [], [], []
    for doc in range(40):
        base = sentences[doc * 20: doc * 20 + 20]
        edited = list(base)
        for _ in range(rng.randint(0, 8)):  # replace and delete sentences: Jaccard from ~0.3 to 1
            edited[rng.randrange(len(edited))] = rng.choice(sentences)
        edited = edited[: len(edited) - rng.randint(0, 3)]
        x, y = "".join(base), "".join(edited)
        truth = _exact_jaccard(x, y)
        ours = mh.jaccard_estimate(*mh.signatures([x, y], num_perm=256))
        sketches = []
        for text in (x, y):
            sketch = MinHash(num_perm=256, seed=1)
            for gram in _grams(mh.normalize(text)):
                sketch.update(gram.encode("utf-8"))
            sketches.append(sketch)
        truths.append(truth)
        errors_ours.append(abs(ours - truth))
        errors_ds.append(abs(sketches[0].jaccard(sketches[1]) - truth))
    assert min(truths) < 0.6 and max(truths) > 0.9
    mean_ours, mean_ds = float(np.mean(errors_ours)), float(np.mean(errors_ds))
    # Both are unbiased with std sqrt(J(1-J)/256) <= 0.031, i.e. mean absolute error about 0.02.
    assert mean_ours < 0.03 and mean_ours < 1.5 * mean_ds + 0.005, (mean_ours, mean_ds)


def test_band_keys_agree_exactly_when_band_rows_agree() -> None:
    sigs = mh.signatures(["同じ文章です。" * 5, "同じ文章です。" * 5, "まったく別の文章が入っている。"], num_perm=64)
    sigs[2, 8:16] = sigs[0, 8:16]  # make band 1 (rows 8..15) of doc 2 equal to doc 0
    keys = mh.band_keys(sigs, bands=8, rows=8)
    assert keys.dtype == np.int64 and keys.shape == (3, 8)
    assert (keys[0] == keys[1]).all()
    assert keys[2, 1] == keys[0, 1] and (keys[2, [0, 2, 3, 4, 5, 6, 7]] != keys[0, [0, 2, 3, 4, 5, 6, 7]]).all()
    assert len(set(keys[0].tolist())) == 8  # equal rows in different bands still give different keys


def test_jaccard_estimate_rowwise() -> None:
    a = np.array([[1, 2, 3, 4], [5, 6, 7, 8]], dtype=np.int32)
    b = np.array([[1, 2, 0, 0], [5, 6, 7, 8]], dtype=np.int32)
    assert mh.jaccard_estimate(a, b).tolist() == [0.5, 1.0]
    assert mh.jaccard_estimate(a[0], b[0]) == 0.5


def test_params_are_validated_at_load() -> None:
    opts = mh.dedup_options({})
    assert opts["ngram"] == 5 and opts["threshold"] == 0.8 and opts["keep"] == "oldest" and opts["exact"] is True
    assert opts["bands"] * opts["rows"] <= opts["num_perm"]
    assert build({"dedup": {"bands": 16, "rows": 16}})["dedup"]["bands"] == 16
    with pytest.raises(ConfigError, match=r"^dedup: bands\*rows = 40\*8 = 320 exceeds num_perm = 256$"):
        build({"dedup": {"bands": 40, "rows": 8}})
    with pytest.raises(ConfigError, match="^dedup.keep: 'random' is not one of 'oldest', 'newest'$"):
        build({"dedup": {"keep": "random"}})
    with pytest.raises(ConfigError, match="unknown"):
        build({"dedup": {"treshold": 0.7}})
    with pytest.raises(ConfigError, match="above"):
        build({"dedup": {"threshold": 1.5}})
    with pytest.raises(ValueError, match="unknown"):  # options handed over from Python: keys still checked
        mh.dedup_options({"treshold": 0.7})
    assert all(p.doc for p in mh.DEDUP_PARAMS.values())


def test_default_s_curve_meets_targets() -> None:
    """Candidate curve x verify tail (an approximation: the two are positively correlated in practice)."""
    o = mh.dedup_options({})

    def merged(s: float) -> float:
        return mh.candidate_probability(s, o["bands"], o["rows"]) * mh.verify_probability(
            s, o["num_perm"], o["threshold"])

    assert merged(0.85) >= 0.95
    assert merged(0.6) < 0.01
    assert mh.candidate_probability(0.8, o["bands"], o["rows"]) > 0.99
    # Swallow's 40 bands x 20 rows only proposes about 37% of pairs at Jaccard 0.8.
    assert abs(mh.candidate_probability(0.8, 40, 20) - 0.37) < 0.01


def test_arrow_adapter_passes_columns_through() -> None:
    batch = pa.RecordBatch.from_pydict(
        {"doc_id": ["a", "b", "c"], "warc_date": ["2024", "2023", None],
         "text": ["テキスト　です", "テキスト です", None]}
    )
    opts = mh.dedup_options({"num_perm": 32, "bands": 4, "rows": 8})
    (out,) = list(mh.arrow_signatures(iter([batch]), opts))
    assert out.schema.names == ["doc_id", "warc_date", "text_hash", "signature", "bands"]
    assert out.column("warc_date").to_pylist() == ["2024", "2023", None]
    hashes = out.column("text_hash").to_pylist()
    assert hashes[0] == hashes[1] != hashes[2]  # same text after normalisation
    sigs = out.column("signature").to_pylist()
    assert len(sigs[0]) == 32 and sigs[0] == sigs[1] and sigs[2] == [-1] * 32
    assert [len(k) for k in out.column("bands").to_pylist()] == [4, 4, 4]
