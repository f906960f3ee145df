"""The `fusectl` command installed by the package: runs the fusectl binary shipped beside the library."""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    lib_dir = os.path.join(_HERE, "_lib")
    binary = os.path.join(lib_dir, "fusectl")
    if not os.path.exists(binary):
        sys.stderr.write("fusectl: the binary %s is missing; reinstall the package (pip install ./python)\n" % binary)
        return 127
    env = dict(os.environ)
    # zlib and libdeflate may ship beside it (a wheel for machines without them).
    env["LD_LIBRARY_PATH"] = lib_dir + (os.pathsep + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    os.execve(binary, [binary] + sys.argv[1:], env)


if __name__ == "__main__":
    sys.exit(main())
