#!/usr/bin/env bash
# Builds the NpyIO libFuzzer target (swiftc -sanitize=fuzzer,address over the NpyIO sources plus
# FuzzEntry.swift) and runs it for SECONDS (default 60), seeded from fixtures/npy.
# Usage: scripts/fuzz/run.sh [SECONDS] [extra libFuzzer flags...]
# Findings (crash-*, leak-*, timeout-*) land in .build/fuzz/findings/; the grown corpus in .build/fuzz/corpus/.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
shift || true
out=.build/fuzz
mkdir -p "$out/corpus" "$out/findings"
swiftc -sanitize=fuzzer,address -parse-as-library -module-name NpyIO -O -g \
    -I Sources/CZlib -lz \
    Sources/NpyIO/*.swift Sources/NpyIO/Internal/*.swift scripts/fuzz/FuzzEntry.swift \
    -o "$out/npyio-fuzz"
find fixtures/npy -name '*.np[yz]' -size -64k -exec cp {} "$out/corpus/" \;
jobs="${FUZZ_JOBS:-1}"
exec "$out/npyio-fuzz" "$out/corpus" -max_total_time="$seconds" -max_len=16384 -rss_limit_mb=2048 \
    -artifact_prefix="$out/findings/" -print_final_stats=1 -jobs="$jobs" -workers="$jobs" "$@"
