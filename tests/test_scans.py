"""tc.prod, tc.cumsum, tc.cumprod, tc.sort and tc.partition (issue 18): values against numpy at
several shapes and axes, first and second derivatives against central differences along random
directions and against jax.grad / jax.hessian (prod exactly at zeros: one, two, three zeros),
the numpy dialect, the text language, the printed forms, codegen and the backends."""

import re

import numpy as np
import pytest

import tensorcalc as tc
from fd import check_grads
from tensorcalc.errors import CodegenError, NoTextForm, ShapeError

CASES = [((5,), None), ((5,), 0), ((3, 4), 0), ((3, 4), 1), ((3, 4), None), ((2, 3, 4), (0, 2)),
         ((2, 3, 4), -1), ((2, 3, 4), None)]
SCAN_CASES = [((5,), None), ((5,), 0), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), 1), ((3, 4), None)]


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


# ---------------------------------------------------------------------------
# prod


@pytest.mark.parametrize("shape, axis", CASES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_prod_matches_numpy_and_finite_differences(shape, axis, keepdims):
    rng = np.random.default_rng(len(shape))
    x = tc.var("x", shape)
    values = {"x": rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)}
    f = tc.prod(x, axis=axis, keepdims=keepdims)
    expected = np.prod(values["x"], axis=axis, keepdims=keepdims)
    assert f.shape == expected.shape
    np.testing.assert_allclose(tc.evaluate(f, values), expected, rtol=1e-12)
    check_grads(f, [x], values, rng=rng)


def _zeros(shape, count, rng):
    value = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    value.reshape(-1)[rng.choice(value.size, count, replace=False)] = 0.0
    return value


@pytest.mark.parametrize("count", [0, 1, 2, 3])
def test_prod_gradient_and_hessian_are_exact_at_zeros(count):
    rng = np.random.default_rng(count)
    x = tc.var("x", (5,))
    x0 = _zeros((5,), count, rng)
    gradient = tc.evaluate(tc.grad(tc.prod(x), x), x=x0)
    hessian = tc.evaluate(tc.hessian(tc.prod(x), x), x=x0)
    # independently: the product of the other entries, and of all entries but two
    others = np.array([np.prod(np.delete(x0, i)) for i in range(5)])
    pairs = np.array([[0.0 if i == j else np.prod(np.delete(x0, [i, j])) for j in range(5)]
                      for i in range(5)])
    np.testing.assert_allclose(gradient, others, rtol=1e-13, atol=0)
    np.testing.assert_allclose(hessian, pairs, rtol=1e-13, atol=0)
    if count == 1:  # nonzero only at the zero
        assert np.count_nonzero(gradient) == 1 and gradient[x0 == 0][0] != 0
    if count >= 2:
        assert np.all(gradient == 0)
    jax = _jax()
    np.testing.assert_allclose(gradient, jax.grad(jax.numpy.prod)(x0), rtol=1e-13, atol=0)
    np.testing.assert_allclose(hessian, jax.hessian(jax.numpy.prod)(x0), rtol=1e-13, atol=0)


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("count", [0, 1, 2])
def test_prod_of_a_matrix_matches_jax_at_zeros(axis, count):
    jax = _jax()
    jnp = jax.numpy
    rng = np.random.default_rng(10 + count)
    X0, W0 = _zeros((3, 4), count, rng), rng.standard_normal((3, 4))
    X = tc.var("X", (3, 4))
    f = tc.sum(tc.prod(X, axis=axis, keepdims=True) * tc.const(W0)) + tc.prod(X[:, :2])
    jf = lambda A: jnp.sum(jnp.prod(A, axis=axis, keepdims=True) * W0) + jnp.prod(A[:, :2])  # noqa: E731
    np.testing.assert_allclose(tc.evaluate(f, X=X0), jf(X0), rtol=1e-12)
    np.testing.assert_allclose(tc.evaluate(tc.grad(f, X), X=X0), jax.grad(jf)(X0), rtol=1e-11,
                               atol=1e-14)
    np.testing.assert_allclose(tc.evaluate(tc.hessian(f, X), X=X0), jax.hessian(jf)(X0),
                               rtol=1e-11, atol=1e-14)
    v = rng.standard_normal((3, 4))
    np.testing.assert_allclose(tc.evaluate(tc.hvp(f, X, v), X=X0),
                               np.tensordot(jax.hessian(jf)(X0), v, axes=2), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(tc.evaluate(tc.jvp(tc.prod(X, axis=axis), X, v), X=X0),
                               jax.jvp(lambda A: jnp.prod(A, axis=axis), (X0,), (v,))[1],
                               rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("count", [0, 1, 2, 3])
def test_prod_third_and_fourth_derivatives_match_jax_at_zeros(count):
    jax = _jax()
    jnp = jax.numpy
    rng = np.random.default_rng(30 + count)
    x = tc.var("x", (5,))
    x0 = _zeros((5,), count, rng)
    third = tc.evaluate(tc.jacobian(tc.hessian(tc.prod(x), x), x), x=x0)
    np.testing.assert_allclose(third, jax.jacfwd(jax.hessian(jnp.prod))(x0), rtol=1e-13, atol=0)
    X0, v = _zeros((3, 4), count, rng), rng.standard_normal((3, 4))
    X = tc.var("X", (3, 4))
    f = tc.sum(tc.prod(X, axis=1))
    along = lambda A: jnp.tensordot(jax.hessian(lambda B: jnp.sum(jnp.prod(B, axis=1)))(A), v,  # noqa: E731
                                    axes=2)
    fourth = tc.hessian(tc.sum(tc.hvp(f, X, tc.const(v)) * tc.const(v)), X)
    np.testing.assert_allclose(tc.evaluate(fourth, X=X0),
                               jax.hessian(lambda A: jnp.sum(along(A) * v))(X0), rtol=1e-12,
                               atol=1e-14)
    check_grads(tc.hvp(f, X, tc.const(v)), [X], {"X": X0}, rng=rng)


def test_prod_of_a_scalar_and_bad_axes():
    s = tc.var("s", ())
    assert tc.prod(s) is s
    with pytest.raises(ShapeError, match="prod: axis 2 is out of range"):
        tc.prod(tc.var("X", (2, 3)), axis=2)


# ---------------------------------------------------------------------------
# cumsum, cumprod


def _scan_values(shape, rng):
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


@pytest.mark.parametrize("shape, axis", SCAN_CASES)
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_scans_match_numpy_and_finite_differences(name, shape, axis):
    rng = np.random.default_rng(3)
    x = tc.var("x", shape)
    values = {"x": _scan_values(shape, rng)}
    f = getattr(tc, name)(x, axis=axis)
    expected = getattr(np, name)(values["x"], axis=axis)
    assert f.shape == expected.shape
    np.testing.assert_allclose(tc.evaluate(f, values), expected, rtol=1e-12)
    check_grads(f, [x], values, rng=rng)
    if name == "cumsum":  # a nonlinear function of it, so the second derivative is not zero
        check_grads(tc.sum(tc.exp(f)), [x], values, rng=rng)


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("count", [0, 1, 2])
def test_scans_match_jax(axis, count):
    jax = _jax()
    jnp = jax.numpy
    rng = np.random.default_rng(20 + count)
    X0, W0 = _zeros((3, 4), count, rng), rng.standard_normal((3, 4))
    X = tc.var("X", (3, 4))
    for ours, theirs in ((tc.cumsum, jnp.cumsum), (tc.cumprod, jnp.cumprod)):
        f = tc.sum(tc.const(W0) * ours(X, axis=axis))
        jf = lambda A: jnp.sum(W0 * theirs(A, axis=axis))  # noqa: E731, B023
        np.testing.assert_allclose(tc.evaluate(f, X=X0), jf(X0), rtol=1e-12)
        np.testing.assert_allclose(tc.evaluate(tc.grad(f, X), X=X0), jax.grad(jf)(X0),
                                   rtol=1e-11, atol=1e-14)
    f = tc.sum(tc.const(W0) * tc.cumprod(X, axis=axis))
    jf = lambda A: jnp.sum(W0 * jnp.cumprod(A, axis=axis))  # noqa: E731
    np.testing.assert_allclose(tc.evaluate(tc.hessian(f, X), X=X0), jax.hessian(jf)(X0),
                               rtol=1e-11, atol=1e-14)
    v = rng.standard_normal((3, 4))  # a third derivative: the Jacobian of a Hessian-vector product
    np.testing.assert_allclose(tc.evaluate(tc.jacobian(tc.hvp(f, X, tc.const(v)), X), X=X0),
                               jax.jacfwd(lambda A: jnp.tensordot(jax.hessian(jf)(A), v, axes=2))(X0),
                               rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(tc.evaluate(tc.jvp(tc.cumprod(X, axis=axis), X, tc.const(v)), X=X0),
                               jax.jvp(lambda A: jnp.cumprod(A, axis=axis), (X0,), (v,))[1],
                               rtol=1e-11, atol=1e-14)
    g = tc.sum(tc.exp(tc.cumsum(X, axis=axis)))
    jg = lambda A: jnp.sum(jnp.exp(jnp.cumsum(A, axis=axis)))  # noqa: E731
    np.testing.assert_allclose(tc.evaluate(tc.hessian(g, X), X=X0), jax.hessian(jg)(X0),
                               rtol=1e-11, atol=1e-13)


def test_cumprod_gradient_and_hessian_are_exact_at_zeros():
    x = tc.var("x", (4,))
    x0 = np.array([2.0, 0.0, 3.0, 0.0])
    w0 = np.array([1.0, -2.0, 0.5, 4.0])
    f = tc.sum(tc.const(w0) * tc.cumprod(x))
    # x̄_j = Σ_{i≥j} w_i Π_{k≤i, k≠j} x_k, by hand
    expected = [sum(w0[i] * np.prod(np.delete(x0[:i + 1], j)) for i in range(j, 4))
                for j in range(4)]
    np.testing.assert_array_equal(tc.evaluate(tc.grad(f, x), x=x0), expected)
    # ∂²/∂x_j∂x_l = Σ_{i≥max(j,l)} w_i Π_{k≤i, k∉{j,l}} x_k (j ≠ l), 0 on the diagonal
    hessian = [[0.0 if j == l else sum(w0[i] * np.prod(np.delete(x0[:i + 1], [j, l]))
                                       for i in range(max(j, l), 4)) for l in range(4)]
               for j in range(4)]
    np.testing.assert_array_equal(tc.evaluate(tc.hessian(f, x), x=x0), hessian)


def test_cumsum_of_a_matrix_without_axis_flattens():
    X = tc.var("X", (2, 3))
    X0 = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(tc.evaluate(tc.cumsum(X), X=X0), np.cumsum(X0))
    with pytest.raises(ShapeError, match="cumsum: axis 2 is out of bounds"):
        tc.cumsum(X, axis=2)


# ---------------------------------------------------------------------------
# sort, partition


@pytest.mark.parametrize("shape, axis", [((5,), -1), ((5,), None), ((3, 4), 0), ((3, 4), -1),
                                         ((2, 3, 4), 1)])
def test_sort_matches_numpy_finite_differences_and_jax(shape, axis):
    jax = _jax()
    jnp = jax.numpy
    rng = np.random.default_rng(5)
    x = tc.var("x", shape)
    values = {"x": rng.standard_normal(shape)}  # no ties
    f = tc.sort(x, axis=axis)
    np.testing.assert_array_equal(tc.evaluate(f, values), np.sort(values["x"], axis=axis))
    check_grads(tc.sum(tc.exp(f) * tc.const(rng.standard_normal(f.shape))), [x], values, rng=rng)
    w = rng.standard_normal(f.shape)
    g = tc.sum(tc.const(w) * tc.sort(x, axis=axis) ** 2)
    jg = lambda a: jnp.sum(w * jnp.sort(a, axis=axis) ** 2)  # noqa: E731
    np.testing.assert_allclose(tc.evaluate(tc.grad(g, x), values), jax.grad(jg)(values["x"]),
                               rtol=1e-12)
    np.testing.assert_allclose(tc.evaluate(tc.hessian(g, x), values),
                               jax.hessian(jg)(values["x"]), rtol=1e-12, atol=1e-14)


def test_sort_at_ties_follows_numpys_stable_order():
    x = tc.var("x", (4,))
    x0 = np.array([1.0, 0.0, 1.0, 0.0])
    order = np.argsort(x0, kind="stable")  # [1, 3, 0, 2]
    for k in range(4):
        expected = np.zeros(4)
        expected[order[k]] = 1.0
        np.testing.assert_array_equal(tc.evaluate(tc.grad(tc.sort(x)[k], x), x=x0), expected)
    jax = _jax()  # jax's sort is stable too, so its subgradient at ties is the same one
    X0 = np.array([[1.0, 1.0, 0.0], [2.0, 2.0, 2.0]])
    X, w = tc.var("X", (2, 3)), np.arange(3.0)
    np.testing.assert_array_equal(
        tc.evaluate(tc.grad(tc.sum(tc.const(w) * tc.sort(X, axis=1)), X), X=X0),
        jax.grad(lambda a: jax.numpy.sum(w * jax.numpy.sort(a, axis=1)))(X0))


@pytest.mark.parametrize("kth", [0, 2, -1, (1, 3)])
@pytest.mark.parametrize("shape, axis", [((6,), -1), ((3, 6), 1), ((6, 3), 0)])
def test_partition_matches_numpy_and_finite_differences(shape, axis, kth):
    rng = np.random.default_rng(6)
    x = tc.var("x", shape)
    x0 = rng.standard_normal(shape)
    f = tc.partition(x, kth, axis=axis)
    value = tc.evaluate(f, x=x0)
    np.testing.assert_array_equal(value, np.take_along_axis(x0, np.argpartition(x0, kth, axis=axis),
                                                            axis=axis))
    sorted_ = np.sort(x0, axis=axis)
    for k in np.atleast_1d(kth):  # numpy's promise: entry k is where sorting puts it
        np.testing.assert_array_equal(np.take(value, k, axis=axis), np.take(sorted_, k, axis=axis))
        np.testing.assert_array_equal(np.take(value, k, axis=axis),
                                      np.take(np.partition(x0, kth, axis=axis), k, axis=axis))
    check_grads(tc.sum(tc.exp(f) * tc.const(rng.standard_normal(shape))), [x], {"x": x0}, rng=rng)


def test_partition_bad_kth():
    with pytest.raises(ShapeError, match="partition: kth=4 is out of bounds for axis -1 of size 4"):
        tc.partition(tc.var("x", (4,)), 4)


# ---------------------------------------------------------------------------
# The numpy dialect and the text language


NUMPY_TEXTS = [
    ("np.prod(X, axis=0)", lambda X, x: np.prod(X, axis=0)),
    ("X.prod(axis=1, keepdims=True) * X", lambda X, x: X.prod(axis=1, keepdims=True) * X),
    ("np.prod(x) + X.prod()", lambda X, x: np.prod(x) + X.prod()),
    ("np.cumsum(X)", lambda X, x: np.cumsum(X)),
    ("X.cumsum(axis=1) + np.cumprod(X, axis=0)", lambda X, x: X.cumsum(axis=1) + np.cumprod(X, axis=0)),
    ("np.sort(X, axis=0) @ x", lambda X, x: np.sort(X, axis=0) @ x),
    ("np.partition(x, 2)[2] + np.partition(x, kth=(0, 3))[3]",
     lambda X, x: np.partition(x, 2)[2] + np.partition(x, kth=(0, 3))[3]),
]


@pytest.mark.parametrize("text, numpy", NUMPY_TEXTS)
def test_numpy_dialect_reads_them(text, numpy):
    rng = np.random.default_rng(8)
    X0, x0 = rng.standard_normal((3, 4)), rng.standard_normal(4)
    shapes = {k: v for k, v in dict(X=(3, 4), x=(4,)).items() if re.search(rf"\b{k}\b", text)}
    e = tc.parse(text, dialect="numpy", **shapes)
    used = {k: v for k, v in dict(X=X0, x=x0).items() if k in tc.variables(e)}
    np.testing.assert_allclose(tc.evaluate(e, used), numpy(X0, x0), rtol=1e-12)


@pytest.mark.parametrize("text", ["prod(X)", "prod(x) + sum(cumsum(x))", "sort(x)",
                                  "cumprod(x)", "x'*sort(x)"])
def test_text_round_trip(text):
    rng = np.random.default_rng(9)
    values = {"X": rng.standard_normal((3, 3)), "x": rng.standard_normal(3)}
    shapes = {k: v for k, v in dict(X=(3, 3), x=(3,)).items() if k in text}
    e = tc.parse(text, **shapes)
    again = tc.parse(tc.to_text(e), **shapes)
    assert again is e
    used = {k: v for k, v in values.items() if k in tc.variables(e)}
    np.testing.assert_allclose(tc.evaluate(e, used), tc.evaluate(again, used))


def test_text_refuses_what_it_cannot_read():
    X, x = tc.var("X", (2, 3)), tc.var("x", (3,))
    for e in (tc.cumsum(X, axis=0), tc.prod(X, axis=1), tc.partition(x, 1),
              tc.grad(tc.sum(x * tc.cumsum(x)), x).expr, tc.grad(tc.prod(x), x).expr):
        with pytest.raises(NoTextForm):
            tc.to_text(e)
    with pytest.raises(tc.ParseError, match="cumsum\\(x\\): needs a vector"):
        tc.parse("cumsum(X)", X=(2, 2))


def test_printed_forms():
    x, X = tc.var("x", (3,)), tc.var("X", (2, 3))
    assert tc.index_notation(tc.prod(X, axis=1)) == "prod_j(X_ij)"
    assert tc.matrix_notation(tc.prod(X, axis=1)) == "prod(X, axis=1)"
    assert tc.latex(tc.prod(X)) == "\\prod\\left(X\\right)"
    assert tc.index_notation(tc.cumsum(X, axis=0)) == "cumsum(X, axis=0)_ij"
    assert tc.latex(tc.cumprod(x)) == "\\operatorname{cumprod}\\left(x\\right)"
    assert tc.matrix_notation(tc.partition(x, 1)) == "partition(x, 1)"
    assert tc.to_text(tc.cumsum(x)) == "cumsum(x)"
    grad = tc.grad(tc.sum(tc.var("w", (3,)) * tc.sort(x)), x)
    assert tc.matrix_notation(grad) == "scatter(w → argsort(x))"
    assert tc.matrix_notation(tc.grad(tc.sum(tc.var("w", (3,)) * tc.cumsum(x)), x)) == \
        "cumsum(w, reverse=True)"
    assert tc.matrix_notation(tc.grad(tc.prod(x), x)) == "prod_others(x)"


# ---------------------------------------------------------------------------
# codegen and the backends


def _outputs():
    x, X, w = tc.var("x", (4,)), tc.var("X", (3, 4)), tc.var("w", (4,))
    return [tc.prod(X, axis=1), tc.grad(tc.prod(X), X), tc.hessian(tc.prod(x), x),
            tc.hessian(tc.prod(X, axis=(0, 1)), X),
            tc.cumsum(X, axis=0), tc.grad(tc.sum(w * tc.cumsum(x)), x),
            tc.cumprod(X, axis=1), tc.grad(tc.sum(w * tc.cumprod(x)), x),
            tc.hessian(tc.sum(w * tc.cumprod(x)), x),
            tc.grad(tc.sum(w * tc.cumprod(X, axis=1)), X),
            tc.sort(X, axis=0), tc.grad(tc.sum(w * tc.sort(x)), x), tc.jacobian(tc.sort(x), x)]


def _values():
    rng = np.random.default_rng(11)
    values = dict(x=rng.standard_normal(4), X=rng.standard_normal((3, 4)), w=rng.standard_normal(4))
    values["X"][1, 2] = values["x"][1] = 0.0
    return values


def _independent(values):
    """The outputs of _outputs, from numpy and by hand (the derivatives from the definitions)."""
    x, X, w = values["x"], values["X"], values["w"]
    others = lambda v: np.array([np.prod(np.delete(v, i)) for i in range(v.size)])  # noqa: E731
    pairs = lambda v: np.array([[0.0 if i == j else np.prod(np.delete(v, [i, j]))  # noqa: E731
                                 for j in range(v.size)] for i in range(v.size)])
    cumprod_grad = lambda v, g: np.array([sum(g[i] * np.prod(np.delete(v[:i + 1], j))  # noqa: E731
                                              for i in range(j, v.size)) for j in range(v.size)])
    order = np.argsort(x, kind="stable")
    jac = np.zeros((4, 4))
    jac[np.arange(4), order] = 1.0
    return [np.prod(X, axis=1), others(X.reshape(-1)).reshape(3, 4), pairs(x),
            pairs(X.reshape(-1)).reshape(3, 4, 3, 4),
            np.cumsum(X, axis=0), np.cumsum(w[::-1])[::-1],
            np.cumprod(X, axis=1), cumprod_grad(x, w),
            np.array([[0.0 if j == k else sum(w[i] * np.prod(np.delete(x[:i + 1], [j, k]))
                                              for i in range(max(j, k), 4)) for k in range(4)]
                      for j in range(4)]),
            np.array([cumprod_grad(r, w) for r in X]),
            np.sort(X, axis=0), jac.T @ w, jac]


def test_codegen_matches_numpy():
    outputs, values = _outputs(), _values()
    namespace: dict = {}
    exec(tc.codegen(outputs, name="run"), namespace)  # noqa: S102 - our own generated code
    got = namespace["run"](**values)
    for g, e in zip(got, _independent(values)):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("backend", ["jax", "torch", "dask"])
def test_backends_match_numpy(backend):
    if backend == "jax":
        _jax()
    pytest.importorskip({"jax": "jax", "torch": "torch", "dask": "dask.array"}[backend])
    outputs, values = _outputs(), _values()
    if backend == "torch":
        import torch
        inputs = {k: torch.from_numpy(v.copy()) for k, v in values.items()}
    elif backend == "dask":
        import dask.array as da
        inputs = {k: da.from_array(v, chunks=2) for k, v in values.items()}
    else:
        inputs = values
    got = tc.compile(outputs, backend=backend)(inputs)
    for g, e in zip(got, _independent(values)):
        g = g.compute() if backend == "dask" else (g.numpy() if backend == "torch" else g)
        np.testing.assert_allclose(np.asarray(g), e, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("backend", ["jax", "torch", "dask"])
def test_backends_refuse_partition_by_name(backend):
    if backend == "jax":
        _jax()
    pytest.importorskip({"jax": "jax", "torch": "torch", "dask": "dask.array"}[backend])
    x = tc.var("x", (4,))
    program = tc.compile(tc.partition(x, 1), backend=backend)  # lowered at the first call
    with pytest.raises(CodegenError, match="'partition'.*argpartition order.*numpy only"):
        program(x=np.zeros(4))


@pytest.mark.parametrize("count", [0, 1, 2])
def test_long_axes_match_jax(count):
    # the scans run in log₂ n steps: a length that is no power of two, with zeros among small
    # and large entries (the products stay within range)
    jax = _jax()
    jnp = jax.numpy
    rng = np.random.default_rng(40 + count)
    x0 = _zeros((37,), count, rng) * 0.9
    v, w = rng.standard_normal(37), rng.standard_normal(37)
    x = tc.var("x", (37,))
    for ours, theirs in ((tc.prod(x), jnp.prod),
                         (tc.sum(tc.const(w) * tc.cumprod(x)), lambda a: jnp.sum(w * jnp.cumprod(a)))):
        hvp = jax.jvp(jax.grad(theirs), (x0,), (v,))[1]
        np.testing.assert_allclose(tc.evaluate(tc.grad(ours, x), x=x0), jax.grad(theirs)(x0),
                                   rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(tc.evaluate(tc.hvp(ours, x, tc.const(v)), x=x0), hvp,
                                   rtol=1e-11, atol=1e-14 * np.abs(hvp).max())
