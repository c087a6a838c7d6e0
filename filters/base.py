"""The contract every filter and cleaner follows.

- `Cleaner.clean(text) -> text` changes text (boilerplate lines, normalisation). It never judges.
- `Filter.signals(doc) -> {signal: float}` measures. `Filter.rules` say how a signal and a threshold become a
  decision; `decide()` applies them. Signals and decisions are stored separately, so thresholds can change later.
- Options and thresholds are declared as `Param`s (jwc/schemas/config.py); the config loader validates user config
  against these declarations before any work starts.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping

from jwc.schemas.config import Param, resolve


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
