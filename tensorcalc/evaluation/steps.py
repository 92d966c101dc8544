"""The step functions a :class:`~tensorcalc.evaluation.program.Program` runs: elementwise
rows, sums (accumulated in place where that is safe) and the finishing of outputs."""

from __future__ import annotations

import numpy as np

from ..expression.nodes import Const, Contraction, Delta


def _elementwise(function, param, x):
    return function(x, param)


def _scaling(term, recipe):
    """``(operand, c)`` when ``term`` is ``c`` times one operand read as is, else ``None``."""
    if recipe is None or not isinstance(term, Contraction) or len(term.operands) != 2:
        return None
    first, second = term.operands
    if not (isinstance(first, Const) and first.value.ndim == 0) or isinstance(second, (Const, Delta)):
        return None
    if term.indices[1] != term.output or len(term.sizes) != len(term.output):
        return None
    return second, first.value.item()


def _sum_function(coefficients: list, constant, shape: tuple, dtype, reuse=None):
    """A function adding its arguments times ``coefficients`` plus ``constant``.

    With ``reuse``, the argument at that position is a temporary no one else reads: when it
    is a whole array of the result's shape and dtype (not a view) and no other argument
    shares its memory, the sum is accumulated into it, saving the allocation (and the page
    faults) of a new result."""
    def run(*arrays):
        if reuse is not None and coefficients[reuse] == 1 and len(arrays) >= 2:
            total = arrays[reuse]
            if total.base is None and total.flags.writeable and total.shape == shape and \
                    total.dtype == np.result_type(*arrays, constant) and \
                    not any(np.may_share_memory(total, array)  # a view of it: Pᵀ in P + Pᵀ
                            for k, array in enumerate(arrays) if k != reuse):
                return _add_into(total, [(array, c) for k, (array, c) in
                                         enumerate(zip(arrays, coefficients)) if k != reuse],
                                 constant)
        if not arrays:
            return np.full(shape, constant, dtype=np.result_type(constant, dtype))
        first, c0 = arrays[0], coefficients[0]
        if len(arrays) == 1:
            if c0 == 1:
                result = first + constant
            elif c0 == -1:
                result = constant - first
            else:
                result = first * c0 + constant
            return result if result.shape == shape else np.broadcast_to(result, shape).copy()
        second, c1 = arrays[1], coefficients[1]
        if c0 == 1 and c1 == 1:
            total = first + second
        elif c0 == 1 and c1 == -1:
            total = first - second
        elif c0 == -1 and c1 == 1:
            total = second - first
        else:
            total = first * c0 + second * c1
        if total.shape != shape or not total.flags.writeable:
            total = np.broadcast_to(total, shape).copy()
        return _add_into(total, zip(arrays[2:], coefficients[2:]), constant)

    return run


def _add_into(total: np.ndarray, terms, constant) -> np.ndarray:
    """``total`` plus each ``(array, coefficient)`` of ``terms`` and ``constant``, in place."""
    for array, c in terms:
        if c == 1:
            total += array
        elif c == -1:
            total -= array
        else:
            total += array * c
    if constant:
        total += constant
    return total


def _finish(array, inputs: set, leaf: bool, returned: dict):
    """An output the caller may keep and modify: never an input, a constant, another output
    (``inputs``: the ids of the input arrays; ``returned``: id → buffer of those already handed
    out, so that each check is one lookup, not a scan: linear in the outputs) or a view of any
    of them."""
    if isinstance(array, np.generic):
        return array  # a numpy scalar already (a step summed to one): immutable, the caller's
    if type(array) is not np.ndarray:
        array = np.asarray(array)
    if array.ndim == 0:
        return array[()]  # a numpy scalar of the result's dtype, on every path
    if leaf:
        return array.copy()  # the output is an input or a constant itself
    base = array  # an identity step can hand back an input itself: walk to the owner
    while base.base is not None and isinstance(base.base, np.ndarray):
        base = base.base
    if not array.flags.writeable or not base.flags.writeable or id(base) in inputs or \
            id(base) in returned:
        array = np.array(array)
        base = array
    returned[id(base)] = base  # held here, so that its id stays its own
    return array
