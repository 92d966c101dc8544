"""numpy's elementwise names (issue 18): the rows log2, log10, exp2, arcsinh, arccosh, arctanh,
floor, ceil and round, and the numpy dialect's compositions and rows (fabs, square, reciprocal,
deg2rad, rad2deg, logaddexp, logaddexp2).

Each row: first and second derivatives against central differences along random directions at
several shapes, values and gradients against JAX, and every backend against numpy.
"""

import numpy as np
import pytest

import tensorcalc as tc
from fd import check_grads

NEW_ROWS = ("log2", "log10", "exp2", "arcsinh", "arccosh", "arctanh", "floor", "ceil", "round")
NUMPY = {"log2": np.log2, "log10": np.log10, "exp2": np.exp2, "arcsinh": np.arcsinh,
         "arccosh": np.arccosh, "arctanh": np.arctanh, "floor": np.floor, "ceil": np.ceil,
         "round": np.round}
SHAPES = ((), (3,), (2, 3), (2, 2, 2))


def _inside(name, shape, rng):
    """Values inside the row's domain, away from the jumps of floor, ceil and round."""
    low, high = tc.FUNCTIONS[name].domain
    values = rng.uniform(low, high, size=shape)
    if name in ("floor", "ceil", "round"):
        values = np.floor(values) + rng.uniform(0.1, 0.4, size=shape)  # 0.1 from every jump
    return values


@pytest.mark.parametrize("name", NEW_ROWS)
@pytest.mark.parametrize("shape", SHAPES)
def test_first_and_second_derivatives_against_finite_differences(name, shape):
    rng = np.random.default_rng(18)
    x, w = tc.var("x", shape), tc.var("w", shape)
    values = {"x": _inside(name, shape, rng), "w": rng.standard_normal(shape)}
    # the row itself (array-valued) and a weighted sum (a gradient and a Hessian)
    check_grads(tc.apply_function(name, x), [x], values, rng=rng)
    check_grads(tc.sum(w * tc.apply_function(name, x)), [x, w], values, rng=rng)


@pytest.mark.parametrize("name", NEW_ROWS)
def test_values_gradients_and_hessian_diagonals_match_jax(name):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    rng = np.random.default_rng(3)
    values = _inside(name, (5,), rng)
    x = tc.var("x", (5,))
    f = tc.sum(tc.apply_function(name, x) ** 2)
    jf = lambda v: jnp.sum(getattr(jnp, name)(v) ** 2)  # noqa: E731
    np.testing.assert_allclose(tc.evaluate(tc.apply_function(name, x), {"x": values}),
                               getattr(jnp, name)(values), rtol=1e-13)
    np.testing.assert_allclose(tc.evaluate(tc.grad(f, x), {"x": values}), jax.grad(jf)(values),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tc.evaluate(tc.hessian(f, x), {"x": values}),
                               jax.hessian(jf)(values), rtol=1e-11, atol=1e-13)


def _to_numpy(value):
    if hasattr(value, "compute"):
        value = value.compute()
    if hasattr(value, "detach"):
        value = value.detach().numpy()
    return np.asarray(value)


@pytest.mark.parametrize("backend", ["numpy-functional", "jax", "dask", "torch"])
def test_every_backend_and_the_generated_module_agree_with_numpy(backend, tmp_path):
    pytest.importorskip({"numpy-functional": "numpy"}.get(backend, backend))
    if backend == "jax":
        __import__("jax").config.update("jax_enable_x64", True)
    rng = np.random.default_rng(5)
    x = tc.var("x", (2, 3))
    for name in NEW_ROWS:
        values = _inside(name, (2, 3), rng)
        f = tc.apply_function(name, x)
        outputs = [f, tc.grad(tc.sum(f * f), x)]
        expected = [NUMPY[name](values), np.asarray(tc.evaluate(outputs[1], {"x": values}))]
        program = tc.compile(outputs, backend=backend)
        if backend == "jax":
            given = {"x": __import__("jax").numpy.asarray(values)}
        elif backend == "torch":
            given = {"x": __import__("torch").from_numpy(values.copy())}
        elif backend == "dask":
            given = {"x": __import__("dask.array").array.from_array(values, chunks=(1, 2))}
        else:
            given = {"x": values}
        for got, want in zip(program(**given), expected):
            np.testing.assert_allclose(_to_numpy(got), want, rtol=1e-12, atol=1e-14,
                                       err_msg=f"{name} on {backend}")
        # the generated module (tc.codegen) computes the same
        source = tc.codegen(outputs, name="f")
        namespace = {}
        exec(compile(source, f"<codegen {name}>", "exec"), namespace)  # our own generated text
        for got, want in zip(namespace["f"](x=values), expected):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, err_msg=name)


def test_floor_ceil_and_round_have_derivative_zero_and_round_halves_to_even():
    x = tc.var("x", (4,))
    values = np.array([0.5, 1.5, 2.5, -0.5])
    assert np.array_equal(tc.evaluate(tc.round(x), {"x": values}), [0.0, 2.0, 2.0, -0.0])
    for name in ("floor", "ceil", "round"):
        gradient = tc.evaluate(tc.grad(tc.sum(tc.apply_function(name, x)), x), {"x": values})
        assert np.array_equal(np.broadcast_to(gradient, (4,)), np.zeros(4)), name


# ---------------------------------------------------------------------------
# The numpy dialect: numpy's names, rows and compositions


DIALECT = [
    ("np.log2(x) + np.log10(x) + np.exp2(x)", lambda x: np.log2(x) + np.log10(x) + np.exp2(x)),
    ("np.arcsinh(x) + np.arccosh(1 + x) + np.arctanh(x / 4)",
     lambda x: np.arcsinh(x) + np.arccosh(1 + x) + np.arctanh(x / 4)),
    ("np.square(x) + np.reciprocal(x) + np.fabs(x) + np.absolute(x)",
     lambda x: np.square(x) + np.reciprocal(x) + np.fabs(x) + np.absolute(x)),
    ("np.deg2rad(x) * np.rad2deg(x)", lambda x: np.deg2rad(x) * np.rad2deg(x)),
    ("np.logaddexp(x, 2 * x) + np.logaddexp2(3.0, x)",
     lambda x: np.logaddexp(x, 2 * x) + np.logaddexp2(3.0, x)),
    ("np.floor(x) + np.ceil(x) + np.round(x)", lambda x: np.floor(x) + np.ceil(x) + np.round(x)),
]


@pytest.mark.parametrize("text, oracle", DIALECT)
def test_the_numpy_dialect_reads_numpy_names(text, oracle):
    values = np.array([0.3, 1.2, 2.7])
    f = tc.parse(text, dialect="numpy", x=(3,))
    np.testing.assert_allclose(tc.evaluate(f, {"x": values}), oracle(values), rtol=1e-13)
    x = tc.var("x", (3,))
    check_grads(tc.sum(f * f), [x], {"x": values}, rng=np.random.default_rng(1))


def test_logaddexp_gradients_match_jax_including_equal_arguments_and_large_ones():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    a = np.array([0.0, 1.0, 800.0, -800.0, 3.0])
    b = np.array([0.0, 1.0, -800.0, 800.0, -2.0])
    for name in ("logaddexp", "logaddexp2"):
        f = tc.parse(f"np.sum(np.{name}(a, b))", dialect="numpy", a=(5,), b=(5,))
        assert np.allclose(tc.evaluate(f, {"a": a, "b": b}), np.sum(getattr(np, name)(a, b)))
        jf = lambda u, v: jnp.sum(getattr(jnp, name)(u, v))  # noqa: E731,B023
        for k, wrt in enumerate("ab"):
            got = tc.evaluate(tc.grad(f, wrt), {"a": a, "b": b})
            np.testing.assert_allclose(got, jax.grad(jf, argnums=k)(a, b), rtol=1e-12,
                                       err_msg=f"{name} d/d{wrt}")
    # at a = b each argument gets one half
    f = tc.parse("np.sum(np.logaddexp(a, b))", dialect="numpy", a=(5,), b=(5,))
    assert tc.evaluate(tc.grad(f, "a"), {"a": a, "b": b})[0] == 0.5


def test_the_new_rows_print_in_every_notation():
    x = tc.var("x", (3,))
    assert tc.latex(tc.log2(x)) == "\\log_2\\left(x\\right)"
    assert tc.latex(tc.floor(x)) == "\\left\\lfloor x \\right\\rfloor"
    assert tc.to_text(tc.arctanh(x)) == "arctanh(x)"
    # to_text reads back in the matrix language to the same values
    values = np.array([0.1, 0.2, 0.3])
    for name in NEW_ROWS:
        f = tc.apply_function(name, 1.5 + x if name == "arccosh" else x)
        back = tc.parse(tc.to_text(f), x=(3,))
        np.testing.assert_allclose(tc.evaluate(back, {"x": values}),
                                   tc.evaluate(f, {"x": values}), rtol=1e-14, err_msg=name)


def test_the_numpy_dialect_reads_stacked_linear_algebra():
    rng = np.random.default_rng(6)
    A0 = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    b0 = rng.standard_normal((2, 3, 1))
    f = tc.parse("np.linalg.solve(A, b) + np.linalg.inv(A) @ b", dialect="numpy", A=(2, 3, 3),
                 b=(2, 3, 1))
    np.testing.assert_allclose(tc.evaluate(f, A=A0, b=b0), 2 * np.linalg.solve(A0, b0),
                               rtol=1e-12)
    g = tc.parse("np.linalg.det(A)", dialect="numpy", A=(2, 3, 3))
    np.testing.assert_allclose(tc.evaluate(g, A=A0), np.linalg.det(A0), rtol=1e-12)
    check_grads(tc.sum(f * f), [tc.var("A", (2, 3, 3))], {"A": A0, "b": b0},
                rng=np.random.default_rng(0))
