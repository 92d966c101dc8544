"""Layout: einsum outputs with a repeated index (diagonal embeddings), reshape, vec, kron.

Values against numpy, derivatives against finite differences (tests/fd.py), the identity
vec(AXB) = (Bᵀ ⊗ A) vec(X), printing in every notation, codegen and the shape errors.
"""

import pickle

import numpy as np
import pytest

import tensorcalc as tc
from fd import check_derivative, check_grads, evaluate
from tensorcalc.evaluation.statements import generate, load


@pytest.fixture
def rng():
    return np.random.default_rng(11)


v = tc.var("v", (3,))
W = tc.var("W", (3, 4))
T = tc.var("T", (2, 3, 4))
Bv = tc.var("Bv", (2, 3))
A = tc.var("A", (2, 3))
X = tc.var("X", (3, 4))
B = tc.var("B", (4, 5))
C = tc.var("C", (3, 2))
a = tc.var("a", (2,))
c = tc.var("c", (3,))


def data(rng):
    shapes = {"v": (3,), "W": (3, 4), "T": (2, 3, 4), "Bv": (2, 3), "A": (2, 3), "X": (3, 4),
              "B": (4, 5), "C": (3, 2), "a": (2,), "c": (3,)}
    return {name: rng.standard_normal(shape) for name, shape in shapes.items()}


# ---------------------------------------------------------------------------
# einsum with a repeated output index: δ_ij v_j


def embedded(shape, view_spec, value):
    """The expected array: zeros with ``value`` written through np.einsum's diagonal view."""
    out = np.zeros(shape)
    np.einsum(view_spec, out)[...] = value
    return out


EMBEDDINGS = [
    ("i->ii", lambda: tc.einsum("i->ii", v), lambda d: embedded((3, 3), "ii->i", d["v"]), v),
    ("i->iii", lambda: tc.einsum("i->iii", v), lambda d: embedded((3, 3, 3), "iii->i", d["v"]), v),
    ("ij->iij", lambda: tc.einsum("ij->iij", W), lambda d: embedded((3, 3, 4), "iij->ij", d["W"]),
     W),
    ("ij->jij", lambda: tc.einsum("ij->jij", W),
     lambda d: embedded((4, 3, 4), "jij->ij", d["W"]), W),
    ("ij->ii (sum over j)", lambda: tc.einsum("ij->ii", W),
     lambda d: embedded((3, 3), "ii->i", d["W"].sum(1)), W),
    ("...i->...ii", lambda: tc.einsum("...i->...ii", Bv),
     lambda d: embedded((2, 3, 3), "bii->bi", d["Bv"]), Bv),
    ("i,j->iij", lambda: tc.einsum("i,j->iij", v, tc.var("a", (2,))),
     lambda d: embedded((3, 3, 2), "iij->ij", np.outer(d["v"], d["a"])), v),
]


@pytest.mark.parametrize("name, build, reference, wrt", EMBEDDINGS, ids=[e[0] for e in EMBEDDINGS])
def test_repeated_output_index_is_a_diagonal_embedding(name, build, reference, wrt, rng):
    values = data(rng)
    expr = build()
    np.testing.assert_array_equal(evaluate(expr, values), reference(values))
    check_derivative(expr, wrt, values, rng=rng)  # the Jacobian
    loss = tc.sum(tc.apply_function("sin", expr))  # a gradient through it
    check_derivative(loss, wrt, values, rng=rng)


def test_repeated_output_index_is_a_delta_contraction_and_prints_as_diag():
    expr = tc.einsum("i->ii", v)
    assert isinstance(expr, tc.Contraction) and tc.Delta(3) in expr.operands
    assert expr is tc.diag(v)  # the same node as diag, by hash-consing
    assert tc.matrix_notation(expr) == "diag(v)"
    assert tc.index_notation(tc.einsum("ij->iij", W)) == "δ_ij W_jk"


# ---------------------------------------------------------------------------
# reshape, vec, kron: values and derivatives


CASES = [
    ("reshape", lambda: tc.reshape(W, (2, 6)), lambda d: d["W"].reshape(2, 6), [W]),
    ("reshape-minus-one", lambda: tc.reshape(T, (-1, 4)), lambda d: d["T"].reshape(-1, 4), [T]),
    ("reshape-flat", lambda: tc.reshape(W, -1), lambda d: d["W"].reshape(-1), [W]),
    ("reshape-of-product", lambda: tc.reshape(A @ X, (4, 2)),
     lambda d: (d["A"] @ d["X"]).reshape(4, 2), [A, X]),
    ("vec", lambda: tc.vec(W), lambda d: d["W"].T.reshape(-1), [W]),
    ("vec-rank3", lambda: tc.vec(T), lambda d: d["T"].reshape(-1, order="F"), [T]),
    ("vec-of-product", lambda: tc.vec(A @ X), lambda d: (d["A"] @ d["X"]).T.reshape(-1), [A, X]),
    ("kron", lambda: tc.kron(A, C), lambda d: np.kron(d["A"], d["C"]), [A, C]),
    ("kron-vectors", lambda: tc.kron(a, c), lambda d: np.kron(d["a"], d["c"]), [a, c]),
    ("kron-transposed", lambda: tc.kron(A.T, W), lambda d: np.kron(d["A"].T, d["W"]), [A, W]),
]


@pytest.mark.parametrize("name, build, reference, wrt", CASES, ids=[c[0] for c in CASES])
def test_values_and_jacobians(name, build, reference, wrt, rng):
    values = data(rng)
    expr = build()
    np.testing.assert_allclose(evaluate(expr, values), reference(values), rtol=1e-12)
    for variable in wrt:
        contracted = check_derivative(expr, variable, values, rng=rng)
        naive = evaluate(tc.jacobian(expr, variable, method="naive"), values)
        np.testing.assert_allclose(naive, contracted, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("build", [
    lambda: tc.sum(tc.apply_function("tanh", tc.reshape(W, (6, 2))) * np.arange(12.0).reshape(6, 2)),
    lambda: tc.vec(W) @ tc.vec(W * W),
    lambda: tc.sum(tc.kron(A, C) ** 2),
    lambda: tc.logsumexp(tc.vec(tc.kron(A, C) @ tc.kron(C, A))),
], ids=["reshape", "vec", "kron", "kron-in-a-chain"])
def test_gradients_and_second_derivatives_of_scalar_losses(build, rng):
    values = data(rng)
    loss = build()
    check_grads(loss, list(tc.variables(loss).values()), values, order=2, rng=rng)


def test_vec_of_a_product_is_a_kronecker_product_times_vec(rng):
    # vec(AXB) = (Bᵀ ⊗ A) vec(X)   (Magnus & Neudecker; Matrix Cookbook eq. 520)
    values = data(rng)
    lhs = tc.vec(A @ X @ B)
    rhs = tc.kron(B.T, A) @ tc.vec(X)
    np.testing.assert_allclose(evaluate(lhs, values), evaluate(rhs, values), rtol=1e-12)
    # and as a derivative: ∂vec(AXB)/∂vec(X) = Bᵀ ⊗ A
    J = evaluate(tc.jacobian(lhs, X), values)  # shape (2·5, 3, 4): J[:, i, j] is column j·3 + i
    K = np.kron(values["B"].T, values["A"])
    np.testing.assert_allclose(np.transpose(J, (0, 2, 1)).reshape(10, 12), K, rtol=1e-12,
                               atol=1e-14)
    check_derivative(rhs, X, values, rng=rng)


def test_reshape_keeps_leading_named_axes(rng):
    Y = tc.var("Y", ("n", 2, 3))
    flat = tc.reshape(Y, ("n", 6))
    assert flat.shape == ("n", 6)
    y = rng.standard_normal((5, 2, 3))
    np.testing.assert_array_equal(tc.evaluate(flat, Y=y), y.reshape(5, 6))
    loss = tc.sum(tc.apply_function("sin", flat))
    check_derivative(loss, Y, {"Y": y}, rng=rng)
    check_derivative(flat, Y, {"Y": y}, rng=rng)  # its Jacobian has named axes in the middle


# ---------------------------------------------------------------------------
# Printing, codegen, pickling


def test_spellings_in_every_notation():
    P, Q = tc.var("P", ("n", "n")), tc.var("Q", (2, 2))
    R = tc.var("R", (2, 2))
    cases = [
        (tc.vec(Q), "vec(Q)_i", "vec(Q)", "\\operatorname{vec}\\left(Q\\right)"),
        (tc.kron(Q, R), "(Q ⊗ R)_ij", "Q ⊗ R", "Q \\otimes R"),
        (tc.kron(Q.T, R + R), "(Qᵀ ⊗ (2R))_ij", "Qᵀ ⊗ (2R)",
         "Q^{\\top} \\otimes \\left(2 R\\right)"),
        (tc.reshape(Q, (4,)), "reshape(Q, (4,))_i", "reshape(Q, (4,))",
         "\\operatorname{reshape}\\left(Q, (4,)\\right)"),
    ]
    for expr, index, matrix, latex in cases:
        assert (tc.index_notation(expr), tc.matrix_notation(expr), tc.latex(expr)) == \
            (index, matrix, latex)
    assert tc.matrix_notation(tc.kron(Q, R) @ tc.vec(Q)) == "(Q ⊗ R) vec(Q)"
    assert (tc.to_text(tc.vec(Q)), tc.to_text(tc.kron(Q.T, R + R))) == ("vec(Q)", "kron(Q', 2*R)")
    with pytest.raises(tc.TensorCalcError, match=r"to_text: reshape\(.*no form in the text"):
        tc.to_text(tc.reshape(Q, 4))
    del P


def test_codegen_and_pickling(rng):
    values = data(rng)
    loss = tc.sum(tc.kron(A, C) ** 2) + tc.vec(W) @ tc.vec(W) + tc.sum(tc.reshape(W, (6, 2)) ** 3)
    outputs = [loss, *tc.grad(loss, (A, C, W))]
    source, name = generate(tc.compile(outputs))
    assert "np.kron(" in source and "np.reshape(" in source
    inputs = {k: values[k] for k in ("A", "C", "W")}
    for got, expected in zip(load(source, name)(**inputs), tc.compile(outputs)(**inputs)):
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    expr = tc.grad(loss, W).expr
    assert pickle.loads(pickle.dumps(expr)) is expr
    assert tc.kron(A, C) is tc.kron(A, C) and tc.reshape(W, (12,)) is tc.reshape(W, -1)
    assert tc.reshape(W, (3, 4)) is W


# ---------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize("build, pattern", [
    (lambda: tc.reshape(W, (5, 2)), r"reshape: cannot reshape shape \(3, 4\) \(12 entries\) to "
                                    r"\(5, 2\) \(10 entries\)"),
    (lambda: tc.reshape(W, (5, -1)), r"reshape: cannot reshape shape \(3, 4\) \(12 entries\)"),
    (lambda: tc.reshape(W, (-1, -1)), r"reshape: at most one dimension may be -1"),
    (lambda: tc.reshape(tc.var("N", ("n", 4)), (4, "n")), r"reshape: .*named dimension"),
    (lambda: tc.reshape(tc.var("N", (2, "n")), (-1,)), r"reshape: needs fixed sizes.*'n'"),
    (lambda: tc.vec(tc.var("N", ("m", "n"))), r"vec: needs fixed sizes.*\('m', 'n'\).*'m'"),
    (lambda: tc.kron(A, v), r"kron: needs two matrices or two vectors, got shapes \(2, 3\) and "
                            r"\(3,\)"),
    (lambda: tc.kron(tc.var("N", ("n", 2)), A), r"kron: needs fixed sizes.*first operand"),
])
def test_bad_shapes_are_clear_errors(build, pattern):
    with pytest.raises(tc.ShapeError, match=pattern):
        build()
