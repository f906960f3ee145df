"""The Python reader of docs/stream.md, run as written against the CLI: vectors, acknowledgements and an
in-band error after which the stream goes on."""

import os
import re

import numpy as np
import pytest

from conftest import REPO, Golden, same_bits, stream_vectors


def test_the_documented_reader_works(cli, tmp_path):
    with open(os.path.join(REPO, "docs", "stream.md")) as file:
        code = re.search(r"```python\n(.*?)```", file.read(), re.S).group(1)
    golden = Golden("post_gelu_basic")
    text, images = golden.array("text"), golden.array("images")
    np.save(tmp_path / "instr.npy", text[0])
    code = code.replace('"fusectl"', repr(cli)).replace('"w.npz"', repr(golden.weights)) \
               .replace('"instr.npy"', repr(str(tmp_path / "instr.npy")))
    namespace = {}
    exec(compile(code, "docs/stream.md", "exec"), namespace)
    ask, p = namespace["ask"], namespace["p"]
    first = ask(images[0, 0])
    with pytest.raises(ValueError, match="non-finite value nan"):
        ask(np.full(images.shape[-1], np.nan, np.float32))
    second = ask(images[0, 1])
    assert str(ask(np.array("reset"))) == "ok: reset"
    again = ask(images[0, 0])
    p.stdin.close()
    assert p.wait() == 0
    expected = stream_vectors(cli, golden.model_arguments(), str(tmp_path / "instr.npy"), [images[0, 0], images[0, 1]])
    assert same_bits(first, expected[0]) and same_bits(second, expected[1]) and same_bits(again, first)
