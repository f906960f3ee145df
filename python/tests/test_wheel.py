"""`pip wheel ./python` makes a binary wheel that installs into a fresh venv and runs with no Swift
toolchain on PATH, giving the CLI's bits; its platform tag names the glibc its binaries need."""

import glob
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, Golden, cli_fuse, missing


def test_wheel_installs_and_runs_without_swift(cli, tmp_path):
    for module in ("venv", "wheel", "setuptools", "pip"):
        if subprocess.run([sys.executable, "-c", "import " + module], capture_output=True).returncode != 0:
            missing("%s lacks the %s module (Debian: python3-venv, python3-wheel, python3-setuptools, python3-pip)"
                    % (sys.executable, module))
    if shutil.which("swift") is None:
        missing("no swift on PATH to build the wheel with")
    dist = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-w", str(dist),
                            os.path.join(REPO, "python")], capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    wheels = glob.glob(str(dist / "*.whl"))
    assert len(wheels) == 1, wheels
    tag = re.search(r"-py3-none-manylinux_(\d+)_(\d+)_(\w+)\.whl$", wheels[0])
    assert tag, wheels[0]
    needed = max((int(a), int(b)) for binary in ("libfusectl-c.so", "fusectl")
                 for a, b in re.findall(r"GLIBC_(\d+)\.(\d+)", subprocess.run(
                     ["objdump", "-T", os.path.join(REPO, ".build", "release", binary)],
                     capture_output=True, text=True).stdout))
    assert (int(tag.group(1)), int(tag.group(2))) == needed

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    install = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-index", "--no-deps", wheels[0]],
                             capture_output=True, text=True)
    assert install.returncode == 0, install.stdout + install.stderr

    golden = Golden("text_mask_right")
    script = ("import fusectl, numpy as np, sys\n"
              "m = fusectl.Model(sys.argv[1])\n"
              "y = m.fuse(np.load(sys.argv[2]), np.load(sys.argv[3]), text_mask=np.load(sys.argv[4]))\n"
              "np.save(sys.argv[5], y)\n"
              "assert fusectl.__file__.startswith(sys.argv[6]), fusectl.__file__\n")
    # No Swift toolchain, no checkout: PATH without swift, run from elsewhere, no FUSECTL_LIB.
    env = {"PATH": "%s:/usr/bin:/bin" % (venv / "bin"), "HOME": str(tmp_path)}
    assert subprocess.run(["bash", "-c", "command -v swift"], env=env, capture_output=True).returncode != 0
    out = tmp_path / "wheel_out.npy"
    run = subprocess.run([str(venv / "bin" / "python"), "-c", script, golden.weights, golden.files["text"],
                          golden.files["images"], golden.files["text_mask"], str(out), str(venv)],
                         env=env, cwd=str(tmp_path), capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    import numpy as np
    expected, _ = cli_fuse(cli, tmp_path, golden.model_arguments(), golden.input_arguments())
    assert np.load(out).tobytes() == expected.tobytes()
    version = subprocess.run([str(venv / "bin" / "fusectl"), "--version"], env=env, capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("fusectl "), version.stderr
    module = subprocess.run([str(venv / "bin" / "python"), "-m", "fusectl", "--version"], env=env, cwd=str(tmp_path),
                            capture_output=True, text=True)
    assert module.returncode == 0 and module.stdout == version.stdout, module.stderr
