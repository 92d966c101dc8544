"""The table of elementwise functions: one row per function.

A row holds everything tensorcalc knows about the function: how numpy computes
it, its derivative *as an expression* (so higher derivatives come for free),
how it prints, and the domain the finite-difference tests sample from.
Evaluation, differentiation, printing and the test grid all read this table,
so adding a function is adding a row (see :func:`register_function`).

Subgradients at kinks (documented choices; peers differ, so they are stated here):

* ``relu'(0) = 0`` (``step(0) = 0``), as PyTorch and ``jax.nn.relu`` give;
* ``abs'(0) = 0`` (``sign(0) = 0``), as PyTorch gives; ``jax.grad(jnp.abs)(0.)``
  is 1.0 instead;
* ``step`` and ``sign`` are piecewise constant; their derivative is taken as 0
  everywhere, including at the jump (as are ``floor``, ``ceil``, ``round`` and ``trunc``);
* ``sinc`` (numpy's, ``sin(πx)/(πx)``) is smooth: its derivatives are the row
  ``sinc_derivative`` (param: the order k, printed ``sinc⁽ᵏ⁾``), finite at 0
  (``sinc'(0) = 0``, ``sinc''(0) = −π²/3``; :mod:`tensorcalc.expression.sinc`).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ..errors import FunctionTableError, closest
from .algebra import construction
from .sinc import derivative as _sinc_derivative


@dataclass(frozen=True)
class Function:
    """One row of the table.

    Both callables take **two** positional arguments, the argument and the
    row's parameter (``None`` unless ``has_param``):

    * ``numpy(x, param)`` evaluates on an array;
    * ``derivative(x, param)`` returns the expression ``f'(x)`` for an
      expression ``x``, or ``None`` when the derivative is identically zero.

    ``template`` prints ``f(x)`` with ``{}`` standing for the argument (``pow``
    prints through ``format_call``); ``domain`` is the interval the tests draw
    arguments from.

    >>> import numpy as np, tensorcalc as tc
    >>> cube = tc.Function("cube", lambda x, p: x ** 3, lambda x, p: 3 * x ** 2, "cube({})")
    >>> _ = tc.register_function(cube)
    >>> print(tc.grad(tc.sum(tc.apply_function("cube", tc.var("x", (2,)))), "x"))
    ∂(Σ_j cube(x_j))/∂x_i = 3 x_i²
    >>> _ = tc.FUNCTIONS.pop("cube")
    """

    name: str
    numpy: Callable
    derivative: Callable
    template: str
    domain: tuple = (-2.0, 2.0)
    has_param: bool = False
    bounded: bool = False  # the domain is the function's own (arcsin): tests squash arguments into it


FUNCTIONS: dict = {}


def register_function(row: Function, replace: bool = False) -> Function:
    """Add a row to the table (the way to teach tensorcalc a new function).

    A name already in the table is refused unless ``replace=True``: the table
    is global, and replacing ``tanh`` would change every expression using it.
    """
    if not isinstance(row, Function):
        raise FunctionTableError(f"register_function: expects a tc.Function, got {type(row).__name__}")
    if not isinstance(row.name, str) or not row.name.isidentifier():
        raise FunctionTableError(f"register_function: name {row.name!r} must be an identifier")
    for role in ("numpy", "derivative"):
        _check_two_arguments(row.name, role, getattr(row, role))
    if row.name in FUNCTIONS and not replace:
        raise FunctionTableError(f"register_function: {row.name!r} is already a row of the table; "
                                 "pass replace=True to replace it (for every expression)")
    FUNCTIONS[row.name] = row
    return row


def _check_two_arguments(name: str, role: str, function) -> None:
    if not callable(function):
        raise FunctionTableError(f"register_function: {name!r}: {role} must be callable")
    try:
        inspect.signature(function).bind(None, None)
    except TypeError:
        raise FunctionTableError(
            f"register_function: {name!r}: {role} must take two arguments (x, param), as in "
            f"lambda x, p: ...; param is None unless the row has a parameter") from None
    except ValueError:  # pragma: no cover - builtins without a signature: trust them
        pass


def lookup(name: str) -> Function:
    """The row ``name``, or a clear error naming the closest rows."""
    row = FUNCTIONS.get(name) if isinstance(name, str) else None
    if row is None:
        close = closest(name, FUNCTIONS, n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise FunctionTableError(f"unknown function {name!r}{hint} (rows: {', '.join(sorted(FUNCTIONS))})")
    return row


def _f(name):
    """Apply the row ``name`` to an expression (through the operator hook: construct needs
    this table, so this module cannot import it)."""
    return lambda x, param=None: construction().apply_function(name, x, param)


def _order(name: str, param) -> int:
    """A derivative's order: a whole number ≥ 1 (a clear error for anything else)."""
    if isinstance(param, bool) or not isinstance(param, (int, float, np.integer, np.floating)) \
            or param != int(param) or param < 1:
        raise FunctionTableError(f"{name}: the parameter is the derivative's order, a whole "
                                 f"number ≥ 1; got {param!r}")
    return int(param)


def _sigmoid(x):
    # never overflows, keeps full relative precision in the tail (where 0.5 (1 + tanh(x/2))
    # cancels), and is about 1.7x faster than exp(-logaddexp(0, -x))
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


def _softplus(x):
    # log(1 + e^x) without overflow; about twice as fast as np.logaddexp(0, x)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _erf(x):
    # numpy only (scipy is not a dependency): erf x = 2/√π e^(−x²) Σ_n 2ⁿ x^(2n+1) / (2n+1)!!,
    # a series of positive terms (no cancellation; relative error ~1e-15, checked against
    # math.erf); |x| ≥ 6 rounds to ±1 in float64
    given = np.asarray(x)
    x = np.asarray(x, dtype=np.result_type(x, np.float64))  # summed in float64, returned as given
    a = np.minimum(np.abs(x), 6.0)
    term = a.copy()
    total = a.copy()
    for n in range(1, 400):
        term = term * (2.0 * a * a) / (2 * n + 1)
        total = total + term
        if np.all(term <= 1e-17 * total):
            break
    result = np.sign(x) * np.minimum(1.0, 2.0 / np.sqrt(np.pi) * np.exp(-a * a) * total)
    return result.astype(given.dtype, copy=False) if given.dtype.kind == "f" else result


_ROWS = [
    Function("exp", lambda x, p: np.exp(x), lambda x, p: _f("exp")(x), "exp({})"),
    Function("log", lambda x, p: np.log(x), lambda x, p: _f("pow")(x, -1.0), "log({})", (0.2, 3.0)),
    Function("sin", lambda x, p: np.sin(x), lambda x, p: _f("cos")(x), "sin({})"),
    Function("cos", lambda x, p: np.cos(x), lambda x, p: -_f("sin")(x), "cos({})"),
    Function("tanh", lambda x, p: np.tanh(x), lambda x, p: 1.0 - _f("pow")(_f("tanh")(x), 2.0),
             "tanh({})"),
    Function("sigmoid", lambda x, p: _sigmoid(x),
             lambda x, p: _f("sigmoid")(x) * (1.0 - _f("sigmoid")(x)), "σ({})"),
    Function("softplus", lambda x, p: _softplus(x), lambda x, p: _f("sigmoid")(x),
             "softplus({})"),
    Function("sqrt", lambda x, p: np.sqrt(x), lambda x, p: 0.5 * _f("pow")(x, -0.5), "√({})",
             (0.2, 3.0)),
    Function("relu", lambda x, p: np.maximum(x, 0.0), lambda x, p: _f("step")(x), "relu({})"),
    Function("abs", lambda x, p: np.abs(x), lambda x, p: _f("sign")(x), "|{}|"),
    Function("step", lambda x, p: np.heaviside(x, 0.0), lambda x, p: None, "step({})"),
    Function("sign", lambda x, p: np.sign(x), lambda x, p: None, "sign({})"),
    Function("log1p", lambda x, p: np.log1p(x), lambda x, p: _f("pow")(1.0 + x, -1.0),
             "log1p({})", (-0.5, 3.0), bounded=True),
    Function("expm1", lambda x, p: np.expm1(x), lambda x, p: _f("exp")(x), "expm1({})"),
    Function("tan", lambda x, p: np.tan(x), lambda x, p: 1.0 + _f("pow")(_f("tan")(x), 2.0),
             "tan({})", (-1.2, 1.2), bounded=True),
    Function("arcsin", lambda x, p: np.arcsin(x),
             lambda x, p: _f("pow")(1.0 - _f("pow")(x, 2.0), -0.5), "arcsin({})", (-0.9, 0.9),
             bounded=True),
    Function("arccos", lambda x, p: np.arccos(x),
             lambda x, p: -_f("pow")(1.0 - _f("pow")(x, 2.0), -0.5), "arccos({})", (-0.9, 0.9),
             bounded=True),
    Function("arctan", lambda x, p: np.arctan(x),
             lambda x, p: _f("pow")(1.0 + _f("pow")(x, 2.0), -1.0), "arctan({})"),
    Function("sinh", lambda x, p: np.sinh(x), lambda x, p: _f("cosh")(x), "sinh({})"),
    Function("cosh", lambda x, p: np.cosh(x), lambda x, p: _f("sinh")(x), "cosh({})"),
    Function("erf", lambda x, p: _erf(x),
             lambda x, p: (2.0 / np.sqrt(np.pi)) * _f("exp")(-_f("pow")(x, 2.0)), "erf({})"),
    # numpy's names (issue 18): logarithms and exponentials to other bases, inverse hyperbolics
    Function("log2", lambda x, p: np.log2(x), lambda x, p: _f("pow")(x, -1.0) * (1.0 / np.log(2.0)),
             "log₂({})", (0.2, 3.0)),
    Function("log10", lambda x, p: np.log10(x),
             lambda x, p: _f("pow")(x, -1.0) * (1.0 / np.log(10.0)), "log₁₀({})", (0.2, 3.0)),
    Function("exp2", lambda x, p: np.exp2(x), lambda x, p: np.log(2.0) * _f("exp2")(x), "2^({})"),
    Function("arcsinh", lambda x, p: np.arcsinh(x),
             lambda x, p: _f("pow")(1.0 + _f("pow")(x, 2.0), -0.5), "arcsinh({})"),
    Function("arccosh", lambda x, p: np.arccosh(x),
             lambda x, p: _f("pow")(_f("pow")(x, 2.0) - 1.0, -0.5), "arccosh({})", (1.2, 3.0)),
    Function("arctanh", lambda x, p: np.arctanh(x),
             lambda x, p: _f("pow")(1.0 - _f("pow")(x, 2.0), -1.0), "arctanh({})", (-0.9, 0.9),
             bounded=True),
    # piecewise constant (numpy's round: halves to even); derivative 0 everywhere, jumps included
    Function("floor", lambda x, p: np.floor(x), lambda x, p: None, "⌊{}⌋"),
    Function("ceil", lambda x, p: np.ceil(x), lambda x, p: None, "⌈{}⌉"),
    Function("round", lambda x, p: np.round(x), lambda x, p: None, "round({})"),
    Function("trunc", lambda x, p: np.trunc(x), lambda x, p: None, "trunc({})"),
    # numpy's nan_to_num: NaN → 0, ±∞ → the dtype's largest finite ±value; its derivative is 1
    # where x is finite and 0 where it was replaced (the mask isfinite, itself piecewise constant)
    Function("nan_to_num", lambda x, p: np.nan_to_num(x), lambda x, p: _f("isfinite")(x),
             "nan_to_num({})"),
    Function("isfinite", lambda x, p: np.isfinite(x).astype(np.result_type(x, np.float32)),
             lambda x, p: None, "isfinite({})"),
    # numpy's normalized sinc; its k-th derivative is a row with the order as its param
    Function("sinc", lambda x, p: np.sinc(x), lambda x, p: _f("sinc_derivative")(x, 1),
             "sinc({})"),
    Function("sinc_derivative", lambda x, p: _sinc_derivative(x, _order("sinc_derivative", p)),
             lambda x, p: _f("sinc_derivative")(x, _order("sinc_derivative", p) + 1),
             "sinc⁽{order}⁾({})", has_param=True),
    Function("pow", lambda x, p: x ** p,
             lambda x, p: None if p == 0 else p * (x if p == 2 else _f("pow")(x, p - 1.0)), "{}^{}",
             (0.2, 3.0), has_param=True),
]
for _row in _ROWS:
    register_function(_row)

_SUPERSCRIPT = str.maketrans("0123456789-.", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻·")


def format_call(fn: str, argument: str, param: Optional[float], atomic: bool) -> str:
    """Print ``fn(argument)``; ``atomic`` says the argument needs no parentheses."""
    if fn == "pow":
        base = argument if atomic else f"({argument})"
        if float(param).is_integer():
            return base + str(int(param)).translate(_SUPERSCRIPT)
        return f"{base}^{param:g}"
    if param is not None:  # a row whose param is an order: sinc⁽²⁾(x)
        return FUNCTIONS[fn].template.format(argument, order=str(int(param)).translate(_SUPERSCRIPT))
    return FUNCTIONS[fn].template.format(argument)
