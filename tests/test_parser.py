"""The text parser: matrixcalculus.org's language and numpy expressions, read into expressions.

Values are checked against numpy on random data, a few gradients against finite differences
(``fd.py``), inferred shapes exactly, and every error by its message and caret.
"""

import ast
import builtins
import inspect
import re
import sys
import time

import numpy as np
import pytest

import fd
import tensorcalc as tc

SIZES = {"n": 3, "m": 4, "k": 5, "p": 2, "q": 6}
RNG = np.random.default_rng(0)


def shapes(expr) -> dict:
    return {name: v.shape for name, v in tc.variables(expr).items()}


def random_values(expr, low=-1.0, high=1.0) -> dict:
    return fd.random_values(tc.variables(expr).values(), RNG, low, high, SIZES)


def caret(text: str, start: int, end: int) -> str:
    return f"\n    {text}\n    {' ' * start}{'^' * (end - start)}"


def parse_error(text, dialect="matrix", **types) -> tc.ParseError:
    with pytest.raises(tc.ParseError) as caught:
        tc.parse(text, dialect=dialect, **types)
    return caught.value


# ---------------------------------------------------------------------------
# The matrix dialect: matrixcalculus.org's examples and more, against numpy

def sigmoid(z):
    return 1 / (1 + np.exp(-z))


MATRIX_EXAMPLES = [
    ("x'*A*x", lambda v: v["x"] @ v["A"] @ v["x"]),
    ("0.5*x'*A*x", lambda v: 0.5 * v["x"] @ v["A"] @ v["x"]),
    ("A*exp(x)", lambda v: v["A"] @ np.exp(v["x"])),
    ("(y.*v)'*x", lambda v: (v["y"] * v["v"]) @ v["x"]),
    ("norm2(A*x-y)^2", lambda v: np.linalg.norm(v["A"] @ v["x"] - v["y"]) ** 2),
    ("sum(log(exp(-y.*(X*w))+vector(1)))",
     lambda v: np.sum(np.log(np.exp(-v["y"] * (v["X"] @ v["w"])) + 1))),
    ("tr(A*X'*B*X*C)", lambda v: np.trace(v["A"] @ v["X"].T @ v["B"] @ v["X"] @ v["C"])),
    ("x'*y", lambda v: v["x"] @ v["y"]),
    ("x*y'", lambda v: np.outer(v["x"], v["y"])),
    ("x*y'*z", lambda v: np.outer(v["x"], v["y"]) @ v["z"]),
    ("diag(x)*A", lambda v: np.diag(v["x"]) @ v["A"]),
    ("diag(A)", lambda v: np.diag(v["A"])),
    ("diag(x')", lambda v: np.diag(v["x"])),
    ("eye*x", lambda v: v["x"]),
    ("x'*eye*y", lambda v: v["x"] @ v["y"]),
    ("sum(A.*B)", lambda v: np.sum(v["A"] * v["B"])),
    ("X^2", lambda v: v["X"] @ v["X"]),
    ("X^5*x", lambda v: np.linalg.matrix_power(v["X"], 5) @ v["x"]),
    ("X^0*x", lambda v: v["x"]),
    ("x'*A", lambda v: v["x"] @ v["A"]),
    ("(x'*A)'", lambda v: v["A"].T @ v["x"]),
    ("A'*x", lambda v: v["A"].T @ v["x"]),
    ("x'*A'*A*x", lambda v: v["x"] @ v["A"].T @ v["A"] @ v["x"]),
    ("(A+B)*x", lambda v: (v["A"] + v["B"]) @ v["x"]),
    ("A/2 - 3*B", lambda v: v["A"] / 2 - 3 * v["B"]),
    ("norm1(A)", lambda v: np.sum(np.abs(v["A"]))),
    ("norm1(x)", lambda v: np.sum(np.abs(v["x"]))),
    ("norm2(x)", lambda v: np.linalg.norm(v["x"])),
    ("norm2(x')", lambda v: np.linalg.norm(v["x"])),
    ("tr(A)+sum(x)", lambda v: np.trace(v["A"]) + np.sum(v["x"])),
    ("-a^2+b", lambda v: -(v["a"] ** 2) + v["b"]),
    ("2^-1*x", lambda v: 0.5 * v["x"]),
    ("a*x+b", lambda v: v["a"] * v["x"] + v["b"]),
    ("x.^2./(y.^2+1)", lambda v: v["x"] ** 2 / (v["y"] ** 2 + 1)),
    ("2.^x", lambda v: 2.0 ** v["x"]),
    ("x.^-1", lambda v: 1 / v["x"]),
    ("x.^(1/2)", lambda v: np.sqrt(v["x"])),
    ("matrix(2).*A", lambda v: 2 * v["A"]),
    ("vector(a)+x", lambda v: v["a"] + v["x"]),
    ("sigmoid(A*x)'*y", lambda v: sigmoid(v["A"] @ v["x"]) @ v["y"]),
    ("sqrt(x.*x+1)", lambda v: np.sqrt(v["x"] * v["x"] + 1)),
    ("abs(x)./y", lambda v: np.abs(v["x"]) / v["y"]),
    ("relu(x)-sign(y)", lambda v: np.maximum(v["x"], 0) - np.sign(v["y"])),
    ("x'*x-a", lambda v: v["x"] @ v["x"] - v["a"]),
    ("2*3+x'*x", lambda v: 6 + v["x"] @ v["x"]),
    ("x''", lambda v: v["x"]),
    ("A''*x", lambda v: v["A"] @ v["x"]),
    ("1e-3*x + .5*y - 2.*z", lambda v: 1e-3 * v["x"] + 0.5 * v["y"] - 2 * v["z"]),
]


@pytest.mark.parametrize("text, reference", MATRIX_EXAMPLES, ids=[e[0] for e in MATRIX_EXAMPLES])
def test_matrix_dialect_values_match_numpy(text, reference):
    expr = tc.parse(text)
    assert isinstance(expr, tc.Expr)
    values = random_values(expr, 0.2, 1.5)  # positive, for the logs, roots and divisions
    np.testing.assert_allclose(tc.evaluate(expr, values), reference(values), rtol=1e-10, atol=1e-12)


def test_a_number_alone_is_a_constant():
    assert tc.parse("2") is tc.const(2.0)
    assert tc.parse("(1+2)*3^2") is tc.const(27.0)


def test_a_row_vector_times_a_matrix_is_a_vector_and_transposes_back():
    assert tc.parse("x'*A").shape == ("m",)
    assert tc.parse("(x'*A)'").shape == ("m",)
    assert tc.parse("(x'*A)'+y").shape == ("m",)  # a column vector again
    error = parse_error("x'*A+y")  # but a row vector plus a column vector is refused
    assert "row vector \"x'*A\" of shape (m,) and column vector 'y' of shape (k,)" in error.reason


@pytest.mark.parametrize("text, wrt", [
    ("x'*A*x", "x"), ("x'*A*x", "A"),
    ("norm2(A*x-y)^2", "x"),
    ("sum(log(exp(-y.*(X*w))+vector(1)))", "w"),
    ("tr(A*X'*B*X*C)", "X"),
    ("sum(sigmoid(X^3*x).*y)", "X"),
    ("x'*diag(y)*A*x", "y"),
])
def test_gradients_of_parsed_expressions_match_finite_differences(text, wrt):
    f = tc.parse(text)
    values = random_values(f)
    fd.check_derivative(f, tc.variables(f)[wrt], values, tc.grad(f, tc.variables(f)[wrt]))


def test_the_gradient_of_a_quadratic_form_is_the_cookbook_one():
    f = tc.parse("x'*A*x")
    values = random_values(f)
    gradient = tc.evaluate(tc.grad(f, tc.variables(f)["x"]), values)
    np.testing.assert_allclose(gradient, (values["A"] + values["A"].T) @ values["x"])


def test_precedence_as_in_matlab():
    tree = tc.notation.grammar.parse_tree
    assert tree("-x^2").op == "-" and tree("-x^2").operand.op == "^"  # -(x^2)
    assert tree("a^b^c").left.op == "^"  # ^ .^ and ' share one level, left to right
    assert isinstance(tree("x.^2'"), tc.notation.grammar.Transpose)  # (x.^2)'
    assert tree("x.^2'").operand.op == ".^"
    assert tree("2^-a^3").left.op == "^"  # a sign after ^ takes the next operand only
    assert tree("a-b-c").left.op == "-"  # left-associative
    assert tree("a+b*c").right.op == "*"
    assert tree("a*b.^c").right.op == ".^"
    assert isinstance(tree("x'^2").left, tc.notation.grammar.Transpose)  # (x')^2
    assert isinstance(tree("2^-a*b").left, tc.notation.grammar.Binary)  # (2^-a)*b
    values = {"a": 2.0, "b": 3.0, "c": 2.0}
    assert float(tc.evaluate(tc.parse("-a^2"), a=2.0)) == -4.0
    assert float(tc.evaluate(tc.parse("a^3^2"), a=2.0)) == (2.0 ** 3) ** 2
    assert float(tc.evaluate(tc.parse("2^-a^3"), values)) == pytest.approx((2.0 ** -2) ** 3)
    assert float(tc.evaluate(tc.parse("a-b-c"), values)) == -3.0
    assert float(tc.evaluate(tc.parse("a/b/c"), values)) == pytest.approx(2 / 3 / 2)
    assert float(tc.evaluate(tc.parse("2^-a*b"), values)) == pytest.approx(0.75)


def test_a_long_flat_input_parses_quickly():
    started = time.perf_counter()
    expr = tc.parse("+".join(["x"] * 10_000))
    elapsed = time.perf_counter() - started
    np.testing.assert_allclose(tc.evaluate(expr, x=np.ones(3)), 10_000.0)
    assert elapsed < 4.0, f"10^4 terms took {elapsed:.2f}s"  # about 0.3 s on an idle core
    expr = tc.parse("-".join(["x'*A*x"] * 1_000))
    assert float(tc.evaluate(expr, x=np.ones(2), A=np.eye(2))) == pytest.approx(-1996.0)


def test_functions_registered_later_are_found_at_parse_time():
    cube = tc.Function("cube", lambda x, p: x ** 3, lambda x, p: 3 * x ** 2, "cube({})")
    with pytest.raises(tc.ParseError, match="unknown function 'cube'"):
        tc.parse("cube(x)")
    tc.register_function(cube)
    try:
        for expr in (tc.parse("cube(x)"), tc.parse("np.cube(x)", dialect="numpy", x=(3,))):
            np.testing.assert_allclose(tc.evaluate(expr, x=np.arange(3.0)), [0.0, 1.0, 8.0])
    finally:
        tc.FUNCTIONS.pop("cube")


@pytest.mark.parametrize("name", ["det", "logdet", "inv"])
def test_matrix_functions_the_engine_may_lack(name):
    text = f"{name}(A)"
    if hasattr(tc, name):
        values = {"A": np.eye(3) * 2 + 0.1}
        reference = {"det": np.linalg.det, "logdet": lambda a: np.log(np.linalg.det(a)),
                     "inv": np.linalg.inv}[name]
        np.testing.assert_allclose(tc.evaluate(tc.parse(text), values), reference(values["A"]))
    else:
        error = parse_error(text)
        assert str(error) == f"{name!r} is not supported yet" + caret(text, 0, len(name))


@pytest.mark.parametrize("name", ["tan", "arcsin", "arccos", "arctan", "sinh", "cosh"])
def test_elementwise_functions_the_engine_may_lack(name):
    text = f"sum({name}(x))"
    if name in tc.FUNCTIONS:
        values = {"x": np.array([0.1, 0.2])}
        np.testing.assert_allclose(tc.evaluate(tc.parse(text), values),
                                   np.sum(getattr(np, name)(values["x"])))
    else:
        error = parse_error(text)
        assert str(error) == f"{name!r} is not supported yet" + caret(text, 4, 4 + len(name))


def test_matrix_power_with_a_negative_exponent():
    if hasattr(tc, "inv"):
        values = {"X": np.eye(3) * 2 + 0.1}
        np.testing.assert_allclose(tc.evaluate(tc.parse("X^-2"), values),
                                   np.linalg.matrix_power(np.linalg.inv(values["X"]), 2))
    else:
        error = parse_error("X^-1")
        assert str(error) == ("power '^': negative powers of a matrix need the matrix inverse, "
                              "which is not supported yet" + caret("X^-1", 1, 2))


def test_symmetric_matrices():
    if "symmetric" in inspect.signature(tc.var).parameters:
        assert shapes(tc.parse("x'*S*x", S="symmetric matrix")) == {"x": ("n",), "S": ("n", "n")}
    else:
        error = parse_error("x'*S*x", S="symmetric matrix")
        assert error.reason == "type of 'S': symmetric variables are not supported yet"


# ---------------------------------------------------------------------------
# Dimension inference


def test_a_quadratic_form_makes_the_matrix_square():
    assert shapes(tc.parse("x'*A*x")) == {"x": ("n",), "A": ("n", "n")}


def test_explicit_shapes_propagate():
    assert shapes(tc.parse("A*x", A=(3, 4))) == {"A": (3, 4), "x": (4,)}
    assert shapes(tc.parse("A*x", A=("n", "d"))) == {"A": ("n", "d"), "x": ("d",)}
    assert shapes(tc.parse("x'*A*x", x=(5,))) == {"x": (5,), "A": (5, 5)}
    assert shapes(tc.parse("X'*X", X=("N", "d"))) == {"X": ("N", "d")}
    assert tc.parse("X'*X", X=("N", "d")).shape == ("d", "d")


def test_free_dimensions_are_named_in_order_of_first_appearance():
    assert shapes(tc.parse("A*B*C*x")) == {"A": ("n", "m"), "B": ("m", "k"), "C": ("k", "p"),
                                           "x": ("p",)}
    assert shapes(tc.parse("x*y'")) == {"x": ("n",), "y": ("m",)}


def test_free_dimension_names_skip_variable_names_and_given_names():
    assert shapes(tc.parse("n*m'+k*x'")) == {"n": ("p",), "m": ("q",), "k": ("p",), "x": ("q",)}
    assert shapes(tc.parse("x*y'", x=("n",))) == {"x": ("n",), "y": ("m",)}
    assert shapes(tc.parse("x*y'", y=("n",))) == {"x": ("m",), "y": ("n",)}


def test_the_same_name_is_the_same_dimension_across_variables():
    assert shapes(tc.parse("A*x+y", x=("d",), y=("d",)))["A"] == ("d", "d")
    error = parse_error("x+y", x=("d",), y=("e",))
    assert "shapes differ: column vector 'x' of shape (d,) and column vector 'y' of shape (e,)" \
        in error.reason


def test_types_override_the_first_letter():
    assert shapes(tc.parse("a*b", a="vector", b="row vector")) == {"a": ("n",), "b": ("m",)}
    assert tc.parse("a*b", a="vector", b="row vector").shape == ("n", "m")
    assert shapes(tc.parse("A+x", x="matrix")) == {"A": ("n", "m"), "x": ("n", "m")}
    assert shapes(tc.parse("x+A", A="vector")) == {"x": ("n",), "A": ("n",)}
    assert shapes(tc.parse("sum(x)", x="scalar")) == {"x": ()}
    assert shapes(tc.parse("eye*x", eye="scalar")) == {"eye": (), "x": ("n",)}


def test_conflicting_explicit_shapes_are_an_error_naming_both():
    text = "A*x"
    error = parse_error(text, A=(3, 4), x=(5,))
    assert str(error) == ("matrix product '*': cannot multiply matrix 'A' of shape (3, 4) by "
                          "column vector 'x' of shape (5,): the inner dimensions 4 and 5 differ"
                          + caret(text, 1, 2))
    error = parse_error("x'*A*x", x=(3,), A=(3, 4))
    assert "the inner dimensions 4 and 3 differ" in error.reason and error.position == 4


@pytest.mark.parametrize("types, message", [
    ({"B": "matrix"}, "a type was given for 'B', which is not in the text"),
    ({"A": "tensor"}, "type of 'A': unknown kind 'tensor'"),
    ({"A": (2, 3, 4)}, "type of 'A': shape (2, 3, 4) has 3 axes"),
    ({"A": 3}, "type of 'A': expected a shape tuple"),
    ({"A": (-1, 2)}, "dimension -1 is negative"),
    ({"A": ("n m", 2)}, "must be an int or a name"),
])
def test_bad_types(types, message):
    error = parse_error("A*x", **types)
    assert message in error.reason and error.text == "A*x"


# ---------------------------------------------------------------------------
# Errors: the message, then the text, then a caret under the fault


@pytest.mark.parametrize("text, message, start, end", [
    ("(x+y", "unbalanced parentheses: this '(' is never closed", 0, 1),
    ("x+(y*(A*x)", "unbalanced parentheses: this '(' is never closed", 2, 3),
    ("x+y)", "unbalanced parentheses: this ')' has no matching '('", 3, 4),
    ("(x))", "unbalanced parentheses: this ')' has no matching '('", 3, 4),
    ("x+()", "unbalanced parentheses: this ')' has no matching '(', or the parentheses are empty",
     3, 4),
    ("expp(x)", "unknown function 'expp'; did you mean 'exp'?", 0, 4),
    ("x+dag(A)", "unknown function 'dag'; did you mean 'diag'?", 2, 5),
    ("frobnicate(x)", "unknown function 'frobnicate'", 0, 10),
    ("x $ y", "unexpected character '$'", 2, 3),
    ("x@y", "unexpected character '@'; the matrix dialect writes every product with '*' "
     "(dialect='numpy' reads '@')", 1, 2),
    ("x.y", "unexpected character '.'; the elementwise operators are .* ./ .^", 1, 2),
    ("x**2", "'**' is not an operator here: write powers with ^ (or .^ elementwise)", 2, 3),
    ("", "empty input: expected an expression such as x'*A*x", 0, 1),
    ("   ", "empty input: expected an expression such as x'*A*x", 0, 1),
    ("x+", "unexpected end of input: '+' needs a right operand", 2, 3),
    ("2 x", "unexpected name 'x': expected an operator", 2, 3),
    ("(x y)", "unexpected name 'y': expected ')' or an operator", 3, 4),
    ("x+*y", "unexpected operator '*': expected a number, a name or '('", 2, 3),
    ("tr(A, B)", "'tr' takes 1 argument, got 2", 0, 8),
    ("sum()", "'sum' takes 1 argument, got 0", 0, 5),
    ("exp+x", "'exp' is a function: call it as exp(...)", 0, 3),
    ("x*y", "matrix product '*': cannot multiply column vector 'x' of shape (n,) by column "
     "vector 'y' of shape (m,); write x'*y for the inner product, x*y' for the outer product, "
     "x.*y elementwise", 1, 2),
    ("A*x*y", "matrix product '*': cannot multiply column vector 'A*x' of shape (n,) by column "
     "vector 'y' of shape (k,); write (A*x)'*y for the inner product, (A*x)*y' for the outer "
     "product, (A*x).*y elementwise", 3, 4),
    ("x'*y'", "matrix product '*': cannot multiply row vector \"x'\" of shape (n,) by row vector "
     "\"y'\" of shape (m,); transpose the second one for the inner product", 2, 3),
    ("x*A", "matrix product '*': cannot multiply column vector 'x' of shape (n,) by matrix 'A' of "
     "shape (m, k); transpose the vector, or use .* for the elementwise product", 1, 2),
    ("A+x", "add '+': needs operands of the same shape, got matrix 'A' of shape (n, m) and column "
     "vector 'x' of shape (k,); a vector never broadcasts against a matrix", 1, 2),
    ("x-y'", "subtract '-': needs operands of the same shape, got column vector 'x' of shape (n,) "
     "and row vector \"y'\" of shape (m,); transpose one of them with '", 1, 2),
    ("A.*x", "elementwise product '.*': needs operands of the same shape, got matrix 'A' of shape "
     "(n, m) and column vector 'x' of shape (k,); a vector never broadcasts against a matrix", 1, 3),
    ("x/y", "division '/': divides only by a scalar, got column vector 'y' of shape (m,); use ./ "
     "for elementwise division", 1, 2),
    ("x^2", "power '^': needs a scalar or a square matrix, got column vector 'x' of shape (n,); use "
     ".^ for the elementwise power", 1, 2),
    ("A^2.5", "power '^': a matrix power needs an integer constant exponent, got '2.5'", 1, 2),
    ("A^a", "power '^': a matrix power needs an integer constant exponent, got 'a'", 1, 2),
    ("x.^y", "elementwise power '.^': the exponent must be a scalar constant, got column vector "
     "'y' of shape (m,)", 1, 3),
    ("a^b", "power '^': needs a constant exponent, or a positive constant base; for a^b write "
     "exp(b*log(a))", 1, 2),
    ("tr(x)", "tr: does not take a column vector 'x' of shape (n,); it needs a square matrix", 0, 5),
    ("vector(x)", "vector: does not take a column vector 'x' of shape (n,); it needs a scalar, as "
     "in vector(1)", 0, 9),
    ("diag(a)", "diag: does not take a scalar 'a'; it needs a vector or a square matrix", 0, 7),
    ("norm2(A)", "norm2 of a matrix (the spectral norm) is not supported yet; for the Frobenius "
     "norm write sqrt(sum(A.*A))", 0, 8),
    ("_x+1", "cannot tell the kind of '_x' from its first letter (a-g scalar, h-z vector, A-Z "
     "matrix); pass _x='vector' or a shape", 0, 2),
])
def test_error_message_and_caret(text, message, start, end):
    error = parse_error(text)
    assert str(error) == message + caret(text, start, end)
    assert (error.reason, error.text, error.position, error.end) == (message, text, start, end)
    assert isinstance(error, ValueError) and isinstance(error, tc.TensorCalcError)


def test_tr_of_a_non_square_matrix():
    error = parse_error("tr(A)", A=(2, 3))
    assert str(error) == ("tr: needs a square matrix, got matrix 'A' of shape (2, 3)"
                          + caret("tr(A)", 0, 5))


def test_errors_pickle_with_their_position():
    import pickle

    error = parse_error("x*y")
    again = pickle.loads(pickle.dumps(error))
    assert (str(again), again.text, again.position, again.end) == (str(error), "x*y", 1, 2)


@pytest.mark.parametrize("text", [
    "(" * 100_000 + "x" + ")" * 100_000,
    "-" * 100_000 + "x",
    "x" + "'" * 100_000,
    "2^(" * 100_000 + "2" + ")" * 100_000,
    "-(" * 50_000 + "x" + ")" * 50_000,
    "sum(" * 100_000 + "x" + ")" * 100_000,
])
def test_deep_nesting_is_a_parse_error_not_a_recursion_error(text):
    error = parse_error(text)
    assert error.reason.startswith("nesting is deeper than 200 levels")
    assert len(str(error)) < 400  # the text is quoted in a short window around the fault


def test_nesting_within_the_limit_parses():
    expr = tc.parse("(" * 190 + "x" + ")" * 190 + "+" + "-" * 90 + "y" + "'" * 90)
    values = {"x": np.ones(2), "y": np.full(2, 2.0)}
    np.testing.assert_allclose(tc.evaluate(expr, values), [3.0, 3.0])


def test_a_long_input_is_quoted_around_the_fault():
    text = "+".join(["x"] * 1000) + "+A"
    error = parse_error(text)
    quoted_text, caret_line = str(error).split("\n")[1:]
    assert quoted_text.startswith("    …") and quoted_text.endswith("x+A")
    assert caret_line.index("^") == quoted_text.index("+A")


# ---------------------------------------------------------------------------
# The numpy dialect


EQUIVALENT = [
    ("x'*A*x", "x @ A @ x"),
    ("0.5*x'*A*x", "0.5 * x @ A @ x"),
    ("A*exp(x)", "A @ np.exp(x)"),
    ("sum(A.*B)", "np.sum(A * B)"),
    ("tr(A*B')", "np.trace(A @ B.T)"),
    ("x*y'", "np.outer(x, y)"),
    ("diag(x)*A", "np.diag(x) @ A"),
    ("diag(A)", "np.diagonal(A)"),
    ("norm2(A*x-y)^2", "np.sum((A @ x - y) ** 2)"),
    ("sum(log(exp(-y.*(X*w))+vector(1)))", "np.sum(np.log(np.exp(-y * (X @ w)) + 1))"),
    ("X^3", "X @ X @ X"),
    ("x'*A", "x @ A"),
    ("tanh(A*x)./(x.^2+1)", "np.tanh(A @ x) / (x ** 2 + 1)"),
]


@pytest.mark.parametrize("matrix_text, numpy_text", EQUIVALENT)
def test_numpy_dialect_gives_the_same_values(matrix_text, numpy_text):
    f = tc.parse(matrix_text)
    g = tc.parse(numpy_text, dialect="numpy", **shapes(f))
    assert g.shape == f.shape
    values = random_values(f)
    np.testing.assert_allclose(tc.evaluate(g, values), tc.evaluate(f, values), rtol=1e-10)


NUMPY_SHAPES = {"x": ("n",), "y": ("n",), "A": ("n", "n"), "X": ("m", "n"), "T": ("p", "m", "n"),
                "a": ()}
NUMPY_EXAMPLES = [
    ("np.sum(X, axis=0)", lambda v: np.sum(v["X"], axis=0)),
    ("X.sum(axis=1)", lambda v: v["X"].sum(axis=1)),
    ("X.sum()", lambda v: v["X"].sum()),
    ("np.sum(T, axis=(0, 2))", lambda v: np.sum(v["T"], axis=(0, 2))),
    ("np.sum(X, axis=-1, keepdims=True)", lambda v: np.sum(v["X"], axis=-1, keepdims=True)),
    ("np.mean(X, axis=0)", lambda v: np.mean(v["X"], axis=0)),
    ("X.mean()", lambda v: v["X"].mean()),
    ("np.trace(A) + A.trace()", lambda v: 2 * np.trace(v["A"])),
    ("np.diag(x) @ A", lambda v: np.diag(v["x"]) @ v["A"]),
    ("np.diag(A) + A.diagonal()", lambda v: 2 * np.diag(v["A"])),
    ("np.einsum('ij,kj->ik', X, X)", lambda v: v["X"] @ v["X"].T),
    ("np.einsum('pmn,n->pm', T, x)", lambda v: v["T"] @ v["x"]),
    ("np.transpose(T, (2, 0, 1)).sum(axis=0)", lambda v: np.transpose(v["T"], (2, 0, 1)).sum(0)),
    ("np.transpose(X) @ X + X.T @ X + X.transpose() @ X", lambda v: 3 * v["X"].T @ v["X"]),
    ("np.dot(x, y) + x.dot(y) + np.dot(a, x) @ y", lambda v: (2 + v["a"]) * v["x"] @ v["y"]),
    ("np.matmul(X, x)", lambda v: v["X"] @ v["x"]),
    ("T @ x", lambda v: v["T"] @ v["x"]),
    ("x ** -1 + 2 ** -1 * x - x / 2", lambda v: 1 / v["x"]),
    ("np.power(x, 3)", lambda v: v["x"] ** 3),
    ("-x + +y - 1", lambda v: -v["x"] + v["y"] - 1),
    ("np.pi * a + np.e + np.exp(1.0)", lambda v: np.pi * v["a"] + 2 * np.e),
    ("numpy.tanh(X @ x) + np.absolute(X).sum()", lambda v: np.tanh(v["X"] @ v["x"])
     + np.abs(v["X"]).sum()),
    ("  (x\n + y)", lambda v: v["x"] + v["y"]),
    ("A + x", lambda v: v["A"] + v["x"]),  # numpy broadcasting
]


@pytest.mark.parametrize("text, reference", NUMPY_EXAMPLES, ids=[e[0] for e in NUMPY_EXAMPLES])
def test_numpy_dialect_values_match_numpy(text, reference):
    names = {n.id for n in ast.walk(ast.parse(text.strip(), mode="eval")) if isinstance(n, ast.Name)}
    expr = tc.parse(text, dialect="numpy", **{k: v for k, v in NUMPY_SHAPES.items() if k in names})
    values = random_values(expr, 0.2, 1.5)
    np.testing.assert_allclose(tc.evaluate(expr, values), reference(values), rtol=1e-10)


def test_numpy_dialect_gradient():
    f = tc.parse("np.sum(np.tanh(W @ x) ** 2)", dialect="numpy", W=(3, 4), x=(4,))
    values = random_values(f)
    for name in ("W", "x"):
        fd.check_derivative(f, tc.variables(f)[name], values)


@pytest.mark.parametrize("text, message, start, end", [
    ("lambda: x", "a lambda is not supported in the numpy dialect", 0, 9),
    ("x[y]", "an index is an integer literal, a slice of them", 2, 3),
    ("[x for x in y]", "a comprehension is not supported in the numpy dialect", 0, 14),
    ("x == y", "comparisons are one of <, <=, >, >= between two values (as the condition of "
     "np.where); == and != and chains are not read", 0, 6),
    ("x and y", "'and'/'or' is not supported in the numpy dialect", 0, 7),
    ("x if a else y", "a conditional expression is not supported in the numpy dialect", 0, 13),
    ("(x, y)", "a tuple is not supported in the numpy dialect", 0, 6),
    ("{x}", "a set is not supported in the numpy dialect", 0, 3),
    ("(z := x)", "':=' is not supported in the numpy dialect", 1, 7),
    ("f'{x}'", "an f-string is not supported in the numpy dialect", 0, 6),
    ("x + __import__('os').system('ls')",
     "method .system() is not supported; the methods are sum, mean, var, std, max, min, trace, "
     "diagonal, transpose, reshape, dot, clip, repeat, swapaxes, squeeze, ravel, prod, cumsum, "
     "cumprod, sort, flatten",
     4, 33),
    ("__import__('os')", "calling __import__() is not supported; the numpy dialect calls only "
     "np.<function>(...) and the methods sum, mean, var, std, max, min, trace, diagonal, "
     "transpose, reshape, dot, clip, repeat, swapaxes, squeeze, ravel, prod, cumsum, cumprod, "
     "sort, flatten", 0, 10),
    ("x.__class__", "attribute .__class__ is not supported; only .T and the methods sum, mean, "
     "var, std, max, min, trace, diagonal, transpose, reshape, dot, clip, repeat, swapaxes, "
     "squeeze, ravel, prod, cumsum, cumprod, sort, flatten are", 0, 11),
    ("x.shape", "attribute .shape is not supported", 0, 7),
    ("np.linspace", "np.linspace is not a constant here; call numpy functions, as np.linspace(...)",
     0, 11),
    ("exp(x)", "call numpy functions through np, as np.exp(...)", 0, 3),
    ("np.expp(x)", "unknown or unsupported function np.expp; did you mean np.exp?", 0, 7),
    ("np.sum(x, out=y)", "np.sum: keyword out= is not supported (it takes axis, keepdims)", 10, 15),
    ("np.exp(x, out=y)", "np.exp: keyword out= is not supported", 10, 15),
    ("np.sum(*x)", "'*' unpacking is not supported", 7, 9),
    ("np.einsum(s, x)", "np.einsum: the first argument must be a string literal such as "
     "'ij,j->i'", 0, 15),
    ("np.exp(x, y)", "np.exp takes 1 array argument, got 2", 0, 12),
    ("np.dot(x)", "np.dot takes 2 array arguments, got 1", 0, 9),
    ("np.sum(A, axis=x)", "expected an integer, a tuple of integers, True, False or None", 15, 16),
    ("x % y", "operator Mod is not supported; the numpy dialect reads + - * / ** @", 0, 5),
    ("~x", "only unary - and + are supported", 0, 2),
    ("not x", "only unary - and + are supported", 0, 5),
    ("'abc'", "only real numbers are supported as constants, got 'abc'", 0, 5),
    ("True", "only real numbers are supported as constants, got True", 0, 4),
    ("1j * x", "only real numbers are supported as constants, got 1j", 0, 2),
    ("x + z", "variable 'z' has no shape: pass z=(...) to tc.parse (the numpy dialect needs every "
     "shape)", 4, 5),
    ("np", "np is numpy itself; call its functions, as np.exp(...)", 0, 2),
    ("x +* y", "invalid Python syntax: invalid syntax", 3, 4),
    ("(x + y", "invalid Python syntax: '(' was never closed", 0, 1),
    ("x @ X", "matmul: contracted axes differ: n (last axis of ('n',)) and m (second-to-last axis "
     "of ('m', 'n'))", 2, 3),
    ("x + y + X.T", "add: shapes ('n',) and ('n', 'm') do not broadcast: axis -1 has sizes n and m",
     6, 7),
    ("np.trace(x)", "trace: needs at least 2 axes, got shape ('n',)", 0, 11),
    ("np.sum(A, axis=5)", "sum: axis 5 is out of range for shape ('n', 'n')", 0, 17),
    ("x ** X.T", "power '**': needs a constant exponent, or a positive constant base; for x ** y "
     "with x > 0 write np.exp(y * np.log(x))", 2, 4),
    ("", "empty input: expected an expression such as x'*A*x", 0, 1),
])
def test_numpy_dialect_errors(text, message, start, end):
    try:
        names = {n.id for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name)}
    except SyntaxError:
        names = set(re.findall(r"[A-Za-z_]\w*", text))
    error = parse_error(text, "numpy", **{k: v for k, v in NUMPY_SHAPES.items() if k in names})
    assert error.reason.startswith(message)
    assert error.text == text
    assert (error.position, error.end) == (start, end), str(error)
    assert str(error).endswith(caret(text, start, end))


def test_numpy_dialect_types():
    assert parse_error("x + y", "numpy", x=("n",)).reason.startswith("variable 'y' has no shape")
    assert parse_error("x", "numpy", x="vector").reason.startswith("type of 'x': expected a shape")
    assert parse_error("x", "numpy", x=(3,), q=(3,)).reason == \
        "a shape was given for 'q', which is not in the text"
    assert parse_error("x", dialect="fortran").reason.startswith("parse: unknown dialect 'fortran'")


def test_numpy_dialect_carets_count_characters_not_bytes():
    error = parse_error("(x +\n é)", "numpy", x=("n",))
    assert (error.position, error.end) == (6, 7) and error.text[6] == "é"


@pytest.mark.parametrize("text", [
    "(" * 100_000 + "x" + ")" * 100_000,
    "-" * 100_000 + "x",
    "x" + ".T" * 100_000,
    "+".join(["x"] * 100_000),
])
def test_numpy_dialect_deep_input_is_a_parse_error(text):
    error = parse_error(text, "numpy", x=(3,))
    assert "too many nested parentheses" in error.reason or "nested too deeply" in error.reason


def test_numpy_dialect_long_sums_within_pythons_limits():
    expr = tc.parse("+".join(["x"] * 1000), dialect="numpy", x=(3,))
    np.testing.assert_allclose(tc.evaluate(expr, x=np.ones(3)), 1000.0)


def test_neither_dialect_evaluates_text(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("eval/exec called")

    real_compile = builtins.compile

    def ast_only(source, filename, mode, flags=0, *args, **kwargs):
        assert flags & ast.PyCF_ONLY_AST, "compile called for code, not for an ast"
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    monkeypatch.setattr(builtins, "compile", ast_only)
    tc.parse("x'*A*x")
    tc.parse("x @ A @ x", dialect="numpy", x=(3,), A=(3, 3))
    with pytest.raises(tc.ParseError):
        tc.parse("__import__('os').system('echo no')", dialect="numpy")


def test_a_caller_deep_in_the_stack_still_gets_a_parse_error():
    def nested(levels):
        return nested(levels - 1) if levels else tc.parse("(" * 150 + "x" + ")" * 150)

    room = sys.getrecursionlimit() - len(inspect.stack())
    with pytest.raises(tc.ParseError, match="nested too deeply"):
        nested(room - 100)  # 150 parentheses need about 300 frames: the parser runs out


def test_parse_needs_a_string():
    assert parse_error(3).reason == "parse: expects a string, got int"


# ---------------------------------------------------------------------------
# Regressions from issue 15: the front door tells the truth

@pytest.mark.parametrize("text, reference", [
    ("a - 2", lambda v: v["a"] - 2),
    ("2 - a", lambda v: 2 - v["a"]),
    ("x'*A*x + 1", lambda v: v["x"] @ v["A"] @ v["x"] + 1),
    ("1 + x'*A*x", lambda v: 1 + v["x"] @ v["A"] @ v["x"]),
    ("1/(x'*x)", lambda v: 1 / (v["x"] @ v["x"])),
    ("a*(1/b)", lambda v: v["a"] / v["b"]),
    ("(1/b)*a", lambda v: v["a"] / v["b"]),
    ("2./a", lambda v: 2 / v["a"]),
    ("a.*2", lambda v: 2 * v["a"]),
    ("3.*a", lambda v: 3 * v["a"]),
    ("x - 2", lambda v: v["x"] - 2),
    ("2 ./ x", lambda v: 2 / v["x"]),
    ("A*2 - 1", lambda v: 2 * v["A"] - 1),
    ("(a + 1)*(b - 2)", lambda v: (v["a"] + 1) * (v["b"] - 2)),
])
def test_every_operand_survives_constant_folding(text, reference):
    expr = tc.parse(text)
    values = random_values(expr, 0.2, 1.5)
    assert set(tc.variables(expr)) == set(values) and values, text
    np.testing.assert_allclose(tc.evaluate(expr, values), reference(values), rtol=1e-12)
    assert tc.parse("(1 + 2)*3 - 2^3") is tc.const(1.0)  # only a literal op a literal folds


def test_to_text_of_a_scalar_minus_a_number_reads_back():
    a = tc.var("a")
    again = tc.parse(tc.to_text(a - 2))
    assert float(tc.evaluate(again, a=5.0)) == 3.0


def test_x_to_the_zero_is_the_identity_of_x_size_and_keeps_x():
    expr = tc.parse("A^0")
    assert shapes(expr) == {"A": ("n", "n")}
    A = RNG.standard_normal((4, 4))
    np.testing.assert_array_equal(tc.evaluate(expr, A=A), np.eye(4))  # the size binds from A
    np.testing.assert_array_equal(tc.evaluate(tc.grad(tc.sum(expr), "A"), A=A), np.zeros((4, 4)))
    expr = tc.parse("x'*A^0*x + a^0 + sum(x.^0)")
    values = random_values(expr)
    np.testing.assert_allclose(tc.evaluate(expr, values), values["x"] @ values["x"] + 1 + 3)
    for name in ("A", "a"):
        assert np.all(tc.evaluate(tc.grad(expr, name), values) == 0)


@pytest.mark.parametrize("text, message, start, end", [
    ("x.^(b+1)", "elementwise power '.^': needs a constant exponent, or a positive constant base; "
     "for a^b write exp(b*log(a))", 1, 3),
    ("A^(a-1)", "power '^': a matrix power needs an integer constant exponent, got '(a-1)'", 1, 2),
    ("a^(2*b)", "power '^': needs a constant exponent, or a positive constant base; for a^b write "
     "exp(b*log(a))", 1, 2),
])
def test_a_variable_exponent_is_an_error_never_a_constant(text, message, start, end):
    error = parse_error(text)
    assert str(error) == message + caret(text, start, end)
    values = {"x": np.array([0.5, 2.0])}  # a positive constant base: exp(x log 2)
    np.testing.assert_allclose(tc.evaluate(tc.parse("2.^(x+1)"), values), 2.0 ** (values["x"] + 1))


def test_a_transpose_after_a_power_applies_to_the_power():
    x = RNG.uniform(0.5, 1.5, 3)
    A = RNG.standard_normal((3, 3))
    np.testing.assert_allclose(tc.evaluate(tc.parse("A^2'"), A=A), (A @ A).T)
    np.testing.assert_allclose(tc.evaluate(tc.parse("A.^2'*x"), A=A, x=x), (A ** 2).T @ x)
    np.testing.assert_allclose(tc.evaluate(tc.parse("x.^2'*x"), x=x), (x ** 2) @ x)
    np.testing.assert_allclose(tc.evaluate(tc.parse("A'^2"), A=A), A.T @ A.T)
    np.testing.assert_allclose(tc.evaluate(tc.parse("A^2^3"), A=A), np.linalg.matrix_power(A, 6))


@pytest.mark.parametrize("text, shown, start, end", [
    ("1e400*x", "the number 1e400 is too large: it overflows a double (the largest is about "
     "1.8e308)", 0, 5),
    ("x*2^(10^10)", "'(2^(10^10))' is inf (an overflow, a division by zero or a power outside its "
     "domain); a constant must be a finite number", 2, 11),
    ("10^400+a", "'(10^400)' is inf (an overflow, a division by zero or a power outside its "
     "domain); a constant must be a finite number", 0, 6),
    ("(0/0)*x", "'(0/0)' is nan (an overflow, a division by zero or a power outside its domain); a "
     "constant must be a finite number", 0, 5),
    ("x/0", "division '/': division by the constant 0", 1, 2),
])
def test_a_number_that_overflows_is_an_error_not_inf(text, shown, start, end):
    assert str(parse_error(text)) == shown + caret(text, start, end)
    # 2^10^10 is (2^10)^10 under the left-to-right rule: finite, and exact
    assert tc.parse("2^10^10") is tc.const(float(2 ** 100))


@pytest.mark.parametrize("text, suggestion", [
    ("(x+y)*z", "write (x+y)'*z for the inner product, (x+y)*z' for the outer product, (x+y).*z"),
    ("exp(x)*y", "write exp(x)'*y for the inner product, exp(x)*y' for the outer product"),
    ("x+(y)*z", "write (y)'*z for the inner product"),
    ("((x+y)-(z+w))*z", "write ((x+y)-(z+w))'*z for the inner product"),
    ("(x+y)-(z+w)*v", "write (z+w)'*v for the inner product"),
    ("(x)+(y)-x*(z)", "write x'*(z) for the inner product"),
])
def test_the_transpose_hint_quotes_balanced_text(text, suggestion):
    reason = parse_error(text).reason
    assert suggestion in reason
    quoted = reason.split("; write ")[1]
    for part in quoted.split(", "):
        expression = part.split(" for ")[0].split(" elementwise")[0]
        assert expression.count("(") == expression.count(")"), expression
    assert "unknown function 'f'" in parse_error("f(x)*y").reason


@pytest.mark.parametrize("text, message, start, end", [
    ("jnp.sum(x)", "unknown name 'jnp' in jnp.sum(...): the numpy dialect calls numpy's functions "
     "as np.<function>(...) (or numpy.<function>); if jnp is a variable, pass jnp=(...) with its "
     "shape", 0, 3),
    ("torch.exp(x)", "unknown name 'torch' in torch.exp(...): the numpy dialect calls numpy's "
     "functions as np.<function>(...) (or numpy.<function>); if torch is a variable, pass "
     "torch=(...) with its shape", 0, 5),
    ("np.random.rand(3)", "np.random.rand is not supported; the numpy dialect reads np.<function> "
     "and np.linalg.<function>", 0, 14),
    ("np.exp(1000.0) * x", "'np.exp(1000.0)' is inf (an overflow, a division by zero or a power "
     "outside its domain); a constant must be a finite number", 0, 14),
    ("1e400 * x", "the number 1e400 is too large: it overflows a double (the largest is about "
     "1.8e308)", 0, 5),
    ("x / 0", "division '/': division by the constant 0", 2, 3),
    ("np.power(x, x)", "power '**': needs a constant exponent, or a positive constant base; for "
     "x ** y with x > 0 write np.exp(y * np.log(x))", 0, 14),
])
def test_numpy_dialect_refuses_what_it_cannot_read_truthfully(text, message, start, end):
    error = parse_error(text, "numpy", **({"x": ("n",)} if "x" in text.replace("exp", "") else {}))
    assert str(error) == message + caret(text, start, end)


def test_numpy_dialect_keeps_every_operand():
    values = {"a": 1.7, "b": 0.6, "x": np.array([0.5, 1.0, 2.0])}
    for text, expected in [("a - 2", values["a"] - 2), ("x @ x + 1", values["x"] @ values["x"] + 1),
                           ("1 / (x @ x)", 1 / (values["x"] @ values["x"])),
                           ("a * (1 / b)", values["a"] / values["b"])]:
        expr = tc.parse(text, dialect="numpy", **{n: np.shape(values[n]) for n in values
                                                  if n in text})
        assert float(tc.evaluate(expr, values)) == pytest.approx(expected, rel=1e-12), text


def test_norm2_in_text_is_the_engines_norm_with_its_subgradient_at_zero():
    f = tc.parse("norm2(x)", x=(3,))
    assert np.allclose(tc.evaluate(tc.grad(f, "x"), x=np.array([3.0, 4.0, 0.0])), [0.6, 0.8, 0.0])
    assert np.array_equal(tc.evaluate(tc.grad(f, "x"), x=np.zeros(3)), np.zeros(3))  # not NaN


def test_a_power_of_a_power_prints_with_parentheses():
    nested = tc.parse("a^2^3")  # MATLAB: left to right, (a²)³
    assert float(tc.evaluate(nested, a=2.0)) == 64.0
    assert str(nested) == "(a²)³"
    assert str(tc.parse("a^(2^3)")) == "a⁸"
