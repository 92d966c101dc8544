"""The gradient with respect to a structured (symmetric or diagonal) variable: the reverse
sweep's gradient projected under one stated convention (see
:mod:`tensorcalc.expression.structured`).
"""

from __future__ import annotations

from ..errors import DifferentiationError
from ..expression.nodes import Contraction, Delta, Operation, Sum, Var
from ..expression.structured import canonical, is_structured
from .simplify import simplify as simplify_expr

CONVENTIONS = ("symmetric", "cookbook")


def project_all(results: list, variables: list, n_extra: int, convention: str,
                simplified: bool = True) -> list:
    """:func:`project` each result onto its variable's structure (the hook of ``grad``)."""
    if convention not in CONVENTIONS:
        raise DifferentiationError(f"grad: convention must be one of {CONVENTIONS}, not "
                                   f"{convention!r}")
    return [project(r, v, n_extra, convention, simplified) for r, v in zip(results, variables)]


def project(gradient, wrt, n_extra: int, convention: str, simplified: bool = True):
    """The derivative with respect to a structured ``wrt`` under ``convention`` (see above);
    ``gradient`` has ``n_extra`` leading axes before ``wrt``'s two."""
    simplify = simplify_expr if simplified else (lambda e: e)
    structure = getattr(wrt, "structure", None)
    if structure is None:
        return gradient
    extra = tuple(range(n_extra))
    i, j = n_extra, n_extra + 1
    sizes = dict(zip(extra + (i, j), gradient.shape))
    diagonal = Contraction([gradient, Delta(wrt.shape[0])], [extra + (i, j), (i, j)],
                           extra + (i, j), sizes)
    if structure == "diagonal":
        return simplify(diagonal)
    transposed = Contraction([gradient], [extra + (j, i)], extra + (i, j), sizes)
    if convention == "symmetric":
        if not extra and is_symmetric(gradient, {}):
            return gradient  # sym(G) = G: Σ⁻¹ − Σ⁻¹XᵀXΣ⁻¹ needs no (G + Gᵀ)/2 computed
        return simplify(0.5 * (gradient + transposed))
    return simplify(gradient + transposed - diagonal)


def is_symmetric(node, memo: dict) -> bool:
    """``node`` is a square matrix equal to its transpose by its structure: a structured
    variable or a symmetric matrix's inverse (:func:`~tensorcalc.expression.structured.
    is_structured`), δ, a sum of such matrices, or a product equal to its own transpose once
    each such operand's two indices are put in order (``U Uᵀ``, ``A S Aᵀ``, ``c S⁻¹``).
    ``memo``: id → answer, for the nodes seen in one query."""
    if id(node) in memo:
        return memo[id(node)]
    memo[id(node)] = False  # while it is being answered
    answer = False
    if node.ndim == 2 and node.shape[0] == node.shape[1]:
        if isinstance(node, (Var, Operation)):
            answer = is_structured(node)
        elif isinstance(node, Delta):
            answer = True
        elif isinstance(node, Sum):
            answer = all(is_symmetric(term, memo) for term in node.terms)
        elif isinstance(node, Contraction):
            def symmetric(operand):
                return is_symmetric(operand, memo)

            flipped = Contraction(node.operands, node.indices, node.output[::-1],
                                  dict(enumerate(node.sizes)))
            answer = canonical(flipped, symmetric) is canonical(node, symmetric)
    memo[id(node)] = answer
    return answer
