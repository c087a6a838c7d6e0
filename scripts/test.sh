#!/usr/bin/env bash
# Set up, then run the whole test suite (real Spark in local mode, real warcio, trafilatura, fastText, fugashi).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
