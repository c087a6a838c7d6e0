"""Megatron-LM indexed dataset files (`<prefix>.bin` + `<prefix>.idx`), written and read without megatron-core.

The training cluster reads these files with megatron-core's `IndexedDataset`; we only need to produce them from
Spark partitions, so we write the format ourselves (no torch dependency in the pipeline).

Layout of `<prefix>.idx` (all little-endian), as megatron-core's `_IndexWriter` writes it:

    offset  size        field
    0       9           magic b"MMIDIDX\\x00\\x00"
    9       8           version, uint64 = 1
    17      1           dtype code, uint8 (see DTYPE_CODES)
    18      8           sequence count S, uint64
    26      8           document count D, uint64 (= number of document-index entries, documents + 1)
    34      4*S         sequence lengths, int32 (tokens)
    ..      8*S         sequence pointers, int64 (byte offset of each sequence in .bin)
    ..      8*D         document indices, int64: D entries starting at 0; document k spans sequences [d[k], d[k+1])

`<prefix>.bin` is the token ids of every sequence back to back in that dtype, with no header.

We write one sequence per document, so the document indices are 0..S. Each file is written under a temporary name
and renamed into place only when complete, so a crash never leaves a `.bin`/`.idx` that looks finished.
"""
from __future__ import annotations

import os
import struct
from array import array
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Iterable, Iterator, Sequence

import numpy as np

from jwc.pipeline.io.atomic import AtomicFile

MAGIC = b"MMIDIDX\x00\x00"
VERSION = 1
HEADER_SIZE = 34
# megatron.core.datasets.indexed_dataset.DType: the code stored in the .idx for the token dtype.
DTYPE_CODES: dict[np.dtype, int] = {
    np.dtype(np.uint8): 1,
    np.dtype(np.int8): 2,
    np.dtype(np.int16): 3,
    np.dtype(np.int32): 4,
    np.dtype(np.int64): 5,
    np.dtype(np.float64): 6,
    np.dtype(np.float32): 7,
    np.dtype(np.uint16): 8,
}
_CODE_DTYPES = {code: dt for dt, code in DTYPE_CODES.items()}
# Megatron's DType.optimal_dtype: uint16 strictly below this vocabulary size, int32 otherwise.
UINT16_VOCAB_LIMIT = 65500
_CHUNK = 1 << 20  # entries per chunk when streaming index arrays


def token_dtype(vocab_size: int) -> np.dtype:
    """The token dtype Megatron picks for a vocabulary: uint16 under 65,500 ids, else int32."""
    if vocab_size <= 0:
        raise ValueError(f"vocab_size must be positive, got {vocab_size}")
    return np.dtype(np.uint16) if vocab_size < UINT16_VOCAB_LIMIT else np.dtype(np.int32)


def bin_path(prefix: str | os.PathLike[str]) -> Path:
    return Path(f"{os.fspath(prefix)}.bin")


def idx_path(prefix: str | os.PathLike[str]) -> Path:
    return Path(f"{os.fspath(prefix)}.idx")


def _write_index(out: AtomicFile, dtype: np.dtype, lengths_parts: Iterable[np.ndarray],
                 doc_index_parts: Iterable[np.ndarray], n_sequences: int, n_doc_entries: int) -> None:
    """Write header, lengths, pointers (computed on the fly from lengths) and document indices, chunk by chunk.

    `lengths_parts` is iterated twice (lengths, then pointers), so it must be a re-iterable sequence.
    """
    fh = out.fh
    fh.write(MAGIC)
    fh.write(struct.pack("<Q", VERSION))
    fh.write(struct.pack("<B", DTYPE_CODES[dtype]))
    fh.write(struct.pack("<Q", n_sequences))
    fh.write(struct.pack("<Q", n_doc_entries))
    for part in lengths_parts:
        fh.write(np.ascontiguousarray(part, dtype="<i4").tobytes())
    start = 0  # byte pointer of the next sequence
    for part in lengths_parts:
        ends = np.cumsum(part, dtype=np.int64) * dtype.itemsize + start
        pointers = np.empty_like(ends)
        if len(ends):
            pointers[0] = start
            pointers[1:] = ends[:-1]
            start = int(ends[-1])
        fh.write(pointers.astype("<i8").tobytes())
    for part in doc_index_parts:
        fh.write(np.ascontiguousarray(part, dtype="<i8").tobytes())


def _chunks(values: np.ndarray | array) -> list[np.ndarray]:
    view = np.frombuffer(values, dtype=np.int32) if isinstance(values, array) else values
    return [view[i:i + _CHUNK] for i in range(0, len(view), _CHUNK)]


class IndexedDatasetWriter:
    """Stream documents into `<prefix>.bin`/`<prefix>.idx`, one Megatron sequence per document.

    Token ids go to disk as they arrive; only the int32 length of each document stays in memory (4 bytes per
    document). `eos_id`, when given, is appended to every document (Megatron's `--append-eod`); pass None when
    the caller appends it. Use as a context manager: leaving the block normally finalizes, an exception aborts.
    """

    def __init__(self, prefix: str | os.PathLike[str], vocab_size: int, eos_id: int | None = None):
        self.prefix = os.fspath(prefix)
        self.vocab_size = vocab_size
        self.dtype = token_dtype(vocab_size)
        if eos_id is not None and not 0 <= eos_id < vocab_size:
            raise ValueError(f"eos_id {eos_id} is outside the vocabulary [0, {vocab_size})")
        self.eos_id = eos_id
        self._lengths = array("i")
        self._tokens = 0
        self._bin: AtomicFile | None = AtomicFile(bin_path(self.prefix))

    @property
    def documents(self) -> int:
        return len(self._lengths)

    @property
    def tokens(self) -> int:
        return self._tokens

    def add_document(self, ids: Sequence[int] | np.ndarray) -> None:
        """Append one document's token ids (eos added when the writer has `eos_id`)."""
        self.add_batch([ids])

    def add_batch(self, docs: Sequence[Sequence[int] | np.ndarray]) -> None:
        """Append several documents in order with one write."""
        if self._bin is None:
            raise RuntimeError("writer is already finalized or aborted")
        arrays = [np.asarray(d) for d in docs]
        sizes = np.fromiter((a.size for a in arrays), dtype=np.int64, count=len(arrays))
        nonempty = [a.ravel() for a in arrays if a.size]
        for a in nonempty:
            if a.dtype.kind not in "iu":
                raise TypeError(f"token ids must be integers, got dtype {a.dtype}")
        flat = np.concatenate(nonempty, dtype=np.int64, casting="unsafe") if nonempty else np.empty(0, np.int64)
        if flat.size:
            lo, hi = int(flat.min()), int(flat.max())
            if lo < 0 or hi >= self.vocab_size:
                raise ValueError(f"token id {lo if lo < 0 else hi} outside the vocabulary [0, {self.vocab_size})")
        if self.eos_id is not None:
            flat = np.insert(flat, np.cumsum(sizes), self.eos_id)
            sizes += 1
        if len(sizes) and int(sizes.max()) > np.iinfo(np.int32).max:
            raise ValueError("a document is longer than 2**31-1 tokens (Megatron stores int32 lengths)")
        self._bin.fh.write(flat.astype(self.dtype.newbyteorder("<")).tobytes())
        self._lengths.frombytes(sizes.astype(np.int32).tobytes())
        self._tokens += flat.size

    def finalize(self) -> tuple[Path, Path]:
        """Write the index and move both files into place; returns (bin, idx) paths.

        Order: any old `.idx` is removed, the `.bin` renamed, then the `.idx` renamed last, so an `.idx` on disk
        always describes the `.bin` beside it.
        """
        if self._bin is None:
            raise RuntimeError("writer is already finalized or aborted")
        idx = AtomicFile(idx_path(self.prefix))
        try:
            n = len(self._lengths)
            _write_index(idx, self.dtype, _chunks(self._lengths),
                         (np.arange(i, min(i + _CHUNK, n + 1), dtype=np.int64) for i in range(0, n + 1, _CHUNK)),
                         n, n + 1)
        except BaseException:
            idx.abort()
            self.abort()
            raise
        idx_path(self.prefix).unlink(missing_ok=True)
        self._bin.commit()
        self._bin = None
        idx.commit()
        return bin_path(self.prefix), idx_path(self.prefix)

    def abort(self) -> None:
        """Drop the temporary data; nothing appears under the prefix."""
        if self._bin is not None:
            self._bin.abort()
            self._bin = None

    def __enter__(self) -> IndexedDatasetWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.finalize()
        else:
            self.abort()


@dataclass(frozen=True)
class Index:
    """The parsed `.idx` of one dataset (arrays are read-only views of the file)."""

    dtype: np.dtype
    sequence_lengths: np.ndarray  # int32
    sequence_pointers: np.ndarray  # int64, byte offsets into .bin
    document_indices: np.ndarray  # int64, documents + 1 entries

    @property
    def documents(self) -> int:
        return len(self.document_indices) - 1


def read_index(prefix: str | os.PathLike[str]) -> Index:
    """Parse and check `<prefix>.idx`; the arrays are memory-mapped, so huge indexes cost no RAM."""
    path = idx_path(prefix)
    with open(path, "rb") as fh:
        header = fh.read(HEADER_SIZE)
    if len(header) < HEADER_SIZE or header[:9] != MAGIC:
        raise ValueError(f"{path}: not a Megatron index (bad magic {header[:9]!r})")
    (version,) = struct.unpack_from("<Q", header, 9)
    if version != VERSION:
        raise ValueError(f"{path}: unsupported index version {version}")
    code = header[17]
    if code not in _CODE_DTYPES:
        raise ValueError(f"{path}: unknown dtype code {code}")
    n_seq, n_doc = struct.unpack_from("<QQ", header, 18)
    expected = HEADER_SIZE + 12 * n_seq + 8 * n_doc
    if path.stat().st_size < expected:
        raise ValueError(f"{path}: truncated ({path.stat().st_size} bytes, header promises {expected})")
    lengths = _map(path, "<i4", HEADER_SIZE, n_seq)
    pointers = _map(path, "<i8", HEADER_SIZE + 4 * n_seq, n_seq)
    docs = _map(path, "<i8", HEADER_SIZE + 12 * n_seq, n_doc)
    if n_doc < 1 or docs[0] != 0 or docs[-1] != n_seq:
        raise ValueError(f"{path}: document indices must run from 0 to the sequence count {n_seq}")
    return Index(_CODE_DTYPES[code], lengths, pointers, docs)


def _map(path: Path, dtype: str, offset: int, count: int) -> np.ndarray:
    """A read-only memory map of `count` items (numpy cannot map zero bytes, so empty arrays are plain)."""
    if count == 0:
        return np.empty(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=(count,))


def read_documents(prefix: str | os.PathLike[str]) -> Iterator[np.ndarray]:
    """Yield each document's token ids (all its sequences joined) in order; for our own checks and tests."""
    index = read_index(prefix)
    path = bin_path(prefix)
    size = path.stat().st_size
    need = int(index.sequence_pointers[-1]) + int(index.sequence_lengths[-1]) * index.dtype.itemsize \
        if len(index.sequence_lengths) else 0
    if size < need:
        raise ValueError(f"{path}: {size} bytes but the index needs {need}")
    tokens = _map(path, index.dtype.newbyteorder("<").str, 0, size // index.dtype.itemsize)
    item = index.dtype.itemsize
    for k in range(index.documents):
        first, end = int(index.document_indices[k]), int(index.document_indices[k + 1])
        if first == end:
            yield np.empty(0, dtype=index.dtype)
            continue
        start = int(index.sequence_pointers[first]) // item
        stop = start + int(index.sequence_lengths[first:end].sum())
        yield np.array(tokens[start:stop], dtype=index.dtype)


def merge(prefixes: Sequence[str | os.PathLike[str]], out_prefix: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Concatenate datasets in the given order into `out_prefix` (same layout Megatron's `add_index` makes).

    All inputs must share one token dtype. Memory stays bounded: the .bin files are copied as streams and the
    index arrays are read from each input's .idx one at a time.
    """
    if not prefixes:
        raise ValueError("merge needs at least one input prefix")
    indexes = [read_index(p) for p in prefixes]
    dtypes = {ix.dtype for ix in indexes}
    if len(dtypes) != 1:
        raise ValueError(f"inputs mix token dtypes {sorted(str(d) for d in dtypes)}; cannot merge")
    dtype = dtypes.pop()
    out_bin = AtomicFile(bin_path(out_prefix))
    out_idx = AtomicFile(idx_path(out_prefix))
    try:
        for p, ix in zip(prefixes, indexes):
            need = int(ix.sequence_lengths.sum(dtype=np.int64)) * dtype.itemsize
            with open(bin_path(p), "rb") as src:
                copied = _copy_exact(src, out_bin.fh, need)
            if copied != need:
                raise ValueError(f"{bin_path(p)}: {copied} bytes but its index needs {need}")
        lengths = [part for ix in indexes for part in _chunks(ix.sequence_lengths)]
        n_seq = sum(len(ix.sequence_lengths) for ix in indexes)
        n_doc = 1 + sum(ix.documents for ix in indexes)
        _write_index(out_idx, dtype, lengths, _merged_doc_indices(indexes), n_seq, n_doc)
    except BaseException:
        out_bin.abort()
        out_idx.abort()
        raise
    idx_path(out_prefix).unlink(missing_ok=True)
    out_bin.commit()
    out_idx.commit()
    return bin_path(out_prefix), idx_path(out_prefix)


def _copy_exact(src: BinaryIO, dst: BinaryIO, n: int) -> int:
    """Copy up to n bytes; returns how many were copied."""
    done = 0
    while done < n:
        block = src.read(min(1 << 22, n - done))
        if not block:
            break
        dst.write(block)
        done += len(block)
    return done


def _merged_doc_indices(indexes: Sequence[Index]) -> Iterator[np.ndarray]:
    yield np.zeros(1, dtype=np.int64)
    offset = 0
    for ix in indexes:
        for part in _chunks(ix.document_indices[1:]):
            yield part + offset
        offset += len(ix.sequence_lengths)


__all__ = ["IndexedDatasetWriter", "Index", "merge", "read_documents", "read_index", "token_dtype",
           "bin_path", "idx_path", "DTYPE_CODES", "UINT16_VOCAB_LIMIT"]
