"""numpy source of the product, scan and sorting rows (registered into
:data:`~tensorcalc.evaluation.operation_sources.OPERATION_SOURCES`), in names that jax, torch
and dask read too (their namespaces map the few that differ).  The exclusive products are
cumulative products of the entries shifted by one (no division, so exact at zeros); the
helpers ``prod_others_jvp``, ``cumprod_vjp`` and ``scan``, which :func:`tensorcalc.evaluate` runs
in log₂ n vectorized steps, are written as sums over an (n, n) table per slice, built from cumulative
products again (exact, but O(n²) memory).  ``partition`` and its adjoints run on numpy
only (:data:`NUMPY_ONLY`): the order of the other entries is numpy's ``argpartition``'s own.

>>> from tensorcalc.evaluation.operation_sources import OPERATION_SOURCES
>>> OPERATION_SOURCES["cumsum"](["x"], (-1, True))
'np.flip(np.cumsum(np.flip(x, (-1,)), axis=-1), (-1,))'
"""

from __future__ import annotations

from ..expression import scans  # noqa: F401 - the rows written here
from .indexing_sources import NUMPY_ONLY
from .operation_sources import register_source

NUMPY_ONLY.update({name: "keeps the other entries in numpy's argpartition order"
                   for name in ("partition", "partition_gather", "partition_scatter")})


def _flip(code, axis=-1):
    return f"np.flip({code}, ({axis},))"


def _left(v):
    """Π_{k<j} v_k along the last axis of the code ``v`` (a cumulative product shifted by one)."""
    return f"np.cumprod(np.concatenate([np.ones_like({v}[..., :1]), {v}[..., :-1]], axis=-1), axis=-1)"


def _right(v):
    """Π_{k>j} v_k along the last axis."""
    return _flip(_left(_flip(v)))


def _moved(code, axis):
    return code if axis == -1 else f"np.moveaxis({code}, {axis}, -1)"


def _back(code, axis):
    return code if axis == -1 else f"np.moveaxis({code}, -1, {axis})"


def _prod_others_source(codes, axis):
    return _back(f"(lambda v: {_left('v')} * {_right('v')})({_moved(codes[0], axis)})", axis)


def _prod_others_jvp_source(codes, axis):
    # row j of w is x with entry j set to 1: its prod_others off the diagonal is Π_{k≠i,j} x_k
    x = _moved(f"np.broadcast_to({codes[0]}, {codes[1]}.shape)", axis)
    others = f"(lambda w: {_left('w')} * {_right('w')})(np.where(eye, 1.0, x[..., None, :]))"
    return _back(f"(lambda x, t: (lambda eye: np.sum(np.where(eye, 0.0, {others}) * "
                 f"t[..., None, :], axis=-1))(np.eye(x.shape[-1], dtype=bool)))"
                 f"({x}, {_moved(codes[1], axis)})", axis)


def _cumulative_source(name):
    def source(codes, param):
        axis, reverse = param
        if reverse:
            return _flip(f"np.{name}({_flip(codes[0], axis)}, axis={axis})", axis)
        return f"np.{name}({codes[0]}, axis={axis})"
    return source


def _scan_source(codes, param):
    # h_i = Σ_{j≤i} b_j Π_{j<k≤i} a_k; row j of the table is the cumulative product of a with
    # the entries up to j set to 1
    axis, reverse = param
    a = _moved(f"np.broadcast_to({codes[0]}, {codes[1]}.shape)", axis)
    b = _moved(codes[1], axis)
    if reverse:
        a, b = _flip(a), _flip(b)
    table = "np.cumprod(np.where(after, a[..., None, :], 1.0), axis=-1)"
    body = (f"(lambda a, b: (lambda n: (lambda after, upto: np.sum(np.where(upto, {table}, 0.0) "
            f"* b[..., :, None], axis=-2))(np.arange(n)[None, :] > np.arange(n)[:, None], "
            f"np.arange(n)[None, :] >= np.arange(n)[:, None]))(a.shape[-1]))({a}, {b})")
    return _back(_flip(body) if reverse else body, axis)


def _shift_source(codes, param):
    axis, reverse, fill = param
    x = _moved(codes[0], axis)
    if reverse:
        x = _flip(x)
    body = (f"(lambda x: np.concatenate([np.full_like(x[..., :1], {fill!r}), x[..., :-1]], "
            f"axis=-1))({x})")
    return _back(_flip(body) if reverse else body, axis)


def _cumprod_vjp_source(codes, param):
    # x̄_j = Π_{k<j} x_k · Σ_{i≥j} G_i Π_{j<k≤i} x_k; row j of the table is the cumulative product
    # of x with the entries up to j set to 1
    axis, reverse = param
    x = _moved(f"np.broadcast_to({codes[0]}, {codes[1]}.shape)", axis)
    g = _moved(codes[1], axis)
    if reverse:
        x, g = _flip(x), _flip(g)
    table = "np.cumprod(np.where(upper, x[..., None, :], 1.0), axis=-1)"
    tail = f"np.sum(np.where(after, {table}, 0.0) * g[..., None, :], axis=-1)"
    body = (f"(lambda x, g: (lambda n: (lambda upper, after: {_left('x')} * {tail})"
            f"(np.arange(n)[None, :] > np.arange(n)[:, None], "
            f"np.arange(n)[None, :] >= np.arange(n)[:, None]))(x.shape[-1]))({x}, {g})")
    return _back(_flip(body) if reverse else body, axis)


def _order(x, param):
    axis, kth = param
    if kth is None:
        return f"np.argsort({x}, axis={axis}, kind='stable')"
    return f"np.argpartition({x}, {kth!r}, axis={axis})"


def _sort_source(codes, param):
    return f"np.take_along_axis({codes[0]}, {_order(codes[0], param)}, axis={param[0]})"


def _gather_source(codes, param):
    order = f"np.broadcast_to({_order(codes[0], param)}, {codes[1]}.shape)"
    return f"np.take_along_axis({codes[1]}, {order}, axis={param[0]})"


def _scatter_source(codes, param):
    inverse = f"np.argsort({_order(codes[0], param)}, axis={param[0]}, kind='stable')"
    return (f"np.take_along_axis({codes[1]}, np.broadcast_to({inverse}, {codes[1]}.shape), "
            f"axis={param[0]})")


register_source("prod", lambda codes, axes: f"np.prod({codes[0]}, axis={axes})")
register_source("prod_others", _prod_others_source)
register_source("prod_others_jvp", _prod_others_jvp_source)
register_source("cumsum", _cumulative_source("cumsum"))
register_source("cumprod", _cumulative_source("cumprod"))
register_source("cumprod_vjp", _cumprod_vjp_source)
register_source("scan", _scan_source)
register_source("shift", _shift_source)
register_source("sort", _sort_source)
register_source("partition", _sort_source)
for _kind in ("sort", "partition"):
    register_source(f"{_kind}_gather", _gather_source)
    register_source(f"{_kind}_scatter", _scatter_source)
