"""The matrix dialect, step 4: the typed syntax tree → an expression."""

from __future__ import annotations

import numpy as np

from ..errors import ParseError, TensorCalcError
from ..expression import construct as c
from ..expression.nodes import Delta
from ..expression.linalg import inv
from .grammar import Binary, Call, Index, Name, Transpose, Unary, _postorder, parse_tree
from .text_indexing import build_index
from .typer import _MATRIX_FUNCTIONS, _MORE_FUNCTIONS, _NOT_FINITE, _fold, _Type, _Typer, is_function


# ---------------------------------------------------------------------------
# Step 4: typed tree -> expression


def _parse_matrix(text: str, types: dict):
    tree = parse_tree(text, lambda name: name not in types and is_function(name))
    order = _postorder(tree)
    typer = _Typer(text, order, types)
    sizes = typer.dims.resolve(typer.names)

    def shape(t: _Type) -> tuple:
        return tuple(sizes[d] for d in t.dims)

    variables = {}
    for name, t in typer.variables.items():
        options = {"symmetric": True} if types.get(name) == "symmetric matrix" else {}
        variables[name] = c.var(name, shape(t), **options)
    values: dict = {}
    for node in order:
        t = typer.types[node]
        if t.value is not None:
            values[node] = t.value
            continue
        if isinstance(node, Binary) and node.op in ("+", "-"):
            values[node] = _Terms.extend_by(values[node.left], values[node.right], node.op)
            continue
        args = [_Terms.total(values[child]) for child in node.children]
        try:
            values[node] = build_index(args[0], typer.index_keys[node]) if isinstance(node, Index) \
                else _build(node, args, [typer.types[child] for child in node.children], shape(t),
                            variables)
        except ParseError:
            raise
        except TensorCalcError as error:
            span = getattr(node, "op_span", None) or getattr(node, "name_span", None) or node.span
            raise ParseError(str(error), text, span[0], span[1]) from None
    result = _Terms.total(values[tree])
    return c.const(result) if isinstance(result, float) else result


class _Terms(list):
    """The terms of a chain of ``+`` and ``-``, added once at the end: adding them one at a
    time would copy the growing flat sum at every step.  ``shape`` is the broadcast shape so
    far, checked at each operator so that an error points at the right one."""

    shape = ()

    @staticmethod
    def extend_by(left, right, op: str) -> "_Terms":
        right = _Terms.total(right)
        if isinstance(left, _Terms):
            terms = left  # the left chain belongs to this node alone: extend it in place
        else:
            terms = _Terms([left])
            terms.shape = np.shape(left) if isinstance(left, float) else left.shape
        right_shape = np.shape(right) if isinstance(right, float) else right.shape
        terms.shape = c.broadcast_shapes("add" if op == "+" else "subtract", terms.shape, right_shape)
        terms.append(right if op == "+" else -right if isinstance(right, float) else c.scale(-1.0, right))
        return terms

    @staticmethod
    def total(value):
        return c.add(*value) if isinstance(value, _Terms) else value


def _build(node, args: list, arg_types: list, shape: tuple, variables: dict):
    if isinstance(node, Name):
        return variables[node.name] if node.name in variables else Delta(shape[0])
    if isinstance(node, Unary):
        return -args[0] if node.op == "-" else args[0]
    if isinstance(node, Transpose):
        return c.transpose(args[0]) if arg_types[0].kind == "matrix" else args[0]
    if isinstance(node, Call):
        if node.name in _MORE_FUNCTIONS:
            return _MORE_FUNCTIONS[node.name][2](args, arg_types)
        if node.name in _MATRIX_FUNCTIONS:
            return _MATRIX_FUNCTIONS[node.name][2](c.as_expr(args[0]), shape)
        return c.apply_function(node.name, args[0])
    a, b = args
    kinds = (arg_types[0].kind, arg_types[1].kind)
    if node.op in (".*", "/", "./") or (node.op == "*" and "scalar" in kinds):
        return a * b if node.op in ("*", ".*") else _divide(a, b)
    if node.op == "*":
        return c.einsum("i,j->ij", a, b) if kinds == ("column", "row") else c.matmul(a, b)
    if node.op == "^" and kinds[0] == "matrix":
        k = int(b)
        if k == 0:  # I of X's size, with X kept (its size binds, d/dX is 0): I + 0 X
            return c.add(Delta(a.shape[0]), c.scale(0.0, a))
        return _matrix_power(a, k) if k > 0 else _matrix_power(inv(a), -k)
    return c.power(a, b)


def _finite(value: float, text: str) -> float:
    """A folded constant, or an error if it is not a finite number."""
    if not np.isfinite(value):
        raise ParseError(f"{text!r} is {value} ({_NOT_FINITE}); a constant must be a finite number")
    return value


def _power(base, exponent):
    """``base ** exponent`` in the numpy dialect: a constant exponent, or a positive constant
    base (``2 ** x`` is ``exp(x log 2)``); a variable exponent of a variable base is refused,
    as in the matrix dialect, since ``exp(y log x)`` would differ from numpy for ``x < 0``."""
    if not isinstance(exponent, float) and not (isinstance(base, float) and base > 0):
        raise ParseError("power '**': needs a constant exponent, or a positive constant base; "
                         "for x ** y with x > 0 write np.exp(y * np.log(x))")
    return c.power(base, exponent)


def _divide(a, b):
    """``a / b``; dividing by a constant is a scaling (``x/2`` is ``0.5 x``, not ``x 2⁻¹``)."""
    if isinstance(b, float) and b == 0:
        raise ParseError("division '/': division by the constant 0")
    return c.product("divide", a, _fold("/", 1.0, b)) if isinstance(b, float) else c.as_expr(a) / b


def _matrix_power(x, k: int):
    """``x^k`` by repeated squaring (the squares are shared nodes); ``x^0`` is the identity."""
    result, square = None, x
    while k:
        if k & 1:
            result = square if result is None else c.matmul(result, square)
        k >>= 1
        if k:
            square = c.matmul(square, square)
    return Delta(x.shape[0]) if result is None else result
