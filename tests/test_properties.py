"""Property tests: random einsum equations and random expression trees.

(a) Random valid einsum equations (repeated indices inside an operand, naked
    sums, outer products, operands used twice, implicit outputs): the value
    equals ``np.einsum`` and the Jacobian with respect to every operand passes
    the finite-difference projection check.
(b) Random expression trees over a few variables mixing contractions (``@``,
    einsum, sum), ``+``, ``*``, rows of the function table and of the operation table
    (``inv``, ``solve``, ``logdet`` of well-conditioned ``A Aᵀ + 3I``, ``softmax``,
    ``logsumexp``): the gradient of
    ``sum(u * expr)`` passes the finite-difference check, the naive method
    agrees, and ``tc.simplify`` preserves the value.

The number of examples comes from the hypothesis profile (tests/conftest.py).
"""

import numpy as np
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

import tensorcalc as tc
from fd import check_derivative, evaluate
from tensorcalc.expression.nodes import Elementwise, Operation, postorder
from tensorcalc.calculus.settled import forget_settled

LETTERS = "abcdef"
# These properties are cheap (milliseconds per example): run a multiple of the profile's count.
MORE = settings(max_examples=4 * settings.default.max_examples)


# ---------------------------------------------------------------------------
# (a) einsum equations


@st.composite
def einsum_problems(draw):
    """``(equation, operand shapes, operand variable ids)``; sizes 2..4 (no size-1 axes)."""
    sizes = {letter: draw(st.integers(2, 4)) for letter in LETTERS}
    n_operands = draw(st.integers(1, 3))
    terms = []
    for _ in range(n_operands):
        term = draw(st.text(alphabet=LETTERS[:draw(st.integers(1, len(LETTERS)))],
                            min_size=0, max_size=3))
        terms.append(term)
    assume(any(terms))
    # an operand may reuse an earlier operand's variable when its term has the same shape
    owners = []
    for k, term in enumerate(terms):
        shape = tuple(sizes[letter] for letter in term)
        earlier = [j for j in range(k) if tuple(sizes[l] for l in terms[j]) == shape]
        owners.append(owners[draw(st.sampled_from(earlier))] if earlier and draw(st.booleans())
                      else k)
    used = sorted(set("".join(terms)))
    if draw(st.booleans()):
        output = draw(st.permutations(used))[:draw(st.integers(0, len(used)))]
        equation = ",".join(terms) + "->" + "".join(output)
    else:
        equation = ",".join(terms)  # implicit output: the letters that appear once, sorted
    shapes = [tuple(sizes[letter] for letter in term) for term in terms]
    return equation, shapes, owners


@MORE
@given(einsum_problems(), st.integers(0, 2**32 - 1))
def test_random_einsum_value_and_jacobians(problem, seed):
    equation, shapes, owners = problem
    note(f"einsum({equation!r}) on shapes {shapes}, variables {owners}")
    rng = np.random.default_rng(seed)
    variables = {k: tc.var(f"x{k}", shapes[k]) for k in sorted(set(owners))}
    values = {variables[k].name: rng.standard_normal(shapes[k]) for k in variables}
    operands = [variables[k] for k in owners]
    expr = tc.einsum(equation, *operands)
    expected = np.einsum(equation, *[values[o.name] for o in operands])
    assert expr.shape == expected.shape
    np.testing.assert_allclose(evaluate(expr, values), expected, rtol=1e-11, atol=1e-11)
    for variable in variables.values():
        check_derivative(expr, variable, values, rng=rng, n_directions=2)


# ---------------------------------------------------------------------------
# (b) expression trees

N = 3
VARIABLES = {
    "x": tc.var("x", (N,)),
    "y": tc.var("y", (N,)),
    "A": tc.var("A", (N, N)),
    "B": tc.var("B", (N, N)),
    "s": tc.var("s", ()),
}
ROWS = sorted(tc.FUNCTIONS)
POW_PARAMETERS = (2.0, 3.0, 0.5, -1.0)


def apply_row(name, arg, param):
    """A row of the table applied to ``arg``, moved into the row's domain when it is bounded
    below: ``f(low + softplus(arg))`` keeps log, sqrt and negative powers real and finite."""
    row = tc.FUNCTIONS[name]
    low, high = row.domain
    if row.bounded:  # arcsin, log1p, tan: squash into the row's own domain
        arg = low + (high - low) * tc.sigmoid(arg)
    elif low >= 0:
        arg = low + tc.softplus(arg)
    if name == "sinc_derivative":  # its parameter is a derivative's order: 2 or 3
        param = 2 if param < 2.5 else 3
    return tc.apply_function(name, arg, param if row.has_param else None)


def leaves(shape):
    variables = [st.just(v) for v in VARIABLES.values() if v.shape == shape]
    constants = st.one_of(
        st.integers(-6, 6).map(lambda k: tc.const(np.full(shape, k / 4))),
        st.integers(0, 2**16).map(
            lambda seed: tc.const(np.random.default_rng(seed).uniform(-1, 1, shape))))
    return st.one_of(*variables, *variables, constants)  # variables twice as likely


SHAPES = ((), (N,), (N, N))
S, V, M = SHAPES


def _function(draw, shape, depth):
    name = draw(st.sampled_from(ROWS))
    return apply_row(name, build(draw, shape, depth), draw(st.sampled_from(POW_PARAMETERS)))


def _binary(combine, left_shape=None, right_shape=None):
    def make(draw, shape, depth):
        left = build(draw, left_shape if left_shape is not None else shape, depth)
        right = build(draw, right_shape if right_shape is not None else shape, depth)
        return combine(left, right)
    return make


def _unary(combine, argument_shape):
    return lambda draw, shape, depth: combine(build(draw, argument_shape, depth))


def _scaled(draw, shape, depth):
    return (draw(st.integers(-8, 8)) / 4) * build(draw, shape, depth)


def _sum_axis(draw, shape, depth):
    return tc.sum(build(draw, M, depth), axis=draw(st.sampled_from([0, 1])))


def _einsum(equation, *shapes):
    return lambda draw, shape, depth: tc.einsum(equation, *(build(draw, s, depth) for s in shapes))


def _spd(a):
    """A well-conditioned matrix from any matrix expression: ``A Aᵀ + 3I``."""
    return a @ a.T + 3.0 * tc.eye(N)


_COMMON = [_function, _function, _binary(lambda a, b: a + b), _binary(lambda a, b: a - b),
           _binary(lambda a, b: a * b), _scaled, _binary(lambda a, b: a * b, S, None)]
# operations producing each shape (the shared ones first); a function row is listed twice so
# that most trees go through the function table
OPERATIONS = {
    S: _COMMON + [_unary(tc.sum, V), _unary(tc.sum, M), _binary(lambda a, b: a @ b, V, V),
                  _unary(tc.trace, M), _einsum("i,ij,j->", V, M, V),
                  _unary(lambda a: tc.logdet(_spd(a)), M), _unary(tc.logsumexp, V)],
    V: _COMMON + [_binary(lambda a, b: a @ b, M, V), _binary(lambda a, b: a @ b, V, M),
                  _sum_axis, _unary(tc.diagonal, M), _einsum("ij,i->j", M, V),
                  _einsum("ij,ji->i", M, M), _unary(tc.softmax, V),
                  _binary(lambda a, v: tc.solve(_spd(a), v), M, V)],
    M: _COMMON + [_binary(lambda a, b: a @ b), _unary(lambda a: a.T, M), _einsum("i,j->ij", V, V),
                  _binary(lambda a, b: a + b, M, V), _binary(lambda a, b: a * b, M, V),
                  _einsum("ij,kj->ik", M, M), _einsum("i,ij->ij", V, M),
                  _unary(lambda a: tc.inv(_spd(a)), M)],
}


def _slice_of(draw, shape, depth):
    """issue 18's indexing nodes, drawn: a slice with a step, a gather with repeats, or a
    vector cut and joined again (take and concatenate), keeping the shape."""
    x = build(draw, shape, depth)
    if shape == S:
        return tc.stack([x, 2 * x])[draw(st.sampled_from([0, 1, -1]))]
    gather = draw(st.lists(st.integers(0, N - 1), min_size=N, max_size=N))
    cut = draw(st.integers(1, N - 1))
    pick = draw(st.sampled_from(["reverse", "gather", "joined", "roll", "flip"]))
    if pick == "reverse":
        return x[::-1]
    if pick == "gather":
        return x[gather]
    if pick == "joined":
        return tc.concatenate([x[cut:], x[:cut]], axis=0)
    if pick == "roll":
        return tc.roll(x, cut, axis=x.ndim - 1)
    return tc.flip(x)


def _statistic(draw, shape, depth):
    """A statistic or an extreme along an axis (with keepdims, broadcast back) or over all."""
    name = draw(st.sampled_from(["variance", "std", "max", "min", "mean"]))
    function = {"variance": tc.variance, "std": lambda a, **k: tc.std(a, **k) if "axis" in k
                else tc.std(a, **k), "max": tc.max, "min": tc.min, "mean": tc.mean}[name]
    if shape == S:
        return function(build(draw, V, depth))
    if shape == V:
        return function(build(draw, M, depth), axis=draw(st.sampled_from([0, 1])))
    a = build(draw, M, depth)
    return a - function(a, axis=draw(st.sampled_from([0, 1])), keepdims=True)


def _selected(draw, shape, depth):
    """where(a > b, c, d) with the condition computed from the variables (the select row)."""
    a, b = build(draw, shape, depth), build(draw, shape, depth)
    return tc.where(a > b, build(draw, shape, depth), build(draw, shape, depth))


def _triangle(draw, shape, depth):
    a = build(draw, M, depth)
    return (tc.triu if draw(st.booleans()) else tc.tril)(a, draw(st.integers(-1, 1)))


for _shape in SHAPES:
    OPERATIONS[_shape].append(_slice_of)
    OPERATIONS[_shape].append(_statistic)
    OPERATIONS[_shape].append(_selected)
OPERATIONS[M].append(_triangle)


def build(draw, shape, depth):
    """An expression of ``shape`` whose operations nest at most ``depth`` deep."""
    if depth == 0 or draw(st.integers(0, 7)) == 0:  # now and then a leaf early
        return draw(leaves(shape))
    operation = draw(st.sampled_from(OPERATIONS[shape]))
    return operation(draw, shape, depth - 1)


@st.composite
def trees(draw):
    return build(draw, draw(st.sampled_from(SHAPES)), draw(st.integers(1, 4)))


def near_a_kink(expr, values) -> bool:
    """True when some elementwise function sees an argument near a point where it is not
    smooth (relu, abs, step and sign at 0): finite differences would straddle the kink."""
    for node in postorder([expr]):
        if isinstance(node, Operation) and node.name == "compare":  # where(a > b, …) jumps at a = b
            a, b = (np.asarray(evaluate(op, values), dtype=float) for op in node.operands)
            if np.any(np.abs(a - b) < 1e-3):
                return True
            continue
        if not isinstance(node, Elementwise):
            continue
        row = tc.FUNCTIONS[node.fn]
        points = np.asarray(evaluate(node.arg, values), dtype=float)
        h = 1e-4
        with np.errstate(all="ignore"):
            f0 = row.numpy(points, node.param)
            right = (row.numpy(points + h, node.param) - f0) / h
            left = (f0 - row.numpy(points - h, node.param)) / h
        if not np.all(np.abs(right - left) < 1e-2 * (1 + np.abs(right) + np.abs(left))):
            return True
        if np.any(np.abs(right) > 1e3):  # a jump seen from both sides: sign(x - c) at x = c
            return True
    return False


def tree_values(seed):
    rng = np.random.default_rng(seed)
    return {name: rng.uniform(-1, 1, size=v.shape) for name, v in VARIABLES.items()}


@MORE
@given(trees(), st.integers(0, 2**32 - 1))
def test_random_expression_gradients(expr, seed):
    expr = tc.as_expr(expr)
    note(f"expression: {expr}")
    values = tree_values(seed)
    forward = np.asarray(evaluate(expr, values))
    assume(np.all(np.isfinite(forward)) and np.max(np.abs(forward), initial=0) < 1e6)
    assume(not near_a_kink(expr, values))
    rng = np.random.default_rng(seed)
    weights = rng.standard_normal(expr.shape)
    loss = tc.sum(expr * weights)
    present = [v for v in VARIABLES.values() if v.name in values and v in postorder([expr])]
    for variable in present:
        gradient = tc.grad(loss, variable)
        assert gradient.shape == variable.shape
        value = check_derivative(loss, variable, values, gradient, rng=rng, n_directions=2)
        naive = evaluate(tc.grad(loss, variable, method="naive"), values)
        np.testing.assert_allclose(naive, value, rtol=1e-9, atol=1e-9)


@MORE
@given(trees(), st.integers(0, 2**32 - 1))
def test_simplify_preserves_values(expr, seed):
    expr = tc.as_expr(expr)
    note(f"expression: {expr}")
    values = tree_values(seed)
    with np.errstate(all="ignore"):
        before = np.asarray(evaluate(expr, values))
    assume(np.all(np.isfinite(before)))
    simplified = tc.simplify(expr)
    assert simplified.shape == expr.shape
    forget_settled()  # simplify it again for real, not from simplify's memory of its results
    assert tc.simplify(simplified) is simplified  # simplifying twice changes nothing
    after = np.asarray(evaluate(simplified, values))
    np.testing.assert_allclose(after, before, rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------------------
# (c) the evaluation contract on random programs: outputs owned by the caller, second
#     derivatives evaluated with the original function's values, float32 kept


def used_variables_and_values(expr, seed, dtype=np.float64):
    """The variables ``expr`` uses, and values for exactly those (a compiled program is strict)."""
    present = [v for v in VARIABLES.values() if v in postorder([expr])]
    drawn = tree_values(seed)
    values = {v.name: drawn[v.name].astype(dtype) for v in present}
    return present, values


@MORE
@given(trees(), st.integers(0, 2**32 - 1))
def test_compiled_outputs_never_share_memory(expr, seed):
    expr = tc.as_expr(expr)
    note(f"expression: {expr}")
    present, values = used_variables_and_values(expr, seed)
    loss = tc.sum(expr * expr)
    outputs = [expr, expr.T if expr.ndim == 2 else expr, loss]
    if present:
        outputs += list(tc.grad(loss, present))
    with np.errstate(all="ignore"):
        results = tc.compile(outputs)(**values)
    arrays = [r for r in results if isinstance(r, np.ndarray)]
    for n, out in enumerate(arrays):
        for other in arrays[n + 1:]:
            assert not np.shares_memory(out, other)
        for value in values.values():
            assert not np.shares_memory(out, value)


@given(trees(), st.integers(0, 2**32 - 1))
def test_second_derivatives_evaluate_with_the_original_values(expr, seed):
    expr = tc.as_expr(expr)
    note(f"expression: {expr}")
    present, values = used_variables_and_values(expr, seed)
    assume(present)
    loss = tc.sum(expr)
    first, second = present[0], present[-1]
    hessian_block = tc.grad(tc.grad(loss, first), second)
    assert hessian_block.shape == first.shape + second.shape
    with np.errstate(all="ignore"):
        strict = tc.compile(hessian_block)(**values)  # every variable of the loss is accepted
        lenient = tc.evaluate(hessian_block, {**values, "unrelated": 1.0})
    np.testing.assert_array_equal(np.asarray(strict), np.asarray(lenient))


@given(trees(), st.integers(0, 2**32 - 1))
def test_float32_inputs_give_float32_values_and_gradients(expr, seed):
    expr = tc.as_expr(expr)
    note(f"expression: {expr}")
    present, values = used_variables_and_values(expr, seed, np.float32)
    assume(present)
    assume(all(isinstance(n, tc.Const) is False or n.value.ndim == 0 for n in postorder([expr])))
    loss = tc.sum(expr)
    with np.errstate(all="ignore"):
        results = tc.compile([expr, loss, *tc.grad(loss, present)])(**values)
    for result in results:
        assert np.asarray(result).dtype == np.float32, type(result)
