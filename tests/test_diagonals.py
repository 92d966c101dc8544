"""numpy's trace and diagonal (offset, axis1, axis2, stacked matrices): values against numpy,
first and second derivatives against central differences, JAX's gradients, the numpy dialect."""

import numpy as np
import pytest

import tensorcalc as tc
from fd import check_grads

CASES = [((3, 3), {}), ((3, 4), {}), ((3, 4), {"offset": 1}), ((4, 3), {"offset": -2}),
         ((2, 3, 3), {"axis1": 1, "axis2": 2}), ((3, 2, 4), {"axis1": 0, "axis2": 2, "offset": 1}),
         ((3, 2, 3), {"axis1": 2, "axis2": 0}), ((2, 2, 3, 3), {"axis1": -2, "axis2": -1}),
         ((3, 3), {"offset": 5})]


@pytest.mark.parametrize("shape, keywords", CASES)
@pytest.mark.parametrize("name", ["trace", "diagonal"])
def test_trace_and_diagonal_match_numpy_and_finite_differences(name, shape, keywords):
    rng = np.random.default_rng(len(shape))
    X = tc.var("X", shape)
    values = {"X": rng.standard_normal(shape)}
    f = getattr(tc, name)(X, **keywords)
    expected = getattr(np, name)(values["X"], **keywords)
    got = tc.evaluate(f, values)
    assert np.shape(got) == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-13)
    if np.size(expected):
        check_grads(f * f, [X], values, rng=rng)  # squared: a nonzero second derivative


def test_stacked_gradients_match_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    A0 = np.random.default_rng(1).standard_normal((2, 3, 4))
    A = tc.var("A", (2, 3, 4))
    f = tc.sum(tc.trace(A, offset=1, axis1=1, axis2=2) ** 2) \
        + tc.sum(tc.exp(tc.diagonal(A, offset=-1, axis1=1, axis2=2)))
    jf = lambda a: (jnp.sum(jnp.trace(a, offset=1, axis1=1, axis2=2) ** 2)  # noqa: E731
                    + jnp.sum(jnp.exp(jnp.diagonal(a, offset=-1, axis1=1, axis2=2))))
    np.testing.assert_allclose(tc.evaluate(tc.grad(f, A), A=A0), jax.grad(jf)(A0), rtol=1e-12)


def test_square_matrices_keep_their_printed_forms_and_errors_are_clear():
    S = tc.var("S", ("n", "n"))
    assert tc.matrix_notation(tc.trace(S)) == "tr(S)"
    with pytest.raises(tc.ShapeError, match="needs at least 2 axes"):
        tc.trace(tc.var("v", (3,)))
    with pytest.raises(tc.ShapeError, match="name the same axis"):
        tc.diagonal(tc.var("B", (3, 3)), axis1=0, axis2=-2)
    with pytest.raises(tc.ShapeError, match="need numeric sizes"):
        tc.trace(S, offset=1)


@pytest.mark.parametrize("text, oracle", [
    ("np.trace(X, offset=1)", lambda X: np.trace(X, offset=1)),
    ("np.diagonal(X, offset=-1)", lambda X: np.diagonal(X, offset=-1)),
    ("np.trace(X)", np.trace),
])
def test_the_numpy_dialect_reads_offset_and_axes(text, oracle):
    X0 = np.random.default_rng(3).standard_normal((3, 4))
    f = tc.parse(text, dialect="numpy", X=(3, 4))
    np.testing.assert_allclose(tc.evaluate(f, X=X0), oracle(X0), rtol=1e-13)
    T0 = np.random.default_rng(4).standard_normal((2, 3, 3))
    g = tc.parse("np.trace(T, axis1=1, axis2=2)", dialect="numpy", T=(2, 3, 3))
    np.testing.assert_allclose(tc.evaluate(g, T=T0), np.trace(T0, axis1=1, axis2=2), rtol=1e-13)
