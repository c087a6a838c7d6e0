"""The contract every filter and cleaner follows.

- `Cleaner.clean(text) -> text` changes text (boilerplate lines, normalisation). It never judges.
- `Filter.signals(doc) -> {signal: float}` measures. `Filter.rules` say how a signal and a threshold become a
  decision; `decide()` applies them. Signals and decisions are stored separately, so thresholds can change later.
- `Param` declares a configurable value (threshold or option) with its type, default, allowed range and a doc line;
  the config loader validates user config against these declarations before any work starts.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping


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


@dataclass(frozen=True)
class Rule:
    """Drop a document when `signal` is below (`op="min"`) or above (`op="max"`) the threshold param `param`.

    The reason recorded is `"<filter>.<name>"`. A NaN signal never fails a rule (nothing to judge).
    """

    name: str
    signal: str
    op: Literal["min", "max"]
    param: str

    def fails(self, value: float, threshold: float) -> bool:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        return value < threshold if self.op == "min" else value > threshold


class Doc:
    """A document as filters see it: text plus metadata, with a per-document cache so that expensive shared
    computations (fugashi tokens, line splits) are done once and reused by every filter."""

    __slots__ = ("text", "url", "host", "title", "_cache")

    def __init__(self, text: str, url: str = "", host: str = "", title: str = ""):
        self.text = text
        self.url = url
        self.host = host
        self.title = title
        self._cache: dict[str, Any] = {}

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """Compute once per document; filters share results through the key."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]


class Cleaner(ABC):
    """Changes text. Cleaners run before filters, in the chain's order."""

    name: str = ""
    params: Mapping[str, Param] = {}

    def __init__(self, options: Mapping[str, Any] | None = None):
        self.options = resolve(self.name, self.params, options or {})

    @abstractmethod
    def clean(self, text: str) -> str:
        """Return the cleaned text."""


class Filter(ABC):
    """Measures a document. Subclasses set `name`, `params`, `rules`, `signal_names` and implement `signals`."""

    name: str = ""
    params: Mapping[str, Param] = {}
    rules: tuple[Rule, ...] = ()
    signal_names: tuple[str, ...] = ()

    def __init__(self, options: Mapping[str, Any] | None = None):
        self.options = resolve(self.name, self.params, options or {})

    @abstractmethod
    def signals(self, doc: Doc) -> dict[str, float]:
        """Return one float per name in `signal_names`."""

    def decide(self, signals: Mapping[str, float], thresholds: Mapping[str, Any] | None = None) -> list[str]:
        """Reasons (`filter.rule`) for every failing rule, in rule order; empty means keep."""
        values = self.options if thresholds is None else thresholds
        return [f"{self.name}.{r.name}" for r in self.rules if r.fails(signals[r.signal], values[r.param])]


def resolve(owner: str, params: Mapping[str, Param], given: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with validated user values; unknown keys are refused with the known ones listed."""
    unknown = sorted(set(given) - set(params))
    if unknown:
        raise ValueError(f"{owner}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(params))}")
    out = {k: p.default for k, p in params.items()}
    for key, value in given.items():
        out[key] = params[key].validate(f"{owner}.{key}", value)
    return out


@dataclass
class Verdict:
    """The outcome of a chain on one document."""

    text: str
    signals: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    @property
    def keep(self) -> bool:
        return not self.reasons

    @property
    def reject_reason(self) -> str | None:
        return self.reasons[0] if self.reasons else None
