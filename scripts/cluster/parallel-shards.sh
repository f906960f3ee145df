#!/usr/bin/env bash
# Fuse a dataset on one machine with N processes: GNU parallel if present, else xargs -P.
#
#   bash scripts/cluster/parallel-shards.sh JOBS.tsv WEIGHTS.npz [N]
#
# Each process takes one shard and one thread; the union of their outputs equals one unsharded run, bit
# for bit (the test suite checks this with xargs -P).
set -euo pipefail
manifest=${1:?usage: parallel-shards.sh JOBS.tsv WEIGHTS.npz [N]}
weights=${2:?usage: parallel-shards.sh JOBS.tsv WEIGHTS.npz [N]}
n=${3:-$(nproc)}
bin=${FUSECTL:-fusectl}
if command -v parallel >/dev/null 2>&1; then
    seq 0 $((n - 1)) | parallel -j "$n" "$bin" fuse --weights "$weights" --manifest "$manifest" --shard {}/"$n" --threads 1 --quiet
else
    seq 0 $((n - 1)) | xargs -P "$n" -I{} "$bin" fuse --weights "$weights" --manifest "$manifest" --shard {}/"$n" --threads 1 --quiet
fi
