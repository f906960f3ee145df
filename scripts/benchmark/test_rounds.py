#!/usr/bin/env python3
"""Tests of scripts/bench's rounds: the rotating schedule, the per-round speed-up, and the rounds table and
verdicts (benchmark/rounds.py, benchmark/report.py). Plain Python, no numpy or torch, no real timing (a fake
clock), so they run anywhere; scripts/benchmark/test_bench.py runs them too.

    python3 scripts/benchmark/test_rounds.py
"""

from __future__ import annotations

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmark import report as bench_report  # noqa: E402
from benchmark import rounds as bench_rounds  # noqa: E402
from benchmark.report import Result, evaluate  # noqa: E402


class FakeClock:
    """A clock that each side's call advances by that side's cost in the current round."""

    def __init__(self):
        self.now = 0.0
        self.calls = []

    def __call__(self):
        return self.now

    def side(self, name, costs):
        def call():
            self.calls.append(name)
            cost = costs[len([c for c in self.calls if c == name]) - 1]
            if isinstance(cost, Exception):
                raise cost
            self.now += cost

        return call


class RotationTests(unittest.TestCase):
    def test_each_round_starts_one_side_later(self):
        names = ["torch", "onnxruntime", "fusectl"]
        self.assertEqual([bench_rounds.rotation(names, r) for r in range(4)], [
            ["torch", "onnxruntime", "fusectl"],
            ["onnxruntime", "fusectl", "torch"],
            ["fusectl", "torch", "onnxruntime"],
            ["torch", "onnxruntime", "fusectl"],
        ])
        self.assertEqual(bench_rounds.rotation([], 3), [])

    def test_every_side_takes_every_position(self):
        names = ["a", "b", "c", "d", "e"]
        orders = [bench_rounds.rotation(names, r) for r in range(5)]
        for position in range(5):
            self.assertEqual(sorted(order[position] for order in orders), names)


class RunRoundsTests(unittest.TestCase):
    def test_one_call_of_every_side_per_round_in_rotating_order(self):
        clock = FakeClock()
        calls = {"torch": clock.side("torch", [3.0, 3.5, 4.0]), "fusectl": clock.side("fusectl", [1.0, 1.5, 2.0])}
        times = bench_rounds.run_rounds(calls, 3, clock=clock)
        self.assertEqual(clock.calls, ["torch", "fusectl", "fusectl", "torch", "torch", "fusectl"])
        self.assertEqual(times, {"torch": [3.0, 3.5, 4.0], "fusectl": [1.0, 1.5, 2.0]})

    def test_a_failing_side_is_reported_and_left_out_of_later_rounds(self):
        clock = FakeClock()
        calls = {"torch": clock.side("torch", [2.0, 2.0, 2.0]),
                 "openvino": clock.side("openvino", [1.0, RuntimeError("out of memory")]),
                 "fusectl": clock.side("fusectl", [1.0, 1.0, 1.0])}
        failures = {}
        times = bench_rounds.run_rounds(calls, 3, clock=clock, failures=failures)
        self.assertEqual(failures, {"openvino": "round 1: RuntimeError: out of memory"})
        self.assertEqual(times["openvino"], [1.0, None, None])
        self.assertEqual(clock.calls.count("openvino"), 2)
        self.assertEqual(times["fusectl"], [1.0, 1.0, 1.0])


class SummarizeTests(unittest.TestCase):
    def test_the_speed_up_is_read_within_each_round(self):
        # The machine slows down 2x after the first two rounds: every side alike. Per round fusectl is
        # 2x faster than the fastest peer; the ratio of the medians would say 4/1.2 = 3.3x.
        times = {"torch": [3.0, 3.0, 6.0, 6.0, 6.0], "onnxruntime": [2.0, 2.0, 4.0, 4.0, 4.0],
                 "fusectl": [1.0, 1.0, 2.0, 2.0, 1.2]}
        s = bench_rounds.summarize(times, "fusectl", ["torch", "onnxruntime"])
        self.assertEqual(s.medians, {"torch": 6.0, "onnxruntime": 4.0, "fusectl": 1.2})
        self.assertEqual(s.ratios, [2.0, 2.0, 2.0, 2.0, 4.0 / 1.2])
        self.assertEqual(s.speedup, 2.0)
        self.assertEqual(s.ratio_range, (2.0, 4.0 / 1.2))
        self.assertEqual(s.best_counts, {"onnxruntime": 5})
        self.assertEqual(s.best_peer, "onnxruntime")

    def test_the_fastest_peer_of_each_round(self):
        times = {"torch": [1.0, 3.0, 3.0], "openvino": [2.0, 2.0, 2.5], "fusectl": [0.5, 1.0, 1.0]}
        s = bench_rounds.summarize(times, "fusectl", ["torch", "openvino"])
        self.assertEqual(s.ratios, [2.0, 2.0, 2.5])
        self.assertEqual(s.best_counts, {"torch": 1, "openvino": 2})
        self.assertEqual(s.best_peer, "openvino")

    def test_rounds_a_side_missed(self):
        times = {"torch": [2.0, 2.0, 2.0], "openvino": [1.0, None, None], "fusectl": [1.0, None, 0.5]}
        s = bench_rounds.summarize(times, "fusectl", ["torch", "openvino"])
        self.assertEqual(s.ratios, [1.0, 4.0])  # round 1 has no fusectl time
        self.assertEqual(s.medians["openvino"], 1.0)
        self.assertEqual(s.best_counts, {"openvino": 1, "torch": 2})

    def test_without_the_subject_or_the_peers(self):
        s = bench_rounds.summarize({"torch": [1.0, 2.0]}, "fusectl", ["torch"])
        self.assertEqual((s.ratios, s.speedup, s.ratio_range), ([], None, None))
        s = bench_rounds.summarize({"fusectl": [1.0]}, "fusectl", ["torch"])
        self.assertEqual((s.speedup, s.best_counts, s.best_peer), (None, {}, None))
        self.assertEqual(s.medians, {"fusectl": 1.0})


def rounds_result(name="W3", speedup=25.0, inprocess=0.04, cli_fwd=0.06, diff=1e-6, inprocess_diff=2e-6) -> Result:
    return Result(name, "shape", {"torch": 1.0, "torch.compile": None, "onnxruntime": 0.8}, {"onnxruntime": 2e-6},
                  0.07, cli_fwd, None, 8e9, 1024, diff, "x-formed", inprocess, inprocess_diff, speedup, (20.0, 30.0),
                  {"onnxruntime": 4, "torch": 1}, {"torch.compile": "BackendCompilerFailed: out of memory"})


class RoundsVerdictTests(unittest.TestCase):
    def test_the_rounds_speed_up_decides_not_the_cli_forward(self):
        r = rounds_result(speedup=25.0, cli_fwd=0.5)  # the CLI forward alone would read 1.6x
        self.assertEqual(r.speedup, 25.0)
        self.assertEqual(evaluate(r), ("≥25× best peer", "met"))
        self.assertEqual(evaluate(rounds_result(speedup=19.0, cli_fwd=0.001))[1], "not met (vs best peer)")

    def test_both_fusectl_outputs_must_agree(self):
        self.assertEqual(evaluate(rounds_result(inprocess_diff=2e-4))[1], "not met (outputs differ)")
        self.assertEqual(evaluate(rounds_result(diff=2e-4))[1], "not met (outputs differ)")
        self.assertIs(rounds_result(diff=None, inprocess_diff=1e-5).agrees, True)

    def test_without_rounds_the_cli_ratio_is_used(self):
        r = rounds_result(speedup=None, cli_fwd=0.04)
        self.assertAlmostEqual(r.speedup, 0.8 / 0.04)


class RoundsTableTests(unittest.TestCase):
    PEERS = ["torch", "torch.compile", "onnxruntime"]

    def test_row_values(self):
        table = bench_report.rounds_table([rounds_result()], peak_gflops=400.0, peers=self.PEERS)
        header = table.splitlines()[0].split(" | ")
        self.assertEqual(header[2:8], ["PyTorch ms", "torch.compile ms", "ONNX Runtime ms", "fusectl in-process ms",
                                       "speed-up vs best peer (median of rounds)", "rounds' range"])
        row = table.splitlines()[2].split(" | ")
        # peers (torch.compile failed: "–"), in-process, speed-up, range, rounds won, CLI fwd, runs, run/fwd,
        # GFLOP/s in-process (8e9 / 0.04 s), % of peak, RSS, errors
        self.assertEqual(row[2:19], ["1000", "–", "800", "40", "25×", "20–30×", "ONNX Runtime 4, PyTorch 1", "60", "70",
                                     "n/a", "1.17", "200", "50%", "1", "2.0e-06, 1.0e-06", "ONNX Runtime 2.0e-06",
                                     "≥25× best peer"])
        self.assertTrue(table.endswith("| met |"))

    def test_nothing_measured(self):
        table = bench_report.rounds_table([Result("W1", "shape", {"torch": 0.02})], None, ["torch"])
        self.assertEqual(table.splitlines()[2].count("n/a"), 14)


if __name__ == "__main__":
    unittest.main()
