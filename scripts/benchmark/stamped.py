"""Files the benchmark makes once and reuses: `path` is rebuilt unless the JSON stamp beside it
records exactly the inputs it was made from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable


def reuse_or_build(path: Path, stamp: Path, expected: dict, build: Callable[[], None]) -> Path:
    """`path` as it is when `stamp` holds `expected`; otherwise removes the stamp, calls `build()`
    (which writes `path`) and writes the stamp, so an interrupted build is never reused."""
    try:
        if path.is_file() and json.loads(stamp.read_text()) == expected:
            return path
    except (OSError, ValueError):
        pass
    stamp.unlink(missing_ok=True)
    build()
    stamp.write_text(json.dumps(expected) + "\n")
    return path
