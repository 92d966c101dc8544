"""The matrix dialect, step 3: syntax tree → types (kinds and dimension classes, unified
across the whole text, then named), and the table of the dialect's matrix functions."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..errors import ParseError, TensorCalcError, closest
from ..expression import construct as c
from ..expression.functions import FUNCTIONS
from ..expression.nodes import Contraction, Delta, check_dim
from ..expression.linalg import det, inv, logdet
from .decomposition_names import DECOMPOSITION_FUNCTIONS
from ..expression.reductions import norm2
from .grammar import Binary, Call, Index, Name, Number, Transpose, Unary
from .text_indexing import index_type, key_names, resolve_indices
from .vocabulary import FUNCTIONS as _MORE_FUNCTIONS


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
        self.names = {node.name for node in order if isinstance(node, Name)} | key_names(order)
        unused = sorted(set(types) - self.names)
        if unused:
            raise ParseError(f"a type was given for {', '.join(map(repr, unused))}, which "
                             f"{'is' if len(unused) == 1 else 'are'} not in the text", text)
        self.variables: dict = {}
        self.pending_indices, self.index_keys = [], {}  # x(2:end): read once the sizes are known
        for node in order:
            self.types[node] = self.infer(node, [self.types[child] for child in node.children])
        resolve_indices(self)

    def typed(self, kind: str, dims: tuple) -> _Type:
        return _Type(kind, tuple(dims))

    def same_shapes(self, node, args: list, what: str) -> _Type:
        """The type of an elementwise operation of ``args`` (a scalar broadcasts)."""
        shaped = [a for a in args if a.kind != "scalar"]
        for a in shaped[1:]:
            if a.kind != shaped[0].kind:
                raise self.error(f"{what}: needs operands of the same shape", node.span)
            self.unify_all(zip(shaped[0].dims, a.dims), lambda *_: self.error(
                f"{what}: shapes differ", node.span))
        return _Type(shaped[0].kind, shaped[0].dims) if shaped else _SCALAR

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
        if isinstance(node, Index):
            return index_type(self, node, args[0])
        return self.call(node, args)

    def name(self, node: Name) -> _Type:
        name = node.name
        if name in self.variables:
            return self.variables[name]
        if name not in self.overrides:
            if name == "eye":
                n = self.dims.new()
                return _Type("matrix", (n, n))
            if name in _MATRIX_FUNCTIONS or _elementwise_row(name) or name in _NOT_YET \
                    or name in _MORE_FUNCTIONS:
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
        def shown():  # only an error spells the operands out
            return f"{self.show(node.left, a)} by {self.show(node.right, b)}"
        if result is None:
            l, r = _short(self.text, node.left), _short(self.text, node.right)
            hint = (f"; write {l}'*{r} for the inner product, {l}*{r}' for the outer product, "
                    f"{l}.*{r} elementwise" if a.kind == b.kind == "column" else
                    "; transpose the second one for the inner product" if a.kind == b.kind else
                    "; transpose the vector, or use .* for the elementwise product")
            raise self.error(f"matrix product '*': cannot multiply {shown()}{hint}", node.op_span)
        if (a.kind, b.kind) != ("column", "row"):
            self.unify_all([(a.dims[-1], b.dims[0])], lambda x, y: self.error(
                f"matrix product '*': cannot multiply {shown()}: the inner dimensions "
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
        self.square(node, a, what, node.left)
        return _Type("matrix", a.dims)

    def unknown_function(self, name: str, span: tuple) -> ParseError:
        known = [*_MATRIX_FUNCTIONS, *_MORE_FUNCTIONS, *(n for n in FUNCTIONS if _elementwise_row(n)), *_NOT_YET]
        close = closest(name, known)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return self.error(f"unknown function {name!r}{hint}", span)

    def square(self, node, a: _Type, what: str, operand) -> None:
        self.unify_all([a.dims], lambda *_: self.error(
            f"{what}: needs a square matrix, got {self.show(operand, a)}", node.span
            if isinstance(node, Call) else node.op_span))

    def call(self, node: Call, args: list) -> _Type:
        name = node.name
        if name in _NOT_YET and not _available(name):
            raise self.error(f"{name!r} is not supported yet", node.name_span)
        if name in _MORE_FUNCTIONS:  # the Python API's names: notation/vocabulary.py
            arities, check, _ = _MORE_FUNCTIONS[name]
            if len(args) not in arities:
                raise self.error(f"{name!r} takes {' or '.join(map(str, arities))} argument"
                                 f"{'s' if arities[-1] > 1 else ''}, got {len(args)}", node.span)
            return check(self, node, args)
        rule = _MATRIX_FUNCTIONS.get(name)
        if rule is None and _elementwise_row(name):
            rule = _ELEMENTWISE
        if rule is None:
            raise self.unknown_function(name, node.name_span)
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
    if isinstance(node, (Name, Number, Call, Index)) or _one_group(snippet):
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
    return c.apply_function("abs", x) if x.ndim == 0 else norm2(x)


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
    "det": (_SQUARE, lambda typer, a: _SCALAR, lambda x, t: det(x)),
    "logdet": (_SQUARE, lambda typer, a: _SCALAR, lambda x, t: logdet(x)),
    "inv": (_SQUARE, _same, lambda x, t: inv(x)),
    **DECOMPOSITION_FUNCTIONS,
}
_ELEMENTWISE = (_ANY, _same, None)  # built from the row of tc.FUNCTIONS of the same name
# Names matrixcalculus.org knows that the engine may not have yet (found at parse time if it does).
_NOT_YET = ("det", "logdet", "inv", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh",
            "arcsinh", "arccosh", "arctanh")


def _elementwise_row(name: str) -> bool:
    row = FUNCTIONS.get(name)
    return row is not None and not row.has_param


def is_function(name: str) -> bool:
    """A name the matrix dialect calls when ``(`` follows it (any other name is indexed)."""
    return name in _MATRIX_FUNCTIONS or name in _MORE_FUNCTIONS or _elementwise_row(name) \
        or name in _NOT_YET


def _available(name: str) -> bool:
    return name in _MATRIX_FUNCTIONS or _elementwise_row(name)
