"""Decompositions beyond the Matrix Cookbook: ``eigh``/``eigvalsh``, ``svd``/``svdvals``, ``qr``,
``lu`` and ``cholesky`` (rows of the operation table and their public constructors).

>>> import numpy as np, tensorcalc as tc
>>> X = tc.var("X", (2, 2))
>>> w, V = tc.eigh(X)
>>> tc.evaluate(w, X=np.diag([3.0, 1.0]))
array([1., 3.])
>>> print(tc.matrix_notation(tc.grad(tc.sum(tc.svdvals(X)), X)))
svd_U(X) svd_Vt(X)

A factorization is ONE row (``eigh_factor``, ``svd_factor``, ``qr_factor``, ``lu_factor``: the
factors packed in one array), computed once per program; each output is a *selector* row whose operands are ``X`` and the
packed factorization.  A selector reads its factor from the packed operand; its VJP is the whole
derivative with respect to ``X`` (the packed operand gets none), which is right because the
packed operand is a function of ``X`` alone.  ``eigh`` and ``cholesky`` read a symmetric matrix:
they factor ``(X + Xᵀ)/2``, so their derivatives are symmetric.  ``svd`` is the reduced SVD
(``full_matrices=False``).
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError, SingularMatrixError
from . import linalg  # noqa: F401 - det and logdet, for slogdet
from .construct import apply_function, as_expr
from .nodes import Operation
from .operations import register_operation, square

# relative gap below which two eigenvalues (squared singular values) count as repeated
DEGENERATE_GAP = 1e-10


def _symmetric(x):
    return 0.5 * (x + np.swapaxes(x, -1, -2))


def _matrix(name, shape):
    if len(shape) < 2:
        raise ShapeError(f"{name}: needs a matrix (or a stack of them in the last two axes), "
                         f"got shape {shape}")
    return shape[:-2], shape[-2], shape[-1]


def _small(m, n):
    if isinstance(m, int) and isinstance(n, int):
        return min(m, n)
    if m == n:
        return m
    raise ShapeError(f"svd: needs fixed sizes or a square matrix, got the sizes {m!r} and {n!r}")


# ---------------------------------------------------------------------------
# eigh: packed (..., n + 1, n): row 0 the eigenvalues (ascending), rows 1.. the eigenvectors


def _eigh_factor_numpy(arrays, param):
    w, v = np.linalg.eigh(_symmetric(arrays[0]))
    return np.concatenate([w[..., None, :], v], axis=-2)


def _eigh_factor_shape(shapes, param):
    batch = square("eigh", shapes[0])
    n = shapes[0][-1]
    if not isinstance(n, int):
        raise ShapeError(f"eigh: needs fixed sizes, got shape {shapes[0]}")
    return batch + (n + 1, n)


register_operation("eigh_factor", _eigh_factor_shape, _eigh_factor_numpy)
register_operation("eigh_values", lambda shapes, p: shapes[0][:-1],
                   lambda arrays, p: arrays[1][..., 0, :])
register_operation("eigh_vectors", lambda shapes, p: shapes[0],
                   lambda arrays, p: arrays[1][..., 1:, :])


def _gaps_numpy(arrays, param):
    """``F_ij = 1/(w_j − w_i)`` off the diagonal, 0 on it; repeated values are refused."""
    (w,) = arrays
    difference = w[..., None, :] - w[..., :, None]
    n = w.shape[-1]
    off = ~np.eye(n, dtype=bool)
    scale = np.maximum(np.max(np.abs(w), axis=-1, initial=0.0), 1e-300)[..., None, None]
    if np.any((np.abs(difference) <= DEGENERATE_GAP * scale) & off):
        raise SingularMatrixError(
            f"{param}: repeated {'singular values' if param == 'svd' else 'eigenvalues'} "
            f"({w.tolist()}): the {'singular' if param == 'svd' else 'eigen'}vectors are not "
            "unique there and have no derivative (the values' derivative exists: differentiate "
            f"{'svdvals' if param == 'svd' else 'eigvalsh'} alone)")
    with np.errstate(divide="ignore"):
        return np.where(off, 1.0 / np.where(off, difference, 1.0), 0.0)


register_operation("spectral_gaps", lambda shapes, p: shapes[0] + shapes[0][-1:], _gaps_numpy)


def eigh(x):
    """``(w, V)`` with ``X = V diag(w) Vᵀ`` for a symmetric ``X`` (``(X + Xᵀ)/2`` is factored),
    eigenvalues ascending, as ``np.linalg.eigh``.  ``∂w_i/∂X = v_i v_iᵀ``; the eigenvectors'
    derivative needs distinct eigenvalues (a :class:`SingularMatrixError` otherwise)."""
    x = as_expr(x)
    packed = Operation("eigh_factor", [x])
    return Operation("eigh_values", [x, packed]), Operation("eigh_vectors", [x, packed])


def eigvalsh(x):
    """The eigenvalues of a symmetric ``X``, ascending (as ``np.linalg.eigvalsh``).

    >>> import numpy as np, tensorcalc as tc
    >>> X, c = tc.var("X", (2, 2)), tc.var("c", (2,))
    >>> print(tc.to_text(tc.grad(c @ tc.eigvalsh(X), X).expr))  # ∂λᵢ/∂X = vᵢvᵢᵀ
    eigvecs(X)*diag(c)*eigvecs(X)'
    """
    return eigh(x)[0]


# ---------------------------------------------------------------------------
# svd: packed (..., m + 1 + n, k): rows :m are U, row m is s, rows m + 1: are V (= Vtᵀ)


def _svd_factor_numpy(arrays, param):
    u, s, vt = np.linalg.svd(arrays[0], full_matrices=False)
    return np.concatenate([u, s[..., None, :], np.swapaxes(vt, -1, -2)], axis=-2)


def _svd_factor_shape(shapes, param):
    batch, m, n = _matrix("svd", shapes[0])
    if not (isinstance(m, int) and isinstance(n, int)):
        raise ShapeError(f"svd: needs fixed sizes, got shape {shapes[0]}")
    return batch + (m + 1 + n, min(m, n))


def _svd_parts(shapes):
    batch, m, n = _matrix("svd", shapes[0])
    return batch, m, n, min(m, n)


register_operation("svd_factor", _svd_factor_shape, _svd_factor_numpy)
register_operation("svd_u", lambda shapes, p: (lambda b, m, n, k: b + (m, k))(*_svd_parts(shapes)),
                   lambda arrays, p: arrays[1][..., :arrays[0].shape[-2], :])
register_operation("svd_s", lambda shapes, p: (lambda b, m, n, k: b + (k,))(*_svd_parts(shapes)),
                   lambda arrays, p: arrays[1][..., arrays[0].shape[-2], :])
register_operation("svd_vt", lambda shapes, p: (lambda b, m, n, k: b + (k, n))(*_svd_parts(shapes)),
                   lambda arrays, p: np.swapaxes(arrays[1][..., arrays[0].shape[-2] + 1:, :], -1, -2))


def svd(x, full_matrices: bool = False, compute_uv: bool = True):
    """``(U, s, Vt)`` with ``X = U diag(s) Vt``, the reduced SVD (``U`` is m×k, ``Vt`` k×n,
    k = min(m, n)), singular values descending; ``compute_uv=False`` gives ``s`` alone.
    ``full_matrices=True`` (numpy's default) is refused unless X is square, where the two agree.
    """
    x = as_expr(x)
    batch, m, n = _matrix("svd", x.shape)
    if full_matrices and m != n:
        raise ShapeError(f"svd: full_matrices=True of a {m}×{n} matrix has factors without a "
                         "derivative; tensorcalc has the reduced SVD (full_matrices=False)")
    packed = Operation("svd_factor", [x])
    s = Operation("svd_s", [x, packed])
    if not compute_uv:
        return s
    return Operation("svd_u", [x, packed]), s, Operation("svd_vt", [x, packed])


def svdvals(x):
    """The singular values of ``X``, descending; ``∂s_i/∂X = u_i v_iᵀ`` (at any rank)."""
    return svd(x, compute_uv=False)


# ---------------------------------------------------------------------------
# qr: packed (..., m + n, k), k = min(m, n): rows :m are Q (m×k), rows m: are Rᵀ (n×k)


def _qr_factor_numpy(arrays, param):
    q, r = np.linalg.qr(arrays[0])  # mode="reduced", LAPACK's geqrf: R's diagonal may be negative
    return np.concatenate([q, np.swapaxes(r, -1, -2)], axis=-2)


def _qr_parts(shapes):
    batch, m, n = _matrix("qr", shapes[0])
    if not (isinstance(m, int) and isinstance(n, int)):
        raise ShapeError(f"qr: needs fixed sizes, got shape {shapes[0]}")
    return batch, m, n, min(m, n)


register_operation("qr_factor", lambda shapes, p: (lambda b, m, n, k: b + (m + n, k))(*_qr_parts(shapes)),
                   _qr_factor_numpy)
register_operation("qr_q", lambda shapes, p: (lambda b, m, n, k: b + (m, k))(*_qr_parts(shapes)),
                   lambda arrays, p: arrays[1][..., :arrays[0].shape[-2], :])
register_operation("qr_r", lambda shapes, p: (lambda b, m, n, k: b + (k, n))(*_qr_parts(shapes)),
                   lambda arrays, p: np.swapaxes(arrays[1][..., arrays[0].shape[-2]:, :], -1, -2))


def qr(x, mode: str = "reduced"):
    """``(Q, R)`` with ``X = Q R`` as ``np.linalg.qr(X)`` (``mode="reduced"``): ``Q`` m×k with
    orthonormal columns, ``R`` k×n upper triangular, k = min(m, n); ``mode="r"`` gives ``R``
    alone, and ``mode="complete"`` is the same factors where numpy's are (m ≤ n).  These are numpy's (LAPACK's) factors, whose ``R`` may have negative diagonal entries;
    the derivative is that of this factorization (locally smooth for a full-rank X).  The
    derivative needs full rank: of X when m ≥ n, of X's leading m×m block when m < n (a
    :class:`SingularMatrixError` otherwise).

    >>> import numpy as np, tensorcalc as tc
    >>> Q, R = tc.qr(tc.var("X", (3, 2)))
    >>> print(tc.matrix_notation(Q), tc.matrix_notation(R))
    qr_Q(X) qr_R(X)
    """
    x = as_expr(x)
    batch, m, n = _matrix("qr", x.shape)
    wide = m == n or (isinstance(m, int) and isinstance(n, int) and m <= n)
    if mode not in ("reduced", "r", "complete") or (mode == "complete" and not wide):
        raise ShapeError(f"qr: mode={mode!r} of a {m}×{n} matrix is not available; tensorcalc has "
                         "mode='reduced' (Q, R), mode='r' (R alone) and mode='complete' where it "
                         "is the reduced one (m ≤ n: a tall X's complete Q adds columns LAPACK "
                         "chooses, with no derivative of their own)")
    packed = Operation("qr_factor", [x])
    r = Operation("qr_r", [x, packed])
    return r if mode == "r" else (Operation("qr_q", [x, packed]), r)


# ---------------------------------------------------------------------------
# lu (scipy.linalg.lu's X = P L U; numpy has none, so this is partial pivoting as LAPACK's getrf,
# the first largest entry of the column as pivot): packed (..., 3n, n): P, L, U


def _lu(x):
    a = np.array(x, dtype=np.result_type(x, 1.0))
    n = a.shape[-1]
    order = np.broadcast_to(np.arange(n), a.shape[:-1]).copy()
    for k in range(n):
        pivot = k + np.argmax(np.abs(a[..., k:, k]), axis=-1)
        swap = np.broadcast_to(np.arange(n), a.shape[:-1]).copy()
        np.put_along_axis(swap, pivot[..., None], k, axis=-1)
        swap[..., k] = pivot
        a, order = np.take_along_axis(a, swap[..., None], axis=-2), np.take_along_axis(order, swap, -1)
        head = a[..., k, k]
        zero = head == 0  # a zero column below the diagonal: nothing to eliminate (as getrf)
        multipliers = np.where(zero[..., None], 0.0, a[..., k + 1:, k]
                               / np.where(zero, 1.0, head)[..., None])
        a[..., k + 1:, k] = multipliers
        a[..., k + 1:, k + 1:] -= multipliers[..., :, None] * a[..., k, None, k + 1:]
    p = np.swapaxes(np.eye(n, dtype=a.dtype)[order], -1, -2)  # row order[i] of X is row i of LU
    return p, np.tril(a, -1) + np.eye(n, dtype=a.dtype), np.triu(a)


def _lu_shape(shapes, param):
    batch = square("lu", shapes[0])
    n = shapes[0][-1]
    if not isinstance(n, int):
        raise ShapeError(f"lu: needs fixed sizes, got shape {shapes[0]}")
    return batch + (3 * n, n)


register_operation("lu_factor", _lu_shape, lambda arrays, p: np.concatenate(_lu(arrays[0]), axis=-2))
for _k, _name in enumerate(("lu_p", "lu_l", "lu_u")):
    register_operation(_name, lambda shapes, p: (square("lu", shapes[0]), shapes[0])[1],
                       lambda arrays, p, k=_k: arrays[1][..., k * arrays[0].shape[-1]:
                                                         (k + 1) * arrays[0].shape[-1], :])


def lu(x):
    """``(P, L, U)`` with ``X = P L U`` as ``scipy.linalg.lu(X)`` for a square X: partial
    pivoting (the first largest entry of each column, as LAPACK's getrf), ``L`` unit lower
    triangular, ``U`` upper triangular.  ``P`` is piecewise constant (derivative 0); the
    derivative of ``L`` and ``U`` (JAX's lu rule) needs a nonsingular X (a
    :class:`SingularMatrixError` otherwise).

    >>> import numpy as np, tensorcalc as tc
    >>> P, L, U = tc.lu(tc.var("X", (2, 2)))
    >>> tc.evaluate(P, X=np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[0., 1.],
           [1., 0.]])
    """
    x = as_expr(x)
    square("lu", x.shape)
    packed = Operation("lu_factor", [x])
    return tuple(Operation(name, [x, packed]) for name in ("lu_p", "lu_l", "lu_u"))


# the inverse of a factorization's triangular factor (R of qr, L and U of lu), for the
# derivatives: a (numerically) zero diagonal entry is refused, naming the factorization

TRIANGULAR_RCOND = 1e-12  # |T_ii| / max_j |T_jj| at or below this: rank-deficient
_TRIANGULAR_WORDS = {"qr": ("R", "rank-deficient", "Q and R"), "lu": ("U", "singular", "L and U")}


def _triangular_inverse_numpy(arrays, param):
    """The inverse of ``T``'s leading square block (all of it but for R of a wide X)."""
    t = arrays[0][..., :, :arrays[0].shape[-2]]
    diagonal = np.abs(np.diagonal(t, axis1=-2, axis2=-1))
    largest = np.max(diagonal, axis=-1, keepdims=True, initial=0.0)
    small = diagonal <= TRIANGULAR_RCOND * largest
    if np.any(small):
        factor, state, outputs = _TRIANGULAR_WORDS[param]
        if arrays[0].shape[-1] > arrays[0].shape[-2]:
            state += " in its leading square block (a wide X)"
        where = tuple(int(i) for i in np.argwhere(small)[0])
        raise SingularMatrixError(
            f"{param}: X is {state}: {factor}'s diagonal entry {where[-1]} is "
            f"{float(diagonal[where]):.3g} (the largest is {float(largest[where[:-1]][0]):.3g}); "
            f"{outputs} have no derivative there, so tensorcalc refuses it")
    return np.linalg.inv(t)


def _triangular_inverse_shape(shapes, param):
    batch, k, n = _matrix(param, shapes[0])
    if not (isinstance(k, int) and isinstance(n, int) and k <= n):
        raise ShapeError(f"{param}: the triangular factor of shape {shapes[0]} is not square or wide")
    return batch + (k, k)


register_operation("triangular_inverse", _triangular_inverse_shape, _triangular_inverse_numpy)


# ---------------------------------------------------------------------------
# cholesky


def _not_positive_definite(x):
    n = x.shape[-1]
    for k in range(1, n + 1):
        try:
            np.linalg.cholesky(x[..., :k, :k])
        except np.linalg.LinAlgError:
            minors = np.linalg.det(x[..., :k, :k])
            return SingularMatrixError(
                f"cholesky: the matrix of shape {x.shape} is not positive definite: its leading "
                f"{k}×{k} minor is {np.min(minors):.6g} (≤ 0 or not positive definite)")
    return SingularMatrixError(f"cholesky: the matrix of shape {x.shape} is not positive definite")


def _cholesky_numpy(arrays, param):
    x = _symmetric(arrays[0])
    try:
        return np.linalg.cholesky(x)
    except np.linalg.LinAlgError:
        raise _not_positive_definite(x) from None


register_operation("cholesky", lambda shapes, p: (square("cholesky", shapes[0]), shapes[0])[1],
                   _cholesky_numpy)


def cholesky(x):
    """The lower-triangular ``L`` with ``L Lᵀ = X`` for a symmetric positive definite ``X``
    (``(X + Xᵀ)/2`` is factored); a :class:`SingularMatrixError` naming the first leading minor
    that is not positive otherwise.  Its derivative is Murray's (2016)."""
    return Operation("cholesky", [as_expr(x)])


# ---------------------------------------------------------------------------
# pinv (full rank only) and slogdet

PINV_RCOND = 1e-12  # s_min / s_max below this: rank-deficient, refused


def _pinv_numpy(arrays, param):
    (x,) = arrays
    s = np.linalg.svd(x, compute_uv=False)
    largest = np.max(s, axis=-1, initial=0.0)
    if s.shape[-1] and np.any(np.min(s, axis=-1) <= PINV_RCOND * largest):
        raise SingularMatrixError(
            f"pinv: the matrix of shape {x.shape} is rank-deficient (smallest singular value "
            f"{float(np.min(s)):.3g}, largest {float(np.max(largest)):.3g}); its pseudo-inverse "
            "jumps there and has no derivative, so tensorcalc refuses it")
    return np.linalg.pinv(x)


def _pinv_shape(shapes, param):
    batch, m, n = _matrix("pinv", shapes[0])
    return batch + (n, m)


register_operation("pinv", _pinv_shape, _pinv_numpy)


def pinv(x):
    """The Moore-Penrose pseudo-inverse ``X⁺`` of a full-rank ``X`` (of the last two axes); a
    rank-deficient ``X`` is a :class:`SingularMatrixError` (``X⁺`` is not continuous there).

    >>> import numpy as np, tensorcalc as tc
    >>> X = tc.var("X", (3, 2))
    >>> tc.evaluate(tc.pinv(X), X=np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]]))
    array([[1. , 0. , 0. ],
           [0. , 0.5, 0. ]])
    """
    return Operation("pinv", [as_expr(x)])


def slogdet(x):
    """``(sign, logdet)`` as ``np.linalg.slogdet``: ``sign(det X)`` (derivative 0) and
    ``log|det X|``."""
    x = as_expr(x)
    return apply_function("sign", Operation("det", [x])), Operation("logdet", [x])


# ---------------------------------------------------------------------------
# expm (scaling and squaring with the [13/13] Padé approximant, Higham 2005) and its Fréchet
# derivative L(X, E), the upper-right block of expm([[X, E], [0, X]]) (Mathias 1996)

_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
           40840800.0, 960960.0, 16380.0, 182.0, 1.0)


def _expm(a):
    a = np.asarray(a, dtype=float)
    if a.size == 0:
        return a.copy()
    norm = float(np.max(np.sum(np.abs(a), axis=-2)))
    squarings = max(0, int(np.ceil(np.log2(norm / 5.371920351148152)))) if norm > 0 else 0
    a = a / 2.0 ** squarings
    b, i = _PADE13, np.broadcast_to(np.eye(a.shape[-1]), a.shape)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2
             + b[1] * i)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * i
    result = np.linalg.solve(v - u, v + u)
    for _ in range(squarings):
        result = result @ result
    return result


def _frechet_numpy(arrays, param):
    x, e = arrays
    x = np.broadcast_to(x, e.shape)
    n = e.shape[-1]
    top = np.concatenate([x, e], axis=-1)
    bottom = np.concatenate([np.zeros_like(x), x], axis=-1)
    return _expm(np.concatenate([top, bottom], axis=-2))[..., :n, n:]


def _frechet_shape(shapes, param):
    square("expm_frechet", shapes[0])
    x, e = shapes
    if len(e) < len(x) or tuple(e[len(e) - len(x):]) != tuple(x):
        raise ShapeError(f"expm_frechet: the direction of shape {e} does not end with X's shape {x}")
    return tuple(e)


register_operation("expm", lambda shapes, p: (square("expm", shapes[0]), shapes[0])[1],
                   lambda arrays, p: _expm(arrays[0]))
register_operation("expm_frechet", _frechet_shape, _frechet_numpy)


def expm(x):
    """The matrix exponential ``e^X`` (as ``scipy.linalg.expm``); its derivative is the Fréchet
    derivative, ``X̄ = L(Xᵀ, G)`` computed as a block-triangular exponential.

    >>> import numpy as np, tensorcalc as tc
    >>> X = tc.var("X", (2, 2))
    >>> tc.evaluate(tc.expm(X), X=np.array([[0.0, 1.0], [0.0, 0.0]]))
    array([[1., 1.],
           [0., 1.]])
    """
    return Operation("expm", [as_expr(x)])
