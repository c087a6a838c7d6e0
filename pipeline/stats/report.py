"""The HTML report of a run or a published version: one self-contained file (inline CSS, PNG plots as data URIs,
no network), rendered from a stats folder and, when there is one, the parent version's stats folder.

Every number shown is taken from the stats tables and carries where it came from (`data-src` table, `data-key`
row, `data-col` column, `data-value` exact value), so a test, or a reader with the Parquet files, can check it.
Plots are drawn with matplotlib's Agg canvas (no pyplot state), one PNG per figure.
"""
from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from jwc.pipeline.io.atomic import atomic_write_text
from jwc.pipeline.stats.tables import DriftFinding, Stats, drift_findings, read_stats, row_key
from jwc.pipeline.stats.trend import pivot

SECTIONS = ("summary", "drift", "funnel", "filters", "signals", "hosts", "samples", "kept", "dedup", "safety",
            "decontam", "extract", "comparison", "trend")
_TITLES = {"summary": "At a glance", "drift": "Drift from the parent version", "funnel": "Stage funnel", "filters": "Removal per filter",
           "signals": "Signal distributions and thresholds", "hosts": "Top hosts",
           "samples": "Samples of removed documents", "kept": "Samples of kept documents", "dedup": "Near-duplicate clusters",
           "safety": "PII and NG words", "decontam": "Benchmark decontamination", "extract": "Languages, encodings and extract outcomes",
           "comparison": "Comparison with the parent version", "trend": "Trend over recent versions"}
_KEPT, _REMOVED, _PARENT, _THRESH = "#4c78a8", "#e45756", "#9d9d9d", "#b00020"

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK JP","Hiragino Sans",sans-serif;margin:0 2rem 3rem;
 color:#1d1d1f;line-height:1.45;max-width:1200px}
h1{font-size:1.6rem;margin:1.2rem 0 .3rem}h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}
h3{margin:1.2rem 0 .4rem}nav a{margin-right:.8rem}.meta{color:#555;font-size:.9rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.88rem}th,td{border:1px solid #ddd;padding:.2rem .5rem}
th{background:#f3f4f6;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
.alarm{background:#fdecea;border-left:5px solid #b00020;padding:.5rem 1rem}.ok{background:#e8f5e9;
 border-left:5px solid #2e7d32;padding:.5rem 1rem}.note{color:#555}figure{margin:.6rem 0}figcaption{color:#555;
 font-size:.85rem}img{max-width:100%}details{margin:.4rem 0}summary{cursor:pointer;font-weight:600}
.glance{display:grid;grid-template-columns:1fr 1fr;gap:0 2rem}.glance table{font-size:.82rem;margin:.2rem 0}
.glance h3{margin:.3rem 0}.verdict{font-size:1.1rem;margin:.4rem 0}.sample{border:1px solid #e5e7eb;border-radius:4px;padding:.4rem .6rem;margin:.4rem 0}.sample pre{white-space:
 pre-wrap;word-break:break-all;font-size:.82rem;margin:.3rem 0 0;max-height:12rem;overflow:auto}.cols{display:flex;
 gap:2rem;flex-wrap:wrap}
"""
# Marks <body data-images-ok="true"> once every image has loaded with a size: a headless browser's DOM dump
# shows whether the report renders whole.
_SCRIPT = """
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.length > 0 && imgs.every(function (i) { return i.complete && i.naturalWidth > 0; });
  document.body.setAttribute('data-images', String(imgs.length));
  document.body.setAttribute('data-images-ok', ok ? 'true' : 'false');
  var glance = document.getElementById('summary');
  if (glance) { document.body.setAttribute('data-summary-bottom', String(Math.ceil(glance.getBoundingClientRect().bottom))); }
});
"""


# ----------------------------------------------------------------------------------------------- numbers


def fmt(value: Any, kind: str = "int") -> str:
    """How a number is shown: int with separators, rate as a percentage, float with 4 significant digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "rate":
        return f"{float(value):.2%}"
    return f"{float(value):.4g}"


def _raw(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _clean(value: Any) -> Any:
    """pandas' NaN/numpy scalars as plain Python values."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value.item() if hasattr(value, "item") else value


def cell(src: str, key: str, col: str, value: Any, kind: str = "int") -> str:
    """A table cell showing one stats number and citing it."""
    value = _clean(value)
    return (f'<td class="num" data-src="{html.escape(src)}" data-key="{html.escape(key)}" data-col="{col}" '
            f'data-value="{html.escape(_raw(value))}">{fmt(value, kind)}</td>')


def _esc(value: Any) -> str:
    value = _clean(value)
    return "—" if value is None else html.escape(str(value))


def _table(headers: Iterable[str], rows: Iterable[str], attrs: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(f"<tr>{r}</tr>" for r in rows)
    return f"<table {attrs}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _records(df: pd.DataFrame | None) -> list[dict[str, Any]]:
    if df is None or df.empty:
        return []
    return [{k: _clean(v) for k, v in r.items()} for r in df.to_dict("records")]


def _numbers_table(stats: Stats, table: str, columns: list[tuple[str, str, str]], src: str | None = None,
                   rows: list[dict[str, Any]] | None = None, attrs: str = "") -> str:
    """A table whose label columns are plain text and whose number columns are cited cells.

    columns: (header, column, kind) with kind "text" for labels.
    """
    src = src or table
    out = []
    for r in rows if rows is not None else _records(stats.tables.get(table)):
        key = row_key(table, r)
        out.append("".join(f"<td>{_esc(r[c])}</td>" if kind == "text" else cell(src, key, c, r[c], kind)
                           for _, c, kind in columns))
    return _table([h for h, _, _ in columns], out, attrs)


# ----------------------------------------------------------------------------------------------- figures


def _png(fig: Figure, alt: str, caption: str = "", name: str = "", tight: bool = True, attrs: str = "") -> str:
    """The figure as an <img> with a PNG data URI (tight bounding boxes draw twice: only for small figures)."""
    buf = io.BytesIO()
    FigureCanvasAgg(fig)
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight" if tight else None)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return (f'<figure data-figure="{html.escape(name)}" {attrs}><img src="data:image/png;base64,{data}" '
            f'alt="{html.escape(alt)}">{cap}</figure>')


def _funnel_figure(stages: list[dict[str, Any]]) -> str:
    labels, values = [], []
    for r in stages:
        if r["documents_out"] is None:
            continue
        if r["stage"] == "extract":
            labels.append("WARC records")
            values.append(int(r["documents_in"]))
        labels.append(f"after {r['stage']}")
        values.append(int(r["documents_out"]))
    fig = Figure(figsize=(8, 0.45 * len(labels) + 0.8))
    ax = fig.add_subplot()
    ax.barh(labels[::-1], values[::-1], color=_KEPT)
    for i, v in enumerate(values[::-1]):
        ax.text(v, i, f" {v:,}", va="center", fontsize=9)
    ax.set_xlabel("records / documents")
    ax.margins(x=0.15)
    return _png(fig, "stage funnel", "Records in, then documents left after each stage.", "funnel")


def _filters_figure(filters: list[dict[str, Any]]) -> str:
    names = [r["filter"] for r in filters][::-1]
    fig = Figure(figsize=(8, 0.45 * len(names) + 1.0))
    ax = fig.add_subplot()
    y = range(len(names))
    ax.barh([i + 0.2 for i in y], [r["fired"] for r in filters][::-1], height=0.4, color=_PARENT,
            label="fired (any rule failed)")
    ax.barh([i - 0.2 for i in y], [r["removed"] for r in filters][::-1], height=0.4, color=_REMOVED,
            label="removed (first failing filter)")
    ax.set_yticks(list(y), names)
    ax.set_xlabel("documents")
    ax.legend(loc="lower right", fontsize=8)
    return _png(fig, "removal per filter", "Documents removed by each filter in chain order, and documents on "
                "which any of its rules fired.", "filters")


def _histogram_figure(stats: Stats, filter_name: str, signals: list[str]) -> str:
    hist = stats.tables.get("histograms")
    cols = 3
    rows = math.ceil(len(signals) / cols)
    fig = Figure(figsize=(12, 2.6 * rows))
    notes = []
    for i, s in enumerate(signals):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.set_title(s, fontsize=9)
        ax.tick_params(labelsize=7)
        h = hist[hist["signal"] == s].sort_values("bin") if hist is not None else pd.DataFrame()
        if h.empty:
            ax.text(0.5, 0.5, "no values", ha="center", transform=ax.transAxes)
            continue
        body, over = h[~h["overflow"]], h[h["overflow"]]
        lo, hi = float(body["lo"].iloc[0]), float(body["hi"].iloc[-1])
        if hi == lo and over.empty:
            _constant_panel(ax, lo, int(body["documents"].sum()), int(body["kept"].sum()))
        else:
            _binned_panel(ax, body, over)
        top = float(h["hi"].iloc[-1])
        for rule in stats.thresholds(s):
            t = rule["threshold"]
            if lo <= t <= top:
                ax.axvline(t, color=_THRESH, linestyle="--", linewidth=1.5)
                ax.text(t, ax.get_ylim()[1] * 0.95, f" {rule['op']} {t:g}", color=_THRESH, fontsize=7, va="top")
            else:
                notes.append(f"{s}: threshold ({rule['op']}) {t:g} is {'below' if t < lo else 'above'} every value")
    fig.subplots_adjust(left=0.05, right=0.98, bottom=0.45 / fig.get_figheight(), top=1 - 0.3 / fig.get_figheight(),
                        hspace=0.55, wspace=0.2)
    caption = (f"Filter {html.escape(filter_name)}: documents per bin (blue kept, red removed by any filter; "
               "hatched: overflow bin above the 99th percentile), thresholds as red dashed lines.")
    if notes:
        caption += " " + "; ".join(html.escape(n) for n in notes) + "."
    return _png(fig, f"signal histograms of {filter_name}", caption, f"signals-{filter_name}", tight=False)


def _binned_panel(ax: Any, body: pd.DataFrame, over: pd.DataFrame) -> None:
    """Bins as stairs (one patch each, not one per bin): total in red, kept in blue over it; the overflow bin drawn
    one bin-width wide to the right, hatched."""
    lo, hi = float(body["lo"].iloc[0]), float(body["hi"].iloc[-1])
    if hi > lo:
        width = (hi - lo) / len(body)
        edges = body["lo"].tolist() + [hi]
    else:  # every value but the overflow equals lo: that bin is drawn a tenth of the overflow's span wide
        width = (float(over["hi"].iloc[0]) - hi) / 10
        edges = [lo - width, lo]
    total, kept = body["documents"].tolist(), body["kept"].tolist()
    if not over.empty:
        o = over.iloc[0]
        edges.append(edges[-1] + width)
        total.append(int(o["documents"]))
        kept.append(int(o["kept"]))
        ax.bar([edges[-2]], [total[-1]], width=width, align="edge", fill=False, hatch="//", edgecolor="black",
               linewidth=0.5, zorder=3)
        ax.set_xlabel(f"hatched: {hi:.4g} < value <= {float(o['hi']):.4g}", fontsize=7)
    ax.stairs(total, edges, fill=True, color=_REMOVED)
    ax.stairs(kept, edges, fill=True, color=_KEPT)


def constant_span(value: float) -> tuple[float, float]:
    """The x range of a constant signal's panel: the value in the middle, a unit wide (or 10% of it)."""
    half = max(abs(value) * 0.05, 0.5)
    return value - half, value + half


def _constant_panel(ax: Any, value: float, total: int, kept: int) -> None:
    """A constant signal as what it is: one thin spike at its value with the count written on it, not a bar
    spanning a range (which reads as a uniform distribution)."""
    lo, hi = constant_span(value)
    ax.bar([value], [total], width=(hi - lo) / 40, color=_REMOVED)
    ax.bar([value], [kept], width=(hi - lo) / 40, color=_KEPT)
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, max(total, 1) * 1.25)
    ax.text(value, max(total, 1) * 1.05, f"all {total:,} = {value:.4g}", ha="center", fontsize=8)
    ax.set_xlabel(f"constant: every value is {value:.4g}", fontsize=7)


def _clusters_figure(clusters: list[dict[str, Any]]) -> str:
    fig = Figure(figsize=(8, 2.8))
    ax = fig.add_subplot()
    ax.bar([str(r["cluster_size"]) for r in clusters], [r["clusters"] for r in clusters], color=_KEPT)
    ax.set_yscale("log")
    ax.set_xlabel("cluster size (documents)")
    ax.set_ylabel("clusters")
    return _png(fig, "cluster sizes", "Near-duplicate clusters by size (size 1: no duplicate).", "clusters")


def _comparison_figure(cur: list[dict[str, Any]], par: dict[str, dict[str, Any]]) -> str:
    names = [r["filter"] for r in cur][::-1]
    fig = Figure(figsize=(8, 0.45 * len(names) + 1.0))
    ax = fig.add_subplot()
    y = list(range(len(names)))
    ax.barh([i + 0.2 for i in y], [par.get(n, {}).get("fired_rate") or 0 for n in names], height=0.4,
            color=_PARENT, label="parent")
    ax.barh([i - 0.2 for i in y], [r["fired_rate"] for r in cur][::-1], height=0.4, color=_KEPT,
            label="this version")
    ax.set_yticks(y, names)
    ax.set_xlabel("fired rate (share of documents)")
    ax.legend(loc="lower right", fontsize=8)
    return _png(fig, "fired rate per filter, parent and this version", "Fired rate per filter.", "comparison")


_TREND_PANELS = (("filter_removed_rate", "removed rate per filter"), ("language_share", "language share"),
                 ("encoding_share", "encoding share"), ("duplicate_rate", "near-duplicate rate"),
                 ("funnel", "documents per stage"), ("tokens", "tokens"))


def _trend_figure(trend: pd.DataFrame) -> str:
    """One panel per watched metric, a line per subject over the versions; drift alarms as red rings. The plotted
    values go into the figure's data-series attribute so a test can compare them with the stats."""
    fig = Figure(figsize=(12, 7.5))
    plotted: dict[str, dict[str, list[float | None]]] = {}
    for i, (metric, title) in enumerate(_TREND_PANELS):
        ax = fig.add_subplot(3, 2, i + 1)
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=7)
        table = pivot(trend, metric)
        if table.empty:
            ax.text(0.5, 0.5, "not measured", ha="center", transform=ax.transAxes)
            continue
        x = list(range(len(table.columns)))
        alarms = trend[trend["alarm"] & (trend["metric"] == metric)]
        for subject, row in table.iterrows():
            ys = [None if pd.isna(v) else float(v) for v in row]
            plotted.setdefault(metric, {})[str(subject)] = ys
            ax.plot(x, [float("nan") if v is None else v for v in ys], marker="o", markersize=3, label=str(subject))
            hit = alarms[alarms["subject"] == subject]
            cols = list(table.columns)
            ax.scatter([cols.index(v) for v in hit["version"]], hit["value"], s=90, facecolors="none",
                       edgecolors=_THRESH, linewidths=1.5, zorder=4)
        ax.set_xticks(x, list(table.columns), fontsize=7)
        if len(table) <= 8:
            ax.legend(fontsize=6, loc="best")
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.05, top=0.95, hspace=0.5, wspace=0.15)
    series = html.escape(json.dumps(plotted, sort_keys=True))
    return _png(fig, "trend over recent versions", "Each watched number per version, oldest left; red rings: "
                "drift alarms against the version before.", "trend", tight=False, attrs=f'data-series="{series}"')


def _trend_section(trend: pd.DataFrame | None) -> str:
    if trend is None or trend.empty:
        return _section("trend", '<p class="note">No trend in this report: <code>jwc report VERSION --trend N</code> '
                                 "adds the last N versions.</p>")
    rates = pivot(trend, "filter_removed_rate")
    alarms = {(r.version, r.subject) for r in trend[trend["alarm"]].itertuples()}
    rows = []
    for subject, row in rates.iterrows():
        cells = "".join(
            f'<td class="num{" alarm" if (v, subject) in alarms else ""}" data-trend-metric="filter_removed_rate" '
            f'data-trend-subject="{html.escape(str(subject))}" data-trend-version="{html.escape(v)}" '
            f'data-value="{_raw(_clean(row[v]))}">{fmt(_clean(row[v]), "rate")}</td>' for v in rates.columns)
        rows.append(f"<td>{html.escape(str(subject))}</td>{cells}")
    table = _table(["removed rate"] + list(rates.columns), rows)
    return _section("trend", _trend_figure(trend) + table + '<p class="note">Red cells: drift alarm against the '
                                                              "previous version. The same numbers as Parquet: see "
                                                              "docs/stats.md (trend table).</p>")


# ----------------------------------------------------------------------------------------------- sections


def _verdict(findings: list[DriftFinding], has_parent: bool, fail_on_drift: bool) -> str:
    """One line: is this version fine to use, judged by drift from its parent."""
    if not has_parent:
        return '<p class="verdict note" data-verdict="no-parent">First version: no parent to compare with.</p>'
    if not findings:
        return '<p class="verdict ok" data-verdict="ok">OK: no change from the parent beyond the tolerances.</p>'
    kind = "DRIFT ALARM" if fail_on_drift else "Drift"
    return (f'<p class="verdict alarm" data-verdict="drift">{kind}: {len(findings)} change(s) from the parent beyond '
            'tolerance (details below).</p>')


def _summary_section(stats: Stats, findings: list[DriftFinding], has_parent: bool, fail_on_drift: bool,
                     top: int = 6) -> str:
    """The first screen: verdict, the stage funnel, the top removal reasons and the drift findings, compact."""
    funnel = _numbers_table(stats, "stages", [("stage", "stage", "text"), ("in", "documents_in", "int"),
                                              ("out", "documents_out", "int"), ("seconds", "seconds", "float")])
    rules = sorted(_records(stats.tables.get("rules")), key=lambda r: (-(r["removed"] or 0), r["reason"]))
    reasons = _numbers_table(stats, "rules", [("reason", "reason", "text"), ("removed", "removed", "int"),
                                              ("fired rate", "fired_rate", "rate")],
                             rows=[r for r in rules if r["removed"]][:top])
    drift = "".join(f"<li>{html.escape(f.kind)} {html.escape(f.subject)}</li>" for f in findings[:top])
    more = f"<li>and {len(findings) - top} more</li>" if len(findings) > top else ""
    drift_html = f"<ul>{drift}{more}</ul>" if findings else '<p class="note">none</p>'
    body = (_verdict(findings, has_parent, fail_on_drift)
            + f'<div class="glance"><div><h3>Funnel</h3>{funnel}</div><div><h3>Top removal reasons (first failing '
            f"rule)</h3>{reasons}<h3>Drift</h3>{drift_html}</div></div>")
    return _section("summary", body)


def _drift_section(findings: list[DriftFinding], has_parent: bool, fail_on_drift: bool) -> str:
    attrs = f'data-findings="{len(findings)}" data-fail-on-drift="{str(fail_on_drift).lower()}"'
    if not has_parent:
        body = '<p class="note">No parent version: nothing to compare.</p>'
    elif not findings:
        body = '<p class="ok">No change beyond the tolerances.</p>'
    else:
        items = "".join(
            f'<li data-drift-kind="{f.kind}" data-drift-subject="{html.escape(f.subject)}" '
            f'data-drift-filter="{html.escape(f.filter)}">{html.escape(f.message)}</li>' for f in findings)
        verdict = ("exit code non-zero (fail_on_drift is on)" if fail_on_drift
                   else "reported only (fail_on_drift is off)")
        body = f'<div class="alarm"><p><b>{len(findings)} change(s) beyond tolerance</b> — {verdict}.</p>' \
               f"<ul>{items}</ul></div>"
    return _section("drift", body, attrs)


def _section(name: str, body: str, attrs: str = "") -> str:
    return f'<section id="{name}" {attrs}><h2>{_TITLES[name]}</h2>{body}</section>'


def _funnel_section(stats: Stats) -> str:
    stages = _records(stats.tables.get("stages"))
    table = _numbers_table(stats, "stages", [
        ("stage", "stage", "text"), ("in", "documents_in", "int"), ("out", "documents_out", "int"),
        ("chars in", "chars_in", "int"), ("chars out", "chars_out", "int"), ("seconds", "seconds", "float")])
    return _section("funnel", _funnel_figure(stages) + table +
                    '<p class="note">extract counts WARC records in and documents out; chars of filter are before '
                    "cleaning (in) and after cleaning and masking (out).</p>")


def _filters_section(stats: Stats) -> str:
    filters = _records(stats.tables.get("filters"))
    body = _filters_figure(filters) if filters else ""
    body += _numbers_table(stats, "filters", [
        ("filter", "filter", "text"), ("documents in", "documents_in", "int"), ("removed", "removed", "int"),
        ("removed rate", "removed_rate", "rate"), ("documents out", "documents_out", "int"),
        ("chars in", "chars_in", "int"), ("chars out", "chars_out", "int"), ("fired", "fired", "int"),
        ("fired rate", "fired_rate", "rate")])
    body += "<h3>Rules</h3>" + _numbers_table(stats, "rules", [
        ("reason", "reason", "text"), ("signal", "signal", "text"), ("op", "op", "text"),
        ("threshold", "threshold", "float"), ("fired", "fired", "int"), ("fired rate", "fired_rate", "rate"),
        ("removed (first reason)", "removed", "int"), ("removed chars", "removed_chars", "int")])
    if stats.tables.get("filter_seconds") is not None and len(stats.tables["filter_seconds"]):
        body += ("<h3>Time per filter</h3>" + _numbers_table(stats, "filter_seconds", [
            ("filter", "filter", "text"), ("CPU seconds (all tasks)", "seconds", "float"),
            ("documents", "documents", "int")]) + '<p class="note">Measured in the filter stage around each '
            "filter's signals and decision, summed over Spark tasks (a retried task counts twice).</p>")
    return _section("filters", body)


def _signals_section(stats: Stats) -> str:
    sigs = _records(stats.tables.get("signals"))
    by_filter: dict[str, list[str]] = {}
    for r in sigs:
        by_filter.setdefault(r["filter"] or "(unknown)", []).append(r["signal"])
    measured = {r["signal"] for r in sigs if r["documents"]}
    body = ""
    for f, names in by_filter.items():
        body += f"<h3>{html.escape(f)}</h3>"
        if measured & set(names):
            body += _histogram_figure(stats, f, names)
        else:  # e.g. a classifier without its model, a block list without lists
            body += f'<p class="note">{html.escape(f)} measured nothing: every signal is missing.</p>'

    body += "<h3>Percentiles</h3>" + _numbers_table(stats, "signals", [
        ("signal", "signal", "text"), ("documents", "documents", "int"), ("missing", "missing", "int"),
        ("mean", "mean", "float"), ("min", "min", "float"), ("p01", "p01", "float"), ("p05", "p05", "float"),
        ("p25", "p25", "float"), ("p50", "p50", "float"), ("p75", "p75", "float"), ("p95", "p95", "float"),
        ("p99", "p99", "float"), ("max", "max", "float")])
    return _section("signals", body)


def _hosts_section(stats: Stats) -> str:
    hosts = _records(stats.tables.get("hosts"))
    titles = {"kept": "Kept (final output)", "removed_filter": "Removed by filters",
              "removed_dedup": "Removed by dedup"}
    parts = []
    for kind, title in titles.items():
        rows = [r for r in hosts if r["kind"] == kind]
        if rows:
            parts.append(f"<div><h3>{title}</h3>" + _numbers_table(stats, "hosts", [
                ("#", "rank", "int"), ("host", "host", "text"), ("documents", "documents", "int"),
                ("chars", "chars", "int")], rows=rows) + "</div>")
    return _section("hosts", f'<div class="cols">{"".join(parts)}</div>')


def _samples_section(stats: Stats) -> str:
    samples = _records(stats.tables.get("samples"))
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in samples:
        groups.setdefault(r["reason"], []).append(r)
    parts = []
    for reason, rows in groups.items():
        items = []
        for r in rows:
            key = row_key("samples", r)
            facts = [f'chars <span {_cite("samples", key, "chars", r["chars"])}>{fmt(r["chars"])}</span>']
            if r["signal"]:
                facts.append(f'{html.escape(r["signal"])} = <span {_cite("samples", key, "value", r["value"])}>'
                             f'{fmt(r["value"], "float")}</span> (threshold <span '
                             f'{_cite("samples", key, "threshold", r["threshold"])}>{fmt(r["threshold"], "float")}'
                             "</span>)")
            if r["duplicate_of"]:
                facts.append(f"duplicate of {html.escape(r['duplicate_of'])}, jaccard <span "
                             f'{_cite("samples", key, "jaccard", r["jaccard"])}>{fmt(r["jaccard"], "float")}</span>')
            items.append(f'<div class="sample" data-reason="{html.escape(reason)}" '
                         f'data-doc-id="{html.escape(r["doc_id"])}"><div><code>{_esc(r["url"])}</code></div>'
                         f'<div class="note">{" · ".join(facts)}</div><pre>{_esc(r["text"])}</pre></div>')
        parts.append(f'<details data-reason="{html.escape(reason)}"><summary>{html.escape(reason)} '
                     f"({len(rows)} shown)</summary>{''.join(items)}</details>")
    body = "".join(parts) or '<p class="note">No removed documents.</p>'
    note = ('<p class="note">Texts are the stored ones: cleaned and PII-masked; long texts are cut. Chosen by the '
            "smallest hash of doc_id per reason, so the same documents on every run over the same data.</p>")
    return _section("samples", note + body)


def _kept_section(stats: Stats) -> str:
    rows = _records(stats.tables.get("kept_samples"))
    items = [f'<div class="sample" data-doc-id="{html.escape(r["doc_id"])}"><div><code>{_esc(r["url"])}</code></div>'
             f'<div class="note">chars <span {_cite("kept_samples", row_key("kept_samples", r), "chars", r["chars"])}>'
             f'{fmt(r["chars"])}</span></div><pre>{_esc(r["text"])}</pre></div>' for r in rows]
    body = (f'<details data-reason="kept"><summary>kept ({len(rows)} shown)</summary>{"".join(items)}</details>'
            if rows else '<p class="note">No kept samples in these stats.</p>')
    return _section("kept", '<p class="note">Documents of the final output, chosen like the removed ones (smallest '
                            "hash of doc_id).</p>" + body)


def _cite(src: str, key: str, col: str, value: Any) -> str:
    return (f'data-src="{html.escape(src)}" data-key="{html.escape(key)}" data-col="{col}" '
            f'data-value="{html.escape(_raw(_clean(value)))}"')


def _dedup_section(stats: Stats) -> str:
    clusters = _records(stats.tables.get("clusters"))
    if not clusters:
        return _section("dedup", '<p class="note">No dedup output in this run.</p>')
    body = _clusters_figure(clusters)
    body += '<div class="cols"><div>' + _numbers_table(stats, "clusters", [
        ("cluster size", "cluster_size", "int"), ("clusters", "clusters", "int"),
        ("documents", "documents", "int")]) + "</div><div>" + _numbers_table(stats, "dedup_reasons", [
            ("removed as", "reason", "text"), ("documents", "documents", "int"),
            ("mean jaccard", "mean_jaccard", "float")]) + "</div></div>"
    return _section("dedup", body)


def _safety_section(stats: Stats) -> str:
    pii = _numbers_table(stats, "pii", [("type", "type", "text"), ("documents", "documents", "int"),
                                        ("occurrences", "occurrences", "int"),
                                        ("kept documents (masked)", "kept_documents", "int")])
    ng = _numbers_table(stats, "ngwords", [("category", "category", "text"), ("documents", "documents", "int"),
                                           ("hits", "hits", "int"), ("kept documents", "kept_documents", "int")])
    return _section("safety", f'<div class="cols"><div><h3>PII by type</h3>{pii}</div><div><h3>NG-word hits by '
                              f"category</h3>{ng}</div></div>")


def _decontam_section(stats: Stats) -> str:
    """Per evaluation set: its items, those found in the crawl, documents matched, removed and cut, the spans cut,
    and the set's digest and path (what the version states it was decontaminated against)."""
    if stats.decontam is None:
        return _section("decontam", '<p class="note">No evaluation set configured ([filters.decontam] sets).</p>')
    rows = []
    for r in stats.decontam:
        rows.append(f"<td>{_esc(r['set'])}</td>" + "".join(
            cell("decontam", r["set"], col, r.get(col)) for col in
            ("items", "items_found", "documents", "removed", "cut", "spans_cut"))
            + f'<td><code data-digest="{html.escape(r["digest"])}" title="{html.escape(r["digest"])}">'
              f'{html.escape(r["digest"][:19])}…</code></td><td><code>{_esc(r["path"])}</code></td>')
    table = _table(["set", "items", "items found", "documents matched", "removed", "cut", "spans cut", "digest",
                    "path"], rows)
    note = ('<p class="note">Counted by the decontam rule alone, whatever other filters decided (a retried Spark '
            "task can count its documents twice; items found are exact). A cut document keeps everything but the "
            "spans of the items found; a document matching two sets counts under both.</p>")
    return _section("decontam", table + note)


def _extract_section(stats: Stats) -> str:
    outcomes = _numbers_table(stats, "outcomes", [("outcome", "outcome", "text"), ("records", "records", "int")])
    langs = _numbers_table(stats, "languages", [("language", "lang", "text"), ("records", "records", "int"),
                                                ("kept", "kept", "int")])
    encs = _numbers_table(stats, "encodings", [("encoding", "encoding", "text"), ("source", "encoding_source", "text"),
                                               ("records", "records", "int"), ("kept", "kept", "int")])
    return _section("extract", f'<div class="cols"><div><h3>Outcomes</h3>{outcomes}</div><div><h3>Languages</h3>'
                               f"{langs}</div><div><h3>Encodings</h3>{encs}</div></div>")


def _comparison_section(stats: Stats, parent: Stats | None, findings: list[DriftFinding]) -> str:
    if parent is None:
        return _section("comparison", '<p class="note">No parent version.</p>')
    cur = _records(stats.tables.get("filters"))
    par = {r["filter"]: r for r in _records(parent.tables.get("filters"))}
    flagged = {f.filter for f in findings if f.kind != "signal"}
    rows = []
    for r in cur:
        p = par.get(r["filter"])
        key = r["filter"]
        mark = ' class="alarm"' if key in flagged else ""
        rows.append(f"<td{mark}>{html.escape(key)}</td>"
                    + (cell("parent/filters", key, "fired_rate", p["fired_rate"], "rate") if p else "<td>—</td>")
                    + cell("filters", key, "fired_rate", r["fired_rate"], "rate")
                    + (cell("parent/filters", key, "removed", p["removed"]) if p else "<td>—</td>")
                    + cell("filters", key, "removed", r["removed"]))
    table = _table(["filter", "parent fired rate", "fired rate", "parent removed", "removed"], rows)
    totals = parent.summary["totals"]
    name = parent.path.parent.name if parent.path.name == "stats" else str(parent.path)  # versions/<id>/stats
    head = (f'<p>Parent: {html.escape(name)}; documents '
            f'<span {_cite("parent/summary", "totals", "documents", totals["documents"])}>'
            f'{fmt(totals["documents"])}</span>, final documents '
            f'<span {_cite("parent/summary", "totals", "final_documents", totals["final_documents"])}>'
            f'{fmt(totals["final_documents"])}</span>.</p>')
    sig = [f for f in findings if f.kind == "signal"]
    sig_note = ("<p>Signals whose distribution moved: " + ", ".join(html.escape(f.subject) for f in sig) + ".</p>"
                if sig else '<p class="note">No rule signal moved beyond tolerance.</p>')
    return _section("comparison", head + _comparison_figure(cur, par) + table + sig_note)


# ----------------------------------------------------------------------------------------------- report


def render_report(stats: Stats, parent: Stats | None, findings: list[DriftFinding], fail_on_drift: bool,
                  title: str, trend: pd.DataFrame | None = None) -> str:
    """The whole HTML page (with the trend section filled when `trend`, a `trend_table`, is given)."""
    s = stats.summary
    totals = s["totals"]
    meta = [f"crawl {html.escape(str(s.get('crawl_id', '?')))}", f"stats made {html.escape(str(s.get('created')))}",
            f"config {html.escape(str(s.get('config_digest', '?'))[:12])}"]
    head = (f"<header><h1>{html.escape(title)}</h1><p class=\"meta\">{' · '.join(meta)}</p>"
            f"<p>Records <b {_cite('summary', 'totals', 'records', totals['records'])}>{fmt(totals['records'])}</b>,"
            f" documents <b {_cite('summary', 'totals', 'documents', totals['documents'])}>"
            f"{fmt(totals['documents'])}</b>, after filters <b "
            f"{_cite('summary', 'totals', 'filter_kept', totals['filter_kept'])}>{fmt(totals['filter_kept'])}</b>,"
            f" final <b {_cite('summary', 'totals', 'final_documents', totals['final_documents'])}>"
            f"{fmt(totals['final_documents'])}</b> documents, <b "
            f"{_cite('summary', 'totals', 'final_chars', totals['final_chars'])}>{fmt(totals['final_chars'])}</b>"
            " characters.</p><nav>" + "".join(f'<a href="#{n}">{_TITLES[n]}</a>' for n in SECTIONS)
            + "</nav></header>")
    body = "".join([
        _summary_section(stats, findings, parent is not None, fail_on_drift), _drift_section(findings, parent is not None, fail_on_drift), _funnel_section(stats), _filters_section(stats),
        _signals_section(stats), _hosts_section(stats), _samples_section(stats), _kept_section(stats),
        _dedup_section(stats), _safety_section(stats), _decontam_section(stats), _extract_section(stats),
        _comparison_section(stats, parent, findings), _trend_section(trend)])
    return (f'<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width"><style>{_CSS}</style></head>'
            f'<body data-images-ok="pending">{head}{body}<script>{_SCRIPT}</script></body></html>')


def write_report(stats_dir: str | Path, out_file: str | Path, parent_stats_dir: str | Path | None,
                 params: Mapping[str, Any], title: str, trend: pd.DataFrame | None = None) -> list[DriftFinding]:
    """Render the report of `stats_dir` (compared with `parent_stats_dir`, if any) to `out_file`; returns the drift
    findings (params: the `[stats]` section, for tolerances and fail_on_drift; trend: a `trend_table`)."""
    stats = read_stats(stats_dir)
    parent = read_stats(parent_stats_dir) if parent_stats_dir is not None else None
    findings = drift_findings(stats_dir, parent_stats_dir, params)
    page = render_report(stats, parent, findings, bool(params["fail_on_drift"]), title, trend)
    out = Path(out_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, page)
    return findings
