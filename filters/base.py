"""The contract every filter and cleaner follows.

- `Cleaner.clean(text) -> text` changes text (boilerplate lines, normalisation). It never judges.
- `Filter.signals(doc) -> {signal: float}` measures. `Filter.rules` say how a signal and a threshold become a
  decision; `decide()` applies them. Signals and decisions are stored separately, so thresholds can change later.
- Options and thresholds are declared as `Param`s (jwc/schemas/config.py); the config loader validates user config
  against these declarations before any work starts, so constructors only fill in defaults and never check again.
- `RULE_OPS` is the one table a rule's comparison comes from, in Python (`Rule.fails`) and Spark SQL (`Rule.sql`).
"""
from __future__ import annotations

import math
import operator
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping

from jwc.schemas.config import Param, filled


# The one table both decisions come from: op -> (Python comparison, Spark SQL operator). `Rule.fails` (the filter
# stage) and `Rule.sql` (`jwc redecide`) are generated from it, with the same NaN/null rule, so they cannot disagree.
RULE_OPS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "min": (operator.lt, "<"),  # fails below the threshold
    "max": (operator.gt, ">"),  # fails above the threshold
}


@dataclass(frozen=True)
class Rule:
    """Drop a document when `signal` is below (`op="min"`) or above (`op="max"`) the threshold param `param`.

    The reason recorded is `"<filter>.<name>"`. A NaN or missing signal never fails a rule (nothing to judge);
    a signal equal to the threshold passes.
    """

    name: str
    signal: str
    op: Literal["min", "max"]
    param: str

    def fails(self, value: float | None, threshold: float) -> bool:
        """The filter stage's decision for one document."""
        if value is None or math.isnan(value):
            return False
        return RULE_OPS[self.op][0](value, threshold)

    def sql(self, column: str, threshold: float) -> str:
        """The same decision as a Spark SQL condition over a stored signal column (true = fails). Spark orders NaN
        above every number, so NaN is excluded explicitly; the threshold is a double literal, never a decimal."""
        col = f"`{column}`"
        return (f"({col} IS NOT NULL AND NOT isnan({col}) AND "
                f"{col} {RULE_OPS[self.op][1]} CAST('{float(threshold)!r}' AS DOUBLE))")


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
        self.options = filled(self.name, self.params, options)

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
        self.options = filled(self.name, self.params, options)

    @abstractmethod
    def signals(self, doc: Doc) -> dict[str, float]:
        """Return one float per name in `signal_names`."""

    def decide(self, signals: Mapping[str, float], thresholds: Mapping[str, Any] | None = None) -> list[str]:
        """Reasons (`filter.rule`) for every failing rule, in rule order; empty means keep."""
        return self.reasons(signals, self.options if thresholds is None else thresholds)

    @classmethod
    def reasons(cls, signals: Mapping[str, float | None], thresholds: Mapping[str, Any]) -> list[str]:
        """`decide` without an instance (no models or dictionaries loaded): what `jwc redecide` re-applies."""
        return [f"{cls.name}.{r.name}" for r in cls.rules if r.fails(signals[r.signal], thresholds[r.param])]


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
