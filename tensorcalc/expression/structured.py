"""Structured variables: symmetric and diagonal matrices (the gradient's projection onto the
structure is :mod:`tensorcalc.calculus.structured`'s).

>>> import numpy as np, tensorcalc as tc
>>> x, S = tc.var("x", ("n",)), tc.var("S", ("n", "n"), symmetric=True)
>>> print(tc.matrix_notation(tc.hessian(x @ S @ x, x)))
2S
>>> B = tc.var("B", ("n", "n"))
>>> f = tc.trace(S @ B)  # f = Σ S_ij B_ji: the unconstrained gradient is G = Bᵀ
>>> B_value = np.array([[1.0, 2.0], [0.0, 0.0]])
>>> tc.evaluate(tc.grad(f, S), S=np.eye(2), B=B_value)  # sym(G) = (Bᵀ + B)/2
array([[1., 1.],
       [1., 0.]])
>>> tc.evaluate(tc.grad(f, S, convention="cookbook"), S=np.eye(2), B=B_value)  # G + Gᵀ − diag(G)
array([[1., 2.],
       [2., 0.]])

A symmetric variable ``S`` stands for a point of the space of symmetric matrices:

* the simplifier knows ``Sᵀ = S``: inside a contraction the two indices of a
  symmetric operand are put in a canonical order, so ``S_ij x_j + S_ji x_j``
  collects into ``2 S_ij x_j``;
* evaluation checks that the value passed is symmetric (a ``BindingError`` with the
  largest asymmetry otherwise); a diagonal variable must be zero off its diagonal;
* the **gradient** of a scalar ``f`` with respect to ``S`` follows one stated
  convention.  Let ``G`` be the gradient of any extension of ``f`` to all matrices
  (what the reverse sweep computes; it depends on how ``f`` is written, its
  symmetric part does not):

  - ``convention="symmetric"`` (the default): ``sym(G) = (G + Gᵀ)/2``, the gradient
    in the space of symmetric matrices under the Frobenius inner product, so that
    ``f(S + εE) ≈ f(S) + ε⟨sym(G), E⟩`` for every *symmetric* direction ``E``: what
    gradient descent on ``S`` needs (Srinivasan & Panda, "What is the gradient of a
    scalar function of a symmetric matrix?");
  - ``convention="cookbook"``: ``G + Gᵀ − diag(G)``, the Matrix Cookbook's §2.8.2
    (Petersen & Pedersen, 2012), the derivative with respect to the ``n(n+1)/2`` independent entries
    ``S_ij, i ≤ j`` laid out as a matrix.  Its off-diagonal entries are twice those
    of ``sym(G)``; the diagonal ones agree.

  For a diagonal variable both conventions give ``diag(G)`` (the off-diagonal
  entries are not free).
"""

from __future__ import annotations

import numpy as np

from ..errors import BindingError
from .nodes import Contraction, Operation, Var



def check_value(variable, array: np.ndarray) -> None:
    """A ``BindingError`` unless ``array`` has the variable's structure (to rounding)."""
    scale = float(np.max(np.abs(array), initial=0.0))
    tolerance = 64 * np.finfo(array.dtype).eps * (1.0 + scale)
    if variable.structure == "symmetric":
        asymmetry = float(np.max(np.abs(array - array.T), initial=0.0))
        if asymmetry > tolerance:
            raise BindingError(f"evaluate: variable {variable.name!r} is symmetric but its value "
                               f"is not: max |S - Sᵀ| = {asymmetry:.3g} (tolerance "
                               f"{tolerance:.3g}); pass (S + S.T) / 2")
    elif variable.structure == "diagonal":
        off = float(np.max(np.abs(array - np.diag(np.diagonal(array))), initial=0.0))
        if off > tolerance:
            raise BindingError(f"evaluate: variable {variable.name!r} is diagonal but its value "
                               f"has off-diagonal entries up to {off:.3g} in magnitude")


# rows whose value is symmetric when their one operand is: (S⁻¹)ᵀ = (Sᵀ)⁻¹ = S⁻¹, and so on
_SYMMETRY_KEEPING = frozenset({"inv", "cofactor", "pinv", "expm"})


def is_structured(node) -> bool:
    """``node`` is a matrix known equal to its transpose: a structured variable (symmetric or
    diagonal), or the inverse, cofactor matrix, pseudo-inverse or exponential of one."""
    while isinstance(node, Operation) and node.name in _SYMMETRY_KEEPING and node.ndim == 2 \
            and len(node.operands) == 1:
        node = node.operands[0]
    return isinstance(node, Var) and node.structure is not None


def canonical(node, symmetric=is_structured):
    """``node`` with each structured operand's two indices in increasing label order
    (``symmetric``: the test of an operand)."""
    for _ in range(4):  # renumbering can move other labels: a few passes settle it
        swap = [k for k, (op, ix) in enumerate(zip(node.operands, node.indices))
                if len(ix) == 2 and ix[0] > ix[1] and symmetric(op)]
        if not swap:
            break
        indices = [ix[::-1] if k in swap else ix for k, ix in enumerate(node.indices)]
        node = Contraction(node.operands, indices, node.output, dict(enumerate(node.sizes)))
        if len(node.operands) == 1 and node.indices[0] == node.output \
                and len(node.sizes) == len(node.output):
            return node.operands[0]  # Sᵀ is S, (S⁻¹)ᵀ is S⁻¹
    return node
