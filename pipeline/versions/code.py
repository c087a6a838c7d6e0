"""The code version a manifest records: the package version and, from a git checkout, its commit."""
from __future__ import annotations

import importlib.metadata
import subprocess
from pathlib import Path
from typing import Any


def code_version() -> dict[str, Any]:
    """Package version, and the git commit of the checkout when the code runs from one (None otherwise)."""
    try:
        version = importlib.metadata.version("jwc")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    repo = Path(__file__).resolve().parents[2]
    commit, dirty = None, None
    if (repo / ".git").exists():
        try:
            commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                                    check=True, timeout=10).stdout.strip()
            status = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                                    capture_output=True, text=True, check=True, timeout=30).stdout
            dirty = bool(status.strip())
        except (OSError, subprocess.SubprocessError):
            commit, dirty = None, None
    return {"package": "jwc", "version": version, "git_commit": commit, "git_dirty": dirty}
