"""numpy's ``trace`` and ``diagonal`` with ``offset``, ``axis1`` and ``axis2``, on stacked
matrices too (the other axes stay, in order, as numpy's).

An offset-0 diagonal of equal sizes ties the two axes' indices (``X_ii``); an offset or
unequal sizes select with a constant 0/1 array (exact, linear: its derivative is the same
selection), which needs numeric sizes on the two axes.

>>> import numpy as np, tensorcalc as tc
>>> X = tc.var("X", (2, 3, 3))
>>> data = np.arange(18.0).reshape(2, 3, 3)
>>> tc.evaluate(tc.trace(X, axis1=1, axis2=2), X=data)
array([12., 39.])
>>> float(tc.evaluate(tc.trace(tc.var("A", (3, 4)), offset=1), A=np.arange(12.0).reshape(3, 4)))
18.0
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from .construct import as_expr
from .construct import diagonal as _square_diagonal
from .construct import trace as _square_trace
from .nodes import Const, Contraction


def _axes(name: str, x, axis1, axis2) -> tuple:
    if x.ndim < 2:
        raise ShapeError(f"{name}: needs at least 2 axes, got shape {x.shape}")
    result = []
    for which, axis in (("axis1", axis1), ("axis2", axis2)):
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) \
                or not -x.ndim <= axis < x.ndim:
            raise ShapeError(f"{name}: {which}={axis!r} is not an axis of shape {x.shape}")
        result.append(int(axis) % x.ndim)
    if result[0] == result[1]:
        raise ShapeError(f"{name}: axis1 and axis2 name the same axis {result[0]} of shape "
                         f"{x.shape}")
    return tuple(result)


def _selection(name: str, x, a1: int, a2: int, offset: int):
    """``S[k, i, j] = 1`` where ``(i, j)`` is the k-th entry of the ``offset`` diagonal."""
    n, m = x.shape[a1], x.shape[a2]
    if not isinstance(n, int) or not isinstance(m, int):
        raise ShapeError(f"{name}: an offset or unequal sizes need numeric sizes on axes {a1} and "
                         f"{a2}, got {n!r} and {m!r} (shape {x.shape})")
    rows = np.arange(max(-offset, 0), n)
    cols = rows + offset
    keep = (cols >= 0) & (cols < m)
    rows, cols = rows[keep], cols[keep]
    selection = np.zeros((len(rows), n, m))
    selection[np.arange(len(rows)), rows, cols] = 1.0
    return selection


def diagonal(x, offset: int = 0, axis1: int = 0, axis2: int = 1):
    """The ``offset`` diagonal over ``axis1`` and ``axis2``, as ``numpy.diagonal``: those axes
    removed, the diagonal appended as the last axis."""
    x = as_expr(x)
    a1, a2 = _axes("diagonal", x, axis1, axis2)
    if x.ndim == 2 and offset == 0 and (a1, a2) == (0, 1) and x.shape[0] == x.shape[1]:
        return _square_diagonal(x)
    others = tuple(a for a in range(x.ndim) if a not in (a1, a2))
    sizes = dict(enumerate(x.shape))
    if offset == 0 and x.shape[a1] == x.shape[a2]:
        labels = tuple(a1 if a == a2 else a for a in range(x.ndim))
        del sizes[a2]  # tied to a1 (a size no operand reads would count as a summed factor)
        return Contraction((x,), (labels,), others + (a1,), sizes)
    selection = _selection("diagonal", x, a1, a2, offset)
    k = ("diagonal", 0)
    sizes[k] = selection.shape[0]
    return Contraction((x, Const(selection)), (tuple(range(x.ndim)), (k, a1, a2)), others + (k,),
                       sizes)


def trace(x, offset: int = 0, axis1: int = 0, axis2: int = 1):
    """The sum of the ``offset`` diagonal over ``axis1`` and ``axis2``, as ``numpy.trace``."""
    x = as_expr(x)
    a1, a2 = _axes("trace", x, axis1, axis2)
    if x.ndim == 2 and offset == 0 and x.shape[0] == x.shape[1]:
        return _square_trace(x)
    others = tuple(a for a in range(x.ndim) if a not in (a1, a2))
    sizes = dict(enumerate(x.shape))
    if offset == 0 and x.shape[a1] == x.shape[a2]:
        labels = tuple(a1 if a == a2 else a for a in range(x.ndim))
        del sizes[a2]  # tied to a1 (a size no operand reads would count as a summed factor)
        return Contraction((x,), (labels,), others, sizes)
    mask = _selection("trace", x, a1, a2, offset).sum(axis=0)
    return Contraction((x, Const(mask)), (tuple(range(x.ndim)), (a1, a2)), others, sizes)
