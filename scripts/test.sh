#!/usr/bin/env bash
# The whole test suite: installs build dependencies, builds fusectl in release mode (the CLI tests run that
# binary), checks the README's cheap claims (scripts/check_readme.sh), runs the Python package's tests
# (scripts/test_python.sh), then runs every Swift test.
# Usage: bash scripts/test.sh [extra `swift test` arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# --static-swift-stdlib: the Swift runtime and Foundation linked in, no dynamic binding at start-up
# (about 4 ms of a one-step run; README "Performance").
swift build -c release --static-swift-stdlib --product fusectl
export FUSECTL_BIN="$PWD/.build/release/fusectl"
# The README's cheap claims (commands shown, the example's printed output) against this binary.
bash scripts/check_readme.sh
# The Python package (python/) over the C library, against this binary.
bash scripts/test_python.sh
swift test "$@"
