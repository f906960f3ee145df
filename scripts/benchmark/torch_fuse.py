"""Runs the PyTorch reference on files, like `fusectl fuse`, and optionally times it.

    PYTHONPATH=scripts python3 -m benchmark.torch_fuse --weights W.npz [--prefix P] [--config C.json]
        (--batch B.npz | --text T.npy --images I.npy [--text-lengths F] [--text-mask F] [--image-lengths F])
        [--per-step [--brute-force]] [--out OUT.npy] [--attention ATTN.npy]
        [--threads N] [--repeat R] [--warmup W]

Per-step mode uses the one-pass forward_per_step_fast unless --brute-force is given.
Plain mode without --attention calls the model with need_weights=False (PyTorch's
fastest path). Timing runs under torch.inference_mode() with --threads threads
(default: torch's default) and prints one JSON line to stdout:
{"mode", "threads", "repeat", "min_s", "median_s", "shape"}. It is the PyTorch side
of the performance ratios docs/model.md asks for; run fusectl on the same files with the same
thread count. Re-executes itself under the torch venv if torch is missing.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from reference.torch_venv import reexec_if_no_torch

    reexec_if_no_torch()

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from reference.model import load_weights_npz  # noqa: E402

INPUT_KEYS = ("text", "images", "text_lengths", "text_mask", "image_lengths")


def load_inputs(args: argparse.Namespace) -> dict:
    """The five inputs (None where absent) from --batch or the separate files."""
    if args.batch:
        with np.load(args.batch) as bundle:
            unknown = sorted(set(bundle.files) - set(INPUT_KEYS))
            if unknown:
                raise SystemExit(f"{args.batch}: unknown member(s) {unknown}; expected some of {list(INPUT_KEYS)}")
            for key in ("text", "images"):
                if key not in bundle.files:
                    raise SystemExit(f"{args.batch}: missing member '{key}'")
            return {k: (bundle[k] if k in bundle.files else None) for k in INPUT_KEYS}
    if not (args.text and args.images):
        raise SystemExit("give --batch, or both --text and --images")
    paths = {k: getattr(args, k) for k in INPUT_KEYS}
    return {k: (np.load(p) if p else None) for k, p in paths.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--prefix", default="")
    parser.add_argument("--config")
    parser.add_argument("--batch")
    for key in INPUT_KEYS:
        parser.add_argument("--" + key.replace("_", "-"), dest=key)
    parser.add_argument("--per-step", action="store_true")
    parser.add_argument("--brute-force", action="store_true", help="per-step by brute force over prefixes")
    parser.add_argument("--out")
    parser.add_argument("--attention")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=0)
    args = parser.parse_args()
    if args.batch and any(getattr(args, k) for k in INPUT_KEYS):
        parser.error("--batch excludes the separate input files")
    if args.brute_force and not args.per_step:
        parser.error("--brute-force applies to --per-step only")
    if args.threads:
        torch.set_num_threads(args.threads)

    model = load_weights_npz(args.weights, prefix=args.prefix, config_path=args.config)
    inputs = load_inputs(args)
    need_weights = args.attention is not None
    if args.per_step:
        fn = model.forward_per_step if args.brute_force else model.forward_per_step_fast
        mode = "per-step brute force" if args.brute_force else "per-step"
    else:
        fn, mode = model.forward, "plain"

    times = []
    with torch.inference_mode():
        for i in range(args.warmup + args.repeat):
            start = time.perf_counter()
            result = fn(**inputs, need_weights=need_weights)
            if i >= args.warmup:
                times.append(time.perf_counter() - start)
    out, attn = result if need_weights else (result, None)
    if args.out:
        np.save(args.out, out.numpy().astype(np.float32))
    if args.attention:
        np.save(args.attention, attn.numpy().astype(np.float32))
    report = {
        "mode": mode,
        "threads": torch.get_num_threads(),
        "repeat": args.repeat,
        "min_s": min(times),
        "median_s": statistics.median(times),
        "shape": list(out.shape),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
