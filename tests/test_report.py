"""The HTML report: renders whole in headless Chromium, every number equals the stats files, nothing is fetched from
the network, and drift from a parent version with one changed threshold is flagged (report and exit code)."""
from __future__ import annotations

import json
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from jwc.jobs.cli import EXIT_DRIFT
from jwc.jobs.cli import main as cli
from jwc.jobs.stats import parent_version
from jwc.pipeline.stats.report import SECTIONS
from jwc.pipeline.stats.tables import Stats, read_stats, row_key
from jwc.pipeline.io.store import Store
from tests.helpers import changed_threshold_run, demo_run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


class _Page(HTMLParser):
    """Collects every element's attributes and the text directly inside cited elements."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[dict[str, str]] = []
        self.cited: list[dict[str, Any]] = []
        self._open: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        a["_tag"] = tag
        self.elements.append(a)
        if "data-src" in a:
            item = {**a, "text": ""}
            self.cited.append(item)
            self._open.append(item)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1]["_tag"] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1]["text"] += data


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def run_dir(spark, tmp_path_factory) -> Path:
    return demo_run(spark, tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def versions(spark, run_dir, tmp_path_factory) -> tuple[Path, Path]:
    """A store with two published versions (as the publish stage lays them out): v0001 is the demo run, v0002
    the same documents re-decided with one changed composition threshold, its manifest naming v0001 as parent."""
    tmp = tmp_path_factory.mktemp("versions")
    changed_stats, *_ = changed_threshold_run(spark, run_dir)
    store = Store.open(tmp / "store").root
    root = store / "datasets" / "ja-web" / "versions"
    for vid, stats, parent in (("v0001", run_dir / "stats", None), ("v0002", changed_stats, "v0001")):
        shutil.copytree(stats, root / vid / "stats")
        (root / vid / "manifest.json").write_text(json.dumps({"version": vid, "parent": parent}))
    return store, root


def test_report_renders_whole_in_headless_chromium(run_dir, tmp_path) -> None:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium)")
    report = run_dir / "report" / "report.html"
    url = report.resolve().as_uri()
    shot = tmp_path / "report.png"
    common = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,4000"]
    subprocess.run([*common, f"--screenshot={shot}", url], check=True, capture_output=True, timeout=120)
    width, height = struct.unpack(">II", shot.read_bytes()[16:24])  # PNG IHDR
    assert (width, height) == (1280, 4000)
    dom = subprocess.run([*common, "--dump-dom", url], check=True, capture_output=True, text=True,
                         timeout=120).stdout
    page = _Page()
    page.feed(dom)
    body = next(e for e in page.elements if e["_tag"] == "body")
    images = [e for e in page.elements if e["_tag"] == "img"]
    assert body["data-images-ok"] == "true"  # set by the page's script after checking every image loaded
    assert int(body["data-images"]) == len(images) >= 8
    ids = {e.get("id") for e in page.elements if e["_tag"] == "section"}
    assert ids == set(SECTIONS)
    figures = {e["data-figure"] for e in page.elements if "data-figure" in e}
    assert {"funnel", "filters", "clusters", "signals-composition", "signals-ngwords", "signals-pii"} <= figures
    # Every filter that removed something has its samples.
    removed = read_stats(run_dir / "stats")["filters"].query("removed > 0")["filter"]
    reasons = {e["data-reason"].split(".")[0] for e in page.elements if e["_tag"] == "details"}
    assert set(removed) <= reasons
    # Every sample section is collapsed: the page opens short.
    details = [e for e in page.elements if e["_tag"] == "details"]
    assert details and not any("open" in e for e in details)


def test_first_screen_shows_verdict_funnel_and_top_reasons(run_dir, tmp_path) -> None:
    """At 1280x800 the summary block (verdict, funnel, top removal reasons, drift) ends inside the window: the page's
    script measures where the block ends in the rendered layout."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium)")
    url = (run_dir / "report" / "report.html").resolve().as_uri()
    common = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,800"]
    shot = tmp_path / "first.png"
    subprocess.run([*common, f"--screenshot={shot}", url], check=True, capture_output=True, timeout=120)
    assert struct.unpack(">II", shot.read_bytes()[16:24]) == (1280, 800)
    dom = subprocess.run([*common, "--dump-dom", url], check=True, capture_output=True, text=True,
                         timeout=120).stdout
    page = _Page()
    page.feed(dom)
    body = next(e for e in page.elements if e["_tag"] == "body")
    assert 0 < int(body["data-summary-bottom"]) <= 800
    section = dom[dom.index('<section id="summary"'):]
    section = section[:section.index("</section>")]
    assert 'data-verdict="' in section
    stats = read_stats(run_dir / "stats")
    for stage in stats["stages"]["stage"]:  # every stage row of the funnel, with its count
        assert f'data-src="stages" data-key="{stage}" data-col="documents_out"' in section
    top = stats["rules"].sort_values(["removed", "reason"], ascending=[False, True]).head(3)
    for reason in top.query("removed > 0")["reason"]:
        assert f'data-src="rules" data-key="{reason}" data-col="removed"' in section


def _lookup(src: str, key: str, col: str, stats: Stats, parent: Stats | None) -> Any:
    source = stats
    if src.startswith("parent/"):
        assert parent is not None
        source, src = parent, src[len("parent/"):]
    if src == "summary":
        assert key == "totals"
        return source.summary["totals"][col]
    rows = [r for r in source[src].to_dict("records") if row_key(src, r) == key]
    assert len(rows) == 1, (src, key)
    return rows[0][col]


def _check_numbers(report: Path, stats: Stats, parent: Stats | None) -> set[str]:
    """Every cited number: data-value equals the stats value exactly, the text shows it; returns cited tables."""
    cited = _parse(report).cited
    assert len(cited) > 300
    for c in cited:
        value = _lookup(c["data-src"], c["data-key"], c["data-col"], stats, parent)
        text = c["text"].strip()
        if value is None or value != value:
            assert (c["data-value"], text) == ("", "—"), c
            continue
        assert float(c["data-value"]) == float(value), c
        if text.endswith("%"):
            assert abs(float(text[:-1]) / 100 - value) <= 5e-5 + 1e-12, c
        elif isinstance(value, (int,)) or (hasattr(value, "dtype") and value.dtype.kind == "i"):
            assert int(text.replace(",", "")) == value, c
        else:
            assert float(text.replace(",", "")) == pytest.approx(value, rel=5e-4, abs=1e-12), c
    return {c["data-src"] for c in cited}


def test_every_number_in_the_report_equals_the_stats_files(run_dir) -> None:
    stats = read_stats(run_dir / "stats")
    tables = _check_numbers(run_dir / "report" / "report.html", stats, None)
    assert tables == {"summary", "stages", "filters", "rules", "signals", "hosts", "samples", "clusters",
                      "dedup_reasons", "pii", "ngwords", "outcomes", "languages", "encodings", "kept_samples",
                      "filter_seconds"}


def test_report_is_self_contained(run_dir) -> None:
    text = (run_dir / "report" / "report.html").read_text(encoding="utf-8")
    page = _parse(run_dir / "report" / "report.html")
    for e in page.elements:
        for attr in ("src", "href"):
            assert not e.get(attr, "").startswith(("http:", "https:", "//")), e
    assert not any(e["_tag"] == "link" for e in page.elements)
    assert "@import" not in text and "url(http" not in text
    assert all(e["src"].startswith("data:image/png;base64,") for e in page.elements if e["_tag"] == "img")
    drift = json.loads((run_dir / "report" / "drift.json").read_text())
    assert drift == {"parent": None, "fail_on_drift": False, "alarm": False, "findings": []}


def test_drift_is_flagged_in_the_report_and_the_exit_code(versions, tmp_path) -> None:
    store, root = versions
    out = tmp_path / "v2.html"
    assert cli(["report", "v0002", "--store", str(store), "--out", str(out)]) == 0
    assert cli(["report", "v0002", "--store", str(store), "--out", str(out), "--fail-on-drift"]) == EXIT_DRIFT
    page = _parse(out)
    flagged = [(e["data-drift-kind"], e["data-drift-subject"]) for e in page.elements if "data-drift-kind" in e]
    assert flagged == [("filter_rate", "composition")]
    drift = next(e for e in page.elements if e.get("id") == "drift")
    assert (drift["data-findings"], drift["data-fail-on-drift"]) == ("1", "true")
    tables = _check_numbers(out, read_stats(root / "v0002" / "stats"), read_stats(root / "v0001" / "stats"))
    assert {"parent/filters", "parent/summary"} <= tables
    # The first version has no parent: no comparison, no drift, exit 0 even when failing on drift.
    first = tmp_path / "v1.html"
    assert cli(["report", "v0001", "--store", str(store), "--out", str(first), "--fail-on-drift"]) == 0
    assert 'data-findings="0"' in first.read_text(encoding="utf-8")
    # A version that does not exist is a one-line refusal.
    assert cli(["report", "v0009", "--store", str(store), "--out", str(first)]) == 2


def test_a_local_store_report_needs_no_temporary_folder(versions, tmp_path, monkeypatch) -> None:
    """Only a Hadoop store's report copies anything out: with the temporary folder pointed at a path that does not
    exist (any temporary folder made there would fail), a local store's report is still written, the same page."""
    import tempfile

    store, _ = versions
    first, again = tmp_path / "v2.html", tmp_path / "v2-again.html"
    assert cli(["report", "v0002", "--store", str(store), "--out", str(first)]) == 0
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "absent"))
    assert cli(["report", "v0002", "--store", str(store), "--out", str(again)]) == 0
    assert again.read_bytes() == first.read_bytes() and not (tmp_path / "absent").exists()


def test_parent_version_is_the_head_of_the_chain(versions, tmp_path) -> None:
    store, root = versions
    assert parent_version(root.parent) == root / "v0002"
    assert parent_version(tmp_path / "no-dataset") is None
