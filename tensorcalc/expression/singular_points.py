"""Singular points: for every row of the function table and the operation table, the points
where it is not smooth (or not defined) and what tensorcalc returns there, value and derivative.

One table, :data:`SINGULAR_POINTS`, keyed by the row's name; the README's "Singular points"
table is :func:`markdown_table` of it, and the tests evaluate every entry at its point (a row
without an entry fails them).

>>> from tensorcalc.expression.singular_points import SINGULAR_POINTS
>>> [point.where for point in SINGULAR_POINTS["relu"].points]
['x = 0']
>>> SINGULAR_POINTS["relu"].points[0].derivative
'0 (step(0) = 0)'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np


INF, NAN = np.inf, np.nan


@dataclass(frozen=True)
class SingularPoint:
    """One point: ``at`` holds the operands' values there, ``build`` makes the expression from
    the package and the operands, ``build(tc, *operands)`` (``None``: the function row applied to one
    operand); ``value`` and ``gradient``
    (of the sum of the result, with respect to operand ``wrt``) are what evaluation returns, or an
    exception class that evaluation raises.  ``where``, ``value_text``, ``derivative`` and
    ``peers`` are the README's columns."""

    where: str
    value_text: str
    derivative: str
    at: tuple
    value: object
    gradient: object
    build: Optional[Callable] = None
    param: object = None
    wrt: int = 0
    peers: str = ""


@dataclass(frozen=True)
class Convention:
    """A row's singular points; ``points == ()`` with ``none`` saying why there are none."""

    points: tuple = ()
    none: str = ""


def _smooth(why="smooth on ℝ (overflow to ±∞ for large |x| is not a singular point)"):
    return Convention((), why)


def _a(*values):
    return np.array(values, dtype=float)


_RANK_ONE = np.array([[1.0, 2.0], [2.0, 4.0]])
_SINGULAR = ("SingularMatrixError",)  # resolved to the class in the tests (no import cycle here)

SINGULAR_POINTS: dict = {
    # -- the function table ------------------------------------------------------------------
    "exp": _smooth(), "sin": _smooth(), "cos": _smooth(), "tanh": _smooth(),
    "sigmoid": _smooth(), "softplus": _smooth(), "expm1": _smooth(), "arctan": _smooth(),
    "sinh": _smooth(), "cosh": _smooth(), "erf": _smooth(),
    "tan": _smooth("the poles π/2 + kπ are not floating-point numbers: tan is finite at every float"),
    "log": Convention((
        SingularPoint("x = 0", "−∞", "+∞ (x⁻¹)", (_a(0.0),), _a(-INF), _a(INF)),
        SingularPoint("x < 0", "NaN", "x⁻¹ (the formula, outside the domain)", (_a(-2.0),),
                      _a(NAN), _a(-0.5)),
    )),
    "sqrt": Convention((
        SingularPoint("x = 0", "0", "+∞", (_a(0.0),), _a(0.0), _a(INF)),
        SingularPoint("x < 0", "NaN", "NaN", (_a(-1.0),), _a(NAN), _a(NAN)),
    )),
    "relu": Convention((SingularPoint("x = 0", "0", "0 (step(0) = 0)", (_a(0.0),), _a(0.0), _a(0.0),
                                      peers="PyTorch, jax.nn.relu: 0"),)),
    "abs": Convention((SingularPoint("x = 0", "0", "0 (sign(0) = 0)", (_a(0.0),), _a(0.0), _a(0.0),
                                     peers="PyTorch: 0; jax.grad(jnp.abs): 1"),)),
    "step": Convention((SingularPoint("x = 0", "0", "0 (0 everywhere, the jump included)",
                                      (_a(0.0),), _a(0.0), _a(0.0)),)),
    "sign": Convention((SingularPoint("x = 0", "0", "0 (0 everywhere, the jump included)",
                                      (_a(0.0),), _a(0.0), _a(0.0)),)),
    "log1p": Convention((SingularPoint("x = −1", "−∞", "+∞", (_a(-1.0),), _a(-INF), _a(INF)),)),
    "arcsin": Convention((
        SingularPoint("x = ±1", "±π/2", "+∞", (_a(-1.0, 1.0),), _a(-np.pi / 2, np.pi / 2),
                      _a(INF, INF)),
        SingularPoint("|x| > 1", "NaN", "NaN", (_a(2.0),), _a(NAN), _a(NAN)),
    )),
    "arccos": Convention((
        SingularPoint("x = ±1", "π, 0", "−∞", (_a(-1.0, 1.0),), _a(np.pi, 0.0), _a(-INF, -INF)),
        SingularPoint("|x| > 1", "NaN", "NaN", (_a(2.0),), _a(NAN), _a(NAN)),
    )),
    "log2": Convention((
        SingularPoint("x = 0", "−∞", "+∞ (x⁻¹ / log 2)", (_a(0.0),), _a(-INF), _a(INF)),
        SingularPoint("x < 0", "NaN", "x⁻¹ / log 2 (the formula, outside the domain)", (_a(-2.0),),
                      _a(NAN), _a(-0.5 / np.log(2.0))),
    )),
    "log10": Convention((
        SingularPoint("x = 0", "−∞", "+∞ (x⁻¹ / log 10)", (_a(0.0),), _a(-INF), _a(INF)),
        SingularPoint("x < 0", "NaN", "x⁻¹ / log 10 (the formula, outside the domain)",
                      (_a(-2.0),), _a(NAN), _a(-0.5 / np.log(10.0))),
    )),
    "exp2": _smooth(), "arcsinh": _smooth(),
    "arccosh": Convention((
        SingularPoint("x = 1", "0", "+∞", (_a(1.0),), _a(0.0), _a(INF)),
        SingularPoint("x < 1", "NaN", "NaN", (_a(0.5),), _a(NAN), _a(NAN)),
    )),
    "arctanh": Convention((
        SingularPoint("x = ±1", "±∞", "+∞", (_a(-1.0, 1.0),), _a(-INF, INF), _a(INF, INF)),
        SingularPoint("|x| > 1", "NaN", "(1 − x²)⁻¹ (the formula, outside the domain)",
                      (_a(2.0),), _a(NAN), _a(-1.0 / 3.0)),
    )),
    "nan_to_num": Convention((SingularPoint(
        "x = NaN, ±∞", "0, the dtype's largest finite ±value (numpy's)", "0 (1 where x is finite)",
        (_a(NAN, INF, 1.0),), _a(0.0, np.finfo(float).max, 1.0), _a(0.0, 0.0, 1.0),
        peers="JAX: same"),)),
    "isfinite": Convention((SingularPoint(
        "x = NaN, ±∞", "0 (1 where x is finite)", "0 everywhere", (_a(NAN, 1.0),), _a(0.0, 1.0),
        _a(0.0, 0.0)),)),
    "floor": Convention((SingularPoint("x an integer", "x", "0 (0 everywhere, the jump included)",
                                       (_a(1.0),), _a(1.0), _a(0.0),
                                       peers="JAX, PyTorch: 0"),)),
    "ceil": Convention((SingularPoint("x an integer", "x", "0 (0 everywhere, the jump included)",
                                      (_a(1.0),), _a(1.0), _a(0.0), peers="JAX, PyTorch: 0"),)),
    "round": Convention((SingularPoint(
        "x a half-integer", "the even neighbour (numpy's round: 2.5 → 2)",
        "0 (0 everywhere, the jump included)", (_a(2.5),), _a(2.0), _a(0.0),
        peers="JAX, PyTorch: 0, same halves to even"),)),
    "trunc": Convention((SingularPoint("x a non-zero integer", "x",
                                      "0 (0 everywhere, the jump included)", (_a(-2.0, 3.0),),
                                      _a(-2.0, 3.0), _a(0.0, 0.0), peers="JAX, PyTorch: 0"),)),
    "sinc": Convention((SingularPoint(
        "x = 0 (sin(πx)/(πx) is 0/0)", "1", "0 (sinc''(0) = −π²/3: a series near 0, never NaN)",
        (_a(0.0),), _a(1.0), _a(0.0), peers="JAX: same; PyTorch: 0"),)),
    "sinc_derivative": Convention((SingularPoint(
        "x = 0, k = 2 (sinc''(0); Leibniz's rule is 0/0 there)", "−π²/3", "0 (sinc'''(0))",
        (_a(0.0),), _a(-np.pi ** 2 / 3), _a(0.0), param=2, peers="JAX: same"),)),
    "pow": Convention((
        SingularPoint("x = 0, 0 < p < 1 (x^0.5)", "0", "+∞", (_a(0.0),), _a(0.0), _a(INF),
                      param=0.5),
        SingularPoint("x = 0, p < 0 (x⁻¹)", "+∞", "−∞", (_a(0.0),), _a(INF), _a(-INF), param=-1.0),
        SingularPoint("x = 0, p = 0", "1 (0⁰ = 1)", "0", (_a(0.0),), _a(1.0), _a(0.0), param=0.0),
        SingularPoint("x < 0, p not an integer", "NaN", "NaN", (_a(-1.0),), _a(NAN), _a(NAN),
                      param=0.5),
    )),
    # -- the operation table -----------------------------------------------------------------
    "inv": Convention((SingularPoint("X singular, or singular to working precision "
                                     "(κ₁(X) = ‖X‖₁‖X⁻¹‖₁ ≥ 1/ε)", "SingularMatrixError",
                                     "SingularMatrixError",
                                     (_RANK_ONE,), _SINGULAR, _SINGULAR,
                                     lambda tc, X: tc.inv(X)),)),
    "det": Convention((
        SingularPoint("X of rank n − 1", "0", "the cofactor matrix cof(X) = adj(X)ᵀ", (_RANK_ONE,),
                      0.0, _a(4.0, -2.0, -2.0, 1.0).reshape(2, 2), lambda tc, X: tc.det(X),
                      peers="JAX, autograd: cof(X)"),
        SingularPoint("X of rank ≤ n − 2", "0", "0 (= cof(X))", (np.zeros((3, 3)),), 0.0,
                      np.zeros((3, 3)), lambda tc, X: tc.det(X), peers="JAX: 0"),
    )),
    "cofactor": Convention((SingularPoint(
        "X singular", "cof(X), exact (through an SVD)",
        "SingularMatrixError (the second derivative of det goes through X⁻¹)", (_RANK_ONE,),
        _a(4.0, -2.0, -2.0, 1.0).reshape(2, 2), _SINGULAR,
        lambda tc, X: tc.grad(tc.det(X), X).expr),)),
    "logdet": Convention((SingularPoint("X singular", "SingularMatrixError", "SingularMatrixError",
                                        (_RANK_ONE,), _SINGULAR, _SINGULAR,
                                        lambda tc, X: tc.logdet(X)),)),
    "solve": Convention((SingularPoint("A singular", "SingularMatrixError", "SingularMatrixError",
                                       (_RANK_ONE, _a(1.0, 1.0)), _SINGULAR, _SINGULAR,
                                       lambda tc, A, b: tc.solve(A, b)),)),
    "logsumexp": Convention((SingularPoint(
        "none for finite x (max-shifted); x = (1000, 1000, −1000)", "1000 + log 2",
        "softmax(x) = (½, ½, 0)", (_a(1000.0, 1000.0, -1000.0),), 1000.0 + np.log(2.0),
        _a(0.5, 0.5, 0.0), lambda tc, x: tc.logsumexp(x)),)),
    "softmax": Convention((SingularPoint(
        "none for finite x (max-shifted); x = (1000, 1000, −1000)", "(½, ½, 0)",
        "finite (of Σ softmax(x) = 1: 0)", (_a(1000.0, 1000.0, -1000.0),), _a(0.5, 0.5, 0.0),
        _a(0.0, 0.0, 0.0), lambda tc, x: tc.softmax(x)),)),
    "max": Convention((SingularPoint("ties", "the maximum", "split equally among the tied entries",
                                     (_a(2.0, 2.0, 1.0),), 2.0, _a(0.5, 0.5, 0.0),
                                     lambda tc, x: tc.max(x), peers="PyTorch amax, jnp.max: split"),)),
    "min": Convention((SingularPoint("ties", "the minimum", "split equally among the tied entries",
                                     (_a(1.0, 1.0, 2.0),), 1.0, _a(0.5, 0.5, 0.0),
                                     lambda tc, x: tc.min(x), peers="PyTorch amin, jnp.min: split"),)),
    "max_weights": Convention((SingularPoint(
        "ties (max's subgradient weights)", "1/(number of ties) at the tied entries", "0",
        (_a(2.0, 2.0, 1.0),), _a(0.5, 0.5, 0.0), _a(0.0, 0.0, 0.0),
        lambda tc, x: tc.grad(tc.max(x), x).expr),)),
    "min_weights": Convention((SingularPoint(
        "ties (min's subgradient weights)", "1/(number of ties) at the tied entries", "0",
        (_a(1.0, 1.0, 2.0),), _a(0.5, 0.5, 0.0), _a(0.0, 0.0, 0.0),
        lambda tc, x: tc.grad(tc.min(x), x).expr),)),
    "maximum": Convention((SingularPoint("a = b", "a", "½ to each operand", (_a(1.0), _a(1.0)),
                                         _a(1.0), _a(0.5), lambda tc, a, b: tc.maximum(a, b)),)),
    "minimum": Convention((SingularPoint("a = b", "a", "½ to each operand", (_a(1.0), _a(1.0)),
                                         _a(1.0), _a(0.5), lambda tc, a, b: tc.minimum(a, b)),)),
    "arctan2": Convention((
        SingularPoint("y = 0, x < 0 (the cut: y = +0 gives π, y = −0 gives −π)", "π",
                      "∂/∂y = x/(x² + y²) = 1/x (the formula)", (_a(0.0), _a(-2.0)), _a(np.pi),
                      _a(-0.5), lambda tc, y, x: tc.arctan2(y, x), peers="JAX, PyTorch: same"),
        SingularPoint("(0, 0) (the angle jumps)", "0", "NaN (0/0), ∂/∂y and ∂/∂x",
                      (_a(0.0), _a(0.0)), _a(0.0), _a(NAN), lambda tc, y, x: tc.arctan2(y, x),
                      peers="JAX: NaN; PyTorch: 0"),
    )),
    "hypot": Convention((SingularPoint(
        "(0, 0)", "0", "0 (a subgradient, as ‖x‖'s at 0)", (_a(0.0), _a(0.0)), _a(0.0), _a(0.0),
        lambda tc, x, y: tc.hypot(x, y), peers="JAX: ½ each; PyTorch: NaN"),)),
    "hypot_unit": Convention((SingularPoint(
        "(0, 0) (the gradient of hypot)", "0", "not finite (+∞ on the diagonal, NaN off it): "
        "hypot has no second derivative at 0", (_a(0.0), _a(0.0)), _a(0.0), _a(INF),
        lambda tc, x, y: tc.grad(tc.sum(tc.hypot(x, y)), x).expr, peers="JAX: 0"),)),
    "logaddexp": Convention((SingularPoint(
        "none (never overflows); a = b = 1000", "1000 + log 2", "σ(a − b) = ½ each",
        (_a(1000.0), _a(1000.0)), _a(1000.0 + np.log(2.0)), _a(0.5),
        lambda tc, a, b: tc.logaddexp(a, b), peers="JAX: same"),)),
    "logaddexp2": Convention((SingularPoint(
        "none (never overflows); a = b = 1000", "1001", "σ((a − b) log 2) = ½ each",
        (_a(1000.0), _a(1000.0)), _a(1001.0), _a(0.5),
        lambda tc, a, b: tc.logaddexp2(a, b), peers="JAX: same"),)),
    "mod": Convention((
        SingularPoint("x/y = n an integer (x = 6, y = 2)", "0", "∂/∂y = −n = −3 (∂/∂x = 1)",
                      (_a(6.0), _a(2.0)), _a(0.0), _a(-3.0), lambda tc, x, y: tc.mod(x, y),
                      wrt=1, peers="JAX: same"),
        SingularPoint("y = 0", "NaN (numpy's)", "∂/∂x = 1", (_a(1.0), _a(0.0)), _a(NAN), _a(1.0),
                      lambda tc, x, y: tc.mod(x, y), peers="JAX: same"),
    )),
    "fmod": Convention((
        SingularPoint("x/y = n an integer (x = −6, y = 2)", "−0", "∂/∂y = −n = 3 (∂/∂x = 1)",
                      (_a(-6.0), _a(2.0)), _a(0.0), _a(3.0), lambda tc, x, y: tc.fmod(x, y),
                      wrt=1, peers="JAX: same"),
        SingularPoint("y = 0", "NaN (numpy's)", "∂/∂x = 1", (_a(1.0), _a(0.0)), _a(NAN), _a(1.0),
                      lambda tc, x, y: tc.fmod(x, y), peers="JAX: same"),
    )),
    "prod": Convention((
        SingularPoint("one zero entry x = (0, 2, 3)", "0", "the product of the others: (6, 0, 0) "
                      "(never prod/x)", (_a(0.0, 2.0, 3.0),), 0.0, _a(6.0, 0.0, 0.0),
                      lambda tc, x: tc.prod(x), peers="JAX: same"),
        SingularPoint("two zero entries x = (0, 0, 3)", "0", "0", (_a(0.0, 0.0, 3.0),), 0.0,
                      _a(0.0, 0.0, 0.0), lambda tc, x: tc.prod(x), peers="JAX: same"),
    )),
    "prod_others": _smooth("a polynomial (products of the other entries, no division)"),
    "prod_others_jvp": _smooth("a polynomial"),
    "cumsum": _smooth("linear"), "shift": _smooth("linear"),
    "scan": _smooth("a polynomial (h_i = a_i h_(i-1) + b_i)"),
    "cumprod": Convention((SingularPoint(
        "a zero entry x = (2, 0, 3)", "(2, 0, 0)", "exact, no division: ∇ Σ cumprod = (1, 8, 0)",
        (_a(2.0, 0.0, 3.0),), _a(2.0, 0.0, 0.0), _a(1.0, 8.0, 0.0),
        lambda tc, x: tc.cumprod(x), peers="JAX: same"),)),
    "cumprod_vjp": _smooth("a polynomial"),
    "sort": Convention((SingularPoint(
        "ties x = (2, 2, 1)", "(1, 2, 2)", "each output's gradient goes to the entry numpy's stable "
        "argsort put there (the first tied entry first)", (_a(2.0, 2.0, 1.0),), _a(1.0, 2.0, 2.0),
        _a(1.0, 1.0, 1.0), lambda tc, x: tc.sort(x), peers="JAX: same"),)),
    "sort_gather": _smooth("linear in the values (the order is computed, piecewise constant)"),
    "sort_scatter": _smooth("linear in the values (the order is computed, piecewise constant)"),
    "partition": Convention((SingularPoint(
        "ties x = (2, 2, 1), kth = 1", "numpy's partition", "each output's gradient goes to the "
        "entry numpy's argpartition put there", (_a(2.0, 2.0, 1.0),), _a(1.0, 2.0, 2.0),
        _a(1.0, 1.0, 1.0), lambda tc, x: tc.partition(x, 1)),)),
    "partition_gather": _smooth("linear in the values (the order is computed, piecewise constant)"),
    "partition_scatter": _smooth("linear in the values (the order is computed, piecewise constant)"),
    "compare": Convention((SingularPoint(
        "a = b (x > 0 at x = 0)", "the comparison's (0 for >, 1 for >=)",
        "0 (piecewise constant; where's selection may jump there)", (_a(0.0, 1.0),),
        _a(0.0, 1.0), _a(0.0, 0.0), lambda tc, x: x > 0, peers="JAX: 0"),)),
    "select": Convention((SingularPoint(
        "an unselected entry whose derivative is not finite (where(x > 0, log(x), 0) at x = 0)",
        "the selected entry (0)", "exactly 0 to the unselected operand, but log's own derivative "
        "(∞) times that 0 is NaN by the chain rule", (_a(0.0),), _a(0.0), _a(NAN),
        lambda tc, x: tc.where(x > 0, tc.log(x), 0.0), peers="JAX: same (NaN)"),)),
    "reshape": _smooth("linear"), "vec": _smooth("linear"), "kron": _smooth("bilinear"),
    "take": _smooth("linear"), "scatter": _smooth("linear"), "concatenate": _smooth("linear"),
    "norm": Convention((
        SingularPoint("x = 0 (‖x‖₂, norm2)", "0", "0 (a subgradient)", (np.zeros(3),), 0.0,
                      np.zeros(3), lambda tc, x: tc.norm(x),
                      peers="PyTorch: 0; jax.grad(jnp.linalg.norm): NaN"),
        SingularPoint("X = 0 (‖X‖_F)", "0", "0 (a subgradient)", (np.zeros((2, 2)),), 0.0,
                      np.zeros((2, 2)), lambda tc, X: tc.norm(X, "fro"), peers="JAX: NaN"),
        SingularPoint("x = 0 (‖x‖_p, p = 3)", "0", "0 (a subgradient)", (np.zeros(3),), 0.0,
                      np.zeros(3), lambda tc, x: tc.norm(x, 3), peers="JAX: NaN"),
        SingularPoint("a zero entry, p < 1", "the norm", "0 at that entry", (_a(0.0, 1.0),), 1.0,
                      _a(0.0, 1.0), lambda tc, x: tc.norm(x, 0.5)),
    )),
    "norm_grad": Convention((SingularPoint(
        "x = 0 (the gradient of ‖x‖)", "0", "NaN: ‖x‖ has no second derivative at 0",
        (np.zeros(2),), np.zeros(2), _a(NAN, NAN), lambda tc, x: tc.grad(tc.norm(x), x).expr),)),
    "power": Convention((
        SingularPoint("x = 0, y > 0 (also 0 ** y)", "0", "∂/∂y = 0", (_a(0.0), _a(2.0)), _a(0.0),
                      _a(0.0), lambda tc, x, y: x ** y, wrt=1, peers="JAX: 0"),
        SingularPoint("x = 0, y > 0 (0 ** y, a constant base)", "0", "∂/∂y = 0", (_a(2.0),),
                      _a(0.0), _a(0.0), lambda tc, y: 0.0 ** y, peers="JAX: 0"),
        SingularPoint("x = 0, y = (2, 1, 0.5)", "0", "∂/∂x = y 0^(y−1) = (0, 1, +∞)",
                      (_a(0.0, 0.0, 0.0), _a(2.0, 1.0, 0.5)), _a(0.0, 0.0, 0.0),
                      _a(0.0, 1.0, INF), lambda tc, x, y: x ** y),
        SingularPoint("x = 0, y = 0", "1 (0⁰ = 1)", "∂/∂y = log 0 = −∞", (_a(0.0), _a(0.0)),
                      _a(1.0), _a(-INF), lambda tc, x, y: x ** y, wrt=1),
        SingularPoint("x < 0", "NaN (as exp(y log x))", "NaN", (_a(-2.0), _a(2.0)), _a(NAN),
                      _a(NAN), lambda tc, x, y: x ** y, wrt=1),
    )),
    "eigh_factor": Convention((), "the packed factorization; its outputs' rows state the points"),
    "svd_factor": Convention((), "the packed factorization; its outputs' rows state the points"),
    "eigh_values": Convention((SingularPoint(
        "repeated eigenvalues (X = I)", "the eigenvalues", "V diag(w̄) Vᵀ (of numpy's V)",
        (np.eye(2),), _a(1.0, 1.0), np.eye(2), lambda tc, X: tc.eigvalsh(X), peers="JAX: same"),)),
    "eigh_vectors": Convention((SingularPoint(
        "repeated eigenvalues (X = I)", "numpy's eigenvectors", "SingularMatrixError",
        (np.eye(2),), np.eye(2), _SINGULAR, lambda tc, X: tc.eigh(X)[1],
        peers="JAX: NaN/inf"),)),
    "svd_s": Convention((SingularPoint(
        "X = 0 (repeated and zero singular values)", "0", "U Vᵀ of numpy's SVD (a subgradient)",
        (np.zeros((2, 2)),), _a(0.0, 0.0), np.eye(2), lambda tc, X: tc.svdvals(X)),)),
    "svd_u": Convention((SingularPoint(
        "repeated singular values (X = I)", "numpy's U", "SingularMatrixError", (np.eye(2),),
        np.eye(2), _SINGULAR, lambda tc, X: tc.svd(X)[0], peers="JAX: NaN/inf"),)),
    "svd_vt": Convention((SingularPoint(
        "repeated singular values (X = I)", "numpy's Vᵀ", "SingularMatrixError", (np.eye(2),),
        np.eye(2), _SINGULAR, lambda tc, X: tc.svd(X)[2], peers="JAX: NaN/inf"),)),
    "qr_factor": Convention((), "the packed factorization; its outputs' rows state the points"),
    "qr_q": Convention((SingularPoint(
        "X rank-deficient (a zero on R's diagonal)", "numpy's Q", "SingularMatrixError",
        (np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]),), np.eye(3, 2), _SINGULAR,
        lambda tc, X: tc.qr(X)[0], peers="JAX: NaN/inf"),)),
    "qr_r": Convention((SingularPoint(
        "X rank-deficient (a zero on R's diagonal)", "numpy's R", "SingularMatrixError",
        (np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]),), np.diag([1.0, 0.0]), _SINGULAR,
        lambda tc, X: tc.qr(X)[1], peers="JAX: NaN/inf"),)),
    "lu_factor": Convention((), "the packed factorization; its outputs' rows state the points"),
    "lu_p": Convention((SingularPoint(
        "a tie for the pivot (X = [[1, 2], [1, 3]])", "I (the first row, as LAPACK)",
        "0 (piecewise constant)", (np.array([[1.0, 2.0], [1.0, 3.0]]),), np.eye(2),
        np.zeros((2, 2)), lambda tc, X: tc.lu(X)[0]),)),
    "lu_l": Convention((SingularPoint(
        "X singular (a zero pivot)", "scipy's L", "SingularMatrixError",
        (np.array([[1.0, 2.0], [2.0, 4.0]]),), np.array([[1.0, 0.0], [0.5, 1.0]]), _SINGULAR,
        lambda tc, X: tc.lu(X)[1], peers="JAX: NaN"),)),
    "lu_u": Convention((SingularPoint(
        "X singular (a zero pivot)", "scipy's U", "SingularMatrixError",
        (np.array([[1.0, 2.0], [2.0, 4.0]]),), np.array([[2.0, 4.0], [0.0, 0.0]]), _SINGULAR,
        lambda tc, X: tc.lu(X)[2], peers="JAX: NaN"),)),
    "triangular_inverse": Convention((SingularPoint(
        "a (numerically) zero diagonal entry: T_ii ≤ 1e-12 max T_jj in size",
        "SingularMatrixError naming qr or lu",
        "SingularMatrixError", (np.array([[1.0, 2.0], [0.0, 0.0]]),), _SINGULAR, _SINGULAR,
        lambda tc, T: tc.Operation("triangular_inverse", [T], "qr")),)),
    "spectral_gaps": Convention((SingularPoint(
        "repeated values w_i = w_j", "SingularMatrixError", "SingularMatrixError", (_a(1.0, 1.0),),
        _SINGULAR, _SINGULAR,
        lambda tc, w: tc.Operation("spectral_gaps", [w], "eigh")),)),
    "cholesky": Convention((SingularPoint(
        "X not positive definite", "SingularMatrixError naming the leading minor",
        "SingularMatrixError", (np.array([[1.0, 2.0], [2.0, 1.0]]),), _SINGULAR,
        _SINGULAR, lambda tc, X: tc.cholesky(X), peers="JAX: NaN"),)),
    "expm": _smooth("entire (a power series); overflow for large ‖X‖ is not a singular point"),
    "expm_frechet": _smooth("entire in X, linear in E"),
    "pinv": Convention((SingularPoint(
        "X rank-deficient", "SingularMatrixError (X⁺ jumps there)", "SingularMatrixError",
        (np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]]),), _SINGULAR,
        _SINGULAR, lambda tc, X: tc.pinv(X), peers="numpy: the pinv of the rank"),)),
}


def markdown_table() -> str:
    """The README's table: one line per singular point, and one per row that has none."""
    lines = ["| function | at | value | derivative | peers |", "|---|---|---|---|---|"]
    for name, convention in SINGULAR_POINTS.items():
        if not convention.points:
            lines.append(f"| `{name}` | none: {convention.none} | | | |")
        for point in convention.points:
            lines.append(f"| `{name}` | {point.where} | {point.value_text} | {point.derivative} | "
                         f"{point.peers} |")
    return "\n".join(lines)
