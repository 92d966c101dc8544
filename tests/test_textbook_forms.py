"""Issue 17's table: each derivative prints the textbook's form (or a shorter one), and that form
is the same value.

For every row: the printed matrix form is asserted exactly; the text form
(``tc.to_text``) is parsed back and evaluated, and compared with an oracle that
does not go through tensorcalc's printers — central differences of the function
(tests/fd.py) or a numpy closed form where the variable is declared symmetric.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tensorcalc as tc
from fd import check_projection, function_of

n = 4
RNG = np.random.default_rng(17)


def _values(expr, sizes):
    return {name: RNG.uniform(-1, 1, size=tuple(sizes.get(d, d) for d in v.shape))
            for name, v in tc.variables(expr).items()}


def _well_conditioned(values):
    """Square matrices near the identity (det, inv and their derivatives far from singular)."""
    out = dict(values)
    for name, value in values.items():
        if value.ndim == 2 and value.shape[0] == value.shape[1]:
            out[name] = np.eye(value.shape[0]) * 2 + 0.3 * value
            if name == "S":
                out[name] = (out[name] + out[name].T) / 2
    return out


def _parsed_back(derivative, types, values):
    """The value of the printed text form, read back by the parser."""
    text = tc.to_text(derivative)
    expr = tc.parse(text, **types)
    used = {k: v for k, v in values.items() if k in tc.variables(expr)}
    return np.asarray(tc.evaluate(expr, used), dtype=float)


SIZES = {"n": n + 1, "m": n}  # X: (n, m) tall, so XᵀX is invertible

# (input, --wrt, types, printed matrix form, closed form for symmetric rows or None)
ROWS = [
    ("det(X)^2", "X", {}, "2 det(X)² X⁻ᵀ", None),
    ("log(det(S))", "S", {"S": "symmetric matrix"}, "S⁻¹", lambda v: np.linalg.inv(v["S"])),
    ("(x-m)'*inv(S)*(x-m)", "m", {"S": "symmetric matrix", "m": "vector"}, "−2S⁻¹(x − m)",
     lambda v: -2 * np.linalg.solve(v["S"], v["x"] - v["m"])),
    ("log(det(X'*X))", "X", {}, "2X(XᵀX)⁻¹", None),
    ("tr(inv(X'*X))", "X", {}, "−2X(XᵀX)⁻²", None),
    ("norm2(A*x-y)^2", "x", {}, "2Aᵀ(Ax − y)", None),
    ("(X*w-y)'*(X*w-y)", "w", {}, "2Xᵀ(Xw − y)", None),
    ("x'*(A+A')*x", "x", {}, "2(A + Aᵀ) x", None),
    ("tr(X^3)", "X", {}, "3(X²)ᵀ", None),
    ("x'*A*A*A*A*A*x", "x", {}, "(A⁵ + (A⁵)ᵀ) x", None),
]


@pytest.mark.parametrize("text, wrt, types, printed, closed", ROWS, ids=[row[0] for row in ROWS])
def test_gradient_prints_the_textbook_form(text, wrt, types, printed, closed):
    f = tc.parse(text, **types)
    variable = tc.variables(f)[wrt]
    derivative = tc.grad(f, variable)
    assert tc.matrix_notation(derivative) == printed
    values = _well_conditioned(_values(f, SIZES))
    read_back = _parsed_back(derivative, types, values)
    if closed is not None:  # symmetric S: the gradient is the projection's representative
        np.testing.assert_allclose(read_back, closed(values), rtol=1e-9, atol=1e-12)
    else:
        check_projection(function_of(f, variable, values), values[wrt], read_back,
                         np.random.default_rng(0), label=text)
    np.testing.assert_allclose(read_back, tc.evaluate(derivative, values), rtol=1e-9, atol=1e-12)


def test_a_zero_block_of_a_hessian_prints_0():
    f = tc.parse("x'*A*y")
    x, y = tc.variables(f)["x"], tc.variables(f)["y"]
    xx = tc.grad(tc.grad(f, x), x)
    assert tc.matrix_notation(xx) == "0"
    assert tc.matrix_notation(tc.grad(tc.grad(f, x), y)) == "A"
    assert tc.to_text(xx) == "0*matrix(1)"  # the text language has no zero matrix
    values = _values(f, SIZES)
    np.testing.assert_array_equal(tc.evaluate(xx, values), np.zeros((n + 1, n + 1)))


def test_logsumexp_hessian_prints_diag_p_minus_p_p_transpose():
    f = tc.parse("log(sum(exp(x)))")
    x = tc.variables(f)["x"]
    gradient = tc.grad(f, x)
    hessian = tc.grad(gradient, x)
    assert tc.matrix_notation(gradient) == "softmax(x)"
    assert tc.matrix_notation(hessian) == "diag(softmax(x)) − softmax(x) softmax(x)ᵀ"
    v = RNG.uniform(-3, 3, n)
    p = np.exp(v) / np.exp(v).sum()  # numpy's own softmax: the textbook's diag(p) − ppᵀ
    np.testing.assert_allclose(tc.evaluate(hessian, x=v), np.diag(p) - np.outer(p, p), atol=1e-14)
    check_projection(lambda u: np.exp(u) / np.exp(u).sum(), v, tc.evaluate(hessian, x=v),
                     np.random.default_rng(1), label="logsumexp Hessian")


def test_constants_print_as_written():
    f = tc.parse("sum(2.^x)")
    x = tc.variables(f)["x"]
    gradient = tc.grad(f, x)
    assert tc.matrix_notation(gradient) == "ln 2 · 2^x"
    assert tc.latex(gradient) == "\\ln 2 \\cdot 2^{x}"
    assert tc.to_text(gradient) == "log(2)*2.^x"
    v = RNG.uniform(-2, 2, n)
    np.testing.assert_allclose(tc.evaluate(tc.parse(tc.to_text(gradient)), x=v), np.log(2) * 2 ** v,
                               rtol=1e-13)
    X = tc.var("X", (n, n))
    assert tc.matrix_notation(tc.grad(tc.trace(X.T), X)) == "I"  # Iᵀ is I
    assert tc.matrix_notation(0 * X + tc.grad(tc.trace(X), X)) == "I"  # a zero term drops


def _flops(text):
    f = tc.parse(text, X=("n", "d"), w=("d",), y=("n",))
    return tc.compile([f, tc.grad(f, tc.variables(f)["w"])]).plan_for({"n": 1000, "d": 100}).flops


def test_least_squares_spellings_share_the_residual():
    """2Xᵀ(Xw − y), not Xᵀ(2Xw − 2y): the gradient reuses the forward pass's Xw − y."""
    squares = _flops("sum((X*w-y).^2)")
    assert _flops("(X*w-y)'*(X*w-y)") == squares  # was 1.5x: 606,000 against 404,000
    assert _flops("norm2(X*w-y)^2") <= squares + 2 * 1000 // 10  # the norm's sqrt and square


@given(st.sampled_from([2.0, -2.0, 0.5, 3.0]), st.integers(0, 2**32 - 1))
def test_a_shared_coefficient_is_pulled_out_of_a_sum_exactly(c, seed):
    A, x, y = tc.var("A", (3, 3)), tc.var("x", (3,)), tc.var("y", (3,))
    expr = tc.simplify(c * (A @ x) - c * y)
    number = {2.0: "2", 0.5: "0.5", 3.0: "3"}[abs(c)]
    assert tc.matrix_notation(expr) == (f"{number}(Ax − y)" if c > 0 else f"{number}(y − Ax)")
    rng = np.random.default_rng(seed)
    a, u, v = rng.standard_normal((3, 3)), rng.standard_normal(3), rng.standard_normal(3)
    np.testing.assert_allclose(tc.evaluate(expr, A=a, x=u, y=v), c * (a @ u) - c * v, rtol=1e-12)
