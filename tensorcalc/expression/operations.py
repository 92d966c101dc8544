"""The table of matrix operations: one row per operation, as :mod:`tensorcalc.expression.functions` is
for elementwise functions.

>>> import numpy as np, tensorcalc as tc
>>> X = tc.var("X", ("n", "n"))
>>> print(tc.grad(tc.logdet(X), X))
∂log|X|/∂X_ij = X⁻¹_ji
>>> print(tc.matrix_notation(tc.grad(tc.det(X), X)))
det(X) X⁻ᵀ
>>> float(tc.evaluate(tc.logdet(X), X=2 * np.eye(3)))  # log 8
2.0794415416798357

A row (:class:`OperationRow`) holds what the expression layer knows about an
operation: its shape rule (a :class:`~tensorcalc.errors.ShapeError` naming the
operation and the sizes) and how numpy computes it (``solve`` and ``slogdet``
rather than ``inv`` and ``det`` where possible; leading axes are a batch).  The
node type is :class:`~tensorcalc.expression.nodes.Operation`.  Each layer above
keeps its own table keyed by the operation's name, filled where its rules are
written:

* the rows and their public constructors: :mod:`~tensorcalc.expression.linalg`
  (``inv``, ``det``, ``logdet``, ``solve``, …), :mod:`~tensorcalc.expression.reductions`
  (``logsumexp``, ``softmax``, ``max``, ``min``, norms), :mod:`~tensorcalc.expression.pairwise`
  (``maximum``, ``minimum``, ``power``) and :mod:`~tensorcalc.expression.layout`
  (``reshape``, ``vec``, ``kron``);
* vector-Jacobian products *as expressions* (so derivatives print, simplify, nest and compile
  like any other) and the exact rewrites: :mod:`tensorcalc.calculus.operation_rules` and
  :mod:`tensorcalc.calculus.operation_rewrites`;
* spellings in index notation, matrix notation, LaTeX and parseable text:
  :mod:`tensorcalc.notation.operation_spellings`;
* numpy source for :func:`tensorcalc.codegen`: :mod:`tensorcalc.evaluation.operation_sources`.

A singular matrix at evaluation raises :class:`SingularMatrixError`, naming the operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import FunctionTableError, ShapeError


@dataclass(frozen=True)
class OperationRow:
    """One row of the operation table.

    * ``shape(shapes, param)`` → the result's shape (a ``ShapeError`` otherwise);
    * ``numpy(arrays, param)`` → the value.
    """

    name: str
    shape: Callable
    numpy: Callable

    def runner(self, param):
        """The evaluation step: a function of the operands' arrays."""
        function = self.numpy
        return lambda *arrays: function(arrays, param)


OPERATIONS: dict = {}


def operation_shape(name: str, operands, param) -> tuple:
    return OPERATIONS[name].shape(tuple(op.shape for op in operands), param)


def register_operation(name: str, shape: Callable, numpy: Callable) -> OperationRow:
    """Add the row ``name`` to :data:`OPERATIONS` (the family modules call this at import)."""
    row = OperationRow(name, shape, numpy)
    OPERATIONS[name] = row
    return row


# ---------------------------------------------------------------------------
# Shape rules shared by the families


def square(name: str, shape: tuple) -> tuple:
    """The batch axes of a (stack of) square matrices; a ``ShapeError`` naming ``name`` otherwise."""
    if len(shape) < 2:
        raise ShapeError(f"{name}: needs a square matrix (or a stack of them in the last two "
                         f"axes), got shape {shape}")
    if shape[-1] != shape[-2]:
        raise ShapeError(f"{name}: needs a square matrix, got shape {shape}: axis -2 has size "
                         f"{shape[-2]} and axis -1 has size {shape[-1]}")
    return shape[:-2]


def kept(shape, axes) -> tuple:
    """``shape`` without the reduced ``axes``."""
    return tuple(d for a, d in enumerate(shape) if a not in axes)


def same_shapes(name: str):
    """The shape rule of an entrywise operation of two operands of one shape."""
    def shape(shapes, param):
        if shapes[0] != shapes[1]:
            raise ShapeError(f"{name}: operand shapes {shapes[0]} and {shapes[1]} differ")
        return shapes[0]
    return shape


def fixed_size(name: str, shape, what: str = "operand") -> int:
    """The number of entries of ``shape``, which must have no named dimension."""
    named = [d for d in shape if not isinstance(d, int)]
    if named:
        raise ShapeError(f"{name}: needs fixed sizes, but the {what} has shape {shape} with the "
                         f"named dimension {named[0]!r}; bind it to a number in tc.var")
    return int(np.prod(shape, dtype=np.int64)) if shape else 1


def known_operation(name: str, where: str) -> str:
    """``name`` when it is a row of :data:`OPERATIONS`; a ``FunctionTableError`` naming ``where``
    (the higher layers' ``register`` functions) otherwise."""
    if name not in OPERATIONS:
        raise FunctionTableError(f"{where}: {name!r} is not a row of the operation table; the "
                                 f"rows are {sorted(OPERATIONS)}")
    return name
