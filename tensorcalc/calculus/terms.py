"""Small structural facts about terms, used by the simplifier and its rewrites: the zero and
filled tensors, a term's constant value, structural zeros."""

from __future__ import annotations

from ..expression.nodes import Const, Contraction, Expr


def zeros(shape: tuple) -> Expr:
    """The zero tensor of ``shape`` (a broadcast scalar 0: nothing is materialized)."""
    shape = tuple(shape)
    return Contraction((Const(0.0),), ((),), range(len(shape)), dict(enumerate(shape)))


def filled(value: float, shape: tuple) -> Expr:
    """A constant ``value`` broadcast to ``shape``."""
    if not shape:
        return Const(value)
    return Contraction((Const(value),), ((),), range(len(shape)), dict(enumerate(shape)))


def constant_value(expr: Expr):
    """The value of a constant or of a broadcast scalar constant, else ``None``."""
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Contraction) and len(expr.operands) == 1 and expr.indices == ((),) \
            and isinstance(expr.operands[0], Const) and expr.operands[0].value.ndim == 0 \
            and len(expr.sizes) == len(expr.output):
        return expr.operands[0].value
    return None


def is_zero(expr: Expr) -> bool:
    """True when ``expr`` is structurally zero (a zero constant, or a product with one)."""
    if isinstance(expr, Const):
        return not expr.value.any()
    if isinstance(expr, Contraction):
        return any(isinstance(op, Const) and not op.value.any() for op in expr.operands)
    return False
