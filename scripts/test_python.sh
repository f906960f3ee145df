#!/usr/bin/env bash
# The Python package's tests (python/tests) against this checkout's release build: libfusectl-c.so (built
# here) and the fusectl binary ($FUSECTL_BIN, which scripts/test.sh builds), every result compared bit for
# bit. Nothing comes from PyPI: Debian's python3 with python3-numpy and python3-pytest (scripts/setup.sh).
# Without pytest the run fails under CI=true and is skipped, saying so, otherwise.
# Usage: bash scripts/test_python.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
python=""
for candidate in /usr/bin/python3 python3; do
    if "$candidate" -c 'import numpy, pytest' >/dev/null 2>&1; then python="$candidate"; break; fi
done
if [ -z "$python" ]; then
    ci="$(printf '%s' "${CI:-}" | tr '[:upper:]' '[:lower:]')"
    if [ "$ci" = "true" ] || [ "$ci" = "1" ]; then  # as the Swift tests read CI (TestSupport.isContinuousIntegration)
        echo "test_python: error: no python3 with numpy and pytest (run scripts/setup.sh)" >&2
        exit 1
    fi
    echo "test_python: SKIPPED: no python3 with numpy and pytest (run scripts/setup.sh)" >&2
    exit 0
fi
swift build -c release --static-swift-stdlib --product fusectl-c
export FUSECTL_LIB="$PWD/.build/release/libfusectl-c.so"
export FUSECTL_BIN="${FUSECTL_BIN:-$PWD/.build/release/fusectl}"
# -p no:cacheprovider: no .pytest_cache in the tree. pytest exits non-zero on failures and on "no tests".
"$python" -m pytest -p no:cacheprovider -q python/tests "$@"
