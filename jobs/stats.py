"""The "stats" and "report" stages of the nightly run, and the report of a published version (`jwc report`).

The report stage compares the run with the version it will follow: the newest head of the dataset's version chain
(a version no other version names as `parent` in its manifest.json). Drift does not stop the run: the stage writes
`report/drift.json` and returns `drift_alarm` (true when there is drift and `[stats] fail_on_drift` is set) in its
counts, so the nightly driver can publish and still exit non-zero.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Mapping

from jwc.jobs.decontam import SUMMARY_FILE, read_summary
from jwc.jobs.filter import FILTER_SECONDS
from jwc.jobs.stages import RunContext, finished_stages
from jwc.pipeline.config import Config
from jwc.pipeline.errors import UserError
from jwc.pipeline.io.atomic import atomic_write_json
from jwc.pipeline.io.store import Store
from jwc.pipeline.stats.report import write_report
from jwc.pipeline.stats.tables import SUMMARY, DriftFinding, StatsInputs, compute_stats
from jwc.pipeline.stats.trend import TrendPoint, text_view, trend_table, write_trend
from jwc.pipeline.versions.ids import MANIFEST, checked_version


def stats_params(cfg: Config) -> dict[str, Any]:
    """A copy of the `[stats]` section (callers may override a key, e.g. `--fail-on-drift`)."""
    return dict(cfg["stats"])


def run_stats_inputs(run_dir: Path) -> StatsInputs:
    """Where the stats of a run folder come from: extract's records, filter's documents, dedup's outputs (when
    that stage finished) and the seconds of every finished stage."""
    finished = finished_stages(run_dir)
    dedup = run_dir / "dedup"
    done = "dedup" in finished
    return StatsInputs(records=str(run_dir / "extract" / "records"), documents=str(run_dir / "filter" / "documents"),
                       dedup_documents=str(dedup / "documents") if done else None,
                       dedup_duplicates=str(dedup / "duplicates") if done else None,
                       stage_seconds={name: float(i["seconds"]) for name, i in finished.items() if "seconds" in i},
                       stage_counts={name: i.get("counts", {}) for name, i in finished.items()},
                       filter_seconds=_filter_seconds(run_dir / "filter" / FILTER_SECONDS))


def _filter_seconds(path: Path) -> dict[str, dict[str, float]]:
    """The filter stage's CPU seconds per filter; empty for a filter folder made without them (`jwc redecide`)."""
    return json.loads(path.read_text()) if path.is_file() else {}


def stats_stage(ctx: RunContext, out: Path) -> dict[str, Any]:
    """Nightly stage: the run's stage outputs -> `stats/` (Parquet tables, summary.json, removed samples)."""
    info = {"crawl_id": ctx.crawl_id, "dataset": ctx.cfg["run"]["dataset"], "config_digest": ctx.cfg.digest()}
    summary = compute_stats(ctx.spark, run_stats_inputs(ctx.run_dir), out, stats_params(ctx.cfg), ctx.cfg.filters,
                            info)
    sets = read_summary(ctx.stage_dir("filter"))
    if sets is not None:  # per evaluation set: items found, documents matched and removed
        atomic_write_json(out / SUMMARY_FILE, sets)
    return {"documents": summary["totals"]["documents"], "final_documents": summary["totals"]["final_documents"]}


def parent_version(dataset_dir: Path) -> Path | None:
    """The version a new one will follow: the head of the chain of published versions (newest manifest first
    when there are several heads), or None when nothing is published."""
    versions = dataset_dir / "versions"
    if not versions.is_dir():
        return None
    published = {d: json.loads((d / MANIFEST).read_text()) for d in versions.iterdir() if (d / MANIFEST).is_file()}
    named = {m.get("parent") for m in published.values()}
    heads = [d for d in published if d.name not in named]
    return max(heads, key=lambda d: ((d / MANIFEST).stat().st_mtime_ns, d.name), default=None)


def version_chain(version_dir: Path | None, n: int) -> list[Path]:
    """Up to `n` published versions ending at `version_dir`, following each manifest's `parent`; oldest first.
    Versions without stats are skipped (and end the walk only when their manifest names no parent)."""
    chain: list[Path] = []
    seen: set[str] = set()
    current = version_dir
    while current is not None and current.is_dir() and len(chain) < n and current.name not in seen:
        seen.add(current.name)
        if (current / "stats" / SUMMARY).is_file():
            chain.append(current)
        manifest = current / MANIFEST
        parent = json.loads(manifest.read_text()).get("parent") if manifest.is_file() else None
        current = current.parent / checked_version(parent, str(manifest)) if parent else None
    return chain[::-1]


def _trend_points(versions: list[Path]) -> list[TrendPoint]:
    return [TrendPoint(v.name, v / "stats") for v in versions]


def _parent_stats(version_dir: Path | None) -> Path | None:
    if version_dir is None:
        return None
    stats = version_dir / "stats"
    if not (stats / SUMMARY).is_file():
        print(f"WARNING: parent version {version_dir.name} has no stats; the report has no comparison",
              file=sys.stderr, flush=True)
        return None
    return stats


def print_findings(findings: list[DriftFinding], alarm: bool) -> None:
    """Drift on the console, one line each, so a nightly log shows it without opening the report."""
    if not findings:
        return
    head = "DRIFT ALARM" if alarm else "drift (fail_on_drift is off)"
    print(f"{head}: {len(findings)} change(s) from the parent version beyond tolerance", file=sys.stderr)
    for f in findings:
        print(f"  {f.kind} {f.subject}: {f.message}", file=sys.stderr)
    sys.stderr.flush()


def report_stage(ctx: RunContext, out: Path) -> dict[str, Any]:
    """Nightly stage: `stats/` and the parent version's stats -> `report/report.html` and `report/drift.json`."""
    params = stats_params(ctx.cfg)
    dataset = ctx.cfg["run"]["dataset"]
    parent = parent_version(ctx.store.dataset_dir(dataset))
    trend = None
    if params["trend_versions"] > 1:  # the published chain, then this run
        points = _trend_points(version_chain(parent, params["trend_versions"] - 1))
        trend = trend_table(points + [TrendPoint("this run", ctx.stage_dir("stats"))], params)
        write_trend(trend, out / "trend.parquet")
    findings = write_report(ctx.stage_dir("stats"), out / "report.html", _parent_stats(parent), params,
                            f"{dataset}: {ctx.crawl_id}", trend)
    alarm = bool(findings) and bool(params["fail_on_drift"])
    atomic_write_json(out / "drift.json", {"parent": parent.name if parent else None,
                                           "fail_on_drift": bool(params["fail_on_drift"]), "alarm": alarm,
                                           "findings": [f.to_dict() for f in findings]})
    print_findings(findings, alarm)
    return {"drift_findings": len(findings), "drift_alarm": alarm}


def find_version(version: str, store: str | Path, dataset: str | None = None) -> Path:
    """A version folder: `version` itself when it is a folder with stats/, else datasets/*/versions/<version>."""
    direct = Path(version)
    if (direct / "stats" / SUMMARY).is_file():
        return direct
    root = Store.open(store, create=False).root
    checked_version(version, "version")
    names = [dataset] if dataset else sorted(p.name for p in (root / "datasets").glob("*") if p.is_dir())
    found = [root / "datasets" / n / "versions" / version for n in names
             if (root / "datasets" / n / "versions" / version).is_dir()]
    if len(found) > 1:
        raise UserError(f"version {version} exists in several datasets ({', '.join(p.parts[-3] for p in found)}); "
                        "pass --dataset")
    if not found:
        known = sorted(p.name for n in names for p in (root / "datasets" / n / "versions").glob("*") if p.is_dir())
        raise UserError(f"no version {version} in store {root}; published: {', '.join(known) or 'none'}")
    if not (found[0] / "stats" / SUMMARY).is_file():
        raise UserError(f"version {version} has no stats/{SUMMARY}: {found[0]}")
    return found[0]


def report_version(version_dir: Path, out_file: str | Path, params: Mapping[str, Any], trend_n: int = 0
                   ) -> list[DriftFinding]:
    """Write the report of a published version, compared with the parent named in its manifest; with `trend_n`,
    also the trend of the last `trend_n` versions ending at it: a report section, `trend_file(out_file)` (Parquet)
    and a text view on stdout."""
    manifest_path = version_dir / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    parent_id = manifest.get("parent")
    parent_dir = version_dir.parent / checked_version(parent_id, str(manifest_path)) if parent_id else None
    if parent_dir is not None and not parent_dir.is_dir():
        print(f"WARNING: parent version {parent_id} is not in {version_dir.parent}; the report has no comparison",
              file=sys.stderr, flush=True)
        parent_dir = None
    trend = None
    if trend_n:
        trend = trend_table(_trend_points(version_chain(version_dir, trend_n)), params)
        write_trend(trend, trend_file(out_file))
        print(text_view(trend), flush=True)
    findings = write_report(version_dir / "stats", out_file, _parent_stats(parent_dir), params,
                            f"{version_dir.parent.parent.name}: version {version_dir.name}", trend)
    print_findings(findings, bool(findings) and bool(params["fail_on_drift"]))
    return findings


def trend_file(report_file: str | Path) -> Path:
    """Where `jwc report --trend` writes the trend table: beside the report, `<name>-trend.parquet`."""
    path = Path(report_file)
    return path.with_name(f"{path.stem}-trend.parquet")
