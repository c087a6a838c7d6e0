"""The dedup stage on real Spark (local[2]) over a synthetic crawl with ground truth: accuracy, determinism across
partitionings, one batch vs two increments through the index, keep policies, outputs, components, compaction."""
from __future__ import annotations

import collections
import itertools
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jwc.jobs.dedup import run_dedup
from jwc.pipeline.dedup import index as dedup_index
from jwc.pipeline.dedup import minhash
from jwc.pipeline.dedup.components import connected_components
from jwc.pipeline.spark import get_session

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PARTITIONS = (1, 2, 8)


@pytest.fixture(scope="module")
def spark():
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return get_session(master="local[2]")


def _grams(text: str) -> set[str]:
    return {text[i: i + 5] for i in range(len(text) - 4)}


def _jaccard(a: str, b: str) -> float:
    """The truth's definition: exact Jaccard of the character 5-gram sets of the raw article texts."""
    x, y = _grams(a), _grams(b)
    return len(x & y) / len(x | y) if x | y else 1.0


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    """Articles of a 4,000-record crawl (real text only: collage and generated pages excluded), with WARC dates."""
    if not (SHARED / "data").exists():
        pytest.skip("shared data missing")
    from warcio.archiveiterator import ArchiveIterator

    tmp = tmp_path_factory.mktemp("dedup_corpus")
    subprocess.run(
        [sys.executable, str(SHARED / "tools" / "make_warc_corpus.py"),
         "--text", str(SHARED / "data" / "ja_text_wikinews"), "--text", str(SHARED / "data" / "ja_text_ud_gsd"),
         "--records", "4000", "--seed", "3", "--out", str(tmp / "c.warc.gz"), "--truth", str(tmp / "c.truth.jsonl")],
        check=True, capture_output=True,
    )
    dates = {}
    with open(tmp / "c.warc.gz", "rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type == "response":
                dates[record.rec_headers.get_header("WARC-Record-ID")] = record.rec_headers.get_header("WARC-Date")
    rows = [json.loads(line) for line in (tmp / "c.truth.jsonl").open(encoding="utf-8")]
    rows = [r for r in rows if r.get("article_text") and not r["text_source"].startswith(("collage:", "generated"))]
    frame = pd.DataFrame({
        "doc_id": [r["warc_record_id"] for r in rows],
        "text": [r["article_text"] for r in rows],
        "url": [r["url"] for r in rows],
        "host": [r["host"] for r in rows],
        "warc_date": [dates[r["warc_record_id"]] for r in rows],
        "crawl_id": "CC-TEST-2024",
        "quality": [float(i % 7) for i in range(len(rows))],
    })
    path = tmp / "docs.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=50)
    return {"tmp": tmp, "path": str(path), "frame": frame, "rows": {r["warc_record_id"]: r for r in rows}}


def _read(spark, path: str) -> pd.DataFrame:
    return spark.read.parquet(path).toPandas()


def _run(spark, docs_path: str, out: Path, partitions: int, **kwargs) -> dict[str, int]:
    """run_dedup with `partitions` input splits and shuffle partitions."""
    size = os.path.getsize(docs_path) if os.path.isfile(docs_path) else sum(
        p.stat().st_size for p in Path(docs_path).glob("*.parquet"))
    conf = {"spark.sql.shuffle.partitions": str(partitions),
            "spark.sql.files.maxPartitionBytes": str(size // partitions + 1),
            "spark.sql.files.openCostInBytes": "0", "spark.sql.files.minPartitionNum": "1"}
    saved = {key: spark.conf.get(key, None) for key in conf}
    for key, value in conf.items():
        spark.conf.set(key, value)
    try:
        assert spark.read.parquet(docs_path).rdd.getNumPartitions() == partitions
        return run_dedup(spark, docs_path, str(out), kwargs.pop("params", {}), **kwargs)
    finally:
        for key, value in saved.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


@pytest.fixture(scope="module")
def runs(spark, corpus) -> dict[int, dict]:
    result = {}
    for n in PARTITIONS:
        out = corpus["tmp"] / f"out_{n}"
        started = time.perf_counter()
        counts = _run(spark, corpus["path"], out, n)
        print(f"\n{n} partitions: {time.perf_counter() - started:.1f} s")
        result[n] = {"counts": counts, "out": out, "documents": _read(spark, f"{out}/documents"),
                     "duplicates": _read(spark, f"{out}/duplicates")}
    return result


def test_same_kept_documents_with_1_2_8_partitions(runs) -> None:
    kept = {n: set(r["documents"]["doc_id"]) for n, r in runs.items()}
    assert kept[1] == kept[2] == kept[8]
    pointers = {n: dict(zip(r["duplicates"]["doc_id"], r["duplicates"]["duplicate_of"])) for n, r in runs.items()}
    assert pointers[1] == pointers[2] == pointers[8]
    assert runs[1]["counts"] == runs[2]["counts"] == runs[8]["counts"]


def test_accuracy_against_truth(runs, corpus) -> None:
    rows = corpus["rows"]
    run = runs[2]
    final = {d: d for d in run["documents"]["doc_id"]}
    final.update(zip(run["duplicates"]["doc_id"], run["duplicates"]["duplicate_of"]))
    predicted = collections.defaultdict(list)
    for doc, rep in final.items():
        predicted[rep].append(doc)
    merged = {tuple(sorted(p)) for members in predicted.values() for p in itertools.combinations(members, 2)}
    truth_clusters = collections.defaultdict(list)
    for r in rows.values():
        if r["dup_cluster"]:
            truth_clusters[r["dup_cluster"]].append(r["warc_record_id"])
    to_original = {}
    for original, members in truth_clusters.items():
        for copy in members:
            if copy != original:
                to_original[tuple(sorted((copy, original)))] = rows[copy]["jaccard_to_original"]
    high = [p for p, j in to_original.items() if j >= 0.85]
    low = [p for p, j in to_original.items() if j < 0.6]
    recall_high = sum(p in merged for p in high) / len(high)
    merged_low = sum(p in merged for p in low) / len(low)
    # Pairs at the 0.8 threshold, scored on (copy, original) pairs and on all pairs the output merged.
    positives = {p for p, j in to_original.items() if j >= 0.8}
    predicted_pairs = merged & set(to_original)
    tp = len(positives & predicted_pairs)
    precision, recall = tp / len(predicted_pairs), tp / len(positives)
    f1 = 2 * precision * recall / (precision + recall)
    false_merges = [p for p in merged if _jaccard(rows[p[0]]["article_text"], rows[p[1]]["article_text"]) < 0.6]
    print(f"\npairs J>=0.85: {len(high)}, recall {recall_high:.3f}; pairs J<0.6: {len(low)}, merged {merged_low:.3f}; "
          f"at 0.8: precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f}; merged pairs {len(merged)}, "
          f"of them J<0.6: {len(false_merges)}; counts {run['counts']}")
    assert len(high) >= 100 and len(low) >= 30
    assert recall_high >= 0.95
    assert merged_low < 0.01
    assert len(false_merges) < 0.01 * len(merged)
    assert f1 >= 0.9


def test_outputs_counts_and_oldest_policy(spark, runs, corpus) -> None:
    run = runs[2]
    counts, documents, duplicates = run["counts"], run["documents"], run["duplicates"]
    assert counts["input"] == len(corpus["frame"])
    assert counts["input"] == counts["output"] + counts["exact_removed"] + counts["near_removed"]
    assert counts["published_removed"] == 0 and counts["exact_removed"] > 0 and counts["near_removed"] > 0
    assert len(documents) == counts["output"] and len(duplicates) == counts["input"] - counts["output"]
    assert {"crawl_id", "quality", "text", "cluster_id", "cluster_size"} <= set(documents.columns)
    assert list(duplicates.columns) == ["doc_id", "url", "host", "duplicate_of", "reason", "jaccard"]
    assert (documents["cluster_id"] == documents["doc_id"]).all()
    assert documents["cluster_size"].sum() == counts["input"]
    sizes = duplicates.groupby("duplicate_of").size()
    assert (documents.set_index("doc_id")["cluster_size"].loc[sizes.index] == sizes + 1).all()
    date = dict(zip(corpus["frame"]["doc_id"], corpus["frame"]["warc_date"]))
    text = dict(zip(corpus["frame"]["doc_id"], corpus["frame"]["text"]))
    kept = set(documents["doc_id"])
    for doc, rep, reason, jac in duplicates[["doc_id", "duplicate_of", "reason", "jaccard"]].itertuples(index=False):
        assert rep in kept and (date[rep], rep) < (date[doc], doc)  # the oldest of each cluster is kept
        if reason == "exact" and jac == 1.0:
            assert minhash.normalize(text[doc]) == minhash.normalize(text[rep])
    signatures = _read(spark, f"{run['out']}/signatures")
    assert len(signatures) == counts["input"] - counts["exact_removed"]
    assert set(signatures["cluster_id"]) == kept
    assert not (run["out"] / "_work").exists() and not (run["out"] / "_checkpoints").exists()


def test_incremental_matches_one_batch_and_index_layout(spark, corpus, runs) -> None:
    frame = corpus["frame"].sort_values(["warc_date", "doc_id"])
    half = len(frame) // 2
    tmp = corpus["tmp"]
    for name, part in (("v1", frame.iloc[:half]), ("v2", frame.iloc[half:])):
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), tmp / f"{name}.parquet", row_group_size=50)
    index = tmp / "index"
    first = _run(spark, str(tmp / "v1.parquet"), tmp / "inc_v1", 2, index_dir=str(index), version_id="v1")
    assert first["published_removed"] == 0
    dedup_index.add_to_index(spark, spark.read.parquet(str(tmp / "inc_v1" / "signatures")), str(index), "v1")
    second = _run(spark, str(tmp / "v2.parquet"), tmp / "inc_v2", 2, index_dir=str(index), version_id="v2")
    kept_v1 = set(_read(spark, str(tmp / "inc_v1" / "documents"))["doc_id"])
    kept_v2 = set(_read(spark, str(tmp / "inc_v2" / "documents"))["doc_id"])
    one_batch = runs[2]
    kept_once = set(one_batch["documents"]["doc_id"])
    # Exactly what one batch keeps, and every removed document resolves to the same kept one, although the older
    # half was published (never taken back) before the newer half was seen.
    assert kept_v1 | kept_v2 == kept_once
    assert kept_v1 == kept_once & set(frame["doc_id"].iloc[:half])
    rep_once = dict(zip(one_batch["duplicates"]["doc_id"], one_batch["duplicates"]["duplicate_of"]))
    rep_inc = {}
    for name in ("inc_v1", "inc_v2"):
        dups = _read(spark, str(tmp / name / "duplicates"))
        rep_inc.update(zip(dups["doc_id"], dups["duplicate_of"]))
    assert rep_inc == rep_once
    print(f"\nincrements: v1 {first}, v2 {second}; kept once {len(kept_once)}, kept by increments "
          f"{len(kept_v1 | kept_v2)}")
    assert second["published_removed"] > 0
    assert first["input"] + second["input"] == runs[2]["counts"]["input"]
    dups = _read(spark, str(tmp / "inc_v2" / "duplicates"))
    published = dups[dups["reason"] == "published"]
    assert len(published) == second["published_removed"] and set(published["duplicate_of"]) <= kept_v1
    assert published["jaccard"].between(0.0, 1.0).all()

    # The layout is plain directories; a re-run of version v1 would not see v1's own entries.
    assert sorted(p.name for p in index.iterdir() if not p.name.startswith(".")) == ["_params.json", "version=v1"]
    assert any(p.name.startswith("part-") and p.suffix == ".parquet" for p in (index / "version=v1").iterdir())
    assert dedup_index.read_index(spark, str(index), exclude_version="v1") is None
    assert dedup_index.read_index(spark, str(index)).count() == first["input"] - first["exact_removed"]

    # Compaction keeps the rows and reduces the files; a mismatched signature configuration is refused.
    many = spark.read.parquet(str(tmp / "inc_v2" / "signatures")).repartition(6)
    dedup_index.add_to_index(spark, many, str(index), "v2")
    assert len(list((index / "version=v2").glob("part-*.parquet"))) == 6
    before = dedup_index.read_index(spark, str(index)).groupBy("version").count().toPandas()
    assert dedup_index.compact_index(spark, str(index))["v2"] == 1
    assert [len(list(v.glob("part-*.parquet"))) for v in sorted(index.glob("version=*"))] == [1, 1]
    after = dedup_index.read_index(spark, str(index)).groupBy("version").count().toPandas()
    assert before.sort_values("version").values.tolist() == after.sort_values("version").values.tolist()
    with pytest.raises(ValueError, match="built with"):
        run_dedup(spark, str(tmp / "v2.parquet"), str(tmp / "bad"), {"seed": 2}, str(index), "v3")


def test_newest_policy_and_exact_switch(spark, tmp_path) -> None:
    story = "東京都は十日、新しい防災計画を発表した。計画では地震や大雨に備えて避難所を増やし、備蓄品を見直す。"
    frame = pd.DataFrame({
        "doc_id": ["a", "b", "c", "d", "e"],
        "text": [story * 3, story * 3 + "（共同）", story * 3, "全く関係のない料理の記事。" * 5, ""],
        "url": [f"https://h{i}.example/x" for i in range(5)],
        "host": [f"h{i}.example" for i in range(5)],
        "warc_date": ["2024-01-01T00:00:00Z", "2024-03-01T00:00:00Z", "2024-02-01T00:00:00Z",
                      "2024-01-05T00:00:00Z", None],
        "crawl_id": "CC",
    })
    frame.to_parquet(tmp_path / "docs.parquet")
    counts = run_dedup(spark, str(tmp_path / "docs.parquet"), str(tmp_path / "out"),
                       {"keep": "newest", "exact": False}, None, None)
    assert counts == {"input": 5, "exact_removed": 0, "near_removed": 2, "published_removed": 0, "output": 3}
    documents = _read(spark, str(tmp_path / "out" / "documents")).set_index("doc_id")
    assert sorted(documents.index) == ["b", "d", "e"] and documents.loc["b", "cluster_size"] == 3
    dups = _read(spark, str(tmp_path / "out" / "duplicates")).set_index("doc_id")
    assert dups.loc["c", "reason"] == "near" and dups.loc["c", "duplicate_of"] == "b"
    assert dups.loc["c", "jaccard"] == dups.loc["a", "jaccard"] and 0.8 <= dups.loc["a", "jaccard"] < 1.0


def test_connected_components_match_union_find(spark) -> None:
    rng = random.Random(11)
    edges = [(rng.randrange(400), rng.randrange(400)) for _ in range(300)]
    edges += [(1000 + i, 1001 + i) for i in range(30)]  # a long path needs several rounds
    edges += [(5, 5), (2000, 2001), (2001, 2000)]
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    expected = {}
    for node in parent:
        expected[node] = min(n for n in parent if find(n) == find(node))
    frame = spark.createDataFrame(edges, "src long, dst long")
    got = dict(connected_components(frame).toPandas().itertuples(index=False))
    assert got == expected
    with pytest.raises(RuntimeError, match="converge"):
        connected_components(spark.createDataFrame(edges[-34:], "src long, dst long"), max_iterations=1)


def _variants(seed: int) -> dict[str, str]:
    """Texts of 100 random 20-character lines: b the original, a and c each with 8 other lines (at opposite ends, so
    0.85 to b and 0.72 to each other); e is d with its last 8 lines changed, f is e with 8 more of d's lines
    changed (0.85 to e, 0.72 to d)."""
    rng = random.Random(seed)
    alphabet = [chr(c) for c in range(0x4E00, 0x4E00 + 2000)] + [chr(c) for c in range(0x3041, 0x3094)]

    def lines(n: int) -> list[str]:
        return ["".join(rng.choice(alphabet) for _ in range(20)) + "。" for _ in range(n)]

    base, other, tail = lines(100), lines(100), lines(8)
    return {
        "a": "".join(base[:92] + lines(8)),
        "b": "".join(base),
        "c": "".join(lines(8) + base[8:]),
        "d": "".join(other),
        "e": "".join(other[:92] + tail),
        "f": "".join(other[:84] + lines(8) + tail),
    }


def test_bridge_is_kept_the_same_in_one_batch_and_in_increments(spark, tmp_path, capsys) -> None:
    """b (newer) is a near copy of a and of c, which are not near copies of each other: a and c both stay, in one
    batch as after publishing them first. f is 0.85 to e and 0.72 to d, e is 0.85 to d: f is removed through e and
    resolves to d, the kept document its chain ends at."""
    texts = _variants(5)
    exact = {x + y: _jaccard(texts[x], texts[y]) for x, y in ("ab", "bc", "ac", "de", "ef", "df")}
    assert min(exact["ab"], exact["bc"], exact["de"], exact["ef"]) > 0.84 and max(exact["ac"], exact["df"]) < 0.74
    dates = {"a": "2024-01-01", "c": "2024-01-02", "d": "2024-01-03", "e": "2024-01-04", "b": "2024-02-01",
             "f": "2024-02-02", "g": "2024-02-03"}
    texts["g"] = texts["c"]  # an exact copy of a published document

    def write(names: list[str], path: Path) -> str:
        pd.DataFrame({"doc_id": names, "text": [texts[n] for n in names], "url": [f"https://x/{n}" for n in names],
                      "host": "x", "warc_date": [dates[n] + "T00:00:00Z" for n in names]}).to_parquet(path)
        return str(path)

    def outcome(out: Path) -> tuple[set[str], dict[str, tuple[str, str]]]:
        dups = _read(spark, str(out / "duplicates"))
        return (set(_read(spark, str(out / "documents"))["doc_id"]),
                {d: (rep, reason) for d, rep, reason in dups[["doc_id", "duplicate_of", "reason"]].itertuples(index=False)})

    run_dedup(spark, write(list("abcdefg"), tmp_path / "all.parquet"), str(tmp_path / "once"), {}, None, None)
    kept, removed = outcome(tmp_path / "once")
    assert kept == {"a", "c", "d"}
    assert removed == {"b": ("a", "near"), "e": ("d", "near"), "f": ("d", "near"), "g": ("c", "exact")}

    index = str(tmp_path / "index")
    run_dedup(spark, write(list("acde"), tmp_path / "v1.parquet"), str(tmp_path / "v1"), {}, index, "v1")
    dedup_index.add_to_index(spark, spark.read.parquet(str(tmp_path / "v1" / "signatures")), index, "v1")
    capsys.readouterr()
    counts = run_dedup(spark, write(list("bfg"), tmp_path / "v2.parquet"), str(tmp_path / "v2"), {}, index, "v2",
                       progress=True)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" (")[0] for line in lines if line.startswith("[dedup]")] == [
        "[dedup] signatures: 3 documents", "[dedup] exact copies of published documents: 1",
        "[dedup] published documents sharing a band key: 4", "[dedup] candidates verified, chains resolved: 2 "
        "documents decided", "[dedup] outputs written: 0 kept"]
    kept_v1, removed_v1 = outcome(tmp_path / "v1")
    kept_v2, removed_v2 = outcome(tmp_path / "v2")
    assert kept_v1 == {"a", "c", "d"} and kept_v2 == set() and removed_v1 == {"e": ("d", "near")}
    assert removed_v2 == {"b": ("a", "published"), "f": ("d", "published"), "g": ("c", "published")}
    assert counts == {"input": 3, "exact_removed": 0, "near_removed": 0, "published_removed": 3, "output": 0}
    assert _read(spark, str(tmp_path / "v2" / "duplicates")).set_index("doc_id").loc["g", "jaccard"] == 1.0
    assert len(_read(spark, str(tmp_path / "v2" / "signatures"))) == 2  # g, a published copy, is not indexed again

    # An index version written before text_hash was indexed still matches: the exact copy is found by LSH instead.
    legacy = tmp_path / "legacy" / "version=v1"
    legacy.mkdir(parents=True)
    _read(spark, str(tmp_path / "v1" / "signatures")).drop(columns="text_hash").to_parquet(legacy / "part-0.parquet")
    run_dedup(spark, str(tmp_path / "v2.parquet"), str(tmp_path / "v2_legacy"), {}, str(tmp_path / "legacy"), "v2")
    assert outcome(tmp_path / "v2_legacy") == (set(), removed_v2)
    assert _read(spark, str(tmp_path / "v2_legacy" / "duplicates")).set_index("doc_id").loc["g", "jaccard"] == 1.0
    # With exact dedup off nothing is matched by hash, in one batch or against the index: LSH finds the copy.
    capsys.readouterr()
    run_dedup(spark, str(tmp_path / "v2.parquet"), str(tmp_path / "v2_noexact"), {"exact": False}, index, "v2",
              progress=True)
    assert "exact copies of published" not in capsys.readouterr().err
    assert outcome(tmp_path / "v2_noexact") == (set(), removed_v2)
