"""The matrix language's names for the Python API's operations (one vocabulary in both):
``softmax``, ``logsumexp``, ``max``, ``min``, ``prod``, ``cumsum``, ``cumprod``, ``sort`` (the
last three of a vector), ``solve``, ``norm(x, p)``, ``kron``, ``vec``, ``trace``, ``eye(n)`` (an
identity of a size given as a number), ``commutation(p, q)``, the (pq × pq) commutation matrix
``K`` with ``K vec(X) = vec(Xᵀ)`` for ``X`` of p × q (column-major ``vec``, as ``tc.vec``), and
numpy's elementwise names ``arctan2(y, x)``, ``hypot``, ``logaddexp``, ``logaddexp2``, ``mod``
(= ``remainder``), ``fmod``, ``square``, ``reciprocal``, ``deg2rad``, ``rad2deg``, ``absolute``
and ``fabs`` (= ``abs``).

>>> import numpy as np, tensorcalc as tc
>>> e = tc.parse("logsumexp(x) + norm(x, 1) + trace(kron(A, B))", x=(3,), A=(2, 2), B=(2, 2))
>>> x, A, B = np.array([1.0, -2.0, 0.5]), np.eye(2), np.ones((2, 2))
>>> bool(np.isclose(tc.evaluate(e, x=x, A=A, B=B),
...                 np.log(np.exp(x).sum()) + np.abs(x).sum() + np.trace(A) * np.trace(B)))
True

A row is ``(arities, check, build)``: ``check(typer, node, args)`` returns the result's type
from the argument types (``typer.typed(kind, dims)``), raising ``typer.error`` when they do
not fit; ``build(args, arg_types)`` builds the expression.  Reductions here reduce every axis
(as ``sum`` does); ``kron`` and ``vec`` need sizes that are numbers.
"""

from __future__ import annotations

import numpy as np

from ..expression import construct as c
from ..expression import elementwise_names, layout, linalg, pairwise, reductions, scans
from ..expression.nodes import Delta


def _scalar(typer, node, args):
    return typer.typed("scalar", ())


def _same(typer, node, args):
    return typer.typed(args[0].kind, args[0].dims)


def _extreme(kind):
    def check(typer, node, args):
        if len(args) == 1:
            return _scalar(typer, node, args)
        return typer.same_shapes(node, args, f"{kind}(a, b)")

    def build(args, types):
        if len(args) == 1:
            return (reductions.max if kind == "max" else reductions.min)(c.as_expr(args[0]))
        return (pairwise.maximum if kind == "max" else pairwise.minimum)(*args)
    return check, build


def _binary(kind, build):
    """numpy's binary elementwise functions: two operands of one shape (a scalar broadcasts)."""
    def check(typer, node, args):
        return typer.same_shapes(node, args, f"{kind}(a, b)")
    return (2,), check, lambda args, types: build(*args)


def _unary(build):
    return (1,), _same, lambda args, types: build(args[0])


def _along_vector(name):
    def check(typer, node, args):
        if args[0].kind not in ("column", "row"):
            raise typer.error(f"{name}(x): needs a vector, got {typer.show(node.args[0], args[0])}; "
                              f"for a matrix use tc.{name}(X, axis=...)", node.span)
        return _same(typer, node, args)
    return check, lambda args, types: getattr(scans, name)(c.as_expr(args[0]))


def _solve_check(typer, node, args):
    a, b = args
    if a.kind != "matrix" or b.kind not in ("column", "matrix"):
        raise typer.error(f"solve(A, b): needs a square matrix A and a column vector or matrix b, "
                          f"got {typer.show(node.args[0], a)} and {typer.show(node.args[1], b)}",
                          node.span)
    typer.square(node, a, "solve", node.args[0])
    typer.unify_all([(a.dims[1], b.dims[0])], lambda *_: typer.error(
        f"solve(A, b): A has {typer.shape_text(a.dims)} but b has {typer.shape_text(b.dims)}; "
        "their first dimensions differ", node.span))
    return typer.typed(b.kind, b.dims)


def _norm_check(typer, node, args):
    if len(args) == 2 and args[1].value is None:
        raise typer.error("norm(x, p): p must be a constant such as 1, 2 or 3", node.span)
    return _scalar(typer, node, args)


def _norm_build(args, types):
    return reductions.norm(c.as_expr(args[0]), None if len(args) == 1 else args[1])


def _kron_check(typer, node, args):
    kinds = {a.kind for a in args}
    if "scalar" in kinds:
        raise typer.error(f"kron(A, B): needs vectors or matrices, got "
                          f"{typer.show(node.args[0], args[0])} and {typer.show(node.args[1], args[1])}",
                          node.span)
    kind = kinds.pop() if len(kinds) == 1 else "matrix"  # a vector with a matrix: a matrix
    return typer.typed(kind, tuple(typer.dims.new() for _ in range(1 if kind != "matrix" else 2)))


def _kron_build(args, types):
    """``kron``; beside a matrix (or a row beside a column) a vector is a one-column matrix,
    a row a one-row matrix."""
    kinds = [t.kind for t in types]
    if kinds[0] == kinds[1]:
        return layout.kron(*args)
    return layout.kron(*(c.as_expr(x) if kind == "matrix" else layout.reshape(
        x, (1, x.shape[0]) if kind == "row" else (x.shape[0], 1)) for x, kind in zip(args, kinds)))


def _eye_check(typer, node, args):
    size = args[0].value
    if size is None or size != int(size) or size < 1:
        raise typer.error("eye(n): n must be a positive whole number", node.span)
    n = typer.dims.new(int(size))
    return typer.typed("matrix", (n, n))


def _commutation_check(typer, node, args):
    sizes = [a.value for a in args]
    if any(size is None or size != int(size) or size < 1 for size in sizes):
        raise typer.error("commutation(p, q): p and q must be positive whole numbers", node.span)
    n = typer.dims.new(int(sizes[0]) * int(sizes[1]))
    return typer.typed("matrix", (n, n))


def commutation_matrix(p: int, q: int) -> np.ndarray:
    """``K`` with ``K vec(X) = vec(Xᵀ)`` for ``X`` of p × q, column-major: ``K[l + q·k, k + p·l] = 1``.

    >>> X = np.arange(6.0).reshape(2, 3)
    >>> bool(np.array_equal(commutation_matrix(2, 3) @ X.reshape(-1, order="F"), X.T.reshape(-1, order="F")))
    True
    """
    k, l = np.meshgrid(np.arange(p), np.arange(q), indexing="ij")
    K = np.zeros((p * q, p * q))
    K[(l + q * k).ravel(), (k + p * l).ravel()] = 1.0
    return K


def _vec_check(typer, node, args):
    if args[0].kind == "scalar":
        raise typer.error("vec(X): needs a vector or a matrix, got a scalar", node.span)
    return typer.typed("column", (typer.dims.new(),))


def _trace_check(typer, node, args):
    if args[0].kind != "matrix":
        raise typer.error(f"trace: needs a square matrix, got {typer.show(node.args[0], args[0])}",
                          node.span)
    typer.square(node, args[0], "trace", node.args[0])
    return _scalar(typer, node, args)


def _vec_build(args, types):
    x = c.as_expr(args[0])
    return x if x.ndim == 1 else layout.vec(x)  # a vector's vec is itself


FUNCTIONS = {
    "softmax": ((1,), _same, lambda args, types: reductions.softmax(c.as_expr(args[0]), axis=None)),
    "logsumexp": ((1,), _scalar, lambda args, types: reductions.logsumexp(c.as_expr(args[0]))),
    "max": ((1, 2), *_extreme("max")),
    "prod": ((1,), _scalar, lambda args, types: scans.prod(c.as_expr(args[0]))),
    "cumsum": ((1,), *_along_vector("cumsum")),
    "cumprod": ((1,), *_along_vector("cumprod")),
    "sort": ((1,), *_along_vector("sort")),
    "min": ((1, 2), *_extreme("min")),
    "solve": ((2,), _solve_check, lambda args, types: linalg.solve(*args)),
    "norm": ((1, 2), _norm_check, _norm_build),
    "kron": ((2,), _kron_check, _kron_build),
    "eye": ((1,), _eye_check, lambda args, types: Delta(int(args[0]))),
    "vec": ((1,), _vec_check, _vec_build),
    "trace": ((1,), _trace_check, lambda args, types: c.trace(args[0])),
    # numpy's elementwise names (their rows print under these names, but mod for remainder)
    **{kind: _binary(kind, getattr(pairwise, kind)) for kind in
       ("arctan2", "hypot", "logaddexp", "logaddexp2", "mod", "remainder", "fmod")},
    "square": _unary(elementwise_names.square),
    "reciprocal": _unary(elementwise_names.reciprocal),
    "deg2rad": _unary(elementwise_names.deg2rad),
    "rad2deg": _unary(elementwise_names.rad2deg),
    "absolute": _unary(lambda x: c.apply_function("abs", x)),
    "fabs": _unary(lambda x: c.apply_function("abs", x)),
    "commutation": ((2,), _commutation_check,
                    lambda args, types: c.const(commutation_matrix(int(args[0]), int(args[1])))),
}
