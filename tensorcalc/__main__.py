"""``python -m tensorcalc``: the command line (see :mod:`tensorcalc.frontends.cli`)."""

import sys

from .frontends.cli import main

if __name__ == "__main__":
    sys.exit(main())
