"""Products, cumulative sums and products, sorting: the rows ``prod``, ``cumsum``, ``cumprod``,
``sort`` and ``partition`` of the operation table, their helper rows and their public
constructors, with numpy's signatures.

>>> import numpy as np, tensorcalc as tc
>>> x = tc.var("x", (3,))
>>> tc.evaluate(tc.grad(tc.prod(x), x), x=np.array([2.0, 0.0, 5.0]))  # exact at a zero
array([ 0., 10.,  0.])
>>> tc.evaluate(tc.cumsum(x), x=np.array([1.0, 2.0, 3.0]))
array([1., 3., 6.])

* ``prod`` (param: the sorted reduced axes) is exact at zeros: its gradient is the product of
  the *other* entries, the row ``prod_others`` (param: one axis, counted from the end), computed
  from exclusive cumulative products from both ends (no division, as JAX and autograd do).  Its
  second derivative is the row ``prod_others_jvp(x, t)``, Σ_{i≠j} t_i Π_{k≠i,j} x_k, exact too
  (the Hessian of a product is symmetric, so that one row is both its VJP and its JVP); higher
  derivatives are written with the rows below (``cumprod``, ``scan``, ``shift``), exact at zeros
  at every order.  A product over several axes is differentiated one axis at a time (Π over
  (a, b) = Π over a of Π over b), so only one-axis helpers exist.
* ``cumsum`` (param: ``(axis, reverse)``, the axis counted from the end) is linear: its VJP is the
  cumulative sum in the other direction.
* ``cumprod`` (same param): its VJP is the row ``cumprod_vjp(x, G)``, x̄_j = Π_{k<j} x_k ·
  Σ_{i≥j} G_i Π_{j<k≤i} x_k, exact at zeros.  Its derivatives are written with two more rows:
  ``scan(a, b)``, the linear recurrence h_i = a_i h_{i−1} + b_i (so ``cumprod_vjp(x, G)`` is
  ``shift(cumprod(x), fill=1) ⊙ scan(shift(x, reverse), G, reverse)``), and ``shift(x)``,
  x_{i−1} with a fill value first; both are closed under differentiation (a scan's transpose is
  the scan the other way), so every order exists and is exact at zeros.
* ``sort`` and ``partition``: the value is the operand gathered by its stable argsort (or
  argpartition) *at evaluation time*; the VJP scatters the adjoint back by the same permutation
  (``sort_scatter``; ``partition_scatter``) and gathering again (``sort_gather``;
  ``partition_gather``) is its transpose, so all orders exist.  At ties the permutation is
  numpy's stable order, so the gradient there is one of the subgradients, chosen by that order
  (as ``jax.grad`` of ``jnp.sort`` does).
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from .construct import _normalize_axes, as_expr
from .indexing import _axis, _is_int
from .layout import reshape
from .nodes import Contraction, Operation
from .operations import fixed_size, kept, register_operation
from .statistics import keep_axes


# ---------------------------------------------------------------------------
# numpy: the one-axis kernels (the axis moved last)


def _last(x, axis):
    return np.moveaxis(x, axis, -1)


def _exclusive_products(x):
    """``(Π_{k<j} x_k, Π_{k>j} x_k)`` along the last axis, by cumulative products (no division)."""
    if not x.shape[-1]:
        return x, x
    ones = np.ones_like(x[..., :1])
    left = np.cumprod(np.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)
    right = np.flip(np.cumprod(np.concatenate([ones, np.flip(x[..., 1:], -1)], axis=-1), axis=-1), -1)
    return left, right


def _prod_others_numpy(arrays, axis):
    (x,) = arrays
    left, right = _exclusive_products(_last(x, axis))
    return np.moveaxis(left * right, -1, axis)


def _prod_others_jvp_last(x, t):
    # Σ_{i≠j} t_i Π_{k≠i,j} x_k = P_j R_j + E_j Q_j: E, R the exclusive products before and after
    # j, P = Σ_{i<j} t_i E_i Π_{i<k<j} x_k and Q its mirror image, each a scan shifted by one
    before, after = _exclusive_products(x)
    lower = _shift_last(_scan_last(x, t * before), 0.0)
    upper = np.flip(_shift_last(_scan_last(np.flip(x, -1), np.flip(t * after, -1)), 0.0), -1)
    return lower * after + before * upper


def _cumulative(function):
    def run(arrays, param):
        axis, reverse = param
        (x,) = arrays
        if reverse:
            return np.flip(function(np.flip(x, axis), axis=axis), axis)
        return function(x, axis=axis)
    return run


def _directed(function):
    """``function`` of arrays moved to the last axis (and flipped for ``reverse``), moved back."""
    def run(arrays, param):
        axis, reverse = param[:2]
        target = arrays[-1].shape
        moved = [_last(np.broadcast_to(a, target), axis) for a in arrays]
        if reverse:
            moved = [np.flip(a, -1) for a in moved]
        result = function(*moved, *param[2:])
        return np.moveaxis(np.flip(result, -1) if reverse else result, -1, axis)
    return run


def _scan_last(a, b):
    """h_i = a_i h_{i−1} + b_i along the last axis (h_0 = b_0): a first-order linear recurrence,
    in log₂ n vectorized steps (Hillis & Steele): after the step of width w, (A_i, B_i) is the
    recurrence over the w entries up to i, and joining two windows multiplies and adds only, so
    it is exact at zeros."""
    a, b = np.array(a, dtype=np.result_type(a, b)), np.array(b, dtype=np.result_type(a, b))
    width = 1
    while width < b.shape[-1]:
        joined_b = a[..., width:] * b[..., :-width] + b[..., width:]
        a[..., width:] = a[..., width:] * a[..., :-width]
        b[..., width:] = joined_b
        width *= 2
    return b


def _shift_last(x, fill):
    """x_{i−1} along the last axis, ``fill`` first."""
    return np.concatenate([np.full_like(x[..., :1], fill), x[..., :-1]], axis=-1)


def _cumprod_vjp_last(x, g):
    # x̄_j = Π_{k<j} x_k · S_j with S_j = G_j + x_{j+1} S_{j+1}: a scan from the end
    left, _ = _exclusive_products(x)
    tail = np.flip(_scan_last(_shift_last(np.flip(x, -1), 0.0), np.flip(g, -1)), -1)
    return left * tail


def permutation(x, axis, kth):
    """numpy's stable argsort of ``x`` along ``axis`` (``kth`` None), or its argpartition."""
    if kth is None:
        return np.argsort(x, axis=axis, kind="stable")
    return np.argpartition(x, kth, axis=axis)


def _sort_numpy(arrays, param):
    (x,) = arrays
    axis, kth = param
    return np.take_along_axis(x, permutation(x, axis, kth), axis=axis)


def _sort_gather_numpy(arrays, param):
    x, t = arrays
    axis, kth = param
    order = np.broadcast_to(permutation(x, axis, kth), t.shape)
    return np.take_along_axis(t, order, axis=axis)


def _sort_scatter_numpy(arrays, param):
    x, t = arrays
    axis, kth = param
    inverse = np.argsort(permutation(x, axis, kth), axis=axis)  # the inverse permutation
    return np.take_along_axis(t, np.broadcast_to(inverse, t.shape), axis=axis)


def _same_shape(shapes, param):
    return shapes[0]


def _adjoint_shape(name):
    def shape(shapes, param):  # (x, t): t is x's shape behind leading (adjoint) axes
        x, t = shapes
        if tuple(t[len(t) - len(x):]) != tuple(x):
            raise ShapeError(f"{name}: the second operand's shape {t} does not end with the "
                             f"first's {x}")
        return t
    return shape


register_operation("prod", lambda shapes, axes: kept(shapes[0], axes),
                   lambda arrays, axes: np.prod(arrays[0], axis=axes))
register_operation("prod_others", _same_shape, _prod_others_numpy)
register_operation("prod_others_jvp", _adjoint_shape("prod_others_jvp"),
                   lambda arrays, axis: _directed(_prod_others_jvp_last)(arrays, (axis, False)))
register_operation("cumsum", _same_shape, _cumulative(np.cumsum))
register_operation("cumprod", _same_shape, _cumulative(np.cumprod))
register_operation("cumprod_vjp", _adjoint_shape("cumprod_vjp"), _directed(_cumprod_vjp_last))
# the pieces of cumprod's higher derivatives (param (axis, reverse), shift's also the fill value)
register_operation("scan", _adjoint_shape("scan"), _directed(_scan_last))
register_operation("shift", _same_shape, _directed(_shift_last))
register_operation("sort", _same_shape, _sort_numpy)
register_operation("partition", _same_shape, _sort_numpy)
for _kind in ("sort", "partition"):  # the partition's helpers: numpy's argpartition order
    register_operation(f"{_kind}_gather", _adjoint_shape(f"{_kind}_gather"), _sort_gather_numpy)
    register_operation(f"{_kind}_scatter", _adjoint_shape(f"{_kind}_scatter"), _sort_scatter_numpy)


# ---------------------------------------------------------------------------
# Public constructors


def prod(x, axis=None, keepdims: bool = False):
    """The product of the entries over ``axis`` (all by default), as ``numpy.prod``.

    Exact at zeros: the gradient is the product of the other entries (nonzero only at a lone
    zero; 0 everywhere at two or more), never ``prod / x``.

    >>> import numpy as np, tensorcalc as tc
    >>> X = tc.var("X", (2, 2))
    >>> tc.evaluate(tc.prod(X, axis=0), X=np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([3., 8.])
    >>> print(tc.prod(X, axis=1), "|", tc.to_text(tc.prod(X)))
    prod_j(X_ij) | prod(X)
    """
    x = as_expr(x)
    axes = tuple(sorted(_normalize_axes("prod", x, axis))) if x.ndim else ()
    result = Operation("prod", [x], axes) if axes else x
    return keep_axes(result, x.shape, axes) if keepdims and axes else result


def prod_others(x, axes) -> Operation:
    """Π of the entries of ``x`` over ``axes`` other than each entry (shape of ``x``): the
    gradient of :func:`prod`, built one axis at a time, Π_{(k,l)≠(i,j)} x_kl =
    Π_{l≠j} x_il · Π_{k≠i} Π_l x_kl."""
    x = as_expr(x)
    last = axes[-1]
    own = Operation("prod_others", [x], last - x.ndim)
    if len(axes) == 1:
        return own
    rest = prod_others(Operation("prod", [x], (last,)), axes[:-1])
    full = tuple(range(x.ndim))
    spread = tuple(a for a in full if a != last)  # rest, broadcast along the last axis
    return Contraction([own, rest], [full, spread], full, dict(enumerate(x.shape)))


def _one_axis(name, x, axis):
    """``x`` and the axis counted from the end; ``axis=None`` flattens ``x`` first (numpy's)."""
    x = as_expr(x)
    if axis is None:
        if x.ndim != 1:
            x = reshape(x, (fixed_size(name, x.shape),))
        return x, -1
    if x.ndim == 0:
        raise ShapeError(f"{name}: axis {axis!r} is out of bounds for a scalar")
    return x, _axis(x, axis, name) - x.ndim


def cumsum(x, axis=None):
    """The cumulative sum along ``axis`` (``None``: of the flattened entries), as ``numpy.cumsum``.

    >>> import numpy as np, tensorcalc as tc
    >>> X = tc.var("X", (2, 2))
    >>> tc.evaluate(tc.cumsum(X, axis=1), X=np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[1., 3.],
           [3., 7.]])
    """
    x, axis = _one_axis("cumsum", x, axis)
    return Operation("cumsum", [x], (axis, False))


def cumprod(x, axis=None):
    """The cumulative product along ``axis`` (``None``: of the flattened entries), as
    ``numpy.cumprod``; its derivatives (every order) are exact at zeros.

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", (3,))
    >>> tc.evaluate(tc.grad(tc.sum(tc.cumprod(x)), x), x=np.array([2.0, 0.0, 5.0]))
    array([ 1., 12.,  0.])
    """
    x, axis = _one_axis("cumprod", x, axis)
    return Operation("cumprod", [x], (axis, False))


def sort(x, axis=-1):
    """The entries sorted along ``axis`` (``None``: flattened first), as ``numpy.sort``.

    The derivative gathers the adjoint by the argsort evaluated at the point; at ties it is the
    subgradient of numpy's stable order.

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", (3,))
    >>> tc.evaluate(tc.grad(tc.sort(x)[0], x), x=np.array([2.0, -1.0, 5.0]))
    array([0., 1., 0.])
    """
    x, axis = _one_axis("sort", x, axis)
    return Operation("sort", [x], (axis, None))


def partition(x, kth, axis=-1):
    """The entries of ``x`` partitioned along ``axis`` around the ``kth`` smallest, as
    ``numpy.partition``: entry ``kth`` is where sorting puts it, smaller ones before, larger
    ones after, in the order of numpy's ``argpartition`` (computed at evaluation).

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", (4,))
    >>> float(tc.evaluate(tc.partition(x, 1)[1], x=np.array([3.0, 1.0, 4.0, 2.0])))
    2.0
    """
    x, axis = _one_axis("partition", x, axis)
    kth = tuple(int(k) for k in kth) if isinstance(kth, (list, tuple)) else kth
    size = x.shape[axis]
    for k in (kth if isinstance(kth, tuple) else (kth,)):
        if not _is_int(k):
            raise ShapeError(f"partition: kth must be an integer or a sequence of them, got {k!r}")
        if isinstance(size, int) and not -size <= k < size:
            raise ShapeError(f"partition: kth={k} is out of bounds for axis {axis} of size {size}")
        if not isinstance(size, int) and k < 0:
            raise ShapeError(f"partition: a negative kth={k} needs a numeric size, but axis "
                             f"{axis} has the named size {size!r}")
    kth = tuple(int(k) % size if isinstance(size, int) else int(k) for k in kth) \
        if isinstance(kth, tuple) else (int(kth) % size if isinstance(size, int) else int(kth))
    return Operation("partition", [x], (axis, kth))
