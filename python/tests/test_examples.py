"""The in-process examples of scripts/ run as a user runs them, each checking its own results against the
CLI bit for bit (--check)."""

import os
import subprocess
import sys

import pytest

from conftest import REPO

EXAMPLES = {
    "agent_loop_example.py": (["--text", "examples/text.npy", "--steps", "6"],
                              "checked 12 steps against fusectl fuse: 0 differ"),
    "batched_agents_example.py": (["--text", "examples/text.npy", "--agents", "5", "--steps", "6", "--time"],
                                  "checked 30 agent steps against fusectl fuse: 0 differ"),
    "step_targets_dataset.py": (["--episodes", "7", "--batch-size", "3"], "against fusectl fuse --per-step: 0 differ"),
}


@pytest.mark.parametrize("script", sorted(EXAMPLES))
def test_example_checks_itself_against_the_cli(cli, script):
    arguments, expected = EXAMPLES[script]
    run = subprocess.run([sys.executable, os.path.join(REPO, "scripts", script), "--fusectl", cli,
                          "--weights", "examples/weights.npz", "--check"] + arguments,
                         cwd=REPO, capture_output=True, text=True, env=dict(os.environ))
    assert run.returncode == 0, run.stdout + run.stderr
    assert expected in run.stdout, run.stdout
