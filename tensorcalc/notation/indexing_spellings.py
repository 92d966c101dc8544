"""How the indexing rows read (registered into the spelling tables of
:mod:`tensorcalc.notation.operation_spellings`): the key in numpy's form after the operand,
``X[:, 1:3]``, ``x[::-1]``, ``X[[0, 2]]``; a scatter reads ``scatter(G → [:, 1:3] of (3, 4))``.
In the text language a ``take`` reads as MATLAB indexes (``X(:, 2:3)``, ``x(end:-1:1)``, 1-based,
see :mod:`~tensorcalc.notation.text_indexing`); ``scatter`` and ``concatenate`` have no text form.

>>> import tensorcalc as tc
>>> X = tc.var("X", (3, 4))
>>> print(X[1:, ::2], "|", tc.latex(X[0]), "|", tc.to_text(X[1:, ::2]), "|", tc.to_text(X[0]))
X[1:, ::2]_ij | X\\left[0\\right] | X(2:end, 1:2:3) | X(1, :)'
"""

from __future__ import annotations

from ..expression.indexing import indexed_count, key_parts, selected_shape  # noqa: F401 - the rows spelled here
from .operation_spellings import _matrix_text, _no_text, register_spellings
from .printers.records import Symbol
from .printers.spell import ADD, ATOM, POSTFIX
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


def _matlab_slice(start, stop, step, size) -> str:
    """A slice as a MATLAB range: 1-based, both ends included, ``end`` for the last entry."""
    entries = range(start, size if stop is None and step > 0 else -1 if stop is None else stop, step)
    if not entries:
        _no_text(f"the empty slice {_slice_text(start, stop, step, size)} (selecting nothing)")
    if step == 1 and len(entries) == size:
        return ":"
    first, last = (str(n + 1) if n + 1 != size else "end" for n in (entries[0], entries[-1]))
    return f"{first}:{last}" if step == 1 else f"{first}:{step}:{last}"


def _matlab_key(entries, shape) -> str:
    """The key of ``entries`` in the text language: ``2, :``, ``end:-1:1``, ``[1, 3], 2``."""
    if len(entries) != len(shape) or any(e[0] == "n" for e in entries):
        _no_text(f"x[{key_text(entries, shape)}] (a new axis, None)")
    parts = []
    for e, size in zip(entries, shape):
        if e[0] == "i":
            parts.append("end" if e[1] + 1 == size else str(e[1] + 1))
        elif e[0] == "a":
            if not e[1]:
                _no_text("an empty index list (selecting nothing)")
            parts.append("[" + ", ".join(str(k + 1) for k in e[1]) + "]")
        else:
            parts.append(_matlab_slice(*e[1:], size))
    return ", ".join(parts)


def _sizes_sure(operand, record) -> bool:
    """Whether the operand's printed shape is the node's: a variable's always; a printed form's
    when its sizes select exactly the take's result (a product starting with a row prints with
    fewer axes than its node has, and a wrong size would write a wrong MATLAB index)."""
    if isinstance(operand, Symbol):
        return True
    n = indexed_count(record.param)
    shape = tuple(operand.shape)
    if len(shape) < n or not all(isinstance(d, int) for d in shape[len(shape) - n:]):
        return False
    selected = selected_shape(shape[len(shape) - n:], record.param)
    return tuple(record.shape[len(record.shape) - len(selected):]) == tuple(selected) and \
        len(record.shape) == len(shape) - n + len(selected)


def _take_text(wrap, record, transposed):
    """``X(2, :)``: MATLAB's indexing, 1-based.  ``X(i, :)`` reads as a row there, so the
    column this engine holds is ``X(i, :)'`` (and its transpose ``X(i, :)``)."""
    operand = record.args[0]
    if not _sizes_sure(operand, record):
        _no_text("an index of a printed form whose sizes the text cannot be sure of")
    inner = wrap(operand, ATOM)
    if not isinstance(operand, Symbol) and inner.isidentifier():  # eye(…) would be a call
        inner = f"({inner})"
    text = f"{inner}({_matlab_key(record.param, operand.shape)})"
    reads_as_row = len(operand.shape) == 2 and record.param[0][0] == "i" \
        and record.param[1][0] != "i"
    if reads_as_row:
        return (text, ATOM) if transposed else (text + "'", POSTFIX)
    return None if transposed else (text, ATOM)


def _take_spell(notation, wrap, record, transposed=False):
    if notation == "text":
        return _take_text(wrap, record, transposed)
    if transposed:
        return None
    # the operand's sizes shorten a reversed slice (x[::-1], not x[4::-1]) only where they are
    # sure: a variable's; a printed form's record shape can differ from its node's (a product
    # that starts with a row), and a wrong size would print a wrong key
    sure = record.args[0].shape if isinstance(record.args[0], Symbol) else None
    inner, key = wrap(record.args[0], ATOM), key_text(record.param, sure)
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
