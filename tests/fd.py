"""Finite-difference projection checks, in the style of HIPS autograd's ``check_grads``.

No Jacobian is ever built by the checker itself.  For a function ``f`` of ``x``
and a derivative ``D`` of shape ``f.shape + x.shape`` (a generalized Jacobian;
for a scalar ``f`` that is just the gradient), random directions ``u``
(output-shaped) and ``v`` (input-shaped) give two numbers that must agree:

* ``⟨u, D v⟩``, contracting the derivative with numpy, and
* ``⟨u, (f(x + εv) − f(x − εv)) / 2ε⟩``, a central difference.

Float64 with ``ε = 1e-6`` leaves a truncation error ``~ε²`` and a rounding
error ``~1e-16 |f| / ε``, so a relative tolerance of ``1e-5`` (plus a small
absolute floor scaled by ``|u| |f|``) is tight enough to catch any wrong rule.
"""

from __future__ import annotations

import numpy as np

import tensorcalc as tc
from tensorcalc.expression.nodes import Var, postorder

EPS = 1e-6
RTOL = 1e-5
ATOL = 1e-8  # times (1 + |u| |f(x)|): the rounding floor of a central difference


# ---------------------------------------------------------------------------
# The core: numpy functions and arrays only


def check_projection(fun, x, derivative, rng, n_directions=3, eps=EPS, rtol=RTOL, atol=ATOL,
                     label=""):
    """Check ``derivative`` (shape ``fun(x).shape + x.shape``) against central differences of
    the numpy function ``fun`` at ``x`` along ``n_directions`` random direction pairs."""
    x = np.asarray(x, dtype=float)
    f0 = np.asarray(fun(x), dtype=float)
    derivative = np.asarray(derivative, dtype=float)
    assert derivative.shape == f0.shape + x.shape, (
        f"{label}: derivative has shape {derivative.shape}, expected f.shape + x.shape = "
        f"{f0.shape} + {x.shape}")
    assert np.all(np.isfinite(derivative)), f"{label}: derivative is not finite: {derivative}"
    for _ in range(n_directions):
        u = rng.standard_normal(f0.shape)
        v = rng.standard_normal(x.shape)
        exact = float(np.sum(np.tensordot(u, derivative, axes=f0.ndim) * v))
        difference = np.asarray(fun(x + eps * v)) - np.asarray(fun(x - eps * v))
        numeric = float(np.sum(u * difference)) / (2 * eps)
        floor = atol * (1.0 + np.linalg.norm(u) * np.linalg.norm(f0))
        tolerance = rtol * max(abs(exact), abs(numeric)) + floor
        assert abs(exact - numeric) <= tolerance, (
            f"{label}: <u, J v> from the derivative is {exact!r}, central differences give "
            f"{numeric!r} (difference {abs(exact - numeric):.3g}, tolerance {tolerance:.3g})")


# ---------------------------------------------------------------------------
# Expressions: evaluate with tensorcalc, differentiate with tensorcalc


def names_in(expr) -> set:
    return {node.name for node in postorder([tc.as_expr(expr)]) if isinstance(node, Var)}


def values_for(expr_or_derivative, values: dict) -> dict:
    """The subset of ``values`` that evaluating ``expr_or_derivative`` accepts."""
    names = names_in(expr_or_derivative)
    for part in ("of", "wrt", "cotangent"):  # a Derivative also accepts the variables of
        inner = getattr(expr_or_derivative, part, None)  # what it differentiates, and so on
        if inner is not None:
            names |= names_in(inner)
    return {name: value for name, value in values.items() if name in names}


def evaluate(expr, values: dict):
    return tc.evaluate(expr, values_for(expr, values))


def function_of(f, wrt, values: dict):
    """``x -> value of f`` with ``wrt`` set to ``x`` and every other variable as in ``values``."""
    program = tc.compile(f)
    fixed = values_for(f, values)

    def fun(x):
        return np.asarray(program({**fixed, wrt.name: x}), dtype=float) if wrt.name in fixed \
            else np.asarray(program(fixed), dtype=float)  # f does not depend on wrt at all

    return fun


def check_derivative(f, wrt, values: dict, derivative=None, rng=None, **options):
    """Check ``derivative`` (default ``tc.jacobian(f, wrt)``) of the expression ``f`` against
    central differences at ``values``; returns the evaluated derivative."""
    rng = rng if rng is not None else np.random.default_rng(0)
    if derivative is None:
        derivative = tc.jacobian(f, wrt)
    value = np.asarray(evaluate(derivative, values))
    label = options.pop("label", f"d({tc.as_expr(f)})/d{wrt.name}")
    check_projection(function_of(f, wrt, values), values[wrt.name], value, rng, label=label,
                     **options)
    return value


def check_grads(f, wrts, values: dict, order=2, rng=None, **options):
    """Like autograd's ``check_grads``: the Jacobian of ``f`` with respect to each variable,
    and (``order=2``) the Jacobian of each of those with respect to each variable again."""
    rng = rng if rng is not None else np.random.default_rng(0)
    for wrt in wrts:
        first = tc.jacobian(f, wrt)
        check_derivative(f, wrt, values, first, rng=rng, **options)
        if order >= 2:
            for again in wrts:
                check_derivative(first, again, values, tc.jacobian(first, again), rng=rng,
                                 label=f"second derivative d²f/d{wrt.name}d{again.name}",
                                 **options)


def check_vjp(f, wrt, values: dict, rng=None, **options):
    """``tc.vjp(f, wrt, u)`` for a random array ``u``: ``⟨vjp, v⟩`` against ``⟨u, J v⟩`` by
    central differences (the cotangent is folded into f, so f becomes scalar)."""
    rng = rng if rng is not None else np.random.default_rng(0)
    f = tc.as_expr(f)
    shape = np.shape(evaluate(f, values))
    u = rng.standard_normal(shape)
    result = tc.vjp(f, wrt, u)
    value = np.asarray(evaluate(result, values))
    forward = function_of(f, wrt, values)
    check_projection(lambda x: np.sum(u * forward(x)), values[wrt.name], value, rng,
                     label=f"vjp of {f} wrt {wrt.name}", **options)
    return value


def random_values(variables, rng, low=-1.0, high=1.0, sizes=None) -> dict:
    """Uniform values in ``[low, high)`` for each variable (named dimensions from ``sizes``)."""
    sizes = sizes or {}
    return {v.name: rng.uniform(low, high, size=tuple(sizes.get(d, d) for d in v.shape))
            for v in variables}
