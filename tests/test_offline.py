"""The whole nightly needs no network: run in a network namespace with only a loopback interface (`unshare -n`,
as root), it publishes the same version content as a normal run. Anything fetched at run time (a model, a
dictionary, a word list) would fail here."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.helpers import manifest, reference_run, run_nightly, sample_warc, version_content

pytestmark = pytest.mark.slow
# A new network namespace has a loopback interface that is down; Spark's driver and Python workers need it up.
NO_NETWORK = ("unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh")


def _namespace_interfaces() -> list[str]:
    """Interfaces seen inside a fresh namespace; skips when one cannot be made here."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        pytest.skip("needs root, unshare and ip (iproute2) to run without a network")
    probe = subprocess.run([*NO_NETWORK, "ip", "-o", "link", "show"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a network namespace here: {probe.stderr.strip()}")
    return [line.split(":")[1].strip() for line in probe.stdout.splitlines()]


def test_nightly_offline_publishes_the_same_version(tmp_path_factory) -> None:
    assert _namespace_interfaces() == ["lo"]  # no way out: nothing but loopback
    base = tmp_path_factory.getbasetemp()
    warc = sample_warc(base)
    store = tmp_path_factory.mktemp("offline") / "store"
    code, err = run_nightly(store, warc, wrap=NO_NETWORK)
    assert code == 0, err[-4000:]
    reference = reference_run(base)
    assert version_content(store) == version_content(reference)
    assert manifest(store)["content_digest"] == manifest(reference)["content_digest"]
