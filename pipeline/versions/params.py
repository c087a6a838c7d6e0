"""The [shards] and [publish] config sections: how shards are cut and what a published version holds."""
from __future__ import annotations

from typing import Any, Mapping

from jwc.schemas.config import Param

DEFAULT_SHARD_SIGNALS = ["comp_japanese_frac", "comp_hiragana_frac", "sent_avg_len", "rep_dup_line_frac",
                         "junk_symbol_frac", "junk_compression_ratio", "morph_noun_frac", "ng_score", "ng_adult",
                         "pii_total"]
SHARDS_PARAMS: dict[str, Param] = {
    "shard_text_bytes": Param(512 * 2**20, "Target UTF-8 text bytes per shard before compression; shard count = "
                                           "ceil(total text bytes / this). A zstd shard of Japanese text is "
                                           "about 0.2-0.35 of it on disk.", 1, 2**40),
    "row_group_bytes": Param(32 * 2**20, "Uncompressed bytes per Parquet row group (text + 256 per row): the unit "
                                         "streaming readers (datasets, DuckDB, Polars) load at once.",
                             2**12, 2**31 - 1),
    "signals": Param(DEFAULT_SHARD_SIGNALS, "Filter signals copied into the shards as sig_<name> columns (doubles) "
                                            "for trainers to sample by; null where that filter did not run.",
                     kind=list, item=str),
}
PUBLISH_PARAMS: dict[str, Param] = {
    "merge_tokens": Param(False, "Also write tokens/all.bin/.idx: every shard's tokens concatenated in manifest "
                                 "order, for trainers that want one file pair (doubles the token bytes).", kind=bool),
    "license": Param("other", "Dataset card: the licence id written in README.md's header (Hugging Face `license`). "
                              "Web text keeps its authors' copyright, so the default is 'other'.", kind=str),
    "license_note": Param("Text extracted from Common Crawl (https://commoncrawl.org/terms-of-use); every "
                          "document keeps its original authors' copyright. Use for research and model training "
                          "under the terms that apply to you.",
                          "Dataset card: the licence and terms paragraph.", kind=str),
    "description": Param("", "Dataset card: a paragraph saying what the dataset is for (empty: a generic one).",
                         kind=str),
    "maintainer": Param("", "Dataset card: who to contact about the dataset (empty: not stated).", kind=str),
}


def shards_problem(values: Mapping[str, Any]) -> str | None:
    """The config loader's cross-key check of [shards]: signal names no filter produces (a typo would give an
    all-null column), or a name listed twice."""
    from jwc.filters.registry import FILTERS  # noqa: PLC0415 - only the driver checks; executors never need it

    known = {s for f in FILTERS for s in f.signal_names}
    signals = values["signals"]
    unknown = [s for s in signals if s not in known]
    if unknown:
        return f"signals: unknown signal(s) {unknown}; known: {', '.join(sorted(known))}"
    if len(set(signals)) != len(signals):
        return "signals: a signal is listed twice"
    return None
