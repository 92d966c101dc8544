"""Structural checks: the *form* of what tensorcalc produces, not only its value.

* after ``grad`` of a scalar loss or ``vjp`` no Kronecker δ is left (numpy never sees an
  identity matrix), while δ survives where the answer needs it (both indices free);
* simplification collects like terms; expressions are hash-consed;
* deep chains and heavily shared DAGs are handled without recursion errors or blow-up.
"""

import sys
import time

import numpy as np
import pytest

import tensorcalc as tc
from fd import check_derivative, evaluate
from tensorcalc.expression.nodes import Delta, postorder

RNG = np.random.default_rng(7)


def deltas_in(expr):
    return [node for node in postorder([tc.as_expr(expr)]) if isinstance(node, Delta)]


def normal(*shape):
    return RNG.standard_normal(shape)


# ---------------------------------------------------------------------------
# No δ after gradients of scalars and vjps


def mlp_loss():
    W1, W2 = tc.var("W1", ("h", "d")), tc.var("W2", ("o", "h"))
    X, Y = tc.var("X", ("d", "B")), tc.var("Y", ("o", "B"))
    return tc.sum((W2 @ tc.tanh(W1 @ X) - Y) ** 2), (W1, W2, X, Y)


def scalar_losses():
    x, y, a = tc.var("x", (4,)), tc.var("y", (3,)), tc.var("a", (4,))
    A, B, W = tc.var("A", (4, 4)), tc.var("B", (4, 4)), tc.var("W", (3, 4))
    P, Q = tc.var("P", (2, 3, 4)), tc.var("Q", (2, 4, 3))
    return {
        "linear form": (a @ x, (a, x)),
        "quadratic form": (x @ A @ x, (x, A)),
        "least squares": (tc.sum((W @ x - y) ** 2), (W, x, y)),
        "logistic": (tc.sum(tc.softplus(W @ x) - y * (W @ x)), (W, x)),
        "trace of product": (tc.trace(A @ B), (A, B)),
        "trace of tanh": (tc.trace(tc.tanh(A @ B)), (A, B)),
        "batch einsum": (tc.sum(tc.einsum("bij,bjk->bik", P, Q) ** 2), (P, Q)),
        "mlp": mlp_loss(),
        "mean of squares": (tc.mean(tc.sigmoid(A @ x) ** 2), (A, x)),
        "outer then sum": (tc.sum(tc.einsum("i,j->ij", x, a) * A), (x, a, A)),
    }


SCALAR_LOSSES = scalar_losses()


@pytest.mark.parametrize("case", list(SCALAR_LOSSES))
def test_gradient_of_a_scalar_loss_has_no_delta(case):
    loss, variables = SCALAR_LOSSES[case]
    gradients = tc.grad(loss, variables)
    for variable, gradient in zip(variables, gradients):
        assert gradient.shape == variable.shape
        assert deltas_in(gradient) == [], f"δ left in ∂L/∂{variable.name}: {gradient.expr}"
        assert deltas_in(tc.compile(gradient).outputs[0]) == []


@pytest.mark.parametrize("case", ["linear layer", "tanh layer", "batch matmul", "transpose",
                                  "broadcast add", "mlp hidden"])
def test_vjp_has_no_delta(case):
    W, x, b = tc.var("W", (3, 4)), tc.var("x", (4, 5)), tc.var("b", (3, 1))
    P, Q = tc.var("P", (2, 3, 4)), tc.var("Q", (2, 4, 5))
    f, variables = {
        "linear layer": (W @ x, (W, x)),
        "tanh layer": (tc.tanh(W @ x + b), (W, x, b)),
        "batch matmul": (P @ Q, (P, Q)),
        "transpose": ((W @ x).T, (W, x)),
        "broadcast add": (W @ x + b, (W, b)),
        "mlp hidden": (tc.sigmoid(W @ tc.relu(x)), (W, x)),
    }[case]
    G = tc.var("G", tc.as_expr(f).shape)
    values = {"W": normal(3, 4), "x": normal(4, 5), "b": normal(3, 1), "P": normal(2, 3, 4),
              "Q": normal(2, 4, 5), "G": normal(*tc.as_expr(f).shape)}
    for variable in variables:
        result = tc.vjp(f, variable, G)
        assert result.shape == variable.shape
        assert deltas_in(result) == [], f"δ left in the vjp wrt {variable.name}: {result.expr}"
        # value: the materialized Jacobian contracted with G
        jacobian = evaluate(tc.jacobian(f, variable), values)
        expected = np.tensordot(values["G"], jacobian, axes=values["G"].ndim)
        np.testing.assert_allclose(evaluate(result, values), expected, rtol=1e-12, atol=1e-12)


def test_delta_survives_in_the_jacobian_of_W_a():
    W, a = tc.var("W", (3, 3)), tc.var("a", (3,))
    J = tc.grad(W @ a, W)
    deltas = deltas_in(J)
    assert len(deltas) == 1 and deltas[0].dim == 3
    expr = J.expr
    assert isinstance(expr, tc.Contraction)
    # δ_ij a_k: both δ indices are free (output) indices
    position = next(k for k, op in enumerate(expr.operands) if isinstance(op, Delta))
    assert set(expr.indices[position]) <= set(expr.output)
    assert str(J.expr) == "δ_ij a_k"


def test_delta_survives_where_the_answer_is_a_diagonal():
    """∂ tr(A)/∂A = I and ∂ Σ_i A_ii v_i/∂A = diag(v): a δ with both indices free."""
    A, v = tc.var("A", (3, 3)), tc.var("v", (3,))
    identity = tc.grad(tc.trace(A), A)
    assert deltas_in(identity)
    np.testing.assert_array_equal(evaluate(identity, {"A": normal(3, 3)}), np.eye(3))
    values = {"A": normal(3, 3), "v": normal(3)}
    diagonal = tc.grad(tc.sum(tc.diagonal(A) * v), A)
    np.testing.assert_array_equal(evaluate(diagonal, values), np.diag(values["v"]))


def test_hessian_has_no_delta_when_none_is_needed():
    x, A = tc.var("x", (3,)), tc.var("A", (3, 3))
    hessian = tc.grad(tc.grad(x @ A @ x, x), x)
    assert deltas_in(hessian) == []


# ---------------------------------------------------------------------------
# Simplification and hash-consing


def test_simplify_collects_like_terms():
    A, x = tc.var("A", (3, 3)), tc.var("x", (3,))
    assert str(tc.simplify(A @ x + A @ x)) == "2 A_ij x_j"
    assert str(tc.simplify(x + 2 * x)) == "3 x_i"
    assert str(tc.simplify(A @ x + A @ x - 0.5 * (A @ x))) == "1.5 A_ij x_j"
    # terms equal up to renaming of the summed index are one term
    assert str(tc.simplify(tc.einsum("ij,j->i", A, x) + tc.einsum("ik,k->i", A, x))) \
        == "2 A_ij x_j"


def test_simplify_cancels_to_zero_and_drops_zero_terms():
    A, x = tc.var("A", (3, 3)), tc.var("x", (3,))
    zero = tc.simplify(A @ x - A @ x)
    assert zero.shape == (3,)
    assert not [n for n in postorder([zero]) if isinstance(n, tc.Var)]
    np.testing.assert_array_equal(tc.evaluate(zero), np.zeros(3))
    assert tc.simplify(x + 0 * (A @ x)) is x
    assert tc.simplify(1.0 * x) is x


def test_simplify_folds_deltas_and_constants():
    x = tc.var("x", (3,))
    contracted = tc.Contraction([tc.Delta(3), x], [(0, 1), (1,)], (0,), {0: 3, 1: 3})
    assert tc.simplify(contracted) is x  # Σ_j δ_ij x_j = x_i
    trace_of_delta = tc.Contraction([tc.Delta(3)], [(0, 0)], (), {0: 3})
    assert tc.evaluate(tc.simplify(trace_of_delta)) == 3.0  # δ_ii = n
    assert tc.simplify(tc.const(2.0) * tc.const(3.0)) is tc.const(6.0)


def test_hash_consing_returns_the_same_object():
    W, a = tc.var("W", (3, 3)), tc.var("a", (3,))
    assert tc.var("W", (3, 3)) is W
    assert (W @ a) is (W @ a)
    assert tc.tanh(W @ a) is tc.tanh(W @ a)
    assert (W @ a + a) is (W @ a + a)
    assert tc.const(np.eye(3)) is tc.const(np.eye(3))
    assert tc.sum(W, axis=0) is tc.sum(W, axis=0)
    assert (W @ a) == (W @ a)
    assert hash(W @ a) == hash(W @ a)
    # different structure, different node
    assert tc.var("W", (3, 4)) is not W
    assert (W @ a) is not (W.T @ a)
    assert tc.const(np.eye(3)) is not tc.const(2 * np.eye(3))
    assert (W @ a) != (W.T @ a)
    # derivatives rebuild with shared nodes: the forward tanh inside the gradient is the same
    loss = tc.sum(tc.tanh(W @ a))
    gradient = tc.grad(loss, W)
    assert tc.tanh(W @ a) in postorder([gradient.expr])


def test_nodes_are_immutable():
    W = tc.var("W", (3, 3))
    with pytest.raises(AttributeError):
        W.name = "V"
    with pytest.raises(AttributeError):
        (W @ W).shape = (9,)
    assert W.name == "W" and (W @ W).shape == (3, 3)


def test_folding_a_constant_einsum_of_many_operands_is_fast():
    """Σ over 28 indices of a product of 28 constant vectors is (Σ c)^28: a path through the
    contraction costs 28 small sums, a plain einsum loop visits all 2^28 index tuples."""
    letters = "abcdefghijklmnopqrstuvwxyzAB"
    expr = tc.einsum(",".join(letters) + "->", *[np.array([1.0, 2.0])] * len(letters))
    start = time.perf_counter()
    folded = tc.simplify(expr)
    elapsed = time.perf_counter() - start
    assert isinstance(folded, tc.Const)
    np.testing.assert_allclose(tc.evaluate(folded), 3.0 ** 28, rtol=1e-12)
    assert elapsed < 10.0, f"folding took {elapsed:.1f} s"  # the 2^28 loop: minutes


# ---------------------------------------------------------------------------
# Deep chains


DEPTH = 3000


def test_deep_tanh_chain():
    x = tc.var("x", (3,))
    expr = x
    for _ in range(DEPTH):
        expr = tc.tanh(expr)
    limit = sys.getrecursionlimit()
    point = np.array([0.3, -0.2, 0.9])

    gradient = tc.grad(tc.sum(expr), x)
    simplified = tc.simplify(expr)
    text = str(expr)
    assert text.startswith("tanh(tanh(") and text.count("tanh") == DEPTH
    assert "tanh" in repr(expr)
    assert str(gradient)  # prints, shared subexpressions named once
    assert sys.getrecursionlimit() == limit  # printing does not leave the limit raised

    value, slope = point.copy(), np.ones(3)
    for _ in range(DEPTH):
        value = np.tanh(value)
        slope *= 1 - value ** 2
    np.testing.assert_allclose(tc.evaluate(expr, x=point), value, rtol=1e-12)
    np.testing.assert_allclose(tc.evaluate(simplified, x=point), value, rtol=1e-12)
    np.testing.assert_allclose(tc.evaluate(gradient, x=point), slope, rtol=1e-9)


def test_deep_chain_of_additions():
    x, A = tc.var("x", (3,)), tc.var("A", (3, 3))
    expr = x
    for k in range(DEPTH):
        expr = expr + (A @ x if k % 2 else x)
    point = {"x": normal(3), "A": normal(3, 3)}
    expected = (1 + DEPTH // 2 + DEPTH % 2) * point["x"] + (DEPTH // 2) * point["A"] @ point["x"]
    np.testing.assert_allclose(evaluate(expr, point), expected, rtol=1e-10)
    simplified = tc.simplify(expr)
    assert str(simplified) in (f"{1 + DEPTH // 2} x_i + {DEPTH // 2} A_ij x_j",
                               f"{DEPTH // 2} A_ij x_j + {1 + DEPTH // 2} x_i")
    assert len(str(expr)) > DEPTH
    gradient = tc.grad(tc.sum(expr), x)
    np.testing.assert_allclose(evaluate(gradient, point),
                               (1 + DEPTH // 2) + (DEPTH // 2) * point["A"].sum(axis=0),
                               rtol=1e-10)
    assert str(gradient)


def test_deep_chain_of_products_with_constants():
    x = tc.var("x", (3,))
    expr = x
    for _ in range(DEPTH):
        expr = expr * 1.0001 + 0.0
    point = np.array([1.0, -2.0, 0.5])
    factor = 1.0001 ** DEPTH
    np.testing.assert_allclose(tc.evaluate(expr, x=point), factor * point, rtol=1e-10)
    gradient = tc.grad(tc.sum(expr), x)
    np.testing.assert_allclose(tc.evaluate(gradient, x=point), np.full(3, factor), rtol=1e-10)
    assert str(tc.simplify(expr)) == f"{factor:g} x_i"


# ---------------------------------------------------------------------------
# Shared subexpressions: no exponential blow-up


def test_repeated_squaring_differentiates_quickly():
    """e = e * e sixty times is x^(2^60): a tree of 2^60 leaves, a DAG of 61 nodes."""
    x = tc.var("x", (3,))
    expr = x
    for _ in range(60):
        expr = expr * expr
    start = time.perf_counter()
    gradient = tc.grad(tc.sum(expr), x)
    value = tc.evaluate(gradient, x=np.array([1.0, -1.0, 1.0]))
    text = str(gradient)
    elapsed = time.perf_counter() - start
    np.testing.assert_array_equal(value, [2.0 ** 60, -(2.0 ** 60), 2.0 ** 60])
    assert len(postorder([gradient.expr])) < 20 * 60
    assert len(text) < 100_000
    assert elapsed < 10.0, f"differentiating a 60-deep shared chain took {elapsed:.2f} s"


def test_chain_using_the_previous_node_twice():
    x = tc.var("x", (3,))
    expr = x
    for _ in range(60):
        expr = 0.5 * tc.tanh(expr) + 0.5 * tc.sin(expr)
    point = {"x": np.array([0.3, -0.7, 1.1])}
    gradient = tc.grad(tc.sum(expr), x)
    value = tc.evaluate(gradient, point)
    # linear in the depth, counted in nodes (a wall-clock bound failed CI on a loaded machine);
    # a gradient that re-walked the shared node would hold ~2^60 paths
    assert len(postorder([gradient.expr])) < 40 * 60
    check_derivative(tc.sum(expr), x, point, gradient)
    hessian = tc.jacobian(gradient, x)  # second derivatives stay linear in the depth too
    assert len(postorder([hessian.expr])) < 200 * 60
    check_derivative(gradient, x, point, hessian)
    assert np.all(value > 0)


def test_a_ten_thousand_node_program_compiles_and_runs():
    """grad + compile of a 1,500-layer tanh(W h) chain: a program of more than 10,000 nodes,
    built without recursion, in time linear in the depth (benchmarks/compile_time.py)."""
    depth = 1500
    W, x = tc.var("W", (3, 3)), tc.var("x", (3,))
    h = x
    for _ in range(depth):
        h = tc.tanh(W @ h)
    loss = tc.sum(h)
    program = tc.compile([loss, tc.grad(loss, W)])
    assert len(program.nodes) > 10_000
    W0, x0 = 0.5 * np.eye(3) + 0.1 * normal(3, 3), normal(3)
    value, gradient = program(W=W0, x=x0)
    activations = [x0]
    for _ in range(depth):
        activations.append(np.tanh(W0 @ activations[-1]))
    adjoint, expected = np.ones(3), np.zeros((3, 3))
    for layer in range(depth, 0, -1):
        local = adjoint * (1 - activations[layer] ** 2)
        expected += np.outer(local, activations[layer - 1])
        adjoint = W0.T @ local
    assert value == pytest.approx(activations[-1].sum(), rel=1e-12)
    np.testing.assert_allclose(gradient, expected, rtol=1e-9, atol=1e-12)
