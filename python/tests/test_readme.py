"""The README's "From Python" example runs as written, with the shapes its comments state."""

import os
import re

from conftest import REPO


def test_the_readme_example_runs(capsys):
    with open(os.path.join(REPO, "README.md")) as file:
        section = file.read().split("## From Python", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace = {}
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        exec(compile(code, "README.md", "exec"), namespace)
    finally:
        os.chdir(cwd)
    assert namespace["y"].shape == (3, 1, 64) and namespace["v"].shape == (3, 64)
    assert "one frame per agent" in capsys.readouterr().out
