#!/usr/bin/env bash
# The nightly run on the bundled sample crawl: generate the sample, run every stage into build/store.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p build/sample
.venv/bin/jwc sample build/sample/sample.warc.gz >/dev/null
# build/store is the demo's scratch store: started afresh, so every demo publishes v0001 (a second run into the
# same store would find every document already published and stop).
rm -rf build/store
exec .venv/bin/jwc nightly --crawl-id SAMPLE-2026-48 --input build/sample/sample.warc.gz --store build/store "$@"
