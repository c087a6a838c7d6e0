"""Per-file parts of the extract stage: what a resumed run keeps and what it redoes (no Spark needed)."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from jwc.jobs.fileparts import (INFLIGHT, MARKERS, RECORDS, Inflight, clean_temporaries, file_key,
                                finished_files, part_name, prepare, read_inflight, write_marker, write_part)
from jwc.schemas.documents import EXTRACT_SCHEMA

STAMP = {"config_digest": "abc", "crawl_id": "C"}


def _rows(path: str, n: int) -> list[dict]:
    return [{"doc_id": f"{path}-{i}", "outcome": "kept", "records": 1, "source_file": path, "source_offset": i * 100}
            for i in range(n)]


def _finish(out: Path, path: str, n: int, size: int = 1000) -> Path:
    part = out / RECORDS / part_name(path)
    batch = pa.RecordBatch.from_pylist(_rows(path, n), schema=EXTRACT_SCHEMA)
    assert write_part(iter([batch]), part) == n
    write_marker(out, path, size, part, n, STAMP)
    return part


def test_resume_keeps_only_valid_finished_files(tmp_path) -> None:
    out = tmp_path / "extract.partial"
    prepare(out)
    sizes = {f"/in/{name}.warc.gz": 1000 for name in "abcdef"}
    for name in "abcde":
        _finish(out, f"/in/{name}.warc.gz", 3)
    # b: its part was cut short; c: another config; d: the marker is garbage; e: the input changed size since.
    part_b = out / RECORDS / part_name("/in/b.warc.gz")
    part_b.write_bytes(part_b.read_bytes()[:-20])
    marker_c = out / MARKERS / f"{file_key('/in/c.warc.gz')}.json"
    info = json.loads(marker_c.read_text())
    marker_c.write_text(json.dumps({**info, "stamp": {**STAMP, "config_digest": "other"}}))
    (out / MARKERS / f"{file_key('/in/d.warc.gz')}.json").write_text("{not json")
    sizes["/in/e.warc.gz"] = 2000
    # f: killed while writing (a hidden temporary, no marker); an orphan part with no marker at all.
    (out / RECORDS / f".{part_name('/in/f.warc.gz')}.123.tmp").write_bytes(b"PAR1")
    (out / RECORDS / part_name("/in/gone.warc.gz")).write_bytes(b"PAR1")
    assert finished_files(out, sizes, STAMP) == {"/in/a.warc.gz"}
    assert sorted(p.name for p in (out / RECORDS).iterdir()) == [part_name("/in/a.warc.gz")]
    assert len(list((out / MARKERS).glob("*.json"))) == 1


def test_running_counts_are_published_and_removed(tmp_path) -> None:
    out = tmp_path / "x"
    prepare(out)
    counter = Inflight(out, "/in/a.warc.gz", 1e-9)
    seen = list(counter.count(iter(_rows("/in/a.warc.gz", 5))))
    assert len(seen) == 5 and read_inflight(out) == (5, 400)  # records so far, furthest byte offset
    assert len(list(Inflight(out, "/in/b.warc.gz", 0).count(iter(_rows("/in/b.warc.gz", 2))))) == 2
    assert read_inflight(out) == (5, 400)  # 0: never written
    counter.done()
    assert read_inflight(out) == (0, 0) and not list((out / INFLIGHT).iterdir())
    (out / INFLIGHT / "stale").write_text("[7, 7]")
    clean_temporaries(out)
    assert read_inflight(out) == (0, 0) and not (out / INFLIGHT).exists()
