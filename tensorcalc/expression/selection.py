"""``where`` and ``clip``, as compositions of rows that exist (no new derivative rule).

* ``where(condition, a, b)`` with a constant condition is a *selection*: both operands flattened,
  joined and gathered, so the value never reads an unselected entry (no ``0 · ∞ = NaN``, unlike
  ``c·a + (1 − c)·b``) and its operands' gradients are exactly 0 there.  As in JAX, a function
  with an infinite derivative *inside* an unselected branch (``log(a)`` at ``a = 0``) still
  gives ``0 · ∞ = NaN`` by the chain rule: keep such inputs away with a second ``where``.
* ``where(x > y, a, b)`` with a condition *computed* from the variables (``<``, ``<=``, ``>``,
  ``>=`` between expressions or numbers) is the row ``select`` over the row ``compare``: the
  comparison is a 0/1 mask worked out at each evaluation, piecewise constant, so its derivative
  is 0 everywhere (at equality too; ``x >= 0`` and ``x > 0`` differ only there, where the
  selection may jump); ``select`` reads only the selected entries and passes the gradient to
  them, exactly 0 to the others.
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
from .algebra import register_view
from .construct import as_expr, broadcast_shapes, broadcast_to
from .indexing import concatenate, take
from .layout import reshape
from .nodes import Expr, Operation
from .operations import register_operation

COMPARISONS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}


def _compare_shape(shapes, op):
    if shapes[0] != shapes[1]:
        raise ShapeError(f"compare {op}: operand shapes {shapes[0]} and {shapes[1]} differ")
    return shapes[0]


def _select_shape(shapes, param):
    if not shapes[0] == shapes[1] == shapes[2]:
        raise ShapeError(f"select: the mask and the operands have shapes {shapes[0]}, {shapes[1]} "
                         f"and {shapes[2]}; they must agree")
    return shapes[0]


def _compare_numpy(arrays, op):
    a, b = arrays
    return COMPARISONS[op](a, b).astype(np.result_type(a, b, np.float32))


register_operation("compare", _compare_shape, _compare_numpy)
register_operation("select", _select_shape,
                   lambda arrays, p: np.where(arrays[0] != 0, arrays[1], arrays[2]))


def compare(a, b, op: str):
    """``a op b`` entrywise as a 0/1 mask (``op`` one of ``<``, ``<=``, ``>``, ``>=``; numpy's
    broadcasting): what ``x > 0`` builds on an expression, the condition of :func:`where`."""
    if op not in COMPARISONS:
        raise ShapeError(f"compare: unknown comparison {op!r}; one of {', '.join(COMPARISONS)}")
    a, b = as_expr(a), as_expr(b)
    shape = broadcast_shapes(f"compare {op}", a.shape, b.shape)
    return Operation("compare", [broadcast_to(a, shape, "compare"), broadcast_to(b, shape, "compare")],
                     op)


register_view("compare", compare)
from .nodes import Expr
from .pairwise import maximum, minimum


def where(condition, a, b):
    """numpy's ``where(condition, a, b)`` for a constant (numpy) boolean ``condition`` or a
    comparison of expressions (``x > 0``).

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", (3,))
    >>> relu = tc.where(x > 0, x, 0.0)
    >>> tc.evaluate(tc.grad(tc.sum(relu), x), x=np.array([-1.0, 2.0, 0.0]))
    array([0., 1., 0.])
    """
    if isinstance(condition, Expr):
        if not (isinstance(condition, Operation) and condition.name == "compare"):
            raise ShapeError("where: a computed condition must be a comparison (x > 0, a <= b), "
                             f"got {condition!r}; or pass a constant boolean array")
        a, b = as_expr(a), as_expr(b)
        shape = broadcast_shapes("where", condition.shape, a.shape, b.shape)
        return Operation("select", [broadcast_to(x, shape, "where") for x in (condition, a, b)])
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
