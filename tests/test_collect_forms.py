"""The printers' display-only collections (tensorcalc/notation/printers/collect.py): powers of one
matrix multiplied out, transposes collected, common factors taken out of a sum.  Each printed
form, as text, is parsed back and compared with the expression's own value (numpy), and the
evaluated program is not changed by printing."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tensorcalc as tc

n = 3
FACTORS = ["A", "A'", "X", "X'", "inv(X)", "inv(X)'", "X*X", "inv(X*X)", "inv(inv(X))",
           "inv(A*X)'", "det(X)*inv(X)'", "B'", "inv(X*X*X)'"]


def _values(rng):
    return {"A": rng.standard_normal((n, n)) * 0.3 + 2 * np.eye(n),
            "B": rng.standard_normal((n, n)), "X": rng.standard_normal((n, n)) * 0.3 + 2 * np.eye(n),
            "b": rng.standard_normal(n), "c": rng.standard_normal(n)}


def _read_back(expr, values):
    text = tc.to_text(expr)
    parsed = tc.parse(text, **{k: (n, n) for k in "ABX" if k in text}, **{k: (n,) for k in "bc" if k in text})
    if not all(isinstance(d, int) for d in parsed.shape):  # a lone eye or 0: X sizes it
        assert "eye" in text or "matrix(1)" in text, text
        parsed = tc.parse(f"({text}) + 0*X", X=(n, n))
    return np.asarray(tc.evaluate(parsed, values), dtype=float)


def _check(text, seed):
    sizes = {**{k: (n, n) for k in "ABX"}, "b": (n,), "c": (n,)}
    expr = tc.parse(text, **{k: s for k, s in sizes.items() if k in text})
    values = _values(np.random.default_rng(seed))
    want = np.asarray(tc.evaluate(expr, values), dtype=float)
    np.testing.assert_allclose(_read_back(expr, values), want, rtol=1e-8, atol=1e-10)
    return expr, values


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(FACTORS), min_size=1, max_size=4), min_size=1, max_size=3),
       st.lists(st.sampled_from(["+", "-", "+2*"]), min_size=3, max_size=3), st.integers(0, 2**31))
def test_a_sum_of_chains_prints_a_form_of_the_same_value(terms, signs, seed):
    text = "".join((signs[k] if k else "") + "*".join(f"({f})" for f in chain) for k, chain in enumerate(terms))
    _check(text, seed)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(FACTORS), min_size=1, max_size=4), st.integers(0, 2**31))
def test_the_gradient_of_a_trace_prints_a_form_of_the_same_value(chain, seed):
    f = tc.parse("tr(" + "*".join(f"({c})" for c in chain) + ")", **{k: (n, n) for k in "ABX" if k in "".join(chain)})
    if "X" not in tc.variables(f):
        return
    derivative = tc.grad(f, tc.variables(f)["X"])
    values = _values(np.random.default_rng(seed))
    want = np.asarray(tc.evaluate(derivative, values), dtype=float)
    np.testing.assert_allclose(_read_back(derivative, values), want, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("text, printed", [
    ("X'*X'*(det(X*X*X)*inv(X*X*X)')", "det(X)³ X⁻ᵀ"),    # powers of X add up
    ("inv(X)'*(det(inv(X))*inv(inv(X))')*inv(X)'", "det(X⁻¹) X⁻ᵀ"),
    ("inv(inv(X))", "X"),
    ("A'*X'*B' + B'*X'*A'", "(AXB + BXA)ᵀ"),                 # transposes collected
    ("inv(X)'*A'*B'*inv(X)'", "(X⁻¹BAX⁻¹)ᵀ"),
    ("A'*B'", "AᵀBᵀ"),                                        # two factors: left as they are
    ("X*c*b' + X*b*c'", "X(b cᵀ + c bᵀ)"),                    # a common factor out of a sum
    ("-A*X*B - A*X'*B", "−A(X + Xᵀ) B"),
])
def test_collections_print_shorter_and_read_back_equal(text, printed):
    expr, _ = _check(text, 0)
    assert tc.matrix_notation(expr) == printed


def test_printing_does_not_change_the_evaluated_program():
    f = tc.parse("tr(A*X*X)", A=(n, n), X=(n, n))
    derivative = tc.grad(f, tc.variables(f)["X"])
    before = tc.codegen(derivative)
    assert tc.matrix_notation(derivative) == "(XA + AX)ᵀ"
    assert tc.codegen(derivative) == before
    values = _values(np.random.default_rng(1))
    a, x = values["A"], values["X"]
    np.testing.assert_allclose(tc.evaluate(derivative, values), (a @ x + x @ a).T, rtol=1e-12)


@pytest.mark.parametrize("make, printed", [
    (lambda x, A: x + tc.const(np.ones(n)), "𝟙 + x"),
    (lambda x, A: x + tc.const(np.full(n, 2.0)), "2𝟙 + x"),
    (lambda x, A: A * tc.const(np.ones((n, n))) + A, "2A"),
    (lambda x, A: A + tc.const(np.zeros((n, n))), "A"),
    (lambda x, A: x + tc.const(np.arange(n, dtype=float)), "C⟨3⟩ + x"),  # not uniform: kept
])
def test_a_constant_of_one_value_prints_as_ones(make, printed):
    x, A = tc.var("x", (n,)), tc.var("A", (n, n))
    expr = make(x, A)
    assert tc.matrix_notation(expr) == printed
    values = _values(np.random.default_rng(2))
    values["x"] = values["b"]
    if "C⟨" not in printed:  # a constant array has no text form
        text = tc.to_text(expr)
        parsed = tc.parse(text, **{k: values[k].shape for k in "xA" if k in text})
        np.testing.assert_allclose(tc.evaluate(parsed, values), tc.evaluate(expr, values), rtol=1e-12)


def test_a_kronecker_factor_of_ones_reads_back():
    A = tc.var("A", (n, 4))
    d = tc.jacobian(tc.sum(A, axis=0), A)  # f_j = Σ_i A_ij: ∂vec(f)/∂vec(A)ᵀ = I ⊗ 𝟙ᵀ
    form = tc.kronecker_form(d)
    assert str(form) == "I ⊗ 𝟙ᵀ"
    np.testing.assert_array_equal(np.asarray(tc.evaluate(tc.parse(form.spell("text")))),
                                  np.kron(np.eye(4), np.ones((1, n))))
