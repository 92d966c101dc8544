"""One inverse for every solve with the same matrix, where the program computes that inverse
anyway (issue 20's shared factorization, with what numpy offers: numpy has no LU or Cholesky
solve that reuses a factorization, but it has the inverse).

The Gaussian likelihood written with ``tc.solve`` computes ``solve(Σ, Xᵀ)`` for the loss and
``Σ⁻¹`` for ``∂ log|Σ| / ∂Σ``, and ``solve(Σᵀ, …)`` again in the gradient: three factorizations,
two of them solves with a thousand right-hand sides, which numpy runs slower than a GEMM by the
inverse it has already paid for.  When a program holds ``inv(A)``, each ``solve(A, b)`` and
``solve(Aᵀ, b)`` (a matrix ``A``, a vector or matrix ``b``) is evaluated as ``A⁻¹b`` and
``A⁻ᵀb``: one factorization, then products.  Nothing changes where no inverse is computed (a
solve stays a solve, better conditioned than an inverse), and the printed forms are the
simplifier's, taken before this step.

>>> import numpy as np, tensorcalc as tc
>>> A, b = tc.var("A", (3, 3)), tc.var("b", (3,))
>>> program = tc.compile([tc.solve(A, b), tc.inv(A)])
>>> sorted(step.operation for step in program.plan_for({}).steps if step.operation in ("solve", "inv"))
['inv']
"""

from __future__ import annotations

from ..calculus.operation_rewrites import transposed_matrix
from ..expression.nodes import Contraction, Operation, postorder, transform


def solves_by_shared_inverse(roots: list) -> list:
    """``roots`` with each ``solve`` of a matrix whose inverse the program computes written as
    a product with that inverse."""
    inverses = {id(node.operands[0]) for node in postorder(roots)
                if isinstance(node, Operation) and node.name == "inv" and node.ndim == 2}
    if not inverses:
        return roots

    def rule(node, children):
        rebuilt = node.rebuild(children) if children != list(node.children) else node
        if not (isinstance(node, Operation) and node.name == "solve" and node.operands[0].ndim == 2
                and node.operands[1].ndim in (1, 2)):
            return rebuilt
        a, b = rebuilt.operands
        matrix, transposed = (node.operands[0], False) if id(node.operands[0]) in inverses else \
            (transposed_matrix(node.operands[0]), True)
        if matrix is None or id(matrix) not in inverses:
            return rebuilt
        inverse = Operation("inv", [matrix])  # interned: the program's own inverse node
        return _product(inverse, transposed, b)

    return transform(roots, rule)


def _product(inverse, transposed: bool, b):
    """``A⁻¹ b`` (``A⁻ᵀ b`` when ``transposed``) as one contraction."""
    n = inverse.shape[0]
    rows = (1, 0) if transposed else (0, 1)
    if b.ndim == 1:
        return Contraction([inverse, b], [rows, (1,)], (0,), {0: n, 1: n})
    return Contraction([inverse, b], [rows, (1, 2)], (0, 2), {0: n, 1: n, 2: b.shape[1]})
