#!/usr/bin/env python3
"""Writes fixtures/safetensors/: one small reference model's state_dict saved by the real
`safetensors` package (safetensors.torch.save_file) in F32, F16, BF16 and F64, beside .npz files
holding the same values, so that the Swift tests compare the two loaders bit for bit without Python.

    python3 scripts/reference/make_safetensors_fixtures.py               # rewrites fixtures/safetensors/
    python3 scripts/reference/make_safetensors_fixtures.py --out /tmp/s  # writes elsewhere
    python3 scripts/reference/make_safetensors_fixtures.py --check       # fails unless a fresh copy is byte-identical

Needs torch, numpy and safetensors (the script re-executes itself under scripts/setup_torch.sh's
venv when torch is missing; FUSECTL_TORCH_VENV names another venv, e.g. one with safetensors).

Files (config in MANIFEST.json; the model is scripts/reference/model.py's, initialised with SEED):
  weights.npz          float32 state_dict + `config`, members 64-byte aligned (reference.write_npz)
  f32.safetensors      the same tensors, F32, config in __metadata__["config"]
  f16.safetensors      F16, beside f16.npz (float16 members): the same half-precision values
  bf16.safetensors     BF16, beside bf16.npz (the bf16 values widened exactly to float32)
  f64.safetensors      F64, beside f64.npz (float64 members)
  agent.safetensors    an agent checkpoint: the F32 tensors under "policy.fusion.", plus
                       "policy.head.weight" (BF16), "policy.head.bias" (F32) and "value.steps" (I64)
                       outside that prefix; __metadata__["config"] unprefixed
  bare.safetensors     the F32 tensors without metadata (the configuration must come from --config)
  config.json          the configuration
  text.npy, images.npy inputs: (2, 5, txt) and (2, 6, img) standard normal float32
  expected.npy         the reference's plain output for the float32 model on those inputs (B, 1, d)
"""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent
ROOT = SCRIPTS.parent
sys.path.insert(0, str(SCRIPTS))

if __name__ == "__main__":
    from reference.torch_venv import reexec_if_no_torch

    reexec_if_no_torch()

import argparse  # noqa: E402
import filecmp  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from reference import model as reference  # noqa: E402

SEED = 5150
CONFIG = reference.FusionConfig(
    img_latent_dim=20, txt_latent_dim=12, proj_dim=16, n_heads=2, n_blocks=2, ffn_dim=48,
    norm_first=False, activation="gelu", final_norm=True, attn_bias=True,
)


def write_all(out: Path) -> dict:
    try:
        import safetensors
        from safetensors.torch import save_file
    except ImportError:
        sys.exit("make_safetensors_fixtures.py: the safetensors package is not installed in this venv "
                 "(pip install safetensors, or set FUSECTL_TORCH_VENV to a venv that has it)")
    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    model = reference.init_model(CONFIG, SEED)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    config_json = CONFIG.to_json()
    metadata = {"config": config_json}

    reference.write_npz(out / "weights.npz", {**{k: v.numpy() for k, v in state.items()},
                                              "config": np.array(config_json)}, align=64)
    save_file(state, str(out / "f32.safetensors"), metadata=metadata)
    save_file(state, str(out / "bare.safetensors"))

    for name, dtype, as_numpy in [
        ("f16", torch.float16, lambda t: t.numpy()),
        ("bf16", torch.bfloat16, lambda t: t.float().numpy()),  # bf16 → float32 is exact
        ("f64", torch.float64, lambda t: t.numpy()),
    ]:
        converted = {k: v.to(dtype) for k, v in state.items()}
        save_file(converted, str(out / f"{name}.safetensors"), metadata=metadata)
        reference.write_npz(out / f"{name}.npz", {**{k: as_numpy(v) for k, v in converted.items()},
                                                  "config": np.array(config_json)}, align=64)

    generator = torch.Generator().manual_seed(SEED + 1)
    agent = {"policy.fusion." + k: v for k, v in state.items()}
    agent["policy.head.weight"] = torch.randn(3, CONFIG.proj_dim, generator=generator).to(torch.bfloat16)
    agent["policy.head.bias"] = torch.tensor([float("nan"), 0.0, 1.0])  # never read: outside the prefix
    agent["value.steps"] = torch.tensor([7], dtype=torch.int64)
    save_file(agent, str(out / "agent.safetensors"), metadata=metadata)

    (out / "config.json").write_text(config_json + "\n")
    text = torch.randn(2, 5, CONFIG.txt_latent_dim, generator=generator)
    images = torch.randn(2, 6, CONFIG.img_latent_dim, generator=generator)
    np.save(out / "text.npy", text.numpy())
    np.save(out / "images.npy", images.numpy())
    with torch.inference_mode():
        expected = model(text.numpy(), images.numpy())
    np.save(out / "expected.npy", expected.numpy().astype(np.float32))

    files = {}
    for path in sorted(out.iterdir()):
        if path.name == "MANIFEST.json":
            continue
        data = path.read_bytes()
        files[path.name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    manifest = {
        "made_by": {
            "script": "scripts/reference/make_safetensors_fixtures.py",
            "torch": torch.__version__,
            "safetensors": safetensors.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "torch_threads": 1,
        },
        "regenerate": "python3 scripts/reference/make_safetensors_fixtures.py",
        "reference": "scripts/reference/model.py",
        "seed": SEED,
        "config": CONFIG.to_dict(),
        "inputs_seed": SEED + 1,
        "files": files,
    }
    (out / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "fixtures" / "safetensors")
    parser.add_argument("--check", action="store_true", help="regenerate in a temporary folder and compare")
    args = parser.parse_args()
    if args.check:
        with tempfile.TemporaryDirectory() as folder:
            write_all(Path(folder))
            names = sorted(p.name for p in Path(folder).iterdir())
            same, differ, missing = filecmp.cmpfiles(args.out, folder, names, shallow=False)
            if differ or missing:
                sys.exit(f"make_safetensors_fixtures.py --check: differ {differ}, missing {missing}")
            print(f"fixtures/safetensors: {len(same)} files byte-identical")
        return
    manifest = write_all(args.out)
    print(f"wrote {len(manifest['files'])} files to {args.out}")


if __name__ == "__main__":
    main()
