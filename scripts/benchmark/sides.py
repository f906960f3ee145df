"""Every side of scripts/bench in one process, timed in rounds: `python -m benchmark.sides` on one workload.

    python -m benchmark.sides --weights W.npz --onnx reference.onnx --text T.npy --images I.npy
        [--text-mask M.npy] [--image-lengths N.npy] [--per-step] --threads N --rounds R [--warmup 1]
        [--sides torch,torch.compile,onnxruntime,openvino,fusectl] [--fusectl .build/release/fusectl]

Each side is made ready once, on the same inputs (read from the files into memory once) and the same
thread count, and its output checked against PyTorch eager's (max abs <= 1e-4) before it is timed; a
side that cannot be made ready or disagrees is reported with its reason and left out of the rounds:
  - torch: the reference (scripts/reference/model.py) under torch.inference_mode(), need_weights=False,
    per-step as one frame-causal pass (forward_per_step_fast): what scripts/benchmark/torch_fuse.py times;
  - torch.compile: the same forward compiled by Inductor (torch.compile, dynamic=False), on the pooled
    query, the images and the masks prepared once (the eager side pools and checks on every call: tens
    of microseconds); the first call compiles, and its time is reported apart (compile_s), not timed;
  - onnxruntime, openvino: the reference exported to ONNX (onnx_export.py), float32, as peers.session
    builds them (OpenVINO with INFERENCE_PRECISION_HINT f32, checked);
  - fusectl: this checkout's Python package (python/fusectl over libfusectl-c.so), fusectl.Model(weights,
    threads=N).fuse(...), the first call (which packs the weights) not timed.
Then --warmup untimed calls of each, then --rounds rounds of one timed call of each side in a rotating
order (benchmark/rounds.py). Prints one JSON line on stdout: {"sides": {side: {"times_s": [per round],
"max_abs_diff", "ready_s", "threads", "version", "error"}}, "settings": [...]}; progress on stderr.

Thread pools that keep spinning after a call would steal the next side's cores, so: OMP_WAIT_POLICY=PASSIVE
(set before torch loads its OpenMP runtime, which the Inductor kernels use as well), ONNX Runtime sessions
with session.intra_op.allow_spinning = session.inter_op.allow_spinning = 0. OpenVINO's TBB workers and
fusectl's pool (4000 pause instructions, then a condition variable) park themselves after a short spin;
neither has a setting for it. After every side is built, PyTorch's and fusectl's thread counts are read back
(PyTorch's is set back, and the change reported, if building another side moved it); ONNX Runtime's and OpenVINO's
are the ones set on their sessions. torch.compile's compile_s is as measured: Inductor's on-disk cache
(TORCHINDUCTOR_CACHE_DIR, by default under /tmp) may hold the kernels from an earlier run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable, Optional

SIDES = ("torch", "torch.compile", "onnxruntime", "openvino", "fusectl")
"""Every side, in table order; "torch" (PyTorch eager) is the reference the others are checked against."""

LABELS = {"torch": "PyTorch", "torch.compile": "torch.compile", "onnxruntime": "ONNX Runtime",
          "openvino": "OpenVINO", "fusectl": "fusectl in-process"}

PASSIVE_ENV = {"OMP_WAIT_POLICY": "PASSIVE"}
"""Set in the worker's environment before torch is imported (OpenMP reads it once, at load)."""

AGREEMENT_ATOL = 1e-4
ROOT = Path(__file__).resolve().parents[2]
INPUT_KEYS = ("text", "images", "text_lengths", "text_mask", "image_lengths")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def import_package(binary: Optional[Path] = None):
    """This checkout's `fusectl` package (python/), over the libfusectl-c.so beside `binary` (SwiftPM
    builds both into one folder), else .build/release's, else $FUSECTL_LIB; raises ImportError."""
    candidates = ([Path(binary).resolve().parent / "libfusectl-c.so"] if binary else []) + \
        [ROOT / ".build" / "release" / "libfusectl-c.so"]
    found = next((c for c in candidates if c.is_file()), None)
    if found is not None:
        os.environ["FUSECTL_LIB"] = str(found)
    elif not os.environ.get("FUSECTL_LIB"):
        raise ImportError(f"no libfusectl-c.so at {', '.join(map(str, candidates))}: "
                          "swift build -c release --static-swift-stdlib --product fusectl-c")
    package = str(ROOT / "python")
    if package not in sys.path:
        sys.path.insert(0, package)
    import fusectl

    return fusectl


def max_abs_diff(actual, expected) -> tuple[float, str]:
    """(max abs difference, "" or why not comparable) between two arrays."""
    import numpy as np

    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape:
        return float("inf"), f"output shape {actual.shape}, PyTorch's {expected.shape}"
    diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    if not np.all(np.isfinite(diff)):
        return float("inf"), "non-finite values in the output"
    return (float(diff.max()) if diff.size else 0.0), ""


# --------------------------------------------------------------------------- the sides


def torch_eager(model, inputs: dict, per_step: bool) -> Callable:
    fn = model.forward_per_step_fast if per_step else model.forward
    return lambda: fn(**inputs, need_weights=False)


def torch_compiled(model, inputs: dict, per_step: bool) -> Callable:
    """The reference forward (plain or per-step one pass) as one torch.compile'd function of tensors
    prepared once; the same modules and ops as FusionModel.forward / forward_per_step_fast."""
    import torch

    from reference.model import _frame_padding_mask

    pooled, imgs, lengths = model._prepare(inputs["text"], inputs["images"], inputs.get("text_lengths"),
                                           inputs.get("text_mask"), inputs.get("image_lengths"))
    B, T, P, img = imgs.shape
    d = model.config.proj_dim
    x_in = imgs.reshape(B, T * P, img).contiguous()
    kpm = None if inputs.get("image_lengths") is None else _frame_padding_mask(lengths, T, P)
    causal = (torch.arange(T * P) // P).unsqueeze(0) > torch.arange(T).unsqueeze(1) if per_step else None
    valid = (torch.arange(T).unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(-1) if per_step else None

    def forward(pooled, x_in, kpm, causal, valid):
        q = model.text_proj(pooled).unsqueeze(1)
        if per_step:
            q = q.expand(B, T, d)
        x = model.vision_proj(x_in)
        q, _ = model.fusor(q, x, key_padding_mask=kpm, attn_mask=causal, need_weights=False)
        return torch.where(valid, q, torch.zeros(())) if per_step else q

    compiled = torch.compile(forward, dynamic=False)
    return lambda: compiled(pooled, x_in, kpm, causal, valid)


def onnx_peer(peer: str, onnx: Path, inputs: dict, per_step: bool, threads: int) -> tuple[Callable, Callable]:
    """(timed call, output of one call with the rows past image_lengths zeroed) for an ONNX peer."""
    import numpy as np

    from benchmark import peers

    graph = peers.graph_inputs(inputs["text"], inputs["images"], inputs.get("text_lengths"),
                               inputs.get("text_mask"), inputs.get("image_lengths"), per_step)
    forward = peers.session(peer, onnx, graph, threads, spinning=False)

    def output():
        out = np.array(forward())
        valid = peers.valid_rows(out.shape[0], out.shape[1], inputs.get("image_lengths"), per_step)
        return out if valid is None else np.where(valid, out, np.float32(0))

    return forward, output


def build_sides(names: list[str], weights: Path, onnx: Optional[Path], inputs: dict, per_step: bool,
                threads: int, binary: Optional[Path]) -> tuple[dict[str, Callable], dict[str, dict]]:
    """Makes every side in `names` ready and checks its output; (calls of the ready sides, report per side)."""
    import torch

    from reference.model import load_weights_npz

    torch.set_num_threads(threads)
    reports = {name: {"error": None} for name in names}
    calls: dict[str, Callable] = {}
    start = time.perf_counter()
    model = load_weights_npz(weights)
    eager = torch_eager(model, inputs, per_step)
    expected = eager().numpy()
    calls["torch"] = eager
    reports["torch"].update(ready_s=time.perf_counter() - start, version=torch.__version__)
    log(f"bench:   PyTorch eager ready ({reports['torch']['ready_s']:.1f} s with its first call)")
    for name in names:
        if name == "torch":
            continue
        start = time.perf_counter()
        try:
            if name == "torch.compile":
                call = torch_compiled(model, inputs, per_step)
                output = lambda call=call: call().numpy()  # noqa: E731
                reports[name]["version"] = f"torch {torch.__version__} inductor"
            elif name in ("onnxruntime", "openvino"):
                if onnx is None:
                    raise RuntimeError("no ONNX export")
                from benchmark import peers

                call, output = onnx_peer(name, onnx, inputs, per_step, threads)
                reports[name]["version"] = peers.version(name)
            elif name == "fusectl":
                package = import_package(binary)
                handle = package.Model(str(weights), threads=threads)
                keys = {k: inputs[k] for k in ("image_lengths", "text_mask", "text_lengths") if inputs.get(k) is not None}
                call = lambda handle=handle, keys=keys: handle.fuse(inputs["text"], inputs["images"],  # noqa: E731
                                                                    per_step=per_step, **keys)
                output = call
                reports[name].update(version=package.__version__, model=handle)
            else:
                raise ValueError(f"unknown side '{name}'")
            out = output()  # the first call: compiles (torch.compile) or packs the weights (fusectl)
        except Exception as error:  # noqa: BLE001 - a side that cannot run is reported as "–" with the reason
            reports[name]["error"] = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
            log(f"bench:   {LABELS[name]} not run: {reports[name]['error']}")
            continue
        reports[name]["ready_s"] = time.perf_counter() - start
        diff, why = max_abs_diff(out, expected)
        reports[name]["max_abs_diff"] = diff
        if why or not diff <= AGREEMENT_ATOL:
            reports[name]["error"] = why or f"max abs difference {diff:.2e} from PyTorch, over {AGREEMENT_ATOL:g}: not timed"
            log(f"bench:   {LABELS[name]} not timed: {reports[name]['error']}")
            continue
        calls[name] = call
        log(f"bench:   {LABELS[name]} ready ({reports[name]['ready_s']:.1f} s with its first call), "
            f"max abs {diff:.1e} from PyTorch")
    thread_counts(reports, threads)
    return calls, reports


def thread_counts(reports: dict[str, dict], threads: int) -> None:
    """Reads each built side's thread count back (reports[side]["threads"]); sets PyTorch's back to `threads`
    (with reports["torch"]["threads_changed"]) if building another side changed it."""
    import torch

    now = torch.get_num_threads()
    if now != threads:
        reports["torch"]["threads_changed"] = f"{now} after the other sides were built; set back to {threads}"
        torch.set_num_threads(threads)
    reports["torch"]["threads"] = torch.get_num_threads()
    if "torch.compile" in reports:
        reports["torch.compile"]["threads"] = torch.get_num_threads()
    handle = reports.get("fusectl", {}).pop("model", None)
    if handle is not None:
        reports["fusectl"]["threads"] = handle.threads
    for peer in ("onnxruntime", "openvino"):
        if peer in reports and reports[peer].get("error") is None:
            reports[peer]["threads"] = threads  # as set by peers.session, not read back


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmark.sides", description=__doc__.strip().splitlines()[0])
    parser.add_argument("--weights", required=True, type=Path)
    parser.add_argument("--onnx", type=Path)
    for key in INPUT_KEYS:
        parser.add_argument("--" + key.replace("_", "-"), dest=key, required=key in ("text", "images"))
    parser.add_argument("--per-step", action="store_true")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--sides", default=",".join(SIDES))
    parser.add_argument("--fusectl", type=Path, help="the binary whose folder holds libfusectl-c.so")
    parser.add_argument("--out", type=Path, help="write PyTorch eager's output here (.npy)")
    args = parser.parse_args(argv)
    names = ["torch"] + [s for s in SIDES[1:] if s in args.sides.split(",")]
    for key, value in PASSIVE_ENV.items():
        os.environ.setdefault(key, value)
    import numpy as np
    import torch

    from benchmark import rounds as bench_rounds

    inputs = {k: np.load(getattr(args, k)) for k in INPUT_KEYS if getattr(args, k)}
    with torch.inference_mode():
        calls, reports = build_sides(names, args.weights, args.onnx, inputs, args.per_step, args.threads, args.fusectl)
        if args.out:
            np.save(args.out, calls["torch"]().numpy().astype(np.float32))
        for name, call in calls.items():
            for _ in range(args.warmup):
                call()
        log(f"bench:   {args.rounds} rounds of {', '.join(LABELS[n] for n in calls)} (rotating order)")
        failures: dict[str, str] = {}
        times = bench_rounds.run_rounds(calls, args.rounds, failures=failures)
    for name, why in failures.items():
        reports[name]["error"] = f"failed during the rounds: {why}"
    for name in names:
        reports[name]["times_s"] = times.get(name)
    settings = [f"{k}={os.environ.get(k)}" for k in PASSIVE_ENV] + \
        ["ONNX Runtime session.intra_op.allow_spinning=0, session.inter_op.allow_spinning=0"]
    print(json.dumps({"sides": reports, "settings": settings, "rounds": args.rounds, "threads": args.threads}))
    return 0 if reports["torch"]["error"] is None else 1


class SidesFailed(RuntimeError):
    """The worker process failed (PyTorch itself could not run); the message has its stderr."""


def run_sides(weights: Path, onnx: Optional[Path], inputs: list[str], per_step: bool, threads: int, rounds: int,
              warmup: int, sides: list[str], binary: Optional[Path], out: Optional[Path] = None) -> dict:
    """Runs the worker (`python -m benchmark.sides`) for one workload; its JSON report, or raises SidesFailed.

    inputs: the workload's file options (--text ... as fusectl takes them); out: where PyTorch eager's output
    is written. Progress goes to this process's stderr."""
    import subprocess

    cmd = [sys.executable, "-m", "benchmark.sides", "--weights", str(weights), *inputs, "--threads", str(threads),
           "--rounds", str(rounds), "--warmup", str(warmup), "--sides", ",".join(sides)]
    cmd += ["--onnx", str(onnx)] if onnx else []
    cmd += ["--fusectl", str(binary)] if binary else []
    cmd += ["--per-step"] if per_step else []
    cmd += ["--out", str(out)] if out else []
    scripts = str(ROOT / "scripts")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([scripts, *filter(None, [os.environ.get("PYTHONPATH")])]),
               **PASSIVE_ENV)
    done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    lines = done.stdout.strip().splitlines()
    try:
        report = json.loads(lines[-1]) if lines else None
    except ValueError:
        report = None
    if report is None or (done.returncode != 0 and report["sides"]["torch"].get("error")):
        raise SidesFailed(f"exit status {done.returncode} from: {' '.join(cmd)}")
    return report


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
