#!/usr/bin/env bash
# The scheduler half of the test suite's SlurmClusterTests: scripts/cluster/slurm-array.sbatch, as it
# ships, submitted to a running Slurm (scripts/cluster/local-slurm.sh starts one):
#
#   bash scripts/cluster/local-slurm.sh bash scripts/test_slurm_array.sh WORK TASKS
#
# WORK holds w.npz and two manifests whose jobs write WORK/array/oJ.npy and WORK/resumed/oJ.npy:
# array.tsv, and resumed.tsv, whose job TASKS+1 (the second of task 1) reads its text from WORK/text.fifo,
# a FIFO that nothing writes, while WORK/text-fifo.npy holds the text it stands for. This script
#   1. submits array.tsv as an array of TASKS tasks and waits until every task is COMPLETED;
#   2. submits resumed.tsv the same way, waits until task 1 is RUNNING and has written resumed/o1.npy
#      (it then waits on the FIFO), cancels that task with scancel, checks that it ends CANCELLED without
#      the FIFO job's output, and waits for the other tasks to complete;
#   3. puts text-fifo.npy in the FIFO's place and submits the same array again (the resume), which must
#      complete too.
# Comparing the outputs with an unsharded run is the caller's part. fusectl is FUSECTL_BIN when set (its
# folder is put first in PATH, which sbatch passes on to the jobs), else the one in PATH. Every wait is
# bounded by SLURM_TEST_TIMEOUT seconds (default 120). Exit status 0 when all held; else 1 after a line
# saying what did not, the tasks' states and their logs.
set -euo pipefail
work=${1:?usage: test_slurm_array.sh WORK TASKS}
tasks=${2:?usage: test_slurm_array.sh WORK TASKS}
here=$(cd "$(dirname "$0")" && pwd -P)
sbatch_script="$here/cluster/slurm-array.sbatch"
limit=${SLURM_TEST_TIMEOUT:-120}
if [ -n "${FUSECTL_BIN:-}" ]; then
    export PATH="$(dirname "$FUSECTL_BIN"):$PATH"
fi
# fusectl gives up on a FIFO without a writer after FUSECTL_FIFO_WAIT seconds (default 60); the cancelled
# task must still be waiting when scancel comes, however slow the machine (sbatch passes this on too).
export FUSECTL_FIFO_WAIT=600
cd "$work"  # the script's `#SBATCH --output=fusectl-%A_%a.log` is relative to the submitting folder
slow_job=$((tasks + 1))

say() { echo "test_slurm_array: $*" >&2; }
fail() {
    say "FAILED: $*"
    for job in ${jobs:-}; do
        echo "----- squeue for job $job" >&2
        squeue -h -r --states=all -j "$job" -o '%i %T %r %M' >&2 || true
    done
    for log in fusectl-*.log; do
        [ -e "$log" ] || continue
        echo "----- $log" >&2
        tail -n 20 "$log" >&2
    done
    exit 1
}
# Submits MANIFEST as an array of `tasks` tasks; prints the job id.
submit() {
    sbatch --parsable --partition=local --array=0-$((tasks - 1)) "$sbatch_script" "$work/$1" "$work/w.npz" \
        || fail "sbatch refused $1"
}
# "TASK STATE" lines of JOB's array tasks, one per task, by task id.
states() { squeue -h -r --states=all -j "$1" -o '%K %T' | sort -n; }
# Waits until no task of JOB is pending, running or completing.
wait_finished() {
    local deadline=$((SECONDS + limit))
    while squeue -h -r -j "$1" -t PENDING,CONFIGURING,RUNNING,COMPLETING,SUSPENDED -o %K | grep -q .; do
        [ $SECONDS -lt $deadline ] || fail "job $1 still has unfinished tasks after $limit s"
        sleep 0.2
    done
}
# Expected `states` output: every task COMPLETED except those named as TASK=STATE.
expected() {
    local task
    for task in $(seq 0 $((tasks - 1))); do
        local state=COMPLETED pair
        for pair in "$@"; do [ "${pair%%=*}" = "$task" ] && state=${pair#*=}; done
        echo "$task $state"
    done
}
# Checks that task TASK of array JOB logged fusectl's summary for its shard and that it contains TEXT.
logged() {
    local log="fusectl-${1}_${2}.log"
    grep -q "^fusectl fuse: .* jobs in shard $2/$tasks (" "$log" 2>/dev/null || fail "$log has no summary of shard $2/$tasks"
    grep -q "$3" "$log" || fail "$log does not say '$3': $(grep '^fusectl fuse:' "$log")"
}
jobs=""

# 1. the whole array.
start=$SECONDS
first=$(submit array.tsv)
jobs="$first"
wait_finished "$first"
[ "$(states "$first")" = "$(expected)" ] || fail "array job $first: tasks ended $(states "$first" | tr '\n' ' ')"
for task in $(seq 0 $((tasks - 1))); do logged "$first" "$task" " 0 skipped, 0 failed of "; done
say "array job $first: $tasks tasks COMPLETED in $((SECONDS - start)) s"

# 2. the same array on a fresh folder; task 1 cancelled while it waits on its second job's input.
start=$SECONDS
second=$(submit resumed.tsv)
jobs="$first $second"
deadline=$((SECONDS + limit))
until [ "$(squeue -h -r -j "$second" -t RUNNING -o %K | grep -x 1 || true)" = 1 ] && [ -s resumed/o1.npy ]; do
    [ $SECONDS -lt $deadline ] || fail "task 1 of job $second was not running with resumed/o1.npy written after $limit s"
    sleep 0.1
done
sleep 0.5  # a task that got past the FIFO would now be writing o$slow_job.npy or later outputs
[ "$(squeue -h -r -j "$second" -t RUNNING -o %K | grep -x 1 || true)" = 1 ] || fail "task 1 of job $second stopped before the FIFO"
[ ! -e "resumed/o$slow_job.npy" ] || fail "task 1 of job $second got past the FIFO"
scancel "${second}_1" || fail "scancel ${second}_1 refused"
wait_finished "$second"
[ "$(states "$second")" = "$(expected 1=CANCELLED)" ] \
    || fail "job $second after scancel of task 1: tasks ended $(states "$second" | tr '\n' ' ')"
left=$(ls -A resumed | tr '\n' ' ')
[ -e resumed/o1.npy ] || fail "the cancelled task's finished output resumed/o1.npy is gone"
[ ! -e "resumed/o$slow_job.npy" ] || fail "the cancelled task wrote resumed/o$slow_job.npy"
say "array job $second: task 1 was RUNNING, waiting on manifest job $slow_job's input, when cancelled; tasks ended $(states "$second" | tr '\n' ' ')(resumed/ holds: $left)"

# 3. resume: the same manifest, the same array, the FIFO now a file.
rm text.fifo
cp text-fifo.npy text.fifo
third=$(submit resumed.tsv)
jobs="$first $second $third"
wait_finished "$third"
[ "$(states "$third")" = "$(expected)" ] || fail "resubmitted job $third: tasks ended $(states "$third" | tr '\n' ' ')"
# The resubmitted tasks skipped what was finished: all of tasks 0 and 2, task 1's first job.
for task in $(seq 0 $((tasks - 1))); do
    if [ "$task" = 1 ]; then logged "$third" 1 " 1 skipped, 0 failed of "; else logged "$third" "$task" ": 0 done, "; fi
done
say "array job $third (resubmitted): $tasks tasks COMPLETED, finished outputs skipped; cancel and resume took $((SECONDS - start)) s"
