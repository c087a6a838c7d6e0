"""Decontamination through the real pipeline (Spark local mode): the filter stage drops documents holding a set's
passages and tallies them per set, the manifest lists every set with its digest, `versions show` prints it, and
`jwc decontam-check` reports a new set against the published version without re-running anything."""
from __future__ import annotations

import hashlib
import json
import re

import pyarrow.parquet as pq
import pytest

from jwc.jobs.cli import main as cli
from jwc.jobs.nightly import nightly
from jwc.pipeline.sample.generate import generate_sample
from tests.helpers import pin_toy_tokenizer

CRAWL = "SAMPLE-DECONTAM"
ABSENT = ["この文章はどの文書にも現れないように、評価用としてだけ書いた架空の説明文であり、クロールには含まれていない。"]


@pytest.fixture(scope="module")
def run(spark, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("decontam")
    warc = tmp / "sample.warc.gz"
    generate_sample(str(warc), records=120, seed=1)
    truth = [json.loads(line) for line in (tmp / "sample.truth.jsonl").read_text().splitlines()]
    paragraphs = [p for t in truth if t["kind"] == "article" for p in t["article_text"].split("\n") if len(p) >= 50]
    eval_set = tmp / "jsquad-mini.jsonl"
    rows = [{"id": f"c{i}", "context": p, "question": "何について書かれているか。"}
            for i, p in enumerate(paragraphs[:3] + ABSENT)]
    eval_set.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    pairs = tmp / "jnli-mini.tsv"  # a second set, another format: one pair whose premise is in the crawl
    other = next(p for p in paragraphs if p not in paragraphs[:3])
    pairs.write_text(f"id\tsentence1\tsentence2\nn1\t{other}\t{ABSENT[0]}\nn2\t{ABSENT[0][::-1]}\t短い文。\n",
                     encoding="utf-8")
    cfg = tmp / "jwc.toml"
    cfg.write_text(f'[filters.decontam]\nsets = ["{eval_set}", "{pairs}"]\n', encoding="utf-8")
    store = tmp / "store"
    pin_toy_tokenizer(store)  # the deliberate pin a dataset's first nightly needs (tests: a toy one)
    nightly(CRAWL, [str(warc)], str(store), str(cfg))
    return store, (eval_set, pairs), cfg


def test_filter_drops_and_manifest_lists_every_set(spark, run, capsys) -> None:
    store, sets, cfg = run
    docs = spark.read.parquet(str(store / "runs" / CRAWL / "filter" / "documents"))
    hit = docs.where("sig_decontam_left_share > 0.5").collect()
    assert hit and all(not r["keep"] and "decontam.contaminated" in r["reject_reasons"] for r in hit)
    assert all(r["sig_decontam_items"] >= 1 and r["sig_decontam_ngrams"] >= 10 for r in hit)
    assert docs.where("sig_decontam_left_share <= 0.5 AND array_contains(reject_reasons, 'decontam.contaminated')"
                      ).count() == 0
    manifest = json.loads(next((store / "datasets").glob("*/versions/v0001/manifest.json")).read_text())
    entries = {e["set"]: e for e in manifest["decontamination"]}
    assert sorted(entries) == ["jnli-mini", "jsquad-mini"]
    for path in sets:
        entry = entries[path.name.split(".")[0]]
        assert entry["path"] == str(path)
        assert entry["digest"] == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
        assert 1 <= entry["removed"] <= len(hit) and entry["documents"] >= entry["removed"] and entry["cut"] == 0
    assert entries["jsquad-mini"]["items"] == 4 and 1 <= entries["jsquad-mini"]["items_found"] <= 3
    assert entries["jnli-mini"]["items"] == 2 and entries["jnli-mini"]["items_found"] == 1
    assert sum(e["removed"] for e in entries.values()) >= len(hit)
    version = next((store / "datasets").glob("*/versions/v0001"))
    assert json.loads((version / "stats" / "decontam.json").read_text()) == manifest["decontamination"]
    capsys.readouterr()
    assert cli(["versions", "show", "v0001", "--store", str(store), "--config", str(cfg)]) == 0
    assert json.loads(capsys.readouterr().out)["decontamination"] == manifest["decontamination"]


def test_report_has_a_decontamination_section_with_the_manifest_numbers(run) -> None:
    """The run's report.html: per set the same items, items found, documents, removed, cut and spans cut as the
    manifest (cited cells), and the set's full digest."""
    store, _, _ = run
    manifest = json.loads(next((store / "datasets").glob("*/versions/v0001/manifest.json")).read_text())
    page = (store / "runs" / CRAWL / "report" / "report.html").read_text(encoding="utf-8")
    section = page[page.index('<section id="decontam"'):]
    section = section[:section.index("</section>")]
    counts = ("items", "items_found", "documents", "removed", "cut", "spans_cut")
    assert len(manifest["decontamination"]) == 2
    for entry in manifest["decontamination"]:
        cells = re.findall(f'data-src="decontam" data-key="{entry["set"]}" data-col="(\\w+)" data-value="(\\d+)"',
                           section)
        assert {k: int(v) for k, v in cells} == {k: entry[k] for k in counts}
        assert entry["removed"] >= 1 and entry["cut"] == 0
        assert f'data-digest="{entry["digest"]}"' in section


def test_check_command_reports_a_new_set_against_the_published_version(run, tmp_path, capsys) -> None:
    store, _, cfg = run
    version = next((store / "datasets").glob("*/versions/v0001"))
    shard = pq.read_table(sorted((version / "shards").glob("*.parquet"))[0], columns=["doc_id", "text"]).to_pylist()
    target = max(shard, key=lambda r: len(r["text"]))
    new_set = tmp_path / "own-set.tsv"
    new_set.write_text("id\tpassage\nx1\t" + target["text"][10:90].replace("\n", " ").replace("\t", " ") +
                       "\nx2\t" + ABSENT[0] + "\n", encoding="utf-8")
    code = cli(["decontam-check", "v0001", "--store", str(store), "--config", str(cfg), "--set", str(new_set),
                "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    [row] = result["sets"]
    assert row["set"] == "own-set" and row["items"] == 2 and row["items_found"] == 1
    assert row["removed"] >= 1 and target["doc_id"] in result["examples"]
    assert result["documents"] == json.loads((version / "manifest.json").read_text())["totals"]["documents"]
    missing = cli(["decontam-check", "v0001", "--store", str(store), "--set", str(tmp_path / "none.jsonl")])
    assert missing == 2
