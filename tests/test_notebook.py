"""notebooks/inspect_version.ipynb runs end to end (nbclient, real kernel) on a version laid out like a published
one, and its "try a threshold" answer equals an independent count over the stored signals; on a fresh copy of the
checkout after the demo nightly it opens the newest version with no variable set, and no histogram panel is
empty."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pyarrow.parquet as pq
import pytest
from nbclient import NotebookClient

from tests.helpers import demo_run, pin_toy_tokenizer

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "inspect_version.ipynb"
VARIABLES = ("JWC_VERSION_DIR", "JWC_FILTER_DOCUMENTS", "JWC_TRY", "JWC_STORE")


@pytest.fixture(scope="module")
def version(spark, tmp_path_factory) -> tuple[Path, Path]:
    run_dir = demo_run(spark, tmp_path_factory.getbasetemp())
    vdir = tmp_path_factory.mktemp("store") / "versions" / "v0001"
    shutil.copytree(run_dir / "stats", vdir / "stats")
    shutil.copy(run_dir / "report" / "report.html", vdir / "report.html")
    (vdir / "manifest.json").write_text(json.dumps({"version": "v0001", "parent": None}))
    return vdir, run_dir / "filter" / "documents"


def _execute(env: dict[str, str], workdir: Path, notebook: Path = NOTEBOOK) -> dict:
    """Run every cell with the given environment (variables not in `env` unset); returns the RESULT line the
    threshold cell prints, after checking the two figures are there and no histogram panel is empty."""
    nb = nbformat.read(notebook, as_version=4)
    saved = {k: os.environ.get(k) for k in VARIABLES}
    for k in VARIABLES:
        os.environ.pop(k, None)
    os.environ.update(env)  # the kernel inherits the environment it is started with
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
                       ).execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    lines = [line for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
             if out.get("name") == "stdout" for line in out["text"].splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert len(images) == 2  # removal per filter, signal distributions
    panels = [json.loads(line[len("PANELS "):]) for line in _stdout(nb) if line.startswith("PANELS ")]
    assert len(panels) == 1 and panels[0]["panels"] > 0 and panels[0]["empty"] == []
    assert any(line.startswith("== kept (final output):") for line in _stdout(nb))  # kept beside removed
    return json.loads(lines[0][len("RESULT "):])


def _stdout(nb: nbformat.NotebookNode) -> list[str]:
    return [line for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
            if out.get("name") == "stdout" for line in out["text"].splitlines()]


def test_notebook_opens_the_demo_version_of_a_fresh_checkout(tmp_path) -> None:
    """A copy of the tracked files, the demo's sample and nightly into its build/store, then the notebook from its
    own folder with no variable set: it finds the version, draws every panel, shows kept and removed samples."""
    clone = tmp_path / "checkout"
    tracked = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"], check=True, capture_output=True
                             ).stdout.decode().split("\0")
    for name in filter(None, tracked):
        if (REPO / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, clone / name)
    jwc = [sys.executable, "-m", "jwc.jobs.cli"]
    sample = clone / "build" / "sample" / "sample.warc.gz"
    sample.parent.mkdir(parents=True)  # as scripts/demo.sh does
    subprocess.run([*jwc, "sample", str(sample), "--records", "150"], check=True, capture_output=True, cwd=clone)
    pin_toy_tokenizer(clone / "build" / "store")  # the demo pins a labelled toy tokenizer too (scripts/demo.sh)
    subprocess.run([*jwc, "nightly", "--crawl-id", "SAMPLE-2026-48", "--input", str(sample), "--store",
                    str(clone / "build" / "store")], check=True, capture_output=True, cwd=clone, timeout=900,
                   env={k: v for k, v in os.environ.items() if k not in VARIABLES})
    notebook = clone / "notebooks" / "inspect_version.ipynb"
    result = _execute({}, notebook.parent, notebook)
    version = clone / "build" / "store" / "datasets" / "ja-web" / "versions" / "v0001"
    summary = json.loads((version / "stats" / "summary.json").read_text())
    assert result["exact"] is False and result["documents"] == summary["totals"]["documents"]


def test_notebook_says_what_to_set_when_there_is_no_version(tmp_path) -> None:
    empty = tmp_path / "store"
    empty.mkdir()
    nb = nbformat.read(NOTEBOOK, as_version=4)
    saved = {k: os.environ.pop(k, None) for k in VARIABLES}
    os.environ["JWC_STORE"] = str(empty)
    try:
        with pytest.raises(Exception) as exc:
            NotebookClient(nb, timeout=300, kernel_name="python3",
                           resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        os.environ.pop("JWC_STORE", None)
        os.environ.update({k: v for k, v in saved.items() if v is not None})
    assert f"no published version in {empty}" in str(exc.value) and "JWC_VERSION_DIR" in str(exc.value)


def test_notebook_tries_a_threshold_on_stored_signals(version, tmp_path) -> None:
    vdir, documents = version
    reason, signal = "composition.low_hiragana", "comp_hiragana_frac"
    docs = pq.read_table(documents, columns=["keep", "reject_reasons", f"sig_{signal}"]).to_pandas()
    threshold = round(float(docs[docs.keep][f"sig_{signal}"].quantile(0.3)), 3)  # removes about 30% of kept
    result = _execute({"JWC_VERSION_DIR": str(vdir), "JWC_FILTER_DOCUMENTS": str(documents),
                       "JWC_TRY": json.dumps({reason: threshold})}, tmp_path)
    fails = docs[f"sig_{signal}"] < threshold
    others = docs.reject_reasons.map(lambda rs: any(r != reason for r in rs))
    new_keep = ~fails & ~others
    assert result == {"exact": True, "documents": len(docs), "kept_before": int(docs.keep.sum()),
                      "kept_after": int(new_keep.sum()), "newly_removed": int((docs.keep & ~new_keep).sum()),
                      "newly_kept": int((~docs.keep & new_keep).sum()), "fired": {reason: int(fails.sum())}}
    assert result["newly_removed"] > 0


def test_notebook_estimates_from_histograms_without_documents(version, tmp_path) -> None:
    vdir, _ = version
    result = _execute({"JWC_VERSION_DIR": str(vdir), "JWC_FILTER_DOCUMENTS": "", "JWC_TRY": ""}, tmp_path)
    assert result["exact"] is False and len(result["fired"]) == 1
    reason, fired = next(iter(result["fired"].items()))
    assert 0 < fired <= result["documents"]
