#!/usr/bin/env python3
"""Tests of scripts/bench: targets, table, timings parsing, workload files, process timing, and one
end-to-end run against a stand-in fusectl (a Python script that runs the PyTorch reference and
prints --timings like the real binary), so the benchmark is tested without a Swift build.

    FUSECTL_TORCH_VENV=/path/to/venv python3 scripts/benchmark/test_bench.py      # re-execs under the torch venv
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if __name__ == "__main__":
    from reference.torch_venv import reexec_if_no_torch

    reexec_if_no_torch()

import contextlib  # noqa: E402
import dataclasses  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import stat  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import unittest  # noqa: E402

import numpy as np  # noqa: E402

from benchmark import fusectl as bench_fusectl  # noqa: E402
from benchmark import main as bench_main  # noqa: E402
from benchmark import peak as bench_peak  # noqa: E402
from benchmark import report as bench_report  # noqa: E402
from benchmark import rss as bench_rss  # noqa: E402
from benchmark import workloads as bench_workloads  # noqa: E402
from benchmark.report import Result, evaluate  # noqa: E402

SCRIPTS = Path(__file__).resolve().parents[1]

STAND_IN = '''#!{python}
"""Stand-in for `fusectl fuse` in scripts/benchmark/test_bench.py: runs the PyTorch reference."""
import json, sys, time
sys.path.insert(0, {scripts!r})
args = sys.argv[1:]
if args[:1] != ["fuse"]:
    sys.exit("stand-in: only 'fuse'")
if "--help" in args:
    print("--weights --text --images --text-mask --image-lengths --per-step --out {extra}")
    sys.exit(0)
{failure}
import numpy as np, torch
from reference.model import load_weights_npz
opts, i, flags = {{}}, 1, set()
while i < len(args):
    if args[i] in ("--per-step", "--timings"):
        flags.add(args[i]); i += 1
    else:
        opts[args[i]] = args[i + 1]; i += 2
start = time.perf_counter()
model = load_weights_npz(opts["--weights"])
get = lambda k: np.load(opts[k]) if k in opts else None
text, images, mask, lengths = get("--text"), get("--images"), get("--text-mask"), get("--image-lengths")
loaded = time.perf_counter()
with torch.inference_mode():
    fn = model.forward_per_step_fast if "--per-step" in flags else model.forward
    out = fn(text, images, text_mask=mask, image_lengths=lengths).numpy()
out = out + {offset}
forwarded = time.perf_counter()
np.save(opts["--out"], out.astype(np.float32))
if "--timings" in flags:
    print(json.dumps({{"load_s": loaded - start, "forward_s": forwarded - loaded,
                      "write_s": time.perf_counter() - forwarded, "plan": "stand-in", "flops": 1e9}}),
          file=sys.stderr)
'''


def write_stand_in(folder: Path, timings: bool = True, offset: float = 0.0, fail: bool = False) -> Path:
    """A stand-in `fusectl` in `folder`: with/without --timings and --threads, adding `offset` to its
    output, or failing every fuse with exit status 1."""
    path = folder / "fusectl"
    extra = "--threads --timings" if timings else ""
    failure = 'sys.exit("stand-in: failing on purpose")' if fail else ""
    path.write_text(
        STAND_IN.format(python=sys.executable, scripts=str(SCRIPTS), extra=extra, offset=offset, failure=failure)
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def result(name="W3", torch_s=1.0, e2e=0.06, fwd=0.04, diff=1e-6, flops=None) -> Result:
    return Result(name, "shape", torch_s, e2e, fwd, flops, 1024, diff)


class TargetTests(unittest.TestCase):
    def test_speedup_met_and_not_met(self):
        self.assertEqual(evaluate(result("W3", fwd=0.04)), ("≥20×", "met"))  # 25×
        self.assertEqual(evaluate(result("W3", fwd=0.06)), ("≥20×", "not met (speed-up)"))  # 16.7×

    def test_w1_latency_is_part_of_the_target(self):
        self.assertEqual(evaluate(result("W1", torch_s=0.03, e2e=0.025, fwd=0.005))[1], "met")
        self.assertEqual(evaluate(result("W1", torch_s=0.03, e2e=0.031, fwd=0.005))[1], "not met (e2e)")

    def test_w2_e2e_over_forward(self):
        text, verdict = evaluate(result("W2", torch_s=1.0, e2e=0.065, fwd=0.05))
        self.assertEqual(text, "≥10×, e2e ≤1.3× fwd")
        self.assertEqual(verdict, "met")
        self.assertEqual(evaluate(result("W2", torch_s=1.0, e2e=0.066, fwd=0.05))[1], "not met (e2e/forward)")

    def test_disagreeing_outputs_never_meet(self):
        self.assertEqual(evaluate(result("W3", diff=2e-4))[1], "not met (outputs differ)")
        self.assertEqual(evaluate(result("W3", diff=1e-4))[1], "met")

    def test_without_forward_time_the_e2e_lower_bound_decides_only_when_it_passes(self):
        self.assertEqual(evaluate(result("W3", e2e=0.04, fwd=None))[1], "met")
        self.assertEqual(evaluate(result("W3", e2e=0.06, fwd=None))[1], "unknown (no forward time)")

    def test_without_fusectl_everything_is_unknown(self):
        r = Result("W1", "shape", 0.02)
        self.assertEqual(evaluate(r)[1], "unknown (no forward time, e2e time, agreement)")


class TableTests(unittest.TestCase):
    def test_row_values(self):
        table = bench_report.table([result("W3", torch_s=1.0, e2e=0.06, fwd=0.04, flops=8e9)], peak_gflops=400.0)
        row = table.splitlines()[2].split(" | ")
        # workload, shape, e2e ms, fwd ms, torch ms, speed-up, e2e/fwd, GFLOP/s, % peak, RSS, diff, target, met
        self.assertEqual(row[2:11], ["60", "40", "1000", "25×", "1.50", "200", "50%", "1", "1.0e-06"])

    def test_missing_values_show_na(self):
        table = bench_report.table([Result("W1", "shape", 0.02)], peak_gflops=None)
        self.assertEqual(table.splitlines()[2].count("n/a"), 8)  # all but the PyTorch column

    def test_lower_bound_is_marked(self):
        table = bench_report.table([result("W3", e2e=0.05, fwd=None)], peak_gflops=None)
        self.assertIn("≥20× (vs e2e)", table)


class TimingsParsingTests(unittest.TestCase):
    def test_last_json_line_with_forward_s(self):
        stderr = 'warning: x\n{"forward_s": 1}\n{"load_s": 0.1, "forward_s": 0.25, "plan": "p"}\nbye\n'
        self.assertEqual(bench_fusectl.parse_timings(stderr), {"load_s": 0.1, "forward_s": 0.25, "plan": "p"})

    def test_none_without_a_usable_line(self):
        self.assertIsNone(bench_fusectl.parse_timings('{"load_s": 1}\n{broken\n[1, 2]\n'))


class WorkloadTests(unittest.TestCase):
    def test_spec_sizes(self):
        sizes = {w.name: (w.B, w.L, w.T, w.P, w.per_step, w.ragged) for w in bench_workloads.FULL}
        self.assertEqual(
            sizes,
            {
                "W1": (1, 16, 64, 1, False, False),
                "W2": (256, 32, 128, 1, False, False),
                "W3": (4, 32, 1024, 4, False, False),
                "W4": (8, 32, 128, 1, True, False),
                "W5": (64, 32, 256, 1, False, True),
            },
        )
        self.assertEqual(bench_workloads.RSS_4096.images_bytes, 4096 * 128 * 2048 * 4)

    def test_select(self):
        names = [w.name for w in bench_workloads.select(bench_workloads.FULL, "w3, W1")]
        self.assertEqual(names, ["W3", "W1"])
        with self.assertRaisesRegex(ValueError, "unknown workload 'W9'; expected some of W1, W2, W3, W4, W5"):
            bench_workloads.select(bench_workloads.FULL, "W1,W9")

    def test_ragged_inputs(self):
        w = dataclasses.replace(bench_workloads.FULL[4], B=400)
        mask, lengths = bench_workloads.ragged_inputs(w, np.random.default_rng(0))
        self.assertEqual((mask.shape, lengths.shape), ((400, 32), (400,)))
        self.assertTrue(((lengths >= 1) & (lengths <= 256)).all())
        self.assertEqual((lengths.min(), lengths.max()), (1, 256))  # 400 draws cover both ends (seeded)
        real = mask.sum(axis=1)
        self.assertTrue((real >= 1).all())
        for row, count in zip(mask, real):  # one contiguous run touching the left or right edge
            ones = np.flatnonzero(row)
            self.assertEqual(ones[-1] - ones[0] + 1, count)
            self.assertTrue(ones[0] == 0 or ones[-1] == 31)
        self.assertTrue(((mask[:, 0] == 0) & (real < 32)).any() and ((mask[:, -1] == 0) & (real < 32)).any())

    def test_generation_is_reused_and_redone_when_the_spec_changes(self):
        w = bench_workloads.Workload("Wt", 3, 4, 5, 2, False, True, 7, "test")
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "Wt"
            files = bench_workloads.ensure_workload(w, folder, log=lambda _: None)
            images = np.load(files.images)
            self.assertEqual((images.shape, images.dtype), ((3, 5, 2, 2048), np.float32))
            self.assertLess(abs(float(images.std()) - 1.0), 0.02)
            self.assertEqual(np.load(files.text).shape, (3, 4, 768))
            self.assertEqual(np.load(files.image_lengths).dtype, np.int64)
            logs = []
            bench_workloads.ensure_workload(w, folder, log=logs.append)
            self.assertEqual(logs, [])
            bench_workloads.ensure_workload(dataclasses.replace(w, seed=8), folder, log=logs.append)
            self.assertEqual(len(logs), 1)
            self.assertFalse(np.array_equal(np.load(files.images), images))


class AlignedWeightsTests(unittest.TestCase):
    def test_members_start_on_the_boundary_and_numpy_reads_them(self):
        import struct
        import zipfile

        from reference.model import write_npz

        members = {f"w{i}": np.arange((3 + i) * 5, dtype=np.float32).reshape(3 + i, 5) for i in range(9)}
        members["config"] = np.array('{"proj_dim": 8}')
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "w.npz"
            write_npz(path, members, align=64)
            raw = path.read_bytes()
            for info in zipfile.ZipFile(path).infolist():
                name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
                start = info.header_offset + 30 + name_len + extra_len
                header_len = struct.unpack("<H", raw[start + 8:start + 10])[0]
                self.assertEqual((start % 64, (start + 10 + header_len) % 64), (0, 0), info.filename)
            with np.load(path) as loaded:
                for key, value in members.items():
                    np.testing.assert_array_equal(loaded[key], value)


class PeakTests(unittest.TestCase):
    def test_best_peak_keeps_the_best_fma_measurement(self):
        fma = lambda g: {"gflops": g, "method": f"fma {g}", "runs": {"native": [g]}}  # noqa: E731
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp)
            first = bench_peak.best_peak(cache, 2, [fma(100.0), fma(150.0)])
            self.assertEqual((first["gflops"], first["this_run_gflops"], first["recorded"]), (150.0, 150.0, None))
            lower = bench_peak.best_peak(cache, 2, [fma(60.0)])
            self.assertEqual((lower["gflops"], lower["this_run_gflops"]), (150.0, 60.0))
            self.assertTrue(lower["method"].startswith("fma 150.0, recorded "))
            self.assertEqual(bench_peak.best_peak(cache, 1, [fma(70.0)])["gflops"], 70.0)  # per thread count
            higher = bench_peak.best_peak(cache, 2, [fma(200.0)])
            self.assertEqual((higher["gflops"], higher["recorded"]["gflops"]), (200.0, 150.0))
            fallback = bench_peak.best_peak(cache, 2, [{"gflops": 40.0, "method": "no C compiler: sgemm"}])
            self.assertEqual(fallback["gflops"], 40.0)  # never mixed with FMA records
            self.assertEqual(bench_peak.best_peak(cache, 2, [fma(1.0)])["gflops"], 200.0)


class ProcessTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.launcher, why = bench_fusectl.build_launcher(Path(cls.tmp.name))
        assert cls.launcher is not None, why
        cls.ballast = bytearray(300 << 20)  # makes this process's peak RSS large, as torch does in scripts/bench

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def script(self, body: str) -> Path:
        path = Path(self.tmp.name) / "p"
        path.write_text(f"#!{sys.executable}\nimport os, sys\n{body}\n")
        path.chmod(0o755)
        return path

    def test_run_once_measures_the_child_alone_and_reports_failures(self):
        script = self.script(
            "import time\nbuf = bytearray(200 << 20)\ntime.sleep(0.05)  # the sampler polls every 5 ms\n"
            "print('{\"forward_s\": 0.5}', file=sys.stderr)\nsys.exit(int(sys.argv[1]))"
        )
        err = Path(self.tmp.name) / "err"
        run = bench_fusectl.run_once([str(script), "0"], err, self.launcher, sample_status=True)
        self.assertEqual(run.timings, {"forward_s": 0.5})
        # its own 200 MiB plus the interpreter, not this process's 300+ MiB high-water mark on top
        self.assertGreater(run.max_rss_kib, 200 * 1024)
        self.assertLess(run.max_rss_kib, 290 * 1024)
        self.assertGreater(run.rss_anon_kib, 200 * 1024)
        self.assertGreater(run.rss_file_kib, 0)
        self.assertGreater(run.e2e_s, 0)
        with self.assertRaisesRegex(bench_fusectl.FuseFailed, r"exit status 3 from: .*/p 3\n\{\"forward_s\""):
            bench_fusectl.run_once([str(script), "3"], err, self.launcher)

    def test_without_launcher_no_rss(self):
        run = bench_fusectl.run_once([str(self.script("pass"))], Path(self.tmp.name) / "err", None)
        self.assertIsNone(run.max_rss_kib)
        self.assertIsNone(run.timings)

    def test_launcher_statuses(self):
        err = str(Path(self.tmp.name) / "err")
        killed = subprocess.run([str(self.launcher), err, str(self.script("os.kill(os.getpid(), 9)"))],
                                capture_output=True, text=True)
        self.assertEqual(json.loads(killed.stdout)["status"], 128 + 9)
        missing = subprocess.run([str(self.launcher), err, "/nonexistent/fusectl"], capture_output=True, text=True)
        self.assertEqual(json.loads(missing.stdout)["status"], 127)
        self.assertIn("bench_spawn: cannot run /nonexistent/fusectl: No such file or directory", Path(err).read_text())
        usage = subprocess.run([str(self.launcher), err], capture_output=True, text=True)
        self.assertEqual((usage.returncode, usage.stdout), (2, ""))

    def test_probe(self):
        with tempfile.TemporaryDirectory() as tmp:
            fusectl, why = bench_fusectl.probe(write_stand_in(Path(tmp), timings=False))
            self.assertEqual((fusectl.has_timings, fusectl.has_threads, why), (False, False, ""))
            missing, why = bench_fusectl.probe(Path(tmp) / "nothing")
            self.assertIsNone(missing)
            self.assertIn("is not an executable file", why)


class EndToEndTests(unittest.TestCase):
    """scripts/bench --quick on W1 and W4 against the stand-in (runs the reference several times: ~1 min)."""

    @classmethod
    def setUpClass(cls):
        cls.shared = tempfile.TemporaryDirectory()  # one cache: weights and inputs generated once

    @classmethod
    def tearDownClass(cls):
        cls.shared.cleanup()

    def run_bench(self, tmp: Path, fusectl: Path | None, workloads: str = "W1,W4", extra=()) -> tuple[int, str, dict]:
        out = io.StringIO()
        argv = ["--quick", "--workloads", workloads, "--repeat", "2", "--threads", "1",
                "--cache", str(Path(self.shared.name) / "cache"), "--json", str(tmp / "r.json"), *extra]
        argv += ["--fusectl", str(fusectl)] if fusectl else ["--torch-only"]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = bench_main.main(argv)
        return code, out.getvalue(), json.loads((tmp / "r.json").read_text())

    def test_quick_run_with_timings_and_agreement(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            code, text, record = self.run_bench(tmp, write_stand_in(tmp), extra=["--fusectl-args", "--plan x-formed"])
            self.assertEqual(code, 0, text)
            self.assertEqual(record["workloads"][0]["fusectl"]["command"][-3:], ["--timings", "--plan", "x-formed"])
            self.assertIn("--fusectl-args '--plan x-formed'", text)
            rows = [line for line in text.splitlines() if line.startswith("| W")]
            self.assertEqual([r.split(" | ")[0] for r in rows], ["| W1", "| W4"])
            for row in rows:
                cells = row.split(" | ")
                self.assertNotIn("n/a", cells[2:11], row)  # every measured column filled
                self.assertLessEqual(float(cells[10]), 1e-6, row)  # same reference on both sides
            self.assertEqual([len(w["fusectl"]["runs"]) for w in record["workloads"]], [2, 2])
            self.assertEqual(record["workloads"][1]["torch"]["shape"], [2, 128, 768])
            self.assertIn("plan: stand-in", text)

    def test_disagreement_and_missing_timings_are_reported(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            code, text, _ = self.run_bench(tmp, write_stand_in(tmp, timings=False, offset=1e-3))
            self.assertEqual(code, 1)
            self.assertIn("1.0e-03 FAIL", text)
            self.assertIn("not met (outputs differ)", text)
            self.assertIn("has no --timings", text)
            self.assertIn("has no --threads", text)

    def test_a_failing_fusectl_is_a_problem(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            code, text, record = self.run_bench(tmp, write_stand_in(tmp, fail=True), workloads="W1")
            self.assertEqual(code, 1)
            self.assertIn("- problem: W1: fusectl failed: exit status 1 from: ", text)
            self.assertIn("stand-in: failing on purpose", text)
            self.assertEqual(len(record["problems"]), 1)

    def test_rss_report_on_a_small_w2_shaped_batch(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            args = bench_main.parse_args(["--rss-4096", "--threads", "1", "--cache", str(Path(self.shared.name) / "cache"),
                                          "--fusectl", str(write_stand_in(tmp))])
            small = dataclasses.replace(bench_workloads.RSS_4096, name="Wrss", B=12)
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                code = bench_rss.main(args, lambda _: None, small)
            text = out.getvalue()
            self.assertEqual(code, 0, text)
            self.assertIn("## fusectl peak RSS, Wrss: B=12 L=32 T=128, images 0.01 GB", text)
            self.assertRegex(text, r"- peak RSS \(ru_maxrss\): \d+ MiB — target < 1024 MiB: met")
            self.assertRegex(text, r"- sampled peaks: RssAnon \d+ MiB \(heap, copies\), RssFile \d+ MiB")
            # the reference itself varies with the batch it runs in (12 vs 8 samples): not exactly 0
            self.assertRegex(text, r"- max abs diff vs PyTorch: \d\.\de[-+]\d\d on the first 8 samples \(ok, limit 1e-4\)")
            self.assertIn("--timings: load_s ", text)

    def test_torch_only(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            code, text, record = self.run_bench(tmp, None, workloads="W1")
            self.assertEqual(code, 0, text)
            row = next(line for line in text.splitlines() if line.startswith("| W1"))
            self.assertEqual(row.count("n/a"), 8)
            self.assertIn("- note: fusectl not run (--torch-only).", text)
            self.assertGreater(record["workloads"][0]["torch"]["median_s"], 0)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    unittest.main()
