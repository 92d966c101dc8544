"""tc.explain: the steps as data (shapes, the δ renaming, the final form, costs), and
tc.grad with respect to an intermediate (finite differences, and CS229's ∂L/∂z² = a² − y)."""

import numpy as np
import pytest

import tensorcalc as tc
from fd import check_derivative
from tensorcalc.calculus.differentiate import grad_wrt_intermediate

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
    assert not any(isinstance(n, tc.Delta) for n in tc.expression.nodes.postorder([result.expr]))
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


# ---------------------------------------------------------------------------
# Issue 15: several variables, values, non-saturating counts, shapes as (n, m)


def test_several_variables_in_one_sweep():
    W, x, v = tc.var("W", ("n", "m")), tc.var("x", ("m",)), tc.var("v", ("n",))
    L = tc.sum(v * (W @ x))
    e = tc.explain(L, (W, x))
    assert e.wrt == (W, x) and len(e.result) == 2
    results = e.of_kind("result")
    assert [(s.name, s.shape) for s in results] == [("∂L/∂W", ("n", "m")), ("∂L/∂x", ("m",))]
    assert [s.matrix for s in results] == ["v xᵀ", "Wᵀv"]
    values = {"W": rng.standard_normal((4, 3)), "x": rng.standard_normal(3), "v": rng.standard_normal(4)}
    expected = [np.outer(values["v"], values["x"]), values["W"].T @ values["v"]]  # by hand
    for step, want in zip(results, expected):
        assert np.allclose(tc.evaluate(e.expand(step.expr), values), want)
        assert np.allclose(tc.evaluate(step.value, values), want)
    assert [s.factors for s in e.of_kind("jacobian")] == [((1, 3), (3, 9)), ((1, 3), (3, 3))]
    assert len(e.of_kind("cost")) == 2
    assert len(e.of_kind("forward")) == 2  # the forward stages once, not once per variable
    by_name = tc.explain(L, ("W", "x"))
    assert [s.index for s in by_name.steps] == [s.index for s in e.steps]
    with pytest.raises(tc.DifferentiationError, match="twice"):
        tc.explain(L, (W, W))
    z = W @ x
    with pytest.raises(tc.DifferentiationError, match="inside"):
        tc.explain(tc.sum(v * z), (z, W))


def test_sizes_come_from_the_values():
    X, w = tc.var("X", ("n", "d")), tc.var("w", ("d",))
    values = {"X": rng.standard_normal((6, 2)), "w": rng.standard_normal(2)}
    e = tc.explain(tc.sum(tc.tanh(X @ w)), w, values=values)
    assert e.sizes == {"n": 6, "d": 2}
    assert "(at d=2, n=6)" in e.of_kind("cost")[0].index
    local = next(s for s in e.of_kind("local") if s.name == "∂b/∂w")
    assert local.shape == ("n", "d") and local.entries == 12
    assert "shape (6, 2): 12 entries" in e.text()
    assert "shape (n," not in e.text()
    with pytest.raises(tc.ShapeError, match="dimension n is 5"):
        tc.explain(tc.sum(tc.tanh(X @ w)), w, values=values, sizes={"n": 5})


def test_local_steps_carry_their_value_at_the_given_values():
    W, a, g = tc.var("W", (3, 3)), tc.var("a", (3,)), tc.var("g", (3,))
    values = {"W": rng.standard_normal((3, 3)), "a": rng.standard_normal(3), "g": rng.standard_normal(3)}
    e = tc.explain(tc.sum(g * (W @ a)), W, values=values)
    local = next(s for s in e.of_kind("local") if s.name == "∂b/∂W")
    expected = np.einsum("ij,k->ijk", np.eye(3), values["a"])  # ∂(Wa)_i/∂W_jk = δ_ij a_k
    assert isinstance(local.evaluated, np.ndarray) and local.evaluated.shape == (3, 3, 3)
    assert np.allclose(local.evaluated, expected)
    assert (local.nonzeros, local.counted) == (9, "at the given values")
    assert tc.explain(tc.sum(g * (W @ a)), W).of_kind("local")[1].evaluated is None  # random: not kept


def test_a_wide_tanh_layer_is_not_saturated():
    W, x = tc.var("W", (200, 200)), tc.var("x", (200,))
    e = tc.explain(tc.sum(tc.tanh(W @ x)), W)
    local = next(s for s in e.of_kind("local") if s.name == "∂c/∂b")  # diag(1 − tanh²)
    assert (local.entries, local.nonzeros) == (40000, 200)
    assert "40000 entries, 200 non-zero" in e.text()
    s = tc.var("s", (200,))
    e = tc.explain(tc.sum(tc.sigmoid(tc.var("V", (200, 200)) @ s)), "V")
    assert next(t for t in e.of_kind("local") if t.name == "∂c/∂b").nonzeros == 200


def test_shapes_print_as_the_command_line_prints_them_and_one_entry():
    W, x = tc.var("W", ("n", "m")), tc.var("x", ("m",))
    e = tc.explain(tc.sum(tc.tanh(W @ x)), x)
    text = e.text()
    assert "shape (n, m)" in text and "shape (n,)" in text
    assert "('n'" not in text and "'m')" not in text
    c = tc.var("c", ())
    e = tc.explain(tc.sin(c) * 2.0, c)
    assert [s.entries for s in e.of_kind("local")] == [1, 1]  # ∂L/∂b, ∂b/∂c
    assert "shape (): 1 entry, 1 non-zero" in e.text() and "1 entries" not in e.text()


def test_a_constant_incoming_gradient_is_not_dropped():
    """L = 2 sin(c): the incoming gradient at sin(c) is the constant 2, which the chain rule
    multiplies in (it was once mistaken for the seed 1, giving ∂L/∂c = cos(c))."""
    c = tc.var("c", ())
    e = tc.explain(tc.sin(c) * 2.0, c)
    result = e.of_kind("result")[0]
    for at in (0.3, -1.2):
        assert np.isclose(tc.evaluate(e.expand(result.expr), c=at), 2 * np.cos(at))
    assert e.of_kind("local")[0].index == "∂L/∂b = 2"
    x = tc.var("x", (3,))
    e = tc.explain(3.0 * tc.sum(tc.tanh(x)), x)
    value = rng.standard_normal(3)
    assert np.allclose(tc.evaluate(e.expand(e.of_kind("result")[0].expr), x=value),
                       3 * (1 - np.tanh(value) ** 2))


def test_level_is_checked_and_counting_respects_the_memory_limit():
    x = tc.var("x", ("n",))
    for level in ("2", 0, 4, True):
        with pytest.raises(tc.DifferentiationError, match="level must be 1"):
            tc.explain(tc.sum(x * x), x, level=level)
    e = tc.explain(tc.sum(tc.exp(x)), x, sizes={"n": 1000}, memory_limit=1000)
    local = e.of_kind("local")[0]
    assert local.entries == 1000 and local.nonzeros is None and "above memory_limit" in local.counted
    assert tc.explain(tc.sum(tc.exp(x)), x, sizes={"n": 1000}).of_kind("local")[0].nonzeros == 1000


@pytest.mark.parametrize("build", [
    lambda X: (lambda U, s, Vt: tc.sum(U ** 2 * np.arange(9.0).reshape(3, 3)) + tc.sum(Vt * Vt.T))(
        *tc.svd(X)),
    lambda X: (lambda Q, R: tc.sum(Q * R) + tc.trace(R))(*tc.qr(X)),
    lambda X: (lambda w, V: tc.sum(w * np.arange(3.0)) + tc.sum(V ** 3))(*tc.eigh(X)),
])
def test_explain_reads_several_outputs_of_one_factorization(build):
    """The packed factorization the outputs share is no stage of its own (it has no derivative):
    explain once refused two outputs of one svd, qr or eigh together."""
    X = tc.var("X", (3, 3))
    f = build(X)
    e = tc.explain(f, X)
    rng = np.random.default_rng(3)
    values = {"X": rng.standard_normal((3, 3)) + 3 * np.eye(3)}
    result = e.of_kind("result")[0]
    expected = tc.evaluate(tc.grad(f, X), values)
    np.testing.assert_allclose(tc.evaluate(e.expand(result.expr), values), expected, rtol=1e-10)
