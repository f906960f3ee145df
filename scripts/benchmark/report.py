"""Targets and the markdown table of scripts/bench (pure functions, no I/O).

A Result holds one workload's medians (seconds), FLOPs and RSS; evaluate()
checks it against issue 4's targets and table() renders all of them. Anything
not measured (no fusectl binary, no --timings) is None and shows as "n/a"; the
speed-up then falls back to PyTorch forward / fusectl end to end, which is a
lower bound on the forward speed-up and is marked "≥".
"""

from __future__ import annotations

import dataclasses
from typing import Optional

AGREEMENT_ATOL = 1e-4
"""fusectl and PyTorch outputs must agree to this max abs difference."""

TARGETS = {
    "W1": {"speedup": 3.0, "e2e_max_s": 0.030},
    "W2": {"speedup": 10.0, "e2e_over_forward": 1.3},
    "W3": {"speedup": 20.0},
    "W4": {"speedup": 3.0},
    "W5": {"speedup": 10.0},
}
"""Issue 4's targets: forward speed-up vs PyTorch, W1's whole-run latency, W2's e2e/forward ratio."""


@dataclasses.dataclass
class Result:
    """One workload's measurements; None where not measured."""

    name: str
    shape: str
    torch_forward_s: Optional[float]
    fusectl_e2e_s: Optional[float] = None
    fusectl_forward_s: Optional[float] = None
    flops: Optional[float] = None
    max_rss_kib: Optional[int] = None
    max_abs_diff: Optional[float] = None
    plan: Optional[str] = None

    @property
    def speedup(self) -> Optional[float]:
        """PyTorch forward / fusectl forward."""
        if self.torch_forward_s is None or not self.fusectl_forward_s:
            return None
        return self.torch_forward_s / self.fusectl_forward_s

    @property
    def speedup_lower_bound(self) -> Optional[float]:
        """PyTorch forward / fusectl end to end (the forward is part of the whole run)."""
        if self.torch_forward_s is None or not self.fusectl_e2e_s:
            return None
        return self.torch_forward_s / self.fusectl_e2e_s

    @property
    def e2e_over_forward(self) -> Optional[float]:
        if self.fusectl_e2e_s is None or not self.fusectl_forward_s:
            return None
        return self.fusectl_e2e_s / self.fusectl_forward_s

    @property
    def gflops(self) -> Optional[float]:
        """Achieved GFLOP/s of fusectl's plan: its reported FLOPs / its forward time."""
        if self.flops is None or not self.fusectl_forward_s:
            return None
        return self.flops / self.fusectl_forward_s / 1e9

    @property
    def agrees(self) -> Optional[bool]:
        return None if self.max_abs_diff is None else self.max_abs_diff <= AGREEMENT_ATOL


def evaluate(r: Result) -> tuple[str, str]:
    """(target text, verdict) for r; verdict is "met", "not met" or "unknown (why)".

    A target is met only if every part of it is measured and passes and the outputs
    agree; a speed-up known only as a lower bound counts when that bound passes.
    """
    target = TARGETS.get(r.name)
    if target is None:
        return "-", "-"
    parts, failed, unknown = [], [], []

    speedup_goal = target["speedup"]
    parts.append(f"≥{speedup_goal:g}×")
    if r.speedup is not None:
        if r.speedup < speedup_goal:
            failed.append("speed-up")
    elif r.speedup_lower_bound is not None and r.speedup_lower_bound >= speedup_goal:
        pass
    else:
        unknown.append("forward time")

    if "e2e_max_s" in target:
        parts.append(f"e2e ≤{target['e2e_max_s'] * 1e3:g} ms")
        if r.fusectl_e2e_s is None:
            unknown.append("e2e time")
        elif r.fusectl_e2e_s > target["e2e_max_s"]:
            failed.append("e2e")
    if "e2e_over_forward" in target:
        parts.append(f"e2e ≤{target['e2e_over_forward']:g}× fwd")
        if r.e2e_over_forward is None:
            unknown.append("e2e/forward")
        elif r.e2e_over_forward > target["e2e_over_forward"]:
            failed.append("e2e/forward")

    if r.agrees is False:
        failed.append("outputs differ")
    elif r.agrees is None:
        unknown.append("agreement")

    text = ", ".join(parts)
    if failed:
        return text, "not met (" + ", ".join(failed) + ")"
    if unknown:
        return text, "unknown (no " + ", ".join(unknown) + ")"
    return text, "met"


def ms(seconds: Optional[float]) -> str:
    """Seconds as milliseconds: 3 significant digits below 100 ms, whole numbers above; "n/a" for None."""
    if seconds is None:
        return "n/a"
    ms = seconds * 1e3
    return f"{ms:.3g}" if ms < 100 else f"{ms:.0f}"


def _ratio(value: Optional[float], lower_bound: Optional[float] = None) -> str:
    if value is not None:
        return f"{value:.3g}×"
    if lower_bound is not None:
        return f"≥{lower_bound:.3g}× (vs e2e)"
    return "n/a"


def table(results: list[Result], peak_gflops: Optional[float]) -> str:
    """The markdown table: one row per result, times in ms, RSS in MiB."""
    header = [
        "workload",
        "shape",
        "fusectl e2e ms",
        "fusectl fwd ms",
        "PyTorch fwd ms",
        "speed-up",
        "e2e/fwd",
        "GFLOP/s",
        "% of peak",
        "peak RSS MiB",
        "max abs diff",
        "target",
        "met?",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in results:
        target, verdict = evaluate(r)
        gflops = r.gflops
        fraction = f"{100 * gflops / peak_gflops:.0f}%" if gflops is not None and peak_gflops else "n/a"
        diff = "n/a" if r.max_abs_diff is None else f"{r.max_abs_diff:.1e}" + ("" if r.agrees else " FAIL")
        row = [
            r.name,
            r.shape,
            ms(r.fusectl_e2e_s),
            ms(r.fusectl_forward_s),
            ms(r.torch_forward_s),
            _ratio(r.speedup, r.speedup_lower_bound),
            "n/a" if r.e2e_over_forward is None else f"{r.e2e_over_forward:.2f}",
            "n/a" if gflops is None else f"{gflops:.0f}",
            fraction,
            "n/a" if r.max_rss_kib is None else f"{r.max_rss_kib / 1024:.0f}",
            diff,
            target,
            verdict,
        ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)
