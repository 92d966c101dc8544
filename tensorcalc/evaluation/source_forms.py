"""The pieces generated code is made of: the elementwise table's numpy source forms
(:data:`SOURCES`), the argument-checking helper every generated function needs
(:data:`HELPERS`), literals, names, and source fragments that know their precedence.

:mod:`tensorcalc.evaluation.statements` writes functions from these pieces.
"""

from __future__ import annotations

import inspect
import keyword
import math
import re

import numpy as np

from ..errors import CodegenError
from ..expression import sinc
from ..expression.construct import as_expr
from ..expression.linalg import checked_inv
from ..expression.nodes import Elementwise, Sum


# ---------------------------------------------------------------------------
# The elementwise table's source forms: row name -> numpy source for an argument that is a name.


def _power(x: str, p) -> str:
    return f"{x} ** {_number(int(p) if float(p).is_integer() else p)}"


def _sinc_derivative(x: str, k: int) -> str:
    """sinc's k-th derivative as numpy calls every backend has (where, sin, cos, abs): the series
    near 0 and Leibniz's rule elsewhere, with :mod:`tensorcalc.expression.sinc`'s coefficients."""
    odd, coefficients = sinc.series_coefficients(k)
    series = _number(coefficients[-1])
    for c in reversed(coefficients[:-1]):
        series = f"{_number(c)} + v * ({series})"
    series = f"u * ({series})" if odd else series
    trig = ("np.sin(w)", "np.cos(w)", "-np.sin(w)", "-np.cos(w)")
    far = " + ".join(f"{_number(float(c))} * {trig[quarter]} / w ** {power}"
                     for c, quarter, power in sinc.leibniz_terms(k))
    near = f"np.abs(u) < {_number(sinc.threshold(k))}"
    body = (f"(lambda w: {_number(np.pi ** k)} * np.where(near, (lambda v: {series})(u * u), {far}))"
            f"(np.where(near, 1.0, u))")
    return f"(lambda u: (lambda near: {body})({near}))({_number(np.pi)} * {x})"


SOURCES = {
    "exp": lambda x, p: f"np.exp({x})",
    "log": lambda x, p: f"np.log({x})",
    "sin": lambda x, p: f"np.sin({x})",
    "cos": lambda x, p: f"np.cos({x})",
    "tanh": lambda x, p: f"np.tanh({x})",
    # e^min(x,0) / (1 + e^-|x|): never overflows, full precision in both tails
    "sigmoid": lambda x, p: f"np.exp(np.minimum({x}, 0.0)) / (1.0 + np.exp(-np.abs({x})))",
    "softplus": lambda x, p: f"np.maximum({x}, 0.0) + np.log1p(np.exp(-np.abs({x})))",
    "sqrt": lambda x, p: f"np.sqrt({x})",
    "relu": lambda x, p: f"np.maximum({x}, 0.0)",
    "abs": lambda x, p: f"np.abs({x})",
    "step": lambda x, p: f"np.heaviside({x}, 0.0)",
    "sign": lambda x, p: f"np.sign({x})",
    "log1p": lambda x, p: f"np.log1p({x})",
    "expm1": lambda x, p: f"np.expm1({x})",
    "tan": lambda x, p: f"np.tan({x})",
    "arcsin": lambda x, p: f"np.arcsin({x})",
    "arccos": lambda x, p: f"np.arccos({x})",
    "arctan": lambda x, p: f"np.arctan({x})",
    "sinh": lambda x, p: f"np.sinh({x})",
    "cosh": lambda x, p: f"np.cosh({x})",
    # vectorize makes a 0-d array of a scalar, and its otypes fix the dtype: [()] and result_type
    "erf": lambda x, p: f"np.vectorize(__import__('math').erf, "
                        f"otypes=[np.result_type({x}, 0.0)])({x})[()]",
    "log2": lambda x, p: f"np.log2({x})",
    "log10": lambda x, p: f"np.log10({x})",
    "exp2": lambda x, p: f"np.exp2({x})",
    "arcsinh": lambda x, p: f"np.arcsinh({x})",
    "arccosh": lambda x, p: f"np.arccosh({x})",
    "arctanh": lambda x, p: f"np.arctanh({x})",
    "floor": lambda x, p: f"np.floor({x})",
    "nan_to_num": lambda x, p: f"np.nan_to_num({x})",
    "isfinite": lambda x, p: f"(lambda v: np.where(np.isfinite(v), np.ones_like(v), "
                             f"np.zeros_like(v)))({x})",
    "ceil": lambda x, p: f"np.ceil({x})",
    "round": lambda x, p: f"np.round({x})",
    "trunc": lambda x, p: f"np.trunc({x})",
    "sinc": lambda x, p: f"np.sinc({x})",
    "sinc_derivative": lambda x, p: _sinc_derivative(x, int(p)),
    "pow": _power,
}

MAX_CONSTANT_SIZE = 64  # entries a constant array may have to be written out as a literal

# the module-level helpers generated functions call: _array (the argument checks) and
# checked_inv (inv, refused where singular to working precision, as the evaluator refuses it)
HELPERS = '''\
def _array(value, name, shape):
    """``value`` as an array of ``shape``'s number of axes and fixed sizes (integers become
    float64; float32 stays float32)."""
    array = np.asarray(value)
    if array.dtype.kind not in "fc":
        array = array.astype(np.float64)
    if array.ndim != len(shape):
        raise ValueError(f"variable {name!r} expects shape {shape} ({len(shape)} axes) but got "
                         f"an array of shape {array.shape}")
    for axis, (dim, size) in enumerate(zip(shape, array.shape)):
        if isinstance(dim, int) and dim != size:
            raise ValueError(f"variable {name!r} expects shape {shape}, got {array.shape}: "
                             f"axis {axis} has size {size}, not {dim}")
    return array
''' + "\n\n" + inspect.getsource(checked_inv)

_RESERVED = {"np", "float", "ValueError", "_array", "checked_inv"}  # names generated bodies rely on
_INDEX_NAMES = "ijklmnpqrstuvwxyzabcdefgho" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # printing's order first
_COMMENT_WIDTH = 92


def _number(value) -> str:
    """A number as Python source (validated: never text from outside)."""
    if isinstance(value, (complex, np.complexfloating)):
        value = complex(value)
        if value.imag == 0:
            return _number(value.real)
        return f"complex({_number(value.real)}, {_number(value.imag)})"
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return str(int(value))
    value = float(value)
    if math.isnan(value):
        return "np.nan"
    if math.isinf(value):
        return "np.inf" if value > 0 else "-np.inf"
    return repr(value)


def _literal(array: np.ndarray) -> str:
    """A small constant array as an ``np.array([...])`` literal."""
    def nested(a):
        if a.ndim == 0:
            return _number(a[()])
        return "[" + ", ".join(nested(row) for row in a) + "]"
    return f"np.array({nested(np.asarray(array))})"


def _identifier(name: str, what: str) -> str:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise CodegenError(f"codegen: {what} {name!r} is not a Python identifier a generated "
                           "function can use")
    return name


class _Names:
    """Hands out local names: never a keyword, a reserved name or one already taken."""

    def __init__(self, taken=()):
        self.taken = set(taken) | _RESERVED
        self.count = 0

    def claim(self, name: str) -> str:
        candidate, n = name, 1
        while candidate in self.taken or keyword.iskeyword(candidate) or \
                not candidate.isidentifier():
            n += 1
            candidate = f"{name}_{n}"
        self.taken.add(candidate)
        return candidate

    def temporary(self) -> str:
        while True:
            self.count += 1
            name = f"t{self.count}"
            if name not in self.taken:
                self.taken.add(name)
                return name



# ---------------------------------------------------------------------------
# Source fragments: text with its precedence, so composing never needs guesswork.

ATOM, POWER, NEGATION, PRODUCT, SUM = 5, 4, 3, 2, 1


class _Code:
    __slots__ = ("text", "level")

    def __init__(self, text: str, level: int = ATOM):
        self.text, self.level = text, level

    def atom(self) -> str:
        return self.text if self.level == ATOM else f"({self.text})"

    def operand(self, level: int) -> str:
        return self.text if self.level >= level else f"({self.text})"


def _transposed(code: _Code, permutation: tuple, functional: bool = False) -> _Code:
    if permutation == tuple(range(len(permutation))):
        return code
    if functional:  # a function call: every backend's namespace has transpose(x, axes)
        return _Code(f"np.transpose({code.text}, {permutation})")
    if permutation == (1, 0):
        return _Code(code.atom() + ".T")
    return _Code(f"{code.atom()}.transpose{permutation}")


def _broadcast(code: _Code, term: str, result: str, functional: bool = False) -> _Code:
    """``code`` (axes ``term``) viewed with axes in ``result`` order, size 1 where missing."""
    order = [c for c in result if c in term]
    code = _transposed(code, tuple(term.index(c) for c in order), functional)
    if not term:
        return code
    first = min(result.index(c) for c in term)
    index = [":" if c in term else "None" for c in result[first:]]
    while index and index[-1] == ":":
        index.pop()
    if not index:
        return code
    return _Code(f"{code.atom()}[{', '.join(index)}]")


# ---------------------------------------------------------------------------
# Small helpers of the writers


_SHORT = 24  # nodes of a tree that prints short enough to print whole


def _read_only_entrywise(program) -> set:
    """``id`` of the nodes that only sums and elementwise functions read (no contraction, no
    operation, not an output): a backend may lay such a transpose out for entrywise reading
    (:meth:`tensorcalc.evaluation.backends.base.Namespace.transpose_for_entrywise`)."""
    readers: dict = {}
    for node in program.nodes:
        for child in node.children:
            readers.setdefault(id(child), []).append(node)
    outputs = {id(o) for o in program.outputs}
    return {key for key, nodes in readers.items() if key not in outputs and
            all(isinstance(n, (Sum, Elementwise)) for n in nodes)}


def _tree_size(node, memo: dict, cap: int) -> int:
    """The nodes of ``node`` as a tree (shared subexpressions counted each time), up to ``cap``."""
    size = memo.get(id(node))
    if size is None:
        size = 1
        for child in node.children:
            size += _tree_size(child, memo, cap)
            if size >= cap:
                break
        memo[id(node)] = size = min(size, cap)
    return size


def _real(value) -> float:
    return value.real if isinstance(value, complex) else value


def _shape_text(shape) -> str:
    parts = [str(d) for d in shape]
    return "()" if not parts else f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"


def _default_output_names(program) -> list:
    """``d<wrt>`` for a derivative, ``value`` (or ``value1``, …) for the rest."""
    pending = list(program.derivatives)
    names = []
    plain = sum(1 for _ in program.outputs) - len(pending)
    count = 0
    for output in program.outputs:
        if pending and as_expr(pending[0]) is output:
            names.append(_derivative_name(pending.pop(0)))
        else:
            count += 1
            names.append("value" if plain == 1 else f"value{count}")
    return names


def _derivative_name(item) -> str:
    wrt = getattr(item, "wrt", None)
    name = getattr(wrt, "name", None)
    return f"d{name}" if isinstance(name, str) else "derivative"


def used_bindings(binding_lines: list, body: list) -> list:
    """The size-binding lines (``m, n = A.shape``) that bind a local ``body`` reads."""
    text = "\n".join(body)

    def read(line):
        return any(re.search(rf"\b{re.escape(name.strip())}\b", text)
                   for name in line.split("=")[0].split(",") if name.strip())

    return [line for line in binding_lines if read(line)]


def load(source: str, function_name: str, namespace=None, constants=None, extra=None):
    """The function that :func:`generate` wrote, compiled (with numpy and :data:`HELPERS`).

    ``namespace`` (a functional function's array namespace) and ``constants``
    (its ``_constants``) stand in for numpy in the function's globals.
    """
    namespace = {"np": np if namespace is None else namespace, "_constants": constants,
                 **(extra or {})}
    exec(compile(HELPERS + "\n\n" + source, f"<tensorcalc.evaluation.codegen {function_name}>", "exec"),
         namespace)
    return namespace[function_name]
