"""libfusectl-c.so as the issue wants it: the Swift runtime linked in (no libswift*.so needed), no
Foundation (nor ICU) inside it, and only the fusectl_* entry points of the header exported by name."""

import os
import re
import shutil
import subprocess

from conftest import REPO, missing


def library():
    return os.environ.get("FUSECTL_LIB") or os.path.join(REPO, ".build", "release", "libfusectl-c.so")


def tool(name):
    path = shutil.which(name)
    if path is None:
        missing("no %s (Debian: binutils)" % name)
    return path


def test_needs_no_swift_runtime_and_holds_no_foundation():
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                        subprocess.run([tool("readelf"), "-d", library()], capture_output=True, text=True, check=True).stdout)
    assert needed and not [name for name in needed if "swift" in name.lower() or "Foundation" in name or "icu" in name], needed
    symbols = subprocess.run([tool("nm"), library()], capture_output=True, text=True, check=True).stdout
    assert "swift_retain" in symbols  # the runtime is inside
    foundation = [line for line in symbols.splitlines() if "10Foundation" in line or "FoundationEssentials" in line
                  or "_FoundationICU" in line or "ucol_open" in line]
    assert not foundation, foundation[:5]


def test_exports_every_header_function():
    with open(os.path.join(REPO, "Sources", "FusectlC", "include", "fusectl.h")) as file:
        declared = set(re.findall(r"\b(fusectl_[a-z_]+)\(", file.read()))
    exported = set(re.findall(r" T (fusectl_[a-z_]+)$", subprocess.run(
        [tool("nm"), "-D", "--defined-only", library()], capture_output=True, text=True, check=True).stdout, re.M))
    assert declared and declared == exported, (declared ^ exported)
