"""Reading expressions from text: ``tc.parse("x'*A*x")``.

>>> import numpy as np, tensorcalc as tc
>>> f = tc.parse("x'*A*x")
>>> {name: v.shape for name, v in tc.variables(f).items()}
{'A': ('n', 'n'), 'x': ('n',)}
>>> float(tc.evaluate(f, x=np.array([1.0, 2.0]), A=np.eye(2)))
5.0

Two dialects, each a pipeline of small pure steps:

* ``"matrix"`` (the default) reads the language of matrixcalculus.org: text →
  tokens → syntax tree (a Pratt parser) → types (kinds and dimension classes,
  unified across the whole text) → expression.  A name's first letter gives
  its kind as on that site (a–g scalar, h–z column vector, A–Z matrix), and
  ``x'`` is a row vector, so ``x'*A*x`` is a scalar and ``x*y'`` an outer
  product.  Free dimensions are named ``n, m, k, …`` in order of appearance.
* ``"numpy"`` reads a numpy expression through the standard library's ``ast``,
  walking a whitelist of node types; every variable's shape is given.

Neither dialect ever calls ``eval``, ``exec`` or ``compile``.  Every problem is
a :class:`~tensorcalc.errors.ParseError` that quotes the text with a caret under
the offending part.  The passes over trees are iterative and the parser bounds
its nesting depth, so no input raises ``RecursionError``.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import re
from dataclasses import dataclass, replace
from typing import NamedTuple, Optional

import numpy as np

from ..expression import construct as c
from ..errors import ParseError, TensorCalcError, closest
from ..expression.functions import FUNCTIONS
from ..expression.nodes import Contraction, Delta, check_dim

MAX_DEPTH = 200  # nested parentheses, prefix and postfix operators, right-nested powers


def parse(text: str, dialect: str = "matrix", **types):
    """An expression from text, in matrixcalculus.org's language or as numpy code.

    >>> import numpy as np, tensorcalc as tc
    >>> f = tc.parse("sum(exp(A*x))", A=(3, 4))
    >>> {name: v.shape for name, v in tc.variables(f).items()}
    {'A': (3, 4), 'x': (4,)}
    >>> g = tc.parse("np.sum(np.exp(A @ x))", dialect="numpy", A=(3, 4), x=(4,))
    >>> values = dict(A=np.ones((3, 4)), x=np.zeros(4))
    >>> float(tc.evaluate(f, values)), float(tc.evaluate(g, values))
    (3.0, 3.0)
    >>> try:
    ...     tc.parse("A*x+y", A=(3, 4), y=(4,))
    ... except tc.ParseError as error:
    ...     print(error)
    add '+': shapes differ: column vector 'A*x' of shape (3,) and column vector 'y' of shape (4,)
        A*x+y
           ^

    ``types`` overrides a name's kind (``"scalar"``, ``"vector"``, ``"row vector"``,
    ``"matrix"``, ``"symmetric matrix"``) or gives its shape (``X=("n", "d")``,
    ``A=(3, 3)``); the numpy dialect needs a shape for every name.
    """
    if not isinstance(text, str):
        raise ParseError(f"parse: expects a string, got {type(text).__name__}")
    if not text.strip():
        raise ParseError("empty input: expected an expression such as x'*A*x", text, 0)
    if dialect == "matrix":
        return _parse_matrix(text, types)
    if dialect == "numpy":
        return _parse_numpy(text, types)
    raise ParseError(f"parse: unknown dialect {dialect!r}; use 'matrix' or 'numpy'")


def _tc():
    import tensorcalc

    return tensorcalc  # looked up at parse time, so functions added later are found


# ---------------------------------------------------------------------------
# Matrix dialect, step 1: text -> tokens


class Token(NamedTuple):
    kind: str  # "number", "name", "op" or "end"
    text: str
    start: int
    end: int


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:[0-9]+(?:\.(?![*/^])[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\.[*/^]|[-+*/^'(),])
  | (?P<bad>.)
""", re.VERBOSE | re.DOTALL)

_CHARACTER_HINTS = {
    "@": "; the matrix dialect writes every product with '*' (dialect='numpy' reads '@')",
    ".": "; the elementwise operators are .* ./ .^",
    '"': "; transpose with a single quote: x'",
}


def tokenize(text: str):
    """Tokens with their positions, ending with an ``end`` token (lazily: the parser stops
    early on a too-deep input without reading all of it).

    >>> [t.text for t in tokenize("2.*x'")]
    ['2', '.*', 'x', "'", '']
    """
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "bad":
            char = match.group()
            raise ParseError(f"unexpected character {char!r}{_CHARACTER_HINTS.get(char, '')}",
                             text, match.start())
        if kind != "space":
            yield Token(kind, match.group(), match.start(), match.end())
    yield Token("end", "", len(text), len(text))


# ---------------------------------------------------------------------------
# Step 2: tokens -> syntax tree (immutable nodes holding their text span)


@dataclass(frozen=True, eq=False)  # eq=False: identity hashing, never a recursive hash
class Number:
    value: float
    span: tuple
    children = ()


@dataclass(frozen=True, eq=False)
class Name:
    name: str
    span: tuple
    children = ()


@dataclass(frozen=True, eq=False)
class Unary:
    op: str
    operand: object
    span: tuple

    @property
    def children(self):
        return (self.operand,)


@dataclass(frozen=True, eq=False)
class Transpose:
    operand: object
    span: tuple
    op_span: tuple

    @property
    def children(self):
        return (self.operand,)


@dataclass(frozen=True, eq=False)
class Binary:
    op: str
    left: object
    right: object
    span: tuple
    op_span: tuple

    @property
    def children(self):
        return (self.left, self.right)


@dataclass(frozen=True, eq=False)
class Call:
    name: str
    args: tuple
    span: tuple
    name_span: tuple

    @property
    def children(self):
        return self.args


# Binding powers (left, right), loosest first: + -, then * / .* ./, then unary - +, then
# ^ .^ and the postfix ' on one level, left to right as in MATLAB (x.^2' is (x.^2)', a^b^c is
# (a^b)^c).  A sign right after ^ or .^ belongs to the exponent alone: 2^-1*x is (2^-1)*x.
_POWER = 40
_INFIX = {"+": (10, 11), "-": (10, 11), "*": (20, 21), "/": (20, 21), ".*": (20, 21),
          "./": (20, 21), "^": (_POWER, _POWER + 1), ".^": (_POWER, _POWER + 1)}
_PREFIX_POWER = 30


class _Parser:
    """A Pratt parser; ``depth`` counts nesting, bounded by :data:`MAX_DEPTH`."""

    def __init__(self, text: str, tokens):
        self.text, self.stream, self.tokens, self.at = text, tokens, [], 0

    def peek(self) -> Token:
        if self.at == len(self.tokens):
            self.tokens.append(next(self.stream, None) or self.tokens[-1])  # end repeats
        return self.tokens[self.at]

    def advance(self) -> Token:
        token = self.peek()
        self.at += 1
        return token

    def error(self, reason: str, token: Token) -> ParseError:
        return ParseError(reason, self.text, token.start, token.end)

    def too_deep(self, token: Token) -> ParseError:
        return self.error(f"nesting is deeper than {MAX_DEPTH} levels (parentheses, unary signs, "
                          "transposes and powers count); split the expression", token)

    def parse(self):
        tree = self.expression(0, 0)
        token = self.peek()
        if token.text == ")":
            raise self.error("unbalanced parentheses: this ')' has no matching '('", token)
        if token.kind != "end":
            raise self.error(f"unexpected {_describe_token(token)}: expected an operator", token)
        return tree

    def expression(self, min_power: int, depth: int):
        if depth > MAX_DEPTH:
            raise self.too_deep(self.peek())
        left = self.prefix(depth)
        transposes = 0
        while True:
            token = self.peek()
            if token.text == "'" and min_power <= _POWER:
                transposes += 1
                if depth + transposes > MAX_DEPTH:
                    raise self.too_deep(token)
                self.advance()
                left = Transpose(left, (left.span[0], token.end), (token.start, token.end))
                continue
            powers = _INFIX.get(token.text) if token.kind == "op" else None
            if powers is None or powers[0] < min_power:
                return left
            self.advance()
            if self.peek().kind == "end":
                raise self.error(f"unexpected end of input: {token.text!r} needs a right operand",
                                 self.peek())
            right = self.expression(powers[1], depth + 1)
            left = Binary(token.text, left, right, (left.span[0], right.span[1]),
                          (token.start, token.end))

    def prefix(self, depth: int):
        token = self.advance()
        if token.kind == "number":
            value = float(token.text)
            if not np.isfinite(value):
                raise self.error(f"the number {token.text} is too large: it overflows a double "
                                 "(the largest is about 1.8e308)", token)
            return Number(value, (token.start, token.end))
        if token.kind == "name":
            if self.peek().text == "(":
                return self.call(token, depth)
            return Name(token.text, (token.start, token.end))
        if token.text == "(":
            inner = self.expression(0, depth + 1)
            closing = self.closing(token)
            return replace(inner, span=(token.start, closing.end))  # the span holds the parentheses
        if token.text in ("-", "+"):
            previous = self.tokens[self.at - 2] if self.at >= 2 else None
            after_power = previous is not None and previous.text in ("^", ".^")
            operand = self.expression(_POWER + 1 if after_power else _PREFIX_POWER, depth + 1)
            return Unary(token.text, operand, (token.start, operand.span[1]))
        if token.kind == "end":
            raise self.error("unexpected end of input: expected an operand", token)
        if token.text == ")":
            raise self.error("unbalanced parentheses: this ')' has no matching '(', or the "
                             "parentheses are empty", token)
        previous = self.tokens[self.at - 2] if self.at >= 2 else None
        if token.text == "*" and previous is not None and previous.text == "*":
            raise self.error("'**' is not an operator here: write powers with ^ (or .^ "
                             "elementwise)", token)
        raise self.error(f"unexpected {_describe_token(token)}: expected a number, a name or '('",
                         token)

    def call(self, name: Token, depth: int):
        opening = self.advance()
        args = []
        if self.peek().text == ")":
            closing = self.advance()
        else:
            while True:
                args.append(self.expression(0, depth + 1))
                if self.peek().text == ",":
                    self.advance()
                    continue
                closing = self.closing(opening)
                break
        return Call(name.text, tuple(args), (name.start, closing.end), (name.start, name.end))

    def closing(self, opening: Token) -> Token:
        token = self.advance()
        if token.text == ")":
            return token
        if token.kind == "end":
            raise self.error("unbalanced parentheses: this '(' is never closed", opening)
        raise self.error(f"unexpected {_describe_token(token)}: expected ')' or an operator", token)


def _describe_token(token: Token) -> str:
    kind = {"number": "number", "name": "name", "op": "operator"}[token.kind]
    return f"{kind} {token.text!r}"


def parse_tree(text: str):
    """The syntax tree of a matrix-dialect expression.

    >>> parse_tree("-x^2").op, parse_tree("-x^2").operand.op
    ('-', '^')
    """
    try:
        return _Parser(text, tokenize(text)).parse()
    except RecursionError:  # only if the caller is itself deep in the stack
        raise ParseError("the expression is nested too deeply", text, 0) from None


def _postorder(root) -> list:
    """Every node of a syntax tree, children first, without recursion."""
    order, stack = [], [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        else:
            stack.append((node, True))
            for child in reversed(node.children):
                stack.append((child, False))
    return order


# ---------------------------------------------------------------------------
# Step 3: syntax tree -> types.  A type is a kind and one dimension class per axis;
# classes are unified (union-find) across the whole text, then named.


@dataclass(frozen=True)
class _Type:
    kind: str  # "scalar", "column", "row" or "matrix"
    dims: tuple  # dimension classes
    value: Optional[float] = None  # a constant scalar's value, folded


_SCALAR = _Type("scalar", ())
_KIND_WORDS = {"scalar": "scalar", "column": "column vector", "row": "row vector",
               "matrix": "matrix"}
_KINDS = {"scalar": "scalar", "vector": "column", "column vector": "column", "row vector": "row",
          "matrix": "matrix", "symmetric matrix": "matrix"}
_FREE_NAMES = "nmkpqrstuvwlj"


class _Dims:
    """Union-find over dimension classes; a class may be fixed to a number or a given name."""

    def __init__(self):
        self.parent, self.fixed, self.named = [], [], {}

    def new(self, fixed=None) -> int:
        if isinstance(fixed, str) and fixed in self.named:
            return self.named[fixed]
        self.parent.append(len(self.parent))
        self.fixed.append(fixed)
        if isinstance(fixed, str):
            self.named[fixed] = len(self.parent) - 1
        return len(self.parent) - 1

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def unify(self, a: int, b: int) -> bool:
        a, b = sorted((self.find(a), self.find(b)))  # the older class stays the root
        if a == b:
            return True
        if None not in (self.fixed[a], self.fixed[b]) and self.fixed[a] != self.fixed[b]:
            return False
        self.parent[b] = a
        self.fixed[a] = self.fixed[a] if self.fixed[a] is not None else self.fixed[b]
        return True

    def resolve(self, reserved: set) -> list:
        """The dimension of every class: its fixed value, else n, m, k, … by first appearance."""
        taken = reserved | set(self.named)
        candidates = itertools.chain(_FREE_NAMES, (f"n{i}" for i in itertools.count(2)))
        free = (name for name in candidates if name not in taken)
        names: dict = {}
        for a in range(len(self.parent)):
            root = self.find(a)
            if root not in names:
                names[root] = self.fixed[root] if self.fixed[root] is not None else next(free)
        return [names[self.find(a)] for a in range(len(self.parent))]


class _Typer:
    """The type of each syntax node, from its children's (one postorder pass, no recursion)."""

    def __init__(self, text: str, order: list, types: dict):
        self.text, self.dims, self.types = text, _Dims(), {}
        self.overrides = types
        self.names = {node.name for node in order if isinstance(node, Name)}
        unused = sorted(set(types) - self.names)
        if unused:
            raise ParseError(f"a type was given for {', '.join(map(repr, unused))}, which "
                             f"{'is' if len(unused) == 1 else 'are'} not in the text", text)
        self.variables: dict = {}
        for node in order:
            self.types[node] = self.infer(node, [self.types[child] for child in node.children])

    def error(self, reason: str, span: tuple) -> ParseError:
        return ParseError(reason, self.text, span[0], span[1])

    def show(self, node, t: _Type) -> str:
        """``column vector 'x' of shape (n,)``, with the names the dimensions would get now."""
        snippet = self.text[node.span[0]:node.span[1]].strip()
        snippet = snippet if len(snippet) <= 30 else snippet[:29] + "…"
        if t.kind == "scalar":
            return f"scalar {snippet!r}"
        return f"{_KIND_WORDS[t.kind]} {snippet!r} of shape {self.shape_text(t.dims)}"

    def shape_text(self, dims) -> str:
        names = self.dims.resolve(self.names)
        parts = [str(names[d]) for d in dims]
        return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"

    def unify_all(self, pairs, fail) -> None:
        for a, b in pairs:
            if not self.dims.unify(a, b):
                raise fail(a, b)

    def infer(self, node, args: list) -> _Type:
        if isinstance(node, Number):
            return _Type("scalar", (), node.value)
        if isinstance(node, Name):
            return self.name(node)
        if isinstance(node, Unary):
            (a,) = args
            return a if node.op == "+" or a.value is None else _Type("scalar", (), -a.value)
        if isinstance(node, Transpose):
            (a,) = args
            flipped = {"column": "row", "row": "column"}.get(a.kind, a.kind)
            return _Type(flipped, tuple(reversed(a.dims)), a.value)
        if isinstance(node, Binary):
            return self.binary(node, *args)
        return self.call(node, args)

    def name(self, node: Name) -> _Type:
        name = node.name
        if name in self.variables:
            return self.variables[name]
        if name not in self.overrides:
            if name == "eye":
                n = self.dims.new()
                return _Type("matrix", (n, n))
            if name in _MATRIX_FUNCTIONS or _elementwise_row(name) or name in _NOT_YET:
                raise self.error(f"{name!r} is a function: call it as {name}(...)", node.span)
        kind, shape = self.declared(name, node)
        dims = tuple(self.dims.new(d) for d in shape)
        if self.overrides.get(name) == "symmetric matrix":
            self.dims.unify(*dims)  # both dimensions are free: this cannot fail
        self.variables[name] = _Type(kind, dims)
        return self.variables[name]

    def declared(self, name: str, node: Name) -> tuple:
        """(kind, shape) from ``types`` or from the first letter, as on matrixcalculus.org."""
        given = self.overrides.get(name)
        if given is None:
            first = name[0]
            if "a" <= first <= "g":
                return "scalar", ()
            if "h" <= first <= "z":
                return "column", (None,)
            if "A" <= first <= "Z":
                return "matrix", (None, None)
            raise self.error(f"cannot tell the kind of {name!r} from its first letter (a-g "
                             f"scalar, h-z vector, A-Z matrix); pass {name}='vector' or a shape",
                             node.span)
        if isinstance(given, str):
            if given not in _KINDS:
                raise ParseError(f"type of {name!r}: unknown kind {given!r}; use one of "
                                 f"{', '.join(map(repr, _KINDS))} or a shape tuple", self.text)
            if given == "symmetric matrix" and "symmetric" not in inspect.signature(_tc().var).parameters:
                raise ParseError(f"type of {name!r}: symmetric variables are not supported yet",
                                 self.text)
            kind = _KINDS[given]
            return kind, {"scalar": (), "column": (None,), "row": (None,)}.get(kind, (None, None))
        shape = _checked_shape(name, given, self.text)
        if len(shape) > 2:
            raise ParseError(f"type of {name!r}: shape {shape} has {len(shape)} axes, but the matrix "
                             "dialect has scalars, vectors and matrices; use dialect='numpy'",
                             self.text)
        return ("scalar", "column", "matrix")[len(shape)], shape

    def binary(self, node: Binary, a: _Type, b: _Type) -> _Type:
        op, left, right = node.op, node.left, node.right
        if a.value is not None and b.value is not None:  # only a literal op a literal folds
            return _Type("scalar", (), self.folded(node, op, a.value, b.value))
        # below, at least one operand is not a literal: the result is never a folded value
        if op in ("/", "./") and b.value == 0:
            raise self.error(f"{'division' if op == '/' else _OPERATION[op]} {op!r}: division by "
                             "the constant 0", node.op_span)
        if op in ("+", "-", ".*", "./"):
            if a.kind == "scalar" or b.kind == "scalar":
                return _Type(b.kind, b.dims) if a.kind == "scalar" else _Type(a.kind, a.dims)
            what = f"{_OPERATION[op]} {op!r}"
            if a.kind != b.kind:
                hint = ("; a vector never broadcasts against a matrix" if "matrix" in (a.kind, b.kind)
                        else "; transpose one of them with '")
                raise self.error(f"{what}: needs operands of the same shape, got "
                                 f"{self.show(left, a)} and {self.show(right, b)}{hint}", node.op_span)
            self.unify_all(zip(a.dims, b.dims), lambda *_: self.error(
                f"{what}: shapes differ: {self.show(left, a)} and {self.show(right, b)}", node.op_span))
            return _Type(a.kind, a.dims)
        if op == "*":
            return self.product(node, a, b)
        if op == "/":
            if b.kind != "scalar":
                raise self.error(f"division '/': divides only by a scalar, got {self.show(right, b)}; "
                                 "use ./ for elementwise division", node.op_span)
            return _Type(a.kind, a.dims)
        return self.power(node, a, b)

    def folded(self, node, op: str, a: float, b: float) -> float:
        """``a op b`` for two literals; a result that is not a finite number is an error."""
        value = _fold(op, a, b)
        if not np.isfinite(value):
            raise self.error(f"{_short(self.text, node)!r} is {value} ({_NOT_FINITE}); a constant "
                             "must be a finite number", node.span)
        return value

    def product(self, node: Binary, a: _Type, b: _Type) -> _Type:
        if a.kind == "scalar" or b.kind == "scalar":
            return _Type(b.kind, b.dims) if a.kind == "scalar" else _Type(a.kind, a.dims)
        result = {("matrix", "matrix"): lambda: _Type("matrix", (a.dims[0], b.dims[1])),
                  ("matrix", "column"): lambda: _Type("column", a.dims[:1]),
                  ("row", "matrix"): lambda: _Type("row", b.dims[1:]),
                  ("row", "column"): lambda: _SCALAR,
                  ("column", "row"): lambda: _Type("matrix", (a.dims[0], b.dims[0]))}.get((a.kind, b.kind))
        shown = f"{self.show(node.left, a)} by {self.show(node.right, b)}"
        if result is None:
            l, r = _short(self.text, node.left), _short(self.text, node.right)
            hint = (f"; write {l}'*{r} for the inner product, {l}*{r}' for the outer product, "
                    f"{l}.*{r} elementwise" if a.kind == b.kind == "column" else
                    "; transpose the second one for the inner product" if a.kind == b.kind else
                    "; transpose the vector, or use .* for the elementwise product")
            raise self.error(f"matrix product '*': cannot multiply {shown}{hint}", node.op_span)
        if (a.kind, b.kind) != ("column", "row"):
            self.unify_all([(a.dims[-1], b.dims[0])], lambda x, y: self.error(
                f"matrix product '*': cannot multiply {shown}: the inner dimensions "
                f"{self.dims.fixed[self.dims.find(x)]} and {self.dims.fixed[self.dims.find(y)]} "
                "differ", node.op_span))
        return result()

    def power(self, node: Binary, a: _Type, b: _Type) -> _Type:
        op = node.op
        what = "power '^'" if op == "^" else "elementwise power '.^'"
        if b.kind != "scalar":
            if op == ".^" and a.value is not None and a.value > 0:
                return _Type(b.kind, b.dims)
            raise self.error(f"{what}: the exponent must be a scalar constant, got "
                             f"{self.show(node.right, b)}", node.op_span)
        if a.kind == "scalar" or op == ".^":
            if b.value is None and not (a.value is not None and a.value > 0):
                raise self.error(f"{what}: needs a constant exponent, or a positive constant base; "
                                 "for a^b write exp(b*log(a))", node.op_span)
            return _Type(a.kind, a.dims)
        if a.kind != "matrix":
            raise self.error(f"{what}: needs a scalar or a square matrix, got {self.show(node.left, a)}; "
                             "use .^ for the elementwise power", node.op_span)
        k = b.value
        if k is None or not float(k).is_integer():
            raise self.error(f"{what}: a matrix power needs an integer constant exponent, got "
                             f"{_short(self.text, node.right)!r}", node.op_span)
        if k < 0 and not hasattr(_tc(), "inv"):
            raise self.error(f"{what}: negative powers of a matrix need the matrix inverse, which "
                             "is not supported yet", node.op_span)
        self.square(node, a, what, node.left)
        return _Type("matrix", a.dims)

    def square(self, node, a: _Type, what: str, operand) -> None:
        self.unify_all([a.dims], lambda *_: self.error(
            f"{what}: needs a square matrix, got {self.show(operand, a)}", node.span
            if isinstance(node, Call) else node.op_span))

    def call(self, node: Call, args: list) -> _Type:
        name = node.name
        if name in _NOT_YET and not _available(name):
            raise self.error(f"{name!r} is not supported yet", node.name_span)
        rule = _MATRIX_FUNCTIONS.get(name)
        if rule is None and _elementwise_row(name):
            rule = _ELEMENTWISE
        if rule is None:
            known = [*_MATRIX_FUNCTIONS, *(n for n in FUNCTIONS if _elementwise_row(n)), *_NOT_YET]
            close = closest(name, known)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise self.error(f"unknown function {name!r}{hint}", node.name_span)
        if len(args) != 1:
            raise self.error(f"{name!r} takes 1 argument, got {len(args)}", node.span)
        (a,) = args
        accepts, result = rule[0], rule[1]
        if a.kind not in accepts:
            raise self.error(f"{name}: does not take a {self.show(node.args[0], a)}"
                             f"{accepts.get('hint', '')}", node.span)
        if a.kind == "matrix" and accepts[a.kind] == "square":
            self.square(node, a, name, node.args[0])
        if name == "norm2" and a.kind == "matrix":
            raise self.error("norm2 of a matrix (the spectral norm) is not supported yet; for the "
                             "Frobenius norm write sqrt(sum(A.*A))", node.span)
        return result(self, a)


def _short(text: str, node) -> str:
    """The node's text, parenthesized unless it is one name, number, call or group, so that a
    hint can quote it as an operand (``(x+y)'*z``, never ``x+y'*z``)."""
    snippet = text[node.span[0]:node.span[1]].strip()
    if isinstance(node, (Name, Number, Call)) or _one_group(snippet):
        return snippet
    return f"({snippet})"


def _one_group(snippet: str) -> bool:
    """``(x+y)`` is one parenthesized group; ``(x+y)-(z+w)`` is not."""
    depth = 0
    for at, char in enumerate(snippet):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return at == len(snippet) - 1 and char == ")"
    return False


_NOT_FINITE = "an overflow, a division by zero or a power outside its domain"


def _fold(op: str, a: float, b: float) -> float:
    with np.errstate(all="ignore"):
        a, b = np.float64(a), np.float64(b)
        return float({"+": a + b, "-": a - b, "*": a * b, ".*": a * b, "/": a / b, "./": a / b,
                      "^": a ** b, ".^": a ** b}[op])


_OPERATION = {"+": "add", "-": "subtract", ".*": "elementwise product", "./": "elementwise division"}


def _checked_shape(name: str, given, text: str) -> tuple:
    if not isinstance(given, (tuple, list)):
        raise ParseError(f"type of {name!r}: expected a shape tuple such as ('n',) or (3, 3), or a "
                         f"kind such as 'vector', got {given!r}", text)
    try:
        return tuple(check_dim(d, f"type of {name!r}") for d in given)
    except TensorCalcError as error:
        raise ParseError(str(error), text) from None


# The matrix language's functions: (kinds accepted, result type, build).  A kind maps to
# True, or "square" when a matrix must be square.

def _same(typer, a):
    return _Type(a.kind, a.dims)


def _diag_type(typer, a):
    return _Type("column", a.dims[:1]) if a.kind == "matrix" else _Type("matrix", a.dims * 2)


def _fresh(kind: str, count: int):
    return lambda typer, a: _Type(kind, tuple(typer.dims.new() for _ in range(count)))


def _diag(x, t):
    if x.ndim == 2:
        return c.diagonal(x)
    n = x.shape[0]
    return Contraction([Delta(n), x], [(0, 1), (1,)], (0, 1), {0: n, 1: n})


def _norm2(x, t):
    # the engine's norm, whose gradient at x = 0 is the stated subgradient 0 (sqrt(x'x) gives 0·∞)
    return c.apply_function("abs", x) if x.ndim == 0 else _tc().norm2(x)


_ANY = {"scalar": True, "column": True, "row": True, "matrix": True}
_VECTORS = {"column": True, "row": True, "hint": "; it needs a vector or a square matrix"}
_SQUARE = {"matrix": "square", "hint": "; it needs a square matrix"}
_SCALAR_ONLY = {"scalar": True, "hint": "; it needs a scalar, as in vector(1)"}
_MATRIX_FUNCTIONS = {
    "sum": (_ANY, lambda typer, a: _SCALAR, lambda x, t: c.sum(x)),
    "norm1": (_ANY, lambda typer, a: _SCALAR, lambda x, t: c.sum(c.apply_function("abs", x))),
    "norm2": (_ANY, lambda typer, a: _SCALAR, _norm2),  # a matrix is refused in _Typer.call
    "tr": (_SQUARE, lambda typer, a: _SCALAR, lambda x, t: c.trace(x)),
    "diag": ({**_VECTORS, "matrix": "square"}, _diag_type, _diag),
    "vector": (_SCALAR_ONLY, _fresh("column", 1), lambda x, t: c.broadcast_to(x, t)),
    "matrix": (_SCALAR_ONLY, _fresh("matrix", 2), lambda x, t: c.broadcast_to(x, t)),
    "det": (_SQUARE, lambda typer, a: _SCALAR, lambda x, t: _tc().det(x)),
    "logdet": (_SQUARE, lambda typer, a: _SCALAR, lambda x, t: _tc().logdet(x)),
    "inv": (_SQUARE, _same, lambda x, t: _tc().inv(x)),
}
_ELEMENTWISE = (_ANY, _same, None)  # built from the row of tc.FUNCTIONS of the same name
# Names matrixcalculus.org knows that the engine may not have yet (found at parse time if it does).
_NOT_YET = ("det", "logdet", "inv", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh",
            "arcsinh", "arccosh", "arctanh")


def _elementwise_row(name: str) -> bool:
    row = FUNCTIONS.get(name)
    return row is not None and not row.has_param


def _available(name: str) -> bool:
    return hasattr(_tc(), name) if name in _MATRIX_FUNCTIONS else _elementwise_row(name)


# ---------------------------------------------------------------------------
# Step 4: typed tree -> expression


def _parse_matrix(text: str, types: dict):
    tree = parse_tree(text)
    order = _postorder(tree)
    typer = _Typer(text, order, types)
    sizes = typer.dims.resolve(typer.names)

    def shape(t: _Type) -> tuple:
        return tuple(sizes[d] for d in t.dims)

    variables = {}
    for name, t in typer.variables.items():
        options = {"symmetric": True} if types.get(name) == "symmetric matrix" else {}
        variables[name] = _tc().var(name, shape(t), **options)
    values: dict = {}
    for node in order:
        t = typer.types[node]
        if t.value is not None:
            values[node] = t.value
            continue
        if isinstance(node, Binary) and node.op in ("+", "-"):
            values[node] = _Terms.extend_by(values[node.left], values[node.right], node.op)
            continue
        args = [_Terms.total(values[child]) for child in node.children]
        try:
            values[node] = _build(node, args, [typer.types[child] for child in node.children],
                                  shape(t), variables)
        except ParseError:
            raise
        except TensorCalcError as error:
            span = getattr(node, "op_span", None) or getattr(node, "name_span", None) or node.span
            raise ParseError(str(error), text, span[0], span[1]) from None
    result = _Terms.total(values[tree])
    return c.const(result) if isinstance(result, float) else result


class _Terms(list):
    """The terms of a chain of ``+`` and ``-``, added once at the end: adding them one at a
    time would copy the growing flat sum at every step.  ``shape`` is the broadcast shape so
    far, checked at each operator so that an error points at the right one."""

    shape = ()

    @staticmethod
    def extend_by(left, right, op: str) -> "_Terms":
        right = _Terms.total(right)
        if isinstance(left, _Terms):
            terms = left  # the left chain belongs to this node alone: extend it in place
        else:
            terms = _Terms([left])
            terms.shape = np.shape(left) if isinstance(left, float) else left.shape
        right_shape = np.shape(right) if isinstance(right, float) else right.shape
        terms.shape = c.broadcast_shapes("add" if op == "+" else "subtract", terms.shape, right_shape)
        terms.append(right if op == "+" else -right if isinstance(right, float) else c.scale(-1.0, right))
        return terms

    @staticmethod
    def total(value):
        return c.add(*value) if isinstance(value, _Terms) else value


def _build(node, args: list, arg_types: list, shape: tuple, variables: dict):
    if isinstance(node, Name):
        return variables[node.name] if node.name in variables else Delta(shape[0])
    if isinstance(node, Unary):
        return -args[0] if node.op == "-" else args[0]
    if isinstance(node, Transpose):
        return c.transpose(args[0]) if arg_types[0].kind == "matrix" else args[0]
    if isinstance(node, Call):
        if node.name in _MATRIX_FUNCTIONS:
            return _MATRIX_FUNCTIONS[node.name][2](c.as_expr(args[0]), shape)
        return c.apply_function(node.name, args[0])
    a, b = args
    kinds = (arg_types[0].kind, arg_types[1].kind)
    if node.op in (".*", "/", "./") or (node.op == "*" and "scalar" in kinds):
        return a * b if node.op in ("*", ".*") else _divide(a, b)
    if node.op == "*":
        return c.einsum("i,j->ij", a, b) if kinds == ("column", "row") else c.matmul(a, b)
    if node.op == "^" and kinds[0] == "matrix":
        k = int(b)
        if k == 0:  # I of X's size, with X kept (its size binds, d/dX is 0): I + 0 X
            return c.add(Delta(a.shape[0]), c.scale(0.0, a))
        return _matrix_power(a, k) if k > 0 else _matrix_power(_tc().inv(a), -k)
    return c.power(a, b)


def _finite(value: float, text: str) -> float:
    """A folded constant, or an error if it is not a finite number."""
    if not np.isfinite(value):
        raise ParseError(f"{text!r} is {value} ({_NOT_FINITE}); a constant must be a finite number")
    return value


def _power(base, exponent):
    """``base ** exponent`` in the numpy dialect: a constant exponent, or a positive constant
    base (``2 ** x`` is ``exp(x log 2)``); a variable exponent of a variable base is refused,
    as in the matrix dialect, since ``exp(y log x)`` would differ from numpy for ``x < 0``."""
    if not isinstance(exponent, float) and not (isinstance(base, float) and base > 0):
        raise ParseError("power '**': needs a constant exponent, or a positive constant base; "
                         "for x ** y with x > 0 write np.exp(y * np.log(x))")
    return c.power(base, exponent)


def _divide(a, b):
    """``a / b``; dividing by a constant is a scaling (``x/2`` is ``0.5 x``, not ``x 2⁻¹``)."""
    if isinstance(b, float) and b == 0:
        raise ParseError("division '/': division by the constant 0")
    return c.product("divide", a, _fold("/", 1.0, b)) if isinstance(b, float) else c.as_expr(a) / b


def _matrix_power(x, k: int):
    """``x^k`` by repeated squaring (the squares are shared nodes); ``x^0`` is the identity."""
    result, square = None, x
    while k:
        if k & 1:
            result = square if result is None else c.matmul(result, square)
        k >>= 1
        if k:
            square = c.matmul(square, square)
    return Delta(x.shape[0]) if result is None else result


# ---------------------------------------------------------------------------
# The numpy dialect: the standard library's ast, walked through a whitelist


_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
           ast.MatMult: "@"}
_NODE_WORDS = {"Lambda": "a lambda", "Subscript": "indexing", "ListComp": "a comprehension",
               "GeneratorExp": "a comprehension", "SetComp": "a comprehension",
               "DictComp": "a comprehension", "Compare": "a comparison", "BoolOp": "'and'/'or'",
               "IfExp": "a conditional expression", "NamedExpr": "':='", "Starred": "'*' unpacking",
               "List": "a list", "Tuple": "a tuple", "Dict": "a dict", "Set": "a set",
               "JoinedStr": "an f-string", "Await": "await", "Yield": "yield"}
_ALIASES = {"absolute": "abs"}
_NUMPY_CONSTANTS = {"pi": np.pi, "e": np.e}
_METHODS = ("sum", "mean", "trace", "diagonal", "dot", "transpose")


def _numpy_diag(x):
    if x.ndim not in (1, 2):
        raise ParseError(f"np.diag: needs a 1-D or 2-D array, got shape {x.shape}")
    return _diag(x, None)


def _square_2d(name, build):
    def checked(x):
        if x.ndim != 2:
            raise ParseError(f"np.{name}: only 2-D arrays are supported, got shape {x.shape}")
        return build(x)
    return checked


def _dot(a, b):
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.ndim > 2 or b.ndim > 2:
        raise ParseError(f"np.dot: arrays of more than 2 axes (shapes {a.shape} and {b.shape}) are "
                         "not supported; use np.einsum or @")
    return c.matmul(a, b)


def _outer(a, b):
    if a.ndim != 1 or b.ndim != 1:
        raise ParseError(f"np.outer: only 1-D arrays are supported, got shapes {a.shape} and {b.shape}")
    return c.einsum("i,j->ij", a, b)


# name: (number of array arguments, keywords allowed, build(*arrays, **keywords))
_NUMPY_FUNCTIONS = {
    "sum": (1, ("axis", "keepdims"), c.sum),
    "mean": (1, ("axis", "keepdims"), c.mean),
    "trace": (1, (), _square_2d("trace", c.trace)),
    "diagonal": (1, (), _square_2d("diagonal", c.diagonal)),
    "diag": (1, (), _numpy_diag),
    "transpose": (1, ("axes",), c.transpose),
    "dot": (2, (), _dot),
    "matmul": (2, (), c.matmul),
    "outer": (2, (), _outer),
    "power": (2, (), c.power),
    "linalg.det": (1, (), lambda x: _tc().det(x)),  # when the engine has them
    "linalg.inv": (1, (), lambda x: _tc().inv(x)),
}


class _NumpyReader:
    """Checks each ast node against the whitelist and builds it, children first."""

    def __init__(self, text: str, types: dict):
        self.text, self.types = text, types
        self.offset = len(text) - len(text.lstrip())  # ast refuses leading indentation
        source = text[self.offset:]
        self.lines = source.split("\n")
        self.line_starts = np.cumsum([0] + [len(line) + 1 for line in self.lines]).tolist()
        try:
            self.tree = ast.parse(source, mode="eval")
        except SyntaxError as error:
            start = self.position(error.lineno or 1, (error.offset or 1) - 1, chars=True)
            end = self.position(error.end_lineno or error.lineno or 1,
                                (error.end_offset or error.offset or 1) - 1, chars=True)
            raise ParseError(f"invalid Python syntax: {error.msg}", text, start, max(end, start + 1)) \
                from None
        except (RecursionError, MemoryError):
            raise ParseError("the expression is nested too deeply for Python's parser; use the "
                             "matrix dialect or split it", text) from None
        except ValueError as error:  # a null character
            raise ParseError(f"invalid Python source: {error}", text) from None

    def position(self, lineno: int, col: int, chars: bool = False) -> int:
        """A character offset into the original text from ast's (line, column)."""
        line = self.lines[min(lineno, len(self.lines)) - 1]
        if not chars:  # ast's columns count UTF-8 bytes
            col = len(line.encode()[:col].decode(errors="ignore"))
        return self.offset + self.line_starts[min(lineno, len(self.lines)) - 1] + col

    def span(self, node) -> tuple:
        return (self.position(node.lineno, node.col_offset),
                self.position(node.end_lineno, node.end_col_offset))

    def error(self, reason: str, node) -> ParseError:
        start, end = self.span(node)
        return ParseError(reason, self.text, start, end)

    def read(self):
        names = {n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name)}
        unused = sorted(set(self.types) - names)
        if unused:
            raise ParseError(f"a shape was given for {', '.join(map(repr, unused))}, which "
                             f"{'is' if len(unused) == 1 else 'are'} not in the text", self.text)
        self.variables = {}
        for name, given in self.types.items():
            self.variables[name] = _tc().var(name, _checked_shape(name, given, self.text))
        values: dict = {}
        stack = [(self.tree.body, False)]
        while stack:
            node, done = stack.pop()
            operands = self.operands(node)
            if not done:
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(operands))
                continue
            try:
                if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)) \
                        and not all(isinstance(values[child], float) for child in operands):
                    values[node] = _Terms.extend_by(values[node.left], values[node.right],
                                                    _BINOPS[type(node.op)])
                    continue
                values[node] = self.build(node, [_Terms.total(values[child]) for child in operands])
            except TensorCalcError as error:
                if isinstance(error, ParseError) and error.text is not None:
                    raise
                reason = error.reason if isinstance(error, ParseError) else str(error)
                start, end = self.operator_span(node) if isinstance(node, ast.BinOp) else self.span(node)
                raise ParseError(reason, self.text, start, end) from None
        result = _Terms.total(values[self.tree.body])
        return c.const(result) if isinstance(result, float) else result

    def operands(self, node) -> list:
        """The sub-nodes that are values; anything off the whitelist is an error here."""
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINOPS:
                raise self.error(f"operator {type(node.op).__name__} is not supported; the numpy "
                                 "dialect reads + - * / ** @", node)
            return [node.left, node.right]
        if isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise self.error("only unary - and + are supported", node)
            return [node.operand]
        if isinstance(node, (ast.Constant, ast.Name)):
            return []
        if isinstance(node, ast.Attribute):
            if self.numpy_name(node.value):
                if node.attr in _NUMPY_CONSTANTS:
                    return []
                raise self.error(f"np.{node.attr} is not a constant here; call numpy functions, "
                                 f"as np.{node.attr}(...)", node)
            if node.attr != "T":
                raise self.error(f"attribute .{node.attr} is not supported; only .T and the "
                                 f"methods {', '.join(_METHODS)} are", node)
            return [node.value]
        if isinstance(node, ast.Call):
            name, receiver, args = self.call_parts(node)
            return ([receiver] if receiver is not None else []) + args
        word = _NODE_WORDS.get(type(node).__name__, type(node).__name__)
        raise self.error(f"{word} is not supported in the numpy dialect, which reads arithmetic "
                         "(+ - * / ** @), .T, numbers, variables and calls of np.<function>", node)

    def numpy_name(self, node) -> bool:
        return isinstance(node, ast.Name) and node.id in ("np", "numpy") and node.id not in self.types

    def call_parts(self, node: ast.Call) -> tuple:
        """(function name, receiver of a method call or None, value arguments)."""
        func = node.func
        path, root = [], func
        while isinstance(root, ast.Attribute):
            path.insert(0, root.attr)
            root = root.value
        if isinstance(root, ast.Name) and path and root.id not in self.types:
            dotted = ".".join([root.id, *path])
            if not self.numpy_name(root):  # jnp.sum(x), torch.exp(x), scipy.special.expit(x)
                raise self.error(f"unknown name {root.id!r} in {dotted}(...): the numpy dialect "
                                 "calls numpy's functions as np.<function>(...) (or "
                                 f"numpy.<function>); if {root.id} is a variable, pass "
                                 f"{root.id}=(...) with its shape", root)
            if len(path) > 2 or (len(path) == 2 and path[0] != "linalg"):
                raise self.error(f"{dotted} is not supported; the numpy dialect reads np.<function> "
                                 "and np.linalg.<function>", func)
        if isinstance(func, ast.Attribute) and self.numpy_name(func.value):
            name, receiver = func.attr, None
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute) \
                and func.value.attr == "linalg" and self.numpy_name(func.value.value):
            name, receiver = f"linalg.{func.attr}", None
            if name in _NUMPY_FUNCTIONS and not hasattr(_tc(), func.attr):
                raise self.error(f"np.{name} is not supported yet", func)
        elif isinstance(func, ast.Attribute) and func.attr in _METHODS:
            name, receiver = func.attr, func.value
        elif isinstance(func, ast.Attribute):
            raise self.error(f"method .{func.attr}() is not supported; the methods are "
                             f"{', '.join(_METHODS)}", node)
        elif isinstance(func, ast.Name) and (func.id in _NUMPY_FUNCTIONS or _elementwise_row(func.id)):
            raise self.error(f"call numpy functions through np, as np.{func.id}(...)", func)
        elif isinstance(func, ast.Name):
            raise self.error(f"calling {func.id}() is not supported; the numpy dialect calls only "
                             "np.<function>(...) and the methods " + ", ".join(_METHODS), func)
        else:
            raise self.error("only np.<function>(...) and method calls are supported", func)
        name = _ALIASES.get(name, name)
        if name not in _NUMPY_FUNCTIONS and name != "einsum" and not _elementwise_row(name):
            known = [*_NUMPY_FUNCTIONS, "einsum", *(n for n in FUNCTIONS if _elementwise_row(n))]
            close = closest(name, known)
            hint = f"; did you mean np.{close[0]}?" if close else ""
            raise self.error(f"unknown or unsupported function np.{name}{hint}", func)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.error("'*' unpacking is not supported", arg)
        allowed = _NUMPY_FUNCTIONS[name][1] if name in _NUMPY_FUNCTIONS else ()
        for keyword in node.keywords:
            if keyword.arg not in allowed:
                word = f"keyword {keyword.arg}=" if keyword.arg else "'**' unpacking"
                raise self.error(f"np.{name}: {word} is not supported"
                                 + (f" (it takes {', '.join(allowed)})" if allowed else ""), keyword)
        args = list(node.args)
        if name == "einsum":
            if not args or not (isinstance(args[0], ast.Constant) and isinstance(args[0].value, str)):
                raise self.error("np.einsum: the first argument must be a string literal such as "
                                 "'ij,j->i'", node)
            return name, receiver, args[1:]
        if name in ("transpose",) and receiver is None and len(args) == 2:
            return name, receiver, args[:1]  # np.transpose(x, (1, 0)): axes read as a literal
        count = _NUMPY_FUNCTIONS[name][0] if name in _NUMPY_FUNCTIONS else 1
        if len(args) + (receiver is not None) != count:
            raise self.error(f"np.{name} takes {count} array argument{'s' * (count > 1)}, got "
                             f"{len(args) + (receiver is not None)}", node)
        return name, receiver, args

    def build(self, node, args: list):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise self.error(f"only real numbers are supported as constants, got {node.value!r}", node)
            try:
                value = float(node.value)
            except OverflowError:
                value = np.inf
            if not np.isfinite(value):
                start, end = self.span(node)
                raise self.error(f"the number {self.text[start:end]} is too large: it overflows a "
                                 "double (the largest is about 1.8e308)", node)
            return value
        if isinstance(node, ast.Name):
            if self.numpy_name(node):
                raise self.error(f"{node.id} is numpy itself; call its functions, as "
                                 f"{node.id}.exp(...)", node)
            if node.id not in self.variables:
                raise self.error(f"variable {node.id!r} has no shape: pass {node.id}=(...) to "
                                 "tc.parse (the numpy dialect needs every shape)", node)
            return self.variables[node.id]
        if isinstance(node, ast.UnaryOp):
            return -args[0] if isinstance(node.op, ast.USub) else args[0]
        if isinstance(node, ast.Attribute):
            return _NUMPY_CONSTANTS[node.attr] if not args else c.transpose(args[0])
        if isinstance(node, ast.BinOp):
            return self.binop(node, *args)
        name, receiver, _ = self.call_parts(node)
        name = _ALIASES.get(name, name)
        if name == "einsum":
            return c.einsum(node.args[0].value, *args)
        if name not in _NUMPY_FUNCTIONS:
            if isinstance(args[0], float):
                with np.errstate(all="ignore"):
                    value = float(FUNCTIONS[name].numpy(np.float64(args[0]), None))
                return _finite(value, ast.unparse(node))
            return c.apply_function(name, args[0])
        keywords = {k.arg: self.literal(k.value) for k in node.keywords}
        if name == "transpose" and receiver is None and len(node.args) == 2:
            keywords["axes"] = self.literal(node.args[1])
        if name == "power" and all(isinstance(a, float) for a in args):
            return _finite(_fold("^", *args), ast.unparse(node))
        if name == "power":
            return _power(*args)
        return _NUMPY_FUNCTIONS[name][2](*(c.as_expr(a) for a in args), **keywords)

    def binop(self, node: ast.BinOp, a, b):
        symbol = _BINOPS[type(node.op)]
        if isinstance(a, float) and isinstance(b, float) and symbol != "@":
            return _finite(_fold({"**": "^"}.get(symbol, symbol), a, b), ast.unparse(node))
        return {"@": c.matmul, "*": lambda x, y: c.product("multiply", x, y), "/": _divide,
                "**": _power}[symbol](a, b)

    def operator_span(self, node: ast.BinOp) -> tuple:
        """Where the operator is: the first occurrence of its symbol between the operands."""
        symbol = _BINOPS[type(node.op)]
        left_end, right_start = self.span(node.left)[1], self.span(node.right)[0]
        at = self.text.find(symbol, left_end, right_start)
        return (at, at + len(symbol)) if at >= 0 else self.span(node)

    def literal(self, node):
        """A keyword's value: an int, a tuple of ints, True/False or None."""
        if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (bool, int))):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) \
                and isinstance(node.operand, ast.Constant) and type(node.operand.value) is int:
            return -node.operand.value
        if isinstance(node, ast.Tuple):
            return tuple(self.literal(item) for item in node.elts)
        raise self.error("expected an integer, a tuple of integers, True, False or None", node)


def _parse_numpy(text: str, types: dict):
    return _NumpyReader(text, types).read()
