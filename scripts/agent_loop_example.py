#!/usr/bin/env python3
"""A small agent loop that drives `fusectl stream` through a pipe (numpy only).

    python3 scripts/agent_loop_example.py --fusectl .build/release/fusectl \\
        --weights examples/weights.npz --text examples/text.npy --steps 12 [--check]

Each step the "agent" writes its newest frame latent as .npy bytes (numpy.save) to the process's stdin and reads the
fused vector back with numpy.lib.format.read_array over an object that has only a `read` method (numpy.load cannot read a
pipe: it seeks). After
`--steps` frames it sends "reset" and plays a second episode. With --check it compares every vector with
`fusectl fuse --plan x-formed` (plain mode, plan A: the plan a stream session runs) on the same prefix of frames, bit for
bit, and exits 1 on any difference.
"""
import argparse
import io
import os
import subprocess
import sys
import tempfile

import numpy as np


def instruction(path, sample):
    text = np.load(path)
    return text[sample] if text.ndim == 3 else text


def send(proc, array):
    """np.save into a pipe: numpy's fast path asks a real file for its position, so go through bytes."""
    buffer = io.BytesIO()
    np.save(buffer, array)
    proc.stdin.write(buffer.getvalue())
    proc.stdin.flush()


class Reader:
    """Only a `read` method: numpy.lib.format.read_array then reads the pipe sequentially (given the real
    file object it would call numpy.fromfile, which asks for the file position and fails on a pipe)."""

    def __init__(self, stream):
        self.read = stream.read


def run_episode(proc, frames):
    fused = []
    reader = Reader(proc.stdout)
    for frame in frames:
        send(proc, frame)
        fused.append(np.lib.format.read_array(reader))
    return fused


def fuse_prefix(args, text_file, frames, t):
    with tempfile.TemporaryDirectory() as folder:
        images = os.path.join(folder, "images.npy")
        out = os.path.join(folder, "out.npy")
        np.save(images, frames[None, : t + 1])
        subprocess.run([args.fusectl, "fuse", "--weights", args.weights, "--text", text_file,
                        "--images", images, "--out", out, "--plan", "x-formed"], check=True)
        return np.load(out)[0, 0]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fusectl", default="fusectl")
    parser.add_argument("--weights", required=True)
    parser.add_argument("--text", required=True, help="(B, L, txt) or (L, txt) instruction latents")
    parser.add_argument("--sample", type=int, default=0, help="which instruction of a (B, L, txt) file")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        text_file = os.path.join(folder, "instruction.npy")
        text = instruction(args.text, args.sample)
        np.save(text_file, text)
        # The image latent size is the weights' vision projector's input size.
        img_dim = np.load(args.weights)["vision_proj.proj.weight"].shape[1]
        rng = np.random.default_rng(args.seed)
        episodes = [rng.standard_normal((args.steps, img_dim), dtype=np.float32) for _ in range(2)]

        proc = subprocess.Popen([args.fusectl, "stream", "--weights", args.weights, "--text", text_file],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        results = [run_episode(proc, episodes[0])]
        send(proc, np.array("reset"))
        ack = str(np.lib.format.read_array(Reader(proc.stdout)))  # every command is answered: "ok: reset"
        assert ack == "ok: reset", ack
        results.append(run_episode(proc, episodes[1]))
        proc.stdin.close()
        status = proc.wait()
        print(f"2 episodes of {args.steps} steps; vector size {results[0][0].shape[0]}; stream exit status {status}")
        print("episode 0, last step:", np.array2string(results[0][-1][:4], precision=4), "...")

        mismatches = 0
        if args.check:
            # fuse wants a batch: give it the instruction as (1, L, txt).
            batch_text = os.path.join(folder, "batch_text.npy")
            np.save(batch_text, text[None])
            for episode, frames in enumerate(episodes):
                for t, vector in enumerate(results[episode]):
                    expected = fuse_prefix(args, batch_text, frames, t)
                    if expected.tobytes() != vector.tobytes():
                        mismatches += 1
                        print(f"episode {episode} step {t}: differs, max abs {np.max(np.abs(expected - vector))}")
            print(f"checked {2 * args.steps} steps against fusectl fuse: {mismatches} differ")
        sys.exit(1 if status != 0 or mismatches else 0)


if __name__ == "__main__":
    main()
