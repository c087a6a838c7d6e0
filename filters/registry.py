"""The chain's steps in the order they run. A new cleaner or filter becomes configurable by being listed here.

Cheap filters come first and fugashi-based ones late, so that the first failing reason is the cheapest to explain;
decontamination comes just before PII, whose masking
runs after its span cuts; PII comes last because it also masks the stored text.
"""
from __future__ import annotations

from typing import Any, Mapping, TypeVar

from jwc.filters.base import Cleaner, Filter
from jwc.filters.blocklist import FILTERS as _BLOCKLIST
from jwc.filters.classifier import FILTERS as _CLASSIFIER
from jwc.filters.cleaners import CLEANERS as _CLEANERS
from jwc.filters.composition import FILTERS as _COMPOSITION
from jwc.filters.decontam import FILTERS as _DECONTAM
from jwc.filters.junk import FILTERS as _JUNK
from jwc.filters.morphology import FILTERS as _MORPHOLOGY
from jwc.filters.ngwords import FILTERS as _NGWORDS
from jwc.filters.pii import FILTERS as _PII
from jwc.filters.repetition import FILTERS as _REPETITION
from jwc.filters.sentences import FILTERS as _SENTENCES
from jwc.schemas.config import filled

Step = TypeVar("Step", type[Cleaner], type[Filter])

CLEANERS: tuple[type[Cleaner], ...] = _CLEANERS
FILTERS: tuple[type[Filter], ...] = (
    *_BLOCKLIST, *_COMPOSITION, *_SENTENCES, *_REPETITION, *_JUNK, *_NGWORDS, *_MORPHOLOGY, *_CLASSIFIER, *_DECONTAM,
    *_PII,
)


def enabled(steps: tuple[Step, ...], tables: Mapping[str, Mapping[str, Any]]) -> list[tuple[Step, dict[str, Any]]]:
    """The steps a resolved `[cleaners.*]` or `[filters.*]` config runs, in chain order, each with its options
    (defaults filled in, `enabled` left out). The one place that decides what is on: the chain, `jwc redecide` and
    the stats all ask here, so they cannot disagree. A step without a table runs with its defaults."""
    out = []
    for step in steps:
        table = dict(tables.get(step.name, {}))
        if table.pop("enabled", True):
            out.append((step, filled(step.name, step.params, table)))
    return out
