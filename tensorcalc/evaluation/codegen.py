"""Generated code: a compiled program written out as a standalone numpy module.

>>> import numpy as np, tensorcalc as tc
>>> x, A = tc.var("x", ("n",)), tc.var("A", ("n", "n"))
>>> f = x @ A @ x
>>> source = tc.codegen([f, tc.grad(f, x)], name="quadratic")
>>> namespace = {}
>>> exec(source, namespace)
>>> value, dx = namespace["quadratic"](x=np.ones(2), A=np.eye(2))
>>> value, dx
(np.float64(2.0), array([2., 2.]))
>>> namespace["check_gradient"]() < 1e-6
True

:func:`codegen` returns the source of a module that imports only numpy: one
function taking the variables as keywords (called like :func:`tc.compile
<tensorcalc.compile>`'s program), with one statement per step of the compiled
program, the step's formula in a comment, and the contractions in the order
opt_einsum planned; a ``check_gradient`` that compares every derivative output
with central differences; and a ``__main__`` block running that check.

:func:`~tensorcalc.evaluation.statements.generate` writes each function (one
straight-line function per program; see :mod:`tensorcalc.evaluation.statements`).
"""

from __future__ import annotations

import textwrap
from typing import Optional

import numpy as np

from ..errors import CodegenError, TensorCalcError
from ..expression.construct import as_expr
from ..expression.functions import FUNCTIONS
from ..expression.nodes import Elementwise
from ..notation.printers import matrix_notation
from ..notation.printing import index_notation
from .evaluate import compile as compile_program
from .source_forms import HELPERS, SOURCES, _default_output_names, _shape_text
from .statements import generate, load

__all__ = ["HELPERS", "SOURCES", "CodegenError", "codegen", "generate", "load"]


def codegen(outputs, name: str = "f_and_grad", sizes: Optional[dict] = None) -> str:
    """The source of a standalone module (numpy only) computing ``outputs``.

    >>> import tensorcalc as tc
    >>> x = tc.var("x", ("n",))
    >>> source = tc.codegen([tc.sum(tc.tanh(x)), tc.grad(tc.sum(tc.tanh(x)), x)], sizes={"n": 4})
    >>> print(source[source.index("def f_and_grad"):source.index("def forward")].strip())
    def f_and_grad(*, x):
        \"\"\"value, dx from x (n,).\"\"\"
        x = _array(x, 'x', ('n',))
        n, = x.shape
        # t1_i = tanh(x_i)
        t1 = np.tanh(x)
        # value = Σ_i tanh(x_i)
        value = t1.sum()
        # t2_i = tanh(x_i)²
        t2 = t1 ** 2
        # dx_i = 1 - tanh(x_i)²
        dx = 1.0 - t2
        return value, dx

    The module holds the function ``name`` (keyword arguments, as the program
    ``tc.compile(outputs)`` is called; a tuple for a list of outputs, scalars
    as numpy scalars of the inputs' dtype), a ``forward`` function per
    distinct function that a derivative output differentiates,
    ``check_gradient(seed=0)`` and a
    ``__main__`` block that runs the check and exits 1 when its error exceeds
    1e-6.  ``sizes`` plan the contraction order and size the check's data
    (named dimensions default to 3 there).
    """
    single = not isinstance(outputs, (list, tuple))
    items = [outputs] if single else list(outputs)
    program = compile_program(outputs)
    sizes = dict(sizes or {})
    names = _default_output_names(program)
    checked = [(n, item) for n, item in enumerate(items)
               if getattr(item, "of", None) is not None and getattr(item, "cotangent", None) is None]
    differentiated = list({id(as_expr(item.of)): item.of for _, item in checked}.values())
    forward_names = ["forward"] if len(differentiated) == 1 else \
        [f"forward{n + 1}" for n in range(len(differentiated))]
    if name in forward_names or name in ("sys", "check_gradient", "_projection_error",
                                         "_symmetric"):
        raise CodegenError(f"codegen: the function cannot be named {name!r}, which the "
                           "generated module uses")
    # id(f) -> (name, program) of each function some derivative output differentiates
    forward_programs = {id(as_expr(of)): (fname, compile_program(of))
                        for of, fname in zip(differentiated, forward_names)}
    all_programs = [program] + [p for _, p in forward_programs.values()]
    dims = sorted({d for p in all_programs for d in p.named_dims})
    unknown = sorted(set(sizes) - set(dims))
    if unknown:
        raise CodegenError(f"codegen: sizes names {unknown[0]!r}, which is no dimension of the "
                           f"expressions (they have {dims or 'none'})")
    for dim, size in sizes.items():
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 1:
            raise CodegenError(f"codegen: sizes[{dim!r}] is {size!r}, not a positive int")
    main_source, _ = generate(program, name, sizes, output_names=names)
    accepted = list(program.variables.values()) + list(program.optional)
    sources = [main_source]
    for fname, forward in forward_programs.values():
        extra = [v.name for v in accepted if v.name not in forward.variables and
                 v.name not in {o.name for o in forward.optional}]
        source, _ = generate(forward, fname, sizes, accept=extra)
        sources.append(source)
    header = _module_docstring(name, items, program, accepted, dims, checked)
    low, high = (0.5, 1.5) if _needs_positive(all_programs) else (-1.0, 1.0)
    check = _check_source(name, accepted, sizes, checked, forward_programs, single, low, high)
    parts = [header, "import sys\n\nimport numpy as np\n", *sources, HELPERS, check, _MAIN]
    return "\n\n\n".join(part.rstrip("\n") for part in parts) + "\n"


def _module_docstring(name, items, program, variables, dims, checked) -> str:
    lines = [f"{name}: generated by tensorcalc.evaluation.codegen; needs only numpy.", "", "Computes:"]
    for output_name, item in zip(_default_output_names(program), items):
        text = str(item) if getattr(item, "of", None) is not None else index_notation(as_expr(item))
        lines.extend(_wrapped(f"{output_name}: {text}"))
    forms = []
    for output_name, item in zip(_default_output_names(program), items):
        try:
            forms.extend(_wrapped(f"{output_name} = {matrix_notation(item)}"))
        except (TensorCalcError, NotImplementedError, ValueError, TypeError):
            continue  # no matrix form for this output (a 3-tensor, say)
    if forms:
        lines += ["", "In matrix notation:"] + forms
    lines += ["", "Variables:"]
    lines += [f"    {v.name}: shape {_shape_text(v.shape)}" for v in variables]
    if dims:
        lines += ["", f"Named dimensions ({', '.join(dims)}) take any sizes, as long as the "
                  "arrays agree."]
    lines += ["", "Run this file to check the derivatives against central differences." if checked
              else "No output is a derivative: check_gradient() returns 0.0."]
    text = "\n".join(lines).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return '"""' + text + '\n"""\n'


def _wrapped(text: str, limit: int = 1200) -> list:
    text = text.replace("\n", " ")
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    return textwrap.wrap(text, 92, initial_indent="    ", subsequent_indent="        ")


def _needs_positive(programs) -> bool:
    """Whether some function is real only for positive arguments (log, √, x^-1, x^0.5): the
    check then draws data in [0.5, 1.5], else in [-1, 1] (where tanh does not saturate)."""
    for program in programs:
        for node in program.nodes:
            if isinstance(node, Elementwise) and FUNCTIONS[node.fn].domain[0] >= 0 and not (
                    node.fn == "pow" and float(node.param).is_integer() and node.param >= 0):
                return True
    return False


def _check_source(name, variables, sizes, checked, forwards, single, low, high) -> str:
    lines = ["def check_gradient(seed=0):",
             '    """The largest relative error of the derivatives against central differences.',
             "",
             "    Each derivative D of f with respect to x is projected on random directions,",
             "    <u, D v>, and compared with <u, f(x + h v) - f(x - h v)> / 2h (Richardson-",
             f"    extrapolated), at random data in [{low}, {high}]. 0.0 when no output is a "
             "derivative",
             '    (vjp results are not checked)."""']
    if not checked:
        lines.append("    return 0.0")
        return "\n".join(lines) + "\n"
    check_sizes = {d: int(sizes.get(d, 3)) for d in
                   sorted({d for v in variables for d in v.shape if isinstance(d, str)})}
    lines.append("    rng = np.random.default_rng(seed)")
    lines.append("    data = {")
    for v in variables:
        shape = tuple(d if isinstance(d, int) else check_sizes[d] for d in v.shape)
        draw = f"rng.uniform({low}, {high}, size={shape!r})"
        if getattr(v, "symmetric", False):
            draw = f"_symmetric({draw})"
        lines.append(f"        {v.name!r}: {draw},")
    lines.append("    }")
    call = f"{name}(**data)"
    lines.append(f"    outputs = ({call},)" if single else f"    outputs = {call}")
    lines.append("    errors = [")
    for n, item in checked:
        fname = forwards[id(as_expr(item.of))][0]
        symmetric = ", symmetric=True" if getattr(item.wrt, "symmetric", False) else ""
        lines.append(f"        _projection_error({fname}, data, {item.wrt.name!r}, outputs[{n}], "
                     f"rng{symmetric}),")
    lines.append("    ]")
    lines.append("    return float(max(errors))")
    lines.append("")
    lines.append("")
    lines.extend(_PROJECTION.split("\n"))
    if any(getattr(v, "symmetric", False) for v in variables):
        lines.extend(["", "", _SYMMETRIC.rstrip("\n")])
    return "\n".join(lines) + "\n"


_PROJECTION = '''\
def _projection_error(function, data, name, derivative, rng, symmetric=False, h=1e-4):
    """|<u, D v> - <u, f(x + h v) - f(x - h v)> / 2h|, relative to their size."""
    x = data[name]
    v = rng.standard_normal(np.shape(x))
    if symmetric:
        v = (v + np.swapaxes(v, -1, -2)) / 2

    def difference(step):  # a central difference along v
        plus = np.asarray(function(**{**data, name: x + step * v}))
        minus = np.asarray(function(**{**data, name: x - step * v}))
        return (plus - minus) / (2 * step)

    value = np.asarray(function(**data))
    u = rng.standard_normal(value.shape)
    slope = (4 * difference(h) - difference(2 * h)) / 3  # Richardson: error O(h^4)
    numeric = float(np.sum(u * slope))
    exact = float(np.sum(np.tensordot(u, np.asarray(derivative), axes=u.ndim) * v))
    scale = max(abs(exact), abs(numeric)) + 1e-5 * (1 + np.linalg.norm(u) * np.linalg.norm(value))
    return float(abs(exact - numeric) / scale)
'''

_SYMMETRIC = '''\
def _symmetric(m):
    return (m + np.swapaxes(m, -1, -2)) / 2
'''

_MAIN = '''\
if __name__ == "__main__":
    error = check_gradient()
    print(f"largest relative error of the derivatives: {error:.3g}")
    sys.exit(0 if error <= 1e-6 else 1)
'''
