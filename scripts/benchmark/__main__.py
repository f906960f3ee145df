"""`scripts/bench [SUBCOMMAND] [options]`: the benchmark's one entry point.

    scripts/bench [options]             W1-W5 against the peers (benchmark/main.py; --help lists options)
    scripts/bench stream [options]      `fusectl stream` per step against a PyTorch agent loop (benchmark/stream.py)
    scripts/bench npyio [options]       NpyIO reading and writing against numpy and cat (benchmark/npyio.py)
    scripts/bench kernels [options]     the kernels-bench product: GEMM GFLOP/s, attention GB/s (benchmark/kernels.sh)
    scripts/bench inprocess [options]   the Python package in-process: W1, E agents, import + load (benchmark/inprocess.py)

Equivalent: `PYTHONPATH=scripts python3 -m benchmark ...` from the repository root. The
subcommands that need torch re-execute under the torch venv when torch is missing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "kernels":
        script = Path(__file__).resolve().parent / "kernels.sh"
        os.execv("/usr/bin/env", ["/usr/bin/env", "bash", str(script), *argv[1:]])
    if command == "npyio":
        from benchmark import npyio

        return npyio.main(argv[1:])
    if command == "inprocess":
        from benchmark import inprocess

        return inprocess.main(argv[1:])
    from reference.torch_venv import reexec_if_no_torch

    reexec_if_no_torch()
    if command == "stream":
        from benchmark import stream

        return stream.main(argv[1:])
    from benchmark import main as workloads_main

    return workloads_main.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
