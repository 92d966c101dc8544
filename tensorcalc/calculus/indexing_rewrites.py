"""Exact rewrites of the indexing rows, called from :mod:`operation_rewrites
<tensorcalc.calculus.operation_rewrites>` for each simplified ``take`` and ``scatter``: the
derivatives of slices, gathers and joins come out as the textbook writes them.

* a **scatter onto every entry once, in order** (full slices and new axes) is a reshape;
* a **constant scattered** so that every entry is written equally often (a reversal, a roll, a
  permutation, a repeat) is that constant times the count: ``∂ sum(x[::-1]) / ∂x = 𝟙``, not
  ``scatter(𝟙 → [::-1] of (3,))``, and ``∂ sum(repeat(x, 2)) / ∂x = 2𝟙``;
* entries taken from, or a reshape of, a constant are that constant;
* a **take from a scatter** is worked out entry by entry on the (numeric) selected shape: the
  scattered values themselves when the take reads back exactly them (``(scatter(G → k))[k] =
  G``, a join's adjoint sliced back into its parts), zero when it reads only zeros.

>>> import numpy as np, tensorcalc as tc
>>> x, s = tc.var("x", (3,)), tc.var("s", ())
>>> print(tc.grad(tc.sum(x[::-1]), x).matrix)
𝟙
>>> print(tc.grad(tc.stack([s, 2 * s])[1], s).expr)
2
"""

from __future__ import annotations

import numpy as np

from ..expression.indexing import numpy_key, selected_shape
from ..expression.layout import reshape
from ..expression.nodes import Const, Contraction, Operation
from ..expression.operations import OPERATIONS
from .identities import simplify_contraction
from .terms import zeros

_LARGEST = 1 << 16  # entries worked out one by one, at most


def rewrite_indexing(node: Operation):
    (x,) = node.operands[:1]
    if node.name in ("take", "reshape") and _is_broadcast_constant(x):
        return _broadcast(x, node.shape)  # entries of a constant, rearranged: the constant
    if node.name == "scatter":
        return _scatter_onto_every_entry(node)
    if node.name == "take" and isinstance(x, Operation) and x.name == "scatter":
        return _take_of_scatter(node)
    if node.name == "reshape":
        return _reshape_of_reshape(node)
    return node


def _broadcast(constant, shape, times=1.0):
    """The constant scalar of ``constant`` (a 0-d constant or a broadcast one), times
    ``times``, broadcast to ``shape``."""
    if isinstance(constant, Const):
        operands, indices = (constant,), ((),)
    else:
        operands, indices = constant.operands, constant.indices
    if times != 1.0:
        operands, indices = operands + (Const(float(times)),), indices + ((),)
    if not shape and len(operands) == 1:
        return operands[0]
    # through the simplifier's own rule, so that simplifying the result again changes nothing
    # (a −0.0 constant broadcast is the zero tensor there)
    return simplify_contraction(list(operands), list(indices), tuple(range(len(shape))),
                                dict(enumerate(shape)))


def _reshape_of_reshape(node: Operation):
    """``reshape(reshape(g, s₁), s₂) = reshape(g, s₂)`` (row-major both times), and the same
    through new axes (``g[None]``); ``reshape(g, g.shape) = g``."""
    (x,) = node.operands
    inner = x
    while isinstance(inner, Operation) and (inner.name == "reshape" or (
            inner.name == "take" and all(e[0] == "n" or e == ("s", 0, None, 1)
                                         for e in inner.param))):
        inner = inner.operands[0]
    if inner is x:
        return node
    if tuple(inner.shape) == tuple(node.shape):
        return inner
    if all(isinstance(d, int) for d in inner.shape):
        return reshape(inner, node.shape)
    return node


def _numeric(shape) -> bool:
    return all(isinstance(d, int) for d in shape) and int(np.prod(shape, dtype=np.int64)) <= _LARGEST


def _scatter_onto_every_entry(node: Operation):
    """``scatter(G → key of T)`` when the key writes every entry of T exactly once: in order
    (full slices and new axes) it is G reshaped to T; in any order (a reversal, a roll, a
    permutation) it is still ``c`` broadcast when G is a constant ``c`` broadcast."""
    (g,) = node.operands
    entries, target = node.param
    selected = selected_shape(target, entries)
    if not (_numeric(target) and _numeric(selected)):
        return node
    lead = tuple(g.shape[:len(g.shape) - len(selected)])
    shape = lead + tuple(target)
    if _is_broadcast_constant(g):  # c scattered: c times how often each entry is written
        counts = OPERATIONS["scatter"].numpy([np.ones(selected)], node.param)
        if counts.size and np.all(counts == counts.flat[0]):
            return _broadcast(g, shape, counts.flat[0])
        return node
    labels = np.arange(1.0, 1.0 + int(np.prod(selected, dtype=np.int64))).reshape(selected)
    written = OPERATIONS["scatter"].numpy([labels], node.param)
    if written.size == labels.size and np.array_equal(written.ravel(), labels.ravel()):
        return _reshaped(g, lead, shape) or node
    return node


def _reshaped(g, lead, shape):
    """``g`` with its trailing axes reshaped to ``shape`` (the same entries, in order)."""
    if tuple(g.shape) == tuple(shape):
        return g
    if _is_broadcast_constant(g):
        return _broadcast(g, shape)
    if all(isinstance(d, int) for d in lead):
        return reshape(g, shape)
    return None


def _is_broadcast_constant(expr) -> bool:
    """A constant scalar, or one broadcast (``𝟙``, ``2·𝟙``): nothing but 0-d constants, every
    output axis a pure broadcast."""
    if isinstance(expr, Const):
        return expr.value.ndim == 0
    return isinstance(expr, Contraction) and all(
        isinstance(op, Const) and op.value.ndim == 0 for op in expr.operands) \
        and all(ix == () for ix in expr.indices)


def _take_of_scatter(node: Operation):
    """``take(scatter(G → k₁ of T), k₂)`` worked out on labels: each entry of the selection of T
    numbered from 1, scattered, then taken. All zeros: the result is zero. Exactly the labels in
    order (up to size-1 axes): the result is G itself (reshaped)."""
    scatter = node.operands[0]
    (g,) = scatter.operands
    entries, target = scatter.param
    selected = selected_shape(target, entries)
    if not (_numeric(target) and _numeric(selected)):
        return node
    labels = np.arange(1.0, 1.0 + int(np.prod(selected, dtype=np.int64))).reshape(selected)
    read = OPERATIONS["scatter"].numpy([labels], scatter.param)[numpy_key(node.param)]
    if not np.any(read):
        return zeros(node.shape)
    lead = tuple(g.shape[:len(g.shape) - len(selected)])
    if read.size == labels.size and np.array_equal(read.ravel(), labels.ravel()):
        return _reshaped(g, lead, lead + read.shape) or node
    return node
