"""issue 18: ``where`` with a condition computed from the variables (``tc.where(x > y, a, b)``,
``np.where(x > 0, …)`` in the numpy dialect): the value against numpy, first and second
derivatives against central differences and JAX, every backend and generated code against
numpy, and the conventions (the mask's derivative is 0; an unselected entry gets exactly 0)."""

from __future__ import annotations

import numpy as np
import pytest

import tensorcalc as tc
from fd import check_projection

RNG = np.random.default_rng(2024)
CASES = {  # name: (tensorcalc, numpy, jax), each a function of (x, y)
    "leaky relu": (lambda m: lambda x, y: m.where(x > 0, x, 0.1 * x)),
    "piecewise": (lambda m: lambda x, y: m.where(x <= y, m.sin(x) * y, m.exp(x) - y)),
    "clipped square": (lambda m: lambda x, y: m.where(x * x < 1.0, x * x, 2.0 * m.abs(x) - 1.0)),
    "broadcast": (lambda m: lambda x, y: m.where(y[:1] >= x, y, x ** 3)),
}


def _values(shape=(5,)):
    x = RNG.uniform(-2, 2, shape)
    y = RNG.uniform(-2, 2, shape)
    return x, y


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_derivatives_agree_with_numpy_and_jax(name):
    build = CASES[name]
    x, y = tc.var("x", (5,)), tc.var("y", (5,))
    expr = build(tc)(x, y)
    xv, yv = _values()
    np.testing.assert_allclose(tc.evaluate(expr, x=xv, y=yv), build(np)(xv, yv), rtol=1e-13)
    for variable, value in ((x, xv), (y, yv)):
        def numpy_fun(v, variable=variable):
            return build(np)(v, yv) if variable is x else build(np)(xv, v)
        jacobian = tc.evaluate(tc.jacobian(expr, variable), x=xv, y=yv)
        check_projection(numpy_fun, value, jacobian, RNG, label=f"{name} d/d{variable.name}")
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    loss = tc.sum(expr * expr)
    theirs = jax.grad(lambda a, b: jnp.sum(build(jnp)(a, b) ** 2), argnums=(0, 1))(xv, yv)
    for variable, expected in zip((x, y), theirs):
        np.testing.assert_allclose(tc.evaluate(tc.grad(loss, variable), x=xv, y=yv), expected,
                                   rtol=1e-12, atol=1e-12)
    hessian = jax.hessian(lambda a: jnp.sum(build(jnp)(a, yv) ** 2))(xv)
    np.testing.assert_allclose(tc.evaluate(tc.hessian(loss, x), x=xv, y=yv), hessian,
                               rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("backend", ["numpy-functional", "jax", "dask", "torch"])
def test_backends_and_generated_code_agree_with_numpy(backend):
    if backend == "jax":
        jax = pytest.importorskip("jax")
        jax.config.update("jax_enable_x64", True)
    else:
        pytest.importorskip({"dask": "dask.array", "torch": "torch"}.get(backend, "numpy"))
    x, y = tc.var("x", (5,)), tc.var("y", (5,))
    expr = CASES["piecewise"](tc)(x, y)
    outputs = [expr, tc.grad(tc.sum(expr), x), tc.grad(tc.sum(expr), y)]
    xv, yv = _values()
    expected = tc.compile(outputs)(x=xv, y=yv)
    namespace = {}
    exec(tc.codegen(outputs), namespace)  # our own generated source
    for got in (tc.compile(outputs, backend=backend)({"x": xv, "y": yv}),
                namespace["f_and_grad"](x=xv, y=yv)):
        for a, b in zip(got, expected):
            np.testing.assert_allclose(np.asarray(a), b, rtol=1e-13)


def test_the_mask_has_derivative_zero_and_an_unselected_entry_gets_exactly_zero():
    x = tc.var("x", (3,))
    at = np.array([-1.0, 0.0, 2.0])
    # at x = 0 the comparison x > 0 is 0, and its derivative is 0 everywhere
    np.testing.assert_array_equal(tc.evaluate(x > 0, x=at), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(tc.evaluate(x >= 0, x=at), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(tc.evaluate(tc.grad(tc.sum(tc.where(x > 0, x, -x)), x), x=at),
                                  [-1.0, -1.0, 1.0])
    # an infinite unselected value is never read, and its operand gets exactly 0
    infinite = np.array([0.0, 1.0, 2.0])
    with np.errstate(divide="ignore"):
        value = tc.evaluate(tc.where(x > 0, tc.log(x), 0.0), x=infinite)
    np.testing.assert_array_equal(value, np.where(infinite > 0, np.log(np.maximum(infinite, 1e-300)), 0.0))
    np.testing.assert_array_equal(
        tc.evaluate(tc.grad(tc.sum(tc.where(x > 1.5, x ** 2, -x)), x), x=infinite), [-1.0, -1.0, 4.0])


def test_it_prints_and_the_numpy_dialect_reads_it():
    x, y = tc.var("x", (3,)), tc.var("y", (3,))
    expr = tc.where(x > y, x * y, tc.exp(x))
    assert tc.matrix_notation(expr) == "where([x > y], x ⊙ y, exp(x))"
    assert str(expr) == "where([x_i > y_i], x_i y_i, exp(x_i))"  # [P]: Iverson's bracket
    assert tc.latex(x >= 0).startswith("[x \\ge 0")
    with pytest.raises(tc.NoTextForm, match="where"):
        tc.to_text(expr)
    parsed = tc.parse("np.where(x >= y, x * y, np.exp(x)) + (x < 0)", dialect="numpy",
                      x=(3,), y=(3,))
    xv, yv = np.array([1.0, -1.0, 0.5]), np.array([0.5, 0.0, 0.5])
    np.testing.assert_allclose(tc.evaluate(parsed, x=xv, y=yv),
                               np.where(xv >= yv, xv * yv, np.exp(xv)) + (xv < 0))


def test_a_condition_that_is_not_a_comparison_is_refused_by_name():
    x = tc.var("x", (3,))
    with pytest.raises(tc.ShapeError, match="where: a computed condition must be a comparison"):
        tc.where(tc.sin(x), x, 0.0)
