"""The chain's steps in the order they run. A new cleaner or filter becomes configurable by being listed here.

Cheap filters come first and fugashi-based ones late, so that the first failing reason is the cheapest to explain;
PII comes last because it also masks the stored text.
"""
from __future__ import annotations

from filters.base import Cleaner, Filter
from filters.blocklist import FILTERS as _BLOCKLIST
from filters.classifier import FILTERS as _CLASSIFIER
from filters.cleaners import CLEANERS as _CLEANERS
from filters.composition import FILTERS as _COMPOSITION
from filters.junk import FILTERS as _JUNK
from filters.morphology import FILTERS as _MORPHOLOGY
from filters.ngwords import FILTERS as _NGWORDS
from filters.pii import FILTERS as _PII
from filters.repetition import FILTERS as _REPETITION
from filters.sentences import FILTERS as _SENTENCES

CLEANERS: tuple[type[Cleaner], ...] = _CLEANERS
FILTERS: tuple[type[Filter], ...] = (
    *_BLOCKLIST, *_COMPOSITION, *_SENTENCES, *_REPETITION, *_JUNK, *_NGWORDS, *_MORPHOLOGY, *_CLASSIFIER, *_PII,
)
