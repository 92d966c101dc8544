"""The matrix dialect's indexing, as MATLAB users write it: ``X(2, :)``, ``X(:, 1:k)``,
``x(2:end)``, ``x(end)``, ``x(1:2:end)``, ``x(end:-1:1)``, ``X([1 3], :)``.

Indices count from 1, a range ``a:b`` (or ``a:step:b``) includes both ends, and ``end`` is the
size of the axis it indexes.  A vector takes one index, a matrix two; ``X(i, :)`` is a row (as in
MATLAB, so ``X(1, :)*y`` is a number) and ``X(:, j)`` a column.  A variable followed by ``(`` is
indexed; a known function's name followed by ``(`` stays a call.  The keys are constants (numbers
and ``end`` with ``+ - * /``), read once the sizes are known: a key other than ``:`` needs the
size of its axis as a number (``tc.parse("x(2:end)", x=(5,))``).

>>> import numpy as np, tensorcalc as tc
>>> f = tc.parse("X(end, :)*x(1:2:end)", X=(2, 5), x=(9,))
>>> X, x = np.arange(10.0).reshape(2, 5), np.arange(9.0)
>>> bool(tc.evaluate(f, X=X, x=x) == X[-1, :] @ x[0::2])
True
"""

from __future__ import annotations

from ..expression.indexing import take
from .grammar import Binary, Bracket, Colon, Index, Name, Number, Range, Unary

_ARITHMETIC = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
               "/": lambda a, b: a / b}
_KINDS = {(True, True): "matrix", (False, True): "row", (True, False): "column",
          (False, False): "scalar"}


def index_type(typer, node: Index, operand):
    """The type of ``operand(keys)``; the sizes it selects are found later, by
    :func:`resolve_indices`, once every size the text fixes is known."""
    what = _snippet(typer.text, node)
    _check_constant_keys(typer, node)
    if operand.kind == "scalar":
        raise typer.error(f"{what}: {_snippet(typer.text, node.operand)!r} is a scalar; only a "
                          "vector or a matrix is indexed", node.span)
    wanted = 2 if operand.kind == "matrix" else 1
    if len(node.keys) != wanted:
        hint = ("index it with two subscripts, X(i, j) (one subscript, MATLAB's linear indexing, "
                "is not read; vec(X) lists the entries column by column)" if wanted == 2
                else "index it with one subscript, x(i)")
        raise typer.error(f"{what}: {typer.show(node.operand, operand)} takes {wanted} "
                          f"ind{'ices' if wanted == 2 else 'ex'}; {hint}", node.span)
    keeps = tuple(isinstance(key, (Colon, Range, Bracket)) for key in node.keys)
    kind = _KINDS[keeps] if wanted == 2 else (operand.kind if keeps[0] else "scalar")
    dims = tuple(dim if isinstance(key, Colon) else typer.dims.new()
                 for key, dim in zip(node.keys, operand.dims))
    typer.pending_indices.append((node, operand, dims))
    return typer.typed(kind, tuple(d for d, keep in zip(dims, keeps) if keep))


def resolve_indices(typer) -> None:
    """Read every index's keys, in an order where each operand's sizes are known; record the
    numpy key of each in ``typer.index_keys`` and fix the sizes it selects."""
    pending = list(typer.pending_indices)
    while pending:
        ready = [entry for entry in pending if _sizes_known(typer, *entry)]
        if not ready:
            node, operand, _ = pending[0]
            name = node.operand.name if isinstance(node.operand, Name) else "x"
            raise typer.error(f"{_snippet(typer.text, node)}: the size of "
                              f"{typer.show(node.operand, operand)} is not known, and its index "
                              f"needs it; give the shape in numbers, as in tc.parse(text, {name}=(5,))",
                              node.span)
        for entry in ready:
            _resolve(typer, *entry)
            pending.remove(entry)


def build_index(operand, key: tuple):
    """``operand[key]``; two lists select rows and columns, as in MATLAB (two steps in numpy)."""
    if len(key) == 2 and all(isinstance(item, list) for item in key):
        return take(take(operand, (key[0], slice(None))), (slice(None), key[1]))
    return take(operand, key)


def _size(typer, dim):
    return typer.dims.fixed[typer.dims.find(dim)]


def _sizes_known(typer, node, operand, dims) -> bool:
    known = True
    for key, dim in zip(node.keys, operand.dims):
        size = _size(typer, dim)
        if isinstance(key, Colon):
            continue
        if isinstance(size, str):
            raise typer.error(f"{_snippet(typer.text, node)}: the axis has the named size "
                              f"{size!r}; only ':' indexes it whole; give its size as a number",
                              _span(key))
        known = known and size is not None
    return known


def _resolve(typer, node, operand, dims) -> None:
    key = []
    for axis, (item, dim, selected) in enumerate(zip(node.keys, operand.dims, dims)):
        size = _size(typer, dim)
        if isinstance(item, Colon):
            key.append(slice(None))
            continue
        reading, count = _read_key(typer, node, item, size)
        key.append(reading)
        if count is not None and not typer.dims.unify(selected, typer.dims.new(count)):
            other = _size(typer, selected)
            raise typer.error(f"{_snippet(typer.text, node)} selects {count} entries along axis "
                              f"{axis + 1}, but the rest of the text needs {other} there", node.span)
    typer.index_keys[node] = tuple(key)


def _read_key(typer, node, item, size) -> tuple:
    """``(numpy key item, how many entries it keeps)``; ``None`` entries for a single index."""
    if isinstance(item, Bracket):
        return [_position(typer, node, part, size) - 1 for part in item.items], len(item.items)
    if not isinstance(item, Range):
        return _position(typer, node, item, size) - 1, None
    step = 1 if item.step is None else _whole(typer, item.step, size)
    if step == 0:
        raise typer.error(f"the step of the range {_snippet(typer.text, item)!r} is 0; a range "
                          "steps by a nonzero whole number", _span(item.step))
    first, stop = _whole(typer, item.start, size), _whole(typer, item.stop, size)
    entries = range(first, stop + (1 if step > 0 else -1), step)
    if not entries:
        raise typer.error(f"the range {_snippet(typer.text, item)!r} is empty ({first} to {stop} "
                          f"by {step}); an index selects at least one entry", _span(item))
    _position(typer, node, item.start, size, first)
    _position(typer, node, item.stop if entries[-1] == stop else item, size, entries[-1])
    stop_index = entries[-1] - 1 + (1 if step > 0 else -1)
    return slice(first - 1, None if stop_index < 0 else stop_index, step), len(entries)


def _position(typer, node, part, size, value=None) -> int:
    """The 1-based position ``part`` names, checked to be within ``1 … size``."""
    value = _whole(typer, part, size) if value is None else value
    if not 1 <= value <= size:
        start = ("indices start at 1 (MATLAB's convention)" if value == 0 else
                 f"indices run from 1 to end = {size}")
        raise typer.error(f"{_snippet(typer.text, node)}: index {value} is out of range: the axis "
                          f"has {size} entr{'y' if size == 1 else 'ies'}; {start}", _span(part))
    return value


def _whole(typer, part, size) -> int:
    value = _value(part, size)
    if not float(value).is_integer():
        raise typer.error(f"the index {_snippet(typer.text, part)!r} is {value:g}, not a whole "
                          "number", _span(part))
    return int(value)


def _value(part, size):
    if isinstance(part, Number):
        return part.value
    if isinstance(part, Name):  # `end`: the only name a key holds (checked first)
        return size
    if isinstance(part, Unary):
        value = _value(part.operand, size)
        return -value if part.op == "-" else value
    left, right = _value(part.left, size), _value(part.right, size)
    return _ARITHMETIC[part.op](left, right) if right or part.op != "/" else float("inf")


def _check_constant_keys(typer, node: Index) -> None:
    """A key holds numbers and ``end`` only; a variable or a call there means the name was taken
    for a variable but meant as a function (``expp(x)``)."""
    for key in node.keys:
        parts = [] if isinstance(key, Colon) else [key] if not isinstance(key, (Range, Bracket)) \
            else [p for p in ((key.start, key.step, key.stop) if isinstance(key, Range) else key.items) if p]
        for part in parts:
            culprit = _not_constant(part)
            if culprit is None:
                continue
            if isinstance(node.operand, Name) and node.operand.name not in typer.overrides:
                raise typer.unknown_function(node.operand.name, node.operand.span)
            raise typer.error(f"{_snippet(typer.text, node)}: an index is a whole number, end or "
                              "an expression of these, a range a:b or a:step:b, ':' or a list "
                              f"[i, j]; {_snippet(typer.text, culprit)!r} is not", _span(culprit))


def key_names(order) -> set:
    """The names inside the keys of the indices in ``order`` (``x`` in ``expp(x)``)."""
    names, stack = set(), [key for node in order if isinstance(node, Index) for key in node.keys]
    while stack:
        piece = stack.pop()
        if isinstance(piece, Name):
            names.add(piece.name)
        elif isinstance(piece, Range):
            stack.extend(p for p in (piece.start, piece.step, piece.stop) if p is not None)
        elif isinstance(piece, Bracket):
            stack.extend(piece.items)
        else:
            stack.extend(getattr(piece, "children", ()))
            stack.extend(getattr(piece, "keys", ()))
    return names


def _not_constant(part):
    """The first piece of ``part`` that is not a number, ``end`` or arithmetic of these."""
    stack = [part]
    while stack:
        piece = stack.pop()
        if isinstance(piece, Number) or (isinstance(piece, Name) and piece.name == "end"):
            continue
        if isinstance(piece, Unary) or (isinstance(piece, Binary) and piece.op in _ARITHMETIC):
            stack.extend(piece.children)
            continue
        return piece
    return None


def _span(part) -> tuple:
    return part.span


def _snippet(text: str, node) -> str:
    return text[node.span[0]:node.span[1]].strip()

