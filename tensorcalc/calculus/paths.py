"""Contraction paths, planned with opt_einsum: shared by :mod:`binarize <tensorcalc.calculus.optimize>`
(which splits N-operand einsums along their path before differentiating) and by the evaluation
layer's kernels and cost model.
"""

from __future__ import annotations

import functools
from typing import Sequence

import opt_einsum

REPRESENTATIVE_SIZE = 64  # stands in for a named dimension when choosing a path


def dp_is_affordable(terms: Sequence[str]) -> bool:
    """Whether opt_einsum's dynamic programming optimizer finishes quickly on these terms.

    Its cost grows with the number of *connected* subsets of operands: modest for
    chains and trees (an index in at most two operands) even at 16 operands, but
    2ⁿ when one index is shared by all of them (``i,i,…,i->``: 0.8 s at 12
    operands).  Past the budget the greedy optimizer plans in microseconds.
    """
    if len(terms) <= 8:
        return True
    if len(terms) > 16:
        return False
    counts: dict = {}
    for term in terms:
        for letter in set(term):
            counts[letter] = counts.get(letter, 0) + 1
    return max(counts.values(), default=0) <= 2


@functools.lru_cache(maxsize=4096)
def pair_plan(equation: str, shapes: tuple) -> tuple:
    """``(path, FLOPs, intermediate sizes)``: opt_einsum's pairwise plan for ``equation`` at
    ``shapes`` (dp where affordable: it is 2ⁿ on i,i,…,i->), remembered: a deep program
    repeats a few patterns many times."""
    terms = equation.split("->")[0].split(",")
    optimizer = "dp" if dp_is_affordable(terms) else "greedy"
    path, info = opt_einsum.contract_path(equation, *shapes, shapes=True, optimize=optimizer)
    return tuple(tuple(step) for step in path), info.opt_cost, tuple(info.size_list)
