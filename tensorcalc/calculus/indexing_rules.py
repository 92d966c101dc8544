"""Vector-Jacobian products of the indexing rows (registered into
:data:`~tensorcalc.calculus.operation_rules.VJPS` with ``defvjp``): all three are linear.

* ``take``: the adjoint scattered into zeros of the operand's shape (repeated gather indices add);
* ``scatter``: the adjoint taken with the same key;
* ``concatenate``: each operand's adjoint is its slice of the adjoint.

>>> import numpy as np, tensorcalc as tc
>>> x = tc.var("x", (4,))
>>> tc.evaluate(tc.grad(tc.sum(x[[0, 0, 3]]), x), x=np.zeros(4))
array([2., 0., 0., 1.])
"""

from __future__ import annotations

from ..expression.indexing import indexed_count
from ..expression.nodes import Operation
from .operation_rules import defvjp


def _take_vjp(node, k, adjoint, n_extra):
    (x,) = node.operands
    n = indexed_count(node.param)
    return Operation("scatter", [adjoint], (node.param, tuple(x.shape[x.ndim - n:])))


def _scatter_vjp(node, k, adjoint, n_extra):
    entries, _ = node.param
    return Operation("take", [adjoint], entries)


def _concatenate_vjp(node, k, adjoint, n_extra):
    axis = node.param
    start = sum(op.shape[axis] for op in node.operands[:k])
    stop = start + node.operands[k].shape[axis]
    full = ("s", 0, None, 1)
    entries = (("s", start, stop, 1),) + (full,) * (-axis - 1)
    return Operation("take", [adjoint], entries)


defvjp("take", _take_vjp)
defvjp("scatter", _scatter_vjp)
defvjp("concatenate", _concatenate_vjp)
