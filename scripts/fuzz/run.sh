#!/usr/bin/env bash
# libFuzzer targets for fusectl's readers (swiftc -sanitize=fuzzer,address), built from a snapshot of
# the sources and run for SECONDS each (default 60):
#   npy      the .npy parser: from memory, memory-mapped from a file, as a stream through a pipe
#   npz      the .npz (zip) reader: directory, stored and deflated members, CRC, zip-bomb limits
#   safetensors  the .safetensors reader: header length, strict JSON header, dtypes, shapes, offsets, metadata
#   weights  the weights loader: a fuzzed weights .npz against a fixed tiny configuration, then a forward pass
#   inputs   `fuse --batch` validation: a fuzzed bundle .npz against a tiny model (InputFiles, checkFinite,
#            the reference forward pass on capped sizes)
# weights and inputs also take a stream of .npy arrays (any input not starting with "PK"), which they
# pack into the archive themselves with correct CRCs, so that mutations reach headers and values.
# Usage: scripts/fuzz/run.sh [SECONDS] [TARGET|all] [extra libFuzzer flags...]
#        scripts/fuzz/run.sh replay     runs every target once over fixtures/regressions/TARGET/*
# Seeds come from fixtures/ (fixtures/npy, fixtures/golden, fixtures/fuzz, fixtures/regressions); each
# target's grown corpus stays in .build/fuzz/TARGET/corpus and seeds the next run. Findings (crash-*,
# leak-*, timeout-*, oom-*) land in .build/fuzz/TARGET/findings/; a line per run goes to
# .build/fuzz/summary.tsv (date, target, seconds, executions, new units, findings).
# Every finding becomes a regression input under fixtures/regressions/TARGET/ (see
# Tests/FusectlCLITests/FaultRegressionTests.swift).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
all_targets=(npy npz safetensors weights inputs)
mode="${1:-60}"
target="${2:-all}"
shift $(( $# < 2 ? $# : 2 ))
out=.build/fuzz
mkdir -p "$out/modules" "$out/lib"

flags=(-sanitize=fuzzer,address -O -g -parse-as-library -I Sources/CZlib -I "$out/modules" -I "$out/modules/FusionKernels"
       -I "$out/modules/CRCFold")

# build_c_library NAME: Sources/NAME's C files (snapshot) -> $out/lib/libNAME.a plus a module map over its
# include/ folder (what SwiftPM generates for a C target); skipped when unchanged
build_c_library() {
    local name=$1 snapshot="$out/src/$1"
    rm -rf "$snapshot" && mkdir -p "$snapshot"
    cp -R "Sources/$name/." "$snapshot/"
    local sum
    sum=$(find "$snapshot" -type f -print0 | sort -z | xargs -0 cat | sha1sum | cut -d' ' -f1)
    if [ -f "$out/lib/lib$name.a" ] && [ "$(cat "$out/lib/$name.sum" 2>/dev/null)" = "$sum" ]; then return; fi
    echo "building $name (C, fuzzer-no-link, address)" >&2
    rm -rf "$out/obj/$name" && mkdir -p "$out/obj/$name" "$out/modules/$name"
    local file objects=()
    while IFS= read -r -d '' file; do
        local object="$out/obj/$name/$(echo "${file#$snapshot/}" | tr / _).o"
        clang -O2 -g -fsanitize=fuzzer-no-link,address -I "$snapshot/include" -c "$file" -o "$object" \
            2>> "$out/build-$name.log" || { cat "$out/build-$name.log"; exit 1; }
        objects+=("$object")
    done < <(find "$snapshot" -name '*.c' -print0)
    rm -f "$out/lib/lib$name.a" && ar rcs "$out/lib/lib$name.a" "${objects[@]}"
    printf 'module %s {\n    umbrella header "%s"\n    export *\n}\n' "$name" "$root/$snapshot/include/$name.h" \
        > "$out/modules/$name/module.modulemap"
    echo "$sum" > "$out/lib/$name.sum"
}

# build_library NAME: Sources/NAME (snapshot) -> $out/lib/libNAME.a and its module; skipped when unchanged
build_library() {
    local name=$1 snapshot="$out/src/$1"
    rm -rf "$snapshot" && mkdir -p "$snapshot"
    cp -R "Sources/$name/." "$snapshot/"
    local sum
    sum=$(find "$snapshot" -name '*.swift' -print0 | sort -z | xargs -0 cat | sha1sum | cut -d' ' -f1)
    if [ -f "$out/lib/lib$name.a" ] && [ "$(cat "$out/lib/$name.sum" 2>/dev/null)" = "$sum" ]; then return; fi
    echo "building $name (fuzzer, address)" >&2
    find "$snapshot" -name '*.swift' -print0 | xargs -0 swiftc "${flags[@]}" -module-name "$name" \
        -emit-library -static -emit-module -emit-module-path "$out/modules/$name.swiftmodule" \
        -o "$out/lib/lib$name.a" 2> "$out/build-$name.log" || { cat "$out/build-$name.log"; exit 1; }
    echo "$sum" > "$out/lib/$name.sum"
}

# build_target NAME: scripts/fuzz/targets/NAME.swift plus the shared files -> $out/NAME/fuzz
build_target() {
    local name=$1 libraries=(-lNpyIO -lCRCFold) shared=(scripts/fuzz/targets/Exercise.swift)
    build_c_library CRCFold
    build_library NpyIO
    case $name in
        weights) build_c_library FusionKernels; build_library Fusion; libraries=(-lFusion -lFusionKernels -lNpyIO -lCRCFold -lm)
                 shared+=(scripts/fuzz/targets/FuzzModel.swift) ;;
        inputs) build_c_library FusionKernels; build_library Fusion; build_library Heatmap; build_library FusionJobs
                libraries=(-lFusionJobs -lHeatmap -lFusion -lFusionKernels -lNpyIO -lCRCFold -lm)
                shared+=(scripts/fuzz/targets/FuzzModel.swift) ;;
    esac
    mkdir -p "$out/$name"
    rm -rf "$out/$name/src" && mkdir -p "$out/$name/src"
    cp "scripts/fuzz/targets/$name.swift" "${shared[@]}" "$out/$name/src/"
    swiftc "${flags[@]}" -module-name "fuzz_$name" "$out/$name/src/"*.swift -L "$out/lib" "${libraries[@]}" -ldeflate -lz \
        -o "$out/$name/fuzz" 2> "$out/$name/build.log" || { cat "$out/$name/build.log"; exit 1; }
}

# seed_corpus NAME: copies the fixtures that suit the target into its corpus
seed_corpus() {
    local name=$1 corpus="$out/$1/corpus"
    mkdir -p "$corpus" "$out/$name/findings"
    case $name in
        npy) find fixtures/npy fixtures/golden -name '*.npy' -size -64k -exec cp {} "$corpus/" \; ;;
        npz) find fixtures/npy fixtures/golden fixtures/fuzz -name '*.npz' -size -64k -exec cp {} "$corpus/" \; ;;
        safetensors) find fixtures/safetensors -name '*.safetensors' -size -64k -exec cp {} "$corpus/" \; ;;
        weights) cp fixtures/fuzz/weights/* "$corpus/"
                 find fixtures/golden -name 'weights.npz' -size -64k -exec cp {} "$corpus/" \; ;;
        inputs) cp fixtures/fuzz/inputs/* "$corpus/" ;;
    esac
    if [ -d "fixtures/regressions/$name" ]; then cp "fixtures/regressions/$name/"* "$corpus/" 2>/dev/null || true; fi
}

if [ "$mode" = replay ]; then
    status=0
    for name in "${all_targets[@]}"; do
        build_target "$name"
        inputs=(fixtures/regressions/"$name"/*)
        [ -e "${inputs[0]}" ] || continue
        echo "replaying ${#inputs[@]} regression inputs through $name" >&2
        "$out/$name/fuzz" -runs=1 "${inputs[@]}" > "$out/$name/replay.log" 2>&1 || { cat "$out/$name/replay.log"; status=1; }
    done
    exit $status
fi

seconds=$mode
case $target in
    all) targets=("${all_targets[@]}") ;;
    npy|npz|safetensors|weights|inputs) targets=("$target") ;;
    *) echo "unknown target '$target'; expected one of ${all_targets[*]} or all" >&2; exit 2 ;;
esac
# FUZZ_JOBS=N runs N parallel workers per target (their logs go to .build/fuzz/TARGET/fuzz-*.log)
parallel=()
if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then parallel=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS"); fi
for name in "${targets[@]}"; do
    build_target "$name"
    seed_corpus "$name"
    echo "fuzzing $name for $seconds s" >&2
    set +e
    (cd "$out/$name" && ./fuzz corpus -dict="$root/scripts/fuzz/npy.dict" -max_total_time="$seconds" \
        -max_len=16384 -timeout=10 -rss_limit_mb=2048 -artifact_prefix=findings/ -print_final_stats=1 \
        "${parallel[@]}" "$@") > "$out/$name/run.log" 2>&1
    code=$?
    set -e
    execs=$(grep -h 'stat::number_of_executed_units' "$out/$name/run.log" | awk '{s+=$2} END {print s+0}')
    added=$(grep -h 'stat::new_units_added' "$out/$name/run.log" | awk '{s+=$2} END {print s+0}')
    findings=$(find "$out/$name/findings" -type f | wc -l)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$name" "$seconds" "$execs" "$added" "$findings" >> "$out/summary.tsv"
    echo "$name: $execs executions in $seconds s, $added new units, $findings findings in total (exit $code)" >&2
    if [ "$code" -ne 0 ]; then tail -40 "$out/$name/run.log" >&2; fi
done
