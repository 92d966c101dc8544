"""Entrywise rows of two operands of one shape: ``maximum``, ``minimum`` and ``power`` (``x ** y``
with both variable), and the constructors ``maximum`` and ``minimum`` (``tc.power`` is in
:mod:`~tensorcalc.expression.construct`).

``maximum``/``minimum``: at a tie each operand gets half the gradient (``∂max(a, a)/∂a = 1/2``),
which keeps the symmetry ``maximum(a, b) = maximum(b, a)`` in the derivatives too.

The row ``power`` is P_k(x, y) = x^y (log x)^k (param k; k = 0 is x^y itself, the derivatives
need k ≥ 1): ∂P_k/∂y = P_{k+1}, ∂P_k/∂x = y P_k(x, y − 1) + k P_{k−1}(x, y − 1).  Real for
x ≥ 0 (NaN for x < 0, as exp(y log x)); at x = 0 and y > 0, P_k = 0 (the limit of
x^y |log x|^k), so d(0^y)/dy = 0 where exp(y log x) gives 0·∞.

>>> import numpy as np, tensorcalc as tc
>>> a = tc.var("a", (2,))
>>> tc.evaluate(tc.maximum(a, 0.0), a=np.array([-1.0, 3.0]))
array([0., 3.])
"""

from __future__ import annotations

import numpy as np

from .construct import as_expr, broadcast_shapes, broadcast_to
from .nodes import Operation
from .operations import register_operation, same_shapes

for _kind in ("maximum", "minimum"):
    register_operation(_kind, same_shapes(_kind),
                       (lambda f: lambda arrays, p: f(*arrays))(getattr(np, _kind)))


def _power_numpy(arrays, k):
    x, y = arrays
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        value = np.power(x, y)
        if k:
            value = value * np.log(x) ** k
    value = np.where((x == 0) & (y > 0), 0.0, value) if k else value
    return np.where(x < 0, np.nan, value)


register_operation("power", same_shapes("power"), _power_numpy)


def _pairwise(kind, a, b):
    a, b = as_expr(a), as_expr(b)
    shape = broadcast_shapes(kind, a.shape, b.shape)
    return Operation(kind, [broadcast_to(a, shape, kind), broadcast_to(b, shape, kind)])


def maximum(a, b):
    """The entrywise maximum (numpy broadcasting); at a tie each operand gets half the gradient.

    >>> import numpy as np, tensorcalc as tc
    >>> a, b = tc.var("a", (2,)), tc.var("b", (2,))
    >>> tc.evaluate(tc.grad(tc.sum(tc.maximum(a, b)), a), a=np.array([1.0, 3.0]), b=np.array([1.0, 2.0]))
    array([0.5, 1. ])
    """
    return _pairwise("maximum", a, b)


def minimum(a, b):
    """The entrywise minimum (numpy broadcasting); at a tie each operand gets half the gradient.

    >>> import numpy as np, tensorcalc as tc
    >>> a = tc.var("a", (2,))
    >>> tc.evaluate(tc.minimum(a, 0.0), a=np.array([-1.0, 3.0]))
    array([-1.,  0.])
    """
    return _pairwise("minimum", a, b)
