"""How the product, scan and sorting rows read (registered into the spelling tables of
:mod:`tensorcalc.notation.operation_spellings`): ``prod(X)``, ``prod_j(X_ij)`` in index notation,
``cumsum(x)``, ``cumprod(X, axis=0)``, ``sort(x)``, ``partition(x, 2)``; the derivatives' helpers
read ``prod_others(x)`` (Π of the other entries), ``prod_others_jvp(x, t)``,
``cumprod_vjp(x, G)``, ``scan(a, b)`` (h_i = a_i h_{i−1} + b_i), ``shift(x, fill=1)``,
``G[argsort(x)]`` and ``scatter(G → argsort(x))``.  An axis is named when
the operand has more than one; the text language reads ``prod``, ``cumsum``, ``cumprod`` and
``sort`` of a vector (and ``prod`` of anything), so ``to_text`` refuses the rest by name.

>>> import tensorcalc as tc
>>> x, X = tc.var("x", (3,)), tc.var("X", (2, 3))
>>> print(tc.cumsum(x), "|", tc.matrix_notation(tc.cumprod(X, axis=0)), "|", tc.to_text(tc.sort(x)))
cumsum(x)_i | cumprod(X, axis=0) | sort(x)
>>> print(tc.matrix_notation(tc.grad(tc.prod(x), x)), "|", tc.latex(tc.prod(X)))
prod_others(x) | \\prod\\left(X\\right)
"""

from __future__ import annotations

from ..expression import scans  # noqa: F401 - the rows spelled here
from .operation_spellings import (_matrix_text, _no_text, _reduction_index, _reduction_spell,
                                  _spell_call, register_spellings)
from .printers.spell import ADD, ATOM
from .printing import _subscript

_TEXT = {"cumsum", "cumprod", "sort"}  # the text language's names (of a vector, forward)


def _axis_words(axis, ndim):
    """``axis=0`` (counted from the front, as numpy users write it), or nothing for a vector."""
    return [] if ndim == 1 else [f"axis={axis + ndim}"]


def _details(name, param, ndim):
    """The words after the operand: the axis, ``reverse=True``, partition's ``kth``."""
    if name in ("cumsum", "cumprod", "cumprod_vjp", "scan", "shift"):
        axis, reverse = param[:2]
        fill = [f"fill={param[2]:g}"] if name == "shift" and param[2] != 0 else []
        return _axis_words(axis, ndim) + (["reverse=True"] if reverse else []) + fill
    if name in ("sort", "partition"):
        axis, kth = param
        return ([] if kth is None else [str(kth)]) + _axis_words(axis, ndim)
    return _axis_words(param, ndim)  # prod_others, prod_others_jvp


def _call_form(name):
    """``name(x, …)`` for a row of one operand, ``name(x, t, …)`` for a helper of two."""
    def index(node, names, namer, fmt):
        texts = [_matrix_text(op, namer, fmt, bare=True) for op in node.operands]
        texts += _details(name, node.param, node.operands[0].ndim)
        return f"{name}({', '.join(texts)})" + _subscript(names), "atom"

    def spell(notation, wrap, record, transposed=False):
        if transposed:
            return None
        words = _details(name, record.param, len(record.args[0].shape))
        if notation == "text" and (name not in _TEXT or words):
            _no_text(f"{name}(…)" + (f" with {', '.join(words)}" if words else ""))
        texts = [wrap(arg, ADD) for arg in record.args] + words
        return _spell_call(notation, f"\\operatorname{{{name}}}", name, texts), ATOM
    return index, spell


def _order_words(param, x_text):
    axis, kth = param
    return f"argsort({x_text})" if kth is None else f"argpartition({x_text}, {kth})"


def _moved_index(scatter):
    def index(node, names, namer, fmt):
        x, t = (_matrix_text(op, namer, fmt, bare=True) for op in node.operands)
        order = _order_words(node.param, x)
        text = f"scatter({t} → {order})" if scatter else f"{t}[{order}]"
        return text + _subscript(names), "atom"
    return index


def _moved_spell(scatter):
    def spell(notation, wrap, record, transposed=False):
        if transposed:
            return None
        if notation == "text":
            _no_text("a permutation by argsort (a sort's adjoint)")
        x, t = record.args
        order = _order_words(record.param, wrap(x, ADD))
        arrow = " \\to " if notation == "latex" else " → "
        if scatter:
            return _spell_call(notation, "\\operatorname{scatter}", "scatter",
                               [wrap(t, ADD) + arrow + order]), ATOM
        if notation == "latex":
            return f"{wrap(t, ATOM)}\\left[{order}\\right]", ATOM
        return f"{wrap(t, ATOM)}[{order}]", ATOM
    return spell


register_spellings("prod", _reduction_index("prod"), _reduction_spell("prod", "\\prod", "prod"))
for _name in ("prod_others", "prod_others_jvp", "cumsum", "cumprod", "cumprod_vjp", "scan",
              "shift", "sort", "partition"):
    register_spellings(_name, *_call_form(_name))
for _kind in ("sort", "partition"):
    register_spellings(f"{_kind}_gather", _moved_index(False), _moved_spell(False))
    register_spellings(f"{_kind}_scatter", _moved_index(True), _moved_spell(True))
