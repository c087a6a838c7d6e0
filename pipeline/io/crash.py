"""The crash-test hook: tests kill a run at a named point to check that a rerun recovers from it."""
from __future__ import annotations

import os
import signal

DIE_ENV = "JWC_TEST_DIE_AT"


def die_at(point: str) -> None:
    """SIGKILL this process at the named point when JWC_TEST_DIE_AT=<point> (tests only).

    Points: stage:<name>:before-rename (a stage's output complete in <name>.partial), stage:<name>:after-rename
    (renamed, not marked done), tokenize:written (bins written, stage not marked done), publish:manifest (staged
    version complete, not renamed), publish:renamed (version visible, dedup index not updated), publish:uploaded (a Hadoop store: the version
    copied into its staging folder there, not renamed), publish:pushed (a Hadoop store: renamed there, index not
    updated).
    """
    if os.environ.get(DIE_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
