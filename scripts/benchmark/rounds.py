"""Timing several sides in rounds, and the ratios read from the rounds (pure Python: no numpy, no torch).

A side is a callable that runs one warm forward call. run_rounds times `rounds` rounds; in
each round every side is called once, in an order that rotates from round to round (round r
starts with side r mod n), so that a machine whose speed drifts over minutes slows every side
alike, and no side always runs right after the same neighbour. summarize reads from those times
each side's median and the speed-up of one side (fusectl) over the fastest of the others,
computed within each round (that round's fastest peer time / that round's fusectl time) and
then the median over rounds: a ratio of two medians taken minutes apart would carry the drift.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from typing import Callable, Optional


def rotation(names: list[str], round_index: int) -> list[str]:
    """The order of round `round_index`: `names` rotated left by round_index mod len(names)."""
    if not names:
        return []
    k = round_index % len(names)
    return names[k:] + names[:k]


def run_rounds(calls: dict[str, Callable[[], object]], rounds: int,
               clock: Callable[[], float] = time.perf_counter,
               failures: Optional[dict[str, str]] = None) -> dict[str, list[Optional[float]]]:
    """Times `rounds` rounds of one call of every side, in rotating order; {side: [seconds or None] per round}.

    A side whose call raises is reported in `failures` (side -> "round r: message") and left out of
    the later rounds; its entries for the rounds it missed are None.
    """
    failures = {} if failures is None else failures
    names = list(calls)
    times: dict[str, list[Optional[float]]] = {name: [None] * rounds for name in names}
    for r in range(rounds):
        for name in rotation(names, r):
            if name in failures:
                continue
            start = clock()
            try:
                calls[name]()
            except Exception as error:  # noqa: BLE001 - a side's failure is reported, not fatal
                failures[name] = f"round {r}: {type(error).__name__}: {error}"
                continue
            times[name][r] = clock() - start
    return times


@dataclasses.dataclass
class RoundSummary:
    """What summarize reads from the rounds.

    medians: side -> median seconds over the rounds it ran (None: it ran none); ratios: per round
    where the subject and at least one peer ran, that round's fastest peer time / the subject's
    time (> 1: the subject is faster); speedup: the median of `ratios` (None without any);
    best_counts: peer -> the rounds in which it was the fastest peer.
    """

    medians: dict[str, Optional[float]]
    ratios: list[float]
    speedup: Optional[float]
    best_counts: dict[str, int]

    @property
    def ratio_range(self) -> Optional[tuple[float, float]]:
        return (min(self.ratios), max(self.ratios)) if self.ratios else None

    @property
    def best_peer(self) -> Optional[str]:
        """The peer that was fastest in the most rounds (ties: the one with the lower median)."""
        if not self.best_counts:
            return None
        return max(self.best_counts, key=lambda p: (self.best_counts[p], -(self.medians.get(p) or 0.0)))


def summarize(times: dict[str, list[Optional[float]]], subject: str, peers: list[str]) -> RoundSummary:
    """Medians per side and the per-round speed-up of `subject` over the fastest of `peers` (see RoundSummary)."""
    medians = {}
    for name, values in times.items():
        done = [v for v in values if v is not None]
        medians[name] = statistics.median(done) if done else None
    rounds = max((len(v) for v in times.values()), default=0)
    ratios, best_counts = [], {}
    mine = times.get(subject, [])
    for r in range(rounds):
        own = mine[r] if r < len(mine) else None
        timed = [(times[p][r], p) for p in peers if p in times and r < len(times[p]) and times[p][r] is not None]
        if not timed:
            continue
        seconds, fastest = min(timed)
        best_counts[fastest] = best_counts.get(fastest, 0) + 1
        if own:
            ratios.append(seconds / own)
    return RoundSummary(medians, ratios, statistics.median(ratios) if ratios else None, best_counts)
