"""The PyTorch side of scripts/bench: the reference forward on the workload files.

Runs benchmark/torch_fuse.py in a fresh process per workload, so PyTorch and fusectl
read the same files and PyTorch's memory never mixes with the benchmark's:
torch.set_num_threads(threads), torch.inference_mode(), need_weights=False (the
fused fast path of nn.MultiheadAttention), per-step as one pass with a
frame-causal attention mask (forward_per_step_fast). Timed are the forward calls
alone (inputs already in memory), `warmup` untimed calls first, then the median
of `repeat`. The output of the last call is written to `out` for the agreement
check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1]
"""scripts/, the folder that holds the packages `benchmark` and `reference`."""


class TorchFailed(RuntimeError):
    """torch_fuse.py exited non-zero or printed no result; the message has its stderr."""


def run_torch(
    weights: Path, inputs: list[str], per_step: bool, out: Path, threads: int, repeat: int, warmup: int = 1
) -> dict:
    """Returns torch_fuse.py's report: {"mode", "threads", "repeat", "min_s", "median_s", "shape"}."""
    cmd = [
        sys.executable,
        "-m",
        "benchmark.torch_fuse",
        "--weights",
        str(weights),
        *inputs,
        "--out",
        str(out),
        "--threads",
        str(threads),
        "--repeat",
        str(repeat),
        "--warmup",
        str(warmup),
    ]
    if per_step:
        cmd.append("--per-step")
    path = os.pathsep.join([str(SCRIPTS), *filter(None, [os.environ.get("PYTHONPATH")])])
    done = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=path))
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise TorchFailed(f"exit status {done.returncode} from: {' '.join(cmd)}\n{done.stderr.strip()[-2000:]}")
    report = json.loads(lines[-1])
    if report.get("threads") != threads:
        raise TorchFailed(f"torch_fuse.py ran on {report.get('threads')} threads, expected {threads}")
    return report
