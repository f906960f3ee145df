"""fusectl in-process: the fusion engine of the `fusectl` CLI as a Python library (ctypes over
libfusectl-c.so; numpy is the only dependency).

    import fusectl
    with fusectl.Model("w.npz") as m:
        y = m.fuse(text, images)                 # float32 (B, 1, d), bit-identical to `fusectl fuse`
        s = m.session(instruction)               # one agent: s.step(frame) -> (d,)
        b = m.sessions(instructions)             # E agents at once: b.step(frames) -> (E, d)

Errors raise fusectl.FusectlError with the CLI's message.
"""

from ._api import FusectlError, Model, Session, Sessions, _lib

__all__ = ["Model", "Session", "Sessions", "FusectlError", "__version__"]

__version__ = _lib.fusectl_version().decode("ascii").split()[-1]
