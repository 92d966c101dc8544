"""A matrix times its own transpose (``U Uᵀ``, ``XᵀX``, a Gram matrix over several axes) is
evaluated as ``g @ g.T`` of one array, the spelling for which numpy calls BLAS syrk (half the
FLOPs of a general product), never as a product of two copies: a constant factor scales the
result, not one of the two operands.  Asserted on the code written (``tc.codegen``, the fast
path) and on the evaluator's numpy calls; values against numpy computed directly."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tensorcalc as tc
from tensorcalc.evaluation.statements import generate

RNG = np.random.default_rng(3)
U, X = tc.var("U", ("m", "k")), tc.var("X", ("m", "k"))
w, y = tc.var("w", ("k",)), tc.var("y", ("m",))
T = tc.var("T", ("i", "k", "l"))

# name -> (outputs, the product's spelling in the code, numpy computing the outputs directly)
CASES = {
    "U Uᵀ": ([U @ U.T], "U @ U.T", lambda v: [v["U"] @ v["U"].T]),
    "XᵀX": ([X.T @ X], "X.T @ X", lambda v: [v["X"].T @ v["X"]]),
    "2 U Uᵀ": ([2 * U @ U.T], "2.0 * (U @ U.T)", lambda v: [2 * v["U"] @ v["U"].T]),
    "½ tanh(X)ᵀ tanh(X)": ([0.5 * (tc.tanh(X).T @ tc.tanh(X))], "0.5 * (t1.T @ t1)",
                           lambda v: [0.5 * np.tanh(v["X"]).T @ np.tanh(v["X"])]),
    "ridge Hessian 2XᵀX + 0.2 I": (
        [tc.hessian(tc.sum((X @ w - y) ** 2) + 0.1 * tc.sum(w ** 2), w)], "2.0 * (X.T @ X)",
        lambda v: [2 * v["X"].T @ v["X"] + 0.2 * np.eye(v["X"].shape[1])]),
}


def values_for(m=40, k=7):
    return {"U": RNG.normal(size=(m, k)), "X": RNG.normal(size=(m, k)), "w": RNG.normal(size=k),
            "y": RNG.normal(size=m), "T": RNG.normal(size=(9, 4, 5))}


def arguments(program, values):
    accepted = set(program.variables) | {v.name for v in program.optional}
    return {k: v for k, v in values.items() if k in accepted}


@pytest.mark.parametrize("case", list(CASES))
def test_the_generated_code_spells_the_product_as_one_array_times_its_transpose(case):
    outputs, spelling, expected = CASES[case]
    program = tc.compile(outputs)
    for sizes in ({"m": 1000, "k": 50}, {"m": 50, "k": 1000}):  # scaling: the result either way
        source, _ = generate(program, "f", sizes, checks=False)
        assert spelling in source, source
    values = values_for()
    for _ in range(3):  # the evaluator, then the generated fast path
        for got, want in zip(program(**arguments(program, values)), expected(values)):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert program.fast_calls == 2


def transposed_pairs(monkeypatch) -> list:
    """Record, for every np.dot call, whether its operands are one array and its transpose
    (the same memory, the shape and strides reversed: numpy's test for syrk)."""
    seen = []
    dot = np.dot

    def recording(a, b, *rest):
        a_, b_ = np.asarray(a), np.asarray(b)
        seen.append(a_.ndim == 2 and a_.__array_interface__["data"][0] ==
                    b_.__array_interface__["data"][0] and a_.shape == b_.shape[::-1] and
                    a_.strides == b_.strides[::-1])
        return dot(a, b, *rest)
    monkeypatch.setattr(np, "dot", recording)
    return seen


@pytest.mark.parametrize("case", ["U Uᵀ", "XᵀX", "2 U Uᵀ", "ridge Hessian 2XᵀX + 0.2 I"])
def test_the_evaluator_multiplies_one_array_by_its_transpose(case, monkeypatch):
    outputs, _, expected = CASES[case]
    program = tc.compile(outputs)
    program.fast_path = False
    seen = transposed_pairs(monkeypatch)
    # the product larger than its operand (which a factor would otherwise scale): it still
    # scales the result
    values = values_for(m=40, k=6) if "U" in case else values_for(m=6, k=40)
    for got, want in zip(program(**arguments(program, values)), expected(values)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert seen == [True]


def test_a_gram_matrix_over_two_summed_axes_is_one_syrk(monkeypatch):
    program = tc.compile([tc.einsum("ikl,jkl->ij", T, T), 3 * tc.einsum("kil,kjl->ij", T, T)])
    program.fast_path = False
    seen = transposed_pairs(monkeypatch)
    values = values_for()
    gram, other = program(T=values["T"])
    t = values["T"]
    np.testing.assert_allclose(gram, np.einsum("ikl,jkl->ij", t, t), rtol=1e-12)
    np.testing.assert_allclose(other, 3 * np.einsum("kil,kjl->ij", t, t), rtol=1e-12)
    assert seen == [True, True]


def mlp_hessian():
    W1, W2 = tc.var("W1", ("h", "d")), tc.var("W2", ("o", "h"))
    X, Y = tc.var("X", ("d", "B")), tc.var("Y", ("o", "B"))
    return tc.hessian(tc.sum((W2 @ tc.tanh(W1 @ X) - Y) ** 2), W1)


def mlp_hessian_numpy(W1, W2, X, Y):
    """The closed form: 2 (W₂ᵀW₂)_ik Σ_B U_ijB U_klB, U = s ⊙ X, plus the δ_ik term."""
    h, d = W1.shape
    t = np.tanh(W1 @ X)
    s = 1.0 - t * t
    U = (s[:, None, :] * X[None, :, :]).reshape(h * d, X.shape[1])
    H = (U @ U.T).reshape(h, d, h, d) * (2.0 * (W2.T @ W2))[:, None, :, None]
    c = -4.0 * t * s * (W2.T @ (W2 @ t - Y))
    np.einsum("kjkl->kjl", H)[...] += (X[None, :, :] * c[:, None, :]) @ X.T
    return H


def test_the_mlp_hessian_is_one_syrk_with_its_delta_term_added_in_place():
    """The generated code reads U = s ⊙ X once, as one matrix view, multiplies it by its own
    transpose, and adds the δ_ik term onto that product's diagonal in place: no second copy of
    U, no zero (h, d, h, d) array, no second dense array added."""
    hessian = mlp_hessian()
    code = tc.codegen(hessian).split("def forward")[0]
    assert "@ t7.T" in code and ".reshape(-1, " in code
    assert "np.zeros" not in code and "[...] += " in code and code.count("np.tensordot") == 1
    program = tc.compile(hessian)
    values = {"W1": RNG.normal(size=(5, 4)), "W2": RNG.normal(size=(3, 5)),
              "X": RNG.normal(size=(4, 6)), "Y": RNG.normal(size=(3, 6))}
    first = program(values)  # the evaluator
    second = program(values)  # the generated function
    assert program.fast_calls == 1
    expected = mlp_hessian_numpy(**values)
    np.testing.assert_allclose(first, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(second, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_a_delta_term_added_in_place_never_writes_into_an_input(sign):
    """A + diag(v) (and A − diag(v)): the generated code copies A, the caller's array, before
    adding the δ term onto the copy's diagonal."""
    A, v = tc.var("A", ("n", "n")), tc.var("v", ("n",))
    program = tc.compile(A + sign * tc.einsum("i->ii", v))
    a, b = RNG.normal(size=(4, 4)), RNG.normal(size=4)
    kept = a.copy()
    for _ in range(3):
        np.testing.assert_allclose(program(A=a, v=b), kept + sign * np.diag(b), rtol=1e-14)
        np.testing.assert_array_equal(a, kept)
    assert program.fast_calls == 2


def test_a_delta_term_added_in_place_widens_a_narrower_dense_term():
    """float32 A + float64 diag(v) is float64, as the evaluator gives it: the copy of A is made
    in the wider dtype before the δ term is added onto it."""
    A, v = tc.var("A", ("n", "n")), tc.var("v", ("n",))
    program = tc.compile(A + tc.einsum("i->ii", v))
    a, b = RNG.normal(size=(4, 4)).astype(np.float32), RNG.normal(size=4)
    for _ in range(2):
        result = program(A=a, v=b)
        assert result.dtype == np.float64
        np.testing.assert_allclose(result, a.astype(np.float64) + np.diag(b), rtol=1e-14)
    source = tc.codegen(A + tc.einsum("i->ii", v))
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)  # the code tc.codegen writes
    assert namespace["f_and_grad"](A=a, v=b).dtype == np.float64


def test_the_evaluator_adds_the_delta_term_onto_the_diagonal_in_place_too(monkeypatch):
    """The step-by-step evaluator (a program's first call, or fast_path off) adds the MLP
    Hessian's δ term onto the dense term's diagonal too: no layout into zeros."""
    from tensorcalc.evaluation import steps

    laid = []
    original = steps.layout
    monkeypatch.setattr(steps, "layout", lambda *args: laid.append(args[2]) or original(*args))
    program = tc.compile(mlp_hessian())
    program.fast_path = False
    values = {"W1": RNG.normal(size=(5, 4)), "W2": RNG.normal(size=(3, 5)),
              "X": RNG.normal(size=(4, 6)), "Y": RNG.normal(size=(3, 6))}
    np.testing.assert_allclose(program(values), mlp_hessian_numpy(**values), rtol=1e-10, atol=1e-12)
    assert len(program.onto_diagonal) == 1 and not laid


@pytest.mark.parametrize("fast", [False, True])
def test_delta_terms_in_place_keep_inputs_and_coefficients(fast):
    """A − diag(v) leaves the caller's A as it was; 2A + diag(v) (the dense term scaled) and
    A + diag(v) + B (three terms) take the general sum; every value is numpy's."""
    A, B, v = tc.var("A", ("n", "n")), tc.var("B", ("n", "n")), tc.var("v", ("n",))
    a, b, w = RNG.normal(size=(4, 4)), RNG.normal(size=(4, 4)), RNG.normal(size=4)
    kept = a.copy()
    cases = [(A - tc.einsum("i->ii", v), a - np.diag(w)),
             (2.0 * A + tc.einsum("i->ii", v), 2 * a + np.diag(w)),
             (A + tc.einsum("i->ii", v) + B, a + np.diag(w) + b)]
    for expr, expected in cases:
        program = tc.compile(expr)
        program.fast_path = fast
        for _ in range(3):
            arguments = {k: x for k, x in {"A": a, "B": b, "v": w}.items()
                         if k in program.variables}
            np.testing.assert_allclose(program(arguments), expected, rtol=1e-14)
        np.testing.assert_array_equal(a, kept)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 5),
       st.sampled_from([1.0, -1.0, 2.5]), st.sampled_from([1.0, -1.0, 0.5]),
       st.sampled_from([np.float64, np.float32]), st.integers(0, 2**32 - 1))
def test_gram_products_and_delta_terms_against_numpy(h, d, B, dense_c, delta_c, dtype, seed):
    """c₁ Σ_m t_im X_jm t_km X_lm + c₂ δ_ik Σ_m X_jm X_lm c_im, at random sizes, coefficients and
    dtypes: the evaluator, the generated function and numpy's einsum agree (the Gram product
    of one temporary with itself and the δ term added in place are the paths under test)."""
    rng = np.random.default_rng(seed)
    t_, X_, c_ = tc.var("t", ("h", "B")), tc.var("X", ("d", "B")), tc.var("c", ("h", "B"))
    dense = tc.einsum("im,jm,km,lm->ijkl", t_, X_, t_, X_)
    delta = tc.einsum("jm,lm,im->ijil", X_, X_, c_)
    program = tc.compile(dense_c * dense + delta_c * delta)
    values = {"t": rng.normal(size=(h, B)).astype(dtype), "X": rng.normal(size=(d, B)),
              "c": rng.normal(size=(h, B))}
    expected = dense_c * np.einsum("im,jm,km,lm->ijkl", *(values[k].astype(np.float64)
                                                          for k in ("t", "X", "t", "X")))
    idx = np.arange(h)
    expected[idx, :, idx, :] += delta_c * np.einsum("jm,lm,im->ijl", values["X"], values["X"],
                                                    values["c"])
    for _ in range(3):  # the evaluator, then the generated function twice
        result = program(values)
        assert result.dtype == np.float64
        np.testing.assert_allclose(result, expected, rtol=1e-6 if dtype == np.float32 else 1e-12,
                                   atol=1e-6 if dtype == np.float32 else 1e-12)
    assert program.fast_calls == 2
