"""The numpy dialect: a numpy expression read through the standard library's ``ast``,
walking a whitelist of node types; every variable's shape is given.  Nothing is ever
passed to ``eval``, ``exec`` or ``compile``."""

from __future__ import annotations

import ast

import numpy as np

from ..errors import ParseError, TensorCalcError, closest
from ..expression import construct as c
from ..expression.functions import FUNCTIONS
from ..expression.layout import kron
from ..expression.pairwise import maximum, minimum
from ..expression.reductions import norm
from ..expression.arrangement import squeeze, tril, triu
from ..expression.indexing import concatenate, diff, expand_dims, flip, hstack, stack, vstack
from ..expression.linalg import det, inv, solve
from ..expression.diagonals import diagonal, trace
from ..expression.reductions import max as _max, min as _min
from ..expression.statistics import std, variance
from ..expression.decompositions import cholesky, eigvalsh, pinv, qr, svd
from .builder import _divide, _finite, _power, _Terms
from .typer import _checked_shape, _diag, _elementwise_row, _fold


# ---------------------------------------------------------------------------
# The numpy dialect: the standard library's ast, walked through a whitelist


_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
           ast.MatMult: "@"}
_NODE_WORDS = {"Lambda": "a lambda", "ListComp": "a comprehension",
               "GeneratorExp": "a comprehension", "SetComp": "a comprehension",
               "DictComp": "a comprehension", "Compare": "a comparison", "BoolOp": "'and'/'or'",
               "IfExp": "a conditional expression", "NamedExpr": "':='", "Starred": "'*' unpacking",
               "List": "a list", "Tuple": "a tuple", "Dict": "a dict", "Set": "a set",
               "JoinedStr": "an f-string", "Await": "await", "Yield": "yield"}
_ALIASES = {"absolute": "abs", "fabs": "abs"}
_NUMPY_CONSTANTS = {"pi": np.pi, "e": np.e}
_METHODS = ("sum", "mean", "trace", "diagonal", "dot", "transpose")


def _numpy_diag(x):
    if x.ndim not in (1, 2):
        raise ParseError(f"np.diag: needs a 1-D or 2-D array, got shape {x.shape}")
    return _diag(x, None)


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


def _logaddexp(a, b):
    # log(e^a + e^b) = a + softplus(b − a): exact and smooth everywhere, never overflows;
    # ∂/∂a = σ(a − b), ∂/∂b = σ(b − a) (½ each at a = b)
    return a + c.apply_function("softplus", b - a)


def _logaddexp2(a, b):
    # log₂(2^a + 2^b) = a + softplus((b − a) log 2) / log 2
    return a + c.apply_function("softplus", (b - a) * np.log(2.0)) * (1.0 / np.log(2.0))


# numpy names read as compositions of the engine's own nodes (printed as those nodes)
_COMPOSED = {
    "square": (1, (), lambda x: c.apply_function("pow", x, 2.0)),
    "reciprocal": (1, (), lambda x: c.apply_function("pow", x, -1.0)),
    "deg2rad": (1, (), lambda x: x * (np.pi / 180.0)),
    "rad2deg": (1, (), lambda x: x * (180.0 / np.pi)),
    "logaddexp": (2, (), _logaddexp),
    "logaddexp2": (2, (), _logaddexp2),
    "var": (1, ("axis", "ddof", "keepdims"), variance),
    "std": (1, ("axis", "ddof", "keepdims"), std),
    "max": (1, ("axis", "keepdims"), _max), "amax": (1, ("axis", "keepdims"), _max),
    "min": (1, ("axis", "keepdims"), _min), "amin": (1, ("axis", "keepdims"), _min),
}

# name: (number of array arguments, keywords allowed, build(*arrays, **keywords))
_NUMPY_FUNCTIONS = {
    "sum": (1, ("axis", "keepdims"), c.sum),
    "mean": (1, ("axis", "keepdims"), c.mean),
    "trace": (1, ("offset", "axis1", "axis2"), trace),
    "diagonal": (1, ("offset", "axis1", "axis2"), diagonal),
    "diag": (1, (), _numpy_diag),
    "transpose": (1, ("axes",), c.transpose),
    "dot": (2, (), _dot),
    "matmul": (2, (), c.matmul),
    "outer": (2, (), _outer),
    "power": (2, (), c.power),
    "linalg.det": (1, (), det),
    "linalg.inv": (1, (), inv),
    # the Python API's names that numpy has too (tensorcalc/notation/vocabulary.py for the text)
    "linalg.solve": (2, (), solve),
    "linalg.norm": (1, ("ord",), norm),
    "kron": (2, (), kron),
    "maximum": (2, (), maximum),
    "minimum": (2, (), minimum),
    "flip": (1, ("axis",), flip),
    "diff": (1, ("axis",), diff),
    "expand_dims": (1, ("axis",), expand_dims),
    "squeeze": (1, ("axis",), squeeze),
    "triu": (1, ("k",), triu),
    "tril": (1, ("k",), tril),
    **_COMPOSED,
    "linalg.cholesky": (1, (), cholesky),
    "linalg.eigvalsh": (1, (), eigvalsh),
    "linalg.pinv": (1, (), pinv),
    "linalg.qr": (1, ("mode",), lambda x, mode="reduced": qr(x, mode)),  # a tuple: index it
    "linalg.svd": (1, ("compute_uv", "full_matrices"), lambda x, **k: _svd_values(x, **k)),
}


# functions of a list of arrays: np.concatenate([a, b], axis=0)
_SEQUENCE_FUNCTIONS = {"concatenate": concatenate, "stack": stack, "hstack": hstack,
                       "vstack": vstack}


def _svd_values(x, compute_uv=True, full_matrices=True):
    if compute_uv:  # a tuple (U, S, Vh) is not one expression
        raise ParseError("np.linalg.svd: the numpy dialect reads one expression; pass "
                         "compute_uv=False for the singular values (tc.svd(X) gives U, s, Vt)")
    return svd(x, compute_uv=False)


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
            self.variables[name] = c.var(name, _checked_shape(name, given, self.text))
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
                tuples = [child for child in operands if isinstance(values[child], tuple)]
                if tuples and not isinstance(node, ast.Subscript):
                    raise self.error("np.linalg.qr(X) is a tuple (Q, R): take one factor, as "
                                     "np.linalg.qr(X)[0] for Q or np.linalg.qr(X)[1] for R",
                                     tuples[0])
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
        if isinstance(result, tuple):
            raise ParseError("np.linalg.qr(X) is a tuple (Q, R), not one expression: take one "
                             "factor, as np.linalg.qr(X)[0] for Q or np.linalg.qr(X)[1] for R",
                             self.text)
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
            if name in _SEQUENCE_FUNCTIONS:  # np.concatenate([a, b], axis=1): the list's items
                return list(args[0].elts)
            return ([receiver] if receiver is not None else []) + args
        if isinstance(node, ast.Subscript):  # x[1:3, ::-1, None, [0, 2]]: the key is a literal
            return [node.value]
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
        if name in _SEQUENCE_FUNCTIONS:
            allowed = ("axis",) if name in ("concatenate", "stack") else ()
            for keyword in node.keywords:
                if keyword.arg not in allowed:
                    raise self.error(f"np.{name}: keyword {keyword.arg}= is not supported", keyword)
            if len(node.args) != 1 or not isinstance(node.args[0], (ast.List, ast.Tuple)) \
                    or not node.args[0].elts:
                raise self.error(f"np.{name} takes one list of arrays, as np.{name}([a, b])", node)
            return name, None, list(node.args)
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
        if isinstance(node, ast.Subscript) and isinstance(args[0], tuple):  # np.linalg.qr(X)[0]
            key = self.key(node.slice)
            if not isinstance(key, int) or not -len(args[0]) <= key < len(args[0]):
                raise self.error(f"a tuple of {len(args[0])} factors takes one index, 0 to "
                                 f"{len(args[0]) - 1}", node.slice)
            return args[0][key]
        if isinstance(node, ast.Subscript):
            return c.as_expr(args[0])[self.key(node.slice)]
        name, receiver, _ = self.call_parts(node)
        name = _ALIASES.get(name, name)
        if name in _SEQUENCE_FUNCTIONS:
            keywords = {k.arg: self.literal(k.value) for k in node.keywords}
            return _SEQUENCE_FUNCTIONS[name]([c.as_expr(a) for a in args], **keywords)
        if name == "einsum":
            return c.einsum(node.args[0].value, *args)
        if name not in _NUMPY_FUNCTIONS:
            if isinstance(args[0], float):
                with np.errstate(all="ignore"):
                    value = float(FUNCTIONS[name].numpy(np.float64(args[0]), None))
                return _finite(value, ast.unparse(node))
            return c.apply_function(name, args[0])
        keywords = {k.arg: self.word(k.value) if k.arg == "mode" else self.literal(k.value)
                    for k in node.keywords}
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

    def key(self, node):
        """An index key: integers, slices of integers, None, ..., a list of integers, a tuple."""
        if isinstance(node, ast.Tuple):
            return tuple(self.key(item) for item in node.elts)
        if isinstance(node, ast.Slice):
            return slice(*(None if part is None else self.integer(part)
                           for part in (node.lower, node.upper, node.step)))
        if isinstance(node, ast.Constant) and node.value is Ellipsis:
            return Ellipsis
        if isinstance(node, ast.List):
            return [self.integer(item) for item in node.elts]
        if isinstance(node, ast.Constant) and node.value is None:
            return None
        return self.integer(node)

    def integer(self, node) -> int:
        plain = node.operand if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) \
            else node
        value = self.literal(node) if isinstance(plain, ast.Constant) \
            and type(plain.value) is int else None
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error("an index is an integer literal, a slice of them (1:3, ::-1), None, "
                             "... or a list of integers", node)
        return value

    def word(self, node) -> str:
        """A keyword's string value (``mode="r"``)."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        raise self.error("expected a string, as mode=\"r\"", node)

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
