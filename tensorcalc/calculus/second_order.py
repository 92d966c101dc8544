"""Second-order and forward-mode derivatives: ``hessian``, ``hvp`` and ``jvp``.

>>> import numpy as np, tensorcalc as tc
>>> x, A = tc.var("x", ("n",)), tc.var("A", ("n", "n"))
>>> print(tc.matrix_notation(tc.hessian(tc.sum(tc.exp(A @ x)), x)))
Aᵀ diag(exp(Ax)) A
>>> v = tc.var("v", ("n",))
>>> print(tc.matrix_notation(tc.hvp(tc.sum(tc.exp(A @ x)), x, v)))
Aᵀ(Av ⊙ exp(Ax))

* :func:`hessian` is the Jacobian of the gradient, of shape ``wrt.shape * 2``;
* :func:`hvp` is the gradient of ``⟨∇f, v⟩``: a reverse sweep over the gradient, so the
  Hessian is never formed;
* :func:`jvp` is the directional derivative ``J t``, by the "vjp of a vjp" trick:
  ``u ↦ Jᵀu`` is linear, so the gradient of ``⟨Jᵀu, t⟩`` with respect to ``u`` is ``J t``,
  and both sweeps only contract cotangents (no Jacobian, no δ left after simplifying).
"""

from __future__ import annotations

from ..expression.construct import as_expr, variables
from ..expression.construct import sum as total
from ..expression.nodes import Var
from .differentiate import Derivative, grad, jacobian, vjp
from ..errors import DifferentiationError, ShapeError


def hessian(f, wrt, convention: str = "symmetric"):
    """The Hessian of a scalar ``f``: ``∂²f/∂wrt∂wrt`` of shape ``wrt.shape + wrt.shape``; for a
    list of variables, the blocks ``H[i][j] = ∂²f/∂wrt_i∂wrt_j`` as a list of lists (as
    ``jax.hessian`` with several ``argnums`` gives nested tuples).

    >>> import tensorcalc as tc
    >>> X = tc.var("X", (2, 2))
    >>> tc.hessian(tc.logdet(X), X).shape
    (2, 2, 2, 2)
    >>> x, A, y = tc.var("x", (3,)), tc.var("A", (3, 2)), tc.var("y", (2,))
    >>> [[block.matrix for block in row] for row in tc.hessian(x @ A @ y, [x, y])]
    [['0', 'A'], ['Aᵀ', '0']]
    """
    if as_expr(f).ndim:
        raise DifferentiationError(f"hessian: needs a scalar f, got shape {as_expr(f).shape}; "
                                   "use tc.jacobian(tc.jacobian(f, x), x)")
    if isinstance(wrt, (list, tuple)):
        gradients = grad(f, list(wrt), convention=convention)
        return [[jacobian(g, other, convention=convention) for other in wrt] for g in gradients]
    return jacobian(grad(f, wrt, convention=convention), wrt, convention=convention)


def hvp(f, wrt, v, convention: str = "symmetric"):
    """The Hessian-vector product ``H v`` of a scalar ``f``, without forming ``H``.

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", (2,))
    >>> tc.evaluate(tc.hvp(tc.sum(x ** 3), x, np.ones(2)), x=np.array([1.0, 2.0]))
    array([ 6., 12.])
    """
    v = as_expr(v)
    gradient = grad(f, wrt, convention=convention)
    if v.shape != gradient.shape:
        raise ShapeError(f"hvp: v has shape {v.shape} but {getattr(wrt, 'name', 'wrt')} has "
                         f"shape {gradient.shape}; they must be equal")
    return grad(total(gradient * v), wrt, convention=convention)


def jvp(f, wrt, tangent):
    """The Jacobian-vector product ``Σ_k ∂f/∂wrt_k tangent_k``, of ``f``'s shape.

    >>> import numpy as np, tensorcalc as tc
    >>> W, x = tc.var("W", (2, 2)), tc.var("x", (2,))
    >>> print(tc.jvp(W @ x, W, tc.var("T", (2, 2))))
    T_ij x_j
    """
    f_expr, tangent = as_expr(f), as_expr(tangent)
    wrt_expr = as_expr(wrt) if not isinstance(wrt, str) else None
    if wrt_expr is not None and tangent.shape != wrt_expr.shape:
        raise ShapeError(f"jvp: the tangent has shape {tangent.shape} but "
                         f"{getattr(wrt_expr, 'name', 'wrt')} has shape {wrt_expr.shape}; "
                         "they must be equal")
    taken = set(variables([f_expr, tangent]))
    name = next(f"_u{n}" for n in range(len(taken) + 1) if f"_u{n}" not in taken)
    u = Var(name, f_expr.shape)  # a stand-in cotangent: Jᵀu is linear in u
    pulled = vjp(f, wrt, u)
    if tangent.shape != pulled.shape:
        raise ShapeError(f"jvp: the tangent has shape {tangent.shape} but wrt has shape "
                         f"{pulled.shape}; they must be equal")
    result = grad(total(pulled.expr * tangent), u)
    return Derivative(result.expr, f, pulled.wrt, cotangent=tangent)
