#!/usr/bin/env python3
"""Writes the shipped example's inputs into examples/ (numpy only, deterministic).

    python3 scripts/reference/make_example.py          # then: bash scripts/run_example.sh

The example stands for three agent samples: an instruction of up to 8 tokens (right-padded, with a mask)
and a history of up to 12 frames (ragged: 12, 7 and 3 valid frames). The weights (examples/weights.npz)
come from `fusectl init --config examples/config.json --seed 7`, so no PyTorch is needed.
"""
import json
import pathlib

import numpy as np

SEED = 20261129
root = pathlib.Path(__file__).resolve().parents[2] / "examples"
config = json.loads((root / "config.json").read_text())
rng = np.random.default_rng(SEED)
B, L, T = 3, 8, 12
text = rng.standard_normal((B, L, config["txt_latent_dim"]), dtype=np.float32)
mask = np.zeros((B, L), dtype=np.bool_)
for b, n in enumerate([8, 5, 3]):
    mask[b, :n] = True
images = rng.standard_normal((B, T, config["img_latent_dim"]), dtype=np.float32)
image_lengths = np.array([12, 7, 3], dtype=np.int64)
np.save(root / "text.npy", text)
np.save(root / "text_mask.npy", mask)
np.save(root / "images.npy", images)
np.save(root / "image_lengths.npy", image_lengths)
(root / "MADE_BY.json").write_text(json.dumps({
    "script": "scripts/reference/make_example.py", "seed": SEED, "numpy": np.__version__,
    "weights": "fusectl init --config examples/config.json --seed 7 --out examples/weights.npz",
}, indent=2) + "\n")
