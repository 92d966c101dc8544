"""Singular points (tensorcalc/expression/singular_points.py): every row of the function and operation
tables has a stated convention, every stated point evaluates to what the table says, and the
derivatives that exist at singular points (det's cofactor matrix, ‖x‖ at 0, 0^y) agree with JAX
and with central differences."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import tensorcalc as tc
from tensorcalc.expression.functions import FUNCTIONS
from tensorcalc.expression.operations import OPERATIONS
from tensorcalc.expression.singular_points import SINGULAR_POINTS, markdown_table

README = Path(__file__).resolve().parent.parent / "README.md"
POINTS = [(name, n, point) for name, convention in SINGULAR_POINTS.items()
          for n, point in enumerate(convention.points)]


def test_every_function_and_operation_has_a_convention():
    missing = sorted((set(FUNCTIONS) | set(OPERATIONS)) - set(SINGULAR_POINTS))
    assert not missing, f"rows without a stated singular-point convention: {missing}"
    for name, convention in SINGULAR_POINTS.items():
        assert convention.points or convention.none, name


def test_the_readme_table_is_the_code_table():
    assert markdown_table() in README.read_text()


@pytest.fixture
def rng():
    return np.random.default_rng(15)


def _expected(stated):
    return tc.SingularMatrixError if isinstance(stated, tuple) else None


def _evaluate(name, point):
    operands = [tc.var(f"a{k}", np.shape(value)) for k, value in enumerate(point.at)]
    values = {f"a{k}": value for k, value in enumerate(point.at)}
    if point.build is None:
        expr = tc.apply_function(name, operands[0], point.param)
    else:
        expr = point.build(tc, *operands)
    return expr, operands, values


@pytest.mark.parametrize("name, n, point", POINTS, ids=[f"{name}-{n}" for name, n, _ in POINTS])
def test_each_stated_point_evaluates_as_stated(name, n, point):
    expr, operands, values = _evaluate(name, point)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        error = _expected(point.value)
        if error is not None:
            with pytest.raises(error):
                tc.evaluate(expr, values)
        else:
            np.testing.assert_allclose(tc.evaluate(expr, values), point.value, rtol=1e-12,
                                       atol=1e-12)
        loss = expr if expr.ndim == 0 else tc.sum(expr)
        gradient = tc.grad(loss, operands[point.wrt])
        error = _expected(point.gradient)
        if error is not None:
            with pytest.raises(error):
                tc.evaluate(gradient, values)
        else:
            np.testing.assert_allclose(tc.evaluate(gradient, values), point.gradient, rtol=1e-12,
                                       atol=1e-12)


# ---------------------------------------------------------------------------
# det at singular matrices: the cofactor matrix, against JAX and central differences


def _rank(n, r, rng, batch=()):
    return rng.standard_normal(batch + (n, r)) @ rng.standard_normal(batch + (r, n))


def _jax_det_grad(x):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return np.asarray(jax.vmap(jax.grad(jax.numpy.linalg.det))(x.reshape((-1,) + x.shape[-2:]))
                      ).reshape(x.shape)


def _central_det_grad(x, eps=1e-5):
    """Central differences of det, entry by entry (only one matrix of a batch moves at a time)."""
    out = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        out[index] = np.sum(np.linalg.det(x + step) - np.linalg.det(x - step)) / (2 * eps)
    return out


@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("deficiency", [0, 1, 2])
def test_det_gradient_is_the_cofactor_matrix_at_every_rank(n, deficiency, rng):
    r = n - deficiency
    if r < 0:
        pytest.skip("rank below 0")
    x = _rank(n, r, rng) if r else np.zeros((n, n))
    X = tc.var("X", (n, n))
    got = tc.evaluate(tc.grad(tc.det(X), X), X=x)
    np.testing.assert_allclose(got, _jax_det_grad(x), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(got, _central_det_grad(x), rtol=1e-6, atol=1e-8)
    if deficiency >= 2:
        np.testing.assert_allclose(got, 0.0, atol=1e-12)


def test_det_gradient_of_a_batch_with_singular_and_invertible_matrices(rng):
    x = np.stack([_rank(3, 3, rng), _rank(3, 2, rng), _rank(3, 1, rng)])
    X = tc.var("X", (3, 3, 3))
    got = tc.evaluate(tc.grad(tc.sum(tc.det(X)), X), X=x)
    np.testing.assert_allclose(got, _jax_det_grad(x), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(got, _central_det_grad(x), rtol=1e-6, atol=1e-8)


def test_det_gradient_through_every_backend_and_generated_code_at_a_singular_matrix(rng):
    x = _rank(3, 2, rng)
    X = tc.var("X", (3, 3))
    gradient = tc.grad(tc.det(X), X)
    expected = _jax_det_grad(x)
    namespace: dict = {}
    exec(tc.codegen(gradient, name="cof"), namespace)  # our own generated text, not user text
    np.testing.assert_allclose(namespace["cof"](X=x), expected, rtol=1e-9, atol=1e-10)
    for backend in ("jax", "torch", "dask"):
        pytest.importorskip(backend)
        program = tc.compile(gradient, backend=backend)
        got = np.asarray(program(X=x).compute() if backend == "dask" else program(X=x))
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-10, err_msg=backend)


def test_second_derivatives_of_det_at_invertible_and_singular_matrices(rng):
    x = rng.standard_normal((3, 3))
    X = tc.var("X", (3, 3))
    hessian = tc.evaluate(tc.hessian(tc.det(X), X), X=x)
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    np.testing.assert_allclose(hessian, np.asarray(jax.hessian(jax.numpy.linalg.det)(x)),
                               rtol=1e-9, atol=1e-10)
    with pytest.raises(tc.SingularMatrixError, match="inv"):
        tc.evaluate(tc.hessian(tc.det(X), X), X=_rank(3, 2, rng))


def test_det_gradient_prints_its_identity_form_and_that_text_refuses_a_singular_matrix(rng):
    X = tc.var("X", (3, 3))
    gradient = tc.grad(tc.det(X), X)
    assert tc.matrix_notation(gradient) == "det(X) X⁻ᵀ"
    assert tc.latex(gradient) == "\\det(X) X^{-\\top}"
    text = tc.to_text(gradient)
    assert text == "det(X)*inv(X)'"
    x = rng.standard_normal((3, 3))
    np.testing.assert_allclose(tc.evaluate(tc.parse(text, X=(3, 3)), X=x),
                               tc.evaluate(gradient, X=x), rtol=1e-12)
    with pytest.raises(tc.SingularMatrixError):  # an error, never a wrong value
        tc.evaluate(tc.parse(text, X=(3, 3)), X=_rank(3, 2, rng))


def test_near_singular_matrices_keep_the_cofactor_accurate(rng):
    x = _rank(4, 3, rng) + 1e-9 * rng.standard_normal((4, 4))
    X = tc.var("X", (4, 4))
    np.testing.assert_allclose(tc.evaluate(tc.grad(tc.det(X), X), X=x), _jax_det_grad(x),
                               rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------------------
# Norms at 0 and 0^y: the rows' derivatives everywhere else, against central differences


@pytest.mark.parametrize("ord_", [None, 3, 0.5, 1.5])
def test_norm_rows_second_derivatives_away_from_zero(ord_, rng):
    from fd import check_derivative

    x = tc.var("x", (4,))
    data = {"x": rng.standard_normal(4)}
    check_derivative(tc.grad(tc.norm(x, ord_), x), x, data, rng=rng)


def test_norm_gradient_at_zero_is_zero_where_jax_gives_nan():
    jax = pytest.importorskip("jax")
    x = tc.var("x", (3,))
    assert np.all(np.isnan(np.asarray(jax.grad(jax.numpy.linalg.norm)(np.zeros(3)))))
    np.testing.assert_array_equal(tc.evaluate(tc.grad(tc.norm2(x), x), x=np.zeros(3)), 0.0)


def test_power_with_both_variable_against_jax_and_differences(rng):
    from fd import check_derivative

    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    x, y = tc.var("x", (3,)), tc.var("y", (3,))
    data = {"x": rng.uniform(0.3, 2.0, 3), "y": rng.uniform(-1.0, 2.0, 3)}
    for wrt in (x, y):
        check_derivative(tc.sum(x ** y), wrt, data, rng=rng)
        check_derivative(tc.grad(tc.sum(x ** y), wrt), wrt, data, rng=rng)  # second derivatives
    zero = {"x": np.zeros(3), "y": np.array([0.5, 1.0, 3.0])}
    dy = np.asarray(jax.grad(lambda b: jax.numpy.sum(jax.numpy.power(0.0, b)))(zero["y"]))
    np.testing.assert_array_equal(tc.evaluate(tc.grad(tc.sum(x ** y), y), zero), dy)
    np.testing.assert_array_equal(tc.evaluate(tc.grad(tc.sum(x ** y), y), zero), 0.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_inv_refuses_a_matrix_singular_to_working_precision_on_every_path(dtype):
    """LAPACK raises only at an exactly zero pivot: a rank-deficient product met in floating
    point has an "inverse" of rounding errors (entries ~1e16).  inv refuses X where
    κ₁(X) = ‖X‖₁‖X⁻¹‖₁ ≥ 1/ε (numpy's own np.linalg.cond(X, 1) is the oracle), in the
    evaluator, the fast path and generated code alike, and inverts a merely ill-conditioned X."""
    X = tc.var("X", (4, 4))
    program = tc.compile(tc.inv(X) * 1.0)
    source = tc.codegen(tc.inv(X) * 1.0, name="f")
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)  # the file tc.codegen wrote
    bound = 1 / np.finfo(dtype).eps
    refused = inverted = 0
    for seed in range(12):
        rng = np.random.default_rng(seed)
        deficient = (rng.standard_normal((4, 3)) @ rng.standard_normal((3, 4))).astype(dtype)
        u, v = (np.linalg.qr(rng.standard_normal((4, 4)))[0] for _ in range(2))
        conditioned = ((u * [1, 1, 1, bound ** -0.5]) @ v.T).astype(dtype)  # κ ~ √(1/ε)
        for x in (deficient, conditioned):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                singular = not np.linalg.cond(x.astype(np.float64), 1) * 1.01 < bound
            if singular:
                refused += 1
                with pytest.raises(tc.SingularMatrixError, match="singular"):
                    tc.evaluate(tc.inv(X), X=x)
                for _ in range(3):  # the evaluator, then the fast path
                    with pytest.raises(tc.SingularMatrixError, match="singular"):
                        program(X=x)
                with pytest.raises(np.linalg.LinAlgError, match="(?i)singular"):
                    namespace["f"](X=x)
            elif np.linalg.cond(x.astype(np.float64), 1) < bound / 1.01:
                inverted += 1
                expected = np.linalg.inv(x)
                for got in (tc.evaluate(tc.inv(X), X=x), program(X=x), program(X=x),
                            namespace["f"](X=x)):
                    np.testing.assert_array_equal(got, expected)
    assert refused >= 12 and inverted >= 6  # every rank-deficient product, whatever the BLAS's
    # rounding, and the ill-conditioned ones (κ about 1e8 in float64, 3e3 in float32)
