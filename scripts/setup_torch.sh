#!/usr/bin/env bash
# Creates (if absent) the Python virtual environment that scripts/reference/ and scripts/bench
# need, and installs scripts/reference/requirements.txt into it unless torch and numpy already
# import there; with --bench, scripts/benchmark/requirements.txt (also ONNX Runtime, OpenVINO,
# onnx, onnxscript) unless those import too.
#
#   scripts/setup_torch.sh                      # venv at <repo>/.venv-torch (ignored by git)
#   scripts/setup_torch.sh --bench              # the same, plus the benchmark's peers
#   FUSECTL_TORCH_VENV=/path scripts/setup_torch.sh
#
# Progress goes to stderr; the last line on stdout is the venv's python, so callers can
# do:  py="$(scripts/setup_torch.sh | tail -n 1)" && "$py" scripts/reference/make_golden.py
set -euo pipefail

scripts_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(dirname "$scripts_dir")"
venv="${FUSECTL_TORCH_VENV:-$repo_root/.venv-torch}"
python="$venv/bin/python"
requirements="$scripts_dir/reference/requirements.txt"
modules="torch, numpy"
case "${1:-}" in
    "") ;;
    --bench)
        requirements="$scripts_dir/benchmark/requirements.txt"
        modules="torch, numpy, onnx, onnxscript, onnxruntime, openvino" ;;
    *) echo "usage: scripts/setup_torch.sh [--bench]" >&2; exit 2 ;;
esac

if [ ! -x "$python" ]; then
    echo "setup_torch.sh: creating virtual environment $venv" >&2
    python3 -m venv "$venv" >&2
fi

if "$python" -c "import $modules" >/dev/null 2>&1; then
    echo "setup_torch.sh: torch $("$python" -c 'import torch; print(torch.__version__)') already in $venv" >&2
else
    echo "setup_torch.sh: installing $requirements into $venv (torch is large: minutes)" >&2
    "$python" -m pip install --disable-pip-version-check -r "$requirements" >&2
fi

echo "$python"
