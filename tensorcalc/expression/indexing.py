"""Indexing rows of the operation table: ``take`` (numpy's basic indexing and one integer-array
gather, ``x[1:3, ::-1, None, [0, 2]]``), its adjoint ``scatter`` (the selected entries written
into zeros, repeated indices added) and ``concatenate``; and the layout verbs built from them
(``stack``, ``hstack``, ``vstack``, ``split``, ``flip``, ``roll``, ``expand_dims``, ``diff``).

>>> import numpy as np, tensorcalc as tc
>>> X = tc.var("X", (3, 4))
>>> print(tc.matrix_notation(X[:, 1:3]))
X[:, 1:3]
>>> tc.evaluate(X[::-1, [0, 3]], X=np.arange(12.0).reshape(3, 4))
array([[ 8., 11.],
       [ 4.,  7.],
       [ 0.,  3.]])

A ``take`` evaluates as numpy's own indexing (a view for slices), never as a product with a 0/1
selection matrix; its VJP is a ``scatter`` of the adjoint into zeros, and ``scatter``'s VJP is
the same ``take``.  Both act on the trailing axes, so a batch of adjoints passes through.  The
param is the key, normalised: one entry per key item, ``("i", k)`` an integer (non-negative),
``("s", start, stop, step)`` a slice (``stop`` ``None``: to the end), ``("n",)`` a new axis and
``("a", (k, ...))`` an integer array.  At most one integer array, adjacent to any integers
(numpy moves the axes of separated advanced indices to the front; we refuse that form).
"""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import ShapeError
from .algebra import register_view
from .construct import as_expr
from .nodes import Operation
from .operations import register_operation

_ELLIPSIS = type(Ellipsis)


def _is_int(item) -> bool:
    return isinstance(item, (numbers.Integral, np.integer)) and not isinstance(item, bool)


def normalize_key(shape: tuple, key) -> tuple:
    """The normalised entries of ``key`` on an operand of ``shape`` (see the module docstring)."""
    items = key if isinstance(key, tuple) else (key,)
    if sum(1 for item in items if item is Ellipsis) > 1:
        raise ShapeError(f"index: at most one ... in a key, got {key!r}")
    used = sum(1 for item in items if item is not None and item is not Ellipsis)
    if used > len(shape):
        raise ShapeError(f"index: the key {key!r} indexes {used} axes, but the operand has shape "
                         f"{shape} ({len(shape)} axes)")
    if not any(item is Ellipsis for item in items):  # `in` would compare an array entrywise
        items = items + (Ellipsis,)
    entries, axis = [], 0
    for item in items:
        if item is Ellipsis:
            for _ in range(len(shape) - used):
                entries.append(_entry(shape, axis, slice(None), key))
                axis += 1
        elif item is None:
            entries.append(("n",))
        else:
            entries.append(_entry(shape, axis, item, key))
            axis += 1
    arrays = [n for n, e in enumerate(entries) if e[0] == "a"]
    if len(arrays) > 1:
        raise ShapeError(f"index: at most one integer array in a key, got {key!r}; index in two "
                         "steps (x[[0, 1]][:, [2, 3]])")
    if arrays:
        advanced = [n for n, e in enumerate(entries) if e[0] in ("a", "i")]
        if advanced != list(range(advanced[0], advanced[-1] + 1)):
            raise ShapeError(f"index: the key {key!r} separates its integer array from an integer "
                             "by a slice or None, where numpy would move the selected axis to the "
                             "front; index in two steps")
    return tuple(entries)


def _entry(shape, axis, item, key):
    size = shape[axis]
    if isinstance(item, slice):
        if not isinstance(size, int):
            if item in (slice(None), slice(0, None), slice(None, None, 1), slice(0, None, 1)):
                return ("s", 0, None, 1)
            raise ShapeError(f"index: axis {axis} has the named size {size!r}; only ':' slices it "
                             f"(key {key!r}); bind it to a number in tc.var")
        for part in (item.start, item.stop, item.step):
            if part is not None and not _is_int(part):
                raise ShapeError(f"index: slice bounds must be integers, got {item!r} in {key!r}")
        if item.step == 0:
            raise ShapeError(f"index: slice step cannot be zero (key {key!r})")
        start, stop, step = item.indices(size)
        if (step > 0 and stop >= size) or stop < 0:
            stop = None  # to the end, either way
        return ("s", start, stop, step)
    if _is_int(item):
        if not isinstance(size, int):
            raise ShapeError(f"index: axis {axis} has the named size {size!r}; an integer cannot "
                             f"index it (key {key!r}); bind it to a number in tc.var")
        if not -size <= int(item) < size:
            raise ShapeError(f"index: index {int(item)} is out of bounds for axis {axis} with size "
                             f"{size} (key {key!r})")
        return ("i", int(item) % size)
    values = np.asarray(item)
    if values.dtype == bool or not np.issubdtype(values.dtype, np.integer) or values.ndim != 1:
        raise ShapeError(f"index: an index is an integer, a slice, None, ... or a 1-D list of "
                         f"integers; got {item!r} in {key!r}")
    if not isinstance(size, int):
        raise ShapeError(f"index: axis {axis} has the named size {size!r}; an integer array "
                         f"cannot index it (key {key!r}); bind it to a number in tc.var")
    if values.size and not (-size <= values.min() and values.max() < size):
        raise ShapeError(f"index: an index in {values.tolist()} is out of bounds for axis {axis} "
                         f"with size {size} (key {key!r})")
    return ("a", tuple(int(v) % size for v in values))


def indexed_count(entries) -> int:
    """How many trailing operand axes the entries index (all but the new axes)."""
    return sum(1 for e in entries if e[0] != "n")


def _slice_length(entry, size):
    _, start, stop, step = entry
    if not isinstance(size, int):
        return size
    return len(range(start, -1 if stop is None and step < 0 else (size if stop is None else stop),
                     step))


def selected_shape(shape: tuple, entries) -> tuple:
    """The shape ``entries`` select from the (trailing axes) ``shape``."""
    out, axis = [], 0
    for e in entries:
        if e[0] == "n":
            out.append(1)
            continue
        if e[0] == "s":
            out.append(_slice_length(e, shape[axis]))
        elif e[0] == "a":
            out.append(len(e[1]))
        axis += 1
    return tuple(out)


def numpy_key(entries, skip_new: bool = False) -> tuple:
    """The numpy key of ``entries``, after a leading ``...`` (the batch axes)."""
    key = [Ellipsis]
    for e in entries:
        if e[0] == "n":
            if not skip_new:
                key.append(None)
        elif e[0] == "i":
            key.append(e[1])
        elif e[0] == "s":
            key.append(slice(e[1], e[2], e[3]))
        else:
            key.append(np.array(e[1], dtype=np.intp))
    return tuple(key)


def key_parts(entries, slice_text) -> list:
    """Each entry of a normalized key as numpy writes it (``None``, ``2``, ``[0, 2]``), the
    slices as ``slice_text(start, stop, step)`` says: the printers and the generated source
    spell slices differently."""
    parts = []
    for e in entries:
        if e[0] == "n":
            parts.append("None")
        elif e[0] == "i":
            parts.append(str(e[1]))
        elif e[0] == "a":
            parts.append(str(list(e[1])))
        else:
            parts.append(slice_text(*e[1:]))
    return parts


def _take_shape(shapes, entries):
    (shape,) = shapes
    n = indexed_count(entries)
    if len(shape) < n:
        raise ShapeError(f"take: the key indexes {n} axes, but the operand has shape {shape}")
    return tuple(shape[:len(shape) - n]) + selected_shape(shape[len(shape) - n:], entries)


def _scatter_shape(shapes, param):
    entries, target = param
    (shape,) = shapes
    selected = selected_shape(target, entries)
    lead = len(shape) - len(selected)
    if lead < 0 or tuple(shape[lead:]) != selected:
        raise ShapeError(f"scatter: the values have shape {shape}, but the key selects {selected}")
    return tuple(shape[:lead]) + tuple(target)


def _scatter_numpy(arrays, param):
    entries, target = param
    (g,) = arrays
    lead = g.ndim - len(selected_shape(target, entries))
    squeeze = (Ellipsis,) + tuple(0 if e[0] == "n" else slice(None) for e in entries
                                     if e[0] != "i")
    shape = g.shape[:lead] + tuple(d if isinstance(d, int) else g.shape[a]
                                   for d, a in zip(target, named_axes(entries, target)))
    g = g[squeeze]
    out = np.zeros(shape, dtype=g.dtype if g.dtype.kind in "fc" else np.float64)  # float32 stays
    key = numpy_key(entries, skip_new=True)
    if any(e[0] == "a" for e in entries):
        np.add.at(out, key, g)
    else:
        out[key] = g
    return out


def named_axes(entries, target) -> list:
    """For each axis of ``target``: the (negative) axis of the selection that has its size, where
    the size is named (such an axis is only ever sliced whole); ``None`` elsewhere."""
    count = sum(1 for e in entries if e[0] != "i")
    found, result_axis = [], 0
    for e in entries:
        if e[0] != "n":
            found.append(result_axis - count if e[0] == "s" else None)
        if e[0] != "i":
            result_axis += 1
    return [a if not isinstance(d, int) else None for d, a in zip(target, found)]


def _concatenate_shape(shapes, axis):
    first = shapes[0]
    for k, shape in enumerate(shapes):
        if len(shape) != len(first) or len(shape) < -axis:
            raise ShapeError(f"concatenate: operand {k} has shape {shape}, operand 0 has {first}; "
                             f"they need the same number of axes (at least {-axis})")
        for a in range(len(first)):
            if a != len(first) + axis and shape[a] != first[a]:
                raise ShapeError(f"concatenate: operand {k} has shape {shape}, operand 0 has "
                                 f"{first}: axis {a} differs")
        if not isinstance(shape[axis], int):
            raise ShapeError(f"concatenate: the joined axis has the named size {shape[axis]!r} in "
                             f"operand {k}; bind it to a number in tc.var")
    joined = sum(shape[axis] for shape in shapes)
    return tuple(joined if a == len(first) + axis else d for a, d in enumerate(first))


register_operation("take", _take_shape, lambda arrays, entries: arrays[0][numpy_key(entries)])
register_operation("scatter", _scatter_shape, _scatter_numpy)
register_operation("concatenate", _concatenate_shape,
                   lambda arrays, axis: np.concatenate(arrays, axis=axis))


# ---------------------------------------------------------------------------
# Public constructors


def take(x, key):
    """``x[key]`` as numpy reads it: integers (negative count from the end), slices with steps,
    ``None`` (a new axis), ``...`` and one 1-D integer array (a gather).  ``expr[key]`` calls it.

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", (5,))
    >>> print(tc.grad(tc.sum(x[1:4] ** 2), x).expr.evaluate(x=np.arange(5.0)))
    [0. 2. 4. 6. 0.]
    """
    x = as_expr(x)
    entries = normalize_key(x.shape, key)
    if all(e == ("s", 0, None, 1) for e in entries) and len(entries) == x.ndim:
        return x
    return Operation("take", [x], entries)


register_view("take", take)


def _axis(x, axis, what):
    if not _is_int(axis) or not -x.ndim <= axis < x.ndim:
        raise ShapeError(f"{what}: axis {axis!r} is out of bounds for shape {x.shape}")
    return int(axis) % x.ndim


def _along(x, axis, item, what="index"):
    """``x`` indexed by ``item`` along ``axis`` (full slices elsewhere)."""
    return take(x, (slice(None),) * _axis(x, axis, what) + (item,))


def concatenate(arrays, axis=0):
    """numpy's ``concatenate``: the operands joined along ``axis``; the adjoint of each is its
    slice of the result's.

    >>> import numpy as np, tensorcalc as tc
    >>> a, b = tc.var("a", (2,)), tc.var("b", (3,))
    >>> tc.evaluate(tc.concatenate([a, b]), a=np.ones(2), b=np.zeros(3))
    array([1., 1., 0., 0., 0.])
    """
    arrays = [as_expr(a) for a in arrays]
    if not arrays:
        raise ShapeError("concatenate: needs at least one operand")
    if arrays[0].ndim == 0:
        raise ShapeError("concatenate: zero-dimensional operands cannot be concatenated")
    axis = _axis(arrays[0], axis, "concatenate") - arrays[0].ndim
    return arrays[0] if len(arrays) == 1 else Operation("concatenate", arrays, axis)


def expand_dims(x, axis):
    """A new axis of size 1 at ``axis``, as numpy's ``expand_dims``."""
    x = as_expr(x)
    if not _is_int(axis) or not -x.ndim - 1 <= axis <= x.ndim:
        raise ShapeError(f"expand_dims: axis {axis!r} is out of bounds for shape {x.shape}")
    return take(x, (slice(None),) * (int(axis) % (x.ndim + 1)) + (None,))


def stack(arrays, axis=0):
    """numpy's ``stack``: the operands (one shape) along a new axis."""
    arrays = [as_expr(a) for a in arrays]
    if not arrays:
        raise ShapeError("stack: needs at least one operand")
    return concatenate([expand_dims(a, axis) for a in arrays], axis)


def hstack(arrays):
    """numpy's ``hstack``: along axis 1 (axis 0 for vectors)."""
    arrays = [as_expr(a) for a in arrays]
    return concatenate(arrays, 0 if arrays and arrays[0].ndim == 1 else 1)


def vstack(arrays):
    """numpy's ``vstack``: along axis 0, vectors as rows."""
    arrays = [as_expr(a) for a in arrays]
    return concatenate([expand_dims(a, 0) if a.ndim == 1 else a for a in arrays], 0)


def split(x, indices_or_sections, axis=0):
    """numpy's ``split``: a list of slices along ``axis`` (equal sections, or cut at indices)."""
    x = as_expr(x)
    a = _axis(x, axis, "split")
    size = x.shape[a]
    if not isinstance(size, int):
        raise ShapeError(f"split: axis {a} has the named size {size!r}; bind it in tc.var")
    if _is_int(indices_or_sections):
        n = int(indices_or_sections)
        if n <= 0 or size % n:
            raise ShapeError(f"split: axis {a} of size {size} does not split into {n} equal "
                             "sections")
        cuts = [size // n * k for k in range(1, n)]
    else:
        cuts = [int(c) for c in indices_or_sections]
    bounds = [0] + cuts + [size]
    return [_along(x, a, slice(lo, hi), "split") for lo, hi in zip(bounds, bounds[1:])]


def flip(x, axis=None):
    """numpy's ``flip``: the entries in reverse order along ``axis`` (every axis for ``None``)."""
    x = as_expr(x)
    axes = range(x.ndim) if axis is None else \
        [_axis(x, a, "flip") for a in (axis if isinstance(axis, (tuple, list)) else (axis,))]
    key = [slice(None)] * x.ndim
    for a in axes:
        key[a] = slice(None, None, -1)
    return take(x, tuple(key))


def roll(x, shift, axis):
    """numpy's ``roll`` along one ``axis``: entries move ``shift`` places, wrapping around."""
    x = as_expr(x)
    a = _axis(x, axis, "roll")
    size = x.shape[a]
    if not isinstance(size, int):
        raise ShapeError(f"roll: axis {a} has the named size {size!r}; bind it in tc.var")
    s = int(shift) % size
    if s == 0:
        return x
    return concatenate([_along(x, a, slice(size - s, None)), _along(x, a, slice(0, size - s))], a)


def diff(x, axis=-1):
    """numpy's first ``diff`` along ``axis``: ``x[1:] − x[:-1]``."""
    x = as_expr(x)
    return _along(x, axis, slice(1, None), "diff") - _along(x, axis, slice(None, -1), "diff")
