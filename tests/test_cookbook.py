"""Closed forms from the Matrix Cookbook (Petersen & Pedersen), compared with numpy.

Each derivative is computed by tensorcalc symbolically, evaluated, and compared
with the closed form written in plain numpy; the default ("contracted") and the
textbook ("naive") methods must give the same values.
"""

import numpy as np
import pytest

import tensorcalc as tc
from fd import check_derivative, evaluate

RNG = np.random.default_rng(2024)
n, m = 4, 3


def normal(*shape):
    return RNG.standard_normal(shape)


x, a, b = tc.var("x", (n,)), tc.var("a", (n,)), tc.var("b", (m,))
A, X = tc.var("A", (n, n)), tc.var("X", (n, m))
VALUES = {"x": normal(n), "a": normal(n), "b": normal(m), "A": normal(n, n), "X": normal(n, m)}


def both_methods(f, wrt, values=VALUES):
    """The derivative's value by the default method, after checking the naive one agrees."""
    contracted = evaluate(tc.grad(f, wrt), values)
    naive = evaluate(tc.grad(f, wrt, method="naive"), values)
    np.testing.assert_allclose(naive, contracted, rtol=1e-10, atol=1e-12)
    return contracted


# ---------------------------------------------------------------------------
# Linear and quadratic forms


def test_linear_form_aTx():  # (69) ∂(aᵀx)/∂x = a
    got = both_methods(a @ x, x)
    np.testing.assert_allclose(got, VALUES["a"], rtol=1e-13)
    assert tc.grad(a @ x, x).expr is a


def test_quadratic_form_xTAx():  # (81) ∂(xᵀAx)/∂x = (A + Aᵀ) x
    v = VALUES
    np.testing.assert_allclose(both_methods(x @ A @ x, x), (v["A"] + v["A"].T) @ v["x"],
                               rtol=1e-12)


def test_quadratic_form_wrt_the_matrix():  # (70) ∂(xᵀAx)/∂A = x xᵀ
    v = VALUES
    np.testing.assert_allclose(both_methods(x @ A @ x, A), np.outer(v["x"], v["x"]), rtol=1e-12)


def test_hessian_of_quadratic_form():  # ∂²(xᵀAx)/∂x² = A + Aᵀ
    v = VALUES
    hessian = tc.grad(tc.grad(x @ A @ x, x), x)
    assert hessian.shape == (n, n)
    np.testing.assert_allclose(evaluate(hessian, v), v["A"] + v["A"].T, rtol=1e-13)
    assert str(hessian.expr) == "A_ij + A_ji"


def test_bilinear_form_aTXb():  # (70) ∂(aᵀXb)/∂X = a bᵀ
    v = VALUES
    np.testing.assert_allclose(both_methods(a @ X @ b, X), np.outer(v["a"], v["b"]), rtol=1e-12)


def test_trace_of_product():  # (100) ∂ tr(AX)/∂X = Aᵀ
    B = tc.var("B", (m, n))
    values = {"B": normal(m, n), "X": VALUES["X"]}
    np.testing.assert_allclose(both_methods(tc.trace(B @ X), X, values), values["B"].T,
                               rtol=1e-13)


def test_trace_of_XTX():  # (103) ∂ tr(XᵀX)/∂X = 2X
    np.testing.assert_allclose(both_methods(tc.trace(X.T @ X), X), 2 * VALUES["X"], rtol=1e-13)


def test_trace_of_XTAX():  # (117) ∂ tr(XᵀAX)/∂X = (A + Aᵀ) X
    v = VALUES
    np.testing.assert_allclose(both_methods(tc.trace(X.T @ A @ X), X),
                               (v["A"] + v["A"].T) @ v["X"], rtol=1e-12)


def test_least_squares():  # (84) ∂‖Ax − b‖²/∂x = 2Aᵀ(Ax − b)
    M, y = tc.var("M", (m, n)), tc.var("y", (m,))
    values = {"M": normal(m, n), "y": normal(m), "x": VALUES["x"]}
    residual = M @ x - y
    loss = tc.sum(residual ** 2)
    expected = 2 * values["M"].T @ (values["M"] @ values["x"] - values["y"])
    np.testing.assert_allclose(both_methods(loss, x, values), expected, rtol=1e-12)
    np.testing.assert_allclose(both_methods(residual @ residual, x, values), expected, rtol=1e-12)
    # Hessian 2 AᵀA
    hessian = tc.grad(tc.grad(loss, x), x)
    np.testing.assert_allclose(evaluate(hessian, values), 2 * values["M"].T @ values["M"],
                               rtol=1e-12)


def test_norm_of_a_vector():  # ∂‖x‖/∂x = x / ‖x‖
    norm = tc.sqrt(x @ x)
    v = VALUES["x"]
    np.testing.assert_allclose(both_methods(norm, x), v / np.linalg.norm(v), rtol=1e-12)


def test_sum_of_squares_over_x():  # ∂(aᵀ diag(x)⁻¹ a)/∂x = −a² / x²
    positive = {"x": RNG.uniform(0.5, 2.0, n), "a": VALUES["a"]}
    f = tc.sum(a * a / x)
    np.testing.assert_allclose(both_methods(f, x, positive),
                               -positive["a"] ** 2 / positive["x"] ** 2, rtol=1e-12)


# ---------------------------------------------------------------------------
# Machine learning losses


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_logistic_regression_gradient():  # ∇_w = Xᵀ(σ(Xw) − y)
    D, w, y = tc.var("D", (6, n)), tc.var("w", (n,)), tc.var("y", (6,))
    values = {"D": normal(6, n), "w": normal(n), "y": RNG.integers(0, 2, 6).astype(float)}
    z = D @ w
    loss = tc.sum(tc.softplus(z) - y * z)  # −log-likelihood of a logistic model
    expected = values["D"].T @ (sigmoid(values["D"] @ values["w"]) - values["y"])
    np.testing.assert_allclose(both_methods(loss, w, values), expected, rtol=1e-12)
    # the same loss written with log σ
    loss2 = -tc.sum(y * tc.log(tc.sigmoid(z)) + (1 - y) * tc.log(1 - tc.sigmoid(z)))
    np.testing.assert_allclose(evaluate(loss2, values), evaluate(loss, values), rtol=1e-12)
    np.testing.assert_allclose(both_methods(loss2, w, values), expected, rtol=1e-10)
    # Hessian Xᵀ diag(σ(1−σ)) X
    s = sigmoid(values["D"] @ values["w"])
    hessian = evaluate(tc.grad(tc.grad(loss, w), w), values)
    np.testing.assert_allclose(hessian, values["D"].T @ np.diag(s * (1 - s)) @ values["D"],
                               rtol=1e-12)


def mlp_backprop(W1, b1, W2, b2, Xv, Yv):
    """Hand-written numpy forward and backward pass of a tanh MLP with squared loss."""
    H = np.tanh(W1 @ Xv + b1[:, None])
    out = W2 @ H + b2[:, None]
    R = out - Yv
    loss = np.sum(R ** 2)
    d_out = 2 * R
    dW2 = d_out @ H.T
    db2 = d_out.sum(axis=1)
    dH = W2.T @ d_out
    dZ = dH * (1 - H ** 2)
    dW1 = dZ @ Xv.T
    db1 = dZ.sum(axis=1)
    dX = W1.T @ dZ
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "X": dX}


@pytest.mark.parametrize("named", [False, True], ids=["fixed sizes", "named dimensions"])
def test_two_layer_mlp_matches_hand_backprop(named):
    d, h, o, batch = 5, 7, 3, 4
    dims = ("d", "h", "o", "B") if named else (d, h, o, batch)
    dd, hh, oo, bb = dims
    W1, b1 = tc.var("W1", (hh, dd)), tc.var("b1", (hh,))
    W2, b2 = tc.var("W2", (oo, hh)), tc.var("b2", (oo,))
    Xb, Yb = tc.var("X", (dd, bb)), tc.var("Y", (oo, bb))
    # biases broadcast over the batch through a transpose: (B, h) + (h,) then .T
    hidden = tc.tanh((W1 @ Xb).T + b1).T
    out = (W2 @ hidden).T + b2
    loss = tc.sum((out.T - Yb) ** 2)
    values = {"W1": normal(h, d), "b1": normal(h), "W2": normal(o, h), "b2": normal(o),
              "X": normal(d, batch), "Y": normal(o, batch)}
    expected_loss, expected = mlp_backprop(**{k: values[k] for k in ("W1", "b1", "W2", "b2")},
                                           Xv=values["X"], Yv=values["Y"])
    wrt = (W1, b1, W2, b2, Xb)
    program = tc.compile([loss, *tc.grad(loss, wrt)])
    got_loss, *got = program(values)
    np.testing.assert_allclose(got_loss, expected_loss, rtol=1e-12)
    for variable, gradient in zip(wrt, got):
        np.testing.assert_allclose(gradient, expected[variable.name], rtol=1e-10,
                                   err_msg=variable.name)
    naive = tc.compile(list(tc.grad(loss, wrt, method="naive")))(values)
    for variable, gradient in zip(wrt, naive):
        np.testing.assert_allclose(gradient, expected[variable.name], rtol=1e-10,
                                   err_msg=f"naive {variable.name}")


# ---------------------------------------------------------------------------
# The seed cases of the README


def test_jacobian_of_W_a_is_delta_times_a():
    W, a3 = tc.var("W", (3, 3)), tc.var("a", (3,))
    J = tc.grad(W @ a3, W)
    assert J.shape == (3, 3, 3)
    assert str(J) == "∂(W_il a_l)/∂W_jk = δ_ij a_k"
    values = {"W": normal(3, 3), "a": np.array([1.0, -2.0, 0.5])}
    expected = np.einsum("ij,k->ijk", np.eye(3), values["a"])
    got = evaluate(J, values)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(evaluate(tc.grad(W @ a3, W, method="naive"), values), expected)
    check_derivative(W @ a3, W, values, J)


def test_gradient_of_g_dot_W_a_is_outer_product():
    W, a3, g = tc.var("W", (3, 3)), tc.var("a", (3,)), tc.var("g", (3,))
    dW = tc.grad(tc.sum(g * (W @ a3)), W)
    assert dW.shape == (3, 3)
    assert str(dW.expr) == "g_i a_j"
    values = {"W": normal(3, 3), "a": normal(3), "g": normal(3)}
    np.testing.assert_allclose(evaluate(dW, values), np.outer(values["g"], values["a"]),
                               rtol=1e-14)
    np.testing.assert_allclose(both_methods(tc.sum(g * (W @ a3)), W, values),
                               np.outer(values["g"], values["a"]), rtol=1e-14)
    vjp = tc.vjp(W @ a3, W, g)
    assert str(vjp) == "g_i a_j"
    np.testing.assert_allclose(evaluate(vjp, values), np.outer(values["g"], values["a"]))


def test_hessian_of_x_A_x_is_A_plus_AT():
    x3, A3 = tc.var("x", (3,)), tc.var("A", (3, 3))
    hessian = tc.grad(tc.grad(x3 @ A3 @ x3, x3), x3)
    values = {"x": normal(3), "A": normal(3, 3)}
    np.testing.assert_allclose(evaluate(hessian, values), values["A"] + values["A"].T,
                               rtol=1e-14)
    naive = tc.grad(tc.grad(x3 @ A3 @ x3, x3, method="naive"), x3, method="naive")
    np.testing.assert_allclose(evaluate(naive, values), values["A"] + values["A"].T, rtol=1e-14)


def test_grad_of_a_tuple_returns_a_tuple():
    f = a @ A @ x
    da, dA, dx = tc.grad(f, (a, A, x))
    v = VALUES
    np.testing.assert_allclose(evaluate(da, v), v["A"] @ v["x"], rtol=1e-13)
    np.testing.assert_allclose(evaluate(dA, v), np.outer(v["a"], v["x"]), rtol=1e-13)
    np.testing.assert_allclose(evaluate(dx, v), v["A"].T @ v["a"], rtol=1e-13)
    assert [d.shape for d in (da, dA, dx)] == [(n,), (n, n), (n,)]


def test_jacobian_is_grad():
    f = tc.tanh(A @ x)
    for wrt in (A, x):
        J1, J2 = tc.jacobian(f, wrt), tc.grad(f, wrt)
        assert J1.expr is J2.expr
        assert J1.shape == (n,) + wrt.shape
        check_derivative(f, wrt, VALUES, J1)


def test_jacobian_of_tanh_layer_closed_form():  # ∂ tanh(Ax)_i/∂x_j = (1 − tanh²)_i A_ij
    v = VALUES
    t = np.tanh(v["A"] @ v["x"])
    J = evaluate(tc.jacobian(tc.tanh(A @ x), x), v)
    np.testing.assert_allclose(J, (1 - t ** 2)[:, None] * v["A"], rtol=1e-12)
    J_naive = evaluate(tc.jacobian(tc.tanh(A @ x), x, method="naive"), v)
    np.testing.assert_allclose(J_naive, J, rtol=1e-12)


def test_compile_returns_loss_and_gradient_together():
    loss = tc.sum((A @ x - 1.0) ** 2)
    f = tc.compile([loss, tc.grad(loss, x)])
    value, gradient = f(A=VALUES["A"], x=VALUES["x"])
    r = VALUES["A"] @ VALUES["x"] - 1.0
    assert isinstance(value, float) or np.ndim(value) == 0
    np.testing.assert_allclose(value, r @ r, rtol=1e-13)
    np.testing.assert_allclose(gradient, 2 * VALUES["A"].T @ r, rtol=1e-13)
    assert np.ndim(tc.evaluate(loss, A=VALUES["A"], x=VALUES["x"])) == 0
    np.testing.assert_allclose(loss.evaluate(A=VALUES["A"], x=VALUES["x"]), r @ r, rtol=1e-13)


def test_a_derivative_is_usable_like_its_expression():
    """``tc.grad`` returns a Derivative; operators, numpy operands and nested grads see through
    it to ``.expr``."""
    g = tc.grad(x @ A @ x, x)  # (A + Aᵀ) x
    v = VALUES
    gv = (v["A"] + v["A"].T) @ v["x"]
    assert isinstance(g, tc.Derivative) and g == g.expr and hash(g) == hash(g.expr)
    assert g.of is tc.as_expr(x @ A @ x) and g.wrt is x
    assert (g.shape, g.ndim) == ((n,), 1)
    cases = [
        (g + 1, gv + 1), (1 - g, 1 - gv), (2 * g, 2 * gv), (g / 2, gv / 2), (g ** 2, gv ** 2),
        (-g, -gv), (A @ g, v["A"] @ gv), (g @ A, gv @ v["A"]), (g.sum(), gv.sum()),
        (tc.tanh(g), np.tanh(gv)), (np.ones(n) + g, 1 + gv), (tc.einsum("i,i->", g, g), gv @ gv),
    ]
    for expr, expected in cases:
        np.testing.assert_allclose(evaluate(expr, v), expected, rtol=1e-12)
    np.testing.assert_allclose(g.evaluate(x=v["x"], A=v["A"]), gv, rtol=1e-12)
    # ∂‖(A + Aᵀ)x‖²/∂x = 2 (A + Aᵀ)ᵀ (A + Aᵀ) x
    S = v["A"] + v["A"].T
    np.testing.assert_allclose(evaluate(tc.grad(g @ g, x), v), 2 * S.T @ S @ v["x"], rtol=1e-12)
