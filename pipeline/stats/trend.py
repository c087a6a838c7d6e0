"""The trend over the last nightly versions: what an operator watches every morning, one long table.

Why a long table (one row per version x metric x subject): a dashboard filters and pivots it without knowing which
filters, languages or encodings a version had, and a version that lacks a filter simply has no row. Every value is
read from the versions' own stats folders (nothing is recomputed from documents), and each version's drift alarms
are the findings `drift_findings` gives against the version before it in the chain, so the trend marks the same
changes the nightly report did.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from jwc.pipeline.stats.tables import Stats, drift_findings, read_stats

# Metrics and what their subjects name: docs/stats.md (Trends).
COLUMNS = ("position", "version", "created", "crawl_id", "metric", "subject", "value", "alarm")
TREND_HOSTS = 5  # hosts per version in the table: the top of the kept list


@dataclass(frozen=True)
class TrendPoint:
    """One version in a trend: its label, its stats folder."""

    version: str
    stats_dir: Path


def _shares(df: pd.DataFrame | None, key: str, count: str) -> dict[str, float]:
    if df is None or df.empty:
        return {}
    sums = df.groupby(key, dropna=False)[count].sum()
    total = float(sums.sum())
    return {str(k): float(v) / total for k, v in sums.items()} if total else {}


def _version_rows(stats: Stats) -> list[tuple[str, str, float | None]]:
    """(metric, subject, value) of one version."""
    t = stats.tables
    rows: list[tuple[str, str, float | None]] = []
    for r in t.get("filters", pd.DataFrame()).to_dict("records"):
        rows.append(("filter_removed_rate", r["filter"], r["removed_rate"]))
        rows.append(("filter_fired_rate", r["filter"], r["fired_rate"]))
    stages = t.get("stages", pd.DataFrame()).to_dict("records")
    for r in stages:
        if r["stage"] == "extract":
            rows.append(("funnel", "records", r["documents_in"]))
        if pd.notna(r["documents_out"]):
            rows.append(("funnel", r["stage"], r["documents_out"]))
        if r["stage"] == "dedup" and r["documents_in"]:
            rows.append(("duplicate_rate", "dedup", 1 - r["documents_out"] / r["documents_in"]))
    rows += [("language_share", k, v) for k, v in _shares(t.get("languages"), "lang", "records").items()]
    rows += [("encoding_share", k, v) for k, v in _shares(t.get("encodings"), "encoding", "records").items()]
    final = stats.summary["totals"]["final_documents"]
    hosts = t.get("hosts")
    if hosts is not None and final:
        kept = hosts[hosts["kind"] == "kept"].sort_values("rank").head(TREND_HOSTS)
        rows += [("host_share", h, d / final) for h, d in zip(kept["host"], kept["documents"])]
    tokens = stats.summary["totals"].get("tokens")
    if tokens is not None:
        rows.append(("tokens", "tokens", tokens))
    return rows


def _alarmed(findings: list[Any]) -> set[tuple[str, str]]:
    """The (metric, subject) pairs a version's drift findings concern."""
    out: set[tuple[str, str]] = set()
    for f in findings:
        out.update({("filter_fired_rate", f.filter), ("filter_removed_rate", f.filter)})
    return out


def trend_table(points: list[TrendPoint], params: Mapping[str, Any]) -> pd.DataFrame:
    """The trend of `points` (oldest first): one row per version x metric x subject (`COLUMNS`). `alarm` is true
    where that version's drift findings against the point before it concern the row (its filter); the first
    point is compared with nothing. `params` is the `[stats]` section (drift tolerances)."""
    rows = []
    for i, p in enumerate(points):
        stats = read_stats(p.stats_dir)
        findings = drift_findings(p.stats_dir, points[i - 1].stats_dir, params) if i else []
        alarmed = _alarmed(findings)
        info = (i, p.version, str(stats.summary.get("created", "")), str(stats.summary.get("crawl_id", "")))
        for metric, subject, value in _version_rows(stats) + [("drift_findings", "all", len(findings))]:
            flag = (metric, subject) in alarmed or (metric == "drift_findings" and bool(findings))
            rows.append((*info, metric, str(subject), None if value is None else float(value), flag))
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype({"position": "int64", "alarm": "bool"})


def write_trend(table: pd.DataFrame, out_file: str | Path) -> Path:
    """The trend as one Parquet file (for dashboards)."""
    out = Path(out_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(out, index=False)
    return out


def pivot(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One metric as subject x version (columns in trend order): what the plot and the text view show."""
    sub = table[table["metric"] == metric]
    order = list(dict.fromkeys(table.sort_values("position")["version"]))
    return sub.pivot_table(index="subject", columns="version", values="value", aggfunc="first")[
        [v for v in order if v in set(sub["version"])]]


def text_view(table: pd.DataFrame) -> str:
    """The trend for a terminal: removal rate per filter, duplicate rate, final documents and tokens per version;
    `*` marks a drift alarm."""
    alarms = {(r.version, r.subject) for r in table[table["alarm"] & (table["metric"] == "filter_removed_rate")]
              .itertuples()}
    lines = []
    rates = pivot(table, "filter_removed_rate")
    versions = list(rates.columns)
    lines.append("removed rate".ljust(22) + "".join(v.rjust(11) for v in versions))
    for subject, row in rates.iterrows():
        cells = [("—" if pd.isna(row[v]) else f"{row[v]:.2%}") + ("*" if (v, subject) in alarms else " ")
                 for v in versions]
        lines.append(str(subject).ljust(22) + "".join(c.rjust(11) for c in cells))
    for metric, subject, kind in (("duplicate_rate", "dedup", "rate"), ("funnel", "tokenize", "int"),
                                  ("tokens", "tokens", "int"), ("drift_findings", "all", "int")):
        p = pivot(table, metric)
        if subject in p.index:
            vals = [p.loc[subject].get(v) for v in versions]
            cells = ["—" if v is None or pd.isna(v) else (f"{v:.2%}" if kind == "rate" else f"{int(v):,}")
                     for v in vals]
            label = {"funnel": "final documents", "drift_findings": "drift findings"}.get(metric, metric)
            lines.append(label.ljust(22) + "".join((c + " ").rjust(11) for c in cells))
    return "\n".join(lines) + "\n(* drift alarm against the previous version)"
