"""Japanese precision/recall and charset accuracy of the extract stage on a 20,000-record generated crawl."""
from __future__ import annotations

import json

import pytest

from jwc.jobs.extract import run_extract
from jwc.pipeline import config
from jwc.pipeline.io.inputs import resolve_inputs
from tests.helpers import make_corpus

pytestmark = [pytest.mark.shared, pytest.mark.slow]

FAMILY = {"cp932": "shift_jis", "shift_jis": "shift_jis", "euc_jp": "euc_jp", "iso2022_jp": "iso2022_jp",
          "utf-8": "utf-8", "utf_8": "utf-8"}


def _is_japanese_page(t: dict) -> bool:
    return (t["lang"] == "ja" and t["status"] == 200 and t["kind"] not in ("nonhtml", "revisit")
            and "html" in (t["content_type"] or ""))


@pytest.fixture(scope="module")
def run(spark, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("acc")
    truth: dict[str, dict] = {}
    for seed in (101, 202):  # two files of 10,000 records: one task per core
        _, truth_path = make_corpus(tmp, 10_000, seed, "--ja-fraction", "0.3")
        for line in truth_path.read_text().splitlines():
            t = json.loads(line)
            truth[t["warc_record_id"]] = t
    files = resolve_inputs(spark, [str(tmp / "corpus-*.warc.gz")])
    counts = run_extract(spark, files, str(tmp / "out"), config.load(), "ACC")
    rows = (spark.read.parquet(str(tmp / "out" / "records"))
            .where("warc_record_id is not null and http_status = 200")
            .select("warc_record_id", "outcome", "encoding").toPandas())
    return truth, counts, {r.warc_record_id: r for r in rows.itertuples()}


def test_japanese_precision_and_recall(run) -> None:
    truth, counts, rows = run
    assert len(truth) == 20_000
    japanese = {rid for rid, t in truth.items() if _is_japanese_page(t)}
    kept = {rid for rid, r in rows.items() if r.outcome == "kept"}
    tp = len(japanese & kept)
    precision, recall = tp / len(kept), tp / len(japanese)
    print(f"japanese pages {len(japanese)}, kept {len(kept)}, precision {precision:.4f}, recall {recall:.4f}")
    print("outcomes:", counts["outcomes"])
    assert len(japanese) > 4000
    assert precision >= 0.995
    assert recall >= 0.995


def test_encodings_of_japanese_pages(run) -> None:
    truth, _, rows = run
    checked = wrong = 0
    legacy = 0
    for rid, t in truth.items():
        if not _is_japanese_page(t) or rid not in rows:
            continue
        checked += 1
        legacy += t["true_encoding"] not in ("utf-8", "utf_8")
        wrong += rows[rid].encoding != FAMILY.get(t["true_encoding"], t["true_encoding"])
    print(f"encodings checked {checked} (legacy {legacy}), wrong {wrong}")
    assert legacy > 500
    assert wrong == 0
