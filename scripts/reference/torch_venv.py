"""Re-executes the running program under the torch virtual environment when torch is missing.

Import this module (it imports nothing heavy) and call reexec_if_no_torch() before importing
torch. If `import torch` fails, scripts/setup_torch.sh creates or completes the venv
($FUSECTL_TORCH_VENV, default .venv-torch at the repository root) and the same command line
(sys.orig_argv: a script path or `-m module`, and its arguments) is re-run with that venv's
python, in the same folder and environment (PYTHONPATH included).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1]
"""scripts/, where setup_torch.sh lives."""

_GUARD = "FUSECTL_TORCH_REEXEC"


def reexec_if_no_torch() -> None:
    """Returns if torch imports; otherwise replaces this process (or exits with a message)."""
    try:
        import torch  # noqa: F401

        return
    except ImportError:
        pass
    argv = sys.orig_argv[1:]
    name = Path(argv[0]).name if argv and argv[0] != "-m" else " ".join(argv[:2])
    if os.environ.get(_GUARD) == "1":
        sys.exit(f"{name}: torch is still not importable under {sys.executable}; see scripts/setup_torch.sh")
    print(f"{name}: torch is not importable here; preparing it with scripts/setup_torch.sh", file=sys.stderr)
    done = subprocess.run([str(SCRIPTS / "setup_torch.sh")], check=True, stdout=subprocess.PIPE, text=True)
    python = done.stdout.strip().splitlines()[-1]
    env = dict(os.environ, **{_GUARD: "1"})
    os.execve(python, [python, *argv], env)
