"""What a spawned ``multiprocessing`` worker runs in the tests: importable without pytest.

A program arrives pickled (by its expressions and its backend's name) and plans, lowers and,
for jax, traces again here, in a fresh interpreter.
"""

import os

import numpy as np


def enable_jax_x64() -> None:
    """A pool initializer: jax's x64 mode is each process's own setting (off by default)."""
    try:
        import jax
    except ImportError:  # pragma: no cover - jax is in the test extra
        return
    jax.config.update("jax_enable_x64", True)


def run(program, values: dict) -> tuple:
    """``(process id, outputs as numpy arrays, type names of the outputs)`` of ``program``."""
    outputs = program(**values)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    return os.getpid(), [_to_numpy(o) for o in outputs], [type(o).__name__ for o in outputs]


def _to_numpy(value) -> np.ndarray:
    if hasattr(value, "compute"):  # dask: lazy until computed, here in the worker
        value = value.compute()
    if hasattr(value, "detach"):  # torch
        value = value.detach().numpy()
    return np.asarray(value)
