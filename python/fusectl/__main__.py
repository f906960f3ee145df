"""`python -m fusectl ARGS`: the fusectl command shipped with the package (as the `fusectl` script)."""

import sys

from ._cli import main

sys.exit(main())
