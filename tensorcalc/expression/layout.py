"""Layout rows of the operation table: ``reshape`` (param: the target shape), ``vec``
(column-major) and ``kron`` (``A ⊗ B``), and their public constructors.

>>> import numpy as np, tensorcalc as tc
>>> X = tc.var("X", (2, 2))
>>> tc.evaluate(tc.vec(X), X=np.array([[1.0, 2.0], [3.0, 4.0]]))
array([1., 3., 2., 4.])
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from .construct import as_expr
from .nodes import Operation, check_dim
from .operations import fixed_size, register_operation


def kept_prefix(target) -> int:
    """How many leading axes a reshape keeps as they are: up to the last named one."""
    named = [n + 1 for n, d in enumerate(target) if not isinstance(d, int)]
    return named[-1] if named else 0


def _reshape_shape(shapes, target):
    (shape,) = shapes
    keep = kept_prefix(target)
    if tuple(shape[:keep]) != tuple(target[:keep]):
        raise ShapeError(f"reshape: cannot reshape {shape} to {target}: a named dimension may only "
                         "stay where it is, as a leading axis of both shapes")
    size = fixed_size("reshape", shape[keep:])
    if size != fixed_size("reshape", target[keep:], "target"):
        raise ShapeError(f"reshape: cannot reshape shape {shape} ({size} entries) to {target} "
                         f"({fixed_size('reshape', target[keep:], 'target')} entries)")
    return tuple(target)


def _reshape_numpy(arrays, target):
    (x,) = arrays
    keep = kept_prefix(target)
    return np.reshape(x, x.shape[:keep] + tuple(target[keep:]))


register_operation("reshape", _reshape_shape, _reshape_numpy)
register_operation("vec", lambda shapes, p: (fixed_size("vec", shapes[0]),),
                   lambda arrays, p: np.reshape(np.transpose(arrays[0]), (-1,)))


def _kron_shape(shapes, param):
    a, b = shapes
    if len(a) != len(b) or len(a) not in (1, 2):
        raise ShapeError(f"kron: needs two matrices or two vectors, got shapes {a} and {b}")
    fixed_size("kron", a, "first operand")
    fixed_size("kron", b, "second operand")
    return tuple(m * p for m, p in zip(a, b))


register_operation("kron", _kron_shape, lambda arrays, p: np.kron(*arrays))


# ---------------------------------------------------------------------------
# Public constructors


def reshape(x, shape):
    """``x`` with its entries in row-major (numpy, C) order laid out in ``shape``; one entry may
    be ``-1``.  Named dimensions may only stay where they are, as leading axes.

    >>> import numpy as np, tensorcalc as tc
    >>> X = tc.var("X", (2, 3))
    >>> tc.evaluate(tc.reshape(X, (3, -1)), X=np.arange(6.0).reshape(2, 3))
    array([[0., 1.],
           [2., 3.],
           [4., 5.]])
    >>> print(tc.matrix_notation(tc.reshape(X, (3, 2))))
    reshape(X, (3, 2))
    """
    x = as_expr(x)
    shape = (shape,) if isinstance(shape, (int, np.integer, str)) else tuple(shape)
    if sum(1 for d in shape if isinstance(d, (int, np.integer)) and d == -1) > 1:
        raise ShapeError(f"reshape: at most one dimension may be -1, got {shape}")
    if any(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d == -1 for d in shape):
        keep = kept_prefix(shape)
        known = fixed_size("reshape", tuple(int(d) for d in shape[keep:] if d != -1), "target")
        total = fixed_size("reshape", x.shape[keep:])
        if known == 0 or total % known:
            raise ShapeError(f"reshape: cannot reshape shape {x.shape} ({total} entries) to "
                             f"{shape}")
        shape = tuple(total // known if (isinstance(d, (int, np.integer)) and d == -1) else d
                      for d in shape)
    shape = tuple(check_dim(d, "reshape") for d in shape)
    return x if shape == x.shape else Operation("reshape", [x], shape)


def vec(x):
    """Magnus–Neudecker's ``vec``: the columns of ``X`` stacked into one vector (column-major;
    ``X.T.reshape(-1)`` in numpy, ``X.reshape(-1, order="F")``).

    >>> import numpy as np, tensorcalc as tc
    >>> X = tc.var("X", (2, 2))
    >>> tc.evaluate(tc.vec(X), X=np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([1., 3., 2., 4.])
    >>> print(tc.matrix_notation(tc.vec(X)), tc.latex(tc.vec(X)))
    vec(X) \\operatorname{vec}\\left(X\\right)
    """
    return Operation("vec", [as_expr(x)])


def kron(a, b):
    """The Kronecker product ``A ⊗ B`` of two matrices (or two vectors), as ``numpy.kron``:
    ``(A ⊗ B)[i·p + k, j·q + l] = A_ij B_kl``; its adjoint is that contraction's, reshaped.

    >>> import numpy as np, tensorcalc as tc
    >>> A, B = tc.var("A", (2, 2)), tc.var("B", (2, 2))
    >>> print(tc.matrix_notation(tc.kron(A.T, B)))
    Aᵀ ⊗ B
    >>> tc.evaluate(tc.kron(A, B), A=np.eye(2), B=np.ones((2, 2)))[0]
    array([1., 1., 0., 0.])
    """
    return Operation("kron", [as_expr(a), as_expr(b)])
