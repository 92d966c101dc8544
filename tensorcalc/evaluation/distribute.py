"""Planning a product of a sum: factored or distributed, whichever costs less at compile time."""

from __future__ import annotations

import math

from ..calculus.paths import REPRESENTATIVE_SIZE, pair_plan
from ..calculus.simplify import _is_product, simplify_contraction
from ..expression.nodes import Const, Contraction, Delta, Expr, Sum, Var, consumer_counts, postorder, transform
from .recipe import contraction_recipe


def distribute_where_cheaper(roots: list) -> list:
    """``roots`` with each product of a sum, ``(T + U) F``, computed as ``T F + U F`` where the
    planned cost says that is cheaper.  Values are unchanged; only the plan differs (the
    printed form is the simplifier's, taken before this step).

    Dense sums: ``(A + Aᵀ) x`` — the gradient of ``xᵀAx`` as it prints — is evaluated as
    ``A x + Aᵀ x``, two matrix-vector products and no n×n temporary (materializing the sum
    writes n² elements and reads 2n²: more than both products cost), while a sum of small
    factors between two large ones, such as the logistic Hessian's ``Xᵀ diag(a + b) X``,
    stays factored (distributed, it would be two GEMMs).  A dense sum is distributed only
    where that is cheaper by more than :data:`TIE`.

    The simplifier factors shared operands out of sums (it reads better, and it is cheaper
    when the terms are dense): ``X_ki a_k X_kj + X_ki b_k X_kj`` is one contraction over
    ``(a + b)_k``.  But a term with a Kronecker δ between two of its output indices (a
    Hessian's "diagonal" term) is cheap only while the δ can still be eliminated: summed
    with a dense term first, it is written out as a dense tensor of mostly zeros, and the
    shared factors are contracted against all of it.  Distributed, the δ term's product
    merges the δ's indices (one index fewer) and is laid onto the diagonal only at the end.
    The cost compared is opt_einsum's FLOP count of each δ-merged equation plus
    :data:`MEMORY_WEIGHT` per element written (intermediates, sums, laid-out results),
    named dimensions at :data:`REPRESENTATIVE_SIZE`; within :data:`TIE` the distributed form
    wins.  A sum read by anything else is computed anyway and stays as it is.

    >>> import tensorcalc as tc
    >>> W, v, u = tc.var("W", ("n", "n")), tc.var("v", ("n",)), tc.var("u", ("n",))
    >>> dense = tc.einsum("ij,j->i", W, v) + tc.einsum("ij,j->i", W, u)  # W(v + u): factored
    >>> distribute_where_cheaper([dense])[0] is dense
    True
    """
    consumers = consumer_counts(postorder(roots))

    def rule(node, children):
        node = node.rebuild(children) if children != list(node.children) else node
        if not isinstance(node, Contraction):
            return node
        best, best_cost = node, None
        for k, op in enumerate(node.operands):
            if not isinstance(op, Sum) or consumers.get(id(op), 0) != 1 or len(op.terms) > 4:
                continue
            # a δ sum is distributed on a tie (see TIE); a dense one only where clearly cheaper,
            # counting STEP_COST for each step it adds (at tiny sizes the steps are the cost)
            dense = not any(_laid_out_delta(term) for term in op.terms)
            if dense and _size(op.shape) <= _size(node.shape):
                continue  # distributed, it writes a result per term where it saved a no larger sum
            tie = 1 / TIE if dense else TIE
            if best_cost is None:  # a term's own cost counts where distributing merges it away
                best_cost = _cost(node) + sum(
                    _cost(term) for term in op.terms if isinstance(term, Contraction)
                    and not (consumers.get(id(term), 0) > 1 and _is_product(term))) + \
                    MEMORY_WEIGHT * len(op.terms) * _size(op.shape)
            terms = []
            for term in op.terms:
                shared = consumers.get(id(term), 0) > 1 and _is_product(term)
                operands = list(node.operands)
                operands[k] = term
                terms.append(simplify_contraction(operands, node.indices, node.output, node.sizes,
                                                  {k} if shared else frozenset()))
            cost = sum(_cost(term) for term in terms) + \
                MEMORY_WEIGHT * len(terms) * _size(node.shape)
            if dense:
                cost += STEP_COST * (len(terms) - 1)
            if cost <= tie * best_cost:
                best, best_cost = Sum(terms), cost
        return best

    return transform(list(roots), rule)


MEMORY_WEIGHT = 16  # FLOPs an element written costs, about: a GEMM's FLOP is much cheaper
# FLOPs a step costs, about (a numpy call's fixed cost, ~1 µs): distributing a dense sum adds
# a product per term, which only pays where the sum it saves is large.
STEP_COST = 2000
# Within this factor the distributed form is taken.  With every named dimension at one
# representative size the two forms often cost the same (the MLP Hessian's (h, d, h, B) and
# (h, d, h, d) look alike), but distributed the kernel planner still sees the real sizes at
# the first call and can pick the factored order for the dense term, where a factored sum
# fixes it; the δ term only gets cheaper.  Measured (2026-12-02, numpy backend): the MLP
# Hessian in W₁ 3.2–9× faster distributed at widths 8–64 (benchmarks/hessians.py).
TIE = 1.05


def _laid_out_delta(term: Expr) -> bool:
    """A product with a δ between two output indices: written onto a diagonal."""
    return isinstance(term, Contraction) and any(
        isinstance(op, Delta) and all(label in term.output for label in ix)
        for op, ix in zip(term.operands, term.indices))


def _representative(shape) -> tuple:
    return tuple(dim if isinstance(dim, int) else REPRESENTATIVE_SIZE for dim in shape)


def _size(shape) -> int:
    return math.prod(_representative(shape))


def _cost(node: Expr) -> float:
    """What computing ``node`` from its operands costs (its own step): FLOPs, and
    :data:`MEMORY_WEIGHT` per element it writes."""
    if isinstance(node, (Var, Const, Delta)):
        return 0.0
    written = _size(node.shape)
    if not isinstance(node, Contraction):
        return float(MEMORY_WEIGHT * written * (1 + len(node.children)))
    recipe = contraction_recipe(node)
    terms = recipe.equation.split("->")[0].split(",") if recipe.operands else []
    if len(terms) < 2:
        return float(MEMORY_WEIGHT * written)
    shapes = tuple(_representative(tuple(node.sizes[label] for label in node.indices[p]))
                   for p in recipe.operands)
    _, flops, intermediates = pair_plan(recipe.equation, shapes)
    laid_out = len(recipe.unique_output) != len(recipe.output_roots)
    return float(flops + MEMORY_WEIGHT * (sum(intermediates) + (written if laid_out else 0)))
