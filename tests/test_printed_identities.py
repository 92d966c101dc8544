"""The printers' exact identities, property-tested: what prints is the same value.

The matrix-form printers collect equal terms (``s + s = 2s``), pull a shared coefficient out of a
sum (``2Ax − 2y = 2(Ax − y)``), know which records are symmetric (``Sᵀ = S``, ``(XᵀX)⁻¹``,
``A + Aᵀ``), print runs of equal factors as powers (``A³``, ``(X²)ᵀ``, ``det(X)²``) and cancel
``det(X)⁻¹ cofactor(X)``; once a form is read, powers of one matrix in a chain add up
(``S⁻¹S = I``, ``XᵀXᵀ(X³)⁻ᵀ = X⁻ᵀ``), transposes collect (``AᵀXᵀ + XᵀAᵀ = (XA + AX)ᵀ``) and a
factor every term shares comes out of a sum (tensorcalc/notation/printers/collect.py).  For random expressions (and their gradients) over a symmetric ``S`` and
general ``A``, ``B``, the printed text form, parsed back, has the value numpy computes from the
expression's own evaluation; and a few of the identities are checked against numpy directly.
"""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tensorcalc as tc
from tensorcalc.notation.printers.records import Symbol, add, is_symmetric, matmul, scale, transpose

n = 3
A, B = tc.var("A", (n, n)), tc.var("B", (n, n))
S = tc.var("S", (n, n), symmetric=True)
x, y = tc.var("x", (n,)), tc.var("y", (n,))
TYPES = {"S": "symmetric matrix", "A": (n, n), "B": (n, n), "x": (n,), "y": (n,)}


def _values(seed):
    rng = np.random.default_rng(seed)
    s = rng.uniform(-1, 1, (n, n))
    return {"A": rng.uniform(-.6, .6, (n, n)), "B": rng.uniform(-.6, .6, (n, n)),
            "S": 3 * np.eye(n) + (s + s.T) / 2, "x": rng.uniform(-1, 1, n), "y": rng.uniform(-1, 1, n)}


@st.composite
def matrices(draw, depth=3):
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from([A, B, S, S, tc.inv(S)]))
    kind = draw(st.sampled_from(["add", "sub", "matmul", "transpose", "scale", "power", "gram"]))
    left = draw(matrices(depth - 1))
    if kind == "transpose":
        return left.T
    if kind == "scale":
        return draw(st.sampled_from([2.0, -2.0, 0.5, 3.0])) * left
    if kind == "power":
        return left @ left
    if kind == "gram":
        return left.T @ S @ left
    right = draw(matrices(depth - 1))
    return {"add": left + right, "sub": 2 * left - 2 * right, "matmul": left @ right}[kind]


@st.composite
def scalars(draw):
    M = draw(matrices())
    kind = draw(st.sampled_from(["quadratic", "trace", "logdet", "det2", "residual"]))
    if kind == "quadratic":
        return x @ M @ x
    if kind == "trace":
        return tc.trace(M @ M)
    if kind == "logdet":
        return tc.log(tc.det(S + 0.1 * (M @ M.T)))
    if kind == "det2":
        return tc.det(S + 0.1 * M) ** 2
    return tc.sum((M @ x - y) ** 2)


def _parse(text):
    return tc.parse(text, **{k: v for k, v in TYPES.items() if re.search(rf"\b{k}\b", text)})


def _reads_back(expr, values):
    text = tc.to_text(expr)
    constant = re.fullmatch(r"(-?[\d.]+)\*(matrix|vector)\(1\)", text)
    if constant:  # c*matrix(1) names no dimension to bind: compare the constant itself
        value = tc.evaluate(expr, {k: v for k, v in values.items() if k in tc.variables(expr)})
        np.testing.assert_allclose(value, float(constant.group(1)), atol=1e-9)
        return
    identity = re.fullmatch(r"(?:(-?[\d.]+)\*)?eye", text)
    if identity:  # c*eye (S⁻¹S read as I) names no dimension either: compare c I
        value = tc.evaluate(expr, {k: v for k, v in values.items() if k in tc.variables(expr)})
        np.testing.assert_allclose(value, float(identity.group(1) or 1) * np.eye(n), atol=1e-9)
        return
    again = _parse(text)
    used = {k: v for k, v in values.items() if k in tc.variables(again)}
    np.testing.assert_allclose(np.asarray(tc.evaluate(again, used), dtype=float),
                               np.asarray(tc.evaluate(expr, {k: v for k, v in values.items()
                                                             if k in tc.variables(expr)})),
                               rtol=1e-7, atol=1e-9, err_msg=text)


@given(matrices(), st.integers(0, 2**32 - 1))
def test_printed_matrices_read_back_to_their_values(M, seed):
    _reads_back(M, _values(seed))


@given(scalars(), st.sampled_from(["A", "S", "x"]), st.integers(0, 2**32 - 1))
def test_printed_gradients_read_back_to_their_values(f, wrt, seed):
    variable = {"A": A, "S": S, "x": x}[wrt]
    if wrt not in tc.variables(f):
        return
    _reads_back(tc.grad(f, variable), _values(seed))


def test_symmetric_records_never_print_a_transpose():
    assert tc.matrix_notation(S.T) == "S"
    assert tc.matrix_notation(tc.inv(S).T) == "S⁻¹"
    assert tc.matrix_notation(S + S.T) == "2S"
    assert tc.matrix_notation((A.T @ A).T + A.T @ A) == "2AᵀA"
    assert tc.matrix_notation((A + A.T).T) == "A + Aᵀ"


def test_symmetry_is_decided_exactly():
    a, s = Symbol("A", (n, n)), Symbol("S", (n, n), True)
    assert is_symmetric(matmul(transpose(a), s, a)) and is_symmetric(add(a, transpose(a)))
    assert not is_symmetric(matmul(a, s)) and not is_symmetric(matmul(a, a))
    assert not is_symmetric(add(a, scale(2, transpose(a))))
    values = _values(3)
    for M in (A.T @ S @ A, A + A.T, tc.inv(A.T @ A)):
        value = tc.evaluate(M, {k: v for k, v in values.items() if k in tc.variables(M)})
        np.testing.assert_allclose(value, value.T, atol=1e-12)


@pytest.mark.parametrize("expr, printed, oracle", [
    (A @ A @ A @ x, "A³x", lambda v: np.linalg.matrix_power(v["A"], 3) @ v["x"]),
    (A.T @ A.T, "(A²)ᵀ", lambda v: (v["A"] @ v["A"]).T),
    (tc.det(A) * tc.det(A) * B, "det(A)² B", lambda v: np.linalg.det(v["A"]) ** 2 * v["B"]),
    (tc.trace(A) * tc.trace(A) * x, "tr(A)² x", lambda v: np.trace(v["A"]) ** 2 * v["x"]),
    (2 * (A @ x) - 2 * y, "2(Ax − y)", lambda v: 2 * (v["A"] @ v["x"]) - 2 * v["y"]),
    (3 * A + 3 * A.T, "3(A + Aᵀ)", lambda v: 3 * (v["A"] + v["A"].T)),
    ((A @ x) * (A @ x), "(Ax)²", lambda v: (v["A"] @ v["x"]) ** 2),
    (A * A * B, "A^⊙2 ⊙ B", lambda v: v["A"] ** 2 * v["B"]),
    (tc.einsum("i,ij->ij", x, tc.einsum("i,ij->ij", x, A)), "diag(x²) A",
     lambda v: np.diag(v["x"] ** 2) @ v["A"]),
    (tc.det(A @ A @ A) * B, "det(A)³ B", lambda v: np.linalg.det(v["A"]) ** 3 * v["B"]),
])
def test_collected_forms_print_and_have_numpys_value(expr, printed, oracle):
    assert tc.matrix_notation(expr) == printed
    values = _values(11)
    text_value = tc.evaluate(_parse(tc.to_text(expr)),
                             {k: v for k, v in values.items() if k in tc.variables(expr)})
    np.testing.assert_allclose(text_value, oracle(values), rtol=1e-10)


@given(st.integers(2, 3), st.integers(2, 3), st.integers(0, 2), st.integers(0, 2**32 - 1))
def test_softmax_and_logsumexp_are_recognised_exactly(rows, cols, axis, seed):
    """``exp(u)/Σ exp(u)`` and ``log Σ exp(u)`` over any axes become softmax and logsumexp,
    with numpy's values (axis 2 here means: over both axes)."""
    U = tc.var("U", (rows, cols))
    axes = (0, 1) if axis == 2 else (axis,)
    total = tc.sum(tc.exp(U), axis=axes if axis == 2 else axis)
    kept = "".join("ij"[k] for k in range(2) if k not in axes)
    ratio = tc.simplify(tc.einsum(f"ij,{kept}->ij", tc.exp(U), 1 / total))
    log_total = tc.simplify(tc.log(total))
    assert tc.matrix_notation(ratio).startswith("softmax")
    assert "logsumexp" in tc.index_notation(log_total)
    u = np.random.default_rng(seed).uniform(-5, 5, (rows, cols))
    exp_sum = np.exp(u).sum(axis=axes, keepdims=True)
    np.testing.assert_allclose(tc.evaluate(ratio, U=u), np.exp(u) / exp_sum, rtol=1e-12)
    np.testing.assert_allclose(tc.evaluate(log_total, U=u), np.log(exp_sum).reshape(
        tc.evaluate(log_total, U=u).shape), rtol=1e-12)
