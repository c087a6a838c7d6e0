"""The store's locks and path checks without Spark: refusal naming the holder, stale locks (dead pid on this host,
no heartbeat from another host), --break-lock, waiting, and store files that try to point outside the store."""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from jwc.jobs.cli import main
from jwc.pipeline import config as config_mod
from jwc.pipeline.io.lock import LOCK_PARAMS, LockHeld, LockLost, PosixLockFile, StoreLock
from jwc.pipeline.io.store import Store, StoreError, inside
from jwc.pipeline.versions.ids import VersionError, reserved_version, run_version
from jwc.pipeline.versions.manifest import read_manifest
from jwc.pipeline.versions.staging import abandon_staging
from tests.helpers import dead_pid, manifest_for, publish_fake

PARAMS = {key: p.default for key, p in LOCK_PARAMS.items()}


def lock(path: Path, owner: str = "test", **params: float) -> StoreLock:
    return StoreLock(PosixLockFile(path), f"thing {path.name}", owner, {**PARAMS, **params})


def plant(path: Path, holder: dict, age: float = 0.0) -> None:
    """A lock file written by another process (as it would be), `age` seconds since its last heartbeat."""
    path.write_text(json.dumps({"owner": "other run", "started": "2026-12-01T00:00:00Z", "token": "t", **holder}))
    past = time.time() - age
    os.utime(path, (past, past))


def test_a_held_lock_refuses_at_once_naming_its_holder(tmp_path: Path) -> None:
    path = tmp_path / ".lock"
    with lock(path, "jwc nightly CC-1").acquire():
        started = time.monotonic()
        with pytest.raises(LockHeld) as refused:
            lock(path).acquire()
        assert time.monotonic() - started < 1.0
        message = str(refused.value)
        assert f"jwc nightly CC-1 (pid {os.getpid()} on {os.uname().nodename}" in message
        assert "--break-lock" in message and "\n" not in message
    assert not path.exists(), "released"
    lock(path).acquire().release()  # free again


def test_a_dead_holder_on_this_host_is_taken_over(tmp_path: Path, capsys) -> None:
    path = tmp_path / ".lock"
    pid = dead_pid()
    plant(path, {"host": os.uname().nodename, "pid": pid})
    with lock(path).acquire() as held:
        assert held.held() and json.loads(path.read_text())["pid"] == os.getpid()
    assert f"pid {pid} on this host is gone" in capsys.readouterr().err


def test_another_hosts_lock_is_stale_only_without_heartbeat(tmp_path: Path) -> None:
    path = tmp_path / ".lock"
    plant(path, {"host": "elsewhere.example", "pid": 1}, age=100)
    with pytest.raises(LockHeld, match="pid 1 on elsewhere.example"):
        lock(path, lock_stale_seconds=120).acquire()
    plant(path, {"host": "elsewhere.example", "pid": 1}, age=130)
    with lock(path, lock_stale_seconds=120).acquire() as held:
        assert held.held()


def test_break_lock_takes_a_live_lock_and_the_old_holder_notices(tmp_path: Path) -> None:
    path = tmp_path / ".lock"
    first = lock(path, "first").acquire()
    second = lock(path, "second").acquire(break_lock=True)
    assert second.held() and not first.held()
    with pytest.raises(LockLost):
        first.check()
    first.release()  # must not remove the second holder's lock
    assert second.held()
    second.release()
    assert not path.exists()


def test_the_heartbeat_refreshes_the_lock_and_a_waiter_gets_it_when_released(tmp_path: Path) -> None:
    path = tmp_path / ".lock"
    held = lock(path, lock_heartbeat_seconds=1, lock_stale_seconds=10).acquire()
    past = time.time() - 50
    os.utime(path, (past, past))
    time.sleep(1.6)
    assert time.time() - path.stat().st_mtime < 1.5, "heartbeat refreshed the modification time"
    threading.Timer(0.5, held.release).start()
    started = time.monotonic()
    with lock(path, "waiter").acquire(wait_seconds=20) as waited:
        assert waited.held() and 0.3 < time.monotonic() - started < 5


def test_lock_settings_are_checked_with_the_config() -> None:
    assert config_mod.load()["store"]["lock_stale_seconds"] == 900.0
    with pytest.raises(config_mod.ConfigError, match="lock_heartbeat_seconds .* at most a third"):
        config_mod.load(overrides={"store": {"lock_heartbeat_seconds": 400.0}})


def test_a_crafted_version_id_in_a_run_folder_is_refused(tmp_path: Path) -> None:
    ds, run = tmp_path / "datasets" / "d", tmp_path / "runs" / "c"
    run_version(ds, run, "c")
    record = json.loads((run / "version.json").read_text())
    (run / "version.json").write_text(json.dumps({**record, "version": "../../../../x"}))
    for read in (lambda: run_version(ds, run, "c"), lambda: reserved_version(run)):
        with pytest.raises(VersionError, match="'../../../../x' is not a version id"):
            read()
    (run / "version.json").write_text("{not json")
    with pytest.raises(VersionError, match="damaged"):
        run_version(ds, run, "c")


def test_an_abandoned_id_is_never_allocated_again(tmp_path: Path) -> None:
    ds = tmp_path / "datasets" / "d"
    first = run_version(ds, tmp_path / "runs" / "a", "a")
    (ds / "staging" / first.version / "version" / "part").mkdir(parents=True)
    abandon_staging(ds, first.version)
    assert not (ds / "staging" / first.version / "version").exists()
    assert run_version(ds, tmp_path / "runs" / "b", "b").version == "v0002"


def test_manifests_outside_the_store_or_naming_outside_paths_are_refused(tmp_path: Path, capsys) -> None:
    store = Store.open(tmp_path / "store")
    ds = store.dataset_dir("ja-web")
    publish_fake(ds, "v0001", None)
    outside = tmp_path / "m" / "manifest.json"
    outside.parent.mkdir()
    outside.write_text(json.dumps({**manifest_for("v0009", None), "dataset": "SECRET-OUTSIDE"}))
    code = main(["versions", "show", "../../m", "--store", str(store.root), "--dataset", "ja-web"])
    out, err = capsys.readouterr()
    assert code == 2 and "SECRET-OUTSIDE" not in out and "'../../m' is not a version id" in err
    (ds / "versions" / "v0002").symlink_to(outside.parent)
    with pytest.raises(VersionError, match="symbolic link"):
        read_manifest(ds, "v0002")
    bad = manifest_for("v0003", None)
    bad["shards"][0]["parquet"] = "../../../../etc/passwd"
    (ds / "versions" / "v0003").mkdir()
    (ds / "versions" / "v0003" / "manifest.json").write_text(json.dumps(bad))
    with pytest.raises(VersionError, match="a path outside the version"):
        read_manifest(ds, "v0003")
    assert read_manifest(ds, "v0001")["version"] == "v0001"


def test_inside_refuses_links_and_dot_dot(tmp_path: Path) -> None:
    (tmp_path / "store" / "runs").mkdir(parents=True)
    (tmp_path / "store" / "runs" / "x").symlink_to(tmp_path)
    with pytest.raises(StoreError, match="symbolic link"):
        inside(tmp_path / "store", tmp_path / "store" / "runs" / "x" / "f")
    with pytest.raises(StoreError, match=r"'\.\.'"):
        inside(tmp_path / "store", tmp_path / "store" / "runs" / ".." / ".." / "f")
    assert inside(tmp_path / "store", tmp_path / "store" / "runs" / "y") == tmp_path / "store" / "runs" / "y"
