"""``--threads N``: limit BLAS, OpenMP, PyTorch and XLA threads; must run before numpy is imported.

Each benchmark script imports this module first::

    import threads  # noqa: F401 - reads --threads from sys.argv before numpy loads

On a machine shared with other busy processes, a multithreaded BLAS call
waits for a thread that is not scheduled, and its time turns to noise;
``--threads 1`` makes every system single-threaded, which keeps comparisons
fair and stable.  Without the flag nothing changes.
"""

from __future__ import annotations

import os
import sys

VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def requested(argv=None):
    """The N of ``--threads N`` / ``--threads=N`` in ``argv``, or None."""
    argv = sys.argv[1:] if argv is None else argv
    for n, arg in enumerate(argv):
        if arg == "--threads" and n + 1 < len(argv):
            return int(argv[n + 1])
        if arg.startswith("--threads="):
            return int(arg.split("=", 1)[1])
    return None


def apply(count) -> None:
    if count is None:
        return
    if "numpy" in sys.modules:
        print("threads: numpy is already imported, so --threads may not limit its BLAS",
              file=sys.stderr)
    for name in VARIABLES:
        os.environ[name] = str(count)
    if count == 1:
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1").strip()


def describe() -> str:
    """``threads N`` when limited, else ``threads: library defaults``."""
    count = os.environ.get("OPENBLAS_NUM_THREADS")
    return f"threads {count}" if count else "threads: library defaults"


apply(requested())
