"""Structured variables, the second-order API, norms, the new elementwise rows and x ** y.

* symmetric variables: Sᵀ = S in the simplifier (the Hessian of xᵀSx is 2S), evaluation refuses
  an asymmetric value, and the two gradient conventions differ by stated numbers; the default
  one passes a finite-difference check along *symmetric* directions;
* hessian / hvp / jvp: hvp == hessian @ v and jvp == jacobian · v, with no Jacobian formed;
* norms against numpy.linalg.norm and finite differences; erf against math.erf.
"""

import math

import numpy as np
import pytest

import tensorcalc as tc
from fd import check_derivative, evaluate, function_of
from tensorcalc.expression.nodes import Contraction, postorder

n = 3


def symmetric(rng, size=n):
    m = rng.standard_normal((size, size))
    return (m + m.T) / 2 + size * np.eye(size)


@pytest.fixture
def rng():
    return np.random.default_rng(11)


# ---------------------------------------------------------------------------
# Symmetric variables


S = tc.var("S", (n, n), symmetric=True)
x = tc.var("x", (n,))
a, c = tc.var("a", (n,)), tc.var("c", (n,))
B = tc.var("B", (n, n))


def test_the_simplifier_knows_that_a_symmetric_matrix_is_its_transpose():
    assert tc.simplify(S.T) is S
    assert tc.matrix_notation(tc.hessian(x @ S @ x, x)) == "2S"
    assert tc.matrix_notation(tc.grad(x @ S @ x, x)) == "2 Sx"
    assert tc.simplify(S @ x - S.T @ x) is tc.simplify(0 * x)  # zero
    A = tc.var("A", (n, n))
    assert tc.matrix_notation(tc.hessian(x @ A @ x, x)) in ("A + Aᵀ", "Aᵀ + A")  # not symmetric


def test_gradient_conventions_differ_by_the_stated_numbers(rng):
    f = tc.trace(S @ B)  # Σ S_ij B_ji: the unconstrained gradient G = Bᵀ
    data = {"S": symmetric(rng), "B": rng.standard_normal((n, n))}
    G = data["B"].T
    sym = evaluate(tc.grad(f, S), data)
    cookbook = evaluate(tc.grad(f, S, convention="cookbook"), data)
    np.testing.assert_allclose(sym, (G + G.T) / 2, rtol=1e-14)
    np.testing.assert_allclose(cookbook, G + G.T - np.diag(np.diag(G)), rtol=1e-14)
    off = ~np.eye(n, dtype=bool)
    np.testing.assert_allclose(cookbook[off], 2 * sym[off], rtol=1e-14)  # twice off the diagonal
    np.testing.assert_allclose(np.diag(cookbook), np.diag(sym), rtol=1e-14)  # equal on it


@pytest.mark.parametrize("build", [lambda: a @ S @ c, lambda: tc.logdet(S),
                                   lambda: tc.sum(tc.exp(S) * B), lambda: a @ tc.solve(S, a),
                                   lambda: tc.trace(S @ S @ B),
                                   lambda: 2.5 * tc.logdet(S) + 0.5 * tc.sum(tc.outer(a, c).T *
                                                                              tc.solve(S, tc.outer(a, c).T))],
                         ids=["bilinear", "logdet", "exp", "solve", "trace", "gaussian"])
def test_the_default_gradient_passes_finite_differences_along_symmetric_directions(build, rng):
    f = build()
    data = {"S": symmetric(rng), "B": rng.standard_normal((n, n)), "a": rng.standard_normal(n),
            "c": rng.standard_normal(n)}
    gradient = evaluate(tc.grad(f, S), data)
    np.testing.assert_allclose(gradient, gradient.T, rtol=1e-12, atol=1e-14)
    fun = function_of(f, S, data)
    for _ in range(3):  # ⟨sym(G), E⟩ = d/dε f(S + εE) for a symmetric direction E
        e = rng.standard_normal((n, n))
        e = e + e.T
        exact = float(np.sum(gradient * e))
        numeric = (fun(data["S"] + 1e-6 * e) - fun(data["S"] - 1e-6 * e)) / 2e-6
        assert exact == pytest.approx(float(numeric), rel=1e-6, abs=1e-8)
    # the cookbook form is the derivative w.r.t. the free entries S_ij, i ≤ j: perturbing one
    # off-diagonal pair (i, j) and (j, i) together moves f by cookbook[i, j]
    cookbook = evaluate(tc.grad(f, S, convention="cookbook"), data)
    e = np.zeros((n, n))
    e[0, 1] = e[1, 0] = 1.0
    numeric = (fun(data["S"] + 1e-6 * e) - fun(data["S"] - 1e-6 * e)) / 2e-6
    assert cookbook[0, 1] == pytest.approx(float(numeric), rel=1e-6, abs=1e-8)


def test_a_gradient_that_is_symmetric_by_its_structure_is_not_projected_again(rng):
    """sym(G) = G when G is symmetric by its structure (S⁻¹, U Uᵀ, A S Aᵀ, sums of such):
    the Gaussian likelihood's gradient is S⁻¹ − S⁻¹XᵀXS⁻¹, not ½(G + Gᵀ) of it computed.
    is_symmetric is checked against the values (never a symmetric claim for an asymmetric
    matrix), and the gradient against finite differences along symmetric directions."""
    from tensorcalc.calculus.structured import is_symmetric
    X, A = tc.var("X", (5, n)), tc.var("A", (n, n))
    data = {"S": symmetric(rng), "X": rng.standard_normal((5, n)), "A": rng.standard_normal((n, n)),
            "B": rng.standard_normal((n, n)), "x": rng.standard_normal(n)}
    claims = {"S⁻¹": (tc.inv(S), True), "U Uᵀ": (X.T @ X, True), "A S Aᵀ": (A @ S @ A.T, True),
              "S + 2 S⁻¹ + AᵀA": (S + 2 * tc.inv(S) + A.T @ A, True),
              "S⁻¹XᵀXS⁻¹": (tc.inv(S) @ X.T @ X @ tc.inv(S), True),
              "A S": (A @ S, False), "S B": (S @ B, False), "A + Aᵀ S": (A + A.T @ S, False),
              "x xᵀ A": (tc.outer(x, x) @ A, False), "S⁻¹ B": (tc.inv(S) @ B, False)}
    for name, (expression, symmetric_by_structure) in claims.items():
        node = tc.simplify(expression)
        node = getattr(node, "expr", node)
        assert is_symmetric(node, {}) == symmetric_by_structure, name
        value = evaluate(expression, data)
        assert np.allclose(value, value.T, rtol=1e-12, atol=1e-12) or not symmetric_by_structure
    L = 2.5 * tc.logdet(S) + 0.5 * tc.sum(X.T * tc.solve(S, X.T))
    gradient = tc.grad(L, S)
    inverse = np.linalg.inv(data["S"])
    q = data["X"] @ inverse
    np.testing.assert_allclose(evaluate(gradient, data), 2.5 * inverse - 0.5 * q.T @ q, rtol=1e-12)
    assert tc.matrix_notation(gradient) == "2.5S⁻¹ − 0.5 ssᵀ\n  where s = S⁻¹Xᵀ"
    transposed = [node.operands[0] for node in tc.compile([L, gradient]).nodes
                  if isinstance(node, Contraction) and len(node.operands) == 1
                  and node.indices == ((1, 0),) and node.output == (0, 1)]
    assert all(isinstance(node, tc.Var) for node in transposed), transposed  # Xᵀ, no Gᵀ


def test_an_asymmetric_value_is_refused_with_its_asymmetry():
    value = np.eye(n)
    value[0, 1] = 0.5
    with pytest.raises(tc.BindingError, match=r"variable 'S' is symmetric but its value is not: "
                                              r"max \|S - Sᵀ\| = 0\.5"):
        tc.evaluate(tc.trace(S), S=value)
    program = tc.compile(tc.trace(S))
    assert program(S=np.eye(n)) == 3.0
    with pytest.raises(tc.BindingError, match="is symmetric"):  # checked on every call
        program(S=value)
    for fast_path in (True, False):  # the same shapes as the last call: still checked
        program = tc.compile(tc.trace(S) * 2)
        program.fast_path = fast_path
        for _ in range(3):
            assert program(S=np.eye(n)) == 6.0
            with pytest.raises(tc.BindingError, match="is symmetric"):
                program(S=value)


def test_diagonal_variables(rng):
    D = tc.var("D", (n, n), diagonal=True)
    value = np.diag(rng.standard_normal(n))
    f = tc.sum(tc.exp(D) * B)
    data = {"D": value, "B": rng.standard_normal((n, n))}
    gradient = evaluate(tc.grad(f, D), data)
    full = np.exp(value) * data["B"]
    np.testing.assert_allclose(gradient, np.diag(np.diag(full)), rtol=1e-14)
    with pytest.raises(tc.BindingError, match="'D' is diagonal"):
        tc.evaluate(tc.trace(D), D=np.ones((n, n)))
    with pytest.raises(tc.ShapeError, match="must be a square matrix"):
        tc.var("E", (2, 3), symmetric=True)
    with pytest.raises(tc.DifferentiationError, match="convention must be one of"):
        tc.grad(tc.trace(S), S, convention="other")


def test_structured_variables_parse_and_pickle():
    import pickle

    f = tc.parse("x'*S*x", S="symmetric matrix")
    assert tc.variables(f)["S"].structure == "symmetric"
    assert pickle.loads(pickle.dumps(S)) is S
    assert tc.var("S", (n, n)) is not S


# ---------------------------------------------------------------------------
# hessian, hvp, jvp


A = tc.var("A", (n, n))
v = tc.var("v", (n,))


@pytest.mark.parametrize("build", [lambda: tc.sum(tc.exp(A @ x)), lambda: tc.logsumexp(A @ x),
                                   lambda: x @ tc.solve(A @ A.T + 3 * tc.eye(n), x),
                                   lambda: tc.sum(tc.tanh(x) ** 3)],
                         ids=["exp", "logsumexp", "solve", "tanh-cubed"])
def test_hvp_equals_hessian_times_v_and_the_hessian_passes_finite_differences(build, rng):
    f = build()
    data = {"A": rng.standard_normal((n, n)), "x": rng.standard_normal(n),
            "v": rng.standard_normal(n)}
    H = tc.hessian(f, x)
    assert H.shape == (n, n)
    hessian = check_derivative(tc.grad(f, x), x, data, H, rng=rng)
    np.testing.assert_allclose(evaluate(tc.hvp(f, x, v), data), hessian @ data["v"], rtol=1e-10)
    hvp = tc.hvp(f, x, v)
    assert all(node.ndim <= 2 for node in postorder([tc.as_expr(hvp)]))  # no rank-3 Jacobian
    assert tc.as_expr(hvp).ndim == 1


@pytest.mark.parametrize("build", [lambda: tc.tanh(A @ x), lambda: tc.softmax(A @ x),
                                   lambda: tc.inv(A + tc.diag(x) + 3 * tc.eye(n)),
                                   lambda: tc.logdet(A @ A.T + tc.diag(tc.exp(x)))],
                         ids=["tanh", "softmax", "inv", "logdet"])
def test_jvp_equals_jacobian_times_the_tangent(build, rng):
    f = build()
    data = {"A": rng.standard_normal((n, n)), "x": rng.standard_normal(n),
            "v": rng.standard_normal(n)}
    J = evaluate(tc.jacobian(f, x), data)
    jvp = tc.jvp(f, x, v)
    assert jvp.shape == tc.as_expr(f).shape
    np.testing.assert_allclose(evaluate(jvp, data), np.tensordot(J, data["v"], axes=1),
                               rtol=1e-10, atol=1e-12)
    nodes = postorder([tc.as_expr(jvp)])
    assert all(node.ndim <= 2 for node in nodes)  # no Jacobian (rank 3 for inv) is formed
    assert not any(node.name.startswith("_u") for node in nodes if hasattr(node, "name")
                   and isinstance(node, tc.Var))  # the stand-in cotangent is gone


def test_jvp_with_respect_to_a_matrix_prints_as_a_product():
    W, T = tc.var("W", ("m", "n")), tc.var("T", ("m", "n"))
    z = tc.var("z", ("n",))
    assert tc.matrix_notation(tc.jvp(W @ z, W, T)) == "Tz"


def test_second_order_errors():
    with pytest.raises(tc.DifferentiationError, match="hessian: needs a scalar f"):
        tc.hessian(A @ x, x)
    with pytest.raises(tc.ShapeError, match=r"hvp: v has shape \(2,\) but x has shape \(3,\)"):
        tc.hvp(x @ x, x, np.ones(2))
    with pytest.raises(tc.ShapeError, match=r"jvp: the tangent has shape \(2,\)"):
        tc.jvp(A @ x, x, np.ones(2))


# ---------------------------------------------------------------------------
# Norms


@pytest.mark.parametrize("ord_", [None, 1, 2, np.inf, -np.inf, 3])
def test_vector_norms(ord_, rng):
    data = {"x": rng.standard_normal(n)}
    expr = tc.norm(x, ord_)
    assert float(evaluate(expr, data)) == pytest.approx(np.linalg.norm(data["x"], ord_), rel=1e-13)
    check_derivative(expr, x, data, rng=rng)


@pytest.mark.parametrize("ord_", [None, "fro", 1, np.inf])
def test_matrix_norms(ord_, rng):
    data = {"A": rng.standard_normal((n, n))}
    expr = tc.norm(A, ord_)
    assert float(evaluate(expr, data)) == pytest.approx(np.linalg.norm(data["A"], ord_), rel=1e-13)
    check_derivative(expr, A, data, rng=rng)


def test_norm1_norm2_and_what_needs_an_svd(rng):
    data = {"x": rng.standard_normal(n), "A": rng.standard_normal((n, n))}
    assert float(evaluate(tc.norm1(A), data)) == pytest.approx(np.abs(data["A"]).sum())
    assert float(evaluate(tc.norm2(x), data)) == pytest.approx(np.linalg.norm(data["x"]))
    for ord_ in ("nuc", 2, -2):  # through the SVD now (tests/test_decompositions.py)
        assert float(evaluate(tc.norm(A, ord_), data)) == \
            pytest.approx(np.linalg.norm(data["A"], ord_), rel=1e-12)
    with pytest.raises(tc.ShapeError, match="norm2: needs a vector"):
        tc.norm2(A)
    text = tc.to_text(tc.norm1(x))
    np.testing.assert_allclose(evaluate(tc.parse(text, x=(n,)), data), np.abs(data["x"]).sum())


# ---------------------------------------------------------------------------
# New elementwise rows (the grid in test_functions.py covers them all); erf's accuracy; x ** y


def test_erf_matches_math_erf_to_full_precision():
    points = np.concatenate([np.linspace(-7, 7, 1401), [0.0, 1e-12, -1e-300, 6.5, -30.0]])
    got = tc.evaluate(tc.erf(tc.var("t", (points.size,))), t=points)
    expected = np.array([math.erf(p) for p in points])
    np.testing.assert_allclose(got, expected, rtol=5e-15, atol=1e-300)


def test_new_rows_are_exported_and_match_numpy(rng):
    t = tc.var("t", (5,))
    values = rng.uniform(-0.8, 0.8, 5)
    for name in ("log1p", "expm1", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh"):
        np.testing.assert_allclose(tc.evaluate(getattr(tc, name)(t), t=values),
                                   getattr(np, name)(values), rtol=1e-14)


def test_power_with_both_base_and_exponent_variable(rng):
    p, q = tc.var("p", (n,)), tc.var("q", (n,))
    data = {"p": rng.uniform(0.5, 2.0, n), "q": rng.standard_normal(n)}
    np.testing.assert_allclose(evaluate(p ** q, data), data["p"] ** data["q"], rtol=1e-13)
    for variable in (p, q):
        check_derivative(p ** q, variable, data, rng=rng)
    s = tc.var("s", ())
    np.testing.assert_allclose(evaluate(p ** s, {"p": data["p"], "s": 1.5}), data["p"] ** 1.5)
