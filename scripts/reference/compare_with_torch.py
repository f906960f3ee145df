#!/usr/bin/env python3
"""Compares an output (and optionally attention) written by fusectl with a golden case.

    python3 scripts/reference/compare_with_torch.py fixtures/golden/<case> OUT.npy [ATTN.npy]

Prints, per array, the shapes, the max abs error and where it occurs; exits 1 when a
shape differs or an error exceeds the issue's budget (output 1e-4, attention 1e-5),
2 on a usage error. Needs numpy only (the golden files hold PyTorch's results).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

OUTPUT_TOL = 1e-4
ATTENTION_TOL = 1e-5


def compare(label: str, expected_path: Path, got_path: Path, tol: float) -> bool:
    """Prints one comparison line; returns True when shapes match and max abs error <= tol."""
    expected = np.load(expected_path).astype(np.float64)
    got = np.load(got_path).astype(np.float64)
    if expected.shape != got.shape:
        print(f"{label}: shape {got.shape} in {got_path}, golden {expected_path} has {expected.shape}  FAIL")
        return False
    if expected.size == 0:
        print(f"{label}: empty arrays, shape {expected.shape}  ok")
        return True
    diff = np.abs(got - expected)
    if not np.isfinite(got).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0])
        print(f"{label}: non-finite value at index {where} in {got_path}  FAIL")
        return False
    where = tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape))
    worst = float(diff[where])
    verdict = "ok" if worst <= tol else "FAIL"
    print(
        f"{label}: shape {expected.shape}, max abs error {worst:.3e} at {where} "
        f"(got {got[where]:.7g}, golden {expected[where]:.7g}), budget {tol:g}  {verdict}"
    )
    return worst <= tol


def main(argv: list[str]) -> int:
    if len(argv) not in (3, 4):
        print("usage: " + __doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    case_dir, out_path = Path(argv[1]), Path(argv[2])
    spec = json.loads((case_dir / "case.json").read_text(encoding="utf-8"))
    ok = compare("output", case_dir / spec["expected"]["output"], out_path, OUTPUT_TOL)
    if len(argv) == 4:
        if not spec["expected"].get("attention"):
            print(f"attention: case {spec['case']} has no golden attention", file=sys.stderr)
            return 2
        ok = compare("attention", case_dir / spec["expected"]["attention"], Path(argv[3]), ATTENTION_TOL) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
