"""Every row of the function table and every operator, against finite differences.

The function grid is generated from ``tc.FUNCTIONS``: registering a row adds
its value, first-derivative, second-derivative and vjp tests here without
touching this file.  Arguments are drawn from the row's ``domain``, away from
any kink (found numerically from the row's own numpy function), so that
finite differences are meaningful for ``relu``, ``abs``, ``step`` and ``sign``.
"""

import zlib

import numpy as np
import pytest

import tensorcalc as tc
from fd import check_derivative, check_projection, check_vjp, evaluate
from tensorcalc.expression.construct import apply_function
from tensorcalc.expression.functions import format_call

PARAMETERS = {"pow": (2.0, 3.0, 0.5, -1.0, -1.5, 1.0), "sinc_derivative": (1, 2, 3)}
DEFAULT_PARAMETERS = (2.0, 0.5, -1.0)  # for a future row with a parameter


def function_cases():
    cases = []
    for name in sorted(tc.FUNCTIONS):
        row = tc.FUNCTIONS[name]
        if row.has_param:
            for p in PARAMETERS.get(name, DEFAULT_PARAMETERS):
                cases.append(pytest.param(name, p, id=f"{name}[{p:g}]"))
        else:
            cases.append(pytest.param(name, None, id=name))
    return cases


FUNCTION_CASES = function_cases()


def is_smooth_at(row, param, points, h=1e-3) -> np.ndarray:
    """False where the one-sided slopes of the row's numpy function disagree (a kink or a jump)."""
    with np.errstate(all="ignore"):
        f0 = row.numpy(points, param)
        right = (row.numpy(points + h, param) - f0) / h
        left = (f0 - row.numpy(points - h, param)) / h
        curvature_allowance = 1e-1 * (1.0 + np.abs(right) + np.abs(left))
    return np.isfinite(f0) & (np.abs(right - left) < curvature_allowance)


def sample(row, param, shape, rng) -> np.ndarray:
    """Points in the row's domain (a margin inside its ends), none near a kink."""
    low, high = row.domain
    margin = 0.05 * (high - low)
    points = rng.uniform(low + margin, high - margin, size=shape)
    for _ in range(100):
        bad = ~is_smooth_at(row, param, points)
        if not bad.any():
            return points
        points[bad] = rng.uniform(low + margin, high - margin, size=int(bad.sum()))
    raise AssertionError(f"{row.name}: could not sample smooth points from {row.domain}")


def rng_for(*key):
    """A generator seeded from the case, stable across runs (no str hash randomization)."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def test_the_table_has_the_documented_rows():
    expected = {"exp", "log", "sin", "cos", "tanh", "sigmoid", "softplus", "sqrt", "relu", "abs",
                "step", "sign", "pow"}
    assert expected <= set(tc.FUNCTIONS)
    assert tc.FUNCTIONS["pow"].has_param
    for name, row in tc.FUNCTIONS.items():
        assert row.name == name
        low, high = row.domain
        assert low < high


@pytest.mark.parametrize("name, param", FUNCTION_CASES)
def test_value_is_the_rows_numpy_function(name, param):
    row = tc.FUNCTIONS[name]
    rng = np.random.default_rng(1)
    x = tc.var("x", (2, 3))
    points = sample(row, param, (2, 3), rng)
    got = tc.evaluate(apply_function(name, x, param), {"x": points})
    np.testing.assert_allclose(got, row.numpy(points, param), rtol=1e-14, atol=0)
    assert got.shape == (2, 3)


@pytest.mark.parametrize("name, param", FUNCTION_CASES)
def test_first_derivative_jacobian(name, param):
    row = tc.FUNCTIONS[name]
    rng = rng_for(name, param, "first")
    x = tc.var("x", (2, 3))
    values = {"x": sample(row, param, (2, 3), rng)}
    f = apply_function(name, x, param)
    jacobian = check_derivative(f, x, values, rng=rng)
    assert jacobian.shape == (2, 3, 2, 3)
    # elementwise: only ∂f_ij/∂x_ij can be non-zero
    off_diagonal = jacobian.reshape(6, 6)[~np.eye(6, dtype=bool)]
    assert not off_diagonal.any()


@pytest.mark.parametrize("name, param", FUNCTION_CASES)
def test_first_derivative_gradient_and_vjp(name, param):
    row = tc.FUNCTIONS[name]
    rng = rng_for(name, param, "gradient")
    x = tc.var("x", (4,))
    values = {"x": sample(row, param, (4,), rng)}
    weights = rng.standard_normal(4)
    loss = tc.sum(weights * apply_function(name, x, param))
    gradient = check_derivative(loss, x, values, tc.grad(loss, x), rng=rng)
    assert gradient.shape == (4,)
    check_vjp(apply_function(name, x, param), x, values, rng=rng)
    # the naive method (materialized local Jacobians) agrees
    naive = evaluate(tc.grad(loss, x, method="naive"), values)
    np.testing.assert_allclose(naive, gradient, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, param", FUNCTION_CASES)
def test_second_derivative_is_grad_of_grad(name, param):
    row = tc.FUNCTIONS[name]
    rng = rng_for(name, param, "second")
    x = tc.var("x", (3,))
    values = {"x": sample(row, param, (3,), rng)}
    gradient = tc.grad(tc.sum(apply_function(name, x, param)), x)
    hessian = tc.grad(gradient, x)
    assert hessian.shape == (3, 3)
    value = check_derivative(gradient, x, values, hessian, rng=rng)
    assert not value[~np.eye(3, dtype=bool)].any()


@pytest.mark.parametrize("name, param", FUNCTION_CASES)
def test_chain_rule_through_an_affine_argument(name, param):
    """f(W x + b): the row's derivative composed with a contraction and a broadcast sum."""
    row = tc.FUNCTIONS[name]
    rng = rng_for(name, param, "chain")
    W, x, b = tc.var("W", (2, 3)), tc.var("x", (3,)), tc.var("b", (2,))
    # choose W, x, then b so that W x + b lands on smooth points of the domain
    W_value = 0.3 * rng.standard_normal((2, 3))
    x_value = rng.standard_normal(3)
    target = sample(row, param, (2,), rng)
    values = {"W": W_value, "x": x_value, "b": target - W_value @ x_value}
    f = apply_function(name, W @ x + b, param)
    np.testing.assert_allclose(evaluate(f, values), row.numpy(target, param), rtol=1e-12)
    for wrt in (W, x, b):
        check_derivative(f, wrt, values, rng=rng)


# Independent numpy formulas for the rows tensorcalc ships (the table's own lambdas are the
# implementation under test; these are written differently on purpose).
REFERENCE = {
    "exp": lambda x, p: np.e ** x,
    "log": lambda x, p: np.log2(x) / np.log2(np.e),
    "sin": lambda x, p: np.cos(x - np.pi / 2),
    "cos": lambda x, p: np.sin(x + np.pi / 2),
    "tanh": lambda x, p: (np.exp(2 * x) - 1) / (np.exp(2 * x) + 1),
    "sigmoid": lambda x, p: 1 / (1 + np.exp(-x)),
    "softplus": lambda x, p: np.log1p(np.exp(x)),
    "sqrt": lambda x, p: x ** 0.5,
    "relu": lambda x, p: np.where(x > 0, x, 0.0),
    "abs": lambda x, p: np.where(x < 0, -x, x),
    "step": lambda x, p: (x > 0).astype(float),
    "sign": lambda x, p: (x > 0).astype(float) - (x < 0).astype(float),
    "pow": lambda x, p: np.exp(p * np.log(x)),
}


@pytest.mark.parametrize("name, param", [c for c in FUNCTION_CASES if c.values[0] in REFERENCE])
def test_value_matches_an_independent_formula(name, param):
    row = tc.FUNCTIONS[name]
    points = np.linspace(*row.domain, 41)
    points = points[points != 0]
    got = tc.evaluate(apply_function(name, tc.var("x", (points.size,)), param), x=points)
    np.testing.assert_allclose(got, REFERENCE[name](points, param), rtol=1e-12, atol=1e-14)


def test_public_function_names_build_their_rows():
    x = tc.var("x", (3,))
    for name in ("exp", "log", "sin", "cos", "tanh", "sigmoid", "softplus", "sqrt", "relu", "abs",
                 "step", "sign"):
        node = tc.as_expr(getattr(tc, name)(x))
        assert isinstance(node, tc.Elementwise) and node.fn == name and node.arg is x
    node = x ** 3
    assert isinstance(node, tc.Elementwise) and node.fn == "pow" and node.param == 3.0


@pytest.mark.parametrize("name, param", FUNCTION_CASES)
def test_prints_from_the_rows_template(name, param):
    x = tc.var("x", (3,))
    assert str(apply_function(name, x, param)) == format_call(name, "x_i", param, True)


def test_printing_examples():
    x = tc.var("x", (3,))
    assert str(tc.sigmoid(x)) == "σ(x_i)"
    assert str(tc.abs(x)) == "|x_i|"
    assert str(x ** 2) == "x_i²"
    assert str(tc.tanh(x) ** 2) == "tanh(x_i)²"


def test_subgradients_at_kinks_are_the_documented_choices():
    """relu'(0) = 0, abs'(0) = 0, step' = sign' = 0 everywhere (functions.py's docstring)."""
    x = tc.var("x", (5,))
    points = np.array([-1.0, -0.0, 0.0, 0.5, 2.0])
    expected = {
        "relu": [0.0, 0.0, 0.0, 1.0, 1.0],
        "abs": [-1.0, 0.0, 0.0, 1.0, 1.0],
        "step": [0.0] * 5,
        "sign": [0.0] * 5,
    }
    for name, want in expected.items():
        gradient = tc.evaluate(tc.grad(tc.sum(getattr(tc, name)(x)), x), x=points)
        np.testing.assert_array_equal(gradient, want, err_msg=name)
    np.testing.assert_array_equal(tc.evaluate(tc.step(x), x=points), [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(tc.evaluate(tc.relu(x), x=points), [0, 0, 0, 0.5, 2])


# ---------------------------------------------------------------------------
# Operators: value against numpy, and the Jacobian with respect to every variable


def V(name, shape, low=-1.0, high=1.0):
    return (tc.var(name, shape), (low, high))


POSITIVE = (0.5, 2.0)
M34 = np.arange(12.0).reshape(3, 4) / 7 - 0.8

# name: (variables as (var, (low, high)), build(*vars), numpy(*arrays))
OPERATORS = {
    "add": ([V("A", (3, 4)), V("B", (3, 4))], lambda A, B: A + B, lambda A, B: A + B),
    "add broadcast missing axis": ([V("A", (3, 4)), V("b", (4,))], lambda A, b: A + b,
                                   lambda A, b: A + b),
    "add broadcast size-1 axes": ([V("B", (3, 1)), V("C", (1, 4))], lambda B, C: B + C,
                                  lambda B, C: B + C),
    "add scalar variable": ([V("s", ()), V("A", (3, 4))], lambda s, A: s + A,
                            lambda s, A: s + A),
    "add python number": ([V("A", (3, 4))], lambda A: A + 2.5, lambda A: A + 2.5),
    "radd numpy array": ([V("A", (3, 4))], lambda A: M34 + A, lambda A: M34 + A),
    "sub": ([V("A", (3, 4)), V("B", (3, 4))], lambda A, B: A - B, lambda A, B: A - B),
    "sub broadcast": ([V("b", (4,)), V("A", (3, 4))], lambda b, A: b - A, lambda b, A: b - A),
    "rsub python number": ([V("A", (3, 4))], lambda A: 1.0 - A, lambda A: 1.0 - A),
    "neg": ([V("A", (3, 4))], lambda A: -A, lambda A: -A),
    "mul": ([V("A", (3, 4)), V("B", (3, 4))], lambda A, B: A * B, lambda A, B: A * B),
    "mul same variable": ([V("A", (3, 4))], lambda A: A * A, lambda A: A * A),
    "mul broadcast 3-d": ([V("P", (2, 1, 3)), V("Q", (4, 1))], lambda P, Q: P * Q,
                          lambda P, Q: P * Q),
    "mul numpy array": ([V("A", (3, 4))], lambda A: A * M34, lambda A: A * M34),
    "rmul python number": ([V("A", (3, 4))], lambda A: 3.0 * A, lambda A: 3.0 * A),
    "mul scalar variable": ([V("s", ()), V("A", (3, 4))], lambda s, A: A * s,
                            lambda s, A: A * s),
    "div": ([V("A", (3, 4)), V("B", (3, 4), *POSITIVE)], lambda A, B: A / B, lambda A, B: A / B),
    "div broadcast": ([V("A", (3, 4)), V("c", (4,), *POSITIVE)], lambda A, c: A / c,
                      lambda A, c: A / c),
    "div by scalar variable": ([V("A", (3, 4)), V("s", (), *POSITIVE)], lambda A, s: A / s,
                               lambda A, s: A / s),
    "rdiv python number": ([V("B", (3, 4), *POSITIVE)], lambda B: 2.0 / B, lambda B: 2.0 / B),
    "pow 2": ([V("A", (3, 4))], lambda A: A ** 2, lambda A: A ** 2),
    "pow 3": ([V("A", (3, 4))], lambda A: A ** 3, lambda A: A ** 3),
    "pow 0.5": ([V("B", (3, 4), *POSITIVE)], lambda B: B ** 0.5, lambda B: np.sqrt(B)),
    "pow -1": ([V("B", (3, 4), *POSITIVE)], lambda B: B ** -1, lambda B: 1 / B),
    "pow -2.5": ([V("B", (3, 4), *POSITIVE)], lambda B: B ** -2.5, lambda B: B ** -2.5),
    "pow numpy scalar exponent": ([V("A", (3, 4))], lambda A: A ** np.float64(2.0),
                                  lambda A: A ** 2),
    "pow of a sum": ([V("A", (3, 4)), V("B", (3, 4))], lambda A, B: (A + B) ** 2,
                     lambda A, B: (A + B) ** 2),
    "rpow constant base": ([V("A", (3, 4))], lambda A: 2.0 ** A, lambda A: 2.0 ** A),
    "T matrix": ([V("A", (3, 4))], lambda A: A.T, lambda A: A.T),
    "T 3-d": ([V("P", (2, 3, 4))], lambda P: P.T, lambda P: P.T),
    "transpose axes": ([V("P", (2, 3, 4))], lambda P: tc.transpose(P, (1, 2, 0)),
                       lambda P: np.transpose(P, (1, 2, 0))),
    "matmul matrix matrix": ([V("A", (3, 4)), V("M", (4, 2))], lambda A, M: A @ M,
                             lambda A, M: A @ M),
    "matmul matrix vector": ([V("A", (3, 4)), V("v", (4,))], lambda A, v: A @ v,
                             lambda A, v: A @ v),
    "matmul vector matrix": ([V("u", (3,)), V("A", (3, 4))], lambda u, A: u @ A,
                             lambda u, A: u @ A),
    "matmul vector vector": ([V("v", (4,)), V("w", (4,))], lambda v, w: v @ w,
                             lambda v, w: v @ w),
    "matmul batch": ([V("P", (2, 3, 4)), V("Q", (2, 4, 5))], lambda P, Q: P @ Q,
                     lambda P, Q: P @ Q),
    "matmul broadcast batch": ([V("P", (2, 3, 4)), V("M", (4, 5))], lambda P, M: P @ M,
                               lambda P, M: P @ M),
    "matmul batch vector": ([V("P", (2, 3, 4)), V("v", (4,))], lambda P, v: P @ v,
                            lambda P, v: P @ v),
    "matmul vector batch": ([V("u", (3,)), V("P", (2, 3, 4))], lambda u, P: u @ P,
                            lambda u, P: u @ P),
    "matmul same variable": ([V("S", (3, 3))], lambda S: S @ S, lambda S: S @ S),
    "rmatmul numpy array": ([V("A", (3, 4))], lambda A: M34.T @ A, lambda A: M34.T @ A),
    "matmul then transpose": ([V("A", (3, 4)), V("M", (4, 2))], lambda A, M: (A @ M).T,
                              lambda A, M: (A @ M).T),
    "sum all": ([V("A", (3, 4))], lambda A: tc.sum(A), lambda A: np.sum(A)),
    "sum axis 0": ([V("A", (3, 4))], lambda A: tc.sum(A, axis=0), lambda A: A.sum(axis=0)),
    "sum axis -1 keepdims": ([V("P", (2, 3, 4))], lambda P: tc.sum(P, axis=-1, keepdims=True),
                             lambda P: P.sum(axis=-1, keepdims=True)),
    "sum axes tuple": ([V("P", (2, 3, 4))], lambda P: tc.sum(P, axis=(0, 2)),
                       lambda P: P.sum(axis=(0, 2))),
    "sum method": ([V("A", (3, 4))], lambda A: A.sum(axis=1), lambda A: A.sum(axis=1)),
    "mean all": ([V("A", (3, 4))], lambda A: tc.mean(A), lambda A: np.mean(A)),
    "mean axis": ([V("P", (2, 3, 4))], lambda P: tc.mean(P, axis=1), lambda P: P.mean(axis=1)),
    "trace": ([V("S", (3, 3))], lambda S: tc.trace(S), lambda S: np.trace(S)),
    "diagonal": ([V("S", (3, 3))], lambda S: tc.diagonal(S), lambda S: np.diagonal(S).copy()),
    "broadcast_to": ([V("b", (4,))], lambda b: tc.broadcast_to(b, (3, 4)),
                     lambda b: np.broadcast_to(b, (3, 4))),
    "mixed expression": ([V("A", (3, 4)), V("v", (4,)), V("c", (3,), *POSITIVE)],
                         lambda A, v, c: (A @ v) * c / (c ** 2 + 1.0) - 0.5 * A.sum(axis=1),
                         lambda A, v, c: (A @ v) * c / (c ** 2 + 1.0) - 0.5 * A.sum(axis=1)),
}


def operator_values(variables, seed):
    rng = np.random.default_rng(seed)
    return {v.name: rng.uniform(low, high, size=v.shape) for v, (low, high) in variables}


@pytest.mark.parametrize("case", list(OPERATORS))
def test_operator_value_matches_numpy(case):
    variables, build, reference = OPERATORS[case]
    values = operator_values(variables, 10)
    expr = tc.as_expr(build(*(v for v, _ in variables)))
    expected = np.asarray(reference(*(values[v.name] for v, _ in variables)))
    got = evaluate(expr, values)
    assert expr.shape == expected.shape
    assert np.shape(got) == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", list(OPERATORS))
def test_operator_jacobian_matches_finite_differences(case):
    variables, build, _ = OPERATORS[case]
    values = operator_values(variables, 11)
    expr = build(*(v for v, _ in variables))
    rng = np.random.default_rng(12)
    for v, _ in variables:
        jacobian = check_derivative(expr, v, values, rng=rng)
        assert jacobian.shape == tc.as_expr(expr).shape + v.shape


@pytest.mark.parametrize("case", list(OPERATORS))
def test_operator_vjp_and_scalar_gradient(case):
    variables, build, _ = OPERATORS[case]
    values = operator_values(variables, 13)
    expr = tc.as_expr(build(*(v for v, _ in variables)))
    rng = np.random.default_rng(14)
    weights = rng.standard_normal(expr.shape)
    loss = tc.sum(expr * weights)
    for v, _ in variables:
        check_vjp(expr, v, values, rng=rng)
        gradient = tc.grad(loss, v)
        assert gradient.shape == v.shape
        value = check_derivative(loss, v, values, gradient, rng=rng)
        naive = evaluate(tc.grad(loss, v, method="naive"), values)
        np.testing.assert_allclose(naive, value, rtol=1e-10, atol=1e-12)


def test_projection_checker_catches_a_wrong_derivative():
    """The checker itself: a derivative that is off by a little must fail."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(4)
    right = np.diag(np.cos(x))
    check_projection(np.sin, x, right, rng)
    with pytest.raises(AssertionError):
        check_projection(np.sin, x, right * (1 + 1e-3), rng)
    with pytest.raises(AssertionError):
        check_projection(np.sin, x, right.T[:, :3], rng)  # wrong shape
    with pytest.raises(AssertionError):
        check_projection(lambda y: np.sum(y ** 2), x, 2 * x + 1e-4, rng)


NAMED_SIZES = {"n": 3, "m": 4, "k": 2}
NAMED = {
    "add row to matrix": (lambda X, y, Z: X + y, lambda X, y, Z: X + y),
    "broadcast size-1 against a name": (lambda X, y, Z: tc.sum(X, axis=1, keepdims=True) * y,
                                        lambda X, y, Z: X.sum(axis=1, keepdims=True) * y),
    "matmul over a name": (lambda X, y, Z: tc.tanh(X.T @ Z), lambda X, y, Z: np.tanh(X.T @ Z)),
    "mean over a name": (lambda X, y, Z: tc.mean(X * y, axis=0), lambda X, y, Z: (X * y).mean(0)),
    "mean of everything": (lambda X, y, Z: tc.mean(Z ** 2), lambda X, y, Z: (Z ** 2).mean()),
    "trace over a name": (lambda X, y, Z: tc.trace(Z @ Z.T), lambda X, y, Z: np.trace(Z @ Z.T)),
    "diagonal over a name": (lambda X, y, Z: tc.diagonal(Z @ Z.T) * 2.0,
                             lambda X, y, Z: 2.0 * np.diagonal(Z @ Z.T)),
}


@pytest.mark.parametrize("case", list(NAMED))
def test_operators_over_named_dimensions(case):
    """Named dimensions broadcast only against 1 or themselves; sizes come at evaluation."""
    X, y, Z = tc.var("X", ("n", "m")), tc.var("y", ("m",)), tc.var("Z", ("n", "k"))
    build, reference = NAMED[case]
    expr = tc.as_expr(build(X, y, Z))
    rng = np.random.default_rng(21)
    values = {"X": rng.standard_normal((3, 4)), "y": rng.standard_normal(4),
              "Z": rng.standard_normal((3, 2))}
    expected = reference(values["X"], values["y"], values["Z"])
    np.testing.assert_allclose(evaluate(expr, values), expected, rtol=1e-12, atol=1e-12)
    assert tuple(NAMED_SIZES.get(d, d) for d in expr.shape) == np.shape(expected)
    for variable in (X, y, Z):
        check_derivative(expr, variable, values, rng=rng)


def test_broadcasting_is_strict_beyond_size_one_and_missing_axes():
    with pytest.raises(tc.ShapeError):
        tc.var("P", (2, 3)) + tc.var("Q", (3, 2))
    with pytest.raises(tc.ShapeError):
        tc.var("P", (2, 3)) * tc.var("Q", (2,))
    with pytest.raises(tc.ShapeError):
        tc.var("P", ("n", 3)) + tc.var("Q", ("m", 3))
    assert (tc.var("P", (2, 1)) + tc.var("Q", (3,))).shape == (2, 3)
    assert (tc.var("P", ("n", 1)) * tc.var("Q", ("m",))).shape == ("n", "m")
    assert (tc.var("P", (1, "m")) - tc.var("Q", (5, 1, 1))).shape == (5, 1, "m")
