"""The numpy dialect: a numpy expression read through the standard library's ``ast``,
walking a whitelist of node types; every variable's shape is given.  Nothing is ever
passed to ``eval``, ``exec`` or ``compile``."""

from __future__ import annotations

import ast

import numpy as np

from ..errors import ParseError, TensorCalcError, closest
from ..expression import construct as c
from ..expression.functions import FUNCTIONS as ROWS
from ..expression.indexing import concatenate, hstack, stack, vstack
from .builder import _divide, _finite, _power, _Terms
from ..expression.selection import compare, where
from .numpy_signatures import (CONSTANT_HINTS, FUNCTIONS, METHODS, Outputs, Unavailable,
                               constant_problem, shown)
from .typer import _checked_shape, _elementwise_row, _fold


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
_COMPARES = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_LITERAL_CONSTANTS = {**_NUMPY_CONSTANTS, "inf": np.inf}  # np.inf as an argument (ord=np.inf)
_METHOD_LIST = ", ".join(METHODS)
_SCIPY_ROOTS = ("scipy", "sp")

# functions of a list of arrays: np.concatenate([a, b], axis=0)
_SEQUENCE_FUNCTIONS = {"concatenate": concatenate, "stack": stack, "hstack": hstack,
                       "vstack": vstack}


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
            for child in operands:
                if isinstance(values[child], Outputs) and not self.picks(node):
                    raise self.several(values[child], child)
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
        if isinstance(result, Outputs):
            raise self.several(result, self.tree.body)
        return c.const(result) if isinstance(result, float) else result

    @staticmethod
    def picks(node) -> bool:
        """Whether ``node`` picks one output of a tuple: ``[1]`` or a field, ``.logabsdet``."""
        return isinstance(node, ast.Subscript) or (isinstance(node, ast.Attribute) and node.attr != "T")

    def several(self, outputs: Outputs, node) -> ParseError:
        what = f"a tuple ({', '.join(outputs.fields)})" if outputs.fields else \
            f"a list of {len(outputs)} arrays"
        return self.error(f"{outputs.function} returns {what}; the numpy dialect reads one "
                          f"expression: pick one, as {outputs.function}(...)[0]{outputs.hint}", node)

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
            if node.attr != "T" and not isinstance(node.value, ast.Call):  # a call: a field?
                raise self.unknown_attribute(node)
            return [node.value]
        if isinstance(node, ast.Call):
            return [array for array in self.call_parts(node)[1] if array is not None]
        if isinstance(node, ast.Subscript):  # x[1:3, ::-1, None, [0, 2]]: the key is a literal
            return [node.value]
        if isinstance(node, ast.Compare):  # x > 0: a 0/1 mask, the condition of np.where
            if len(node.ops) != 1 or type(node.ops[0]) not in _COMPARES:
                raise self.error("comparisons are one of <, <=, >, >= between two values (as the "
                                 "condition of np.where); == and != and chains are not read", node)
            return [node.left, node.comparators[0]]
        word = _NODE_WORDS.get(type(node).__name__, type(node).__name__)
        raise self.error(f"{word} is not supported in the numpy dialect, which reads arithmetic "
                         "(+ - * / ** @), .T, numbers, variables and calls of np.<function>", node)

    def unknown_attribute(self, node) -> ParseError:
        return self.error(f"attribute .{node.attr} is not supported; only .T and the methods "
                          f"{_METHOD_LIST} are", node)

    def numpy_name(self, node) -> bool:
        return isinstance(node, ast.Name) and node.id in ("np", "numpy") and node.id not in self.types

    def call_parts(self, node: ast.Call) -> tuple:
        """(function name, the array arguments' nodes (``None`` where not given), the constant
        arguments' nodes by numpy's parameter names)."""
        name, receiver = self.function_name(node)
        if name in _SEQUENCE_FUNCTIONS:
            allowed = ("axis",) if name in ("concatenate", "stack") else ()
            for keyword in node.keywords:
                if keyword.arg not in allowed:
                    raise self.error(f"np.{name}: keyword {keyword.arg}= is not supported", keyword)
            if len(node.args) != 1 or not isinstance(node.args[0], (ast.List, ast.Tuple)) \
                    or not node.args[0].elts:
                raise self.error(f"np.{name} takes one list of arrays, as np.{name}([a, b])", node)
            return name, list(node.args[0].elts), {k.arg: k.value for k in node.keywords}
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.error("'*' unpacking is not supported", arg)
        if name in FUNCTIONS:
            arrays, constants = self.bind(name, node, receiver)
            if name == "where" and isinstance(constants.get("condition"), ast.Compare):
                return name, [constants.pop("condition")] + arrays, constants  # x > 0: computed
            return name, arrays, constants
        if node.keywords:  # the elementwise rows and einsum take none
            keyword = node.keywords[0]
            raise self.error(f"np.{name}: {self.keyword_word(keyword)} is not supported", keyword)
        if name == "einsum":
            args = node.args
            if not args or not (isinstance(args[0], ast.Constant) and isinstance(args[0].value, str)):
                raise self.error("np.einsum: the first argument must be a string literal such as "
                                 "'ij,j->i'", node)
            return name, list(args[1:]), {}
        if len(node.args) != 1:
            raise self.error(f"np.{name} takes 1 array argument, got {len(node.args)}", node)
        return name, list(node.args), {}

    @staticmethod
    def keyword_word(keyword) -> str:
        return f"keyword {keyword.arg}=" if keyword.arg else "'**' unpacking"

    def function_name(self, node: ast.Call) -> tuple:
        """(the table's name of the function called, the receiver of a method call or None)."""
        func = node.func
        path, root = [], func
        while isinstance(root, ast.Attribute):
            path.insert(0, root.attr)
            root = root.value
        if isinstance(root, ast.Name) and path and root.id not in self.types:
            dotted = ".".join([root.id, *path])
            if root.id in _SCIPY_ROOTS:  # scipy.linalg.expm(X), sp.linalg.expm(X)
                name = ".".join(["scipy", *path])
                if name not in FUNCTIONS:
                    raise self.error(f"{dotted} is not supported; of scipy the numpy dialect reads "
                                     "scipy.linalg.expm", func)
                return name, None
            if not self.numpy_name(root):  # jnp.sum(x), torch.exp(x)
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
        elif isinstance(func, ast.Attribute) and func.attr in METHODS:
            return METHODS[func.attr], func.value
        elif isinstance(func, ast.Attribute):
            close = closest(func.attr, METHODS)
            hint = f"; did you mean .{close[0]}()?" if close else ""
            raise self.error(f"method .{func.attr}() is not supported; the methods are "
                             f"{_METHOD_LIST}{hint}", node)
        elif isinstance(func, ast.Name) and (func.id in FUNCTIONS or _elementwise_row(func.id)):
            raise self.error(f"call numpy functions through np, as np.{func.id}(...)", func)
        elif isinstance(func, ast.Name):
            raise self.error(f"calling {func.id}() is not supported; the numpy dialect calls only "
                             f"np.<function>(...) and the methods {_METHOD_LIST}", func)
        else:
            raise self.error("only np.<function>(...) and method calls are supported", func)
        name = _ALIASES.get(name, name)
        if name not in FUNCTIONS and name not in _SEQUENCE_FUNCTIONS and name != "einsum" \
                and not _elementwise_row(name):
            known = [*FUNCTIONS, *_SEQUENCE_FUNCTIONS, "einsum",
                     *(n for n in ROWS if _elementwise_row(n))]
            close = closest(name, known)
            hint = f"; did you mean {shown(close[0])}?" if close else ""
            raise self.error(f"unknown or unsupported function np.{name}{hint}", func)
        return name, receiver

    def bind(self, name: str, node: ast.Call, receiver) -> tuple:
        """numpy's parameters bound to the call's arguments, as Python binds them: (the array
        arguments in parameter order, ``None`` where not given; the constants by name)."""
        signature = FUNCTIONS[name]
        called = shown(name) if receiver is None else f"the method .{node.func.attr}"
        positional = list(node.args)
        if signature.collects and receiver is not None and len(positional) > 1:
            collected = ast.Tuple(elts=positional, ctx=ast.Load())  # x.reshape(2, 3)
            positional = [ast.copy_location(collected, positional[0])]
            collected.end_lineno, collected.end_col_offset = \
                node.args[-1].end_lineno, node.args[-1].end_col_offset
        positional = ([receiver] if receiver is not None else []) + positional
        parameters, only_arrays = signature.parameters, signature.arrays == signature.parameters
        if len(positional) > len(parameters):
            raise self.error(self.count_problem(called, signature, len(positional)), node)
        bound = dict(zip(parameters, positional))
        allowed = signature.names[1:]
        for keyword in node.keywords:
            if keyword.arg not in allowed:
                raise self.error(f"{called}: {self.keyword_word(keyword)} is not supported"
                                 + (f" (it takes {', '.join(allowed)})" if allowed else ""), keyword)
            if keyword.arg in bound:
                raise self.error(f"{called}: {keyword.arg} is given twice", keyword)
            bound[keyword.arg] = keyword.value
        missing = [p for p in parameters[:signature.required] if p not in bound]
        if missing:
            raise self.error(self.count_problem(called, signature, len(positional))
                             if only_arrays else f"{called}: missing argument {missing[0]}", node)
        for p in parameters[:signature.required]:
            if p in signature.arrays and self.is_none(bound[p]):
                raise self.error(f"{called}: {p} must be an array, got None", bound[p])
        arrays = [None if self.is_none(bound.get(p)) else bound.get(p) for p in signature.arrays]
        return arrays, {p: bound[p] for p in bound if p not in signature.arrays}

    @staticmethod
    def count_problem(called: str, signature, given: int) -> str:
        if signature.arrays == signature.parameters:
            count = len(signature.parameters)
            return f"{called} takes {count} array argument{'s' * (count > 1)}, got {given}"
        return (f"{called} takes at most {len(signature.parameters)} positional arguments "
                f"({', '.join(signature.parameters)}), got {given}")

    @staticmethod
    def is_none(node) -> bool:
        return node is None or (isinstance(node, ast.Constant) and node.value is None)

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
            if not args:
                return _NUMPY_CONSTANTS[node.attr]
            if isinstance(args[0], Outputs):
                if node.attr not in args[0].fields:
                    raise self.error(f"{args[0].function}(...) has no field .{node.attr}; its "
                                     f"fields are {', '.join(args[0].fields) or 'none'}", node)
                return self.chosen(args[0][args[0].fields.index(node.attr)], node)
            if node.attr != "T":
                raise self.unknown_attribute(node)
            return c.transpose(args[0])
        if isinstance(node, ast.BinOp):
            return self.binop(node, *args)
        if isinstance(node, ast.Compare):
            if all(isinstance(a, float) for a in args):
                raise self.error("a comparison of two numbers is a constant; compare a variable",
                                 node)
            return compare(args[0], args[1], _COMPARES[type(node.ops[0])])
        if isinstance(node, ast.Subscript):
            if isinstance(args[0], Outputs):
                return self.pick(args[0], node)
            return c.as_expr(args[0])[self.key(node.slice)]
        return self.call(node, args)

    def call(self, node: ast.Call, args: list):
        name, arrays, constants = self.call_parts(node)
        given = iter(args)
        values = [None if array is None else next(given) for array in arrays]
        if name in _SEQUENCE_FUNCTIONS:
            keywords = {k.arg: self.literal(k.value) for k in node.keywords}
            return _SEQUENCE_FUNCTIONS[name]([c.as_expr(a) for a in values], **keywords)
        if name == "einsum":
            return c.einsum(node.args[0].value, *values)
        if name not in FUNCTIONS:
            if isinstance(values[0], float):
                with np.errstate(all="ignore"):
                    value = float(ROWS[name].numpy(np.float64(values[0]), None))
                return _finite(value, ast.unparse(node))
            return c.apply_function(name, values[0])
        if name == "power" and all(isinstance(a, float) for a in values):
            return _finite(_fold("^", *values), ast.unparse(node))
        if name == "power":
            return _power(*values)
        if name == "where" and len(values) == 3:  # a computed condition: the select row
            return where(*(c.as_expr(v) for v in values))
        keywords = {p: self.constant(name, p, value) for p, value in constants.items()}
        try:
            return FUNCTIONS[name].build(*(None if a is None else c.as_expr(a) for a in values),
                                         **keywords)
        except TensorCalcError:
            raise
        except (TypeError, ValueError) as error:  # constants of the right kinds that do not fit
            raise self.error(f"{shown(name)}: cannot read these arguments: {error}", node) from None

    def constant(self, name: str, parameter: str, node):
        """A constant argument, checked against the kind its parameter takes."""
        value = self.literal(node, CONSTANT_HINTS.get((name, parameter)))
        problem = constant_problem(name, parameter, value)
        if problem:
            raise self.error(problem, node)
        return value

    def pick(self, outputs: Outputs, node: ast.Subscript):
        """One output of a tuple-valued function: ``np.linalg.slogdet(X)[1]``."""
        index = self.integer(node.slice)
        if not -len(outputs) <= index < len(outputs):
            raise self.error(f"{outputs.function} returns {len(outputs)} outputs; index {index} "
                             "is out of range", node.slice)
        return self.chosen(outputs[index], node)

    def chosen(self, output, node):
        if isinstance(output, Unavailable):
            raise self.error(output.reason, node)
        return output

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

    def literal(self, node, hint: str | None = None):
        """A constant argument: an int, a float, a string, True/False/None, np.inf, or a
        tuple or list of them (``axis=(0, 1)``, ``pad_width=((1, 0), (0, 2))``)."""
        if isinstance(node, ast.Constant) and (node.value is None or isinstance(
                node.value, (bool, int, float, str))):
            return node.value
        if isinstance(node, ast.Attribute) and self.numpy_name(node.value) \
                and node.attr in _LITERAL_CONSTANTS:
            return _LITERAL_CONSTANTS[node.attr]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            value = self.literal(node.operand, hint)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return -value
        if isinstance(node, (ast.Tuple, ast.List)):
            items = [self.literal(item, hint) for item in node.elts]
            return tuple(items) if isinstance(node, ast.Tuple) else items
        raise self.error(hint or "expected an integer, a tuple of integers, True, False or None "
                         "(a constant written out: also a list, a number, a string or np.inf)",
                         node)

def _parse_numpy(text: str, types: dict):
    return _NumpyReader(text, types).read()
