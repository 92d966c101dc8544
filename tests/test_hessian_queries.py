"""tc.hessian_diagonal, tc.laplacian, tc.hessian_column, tc.hessian_entry: values against JAX's
full Hessian and finite differences of the gradient; the compiled programs never hold a node
(or a planned intermediate) of the Hessian's size."""

import numpy as np
import pytest

import tensorcalc as tc
from fd import check_projection

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy

M, N = 30, 40  # M < N: X (M × N) is smaller than the N × N Hessian


def _logistic():
    X, w, y = tc.var("X", (M, N)), tc.var("w", (N,)), tc.var("y", (M,))
    z = X @ w
    loss = tc.sum(tc.softplus(z) - y * z)
    rng = np.random.default_rng(0)
    values = {"X": rng.standard_normal((M, N)) / 4, "w": rng.standard_normal(N),
              "y": rng.uniform(0, 1, M)}

    def jax_loss(w_):
        z_ = values["X"] @ w_
        return jnp.sum(jnp.logaddexp(0.0, z_) - values["y"] * z_)
    return loss, w, values, jax_loss


def _matrix_variable():
    W, a = tc.var("W", (2, 3)), tc.var("a", (3,))
    loss = tc.sum(tc.tanh(W @ a) ** 2) + tc.sum(tc.log2(1.5 + tc.sigmoid(W)))
    rng = np.random.default_rng(1)
    values = {"W": rng.standard_normal((2, 3)), "a": rng.standard_normal(3)}

    def jax_loss(W_):
        return (jnp.sum(jnp.tanh(W_ @ values["a"]) ** 2)
                + jnp.sum(jnp.log2(1.5 + jax.nn.sigmoid(W_))))
    return loss, W, values, jax_loss


def _cubic():
    x = tc.var("x", (4,))
    loss = tc.sum(x) ** 3 + tc.sum(tc.arcsinh(x) * x)
    values = {"x": np.array([0.3, -0.7, 1.1, 0.2])}
    return loss, x, values, lambda x_: jnp.sum(x_) ** 3 + jnp.sum(jnp.arcsinh(x_) * x_)


CASES = {"logistic": _logistic, "matrix variable": _matrix_variable, "cubic": _cubic}


@pytest.mark.parametrize("case", CASES)
def test_diagonal_laplacian_columns_and_entries_match_jax(case):
    loss, wrt, values, jax_loss = CASES[case]()
    x0 = values[wrt.name]
    size = x0.size
    H = np.asarray(jax.hessian(jax_loss)(x0)).reshape(size, size)
    diagonal = tc.evaluate(tc.hessian_diagonal(loss, wrt), values)
    assert diagonal.shape == x0.shape
    np.testing.assert_allclose(diagonal.reshape(-1), np.diag(H), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tc.evaluate(tc.laplacian(loss, wrt), values), np.trace(H),
                               rtol=1e-10, atol=1e-12)
    rng = np.random.default_rng(2)
    for flat in rng.choice(size, size=min(3, size), replace=False):
        index = np.unravel_index(flat, x0.shape)
        index = int(index[0]) if x0.ndim == 1 else tuple(int(k) for k in index)
        column = tc.evaluate(tc.hessian_column(loss, wrt, index), values)
        np.testing.assert_allclose(column.reshape(-1), H[:, flat], rtol=1e-10, atol=1e-12)
        other = int(rng.integers(size))
        row = np.unravel_index(other, x0.shape)
        row = int(row[0]) if x0.ndim == 1 else tuple(int(k) for k in row)
        entry = tc.evaluate(tc.hessian_entry(loss, wrt, row, index), values)
        np.testing.assert_allclose(entry, H[other, flat], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_a_column_is_the_finite_difference_of_the_gradient(case):
    loss, wrt, values, _ = CASES[case]()
    x0 = values[wrt.name]
    index = (0,) * x0.ndim
    gradient = tc.compile(tc.grad(loss, wrt))
    others = {k: v for k, v in values.items() if k != wrt.name}
    column = tc.evaluate(tc.hessian_column(loss, wrt, index if x0.ndim > 1 else 0), values)
    unit = np.zeros_like(x0)
    unit[index] = 1.0
    # d/dt ∇f(x0 + t e_index) at t = 0, as a derivative of a function of the scalar t
    check_projection(lambda t: np.asarray(gradient(**others, **{wrt.name: x0 + t * unit})),
                     np.array(0.0), column, np.random.default_rng(3), label=case)


def test_no_node_or_planned_intermediate_has_the_hessians_size():
    loss, w, values, _ = _logistic()
    full = tc.compile(tc.hessian(loss, w))
    assert any(node.shape == (N, N) for node in full.nodes)  # the check can fail
    for query in (tc.hessian_diagonal(loss, w), tc.laplacian(loss, w),
                  tc.hessian_column(loss, w, 5), tc.hessian_entry(loss, w, 1, 5)):
        program = tc.compile(query)
        assert max(int(np.prod(node.shape)) for node in program.nodes) < N * N, query
        assert program.plan.largest_intermediate < N * N, query
        assert program.plan.flops < full.plan.flops / 10, (program.plan.flops, full.plan.flops)


def test_the_logistic_diagonal_is_the_squared_design_matrix_form():
    X, w, y = tc.var("X", ("m", "n")), tc.var("w", ("n",)), tc.var("y", ("m",))
    z = X @ w
    text = tc.matrix_notation(tc.hessian_diagonal(tc.sum(tc.softplus(z) - y * z), w))
    assert text.splitlines()[0] == "(X^⊙2)ᵀ (s ⊙ (𝟙 − s))"


def test_bad_indices_and_named_sizes_are_clear_errors():
    x = tc.var("x", (3,))
    f = tc.sum(x ** 3)
    with pytest.raises(tc.ShapeError, match="index 3 is out of range for axis 0 of size 3"):
        tc.hessian_column(f, x, 3)
    with pytest.raises(tc.ShapeError, match=r"must be 1 integer\(s\)"):
        tc.hessian_entry(f, x, (0, 1), 0)
    named = tc.var("v", ("n",))
    with pytest.raises(tc.ShapeError, match="named dimensions"):
        tc.hessian_column(tc.sum(named ** 3), named, 0)
    # negative indices count from the end, as numpy's
    values = {"x": np.array([1.0, 2.0, 3.0])}
    np.testing.assert_allclose(tc.evaluate(tc.hessian_column(f, x, -1), values), [0, 0, 18.0])


def test_a_hessian_in_several_variables_is_its_blocks_as_jax_gives_them():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    x, A, y = tc.var("x", (3,)), tc.var("A", (3, 2)), tc.var("y", (2,))
    f = tc.sum(tc.tanh(x @ A) * y) + tc.sum(x ** 3) * tc.sum(y ** 2)
    rng = np.random.default_rng(7)
    values = {"x": rng.standard_normal(3), "A": rng.standard_normal((3, 2)),
              "y": rng.standard_normal(2)}
    blocks = tc.hessian(f, [x, y])

    def g(xv, yv):
        return jnp.sum(jnp.tanh(xv @ values["A"]) * yv) + jnp.sum(xv ** 3) * jnp.sum(yv ** 2)

    theirs = jax.hessian(g, argnums=(0, 1))(values["x"], values["y"])
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(tc.evaluate(blocks[i][j], values), theirs[i][j],
                                       rtol=1e-12, atol=1e-12)
