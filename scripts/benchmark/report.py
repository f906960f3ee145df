"""Targets and the markdown table of scripts/bench (pure functions, no I/O).

A Result holds one workload's medians (seconds) for every peer and for fusectl, the
FLOPs of fusectl's chosen plan, its peak RSS and the max abs errors; evaluate() checks
it against issue 20's targets (fusectl against the best peer measured in the same run: the
per-round speed-up of fusectl in-process in the rounds mode, else the CLI's forward) and
rounds_table() (the default, rounds mode) or table() (--per-process) renders all of them. Anything not measured (no fusectl binary, no
--timings, a peer not run) is None and shows as "n/a"; without a forward time the ratio
falls back to best peer forward / fusectl whole run, a lower bound marked "≥".
"""

from __future__ import annotations

import dataclasses
from typing import Optional

AGREEMENT_ATOL = 1e-4
"""fusectl and every peer must agree with PyTorch to this max abs difference."""

PEER_LABELS = {"torch": "PyTorch", "torch.compile": "torch.compile", "onnxruntime": "ONNX Runtime",
               "openvino": "OpenVINO"}
"""Column names of the peers, in table order."""

TARGETS = {
    "W1": {"vs_best_peer": 1.4, "savez_e2e_over_best_peer": 2.5},
    "W2": {"vs_best_peer": 6.0, "e2e_over_forward": 1.1},
    "W3": {"vs_best_peer": 25.0},
    "W4": {"vs_best_peer": 1.1},
    "W5": {"vs_best_peer": 10.0},
}
"""Issue 20's targets (W1's whole-run bound kept from issue 11): best peer forward / fusectl forward; W1's whole run with np.savez weights
against the best peer's in-process forward; W2's whole run (fusectl init weights) / forward."""


@dataclasses.dataclass
class Result:
    """One workload's measurements; None where not measured.

    peer_forward_s: peer name ("torch", "onnxruntime", "openvino") -> median forward seconds
    (None: run but failed); peer_diffs: peer -> max abs difference from PyTorch (PyTorch's own is
    not listed). fusectl_e2e_s / fusectl_forward_s: whole run and --timings forward_s with the
    weights as `fusectl init` writes them (64-byte aligned members); fusectl_savez_e2e_s: the
    whole run with the same weights written by np.savez.

    Rounds mode (benchmark/sides.py): peer_forward_s and inprocess_s (fusectl.Model.fuse) are medians
    over the rounds; round_speedup is the median over rounds of that round's fastest peer / that round's
    fusectl in-process time, round_range its smallest and largest value, rounds_won peer -> rounds in which
    it was the fastest peer; inprocess_diff fusectl in-process's max abs difference from PyTorch;
    peer_errors peer -> why it did not run ("–" in the table).
    """

    name: str
    shape: str
    peer_forward_s: dict[str, Optional[float]] = dataclasses.field(default_factory=dict)
    peer_diffs: dict[str, float] = dataclasses.field(default_factory=dict)
    fusectl_e2e_s: Optional[float] = None
    fusectl_forward_s: Optional[float] = None
    fusectl_savez_e2e_s: Optional[float] = None
    flops: Optional[float] = None
    max_rss_kib: Optional[int] = None
    max_abs_diff: Optional[float] = None
    plan: Optional[str] = None
    inprocess_s: Optional[float] = None
    inprocess_diff: Optional[float] = None
    round_speedup: Optional[float] = None
    round_range: Optional[tuple[float, float]] = None
    rounds_won: dict[str, int] = dataclasses.field(default_factory=dict)
    peer_errors: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def best_peer(self) -> Optional[tuple[str, float]]:
        """(name, seconds) of the fastest peer that ran; None when none did."""
        timed = [(s, name) for name, s in self.peer_forward_s.items() if s is not None]
        if not timed:
            return None
        seconds, name = min(timed)
        return name, seconds

    @property
    def vs_best_peer(self) -> Optional[float]:
        """Best peer forward / fusectl forward (> 1: fusectl is faster)."""
        best = self.best_peer
        if best is None or not self.fusectl_forward_s:
            return None
        return best[1] / self.fusectl_forward_s

    @property
    def speedup(self) -> Optional[float]:
        """The ratio the target is read from: the rounds' (in-process) when measured, else vs_best_peer (CLI)."""
        return self.round_speedup if self.round_speedup is not None else self.vs_best_peer

    @property
    def inprocess_gflops(self) -> Optional[float]:
        """The plan's FLOPs (as the CLI reports them) / fusectl's in-process median."""
        if self.flops is None or not self.inprocess_s:
            return None
        return self.flops / self.inprocess_s / 1e9

    @property
    def vs_best_peer_lower_bound(self) -> Optional[float]:
        """Best peer forward / fusectl whole run (the forward is part of the whole run)."""
        best = self.best_peer
        if best is None or not self.fusectl_e2e_s:
            return None
        return best[1] / self.fusectl_e2e_s

    @property
    def e2e_over_forward(self) -> Optional[float]:
        if self.fusectl_e2e_s is None or not self.fusectl_forward_s:
            return None
        return self.fusectl_e2e_s / self.fusectl_forward_s

    @property
    def savez_e2e_over_best_peer(self) -> Optional[float]:
        """fusectl's whole run with np.savez weights / the best peer's in-process forward."""
        best = self.best_peer
        if best is None or self.fusectl_savez_e2e_s is None:
            return None
        return self.fusectl_savez_e2e_s / best[1]

    @property
    def gflops(self) -> Optional[float]:
        """Achieved GFLOP/s of fusectl's chosen plan: its reported FLOPs / its forward time."""
        if self.flops is None or not self.fusectl_forward_s:
            return None
        return self.flops / self.fusectl_forward_s / 1e9

    @property
    def agrees(self) -> Optional[bool]:
        """Every fusectl output measured (the CLI's, the in-process one) within AGREEMENT_ATOL of PyTorch's."""
        diffs = [d for d in (self.max_abs_diff, self.inprocess_diff) if d is not None]
        if not diffs:
            return None
        return all(d <= AGREEMENT_ATOL for d in diffs)


def evaluate(r: Result) -> tuple[str, str]:
    """(target text, verdict) for r; verdict is "met", "not met (...)" or "unknown (no ...)".

    A target is met only if every part of it is measured and passes and fusectl's output
    agrees with PyTorch's; a ratio known only as a lower bound counts when that bound passes.
    """
    target = TARGETS.get(r.name)
    if target is None:
        return "-", "-"
    parts, failed, unknown = [], [], []

    goal = target["vs_best_peer"]
    parts.append(f"≥{goal:g}× best peer")
    if r.speedup is not None:
        if r.speedup < goal:
            failed.append("vs best peer")
    elif r.vs_best_peer_lower_bound is not None and r.vs_best_peer_lower_bound >= goal:
        pass
    elif r.best_peer is None:
        unknown.append("peer time")
    else:
        unknown.append("forward time")

    if "savez_e2e_over_best_peer" in target:
        limit = target["savez_e2e_over_best_peer"]
        parts.append(f"np.savez run ≤{limit:g}× best peer")
        if r.savez_e2e_over_best_peer is None:
            unknown.append("np.savez run")
        elif r.savez_e2e_over_best_peer > limit:
            failed.append("np.savez run")
    if "e2e_over_forward" in target:
        parts.append(f"run ≤{target['e2e_over_forward']:g}× fwd")
        if r.e2e_over_forward is None:
            unknown.append("run/forward")
        elif r.e2e_over_forward > target["e2e_over_forward"]:
            failed.append("run/forward")

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


def _peer_cell(r: Result, peer: str) -> str:
    return "–" if peer in r.peer_errors else ms(r.peer_forward_s.get(peer))


def rounds_table(results: list[Result], peak_gflops: Optional[float], peers: list[str]) -> str:
    """The rounds mode's markdown table: the in-process medians over rounds, the per-round speed-up, then
    the CLI's own figures (--timings forward, whole runs) beside them; "–": the side did not run."""
    header = [
        "workload",
        "shape",
        *[f"{PEER_LABELS.get(p, p)} ms" for p in peers],
        "fusectl in-process ms",
        "speed-up vs best peer (median of rounds)",
        "rounds' range",
        "fastest peer (rounds won)",
        "CLI fwd ms",
        "CLI run ms (init weights)",
        "CLI run ms (np.savez weights)",
        "CLI run/fwd",
        "GFLOP/s in-process",
        "% of peak",
        "CLI peak RSS MiB",
        "max abs err in-process, CLI",
        "peers' max abs err",
        "target",
        "met?",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in results:
        target, verdict = evaluate(r)
        gflops = r.inprocess_gflops
        won = ", ".join(f"{PEER_LABELS.get(p, p)} {n}" for p, n in sorted(r.rounds_won.items(), key=lambda kv: -kv[1]))
        row = [
            r.name,
            r.shape,
            *[_peer_cell(r, p) for p in peers],
            "–" if "fusectl" in r.peer_errors else ms(r.inprocess_s),
            _ratio(r.round_speedup),
            "n/a" if r.round_range is None else f"{r.round_range[0]:.3g}–{r.round_range[1]:.3g}×",
            won or "n/a",
            ms(r.fusectl_forward_s),
            ms(r.fusectl_e2e_s),
            ms(r.fusectl_savez_e2e_s),
            "n/a" if r.e2e_over_forward is None else f"{r.e2e_over_forward:.2f}",
            "n/a" if gflops is None else f"{gflops:.0f}",
            f"{100 * gflops / peak_gflops:.0f}%" if gflops is not None and peak_gflops else "n/a",
            "n/a" if r.max_rss_kib is None else f"{r.max_rss_kib / 1024:.0f}",
            f"{_diff(r.inprocess_diff)}, {_diff(r.max_abs_diff)}",
            ", ".join(f"{PEER_LABELS.get(p, p)} {_diff(r.peer_diffs[p])}" for p in peers if p in r.peer_diffs) or "n/a",
            target,
            verdict,
        ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


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
        return f"≥{lower_bound:.3g}× (vs run)"
    return "n/a"


def _diff(value: Optional[float]) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1e}" + ("" if value <= AGREEMENT_ATOL else " FAIL")


def table(results: list[Result], peak_gflops: Optional[float], peers: list[str]) -> str:
    """The markdown table: one row per result, times in ms, RSS in MiB; one column per peer in `peers`."""
    header = [
        "workload",
        "shape",
        *[f"{PEER_LABELS.get(p, p)} fwd ms" for p in peers],
        "fusectl fwd ms",
        "fusectl run ms (init weights)",
        "run ms (np.savez weights)",
        "fwd vs best peer",
        "run/fwd",
        "GFLOP/s",
        "% of peak",
        "peak RSS MiB",
        "max abs err",
        "peers' max abs err",
        "target",
        "met?",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in results:
        target, verdict = evaluate(r)
        gflops = r.gflops
        fraction = f"{100 * gflops / peak_gflops:.0f}%" if gflops is not None and peak_gflops else "n/a"
        peer_errors = ", ".join(
            f"{PEER_LABELS.get(p, p)} {_diff(r.peer_diffs[p])}" for p in peers if p in r.peer_diffs
        )
        row = [
            r.name,
            r.shape,
            *[ms(r.peer_forward_s.get(p)) for p in peers],
            ms(r.fusectl_forward_s),
            ms(r.fusectl_e2e_s),
            ms(r.fusectl_savez_e2e_s),
            _ratio(r.vs_best_peer, r.vs_best_peer_lower_bound),
            "n/a" if r.e2e_over_forward is None else f"{r.e2e_over_forward:.2f}",
            "n/a" if gflops is None else f"{gflops:.0f}",
            fraction,
            "n/a" if r.max_rss_kib is None else f"{r.max_rss_kib / 1024:.0f}",
            _diff(r.max_abs_diff),
            peer_errors or "n/a",
            target,
            verdict,
        ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)
