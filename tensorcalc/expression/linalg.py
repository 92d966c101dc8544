"""Linear algebra rows of the operation table: ``inv``, ``det``, ``cofactor``, ``logdet`` and
``solve`` (shape rules and numpy evaluation), and their public constructors with ``matrix_power``,
``eye`` and ``diag``.

>>> import numpy as np, tensorcalc as tc
>>> A, b = tc.var("A", (2, 2)), tc.var("b", (2,))
>>> tc.evaluate(tc.solve(A, b), A=np.diag([2.0, 4.0]), b=np.array([1.0, 1.0]))
array([0.5 , 0.25])
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError, SingularMatrixError
from .construct import as_expr, broadcast_to, matmul
from .nodes import Contraction, Delta, Operation
from .operations import register_operation, square


def _singular(name: str, shape) -> SingularMatrixError:
    return SingularMatrixError(f"{name}: the matrix of shape {shape} is singular (its determinant "
                               "is 0), so it has no inverse")


def _square_matrix(name):
    return lambda shapes, p: (square(name, shapes[0]), shapes[0])[1]


def checked_inv(x):
    """x⁻¹, or ``np.linalg.LinAlgError`` where x is singular to working precision:
    κ₁(x) = ‖x‖₁‖x⁻¹‖₁ ≥ 1/ε of its dtype (MATLAB's warning; LAPACK raises only at an exactly
    zero pivot, so a rank-deficient x met in floating point would otherwise give an inverse of
    rounding errors, ~1e16).  numpy alone: ``tc.codegen`` writes this function into its files."""
    inverse = np.linalg.inv(x)
    if x.size:
        condition = np.max(np.abs(x).sum(axis=-2), axis=-1) * \
            np.max(np.abs(inverse).sum(axis=-2), axis=-1)
        bound = 1 / np.finfo(inverse.dtype).eps
        if not np.all(condition < bound):  # NaN too
            worst = float(np.max(np.where(np.isnan(condition), np.inf, condition)))
            raise np.linalg.LinAlgError(
                f"inv: the matrix of shape {x.shape} is singular to working precision: its "
                f"condition number κ₁ = ‖X‖₁‖X⁻¹‖₁ is {worst:.3g}, at least 1/ε = {bound:.3g} of "
                f"{inverse.dtype}, so its inverse is rounding error")
    return inverse


def _inv_numpy(arrays, param):
    (x,) = arrays
    try:
        return checked_inv(x)
    except np.linalg.LinAlgError as error:
        if str(error).startswith("inv:"):  # singular to working precision
            raise SingularMatrixError(str(error)) from None
        raise _singular("inv", x.shape) from None


register_operation("inv", _square_matrix("inv"), _inv_numpy)
register_operation("det", lambda shapes, p: square("det", shapes[0]),
                   lambda arrays, p: np.linalg.det(arrays[0]))


# The cofactor matrix cof(X) = adj(X)ᵀ, ∂det X/∂X, which exists at every X: at rank n − 1 it is
# the rank-one matrix of (n−1)-minors, at rank ≤ n − 2 it is 0.  With X = U Σ Vᵀ (an SVD),
# adj(X) = adj(Vᵀ) adj(Σ) adj(U) = det(V) V · diag(π) · det(U) Uᵀ, where π_i = Π_{j≠i} σ_j
# (adj(Q) = det(Q) Qᵀ for an orthogonal Q), so cof(X) = det(U) det(V) U diag(π) Vᵀ: exact at
# any rank.  Where X is well conditioned, det(X) X⁻ᵀ is the same matrix and cheaper.
# It prints as det(X) X⁻ᵀ, its identity form: that text, read back, is the same value where X
# is invertible and a SingularMatrixError (never a wrong value) where it is not.

_COFACTOR_WELL_CONDITIONED = 1e5  # κ₁(X) below this: det(X) X⁻ᵀ (relative error ≲ κ·ε ≈ 2e-11)


def _cofactor_numpy(arrays, param):
    (x,) = arrays
    with np.errstate(all="ignore"):
        try:
            inverse = np.linalg.inv(x)
        except np.linalg.LinAlgError:
            inverse = None
        if inverse is not None:
            kappa = np.abs(x).sum(axis=-2).max(axis=-1) * np.abs(inverse).sum(axis=-2).max(axis=-1)
            if np.all(kappa < _COFACTOR_WELL_CONDITIONED):
                return np.linalg.det(x)[..., None, None] * np.swapaxes(inverse, -1, -2)
        u, s, vt = np.linalg.svd(x)
        others = np.prod(np.where(np.eye(s.shape[-1], dtype=bool), 1.0, s[..., None, :]), axis=-1)
        signs = np.linalg.det(u) * np.linalg.det(vt)
        return signs[..., None, None] * ((u * others[..., None, :]) @ vt)


register_operation("cofactor", _square_matrix("cofactor"), _cofactor_numpy)


def _logdet_numpy(arrays, param):
    (x,) = arrays
    sign, value = np.linalg.slogdet(x)
    if np.any(sign == 0):
        raise SingularMatrixError(f"logdet: the matrix of shape {x.shape} is singular "
                                  "(its determinant is 0), so log|det X| is -inf")
    return value


register_operation("logdet", lambda shapes, p: square("logdet", shapes[0]), _logdet_numpy)


def _solve_shape(shapes, param):
    a, b = shapes
    batch = square("solve", a)
    vector = len(b) == len(a) - 1
    if not (vector or len(b) == len(a)) or tuple(b[:len(batch)]) != batch or b[len(batch)] != a[-1]:
        raise ShapeError(f"solve: A of shape {a} and b of shape {b} do not fit: b must have shape "
                         f"{batch + (a[-1],)} (a vector) or {batch + (a[-1], 'm')} (a matrix)")
    return tuple(b)


def _solve_numpy(arrays, param):
    a, b = arrays
    vector = b.ndim == a.ndim - 1
    try:
        result = np.linalg.solve(a, b[..., None] if vector else b)
    except np.linalg.LinAlgError:
        raise SingularMatrixError(f"solve: the matrix A of shape {a.shape} is singular, so "
                                  f"A x = b (b of shape {b.shape}) has no unique solution") from None
    return result[..., 0] if vector else result


register_operation("solve", _solve_shape, _solve_numpy)


# ---------------------------------------------------------------------------
# Public constructors


def operation(name: str, *operands) -> Operation:
    """The row ``name`` of the table applied to ``operands`` (numbers and arrays become constants)."""
    return Operation(name, [as_expr(op) for op in operands])


def inv(x):
    """The matrix inverse ``X⁻¹`` (of the last two axes; leading axes are a batch).

    >>> import numpy as np, tensorcalc as tc
    >>> X = tc.var("X", (2, 2))
    >>> print(tc.matrix_notation(tc.grad(tc.sum(tc.inv(X)), X)))
    −X⁻ᵀ𝟙𝟙ᵀX⁻ᵀ
    >>> tc.evaluate(tc.inv(X), X=np.diag([2.0, 4.0]))
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    return operation("inv", x)


def det(x):
    """The determinant (of the last two axes).

    >>> import numpy as np, tensorcalc as tc
    >>> X = tc.var("X", (2, 2))
    >>> tc.evaluate(tc.grad(tc.det(X), X), X=np.diag([2.0, 4.0]))  # det(X) X⁻ᵀ
    array([[4., 0.],
           [0., 2.]])
    """
    return operation("det", x)


def logdet(x):
    """``log|det X|`` computed by ``slogdet`` (no overflow); its gradient is ``X⁻ᵀ``.

    >>> import numpy as np, tensorcalc as tc
    >>> X = tc.var("X", (2, 2))
    >>> float(tc.evaluate(tc.logdet(X), X=np.diag([-1e200, 1e200])))  # det overflows; this does not
    921.0340371976183
    """
    return operation("logdet", x)


def solve(a, b):
    """``A⁻¹b`` without forming ``A⁻¹``; ``b`` is a vector or a matrix (or batches of them).

    >>> import numpy as np, tensorcalc as tc
    >>> A, b = tc.var("A", (2, 2)), tc.var("b", (2,))
    >>> print(tc.matrix_notation(tc.solve(A, b)))
    A⁻¹b
    >>> tc.evaluate(tc.solve(A, b), A=np.diag([2.0, 4.0]), b=np.array([1.0, 1.0]))
    array([0.5 , 0.25])
    """
    return operation("solve", a, b)


def matrix_power(x, k: int):
    """``X^k`` for an integer ``k`` as products (``k < 0`` through ``inv``; ``k = 0`` is ``I``);
    leading axes batch, as numpy's ``matrix_power``.

    >>> import numpy as np, tensorcalc as tc
    >>> X = tc.var("X", (2, 2))
    >>> print(tc.matrix_notation(tc.matrix_power(X, 3)))
    X³
    >>> S = tc.var("S", (2, 2, 2))
    >>> tc.evaluate(tc.matrix_power(S, 2), S=np.stack([np.eye(2), 2 * np.eye(2)]))[1]
    array([[4., 0.],
           [0., 4.]])
    """
    x = as_expr(x)
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
        raise ShapeError(f"matrix_power: the exponent must be an int, got {k!r}")
    if x.ndim < 2:
        raise ShapeError(f"matrix_power: needs a square matrix (or a stack of them), got shape "
                         f"{x.shape}")
    square("matrix_power", x.shape)
    if k == 0:
        identity = Delta(x.shape[-1])
        return identity if x.ndim == 2 else broadcast_to(identity, x.shape, "matrix_power")
    base = inv(x) if k < 0 else x
    result = base
    for _ in range(abs(int(k)) - 1):
        result = matmul(result, base)
    return result


def eye(n):
    """The identity matrix over dimension ``n`` (a δ: never built as a dense matrix).

    >>> import tensorcalc as tc
    >>> x = tc.var("x", ("n",))
    >>> print(tc.simplify(tc.eye("n") @ x))
    x_i
    """
    return Delta(n)


def diag(v):
    """The diagonal matrix with the vector ``v`` on its diagonal (``δ_ij v_j``); see
    :func:`tensorcalc.diagonal` for the diagonal of a matrix.

    >>> import numpy as np, tensorcalc as tc
    >>> v = tc.var("v", (2,))
    >>> print(tc.matrix_notation(tc.diag(v)))
    diag(v)
    >>> tc.evaluate(tc.diag(v), v=np.array([1.0, 2.0]))
    array([[1., 0.],
           [0., 2.]])
    """
    v = as_expr(v)
    if v.ndim != 1:
        raise ShapeError(f"diag: needs a vector, got shape {v.shape} (for the diagonal of a "
                         "matrix use tc.diagonal)")
    n = v.shape[0]
    return Contraction([Delta(n), v], [(0, 1), (1,)], (0, 1), {0: n, 1: n})
