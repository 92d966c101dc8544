"""The operation table (tensorcalc/expression/operations.py and its families): inv, det, logdet, solve, matrix_power, diag,
eye, logsumexp, softmax, max/min, maximum/minimum.

Every row is checked against finite differences (both differentiation methods) and against an
independent numpy reference on well-conditioned inputs (SPD matrices ``B Bᵀ + n I``); Matrix
Cookbook identities (§2.1–2.5) as values and as printed matrix forms; second derivatives against
finite differences of the gradient; stability at ±1000; clear errors for singular matrices and
bad shapes; printing in every notation; codegen; the simplification rules.
"""

import pickle

import numpy as np
import pytest

import tensorcalc as tc
from fd import check_derivative, check_grads, check_projection, evaluate
from tensorcalc.errors import CodegenError
from tensorcalc.evaluation.statements import generate, load
from tensorcalc.expression.nodes import postorder

N = 3


def spd(n, rng, batch=()):
    b = rng.standard_normal(batch + (n, n))
    return b @ np.swapaxes(b, -1, -2) + n * np.eye(n)


def well_conditioned(n, rng):
    return rng.standard_normal((n, n)) + 2 * n * np.eye(n)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


X = tc.var("X", (N, N))
A = tc.var("A", (N, N))
Bm = tc.var("B", (N, N))
b = tc.var("b", (N,))
Bb = tc.var("Bb", (N, 2))
x = tc.var("x", (N,))
M = tc.var("M", (2, N))

# (name, expression, numpy reference, the variables to differentiate)
CASES = [
    ("inv", lambda: tc.inv(X), lambda v: np.linalg.inv(v["X"]), [X]),
    ("det", lambda: tc.det(X), lambda v: np.linalg.det(v["X"]), [X]),
    ("logdet", lambda: tc.logdet(X), lambda v: np.log(np.linalg.det(v["X"])), [X]),
    ("solve-vector", lambda: tc.solve(A, b), lambda v: np.linalg.inv(v["A"]) @ v["b"], [A, b]),
    ("solve-matrix", lambda: tc.solve(A, Bb), lambda v: np.linalg.inv(v["A"]) @ v["Bb"], [A, Bb]),
    ("matrix_power-3", lambda: tc.matrix_power(X, 3), lambda v: np.linalg.matrix_power(v["X"], 3),
     [X]),
    ("matrix_power--2", lambda: tc.matrix_power(X, -2),
     lambda v: np.linalg.matrix_power(np.linalg.inv(v["X"]), 2), [X]),
    ("diag", lambda: tc.diag(x), lambda v: np.diag(v["x"]), [x]),
    ("eye", lambda: tc.eye(N) @ x, lambda v: v["x"], [x]),
    ("logsumexp", lambda: tc.logsumexp(M), lambda v: np.log(np.sum(np.exp(v["M"]))), [M]),
    ("logsumexp-axis", lambda: tc.logsumexp(M, axis=1),
     lambda v: np.log(np.sum(np.exp(v["M"]), axis=1)), [M]),
    ("softmax", lambda: tc.softmax(M), lambda v: np.exp(v["M"]) / np.exp(v["M"]).sum(1, keepdims=True),
     [M]),
    ("softmax-axis0", lambda: tc.softmax(M, axis=0),
     lambda v: np.exp(v["M"]) / np.exp(v["M"]).sum(0, keepdims=True), [M]),
    ("softmax-all", lambda: tc.softmax(M, axis=None),
     lambda v: np.exp(v["M"]) / np.exp(v["M"]).sum(), [M]),
    ("max", lambda: tc.max(M, axis=1), lambda v: v["M"].max(1), [M]),
    ("min", lambda: tc.min(M), lambda v: v["M"].min(), [M]),
    ("maximum", lambda: tc.maximum(x, b), lambda v: np.maximum(v["x"], v["b"]), [x, b]),
    ("minimum", lambda: tc.minimum(x, 0.1), lambda v: np.minimum(v["x"], 0.1), [x]),
    ("det-of-product", lambda: tc.det(A @ X), lambda v: np.linalg.det(v["A"] @ v["X"]), [A, X]),
    ("logdet-in-a-loss", lambda: tc.logdet(X) + b @ tc.solve(X, b),
     lambda v: np.log(np.linalg.det(v["X"])) + v["b"] @ np.linalg.solve(v["X"], v["b"]), [X, b]),
]


def values(rng):
    return {"X": spd(N, rng), "A": well_conditioned(N, rng), "B": well_conditioned(N, rng),
            "b": rng.standard_normal(N), "Bb": rng.standard_normal((N, 2)),
            "x": rng.standard_normal(N), "M": rng.standard_normal((2, N))}


@pytest.mark.parametrize("name, build, reference, wrt", CASES, ids=[c[0] for c in CASES])
def test_value_and_derivatives_against_numpy_and_finite_differences(name, build, reference, wrt,
                                                                    rng):
    data = values(rng)
    expr = build()
    np.testing.assert_allclose(evaluate(expr, data), reference(data), rtol=1e-10, atol=1e-12)
    for variable in wrt:
        contracted = check_derivative(expr, variable, data, rng=rng)
        naive = evaluate(tc.jacobian(expr, variable, method="naive"), data)
        np.testing.assert_allclose(naive, contracted, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("build", [lambda: tc.logdet(X), lambda: tc.det(X),
                                   lambda: tc.sum(tc.inv(X)), lambda: b @ tc.solve(X, b),
                                   lambda: tc.logsumexp(x), lambda: tc.sum(tc.softmax(x) * b)],
                         ids=["logdet", "det", "inv", "solve", "logsumexp", "softmax"])
def test_second_derivatives_against_finite_differences_of_the_gradient(build, rng):
    data = values(rng)
    expr = build()
    wrts = [v for v in (X, x) if v in tc.variables(expr).values()]
    check_grads(expr, wrts, data, order=2, rng=rng)


def test_hessian_of_logdet_is_minus_the_kronecker_of_inverses(rng):
    # ∂²log|X| / ∂X_ij ∂X_kl = −(X⁻¹)_li (X⁻¹)_jk   (Cookbook eq. 57 differentiated with eq. 59)
    data = {"X": spd(N, rng)}
    H = evaluate(tc.hessian(tc.logdet(X), X), data)
    Y = np.linalg.inv(data["X"])
    np.testing.assert_allclose(H, -np.einsum("li,jk->ijkl", Y, Y), rtol=1e-10)


def test_batched_leading_axes(rng):
    Xs = tc.var("Xs", (2, N, N))
    bs = tc.var("bs", (2, N))
    data = {"Xs": spd(N, rng, (2,)), "bs": rng.standard_normal((2, N))}
    np.testing.assert_allclose(evaluate(tc.inv(Xs), data), np.linalg.inv(data["Xs"]), rtol=1e-10)
    np.testing.assert_allclose(evaluate(tc.logdet(Xs), data),
                               np.linalg.slogdet(data["Xs"])[1], rtol=1e-10)
    np.testing.assert_allclose(evaluate(tc.solve(Xs, bs), data),
                               np.einsum("bij,bj->bi", np.linalg.inv(data["Xs"]), data["bs"]),
                               rtol=1e-10)
    for expr in (tc.inv(Xs), tc.logdet(Xs), tc.det(Xs), tc.solve(Xs, bs)):
        for variable in tc.variables(expr).values():
            check_derivative(expr, variable, data, rng=rng)


# ---------------------------------------------------------------------------
# The Matrix Cookbook (Petersen & Pedersen 2012), §2.1-2.5, as values and as printed forms


def test_cookbook_identities_as_values(rng):
    data = values(rng)
    a_, b_, x_ = data["A"], data["B"], data["X"]
    inv, det = np.linalg.inv, np.linalg.det
    cases = [
        (tc.inv(A @ Bm), inv(b_) @ inv(a_)),  # (AB)⁻¹ = B⁻¹A⁻¹  (eq. 18)
        (tc.det(A @ Bm), det(a_) * det(b_)),  # det(AB) = det A det B  (eq. 24)
        (tc.det(tc.inv(A)), 1 / det(a_)),  # det(A⁻¹) = 1/det A  (eq. 25)
        (tc.logdet(A @ Bm), np.log(abs(det(a_))) + np.log(abs(det(b_)))),
        (tc.trace(A @ Bm), np.trace(b_ @ a_)),  # tr(AB) = tr(BA)  (eq. 16)
        (tc.det(3.0 * A), 3.0 ** N * det(a_)),  # det(cA) = cⁿ det A  (eq. 23)
    ]
    for expr, expected in cases:
        np.testing.assert_allclose(evaluate(expr, data), expected, rtol=1e-10)
    derivatives = [
        (tc.grad(tc.det(A @ X @ Bm), X),  # eq. 51: det(AXB) X⁻ᵀ
         det(a_ @ x_ @ b_) * inv(x_).T),
        (tc.grad(tc.trace(A @ tc.inv(X) @ Bm), X),  # eq. 63: −(X⁻¹ B A X⁻¹)ᵀ
         -(inv(x_) @ b_ @ a_ @ inv(x_)).T),
        (tc.grad(tc.logdet(X @ X), X), 2 * inv(x_).T),  # log|X²| = 2 log|X|
        (tc.grad(tc.det(tc.inv(X)), X), -inv(x_).T / det(x_)),  # eq. 52 with k = -1
    ]
    for derivative, expected in derivatives:
        np.testing.assert_allclose(evaluate(derivative, data), expected, rtol=1e-9)


def test_cookbook_derivatives_as_printed_matrix_forms():
    a, c = tc.var("a", ("n",)), tc.var("c", ("n",))
    Y = tc.var("X", ("n", "n"))
    assert tc.matrix_notation(tc.grad(tc.logdet(Y), Y)) == "X⁻ᵀ"  # eq. 57
    assert tc.matrix_notation(tc.grad(tc.det(Y), Y)) in ("det(X) X⁻ᵀ", "X⁻ᵀ det(X)")  # eq. 49
    assert tc.matrix_notation(tc.grad(a @ tc.inv(Y) @ c, Y)) == "−(X⁻ᵀa) (X⁻¹c)ᵀ"  # eq. 61
    assert tc.matrix_notation(tc.grad(tc.trace(tc.inv(Y)), Y)) == "−(X⁻²)ᵀ"  # eq. 124 (tr X⁻¹)


# ---------------------------------------------------------------------------
# Stability


def test_logsumexp_and_softmax_at_plus_minus_1000():
    v = tc.var("v", (4,))
    big = np.array([1000.0, -1000.0, 999.0, 1000.0])
    expected_lse = 1000.0 + np.log(2 + np.exp(-1.0))
    assert float(tc.evaluate(tc.logsumexp(v), v=big)) == pytest.approx(expected_lse, rel=1e-14)
    s = np.array([1.0, 0.0, np.exp(-1.0), 1.0]) / (2 + np.exp(-1.0))
    np.testing.assert_allclose(tc.evaluate(tc.softmax(v), v=big), s, rtol=1e-14)
    np.testing.assert_allclose(tc.evaluate(tc.grad(tc.logsumexp(v), v), v=big), s, rtol=1e-14)
    g = np.array([1.0, 2.0, 3.0, 4.0])
    vjp = tc.evaluate(tc.vjp(tc.softmax(v), v, g), v=big)
    np.testing.assert_allclose(vjp, s * (g - g @ s), rtol=1e-12, atol=1e-300)
    for value in (big, -big):
        H = tc.evaluate(tc.hessian(tc.logsumexp(v), v), v=value)
        assert np.all(np.isfinite(H))


def test_softmax_derivative_checks_at_large_inputs(rng):
    v = tc.var("v", (4,))
    data = {"v": np.array([1000.0, 999.5, 1000.2, -1000.0])}
    check_derivative(tc.softmax(v), v, data, rng=rng)
    check_derivative(tc.logsumexp(v), v, data, rng=rng)


def test_subgradients_at_ties_split_equally():
    v = tc.var("v", (4,))
    value = np.array([3.0, 1.0, 3.0, 3.0])
    np.testing.assert_allclose(tc.evaluate(tc.grad(tc.max(v), v), v=value), [1 / 3, 0, 1 / 3, 1 / 3])
    np.testing.assert_allclose(tc.evaluate(tc.grad(tc.min(-v), v), v=value),
                               [-1 / 3, 0, -1 / 3, -1 / 3])
    p, q = tc.var("p", (2,)), tc.var("q", (2,))
    data = {"p": np.array([1.0, 2.0]), "q": np.array([1.0, 0.0])}
    assert list(tc.evaluate(tc.grad(tc.sum(tc.maximum(p, q)), p), data)) == [0.5, 1.0]
    assert list(tc.evaluate(tc.grad(tc.sum(tc.maximum(p, q)), q), data)) == [0.5, 0.0]
    assert list(tc.evaluate(tc.grad(tc.sum(tc.minimum(p, q)), p), data)) == [0.5, 0.0]


# ---------------------------------------------------------------------------
# Errors


def test_a_singular_matrix_is_a_clear_error():
    singular = {"X": np.ones((N, N)), "b": np.ones(N)}
    for expr, name in ((tc.inv(X), "inv"), (tc.logdet(X), "logdet"), (tc.solve(X, b), "solve")):
        with pytest.raises(tc.SingularMatrixError, match=rf"^{name}: the matrix .*shape \(3, 3\) "
                                                         r"is singular"):
            evaluate(expr, singular)
    assert issubclass(tc.SingularMatrixError, tc.TensorCalcError)
    assert tc.evaluate(tc.det(X), X=np.ones((N, N))) == pytest.approx(0.0, abs=1e-12)


def test_shape_errors_name_the_operation_and_the_sizes():
    with pytest.raises(tc.ShapeError, match=r"inv: needs a square matrix, got shape \(2, 3\): "
                                            r"axis -2 has size 2 and axis -1 has size 3"):
        tc.inv(tc.var("R", (2, 3)))
    with pytest.raises(tc.ShapeError, match=r"det: needs a square matrix .*got shape \(3,\)"):
        tc.det(x)
    with pytest.raises(tc.ShapeError, match=r"solve: A of shape \(3, 3\) and b of shape \(2,\) "
                                            r"do not fit"):
        tc.solve(A, tc.var("c", (2,)))
    with pytest.raises(tc.ShapeError, match=r"diag: needs a vector or a matrix, got shape "
                                            r"\(2, 3, 3\)"):
        tc.diag(tc.var("S", (2, 3, 3)))
    with pytest.raises(tc.ShapeError, match=r"matrix_power: the exponent must be an int"):
        tc.matrix_power(A, 1.5)
    with pytest.raises(tc.ShapeError, match=r"maximum: shapes \(3,\) and \(2,\) do not broadcast"):
        tc.maximum(x, tc.var("c", (2,)))
    with pytest.raises(tc.ShapeError, match=r"softmax: axis 2 is out of range for shape \(2, 3\)"):
        tc.softmax(M, axis=2)


# ---------------------------------------------------------------------------
# Printing, parsing back, codegen, pickling


def test_spellings_in_every_notation():
    Y, c = tc.var("X", ("n", "n")), tc.var("c", ("n",))
    cases = [
        (tc.inv(Y), "X⁻¹_ij", "X⁻¹", "X^{-1}", "inv(X)"),
        (tc.det(Y), "det(X)", "det(X)", "\\det(X)", "det(X)"),
        (tc.logdet(Y), "log|X|", "log|X|", "\\log\\lvert X\\rvert", "logdet(X)"),
        (tc.solve(Y, c), "(X⁻¹c)_i", "X⁻¹c", "X^{-1} c", "inv(X)*c"),
        (tc.inv(Y).T, "X⁻¹_ji", "X⁻ᵀ", "X^{-\\top}", "inv(X)'"),
        (tc.det(Y + Y @ Y), "det(X + X²)", "det(X + X²)", "\\det(X + X^{2})", "det(X + X^2)"),
    ]
    for expr, index, matrix, latex, text in cases:
        assert (tc.index_notation(expr), tc.matrix_notation(expr), tc.latex(expr),
                tc.to_text(expr)) == (index, matrix, latex, text)
    assert tc.index_notation(tc.logsumexp(tc.var("Z", (2, 3)), axis=1)) == "logsumexp_j(Z_ij)"
    assert tc.index_notation(tc.softmax(tc.var("Z", (2, 3)))) == "softmax_j(Z_ij)"
    assert tc.matrix_notation(tc.softmax(tc.var("Z", (2, 3)))) == "softmax(Z, axis=1)"
    assert tc.latex(tc.logsumexp(c)) == "\\operatorname{logsumexp}\\left(c\\right)"
    assert tc.matrix_notation(tc.maximum(c, 0.0)) == "max(c, 0)"
    assert tc.to_text(tc.softmax(c)) == "softmax(c)"  # the text language has softmax (all axes)
    with pytest.raises(tc.TensorCalcError, match="softmax"):  # but not over some axes of a matrix
        tc.to_text(tc.softmax(tc.var("Z", (2, 3))))


@pytest.mark.parametrize("expr", [tc.inv(X), tc.det(X), tc.logdet(X), tc.solve(X, b),
                                  tc.grad(tc.logdet(X) + b @ tc.solve(X, b), X)],
                         ids=["inv", "det", "logdet", "solve", "gradient"])
def test_text_form_parses_back_to_the_same_value(expr, rng):
    data = values(rng)
    shapes = {"X": (N, N), "b": (N,)}
    text = tc.to_text(expr)
    again = tc.parse(text, **{k: v for k, v in shapes.items() if k in text})
    np.testing.assert_allclose(evaluate(again, data), evaluate(expr, data), rtol=1e-10)


def test_codegen_writes_linalg_calls(rng):
    loss = tc.logdet(X) + b @ tc.solve(X, b) + tc.max(b)
    outputs = [loss, *tc.grad(loss, (X, b))]
    source, name = generate(tc.compile(outputs))
    # the gradient computes X⁻¹, so the solves reuse it (evaluation/shared_inverse.py)
    assert "np.linalg.slogdet(" in source and "_inv(" in source  # inv with its condition check
    assert "np.linalg.solve(" not in source
    assert "np.linalg.solve(" in generate(tc.compile([b @ tc.solve(X, b)]))[0]
    data = {"X": spd(N, rng), "b": rng.standard_normal(N)}
    generated = load(source, name)(**data)
    for got, expected in zip(generated, tc.compile(outputs)(**data)):
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    stable = [tc.logsumexp(b), tc.softmax(b), *tc.grad(tc.logsumexp(b), (b,))]
    generated = load(*generate(tc.compile(stable)))(b=1000 * data["b"])
    for got, expected in zip(generated, tc.compile(stable)(b=1000 * data["b"])):
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    Xs, bs = tc.var("Xs", (2, N, N)), tc.var("bs", (2, N))
    with pytest.raises(CodegenError, match="'solve'"):  # numpy's batched solve reads b otherwise
        generate(tc.compile(tc.solve(Xs, bs)))


def test_operations_pickle_and_hash_cons():
    expr = tc.grad(tc.logdet(X) + tc.sum(tc.softmax(M, axis=0)), X)
    again = pickle.loads(pickle.dumps(expr.expr))
    assert again is expr.expr
    assert tc.inv(X) is tc.inv(X) and tc.softmax(M) is tc.softmax(M, axis=1)


# ---------------------------------------------------------------------------
# Simplification rules


def test_a_matrix_times_its_inverse_is_the_identity():
    assert tc.simplify(X @ tc.inv(X)) is tc.Delta(N)
    assert tc.simplify(tc.inv(X) @ X @ b) is b
    assert tc.simplify(b @ X @ tc.inv(X) @ b) is tc.simplify(b @ b)
    assert tc.simplify(X.T @ tc.inv(X)) is not tc.Delta(N)  # XᵀX⁻¹ is not I


def test_transposes_and_double_inverses():
    assert tc.simplify(tc.det(X.T)) is tc.det(X)
    assert tc.simplify(tc.logdet(X.T)) is tc.logdet(X)
    assert tc.simplify(tc.inv(X.T)) is tc.simplify(tc.inv(X).T)
    assert tc.simplify(tc.inv(tc.inv(X))) is X


def test_a_number_comes_out_of_a_solve(rng):
    """solve(A, c B) = c solve(A, B): the solve's adjoint carries the loss's ½, and pulled out
    it is the loss's own A⁻¹Xᵀ (one product, not two, in the Gaussian likelihood)."""
    assert tc.simplify(tc.solve(A, 2.0 * Bb)) is tc.simplify(2.0 * tc.solve(A, Bb))
    data = values(rng)
    np.testing.assert_allclose(tc.evaluate(tc.simplify(tc.solve(A, -0.5 * Bb)), data),
                               -0.5 * np.linalg.solve(data["A"], data["Bb"]), rtol=1e-12)
    S = tc.var("S", (N, N), symmetric=True)
    L = 2.0 * tc.logdet(S) + 0.5 * tc.sum(Bb * tc.solve(S, Bb))
    solves = {n for n in postorder(tc.simplify([L, tc.grad(L, S).expr]))
              if getattr(n, "name", None) == "solve"}
    assert len(solves) == 1  # the gradient's S⁻¹(½Bb) is ½ times the loss's S⁻¹Bb


def test_naive_method_and_memory_guard_cover_operations(rng):
    data = values(rng)
    f = tc.logdet(X) + tc.logsumexp(x)
    for variable in (X, x):
        naive = tc.grad(f, variable, method="naive")
        np.testing.assert_allclose(evaluate(naive, data), evaluate(tc.grad(f, variable), data),
                                   rtol=1e-10)


def test_projection_check_of_solve_against_numpy_directly(rng):
    a, rhs = well_conditioned(N, rng), rng.standard_normal(N)
    derivative = evaluate(tc.jacobian(tc.solve(A, b), A), {"A": a, "b": rhs})
    check_projection(lambda m: np.linalg.solve(m, rhs), a, derivative, rng)


def test_solves_reuse_the_inverse_the_program_computes(rng):
    """issue 20: the Gaussian likelihood written with solve needs Σ⁻¹ for its gradient, so its
    solves (with Σ and with Σᵀ) are products with that one inverse: one factorization."""
    S, Xb = tc.var("Sigma", ("n", "n")), tc.var("Xb", ("B", "n"))
    loss = 20.0 * tc.logdet(S) + 0.5 * tc.sum(Xb.T * tc.solve(S, Xb.T))
    program = tc.compile([loss, tc.grad(loss, S)])
    sigma = spd(5, rng)
    xb = rng.standard_normal((40, 5))
    inverse = np.linalg.inv(sigma)
    q = xb @ inverse
    value, gradient = program(Sigma=sigma, Xb=xb)
    np.testing.assert_allclose(value, 20.0 * np.linalg.slogdet(sigma)[1] + 0.5 * np.sum(q * xb),
                               rtol=1e-12)
    np.testing.assert_allclose(gradient, 20.0 * inverse.T - 0.5 * inverse.T @ xb.T @ xb @ inverse.T,
                               rtol=1e-10)
    steps = [step.operation for step in program.plan.steps]
    assert "solve" not in steps and steps.count("inv") == 1, steps
