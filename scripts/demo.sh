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
# TOY TOKENIZER, demo only. A dataset's tokenizer is pinned for ever, so a real store pins one deliberately, on a
# sample large enough for the vocabulary (`jwc train-tokenizer --input ... --pin`, docs/tokens.md), and the first
# nightly of a store without one stops before tokenizing. The sample crawl (~200 documents) is far too small for
# that, so the demo lets its first nightly train a 4,000-piece tokenizer on its own shards and pin it although it
# fails the size checks (allow_toy); the run prints "PINNED TOY TOKENIZER".
cat > build/demo-toy-tokenizer.toml <<'TOML'
[tokenize]
on_no_pin = "train"
vocab_size = 4000
allow_toy = true
TOML
exec .venv/bin/jwc nightly --crawl-id SAMPLE-2026-48 --input build/sample/sample.warc.gz --store build/store \
    --config build/demo-toy-tokenizer.toml "$@"
