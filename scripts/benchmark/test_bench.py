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
from benchmark.test_rounds import (RotationTests, RoundsTableTests, RoundsVerdictTests,  # noqa: E402,F401
                                   RunRoundsTests, SummarizeTests)

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


def result(name="W3", torch_s=1.0, e2e=0.06, fwd=0.04, diff=1e-6, flops=None, ort=None, ov=None, savez=None) -> Result:
    peers = {"torch": torch_s, **({"onnxruntime": ort} if ort is not None else {}), **({"openvino": ov} if ov is not None else {})}
    return Result(name, "shape", peers, {}, e2e, fwd, savez, flops, 1024, diff)


class TargetTests(unittest.TestCase):
    def test_ratio_to_the_best_peer_met_and_not_met(self):
        self.assertEqual(evaluate(result("W3", fwd=0.04)), ("≥25× best peer", "met"))  # 25×
        self.assertEqual(evaluate(result("W3", fwd=0.06)), ("≥25× best peer", "not met (vs best peer)"))  # 16.7×

    def test_the_fastest_peer_sets_the_bar(self):
        r = result("W3", torch_s=1.0, fwd=0.04, ort=0.7, ov=0.9)  # 0.7 / 0.04 = 17.5×
        self.assertEqual(r.best_peer, ("onnxruntime", 0.7))
        self.assertAlmostEqual(r.vs_best_peer, 17.5)
        self.assertEqual(evaluate(r)[1], "not met (vs best peer)")
        failed = result("W3", torch_s=1.0, fwd=0.04, ov=0.9)
        failed.peer_forward_s["onnxruntime"] = None  # ran but failed: not a bar
        self.assertEqual(failed.best_peer, ("openvino", 0.9))

    def test_w1_np_savez_run_is_part_of_the_target(self):
        # best peer 10 ms; fusectl forward 5 ms (2×); np.savez whole run ≤ 25 ms
        self.assertEqual(evaluate(result("W1", torch_s=0.03, ort=0.01, e2e=0.02, fwd=0.005, savez=0.025))[1], "met")
        self.assertEqual(evaluate(result("W1", torch_s=0.03, ort=0.01, e2e=0.02, fwd=0.005, savez=0.026))[1],
                         "not met (np.savez run)")
        self.assertEqual(evaluate(result("W1", torch_s=0.03, ort=0.01, e2e=0.02, fwd=0.005))[1],
                         "unknown (no np.savez run)")

    def test_w2_run_over_forward(self):
        text, verdict = evaluate(result("W2", torch_s=1.0, e2e=0.109, fwd=0.1, savez=0.2))
        self.assertEqual(text, "≥6× best peer, run ≤1.1× fwd")
        self.assertEqual(verdict, "met")
        self.assertEqual(evaluate(result("W2", torch_s=1.0, e2e=0.112, fwd=0.1))[1], "not met (run/forward)")

    def test_disagreeing_outputs_never_meet(self):
        self.assertEqual(evaluate(result("W3", diff=2e-4))[1], "not met (outputs differ)")
        self.assertEqual(evaluate(result("W3", diff=1e-4))[1], "met")

    def test_without_forward_time_the_run_lower_bound_decides_only_when_it_passes(self):
        self.assertEqual(evaluate(result("W3", e2e=0.04, fwd=None))[1], "met")
        self.assertEqual(evaluate(result("W3", e2e=0.06, fwd=None))[1], "unknown (no forward time)")

    def test_without_fusectl_everything_is_unknown(self):
        r = Result("W1", "shape", {"torch": 0.02})
        self.assertEqual(evaluate(r)[1], "unknown (no forward time, np.savez run, agreement)")

    def test_without_any_peer_time_the_ratio_is_unknown(self):
        r = result("W3", torch_s=None)
        self.assertEqual(evaluate(r)[1], "unknown (no peer time)")


class TableTests(unittest.TestCase):
    PEERS = ["torch", "onnxruntime", "openvino"]

    def test_row_values(self):
        r = result("W3", torch_s=1.0, e2e=0.06, fwd=0.04, flops=8e9, ort=0.8, ov=0.9, savez=0.07)
        r.peer_diffs = {"onnxruntime": 2e-6, "openvino": 3e-4}
        table = bench_report.table([r], peak_gflops=400.0, peers=self.PEERS)
        header = table.splitlines()[0].split(" | ")
        self.assertEqual(header[2:5], ["PyTorch fwd ms", "ONNX Runtime fwd ms", "OpenVINO fwd ms"])
        row = table.splitlines()[2].split(" | ")
        # peers, fusectl fwd, run, np.savez run, vs best, run/fwd, GFLOP/s, % peak, RSS, err, peers' err
        self.assertEqual(row[2:15], ["1000", "800", "900", "40", "60", "70", "20×", "1.50", "200", "50%", "1",
                                     "1.0e-06", "ONNX Runtime 2.0e-06, OpenVINO 3.0e-04 FAIL"])

    def test_missing_values_show_na(self):
        table = bench_report.table([Result("W1", "shape", {"torch": 0.02})], peak_gflops=None, peers=self.PEERS)
        self.assertEqual(table.splitlines()[2].count("n/a"), 12)  # all but the shape, the PyTorch column and the target

    def test_lower_bound_is_marked(self):
        table = bench_report.table([result("W3", e2e=0.05, fwd=None)], peak_gflops=None, peers=["torch"])
        self.assertIn("≥20× (vs run)", table)


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


class PeerGraphTests(unittest.TestCase):
    """The ONNX export the ONNX Runtime and OpenVINO peers run, on a tiny model: every input rule
    (pooled token, ragged lengths, per step's frame-causal mask, P > 1, B = 1) against PyTorch.

    Measured here: at most 4.8e-7 from PyTorch for either runtime (float32 rounding in another
    order); the budget is 5e-6. The benchmark itself allows 1e-4, the issue's tolerance."""

    TOL = 5e-6

    @classmethod
    def setUpClass(cls):
        from benchmark import onnx_export
        from reference.model import FusionConfig, init_model

        cls.tmp = tempfile.TemporaryDirectory()
        cls.cfg = FusionConfig(img_latent_dim=10, txt_latent_dim=7, proj_dim=12, n_heads=3, n_blocks=2, ffn_dim=20)
        cls.model = init_model(cls.cfg, seed=3)
        cls.onnx = Path(cls.tmp.name) / "tiny.onnx"
        with contextlib.redirect_stderr(io.StringIO()):
            onnx_export.export_model(cls.model, cls.onnx)
        pre = dataclasses.replace(cls.cfg, norm_first=True, final_norm=True, activation="gelu_tanh", attn_bias=False)
        cls.pre_model = init_model(pre, seed=4)
        cls.pre_onnx = Path(cls.tmp.name) / "tiny-pre.onnx"
        with contextlib.redirect_stderr(io.StringIO()):
            onnx_export.export_model(cls.pre_model, cls.pre_onnx)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def inputs(self, B, T, P, ragged, seed=0):
        rng = np.random.default_rng(seed)
        text = rng.standard_normal((B, 5, 7), dtype=np.float32)
        images = rng.standard_normal((B, T, P, 10) if P > 1 else (B, T, 10), dtype=np.float32)
        if not ragged:
            return text, images, None, None
        lengths = rng.integers(1, T + 1, size=B)
        lengths[0] = 1  # one sample with a single frame
        mask = np.zeros((B, 5), dtype=np.uint8)
        for b in range(B):  # left and right padding
            real = 1 + b % 5
            if b % 2:
                mask[b, 5 - real:] = 1
            else:
                mask[b, :real] = 1
        return text, images, mask, lengths

    def check(self, model, onnx, B, T, P, per_step, ragged):
        import torch

        from benchmark import peers

        text, images, mask, lengths = self.inputs(B, T, P, ragged)
        with torch.inference_mode():
            fn = model.forward_per_step_fast if per_step else model.forward
            expected = fn(text, images, text_mask=mask, image_lengths=lengths).numpy()
        for peer in peers.PEERS:
            with self.subTest(peer=peer, B=B, T=T, P=P, per_step=per_step, ragged=ragged):
                out = peers.run_graph(peer, onnx, text, images, text_mask=mask, image_lengths=lengths,
                                      per_step=per_step, threads=1)
                self.assertEqual(out.shape, expected.shape)
                self.assertLessEqual(float(np.abs(out - expected).max()), self.TOL)
                if per_step and ragged:  # rows past a sample's frames are exactly zero, as PyTorch's
                    for b in range(B):
                        self.assertTrue(np.all(out[b, lengths[b]:] == 0))

    def test_per_step_with_ragged_lengths_and_tokens_per_frame(self):
        self.check(self.model, self.onnx, B=4, T=6, P=2, per_step=True, ragged=True)

    def test_plain_ragged(self):
        self.check(self.model, self.onnx, B=5, T=7, P=1, per_step=False, ragged=True)

    def test_one_sample_one_frame(self):
        self.check(self.model, self.onnx, B=1, T=1, P=1, per_step=False, ragged=False)

    def test_per_step_pre_norm_final_norm_no_attention_bias(self):
        self.check(self.pre_model, self.pre_onnx, B=3, T=5, P=1, per_step=True, ragged=True)

    def test_pooled_query_is_the_references(self):
        from benchmark import peers
        from reference.model import pool_text

        text, _, mask, _ = self.inputs(6, 2, 1, ragged=True)
        np.testing.assert_array_equal(peers.pooled_query(text, text_mask=mask)[:, 0], pool_text(text, text_mask=mask).numpy())
        lengths = np.array([1, 5, 3, 2, 4, 5])
        np.testing.assert_array_equal(peers.pooled_query(text, text_lengths=lengths)[:, 0],
                                      pool_text(text, text_lengths=lengths).numpy())
        np.testing.assert_array_equal(peers.pooled_query(text)[:, 0], text[:, -1])
        with self.assertRaisesRegex(ValueError, "text_mask: sample 1 has no real token"):
            peers.pooled_query(text[:2], text_mask=np.array([[1, 0, 0, 0, 0], [0, 0, 0, 0, 0]]))

    def test_attention_bias(self):
        from benchmark import peers

        bias = peers.attention_bias(B=2, T=3, P=2, image_lengths=np.array([3, 2]), per_step=True)
        self.assertEqual((bias.shape, bias.dtype), ((2, 3, 6), np.float32))
        hidden = bias == peers.MASKED
        self.assertTrue(np.all((bias == 0) | hidden))
        # sample 1 has 2 frames: tokens 4, 5 hidden everywhere; row t hides the frames after t
        np.testing.assert_array_equal(hidden[1], [[0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 1, 1]])
        np.testing.assert_array_equal(hidden[0], [[0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0]])
        plain = peers.attention_bias(B=2, T=3, P=1, image_lengths=None, per_step=False)
        self.assertEqual(plain.shape, (2, 1, 3))
        self.assertFalse(plain.any())

    def test_the_graph_has_dynamic_sizes(self):
        import onnx

        graph = onnx.load(str(self.onnx)).graph
        dims = {i.name: [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in graph.input}
        self.assertEqual(list(dims), ["query", "images", "bias"])
        self.assertEqual(dims["query"][1:], [1, 7])
        self.assertEqual(dims["images"][2], 10)
        self.assertTrue(all(isinstance(d, str) for d in dims["bias"]), dims)  # B, Q, S all free
        self.assertEqual(dims["query"][0], dims["images"][0])
        self.assertEqual(dims["images"][1], dims["bias"][2])
        # Wq, Wk, Wv are initialisers of their own: no runtime splits in_proj_weight on every call
        self.assertNotIn("Split", {node.op_type for node in graph.node})

    def test_a_disagreeing_peer_is_not_timed(self):
        import torch

        text, images, mask, lengths = self.inputs(3, 4, 1, ragged=True)
        folder = Path(self.tmp.name) / "disagree"
        folder.mkdir(exist_ok=True)
        for name, value in (("text", text), ("images", images), ("mask", mask), ("lengths", lengths)):
            np.save(folder / f"{name}.npy", value)
        with torch.inference_mode():
            expected = self.model.forward(text, images, text_mask=mask, image_lengths=lengths).numpy()
        inputs = ["--text", str(folder / "text.npy"), "--images", str(folder / "images.npy"),
                  "--text-mask", str(folder / "mask.npy"), "--image-lengths", str(folder / "lengths.npy")]
        from benchmark import peers

        np.save(folder / "good.npy", expected)
        report = peers.run_peer("onnxruntime", self.onnx, inputs, False, folder / "good.npy", 1, repeat=3)
        self.assertEqual(len(report["times_s"]), 3)
        self.assertLessEqual(report["max_abs_diff"], self.TOL)
        self.assertGreater(report["max_rss_kib"], 0)
        np.save(folder / "bad.npy", expected + np.float32(2e-4))
        with self.assertRaisesRegex(peers.PeerFailed, r"max abs difference 2\.00e-04 from PyTorch, over 0\.0001: not timed"):
            peers.run_peer("openvino", self.onnx, inputs, False, folder / "bad.npy", 1, repeat=3)


class SidesTests(unittest.TestCase):
    """benchmark/sides.py's build_sides in this process: a side that cannot be built or disagrees is reported
    with its reason and not timed; PyTorch's thread count is read back."""

    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.TemporaryDirectory()
        cls.weights = bench_workloads.ensure_weights(Path(cls.folder.name), lambda _: None)
        rng = np.random.default_rng(0)
        cls.inputs = {"text": rng.standard_normal((1, 4, 768), dtype=np.float32),
                      "images": rng.standard_normal((1, 3, 2048), dtype=np.float32)}

    @classmethod
    def tearDownClass(cls):
        cls.folder.cleanup()

    def build(self, compiled):
        import torch
        from unittest import mock

        from benchmark import sides

        with mock.patch.object(sides, "torch_compiled", compiled), torch.inference_mode():
            return sides.build_sides(["torch", "torch.compile"], self.weights, None, self.inputs, False, 1, None)

    def test_a_side_that_cannot_be_built_is_not_timed(self):
        def fails(*_):
            raise RuntimeError("no C++ compiler\nsecond line")

        calls, reports = self.build(fails)
        self.assertEqual(list(calls), ["torch"])
        self.assertEqual(reports["torch.compile"]["error"], "RuntimeError: no C++ compiler")
        self.assertEqual(reports["torch"]["threads"], 1)
        import torch

        with torch.inference_mode():
            self.assertEqual(tuple(calls["torch"]().shape), (1, 1, 768))

    def test_a_side_that_disagrees_is_not_timed(self):
        import torch

        calls, reports = self.build(lambda *_: (lambda: torch.ones(1, 1, 768)))
        self.assertEqual(list(calls), ["torch"])
        self.assertRegex(reports["torch.compile"]["error"], r"^max abs difference [\d.]+e[+-]\d\d from PyTorch, over 0.0001")


class EndToEndTests(unittest.TestCase):
    """scripts/bench --quick on W1 and W4 against the stand-in (runs the reference several times: ~1 min)."""

    @classmethod
    def setUpClass(cls):
        cls.shared = tempfile.TemporaryDirectory()  # one cache: weights and inputs generated once

    @classmethod
    def tearDownClass(cls):
        cls.shared.cleanup()

    def run_bench(self, tmp: Path, fusectl: Path | None, workloads: str = "W1,W4", extra=(),
                  peers: str = "none", per_process: bool = True) -> tuple[int, str, dict]:
        out = io.StringIO()
        argv = ["--quick", "--workloads", workloads, "--repeat", "2", "--threads", "1", "--peers", peers,
                "--cache", str(Path(self.shared.name) / "cache"), "--json", str(tmp / "r.json"), *extra]
        argv += ["--per-process"] if per_process else []
        argv += ["--fusectl", str(fusectl)] if fusectl else ["--torch-only"]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = bench_main.main(argv)
        return code, out.getvalue(), json.loads((tmp / "r.json").read_text())

    def test_quick_run_with_timings_and_agreement(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            code, text, record = self.run_bench(tmp, write_stand_in(tmp), extra=["--fusectl-args", "--plan x-formed"],
                                                peers="onnxruntime,openvino")
            self.assertEqual(code, 0, text)
            self.assertEqual(record["workloads"][0]["fusectl"]["command"][-3:], ["--timings", "--plan", "x-formed"])
            self.assertIn("--fusectl-args '--plan x-formed'", text)
            self.assertIn("## fusectl vs PyTorch, ONNX Runtime, OpenVINO, quick smoke run", text)
            rows = [line for line in text.splitlines() if line.startswith("| W")]
            self.assertEqual([r.split(" | ")[0] for r in rows], ["| W1", "| W4"])
            for row in rows:
                cells = row.split(" | ")
                # PyTorch, ONNX Runtime, OpenVINO, fusectl fwd, run, np.savez run, vs best peer, run/fwd, GFLOP/s,
                # % of peak, peak RSS, max abs err, peers' max abs err: every measured column filled
                self.assertNotIn("n/a", cells[2:15], row)
                self.assertLessEqual(float(cells[13]), 1e-6, row)  # the same reference on both sides
                errors = [float(e.split()[-1]) for e in cells[14].split(", ")]
                self.assertEqual(len(errors), 2, row)
                self.assertTrue(all(e <= 1e-5 for e in errors), row)  # the ONNX graph, another runtime's rounding
            for w in record["workloads"]:
                self.assertEqual(len(w["fusectl"]["runs"]), 2)
                self.assertEqual(len(w["fusectl_savez"]["runs"]), 2)
                self.assertEqual(w["fusectl_savez"]["command"][3], str(Path(self.shared.name) / "cache" / "weights-savez.npz"))
                for peer in ("onnxruntime", "openvino"):
                    self.assertEqual((w["peers"][peer]["threads"], len(w["peers"][peer]["times_s"])), (1, 2))
            self.assertEqual(record["workloads"][1]["torch"]["shape"], [2, 128, 768])
            self.assertEqual(record["workloads"][1]["peers"]["openvino"]["shape"], [2, 128, 768])
            self.assertIn("plan: stand-in", text)
            self.assertRegex(text, r"- memory bandwidth: \d+\.\d GB/s \(read of a 256 MiB buffer")
            self.assertRegex(text, r"- W4 peers: ONNX Runtime [\d.]+: median [\d.]+ ms")
            self.assertIn("- W1, np.savez weights: load ", text)
            with np.load(Path(self.shared.name) / "cache" / "weights.npz") as a, \
                    np.load(Path(self.shared.name) / "cache" / "weights-savez.npz") as b:
                self.assertEqual(sorted(a.files), sorted(b.files))
                for key in a.files:
                    np.testing.assert_array_equal(a[key], b[key])

    def test_rounds_on_w1(self):
        """The default mode: PyTorch, ONNX Runtime and fusectl in-process (this checkout's libfusectl-c.so when
        it is built, else "–" and a problem) in rounds, the stand-in's CLI figures beside them."""
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            code, text, record = self.run_bench(tmp, write_stand_in(tmp), workloads="W1", peers="onnxruntime",
                                                per_process=False)
            raw = record["workloads"][0]
            sides = raw["rounds"]["sides"]
            self.assertEqual(list(sides), ["torch", "onnxruntime", "fusectl"])
            self.assertEqual([len(sides[s]["times_s"]) for s in ("torch", "onnxruntime")], [2, 2])
            self.assertLessEqual(sides["onnxruntime"]["max_abs_diff"], 1e-5)
            self.assertIn("OMP_WAIT_POLICY=PASSIVE", raw["rounds"]["settings"])
            self.assertIn("fusectl in-process ms", text)
            row = next(line for line in text.splitlines() if line.startswith("| W1")).split(" | ")
            self.assertNotIn("n/a", row[2:4])  # PyTorch, ONNX Runtime
            self.assertNotIn("n/a", row[8:11])  # the stand-in CLI's forward and runs
            library = (bench_fusectl.ROOT / ".build" / "release" / "libfusectl-c.so").is_file()
            if library:
                self.assertEqual(code, 0, text)
                self.assertEqual(len(sides["fusectl"]["times_s"]), 2)
                self.assertLessEqual(sides["fusectl"]["max_abs_diff"], 1e-4)
                self.assertRegex(row[5], r"^[\d.]+×$")
                self.assertEqual(len(record["results"][0]["round_range"]), 2)
                self.assertIn("### In-process (issue 18's targets), same run", text)
                self.assertRegex(text, r"\| 16 agents, 256\+ frames of history: one step of all / one agent's step \| "
                                       r"[\d.]+ / [\d.]+ ms")
                self.assertRegex(text, r"`import fusectl; fusectl.Model\(w\)` beyond the weights' own load")
            else:
                self.assertEqual(code, 1, text)
                self.assertEqual(row[4], "–")
                self.assertIn("- problem: W1: fusectl in-process: – (ImportError: no libfusectl-c.so", text)

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
            self.assertEqual(row.count("n/a"), 10)  # every column but the shape, PyTorch's time and the target
            self.assertIn("- note: fusectl not run (--torch-only).", text)
            self.assertGreater(record["workloads"][0]["torch"]["median_s"], 0)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    unittest.main()
