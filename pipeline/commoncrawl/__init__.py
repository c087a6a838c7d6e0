"""Common Crawl access: the release listings and the columnar-index selection of WARC records."""
