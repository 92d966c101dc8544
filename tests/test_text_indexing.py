"""Indexing in the text language, as MATLAB users write it (issue 18): ``X(:, 1:k)``, ``x(2:end)``,
``x(end:-1:1)``, ``X([1 3], :)``.  Every value is checked against numpy's own indexing: keys
built at random here are written as MATLAB text by a small converter of this file's own (not
the printer), parsed and evaluated; and ``to_text`` of random ``take`` nodes reads back as the
same numpy value."""

import numpy as np
import pytest

import tensorcalc as tc

RNG = np.random.default_rng(1818)
SHAPES = {"x": (7,), "X": (4, 6)}


# ---------------------------------------------------------------------------
# An independent writer of MATLAB indices, and random numpy keys


def matlab_position(value: int, size: int, rng) -> str:
    """The 1-based position ``value`` (0-based), sometimes written with ``end``."""
    one_based = value + 1
    choice = rng.integers(3)
    if choice == 0 or size - one_based > 3:
        return str(one_based)
    return "end" if one_based == size else f"end-{size - one_based}"


def matlab_item(item, size: int, rng) -> str:
    """One numpy key item (an int, a slice, a list) as MATLAB writes it."""
    if isinstance(item, slice):
        chosen = list(range(size))[item]
        if item == slice(None):
            return ":"
        step = chosen[1] - chosen[0] if len(chosen) > 1 else 1
        first, last = (matlab_position(v, size, rng) for v in (chosen[0], chosen[-1]))
        return f"{first}:{last}" if step == 1 and rng.integers(2) else f"{first}:{step}:{last}"
    if isinstance(item, list):
        separator = ", " if rng.integers(2) else " "
        return "[" + separator.join(matlab_position(v % size, size, rng) for v in item) + "]"
    return matlab_position(item % size, size, rng)


def random_item(size: int, rng):
    kind = rng.integers(4)
    if kind == 0:
        return int(rng.integers(-size, size))
    if kind == 1:
        return [int(v) for v in rng.integers(0, size, rng.integers(1, 4))]
    if kind == 2:
        return slice(None)
    while True:
        start, stop = (None if rng.integers(3) == 0 else int(rng.integers(-size, size)) for _ in range(2))
        key = slice(start, stop, int(rng.choice([-3, -2, -1, 1, 1, 2, 3])))
        if list(range(size))[key]:
            return key


def numpy_value(values: np.ndarray, key: tuple) -> np.ndarray:
    """What MATLAB's ``X(r, c)`` is, by numpy: two lists select rows and columns (``np.ix_``)."""
    if len(key) == 2 and all(isinstance(item, list) for item in key):
        return values[np.ix_(*key)]
    return values[tuple(np.array(item) if isinstance(item, list) else item for item in key)]


@pytest.mark.parametrize("name", ["x", "X"])
@pytest.mark.parametrize("seed", range(40))
def test_matlab_indices_read_as_numpy_selects(name, seed):
    rng = np.random.default_rng(seed)
    shape = SHAPES[name]
    key = tuple(random_item(size, rng) for size in shape)
    text = f"{name}({', '.join(matlab_item(item, size, rng) for item, size in zip(key, shape))})"
    values = rng.normal(size=shape)
    got = tc.evaluate(tc.parse(text, **{name: shape}), **{name: values})
    np.testing.assert_array_equal(got, numpy_value(values, key), err_msg=text)


@pytest.mark.parametrize("text, direct", [
    ("X(:, 1:k)", lambda x, X: X[:, :3]),
    ("x(2:end)", lambda x, X: x[1:]),
    ("x(end)", lambda x, X: x[-1]),
    ("X(end, :)", lambda x, X: X[-1]),
    ("x(1:2:end)", lambda x, X: x[::2]),
    ("x(end:-1:1)", lambda x, X: x[::-1]),
    ("X([1 3], :)", lambda x, X: X[[0, 2]]),
    ("X(2, :)*x(1:6)", lambda x, X: X[1] @ x[:6]),  # X(i, :) is a row, as in MATLAB
    ("X(:, 2)'*X(:, end)", lambda x, X: X[:, 1] @ X[:, -1]),
    ("X(1, :)'", lambda x, X: X[0]),
    ("(X*X')(2, end-1)", lambda x, X: (X @ X.T)[1, -2]),
    ("exp(x)(2:3)", lambda x, X: np.exp(x)[1:3]),
    ("x(2:3)(end)", lambda x, X: x[2]),
    ("sum(x(end-2:end))", lambda x, X: x[-3:].sum()),
])
def test_what_matlab_users_write(text, direct):
    x, X = RNG.normal(size=7), RNG.normal(size=(4, 6))
    expr = tc.parse(text.replace("k", "3"), x=(7,), X=(4, 6)) if "X" in text and "x" in text \
        else tc.parse(text.replace("k", "3"), **{n: SHAPES[n] for n in "xX" if n in text})
    np.testing.assert_allclose(tc.evaluate(expr, x=x, X=X), direct(x, X), rtol=1e-12)


def test_a_known_function_stays_a_call_and_a_variable_is_indexed():
    x = RNG.normal(size=7)
    np.testing.assert_allclose(tc.evaluate(tc.parse("sum(exp(x))", x=(7,)), x=x), np.exp(x).sum())
    np.testing.assert_allclose(tc.evaluate(tc.parse("exp(x(3))", x=(7,)), x=x), np.exp(x[2]))
    diag = tc.parse("diag(2)", diag=(3,))  # a name declared a variable is indexed
    np.testing.assert_allclose(tc.evaluate(diag, diag=np.arange(3.0)), 1.0)
    assert "unknown function 'expp'" in str(pytest.raises(tc.ParseError, tc.parse, "expp(x)").value)


def caret(text: str, start: int, end: int) -> str:
    return f"\n    {text}\n    {' ' * start}{'^' * (end - start)}"


@pytest.mark.parametrize("text, message, start, end", [
    ("x(0)", "x(0): index 0 is out of range: the axis has 7 entries; indices start at 1 "
     "(MATLAB's convention)", 2, 3),
    ("x(8)", "x(8): index 8 is out of range: the axis has 7 entries; indices run from 1 to end = 7",
     2, 3),
    ("X(2, end+1)", "X(2, end+1): index 7 is out of range: the axis has 6 entries; indices run "
     "from 1 to end = 6", 5, 10),
    ("x(2:9)", "x(2:9): index 9 is out of range: the axis has 7 entries; indices run from 1 to "
     "end = 7", 4, 5),
    ("x(1:0:3)", "the step of the range '1:0:3' is 0; a range steps by a nonzero whole number", 4, 5),
    ("x(3:1)", "the range '3:1' is empty (3 to 1 by 1); an index selects at least one entry", 2, 5),
    ("end+x", "'end' stands only inside an index, for the size of the axis it indexes, as in "
     "x(2:end)", 0, 3),
    ("x(end/2)", "the index 'end/2' is 3.5, not a whole number", 2, 7),
    ("X(3)", "X(3): matrix 'X' of shape (4, 6) takes 2 indices; index it with two subscripts, "
     "X(i, j) (one subscript, MATLAB's linear indexing, is not read; vec(X) lists the entries "
     "column by column)", 0, 4),
    ("x([3 -1])", "ambiguous sign in [ ]: write [a, -b] for two entries or [a - b] for one", 5, 6),
])
def test_index_errors_point_at_the_culprit_and_name_the_sizes(text, message, start, end):
    types = {n: SHAPES[n] for n in "xX" if n in text}
    with pytest.raises(tc.ParseError) as caught:
        tc.parse(text, **types)
    assert str(caught.value) == message + caret(text, start, end)


def test_an_index_needs_the_size_of_its_axis():
    with pytest.raises(tc.ParseError, match=r"x\(2:end\): the size of column vector 'x' .* is not "
                                            r"known.*x=\(5,\)"):
        tc.parse("x(2:end)")
    expr = tc.parse("x(2:end)'*y + x'*A(:, 1)", A=(4, 4))  # x's size: fixed later in the text
    assert {n: v.shape for n, v in tc.variables(expr).items()} == {"x": (4,), "y": (3,), "A": (4, 4)}


# ---------------------------------------------------------------------------
# to_text writes take nodes so that they read back


@pytest.mark.parametrize("seed", range(40))
def test_to_text_of_a_take_reads_back_as_numpy_selects(seed):
    rng = np.random.default_rng(100 + seed)
    X, x = tc.var("X", (4, 6)), tc.var("x", (7,))
    values = {"X": rng.normal(size=(4, 6)), "x": rng.normal(size=7)}
    operand, name = [(X, "X"), (x, "x"), (tc.tanh(X) @ X.T, "tanh(X) X'")][seed % 3]
    array = {"X": values["X"], "x": values["x"],
             "tanh(X) X'": np.tanh(values["X"]) @ values["X"].T}[name]
    key = tuple(random_item(size, rng) for size in operand.shape)
    if sum(isinstance(item, list) for item in key) > 1:  # numpy's key takes one integer array
        key = (key[0], slice(None))
    expr = operand[tuple(np.array(k) if isinstance(k, list) else k for k in key)]
    text = tc.to_text(expr)
    back = tc.parse(text, **{n: v.shape for n, v in tc.variables(expr).items()})
    np.testing.assert_allclose(tc.evaluate(back, **values), numpy_value(array, key), rtol=1e-12,
                               err_msg=text)


@pytest.mark.parametrize("build, direct", [
    (lambda X, x: X[1] @ x[:6], lambda X, x: X[1] @ x[:6]),
    (lambda X, x: X[:, -1] @ X[::-1, 2], lambda X, x: X[:, -1] @ X[::-1, 2]),
    (lambda X, x: X[0] * x[1:], lambda X, x: X[0] * x[1:]),
    (lambda X, x: X[1:3] @ x[::-1][:6], lambda X, x: X[1:3] @ x[::-1][:6]),
    (lambda X, x: tc.sum(tc.exp(X[[0, 2], 1:]) ** 2), lambda X, x: np.sum(np.exp(X[[0, 2], 1:]) ** 2)),
    (lambda X, x: tc.einsum("i,j->ij", X[2], x[::2]), lambda X, x: np.outer(X[2], x[::2])),
])
def test_to_text_of_takes_in_products_reads_back(build, direct):
    X, x = tc.var("X", (4, 6)), tc.var("x", (7,))
    values = {"X": RNG.normal(size=(4, 6)), "x": RNG.normal(size=7)}
    expr = build(X, x)
    text = tc.to_text(expr)
    back = tc.parse(text, **{n: v.shape for n, v in tc.variables(expr).items()})
    np.testing.assert_allclose(tc.evaluate(back, **values), direct(values["X"], values["x"]),
                               rtol=1e-12, err_msg=text)


def test_takes_print_as_matlab_reads_them():
    X, x = tc.var("X", (4, 6)), tc.var("x", (7,))
    assert tc.to_text(x[::-1]) == "x(end:-1:1)"
    assert tc.to_text(x[1:]) == "x(2:end)"
    assert tc.to_text(x[-1]) == "x(end)"
    assert tc.to_text(X[:, 1:3]) == "X(:, 2:3)"
    assert tc.to_text(X[::2, [0, 3]]) == "X(1:2:3, [1, 4])"
    assert tc.to_text(X[0]) == "X(1, :)'"  # a column here; MATLAB's X(1, :) is a row


def test_what_the_text_cannot_write_is_refused():
    X = tc.var("X", (4, 6))
    for expr in (X[None, 0], X[1:1], tc.grad(tc.sum(X[1:] ** 2), X).expr):
        with pytest.raises(tc.NoTextForm, match="no form in the text language"):
            tc.to_text(expr)


# ---------------------------------------------------------------------------
# Derivatives through parsed indices, against finite differences


def directional_fd(f, point, direction, h=1e-5):
    return (f(point + h * direction) - f(point - h * direction)) / (2 * h)


TEXT = "sum(tanh(X(2:end, 1:2:end)).^2) + x(end:-1:4)'*X(:, 2).^3 + X([1 3], end)'*x([2 2])"


def direct(X, x):
    """``TEXT`` in numpy, written independently."""
    return (np.sum(np.tanh(X[1:, ::2]) ** 2) + x[:2:-1] @ X[:, 1] ** 3
            + X[[0, 2], -1] @ x[[1, 1]])


def test_a_parsed_index_has_numpy_value_and_its_derivatives_match_finite_differences():
    f = tc.parse(TEXT, X=(4, 6), x=(7,))
    rng = np.random.default_rng(7)
    X0, x0 = rng.normal(size=(4, 6)), rng.normal(size=7)
    np.testing.assert_allclose(tc.evaluate(f, X=X0, x=x0), direct(X0, x0), rtol=1e-12)
    gX, gx = tc.grad(f, "X"), tc.grad(f, "x")
    for _ in range(3):
        dX, dx = rng.normal(size=(4, 6)), rng.normal(size=7)
        fd_X = directional_fd(lambda X: direct(X, x0), X0, dX)
        fd_x = directional_fd(lambda x: direct(X0, x), x0, dx)
        np.testing.assert_allclose(np.sum(tc.evaluate(gX, X=X0, x=x0) * dX), fd_X, rtol=1e-6)
        np.testing.assert_allclose(tc.evaluate(gx, X=X0, x=x0) @ dx, fd_x, rtol=1e-6, atol=1e-9)
        # the second derivative: the Hessian along dX against differences of the gradient
        hess_dX = directional_fd(lambda X: tc.evaluate(gX, X=X, x=x0), X0, dX)
        got = tc.evaluate(tc.jacobian(gX, "X"), X=X0, x=x0)
        np.testing.assert_allclose(np.tensordot(got, dX, 2), hess_dX, rtol=1e-5, atol=1e-8)


def test_a_parsed_index_has_the_gradient_jax_gives():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    f = tc.parse(TEXT, X=(4, 6), x=(7,))
    rng = np.random.default_rng(8)
    X0, x0 = rng.normal(size=(4, 6)), rng.normal(size=7)

    def jax_f(X, x):
        return (jnp.sum(jnp.tanh(X[1:, ::2]) ** 2) + x[:2:-1] @ X[:, 1] ** 3
                + X[jnp.array([0, 2]), -1] @ x[jnp.array([1, 1])])

    want_X, want_x = jax.grad(jax_f, argnums=(0, 1))(X0, x0)
    np.testing.assert_allclose(tc.evaluate(tc.grad(f, "X"), X=X0, x=x0), want_X, rtol=1e-10)
    np.testing.assert_allclose(tc.evaluate(tc.grad(f, "x"), X=X0, x=x0), want_x, rtol=1e-10)


# ---------------------------------------------------------------------------
# Size-1 axes (keepdims) in to_text: read back with their value, or refused


@pytest.mark.parametrize("shape", [(3, 4), (4, 1), (1, 4), (1, 1)])
@pytest.mark.parametrize("axis", [0, 1, None])
@pytest.mark.parametrize("combine", [lambda a, b, exp: a * b, lambda a, b, exp: a - 2 * b,
                                     lambda a, b, exp: exp(a + b)])
def test_keepdims_reductions_read_back_with_their_value_or_are_refused(shape, axis, combine):
    X, Y = tc.var("X", shape), tc.var("Y", shape)
    V, W = RNG.normal(size=shape), RNG.normal(size=shape)
    cases = [(combine(tc.mean(X, axis=axis, keepdims=True), Y, tc.exp),
              combine(V.mean(axis, keepdims=True), W, np.exp)),
             (combine(tc.sum(X, axis=axis, keepdims=True), tc.mean(Y, axis=axis, keepdims=True), tc.exp),
              combine(V.sum(axis, keepdims=True), W.mean(axis, keepdims=True), np.exp)),
             (combine(tc.sum(X, axis=axis, keepdims=True), X, tc.exp) * Y,
              combine(V.sum(axis, keepdims=True), V, np.exp) * W)]
    for expr, want in cases:
        try:
            text = tc.to_text(expr)
        except tc.NoTextForm as error:
            assert "size-1 axis" in str(error)
            continue
        back = tc.parse(text, **{n: v.shape for n, v in tc.variables(expr).items()})
        values = {n: {"X": V, "Y": W}[n] for n in tc.variables(back)}
        np.testing.assert_allclose(tc.evaluate(back, **values), want, rtol=1e-12, err_msg=text)
