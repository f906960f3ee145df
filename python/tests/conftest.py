"""Shared fixtures: the package (from this checkout unless installed), the CLI binary ($FUSECTL_BIN) that
every result is compared with bit for bit, and the golden cases of fixtures/golden.

A missing tool is a failure under CI=true and a visible skip otherwise."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNDER_CI = os.environ.get("CI", "").lower() in ("true", "1")  # as TestSupport.isContinuousIntegration

if os.environ.get("FUSECTL_TEST_INSTALLED") != "1":
    # Test this checkout's package; FUSECTL_LIB (scripts/test.sh sets it) names the built library.
    sys.path.insert(0, os.path.join(REPO, "python"))
    if not os.environ.get("FUSECTL_LIB"):
        built = os.path.join(REPO, ".build", "release", "libfusectl-c.so")
        if os.path.exists(built):
            os.environ["FUSECTL_LIB"] = built

GOLDEN = os.path.join(REPO, "fixtures", "golden")


def missing(what):
    """Fails under CI=true, skips (visibly, with the reason) otherwise."""
    if UNDER_CI:
        pytest.fail("%s (CI=true: a missing tool is a failure)" % what, pytrace=False)
    pytest.skip(what)


@pytest.fixture(scope="session")
def cli():
    """The fusectl binary: $FUSECTL_BIN, else this checkout's release build."""
    path = os.environ.get("FUSECTL_BIN") or os.path.join(REPO, ".build", "release", "fusectl")
    if not os.access(path, os.X_OK):
        missing("no fusectl binary at %s (build it: swift build -c release --product fusectl, "
                "or set FUSECTL_BIN)" % path)
    return path


class Golden:
    """One golden case (fixtures/golden/NAME/case.json) and its arrays."""

    def __init__(self, name):
        self.name = name
        self.folder = os.path.join(GOLDEN, name)
        with open(os.path.join(self.folder, "case.json")) as file:
            self.case = json.load(file)
        inputs = self.case["inputs"]
        self.weights = self.path(self.case["weights"])
        self.prefix = self.case.get("prefix")
        self.config_file = self.path(self.case["config_file"]) if self.case.get("config_file") else None
        self.per_step = bool(self.case.get("per_step"))
        self.files = {key: self.path(value) for key, value in inputs.items() if value}

    def path(self, name):
        return os.path.join(self.folder, name)

    def array(self, key):
        return np.load(self.files[key]) if key in self.files else None

    def model_arguments(self):
        arguments = ["--weights", self.weights]
        if self.prefix:
            arguments += ["--prefix", self.prefix]
        if self.config_file:
            arguments += ["--config", self.config_file]
        return arguments

    def input_arguments(self):
        names = {"text": "--text", "images": "--images", "text_lengths": "--text-lengths",
                 "text_mask": "--text-mask", "image_lengths": "--image-lengths"}
        arguments = []
        for key, option in names.items():
            if key in self.files:
                arguments += [option, self.files[key]]
        return arguments


def golden_names():
    return sorted(name for name in os.listdir(GOLDEN) if os.path.exists(os.path.join(GOLDEN, name, "case.json")))


def run_cli(binary, arguments, stdin=None, check=True):
    result = subprocess.run([binary] + arguments, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if check and result.returncode != 0:
        raise AssertionError("fusectl %s failed (%d): %s" % (" ".join(arguments), result.returncode,
                                                             result.stderr.decode()))
    return result


def cli_fuse(binary, tmp_path, model_arguments, input_arguments, options=(), attention=False):
    """`fusectl fuse` into files under tmp_path: (output, attention or None)."""
    out = str(tmp_path / "cli_out.npy")
    arguments = ["fuse"] + list(model_arguments) + list(input_arguments) + ["--out", out] + list(options)
    maps = None
    if attention:
        maps = str(tmp_path / "cli_attention.npy")
        arguments += ["--attention", maps]
    for path in (out, maps):
        if path and os.path.exists(path):
            os.remove(path)
    run_cli(binary, arguments)
    return np.load(out), (np.load(maps) if maps else None)


def cli_error(binary, command, arguments):
    """The message of a failing CLI command, without its `fusectl COMMAND: error: ` lead."""
    result = run_cli(binary, [command] + list(arguments), check=False)
    assert result.returncode != 0, "fusectl %s %s succeeded" % (command, arguments)
    text = result.stderr.decode().strip().splitlines()[0]
    lead = "fusectl %s: error: " % command
    assert text.startswith(lead), text
    return text[len(lead):]


def cli_error_without_files(binary, command, arguments):
    """`cli_error`, with what the CLI adds about files removed: the file names in its messages about
    inputs ("images (i.npy): ...") and a closing hint at a file option ("; ..., pass --one-sample").
    Arrays passed from Python have no file, and the message is otherwise the same."""
    message = cli_error(binary, command, arguments)
    for argument in arguments:
        if os.path.exists(str(argument)):
            message = message.replace(" (%s)" % argument, "")
    return re.sub(r"; [^;]*pass --one-sample$", "", message)


def same_bits(a, b):
    a = np.ascontiguousarray(a, dtype=np.float32)
    b = np.ascontiguousarray(b, dtype=np.float32)
    return a.shape == b.shape and a.tobytes() == b.tobytes()


def stream_vectors(binary, model_arguments, text_path, frames, extra=(), d=None):
    """`fusectl stream` on `frames` (each written as one .npy), its (d,) answers as a list."""
    import io
    payload = io.BytesIO()
    for frame in frames:
        if isinstance(frame, str):
            np.save(payload, np.array(frame))
        else:
            np.save(payload, np.ascontiguousarray(frame, dtype=np.float32))
    result = run_cli(binary, ["stream"] + list(model_arguments) + ["--text", text_path] + list(extra),
                     stdin=payload.getvalue())
    reader = io.BytesIO(result.stdout)
    answers = []
    while reader.tell() < len(result.stdout):
        answers.append(np.lib.format.read_array(reader))
    return answers
