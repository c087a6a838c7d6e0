"""Damaged input: a fault WARC (every kind of breakage the generator makes) beside a normal crawl goes through the
whole nightly; each fault ends as a counted outcome, every good record is processed, and no page can stall a task.
Inputs that cannot be read at all stop the run with a one-line error and publish nothing."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jwc.jobs.cli import main as cli
from jwc.jobs.extract import run_extract
from jwc.jobs.nightly import nightly
from jwc.pipeline import config
from jwc.pipeline.io.inputs import InputFile
from tests.helpers import make_corpus, pin_toy_tokenizer, shared_data, write_warc

CRAWL = "FAULTS-2026-01"

# What each fault of make_warc_corpus.py --fault-file becomes in extract/records (the row of its record id, or for a
# damaged gzip member the row at its offset). A fault that produces no row, or another outcome, is a regression.
FAULT_OUTCOMES = {
    "fault:truncated_gzip": "corrupt_member",  # resynchronised at the next member: costs one record
    "fault:truncated_at_eof": "truncated_at_eof",
    # The declared length is honoured; the body is cut inside a UTF-8 character, which is dropped, and the page
    # is read. The 200 bytes left over after the record are the bad_record row counted in FAULT_EXTRA_ROWS.
    "fault:content_length_short": "kept",
    "fault:content_length_long": "kept",  # the member ends the record: the body is whatever is there
    "fault:garbage_http_headers": "kept",  # no readable Content-Type; the body starts like HTML (sniffed)
    "fault:huge_5mb": "too_large",  # over [extract] max_html_bytes (5 MB): never parsed
    "fault:deep_nesting": "kept",  # 10,000 nested <div>: past the parser's limit, read again without the divs
    "fault:binary_as_html": "undecodable",
    "fault:empty_body": "prefilter_skip",  # nothing to read, so no kana
    "fault:wrong_charset": "kept",  # labelled UTF-8, decoded as Shift_JIS
    "fault:non_utf8_url": "kept",
}
FAULT_EXTRA_ROWS = {"bad_record": 1}  # the tail of the content_length_short member
DAMAGE = ("corrupt_member", "bad_record", "truncated_at_eof", "unreadable_file")


def _truth(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory) -> dict[str, Any]:
    """A normal generated crawl and the generator's fault file, with their truth."""
    shared_data("ja_text_wikinews")
    tmp = tmp_path_factory.mktemp("faults")
    fault = tmp / "fault.warc.gz"
    normal, normal_truth = make_corpus(tmp, 150, 11, "--fault-file", str(fault))
    return {"normal": normal, "fault": fault, "normal_truth": _truth(normal_truth),
            "fault_truth": _truth(tmp / "fault.truth.jsonl")}


@pytest.fixture(scope="module")
def run(spark, crawl, tmp_path_factory) -> dict[str, Any]:
    store = tmp_path_factory.mktemp("fault-store") / "store"
    pin_toy_tokenizer(store)
    results = nightly(CRAWL, [str(crawl["normal"]), str(crawl["fault"])], str(store))
    run_dir = store / "runs" / CRAWL
    rows = (spark.read.parquet(str(run_dir / "extract" / "records"))
            .select("warc_record_id", "outcome", "records", "source_file", "source_offset", "encoding").collect())
    return {"store": store, "results": results, "run_dir": run_dir, "rows": [r.asDict() for r in rows]}


def _row_for(rows: list[dict[str, Any]], truth: dict[str, Any], source: Path) -> dict[str, Any]:
    """The row of a truth record: by record id, else (damaged member, no id readable) by file offset."""
    by_id = [r for r in rows if r["warc_record_id"] == truth["warc_record_id"]]
    if by_id:
        assert len(by_id) == 1, truth["kind"]
        return by_id[0]
    at = [r for r in rows if r["source_file"] == str(source) and r["source_offset"] == truth["warc_offset"]
          and r["outcome"] in DAMAGE]
    assert len(at) == 1, f"{truth['kind']}: no row for {truth['warc_record_id']} at {truth['warc_offset']}"
    return at[0]


@pytest.mark.shared
@pytest.mark.slow
def test_run_completes_and_every_fault_has_its_outcome(crawl, run) -> None:
    results = run["results"]
    assert results["publish"]["version"] == "v0001" and results["publish"]["documents"] > 50
    faults = [t for t in crawl["fault_truth"] if t["kind"].startswith("fault:")]
    assert {t["kind"] for t in faults} == set(FAULT_OUTCOMES)  # the generator still makes every kind
    got = {t["kind"]: _row_for(run["rows"], t, crawl["fault"])["outcome"] for t in faults}
    assert got == FAULT_OUTCOMES
    wrong_label = next(t for t in faults if t["kind"] == "fault:wrong_charset")
    assert _row_for(run["rows"], wrong_label, crawl["fault"])["encoding"] == "shift_jis"
    # Damage rows are exactly the faults' and all in the fault file: the normal crawl reads clean.
    damage = [r for r in run["rows"] if r["outcome"] in DAMAGE]
    expected_damage = sum(o in DAMAGE for o in FAULT_OUTCOMES.values()) + sum(FAULT_EXTRA_ROWS.values())
    assert len(damage) == expected_damage and {r["source_file"] for r in damage} == {str(crawl["fault"])}
    counts = json.loads((run["run_dir"] / "extract" / "counts.json").read_text())
    assert counts["damage_by_file"] == {str(crawl["fault"]): expected_damage} and counts["failed_files"] == []


@pytest.mark.shared
@pytest.mark.slow
def test_every_good_record_is_processed(crawl, run) -> None:
    """One row per truth record of both files; every readable Japanese HTML page of either file is kept."""
    rows = run["rows"]
    ids = [r["warc_record_id"] for r in rows if r["warc_record_id"]]
    assert len(ids) == len(set(ids))  # no record read twice
    japanese = 0
    for source, truth in ((crawl["normal"], crawl["normal_truth"]), (crawl["fault"], crawl["fault_truth"])):
        for t in truth:
            if t["kind"].startswith("fault:") or t["kind"] == "revisit":  # revisits are in the tally rows
                continue
            row = _row_for(rows, t, source)
            assert row["outcome"] not in DAMAGE and row["source_file"] == str(source)
            if t["lang"] == "ja" and t["status"] == 200 and t["kind"] not in ("nonhtml", "revisit"):
                japanese += 1
                assert row["outcome"] == "kept", (t["kind"], t["url"], row)
    assert japanese >= 100


@pytest.mark.shared
@pytest.mark.slow
def test_stats_count_every_outcome(spark, crawl, run) -> None:
    """The stats stage's outcome table (run folder and published version) has every outcome with its count."""
    by_outcome: dict[str, int] = {}
    for r in run["rows"]:
        by_outcome[r["outcome"]] = by_outcome.get(r["outcome"], 0) + r["records"]
    version = run["store"] / "datasets" / "ja-web" / "versions" / "v0001"
    for table in (run["run_dir"] / "stats" / "outcomes.parquet", version / "stats" / "outcomes.parquet"):
        stats = {r["outcome"]: r["records"] for r in spark.read.parquet(str(table)).collect()}
        assert stats == by_outcome
    for outcome in ("corrupt_member", "bad_record", "truncated_at_eof", "too_large", "undecodable", "not_response"):
        assert by_outcome[outcome] >= 1, outcome
    assert run["results"]["extract"]["records"] == sum(by_outcome.values())
    # Requests, metadata, revisits and warcinfo are tallied, one row per file and WARC type, as warcio counts them.
    from warcio.archiveiterator import ArchiveIterator

    with open(crawl["normal"], "rb") as fh:
        others: dict[str, int] = {}
        for rec in ArchiveIterator(fh):
            if rec.rec_type != "response":
                others[rec.rec_type] = others.get(rec.rec_type, 0) + 1
    tallies = [r for r in run["rows"] if r["outcome"] == "not_response" and r["source_file"] == str(crawl["normal"])]
    assert len(tallies) == len(others) and sum(r["records"] for r in tallies) == sum(others.values())


@pytest.mark.shared
def test_tiny_timeout_gives_extraction_timeout_and_the_file_goes_on(spark, crawl, tmp_path) -> None:
    """With the size cap lifted, the 5 MB page reaches the extractor; a 0.1 s limit stops it and the task reads
    the rest of the file (the record cut off at the end of the file is still reached)."""
    cfg = config.load(None, {"extract": {"timeout_seconds": 0.1, "max_html_bytes": 20_000_000}})
    fault = crawl["fault"]
    counts = run_extract(spark, [InputFile(str(fault), fault.stat().st_size)], str(tmp_path / "x"), cfg, CRAWL)
    rows = [r.asDict() for r in spark.read.parquet(str(tmp_path / "x" / "records"))
            .select("warc_record_id", "outcome", "source_file", "source_offset").collect()]
    huge = next(t for t in crawl["fault_truth"] if t["kind"] == "fault:huge_5mb")
    assert _row_for(rows, huge, fault)["outcome"] == "extraction_timeout"
    last = crawl["fault_truth"][-1]
    assert last["kind"] == "fault:truncated_at_eof" and _row_for(rows, last, fault)["outcome"] == "truncated_at_eof"
    assert all(_row_for(rows, t, fault) for t in crawl["fault_truth"] if t["kind"] != "revisit")
    assert counts["outcomes"]["extraction_timeout"] >= 1 and counts["failed_files"] == []


def _published(store: Path) -> list[Path]:
    return sorted(store.glob("datasets/*/versions/*")) if store.exists() else []


def test_unreadable_file_stops_the_run_after_extract(spark, tmp_path, capsys) -> None:
    """A listed input that cannot be read (a folder where a WARC file should be: as root, chmod 000 would not stop
    a read) stops the run after extract with one error line, a non-zero exit and nothing published; the readable
    file beside it was read."""
    good = tmp_path / "good.warc.gz"
    write_warc(good, [("https://example.jp/a", "<html><body><p>こんにちは、世界。</p></body></html>".encode(),
                       "text/html; charset=utf-8")])
    folder = tmp_path / "not-a-file.warc.gz"
    folder.mkdir()
    listing = tmp_path / "inputs.txt"
    listing.write_text(f"{good}\n{folder}\n")
    store = tmp_path / "store"
    code = cli(["nightly", "--crawl-id", "X", "--input-list", str(listing), "--store", str(store)])
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("jwc nightly: error:")]
    assert code == 2
    assert len(err) == 1 and "1 WARC file(s) could not be read" in err[0] and "--only-failed" in err[0]
    assert f"{folder}: IsADirectoryError" in err[0]  # the first file's reason
    run_dir = store / "runs" / "X"
    assert (run_dir / "extract" / "failed_files.txt").read_text() == f"{folder}\n"
    assert sorted(p.name for p in run_dir.iterdir() if p.is_dir()) == ["extract"]  # nothing after extract
    assert _published(store) == []


@pytest.mark.parametrize("kind,message", [("broken_symlink", "input path does not exist"),
                                          ("empty_folder", "input directory has no files")])
def test_inputs_refused_before_work_publish_nothing(spark, tmp_path, capsys, kind, message) -> None:
    """A broken symlink and a folder with no files: refused with one line before the store is written to."""
    path = tmp_path / "in.warc.gz"
    if kind == "broken_symlink":
        path.symlink_to(tmp_path / "gone.warc.gz")
    else:
        path.mkdir()
    store = tmp_path / "store"
    code = cli(["nightly", "--crawl-id", "X", "--input", str(path), "--store", str(store)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and message in err, err
    assert not (store / "runs").exists() and _published(store) == []


def test_a_file_that_is_not_a_warc_stops_the_run_after_extract(spark, tmp_path, capsys) -> None:
    """A text file and a gzipped text file in the input are unreadable files ("not a WARC file"), not records."""
    import gzip

    good = tmp_path / "good.warc.gz"
    page = "<html><body><p>" + "こんにちは、今日もよい天気ですね。散歩に出かけましょう。" * 4 + "</p></body></html>"
    write_warc(good, [("https://example.jp/a", page.encode(), "text/html; charset=utf-8")])
    (tmp_path / "notes.warc").write_text("these are not the records you are looking for\n")
    (tmp_path / "notes.warc.gz").write_bytes(gzip.compress(b"neither are these\n"))
    store = tmp_path / "store"
    code = cli(["nightly", "--crawl-id", "X", "--input", str(tmp_path / "*.warc*"), "--store", str(store)])
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("jwc nightly: error:")]
    assert code == 2 and len(err) == 1 and "2 input file(s) could not be read: they are not WARC files" in err[0]
    assert "notes.warc: not a WARC file: it starts with 'these are not th'" in err[0]  # the reason, on that line
    assert "remove them from the inputs" in err[0] and "--allow-failed" in err[0]
    rows = spark.read.parquet(str(store / "runs" / "X" / "extract" / "records")).collect()
    bad = {Path(r["source_file"]).name: r["detail"] for r in rows if r["outcome"] == "unreadable_file"}
    assert set(bad) == {"notes.warc", "notes.warc.gz"} and all("not a WARC file" in d for d in bad.values())
    assert [r["outcome"] for r in rows if r["source_file"] == str(good)] == ["kept"]
    assert _published(store) == []


def test_a_run_that_keeps_no_document_stops_with_one_line(spark, tmp_path, capsys) -> None:
    """Readable input without a Japanese page: the run stops after extract, names why, publishes nothing."""
    warc = tmp_path / "en.warc.gz"
    write_warc(warc, [(f"https://example.com/{i}", b"<html><body><p>Only English here, nothing else.</p></body>"
                       b"</html>", "text/html") for i in range(3)])
    store = tmp_path / "store"
    code = cli(["nightly", "--crawl-id", "X", "--input", str(warc), "--store", str(store)])
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("jwc nightly: error:")]
    assert code == 2 and len(err) == 1 and "extract stage kept no document" in err[0], err
    assert sorted(p.name for p in (store / "runs" / "X").iterdir() if p.is_dir()) == ["extract"]
    assert _published(store) == []


def test_html_without_content_type_is_sniffed_and_deep_nesting_is_read(spark, tmp_path) -> None:
    """A response whose Content-Type is missing but whose body starts like HTML is read as HTML; an article
    nested in 5,000 <div>s (past the parser's limit) still gives its text."""
    article = "<p>" + "今日は晴れていたので、公園まで歩いて行きました。" * 8 + "</p>"
    pages = [("https://example.jp/sniffed", f"<!DOCTYPE html><html><body>{article}</body></html>".encode(), ""),
             ("https://example.jp/deep", ("<html><body>" + "<div>" * 5000 + article + "</div>" * 5000
                                          + "</body></html>").encode(), "text/html; charset=utf-8"),
             ("https://example.jp/data", b'{"not": "html"}', "")]
    warc = tmp_path / "in.warc.gz"
    write_warc(warc, pages)
    run_extract(spark, [InputFile(str(warc), warc.stat().st_size)], str(tmp_path / "x"), config.load(), "X")
    rows = {r["url"]: r for r in spark.read.parquet(str(tmp_path / "x" / "records")).collect() if r["url"]}
    assert rows["https://example.jp/sniffed"]["outcome"] == "kept"
    assert rows["https://example.jp/deep"]["outcome"] == "kept"
    assert "公園まで歩いて" in rows["https://example.jp/deep"]["text"]
    assert rows["https://example.jp/data"]["outcome"] == "not_html"


def test_a_run_whose_documents_are_all_published_stops_with_one_line(spark, tmp_path, capsys) -> None:
    """The same pages again under a new crawl id: dedup removes them all as published; nothing empty is published."""
    from jwc.pipeline.sample.generate import generate_sample

    warc = tmp_path / "a.warc.gz"
    generate_sample(str(warc), records=60, seed=7)
    store = tmp_path / "store"
    pin_toy_tokenizer(store)
    assert cli(["nightly", "--crawl-id", "A", "--input", str(warc), "--store", str(store)]) == 0
    capsys.readouterr()
    code = cli(["nightly", "--crawl-id", "B", "--input", str(warc), "--store", str(store)])
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("jwc nightly: error:")]
    assert code == 2 and len(err) == 1 and "dedup stage kept no document" in err[0], err
    assert [p.name for p in _published(store)] == ["v0001"]
