"""Small helpers the evaluator, the plan and the backends share: reading an argument as an
array, the memory check, and byte counts for people."""

from __future__ import annotations

import math

import numpy as np

from ..errors import BindingError, MemoryLimitError
from .recipe import size_of


def _as_array(name: str, value) -> np.ndarray:
    try:
        array = np.asarray(value)
    except Exception as error:  # pragma: no cover - numpy's own message is clear enough
        raise BindingError(f"evaluate: variable {name!r}: {error}") from None
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)
    if array.dtype.kind not in "fc":
        raise BindingError(f"evaluate: variable {name!r} got an array of dtype {array.dtype}, "
                           "not numbers")
    return array



def check_memory(program, bindings: dict, limit: int) -> None:
    """Refuse, before anything is allocated, a program that would hold more than ``limit`` bytes."""
    predicted, largest = program.predicted_bytes(bindings, largest=True)
    if predicted <= limit:
        return
    if program.naive:
        raise MemoryLimitError(
            f"grad(method='naive'): materializing the Jacobians needs about {_human(predicted)} "
            f"(limit {_human(limit)}); use method='contracted' (the default), which never builds "
            "them, or raise memory_limit")
    shape = tuple(size_of(d, bindings) for d in largest.shape)
    raise MemoryLimitError(
        f"evaluate: this derivative needs about {_human(predicted)} (limit memory_limit="
        f"{_human(limit)}); its largest array has shape {shape} ({math.prod(shape):,} entries). "
        "A Jacobian of a non-scalar function is that large: use tc.vjp(f, wrt, cotangent) to "
        "contract an incoming gradient instead of forming it, or pass a larger memory_limit to "
        "tc.grad / tc.jacobian")



def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024

