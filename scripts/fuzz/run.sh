#!/usr/bin/env bash
# Builds the NpyIO libFuzzer target (swiftc -sanitize=fuzzer,address over the NpyIO sources plus
# FuzzEntry.swift) and runs it for SECONDS (default 60), seeded from fixtures/npy.
# Usage: scripts/fuzz/run.sh [SECONDS] [extra libFuzzer flags...]
# Findings (crash-*, leak-*, timeout-*, oom-*) land in .build/fuzz/findings/; the grown corpus stays in
# .build/fuzz/corpus/ and seeds the next run.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
shift || true
out=.build/fuzz
mkdir -p "$out/corpus" "$out/findings"
# compile a snapshot, so that editing the sources meanwhile cannot break the build
rm -rf "$out/src" && mkdir -p "$out/src"
cp Sources/NpyIO/*.swift Sources/NpyIO/Internal/*.swift scripts/fuzz/FuzzEntry.swift "$out/src/"
swiftc -sanitize=fuzzer,address -parse-as-library -module-name NpyIO -O -g \
    -I Sources/CZlib -lz "$out"/src/*.swift -o "$out/npyio-fuzz" 2> "$out/build.log" || { cat "$out/build.log"; exit 1; }
find fixtures/npy -name '*.np[yz]' -size -64k -exec cp {} "$out/corpus/" \;
# FUZZ_JOBS=N runs N parallel workers (their logs go to .build/fuzz/fuzz-*.log)
parallel=()
if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then parallel=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS"); fi
cd "$out"
exec ./npyio-fuzz corpus -max_total_time="$seconds" -max_len=16384 -rss_limit_mb=2048 \
    -artifact_prefix=findings/ -print_final_stats=1 "${parallel[@]}" "$@"
