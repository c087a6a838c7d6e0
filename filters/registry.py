"""The chain's steps in the order they run. A new cleaner or filter becomes configurable by being listed here.

Cheap filters come first and fugashi-based ones late, so that the first failing reason is the cheapest to explain;
PII comes last because it also masks the stored text.
"""
from __future__ import annotations

from jwc.filters.base import Cleaner, Filter
from jwc.filters.blocklist import FILTERS as _BLOCKLIST
from jwc.filters.classifier import FILTERS as _CLASSIFIER
from jwc.filters.cleaners import CLEANERS as _CLEANERS
from jwc.filters.composition import FILTERS as _COMPOSITION
from jwc.filters.junk import FILTERS as _JUNK
from jwc.filters.morphology import FILTERS as _MORPHOLOGY
from jwc.filters.ngwords import FILTERS as _NGWORDS
from jwc.filters.pii import FILTERS as _PII
from jwc.filters.repetition import FILTERS as _REPETITION
from jwc.filters.sentences import FILTERS as _SENTENCES

CLEANERS: tuple[type[Cleaner], ...] = _CLEANERS
FILTERS: tuple[type[Filter], ...] = (
    *_BLOCKLIST, *_COMPOSITION, *_SENTENCES, *_REPETITION, *_JUNK, *_NGWORDS, *_MORPHOLOGY, *_CLASSIFIER, *_PII,
)
