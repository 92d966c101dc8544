"""``python -m tensorcalc``: the command line (see :mod:`tensorcalc.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
