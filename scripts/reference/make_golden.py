#!/usr/bin/env python3
"""Writes the golden fixtures fixtures/golden/<case>/ from scripts/reference/model.py.

Regenerating is an explicit command, never part of a build:

    python3 scripts/reference/make_golden.py              # rewrites fixtures/golden/
    python3 scripts/reference/make_golden.py --out /tmp/g  # writes elsewhere (e.g. to diff)
    python3 scripts/reference/make_golden.py --check       # regenerates in a temporary folder and
                                                         # fails unless it is byte-identical to fixtures/golden/

If `import torch` fails, the script runs scripts/setup_torch.sh (a virtual
environment at $FUSECTL_TORCH_VENV, default .venv-torch at the repository root,
with scripts/reference/requirements.txt installed) and re-executes itself with
that environment's python. By hand:
scripts/setup_torch.sh && .venv-torch/bin/python scripts/reference/make_golden.py

The cases are listed in scripts/reference/golden_cases.py, the self-checks every case
must pass in scripts/reference/golden_checks.py, the file format in fixtures/golden/README.md
(written by this script). Output is deterministic for a given torch/numpy: each
case has its own seed, torch runs on one thread and the .npz members carry a fixed
timestamp, so MANIFEST.json's sha256 sums are stable.
"""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1]
ROOT = SCRIPTS.parent
sys.path.insert(0, str(SCRIPTS))

if __name__ == "__main__":
    from reference.torch_venv import reexec_if_no_torch

    reexec_if_no_torch()

import argparse  # noqa: E402
import copy  # noqa: E402
import filecmp  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from reference import golden_checks  # noqa: E402
from reference.golden_cases import CASES, SIZE_KEYS, Case  # noqa: E402
from reference.model import FusionConfig, FusionModel, init_model, save_weights_npz, write_npz  # noqa: E402

SCRIPT_NAME = "scripts/reference/make_golden.py"
NP_DTYPES = {"float16": np.float16, "float32": np.float32, "float64": np.float64}


def versions() -> dict[str, str]:
    return {"torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version()}


def perturb(model: FusionModel, gen: torch.Generator) -> None:
    """Makes the parameters that PyTorch initialises to ones/zeros non-trivial.

    LayerNorm weights become 1 + 0.3·N(0,1), every bias (LayerNorm, attention,
    FFN) gets + 0.2·N(0,1); matrices keep PyTorch's initialisation.
    """
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name.endswith("final_norm.weight"):
                p.copy_(1.0 + 0.3 * noise)
            elif name.endswith("bias"):
                p.add_(0.2 * noise)


def stored_model(model: FusionModel, dtype: str, gen: torch.Generator) -> FusionModel:
    """The model as the weights file holds it: float16 rounds once; float64 gets
    noise of ~1e-9 so that its values are not float32-representable."""
    stored = copy.deepcopy(model)
    if dtype == "float16":
        return stored.half()
    if dtype == "float64":
        stored = stored.double()
        with torch.no_grad():
            for p in stored.parameters():
                p.add_(1e-9 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
        return stored
    return stored


def make_inputs(case: Case, cfg: FusionConfig) -> dict[str, np.ndarray | None]:
    """Standard normal text/images (times input_scale) in the storage dtype, plus the case's lengths/mask."""
    rng = np.random.default_rng(case.seed)
    text_shape = (case.B, cfg.txt_latent_dim) if case.L is None else (case.B, case.L, cfg.txt_latent_dim)
    image_shape = (case.B, case.T, cfg.img_latent_dim) if case.P is None else (case.B, case.T, case.P, cfg.img_latent_dim)
    dtype = NP_DTYPES[case.dtype]
    text = (rng.standard_normal(text_shape) * case.input_scale).astype(dtype)
    images = (rng.standard_normal(image_shape) * case.input_scale).astype(dtype)
    as_ints = lambda v: None if v is None else np.array(v, dtype=np.int64)  # noqa: E731
    return {
        "text": text,
        "images": images,
        "text_lengths": as_ints(case.text_lengths),
        "text_mask": None if case.text_mask is None else np.array(case.text_mask, dtype=case.mask_dtype),
        "image_lengths": as_ints(case.image_lengths),
    }


def write_weights(case: Case, case_dir: Path, stored: FusionModel, cfg: FusionConfig) -> str | None:
    """weights.npz (and config.json for config_storage 'file'); returns the config file name or None."""
    prefix = case.prefix or ""
    kwargs = {"prefix": prefix, "dtype": NP_DTYPES[case.dtype], "compressed": case.compressed}
    if case.config_storage == "member":
        save_weights_npz(stored, case_dir / "weights.npz", **kwargs)
    elif case.config_storage == "prefixed_member":
        save_weights_npz(stored, case_dir / "weights.npz", config_key=prefix + "config", **kwargs)
    elif case.config_storage == "partial_member":
        full = cfg.to_dict()
        partial = {k: full[k] for k in SIZE_KEYS}
        if FusionConfig.from_dict(partial) != cfg:
            raise ValueError(f"{case.name}: a partial config needs the defaults for every non-size key")
        save_weights_npz(stored, case_dir / "weights.npz", config_json=json.dumps(partial), **kwargs)
    elif case.config_storage == "file":
        save_weights_npz(stored, case_dir / "weights.npz", include_config=False, **kwargs)
        (case_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2) + "\n", encoding="utf-8")
        return "config.json"
    else:
        raise ValueError(f"{case.name}: unknown config_storage {case.config_storage!r}")
    return None


def make_case(case: Case, case_dir: Path) -> dict:
    """Writes one case folder, runs the self-checks; returns its MANIFEST entry."""
    case_dir.mkdir(parents=True)
    cfg = FusionConfig.from_dict(case.full_config())
    model = init_model(cfg, case.seed)
    gen = torch.Generator().manual_seed(case.seed)
    perturb(model, gen)
    stored = stored_model(model, case.dtype, gen)
    reference = copy.deepcopy(stored).float().eval()
    inputs = make_inputs(case, cfg)

    with torch.inference_mode():
        fn = reference.forward_per_step if case.per_step else reference.forward
        out, attn = fn(**inputs, need_weights=True)

    config_file = write_weights(case, case_dir, stored, cfg)
    names = {}
    for key, value in inputs.items():
        if value is not None:
            names[key] = f"{key}.npy"
            np.save(case_dir / names[key], value)
        else:
            names[key] = None
    np.save(case_dir / "output.npy", out.numpy().astype(np.float32))
    np.save(case_dir / "attention.npy", attn.numpy().astype(np.float32))
    spec = {
        "case": case.name,
        "description": case.description,
        "weights": "weights.npz",
        "prefix": case.prefix,
        "config_file": config_file,
        "inputs": names,
        "per_step": case.per_step,
        "expected": {"output": "output.npy", "attention": "attention.npy"},
        "made_by": {"script": SCRIPT_NAME, "seed": case.seed, **versions()},
    }
    if case.bundle:
        write_npz(case_dir / "batch.npz", {k: v for k, v in inputs.items() if v is not None})
        spec["batch"] = "batch.npz"
    (case_dir / "case.json").write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")

    measured = golden_checks.run_all(case.name, case_dir, reference, out, attn)
    files = {}
    for path in sorted(case_dir.iterdir()):
        data = path.read_bytes()
        files[path.name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return {
        "case": case.name,
        "description": case.description,
        "seed": case.seed,
        "per_step": case.per_step,
        "storage_dtype": case.dtype,
        "config": cfg.to_dict(),
        "output_shape": list(out.shape),
        "attention_shape": list(attn.shape),
        "self_check_max_abs_error": measured,
        "files": files,
    }


README = """# Golden fixtures (generated — do not edit by hand)

Made by `scripts/reference/make_golden.py` from the PyTorch reference `scripts/reference/model.py`.
Regenerate with `python3 scripts/reference/make_golden.py` (it sets up torch via
`scripts/setup_torch.sh` if needed); `python3 scripts/reference/make_golden.py --check` verifies
that a regeneration is byte-identical (expect that with the torch/numpy versions below
on a similar CPU; another torch or CPU may move the last float32 bit). MANIFEST.json lists every case, its seed, the
torch/numpy/python versions, the self-check errors and the sha256 of every file.

Each `<case>/` holds `case.json` (which files play which role), `weights.npz`
(state_dict with the key names of docs/model.md, optionally prefixed, plus a 0-d unicode `config`
member unless `config_file` names `config.json`), the inputs (`text.npy`,
`images.npy`, optional `text_lengths.npy`, `text_mask.npy`, `image_lengths.npy`), and
the float32 expectations `output.npy` ((B,1,d) plain, (B,T,d) per-step) and
`attention.npy` ((B,N,H,T·P) plain, (B,T,N,H,T·P) per-step; zeros at masked tokens
and for steps t >= image_lengths[b]). `bundle_batch` also has `batch.npz` for
`fusectl fuse --batch`. Compare a Swift output with
`python3 scripts/reference/compare_with_torch.py fixtures/golden/<case> OUT.npy [ATTN.npy]`.

| case | per-step | storage | description |
|---|---|---|---|
"""


def write_tree(out_dir: Path) -> dict:
    """Writes every case plus MANIFEST.json and README.md into out_dir (which must not exist)."""
    out_dir.mkdir(parents=True)
    entries = []
    for case in CASES:
        entries.append(make_case(case, out_dir / case.name))
        print(f"  {case.name}: ok {entries[-1]['self_check_max_abs_error']}", file=sys.stderr)
    total = sum(f["bytes"] for e in entries for f in e["files"].values())
    manifest = {
        "made_by": {"script": SCRIPT_NAME, **versions(), "torch_threads": 1},
        "regenerate": "python3 scripts/reference/make_golden.py",
        "reference": "scripts/reference/model.py",
        "total_case_bytes": total,
        "cases": entries,
    }
    (out_dir / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    rows = "".join(
        f"| `{e['case']}` | {'yes' if e['per_step'] else 'no'} | {e['storage_dtype']} | {e['description']} |\n"
        for e in entries
    )
    (out_dir / "README.md").write_text(README + rows, encoding="utf-8")
    return manifest


def main() -> int:
    parser = argparse.ArgumentParser(description="Write the golden fixtures from the PyTorch reference.")
    parser.add_argument("--out", type=Path, default=ROOT / "fixtures" / "golden", help="target folder (replaced)")
    parser.add_argument("--check", action="store_true", help="regenerate into a temporary folder and compare with --out")
    args = parser.parse_args()
    torch.set_num_threads(1)
    target = args.out.resolve()
    with tempfile.TemporaryDirectory(prefix=".golden-", dir=target.parent if target.parent.exists() else None) as tmp:
        fresh = Path(tmp) / "golden"
        manifest = write_tree(fresh)
        if args.check:
            cmp = filecmp.dircmp(fresh, target)
            diffs = _tree_differences(cmp)
            if diffs:
                print("make_golden.py --check: regenerated fixtures differ from " f"{target}:", file=sys.stderr)
                for line in diffs:
                    print(f"  {line}", file=sys.stderr)
                return 1
            print(f"make_golden.py --check: {len(CASES)} cases byte-identical to {target}", file=sys.stderr)
            return 0
        if target.exists():
            shutil.rmtree(target)
        shutil.move(str(fresh), str(target))
    print(f"wrote {len(CASES)} cases, {manifest['total_case_bytes']} bytes, to {target}", file=sys.stderr)
    return 0


def _tree_differences(cmp: filecmp.dircmp, rel: str = "") -> list[str]:
    """Files only on one side or with different bytes, recursively."""
    lines = [f"only in regenerated: {rel}{n}" for n in cmp.left_only]
    lines += [f"only in existing: {rel}{n}" for n in cmp.right_only]
    _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
    lines += [f"differs: {rel}{n}" for n in mismatch + errors]
    for name, sub in cmp.subdirs.items():
        lines += _tree_differences(sub, f"{rel}{name}/")
    return lines


if __name__ == "__main__":
    sys.exit(main())
