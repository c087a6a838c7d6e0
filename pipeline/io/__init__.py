"""Reading inputs and writing the store: local paths, HTTP ranges, WARC files, Hadoop file systems, locks."""
