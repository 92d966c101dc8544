"""numpy's rearranging verbs, each a composition of rows that exist (no new row, so no new
derivative rule): ``swapaxes``/``moveaxis`` (a transpose), ``squeeze`` (an integer index),
``repeat``/``tile`` (a gather), ``pad`` (a concatenation with zeros), ``triu``/``tril`` (a
product with a constant 0/1 mask, entrywise: a Hadamard product, not a matrix product).

>>> import numpy as np, tensorcalc as tc
>>> x = tc.var("x", (3,))
>>> tc.evaluate(tc.repeat(x, 2), x=np.arange(3.0))
array([0., 0., 1., 1., 2., 2.])
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from .construct import as_expr, const, product, transpose
from .indexing import _axis, _is_int, concatenate, take


def swapaxes(x, axis1, axis2):
    """numpy's ``swapaxes``: a transpose exchanging two axes."""
    x = as_expr(x)
    a, b = _axis(x, axis1, "swapaxes"), _axis(x, axis2, "swapaxes")
    order = list(range(x.ndim))
    order[a], order[b] = order[b], order[a]
    return transpose(x, tuple(order))


def moveaxis(x, source, destination):
    """numpy's ``moveaxis`` for one axis: a transpose."""
    x = as_expr(x)
    s, d = _axis(x, source, "moveaxis"), _axis(x, destination, "moveaxis")
    order = [a for a in range(x.ndim) if a != s]
    order.insert(d, s)
    return transpose(x, tuple(order))


def squeeze(x, axis=None):
    """numpy's ``squeeze``: the axes of size 1 (or the named ``axis``, which must have size 1)
    dropped, as an index 0 on each."""
    x = as_expr(x)
    if axis is None:
        axes = [a for a, d in enumerate(x.shape) if d == 1]
    else:
        axes = [_axis(x, a, "squeeze") for a in (axis if isinstance(axis, (tuple, list)) else (axis,))]
        for a in axes:
            if x.shape[a] != 1:
                raise ShapeError(f"squeeze: axis {a} of shape {x.shape} has size {x.shape[a]}, "
                                 "not 1")
    return take(x, tuple(0 if a in axes else slice(None) for a in range(x.ndim)))


def _fixed(x, a, what):
    size = x.shape[a]
    if not isinstance(size, int):
        raise ShapeError(f"{what}: axis {a} has the named size {size!r}; bind it in tc.var")
    return size


def repeat(x, repeats, axis=None):
    """numpy's ``repeat`` with one integer count: each entry ``repeats`` times along ``axis``
    (the flattened ``x`` for ``None``, which needs a vector); a gather, so the gradient sums the
    copies."""
    x = as_expr(x)
    if axis is None:
        if x.ndim != 1:
            raise ShapeError(f"repeat: axis=None flattens; give a vector or an axis, got shape "
                             f"{x.shape}")
        axis = 0
    if not _is_int(repeats) or repeats < 1:
        raise ShapeError(f"repeat: repeats must be a positive integer, got {repeats!r}")
    a = _axis(x, axis, "repeat")
    indices = [k for k in range(_fixed(x, a, "repeat")) for _ in range(int(repeats))]
    return take(x, (slice(None),) * a + (indices,))


def tile(x, reps):
    """numpy's ``tile``: ``reps`` aligned to the last axes (a longer ``reps`` first gives ``x``
    leading axes of size 1, as numpy does); a gather on each repeated axis."""
    x = as_expr(x)
    reps = (reps,) if _is_int(reps) else tuple(reps)
    if not all(_is_int(r) and r >= 1 for r in reps):
        raise ShapeError(f"tile: reps {reps} must be positive integers")
    if len(reps) > x.ndim:
        x = take(x, (None,) * (len(reps) - x.ndim))
    for a, r in zip(range(x.ndim - len(reps), x.ndim), reps):
        if r > 1:
            x = take(x, (slice(None),) * a + (list(range(_fixed(x, a, "tile"))) * int(r),))
    return x


def pad(x, pad_width):
    """numpy's ``pad`` with zeros (``mode="constant"``): ``pad_width`` an integer, a pair, or
    one pair per axis; a concatenation with constant zeros."""
    x = as_expr(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=object), (x.ndim, 2)).tolist() \
        if x.ndim else []
    for a, (before, after) in enumerate(widths):
        if not (_is_int(before) and _is_int(after) and before >= 0 and after >= 0):
            raise ShapeError(f"pad: widths must be non-negative integers, got {pad_width!r}")
        parts = []
        for width in (before, after):
            shape = tuple(d if b != a else width for b, d in enumerate(x.shape))
            if width and any(not isinstance(d, int) for d in shape):
                raise ShapeError(f"pad: the zeros need fixed sizes, but the shape is {x.shape}")
            parts.append(const(np.zeros(shape)) if width else None)
        pieces = [p for p in (parts[0], x, parts[1]) if p is not None]
        x = concatenate(pieces, a) if len(pieces) > 1 else x
    return x


def _triangle(x, k, upper, what):
    x = as_expr(x)
    if x.ndim < 2:
        raise ShapeError(f"{what}: needs a matrix (or a stack of them), got shape {x.shape}")
    m, n = _fixed(x, x.ndim - 2, what), _fixed(x, x.ndim - 1, what)
    mask = np.triu(np.ones((m, n)), int(k)) if upper else np.tril(np.ones((m, n)), int(k))
    return product("multiply", x, const(mask))


def triu(x, k=0):
    """numpy's ``triu``: the entries on and above the ``k``-th diagonal, zeros below."""
    return _triangle(x, k, True, "triu")


def tril(x, k=0):
    """numpy's ``tril``: the entries on and below the ``k``-th diagonal, zeros above."""
    return _triangle(x, k, False, "tril")
