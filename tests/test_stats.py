"""Run statistics on a real run of the bundled sample (extract + filter stages in Spark, a small exact-dedup output):
every table is checked against an independent computation over the stage outputs read with pyarrow."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

from jwc.filters.registry import FILTERS
from jwc.pipeline import config as config_mod
from jwc.pipeline.stats.tables import (PROBS, drift_findings, ks_distance, ks_noise, rate_noise, read_stats,
                                       removed_samples, row_key, rule_rows)
from tests.helpers import STATS_DEFAULTS, changed_threshold_run, demo_run


@pytest.fixture(scope="module")
def run_dir(spark, tmp_path_factory) -> Path:
    return demo_run(spark, tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def docs(run_dir) -> pd.DataFrame:
    return pq.read_table(run_dir / "filter" / "documents").to_pandas()


@pytest.fixture(scope="module")
def stats(run_dir):
    return read_stats(run_dir / "stats")


def test_funnel_matches_stage_outputs(run_dir, docs, stats) -> None:
    records = pq.read_table(run_dir / "extract" / "records", columns=["outcome", "records", "text"]).to_pandas()
    dedup = pq.read_table(run_dir / "dedup" / "documents", columns=["text"]).to_pandas()
    stages = stats["stages"].set_index("stage")
    kept = records[records.outcome == "kept"]
    assert stages.loc["extract", "documents_in"] == records.records.sum()
    assert stages.loc["extract", "documents_out"] == len(kept) == len(docs)
    assert stages.loc["extract", "chars_out"] == kept.text.str.len().sum()
    assert stages.loc["filter", "documents_out"] == docs.keep.sum()
    assert stages.loc["filter", "chars_in"] == docs.raw_chars.sum()
    assert stages.loc["filter", "chars_out"] == docs[docs.keep].chars.sum()
    assert stages.loc["dedup", "documents_in"] == docs.keep.sum()
    assert stages.loc["dedup", "documents_out"] == len(dedup)
    assert stages.loc["dedup", "chars_out"] == dedup.text.str.len().sum()
    seconds = {p.parent.name: json.loads(p.read_text())["seconds"] for p in run_dir.glob("*/_STAGE.json")}
    for stage in ("extract", "filter", "dedup"):
        assert stages.loc[stage, "seconds"] == pytest.approx(seconds[stage])
    outcomes = records.groupby("outcome").records.sum().to_dict()
    assert dict(zip(stats["outcomes"].outcome, stats["outcomes"].records)) == outcomes
    assert stats.summary["totals"] == {
        "records": int(records.records.sum()), "documents": len(docs), "filter_kept": int(docs.keep.sum()),
        "final_documents": len(dedup), "final_chars": int(dedup.text.str.len().sum()), "tokens": None}


def test_filter_and_rule_counts_match_documents(docs, stats) -> None:
    first = docs.reject_reason.dropna()
    assert len(first) >= 10  # the sample's junk and toxic pages are removed
    fired = pd.Series([r for rs in docs.reject_reasons for r in rs]).value_counts()
    rules = stats["rules"].set_index("reason")
    for reason, row in rules.iterrows():
        assert row.fired == fired.get(reason, 0), reason
        assert row.removed == (first == reason).sum(), reason
        assert row.removed_chars == docs[docs.reject_reason == reason].chars.sum(), reason
        assert row.fired_rate == pytest.approx(row.fired / len(docs))
    filters = stats["filters"]
    assert list(filters["filter"]) == [f.name for f in FILTERS]  # chain order
    n_in, c_in = len(docs), docs.chars.sum()
    for _, row in filters.iterrows():
        mine = docs.reject_reason.fillna("").str.split(".").str[0] == row["filter"]
        assert (row.documents_in, row.removed, row.chars_in) == (n_in, mine.sum(), c_in)
        assert row.fired == sum(any(r.split(".")[0] == row["filter"] for r in rs) for rs in docs.reject_reasons)
        n_in, c_in = n_in - mine.sum(), c_in - docs[mine].chars.sum()
    assert n_in == docs.keep.sum() == filters.documents_out.iloc[-1]
    # Thresholds recorded are the config's, for every rule of every registered filter.
    assert stats.summary["rules"] == rule_rows(config_mod.load().filters)
    assert len(stats.summary["rules"]) == sum(len(f.rules) for f in FILTERS)


def test_signal_summaries_quantiles_and_histograms(docs, stats) -> None:
    sig_cols = [c for c in docs.columns if c.startswith("sig_")]
    signals = stats["signals"].set_index("signal")
    assert sorted(signals.index) == sorted(c[4:] for c in sig_cols)
    hist, quant = stats["histograms"], stats["quantiles"]
    for col in sig_cols:
        s = col[4:]
        values = docs[col].dropna().to_numpy()
        row = signals.loc[s]
        assert (row.documents, row.missing) == (len(values), len(docs) - len(values))
        if not len(values):  # a filter without its model or lists measures nothing: no percentiles, no bins
            assert s not in set(quant.signal) | set(hist.signal)
            continue
        assert (row["min"], row["max"]) == (values.min(), values.max())
        assert row["mean"] == pytest.approx(values.mean())
        # Percentiles are data values whose rank is within one of the exact rank (accuracy 10000 >> 200 docs).
        q = quant[quant.signal == s].sort_values("prob")
        assert len(q) == len(PROBS)
        ordered = np.sort(values)
        for p, v in zip(q.prob, q.value):
            lo, hi = np.searchsorted(ordered, v, "left"), np.searchsorted(ordered, v, "right")
            target = p * len(ordered)
            assert lo - 1 <= target <= hi + 1, (s, p, v)
        h = hist[hist.signal == s].sort_values("bin")
        assert h.documents.sum() == len(values)
        assert h.kept.sum() == docs.loc[docs[col].notna(), "keep"].sum()
        regular = h[~h.overflow]
        if len(regular) > 1:  # bin counts equal a numpy histogram over the same edges (last edge inclusive)
            edges = list(regular.lo) + [regular.hi.iloc[-1]]
            inside = values[values <= edges[-1]]
            expected, _ = np.histogram(inside, bins=edges)
            assert list(regular.documents) == list(expected), s
            assert h[h.overflow].documents.sum() == (values > edges[-1]).sum()


def test_pii_ngwords_languages_encodings_hosts(run_dir, docs, stats) -> None:
    pii = stats["pii"].set_index("type")
    assert pii.occurrences.sum() >= 20  # the sample has PII pages
    for t, row in pii.iterrows():
        col = docs[f"sig_pii_{t}"].fillna(0)
        assert (row.documents, row.occurrences, row.kept_documents) == (
            (col > 0).sum(), col.sum(), ((col > 0) & docs.keep).sum())
    ng = stats["ngwords"].set_index("category")
    assert list(ng.index) == ["adult", "sexual_crime", "abuse", "violence", "discrimination", "drugs", "user"]
    for c, row in ng.iterrows():
        col = docs[f"sig_ng_{c}"].fillna(0)
        assert (row.documents, row.hits) == ((col > 0).sum(), col.sum())
    records = pq.read_table(run_dir / "extract" / "records", columns=["outcome", "lang", "encoding"]).to_pandas()
    langs = stats["languages"].set_index("lang")
    assert langs.records.to_dict() == records.lang.value_counts().to_dict()
    assert langs.loc["ja", "kept"] == (records.outcome == "kept").sum()
    encs = stats["encodings"].groupby("encoding").records.sum()
    assert encs.to_dict() == records.encoding.value_counts().to_dict()
    hosts = stats["hosts"]
    removed = docs[~docs.keep].host.value_counts()
    top = hosts[hosts.kind == "removed_filter"].sort_values("rank")
    assert list(top.documents) == sorted(removed.to_list(), reverse=True)[: STATS_DEFAULTS["top_hosts"]]
    final = pq.read_table(run_dir / "dedup" / "documents", columns=["host"]).to_pandas().host.value_counts()
    kept = hosts[hosts.kind == "kept"].set_index("host")
    assert all(kept.documents[h] == final[h] for h in kept.index)
    assert len(kept) == min(STATS_DEFAULTS["top_hosts"], len(final))


def test_dedup_tables(run_dir, stats) -> None:
    dedup = pq.read_table(run_dir / "dedup" / "documents", columns=["cluster_size"]).to_pandas()
    dups = pq.read_table(run_dir / "dedup" / "duplicates").to_pandas()
    clusters = stats["clusters"].set_index("cluster_size")
    assert clusters.clusters.to_dict() == dedup.cluster_size.value_counts().to_dict()
    assert clusters.documents.sum() == len(dedup) + len(dups)
    assert len(dups) >= 1  # the sample has exact duplicates
    assert stats["dedup_reasons"].set_index("reason").documents.to_dict() == dups.reason.value_counts().to_dict()


def test_samples_are_deterministic_masked_and_cut(spark, run_dir, docs, stats) -> None:
    samples = stats["samples"]
    size, cut = STATS_DEFAULTS["sample_size"], STATS_DEFAULTS["sample_chars"]
    hashes = {r[0]: r[1] for r in spark.read.parquet(str(run_dir / "filter" / "documents"))
              .select("doc_id", F.xxhash64("doc_id")).collect()}
    removed = docs[~docs.keep]
    text = dict(zip(docs.doc_id, docs.text))
    for reason, group in removed.groupby("reject_reason"):
        expected = sorted(group.doc_id, key=lambda d: (hashes[d], d))[:size]
        got = samples[samples.reason == reason].sort_values("rank")
        assert list(got.doc_id) == expected, reason
        for _, s in got.iterrows():
            full = text[s.doc_id]
            assert s.text == (full if len(full) <= cut else full[:cut] + "…")
    assert set(samples[samples.stage == "dedup"].reason) == {"dedup.exact"}
    # Stored texts are masked: no e-mail address or 0X0-XXXX-XXXX phone number survives in a sample.
    for t in samples.text.dropna():
        assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", t)
        assert not re.search(r"0\d{1,3}-\d{2,4}-\d{4}", t)
    # The same samples whatever the partitioning of the documents.
    frame = spark.read.parquet(str(run_dir / "filter" / "documents")).repartition(5)
    dups = spark.read.parquet(str(run_dir / "dedup" / "duplicates")).repartition(3)
    again = removed_samples(frame, dups, stats.summary["rules"], size, cut)
    assert pd.DataFrame(again, columns=list(samples.columns)).equals(samples)


def test_row_keys_are_unique(stats) -> None:
    for name, df in stats.tables.items():
        keys = [row_key(name, r) for r in df.to_dict("records")]
        assert len(keys) == len(set(keys)), name


def test_ks_distance_and_noise_floors() -> None:
    a = [float(i) for i in range(101)]
    assert ks_distance(a, a) == 0.0
    assert ks_distance(a, [x + 10 for x in a]) == pytest.approx(0.10)
    assert ks_distance([0.0] * 101, [1.0] * 101) == 1.0
    # Sampling noise dominates small runs and vanishes at crawl scale.
    assert ks_noise(200, 200) == pytest.approx(0.195, abs=1e-3)
    assert ks_noise(10**6, 10**6) < 0.003
    assert rate_noise(0.1, 200, 0.1, 200) == pytest.approx(3.29 * (0.09 * 0.01) ** 0.5)
    assert rate_noise(0.1, 10**6, 0.12, 10**6) < 0.002


def test_kept_samples_and_time_per_filter(run_dir, docs, stats) -> None:
    dedup = pq.read_table(run_dir / "dedup" / "documents", columns=["doc_id", "text"]).to_pandas()
    kept = stats["kept_samples"]
    assert len(kept) == STATS_DEFAULTS["sample_size"] and list(kept["rank"]) == list(range(1, len(kept) + 1))
    assert set(kept.doc_id) <= set(dedup.doc_id)
    texts = dedup.set_index("doc_id").text
    for r in kept.itertuples():  # the stored text, cut at sample_chars
        assert texts[r.doc_id].startswith(r.text.rstrip("…"))
    seconds = stats["filter_seconds"].set_index("filter")
    assert list(seconds.index) == list(stats["filters"]["filter"])  # every enabled filter, chain order
    assert (seconds.documents == len(docs)).all() and (seconds.seconds >= 0).all() and seconds.seconds.sum() > 0
    measured = json.loads((run_dir / "filter" / "filter_seconds.json").read_text())
    assert {f: v["seconds"] for f, v in measured.items()} == seconds.seconds.to_dict()
    assert "filter_seconds" not in json.loads((run_dir / "filter" / "_STAGE.json").read_text())["counts"]


def test_drift_flags_exactly_the_changed_filter(spark, run_dir) -> None:
    stats_dir, param, old, new = changed_threshold_run(spark, run_dir)
    assert drift_findings(run_dir / "stats", run_dir / "stats", STATS_DEFAULTS) == []
    assert drift_findings(run_dir / "stats", None, STATS_DEFAULTS) == []
    findings = drift_findings(stats_dir, run_dir / "stats", STATS_DEFAULTS)
    assert [(f.kind, f.subject) for f in findings] == [("filter_rate", "composition")]
    f = findings[0]
    cur = read_stats(stats_dir)["filters"].set_index("filter").fired_rate
    par = read_stats(run_dir / "stats")["filters"].set_index("filter").fired_rate
    assert (f.current, f.parent) == (cur["composition"], par["composition"])
    assert f.change > 0.1
    assert f"{param} {old:g} -> {new:g}" in f.message
    # Other filters' fired rates are untouched by the change; a looser tolerance silences the finding.
    assert (cur.drop("composition") == par.drop("composition")).all()
    assert drift_findings(stats_dir, run_dir / "stats", {**STATS_DEFAULTS, "drift_rate_tolerance": 0.99}) == []
