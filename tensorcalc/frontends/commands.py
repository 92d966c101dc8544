"""The subcommands of the command line (:data:`RUNNERS`): derivatives and their printed
forms, ``check`` against central differences, ``code`` and ``explain``."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from typing import Optional

import numpy as np

import tensorcalc as tc
from tensorcalc.evaluation.common import _human
from tensorcalc.frontends.inputs import (DEFAULT_SIZE, PROG, Problem, UsageError, parse_sizes, read_problem,
                                         shape_text)


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
    record = {"name": item.label, "wrt": list(item.wrt), "shape": list(expr.shape),
              "index": tc.index_notation(expr), "matrix": matrix, "latex": latex}
    kronecker = _kronecker(item.derivative) if matrix is None else None
    if kronecker is not None:  # a derivative of order 3 or 4
        record["kronecker"] = kronecker
    return record


def _kronecker(derivative) -> Optional[dict]:
    """A derivative of order 3 or 4 as ``∂vec(f)/∂vec(x)ᵀ`` (``Bᵀ ⊗ A``), or why it has none;
    ``None`` for any other."""
    if tc.as_expr(derivative).ndim not in (3, 4) or getattr(derivative, "of", None) is None:
        return None
    form = tc.kronecker_form(derivative)
    if not form:
        return {"form": None, "reason": form.reason}
    convention = form.convention(derivative.wrt.name, prefix="")
    return {"form": form.spell("unicode"), "latex": form.spell("latex"), "convention": convention}


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
    ["x"], "shape": ["n"], "index": …, "matrix": …, "latex": …, "kronecker": …}]}`` (``matrix`` is null
    where there is no matrix form; ``kronecker``, only for a derivative of order 3 or 4 with none,
    is ``{"form": "Bᵀ ⊗ A", "latex": …, "convention": "∂vec(f)/∂vec(X)ᵀ, vec column-major"}`` or
    ``{"form": null, "reason": …}``)."""
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


def _kronecker_line(record: dict) -> Optional[str]:
    kronecker = record.get("kronecker")
    if not kronecker or kronecker["form"] is None:
        return None
    return f"{kronecker['form']}  (as {kronecker['convention']})"


def _vec_label(item: Item) -> str:
    """``∂vec f/∂vec(X)ᵀ`` in LaTeX: what a Kronecker form is the matrix of."""
    name = tc.latex(tc.var(item.wrt[-1]))
    return (f"\\frac{{\\partial \\operatorname{{vec}} f}}"
            f"{{\\partial \\operatorname{{vec}}({name})^{{\\top}}}}")


def _kronecker_latex(record: dict) -> Optional[str]:
    kronecker = record.get("kronecker")
    return kronecker.get("latex") if kronecker else None


def _no_matrix(record: dict) -> str:
    kronecker = record.get("kronecker")
    if kronecker and kronecker["form"] is not None:
        return _kronecker_line(record)
    why = f": {kronecker['reason']}" if kronecker else ""
    return f"(none: index form only{why})"


def format_derivatives(problem: Problem, items: list, form: str) -> str:
    if form == "json":
        return _json_document(derivatives_document(problem, items))
    records = [describe(item) for item in items]
    if form == "index":
        return "\n".join(r["index"] for r in records)
    if form == "matrix":  # the index form where there is no matrix form, and it says so
        return "\n".join(r["matrix"] or _kronecker_line(r) or f"[index form] {r['index']}"
                         for r in records)
    if form == "latex":
        return "\n".join(f"{_vec_label(item)} = {_kronecker_latex(r)}" if _kronecker_latex(r)
                         else f"{latex_label(item)} = {r['latex']}" for item, r in zip(items, records))
    lines = [_signature(problem)]
    for r in records:
        lines.append(f"{r['name']}  shape {shape_text(r['shape'])}")
        lines.append(f"  index:  {_indented(r['index'], ' ' * 10)}")
        lines.append(f"  matrix: {_indented(r['matrix'], ' ' * 10) if r['matrix'] else _no_matrix(r)}")
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


RUNNERS = {"grad": run_derivatives, "jacobian": run_derivatives, "hessian": run_derivatives,
           "explain": run_explain, "code": run_code, "check": run_check}
