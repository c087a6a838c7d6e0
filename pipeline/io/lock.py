"""Locks in the store: one per run folder (a run of a crawl id) and one per dataset (publishing, index compaction).

A lock is a small JSON file created exclusively (owner, host, pid, start time, a random token); its modification
time is the holder's heartbeat, refreshed by a background thread. Another process refuses at once (or waits, for
publishing) with one line naming the holder. A lock is stale, and taken over with a note on stderr, when its holder
ran on this host and its pid is gone, or when its heartbeat is older than `[store] lock_stale_seconds` (a holder on
another host that died). `--break-lock` takes a lock whatever its state: for a holder known to be dead.

The file operations sit behind `LockFile`, so a store on a Hadoop FileSystem can provide them (create with
overwrite=false, read, setTimes, rename) without changing the protocol.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping, Protocol

from jwc.pipeline.errors import UserError
from jwc.schemas.config import Param

LOCK_PARAMS: dict[str, Param] = {
    "lock_stale_seconds": Param(900.0, "A lock whose holder has not refreshed it for this long is stale and is taken "
                                       "over (a holder on another host that died; on the same host a dead pid is "
                                       "noticed at once).", 10, 7 * 86400, operational=True),
    "lock_heartbeat_seconds": Param(30.0, "How often a lock holder refreshes its lock; at most a third of "
                                          "lock_stale_seconds.", 1, 86400, operational=True),
    "publish_wait_seconds": Param(3600.0, "How long publishing (and `jwc index compact`) waits for another run that "
                                          "holds the dataset's lock before refusing; a run folder's lock is never "
                                          "waited for.", 0, 7 * 86400, operational=True),
}


def lock_problem(values: Mapping[str, Any]) -> str | None:
    """The config loader's cross-key check of [store]: a heartbeat slower than a third of the stale age would let
    a live holder's lock look stale."""
    if values["lock_heartbeat_seconds"] * 3 > values["lock_stale_seconds"]:
        return (f"lock_heartbeat_seconds ({values['lock_heartbeat_seconds']}) must be at most a third of "
                f"lock_stale_seconds ({values['lock_stale_seconds']})")
    return None


class LockHeld(UserError):
    """Another live process holds the lock; the message names it."""


class LockLost(RuntimeError):
    """Our lock was taken over (broken or judged stale) while we held it: stop before changing anything."""


@dataclass(frozen=True)
class Holder:
    """What a lock file says about the process holding it."""

    owner: str
    host: str
    pid: int
    started: str
    token: str


class LockFile(Protocol):
    """The file operations a lock needs; each must be atomic on the store's file system."""

    def create(self, data: bytes) -> bool:
        """Create the file with `data` unless it exists; True when created."""

    def read(self) -> tuple[bytes, float] | None:
        """(contents, last heartbeat as epoch seconds), or None when there is no lock."""

    def touch(self) -> None:
        """Set the heartbeat to now."""

    def take_away(self) -> bytes | None:
        """Move the lock file aside atomically; its contents, or None when another process moved it first."""

    def put_back(self, data: bytes) -> None:
        """Restore a lock moved aside by mistake, unless a new one exists already."""


class PosixLockFile:
    """LockFile on a POSIX file system (local or shared: NFSv3+ honours O_EXCL)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def create(self, data: bytes) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        return True

    def read(self) -> tuple[bytes, float] | None:
        try:
            with open(self.path, "rb") as fh:
                return fh.read(), os.fstat(fh.fileno()).st_mtime
        except FileNotFoundError:
            return None

    def touch(self) -> None:
        os.utime(self.path)

    def take_away(self) -> bytes | None:
        aside = self.path.with_name(f"{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}.broken")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return None
        data = aside.read_bytes()
        aside.unlink()
        return data

    def put_back(self, data: bytes) -> None:
        self.create(data)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class StoreLock:
    """An exclusive lock on one thing in the store (`what` names it in messages), held by this process."""

    def __init__(self, file: LockFile, what: str, owner: str, params: Mapping[str, Any]) -> None:
        self.file, self.what, self.owner = file, what, owner
        self.stale_seconds = float(params["lock_stale_seconds"])
        self.heartbeat_seconds = float(params["lock_heartbeat_seconds"])
        self.holder: Holder | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False

    def acquire(self, wait_seconds: float = 0.0, break_lock: bool = False) -> "StoreLock":
        """Take the lock, taking over a stale one (or any, with `break_lock`); wait up to `wait_seconds` for a live
        holder, then refuse with LockHeld naming it."""
        me = Holder(self.owner, socket.gethostname(), os.getpid(), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    secrets.token_hex(8))
        data = json.dumps(asdict(me), sort_keys=True).encode()
        deadline = time.monotonic() + wait_seconds
        while not self.file.create(data):
            found = self.file.read()
            if found is None:
                continue  # released between our two calls
            raw, beat = found
            other = _parse(raw)
            why = "--break-lock" if break_lock else self._stale_reason(other, beat)
            if why is not None:
                self._take_over(raw, other, why)
                continue
            if time.monotonic() >= deadline:
                raise LockHeld(f"{self.what} is locked by {_describe(other, beat)}: wait for it to finish, or if that "
                               "process is gone, rerun with --break-lock")
            time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
        self.holder = me
        self._thread = threading.Thread(target=self._heartbeat, name=f"lock {self.what}", daemon=True)
        self._thread.start()
        return self

    def _stale_reason(self, other: Holder | None, beat: float) -> str | None:
        """Why a lock found in place may be taken over, or None while its holder may be alive."""
        if other is None:
            return "unreadable lock file" if time.time() - beat > self.heartbeat_seconds * 3 else None
        if other.host == socket.gethostname() and not _pid_alive(other.pid):
            return f"pid {other.pid} on this host is gone"
        if time.time() - beat > self.stale_seconds:
            return f"no heartbeat for {time.time() - beat:.0f}s (lock_stale_seconds = {self.stale_seconds:.0f})"
        return None

    def _take_over(self, raw: bytes, other: Holder | None, why: str) -> None:
        """Move the judged lock aside; when another process replaced it meanwhile, put that one back."""
        taken = self.file.take_away()
        if taken is None:
            return
        if taken != raw:
            self.file.put_back(taken)
            return
        print(f"jwc: took over the lock of {self.what} from {_describe(other, None)} ({why})", file=sys.stderr,
              flush=True)

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.heartbeat_seconds):
            if not self.held():
                self.lost = True
                print(f"jwc: WARNING: the lock of {self.what} was taken over by another process", file=sys.stderr,
                      flush=True)
                return
            try:
                self.file.touch()
            except OSError:
                continue

    def held(self) -> bool:
        """Whether the lock file is still ours."""
        found = self.file.read()
        return self.holder is not None and found is not None and _parse(found[0]) == self.holder

    def check(self) -> None:
        """Raise LockLost unless the lock is still ours: called before every step that changes what others see."""
        if self.lost or not self.held():
            raise LockLost(f"the lock of {self.what} was taken over by another process; nothing more was changed")

    def release(self) -> None:
        """Stop the heartbeat and remove the lock file, if it is still ours."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.held():
            taken = self.file.take_away()
            if taken is not None and _parse(taken) != self.holder:
                self.file.put_back(taken)
        self.holder = None

    def __enter__(self) -> "StoreLock":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _parse(raw: bytes) -> Holder | None:
    try:
        return Holder(**json.loads(raw))
    except (ValueError, TypeError):
        return None


def _describe(holder: Holder | None, beat: float | None) -> str:
    if holder is None:
        return "an unreadable lock file"
    age = "" if beat is None else f", last heartbeat {time.time() - beat:.0f}s ago"
    return f"{holder.owner} (pid {holder.pid} on {holder.host}, since {holder.started}{age})"
