"""Megatron indexed dataset files: our writer/reader round trip, exact byte layout, merge, atomic writes, and
reading our files with megatron-core's own IndexedDataset (skipped when megatron-core is not installed)."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from jwc.pipeline.tokens.megatron import (IndexedDatasetWriter, bin_path, idx_path, merge, read_documents, read_index,
                               token_dtype)


TEXTS = [
    "東京駅の地下街は朝から通勤客で混み合っていた。",
    "週末は雨の予報なので、洗濯物は部屋の中に干しておこう。",
    "新しい図書館には子ども向けの絵本コーナーが設けられた。",
    "会議は午後三時に始まり、議題は来年度の予算案だった。",
    "駅前の商店街では秋祭りの準備が進んでいる。\n提灯が並び、屋台の骨組みも組み上がった。",
    "このソフトウェアは Python 3.11 で動作し、設定ファイルは TOML 形式です。",
    "祖母は毎朝、庭の畑で採れた野菜で味噌汁を作ってくれた。",
    "電車が遅れたため、待ち合わせに二十分ほど遅刻してしまった。",
]


def _docs(seed: int, n: int, vocab: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    docs = [rng.integers(0, vocab, size=int(rng.integers(0, 50)), dtype=np.int64) for _ in range(n)]
    docs[3] = np.empty(0, dtype=np.int64)  # always at least one empty document
    return docs


def _read(prefix: Path) -> list[list[int]]:
    return [d.tolist() for d in read_documents(prefix)]


def test_dtype_follows_megatron_threshold() -> None:
    assert token_dtype(32000) == np.uint16
    assert token_dtype(65499) == np.uint16
    assert token_dtype(65500) == np.int32
    assert token_dtype(151_936) == np.int32


def test_exact_byte_layout(tmp_path: Path) -> None:
    with IndexedDatasetWriter(tmp_path / "t", vocab_size=100, eos_id=1) as w:
        w.add_document([7, 8])
        w.add_document([])
    assert bin_path(tmp_path / "t").read_bytes() == struct.pack("<4H", 7, 8, 1, 1)
    expected = (b"MMIDIDX\x00\x00" + struct.pack("<Q", 1) + bytes([8]) + struct.pack("<QQ", 2, 3)
                + struct.pack("<2i", 3, 1) + struct.pack("<2q", 0, 6) + struct.pack("<3q", 0, 1, 2))
    assert idx_path(tmp_path / "t").read_bytes() == expected


@pytest.mark.parametrize("vocab, dtype, code", [(32000, np.uint16, 8), (200_000, np.int32, 4)])
def test_round_trip(tmp_path: Path, vocab: int, dtype: type, code: int) -> None:
    docs = _docs(1, 40, vocab)
    docs[5] = np.array([vocab - 1, 0], dtype=np.int32)  # the extremes of the id range
    prefix = tmp_path / "part"
    w = IndexedDatasetWriter(prefix, vocab_size=vocab)
    w.add_batch(docs[:10])
    for d in docs[10:20]:
        w.add_document(d.tolist())
    w.add_batch(docs[20:])
    w.finalize()
    assert _read(prefix) == [d.tolist() for d in docs]
    index = read_index(prefix)
    assert index.dtype == dtype and idx_path(prefix).read_bytes()[17] == code
    assert index.documents == 40 and index.document_indices.tolist() == list(range(41))
    total = sum(len(d) for d in docs)
    assert bin_path(prefix).stat().st_size == total * np.dtype(dtype).itemsize
    assert w.tokens == total and w.documents == 40


def test_eos_flag_appends_to_every_document(tmp_path: Path) -> None:
    with IndexedDatasetWriter(tmp_path / "e", vocab_size=50, eos_id=2) as w:
        w.add_batch([[5, 6], [], np.array([49], dtype=np.uint8)])
    assert _read(tmp_path / "e") == [[5, 6, 2], [2], [49, 2]]


def test_empty_dataset(tmp_path: Path) -> None:
    with IndexedDatasetWriter(tmp_path / "z", vocab_size=50):
        pass
    assert _read(tmp_path / "z") == []
    assert bin_path(tmp_path / "z").stat().st_size == 0
    assert read_index(tmp_path / "z").document_indices.tolist() == [0]


def test_merge_keeps_the_given_order(tmp_path: Path) -> None:
    parts = {}
    for name, seed in (("a", 1), ("b", 2), ("c", 3)):
        parts[name] = _docs(seed, 12, 1000)
        with IndexedDatasetWriter(tmp_path / name, vocab_size=1000, eos_id=0) as w:
            w.add_batch(parts[name])
    with IndexedDatasetWriter(tmp_path / "empty", vocab_size=1000):
        pass
    merge([tmp_path / "c", tmp_path / "empty", tmp_path / "a", tmp_path / "b"], tmp_path / "all")
    expected = [d.tolist() + [0] for name in "cab" for d in parts[name]]
    assert _read(tmp_path / "all") == expected
    index = read_index(tmp_path / "all")
    assert index.document_indices.tolist() == list(range(37))
    lengths = index.sequence_lengths.astype(np.int64)
    assert index.sequence_pointers.tolist() == (np.concatenate([[0], np.cumsum(lengths)[:-1]]) * 2).tolist()


def test_merge_refuses_mixed_dtypes(tmp_path: Path) -> None:
    for name, vocab in (("small", 1000), ("big", 100_000)):
        with IndexedDatasetWriter(tmp_path / name, vocab_size=vocab) as w:
            w.add_document([1, 2])
    with pytest.raises(ValueError, match="mix token dtypes"):
        merge([tmp_path / "small", tmp_path / "big"], tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.bin", "big.idx", "small.bin", "small.idx"]


def test_rejects_ids_outside_vocabulary_and_non_integers(tmp_path: Path) -> None:
    with IndexedDatasetWriter(tmp_path / "v", vocab_size=100) as w:
        with pytest.raises(ValueError, match="outside the vocabulary"):
            w.add_document([5, 100])
        with pytest.raises(ValueError, match="outside the vocabulary"):
            w.add_document([-1])
        with pytest.raises(TypeError, match="integers"):
            w.add_document([1.5])
        w.add_document([99])
    assert _read(tmp_path / "v") == [[99]]
    with pytest.raises(ValueError, match="eos_id"):
        IndexedDatasetWriter(tmp_path / "bad", vocab_size=10, eos_id=10)


def test_writes_are_atomic(tmp_path: Path) -> None:
    prefix = tmp_path / "p"
    w = IndexedDatasetWriter(prefix, vocab_size=100)
    w.add_document([1, 2, 3])
    assert not bin_path(prefix).exists() and not idx_path(prefix).exists()  # only a temp file so far
    w.finalize()
    assert _read(prefix) == [[1, 2, 3]]
    with pytest.raises(RuntimeError, match="boom"):
        with IndexedDatasetWriter(prefix, vocab_size=100) as w2:
            w2.add_document([9])
            raise RuntimeError("boom")
    assert _read(prefix) == [[1, 2, 3]]  # the failed rewrite left the old files alone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.bin", "p.idx"]  # and no temp files
    with IndexedDatasetWriter(prefix, vocab_size=100) as w3:
        w3.add_document([4])
    assert _read(prefix) == [[4]]


def test_reader_rejects_bad_files(tmp_path: Path) -> None:
    with IndexedDatasetWriter(tmp_path / "r", vocab_size=100) as w:
        w.add_document([1, 2, 3])
    idx = idx_path(tmp_path / "r").read_bytes()
    idx_path(tmp_path / "bad").write_bytes(b"NOTANIDX\x00" + idx[9:])
    with pytest.raises(ValueError, match="magic"):
        read_index(tmp_path / "bad")
    idx_path(tmp_path / "short").write_bytes(idx[:-4])
    with pytest.raises(ValueError, match="truncated"):
        read_index(tmp_path / "short")
    idx_path(tmp_path / "cut").write_bytes(idx)
    bin_path(tmp_path / "cut").write_bytes(bin_path(tmp_path / "r").read_bytes()[:4])
    with pytest.raises(ValueError, match="needs 6"):
        list(read_documents(tmp_path / "cut"))


def test_megatron_core_reads_our_files(tmp_path: Path) -> None:
    """megatron-core's own reader gets exactly the tokenizer's ids per document, in order, also after merge;
    and its own builder writes byte-identical files (per document, and merging with add_index)."""
    idx_mod = pytest.importorskip("megatron.core.datasets.indexed_dataset")

    from jwc.pipeline.tokens.tokenizer import load_tokenizer, train_sentencepiece

    tok = load_tokenizer(train_sentencepiece(TEXTS, tmp_path / "tok", vocab_size=600))
    halves = [TEXTS[:4] + [""], TEXTS[4:] + ["絵文字😀と稀な漢字𠮷"]]
    expected: list[list[int]] = []
    for i, texts in enumerate(halves):
        ids = tok.encode_batch(texts)
        expected += [d.tolist() + [tok.eos_id] for d in ids]
        with IndexedDatasetWriter(tmp_path / f"part{i}", tok.vocab_size, eos_id=tok.eos_id) as w:
            w.add_batch(ids)
    merge([tmp_path / "part0", tmp_path / "part1"], tmp_path / "merged")

    ds = idx_mod.IndexedDataset(str(tmp_path / "merged"))
    assert len(ds) == len(expected) and ds.index.dtype == np.uint16
    assert [ds[i].tolist() for i in range(len(ds))] == expected
    assert ds.document_indices.tolist() == list(range(len(expected) + 1))
    assert [a.tolist() for a in ds[0:len(ds)]] == expected  # the contiguous-slice path
    assert [tok.decode(ds[i][:-1]) for i in range(len(ds))] == halves[0] + halves[1]
    part0 = idx_mod.IndexedDataset(str(tmp_path / "part0"))
    assert [part0[i].tolist() for i in range(len(part0))] == expected[: len(halves[0])]

    builder = idx_mod.IndexedDatasetBuilder(str(tmp_path / "ref.bin"), dtype=np.uint16)
    for ids in expected:
        builder.add_document(np.array(ids), [len(ids)])
    builder.finalize(str(tmp_path / "ref.idx"))
    assert (tmp_path / "ref.bin").read_bytes() == bin_path(tmp_path / "merged").read_bytes()
    assert (tmp_path / "ref.idx").read_bytes() == idx_path(tmp_path / "merged").read_bytes()
    joined = idx_mod.IndexedDatasetBuilder(str(tmp_path / "joined.bin"), dtype=np.uint16)
    joined.add_index(str(tmp_path / "part0"))
    joined.add_index(str(tmp_path / "part1"))
    joined.finalize(str(tmp_path / "joined.idx"))
    assert (tmp_path / "joined.idx").read_bytes() == idx_path(tmp_path / "merged").read_bytes()
    assert (tmp_path / "joined.bin").read_bytes() == bin_path(tmp_path / "merged").read_bytes()


def test_megatron_core_reads_int32_files(tmp_path: Path) -> None:
    idx_mod = pytest.importorskip("megatron.core.datasets.indexed_dataset")
    docs = _docs(7, 30, 151_936)
    docs[0] = np.array([151_935, 70_000, 65_536], dtype=np.int64)
    with IndexedDatasetWriter(tmp_path / "big", vocab_size=151_936, eos_id=151_643) as w:
        w.add_batch(docs)
    ds = idx_mod.IndexedDataset(str(tmp_path / "big"))
    assert ds.index.dtype == np.int32
    assert [ds[i].tolist() for i in range(len(ds))] == [d.tolist() + [151_643] for d in docs]
