#!/usr/bin/env python3
"""An agent loop in-process: the `fusectl` Python package, one model load, one streaming session.

    python3 scripts/agent_loop_example.py --fusectl .build/release/fusectl \\
        --weights examples/weights.npz --text examples/text.npy --steps 12 [--check]

Each step the "agent" gives its newest frame latent to `session.step(frame)` and gets the fused vector
back (no process, no pipe). After `--steps` frames it calls `session.reset()` and plays a second
episode. With --check it compares every vector with `fusectl fuse --plan x-formed` (plain mode, plan A:
the plan a session runs) on the same prefix of frames, bit for bit, and exits 1 on any difference.
The package comes from `pip install ./python`, or from this checkout (python/ and the
libfusectl-c.so built beside --fusectl).
"""
import argparse
import sys

import numpy as np

from example_support import cli_fuse, import_fusectl


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fusectl", default="fusectl", help="the CLI, for --check")
    parser.add_argument("--weights", required=True)
    parser.add_argument("--text", required=True, help="(B, L, txt) or (L, txt) instruction latents")
    parser.add_argument("--sample", type=int, default=0, help="which instruction of a (B, L, txt) file")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    fusectl = import_fusectl(args.fusectl)

    text = np.load(args.text)
    text = text[args.sample] if text.ndim == 3 else text
    with fusectl.Model(args.weights) as model:
        rng = np.random.default_rng(args.seed)
        img = model.config["img_latent_dim"]
        episodes = [rng.standard_normal((args.steps, img), dtype=np.float32) for _ in range(2)]
        session = model.session(text)
        results = []
        for episode, frames in enumerate(episodes):
            if episode:
                session.reset()  # a new episode, same instruction
            results.append([session.step(frame) for frame in frames])
    print(f"2 episodes of {args.steps} steps; vector size {results[0][0].shape[0]}; in-process")
    print("episode 0, last step:", np.array2string(results[0][-1][:4], precision=4), "...")

    mismatches = 0
    if args.check:
        for episode, frames in enumerate(episodes):
            for t, vector in enumerate(results[episode]):
                expected = cli_fuse(args.fusectl, args.weights, text[None], frames[None, : t + 1],
                                    ["--plan", "x-formed"])[0, 0]
                if expected.tobytes() != vector.tobytes():
                    mismatches += 1
                    print(f"episode {episode} step {t}: differs, max abs {np.max(np.abs(expected - vector))}")
        print(f"checked {2 * args.steps} steps against fusectl fuse: {mismatches} differ")
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
