#!/usr/bin/env bash
# Regenerates docs/fusectl.1, the manual page, from the same definitions as `fusectl --help`, with
# swift-argument-parser's GenerateManual plugin (offline: it builds its generate-manual tool and fusectl
# from the resolved checkouts, then runs `fusectl --experimental-dump-help`). Run it after changing any
# help text; a test checks that the committed page matches the binary's options.
# Usage: bash scripts/make_manpage.sh [DATE]   (DATE as YYYY-MM-DD for the page's .Dd; default today)
set -euo pipefail
cd "$(dirname "$0")/.."
date="${1:-$(date -u +%F)}"
swift package --disable-sandbox plugin generate-manual --date "$date"
page=.build/plugins/GenerateManual/outputs/fusectl/fusectl.1
# mdoc wants paragraph breaks as .Pp, not empty lines (man warns "Empty input line" otherwise).
sed -e 's/^$/.Pp/' "$page" > docs/fusectl.1
echo "wrote docs/fusectl.1 ($(wc -l < docs/fusectl.1) lines); view it with: man ./docs/fusectl.1"
