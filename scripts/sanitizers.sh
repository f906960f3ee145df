#!/usr/bin/env bash
# Runs the test suite under Swift's sanitizers, each in its own build folder:
#   address    AddressSanitizer, every test (.build-asan)
#   undefined  UndefinedBehaviorSanitizer over the C code (the FusionKernels target), every test
#              (.build-ubsan). swiftc 6.3 refuses -sanitize=undefined on Linux, so the C files get
#              -fsanitize=undefined through -Xcc and the links pull in the runtime; Swift code has its own
#              checks (bounds, overflow, exclusivity) that trap in every debug test run.
#   thread     ThreadSanitizer over the multi-threaded paths: the library tests (the reference forward
#              pass with several threads, shared NpzArchive reads, FusionSession) and the CLI fuse tests
#              (.build-tsan); SANITIZER_FILTER overrides the filter
# The CLI tests run the fusectl built with the same sanitizer (FUSECTL_BIN), and FUSECTL_SANITIZER names
# the sanitizer so that tests measuring peak memory skip only that number (shadow memory is not ours).
# Any sanitizer report fails the run (halt_on_error / abort). Logs: .build-SAN/sanitizer-test.log.
# Usage: scripts/sanitizers.sh [address|undefined|thread|all] [extra `swift test` arguments]
# LeakSanitizer suppressions (XCTest's and Foundation.Process's own allocations): scripts/lsan.supp.
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"
shift || true
case $which in
    all) sanitizers=(address undefined thread) ;;
    address|undefined|thread) sanitizers=("$which") ;;
    *) echo "unknown sanitizer '$which'; expected address, undefined, thread or all" >&2; exit 2 ;;
esac

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:allocator_may_return_null=0}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"
# A crashing child must fail its test, not hang it in the Swift runtime's crash reporter (seen under ASan).
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"
status=0
for sanitizer in "${sanitizers[@]}"; do
    case $sanitizer in
        address) scratch=.build-asan; filter=(); flags=(--sanitize address) ;;
        undefined) scratch=.build-ubsan; filter=()
                   flags=(-Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined
                          -Xswiftc -Xclang-linker -Xswiftc -fsanitize=undefined) ;;
        thread) scratch=.build-tsan; flags=(--sanitize thread)
                filter=(--filter "${SANITIZER_FILTER:-NpyIOTests|FusionTests|FusionJobsTests|FuseCommandTests|FuseErrorTests|ManifestCommandTests|StreamCommandTests}") ;;
    esac
    mkdir -p "$scratch"
    echo "== $sanitizer: building ($scratch)" >&2
    swift build --scratch-path "$scratch" "${flags[@]}" --build-tests 2>&1 | tail -3
    echo "== $sanitizer: testing" >&2
    set +e
    FUSECTL_BIN="$PWD/$scratch/debug/fusectl" FUSECTL_SANITIZER="$sanitizer" \
        swift test --scratch-path "$scratch" "${flags[@]}" --skip-build "${filter[@]}" "$@" \
        > "$scratch/sanitizer-test.log" 2>&1
    code=$?
    set -e
    tail -5 "$scratch/sanitizer-test.log"
    if grep -q "ERROR: AddressSanitizer\|runtime error:\|WARNING: ThreadSanitizer\|ERROR: LeakSanitizer" "$scratch/sanitizer-test.log"; then
        echo "== $sanitizer: REPORTS FOUND (see $scratch/sanitizer-test.log)" >&2
        code=1
    fi
    echo "== $sanitizer: exit $code" >&2
    [ "$code" -eq 0 ] || status=1
done
exit $status
