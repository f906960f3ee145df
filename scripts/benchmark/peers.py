"""The ONNX Runtime and OpenVINO peers of scripts/bench: the reference's ONNX graph on the workload files.

Each peer runs in its own process (like the PyTorch side), `python -m benchmark.peers`, which
imports numpy and the runtime only (no torch):

 1. reads the workload files and turns them into the graph's inputs (onnx_export's docstring):
    the pooled query token (pooled_query, the pooling rule of docs/model.md: text_lengths-1, the last real token of
    text_mask, else L-1), the images as (B, T·P, img), and the additive bias
    (attention_bias: ragged lengths, and per step the frame-causal mask);
 2. builds the session: ONNX Runtime (CPUExecutionProvider, intra-op threads = --threads,
    inter-op 1, sequential, all graph optimisations) or OpenVINO (CPU, the model reshaped
    to the workload's static shapes, INFERENCE_PRECISION_HINT f32 (checked on the compiled
    model), INFERENCE_NUM_THREADS = --threads, one stream, latency hint, inputs shared
    rather than copied); ONNX Runtime reads the numpy inputs in place too;
 3. runs the forward once and compares it with PyTorch's output (--expected): when the max
    abs difference exceeds --atol (1e-4) the peer is reported as failed and not timed;
 4. times --warmup untimed then --repeat timed forward calls (inputs already in memory, the
    session already compiled) and prints one JSON line: {"peer", "version", "threads",
    "median_s", "min_s", "times_s", "max_abs_diff", "max_rss_kib" (VmHWM), "shape"}.

The time is the runtime's forward call alone, as PyTorch's is its model call: pooling the
text and building the bias (numpy, microseconds to a millisecond) are not counted, and the
per-step rows past a sample's image_lengths are zeroed afterwards (the graph has no lengths).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np

PEERS = ("onnxruntime", "openvino")
"""The peers scripts/bench runs besides PyTorch, in table order."""

LABELS = {"torch": "PyTorch", "onnxruntime": "ONNX Runtime", "openvino": "OpenVINO"}

MASKED = np.float32(-1e9)
"""The bias at a hidden token: exp(MASKED + score) is exactly 0 in float32."""

AGREEMENT_ATOL = 1e-4
"""A peer must agree with PyTorch to this max abs difference before it is timed."""

SCRIPTS = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- inputs


def pooled_query(text: np.ndarray, text_lengths: Optional[np.ndarray] = None,
                 text_mask: Optional[np.ndarray] = None) -> np.ndarray:
    """(B, L, txt) or (B, txt) -> (B, 1, txt) float32: each sample's pooled token (the pooling rule of docs/model.md).

    text_lengths (B,): token len-1; text_mask (B, L), nonzero = real: the last real token;
    neither: token L-1. Raises ValueError on a mask row with no real token or a length out of range.
    """
    text = np.asarray(text)
    if text.ndim == 2:
        return np.ascontiguousarray(text[:, None, :], dtype=np.float32)
    B, L, _ = text.shape
    if text_lengths is not None:
        index = np.asarray(text_lengths, dtype=np.int64) - 1
        if np.any(index < 0) or np.any(index >= L):
            raise ValueError(f"text_lengths: expected values in 1...{L}")
    elif text_mask is not None:
        real = np.asarray(text_mask) != 0
        if not np.all(real.any(axis=1)):
            raise ValueError(f"text_mask: sample {int(np.argmin(real.any(axis=1)))} has no real token")
        index = L - 1 - np.argmax(real[:, ::-1], axis=1)
    else:
        index = np.full(B, L - 1)
    return np.ascontiguousarray(text[np.arange(B), index][:, None, :], dtype=np.float32)


def attention_bias(B: int, T: int, P: int, image_lengths: Optional[np.ndarray], per_step: bool) -> np.ndarray:
    """(B, Q, T·P) float32 additive bias, Q = T per step else 1: MASKED at tokens of frames >=
    image_lengths[b] and, per step, at tokens of frames > t in row t; 0 elsewhere."""
    frame = np.arange(T * P) // P  # (S,)
    Q = T if per_step else 1
    hidden = np.zeros((B, Q, T * P), dtype=bool)
    if image_lengths is not None:
        hidden |= frame[None, None, :] >= np.asarray(image_lengths, dtype=np.int64)[:, None, None]
    if per_step:
        hidden |= frame[None, None, :] > np.arange(T)[None, :, None]
    return np.where(hidden, MASKED, np.float32(0)).astype(np.float32)


def graph_inputs(text, images, text_lengths=None, text_mask=None, image_lengths=None,
                 per_step: bool = False) -> dict[str, np.ndarray]:
    """The graph's three inputs {"query", "images", "bias"} for one batch (images (B, T, img) or (B, T, P, img))."""
    images = np.asarray(images)
    B, T = images.shape[:2]
    P = images.shape[2] if images.ndim == 4 else 1
    flat = np.ascontiguousarray(images.reshape(B, T * P, images.shape[-1]), dtype=np.float32)
    return {
        "query": pooled_query(text, text_lengths, text_mask),
        "images": flat,
        "bias": attention_bias(B, T, P, image_lengths, per_step),
    }


def valid_rows(B: int, T: int, image_lengths: Optional[np.ndarray], per_step: bool) -> Optional[np.ndarray]:
    """(B, T, 1) bool, True for steps t < image_lengths[b]; None when every row is valid."""
    if not per_step or image_lengths is None:
        return None
    return (np.arange(T)[None, :] < np.asarray(image_lengths)[:, None])[:, :, None]


# --------------------------------------------------------------------------- runtimes


def version(peer: str) -> str:
    """The installed package's version ("1.32.0"), as pip lists it."""
    import importlib.metadata

    return importlib.metadata.version(peer)


def peak_rss_kib() -> int:
    """This process's own peak resident set (VmHWM), KiB.

    Not ru_maxrss: Linux carries the parent's peak across fork and exec into it (the bench's
    parent holds torch), while VmHWM belongs to this process's own address space."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def session(peer: str, model: Path, inputs: dict[str, np.ndarray], threads: int,
            spinning: bool = True) -> Callable[[], np.ndarray]:
    """A function that runs one forward pass of `model` on `inputs` with `peer` and returns `fused`.

    spinning=False: ONNX Runtime's thread pools do not spin waiting for work after a call
    (session.intra_op/inter_op.allow_spinning = 0), for a process that runs other runtimes between
    its calls (benchmark/sides.py); OpenVINO has no such setting."""
    if peer == "onnxruntime":
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if not spinning:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        sess = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        return lambda: sess.run(["fused"], inputs)[0]
    if peer == "openvino":
        import openvino as ov

        core = ov.Core()
        network = core.read_model(str(model))
        network.reshape({name: list(value.shape) for name, value in inputs.items()})
        compiled = core.compile_model(network, "CPU", {
            "INFERENCE_PRECISION_HINT": "f32",
            "INFERENCE_NUM_THREADS": threads,
            "NUM_STREAMS": 1,
            "PERFORMANCE_HINT": "LATENCY",
        })
        precision = compiled.get_property("INFERENCE_PRECISION_HINT")
        if str(precision) not in ("f32", "<Type: 'float32'>"):
            raise RuntimeError(f"OpenVINO compiled with inference precision {precision}, not f32")
        request = compiled.create_infer_request()
        output = compiled.output(0)
        # share_inputs: OpenVINO reads the numpy arrays in place instead of copying them on every call.
        return lambda: request.infer(inputs, share_inputs=True)[output]
    raise ValueError(f"unknown peer '{peer}'; expected one of {', '.join(PEERS)}")


def run_graph(peer: str, model: Path, text, images, text_lengths=None, text_mask=None, image_lengths=None,
              per_step: bool = False, threads: int = 1) -> np.ndarray:
    """One forward pass with `peer`: (B, 1, d) plain or (B, T, d) per step (rows past image_lengths zero)."""
    inputs = graph_inputs(text, images, text_lengths, text_mask, image_lengths, per_step)
    out = np.array(session(peer, model, inputs, threads)())
    valid = valid_rows(out.shape[0], out.shape[1], image_lengths, per_step)
    return out if valid is None else np.where(valid, out, np.float32(0))


# --------------------------------------------------------------------------- the peer process


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmark.peers", description=__doc__.strip().splitlines()[0])
    parser.add_argument("--peer", required=True, choices=PEERS)
    parser.add_argument("--model", required=True, type=Path, help="the ONNX file (onnx_export.export)")
    for key in ("text", "images", "text_lengths", "text_mask", "image_lengths"):
        parser.add_argument("--" + key.replace("_", "-"), dest=key, required=key in ("text", "images"))
    parser.add_argument("--per-step", action="store_true")
    parser.add_argument("--expected", required=True, type=Path, help="PyTorch's output .npy on the same inputs")
    parser.add_argument("--atol", type=float, default=AGREEMENT_ATOL)
    parser.add_argument("--out", type=Path, help="also write the peer's output here")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args(argv)
    load = {k: (np.load(getattr(args, k)) if getattr(args, k) else None)
            for k in ("text", "images", "text_lengths", "text_mask", "image_lengths")}
    inputs = graph_inputs(load["text"], load["images"], load["text_lengths"], load["text_mask"],
                          load["image_lengths"], args.per_step)
    forward = session(args.peer, args.model, inputs, args.threads)
    out = np.array(forward())
    valid = valid_rows(out.shape[0], out.shape[1], load["image_lengths"], args.per_step)
    if valid is not None:
        out = np.where(valid, out, np.float32(0))
    expected = np.load(args.expected)
    report = {"peer": args.peer, "version": version(args.peer), "threads": args.threads, "shape": list(out.shape)}
    if out.shape != expected.shape:
        report["error"] = f"output shape {out.shape}, PyTorch's {expected.shape}"
    else:
        diff = np.abs(out.astype(np.float64) - expected.astype(np.float64))
        report["max_abs_diff"] = float(diff.max()) if np.all(np.isfinite(diff)) else float("inf")
        if not report["max_abs_diff"] <= args.atol:
            report["error"] = f"max abs difference {report['max_abs_diff']:.2e} from PyTorch, over {args.atol:g}: not timed"
    if args.out:
        np.save(args.out, out)
    if "error" not in report:
        times = []
        for i in range(args.warmup + args.repeat):
            start = time.perf_counter()
            forward()
            if i >= args.warmup:
                times.append(time.perf_counter() - start)
        report.update(median_s=statistics.median(times), min_s=min(times), times_s=times)
    report["max_rss_kib"] = peak_rss_kib()
    print(json.dumps(report))
    return 1 if "error" in report else 0


class PeerFailed(RuntimeError):
    """The peer process failed, or its output disagreed with PyTorch's; the message says which."""


def run_peer(peer: str, model: Path, inputs: list[str], per_step: bool, expected: Path, threads: int,
             repeat: int, warmup: int = 1) -> dict:
    """Runs `python -m benchmark.peers` for `peer` on the workload files `inputs` (fusectl's option
    names); returns its JSON report, or raises PeerFailed."""
    cmd = [sys.executable, "-m", "benchmark.peers", "--peer", peer, "--model", str(model), *inputs,
           "--expected", str(expected), "--threads", str(threads), "--repeat", str(repeat), "--warmup", str(warmup)]
    if per_step:
        cmd.append("--per-step")
    path = os.pathsep.join([str(SCRIPTS), *filter(None, [os.environ.get("PYTHONPATH")])])
    done = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=path))
    lines = done.stdout.strip().splitlines()
    try:
        report = json.loads(lines[-1]) if lines else None
    except ValueError:
        report = None
    if report is not None and report.get("error"):
        raise PeerFailed(report["error"])
    if done.returncode != 0 or report is None:
        raise PeerFailed(f"exit status {done.returncode} from: {' '.join(cmd)}\n{done.stderr.strip()[-2000:]}")
    return report


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
