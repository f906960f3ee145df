#!/usr/bin/env bash
# Installs what building and testing fusectl need on a fresh Debian machine (run as root): zlib's and
# libdeflate's headers, numpy for the `python3` on PATH (the tests cross-check files with numpy) and
# Debian's python3 with PyYAML (the Kubernetes manifest's test parses it). Slurm for the Slurm test is
# installed by scripts/cluster/local-slurm.sh when it first runs.
# Swift itself and the Swift package mirrors come with the machine. Safe to run again.
set -euo pipefail
need=()
dpkg -s zlib1g-dev >/dev/null 2>&1 || need+=(libz-dev)
dpkg -s libdeflate-dev >/dev/null 2>&1 || need+=(libdeflate-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
# GNU time: the memory tests read fusectl's own peak RSS from /usr/bin/time -f %M.
[ -x /usr/bin/time ] || need+=(time)
/usr/bin/python3 -c 'import yaml' >/dev/null 2>&1 || need+=(python3-yaml)
# The Python package's tests (python/tests, run by scripts/test.sh with Debian's python3): numpy, pytest,
# venv, and setuptools/wheel to build the package without PyPI (pip install --no-build-isolation).
for pkg in python3-numpy python3-pytest python3-venv python3-setuptools python3-wheel; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# objdump/readelf/nm: the wheel's glibc tag (python/setup.py) and the library's linking test.
command -v objdump >/dev/null 2>&1 || need+=(binutils)
has_numpy() { python3 -c 'import numpy' >/dev/null 2>&1; }
if ! has_numpy; then
    # Debian's numpy (python3-numpy) serves Debian's python3; another python3 first on PATH (pyenv, a
    # venv) is given numpy by its own pip below.
    dpkg -s python3-numpy >/dev/null 2>&1 || need+=(python3-numpy)
    command -v python3 >/dev/null 2>&1 || need+=(python3)
fi
if [ ${#need[@]} -gt 0 ]; then
    echo "setup: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! has_numpy; then
    echo "setup: $(command -v python3) is not Debian's python3; installing numpy with its pip" >&2
    python3 -m pip install --quiet numpy >&2 || true
fi
if ! has_numpy; then
    echo "setup: error: python3 on PATH ($(command -v python3 || echo none)) cannot import numpy; the tests need it" >&2
    exit 1
fi
