"""Builds libfusectl-c.so and the fusectl binary with SwiftPM and ships both inside the package.

`pip install ./python` and `pip wheel ./python` run this from the repository (the Swift package is
the folder above; FUSECTL_SWIFT_PACKAGE names another). The wheel is tagged for the oldest glibc
its binaries accept (the highest GLIBC_x.y symbol version they need), and carries zlib and
libdeflate beside the library so that it runs where neither (nor Swift) is installed.
"""

import os
import re
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

try:
    from wheel.bdist_wheel import bdist_wheel
except ImportError:  # wheel not installed: plain installs still work
    bdist_wheel = None

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.environ.get("FUSECTL_SWIFT_PACKAGE", os.path.dirname(HERE))
LIBRARY = "libfusectl-c.so"
BUNDLED = ("libz.so.1", "libdeflate.so.0")


def swift_build():
    """Builds both products in release mode and returns SwiftPM's output folder."""
    base = ["swift", "build", "-c", "release", "--static-swift-stdlib", "--package-path", PACKAGE]
    for product in ("fusectl-c", "fusectl"):
        subprocess.check_call(base + ["--product", product])
    return subprocess.check_output(base + ["--show-bin-path"], text=True).strip()


def shared_dependencies(path):
    """Paths of the bundled libraries `path` loads (from ldd)."""
    found = {}
    for line in subprocess.check_output(["ldd", path], text=True).splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] in BUNDLED and parts[1] == "=>":
            found[parts[0]] = parts[2]
    return found


def glibc_needed(paths):
    """The highest GLIBC_x.y version any of `paths` needs, as (x, y)."""
    best = (2, 17)
    for path in paths:
        text = subprocess.check_output(["objdump", "-T", path], text=True)
        for major, minor in re.findall(r"GLIBC_(\d+)\.(\d+)", text):
            best = max(best, (int(major), int(minor)))
    return best


class BuildWithSwift(build_py):
    def run(self):
        super().run()
        bin_path = swift_build()
        target = os.path.join(self.build_lib, "fusectl", "_lib")
        os.makedirs(target, exist_ok=True)
        library = os.path.join(bin_path, LIBRARY)
        shutil.copy2(library, target)
        shutil.copy2(os.path.join(bin_path, "fusectl"), target)
        for name, source in shared_dependencies(library).items():
            shutil.copy2(source, os.path.join(target, name))


commands = {"build_py": BuildWithSwift}

if bdist_wheel is not None:
    class PlatformWheel(bdist_wheel):
        def finalize_options(self):
            super().finalize_options()
            self.root_is_pure = False

        def get_tag(self):
            lib_dir = os.path.join(self.bdist_dir, "fusectl", "_lib")
            if not os.path.isdir(lib_dir):
                lib_dir = os.path.join(HERE, "build", "lib", "fusectl", "_lib")
            binaries = [os.path.join(lib_dir, name) for name in os.listdir(lib_dir)] if os.path.isdir(lib_dir) else []
            major, minor = glibc_needed(binaries)
            machine = os.uname().machine
            return "py3", "none", "manylinux_%d_%d_%s" % (major, minor, machine)

    commands["bdist_wheel"] = PlatformWheel

setup(cmdclass=commands)
