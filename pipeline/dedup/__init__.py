"""MinHash near-dedup: signatures, LSH, connected components, the index of published versions."""
