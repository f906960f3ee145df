#!/usr/bin/env bash
# Re-runs the README's cheap claims against the built binary and exits 1 naming each one that no longer
# holds. Specific claims, not the whole file, so that edits elsewhere in the README do not break it:
#   - "What the first command shows": the block of lines run_example.sh prints (its fuse command, run on
#     examples/ in a scratch folder), the example's weights (`fusectl init --config examples/config.json
#     --seed 7`), its 12, 7 and 3 valid frames, and docs/example-attention.png being that run's picture;
#   - "Using it": every subcommand shown is in `fusectl --help`, and every --option shown in a `fusectl`
#     command line of the README is in `fusectl help SUBCOMMAND`; usage errors exit 64, data errors 1;
#     the pipe-to-Python example prints the shape; `compare` exits 0/1;
#   - every relative link and every path of the "Layout" table exists;
#   - what moved out of the README into docs/ (performance.md, reliability.md, design.md; model.md too):
#     every `fusectl` command line in their code blocks names real subcommands and options, every relative
#     link exists, and every test they (and the README's summary tables) name exists under Tests/.
# Usage: bash scripts/check_readme.sh  (FUSECTL_BIN: the binary, default .build/release/fusectl; needs
# python3 with numpy, which scripts/setup.sh installs). scripts/test.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${FUSECTL_BIN:-.build/release/fusectl}")"
[ -x "$bin" ] || { echo "check_readme: error: no fusectl binary at $bin (build it first)" >&2; exit 1; }
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
failures=0
fail() { echo "check_readme: README claim broken: $*" >&2; failures=$((failures + 1)); }

# The fenced code block that follows a heading (## TITLE), or nothing.
first_block_after() {
    awk -v title="$1" '
        $0 == "## " title { in_section = 1; next }
        in_section && /^## / { exit }
        in_section && /^```/ { if (in_block) exit; in_block = 1; next }
        in_block { print }' README.md
}

# --- What the first command shows -----------------------------------------------------------------
shown="$(first_block_after "What the first command shows")"
[ -n "$shown" ] || fail "no code block under '## What the first command shows'"
# run_example.sh's fuse command, word for word, from a scratch folder holding the example's files.
command_line="$(sed -n '/"\$bin" fuse /,/--report$/p' scripts/run_example.sh | sed 's/\\$//' | tr -s ' \n' ' ')"
[ -n "$command_line" ] || fail "scripts/run_example.sh has no '\"\$bin\" fuse ... --report' command"
mkdir -p "$scratch/run/examples/out"
for file in examples/*.npy examples/weights.npz; do ln -s "$PWD/$file" "$scratch/run/$file"; done
printed="$(cd "$scratch/run" && out=examples/out && eval "$command_line" 2>&1 >/dev/null)" ||
    fail "run_example.sh's fuse command failed: $printed"
if [ "$printed" != "$shown" ]; then
    fail "the block under 'What the first command shows' differs from what run_example.sh prints:"
    diff <(echo "$shown") <(echo "$printed") >&2 || true
fi
cmp -s "$scratch/run/examples/out/attention.png" docs/example-attention.png ||
    fail "docs/example-attention.png is not the picture run_example.sh draws (--attention-png)"
tr -s ' \n' ' ' < README.md | grep -q 'fusectl init --config examples/config.json --seed 7' ||
    fail "the README no longer says how examples/weights.npz was made (fusectl init ... --seed 7)"
"$bin" init --config examples/config.json --seed 7 --out "$scratch/weights.npz"
"$bin" compare examples/weights.npz "$scratch/weights.npz" --atol 0 --rtol 0 >/dev/null ||
    fail "examples/weights.npz is not 'fusectl init --config examples/config.json --seed 7'"
tr -s ' \n' ' ' < README.md | grep -q 'histories of 12, 7 and 3 valid' || fail "the README no longer gives the example's history lengths"
lengths="$(python3 -c 'import numpy; print(numpy.load("examples/image_lengths.npy").tolist())')"
[ "$lengths" = "[12, 7, 3]" ] || fail "examples/image_lengths.npy is $lengths, the README says 12, 7 and 3"

# --- Using it: subcommands and options ------------------------------------------------------------
help="$("$bin" --help)"
# Every `fusectl SUB ...` line of a page's code blocks (continuation lines joined), comments removed.
command_lines() {
    awk '/^```/ { in_block = !in_block; next } in_block' "$1" |
        sed 's/#.*//' | awk '{ if (joined != "") { $0 = joined " " $0; joined = "" } if (/\\$/) { sub(/\\$/, ""); joined = $0; next } print }' |
        grep -o 'fusectl [a-z]\+.*' || true
}
check_commands() {  # check_commands PAGE: every subcommand and option its command lines show exists
    while read -r _ sub rest; do
        grep -q "^  $sub " <<<"$help" || { fail "$1: 'fusectl $sub' is shown but not in 'fusectl --help'"; continue; }
        sub_help="$("$bin" help "$sub")"
        for option in $(grep -o -- '--[a-z][a-z0-9-]*' <<<"$rest" | sort -u); do
            grep -qE -- "(^|[^a-z-])$option([^a-z-]|\$)" <<<"$sub_help" || fail "$1: 'fusectl $sub $option' is shown but not in 'fusectl help $sub'"
        done
    done
}
command_lines README.md > "$scratch/commands"
[ -s "$scratch/commands" ] || fail "no 'fusectl SUBCOMMAND' command lines found in the README's code blocks"
check_commands README.md < "$scratch/commands"
for sub in fuse stream init inspect compare heatmap; do
    grep -q "^  $sub " <<<"$help" || fail "'fusectl --help' does not list $sub"
done

# Exit statuses: "Errors ... exit with status 1 (usage errors: 64)"; compare "exit 0/1/2".
grep -q 'usage errors: 64' README.md || fail "the README no longer states the usage-error status"
status=0; "$bin" fuse --weights examples/weights.npz >/dev/null 2>&1 || status=$?
[ "$status" = 64 ] || fail "a usage error (fuse without inputs) exited $status, not 64"
status=0; "$bin" inspect "$scratch/missing.npy" >/dev/null 2>&1 || status=$?
[ "$status" = 1 ] || fail "a data error (inspect of a missing file) exited $status, not 1"
out="$scratch/run/examples/out"
status=0; "$bin" compare "$out/fused.npy" "$out/fused.npy" --atol 1e-4 >/dev/null || status=$?
[ "$status" = 0 ] || fail "compare of a file with itself exited $status, not 0"
status=0; "$bin" compare "$out/fused.npy" examples/images.npy --atol 1e-4 >/dev/null 2>&1 || status=$?
[ "$status" != 0 ] || fail "compare of two different files exited 0"

# The pipe example: fuse --out - | python3 reading it through BytesIO prints the shape.
grep -q "numpy.load(io.BytesIO(sys.stdin.buffer.read())).shape" README.md ||
    fail "the README's pipe-to-Python example changed (update scripts/check_readme.sh)"
shape="$("$bin" fuse --weights examples/weights.npz --text examples/text.npy --images examples/images.npy --out - |
    python3 -c 'import io,numpy,sys; print(numpy.load(io.BytesIO(sys.stdin.buffer.read())).shape)')"
[ "$shape" = "(3, 1, 64)" ] || fail "the pipe-to-Python example printed '$shape', expected (3, 1, 64)"

# --- Links and the layout table -------------------------------------------------------------------
for target in $(grep -o '](\([^)#:]*\))' README.md | sed 's/^](//; s/)$//' | sort -u); do
    case "$target" in ../*) continue ;; esac  # outside the repository: not part of it
    [ -e "$target" ] || fail "the link to $target points at nothing"
done
for path in $(awk '/^## Layout/ { on = 1; next } on && /^## / { exit } on' README.md | grep -o '^| `[^`]*`' | sed 's/^| `//; s/`$//'); do
    [ -e "$path" ] || fail "the Layout table lists $path, which does not exist"
done

# --- What moved to docs/: commands, links and the tests named ----------------------------------------
for page in docs/performance.md docs/reliability.md docs/design.md docs/model.md; do
    [ -f "$page" ] || { fail "$page is missing (the README points to it)"; continue; }
    check_commands "$page" < <(command_lines "$page")
    for target in $(grep -o '](\([^)#:]*\))' "$page" | sed 's/^](//; s/)$//' | sort -u); do
        [ -e "docs/$target" ] || fail "$page: the link to $target points at nothing"
    done
done
grep -q 'docs/performance.md' README.md || fail "the README no longer points to docs/performance.md"
grep -q 'docs/reliability.md' README.md || fail "the README no longer points to docs/reliability.md"
grep -q '^| W1 ' docs/performance.md || fail "docs/performance.md lost the benchmark table"
# Tests named in backquotes in the reliability table, the README's summary tables and docs/performance.md:
# `SuiteTests`, `Target/SuiteTests`, `SuiteTests.testName`.
for name in $( (awk '/^## Performance/,/^## Layout/' README.md; cat docs/reliability.md docs/performance.md) |
        grep -o '`[A-Za-z]*Tests[./A-Za-z]*`' | tr -d '`' | sort -u); do
    [ -e "$name" ] && continue  # a path (Tests/FusectlCLITests)
    suite="${name##*/}"; method=""
    case "$suite" in *.*) method="${suite#*.}"; suite="${suite%%.*}" ;; esac
    case "$suite" in *Tests) ;; *) continue ;; esac
    if [ "$suite" = "${name%%/*}" ] && [ -d "Tests/$suite" ]; then continue; fi  # a test target
    grep -rqE "(struct|class|enum) $suite\b" Tests || { fail "a test named in the docs, $name, does not exist ($suite)"; continue; }
    [ -z "$method" ] || grep -rqE "func $method\b" Tests || fail "a test named in the docs, $name, does not exist ($method)"
done

if [ "$failures" -gt 0 ]; then
    echo "check_readme: $failures README claim(s) no longer hold" >&2
    exit 1
fi
echo "check_readme: the README's checked claims hold"
