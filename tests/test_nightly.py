"""The nightly driver end to end on the bundled sample, in real Spark: stages, resume, refusals."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from jwc.jobs.cli import main as cli
from jwc.jobs.nightly import nightly
from jwc.pipeline.sample.generate import generate_sample
from tests.helpers import pin_toy_tokenizer

CRAWL = "SAMPLE-2026-48"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, list[dict]]:
    tmp = tmp_path_factory.mktemp("sample")
    warc = tmp / "sample.warc.gz"
    summary = generate_sample(str(warc), records=300, seed=0)
    truth = [json.loads(line) for line in (tmp / "sample.truth.jsonl").read_text().splitlines()]
    truth[0]["_warc_records"] = summary["warc_records"]
    return warc, truth


@pytest.fixture(scope="module")
def run(spark, sample, tmp_path_factory):
    warc, truth = sample
    store = tmp_path_factory.mktemp("store") / "store"
    pin_toy_tokenizer(store)
    results = nightly(CRAWL, [str(warc)], str(store))
    return store, results, truth


def _japanese_pages(truth: list[dict]) -> set[str]:
    return {t["warc_record_id"] for t in truth
            if t["lang"] == "ja" and t["status"] == 200 and t["kind"] not in ("revisit", "nonhtml")}


def test_extract_keeps_exactly_the_japanese_pages(spark, run) -> None:
    store, results, truth = run
    records = spark.read.parquet(str(store / "runs" / CRAWL / "extract" / "records"))
    kept = {r[0] for r in records.where("outcome = 'kept'").select("warc_record_id").collect()}
    japanese = _japanese_pages(truth)
    assert kept == japanese
    assert results["extract"]["kept"] == len(japanese)
    # Every WARC record is accounted for: a row per response, tally rows for warcinfo, requests, metadata, revisits.
    total = records.agg({"records": "sum"}).first()[0]
    assert results["extract"]["records"] == total == truth[0]["_warc_records"]
    tallies = records.where("outcome = 'not_response'").collect()
    details = [r["detail"] for r in tallies]
    assert len(details) == len(set(details)) and {"request", "metadata"} <= set(details)  # one row per type
    assert records.where("outcome != 'not_response'").count() == total - sum(r["records"] for r in tallies)


def test_filter_drops_junk_and_toxic_keeps_articles(spark, run) -> None:
    store, _, truth = run
    docs = spark.read.parquet(str(store / "runs" / CRAWL / "filter" / "documents"))
    keep = {r[0]: r[1] for r in docs.select("warc_record_id", "keep").collect()}
    kind = {t["warc_record_id"]: t["kind"] for t in truth}
    junk = [rid for rid in keep if kind[rid].startswith("lowquality")]
    toxic = [rid for rid in keep if kind[rid] == "toxic"]
    good = [rid for rid in keep if kind[rid] in ("article", "pii")]
    assert len(junk) >= 30 and len(good) >= 150
    assert sum(not keep[r] for r in junk) / len(junk) >= 0.9
    assert all(not keep[r] for r in toxic)
    assert sum(not keep[r] for r in good) / len(good) <= 0.05


def test_pii_is_masked_in_stored_text(spark, run) -> None:
    store, _, truth = run
    docs = spark.read.parquet(str(store / "runs" / CRAWL / "filter" / "documents"))
    text = {r[0]: r[1] for r in docs.where("keep").select("warc_record_id", "text").collect()}
    checked = 0
    for t in truth:
        if t["kind"] == "pii" and t["warc_record_id"] in text:
            for item in t["pii"]:
                if item["type"] in ("email", "phone", "credit_card", "my_number"):
                    checked += 1
                    assert item["value"] not in text[t["warc_record_id"]], item
    assert checked >= 20


def test_rerun_skips_finished_stages(run, sample, capsys) -> None:
    store, results, _ = run
    warc, _ = sample
    marker = store / "runs" / CRAWL / "extract" / "_STAGE.json"
    before = marker.stat().st_mtime_ns
    again = nightly(CRAWL, [str(warc)], str(store))
    assert marker.stat().st_mtime_ns == before
    assert again == results
    assert "already complete" in capsys.readouterr().err


def test_command_ends_with_a_summary_and_prints_json_only_when_asked(run, sample, capsys) -> None:
    store, results, _ = run
    warc, _ = sample
    args = ["nightly", "--crawl-id", CRAWL, "--input", str(warc), "--store", str(store)]
    assert cli(args) == 0
    out, err = capsys.readouterr()
    assert out == ""
    summary = err[err.index(f"jwc nightly {CRAWL}: published ja-web v0001 in "):]
    assert f"documents: {results['publish']['documents']:,} (of {results['extract']['kept']:,} Japanese pages " \
           f"in {results['extract']['records']:,} WARC records)" in summary
    assert f"tokens:    {results['publish']['tokens']:,}" in summary
    assert f"report:    {store / 'datasets' / 'ja-web' / 'versions' / 'v0001' / 'report.html'}" in summary
    assert "drift:     no (no parent version to compare with)" in summary
    assert cli([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == results


def test_rerun_with_operational_changes_resumes(run, sample, tmp_path, capsys) -> None:
    """Retries, progress and Spark settings are not part of the config digest: the finished run is reused."""
    store, results, _ = run
    warc, _ = sample
    cfg = tmp_path / "ops.toml"
    cfg.write_text("[run]\nprogress_seconds = 1\n[commoncrawl]\nretries = 9\n[spark]\nshuffle_partitions = 3\n")
    again = nightly(CRAWL, [str(warc)], str(store), str(cfg))
    assert again == results and "already complete" in capsys.readouterr().err


def test_rerun_with_other_config_is_refused(run, sample, tmp_path, capsys) -> None:
    store, _, _ = run
    warc, _ = sample
    cfg = tmp_path / "c.toml"
    cfg.write_text("[langid]\nja_threshold = 0.9\n")
    code = cli(["nightly", "--crawl-id", CRAWL, "--input", str(warc), "--store", str(store), "--config", str(cfg)])
    assert code == 2
    assert "--restart" in capsys.readouterr().err


@pytest.mark.parametrize("config_text,message", [
    ("[langid]\nja_treshold = 0.5\n", "unknown key(s) ja_treshold"),
    ("[langid]\nja_threshold = 'high'\n", "langid.ja_threshold: expected a number"),
    ("[langid]\nja_threshold = 1.5\n", "above the allowed maximum"),
    ("[filters.composition]\nenabled = 1\n", "filters.composition.enabled: expected true/false"),
    ("[nosuchsection]\n", "unknown config section [nosuchsection]"),
    ("[spark]\nui = 'yes'\n", "spark: ui: expected true, false or \"\""),
])
def test_bad_config_is_refused_before_work(spark, sample, tmp_path, capsys, config_text, message) -> None:
    warc, _ = sample
    cfg = tmp_path / "bad.toml"
    cfg.write_text(config_text)
    store = tmp_path / "store"
    code = cli(["nightly", "--crawl-id", "X", "--input", str(warc), "--store", str(store), "--config", str(cfg)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err and len(err.splitlines()) == 1
    assert not store.exists()  # refused before the store was touched


def test_bad_inputs_and_stores_are_refused(spark, sample, tmp_path, capsys) -> None:
    warc, _ = sample
    cases = [
        (["--input", str(tmp_path / "missing.warc.gz"), "--store", str(tmp_path / "s1")], "does not exist"),
        (["--input", str(tmp_path / "none-*.warc.gz"), "--store", str(tmp_path / "s2")], "glob matched no files"),
    ]
    not_store = tmp_path / "not-a-store"
    not_store.mkdir()
    (not_store / "somefile.txt").write_text("x")
    cases.append((["--input", str(warc), "--store", str(not_store)], "not a jwc store"))
    for args, message in cases:
        code = cli(["nightly", "--crawl-id", "X", *args])
        err = capsys.readouterr().err.strip()
        assert code == 2, args
        assert message in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "s1" / "runs").exists()


def test_redecide_reproduces_then_changes_decisions(spark, run, tmp_path) -> None:
    """Stored signals + SQL rules give the chain's own decisions; a new threshold changes only its rule."""
    from jwc.jobs.filter import redecide
    from jwc.pipeline import config

    store, _, _ = run
    filtered = str(store / "runs" / CRAWL / "filter")
    same = redecide(spark, filtered, config.load(), str(tmp_path / "same"))
    assert same["after"] == same["before"]
    original = spark.read.parquet(filtered + "/documents").select("doc_id", "keep", "reject_reasons")
    again = spark.read.parquet(str(tmp_path / "same" / "documents")).select("doc_id", "keep", "reject_reasons")
    assert original.exceptAll(again).count() == 0

    cfg_path = tmp_path / "strict.toml"
    cfg_path.write_text("[filters.composition]\nmin_chars = 100000\n")
    strict = config.load(cfg_path)
    changed = redecide(spark, filtered, strict, str(tmp_path / "strict"))
    assert changed["after"]["kept"] == 0
    assert changed["after"]["fired_by_rule"]["composition.too_short"] == changed["before"]["documents"]
    for rule, n in changed["before"]["fired_by_rule"].items():
        if rule != "composition.too_short":
            assert changed["after"]["fired_by_rule"][rule] == n


def test_index_show_and_compact(spark, run, tmp_path, capsys) -> None:
    """`jwc index show` lists each published version's index rows and files; `compact` rewrites a version split
    into more files than its size needs and keeps its rows (on a copy of the store, which other tests share)."""
    import shutil

    from jwc.pipeline.dedup import index as dedup_index

    store, results, _ = run
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    index = copy / "datasets" / "ja-web" / "dedup-index"
    rows = results["dedup"]["input"] - results["dedup"]["exact_removed"]
    split = spark.read.parquet(str(index / "version=v0001")).repartition(3)
    dedup_index.add_to_index(spark, split, str(index), "v0002")
    capsys.readouterr()
    assert cli(["index", "show", "--store", str(copy)]) == 0
    table = {line.split()[0]: line.split()[1:3] for line in capsys.readouterr().out.splitlines()[1:]}
    assert table["v0001"] == [f"{rows:,}", "1"] and table["v0002"] == [f"{rows:,}", "3"]
    assert table["total"][0] == f"{2 * rows:,}"
    assert cli(["index", "compact", "--store", str(copy)]) == 0
    out = capsys.readouterr().out
    assert "compacted v0002: 1 file(s)" in out and "v0001:" not in out
    after = {r["version"]: (r["rows"], r["files"]) for r in dedup_index.summary(index)}
    assert after == {"v0001": (rows, 1), "v0002": (rows, 1)}
    assert cli(["index", "compact", "--store", str(copy)]) == 0
    assert "nothing to compact" in capsys.readouterr().out
    assert cli(["index", "show", "--store", str(tmp_path / "nowhere")]) == 2
