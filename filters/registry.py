"""The chain's steps in the order they run. A new cleaner or filter becomes configurable by being listed here."""
from __future__ import annotations

from filters.base import Cleaner, Filter

CLEANERS: tuple[type[Cleaner], ...] = ()
FILTERS: tuple[type[Filter], ...] = ()
