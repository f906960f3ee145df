"""Shared by the in-process examples: import the `fusectl` package (installed, or this checkout's python/
over a built libfusectl-c.so), and `fusectl fuse` on arrays for checking results bit for bit."""

import os
import subprocess
import sys
import tempfile

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def import_fusectl(binary=None):
    """The package: installed (`pip install ./python`) or, failing that, this checkout's python/ with the
    library beside `binary` (SwiftPM puts libfusectl-c.so next to the fusectl binary) or in .build/release."""
    try:
        import fusectl
        return fusectl
    except ImportError:
        pass
    if not os.environ.get("FUSECTL_LIB"):
        candidates = [os.path.join(REPO, ".build", "release", "libfusectl-c.so")]
        if binary and os.path.sep in binary:
            candidates.insert(0, os.path.join(os.path.dirname(os.path.abspath(binary)), "libfusectl-c.so"))
        for candidate in candidates:
            if os.path.exists(candidate):
                os.environ["FUSECTL_LIB"] = candidate
                break
    sys.path.insert(0, os.path.join(REPO, "python"))
    import fusectl
    return fusectl


def cli_fuse(binary, weights, text, images, options=()):
    """`fusectl fuse` on in-memory arrays, through files: the output array."""
    with tempfile.TemporaryDirectory() as folder:
        paths = {name: os.path.join(folder, name + ".npy") for name in ("text", "images", "out")}
        np.save(paths["text"], text)
        np.save(paths["images"], images)
        subprocess.run([binary, "fuse", "--weights", weights, "--text", paths["text"], "--images", paths["images"],
                        "--out", paths["out"]] + list(options), check=True)
        return np.load(paths["out"])
