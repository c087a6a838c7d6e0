"""notebooks/inspect_version.ipynb runs end to end (nbclient, real kernel) on a version laid out like a published
one, and its "try a threshold" answer equals an independent count over the stored signals."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import pyarrow.parquet as pq
import pytest
from nbclient import NotebookClient

from tests.helpers import demo_run

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "inspect_version.ipynb"


@pytest.fixture(scope="module")
def version(spark, tmp_path_factory) -> tuple[Path, Path]:
    run_dir = demo_run(spark, tmp_path_factory.getbasetemp())
    vdir = tmp_path_factory.mktemp("store") / "versions" / "v0001"
    shutil.copytree(run_dir / "stats", vdir / "stats")
    shutil.copy(run_dir / "report" / "report.html", vdir / "report.html")
    (vdir / "manifest.json").write_text(json.dumps({"version": "v0001", "parent": None}))
    return vdir, run_dir / "filter" / "documents"


def _execute(env: dict[str, str], workdir: Path) -> dict:
    """Run every cell with the given environment; returns the RESULT line the threshold cell prints."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    saved = {k: os.environ.get(k) for k in env}
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
    return json.loads(lines[0][len("RESULT "):])


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
