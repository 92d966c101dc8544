"""The ``tensorcalc`` command line: a thin shell over ``tc.parse``, ``tc.grad``, the printers,
``tc.codegen`` and ``tc.explain``.

>>> main(["grad", "x'*A*x", "--wrt", "x"])
f(A, x) = x'*A*x  with A: (n, n), x: (n,)
∂f/∂x  shape (n,)
  index:  (A_ij + A_ji) x_j
  matrix: (A + Aᵀ) x
0

Subcommands: ``grad``, ``jacobian``, ``hessian`` (print derivatives in index
notation, matrix notation, LaTeX or JSON), ``explain`` (``tc.explain``'s steps),
``code`` (a standalone numpy module from ``tc.codegen``), ``check`` (the
derivatives against central differences at random values) and ``serve`` (the
same on a local web page, :mod:`tensorcalc.frontends.web`).  The exit status
is 0 on success, 1 when ``check`` finds an error above its tolerance, and 2 for
bad input: a parse error (its caret message on stderr), an unknown name, a bad
option, any :class:`~tensorcalc.TensorCalcError`.  User text is only ever read
by ``tc.parse``; nothing is evaluated as Python.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re
import sys
from typing import Optional

import numpy as np

import tensorcalc as tc
from tensorcalc.differentiate import DEFAULT_MEMORY_LIMIT  # --memory-limit's default: tc.grad's
from tensorcalc.errors import closest
from tensorcalc.evaluate import _human

PROG = "tensorcalc"
DEFAULT_SIZE = 3  # for every named dimension that --size leaves out (check, explain, code)
KINDS = ("scalar", "vector", "row vector", "matrix", "symmetric matrix")
FORMATS = ("text", "index", "matrix", "latex", "json")

EXAMPLES = """\
examples:
  tensorcalc grad "x'*A*x" --wrt x
  tensorcalc jacobian "W*a" --wrt W --type a=vector       # the 3-tensor δ_ij a_k
  tensorcalc hessian "sum(log(exp(-y.*(X*w))+vector(1)))" --wrt w --format latex
  tensorcalc explain "v'*(W*x)" --wrt W
  tensorcalc code "norm2(A*x-y)^2" --wrt x > f.py && python f.py
  tensorcalc check "tr(A*X'*B*X*C)" --wrt X
  echo "sum(exp(A*x))" | tensorcalc grad --wrt x,A --format json
  tensorcalc serve                        # the same on a web page, offline

Names take their kind from the first letter (a-g scalar, h-z vector, A-Z matrix)
unless --type or --shape says otherwise; --dialect numpy reads numpy code, with
--shape for every name.  Exit status: 0 ok, 1 check failed, 2 bad input.
"""

_COMMON_EPILOG = """
Names take their kind from the first letter (a-g scalar, h-z vector, A-Z
matrix) unless --type or --shape says otherwise.  Exit status: 0 ok, 2 bad input{extra}.
"""

SUBCOMMANDS = {
    "grad": ("the gradient of a scalar expression", """\
examples:
  tensorcalc grad "x'*A*x" --wrt x
  tensorcalc grad "tr(X'*A*X)" --wrt X --format matrix
  tensorcalc grad "sum(exp(A*x))" --wrt x,A --format json
  tensorcalc grad "x @ A @ x" --dialect numpy --shape x=n --shape A=n,n
"""),
    "jacobian": ("the (generalized) Jacobian of any expression, of shape f.shape + wrt.shape", """\
examples:
  tensorcalc jacobian "W*a" --wrt W --type a=vector      # ∂(Wa)/∂W = δ_ij a_k
  tensorcalc jacobian "tanh(A*x)" --wrt x --format matrix
"""),
    "hessian": ("the Hessian (grad of grad) of a scalar expression", """\
examples:
  tensorcalc hessian "x'*A*x" --wrt x
  tensorcalc hessian "sum(log(exp(-y.*(X*w))+vector(1)))" --wrt w --format latex
  tensorcalc hessian "x'*A*y" --wrt x,y          # the blocks xx, xy and yy
"""),
    "explain": ("how the derivative is found, step by step (tc.explain)", """\
examples:
  tensorcalc explain "v'*(W*x)" --wrt W
  tensorcalc explain "norm2(A*x-y)^2" --wrt x --size n=100 --size m=50
"""),
    "code": ("a standalone numpy module computing f and its derivatives (tc.codegen)", """\
examples:
  tensorcalc code "norm2(A*x-y)^2" --wrt x > f.py && python f.py
  tensorcalc code "sum(exp(A*x))" --wrt x,A --name loss --size n=100 --size m=20

The module needs only numpy; running it checks its derivatives against central
differences and exits 1 on failure.
"""),
    "check": ("the derivatives against central differences at random values", """\
examples:
  tensorcalc check "tr(A*X'*B*X*C)" --wrt X
  tensorcalc check "sum(log(exp(-y.*(X*w))+vector(1)))" --wrt w --size n=50 --size m=4
  tensorcalc check "x'*A*x" --wrt x --order 2 --seed 7
"""),
}


SERVE_SUMMARY = "a local web page: type an expression, read its derivative, the steps and the code"
SERVE_EXAMPLES = """\
examples:
  tensorcalc serve                       # opens http://127.0.0.1:8765 in the browser
  tensorcalc serve --port 9000 --no-browser
  tensorcalc serve --time-limit 5        # stop a derivation after 5 seconds

The page works offline; it calls POST /api/derive, which answers the JSON of
tensorcalc grad --format json with the explanation, the code and a numeric check.
Ctrl-C stops the server.
"""


class UsageError(Exception):
    """Bad input found by the command line itself (exit status 2)."""


# ---------------------------------------------------------------------------
# Reading the options


def _split(values) -> list:
    """``["x,A", "y"]`` → ``["x", "A", "y"]`` (each option may be repeated or comma-separated)."""
    return [part.strip() for value in values or () for part in value.split(",") if part.strip()]


def _assignments(values, option: str) -> list:
    """``["x=vector", "A=n,m"]`` → ``[("x", "vector"), ("A", "n,m")]``."""
    pairs = []
    for value in values or ():
        name, equals, rest = value.partition("=")
        name = name.strip()
        if not equals or not name.isidentifier():
            raise UsageError(f"{option} expects NAME=VALUE (such as {option} "
                             f"{'x=vector' if option == '--type' else 'X=n,d' if option == '--shape' else 'n=3'}),"
                             f" got {value!r}")
        pairs.append((name, rest.strip()))
    return pairs


def parse_types(types=(), shapes=()) -> dict:
    """``tc.parse``'s keyword types from ``--type name=kind`` and ``--shape name=n,m``.

    >>> parse_types(["x=row vector"], ["A=n,3", "c="])
    {'x': 'row vector', 'A': ('n', 3), 'c': ()}
    """
    result: dict = {}
    for name, kind in _assignments(types, "--type"):
        kind = " ".join(kind.replace("_", " ").replace("-", " ").split())
        if kind not in KINDS:
            raise UsageError(f"--type {name}={kind}: unknown kind; use one of "
                             f"{', '.join(KINDS)} (or --shape {name}=n,m)")
        _put(result, name, kind)
    for name, text in _assignments(shapes, "--shape"):
        parts = [p.strip() for p in text.split(",")]
        if parts and parts[-1] == "":
            parts.pop()  # "x=" is a scalar, "x=n," a vector
        shape = []
        for part in parts:
            if part.isdigit() and int(part) > 0:
                shape.append(int(part))
            elif part.isidentifier():
                shape.append(part)
            else:
                raise UsageError(f"--shape {name}={text}: {part!r} is neither a positive size nor "
                                 "a dimension name (write --shape X=n,d or --shape A=3,3; "
                                 f"--shape {name}= for a scalar)")
        _put(result, name, tuple(shape))
    return result


def _put(result: dict, name: str, value) -> None:
    if name in result:
        raise UsageError(f"the type of {name!r} is given twice ({result[name]!r} and {value!r})")
    result[name] = value


def parse_sizes(values=()) -> dict:
    """``--size n=3 --size m=4`` (or ``--size n=3,m=4``) → ``{"n": 3, "m": 4}``.

    >>> parse_sizes(["n=3,m=4", "d=10"])
    {'n': 3, 'm': 4, 'd': 10}
    """
    sizes: dict = {}
    for value in values or ():
        for item in value.split(","):
            name, equals, size = item.partition("=")
            name, size = name.strip(), size.strip()
            if not equals or not name.isidentifier() or not size.isdigit() or int(size) < 1:
                raise UsageError(f"--size expects NAME=SIZE with a positive integer size (such as "
                                 f"--size n=3), got {item.strip()!r}")
            if name in sizes:
                raise UsageError(f"--size gives {name!r} twice")
            sizes[name] = int(size)
    return sizes


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "pb": 10**15,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "pib": 2**50}


def parse_memory(text: str) -> int:
    """``--memory-limit``: bytes, or a number with a unit (kB, MB, GB, TB: powers of 1000;
    KiB, MiB, GiB, TiB: powers of 1024).

    >>> parse_memory("4GiB"), parse_memory("500 MB"), parse_memory("1000000"), parse_memory("1.5kib")
    (4294967296, 500000000, 1000000, 1536)
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)\s*", text)
    unit = match and match.group(2).lower()
    if not match or unit not in _UNITS or float(match.group(1)) * _UNITS[unit] < 1:
        raise argparse.ArgumentTypeError(
            f"expected a positive size in bytes, or with a unit such as 4GiB or 500MB, got {text!r}")
    return int(float(match.group(1)) * _UNITS[unit])


def _seed(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return int(text)


def _level(text: str) -> int:
    if text.strip() not in ("1", "2", "3"):
        raise argparse.ArgumentTypeError(f"expected 1 (forward, result, cost), 2 (every step) or "
                                         f"3 (every node's incoming gradient), got {text!r}")
    return int(text)


def read_expression(args, stdin=None) -> str:
    """The expression text: the argument, or standard input for ``-`` or no argument."""
    if args.expression not in (None, "-"):
        return args.expression
    stdin = sys.stdin if stdin is None else stdin
    if args.expression is None and stdin.isatty():
        raise UsageError("no expression: give one as an argument (tensorcalc grad \"x'*A*x\" "
                         "--wrt x) or on standard input")
    data = getattr(stdin, "buffer", None)
    if data is None:  # a text stream (a test's StringIO)
        return stdin.read()
    raw = data.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(f"standard input is not UTF-8 text: byte {raw[error.start]:#04x} at "
                         f"offset {error.start} cannot be decoded") from None


def shape_text(shape) -> str:
    """``(n,)``, ``(n, 3)``, ``()``: a shape without the quotes of names.

    >>> shape_text(("n",)), shape_text(("n", 3)), shape_text(())
    ('(n,)', '(n, 3)', '()')
    """
    parts = [str(d) for d in shape]
    return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"


@dataclasses.dataclass(frozen=True)
class Problem:
    """What every subcommand starts from: the text, its expression and the variables chosen."""

    text: str
    f: object
    variables: dict  # name -> Var, in order of appearance
    wrt: list  # names, in the order asked


def read_problem(args, stdin=None) -> Problem:
    text = read_expression(args, stdin)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:  # bytes that were not UTF-8 in argv (surrogate escapes)
        raise UsageError(f"the expression is not UTF-8 text (a byte at position {error.start} "
                         "cannot be decoded)") from None
    types = parse_types(args.type, args.shape)
    try:
        f = tc.parse(text, dialect=args.dialect, **types)
    except tc.TensorCalcError:
        raise
    except RecursionError:
        raise UsageError("the expression is nested too deeply to read") from None
    except Exception as error:  # noqa: BLE001 - a parser bug must not reach the user as a traceback
        raise UsageError(f"could not read the expression ({type(error).__name__}: {error}); this "
                         "is a bug in tensorcalc's parser, please report it") from None
    found = tc.variables(f)
    wrt = _split(args.wrt)
    if not wrt:
        if len(found) != 1:
            if not found:
                raise UsageError(f"{args.command}: the expression has no variables")
            raise UsageError(f"{args.command}: which variable? pass --wrt NAME (the expression "
                             f"has the variables {', '.join(found)})")
        wrt = list(found)
    for name in wrt:
        if name not in found:
            close = closest(name, found)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UsageError(f"--wrt {name}: the expression has no variable named {name!r}{hint} "
                             f"(its variables: {', '.join(found) or 'none'})")
    if len(set(wrt)) != len(wrt):
        raise UsageError(f"--wrt names a variable twice: {', '.join(wrt)}")
    return Problem(" ".join(text.split()), f, found, wrt)


# ---------------------------------------------------------------------------
# Derivatives and their descriptions


@dataclasses.dataclass(frozen=True)
class Item:
    """One derivative to print: its label (``∂f/∂x``, ``∂²f/∂x∂y``), the names it is taken
    with respect to, in order, and the derivative itself."""

    label: str
    wrt: tuple
    derivative: object


def derivatives(problem: Problem, command: str) -> list:
    """The derivatives a subcommand prints: one per ``--wrt`` name, or for ``hessian`` the
    blocks ∂²f/∂x∂y for each pair in ``--wrt`` order (x before y)."""
    f = problem.f
    if command in ("grad", "hessian") and f.ndim:
        raise UsageError(f"{command} needs a scalar expression, but this one has shape "
                         f"{shape_text(f.shape)}; use tensorcalc jacobian for the derivative of a "
                         "non-scalar")
    first = tc.grad(f, tuple(problem.wrt))
    if command != "hessian":
        return [Item(f"∂f/∂{d.wrt.name}", (d.wrt.name,), d) for d in first]
    items = []
    for n, gradient in enumerate(first):
        x = gradient.wrt
        for y in [d.wrt for d in first[n:]]:  # by the Var: a gradient need not contain x
            label = f"∂²f/∂{x.name}²" if y is x else f"∂²f/∂{x.name}∂{y.name}"
            items.append(Item(label, (x.name, y.name), tc.grad(gradient, y)))
    return items


def _matrix_form(expr) -> Optional[str]:
    """The matrix notation, or ``None`` where there is none (a 3-tensor, say)."""
    try:
        text = tc.matrix_notation(expr)
    except (tc.TensorCalcError, NotImplementedError):
        return None
    return None if text.startswith("[index form]") else text


def describe(item: Item) -> dict:
    """A plain record of one derivative, which the json and text formats print.

    >>> f = tc.parse("x'*A*x")
    >>> record = describe(Item("∂f/∂x", ("x",), tc.grad(f, "x")))
    >>> record["shape"], record["index"], record["matrix"], record["latex"]
    (['n'], '(A_ij + A_ji) x_j', '(A + Aᵀ) x', '\\\\left(A + A^{\\\\top}\\\\right) x')
    """
    expr = tc.as_expr(item.derivative)
    matrix = _matrix_form(expr)
    latex = tc.latex(expr, notation="matrix" if matrix is not None else "index")
    return {"name": item.label, "wrt": list(item.wrt), "shape": list(expr.shape),
            "index": tc.index_notation(expr), "matrix": matrix, "latex": latex}


def latex_label(item: Item) -> str:
    """The derivative's name in LaTeX: ``\\frac{\\partial f}{\\partial x}``."""
    names = [tc.latex(tc.var(n)) for n in item.wrt]  # the printer's spelling of a name: W_{1}
    if len(names) == 1:
        return f"\\frac{{\\partial f}}{{\\partial {names[0]}}}"
    below = f"\\partial {names[0]}^2" if names[0] == names[1] else \
        f"\\partial {names[0]} \\partial {names[1]}"
    return f"\\frac{{\\partial^2 f}}{{{below}}}"


def _signature(problem: Problem) -> str:
    names = ", ".join(problem.variables)
    shapes = ", ".join(f"{name}: {shape_text(v.shape)}" for name, v in problem.variables.items())
    return f"f({names}) = {problem.text}  with {shapes}"


def _indented(text: str, indent: str) -> str:
    return text.replace("\n", "\n" + indent)


def derivatives_document(problem: Problem, items: list) -> dict:
    """What ``--format json`` prints, as data (the web page's ``POST /api/derive`` answers it too):
    ``{"expression": …, "variables": {"x": ["n"]}, "derivatives": [{"name": "∂f/∂x", "wrt":
    ["x"], "shape": ["n"], "index": …, "matrix": …, "latex": …}]}`` (``matrix`` is null where
    there is no matrix form)."""
    return {"expression": problem.text,
            "variables": {name: list(v.shape) for name, v in problem.variables.items()},
            "derivatives": [describe(item) for item in items]}


def _json_document(document: dict) -> str:
    """:func:`derivatives_document` as JSON text, a derivative per line."""
    def dumps(value):
        return json.dumps(value, ensure_ascii=False)

    records = document["derivatives"]
    lines = ["{", f'  "expression": {dumps(document["expression"])},',
             f'  "variables": {dumps(document["variables"])},', '  "derivatives": [']
    lines += [f"    {dumps(r)}{',' if n + 1 < len(records) else ''}" for n, r in enumerate(records)]
    lines += ["  ]", "}"]
    return "\n".join(lines)


def format_derivatives(problem: Problem, items: list, form: str) -> str:
    if form == "json":
        return _json_document(derivatives_document(problem, items))
    records = [describe(item) for item in items]
    if form == "index":
        return "\n".join(r["index"] for r in records)
    if form == "matrix":  # the index form where there is no matrix form, and it says so
        return "\n".join(r["matrix"] or f"[index form] {r['index']}" for r in records)
    if form == "latex":
        return "\n".join(f"{latex_label(item)} = {r['latex']}" for item, r in zip(items, records))
    lines = [_signature(problem)]
    for r in records:
        lines.append(f"{r['name']}  shape {shape_text(r['shape'])}")
        lines.append(f"  index:  {_indented(r['index'], ' ' * 10)}")
        lines.append(f"  matrix: {_indented(r['matrix'], ' ' * 10) if r['matrix'] else '(none: index form only)'}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# The numeric check


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """The relative error of one derivative against central differences."""

    label: str
    error: float


def random_values(variables: dict, sizes: dict, rng, low=-1.0, high=1.0) -> dict:
    """A random array for every variable, each named dimension at ``sizes`` (default 3)."""
    values = {}
    for name, v in variables.items():
        shape = tuple(d if isinstance(d, int) else sizes.get(d, DEFAULT_SIZE) for d in v.shape)
        value = rng.uniform(low, high, size=shape)
        if getattr(v, "symmetric", False):
            value = (value + np.swapaxes(value, -1, -2)) / 2
        values[name] = value
    return values


def _evaluate(expr, values: dict):
    names = tc.variables(expr)
    return np.asarray(tc.evaluate(expr, {name: values[name] for name in names}), dtype=float)


def check_derivatives(items, sizes=None, seed: int = 0, h: float = 1e-4) -> list:
    """Each derivative ∂g/∂x (a ``tc.Derivative``, or an :class:`Item` holding one) against
    central differences of ``g`` along a random direction ``v``, projected on a random ``u``:
    the relative error of ⟨u, D v⟩ against ⟨u, (g(x + hv) − g(x − hv)) / 2h⟩ (Richardson-
    extrapolated), at random values of every variable.

    >>> f = tc.parse("tr(A*X'*B*X*C)")
    >>> [r.error < 1e-8 for r in check_derivatives([tc.grad(f, "X")])]
    [True]
    >>> wrong = tc.Derivative(tc.as_expr(1.01 * tc.grad(f, "X")), f, tc.variables(f)["X"])
    >>> [r.error > 1e-3 for r in check_derivatives([wrong])]
    [True]

    Values are drawn in [-1, 1], or in [0.5, 1.5] where the function is not finite on the
    first draw (a log or a square root).
    """
    items = [item if isinstance(item, Item) else
             Item(f"∂f/∂{item.wrt.name}", (item.wrt.name,), item) for item in items]
    sizes = dict(sizes or {})
    results = []
    for number, item in enumerate(items):
        derivative = item.derivative
        function, x = derivative.of, derivative.wrt.name
        every = tc.variables([function, derivative])
        rng = np.random.default_rng([seed, number])
        with np.errstate(all="ignore"):
            values = random_values(every, sizes, rng)
            if not np.all(np.isfinite(_evaluate(function, values))):
                values = random_values(every, sizes, rng, 0.5, 1.5)
            results.append(CheckResult(item.label, _projection_error(
                function, derivative, values, x, rng, h, getattr(derivative.wrt, "symmetric", False))))
    return results


def _projection_error(function, derivative, values, name, rng, h, symmetric) -> float:
    x = values[name]
    v = rng.standard_normal(np.shape(x))
    if symmetric:
        v = (v + np.swapaxes(v, -1, -2)) / 2

    def difference(step):
        plus = _evaluate(function, {**values, name: x + step * v})
        minus = _evaluate(function, {**values, name: x - step * v})
        return (plus - minus) / (2 * step)

    value = _evaluate(function, values)
    u = rng.standard_normal(value.shape)
    slope = (4 * difference(h) - difference(2 * h)) / 3  # Richardson: error O(h⁴)
    numeric = float(np.sum(u * slope))
    jacobian = _evaluate(derivative, values)
    exact = float(np.sum(np.tensordot(u, jacobian, axes=u.ndim) * v))
    scale = max(abs(exact), abs(numeric)) + 1e-5 * (1 + np.linalg.norm(u) * np.linalg.norm(value))
    error = abs(exact - numeric) / scale
    return float(error) if math.isfinite(error) else math.inf


def report_check(results: list, tolerance: float, out) -> int:
    """Print one line per derivative and a verdict; 0 when every error is within
    ``tolerance``, else 1.

    >>> report_check([CheckResult("∂f/∂x", 3e-12)], 1e-6, sys.stdout)
    ∂f/∂x  relative error 3e-12  ok
    all 1 derivative within 1e-06
    0
    """
    failed = [r for r in results if not r.error <= tolerance]
    for r in results:
        verdict = "ok" if r.error <= tolerance else f"FAILED (above {tolerance:g})"
        print(f"{r.label}  relative error {r.error:.3g}  {verdict}", file=out)
    if failed:
        print(f"{len(failed)} of {len(results)} derivative{'s' * (len(results) != 1)} above "
              f"{tolerance:g}", file=out)
        return 1
    print(f"all {len(results)} derivative{'s' * (len(results) != 1)} within {tolerance:g}", file=out)
    return 0


def _named_dims(problem: Problem) -> list:
    return sorted({d for v in problem.variables.values() for d in v.shape if isinstance(d, str)})


def _checked_sizes(problem: Problem, sizes: dict) -> dict:
    dims = _named_dims(problem)
    unknown = [d for d in sizes if d not in dims]
    if unknown:
        raise UsageError(f"--size {unknown[0]}=...: {unknown[0]!r} is no dimension of the "
                         f"expression (it has {', '.join(dims) or 'none'})")
    return {d: sizes.get(d, DEFAULT_SIZE) for d in dims}


def _entries(variable, sizes: dict) -> int:
    return math.prod(d if isinstance(d, int) else sizes.get(d, DEFAULT_SIZE) for d in variable.shape)


def check_memory(command: str, problem: Problem, sizes: dict, limit: int, outputs=()) -> None:
    """Refuse, before anything is allocated, a run whose random values (and the arrays the
    ``outputs`` hold while evaluated) would pass ``--memory-limit``: the message gives the
    predicted size and the sizes that made it.

    The prediction counts 8 bytes an entry: every variable's value, four more copies of the
    largest ``--wrt`` variable (a direction, x ± hv), and the peak of the program evaluating ``outputs``.
    """
    largest = max((_entries(problem.variables[name], sizes) for name in problem.wrt), default=0)
    predicted = 8 * (sum(_entries(v, sizes) for v in problem.variables.values()) + 4 * largest)
    if predicted <= limit and outputs:
        bound = {d: sizes.get(d, DEFAULT_SIZE) for d in _named_dims(problem)}
        predicted += tc.compile([tc.as_expr(o) for o in outputs]).predicted_bytes(bound)
    if predicted > limit:
        shown = ", ".join(f"{d}={sizes.get(d, DEFAULT_SIZE)}" for d in _named_dims(problem))
        raise UsageError(f"{command}: at {shown or 'these sizes'} the values and derivatives need "
                         f"about {_human(predicted)}, above --memory-limit {_human(limit)}; use "
                         "smaller --size values, or raise --memory-limit (such as --memory-limit "
                         "16GiB)")


# ---------------------------------------------------------------------------
# Subcommands


def run_derivatives(args, out) -> int:
    problem = read_problem(args)
    print(format_derivatives(problem, derivatives(problem, args.command), args.format), file=out)
    return 0


def run_code(args, out) -> int:
    problem = read_problem(args)
    grads = tc.grad(problem.f, tuple(problem.wrt))
    if not args.name.isidentifier():
        raise UsageError(f"--name {args.name}: not a Python identifier")
    sizes = parse_sizes(args.size)
    check_memory("code (the generated module's own check)", problem,
                 _checked_sizes(problem, sizes), args.memory_limit, [problem.f, *grads])
    print(tc.codegen([problem.f, *grads], name=args.name, sizes=sizes), file=out, end="")
    return 0


def run_check(args, out) -> int:
    problem = read_problem(args)
    if args.tolerance <= 0 or not math.isfinite(args.tolerance):
        raise UsageError(f"--tolerance must be a positive number, got {args.tolerance}")
    sizes = _checked_sizes(problem, parse_sizes(args.size))
    command = "hessian" if args.order == 2 else "jacobian"
    check_memory("check", problem, sizes, args.memory_limit)
    items = derivatives(problem, command)
    check_memory("check", problem, sizes, args.memory_limit,
                 [item.derivative for item in items] + [problem.f])
    shown = ", ".join(f"{d}={n}" for d, n in sizes.items())
    print(f"{_signature(problem)}\nat random values ({shown + ', ' if shown else ''}seed "
          f"{args.seed}), central differences along random directions:", file=out)
    return report_check(check_derivatives(items, sizes, args.seed), args.tolerance, out)


def run_explain(args, out) -> int:
    explain = getattr(tc, "explain", None)
    if explain is None:  # not the input's fault: status 1, not 2
        print(f"{PROG}: error: explain is not available in this installation of tensorcalc "
              "(tc.explain is missing); tensorcalc grad prints the derivative", file=sys.stderr)
        return 1
    problem = read_problem(args)
    sizes = parse_sizes(args.size)
    options = {}
    if sizes:  # else tc.explain's own default sizes
        _checked_sizes(problem, sizes)
        options["sizes"] = sizes
    if args.level is not None:
        options["level"] = args.level
    if args.memory_limit is not None:
        options["memory_limit"] = args.memory_limit
    wrt = problem.wrt[0] if len(problem.wrt) == 1 else tuple(problem.wrt)
    result = explain(problem.f, wrt, **options)
    if args.format == "json":
        print(json.dumps(explanation_steps(result),
                         ensure_ascii=False, indent=2, default=str), file=out)
    else:
        print(str(result), file=out)
    return 0


def explanation_steps(result) -> list:
    """``tc.explain``'s steps as JSON-ready records (what ``explain --format json`` prints)."""
    return [_plain(step) for step in getattr(result, "steps", ())]


def _plain(record):
    """An explain step as JSON-ready data (a dataclass, named tuple, mapping or object)."""
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return {f.name: _plain(getattr(record, f.name)) for f in dataclasses.fields(record)}
    if hasattr(record, "_asdict"):
        return {k: _plain(v) for k, v in record._asdict().items()}
    if isinstance(record, dict):
        return {str(k): _plain(v) for k, v in record.items()}
    if isinstance(record, (list, tuple)):
        return [_plain(v) for v in record]
    if isinstance(record, np.ndarray):
        return record.tolist()
    if record is None or isinstance(record, (str, int, float, bool)):
        return record
    return str(record)


def run_serve(args, out) -> int:
    # The web page is a front end above this one (it answers with this module's JSON), so it is
    # imported when serve runs: the import graph stays web -> cli, and grad starts no faster for it.
    from tensorcalc.frontends.web import server
    try:
        return server.serve(args.host, args.port, time_limit=args.time_limit,
                            open_browser=not args.no_browser, out=out)
    except OSError as error:
        raise UsageError(f"serve: cannot listen on {args.host}:{args.port} ({error.strerror or error}); "
                         "pick another --port") from None


RUNNERS = {"grad": run_derivatives, "jacobian": run_derivatives, "hessian": run_derivatives,
           "explain": run_explain, "code": run_code, "check": run_check, "serve": run_serve}


# ---------------------------------------------------------------------------
# The argument parser and main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Matrix and tensor calculus from the command line: derivatives "
        "in index and matrix notation, their numpy code and a numeric check.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"{PROG} {tc.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command, (summary, examples) in SUBCOMMANDS.items():
        extra = ", 1 check failed" if command == "check" else ""
        sub = commands.add_parser(command, help=summary, description=summary[0].upper() + summary[1:] + ".",
                                  epilog=examples + _COMMON_EPILOG.format(extra=extra),
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.add_argument("expression", nargs="?", metavar="EXPRESSION",
                         help="the expression text; '-' or none reads standard input (one "
                         "that starts with '-', such as \"-x'*x\", is read as the expression; "
                         "after -- anything is)")
        sub.add_argument("--wrt", action="append", metavar="NAMES",
                         help="variable(s) to differentiate with respect to, comma-separated or "
                         "repeated (needed unless the expression has one variable)")
        sub.add_argument("--type", action="append", metavar="NAME=KIND",
                         help=f"a name's kind: {', '.join(KINDS)}")
        sub.add_argument("--shape", action="append", metavar="NAME=DIMS",
                         help="a name's shape: sizes or dimension names, --shape X=n,d; "
                         "--shape c= for a scalar")
        sub.add_argument("--dialect", choices=("matrix", "numpy"), default="matrix",
                         help="matrixcalculus.org's language (default) or numpy code")
        if command in ("grad", "jacobian", "hessian"):
            sub.add_argument("--format", choices=FORMATS, default="text",
                             help="text (default: index and matrix forms with the shapes), index, "
                             "matrix, latex or json")
        if command in ("explain", "code", "check"):
            sub.add_argument("--size", action="append", metavar="DIM=N",
                             help="the size of a named dimension (default 3), repeated or "
                             "comma-separated: --size n=100,m=20")
        if command in ("explain", "code", "check"):
            sub.add_argument("--memory-limit", type=parse_memory, metavar="BYTES",
                             default=None if command == "explain" else DEFAULT_MEMORY_LIMIT,
                             help="refuse sizes whose values would need more memory: bytes or "
                             "4GiB, 500MB (default 4GiB" + ("; explain then skips counting "
                             "non-zeros)" if command == "explain" else ")"))
        if command == "explain":
            sub.add_argument("--level", type=_level, help="how much detail: 1 (forward, result, "
                             "cost), 2 (every step, the default) or 3 (every node)")
            sub.add_argument("--format", choices=("text", "json"), default="text",
                             help="the text view (default) or the steps as JSON")
        if command == "code":
            sub.add_argument("--name", default="f_and_grad",
                             help="the generated function's name (default f_and_grad)")
        if command == "check":
            sub.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
            sub.add_argument("--tolerance", type=float, default=1e-6,
                             help="the largest relative error that passes (default 1e-6)")
            sub.add_argument("--order", type=int, choices=(1, 2), default=1,
                             help="1: gradients/Jacobians (default); 2: Hessian blocks")
    serve = commands.add_parser("serve", help=SERVE_SUMMARY, description=SERVE_SUMMARY[0].upper()
                                + SERVE_SUMMARY[1:] + ".", epilog=SERVE_EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument("--port", type=_port, default=8765, help="the port (default 8765)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="the address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--no-browser", action="store_true", help="do not open a browser")
    serve.add_argument("--time-limit", type=_seconds, default=30.0, metavar="SECONDS",
                       help="stop a derivation that runs longer (default 30)")
    return parser


def _port(text: str) -> int:
    if not text.strip().isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return seconds


def expression_first(argv: list) -> list:
    """``argv`` with an expression that starts with '-' (``"-x'*x"``) moved behind ``--``, so
    that argparse reads it as the expression and not as an unknown option.

    >>> expression_first(["grad", "-x'*x", "--wrt", "x"])
    ['grad', '--wrt', 'x', '--', "-x'*x"]

    A single-dash word other than ``-`` and ``-h`` is no option of ours; a word after an option
    that takes a value (``--seed -1``) is that value.
    """
    if "--" in argv:
        return argv
    command = next((n for n, word in enumerate(argv) if not word.startswith("-")), None)
    if command is None:
        return argv
    flags = ("-h", "--help")
    for n in range(command + 1, len(argv)):
        word, previous = argv[n], argv[n - 1]
        takes_value = n - 1 > command and previous.startswith("--") and "=" not in previous \
            and previous not in flags
        if word.startswith("-") and not word.startswith("--") and word not in ("-", "-h") \
                and not takes_value:
            return argv[:n] + argv[n + 1:] + ["--", word]
    return argv


# Library messages name Python arguments; the command line's user knows the flags.
_CLI_WORDS = [
    (re.compile(r"pass (\w+)=\(\.\.\.\) to tc\.parse"), r"pass --shape \1=..."),
    (re.compile(r"dialect='(\w+)'"), r"--dialect \1"),
    (re.compile(r"\(limit memory_limit=([^)]*)\)"), r"(limit --memory-limit \1)"),
    (re.compile(r"pass a larger memory_limit to tc\.grad / tc\.jacobian"), "raise --memory-limit"),
    (re.compile(r"or raise memory_limit\b"), "or raise --memory-limit"),
    (re.compile(r"\bsizes names '(\w+)'"), r"--size \1=... names '\1'"),
]


def cli_words(message: str) -> str:
    """A library message in the command line's words: flags, not keyword arguments.

    >>> cli_words("variable 'x' has no shape: pass x=(...) to tc.parse (the numpy dialect "
    ...           "needs every shape)")
    "variable 'x' has no shape: pass --shape x=... (the numpy dialect needs every shape)"
    >>> cli_words("... but the matrix dialect has scalars, vectors and matrices; use dialect='numpy'")
    '... but the matrix dialect has scalars, vectors and matrices; use --dialect numpy'
    """
    for pattern, replacement in _CLI_WORDS:
        message = pattern.sub(replacement, message)
    return message


def main(argv=None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); return the exit status.

    >>> main(["grad", "x'*A*x", "--wrt", "z"])
    2
    """
    parser = build_parser()
    argv = expression_first(list(sys.argv[1:] if argv is None else argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # --help, --version, or argparse's own usage error (2)
        return exit.code if isinstance(exit.code, int) else 1
    try:
        return RUNNERS[args.command](args, sys.stdout)
    except (UsageError, tc.TensorCalcError) as error:
        _error(cli_words(str(error)))
        return 2
    except BrokenPipeError:  # tensorcalc code ... | head
        sys.stderr.close()
        return 1
    except MemoryError as error:  # past what --memory-limit predicts (einsum's temporaries)
        _error(f"out of memory ({error}); use smaller --size values or a lower --memory-limit")
        return 2
    except RecursionError:
        _error("the expression is nested too deeply")
        return 2
    except Exception as error:  # noqa: BLE001 - a bug: say so in one line, not a traceback
        _error(f"internal error ({type(error).__name__}: {error}); this is a bug in tensorcalc, "
               "please report it with the command line")
        return 70  # EX_SOFTWARE: not the input's fault


def _error(message: str) -> None:
    """``tensorcalc: error: …`` on stderr, whatever characters the message holds."""
    text = f"{PROG}: error: {message}"
    encoding = getattr(sys.stderr, "encoding", None) or "utf-8"
    print(text.encode(encoding, "backslashreplace").decode(encoding), file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
