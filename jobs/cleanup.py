"""`jwc runs clean`: free the space finished runs hold in `store/runs/`, keeping what later work reads.

A published run's large outputs are either in its version already (shards, tokens, stats, report: hard links, so
removing the run's names frees nothing until the version goes, but they clutter) or no longer needed (extract
records, dedup documents and signatures: the signatures are in the dedup index). What stays:
- `filter/`: `jwc redecide` and the inspection notebook re-decide from its stored signals;
- every stage's `_STAGE.json`, `run.json` and `version.json`: a rerun of the same command still finds the run
  complete and does nothing, instead of redoing it;
- unfinished runs, whole: they are resumable.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from jwc.jobs.stages import DONE

KEEP_STAGES = ("filter",)  # read by redecide and notebooks/inspect_version.ipynb
# Small records a finished rerun prints its summary from (jobs/nightly.py print_summary).
KEEP_FILES = ("publish/published.json", "report/drift.json")


def _freed(path: Path) -> int:
    """Bytes removing `path` frees: files hard-linked into a published version (more than one link) free nothing."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(st.st_size for st in (p.stat() for p in files) if st.st_nlink == 1)


def removable(run_dir: Path) -> list[Path]:
    """What cleaning a run removes: everything inside its stage folders except `_STAGE.json` and the kept stages;
    nothing when the run is not published yet."""
    if not (run_dir / "publish" / DONE).is_file():
        return []
    out = []
    for stage in sorted(p for p in run_dir.iterdir() if p.is_dir()):
        if stage.name in KEEP_STAGES:
            continue
        out += sorted(p for p in stage.iterdir()
                      if p.name != DONE and f"{stage.name}/{p.name}" not in KEEP_FILES)
    return out


def clean_runs(runs_root: Path, dry_run: bool = True) -> dict[str, Any]:
    """Remove (or with `dry_run`, only list) what `removable` says for every run under `runs_root`."""
    report: dict[str, Any] = {"dry_run": dry_run, "runs": [], "bytes_freed": 0}
    if not runs_root.is_dir():
        return report
    for run_dir in sorted(p for p in runs_root.iterdir() if p.is_dir()):
        paths = removable(run_dir)
        published = (run_dir / "publish" / DONE).is_file()
        size = sum(_freed(p) for p in paths)
        report["runs"].append({"run": run_dir.name, "published": published, "paths": len(paths), "bytes_freed": size,
                               "kept": [s for s in KEEP_STAGES if (run_dir / s).is_dir()] if published else "all"})
        report["bytes_freed"] += size
        if not dry_run:
            for p in paths:
                shutil.rmtree(p) if p.is_dir() else p.unlink()
    return report
