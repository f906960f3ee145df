#!/usr/bin/env python3
"""Per-step training targets computed on the fly, PyTorch-free: a `Dataset`-style class over episodes.

    python3 scripts/step_targets_dataset.py --fusectl .build/release/fusectl \\
        --weights examples/weights.npz --episodes 6 [--check]

`StepTargets(model, episodes)` holds (instruction, frames) episodes (here random, of ragged lengths)
and fuses them lazily: `targets[i]` is episode i's (T_i, d) per-step targets (row t = the fused vector
of frames 0..t, what the agent sees at step t), `len(targets)` the episode count, and
`iterate(batch_size)` yields (episode indices, padded (B, T, d) targets, lengths) batches, fusing each
batch in one call. It has the shape of a torch.utils.data.Dataset (`__len__`, `__getitem__`) without
importing torch. With --check every target is compared bit for bit with `fusectl fuse --per-step` on
the same episode; exits 1 on any difference.
"""
import argparse
import sys

import numpy as np

from example_support import cli_fuse, import_fusectl


class StepTargets:
    """Per-step fused targets of episodes, computed when asked for (nothing is stored)."""

    def __init__(self, model, episodes):
        """episodes: a list of (text (L, txt), frames (T, img)) pairs, T and L of their own."""
        self.model = model
        self.episodes = episodes

    def __len__(self):
        return len(self.episodes)

    def __getitem__(self, i):
        """float32 (T_i, d): row t is the fusion of frames 0..t of episode i."""
        text, frames = self.episodes[i]
        return self.model.fuse(text[None], frames[None], per_step=True)[0]

    def iterate(self, batch_size):
        """Batches of episodes fused in one call each: (indices, targets (B, T_max, d), lengths (B,)).
        Rows t >= lengths[b] are zeros. Texts are padded to one L with a mask, frames to one T."""
        for start in range(0, len(self), batch_size):
            indices = list(range(start, min(start + batch_size, len(self))))
            texts = [self.episodes[i][0] for i in indices]
            frames = [self.episodes[i][1] for i in indices]
            tokens = max(t.shape[0] for t in texts)
            steps = max(f.shape[0] for f in frames)
            text = np.zeros((len(indices), tokens, texts[0].shape[1]), np.float32)
            mask = np.zeros((len(indices), tokens), bool)
            images = np.zeros((len(indices), steps, frames[0].shape[1]), np.float32)
            lengths = np.array([f.shape[0] for f in frames], np.int64)
            for b, (t, f) in enumerate(zip(texts, frames)):
                text[b, :t.shape[0]] = t
                mask[b, :t.shape[0]] = True
                images[b, :f.shape[0]] = f
            yield indices, self.model.fuse(text, images, text_mask=mask, image_lengths=lengths, per_step=True), lengths


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fusectl", default="fusectl", help="the CLI, for --check")
    parser.add_argument("--weights", required=True)
    parser.add_argument("--episodes", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    fusectl = import_fusectl(args.fusectl)

    rng = np.random.default_rng(args.seed)
    with fusectl.Model(args.weights) as model:
        txt, img = model.config["txt_latent_dim"], model.config["img_latent_dim"]
        episodes = [(rng.standard_normal((int(rng.integers(2, 9)), txt), dtype=np.float32),
                     rng.standard_normal((int(rng.integers(1, 17)), img), dtype=np.float32))
                    for _ in range(args.episodes)]
        dataset = StepTargets(model, episodes)
        one_by_one = [dataset[i] for i in range(len(dataset))]
        batched = {}
        for indices, targets, lengths in dataset.iterate(args.batch_size):
            for b, i in enumerate(indices):
                batched[i] = targets[b, :lengths[b]]
        steps = sum(t.shape[0] for t in one_by_one)
        print(f"{len(dataset)} episodes, {steps} per-step targets of size {one_by_one[0].shape[1]}")

    mismatches = 0
    # A sample's bits do not depend on the batch it is fused in, nor on padding.
    mismatches += sum(batched[i].tobytes() != one_by_one[i].tobytes() for i in range(len(episodes)))
    if args.check:
        for i, (text, frames) in enumerate(episodes):
            expected = cli_fuse(args.fusectl, args.weights, text[None], frames[None], ["--per-step"])[0]
            if expected.tobytes() != one_by_one[i].tobytes():
                mismatches += 1
                print(f"episode {i}: differs, max abs {np.max(np.abs(expected - one_by_one[i]))}")
        print(f"checked {len(episodes)} episodes ({steps} targets) against fusectl fuse --per-step: {mismatches} differ")
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
