#!/usr/bin/env python3
"""E agents stepping together in-process: `model.sessions(instructions)`, one `step` for all of them.

    python3 scripts/batched_agents_example.py --fusectl .build/release/fusectl \\
        --weights examples/weights.npz --text examples/text.npy --agents 4 --steps 10 [--check]

Every agent gets its own instruction (row i % B of the (B, L, txt) text file) and its own random frames;
agent 1 starts a new episode halfway with another instruction (`sessions.reset(1, text=...)`). One
`step` reads the weights once for all agents. With --check, every agent's vector at every step is
compared bit for bit with `fusectl fuse --plan x-formed` on that agent's frames of its current
episode (the plan sessions run); exits 1 on any difference. Also prints the time of a step of all E
agents beside one agent's step (--time).
"""
import argparse
import sys
import time

import numpy as np

from example_support import cli_fuse, import_fusectl


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fusectl", default="fusectl", help="the CLI, for --check")
    parser.add_argument("--weights", required=True)
    parser.add_argument("--text", help="(B, L, txt) instructions (default: random)")
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--time", action="store_true", help="time the last step of all agents and of one agent")
    args = parser.parse_args()
    fusectl = import_fusectl(args.fusectl)

    rng = np.random.default_rng(args.seed)
    with fusectl.Model(args.weights, threads=args.threads) as model:
        config = model.config
        if args.text:
            pool = np.load(args.text)
        else:
            pool = rng.standard_normal((args.agents, 8, config["txt_latent_dim"]), dtype=np.float32)
        texts = np.stack([pool[i % pool.shape[0]] for i in range(args.agents)])
        frames = rng.standard_normal((args.steps, args.agents, config["img_latent_dim"]), dtype=np.float32)
        switch = args.steps // 2
        new_text = pool[-1]
        agents = model.sessions(texts)
        vectors = []
        for t in range(args.steps):
            if t == switch and args.agents > 1:
                agents.reset(1, text=new_text)  # agent 1: a new episode with another instruction
            vectors.append(agents.step(frames[t]))
        print(f"{args.agents} agents x {args.steps} steps in-process; vectors {vectors[-1].shape}")
        if args.time:
            single = model.session(texts[0])
            for t in range(args.steps):
                single.step(frames[t, 0])
            start = time.perf_counter()
            agents.step(frames[-1])
            together = time.perf_counter() - start
            start = time.perf_counter()
            single.step(frames[-1, 0])
            alone = time.perf_counter() - start
            print(f"one step: {args.agents} agents {together * 1e3:.2f} ms, one agent {alone * 1e3:.2f} ms")

    mismatches = 0
    if args.check:
        for t in range(args.steps):
            for e in range(args.agents):
                first = switch if (e == 1 and t >= switch and args.agents > 1) else 0
                text = new_text if first else texts[e]
                expected = cli_fuse(args.fusectl, args.weights, text[None], frames[first:t + 1, e][None],
                                    ["--plan", "x-formed"])[0, 0]
                if expected.tobytes() != vectors[t][e].tobytes():
                    mismatches += 1
                    print(f"agent {e} step {t}: differs, max abs {np.max(np.abs(expected - vectors[t][e]))}")
        print(f"checked {args.agents * args.steps} agent steps against fusectl fuse: {mismatches} differ")
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
