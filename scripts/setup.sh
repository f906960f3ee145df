#!/usr/bin/env bash
# Installs what building fusectl needs on a fresh Debian machine (run as root): zlib's and libdeflate's
# headers; and for the tests, Debian's python3 with PyYAML (the Kubernetes manifest's test parses it).
# Slurm for the Slurm test is installed by scripts/cluster/local-slurm.sh when it first runs.
# Swift itself and the Swift package mirrors come with the machine. Safe to run again.
set -euo pipefail
need=()
dpkg -s zlib1g-dev >/dev/null 2>&1 || need+=(libz-dev)
dpkg -s libdeflate-dev >/dev/null 2>&1 || need+=(libdeflate-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
/usr/bin/python3 -c 'import yaml' >/dev/null 2>&1 || need+=(python3-yaml)
if [ ${#need[@]} -gt 0 ]; then
    echo "setup: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
fi
