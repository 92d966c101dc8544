"""``where`` and ``clip``, as compositions of rows that exist (no new derivative rule).

* ``where(condition, a, b)`` with a constant condition is a *selection*: both operands flattened,
  joined and gathered, so the value never reads an unselected entry (no ``0 · ∞ = NaN``, unlike
  ``c·a + (1 − c)·b``) and its operands' gradients are exactly 0 there.  As in JAX, a function
  with an infinite derivative *inside* an unselected branch (``log(a)`` at ``a = 0``) still
  gives ``0 · ∞ = NaN`` by the chain rule: keep such inputs away with a second ``where``.  A condition computed from variables is
  piecewise constant, so it is evaluated once at the given values: pass its numpy value.
* ``clip(x, lo, hi)`` is ``minimum(maximum(x, lo), hi)``: at ``x = lo`` or ``x = hi`` the
  derivative is ½, the tie convention of ``maximum``/``minimum`` (as ``jnp.clip``).

>>> import numpy as np, tensorcalc as tc
>>> a, b = tc.var("a", (3,)), tc.var("b", (3,))
>>> tc.evaluate(tc.where(np.array([True, False, True]), a, b), a=np.ones(3), b=np.zeros(3))
array([1., 0., 1.])
>>> tc.evaluate(tc.grad(tc.sum(tc.clip(a, 0.0, 1.0)), a), a=np.array([-1.0, 0.0, 0.5]))
array([0. , 0.5, 1. ])
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from .construct import as_expr, broadcast_shapes, broadcast_to
from .indexing import concatenate, take
from .layout import reshape
from .nodes import Expr
from .pairwise import maximum, minimum


def where(condition, a, b):
    """numpy's ``where(condition, a, b)`` for a constant (numpy) boolean ``condition``."""
    if isinstance(condition, Expr):
        raise ShapeError("where: the condition must be a constant array (a computed condition is "
                         "piecewise constant: evaluate it with numpy and pass its value)")
    mask = np.asarray(condition)
    if mask.dtype != bool:
        raise ShapeError(f"where: the condition must be boolean, got dtype {mask.dtype}")
    a, b = as_expr(a), as_expr(b)
    shape = broadcast_shapes("where", mask.shape, a.shape, b.shape)
    if any(not isinstance(d, int) for d in shape):
        raise ShapeError(f"where: needs fixed sizes, got shape {shape}; bind them in tc.var")
    size = int(np.prod(shape, dtype=np.int64))
    flat = [reshape(broadcast_to(x, shape, "where"), (size,)) for x in (a, b)]
    indices = np.arange(size) + size * (~np.broadcast_to(mask, shape)).reshape(-1)
    return reshape(take(concatenate(flat), (indices.tolist(),)), shape)


def clip(x, lo=None, hi=None):
    """numpy's ``clip``: ``minimum(maximum(x, lo), hi)``; derivative ½ at the bounds."""
    x = as_expr(x)
    if lo is None and hi is None:
        raise ShapeError("clip: give at least one of lo and hi")
    if lo is not None:
        x = maximum(x, lo)
    return x if hi is None else minimum(x, hi)
