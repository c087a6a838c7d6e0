"""The config schema: how a configurable value is declared (`Param`) and how user values are checked against the
declarations (`resolve`). It sits on the ground floor so that every stage (filters, pipeline rooms, jobs) declares
its keys with the same primitive, and `pipeline/config.py` only assembles the sections.

Everything a value can be checked for is declared here (type, range, choices, element type and choices of a list,
a named per-value check) or as a cross-key `Check` of its section, so the loader checks each option once and the
code that uses an option never checks it again.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

Kind = type | tuple[type, ...]
# A check of one value (or of one list element): the problem in a few words, or None when fine.
ValueCheck = Callable[[Any], str | None]
# A check across the keys of one resolved section: the problem (naming the keys), or None.
Check = Callable[[Mapping[str, Any]], str | None]


@dataclass(frozen=True)
class Param:
    """One configurable value: its default, doc line and what a user value must be.

    `kind` is the value's type (defaults to the default's type); `lo`/`hi` bound a number; `choices` lists the
    allowed values (for a list: the allowed elements); `item` is the element type of a list; `check` is a named
    per-value (per-element for a list) check for what the others cannot say."""

    default: Any
    doc: str
    lo: float | None = None
    hi: float | None = None
    kind: Kind | None = None
    operational: bool = False  # changes how a run goes (retries, batching, logs), not what it produces
    choices: tuple[Any, ...] = ()
    item: Kind | None = None
    check: ValueCheck | None = None

    def validate(self, where: str, value: Any) -> Any:
        """Return the value (ints widened to float where a float is expected) or raise ValueError naming `where`."""
        value = _typed(where, value, self.kind or type(self.default))
        if isinstance(value, list):
            return [self._element(f"{where}[{i}]", v) for i, v in enumerate(value)]
        return self._element(where, value)

    def _element(self, where: str, value: Any) -> Any:
        """Range, choices and check of a scalar value or of one list element (typed by `item`)."""
        if self.item is not None:
            value = _typed(where, value, self.item)
        if _is_number(value):
            if isinstance(value, float) and math.isnan(value):
                raise ValueError(f"{where}: NaN is not allowed")
            if self.lo is not None and value < self.lo:
                raise ValueError(f"{where}: {value!r} is below the allowed minimum {self.lo}")
            if self.hi is not None and value > self.hi:
                raise ValueError(f"{where}: {value!r} is above the allowed maximum {self.hi}")
        if self.choices and value not in self.choices:
            raise ValueError(f"{where}: {value!r} is not one of {', '.join(map(repr, self.choices))}")
        problem = self.check(value) if self.check else None
        if problem:
            raise ValueError(f"{where}: {value!r} {problem}")
        return value

    def describe(self) -> str:
        """What a value must be, for `jwc config defaults`: element type, bounds, choices ('' when only its type)."""
        each = "each " if self.item is not None else ""
        parts = [f"list of {_plural(self.item)}"] if self.item is not None else []
        if self.lo is not None or self.hi is not None:
            parts.append(f"{each}{'' if self.lo is None else self.lo} .. {'' if self.hi is None else self.hi}")
        if self.choices:
            parts.append(f"{each}one of {', '.join(map(repr, self.choices))}")
        if self.check is not None and self.check.__doc__:
            parts.append(f"{each}{self.check.__doc__}")
        return "; ".join(parts)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _typed(where: str, value: Any, kind: Kind) -> Any:
    """`value` if it is of `kind` (an int widened where a float is expected); booleans are never numbers."""
    if kind is float and _is_number(value):
        value = float(value)
    if isinstance(value, bool) and kind is not bool and not (isinstance(kind, tuple) and bool in kind):
        raise ValueError(f"{where}: expected {_kind_name(kind)}, got a boolean ({value!r})")
    if not isinstance(value, kind):
        raise ValueError(f"{where}: expected {_kind_name(kind)}, got {type(value).__name__} ({value!r})")
    return value


def _plural(kind: Kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join({float: "numbers", int: "integers", str: "strings", bool: "booleans"}.get(k, k.__name__)
                       for k in kinds)


def _kind_name(kind: Kind) -> str:
    if isinstance(kind, tuple):
        return " or ".join(k.__name__ for k in kind)
    return {float: "a number", int: "an integer", str: "a string", bool: "true/false", list: "a list"}.get(
        kind, kind.__name__
    )


def fullmatch(pattern: str, meaning: str) -> ValueCheck:
    """A per-value check: the string must match `pattern` entirely; `meaning` says what that is in words."""
    compiled = re.compile(pattern, re.DOTALL)

    def check(value: Any) -> str | None:
        return None if compiled.fullmatch(value) else f"is not {meaning}"

    check.__doc__ = meaning  # shown by `jwc config defaults`
    return check


def resolve(owner: str, params: Mapping[str, Param], given: Mapping[str, Any], checks: tuple[Check, ...] = ()
            ) -> dict[str, Any]:
    """Defaults overlaid with validated user values, then the section's cross-key checks; unknown keys are
    refused with the known ones listed. Every message is one line naming `owner` and the key."""
    _refuse_unknown(owner, params, given)
    out = {k: p.default for k, p in params.items()}
    for key, value in given.items():
        out[key] = params[key].validate(f"{owner}.{key}", value)
    for check in checks:
        problem = check(out)
        if problem:
            raise ValueError(f"{owner}: {problem}")
    return out


def filled(owner: str, params: Mapping[str, Param], given: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults overlaid with values the config loader already validated (a resolved section, or part of one
    handed over from Python): unknown keys are refused, values are not checked a second time."""
    given = given or {}
    _refuse_unknown(owner, params, given)
    return {**{k: p.default for k, p in params.items()}, **given}


def _refuse_unknown(owner: str, params: Mapping[str, Param], given: Mapping[str, Any]) -> None:
    unknown = sorted(set(given) - set(params))
    if unknown:
        raise ValueError(f"{owner}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(params))}")
