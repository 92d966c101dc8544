"""The VJP optimizer, compiled evaluation and the plan: forms and costs, not only values.

Costs are asserted through the plan's FLOP counts and predicted bytes, which
are deterministic; wall-clock speed lives in benchmarks/, never here.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tensorcalc as tc
from tensorcalc.evaluation.kernels import Kernel
from tensorcalc.expression.nodes import Contraction, Delta, postorder
from tensorcalc.calculus.optimize import binarize

RNG = np.random.default_rng(1234)


def values_for(*variables, sizes=None):
    sizes = sizes or {}
    return {v.name: RNG.normal(size=tuple(sizes.get(d, d) for d in v.shape)) for v in variables}


def deltas_in(expr):
    return [n for n in postorder([tc.as_expr(expr)]) if isinstance(n, Delta)]


def largest_intermediate_elements(program, sizes):
    return program.plan_for(sizes).largest_intermediate


def mlp():
    W1, W2 = tc.var("W1", ("h", "d")), tc.var("W2", ("o", "h"))
    X, Y = tc.var("X", ("d", "B")), tc.var("Y", ("o", "B"))
    L = tc.sum((W2 @ tc.tanh(W1 @ X) - Y) ** 2)
    return L, (W1, W2, X, Y)


def mlp_numpy(W1, W2, X, Y):
    A = np.tanh(W1 @ X)
    R = W2 @ A - Y
    return (R ** 2).sum(), ((W2.T @ (2 * R)) * (1 - A ** 2)) @ X.T, 2 * R @ A.T


# ---------------------------------------------------------------------------
# vjp: the rewritten contraction holds no δ and no oversized intermediate

VJP_CASES = {
    "linear layer": lambda: (tc.var("W", ("m", "n")) @ tc.var("a", ("n",)), "W", ("m",)),
    "elementwise chain": lambda: (tc.sigmoid(tc.tanh(tc.var("W", ("m", "n")) @ tc.var("X", ("n", "b")))),
                                  "W", ("m", "b")),
    "trace": lambda: (tc.trace(tc.var("A", ("n", "n")) @ tc.var("B", ("n", "n"))), "A", ()),
    "diagonal": lambda: (tc.diagonal(tc.var("A", ("n", "n"))) * tc.var("v", ("n",)), "A", ("n",)),
    "outer product": lambda: (tc.einsum("i,j->ij", tc.var("u", ("m",)), tc.var("v", ("n",))), "u",
                              ("m", "n")),
    "batch contraction": lambda: (tc.einsum("bij,bjk->bik", tc.var("P", ("b", "m", "n")),
                                            tc.var("Q", ("b", "n", "k"))), "P", ("b", "m", "k")),
}
SIZES = {"m": 5, "n": 4, "b": 3, "k": 2}


@pytest.mark.parametrize("case", sorted(VJP_CASES))
def test_vjp_has_no_delta_and_no_oversized_intermediate(case):
    f, name, cotangent_shape = VJP_CASES[case]()
    wrt = next(v for v in postorder([f]) if isinstance(v, tc.Var) and v.name == name)
    G = tc.var("G", cotangent_shape)
    result = tc.vjp(f, wrt, G)
    if case != "diagonal":  # the diagonal's VJP is diag(G v): a δ with both indices free
        assert deltas_in(result) == []
    assert result.shape == wrt.shape
    program = tc.compile(result)
    inputs = [v for v in postorder([f, G]) if isinstance(v, tc.Var)]
    biggest_input = max(int(np.prod([SIZES.get(d, d) for d in v.shape])) for v in inputs)
    output = int(np.prod([SIZES.get(d, d) for d in wrt.shape]))
    assert largest_intermediate_elements(program, SIZES) <= max(biggest_input, output)
    # and the value: ⟨G, J v⟩ against the materialized Jacobian contracted with G
    values = values_for(*inputs, sizes=SIZES)
    jacobian = tc.evaluate(tc.jacobian(f, wrt), {k: v for k, v in values.items() if k != "G"})
    g = values["G"]
    expected = np.tensordot(g, jacobian, axes=g.ndim) if g.ndim else g * jacobian
    np.testing.assert_allclose(program(values), expected, rtol=1e-10, atol=1e-12)


def test_vjp_of_linear_layer_is_outer_product_form():
    W, a, g = tc.var("W", (3, 3)), tc.var("a", (3,)), tc.var("g", (3,))
    result = tc.vjp(W @ a, W, g)
    assert str(result) == "g_i a_j"
    expr = result.expr
    assert isinstance(expr, Contraction) and set(expr.operands) == {a, g}


def test_vjp_accepts_an_array_cotangent_and_checks_its_shape():
    W, a = tc.var("W", (3, 2)), tc.var("a", (2,))
    g = np.array([1.0, 2.0, 3.0])
    values = values_for(W, a)
    np.testing.assert_allclose(tc.evaluate(tc.vjp(W @ a, W, g), values), np.outer(g, values["a"]))
    with pytest.raises(tc.ShapeError, match=r"\(2,\).*\(3,\)"):
        tc.vjp(W @ a, W, np.ones(2))


# ---------------------------------------------------------------------------
# reverse accumulation: one sweep, forward intermediates reused


def test_mlp_loss_and_gradients_match_hand_backprop():
    L, (W1, W2, X, Y) = mlp()
    f = tc.compile([L, *tc.grad(L, (W1, W2))])
    values = values_for(W1, W2, X, Y, sizes={"h": 7, "d": 5, "o": 3, "B": 4})
    for got, expected in zip(f(values), mlp_numpy(**values)):
        np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_gradients_share_the_forward_tanh():
    L, (W1, W2, X, Y) = mlp()
    f = tc.compile([L, *tc.grad(L, (W1, W2))])
    tanh_nodes = [n for n in f.nodes if isinstance(n, tc.Elementwise) and n.fn == "tanh"]
    assert len(tanh_nodes) == 1


@pytest.mark.parametrize("build", ["einsum", "matmul chain"])
def test_n_operand_gradients_cost_about_two_forward_passes(build):
    n = 50
    A, B, C, D, G = (tc.var(name, (n, n)) for name in "ABCDG")
    product = tc.einsum("ij,jk,kl,lm->im", A, B, C, D) if build == "einsum" else A @ B @ C @ D
    L = tc.sum(product * G)
    forward = tc.compile([L]).plan_for({}).flops
    program = tc.compile([L, *tc.grad(L, (A, B, C, D))])
    assert program.plan_for({}).flops <= 3.05 * forward  # not N = 4 times
    values = values_for(A, B, C, D, G)
    a, b, c, d, g = (values[k] for k in "ABCDG")
    expected = [g @ (b @ c @ d).T, a.T @ g @ (c @ d).T, (a @ b).T @ g @ d.T, (a @ b @ c).T @ g]
    for got, want in zip(program(values)[1:], expected):
        np.testing.assert_allclose(got, want, rtol=1e-9)


def test_grad_of_several_variables_is_one_sweep():
    L, (W1, W2, X, Y) = mlp()
    together = tc.compile([L, *tc.grad(L, (W1, W2, X))]).plan_for({"h": 64, "d": 64, "o": 8, "B": 32})
    alone = tc.compile([L]).plan_for({"h": 64, "d": 64, "o": 8, "B": 32})
    assert together.flops <= 3 * alone.flops


# ---------------------------------------------------------------------------
# the naive method: same values, predicted and refused sizes


def test_naive_method_gives_the_same_values():
    L, (W1, W2, X, Y) = mlp()
    values = values_for(W1, W2, X, Y, sizes={"h": 4, "d": 3, "o": 2, "B": 5})
    naive = tc.compile(list(tc.grad(L, (W1, W2), method="naive")))(values)
    contracted = tc.compile(list(tc.grad(L, (W1, W2))))(values)
    for a, b in zip(naive, contracted):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_naive_method_materializes_local_jacobians():
    L, (W1, W2, X, Y) = mlp()
    naive = tc.compile(list(tc.grad(L, (W1, W2), method="naive")))
    sizes = {"h": 16, "d": 16, "o": 4, "B": 8}
    # ∂(W1 X)/∂W1 alone is h·B·h·d entries
    assert naive.predicted_bytes(sizes) >= 8 * 16 * 8 * 16 * 16
    assert any(isinstance(n, Delta) for n in naive.nodes)


def test_naive_method_refuses_past_its_memory_limit_before_computing():
    W, X = tc.var("W", (512, 512)), tc.var("X", (512, 64))
    with pytest.raises(tc.MemoryLimitError, match=r"GiB.*contracted"):
        tc.grad(tc.sum(tc.tanh(W @ X)), W, method="naive")  # sizes known: refused at once
    Wn, Xn = tc.var("W", ("n", "n")), tc.var("X", ("n", "B"))
    derivative = tc.grad(tc.sum(tc.tanh(Wn @ Xn)), Wn, method="naive", memory_limit=2**20)
    with pytest.raises(tc.MemoryLimitError, match=r"MiB.*limit 1.0 MiB"):
        tc.evaluate(derivative, {"W": np.ones((64, 64)), "X": np.ones((64, 8))})


# ---------------------------------------------------------------------------
# compile: plans reused, arguments checked, outputs safe to keep


def test_plan_is_built_once_per_set_of_sizes():
    L, (W1, W2, X, Y) = mlp()
    f = tc.compile([L, *tc.grad(L, (W1, W2))])
    small = values_for(W1, W2, X, Y, sizes={"h": 4, "d": 3, "o": 2, "B": 5})
    f(small)
    key = (tuple(sorted({"h": 4, "d": 3, "o": 2, "B": 5}.items())), np.dtype(np.float64))
    first = f._plans[key]
    f(small)
    assert len(f._plans) == 1
    assert f._plans[key] is first
    f(values_for(W1, W2, X, Y, sizes={"h": 6, "d": 3, "o": 2, "B": 5}))
    assert len(f._plans) == 2


def test_plan_prints_steps_flops_and_the_naive_comparison():
    L, (W1, W2, X, Y) = mlp()
    f = tc.compile([L, *tc.grad(L, (W1, W2))])
    with pytest.raises(tc.BindingError, match="not bound yet"):
        f.plan
    f(values_for(W1, W2, X, Y, sizes={"h": 32, "d": 32, "o": 4, "B": 16}))
    plan = f.plan
    text = str(plan)
    assert "einsum" in text and "tanh" in text and "naive method" in text
    assert plan.naive_flops > 10 * plan.flops and plan.naive_bytes > 100 * plan.peak_bytes


@pytest.mark.parametrize("values, message", [
    ({"W": np.ones((3, 2))}, "missing a value for variable 'a'"),
    ({"W": np.ones((3, 2)), "a": np.ones(2), "b": np.ones(2)}, "unexpected variable 'b'"),
    ({"W": np.ones((3, 2)), "a": np.ones(3)}, r"'a'.*\('n',\)|dimension 'n' is 2 .* 3"),
    ({"W": np.ones((4, 2)), "a": np.ones(2)}, r"'W' expects shape \(3, 'n'\).*size 4, not 3"),
])
def test_compiled_program_checks_its_arguments(values, message):
    W, a = tc.var("W", (3, "n")), tc.var("a", ("n",))
    f = tc.compile(W @ a)
    with pytest.raises(tc.BindingError, match=message):
        f(values)


def test_outputs_never_alias_inputs():
    x = tc.var("x", (3,))
    f = tc.compile([x.T, tc.grad(tc.sum(x * tc.const(np.arange(3.0))), x)])
    value = np.ones(3)
    out, gradient = f(x=value)
    out[0] = 5.0
    assert value[0] == 1.0
    gradient[0] = 7.0
    assert f(x=value)[1][0] == 0.0


# ---------------------------------------------------------------------------
# kernels and binarization against numpy's einsum

EQUATIONS = ["ij,jk->ik", "ij,kj->ik", "ij,ij->ij", "ij,j->ij", "i,j->ij", "bij,bjk->bik",
             "bij,bkj->bki", "ijk,kj->i", "ij,jk,kl->il", "ij,jk,kl,lm->im", "ii->", "ii->i",
             "iij,j->ij", "ij->", "ij->ji", "abc,cd,bd->a", "ab,ab,ab->", "i,i->", ",ij->ij"]


@pytest.mark.parametrize("equation", EQUATIONS)
def test_kernel_matches_numpy_einsum(equation):
    inputs = equation.split("->")[0].split(",")
    sizes = dict(zip("abcdijklm", (2, 3, 4, 5, 3, 4, 2, 5, 3)))
    operands = [RNG.normal(size=tuple(sizes[c] for c in term)) for term in inputs]
    kernel = Kernel(equation, [o.shape for o in operands])
    expected = np.einsum(equation, *operands)
    np.testing.assert_allclose(kernel(*operands), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(kernel.function(*operands), expected, rtol=1e-12, atol=1e-12)


@st.composite
def einsum_case(draw):
    letters = "abcdef"
    sizes = {c: draw(st.integers(1, 4)) for c in letters}
    n_operands = draw(st.integers(1, 4))
    terms = [draw(st.text(alphabet=letters, min_size=0, max_size=3)) for _ in range(n_operands)]
    used = sorted(set("".join(terms)))
    output = draw(st.permutations(used)) if used else []
    output = "".join(output[:draw(st.integers(0, len(output)))])
    return f"{','.join(terms)}->{output}", sizes


@settings(max_examples=60)
@given(einsum_case())
def test_kernel_and_binarize_agree_with_numpy_on_random_equations(case):
    equation, sizes = case
    inputs = equation.split("->")[0].split(",")
    operands = [RNG.normal(size=tuple(sizes[c] for c in term)) for term in inputs]
    expected = np.einsum(equation, *operands)
    kernel = Kernel(equation, [o.shape for o in operands])
    np.testing.assert_allclose(kernel(*operands), expected, rtol=1e-10, atol=1e-10)
    variables = [tc.var(f"x{n}", o.shape) for n, o in enumerate(operands)]
    values = {v.name: o for v, o in zip(variables, operands)}
    expr = tc.einsum(equation, *variables)
    plain = tc.compile(binarize(expr), simplify=False)
    np.testing.assert_allclose(plain(values), expected, rtol=1e-10, atol=1e-10)


def test_derivatives_refuse_complex_values():
    x = tc.var("x", (2,))
    with pytest.raises(tc.DifferentiationError, match="complex"):
        tc.grad(tc.sum(x * (1 + 2j)), x)
    gradient = tc.grad(tc.sum(tc.abs(x)), x)
    with pytest.raises(tc.BindingError, match="'x' is complex"):
        tc.evaluate(gradient, x=np.array([1 + 1j, 2.0]))
    assert tc.evaluate(tc.sum(x * x), x=np.array([1j, 1.0])) == 0  # forward values may be complex


@settings(max_examples=25)
@given(st.lists(st.sampled_from(["matmul", "hadamard", "tanh", "scale", "add"]), min_size=8,
                max_size=24), st.integers(0, 2**32 - 1))
def test_long_mixed_chains_past_the_flattening_cap(operations, seed):
    """Chains long enough that products stop flattening at 8 operands and stay shared nodes."""
    from fd import check_derivative

    A, B, x = tc.var("A", (3, 3)), tc.var("B", (3, 3)), tc.var("x", (3,))
    e = x
    for operation in operations:
        if operation == "matmul":
            e = A @ e
        elif operation == "hadamard":
            e = e * (B @ x)
        elif operation == "tanh":
            e = tc.tanh(e)
        elif operation == "scale":
            e = 0.7 * e
        else:
            e = e + x
    L = tc.sum(e * e)
    rng = np.random.default_rng(seed)
    values = {"A": rng.uniform(-0.6, 0.6, (3, 3)), "B": rng.uniform(-0.6, 0.6, (3, 3)),
              "x": rng.uniform(-1, 1, 3)}
    for wrt in (A, B, x):
        check_derivative(L, wrt, values)


def test_an_identity_step_never_returns_the_callers_array():
    x = tc.var("x", (3,))
    renamed = Contraction((Delta(3), x), ((0, 1), (1,)), (0,), {0: 3, 1: 3})  # δ_ij x_j, unsimplified
    value = np.ones(3)
    out = tc.compile(renamed, simplify=False)(x=value)
    assert out is not value and not np.shares_memory(out, value)
    np.testing.assert_array_equal(out, value)


# ---------------------------------------------------------------------------
# Hessians: a product of a sum with a δ term is planned distributed


def test_mlp_hessian_never_writes_its_delta_term_at_batch_size():
    """∂²L/∂W1² of a tanh MLP is (T + δ_ik D)_ijkB X_lB: factored, the δ term is written out as a
    dense (h, d, h, B) tensor, summed with T and contracted with X.  Distributed, its δ is merged
    first and laid onto the (h, d, h, d) diagonal at the end; no step is larger than the output."""
    from fd import check_derivative

    L, (W1, W2, X, Y) = mlp()
    hessian = tc.grad(tc.grad(L, W1), W1)
    program = tc.compile(hessian)
    sizes = {"h": 4, "d": 3, "o": 2, "B": 7}
    plan = program.plan_for(sizes)
    assert plan.largest_intermediate <= (4 * 3) ** 2
    assert all(step.shape != (4, 3, 4, 7) for step in plan.steps)
    values = values_for(W1, W2, X, Y, sizes=sizes)
    value = program(values)
    grad = tc.grad(L, W1)
    check_derivative(grad, W1, values, derivative=hessian)  # against central differences
    # and the closed form: 2 Σ_B X_jB X_lB [(W2ᵀW2)_ik s_iB s_kB − 2 δ_ik t_kB s_kB (W2ᵀR)_kB]
    t = np.tanh(values["W1"] @ values["X"])
    s, R = 1 - t ** 2, values["W2"] @ t - values["Y"]
    dense = np.einsum("ik,iB,kB,jB,lB->ijkl", values["W2"].T @ values["W2"], s, s,
                      values["X"], values["X"])
    diagonal = np.einsum("kB,jB,lB->kjl", t * s * (values["W2"].T @ R), values["X"], values["X"])
    expected = 2 * dense - 4 * np.einsum("ik,kjl->ijkl", np.eye(4), diagonal)
    np.testing.assert_allclose(value, expected, rtol=1e-10, atol=1e-12)


def test_a_sum_without_delta_terms_stays_factored():
    from tensorcalc.evaluation.distribute import distribute_where_cheaper

    X, a, b = tc.var("X", ("n", "m")), tc.var("a", ("n",)), tc.var("b", ("n",))
    factored = tc.simplify(tc.einsum("ki,k,kj->ij", X, a, X) + tc.einsum("ki,k,kj->ij", X, b, X))
    assert any(isinstance(op, tc.expression.nodes.Sum) for op in factored.operands)  # X_ki (a + b)_k X_kj
    assert distribute_where_cheaper([factored])[0] is factored


# ---------------------------------------------------------------------------
# Dense sums: the evaluation form is chosen by cost, the printed form stays the textbook one


def _factored_and_distributed(expr, sizes):
    """The value of ``expr`` planned as the simplifier leaves it (factored) and as compile plans
    it (distributed where cheaper), at ``sizes``; and the compiled program."""
    from tensorcalc.calculus.simplify import simplify

    variables = sorted({v.name: v for v in postorder([tc.as_expr(expr)])
                        if isinstance(v, tc.expression.nodes.Var)}.values(), key=lambda v: v.name)
    values = values_for(*variables, sizes=sizes)
    factored = tc.compile(simplify([tc.as_expr(expr)])[0], simplify=False)
    program = tc.compile(expr)
    return factored(values), program(values), program, values


def test_xtax_gradient_prints_factored_and_is_planned_as_two_matrix_vector_products():
    """∂(xᵀAx)/∂x prints (A + Aᵀ)x, but evaluating it so writes the n×n matrix A + Aᵀ on every
    call; the plan is Ax + Aᵀx: no step writes an n×n temporary, and the value is the same."""
    A, x = tc.var("A", ("n", "n")), tc.var("x", ("n",))
    gradient = tc.grad(tc.einsum("i,ij,j->", x, A, x), x)
    assert "(A_ij + A_ji) x_j" in str(gradient)  # the printed form is unchanged
    sizes = {"n": 50}
    factored, distributed, program, values = _factored_and_distributed(gradient, sizes)
    plan = program.plan_for(sizes)
    assert all(step.shape != (50, 50) for step in plan.steps), str(plan)
    assert plan.largest_intermediate <= 50
    expected = (values["A"] + values["A"].T) @ values["x"]  # the oracle: numpy directly
    np.testing.assert_allclose(distributed, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(factored, expected, rtol=1e-12, atol=1e-12)
    assert "(A_ij + A_ji) x_j" in str(gradient)  # compiling did not change what prints


@pytest.mark.parametrize("case", ["A+B x", "A+At C", "three terms", "logistic hessian", "batched"])
def test_distributed_and_factored_plans_give_the_same_values(case):
    A, B, C = tc.var("A", ("n", "n")), tc.var("B", ("n", "n")), tc.var("C", ("n", "m"))
    x, X, a, b = tc.var("x", ("n",)), tc.var("X", ("k", "n")), tc.var("a", ("k",)), tc.var("b", ("k",))
    T = tc.var("T", ("n", "n", "k"))
    expr = {
        "A+B x": tc.einsum("ij,j->i", A + B, x),
        "A+At C": tc.einsum("ij,jm->im", A + tc.einsum("ij->ji", A), C),
        "three terms": tc.einsum("ij,j->i", A + B + tc.einsum("ji->ij", B), x),
        "logistic hessian": tc.einsum("ki,k,kj->ij", X, a + b, X),
        "batched": tc.einsum("ijk,j->ik", T + tc.einsum("jik->ijk", T), x),
    }[case]
    sizes = {"n": 6, "m": 4, "k": 5}
    factored, distributed, _, _ = _factored_and_distributed(expr, sizes)
    np.testing.assert_allclose(distributed, factored, rtol=1e-12, atol=1e-12)


def test_the_logistic_hessian_keeps_its_factored_form():
    """Xᵀ diag(a + b) X: the sum is of vectors between two large factors; distributed it
    would be two GEMMs, so the plan keeps one."""
    X, a, b = tc.var("X", ("k", "n")), tc.var("a", ("k",)), tc.var("b", ("k",))
    program = tc.compile(tc.einsum("ki,k,kj->ij", X, a + b, X))
    plan = program.plan_for({"k": 200, "n": 30})
    assert [step.operation for step in plan.steps] == ["sum", "einsum"], str(plan)  # one sum, one GEMM


def test_compile_takes_grads_simplification_as_it_is():
    """[L, *grad(L, params)] is exactly what grad's simplify returned: compile plans those nodes
    (no second simplification), and the values are still hand backprop's."""
    from tensorcalc.evaluation.evaluate import _simplify_together

    L, (W1, W2, X, Y) = mlp()
    gradients = tc.grad(L, [W1, W2])
    items = _simplify_together([L, *gradients])
    assert all(tc.as_expr(i) is tc.as_expr(g) for i, g in zip(items[1:], gradients))
    assert tc.as_expr(items[0]) is not tc.as_expr(L)  # the forward pass grad simplified
    values = values_for(W1, W2, X, Y, sizes={"h": 5, "d": 4, "o": 3, "B": 6})
    outputs = tc.compile([L, *gradients])(**values)
    expected = mlp_numpy(**values)
    for got, want in zip(outputs, expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_compile_splits_only_pairs_read_elsewhere():
    """binarize(shared_only=True): ABC and ABD share the pair AB, which becomes one node;
    a product whose planned pairs nothing else reads stays one contraction."""
    A, B, C, D, E = (tc.var(n, (4, 4)) for n in "ABCDE")
    shared = binarize([tc.as_expr(A @ B @ C), tc.as_expr(A @ B @ D)], shared_only=True)
    pair = tc.as_expr(A @ B)
    assert all(any(node is pair for node in postorder([root])) for root in shared)
    alone = tc.as_expr(tc.einsum("ij,jk,kl,lm->im", A, C, E, D))
    assert binarize([alone], shared_only=True)[0] is alone
    assert binarize([alone])[0] is not alone  # the full split, as grad's forward pass gets
    values = values_for(A, B, C, D)
    first, second = tc.compile([A @ B @ C, A @ B @ D])(**values)
    np.testing.assert_allclose(first, values["A"] @ values["B"] @ values["C"], rtol=1e-12)
    np.testing.assert_allclose(second, values["A"] @ values["B"] @ values["D"], rtol=1e-12)
