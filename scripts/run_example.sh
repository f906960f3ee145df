#!/usr/bin/env bash
# The main job on the shipped example: builds fusectl (release) and fuses examples/ end to end,
# then shows what came out. Usage: bash scripts/run_example.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --static-swift-stdlib --product fusectl
bin=.build/release/fusectl
out=examples/out
mkdir -p "$out"
set -x
"$bin" fuse --weights examples/weights.npz \
    --text examples/text.npy --text-mask examples/text_mask.npy \
    --images examples/images.npy --image-lengths examples/image_lengths.npy \
    --attention "$out/attention.npy" --attention-png "$out/attention.png" --out "$out/fused.npy" --report
"$bin" inspect "$out/fused.npy" "$out/attention.npy"
