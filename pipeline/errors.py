"""Errors that mean "the user asked for something that cannot be done": the CLI prints them as one line."""
from __future__ import annotations

import errno
import re


class UserError(ValueError):
    """A refusal with a message that names the problem (bad config, missing input, not a store, ...)."""


# Failures of the machine, not of the program: a person fixes them (free space, remount, chmod) and reruns.
_FIXES = {
    errno.ENOSPC: "free space on that file system, then rerun the same command (finished stages are kept)",
    errno.EDQUOT: "raise the quota or free space, then rerun the same command (finished stages are kept)",
    errno.EROFS: "the store must be on a writable file system",
    errno.EACCES: "check the folder's permissions for this user",
    errno.ENAMETOOLONG: "use a shorter path or name",
}
# How the JVM reports the same failures inside Spark's exceptions (IOException messages carry strerror).
_JAVA = {"No space left on device": errno.ENOSPC, "Disk quota exceeded": errno.EDQUOT,
         "Read-only file system": errno.EROFS, "Permission denied": errno.EACCES}
_JAVA_PATH = re.compile(r"(/[^\s:()]+)[ :(]+(?:" + "|".join(_JAVA) + ")")


def machine_failure(exc: BaseException) -> str | None:
    """One line for a failure the user fixes on the machine (full disk, read-only or forbidden folder, name too
    long), from a Python OSError or a Spark/py4j exception whose Java cause is one; None for anything else."""
    if isinstance(exc, OSError) and exc.errno in _FIXES:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}; {_FIXES[exc.errno]}"
    if not type(exc).__module__.startswith(("py4j", "pyspark")):
        return None
    text = str(exc)
    for message, code in _JAVA.items():
        if message in text:
            path = _JAVA_PATH.search(text)
            where = f" (writing {path.group(1)})" if path else " (the store or Spark's local folder)"
            return f"{message}{where}; {_FIXES[code]}"
    return None
