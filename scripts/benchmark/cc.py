"""Compiling scripts/bench's two small C helpers (peak.c, spawn.c) with the system compiler.

Binaries go to <cache>/bin and are rebuilt when their source is newer. Without a C
compiler the callers fall back (peak.py to a matmul rate, fusectl.py to
spawning from Python without a peak RSS) and say so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
"""scripts/benchmark, where the C sources are."""


def find_compiler() -> Optional[str]:
    """$CC, else the first of cc, gcc, clang on PATH; None when there is none."""
    for name in ([os.environ["CC"]] if os.environ.get("CC") else []) + ["cc", "gcc", "clang"]:
        path = shutil.which(name)
        if path:
            return path
    return None


def compile_c(source: str, out: Path, flags: list[str]) -> str:
    """Compiles scripts/benchmark/<source> to `out` with -O2 and `flags` unless `out` is up to date.

    Returns "" on success, else why not (no compiler, or the compiler's message).
    """
    src = HERE / source
    if out.is_file() and out.stat().st_mtime >= src.stat().st_mtime:
        return ""
    compiler = find_compiler()
    if compiler is None:
        return "no C compiler (cc, gcc, clang or $CC) on PATH"
    out.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([compiler, "-O2", *flags, str(src), "-o", str(out)], capture_output=True, text=True)
    if done.returncode != 0:
        return f"{Path(compiler).name} failed on {source}: " + (done.stderr.strip() or f"exit status {done.returncode}")
    return ""
