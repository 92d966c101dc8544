"""Entrywise rows of two operands of one shape: ``maximum``, ``minimum`` and ``power`` (``x ** y``
with both variable), numpy's ``arctan2``, ``hypot``, ``logaddexp``, ``logaddexp2``, ``mod``
(= ``remainder``) and ``fmod``, and their constructors (``tc.power`` is in
:mod:`~tensorcalc.expression.construct`).

``maximum``/``minimum``: at a tie each operand gets half the gradient (``∂max(a, a)/∂a = 1/2``),
which keeps the symmetry ``maximum(a, b) = maximum(b, a)`` in the derivatives too.

The row ``power`` is P_k(x, y) = x^y (log x)^k (param k; k = 0 is x^y itself, the derivatives
need k ≥ 1): ∂P_k/∂y = P_{k+1}, ∂P_k/∂x = y P_k(x, y − 1) + k P_{k−1}(x, y − 1).  Real for
x ≥ 0 (NaN for x < 0, as exp(y log x)); at x = 0 and y > 0, P_k = 0 (the limit of
x^y |log x|^k), so d(0^y)/dy = 0 where exp(y log x) gives 0·∞.

numpy's binary functions (issue 18), each a row, with its convention where it is not smooth:

* ``arctan2(y, x)``: ∂/∂y = x/(x² + y²), ∂/∂x = −y/(x² + y²); at (0, 0) (where the angle jumps)
  both are NaN, as ``jax.grad(jnp.arctan2)`` gives;
* ``hypot(x, y)``: ∂/∂x = x/hypot(x, y) (the row ``hypot_unit``, param: the operand), 0 at
  (0, 0), a subgradient, as ``‖x‖``'s (jax gives ½ each, PyTorch NaN);
* ``logaddexp(a, b)`` (numpy's, never overflows): ∂/∂a = σ(a − b); ``logaddexp2``: ∂/∂a =
  σ((a − b) log 2); ½ each at a tie;
* ``mod(x, y)`` (numpy's ``mod``/``remainder``: the sign of the divisor) and ``fmod(x, y)`` (the
  sign of the dividend): ∂/∂x = 1, ∂/∂y = −⌊x/y⌋ (``fmod``: −trunc(x/y)), from the floating-point
  quotient x/y; at a jump (x/y an integer n) that is −n, as ``jax.grad`` of ``jnp.mod`` and
  ``jnp.fmod`` gives: the side where the value is continuous (0 at the jump).  Within an ulp of a
  jump, where x/y rounds onto n but numpy's value is still on the other side (``mod(1, 0.1)`` is
  0.0999…), that is −n = −10 where the value's slope is −9 (JAX gives the same).

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

_NUMPY_BINARY = {"arctan2": np.arctan2, "hypot": np.hypot, "logaddexp": np.logaddexp,
                 "logaddexp2": np.logaddexp2, "mod": np.mod, "fmod": np.fmod}
for _kind, _function in _NUMPY_BINARY.items():
    register_operation(_kind, same_shapes(_kind), (lambda f: lambda arrays, p: f(*arrays))(_function))


def _hypot_unit_numpy(arrays, k):
    r = np.hypot(*arrays)
    return arrays[k] / np.where(r == 0, 1.0, r)  # 0 at (0, 0): x/hypot(x, y) is 0/0 there


register_operation("hypot_unit", same_shapes("hypot_unit"), _hypot_unit_numpy)


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


def arctan2(y, x):
    """numpy's ``arctan2(y, x)``, the angle of (x, y) in [−π, π]; its gradient is NaN at (0, 0).

    >>> import numpy as np, tensorcalc as tc
    >>> y, x = tc.var("y", (2,)), tc.var("x", (2,))
    >>> tc.evaluate(tc.grad(tc.sum(tc.arctan2(y, x)), y), y=np.array([1.0, 0.0]), x=np.array([1.0, 2.0]))
    array([0.5, 0.5])
    """
    return _pairwise("arctan2", y, x)


def hypot(x, y):
    """numpy's ``hypot``, √(x² + y²) without overflow; its gradient is 0 at (0, 0).

    >>> import numpy as np, tensorcalc as tc
    >>> x, y = tc.var("x", (2,)), tc.var("y", (2,))
    >>> tc.evaluate(tc.grad(tc.sum(tc.hypot(x, y)), x), x=np.array([3.0, 0.0]), y=np.array([4.0, 0.0]))
    array([0.6, 0. ])
    """
    return _pairwise("hypot", x, y)


def logaddexp(a, b):
    """numpy's ``logaddexp``, log(eᵃ + eᵇ) without overflow; ∂/∂a = σ(a − b).

    >>> import numpy as np, tensorcalc as tc
    >>> a, b = tc.var("a", (1,)), tc.var("b", (1,))
    >>> tc.evaluate(tc.logaddexp(a, b), a=np.array([1000.0]), b=np.array([1000.0]))
    array([1000.69314718])
    """
    return _pairwise("logaddexp", a, b)


def logaddexp2(a, b):
    """numpy's ``logaddexp2``, log₂(2ᵃ + 2ᵇ) without overflow; ∂/∂a = σ((a − b) log 2)."""
    return _pairwise("logaddexp2", a, b)


def mod(x, y):
    """numpy's ``mod`` (= ``remainder``): x − y⌊x/y⌋, the sign of the divisor y;
    ∂/∂x = 1, ∂/∂y = −⌊x/y⌋ (−n at a jump x/y = n, as JAX).

    >>> import numpy as np, tensorcalc as tc
    >>> x, y = tc.var("x", (2,)), tc.var("y", (2,))
    >>> tc.evaluate(tc.mod(x, y), x=np.array([-5.0, 5.0]), y=np.array([2.0, -2.0]))
    array([ 1., -1.])
    """
    return _pairwise("mod", x, y)


remainder = mod  # numpy's other name for mod


def fmod(x, y):
    """numpy's ``fmod``: x − y trunc(x/y), the sign of the dividend x; ∂/∂x = 1,
    ∂/∂y = −trunc(x/y) (−n at a jump x/y = n, as JAX).

    >>> import numpy as np, tensorcalc as tc
    >>> x, y = tc.var("x", (2,)), tc.var("y", (2,))
    >>> tc.evaluate(tc.fmod(x, y), x=np.array([-5.0, 5.0]), y=np.array([2.0, -2.0]))
    array([-1.,  1.])
    """
    return _pairwise("fmod", x, y)
