"""The library the Spark jobs use: I/O, extraction, language ID, dedup, tokenization, versions, stats, config."""
