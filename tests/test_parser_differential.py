"""Differential test of the text parser against numpy.

A hypothesis strategy writes random well-typed text in the matrix language *together with* its
value computed directly in numpy (and, where one exists, the same expression in the numpy
dialect), so the expected value never goes through the parser.  Every operator
(``+ - * / ^ .* ./ .^ '`` and unary minus), every function of the language (``sum norm1 norm2 tr
det logdet inv diag vector matrix eye`` and every elementwise row of ``tc.FUNCTIONS``), every
literal form (``2``, ``0.5``, ``.25``, ``2.``, ``1e-3``, ``2.5E2``, ``-3``), redundant parentheses,
transposes and random whitespace appear.  Parentheses are left out wherever the precedence rules
(README, "Text input") make them unnecessary, so the rules are tested too.

Properties: the parsed expression evaluates to the numpy value; its vector-Jacobian product with
respect to every variable matches central differences along a random direction (``fd.py``);
``parse(to_text(parse(text)))`` has the same value (or ``to_text`` raises ``NoTextForm``); the
numpy dialect agrees; broken texts raise ``ParseError`` within a second.

The number of examples scales with the hypothesis profile (``ci`` bounded, ``soak`` 20,000)::

    HYPOTHESIS_PROFILE=soak .venv/bin/python -m pytest tests/test_parser_differential.py
"""

import math
import os
import time
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fd
import tensorcalc as tc

N = 3  # every vector has N entries and every matrix is N x N
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
EXAMPLES = int(os.environ.get("TC_DIFFERENTIAL_EXAMPLES", 0)) or \
    {"ci": 40, "dev": 300}.get(PROFILE, 20_000)

ADD, MUL, UNARY, POW, ATOM = range(1, 6)  # precedence, loosest first

SCALARS, COLUMNS, MATRICES = "abc", "xyz", "ABX"


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# The numpy oracle for each elementwise row, written independently of tensorcalc's table.
NUMPY_FUNCTIONS = {
    "exp": np.exp, "log": np.log, "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
    "sigmoid": _sigmoid, "softplus": lambda z: np.logaddexp(0.0, z), "sqrt": np.sqrt,
    "relu": lambda z: np.maximum(z, 0.0), "abs": np.abs, "step": lambda z: (z > 0).astype(float),
    "sign": np.sign, "log1p": np.log1p, "expm1": np.expm1, "tan": np.tan, "arcsin": np.arcsin,
    "arccos": np.arccos, "arctan": np.arctan, "sinh": np.sinh, "cosh": np.cosh,
    "erf": np.vectorize(math.erf, otypes=[float]),
    "log2": np.log2, "log10": np.log10, "exp2": np.exp2, "arcsinh": np.arcsinh,
    "arccosh": np.arccosh, "arctanh": np.arctanh, "floor": np.floor, "ceil": np.ceil,
    "round": np.round, "trunc": np.trunc, "nan_to_num": np.nan_to_num,
    "isfinite": lambda z: np.isfinite(z).astype(float), "sinc": lambda z: np.where(
        z == 0, 1.0, np.sin(np.pi * z) / (np.pi * np.where(z == 0, 1.0, z))),
}
ELEMENTWISE = sorted(name for name, row in tc.FUNCTIONS.items() if not row.has_param)
# Functions defined (and smooth enough) on every real number; the others get arguments squashed
# into the row's test domain.
ENTIRE = {"exp", "sin", "cos", "tanh", "sigmoid", "softplus", "relu", "abs", "step", "sign",
          "arctan", "sinh", "cosh", "erf", "expm1", "exp2", "arcsinh", "floor", "ceil", "round",
          "trunc", "sinc", "nan_to_num", "isfinite"}

LITERALS = [("2", 2.0), ("3", 3.0), ("0.5", 0.5), (".25", 0.25), ("1.5", 1.5), ("2.", 2.0),
            ("1e-3", 1e-3), ("2.5E2", 250.0), ("1E1", 10.0), ("0.125e1", 1.25), ("7", 7.0)]


@dataclass(frozen=True)
class Piece:
    text: str  # the matrix language
    value: np.ndarray  # numpy, computed directly
    kind: str  # "s" scalar, "c" column, "r" row, "m" matrix
    prec: int  # how tightly the text binds (ADD … ATOM)
    numpy: Optional[str] = None  # the numpy dialect, where it has a spelling


def test_every_elementwise_row_has_a_numpy_oracle():
    assert set(ELEMENTWISE) <= set(NUMPY_FUNCTIONS), set(ELEMENTWISE) - set(NUMPY_FUNCTIONS)


class Writer:
    """Draws pieces; ``used`` collects the variables, ``values`` holds their numpy values."""

    def __init__(self, draw, values):
        self.draw, self.values, self.used = draw, values, set()

    # -- text helpers ------------------------------------------------------------------
    def ws(self) -> str:
        return self.draw(st.sampled_from(["", "", "", " ", "  ", "\t"]))

    def wrap(self, piece: Piece, least: int) -> str:
        """The piece's text as an operand that needs precedence ``least`` (parenthesized when
        needed, and sometimes when not).  A literal ending in a point (``2.``) is always
        parenthesized: before ``*`` or ``^`` it would read as ``.*`` or ``.^``, as in MATLAB."""
        if piece.prec < least or piece.text.endswith(".") or self.draw(st.integers(0, 9)) == 0:
            return f"({self.ws()}{piece.text}{self.ws()})"
        return piece.text

    @staticmethod
    def npw(piece: Piece) -> Optional[str]:
        return None if piece.numpy is None else f"({piece.numpy})"

    def op(self, symbol: str) -> str:
        return f"{self.ws()}{symbol}{self.ws()}"

    @staticmethod
    def np_join(*parts) -> Optional[str]:
        return None if any(p is None for p in parts) else "".join(parts)

    def bounded(self, piece: Piece) -> Piece:
        """Keep values moderate, so that exp, powers and products stay well inside float64."""
        if np.max(np.abs(piece.value), initial=0.0) <= 8.0:
            return piece
        return Piece(f"tanh({piece.text})", np.tanh(piece.value), piece.kind, ATOM,
                     self.np_join("np.tanh(", piece.numpy, ")"))

    # -- leaves --------------------------------------------------------------------------
    def variable(self, kind: str) -> Piece:
        if kind == "r":
            column = self.variable("c")
            return Piece(column.text + "'", column.value, "r", POW, column.numpy + ".T")
        name = self.draw(st.sampled_from({"s": SCALARS, "c": COLUMNS, "m": MATRICES}[kind]))
        self.used.add(name)
        return Piece(name, self.values[name], kind, ATOM, name)

    def literal(self) -> Piece:
        text, value = self.draw(st.sampled_from(LITERALS))
        if self.draw(st.booleans()) and value < 100:
            return Piece("-" + text, np.float64(-value), "s", UNARY, f"-{text}")
        return Piece(text, np.float64(value), "s", ATOM, text)

    # -- the grammar ------------------------------------------------------------------
    def piece(self, kind: str, depth: int) -> Piece:
        if depth <= 0 or self.draw(st.integers(0, 3)) == 0:
            if kind == "s" and self.draw(st.booleans()):
                return self.literal()
            return self.variable(kind)
        rules = {"s": self.scalar_rules, "c": self.column_rules, "r": self.row_rules,
                 "m": self.matrix_rules}[kind]()
        rule = self.draw(st.sampled_from(rules))
        return self.bounded(rule(depth - 1))

    def positive(self, kind: str, depth: int) -> Piece:
        """A piece whose entries are positive (>= 0.5): a divisor, a log's or a root's argument."""
        inner = self.piece(kind, depth)
        form = self.draw(st.sampled_from(["square", "exp", "sigmoid"]))
        if form == "exp":
            return Piece(f"exp({inner.text})", np.exp(inner.value), kind, ATOM,
                         self.np_join("np.exp(", inner.numpy, ")"))
        if form == "sigmoid":
            return Piece(f"0.5{self.op('+')}sigmoid({inner.text})", 0.5 + _sigmoid(inner.value),
                         kind, ADD, self.np_join("0.5 + np.sigmoid(", inner.numpy, ")"))
        power = "^" if kind == "s" else ".^"
        return Piece(f"1{self.op('+')}{self.wrap(inner, POW)}{power}2", 1.0 + inner.value ** 2,
                     kind, ADD, self.np_join("1 + ", self.npw(inner), " ** 2"))

    def well_conditioned(self, depth: int) -> Piece:
        """tanh(M) + 3 I: strictly diagonally dominant, so inv, det and logdet are safe."""
        inner = self.piece("m", depth)
        return Piece(f"tanh({inner.text}){self.op('+')}3*eye", np.tanh(inner.value) + 3 * np.eye(N),
                     "m", ADD, self.np_join("np.tanh(", inner.numpy, ") + np.diag(3.0 + 0 * np.diagonal(",
                                                   inner.numpy, "))"))

    def binary(self, kind, left: Piece, symbol: str, right: Piece, value, numpy_symbol: str,
               prec: int) -> Piece:
        text = self.wrap(left, prec) + self.op(symbol) + self.wrap(right, prec + 1)
        return Piece(text, value, kind, prec,
                     self.np_join(self.npw(left), f" {numpy_symbol} ", self.npw(right)))

    def elementwise(self, kind: str, depth: int) -> Piece:
        name = self.draw(st.sampled_from(ELEMENTWISE))
        inner = self.piece(kind, depth)
        text, value, numpy = inner.text, inner.value, inner.numpy
        if name not in ENTIRE:  # squash into the row's domain: lo + (hi - lo) sigmoid(inner)
            lo, hi = tc.FUNCTIONS[name].domain
            text = f"{lo!r}{self.op('+')}{hi - lo!r}*sigmoid({text})"
            value = lo + (hi - lo) * _sigmoid(value)
            numpy = self.np_join(f"{lo!r} + {hi - lo!r} * np.sigmoid(", numpy, ")")
        return Piece(f"{name}({self.ws()}{text}{self.ws()})", NUMPY_FUNCTIONS[name](value), kind,
                     ATOM, self.np_join(f"np.{name}(", numpy, ")"))

    def same_kind_rules(self, kind: str) -> list:
        """Rules every kind has: + - .* ./ unary minus, scaling, division, elementwise powers
        and functions."""
        def add(depth):
            a, b = self.piece(kind, depth), self.piece(kind, depth)
            symbol = self.draw(st.sampled_from("+-"))
            value = a.value + b.value if symbol == "+" else a.value - b.value
            return self.binary(kind, a, symbol, b, value, symbol, ADD)

        def hadamard(depth):
            a, b = self.piece(kind, depth), self.piece(kind, depth)
            return self.binary(kind, a, ".*", b, a.value * b.value, "*", MUL)

        def divide_elementwise(depth):
            a, b = self.piece(kind, depth), self.positive(kind, depth)
            return self.binary(kind, a, "./", b, a.value / b.value, "/", MUL)

        def scale(depth):
            s, a = self.piece("s", depth), self.piece(kind, depth)
            symbol = self.draw(st.sampled_from(["*", ".*"]))
            if self.draw(st.booleans()):
                return self.binary(kind, s, symbol, a, s.value * a.value, "*", MUL)
            return self.binary(kind, a, symbol, s, a.value * s.value, "*", MUL)

        def divide(depth):
            a, s = self.piece(kind, depth), self.positive("s", depth)
            symbol = self.draw(st.sampled_from(["/", "./"]))
            return self.binary(kind, a, symbol, s, a.value / s.value, "/", MUL)

        def negate(depth):
            a = self.piece(kind, depth)
            return Piece("-" + self.ws() + self.wrap(a, UNARY), -a.value, kind, UNARY,
                         self.np_join("-", self.npw(a)))

        def power(depth):  # .^ an integer; a positive base also to a negative or fractional power
            symbol = "^" if kind == "s" and self.draw(st.booleans()) else ".^"
            exponent_text, exponent = self.draw(st.sampled_from(
                [("2", 2), ("3", 3), ("0", 0), ("-1", -1), ("(-2)", -2), ("0.5", 0.5),
                 ("1.5", 1.5)]))
            base = self.positive(kind, depth) if exponent < 0 or exponent % 1 else \
                self.piece(kind, depth)
            text = self.wrap(base, POW) + self.op(symbol) + exponent_text
            numpy = self.np_join(self.npw(base), f" ** ({exponent_text})")
            return Piece(text, base.value ** float(exponent), kind, POW, numpy)

        def exponential(depth):  # a positive constant base, a variable exponent: 2.^x
            a = self.piece(kind, depth)
            text = "2" + self.op(".^") + self.wrap(a, POW + 1)
            return Piece(text, 2.0 ** a.value, kind, POW, self.np_join("2.0 ** ", self.npw(a)))

        def function(depth):
            return self.elementwise(kind, depth)

        return [add, hadamard, divide_elementwise, scale, divide, negate, power, exponential,
                function]

    def scalar_rules(self) -> list:
        def product(depth):
            a, b = self.piece("s", depth), self.piece("s", depth)
            return self.binary("s", a, "*", b, a.value * b.value, "*", MUL)

        def inner(depth):
            r, c = self.piece("r", depth), self.piece("c", depth)
            return self.binary("s", r, "*", c, r.value @ c.value, "@", MUL)

        def reduce(depth):
            name = self.draw(st.sampled_from(["sum", "norm1", "norm2", "tr", "det", "logdet"]))
            if name in ("det", "logdet"):
                a = self.well_conditioned(depth)
                value = np.linalg.det(a.value) if name == "det" else np.log(abs(np.linalg.det(a.value)))
                numpy = self.np_join("np.linalg.det(", a.numpy, ")") if name == "det" else None
                return Piece(f"{name}({a.text})", value, "s", ATOM, numpy)
            kind = "m" if name == "tr" else self.draw(st.sampled_from("scrm" if name != "norm2" else "scr"))
            a = self.piece(kind, depth)
            value = {"sum": np.sum, "norm1": lambda v: np.sum(np.abs(v)), "tr": np.trace,
                     "norm2": lambda v: np.sqrt(np.sum(v * v))}[name](a.value)
            numpy = {"sum": "np.sum({})", "norm1": "np.sum(np.abs({}))", "tr": "np.trace({})",
                     "norm2": "np.sqrt(np.sum({0} * {0}))"}[name]
            return Piece(f"{name}({self.ws()}{a.text}{self.ws()})", value, "s", ATOM,
                         None if a.numpy is None else numpy.format(f"({a.numpy})"))

        def transposed(depth):
            a = self.piece("s", depth)
            return Piece(self.wrap(a, POW) + "'", a.value, "s", POW, a.numpy)

        return [*self.same_kind_rules("s"), product, inner, reduce, transposed]

    def column_rules(self) -> list:
        def matrix_vector(depth):
            m, c = self.piece("m", depth), self.piece("c", depth)
            return self.binary("c", m, "*", c, m.value @ c.value, "@", MUL)

        def transposed(depth):
            r = self.piece("r", depth)
            return Piece(self.wrap(r, POW) + "'", r.value, "c", POW, r.numpy)

        def diagonal(depth):
            m = self.piece("m", depth)
            return Piece(f"diag({m.text})", np.diag(m.value), "c", ATOM,
                         self.np_join("np.diag(", m.numpy, ")"))

        def broadcast(depth):  # vector(s) beside a vector that fixes its size
            s, c = self.piece("s", depth), self.piece("c", depth)
            text = f"vector({s.text})" + self.op(".*") + self.wrap(c, MUL + 1)
            return Piece(text, s.value * c.value, "c", MUL,
                         self.np_join(self.npw(s), " * ", self.npw(c)))

        def identity(depth):
            c = self.piece("c", depth)
            return Piece("eye" + self.op("*") + self.wrap(c, MUL + 1), c.value, "c", MUL, c.numpy)

        return [*self.same_kind_rules("c"), matrix_vector, transposed, diagonal, broadcast,
                identity]

    def row_rules(self) -> list:
        def transposed(depth):
            c = self.piece("c", depth)
            return Piece(self.wrap(c, POW) + "'", c.value, "r", POW, c.numpy)

        def vector_matrix(depth):
            r, m = self.piece("r", depth), self.piece("m", depth)
            return self.binary("r", r, "*", m, r.value @ m.value, "@", MUL)

        return [*self.same_kind_rules("r"), transposed, vector_matrix]

    def matrix_rules(self) -> list:
        def product(depth):
            a, b = self.piece("m", depth), self.piece("m", depth)
            return self.binary("m", a, "*", b, a.value @ b.value, "@", MUL)

        def outer(depth):
            c, r = self.piece("c", depth), self.piece("r", depth)
            return Piece(self.wrap(c, MUL) + self.op("*") + self.wrap(r, MUL + 1),
                         np.outer(c.value, r.value), "m", MUL,
                         self.np_join("np.outer(", c.numpy, ", ", r.numpy, ")"))

        def transposed(depth):
            a = self.piece("m", depth)
            return Piece(self.wrap(a, POW) + "'", a.value.T, "m", POW,
                         self.np_join(self.npw(a), ".T"))

        def diagonal(depth):
            c = self.piece("c", depth)
            return Piece(f"diag({c.text})", np.diag(c.value), "m", ATOM,
                         self.np_join("np.diag(", c.numpy, ")"))

        def matrix_power(depth):
            k = self.draw(st.sampled_from([0, 1, 2, 3, -1]))
            a = self.well_conditioned(depth) if k < 0 else self.piece("m", depth)
            exponent = str(k) if k >= 0 else self.draw(st.sampled_from(["-1", "(-1)"]))
            numpy = None
            if a.numpy is not None and k > 0:
                numpy = " @ ".join([f"({a.numpy})"] * k)
            elif a.numpy is not None and k < 0:
                numpy = f"np.linalg.inv({a.numpy})"
            return Piece(self.wrap(a, POW) + self.op("^") + exponent,
                         np.linalg.matrix_power(a.value, k), "m", POW, numpy)

        def inverse(depth):
            a = self.well_conditioned(depth)
            return Piece(f"inv({a.text})", np.linalg.inv(a.value), "m", ATOM,
                         self.np_join("np.linalg.inv(", a.numpy, ")"))

        def broadcast(depth):
            s, a = self.piece("s", depth), self.piece("m", depth)
            text = self.wrap(a, ADD) + self.op("+") + f"matrix({s.text})"
            return Piece(text, a.value + s.value, "m", ADD,
                         self.np_join(self.npw(a), " + ", self.npw(s)))

        return [*self.same_kind_rules("m"), product, outer, transposed, diagonal, matrix_power,
                inverse, broadcast]


SHAPES = {**{n: () for n in SCALARS}, **{n: (N,) for n in COLUMNS},
          **{n: (N, N) for n in MATRICES}}


@st.composite
def expressions(draw, max_depth=4):
    """(text, numpy value, {name: value}, {name: shape}, numpy-dialect text or None)."""
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    values = {name: rng.uniform(-1.5, 1.5, size=shape) for name, shape in SHAPES.items()}
    writer = Writer(draw, values)
    kind = draw(st.sampled_from("scrm"))
    piece = writer.piece(kind, draw(st.integers(1, max_depth)))
    text = writer.ws() + piece.text + writer.ws()
    used = {name: values[name] for name in writer.used}
    return text, np.asarray(piece.value, dtype=float), used, \
        {name: SHAPES[name] for name in writer.used}, piece.numpy


def assert_close(actual, expected, text):
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, f"{text!r}: shape {actual.shape}, numpy {expected.shape}"
    scale = 1.0 + np.max(np.abs(expected), initial=0.0)
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-9 * scale, err_msg=text)


@settings(max_examples=EXAMPLES)
@given(expressions())
def test_parsed_text_evaluates_to_the_numpy_value(example):
    text, expected, values, shapes, _ = example
    expr = tc.parse(text, **shapes)
    assert set(tc.variables(expr)) == set(values), text  # every operand survives
    assert_close(tc.evaluate(expr, values), expected, text)


@settings(max_examples=EXAMPLES)
@given(expressions(max_depth=3), st.integers(0, 2 ** 32 - 1))
def test_gradients_of_parsed_text_match_central_differences(example, seed):
    text, expected, values, shapes, _ = example
    expr = tc.parse(text, **shapes)
    rng = np.random.default_rng(seed)
    for name, variable in tc.variables(expr).items():
        fd.check_vjp(expr, variable, values, rng=rng, n_directions=1, rtol=1e-4)  # the label
        # fd gives names the expression and the variable


@settings(max_examples=EXAMPLES)
@given(expressions())
def test_to_text_reads_back_to_the_same_value(example):
    text, expected, values, shapes, _ = example
    expr = tc.parse(text, **shapes)
    try:
        printed = tc.to_text(expr)
    except tc.NoTextForm:
        return
    again = tc.parse(printed, **{name: shape for name, shape in shapes.items()
                                 if name in tc.variables(tc.parse(printed))})
    assert_close(tc.evaluate(again, values), expected, f"{text!r} printed as {printed!r}")


@settings(max_examples=EXAMPLES)
@given(expressions())
def test_numpy_dialect_evaluates_to_the_numpy_value(example):
    _, expected, values, shapes, numpy_text = example
    if numpy_text is None:
        return
    expr = tc.parse(numpy_text, dialect="numpy", **shapes)
    assert_close(tc.evaluate(expr, values), expected, numpy_text)


BREAKERS = ["shape", "name", "junk", "open", "close", "juxtapose"]


@settings(max_examples=EXAMPLES)
@given(expressions(max_depth=3), st.sampled_from(BREAKERS), st.integers(0, 10 ** 6),
       st.sampled_from("@#$?!;{}[]\"~&|"))
def test_broken_text_is_a_parse_error_within_a_second(example, breaker, where, junk):
    text, _, _, shapes, _ = example
    at = where % (len(text) + 1)
    broken = {"shape": f"({text}) + eye + x + a", "name": f"foo({text})",
              "junk": text[:at] + junk + text[at:], "open": "(" + text,
              "close": text + ")", "juxtapose": f"({text}) x"}[breaker]
    shapes = {**shapes, **({"x": (N,)} if "x" in broken else {})}
    started = time.perf_counter()
    with pytest.raises(tc.ParseError):
        tc.parse(broken, **shapes)
    assert time.perf_counter() - started < 1.0, broken


def test_numpy_dialect_broken_text():
    for text in ["jnp.sum(x)", "np.random.rand(3)", "x +", "x @ @ x", "np.sum(x", "x[0.5]",
                 "x ** y", "1e400 * x", "np.foo(x)", "scipy.special.expit(x)"]:
        started = time.perf_counter()
        with pytest.raises(tc.ParseError):
            tc.parse(text, dialect="numpy", **{n: (N,) for n in "xy" if n in text})
        assert time.perf_counter() - started < 1.0, text
