"""A small Common Crawl release served over local HTTP, read in Spark: full scan from warc.paths.gz vs index mode
from the cc-index-table, a flaky server, files that fail every time or midway, --only-failed, and the nightly CLI
over a crawl id."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from jwc.schemas.config import resolve
from jwc.jobs.cli import main as cli
from jwc.jobs.extract import FAILED_FILES, extract_command
from jwc.pipeline import config as config_mod
from jwc.pipeline.commoncrawl.index import select_captures
from jwc.pipeline.commoncrawl.listing import COMMONCRAWL_PARAMS, index_source
from jwc.pipeline.config import Config
from jwc.pipeline.sample.generate import generate_sample
from tests.ccserver import CrawlServer, build_release
from tests.helpers import make_corpus, pin_toy_tokenizer

CRAWL = "CC-MAIN-2099-01"
COLUMNS = ("doc_id", "outcome", "source_file", "source_offset", "url", "title", "text", "lang")


def _cfg(**cc: Any) -> Config:
    """The default config with fast retries for a local server."""
    return config_mod.load(overrides={"run": {"progress_seconds": 0}, "commoncrawl": {
        "backoff_seconds": 0.01, "max_backoff_seconds": 0.05, "retries": 8, **cc}})


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("ccrelease")
    warcs = []
    for seed in (11, 12, 13):
        generate_sample(str(tmp / f"g{seed}.warc.gz"), records=50, seed=seed, crawl_id=CRAWL)
        warcs.append((tmp / f"g{seed}.warc.gz", tmp / f"g{seed}.truth.jsonl"))
    root = tmp / "release"
    info = build_release(root, CRAWL, warcs, miss_share=0.15)
    return {"root": root, "tmp": tmp, **info}


@pytest.fixture(scope="module")
def server(release):
    with CrawlServer(release["root"], seed=7) as srv:
        yield srv


@pytest.fixture()
def fresh(server):
    """The shared server, healthy and with zeroed counters before and after the test."""
    server.reset_counts()
    yield server
    server.fail_rate = 0.0
    server.always_fail.clear()
    server.cut_at.clear()


def _rows(spark, out: Path) -> dict[str, tuple]:
    rows = spark.read.parquet(str(out / "records")).select(*COLUMNS).collect()  # small test crawl
    by_id = {r["doc_id"]: tuple(r) for r in rows}
    assert len(by_id) == len(rows)  # no duplicated rows
    return by_id


def _expected_selection(release, base: str) -> set[tuple[str, int, int]]:
    return {(base + r["warc_filename"], r["warc_record_offset"], r["warc_record_length"])
            for r in release["index_rows"]
            if r["subset"] == "warc" and r["fetch_status"] == 200 and r["content_mime_detected"] == "text/html"
            and "jpn" in (r["content_languages"] or "").split(",")}


def test_index_selection_over_http_and_from_a_table_prunes_and_applies_the_rule(spark, release, fresh) -> None:
    cc = resolve("commoncrawl", COMMONCRAWL_PARAMS, {})
    expect = _expected_selection(release, "")
    over_http = index_source(CRAWL, cc, None, fresh.url, fresh.url)
    assert over_http.kind == "listing" and over_http.location.endswith(f"{CRAWL}/cc-index-table.paths.gz")
    got = {tuple(r) for r in select_captures(spark, over_http).collect()}
    assert got == expect and len(expect) >= 60
    assert not any("CC-MAIN-1999-01" in p or "crawldiagnostics" in p for p in fresh.bytes_sent)
    table = index_source(CRAWL, cc, str(release["table_root"]), fresh.url, fresh.url)
    frame = select_captures(spark, table)
    assert table.kind == "table" and {tuple(r) for r in frame.collect()} == expect
    assert all(f"crawl={CRAWL}/subset=warc/" in f for f in frame.inputFiles())


@pytest.fixture(scope="module")
def clean_runs(spark, release, server, tmp_path_factory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("clean")
    server.reset_counts()
    full = extract_command(spark, _cfg(), str(out / "full"), CRAWL, [], source="commoncrawl", cc_base=server.url)
    full_bytes = server.sent(".warc.gz")
    server.reset_counts()
    index = extract_command(spark, _cfg(), str(out / "index"), CRAWL, [], source="commoncrawl", index="",
                            cc_base=server.url)
    index_bytes = server.sent(".warc.gz")
    return {"full": _rows(spark, out / "full"), "index": _rows(spark, out / "index"), "full_counts": full,
            "index_counts": index, "full_bytes": full_bytes, "index_bytes": index_bytes}


def test_index_mode_gives_the_full_scans_documents_for_the_selected_records(release, server, clean_runs) -> None:
    selected = {(p, o) for p, o, _ in _expected_selection(release, server.url)}
    full, index = clean_runs["full"], clean_runs["index"]
    assert {(r[2], r[3]) for r in index.values()} == selected  # one row per selected record, nothing else
    full_kept = {k: v for k, v in full.items() if v[1] == "kept" and (v[2], v[3]) in selected}
    index_kept = {k: v for k, v in index.items() if v[1] == "kept"}
    assert index_kept == full_kept and len(index_kept) >= 60
    # CLD2 "misses" (Japanese pages the index calls English) are found by the full scan only.
    missed = [v for k, v in full.items() if v[1] == "kept" and (v[2], v[3]) not in selected]
    assert len(missed) >= 3
    assert clean_runs["full_bytes"] == sum((release["root"] / n).stat().st_size for n in release["warc_names"])
    assert clean_runs["index_bytes"] == sum(r["warc_record_length"] for r in release["index_rows"]
                                            if (server.url + r["warc_filename"], r["warc_record_offset"]) in selected)
    assert clean_runs["full_counts"]["failed_files"] == clean_runs["index_counts"]["failed_files"] == []


def test_flaky_server_gives_the_same_output(spark, fresh, clean_runs, tmp_path) -> None:
    fresh.fail_rate = 0.1
    extract_command(spark, _cfg(), str(tmp_path / "full"), CRAWL, [], source="commoncrawl", cc_base=fresh.url)
    extract_command(spark, _cfg(), str(tmp_path / "index"), CRAWL, [], source="commoncrawl", index="",
                    cc_base=fresh.url)
    assert sum(fresh.requests.values()) >= 80  # one per WARC file, one per selected record, retries
    assert sum(fresh.failures.values()) >= 3  # 500s, dropped connections and bodies cut short
    assert _rows(spark, tmp_path / "full") == clean_runs["full"]
    assert _rows(spark, tmp_path / "index") == clean_runs["index"]


def test_file_failing_midway_is_listed_then_retried_alone(spark, release, fresh, clean_runs, tmp_path) -> None:
    victim = release["warc_names"][1]
    fresh.cut_at[victim] = (release["root"] / victim).stat().st_size // 2
    out = tmp_path / "full"
    counts = extract_command(spark, _cfg(retries=2), str(out), CRAWL, [], source="commoncrawl", cc_base=fresh.url)
    assert counts["failed_files"] == [fresh.url + victim]
    assert (out / FAILED_FILES).read_text() == fresh.url + victim + "\n"
    partial = _rows(spark, out)
    from_victim = [v for v in partial.values() if v[2] == fresh.url + victim]
    assert [v[1] for v in from_victim].count("unreadable_file") == 1 and len(from_victim) > 30  # rows before the cut
    fresh.cut_at.clear()
    fresh.reset_counts()
    retried = extract_command(spark, _cfg(), str(out), CRAWL, [], only_failed=True)
    assert retried["retried"] == [fresh.url + victim] and retried["failed_files"] == []
    assert set(fresh.requests) == {victim}  # only the failed file was read again
    assert _rows(spark, out) == clean_runs["full"]
    assert not (out / "records.retry").exists() and not (out / "retry-journal.json").exists()


def test_index_mode_file_failing_every_time_is_listed_then_retried(spark, release, fresh, clean_runs,
                                                                  tmp_path) -> None:
    victim = release["warc_names"][0]
    fresh.always_fail.add(victim)
    out = tmp_path / "index"
    counts = extract_command(spark, _cfg(retries=2), str(out), CRAWL, [], source="commoncrawl", index="",
                             cc_base=fresh.url)
    assert counts["failed_files"] == [fresh.url + victim] and counts["outcomes"]["unreadable_file"] == 1
    fresh.always_fail.clear()
    retried = extract_command(spark, _cfg(), str(out), CRAWL, [], only_failed=True)
    assert retried["failed_files"] == []
    assert _rows(spark, out) == clean_runs["index"]


@pytest.mark.slow
def test_nightly_over_a_crawl_id_stops_on_a_missing_file_then_only_failed_completes_it(spark, tmp_path,
                                                                                       capsys) -> None:
    warcs = []
    for seed in (31, 32):
        generate_sample(str(tmp_path / f"n{seed}.warc.gz"), records=45, seed=seed, crawl_id=CRAWL)
        warcs.append((tmp_path / f"n{seed}.warc.gz", tmp_path / f"n{seed}.truth.jsonl"))
    release = build_release(tmp_path / "release", CRAWL, warcs)
    victim = tmp_path / "release" / release["warc_names"][1]
    store = tmp_path / "store"
    pin_toy_tokenizer(store)
    with CrawlServer(tmp_path / "release") as server:
        selected = {(p, o) for p, o, _ in _expected_selection(release, server.url)}
        args = ["nightly", "--crawl-id", CRAWL, "--from", "commoncrawl", "--index", "--cc-base", server.url,
                "--store", str(store)]
        hidden = victim.with_name(victim.name + ".hidden")
        os.replace(victim, hidden)  # 404: fails at once, no retries
        try:
            assert cli(args) == 2
        finally:
            os.replace(hidden, victim)
        assert "1 WARC file(s) could not be read" in capsys.readouterr().err
        run = store / "runs" / CRAWL
        first = json.loads((run / "extract" / "_STAGE.json").read_text())["counts"]
        assert first["failed_files"] == 1 and not (run / "filter").exists()  # nothing built on a partial crawl
        server.reset_counts()
        assert cli([*args, "--only-failed"]) == 0
        assert set(server.requests) == {release["warc_names"][1]}  # no index read, only the failed file
    second = json.loads((run / "extract" / "_STAGE.json").read_text())["counts"]
    rows = _rows(spark, run / "extract")
    assert second["failed_files"] == 0 and {(v[2], v[3]) for v in rows.values()} == selected
    assert second["kept"] > first["kept"]
    assert spark.read.parquet(str(run / "filter" / "documents")).count() == second["kept"]


def test_index_mode_reads_a_small_share_of_a_crawl_like_mix(spark, tmp_path) -> None:
    warcs = [make_corpus(tmp_path, 500, seed, "--ja-fraction", "0.05") for seed in (21, 22)]
    root = tmp_path / "release"
    build_release(root, CRAWL, warcs, miss_share=0.0)
    with CrawlServer(root) as srv:
        extract_command(spark, _cfg(), str(tmp_path / "full"), CRAWL, [], source="commoncrawl", cc_base=srv.url)
        full_bytes = srv.sent()
        srv.reset_counts()
        extract_command(spark, _cfg(), str(tmp_path / "index"), CRAWL, [], source="commoncrawl", index="",
                        cc_base=srv.url)
        index_bytes = srv.sent()  # WARC ranges plus the index Parquet footers and column chunks
    assert index_bytes <= 0.15 * full_bytes
    full, index = _rows(spark, tmp_path / "full"), _rows(spark, tmp_path / "index")
    index_kept = {k: v for k, v in index.items() if v[1] == "kept"}
    assert index_kept == {k: v for k, v in full.items() if k in index and v[1] == "kept"}
    assert len(index_kept) >= 20
