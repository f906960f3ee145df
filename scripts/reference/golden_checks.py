"""Self-checks that scripts/reference/make_golden.py runs on every case after writing it.

A case only counts as written when all of these hold (otherwise CheckFailed is
raised, naming the case, the check, the sample/step and the numbers):

- reload: weights.npz through load_weights_npz (with the case's prefix / config
  file) and the inputs through np.load reproduce output.npy and attention.npy
  exactly; batch.npz members equal the .npy inputs.
- attention: every valid row sums to 1 (within ROW_SUM_TOL), weights at masked
  tokens are exactly 0, per-step rows for t >= image_lengths[b] are exactly 0
  (output too).
- plain mode: each sample alone, with its images truncated to its valid frames,
  gives the batched result (batch and padding independence).
- per-step mode: row t equals plain mode over all T frames with the frames > t
  masked (a different computation from the brute force over prefixes), and the
  one-pass forward_per_step_fast agrees with the brute force.
- NumPy: spec_numpy.fuse_one (float64, no torch) agrees with every valid
  output row and attention row.

Each check returns the worst error it saw, so MANIFEST.json can record them.

Run on its own (`python3 scripts/reference/golden_checks.py [fixtures/golden]`, NumPy only, no torch), it reads
every case MANIFEST.json lists from its files (the model's configuration from MANIFEST.json) and runs the
attention and NumPy float64 checks on the stored output.npy / attention.npy; it prints each case's worst
errors and exits 1 naming the first case that fails (the test suite runs it: GoldenTests).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import sys

import numpy as np  # noqa: E402

if __package__ in (None, ""):  # run as a file (python3 scripts/reference/golden_checks.py): find `reference`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reference import spec_numpy  # noqa: E402

try:
    import torch

    from reference.model import FusionConfig, FusionModel, load_weights_npz, read_config_member
except ImportError:  # the NumPy-only run (main below) needs neither
    torch = None

ROW_SUM_TOL = 1e-5
"""|sum of a valid attention row - 1| allowed (float32 sums of <= 24 terms)."""

SAME_MODEL_TOL = 1e-5
"""Output difference allowed between two torch float32 computations of the same quantity."""

SAME_MODEL_ATTN_TOL = 1e-6
"""Attention difference allowed between two torch float32 computations of the same quantity."""

NUMPY_OUT_TOL = 1e-5
"""torch float32 vs NumPy float64: output budget."""

NUMPY_ATTN_TOL = 1e-6
"""torch float32 vs NumPy float64: attention budget."""


class CheckFailed(Exception):
    """A golden case failed a self-check; the message names case, check and numbers."""


def _require(ok: bool, case: str, message: str) -> None:
    if not ok:
        raise CheckFailed(f"{case}: {message}")


def _max_abs(a, b) -> float:
    a = torch.as_tensor(a, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64)
    return float((a - b).abs().max()) if a.numel() else 0.0


def _slice(x: Optional[np.ndarray], b: int) -> Optional[np.ndarray]:
    return None if x is None else x[b : b + 1]


def load_case_inputs(case_dir: Path, spec: dict) -> dict[str, Optional[np.ndarray]]:
    """The inputs named by case.json, read back with np.load (None where absent)."""
    return {k: (np.load(case_dir / v) if v else None) for k, v in spec["inputs"].items()}


def frame_lengths(inputs: dict, B: int, T: int) -> np.ndarray:
    """image_lengths, or T for every sample."""
    il = inputs["image_lengths"]
    return np.full(B, T, dtype=np.int64) if il is None else il.astype(np.int64)


def check_reload(name: str, case_dir: Path, spec: dict, out: torch.Tensor, attn: torch.Tensor) -> None:
    """Everything on disk, read back through the reference's own loader, gives the same bits."""
    config_path = case_dir / spec["config_file"] if spec["config_file"] else None
    model = load_weights_npz(case_dir / spec["weights"], prefix=spec["prefix"] or "", config_path=config_path)
    inputs = load_case_inputs(case_dir, spec)
    with torch.inference_mode():
        fn = model.forward_per_step if spec["per_step"] else model.forward
        o, a = fn(**inputs, need_weights=True)
    _require(torch.equal(o, out), name, f"reloaded model output differs by {_max_abs(o, out):.3g}")
    _require(torch.equal(a, attn), name, f"reloaded model attention differs by {_max_abs(a, attn):.3g}")
    on_disk = np.load(case_dir / spec["expected"]["output"])
    _require(on_disk.dtype == np.float32 and np.array_equal(on_disk, out.numpy()), name, "output.npy != output")
    if spec["expected"]["attention"]:
        on_disk = np.load(case_dir / spec["expected"]["attention"])
        _require(on_disk.dtype == np.float32 and np.array_equal(on_disk, attn.numpy()), name, "attention.npy != attention")
    if spec.get("batch"):
        with np.load(case_dir / spec["batch"]) as bundle:
            members = set(bundle.files)
            expected = {k for k, v in inputs.items() if v is not None}
            _require(members == expected, name, f"batch.npz members {sorted(members)}, expected {sorted(expected)}")
            for k in expected:
                same = bundle[k].dtype == inputs[k].dtype and np.array_equal(bundle[k], inputs[k])
                _require(same, name, f"batch.npz member '{k}' differs from {spec['inputs'][k]}")


def check_attention(name: str, inputs: dict, per_step: bool, out: torch.Tensor, attn: torch.Tensor) -> float:
    """Row sums, exact zeros at masked tokens and invalid steps; returns the worst |row sum - 1|."""
    images = inputs["images"]
    B, T = images.shape[:2]
    P = images.shape[2] if images.ndim == 4 else 1
    lengths = frame_lengths(inputs, B, T)
    worst = 0.0
    for b in range(B):
        steps = range(T) if per_step else [None]
        for t in steps:
            if t is None:
                rows, visible = attn[b], int(lengths[b]) * P
            elif t >= lengths[b]:
                _require(bool((attn[b, t] == 0).all()), name, f"sample {b} step {t}: attention of a padded step not 0")
                _require(bool((out[b, t] == 0).all()), name, f"sample {b} step {t}: output of a padded step not 0")
                continue
            else:
                rows, visible = attn[b, t], (t + 1) * P
            sums = np.asarray(rows[..., :visible], dtype=np.float64).sum(-1)
            err = float(np.abs(sums - 1).max())
            worst = max(worst, err)
            _require(err <= ROW_SUM_TOL, name, f"sample {b} step {t}: attention row sums off by {err:.3g}")
            _require(bool((rows[..., visible:] == 0).all()), name, f"sample {b} step {t}: weight on a masked token")
    return worst


def check_plain_per_sample(name: str, model: FusionModel, inputs: dict, out, attn) -> float:
    """Sample b alone, images cut to its valid frames, equals row b of the batch."""
    images = inputs["images"]
    B, T = images.shape[:2]
    P = images.shape[2] if images.ndim == 4 else 1
    lengths = frame_lengths(inputs, B, T)
    worst = 0.0
    with torch.inference_mode():
        for b in range(B):
            n = int(lengths[b])
            o, a = model.forward(
                inputs["text"][b : b + 1],
                images[b : b + 1, :n],
                text_lengths=_slice(inputs["text_lengths"], b),
                text_mask=_slice(inputs["text_mask"], b),
                need_weights=True,
            )
            e_out = _max_abs(o[0], out[b])
            e_attn = _max_abs(a[0], attn[b, ..., : n * P])
            _require(e_out <= SAME_MODEL_TOL, name, f"sample {b} alone: output differs by {e_out:.3g}")
            _require(e_attn <= SAME_MODEL_ATTN_TOL, name, f"sample {b} alone: attention differs by {e_attn:.3g}")
            worst = max(worst, e_out)
    return worst


def check_per_step(name: str, model: FusionModel, inputs: dict, out, attn) -> dict[str, float]:
    """Row t == plain mode with frames > t masked; fast one-pass == brute force."""
    images = inputs["images"]
    B, T = images.shape[:2]
    lengths = frame_lengths(inputs, B, T)
    text_opts = {"text_lengths": inputs["text_lengths"], "text_mask": inputs["text_mask"]}
    worst_masked = 0.0
    with torch.inference_mode():
        for t in range(T):
            cut = np.minimum(lengths, t + 1)
            o, a = model.forward(inputs["text"], images, image_lengths=cut, need_weights=True, **text_opts)
            for b in range(B):
                if t >= lengths[b]:
                    continue
                e_out = _max_abs(o[b, 0], out[b, t])
                e_attn = _max_abs(a[b], attn[b, t])
                _require(e_out <= SAME_MODEL_TOL, name, f"sample {b} step {t}: masked plain output differs by {e_out:.3g}")
                _require(e_attn <= SAME_MODEL_ATTN_TOL, name, f"sample {b} step {t}: masked plain attention differs by {e_attn:.3g}")
                worst_masked = max(worst_masked, e_out)
        fo, fa = model.forward_per_step_fast(
            inputs["text"], images, image_lengths=inputs["image_lengths"], need_weights=True, **text_opts
        )
    e_fast = _max_abs(fo, out)
    e_fast_attn = _max_abs(fa, attn)
    _require(e_fast <= SAME_MODEL_TOL, name, f"forward_per_step_fast output differs by {e_fast:.3g}")
    _require(e_fast_attn <= SAME_MODEL_ATTN_TOL, name, f"forward_per_step_fast attention differs by {e_fast_attn:.3g}")
    return {"per_step_vs_masked_plain": worst_masked, "per_step_fast_vs_brute_force": e_fast}


def _numpy_weights(case_dir: Path, spec: dict, config: Optional[dict] = None) -> tuple[dict, dict]:
    """Reads weights.npz with np.load alone: float32-rounded float64 tensors, full config dict (`config`
    when given, e.g. MANIFEST.json's, else read from the case through reference.py)."""
    prefix = spec["prefix"] or ""
    with np.load(case_dir / spec["weights"]) as npz:
        arrays = {k: npz[k] for k in npz.files}
    config_member = next((k for k in ("config", prefix + "config") if k in arrays), None)
    if config is not None:
        cfg = None
    elif spec["config_file"]:
        cfg = FusionConfig.from_json((case_dir / spec["config_file"]).read_text())
    else:
        cfg = read_config_member(arrays[config_member], "config")
    weights = {
        k[len(prefix) :]: v.astype(np.float32).astype(np.float64)
        for k, v in arrays.items()
        if k != config_member
    }
    return weights, config if config is not None else cfg.to_dict()


def check_numpy(name: str, case_dir: Path, spec: dict, out, attn, config: Optional[dict] = None) -> dict[str, float]:
    """Every valid output/attention row against spec_numpy.fuse_one in float64 (`out`, `attn`: torch
    tensors or NumPy arrays; `config`: see _numpy_weights)."""
    w, cfg = _numpy_weights(case_dir, spec, config)
    inputs = load_case_inputs(case_dir, spec)
    text = inputs["text"].astype(np.float32).astype(np.float64)
    images = inputs["images"].astype(np.float32).astype(np.float64)
    if images.ndim == 3:
        images = images[:, :, None, :]
    B, T, P, img = images.shape
    lengths = frame_lengths(inputs, B, T)
    worst_out = worst_attn = 0.0
    for b in range(B):
        if text.ndim == 2:
            text_vec = text[b]
        else:
            tl = inputs["text_lengths"]
            tm = inputs["text_mask"]
            index = spec_numpy.pooled_index(
                text.shape[1], None if tl is None else int(tl[b]), None if tm is None else tm[b]
            )
            text_vec = text[b, index]
        steps = range(int(lengths[b])) if spec["per_step"] else [int(lengths[b]) - 1]
        for t in steps:
            tokens = images[b, : t + 1].reshape((t + 1) * P, img)
            vec, maps = spec_numpy.fuse_one(w, cfg, text_vec, tokens)
            got_out = out[b, t] if spec["per_step"] else out[b, 0]
            got_attn = attn[b, t] if spec["per_step"] else attn[b]
            e_out = float(np.abs(np.asarray(got_out, dtype=np.float64) - vec).max())
            e_attn = float(np.abs(np.asarray(got_attn[..., : (t + 1) * P], dtype=np.float64) - maps).max())
            _require(e_out <= NUMPY_OUT_TOL, name, f"sample {b} step {t}: NumPy float64 output differs by {e_out:.3g}")
            _require(e_attn <= NUMPY_ATTN_TOL, name, f"sample {b} step {t}: NumPy float64 attention differs by {e_attn:.3g}")
            worst_out, worst_attn = max(worst_out, e_out), max(worst_attn, e_attn)
    return {"numpy_float64_output": worst_out, "numpy_float64_attention": worst_attn}


def run_all(name: str, case_dir: Path, model: FusionModel, out: torch.Tensor, attn: torch.Tensor) -> dict[str, float]:
    """All checks for one written case; returns the measured worst errors."""
    spec = json.loads((case_dir / "case.json").read_text())
    check_reload(name, case_dir, spec, out, attn)
    inputs = load_case_inputs(case_dir, spec)
    measured = {"attention_row_sum": check_attention(name, inputs, spec["per_step"], out, attn)}
    if spec["per_step"]:
        measured.update(check_per_step(name, model, inputs, out, attn))
    else:
        measured["plain_sample_alone"] = check_plain_per_sample(name, model, inputs, out, attn)
    measured.update(check_numpy(name, case_dir, spec, out, attn))
    return measured


def main(argv: list[str]) -> int:
    """The NumPy-only checks of every shipped case (see the module's note); 0 when all pass."""
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent.parent / "fixtures" / "golden"
    manifest = json.loads((root / "MANIFEST.json").read_text())
    for entry in manifest["cases"]:
        name = entry["case"]
        case_dir = root / name
        spec = json.loads((case_dir / "case.json").read_text())
        out = np.load(case_dir / spec["expected"]["output"])
        attn_file = spec["expected"]["attention"]
        if attn_file is None:
            print(f"{name}: error: no attention.npy to check", file=sys.stderr)
            return 1
        attn = np.load(case_dir / attn_file)
        try:
            row_sum = check_attention(name, load_case_inputs(case_dir, spec), spec["per_step"], out, attn)
            measured = check_numpy(name, case_dir, spec, out, attn, config=entry["config"])
        except CheckFailed as failure:
            print(f"golden_checks: error: {failure}", file=sys.stderr)
            return 1
        print(f"{name}: attention row sums within {row_sum:.2g}; NumPy float64 output {measured['numpy_float64_output']:.3g},"
              f" attention {measured['numpy_float64_attention']:.3g}")
    print(f"golden_checks: {len(manifest['cases'])} cases agree with NumPy float64")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
