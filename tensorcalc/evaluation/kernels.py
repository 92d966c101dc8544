"""Einsum kernels: plan a contraction once with opt_einsum, then run it with little overhead.

>>> import numpy as np
>>> kernel = Kernel("ij,jk->ik", [(2, 3), (3, 4)])
>>> a, b = np.ones((2, 3)), np.ones((3, 4))
>>> bool(np.allclose(kernel(a, b), a @ b))
True

opt_einsum chooses the order of pairwise contractions (its ``dp`` optimizer,
minimizing FLOPs plus bytes written, so that a GEMM wins over a same-FLOP
outer product); each pairwise step is then precomputed down to the numpy calls
it needs:

* no shared summed index: a broadcasting multiply (Hadamard, outer, scaling);
* otherwise a batched matmul: transpose each operand to ``(batch, kept,
  summed)``, reshape to 3-d, ``np.matmul`` (BLAS), reshape and transpose back;
  one array times its own transpose (``U Uᵀ``, ``XᵀX``) runs as ``g @ g.T`` of one
  view ``g``, the spelling for which numpy calls syrk (half the FLOPs of a GEMM);
* a repeated index inside one operand (a diagonal) goes through ``np.einsum``.

``Kernel.info`` is opt_einsum's ``PathInfo``: the steps, FLOPs and largest
intermediate, printed by :attr:`tensorcalc.Program.plan`.
"""

from __future__ import annotations

import functools
import math
from typing import Sequence

import numpy as np
import opt_einsum

from ..calculus.paths import dp_is_affordable

_OPTIMIZER = opt_einsum.DynamicProgramming(minimize="combo")


def _optimizer(terms: Sequence[str]):
    return _OPTIMIZER if dp_is_affordable(terms) else "greedy"


class Kernel:
    """A callable computing ``np.einsum(equation, *operands)`` for fixed operand shapes."""

    def __init__(self, equation: str, shapes: Sequence[tuple]):
        self.equation = equation
        shapes = [tuple(s) for s in shapes]
        inputs_text, output = equation.split("->")
        inputs = inputs_text.split(",") if inputs_text else []
        self.n_operands = len(inputs)
        sizes = {}
        for term, shape in zip(inputs, shapes):
            sizes.update(zip(term, shape))
        if len(inputs) >= 2:
            path, self.info = opt_einsum.contract_path(equation, *shapes, shapes=True,
                                                       optimize=_optimizer(inputs))
        else:
            path, self.info = [(0,)] if inputs else [], None
        # walk opt_einsum's working list once: each step reads fixed registers (the operands,
        # then every step's result) and is precomputed down to its numpy calls
        terms = list(inputs)
        registers = list(range(len(inputs)))  # the register of each working-list entry
        self.steps = []  # (input registers, function)
        for n, positions in enumerate(path):
            picked = [terms[p] for p in positions]
            reads = tuple(registers[p] for p in positions)
            for p in sorted(positions, reverse=True):
                del terms[p]
                del registers[p]
            remaining = "".join(terms)
            if n == len(path) - 1:
                result = output
            else:
                keep = set(output) | set(remaining)
                result = "".join(dict.fromkeys(c for t in picked for c in t if c in keep))
            self.steps.append((reads, _step(picked, result, sizes)))
            terms.append(result)
            registers.append(len(inputs) + n)
        self.flops = self.info.opt_cost if self.info is not None else \
            max(1, math.prod(shapes[0])) if shapes else 1
        self.largest = int(self.info.largest_intermediate) if self.info is not None else \
            math.prod(sizes[c] for c in output) if output else 1

        self.function = self._direct_function()

    def _direct_function(self):
        """The cheapest callable: a single step needs no registers."""
        if len(self.steps) == 1:
            reads, step = self.steps[0]
            if reads == tuple(range(len(reads))):
                return step
            return lambda *operands: step(*[operands[r] for r in reads])
        return self.__call__

    def __call__(self, *operands):
        registers = list(operands)
        for reads, step in self.steps:
            registers.append(step(*[registers[r] for r in reads]))
        return registers[-1]


def _step(terms: list, result: str, sizes: dict):
    if len(terms) == 1:
        return _unary(terms[0], result)
    a, b = terms
    if len(set(a)) != len(a) or len(set(b)) != len(b):
        equation = f"{a},{b}->{result}"
        return lambda x, y: np.einsum(equation, x, y)
    # indices only one operand carries and the result drops: sum them first
    a_only = [c for c in a if c not in b and c not in result]
    b_only = [c for c in b if c not in a and c not in result]
    pre_a = _unary(a, "".join(c for c in a if c not in a_only)) if a_only else None
    pre_b = _unary(b, "".join(c for c in b if c not in b_only)) if b_only else None
    a2 = "".join(c for c in a if c not in a_only)
    b2 = "".join(c for c in b if c not in b_only)
    core = _binary(a2, b2, result, sizes)
    if pre_a is None and pre_b is None:
        return core
    return lambda x, y: core(pre_a(x) if pre_a else x, pre_b(y) if pre_b else y)


def _unary(term: str, result: str):
    """One operand: a diagonal, a sum over axes, a transpose, or nothing."""
    if term == result:
        return lambda x: x
    if len(set(term)) != len(term):
        equation = f"{term}->{result}"
        return lambda x: np.einsum(equation, x)
    summed = tuple(n for n, c in enumerate(term) if c not in result)
    kept = "".join(c for c in term if c in result)
    permutation = tuple(kept.index(c) for c in result)
    identity = permutation == tuple(range(len(permutation)))
    if summed and identity:
        return lambda x: x.sum(axis=summed)
    if summed:
        return lambda x: x.sum(axis=summed).transpose(permutation)
    return lambda x: x.transpose(permutation)


def _binary(a: str, b: str, result: str, sizes: dict):
    """Two operands without repeated indices; every index of either is shared or kept."""
    summed = [c for c in a if c in b and c not in result]
    if not summed:  # Hadamard, outer, scaling: one broadcasting multiply
        a_view = _broadcast_view(a, result)
        b_view = _broadcast_view(b, result)
        return lambda x, y: np.multiply(a_view(x), b_view(y))
    batch = [c for c in a if c in b and c in result]
    a_kept = [c for c in a if c not in b]
    b_kept = [c for c in b if c not in a]
    a_perm = tuple(a.index(c) for c in batch + a_kept + summed)
    b_perm = tuple(b.index(c) for c in batch + summed + b_kept)
    n_batch = math.prod(sizes[c] for c in batch)
    n_a = math.prod(sizes[c] for c in a_kept)
    n_b = math.prod(sizes[c] for c in b_kept)
    n_sum = math.prod(sizes[c] for c in summed)
    produced = batch + a_kept + b_kept
    out_shape = tuple(sizes[c] for c in produced)
    out_perm = tuple(produced.index(c) for c in result)
    if not batch:  # plain GEMM: np.dot on 2-d views
        left = _as_matrix(a, a_perm, (n_a, n_sum), sizes)
        right = _as_matrix(b, b_perm, (n_sum, n_b), sizes)
        finish = _from_matrix((n_a, n_b), out_shape, out_perm)
        if len(a) > 2 and _gram(a, b, summed):  # x·xᵀ over several summed axes: one syrk
            def gemm(x, y):
                if x is y:
                    g = left(x)
                    return np.dot(g, g.T)
                return np.dot(left(x), right(y))
            return gemm if finish is None else lambda x, y: finish(gemm(x, y))
        if finish is None:
            return lambda x, y: np.dot(left(x), right(y))
        return lambda x, y: finish(np.dot(left(x), right(y)))
    left = _as_matrix(a, a_perm, (n_batch, n_a, n_sum), sizes)
    right = _as_matrix(b, b_perm, (n_batch, n_sum, n_b), sizes)
    finish = _from_matrix((n_batch, n_a, n_b), out_shape, out_perm)
    if finish is None:
        return lambda x, y: np.matmul(left(x), right(y))
    return lambda x, y: finish(np.matmul(left(x), right(y)))


def _gram(a: str, b: str, summed: list) -> bool:
    """Whether ``b`` is ``a`` with its kept indices renamed in place, so that for one array
    ``x`` read as both the product is ``g @ g.T`` of one matrix view ``g`` of it, which numpy
    runs as one syrk (half the FLOPs), where the right operand's own view would be a copy.
    (Two-axis operands need nothing: ``x @ x.T`` is what the views give already.)"""
    return len(a) == len(b) and all((p == q and p in summed) or (p not in b and q not in a)
                                    for p, q in zip(a, b))


def _as_matrix(term: str, permutation: tuple, shape: tuple, sizes: dict):
    """A function viewing an operand as the 2-d (or batched 3-d) matrix matmul needs."""
    identity = permutation == tuple(range(len(permutation)))
    permuted = tuple(sizes[term[p]] for p in permutation)
    if identity and permuted == shape:
        return lambda x: x
    if permutation == (1, 0) and permuted == shape:
        return lambda x: x.T
    if identity:
        return lambda x: x.reshape(shape)
    return lambda x: x.transpose(permutation).reshape(shape)


def _from_matrix(matrix_shape: tuple, shape: tuple, permutation: tuple):
    """The function laying a matmul result out as the step's output (``None``: as it is)."""
    identity = permutation == tuple(range(len(permutation)))
    if matrix_shape == shape and identity:
        return None
    if matrix_shape == shape and permutation == (1, 0):
        return lambda z: z.T
    if identity:
        return lambda z: z.reshape(shape)
    return lambda z: z.reshape(shape).transpose(permutation)


def _broadcast_view(term: str, result: str):
    """A view of an operand with axes in ``result`` order and size-1 axes for missing ones."""
    order = [c for c in result if c in term]
    permutation = tuple(term.index(c) for c in order)
    shape_mask = [c in term for c in result]
    if permutation == tuple(range(len(term))) and all(shape_mask[len(result) - len(term):]) \
            and order == list(result[len(result) - len(term):]):
        return lambda x: x  # numpy's own right-aligned broadcasting already fits
    expand = tuple(n for n, present in enumerate(shape_mask) if not present)

    def view(x):
        x = x.transpose(permutation)
        return np.expand_dims(x, expand) if expand else x

    return view


@functools.lru_cache(maxsize=4096)
def _cached_kernel(equation: str, shapes: tuple) -> Kernel:
    return Kernel(equation, shapes)


def kernel_for(equation: str, shapes: Sequence[tuple]) -> Kernel:
    """The :class:`Kernel` for ``equation`` at ``shapes``, shared: a kernel holds no arrays
    and no state between calls, and a deep program repeats a few patterns thousands of times
    (each planned once instead of once per step).

    >>> kernel_for("ij,jk->ik", [(2, 3), (3, 4)]) is kernel_for("ij,jk->ik", ((2, 3), (3, 4)))
    True
    """
    return _cached_kernel(equation, tuple(tuple(s) for s in shapes))
