"""The config schema: how a configurable value is declared (`Param`) and how user values are checked against the
declarations (`resolve`). It sits on the ground floor so that every stage (filters, pipeline rooms, jobs) declares
its keys with the same primitive, and `pipeline/config.py` only assembles the sections.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping


@dataclass(frozen=True)
class Param:
    """One configurable value of a filter or cleaner."""

    default: Any
    doc: str
    lo: float | None = None
    hi: float | None = None
    kind: type | tuple[type, ...] | None = None  # defaults to type(default)
    operational: bool = False  # changes how a run goes (retries, batching, logs), not what it produces

    def validate(self, where: str, value: Any) -> Any:
        """Return the value (ints widened to float where a float is expected) or raise ValueError naming `where`."""
        kind = self.kind or type(self.default)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and kind is not bool and not (isinstance(kind, tuple) and bool in kind):
            raise ValueError(f"{where}: expected {_kind_name(kind)}, got a boolean ({value!r})")
        if not isinstance(value, kind):
            raise ValueError(f"{where}: expected {_kind_name(kind)}, got {type(value).__name__} ({value!r})")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if isinstance(value, float) and math.isnan(value):
                raise ValueError(f"{where}: NaN is not allowed")
            if self.lo is not None and value < self.lo:
                raise ValueError(f"{where}: {value!r} is below the allowed minimum {self.lo}")
            if self.hi is not None and value > self.hi:
                raise ValueError(f"{where}: {value!r} is above the allowed maximum {self.hi}")
        return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    if isinstance(kind, tuple):
        return " or ".join(k.__name__ for k in kind)
    return {float: "a number", int: "an integer", str: "a string", bool: "true/false", list: "a list"}.get(
        kind, kind.__name__
    )


def resolve(owner: str, params: Mapping[str, Param], given: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with validated user values; unknown keys are refused with the known ones listed."""
    unknown = sorted(set(given) - set(params))
    if unknown:
        raise ValueError(f"{owner}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(params))}")
    out = {k: p.default for k, p in params.items()}
    for key, value in given.items():
        out[key] = params[key].validate(f"{owner}.{key}", value)
    return out
