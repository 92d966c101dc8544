"""numpy's names for things the engine already has, each a composition of existing rows (no new
row, so no new derivative rule, and every derivative exact wherever its parts are): the
products ``dot``, ``tensordot``, ``inner``, ``outer`` and ``cross`` (einsum contractions; the
cross product with the constant Levi-Civita tensor), the rearrangements ``ravel``,
``atleast_1d/2d/3d``, ``rot90``, ``fliplr``/``flipud``, ``rollaxis``, the joins and cuts
``append``, ``column_stack``, ``row_stack``, ``array_split``, ``vsplit``/``hsplit``/``dsplit``,
and ``add``, ``subtract``, ``multiply``, ``negative``, ``true_divide``, ``divide``, ``degrees``,
``radians``, ``diag``
(numpy's: a vector's offset diagonal matrix, or a matrix's diagonal), ``fmax``/``fmin`` (NaN-free inputs: ``maximum``/``minimum``) and
``linspace`` with expression end points.

>>> import numpy as np, tensorcalc as tc
>>> a, b = tc.var("a", (3,)), tc.var("b", (3,))
>>> tc.evaluate(tc.cross(a, b), a=np.array([1.0, 0, 0]), b=np.array([0.0, 1, 0]))
array([0., 0., 1.])
>>> print(tc.grad(tc.dot(a, b), a).matrix)
b

The same module registers numpy's array methods on every expression (``x.reshape(2, 3)``,
``x.ravel()``, ``x.mean(axis=0)``, ``x.var(ddof=1)``, ``X.dot(y)``, ``X.trace()``, …):

>>> X = tc.var("X", (2, 3))
>>> tc.evaluate(X.reshape(3, 2).max(axis=1), X=np.arange(6.0).reshape(2, 3))
array([1., 3., 5.])
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from .algebra import register_view
from .arrangement import moveaxis, pad, repeat, squeeze, swapaxes
from .construct import as_expr, const, einsum, mean, transpose
from .diagonals import diagonal, trace
from .elementwise_names import deg2rad, rad2deg
from .indexing import _along, _axis, _is_int, concatenate, expand_dims, flip, split
from .layout import reshape
from .linalg import diag as diagonal_matrix
from .pairwise import maximum, minimum
from .reductions import max as maximum_of
from .reductions import min as minimum_of
from .selection import clip
from .statistics import std, variance

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def tensordot(a, b, axes=2):
    """numpy's ``tensordot``: the last ``axes`` axes of ``a`` against the first of ``b``, or the
    named axis lists ``(axes_a, axes_b)``; one einsum contraction."""
    a, b = as_expr(a), as_expr(b)
    if _is_int(axes):
        n = int(axes)
        if not 0 <= n <= min(a.ndim, b.ndim):
            raise ShapeError(f"tensordot: axes={n} is more than the operands have "
                             f"(shapes {a.shape} and {b.shape})")
        axes_a, axes_b = list(range(a.ndim - n, a.ndim)), list(range(n))
    else:
        axes_a, axes_b = ([x] if _is_int(x) else list(x) for x in axes)
        if len(axes_a) != len(axes_b):
            raise ShapeError(f"tensordot: {len(axes_a)} axes of a against {len(axes_b)} of b")
        axes_a = [_axis(a, x, "tensordot") for x in axes_a]
        axes_b = [_axis(b, x, "tensordot") for x in axes_b]
    for i, j in zip(axes_a, axes_b):
        if a.shape[i] != b.shape[j]:
            raise ShapeError(f"tensordot: axis {i} of a (size {a.shape[i]}) against axis {j} of "
                             f"b (size {b.shape[j]})")
    if a.ndim + b.ndim > len(LETTERS):
        raise ShapeError("tensordot: too many axes")
    sa = list(LETTERS[:a.ndim])
    sb = list(LETTERS[a.ndim:a.ndim + b.ndim])
    for i, j in zip(axes_a, axes_b):
        sb[j] = sa[i]
    out = [c for k, c in enumerate(sa) if k not in axes_a] + \
          [c for k, c in enumerate(sb) if k not in axes_b]
    return einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(out)}", a, b)


def dot(a, b):
    """numpy's ``dot``: a product with a scalar, the inner product of vectors, the matrix
    product, and for N-d arrays the last axis of ``a`` against the second-to-last of ``b``."""
    a, b = as_expr(a), as_expr(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, ([-1], [-2 if b.ndim >= 2 else 0]))


def inner(a, b):
    """numpy's ``inner``: the last axes of both contracted (a scalar operand multiplies)."""
    a, b = as_expr(a), as_expr(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, ([-1], [-1]))


def outer(a, b):
    """numpy's ``outer``: both operands flattened, every product ``a_i b_j``."""
    return tensordot(ravel(a), ravel(b), 0)


def cross(a, b, axis=-1):
    """numpy's ``cross`` of 3-vectors along ``axis`` (both operands of one shape):
    ``c_i = ε_ijk a_j b_k`` with the constant Levi-Civita tensor."""
    a, b = as_expr(a), as_expr(b)
    if a.shape != b.shape:
        raise ShapeError(f"cross: operands of shapes {a.shape} and {b.shape}; give one shape")
    k = _axis(a, axis, "cross")
    if a.shape[k] != 3:
        raise ShapeError(f"cross: axis {k} of shape {a.shape} has size {a.shape[k]}, not 3")
    epsilon = np.zeros((3, 3, 3))
    for i, j, m in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
        epsilon[i, j, m], epsilon[i, m, j] = 1.0, -1.0
    batch = LETTERS[3:3 + a.ndim - 1]
    sa = batch[:k] + "j" + batch[k:]
    sb = batch[:k] + "k" + batch[k:]
    return einsum(f"ijk,{sa},{sb}->{batch[:k]}i{batch[k:]}", const(epsilon), a, b)


def ravel(x):
    """numpy's ``ravel`` (and ``flatten``): the entries in C order, as one vector."""
    x = as_expr(x)
    sizes = [d for d in x.shape if not isinstance(d, int)]
    if sizes:
        raise ShapeError(f"ravel: shape {x.shape} has named sizes; bind them in tc.var")
    return reshape(x, (int(np.prod(x.shape, dtype=np.int64)),))


def atleast_1d(x):
    """numpy's ``atleast_1d``: a scalar as a vector of one entry."""
    x = as_expr(x)
    return reshape(x, (1,)) if x.ndim == 0 else x


def atleast_2d(x):
    """numpy's ``atleast_2d``: a vector as one row."""
    x = atleast_1d(x)
    return expand_dims(x, 0) if x.ndim == 1 else x


def atleast_3d(x):
    """numpy's ``atleast_3d``: a vector of n as (1, n, 1), a matrix as (m, n, 1)."""
    x = as_expr(x)
    if x.ndim == 0:
        return reshape(x, (1, 1, 1))
    if x.ndim == 1:
        return expand_dims(expand_dims(x, 0), 2)
    return expand_dims(x, 2) if x.ndim == 2 else x


def fliplr(x):
    """numpy's ``fliplr``: axis 1 reversed."""
    return flip(x, 1)


def flipud(x):
    """numpy's ``flipud``: axis 0 reversed."""
    return flip(x, 0)


def rot90(x, k=1, axes=(0, 1)):
    """numpy's ``rot90``: ``k`` quarter turns in the plane of ``axes``, from the first axis
    towards the second."""
    x = as_expr(x)
    a, b = (_axis(x, axis, "rot90") for axis in axes)
    if a == b:
        raise ShapeError(f"rot90: axes {tuple(axes)} name one axis twice")
    k = int(k) % 4
    if k == 0:
        return x
    if k == 2:
        return flip(flip(x, a), b)
    return flip(swapaxes(x, a, b), a) if k == 1 else swapaxes(flip(x, a), a, b)


def rollaxis(x, axis, start=0):
    """numpy's ``rollaxis``: ``axis`` moved to just before ``start`` (a transpose)."""
    x = as_expr(x)
    a = _axis(x, axis, "rollaxis")
    if not _is_int(start) or not -x.ndim <= start <= x.ndim:
        raise ShapeError(f"rollaxis: start {start!r} is out of bounds for shape {x.shape}")
    start = int(start) % (x.ndim + 1) if start < 0 else int(start)
    return moveaxis(x, a, start - 1 if start > a else start)


def append(a, values, axis=None):
    """numpy's ``append``: both flattened and joined (``axis=None``), or joined along ``axis``."""
    a, values = as_expr(a), as_expr(values)
    if axis is None:
        return concatenate([ravel(a), ravel(values)])
    return concatenate([a, values], axis)


def column_stack(arrays):
    """numpy's ``column_stack``: vectors as columns, matrices as they are, along axis 1."""
    arrays = [as_expr(a) for a in arrays]
    return concatenate([expand_dims(a, 1) if a.ndim == 1 else a for a in arrays], 1)


def row_stack(arrays):
    """numpy's ``row_stack`` (``vstack``): along axis 0, vectors as rows."""
    arrays = [as_expr(a) for a in arrays]
    return concatenate([expand_dims(a, 0) if a.ndim == 1 else a for a in arrays], 0)


def array_split(x, indices_or_sections, axis=0):
    """numpy's ``array_split``: ``split`` that allows unequal sections (the first ones one
    longer)."""
    x = as_expr(x)
    a = _axis(x, axis, "array_split")
    if not _is_int(indices_or_sections):
        return split(x, indices_or_sections, a)
    size, n = x.shape[a], int(indices_or_sections)
    if not isinstance(size, int):
        raise ShapeError(f"array_split: axis {a} has the named size {size!r}; bind it in tc.var")
    if n <= 0:
        raise ShapeError(f"array_split: {n} sections; give at least one")
    lengths = [size // n + (1 if k < size % n else 0) for k in range(n)]
    return split(x, list(np.cumsum(lengths)[:-1]), a)


def vsplit(x, indices_or_sections):
    """numpy's ``vsplit``: ``split`` along axis 0 (needs 2 or more axes)."""
    return _split_at_least(x, indices_or_sections, 0, 2, "vsplit")


def hsplit(x, indices_or_sections):
    """numpy's ``hsplit``: ``split`` along axis 1 (axis 0 for a vector)."""
    x = as_expr(x)
    return split(x, indices_or_sections, 1 if x.ndim > 1 else 0)


def dsplit(x, indices_or_sections):
    """numpy's ``dsplit``: ``split`` along axis 2 (needs 3 or more axes)."""
    return _split_at_least(x, indices_or_sections, 2, 3, "dsplit")


def _split_at_least(x, indices_or_sections, axis, ndim, what):
    x = as_expr(x)
    if x.ndim < ndim:
        raise ShapeError(f"{what}: needs {ndim} or more axes, got shape {x.shape}")
    return split(x, indices_or_sections, axis)


def diag(v, k=0):
    """numpy's ``diag``: for a vector, the square matrix with ``v`` on its ``k``-th diagonal
    (``δ_ij v_j`` for ``k = 0``); for a matrix, its ``k``-th diagonal (``tc.diagonal``).

    >>> import numpy as np, tensorcalc as tc
    >>> v = tc.var("v", (2,))
    >>> tc.evaluate(tc.diag(v, 1), v=np.array([1.0, 2.0]))
    array([[0., 1., 0.],
           [0., 0., 2.],
           [0., 0., 0.]])
    """
    v = as_expr(v)
    if not _is_int(k):
        raise ShapeError(f"diag: the offset k must be an integer, got {k!r}")
    if v.ndim == 2:
        return diagonal(v, offset=int(k))
    if v.ndim != 1:
        raise ShapeError(f"diag: needs a vector or a matrix, got shape {v.shape} (for stacked "
                         "matrices use tc.diagonal, or tc.einsum('...i->...ii', v))")
    matrix, k = diagonal_matrix(v), int(k)
    if k == 0:
        return matrix
    return pad(matrix, ((0, k), (k, 0)) if k > 0 else ((-k, 0), (0, -k)))


def add(a, b):
    """numpy's ``add``: ``a + b``."""
    return as_expr(a) + b


def subtract(a, b):
    """numpy's ``subtract``: ``a − b``."""
    return as_expr(a) - b


def multiply(a, b):
    """numpy's ``multiply``: ``a * b``, entrywise."""
    return as_expr(a) * b


def negative(x):
    """numpy's ``negative``: ``−x``."""
    return -as_expr(x)


def gradient(f, axis=None):
    """numpy's ``gradient`` with unit spacing: central differences ``(f[i+1] − f[i−1]) / 2``
    inside, one-sided differences at the two ends (numpy's ``edge_order=1``); a list with one
    array per axis when ``axis`` names several (or is ``None`` for a matrix or more).

    >>> import numpy as np, tensorcalc as tc
    >>> f = tc.var("f", (4,))
    >>> tc.evaluate(tc.gradient(f), f=np.array([1.0, 2.0, 4.0, 7.0]))
    array([1. , 1.5, 2.5, 3. ])
    """
    f = as_expr(f)
    axes = range(f.ndim) if axis is None else axis if isinstance(axis, (tuple, list)) else [axis]
    result = [_gradient_along(f, _axis(f, a, "gradient")) for a in axes]
    return result[0] if len(result) == 1 else result


def _gradient_along(f, a):
    size = f.shape[a]
    if not isinstance(size, int) or size < 2:
        raise ShapeError(f"gradient: axis {a} of shape {f.shape} needs a fixed size of at least 2 "
                         "(numpy's edge_order=1)")

    def part(item):
        return _along(f, a, item, "gradient")

    first = part(slice(1, 2)) - part(slice(0, 1))
    last = part(slice(size - 1, size)) - part(slice(size - 2, size - 1))
    if size == 2:
        return concatenate([first, last], a)
    inside = (part(slice(2, None)) - part(slice(None, -2))) * 0.5
    return concatenate([first, inside, last], a)


def true_divide(a, b):
    """numpy's ``true_divide``: ``a / b``."""
    return as_expr(a) / b


def fmax(a, b):
    """numpy's ``fmax`` for inputs without NaN, where it is ``maximum`` (ties split ½–½)."""
    return maximum(a, b)


def fmin(a, b):
    """numpy's ``fmin`` for inputs without NaN, where it is ``minimum`` (ties split ½–½)."""
    return minimum(a, b)


def linspace(start, stop, num=50, endpoint=True):
    """numpy's ``linspace`` with expression (scalar) end points: ``start + (stop − start) t`` for
    the constant grid ``t``; its derivative in each end point is exact."""
    start, stop = as_expr(start), as_expr(stop)
    if start.ndim or stop.ndim:
        raise ShapeError(f"linspace: end points must be scalars, got shapes {start.shape} and "
                         f"{stop.shape}")
    if not _is_int(num) or num < 0:
        raise ShapeError(f"linspace: num must be a non-negative integer, got {num!r}")
    if num == 0:
        raise ShapeError("linspace: num=0 gives an empty array, which expressions cannot hold")
    steps = (num - 1) if endpoint else num
    t = np.arange(num, dtype=float) / steps if steps else np.zeros(num)
    return start + (stop - start) * const(t)


def _reshape_method(x, *shape):
    return reshape(x, tuple(shape[0]) if len(shape) == 1 and not _is_int(shape[0]) else shape)


def _transpose_method(x, *axes):
    if len(axes) == 1 and not _is_int(axes[0]):
        axes = axes[0]
    return transpose(x, tuple(axes) if axes else None)


def _var_method(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    return variance(x, axis=axis, ddof=ddof, keepdims=keepdims)


def _std_method(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    return std(x, axis=axis, ddof=ddof, keepdims=keepdims)


for _name, _function in {
        "reshape": _reshape_method, "ravel": ravel, "flatten": ravel, "squeeze": squeeze,
        "transpose": _transpose_method, "swapaxes": swapaxes, "repeat": repeat, "clip": clip,
        "mean": mean, "max": maximum_of, "min": minimum_of, "var": _var_method, "std": _std_method,
        "dot": dot, "trace": trace, "diagonal": diagonal}.items():
    register_view(_name, _function)


divide = true_divide
degrees = rad2deg  # numpy's older names
radians = deg2rad
