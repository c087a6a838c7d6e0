"""The extract stage's per-record work: charsets, the Japanese pre-filter, main text, language ID."""
