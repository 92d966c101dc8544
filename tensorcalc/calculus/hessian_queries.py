"""Parts of a Hessian by name, derived symbolically and planned without building the Hessian:
``hessian_diagonal``, ``laplacian`` (its trace), ``hessian_column`` and ``hessian_entry``.

Automatic differentiation gets a Hessian's diagonal only through n Hessian-vector products
(or the whole Hessian).  Here the diagonal is the index expression of the Hessian with its two
index groups tied, ``H_ii``, and simplification folds the tie into the products the Hessian is
made of, so the n × n tensor never appears: for the logistic loss,

>>> import tensorcalc as tc
>>> X, w, y = tc.var("X", ("m", "n")), tc.var("w", ("n",)), tc.var("y", ("m",))
>>> z = X @ w
>>> loss = tc.sum(tc.softplus(z) - y * z)
>>> print(tc.matrix_notation(tc.hessian_diagonal(loss, w)))
(X^⊙2)ᵀ (s ⊙ (𝟙 − s))
  where s = σ(Xw)
>>> print(tc.matrix_notation(tc.laplacian(loss, w)))
(s ⊙ (𝟙 − s))ᵀ diag(XXᵀ)
  where s = σ(Xw)

A column ``H[:, j]`` is the Hessian-vector product with the unit vector ``e_j`` (one reverse
sweep over the gradient); an entry ``H[i, j]`` is ``⟨e_i, H e_j⟩``.  Both need the
variable's sizes to be numbers (the unit vector is a constant array).
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..expression.construct import as_expr, const
from ..expression.construct import sum as total
from ..expression.nodes import Contraction
from .second_order import hessian, hvp
from .simplify import simplify


def hessian_diagonal(f, wrt, convention: str = "symmetric"):
    """``∂²f/∂x_i²`` for every entry ``i`` of ``wrt``, of ``wrt``'s shape (``diag(H)`` for a
    vector).

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", (3,))
    >>> tc.evaluate(tc.hessian_diagonal(tc.sum(x ** 3), x), x=np.array([1.0, 2.0, 3.0]))
    array([ 6., 12., 18.])
    """
    full = as_expr(hessian(f, wrt, convention=convention))
    axes = tuple(range(full.ndim // 2))
    tied = Contraction([full], [axes + axes], axes, dict(zip(axes, full.shape)))
    return simplify(tied)


def laplacian(f, wrt, convention: str = "symmetric"):
    """``Σ_i ∂²f/∂x_i²``, the trace of the Hessian (a scalar).

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", (3,))
    >>> float(tc.evaluate(tc.laplacian(tc.sum(x ** 3), x), x=np.array([1.0, 2.0, 3.0])))
    36.0
    """
    return simplify(total(hessian_diagonal(f, wrt, convention=convention)))


def _unit(shape: tuple, index, what: str) -> np.ndarray:
    if any(not isinstance(d, (int, np.integer)) for d in shape):
        raise ShapeError(f"{what}: the variable has named dimensions {shape}; a column or entry "
                         "needs numeric sizes (declare the variable with numbers)")
    index = (index,) if isinstance(index, (int, np.integer)) else tuple(index)
    if len(index) != len(shape) or not all(isinstance(k, (int, np.integer)) for k in index):
        raise ShapeError(f"{what}: index {index!r} must be {len(shape)} integer(s) for a variable "
                         f"of shape {shape}")
    for axis, (k, size) in enumerate(zip(index, shape)):
        if not -size <= k < size:
            raise ShapeError(f"{what}: index {k} is out of range for axis {axis} of size {size} "
                             f"(variable shape {shape})")
    unit = np.zeros(shape)
    unit[tuple(int(k) for k in index)] = 1.0
    return unit


def hessian_column(f, wrt, index, convention: str = "symmetric"):
    """``H[..., index]`` = ``∂(∇f)/∂x_index``, of ``wrt``'s shape: the Hessian-vector product
    with a unit vector (``index`` an integer for a vector, a tuple of integers for a matrix).

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", (3,))
    >>> tc.evaluate(tc.hessian_column(tc.sum(x) ** 3, x, 1), x=np.array([1.0, 0.0, 0.0]))
    array([6., 6., 6.])
    """
    wrt_shape = as_expr(hessian(f, wrt, convention=convention)).shape
    wrt_shape = wrt_shape[:len(wrt_shape) // 2]
    unit = _unit(wrt_shape, index, "hessian_column")
    return simplify(as_expr(hvp(f, wrt, const(unit), convention=convention)))


def hessian_entry(f, wrt, row, column, convention: str = "symmetric"):
    """``H[row, column]`` = ``∂²f/∂x_row∂x_column`` (a scalar), as ``⟨e_row, H e_column⟩``.

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", (2,))
    >>> f = tc.sum(tc.exp(x)) ** 2
    >>> float(tc.evaluate(tc.hessian_entry(f, x, 0, 1), x=np.zeros(2)))  # 2 e^x₀ e^x₁
    2.0
    """
    column_expr = hessian_column(f, wrt, column, convention=convention)
    unit = _unit(column_expr.shape, row, "hessian_entry")
    return simplify(total(column_expr * const(unit)))
