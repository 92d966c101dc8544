"""``tc.norm(x, ord, axis, keepdims)`` as ``np.linalg.norm``: vector norms along one axis,
matrix norms of a pair of axes (the others batch), ``keepdims``; values against numpy,
derivatives against central differences and JAX."""

import numpy as np
import pytest

import tensorcalc as tc
from fd import check_grads

CASES = [
    ((3, 4), 1, [None, 1, 2, 3, np.inf, -np.inf, 0.5]),
    ((3, 4), 0, [None, 1, np.inf]),
    ((2, 3, 4), -1, [None, 1, 2.5]),
    ((2, 3, 4), (1, 2), [None, "fro", 1, -1, np.inf, -np.inf, "nuc", 2, -2]),
    ((2, 3, 4), (2, 0), [None, 1, "nuc", 2]),
    ((3, 4), (1, 0), [None, 1, -1, np.inf, "nuc", 2, -2]),
    ((3, 4), None, [None, "fro", 1, -1, np.inf, -np.inf, "nuc", 2, -2]),
    ((2, 3, 4), None, [None]),
    ((4,), 0, [None, 1, 3, np.inf]),
]


@pytest.mark.parametrize("shape, axis, ords", CASES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_values_and_shapes_match_numpy(shape, axis, ords, keepdims):
    rng = np.random.default_rng(7)
    values = rng.standard_normal(shape)
    x = tc.var("x", shape)
    for order in ords:
        got = tc.evaluate(tc.norm(x, order, axis, keepdims), x=values)
        want = np.linalg.norm(values, order, axis, keepdims)
        assert np.shape(got) == want.shape, (order, np.shape(got), want.shape)
        np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=f"ord={order}")


@pytest.mark.parametrize("shape, axis, order", [
    ((3, 4), 1, None), ((3, 4), 0, 3), ((3, 4), 1, 1), ((3, 4), 0, np.inf),
    ((2, 3, 4), (1, 2), "fro"), ((2, 3, 4), (2, 1), 1), ((2, 3, 4), (1, 2), "nuc"),
    ((2, 3, 4), (0, 2), 2), ((2, 3, 4), (1, 2), -np.inf)])
def test_first_and_second_derivatives_against_finite_differences(shape, axis, order):
    rng = np.random.default_rng(11)
    x = tc.var("x", shape)
    values = {"x": rng.standard_normal(shape)}
    second = 2 if order not in (1, np.inf, -np.inf, -1) else 1  # piecewise linear: H = 0 a.e.
    check_grads(tc.norm(x, order, axis, keepdims=True), [x], values, order=second, rng=rng)


def test_gradients_match_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    rng = np.random.default_rng(2)
    values = rng.standard_normal((2, 3, 4))
    x = tc.var("x", (2, 3, 4))
    for order, axis in [(None, 1), (3, -1), ("fro", (0, 2)), ("nuc", (1, 2)), (2, (2, 1)),
                        (np.inf, (1, 2))]:
        weights = rng.standard_normal(np.linalg.norm(values, order, axis).shape)
        f = tc.sum(tc.norm(x, order, axis) * weights)
        jf = lambda v: jnp.sum(jnp.linalg.norm(v, order, axis) * weights)  # noqa: E731,B023
        np.testing.assert_allclose(tc.evaluate(tc.grad(f, x), x=values), jax.grad(jf)(values),
                                   rtol=1e-10, atol=1e-12, err_msg=f"ord={order} axis={axis}")


def test_a_zero_slice_along_an_axis_has_gradient_nan_but_the_whole_norm_keeps_zero():
    x = tc.var("x", (2, 3))
    values = np.array([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0]])
    with np.errstate(divide="ignore", invalid="ignore"):
        gradient = tc.evaluate(tc.grad(tc.sum(tc.norm(x, axis=1)), x), x=values)
    assert np.all(np.isnan(gradient[0]))  # √ at 0, as jnp.linalg.norm
    np.testing.assert_allclose(gradient[1], [0.6, 0.8, 0.0])
    v = tc.var("v", (3,))  # axis=0 of a vector is the whole norm: the subgradient 0 at 0
    np.testing.assert_array_equal(tc.evaluate(tc.grad(tc.norm(v, axis=0), v), v=np.zeros(3)),
                                  np.zeros(3))


def test_bad_axes_and_orders_are_refused_by_name():
    x = tc.var("x", (2, 3, 4))
    for axis, word in [((0, 1, 2), "pair"), (3, "out of range"), ((1, 1), "twice"),
                       ("a", "int")]:
        with pytest.raises(tc.ShapeError, match=word):
            tc.norm(x, axis=axis)
    with pytest.raises(tc.ShapeError, match="not a vector norm"):
        tc.norm(x, "fro", axis=1)
    with pytest.raises(tc.ShapeError, match="not a matrix norm"):
        tc.norm(x, 3, axis=(1, 2))
    with pytest.raises(tc.ShapeError, match="needs a vector or a matrix"):
        tc.norm(x, 1)
