"""The gradient with respect to a structured (symmetric or diagonal) variable: the reverse
sweep's gradient projected under one stated convention (see
:mod:`tensorcalc.expression.structured`).
"""

from __future__ import annotations

from ..errors import DifferentiationError
from ..expression.nodes import Contraction, Delta
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
        return simplify(0.5 * (gradient + transposed))
    return simplify(gradient + transposed - diagonal)
