"""Reduction rows of the operation table: ``logsumexp``, ``softmax``, ``max``, ``min`` (the
param is the sorted tuple of reduced axes), the subgradient weights of ``max``/``min``, and the
p-norm with its gradient (the param is ``p``); their public constructors, with ``norm1`` and
``norm2``.

``max``/``min`` over axes: the subgradient at ties is **split equally** among the tied entries,
which keeps ``max(x) = −min(−x)`` in the derivatives too (PyTorch's ``amax`` splits equally as
well; ``jnp.max`` too).

>>> import numpy as np, tensorcalc as tc
>>> x = tc.var("x", (3,))
>>> float(tc.evaluate(tc.logsumexp(x), x=np.array([1000.0, 1000.0, -1000.0])))
1000.6931471805599
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from .construct import _normalize_axes, apply_function, as_expr, transpose
from .construct import sum as total
from .decompositions import svdvals
from .nodes import Operation
from .statistics import keep_axes
from .operations import kept, register_operation


def _max_shift(x, axes):
    m = np.max(x, axis=axes, keepdims=True)
    return np.where(np.isfinite(m), m, 0.0)


def shifted_exp(x, axes) -> tuple:
    """``(e, s, m)``: the max-shifted ``e = exp(x − m)`` and ``s = Σ e`` over ``axes`` (kept),
    with ``m`` the maximum (0 where it is infinite).  ``logsumexp`` and ``softmax`` are both
    made from it; a program that needs both of one argument computes it once."""
    m = _max_shift(x, axes)
    e = np.exp(x - m)
    return e, np.sum(e, axis=axes, keepdims=True), m


def logsumexp_from(e, s, m, axes):
    with np.errstate(divide="ignore"):
        return np.squeeze(np.log(s) + m, axis=axes)


def softmax_from(e, s, m, axes):
    return e / s


def _logsumexp_numpy(arrays, axes):
    return logsumexp_from(*shifted_exp(arrays[0], axes), axes)


def _softmax_numpy(arrays, axes):
    return softmax_from(*shifted_exp(arrays[0], axes), axes)


def _reduced_shape(shapes, axes):
    return kept(shapes[0], axes)


register_operation("logsumexp", _reduced_shape, _logsumexp_numpy)
register_operation("softmax", lambda shapes, axes: shapes[0], _softmax_numpy)


def _extreme_numpy(kind):
    reduce = np.max if kind == "max" else np.min
    return lambda arrays, axes: reduce(arrays[0], axis=axes)


def _weights_numpy(kind):
    reduce = np.max if kind == "max" else np.min

    def weights(arrays, axes):  # the tied extremes share the subgradient equally
        (x,) = arrays
        hit = (x == reduce(x, axis=axes, keepdims=True)).astype(x.dtype)
        return hit / np.sum(hit, axis=axes, keepdims=True)
    return weights


for _kind in ("max", "min"):
    register_operation(_kind, _reduced_shape, _extreme_numpy(_kind))
    # the weights of the subgradient: 1/(number of ties) where x attains its extreme, else 0;
    # piecewise constant, so its own derivative is zero
    register_operation(f"{_kind}_weights", lambda shapes, axes: shapes[0], _weights_numpy(_kind))


# ‖x‖_p = (Σ |x|^p)^(1/p) over every axis (the Frobenius norm for p = 2 and a matrix) is a row,
# not sqrt(Σ x²): its gradient u = sign(x) |x|^(p−1) / ‖x‖^(p−1) is then the row norm_grad, which
# takes the subgradient 0 at x = 0 (and at a zero entry), where the chain rule through √ gives 0·∞.


def _norm_numpy(arrays, p):
    (x,) = arrays
    if p == 2.0:
        return np.sqrt(np.sum(x * x))
    return np.sum(np.abs(x) ** p) ** (1.0 / p)


def _norm_grad_numpy(arrays, p):
    (x,) = arrays
    n = _norm_numpy(arrays, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.sign(x) * np.abs(x) ** (p - 1.0) / np.where(n == 0, 1.0, n) ** (p - 1.0)
    return np.where(x == 0, 0.0, u) if p < 1.0 else u  # |0|^(p−1) is ∞ for p < 1


register_operation("norm", lambda shapes, p: (), _norm_numpy)
register_operation("norm_grad", lambda shapes, p: shapes[0], _norm_grad_numpy)


# ---------------------------------------------------------------------------
# Public constructors


def _axes(name, x, axis, default):
    if axis is default is None:
        return tuple(range(x.ndim))
    return tuple(sorted(_normalize_axes(name, x, axis))) if x.ndim else ()


def logsumexp(x, axis=None, keepdims: bool = False):
    """``log Σ exp(x)`` over ``axis`` (all axes by default), max-shifted: finite for any finite x.

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", (3,))
    >>> float(tc.evaluate(tc.logsumexp(x), x=np.array([1000.0, 1000.0, -1000.0])))
    1000.6931471805599
    >>> print(tc.grad(tc.logsumexp(x), x).expr)
    softmax_i(x_i)
    """
    x = as_expr(x)
    axes = _axes("logsumexp", x, axis, None)
    result = Operation("logsumexp", [x], axes)
    return keep_axes(result, x.shape, axes) if keepdims else result


def softmax(x, axis=-1):
    """``exp(x) / Σ exp(x)`` over ``axis`` (the last by default; a tuple or ``None`` for all).

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", (2,))
    >>> tc.evaluate(tc.softmax(x), x=np.array([1000.0, -1000.0]))
    array([1., 0.])
    """
    x = as_expr(x)
    axes = tuple(range(x.ndim)) if axis is None else _axes("softmax", x, axis, -1)
    return Operation("softmax", [x], axes)


def max(x, axis=None, keepdims: bool = False):  # noqa: A001 - numpy's name
    """The largest entry over ``axis`` (all by default); at ties the gradient is split equally.

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", (3,))
    >>> tc.evaluate(tc.grad(tc.max(x), x), x=np.array([2.0, 2.0, 1.0]))
    array([0.5, 0.5, 0. ])
    """
    x = as_expr(x)
    axes = _axes("max", x, axis, None)
    result = Operation("max", [x], axes)
    return keep_axes(result, x.shape, axes) if keepdims else result


def min(x, axis=None, keepdims: bool = False):  # noqa: A001 - numpy's name
    """The smallest entry over ``axis`` (all by default); at ties the gradient is split equally.

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", (3,))
    >>> float(tc.evaluate(tc.min(x), x=np.array([2.0, -1.0, 1.0])))
    -1.0
    """
    x = as_expr(x)
    axes = _axes("min", x, axis, None)
    result = Operation("min", [x], axes)
    return keep_axes(result, x.shape, axes) if keepdims else result


def norm(x, ord=None, axis=None, keepdims: bool = False):  # noqa: A002 - numpy's name
    """A vector or matrix norm, as ``numpy.linalg.norm`` (with its ``axis`` and ``keepdims``).

    Vectors: ``ord`` 2 (``None``), 1, ``inf``, ``-inf`` or any ``p > 0``; ``inf`` is
    ``max |x_i|`` (a tie splits the subgradient equally, see :func:`max`).  Matrices:
    ``"fro"`` (``None``), 1 and −1 (largest and smallest column sum), ``inf`` and ``-inf`` (row
    sums), ``"nuc"`` (the sum of the singular values), 2 and −2 (the largest and smallest
    singular value).  ``axis=None`` with ``ord=None`` is the 2-norm of every entry (any number
    of axes).  At ``x = 0`` the gradient of a whole p-norm is the subgradient 0 (as PyTorch gives;
    ``jax.grad`` of ``jnp.linalg.norm`` gives NaN).  ``axis`` (an int: vector norms along it; a
    pair: matrix norms of those two axes, the others batch) builds the norm from sums, ``max``,
    ``min`` and the singular values; there a zero slice's 2- or p-norm has the gradient NaN
    (√ at 0, as JAX), except where the axes are all of ``x`` in order, which is the whole norm.

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", (2,))
    >>> [float(tc.evaluate(tc.norm(x, p), x=np.array([3.0, -4.0]))) for p in (None, 1, np.inf)]
    [5.0, 7.0, 4.0]
    >>> tc.evaluate(tc.grad(tc.norm(x), x), x=np.array([3.0, -4.0]))  # x / |x|
    array([ 0.6, -0.8])
    >>> X = tc.var("X", (2, 2))
    >>> tc.evaluate(tc.norm(X, axis=1), X=np.array([[3.0, 4.0], [0.0, 2.0]]))
    array([5., 2.])
    """
    x = as_expr(x)
    axes = tuple(range(x.ndim)) if axis is None else _norm_axes(x, axis)
    if axis is None or axes == tuple(range(x.ndim)):
        result = _whole_norm(x, ord)
    elif len(axes) == 2 and x.ndim == 2:  # axis=(1, 0): the matrix norm of Xᵀ
        result = _whole_norm(transpose(x), ord)
    elif len(axes) == 1:
        result = _vector_norm_along(x, ord, axes[0])
    else:
        result = _matrix_norm_along(x, ord, axes)
    return keep_axes(result, x.shape, set(axes)) if keepdims else result


def _norm_axes(x, axis) -> tuple:
    """``axis`` as one or two distinct non-negative axes, in the order given."""
    given = (axis,) if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool) \
        else tuple(axis) if isinstance(axis, (tuple, list)) else None
    if given is None or len(given) not in (1, 2):
        raise ShapeError(f"norm: axis={axis!r} must be an int or a pair of ints")
    _normalize_axes("norm", x, given)  # checks range, type and repeats
    return tuple(int(a) % x.ndim for a in given)


def _whole_norm(x, ord):  # noqa: A002 - numpy's name
    magnitude = apply_function("abs", x)
    if x.ndim == 1 or (ord is None and x.ndim != 2):
        if ord is None or ord == 2:
            return Operation("norm", [x], 2.0)
        if ord == 1:
            return total(magnitude)
        if ord == np.inf:
            return max(magnitude)
        if ord == -np.inf:
            return min(magnitude)
        if _positive_number(ord):
            return Operation("norm", [x], float(ord))
        raise ShapeError(f"norm: ord={ord!r} is not a vector norm (use 1, 2, inf, -inf or p > 0)")
    if x.ndim == 2:
        if ord is None or ord == "fro":
            return Operation("norm", [x], 2.0)
        return _matrix_norm_along(x, ord, (0, 1))
    raise ShapeError(f"norm: ord={ord!r} needs a vector or a matrix (or axis=), got shape {x.shape}")


def _positive_number(ord) -> bool:  # noqa: A002 - numpy's name
    return isinstance(ord, (int, float, np.integer, np.floating)) and not isinstance(ord, bool) \
        and 0 < ord < np.inf


def _vector_norm_along(x, ord, a):  # noqa: A002 - numpy's name
    magnitude = apply_function("abs", x)
    if ord is None or ord == 2:
        return apply_function("sqrt", total(x * x, axis=a))
    if ord == 1:
        return total(magnitude, axis=a)
    if ord == np.inf:
        return max(magnitude, axis=a)
    if ord == -np.inf:
        return min(magnitude, axis=a)
    if _positive_number(ord):
        p = float(ord)
        return apply_function("pow", total(apply_function("pow", magnitude, p), axis=a), 1.0 / p)
    raise ShapeError(f"norm: ord={ord!r} is not a vector norm (use 1, 2, inf, -inf or p > 0)")


def _matrix_norm_along(x, ord, axes):  # noqa: A002 - numpy's name
    """The matrix norm of rows ``axes[0]`` and columns ``axes[1]``; the other axes batch."""
    order = [a for a in range(x.ndim) if a not in axes] + list(axes)
    y = transpose(x, tuple(order)) if order != list(range(x.ndim)) else x
    rows, columns = y.ndim - 2, y.ndim - 1
    magnitude = apply_function("abs", y)
    if ord is None or ord == "fro":
        return apply_function("sqrt", total(y * y, axis=(rows, columns)))
    if ord in (1, -1):  # the largest (smallest) column sum
        return (max if ord == 1 else min)(total(magnitude, axis=rows), axis=rows)
    if ord in (np.inf, -np.inf):  # the largest (smallest) row sum
        return (max if ord == np.inf else min)(total(magnitude, axis=columns), axis=rows)
    if ord == "nuc":  # ∂‖X‖_*/∂X = UVᵀ
        return total(svdvals(y), axis=rows)
    if ord in (2, -2):  # ∂σ_max/∂X = u₁v₁ᵀ; a repeated extreme value splits, as max does
        return (max if ord == 2 else min)(svdvals(y), axis=rows)
    raise ShapeError(f"norm: ord={ord!r} is not a matrix norm (use 'fro', 'nuc', ±1, ±2 or ±inf)")


def norm1(x):
    """``Σ |x_i|`` over every entry (matrixcalculus.org's ``norm1``).

    >>> import numpy as np, tensorcalc as tc
    >>> float(tc.evaluate(tc.norm1(tc.var("x", (2,))), x=np.array([3.0, -4.0])))
    7.0
    """
    return total(apply_function("abs", as_expr(x)))


def norm2(x):
    """The Euclidean norm of a vector (matrixcalculus.org's ``norm2``); for a matrix use
    ``tc.norm(X, "fro")``.

    >>> import numpy as np, tensorcalc as tc
    >>> float(tc.evaluate(tc.norm2(tc.var("x", (2,))), x=np.array([3.0, -4.0])))
    5.0
    """
    x = as_expr(x)
    if x.ndim != 1:
        raise ShapeError(f"norm2: needs a vector, got shape {x.shape}; for a matrix use "
                         "tc.norm(X, 'fro') (Frobenius) — the spectral norm needs an SVD")
    return norm(x)
