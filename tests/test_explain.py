"""tc.explain: the steps as data (shapes, the δ renaming, the final form, costs), and
tc.grad with respect to an intermediate (finite differences, and CS229's ∂L/∂z² = a² − y)."""

import numpy as np
import pytest

import tensorcalc as tc
from fd import check_derivative
from tensorcalc.explain import grad_wrt_intermediate

rng = np.random.default_rng(0)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


@pytest.fixture(scope="module")
def linear():
    W, a, g = tc.var("W", (3, 3)), tc.var("a", (3,)), tc.var("g", (3,))
    L = tc.sum(g * (W @ a))
    return W, a, g, L, tc.explain(L, W)


@pytest.fixture(scope="module")
def cs229():
    x, y = tc.var("x", (4,)), tc.var("y", ())
    W1, b1, W2, b2 = tc.var("W1", (5, 4)), tc.var("b1", (5,)), tc.var("W2", (1, 5)), tc.var("b2", (1,))
    z1 = W1 @ x + b1
    a1 = tc.sigmoid(z1)
    z2 = W2 @ a1 + b2
    a2 = tc.sigmoid(z2)
    L = -tc.sum(y * tc.log(a2) + (1 - y) * tc.log(1 - a2))
    values = {"x": rng.standard_normal(4), "y": 1.0, "W1": rng.standard_normal((5, 4)),
              "b1": rng.standard_normal(5), "W2": rng.standard_normal((1, 5)), "b2": rng.standard_normal(1)}
    nodes = {"z1": z1, "a1": a1, "z2": z2, "a2": a2, "L": L, "W1": W1}
    return nodes, values, tc.explain(L, W1, names={"z1": z1, "a1": a1, "z2": z2, "a2": a2})


def test_b_equals_Wa_steps(linear):
    W, a, g, L, e = linear
    assert [(s.name, s.shape) for s in e.of_kind("forward")] == [("b", (3,)), ("L", ())]
    local = next(s for s in e.of_kind("local") if s.name == "∂b/∂W")
    assert (local.shape, local.entries, local.nonzeros) == ((3, 3, 3), 27, 9)
    assert any(isinstance(op, tc.Delta) for op in local.expr.operands)  # δ_ij a_k
    (delta,) = e.of_kind("delta")
    assert delta.renamed == {"i": "j"}
    result = e.of_kind("result")[0]
    assert result.shape == W.shape == result.value.shape
    assert not any(isinstance(n, tc.Delta) for n in tc.nodes.postorder([result.expr]))
    assert result.matrix is not None and "ᵀ" in result.matrix  # g aᵀ
    values = {"W": rng.standard_normal((3, 3)), "a": rng.standard_normal(3), "g": rng.standard_normal(3)}
    assert np.allclose(tc.evaluate(e.expand(result.expr), values), np.outer(values["g"], values["a"]))
    assert np.allclose(tc.evaluate(result.value, values), np.outer(values["g"], values["a"]))


def test_costs_come_from_the_plans(linear):
    W, a, g, L, e = linear
    (cost,) = e.of_kind("cost")
    assert cost.flops == tc.compile(tc.grad(L, W).expr).plan_for({}).flops
    naive = tc.compile(tc.grad(L, W, method="naive", memory_limit=None), simplify=False).plan_for({})
    assert (cost.naive_flops, cost.naive_largest) == (naive.flops, naive.largest_intermediate)
    assert cost.naive_largest == 27 and cost.largest == 9 and cost.naive_flops > cost.flops
    (jac,) = e.of_kind("jacobian")
    assert jac.factors == ((1, 3), (3, 9))


def test_column_vector_has_a_size_one_axis():
    W, a, g = tc.var("W", (3, 3)), tc.var("a", (3, 1)), tc.var("g", (3, 1))
    e = tc.explain(tc.sum(g * (W @ a)), W)
    local = next(s for s in e.of_kind("local") if s.name == "∂b/∂W")
    assert (local.shape, local.entries, local.nonzeros) == ((3, 1, 3, 3), 27, 9)
    assert "(3, 3, 3)" in local.note
    assert e.of_kind("result")[0].shape == (3, 3)


def test_cs229_stages_and_incoming_gradients(cs229):
    nodes, values, e = cs229
    assert [s.name for s in e.of_kind("forward")] == ["z1", "a1", "z2", "a2", "L"]
    incoming = {s.name: s for s in e.of_kind("incoming") if s.level == 2}
    assert set(incoming) == {"∂L/∂a2", "∂L/∂z2", "∂L/∂a1", "∂L/∂z1"}
    a2, a1 = tc.evaluate(nodes["a2"], values), tc.evaluate(nodes["a1"], values)
    dz2 = a2 - values["y"]  # sigmoid + cross-entropy, by hand
    dz1 = (values["W2"].T @ dz2) * a1 * (1 - a1)
    for name, expected in [("∂L/∂z2", dz2), ("∂L/∂z1", dz1)]:
        step = incoming[name]
        assert np.allclose(tc.evaluate(step.value, values), expected)  # the engine's adjoint
        assert np.allclose(tc.evaluate(e.expand(step.expr), values), expected)  # the chain's
    result = e.of_kind("result")[0]
    assert result.shape == nodes["W1"].shape and result.note == "= W1's shape"
    assert np.allclose(tc.evaluate(result.value, values), np.outer(dz1, values["x"]))
    assert [s.renamed for s in e.of_kind("delta")] == [{"i": "j"}] * 3
    assert e.of_kind("jacobian")[0].factors == ((1, 1), (1, 1), (1, 5), (5, 5), (5, 20))


def test_every_incoming_step_agrees_with_reverse_mode(cs229):
    nodes, values, e = cs229
    steps = e.of_kind("incoming")
    assert any(s.level == 3 for s in steps)
    for step in steps:
        assert np.allclose(tc.evaluate(step.value, values), tc.evaluate(e.expand(step.expr), values))


def test_grad_wrt_intermediate_cs229(cs229):
    nodes, values, _ = cs229
    a2 = tc.evaluate(nodes["a2"], values)
    dz2 = grad_wrt_intermediate(nodes["L"], nodes["z2"])
    assert dz2.shape == (1,)
    assert np.allclose(tc.evaluate(dz2, values), a2 - values["y"])
    for name in ("z1", "a1", "z2", "a2"):
        d = grad_wrt_intermediate(nodes["L"], nodes[name], name=name)
        at = {**values, d.wrt.name: tc.evaluate(nodes[name], values)}
        check_derivative(d.of, d.wrt, at, derivative=d.expr)  # L with the node as an input


def test_grad_wrt_intermediate_counts_every_occurrence():
    x = tc.var("x", (3,))
    s = tc.sin(x)
    f = tc.sum(s * s) + tc.sum(tc.exp(s))  # s occurs three times
    d = grad_wrt_intermediate(f, tc.sin(x))  # hash-consing: the same node
    value = rng.standard_normal(3)
    assert np.allclose(tc.evaluate(d, x=value), 2 * np.sin(value) + np.exp(np.sin(value)))
    dx, dz = grad_wrt_intermediate(f, (x, s))
    assert dx.shape == dz.shape == (3,)
    with pytest.raises(tc.DifferentiationError):
        grad_wrt_intermediate(f, tc.cos(x))


def test_jacobian_of_a_vector_function():
    W, x = tc.var("W", (2, 3)), tc.var("x", (3,))
    f = tc.tanh(W @ x)
    e = tc.explain(f, x)
    result = e.of_kind("result")[0]
    assert result.shape == (2, 3) and "f's shape (2,) + x's shape (3,)" in result.note
    assert e.of_kind("jacobian")[0].factors == ((2, 2), (2, 3))
    (product,) = e.of_kind("vjp")
    assert product.shape == (3,) and product.flops is not None
    values = {"W": rng.standard_normal((2, 3)), "x": rng.standard_normal(3)}
    expected = (1 - np.tanh(values["W"] @ values["x"]) ** 2)[:, None] * values["W"]
    assert np.allclose(tc.evaluate(e.expand(result.expr), values), expected)
    seed_delta = e.of_kind("delta")[0]  # the identity seed δ renames f's index
    assert len(seed_delta.renamed) == 1


def test_mlp_with_tanh_and_levels():
    x, W1, W2 = tc.var("x", (4,)), tc.var("W1", (5, 4)), tc.var("W2", (3, 5))
    L = tc.sum(tc.tanh(W2 @ tc.tanh(W1 @ x)) ** 2)
    e = tc.explain(L, W1)
    assert len(e.of_kind("forward")) == 6  # W1x, tanh, W2h, tanh, square, L
    result = e.of_kind("result")[0]
    values = {"x": rng.standard_normal(4), "W1": rng.standard_normal((5, 4)), "W2": rng.standard_normal((3, 5))}
    assert np.allclose(tc.evaluate(e.expand(result.expr), values), tc.evaluate(tc.grad(L, W1), values))
    level1, level2, level3 = (e.text(level=n).splitlines() for n in (1, 2, 3))
    assert len(level1) == len(e.of_kind("forward")) + 2  # + result, cost
    assert len(level1) < len(level2) < len(level3)
    assert str(e) == e.text(level=2)
    assert e._repr_markdown_().startswith("| # |")


def test_named_dimensions_and_explain_wrt_an_intermediate(cs229):
    nodes, values, _ = cs229
    e = tc.explain(nodes["L"], nodes["z1"], names={"z1": nodes["z1"], "a2": nodes["a2"]})
    result = e.of_kind("result")[0]
    assert result.name == "∂L/∂z1" and result.shape == (5,)
    expected = grad_wrt_intermediate(nodes["L"], nodes["z1"])
    assert np.allclose(tc.evaluate(e.expand(result.expr), values), tc.evaluate(expected, values))
    assert tc.explain(nodes["L"], nodes["z1"]).of_kind("result")[0].shape == (5,)  # named for you
    X, w = tc.var("X", ("n", "d")), tc.var("w", ("d",))
    e = tc.explain(tc.sum(tc.tanh(X @ w)), w, sizes={"n": 6, "d": 2})
    assert e.of_kind("cost")[0].note and "d=2, n=6" in e.of_kind("cost")[0].index
    assert next(s for s in e.of_kind("local") if s.name == "∂b/∂w").entries == 12


def test_errors():
    x, y = tc.var("x", (3,)), tc.var("y", (3,))
    with pytest.raises(tc.DifferentiationError):
        tc.explain(tc.sum(x), tc.sin(y))
    with pytest.raises(tc.DifferentiationError):
        tc.explain(tc.sum(tc.sin(x)), x, names={"x": tc.sin(x)})
