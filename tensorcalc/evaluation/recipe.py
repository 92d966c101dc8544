"""How one contraction node is computed: its deltas merged, its output laid out.

A :class:`~tensorcalc.expression.nodes.Contraction` may hold Kronecker deltas, scalar
constants, summed indices that no operand carries (size factors) and output
indices that no operand carries (broadcasts).  Its :class:`Recipe` reduces all
that to one plain einsum over the other operands and says how to lay the
einsum's result out:

* a δ tying two indices merges them (union–find) before the einsum, so no dense
  identity matrix is ever built;
* a δ whose two indices are both free leaves a repeated output index: the
  result is written onto the diagonal of a zero array through a writeable
  einsum view (numpy cannot write ``i->ii``);
* scalar constants multiply into ``coefficient``, and summed indices nothing
  carries multiply by their sizes (``scale_dims``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import opt_einsum

from ..expression.nodes import Const, Contraction, Delta

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _letter(n: int) -> str:
    return _LETTERS[n] if n < len(_LETTERS) else opt_einsum.get_symbol(n)


# ---------------------------------------------------------------------------
# Contraction recipes: the einsum a contraction node runs, with its deltas merged.


@dataclass(frozen=True)
class Recipe:
    """How one contraction node is computed.

    ``equation`` runs over ``operands`` (positions in the node's operand list,
    deltas and scalar constants left out: those multiply into ``coefficient``); ``scale_dims`` are the sizes of summed indices no operand
    carries; the einsum's output is then laid out by ``layout`` (an einsum that
    writes it onto the diagonal of ``zeros(shape)``), or broadcast by
    ``broadcast_shape`` positions, to the node's shape.
    """

    operands: tuple
    equation: str
    scale_dims: tuple
    unique_output: tuple  # roots in the einsum output order
    output_roots: tuple  # root per output axis (may repeat)
    carried: frozenset  # roots some operand carries
    coefficient: complex = 1.0  # the product of the scalar constants among the operands


def contraction_recipe(node: Contraction) -> Recipe:
    parent = list(range(len(node.sizes)))

    def root(label):
        while parent[label] != label:
            parent[label] = parent[parent[label]]
            label = parent[label]
        return label

    operands = []
    coefficient = 1.0
    for position, (op, ix) in enumerate(zip(node.operands, node.indices)):
        if isinstance(op, Const) and op.value.ndim == 0:
            coefficient = coefficient * op.value.item()  # Python: weak
        elif isinstance(op, Delta):
            a, b = root(ix[0]), root(ix[1])
            if a != b:
                parent[max(a, b)] = min(a, b)
        else:
            operands.append(position)
    carried = frozenset(root(l) for p in operands for l in node.indices[p])
    output_roots = tuple(root(l) for l in node.output)
    unique_output = tuple(dict.fromkeys(r for r in output_roots if r in carried))
    all_roots = {root(l) for l in range(len(node.sizes))}
    scale_dims = tuple(node.sizes[r] for r in sorted(all_roots - carried - set(output_roots)))
    equation = ",".join("".join(_letter(root(l)) for l in node.indices[p]) for p in operands) \
        + "->" + "".join(_letter(r) for r in unique_output)
    return Recipe(tuple(operands), equation, scale_dims, unique_output, output_roots, carried,
                  coefficient)


def size_of(dim, bindings) -> int:
    """A dimension's size: itself when a number, its binding when a name."""
    return dim if isinstance(dim, int) else bindings[dim]


def layout(result: np.ndarray, recipe: Recipe, node: Contraction, bindings) -> np.ndarray:
    """Place the einsum's output: broadcast over uncarried indices, diagonals for repeats."""
    shape = tuple(size_of(d, bindings) for d in node.shape)
    roots = recipe.output_roots
    if len(set(roots)) == len(roots):
        if len(recipe.unique_output) == len(roots):
            return result
        expanded = np.reshape(result, [size_of(node.sizes[r], bindings) if r in recipe.carried else 1
                                       for r in roots])
        return np.broadcast_to(expanded, shape)
    full = np.zeros(shape, dtype=np.result_type(result))
    unique = tuple(dict.fromkeys(roots))
    diagonal = np.einsum("".join(_letter(r) for r in roots) + "->" + "".join(_letter(r) for r in unique),
                         full)
    expanded_shape = [result.shape[recipe.unique_output.index(r)] if r in recipe.carried else 1
                      for r in unique]
    diagonal[...] = np.reshape(result, expanded_shape)
    return full


def scaled_operand(operands: list, sizes: list, result_size: int):
    """Which operand of a contraction takes its constant factor: the smallest, when it is
    smaller than the result, else ``None`` (the result).  Never one that is read twice: a
    scaled copy of ``A`` turns ``A @ A.T``, which numpy runs as one syrk (half the FLOPs of a
    general product), into a general product of two arrays.

    >>> a, b = object(), object()
    >>> scaled_operand([a, b], [10, 20], 200), scaled_operand([a, a], [10, 10], 200)
    (0, None)
    """
    once = [n for n, operand in enumerate(operands)
            if sum(other is operand for other in operands) == 1]
    smallest = min(once, key=sizes.__getitem__, default=None)
    return smallest if smallest is not None and sizes[smallest] < result_size else None

