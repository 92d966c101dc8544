"""The step functions a :class:`~tensorcalc.evaluation.program.Program` runs: elementwise
rows, sums (accumulated in place where that is safe) and the finishing of outputs."""

from __future__ import annotations

import math

import numpy as np

from ..expression.nodes import Const, Contraction, Delta, Sum
from .kernels import kernel_for
from .recipe import _letter, layout, scaled_operand, size_of


def _elementwise(function, param, x):
    return function(x, param)


def _scaling(term, recipe):
    """``(operand, c)`` when ``term`` is ``c`` times one operand read as is, else ``None``."""
    if recipe is None or not isinstance(term, Contraction) or len(term.operands) != 2:
        return None
    first, second = term.operands
    if not (isinstance(first, Const) and first.value.ndim == 0) or isinstance(second, (Const, Delta)):
        return None
    if term.indices[1] != term.output or len(term.sizes) != len(term.output):
        return None
    return second, first.value.item()


def _sum_function(coefficients: list, constant, shape: tuple, dtype, reuse=None):
    """A function adding its arguments times ``coefficients`` plus ``constant``.

    With ``reuse``, the argument at that position is a temporary no one else reads: when it
    is a whole array of the result's shape and dtype (not a view) and no other argument
    shares its memory, the sum is accumulated into it, saving the allocation (and the page
    faults) of a new result."""
    def run(*arrays):
        if reuse is not None and coefficients[reuse] == 1 and len(arrays) >= 2:
            total = arrays[reuse]
            if total.base is None and total.flags.writeable and total.shape == shape and \
                    total.dtype == np.result_type(*arrays, constant) and \
                    not any(np.may_share_memory(total, array)  # a view of it: Pᵀ in P + Pᵀ
                            for k, array in enumerate(arrays) if k != reuse):
                return _add_into(total, [(array, c) for k, (array, c) in
                                         enumerate(zip(arrays, coefficients)) if k != reuse],
                                 constant)
        if not arrays:
            return np.full(shape, constant, dtype=np.result_type(constant, dtype))
        first, c0 = arrays[0], coefficients[0]
        if len(arrays) == 1:
            if c0 == 1:
                result = first + constant
            elif c0 == -1:
                result = constant - first
            else:
                result = first * c0 + constant
            return result if result.shape == shape else np.broadcast_to(result, shape).copy()
        second, c1 = arrays[1], coefficients[1]
        if c0 == 1 and c1 == 1:
            total = first + second
        elif c0 == 1 and c1 == -1:
            total = first - second
        elif c0 == -1 and c1 == 1:
            total = second - first
        else:
            total = first * c0 + second * c1
        if total.shape != shape or not total.flags.writeable:
            total = np.broadcast_to(total, shape).copy()
        return _add_into(total, zip(arrays[2:], coefficients[2:]), constant)

    return run


def _add_into(total: np.ndarray, terms, constant) -> np.ndarray:
    """``total`` plus each ``(array, coefficient)`` of ``terms`` and ``constant``, in place."""
    for array, c in terms:
        if c == 1:
            total += array
        elif c == -1:
            total -= array
        else:
            total += array * c
    if constant:
        total += constant
    return total


def _finish(array, inputs: set, leaf: bool, returned: dict):
    """An output the caller may keep and modify: never an input, a constant, another output
    (``inputs``: the ids of the input arrays; ``returned``: id → buffer of those already handed
    out, so that each check is one lookup, not a scan: linear in the outputs) or a view of any
    of them."""
    if isinstance(array, np.generic):
        return array  # a numpy scalar already (a step summed to one): immutable, the caller's
    if type(array) is not np.ndarray:
        array = np.asarray(array)
    if array.ndim == 0:
        return array[()]  # a numpy scalar of the result's dtype, on every path
    if leaf:
        return array.copy()  # the output is an input or a constant itself
    base = array  # an identity step can hand back an input itself: walk to the owner
    while base.base is not None and isinstance(base.base, np.ndarray):
        base = base.base
    if not array.flags.writeable or not base.flags.writeable or id(base) in inputs or \
            id(base) in returned:
        array = np.array(array)
        base = array
    returned[id(base)] = base  # held here, so that its id stays its own
    return array


def contraction_function(recipe, node: Contraction, bindings: dict, shapes: list, dtype,
                         compact: bool = False):
    """The step running one contraction: its einsum along the planned path, its constant
    factor, and the layout of its output (broadcasts, diagonals).  With ``compact`` (a δ term
    its sum adds onto a diagonal, :func:`onto_diagonal_function`) the einsum's values are left
    as they are, not laid into zeros."""
    scale = float(math.prod(size_of(d, bindings) for d in recipe.scale_dims))
    coefficient = recipe.coefficient * scale
    shape = tuple(size_of(d, bindings) for d in node.shape)
    if not recipe.operands:
        value = np.full((), coefficient, dtype=np.result_type(coefficient, dtype))
        return lambda: layout(value, recipe, node, bindings)
    kernel = kernel_for(recipe.equation, shapes)
    needs_layout = not compact and (len(recipe.unique_output) != len(recipe.output_roots) or
                                     len(set(recipe.output_roots)) != len(recipe.output_roots))
    if coefficient == 1.0:
        if not needs_layout:
            return kernel.function
        return lambda *arrays: layout(kernel(*arrays), recipe, node, bindings)
    smallest = scaled_operand([node.operands[p] for p in recipe.operands],
                              [math.prod(s) for s in shapes], math.prod(shape))
    if smallest is not None:
        def run(*arrays):
            arrays = list(arrays)
            arrays[smallest] = arrays[smallest] * coefficient
            result = kernel(*arrays)
            return layout(result, recipe, node, bindings) if needs_layout else result
    else:
        def run(*arrays):
            result = kernel(*arrays) * coefficient
            return layout(result, recipe, node, bindings) if needs_layout else result
    return run


def onto_diagonal(program) -> set:
    """Ids of the δ terms (contractions whose output repeats an index: ``δ_ik D_jl``) that are
    one of the two terms of a sum with no constant, the other read as it is (coefficient 1), read
    by nothing else and not outputs: their sum adds their values onto the diagonal of the other
    term in place (the evaluator, and generated code), instead of laying them into zeros."""
    if any(isinstance(node, Const) and np.iscomplexobj(node.value) for node in program.nodes):
        return set()
    outputs = {id(output) for output in program.outputs}
    found = set()
    for node in program.nodes:
        if not isinstance(node, Sum) or id(node) in program.folded:
            continue
        terms, constant = program.sum_terms[id(node)]
        if len(terms) != 2 or constant or any(t.shape != node.shape for t, _ in terms):
            continue
        laid = [(t, c) for t, c in terms if isinstance(t, Contraction) and id(t) in program.recipes
                and program.recipes[id(t)].operands and id(t) not in program.folded and
                len(set(program.recipes[id(t)].output_roots)) != t.ndim and
                program.readers.get(id(t)) == 1 and id(t) not in outputs]
        dense = [c for t, c in terms if all(t is not u for u, _ in laid)]
        if len(laid) == 1 and dense == [1]:
            found.add(id(laid[0][0]))
    return found


def onto_diagonal_function(terms: list, position: int, recipe, reuse, bindings):
    """The step of ``dense + c · δ term`` (:func:`onto_diagonal`): the dense term's array (added
    into when the sum may reuse it, else a copy in the wider dtype) with the δ term's compact
    values, times ``c``, added onto its diagonal in place."""
    roots = recipe.output_roots
    unique = tuple(dict.fromkeys(roots))
    spec = "".join(_letter(r) for r in roots) + "->" + "".join(_letter(r) for r in unique)
    dense_at, coefficient = 1 - position, terms[position][1]

    def run(*arrays):
        dense, compact = arrays[dense_at], arrays[position]
        dtype = np.result_type(dense, compact)
        if reuse == dense_at and dense.base is None and dense.flags.writeable and \
                dense.dtype == dtype and not np.may_share_memory(dense, compact):
            total = dense
        else:
            total = np.array(dense, dtype=dtype)
        shape = [compact.shape[recipe.unique_output.index(r)] if r in recipe.carried else 1
                 for r in unique]
        values = np.reshape(compact, shape)
        np.einsum(spec, total)[...] += values if coefficient == 1 else coefficient * values
        return total
    return run
