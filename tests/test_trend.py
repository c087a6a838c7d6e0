"""The trend over published versions: five versions of the demo run re-decided with a rising composition min_chars
(Spark SQL on the stored signals, as `jwc redecide` does), published as a chain; `jwc report v0005 --trend 5` must
give the removal rates, the drift alarms and the plot the versions' own stats files give."""
from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from jwc.jobs.cli import main as cli
from jwc.jobs.filter import redecide
from jwc.jobs.stages import RunContext, Stage, run_stage
from jwc.jobs.stats import run_stats_inputs, trend_file
from jwc.pipeline import config as config_mod
from jwc.pipeline.io.store import Store
from jwc.pipeline.stats.tables import STATS_PARAMS, compute_stats, drift_findings, read_stats
from jwc.pipeline.stats.trend import COLUMNS
from jwc.schemas.config import resolve
from tests.helpers import CRAWL, demo_run, exact_dedup

PARAMS = resolve("stats", STATS_PARAMS, {})
# min_chars at these quantiles of comp_chars: a rising removal rate, one jump beyond what 137 documents' sampling
# noise explains (the drift floor), so exactly one version carries an alarm.
SHARES = (0.02, 0.05, 0.1, 0.55, 0.6)


@pytest.fixture(scope="module")
def store(spark, tmp_path_factory) -> Path:
    run_dir = demo_run(spark, tmp_path_factory.getbasetemp())
    chars = pq.read_table(run_dir / "filter" / "documents", columns=["sig_comp_chars"]).to_pandas().sig_comp_chars
    tmp = tmp_path_factory.mktemp("trend")
    root = Store.open(tmp / "store").root
    versions = root / "datasets" / "ja-web" / "versions"
    for i, share in enumerate(SHARES, start=1):
        cfg = config_mod.load(overrides={"filters": {"composition": {"min_chars": int(chars.quantile(share))}}})
        copy = tmp / f"run{i}"
        copy.mkdir()
        (copy / "extract").symlink_to(run_dir / "extract")
        redecide(spark, str(run_dir / "filter"), cfg, str(copy / "filter"))
        ctx = RunContext(spark=spark, cfg=cfg, store=Store.open(tmp / "scratch"), crawl_id=CRAWL, inputs=[],
                         run_dir=copy)
        run_stage(ctx, Stage("dedup", exact_dedup, "exact dedup stand-in"))  # on this version's kept documents
        vid = f"v{i:04d}"
        compute_stats(spark, run_stats_inputs(copy), versions / vid / "stats", PARAMS, cfg.filters)
        parent = f"v{i - 1:04d}" if i > 1 else None
        (versions / vid / "manifest.json").write_text(json.dumps({"version": vid, "parent": parent}))
    return root


class _Trend(HTMLParser):
    """The trend figure's plotted series and the trend table's cells."""

    def __init__(self) -> None:
        super().__init__()
        self.series: dict = {}
        self.cells: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if a.get("data-figure") == "trend":
            self.series = json.loads(a["data-series"])
        if "data-trend-metric" in a:
            self.cells.append(a)


def test_trend_matches_the_published_stats(store, tmp_path, capsys) -> None:
    out = tmp_path / "report.html"
    assert cli(["report", "v0005", "--store", str(store), "--trend", "5", "--out", str(out)]) == 0
    table = pd.read_parquet(trend_file(out))
    assert tuple(table.columns) == COLUMNS
    versions = store / "datasets" / "ja-web" / "versions"
    ids = [f"v{i:04d}" for i in range(1, 6)]
    assert list(dict.fromkeys(table.sort_values("position").version)) == ids

    expected, alarms = {}, {}
    for i, vid in enumerate(ids):
        stats = read_stats(versions / vid / "stats")
        filters = stats["filters"].set_index("filter")
        got = table[(table.version == vid)]
        rates = got[got.metric == "filter_removed_rate"].set_index("subject").value
        assert rates.to_dict() == filters.removed_rate.to_dict()
        funnel = got[got.metric == "funnel"].set_index("subject").value
        stages = stats["stages"].set_index("stage")
        assert funnel["dedup"] == stages.documents_out["dedup"]
        dup = got[got.metric == "duplicate_rate"].value.item()
        assert dup == pytest.approx(1 - stages.documents_out["dedup"] / stages.documents_in["dedup"]) and dup >= 0
        langs = got[got.metric == "language_share"].set_index("subject").value
        assert langs.sum() == pytest.approx(1.0)
        assert langs["ja"] == pytest.approx(stats["languages"].set_index("lang").records["ja"]
                                            / stats["languages"].records.sum())
        findings = drift_findings(versions / vid / "stats", versions / ids[i - 1] / "stats", PARAMS) if i else []
        flagged = got[got.alarm & (got.metric == "filter_fired_rate")].subject
        assert set(flagged) == {f.filter for f in findings}
        expected[vid] = filters.removed_rate["composition"]
        alarms[vid] = "composition" in set(flagged)
    rising = [expected[v] for v in ids]
    assert rising == sorted(rising) and rising[-1] > rising[0] + 0.1  # the removal rate really shifts
    assert [v for v in ids if alarms[v]] == ["v0004"]

    page = _Trend()
    page.feed(out.read_text(encoding="utf-8"))
    assert page.series["filter_removed_rate"]["composition"] == pytest.approx(rising)
    cells = {c["data-trend-version"]: c for c in page.cells if c["data-trend-subject"] == "composition"}
    assert {v: float(c["data-value"]) for v, c in cells.items()} == expected
    assert {v for v, c in cells.items() if "alarm" in c["class"]} == {v for v, a in alarms.items() if a}
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].split()[2:] == ids  # the text view: one column per version
    composition = next(line for line in printed.splitlines() if line.startswith("composition"))
    assert composition.split()[1:] == [f"{expected[v]:.2%}" + ("*" if alarms[v] else "") for v in ids]


def test_trend_refuses_a_negative_count(store, capsys) -> None:
    assert cli(["report", "v0005", "--store", str(store), "--trend", "-1"]) == 2
    assert "--trend must be 0 or more" in capsys.readouterr().err


def test_nightly_report_stage_writes_the_trend_of_the_run(spark, tmp_path_factory) -> None:
    """With nothing published, the report stage's trend is the run alone, read from the run's own stats."""
    run_dir = demo_run(spark, tmp_path_factory.getbasetemp())
    table = pd.read_parquet(run_dir / "report" / "trend.parquet")
    assert set(table.version) == {"this run"} and not table.alarm.any()
    rates = table[table.metric == "filter_removed_rate"].set_index("subject").value
    assert rates.to_dict() == read_stats(run_dir / "stats")["filters"].set_index("filter").removed_rate.to_dict()
    assert 'data-figure="trend"' in (run_dir / "report" / "report.html").read_text(encoding="utf-8")
