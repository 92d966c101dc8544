"""Readable by construction: canonical order, like terms, exact rewrites, textbook results.

Every printed form asserted here is also checked for its value (against numpy closed forms or
finite differences): a rewrite that reads well but changes a value is a wrong derivative.
"""

import numpy as np
import pytest

import tensorcalc as tc
from fd import check_derivative

RNG = np.random.default_rng(5)
n = 4


def values(**shapes):
    return {name: RNG.uniform(-1, 1, size=shape) for name, shape in shapes.items()}


# ---------------------------------------------------------------------------
# canonical order


def test_commutative_sums_and_products_are_one_node():
    A, B = tc.var("A", (n, n)), tc.var("B", (n, n))
    assert tc.simplify(A + B) is tc.simplify(B + A)
    assert tc.simplify(A * B) is tc.simplify(B * A)
    X = tc.var("X", (n, n))
    assert tc.einsum("jk,ki->ij", X, X) is tc.einsum("li,jl->ij", X, X)


def test_like_terms_up_to_renaming_and_operand_order_are_collected():
    X = tc.var("X", (n, n))
    gradient = tc.grad(tc.trace(X @ X @ X), X)
    assert gradient.matrix == "3(X²)ᵀ"
    data = values(X=(n, n))
    np.testing.assert_allclose(tc.evaluate(gradient, data), 3 * (data["X"] @ data["X"]).T)


def test_summed_indices_are_named_alike_across_terms_and_never_as_a_variable():
    x, A = tc.var("x", (n,)), tc.var("A", (n, n))
    assert str(tc.simplify(A @ x + A.T @ x)) == "(A_ij + A_ji) x_j"
    i = tc.var("i", (n,))
    text = str(tc.grad(tc.sum(i * x), x))
    assert text == "∂(Σ_k i_k x_k)/∂x_j = i_j"  # the free index skips the variable's name


def test_derivative_header_keeps_its_parentheses_and_naive_derivatives_have_one():
    A, X = tc.var("A", (n, n)), tc.var("X", (n, n))
    assert str(tc.grad(tc.trace(A @ X), X)).startswith("∂(A_kl X_lk)/∂X_ij = ")
    x = tc.var("x", (n,))
    assert str(tc.grad(tc.sum(x * x), x, method="naive")).startswith("∂(Σ_")


# ---------------------------------------------------------------------------
# exact rewrites


@pytest.mark.parametrize("build, expected", [
    (lambda t: 1 / (1 + tc.exp(-t)), "σ(t_i)"),
    (lambda t: tc.exp(t) / (1 + tc.exp(t)), "σ(t_i)"),
    (lambda t: tc.exp(-t) / (1 + tc.exp(-t)), "σ(-t_i)"),
    (lambda t: tc.log(1 + tc.exp(t)), "softplus(t_i)"),
    (lambda t: tc.log(tc.sigmoid(t)), "-softplus(-t_i)"),
    (lambda t: tc.sin(t) * tc.cos(t) ** -2 * tc.sin(t), "cos(t_i)⁻² sin(t_i)²"),
    (lambda t: tc.sqrt(tc.exp(t)) ** 2, "exp(t_i)"),
])
def test_recurring_forms_are_rewritten_exactly(build, expected):
    t = tc.var("t", (n,))
    simplified = tc.simplify(build(t))
    assert str(simplified) == expected
    data = values(t=(n,))
    np.testing.assert_allclose(tc.evaluate(simplified, data), tc.evaluate(build(t), data),
                               rtol=1e-12)


def test_tan_derivative_merges_powers():
    x = tc.var("x", (n,))
    assert str(tc.grad(tc.sum(tc.tan(x)), x).expr) == "1 + tan(x_i)²"


def test_a_constant_identity_prints_as_a_delta():
    x = tc.var("x", (n,))
    assert str(tc.simplify(tc.const(np.eye(n)) @ x)) == "x_i"
    assert str(tc.simplify(2 * tc.const(np.eye(n)))) == "2 δ_ij"


def test_large_exponents_merge_only_when_exact():
    """x^(2^60) differentiates to 2^60 x^(2^60 − 1); 2^60 − 1 is not a float64, and merging
    would round it to an even power and lose the sign at x = −1."""
    x = tc.var("x", (3,))
    expr = x
    for _ in range(60):
        expr = expr * expr
    value = tc.evaluate(tc.grad(tc.sum(expr), x), x=np.array([1.0, -1.0, 1.0]))
    np.testing.assert_array_equal(value, [2.0 ** 60, -(2.0 ** 60), 2.0 ** 60])


def test_keepdims_axes_do_not_leak_into_the_softmax_jacobian():
    z = tc.var("z", (n,))
    e = tc.exp(z)
    J = tc.jacobian(e / tc.sum(e, keepdims=True), z)
    assert "𝟙_k" not in str(J.expr) and "Σ_m" not in str(J.expr)
    point = values(z=(n,))
    s = np.exp(point["z"]) / np.exp(point["z"]).sum()
    np.testing.assert_allclose(tc.evaluate(J, point), np.diag(s) - np.outer(s, s), rtol=1e-12)


# ---------------------------------------------------------------------------
# the classic results, in their textbook form


def test_sigmoid_cross_entropy_output_gradient_is_a_minus_y():
    z, y = tc.var("z", (n,)), tc.var("y", (n,))
    a = tc.sigmoid(z)
    loss = -tc.sum(y * tc.log(a) + (1 - y) * tc.log(1 - a))
    gradient = tc.grad(loss, z)
    assert gradient.matrix == "σ(z) − y"
    data = values(z=(n,), y=(n,))
    check_derivative(loss, z, data, gradient, rng=RNG)


def test_softmax_cross_entropy_gradient_is_softmax_minus_y():
    z, y = tc.var("z", (n,)), tc.var("y", (n,))
    for loss in (-tc.sum(y * tc.log(tc.softmax(z))), -tc.sum(y * (z - tc.logsumexp(z)))):
        gradient = tc.grad(loss, z)
        assert gradient.matrix == "sum(y) softmax(z) − y"  # softmax(z) − y for a one-hot y
        data = values(z=(n,), y=(n,))
        check_derivative(loss, z, data, gradient, rng=RNG)


def test_least_squares_and_trace_forms():
    A, x, y, X = tc.var("A", (n, n)), tc.var("x", (n,)), tc.var("y", (n,)), tc.var("X", (n, n))
    assert tc.grad(tc.sum((A @ x - y) ** 2), x).matrix == "2Aᵀ(Ax − y)"
    assert tc.grad(x @ A @ x, x).matrix == "(A + Aᵀ) x"
    gradient = tc.grad(tc.trace(X.T @ A @ X), X)
    assert gradient.matrix == "(A + Aᵀ) X"
    data = values(A=(n, n), X=(n, n))
    np.testing.assert_allclose(tc.evaluate(gradient, data),
                               (data["A"] + data["A"].T) @ data["X"], rtol=1e-12)


def test_logistic_hessian_is_one_contraction_with_the_sigmoid_named_once():
    X, w, y = tc.var("X", ("n", "d")), tc.var("w", ("d",)), tc.var("y", ("n",))
    loss = tc.sum(tc.log(1 + tc.exp(-y * (X @ w))))
    H = tc.grad(tc.grad(loss, w), w)
    assert H.matrix == "Xᵀ diag(y² ⊙ s ⊙ (𝟙 − s)) X\n  where s = σ(−y ⊙ Xw)"
    data = {"X": RNG.normal(size=(6, 3)), "w": RNG.normal(size=3), "y": np.sign(RNG.normal(size=6))}
    s = 1 / (1 + np.exp(data["y"] * (data["X"] @ data["w"])))
    expected = data["X"].T @ np.diag(data["y"] ** 2 * s * (1 - s)) @ data["X"]
    np.testing.assert_allclose(tc.evaluate(H, data), expected, rtol=1e-12)


def test_shared_operands_are_factored_out_of_a_sum():
    X, a, b = tc.var("X", (5, n)), tc.var("a", (5,)), tc.var("b", (5,))
    left = tc.einsum("ki,k,kj->ij", X, a, X)
    right = tc.einsum("ki,k,kj->ij", X, b, X)
    factored = tc.simplify(left + right)
    assert isinstance(factored, tc.Contraction)  # one contraction, not a sum of two
    data = values(X=(5, n), a=(5,), b=(5,))
    np.testing.assert_allclose(tc.evaluate(factored, data),
                               data["X"].T @ np.diag(data["a"] + data["b"]) @ data["X"], rtol=1e-12)
