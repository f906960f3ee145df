"""ctypes declarations of include/fusectl.h (Sources/FusectlC/include/fusectl.h) and the library lookup."""

import ctypes
import os

_HERE = os.path.dirname(os.path.abspath(__file__))
LIBRARY_NAME = "libfusectl-c.so"

c_int64_p = ctypes.POINTER(ctypes.c_int64)
c_float_p = ctypes.POINTER(ctypes.c_float)
c_void_pp = ctypes.POINTER(ctypes.c_void_p)

# name: (restype, argtypes)
_SIGNATURES = {
    "fusectl_last_error": (ctypes.c_char_p, []),
    "fusectl_version": (ctypes.c_char_p, []),
    "fusectl_model_open": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                          ctypes.c_int64, c_void_pp]),
    "fusectl_model_close": (ctypes.c_int, [ctypes.c_void_p]),
    "fusectl_model_config": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int64, c_int64_p]),
    "fusectl_model_threads": (ctypes.c_int, [ctypes.c_void_p, c_int64_p]),
    "fusectl_fuse_sizes": (ctypes.c_int, [ctypes.c_void_p, c_int64_p, ctypes.c_int64, c_int64_p, ctypes.c_int64,
                                          ctypes.c_int32, ctypes.c_int32, c_int64_p, c_int64_p]),
    "fusectl_fuse": (ctypes.c_int, [
        ctypes.c_void_p,
        c_float_p, c_int64_p, ctypes.c_int64,
        c_float_p, c_int64_p, ctypes.c_int64,
        c_int64_p, ctypes.c_int64,
        c_float_p, c_int64_p, ctypes.c_int64,
        c_int64_p, ctypes.c_int64,
        ctypes.c_int32, ctypes.c_char_p,
        c_float_p, ctypes.c_int64,
        c_float_p, ctypes.c_int64]),
    "fusectl_sessions_open": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, c_void_pp]),
    "fusectl_sessions_reset": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int64, c_float_p, c_int64_p, ctypes.c_int64,
                                              c_float_p, c_int64_p, ctypes.c_int64]),
    "fusectl_sessions_step": (ctypes.c_int, [ctypes.c_void_p, c_float_p, c_int64_p, ctypes.c_int64, c_float_p,
                                             ctypes.c_int64]),
    "fusectl_sessions_steps": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int64, c_int64_p]),
    "fusectl_sessions_close": (ctypes.c_int, [ctypes.c_void_p]),
}


def library_path():
    """The shared library: $FUSECTL_LIB, else the copy installed inside the package."""
    explicit = os.environ.get("FUSECTL_LIB")
    if explicit:
        return explicit
    return os.path.join(_HERE, "_lib", LIBRARY_NAME)


def load():
    path = library_path()
    if not os.path.exists(path):
        raise ImportError(
            "fusectl: the engine library %s is missing; install the package with `pip install ./python` "
            "(it builds the library with SwiftPM) or point FUSECTL_LIB at a built libfusectl-c.so" % path)
    lib = ctypes.CDLL(path)  # CDLL: the GIL is released during every call
    for name, (restype, argtypes) in _SIGNATURES.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    return lib
