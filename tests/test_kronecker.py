"""Kronecker forms of derivatives of order 3 and 4 (tensorcalc/notation/printers/kronecker.py).

Each printed form is proven the way every printed form is: its text (``kron``/``vec``/``eye(n)``)
is parsed back and evaluated, and compared with the derivative read as ∂vec(f)/∂vec(x)ᵀ
(column-major vec) — and that derivative with JAX's Jacobian of the function, an independent
oracle."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tensorcalc as tc

jax.config.update("jax_enable_x64", True)

RNG = np.random.default_rng(17)


def vec_matrix(D, of_ndim: int) -> np.ndarray:
    """The (mn × pq) matrix ∂vec(F)/∂vec(X)ᵀ of D_ijkl = ∂F_ij/∂X_kl (column-major vec; a vector
    is one column)."""
    D = np.asarray(D)
    of, wrt = D.shape[:of_ndim], D.shape[of_ndim:]
    D = D.reshape(of + (1,) * (2 - len(of)) + wrt + (1,) * (2 - len(wrt)))
    m, n, p, q = D.shape
    return D.transpose(1, 0, 3, 2).reshape(m * n, p * q)


def proven(derivative, values: dict, jax_function) -> str:
    """The Kronecker form of ``derivative``, after checking its text parses back to
    ∂vec(f)/∂vec(x)ᵀ and that equals JAX's Jacobian of ``jax_function`` (of the variable)."""
    form = tc.kronecker_form(derivative)
    assert form, form.reason
    wrt = derivative.wrt.name
    of_ndim = tc.as_expr(derivative.of).ndim
    want = vec_matrix(jax.jacobian(jax_function)(jnp.asarray(values[wrt])), of_ndim)
    got = vec_matrix(tc.evaluate(derivative, **_used(derivative, values)), of_ndim)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)
    text = form.spell("text")
    shapes = {name: np.shape(value) for name, value in values.items() if _named(name, text)}
    parsed = tc.parse(text, **shapes)
    value = np.asarray(tc.evaluate(parsed, **{n: values[n] for n in shapes}))
    np.testing.assert_allclose(value.reshape(want.shape), want, rtol=1e-9, atol=1e-11)
    return str(form)


def _named(name: str, text: str) -> bool:
    return any(token == name for token in _tokens(text))


def _tokens(text: str) -> list:
    return re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)


def _used(derivative, values):
    names = {v.name for v in derivative.origin_variables()}
    return {n: v for n, v in values.items() if n in names}


def values(**shapes):
    out = {name: RNG.standard_normal(shape) for name, shape in shapes.items()}
    for name, value in out.items():
        if np.ndim(value) == 2 and value.shape[0] == value.shape[1]:
            out[name] = value + 3 * np.eye(value.shape[0])  # well conditioned for inverses
    return out


X, S = tc.var("X", (3, 3)), tc.var("S", (3, 3))
A, B, W = tc.var("A", (2, 3)), tc.var("B", (3, 4)), tc.var("W", (2, 3))
x = tc.var("x", (3,))
V = values(X=(3, 3), S=(3, 3), A=(2, 3), B=(3, 4), W=(2, 3), x=(3,))


def test_a_product_AXB():  # ∂vec(AXB)/∂vec(X) = Bᵀ ⊗ A
    assert proven(tc.jacobian(A @ X @ B, X), V, lambda X_: V["A"] @ X_ @ V["B"]) == "Bᵀ ⊗ A"


def test_the_inverse():  # ∂vec(X⁻¹)/∂vec(X) = −X⁻ᵀ ⊗ X⁻¹
    assert proven(tc.jacobian(tc.inv(X), X), V, jnp.linalg.inv) == "−X⁻ᵀ ⊗ X⁻¹"


def test_a_matrix_times_a_vector_by_the_matrix():  # ∂(Wx)/∂vec(W) = xᵀ ⊗ I
    assert proven(tc.jacobian(W @ x, W), V, lambda W_: W_ @ V["x"]) == "xᵀ ⊗ I"
    assert proven(tc.jacobian(x @ X, X), V, lambda X_: V["x"] @ X_) == "I ⊗ xᵀ"


def test_a_matrix_hessian():  # ∂²tr(XᵀSX)/∂vec(X)² = I ⊗ (S + Sᵀ)
    hessian = tc.grad(tc.grad(tc.trace(X.T @ S @ X), X), X)
    gradient = jax.grad(lambda X_: jnp.trace(X_.T @ V["S"] @ X_))
    assert proven(hessian, V, gradient) == "I ⊗ (S + Sᵀ)"


def test_a_square_and_an_outer_product():
    assert proven(tc.jacobian(X @ X, X), V, lambda X_: X_ @ X_) == "I ⊗ X + Xᵀ ⊗ I"
    outer = tc.jacobian(tc.einsum("i,j->ij", x, x), x)
    assert proven(outer, V, lambda x_: jnp.outer(x_, x_)) == "I ⊗ x + x ⊗ I"


def test_a_transpose_is_the_commutation_matrix():
    d = tc.jacobian(X.T, X)
    assert proven(d, V, lambda X_: X_.T) == "K"
    assert tc.matrix_notation(d) == \
        "K  (as ∂vec(f)/∂vec(X)ᵀ, vec column-major, K vec(X) = vec(Xᵀ); index form δ_il δ_jk)"
    assert tc.kronecker_form(d).spell("text") == f"kron(eye({X.shape[1]}), eye({X.shape[0]}))*" \
        f"commutation({X.shape[0]}, {X.shape[1]})"


def test_commutation_forms_of_the_cookbook():
    """(75) ∂(XᵀA)/∂X = (Aᵀ ⊗ I)K, (80) ∂(XᵀBX)/∂X = I ⊗ XᵀB + (XᵀBᵀ ⊗ I)K, against JAX."""
    Xr, Ar, Br = tc.var("X", (3, 2)), tc.var("A", (3, 4)), tc.var("B", (3, 3))
    v = values(X=(3, 2), A=(3, 4), B=(3, 3))
    assert proven(tc.jacobian(Xr.T @ Ar, Xr), v, lambda X_: X_.T @ v["A"]) == "(Aᵀ ⊗ I)K"
    assert proven(tc.jacobian(Xr.T @ Br @ Xr, Xr), v, lambda X_: X_.T @ v["B"] @ X_) == \
        "I ⊗ (XᵀB) + ((XᵀBᵀ) ⊗ I)K"
    assert proven(tc.jacobian(-Ar.T @ Xr @ Xr.T, Xr), v, lambda X_: -v["A"].T @ X_ @ X_.T)


def test_an_outer_product_of_vecs_says_why_and_keeps_the_index_form():
    a, b = tc.var("a", (X.shape[0],)), tc.var("b", (X.shape[1],))
    d = tc.jacobian(X * (a @ X @ b), X)  # vec(X) vec(∂(aᵀXb))ᵀ: no ⊗ of two matrices
    form = tc.kronecker_form(d)
    assert not form and "outer product" in form.reason
    assert tc.matrix_notation(d).startswith("[index form] ")
    with pytest.raises(ValueError, match="outer product"):
        form.spell("text")


def test_printers_show_the_form_and_the_convention():
    d = tc.jacobian(A @ X @ B, X)
    assert d.matrix == tc.matrix_notation(d) == \
        "Bᵀ ⊗ A  (as ∂vec(f)/∂vec(X)ᵀ, vec column-major; index form A_ik B_lj)"
    assert tc.latex(d) == "B^{\\top} \\otimes A"
    assert tc.kronecker_form(d).spell("text") == "kron(B', A)"
    with pytest.raises(tc.TensorCalcError, match="no text form"):  # it would read back as a matrix
        tc.to_text(d)


def test_a_trace_over_a_kron_reduces():
    P, Q = tc.var("P", (2, 2)), tc.var("Q", (3, 3))
    f = tc.trace(tc.kron(P, Q))
    assert str(tc.simplify(f)) == "P_ii Q_jj"
    assert tc.grad(f, Q).matrix == "tr(P) I" and tc.grad(f, P).matrix == "tr(Q) I"
    p, q = RNG.standard_normal((2, 2)), RNG.standard_normal((3, 3))
    np.testing.assert_allclose(tc.evaluate(tc.grad(f, Q), P=p, Q=q), np.trace(p) * np.eye(3))
    parsed = tc.grad(tc.parse("tr(kron(P,Q))", P=(2, 2), Q=(3, 3)), "Q")
    assert parsed.matrix == "tr(P) I"


def test_the_cli_json_has_a_kronecker_field():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-m", "tensorcalc", "jacobian", "A*X*B", "--wrt", "X",
                             "--format", "json"], capture_output=True, text=True, env=env, check=True)
    (record,) = json.loads(result.stdout)["derivatives"]
    assert record["matrix"] is None
    assert record["kronecker"] == {"form": "Bᵀ ⊗ A", "latex": "B^{\\top} \\otimes A",
                                   "convention": "∂vec(f)/∂vec(X)ᵀ, vec column-major"}


# Random products of two-index factors: f = M0 op(X) M1 op(X) … with op one of X, X⁻¹
# or Xᵀ: every term is a Kronecker product, times the commutation matrix K where it is of Xᵀ.

_OPS = {"X": (lambda e: e, lambda a: a), "inv": (tc.inv, jnp.linalg.inv),
        "T": (lambda e: e.T, lambda a: a.T)}


@given(st.lists(st.sampled_from(["X", "inv", "T"]), min_size=1, max_size=3),
       st.lists(st.booleans(), min_size=4, max_size=4), st.booleans())
def test_random_products_of_two_index_factors(ops, constants, by_vector):
    n = 3
    M = [tc.var(f"M{k}", (n, n)) for k in range(4)]
    values_ = values(X=(n, n), M0=(n, n), M1=(n, n), M2=(n, n), M3=(n, n), v=(n,))
    expr = M[0] if constants[0] else None
    for k, op in enumerate(ops):
        factor = _OPS[op][0](X)
        expr = factor if expr is None else expr @ factor
        if constants[k + 1]:
            expr = expr @ M[k + 1]
    v = tc.var("v", (n,))
    if by_vector:
        expr = expr @ v

    def jax_function(X_):
        out = jnp.asarray(values_["M0"]) if constants[0] else None
        for k, op in enumerate(ops):
            factor = _OPS[op][1](X_)
            out = factor if out is None else out @ factor
            if constants[k + 1]:
                out = out @ values_[f"M{k + 1}"]
        return out @ values_["v"] if by_vector else out

    derivative = tc.jacobian(expr, X)
    form = tc.kronecker_form(derivative)
    assert form, form.reason  # with Xᵀ, a term (B ⊗ A)K
    if form and not form.terms:  # X X⁻¹ = I: the derivative is 0
        assert str(form) == "0"
        np.testing.assert_allclose(jax.jacobian(jax_function)(jnp.asarray(values_["X"])), 0, atol=1e-9)
    else:
        proven(derivative, values_, jax_function)


def test_the_cli_latex_line_is_the_vec_jacobian():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, "-m", "tensorcalc", "jacobian", "inv(X)", "--wrt", "X",
                             "--format", "latex"], capture_output=True, text=True, env=env, check=True)
    assert result.stdout == ("\\frac{\\partial \\operatorname{vec} f}{\\partial \\operatorname{vec}(X)^{\\top}}"
                             " = -X^{-\\top} \\otimes X^{-1}\n")
