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
from .construct import _normalize_axes, apply_function, as_expr
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


def norm(x, ord=None):  # noqa: A002 - numpy's name
    """A vector or matrix norm, as ``numpy.linalg.norm``.

    Vectors: ``ord`` 2 (``None``), 1, ``inf``, ``-inf`` or any ``p > 0``; ``inf`` is
    ``max |x_i|`` (a tie splits the subgradient equally, see :func:`max`).  Matrices:
    ``"fro"`` (``None``), 1 (largest column sum), ``inf`` (largest row sum), ``"nuc"`` (the sum
    of the singular values), 2 and −2 (the largest and smallest singular value).  At ``x = 0`` the gradient of a p-norm
    is the subgradient 0 (as PyTorch gives; ``jax.grad`` of ``jnp.linalg.norm`` gives NaN).

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", (2,))
    >>> [float(tc.evaluate(tc.norm(x, p), x=np.array([3.0, -4.0]))) for p in (None, 1, np.inf)]
    [5.0, 7.0, 4.0]
    >>> tc.evaluate(tc.grad(tc.norm(x), x), x=np.array([3.0, -4.0]))  # x / |x|
    array([ 0.6, -0.8])
    """
    x = as_expr(x)
    magnitude = apply_function("abs", x)
    if x.ndim == 1:
        if ord is None or ord == 2:
            return Operation("norm", [x], 2.0)
        if ord == 1:
            return total(magnitude)
        if ord == np.inf:
            return max(magnitude)
        if ord == -np.inf:
            return min(magnitude)
        if isinstance(ord, (int, float)) and not isinstance(ord, bool) and ord > 0:
            return Operation("norm", [x], float(ord))
        raise ShapeError(f"norm: ord={ord!r} is not a vector norm (use 1, 2, inf, -inf or p > 0)")
    if x.ndim == 2:
        if ord is None or ord == "fro":
            return Operation("norm", [x], 2.0)
        if ord == 1:
            return max(total(magnitude, axis=0))
        if ord == np.inf:
            return max(total(magnitude, axis=1))
        if ord == "nuc":  # ∂‖X‖_*/∂X = UVᵀ
            return total(svdvals(x))
        if ord in (2, -2):  # ∂σ_max/∂X = u₁v₁ᵀ; a repeated extreme value splits, as max does
            return (max if ord == 2 else min)(svdvals(x))
        raise ShapeError(f"norm: ord={ord!r} is not a matrix norm (use 'fro', 1 or inf)")
    raise ShapeError(f"norm: needs a vector or a matrix, got shape {x.shape}")


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
