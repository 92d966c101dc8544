"""tc.variance and tc.std (numpy's var and std: axis, ddof, keepdims) and keepdims on max, min
and logsumexp: values against numpy, first and second derivatives against central differences
along random directions at several shapes, gradients against JAX, and the numpy dialect."""

import numpy as np
import pytest

import tensorcalc as tc
from fd import check_grads

CASES = [((5,), None), ((3, 4), 0), ((3, 4), 1), ((2, 3, 4), (0, 2)), ((2, 3, 4), None),
         ((2, 3, 4), -1)]


@pytest.mark.parametrize("shape, axis", CASES)
@pytest.mark.parametrize("ddof", [0, 1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_variance_and_std_match_numpy_and_finite_differences(shape, axis, ddof, keepdims):
    rng = np.random.default_rng(len(shape) + ddof)
    x = tc.var("x", shape)
    values = {"x": rng.standard_normal(shape)}
    for ours, theirs in ((tc.variance, np.var), (tc.std, np.std)):
        f = ours(x, axis=axis, ddof=ddof, keepdims=keepdims)
        np.testing.assert_allclose(tc.evaluate(f, values),
                                   theirs(values["x"], axis=axis, ddof=ddof, keepdims=keepdims),
                                   rtol=1e-12)
        check_grads(f, [x], values, rng=rng)


@pytest.mark.parametrize("name", ["max", "min", "logsumexp"])
@pytest.mark.parametrize("shape, axis", CASES)
def test_keepdims_on_the_reductions(name, shape, axis):
    rng = np.random.default_rng(4)
    x = tc.var("x", shape)
    values = {"x": rng.standard_normal(shape)}  # no ties
    numpy = {"max": np.max, "min": np.min,
             "logsumexp": lambda a, axis, keepdims: np.log(np.sum(np.exp(a), axis=axis,
                                                                   keepdims=keepdims))}[name]
    f = getattr(tc, name)(x, axis=axis, keepdims=True)
    expected = numpy(values["x"], axis=axis, keepdims=True)
    assert f.shape == expected.shape
    np.testing.assert_allclose(tc.evaluate(f, values), expected, rtol=1e-12)
    check_grads(f, [x], values, rng=rng)


def test_gradients_and_hessians_match_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    rng = np.random.default_rng(9)
    X0 = rng.standard_normal((3, 4))
    X = tc.var("X", (3, 4))
    f = tc.sum(tc.std(X, axis=0, ddof=1) * tc.variance(X, axis=0)) \
        + tc.sum(tc.max(X, axis=1, keepdims=True) * X)
    jf = lambda A: (jnp.sum(jnp.std(A, axis=0, ddof=1) * jnp.var(A, axis=0))  # noqa: E731
                    + jnp.sum(jnp.max(A, axis=1, keepdims=True) * A))
    np.testing.assert_allclose(tc.evaluate(f, X=X0), jf(X0), rtol=1e-12)
    np.testing.assert_allclose(tc.evaluate(tc.grad(f, X), X=X0), jax.grad(jf)(X0), rtol=1e-10)
    np.testing.assert_allclose(tc.evaluate(tc.hessian(f, X), X=X0), jax.hessian(jf)(X0),
                               rtol=1e-9, atol=1e-12)


def test_named_dimensions_and_the_constant_slice_convention():
    x = tc.var("x", ("n",))
    data = np.array([1.0, 2.0, 4.0])
    assert np.isclose(tc.evaluate(tc.variance(x, ddof=1), x=data), np.var(data, ddof=1))
    same = np.full(3, 2.0)
    assert tc.evaluate(tc.variance(x), x=same) == 0.0
    assert np.array_equal(np.broadcast_to(tc.evaluate(tc.grad(tc.variance(x), x), x=same), 3),
                          np.zeros(3))
    with np.errstate(all="ignore"):
        assert np.all(np.isnan(tc.evaluate(tc.grad(tc.std(x), x), x=same)))  # √ at 0, as JAX
    with pytest.raises(tc.ShapeError, match="ddof=3 leaves no degrees of freedom"):
        tc.variance(tc.var("y", (3,)), ddof=3)


@pytest.mark.parametrize("text, oracle", [
    ("np.var(X, axis=0, ddof=1)", lambda X: np.var(X, axis=0, ddof=1)),
    ("np.std(X, axis=1, keepdims=True)", lambda X: np.std(X, axis=1, keepdims=True)),
    ("np.max(X, axis=0) + np.amin(X, axis=0)", lambda X: np.max(X, axis=0) + np.amin(X, axis=0)),
    ("np.min(X, axis=(0, 1), keepdims=True) * X", lambda X: np.min(X, keepdims=True) * X),
])
def test_the_numpy_dialect_reads_the_statistics(text, oracle):
    X0 = np.random.default_rng(2).standard_normal((3, 4))
    f = tc.parse(text, dialect="numpy", X=(3, 4))
    np.testing.assert_allclose(tc.evaluate(f, X=X0), oracle(X0), rtol=1e-12)
    check_grads(f, [tc.var("X", (3, 4))], {"X": X0}, rng=np.random.default_rng(0))
