"""How the indexing rows read (registered into the spelling tables of
:mod:`tensorcalc.notation.operation_spellings`): the key in numpy's form after the operand,
``X[:, 1:3]``, ``x[::-1]``, ``X[[0, 2]]``; a scatter reads ``scatter(G → [:, 1:3] of (3, 4))``.
The text language has no slicing yet, so ``to_text`` refuses these nodes by name.

>>> import tensorcalc as tc
>>> X = tc.var("X", (3, 4))
>>> print(X[1:, ::2], "|", tc.latex(X[0]))
X[1:, ::2]_ij | X\\left[0\\right]
"""

from __future__ import annotations

from ..expression.indexing import key_parts, selected_shape  # noqa: F401 - the rows spelled here
from .operation_spellings import _matrix_text, _no_text, register_spellings
from .printers.spell import ADD, ATOM
from .printing import _subscript


def _slice_text(start, stop, step, size=None) -> str:
    """``start:stop:step`` as numpy users write it: a start at the end it begins from left out
    (``::-1`` rather than ``4::-1``, which reads the same only at size 5)."""
    from_the_end = step < 0 and size is not None and start == size - 1
    first = "" if (step > 0 and start == 0) or from_the_end else str(start)
    last = "" if stop is None else str(stop)
    return f"{first}:{last}" + ("" if step == 1 else f":{step}")


def _sliced_sizes(entries, shape) -> list:
    """The size of the axis each slice entry slices (``None`` where ``shape`` is unknown)."""
    if shape is None:
        return [None] * len(entries)
    indexed = [e for e in entries if e[0] != "n"]
    sizes = list(shape)[len(shape) - len(indexed):]
    return [size for e, size in zip(indexed, sizes) if e[0] == "s"]


def key_text(entries, shape=None) -> str:
    """The numpy key of ``entries`` on an operand of ``shape``: ``1:3, ::-1, None, [0, 2]``.

    >>> key_text((("s", 4, None, -1), ("i", 2)), (3, 5, 4))
    '::-1, 2'
    """
    sizes = iter(_sliced_sizes(entries, shape))
    parts = key_parts(entries, lambda start, stop, step: _slice_text(start, stop, step, next(sizes)))
    while parts and parts[-1] == ":":
        parts.pop()
    return ", ".join(parts) if parts else "..."


def _take_index(node, names, namer, fmt):
    inner = _matrix_text(node.operands[0], namer, fmt)
    return f"{inner}[{key_text(node.param, node.operands[0].shape)}]" + _subscript(names), "atom"


def _take_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    if notation == "text":
        _no_text("x[…] (indexing)")
    inner, key = wrap(record.args[0], ATOM), key_text(record.param, record.args[0].shape)
    if notation == "latex":
        return f"{inner}\\left[{key}\\right]", ATOM
    return f"{inner}[{key}]", ATOM


def _scatter_words(entries, target):
    return f"[{key_text(entries, target)}] of {tuple(target)}"


def _scatter_index(node, names, namer, fmt):
    inner = _matrix_text(node.operands[0], namer, fmt, bare=True)
    return f"scatter({inner} → {_scatter_words(*node.param)})" + _subscript(names), "atom"


def _scatter_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    if notation == "text":
        _no_text("scatter(…) (an indexing adjoint)")
    inner = wrap(record.args[0], ADD)
    if notation == "latex":
        return (f"\\operatorname{{scatter}}\\left({inner} \\to "
                f"{_scatter_words(*record.param)}\\right)"), ATOM
    return f"scatter({inner} → {_scatter_words(*record.param)})", ATOM


def _concatenate_index(node, names, namer, fmt):
    inner = ", ".join(_matrix_text(op, namer, fmt, bare=True) for op in node.operands)
    return f"concatenate([{inner}], axis={node.param})" + _subscript(names), "atom"


def _concatenate_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    if notation == "text":
        _no_text("concatenate(…)")
    inner = ", ".join(wrap(arg, ADD) for arg in record.args)
    if notation == "latex":
        return f"\\operatorname{{concatenate}}\\left([{inner}], {record.param}\\right)", ATOM
    return f"concatenate([{inner}], axis={record.param})", ATOM


register_spellings("take", _take_index, _take_spell)
register_spellings("scatter", _scatter_index, _scatter_spell)
register_spellings("concatenate", _concatenate_index, _concatenate_spell)
