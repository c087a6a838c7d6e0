"""Cleaners then filters, in registry order, built once per worker process from resolved config tables.

The chain is what a Spark task calls per document. It also knows how to mask PII: any enabled filter with a
`mask(text)` method rewrites the text that is stored, after every filter has measured the unmasked text.
"""
from __future__ import annotations

import time
from typing import Any, Mapping

from jwc.filters.base import Cleaner, Doc, Filter, Verdict
from jwc.filters.registry import CLEANERS, FILTERS, enabled


class Chain:
    def __init__(self, cleaners: list[Cleaner], filters: list[Filter]):
        self.cleaners = cleaners
        self.filters = filters
        self.maskers = [f for f in filters if callable(getattr(f, "mask", None))]
        self.cpu_seconds: dict[str, float] = {f.name: 0.0 for f in filters}  # measuring + deciding, per filter

    @classmethod
    def from_config(cls, cleaners: Mapping[str, Mapping[str, Any]], filters: Mapping[str, Mapping[str, Any]]
                    ) -> "Chain":
        """Instantiate the enabled steps; tables are the resolved `[cleaners.*]` / `[filters.*]` config."""
        return cls(
            [c(options) for c, options in enabled(CLEANERS, cleaners)],
            [f(options) for f, options in enabled(FILTERS, filters)],
        )

    @property
    def signal_names(self) -> list[str]:
        return [name for f in self.filters for name in f.signal_names]

    def take_cpu_seconds(self) -> dict[str, float]:
        """CPU seconds per filter since the last call (a task reports them per batch), then zeroed."""
        spent, self.cpu_seconds = self.cpu_seconds, {name: 0.0 for name in self.cpu_seconds}
        return spent

    def clean(self, text: str) -> str:
        for cleaner in self.cleaners:
            text = cleaner.clean(text)
        return text

    def run(self, text: str, url: str = "", host: str = "", title: str = "") -> Verdict:
        """Clean, measure with every filter, decide, then mask; all failing rules are recorded in order."""
        doc = Doc(self.clean(text), url=url, host=host, title=title)
        verdict = Verdict(text=doc.text)
        for f in self.filters:
            started = time.process_time()
            signals = f.signals(doc)
            verdict.signals.update(signals)
            verdict.reasons.extend(f.decide(signals))
            self.cpu_seconds[f.name] += time.process_time() - started
        for masker in self.maskers:
            verdict.text, _ = masker.mask(verdict.text)
        return verdict
