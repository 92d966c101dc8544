"""A curated list of einsum equations, grouped by the case each one stresses.

For every equation: the value equals ``np.einsum``, and the Jacobian, the
gradient of a weighted sum and the vjp with respect to every operand pass the
finite-difference projection check.  An operand may appear twice (the same
variable), and an operand may be a constant.

The last group, "previously failed", collects equations and operand kinds that
once broke; add every new failure there.
"""

import numpy as np
import pytest

import tensorcalc as tc
from fd import check_derivative, check_vjp, evaluate


def v(name, *shape):
    return ("var", name, shape)


def c(value):
    return ("const", np.asarray(value, dtype=float))


ALL_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
MANY_LETTERS = ALL_LETTERS[:28]

# category: [(equation, operands)] where an operand is v(name, *shape) or c(array)
CASES = {
    "matmul": [
        ("ij,jk->ik", [v("A", 2, 3), v("B", 3, 4)]),
        ("ij,j->i", [v("A", 2, 3), v("x", 3)]),
        ("i,ij->j", [v("x", 2), v("A", 2, 3)]),
        ("ij,jk,kl->il", [v("A", 2, 3), v("B", 3, 4), v("C", 4, 2)]),
        ("ij,kj->ik", [v("A", 2, 3), v("B", 4, 3)]),
    ],
    "trace": [
        ("ii->", [v("S", 3, 3)]),
        ("ij,ji->", [v("A", 3, 4), v("B", 4, 3)]),
        ("iij->j", [v("T", 3, 3, 2)]),
        ("iji->j", [v("T", 3, 2, 3)]),
        ("ii,jj->", [v("S", 3, 3), v("R", 2, 2)]),
    ],
    "diagonal": [
        ("ii->i", [v("S", 3, 3)]),
        ("iii->i", [v("T", 3, 3, 3)]),
        ("ii,i->i", [v("S", 3, 3), v("x", 3)]),
        ("iij->ij", [v("T", 3, 3, 2)]),
        ("ijj->ji", [v("T", 2, 3, 3)]),
    ],
    "naked sum": [
        ("ij->", [v("A", 2, 3)]),
        ("ij->i", [v("A", 2, 3)]),
        ("ij,k->i", [v("A", 2, 3), v("y", 4)]),
        ("i->", [v("x", 4)]),
        ("ijk->j", [v("P", 2, 3, 4)]),
    ],
    "outer": [
        ("i,j->ij", [v("x", 2), v("y", 3)]),
        ("ij,k->ijk", [v("A", 2, 3), v("y", 4)]),
        ("i,j,k->kji", [v("x", 2), v("y", 3), v("z", 4)]),
        (",i->i", [v("s"), v("x", 3)]),
    ],
    "hadamard": [
        ("ij,ij->ij", [v("A", 2, 3), v("B", 2, 3)]),
        ("ij,ij->", [v("A", 2, 3), v("B", 2, 3)]),
        ("i,i,i->i", [v("x", 3), v("y", 3), v("z", 3)]),
    ],
    "batch": [
        ("bij,bjk->bik", [v("P", 2, 3, 4), v("Q", 2, 4, 5)]),
        ("bij,bkj->bki", [v("P", 2, 3, 4), v("Q", 2, 5, 4)]),
        ("bi,bi->b", [v("A", 2, 3), v("B", 2, 3)]),
        ("bij,jk->bik", [v("P", 2, 3, 4), v("M", 4, 5)]),
    ],
    "ellipsis": [
        ("...ij,...jk->...ik", [v("P", 2, 3, 4), v("Q", 2, 4, 5)]),
        ("...ij,...jk->...ik", [v("P", 2, 3, 4), v("M", 4, 5)]),
        ("...ij,...jk->...ik", [v("P", 2, 1, 3, 4), v("Q", 5, 4, 2)]),
        ("i...->...", [v("A", 3, 2)]),
        ("...i,...i->...", [v("P", 2, 3, 4), v("B", 3, 4)]),
        ("ij...->ji...", [v("P", 2, 3, 4)]),
    ],
    "repeated index and vector": [
        ("iij,j->ij", [v("T", 3, 3, 2), v("y", 2)]),
        ("iij,j->i", [v("T", 3, 3, 2), v("y", 2)]),
        ("iij,j->", [v("T", 3, 3, 2), v("y", 2)]),
    ],
    "operand used twice": [
        ("i,i->", [v("x", 3), v("x", 3)]),
        ("i,i->i", [v("x", 3), v("x", 3)]),
        ("ij,jk->ik", [v("S", 3, 3), v("S", 3, 3)]),
        ("ij,ij->", [v("S", 3, 3), v("S", 3, 3)]),
        ("ij,ji->", [v("S", 3, 3), v("S", 3, 3)]),
        ("i,ij,j->", [v("x", 3), v("S", 3, 3), v("x", 3)]),
        ("ii,ii->i", [v("S", 3, 3), v("S", 3, 3)]),
    ],
    "implicit output": [
        ("ij,jk", [v("A", 2, 3), v("B", 3, 4)]),
        ("ii", [v("S", 3, 3)]),
        ("ij", [v("A", 2, 3)]),
        ("ba", [v("A", 2, 3)]),
        ("i,j", [v("x", 2), v("y", 3)]),
        ("ij,ij", [v("A", 2, 3), v("B", 2, 3)]),
        ("...ij,...jk", [v("P", 2, 3, 4), v("M", 4, 5)]),
    ],
    "transpose": [
        ("ij->ji", [v("A", 2, 3)]),
        ("ijk->kij", [v("P", 2, 3, 4)]),
        ("ijk->jki", [v("P", 2, 3, 4)]),
        ("ij,jk->ki", [v("A", 2, 3), v("B", 3, 4)]),
    ],
    "constants": [
        ("ij,j->i", [v("A", 2, 3), c([1.0, -2.0, 0.5])]),
        ("ij,jk->ik", [c(np.arange(6.0).reshape(2, 3)), v("B", 3, 4)]),
        ("ii,i->", [v("S", 3, 3), c([1.0, 2.0, 3.0])]),
    ],
    "previously failed": [
        # a Python scalar times a variable: the gradient's constant part was folded with an
        # einsum whose output letter no constant carried (numpy raised ValueError)
        (",i->i", [c(2.0), v("x", 3)]),
        (",ij->ij", [c(-0.5), v("A", 2, 3)]),
        ("i,->", [v("x", 3), c(3.0)]),
        # more than 26 index letters: constant folding named them chr(ord("a") + n), which runs
        # past "z" into "{" (tc.simplify raised numpy's ValueError)
        # (size-1 axes keep numpy's unoptimized reference einsum instant)
        (",".join(MANY_LETTERS) + "->", [c([1.5])] * 28),
        (",".join(MANY_LETTERS) + "->", [c([1.5])] * 27 + [v("x", 1)]),
        (",".join(MANY_LETTERS[:27]) + "->" + MANY_LETTERS[26], [c([0.5])] * 27),
        (",".join(MANY_LETTERS[:27]) + "," + MANY_LETTERS[26] + "->", [c([0.5])] * 27
         + [v("x", 1)]),
        # all 52 letters and an ellipsis: labels beyond 52 were named with non-ASCII symbols,
        # which np.einsum refuses (UnicodeEncodeError)
        (",".join(ALL_LETTERS) + ",...->...", [c([1.5])] * 52 + [c(np.full((1, 1, 3), 0.5))]),
        (",".join(ALL_LETTERS) + ",...->...", [c([1.5])] * 52 + [v("x", 1, 1, 3)]),
    ],
}

FLAT = [pytest.param(category, equation, operands, id=f"{category}: {equation}")
        for category, cases in CASES.items() for equation, operands in cases]


def build(operands, seed):
    rng = np.random.default_rng(seed)
    expressions, variables, values = [], {}, {}
    for kind, *rest in operands:
        if kind == "const":
            expressions.append(tc.const(rest[0]))
            continue
        name, shape = rest
        if name not in variables:
            variables[name] = tc.var(name, shape)
            values[name] = rng.standard_normal(shape)
        expressions.append(variables[name])
    arrays = [values[e.name] if isinstance(e, tc.Var) else e.value for e in expressions]
    return expressions, list(variables.values()), values, arrays


@pytest.mark.parametrize("category, equation, operands", FLAT)
def test_value_matches_numpy(category, equation, operands):
    expressions, _, values, arrays = build(operands, 0)
    expr = tc.einsum(equation, *expressions)
    expected = np.einsum(equation, *arrays)
    assert expr.shape == expected.shape
    got = evaluate(expr, values)
    assert np.shape(got) == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("category, equation, operands", FLAT)
def test_simplified_value_matches_numpy(category, equation, operands):
    expressions, _, values, arrays = build(operands, 0)
    simplified = tc.simplify(tc.einsum(equation, *expressions))
    expected = np.einsum(equation, *arrays)
    assert simplified.shape == expected.shape
    np.testing.assert_allclose(evaluate(simplified, values), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("category, equation, operands", FLAT)
def test_jacobian_with_respect_to_every_operand(category, equation, operands):
    expressions, variables, values, _ = build(operands, 1)
    expr = tc.einsum(equation, *expressions)
    rng = np.random.default_rng(2)
    for variable in variables:
        jacobian = check_derivative(expr, variable, values, rng=rng)
        assert jacobian.shape == expr.shape + variable.shape


@pytest.mark.parametrize("category, equation, operands", FLAT)
def test_gradient_and_vjp_with_respect_to_every_operand(category, equation, operands):
    expressions, variables, values, _ = build(operands, 3)
    expr = tc.einsum(equation, *expressions)
    rng = np.random.default_rng(4)
    weights = tc.const(rng.standard_normal(expr.shape))
    loss = tc.sum(weights * expr)
    for variable in variables:
        gradient = tc.grad(loss, variable)
        assert gradient.shape == variable.shape
        value = check_derivative(loss, variable, values, gradient, rng=rng)
        check_vjp(expr, variable, values, rng=rng)
        naive = evaluate(tc.grad(loss, variable, method="naive"), values)
        np.testing.assert_allclose(naive, value, rtol=1e-10, atol=1e-12)
        # the unweighted sum: the seed is a bare scalar 1, broadcast (no array to fold with)
        check_derivative(tc.sum(expr), variable, values, tc.grad(tc.sum(expr), variable),
                         rng=rng)


@pytest.mark.parametrize("category, equation, operands",
                         [case for case in FLAT if case.values[0] in ("trace", "diagonal")])
def test_second_derivatives_through_traces_and_diagonals(category, equation, operands):
    """A product with itself makes the second derivative non-zero: Σ (einsum)²."""
    expressions, variables, values, _ = build(operands, 5)
    expr = tc.einsum(equation, *expressions)
    loss = tc.sum(expr * expr)
    rng = np.random.default_rng(6)
    for variable in variables:
        gradient = tc.grad(loss, variable)
        check_derivative(gradient, variable, values, tc.grad(gradient, variable), rng=rng)


def test_einsum_matches_named_shortcuts():
    S, A, B = tc.var("S", (3, 3)), tc.var("A", (2, 3)), tc.var("B", (3, 4))
    assert tc.einsum("ii->", S) is tc.trace(S)
    assert tc.einsum("ii->i", S) is tc.diagonal(S)
    assert tc.einsum("ij,jk->ik", A, B) is A @ B
    assert tc.einsum("ij->ji", A) is A.T
    assert tc.einsum("ij,jk", A, B) is tc.einsum("ij,jk->ik", A, B)
    # renaming letters gives the same node
    assert tc.einsum("ab,bc->ac", A, B) is tc.einsum("ij,jk->ik", A, B)


def test_named_dimensions():
    A, B = tc.var("A", ("n", "k")), tc.var("B", ("k", "m"))
    expr = tc.einsum("ij,jk->ik", A, B)
    assert expr.shape == ("n", "m")
    values = {"A": np.ones((2, 5)), "B": np.arange(15.0).reshape(5, 3)}
    np.testing.assert_allclose(evaluate(expr, values), values["A"] @ values["B"])
    check_derivative(expr, A, values)
    check_derivative(tc.sum(expr * expr), B, values)
