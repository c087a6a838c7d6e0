"""Reading inputs and writing the store: local paths, listings, HTTP ranges, the cc index, WARC files."""
