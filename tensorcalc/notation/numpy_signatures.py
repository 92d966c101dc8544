"""The numpy dialect's table of numpy's functions, each with numpy's own parameters.

A row is a :class:`Signature`: numpy's parameter names in positional order, which of them take
arrays (read from the text as expressions) and which take constants (integers, tuples, lists,
``True``/``False``/``None``, strings, ``np.inf``), which are keyword-only, and how it builds.
Arguments bind as in Python: by position, then by keyword (``np.sum(x, 0)`` and
``np.sum(x, axis=0)`` are one call); a method call (``x.sum(axis=0)``) binds its receiver to
the first parameter.  ``build`` gets the arrays positionally, in parameter order (``None`` for
one not given), and the constants as keywords under numpy's names.

A tuple-valued function (``np.linalg.slogdet``, ``np.linalg.svd``, ``np.linalg.eigh``,
``np.split``) builds :class:`Outputs`; the dialect reads one expression, so the text picks one
output, by position (``np.linalg.slogdet(X)[1]``) or by numpy's field name
(``np.linalg.slogdet(X).logabsdet``).

>>> import numpy as np, tensorcalc as tc
>>> f = tc.parse("np.linalg.slogdet(X)[1] + X.sum(axis=0) @ np.roll(x, 1)", dialect="numpy",
...              X=(2, 2), x=(2,))
>>> X0, x0 = np.array([[2.0, 1.0], [0.0, 3.0]]), np.array([1.0, 2.0])
>>> bool(np.isclose(tc.evaluate(f, X=X0, x=x0),
...                 np.linalg.slogdet(X0)[1] + X0.sum(axis=0) @ np.roll(x0, 1)))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import ParseError
from ..expression import construct as c
from ..expression.arrangement import moveaxis, pad, repeat, squeeze, swapaxes, tile, tril, triu
from ..expression.decompositions import cholesky, eigh, eigvalsh, expm, pinv, qr, slogdet, svd
from ..expression.diagonals import diagonal, trace
from ..expression.indexing import diff, expand_dims, flip, roll, split
from ..expression.layout import kron, reshape
from ..expression.linalg import det, inv, matrix_power, solve
from ..expression.elementwise_names import deg2rad, rad2deg, reciprocal, square
from ..expression.pairwise import (arctan2, fmod, hypot, logaddexp, logaddexp2, maximum, minimum,
                                   mod)
from ..expression.scans import cumprod, cumsum, partition, prod, sort
from ..expression.reductions import max as _max, min as _min, norm
from ..expression.selection import clip, where
from ..expression.statistics import std, variance
from .typer import _diag


@dataclass(frozen=True)
class Signature:
    parameters: tuple  # numpy's names, in positional order
    build: Callable
    arrays: tuple = ()  # the parameters that take arrays (by default the first)
    required: int = 1  # how many leading parameters must be given
    keyword_only: tuple = ()  # parameters only a keyword names (keepdims=, ddof=)
    collects: bool = False  # a method's extra positionals form a tuple: x.reshape(2, 3)

    def __post_init__(self):
        if not self.arrays:
            object.__setattr__(self, "arrays", self.parameters[:1])

    @property
    def names(self) -> tuple:
        return self.parameters + self.keyword_only


class Outputs(tuple):
    """A tuple-valued function's outputs, with numpy's field names (``.logabsdet``, ``.S``)."""

    def __new__(cls, items, fields: tuple, function: str, hint: str = ""):
        made = super().__new__(cls, items)
        made.fields, made.function, made.hint = fields, function, hint
        return made


@dataclass(frozen=True)
class Unavailable:
    """An output that exists in numpy but not here; picking it is an error saying why."""
    reason: str


# ---------------------------------------------------------------------------
# Builders with numpy's names where tensorcalc's differ


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


def _diff(x, n=1, axis=-1):
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ParseError(f"np.diff: n must be a non-negative integer, got {n!r}")
    for _ in range(n):
        x = diff(x, axis)
    return x


def _roll(x, shift, axis=None):
    if axis is None and x.ndim != 1:  # numpy rolls the flattened array, then restores the shape
        return reshape(roll(reshape(x, (-1,)), shift, 0), x.shape)
    return roll(x, shift, 0 if axis is None else axis)


def _repeat(x, repeats, axis=None):
    return repeat(reshape(x, (-1,)) if axis is None and x.ndim != 1 else x, repeats, axis)


def _pad(x, pad_width, mode="constant", constant_values=0):
    if mode != "constant":
        raise ParseError(f"np.pad: mode={mode!r} is not supported; only mode='constant'")
    if isinstance(constant_values, bool) or not isinstance(constant_values, (int, float)):
        raise ParseError("np.pad: constant_values must be one number, got "
                         f"{constant_values!r}")
    if constant_values == 0:
        return pad(x, pad_width)
    return pad(x - float(constant_values), pad_width) + float(constant_values)  # x where x is


def _where(x, y, condition):
    return where(condition, x, y)


def _reshape(x, shape=None, newshape=None, order="C"):
    if order != "C":
        raise ParseError(f"reshape: order={order!r} is not supported; only order='C' (row-major)")
    if (shape is None) == (newshape is None):
        raise ParseError("reshape: give the new shape once (shape= or newshape=)")
    return reshape(x, shape if shape is not None else newshape)


def _transpose(x, axes=None):
    return c.transpose(x, None if axes is None or axes == () else axes)


def _svd(x, full_matrices=True, compute_uv=True, hermitian=False):
    if hermitian:
        raise ParseError("np.linalg.svd: hermitian=True is not supported")
    if x.ndim < 2:
        raise ParseError(f"np.linalg.svd: needs a matrix (or a stack of them), got shape {x.shape}")
    if not compute_uv:
        return svd(x, compute_uv=False)
    fields = ("U", "S", "Vh")
    if full_matrices and x.shape[-2] != x.shape[-1]:  # s exists; U, Vh are numpy's full ones
        missing = Unavailable(
            f"np.linalg.svd: full_matrices=True of a {x.shape[-2]}×{x.shape[-1]} matrix has "
            "factors without a derivative; pass full_matrices=False (the reduced SVD)")
        return Outputs((missing, svd(x, compute_uv=False), missing), fields, "np.linalg.svd",
                       _SVD_HINT)
    return Outputs(svd(x, full_matrices=False), fields, "np.linalg.svd", _SVD_HINT)


_SVD_HINT = "; or pass compute_uv=False for the singular values"


def _qr(x, mode="reduced"):
    if mode == "r":
        return qr(x, mode="r")
    if mode != "reduced":
        raise ParseError(f"np.linalg.qr: mode={mode!r} is not supported; mode='reduced' (Q, R) or "
                         "mode='r' (R alone)")
    return Outputs(qr(x), ("Q", "R"), "np.linalg.qr")


def _split(x, indices_or_sections, axis=0):
    parts = split(x, indices_or_sections, axis)
    return Outputs(parts, (), "np.split")


def _clip(x, a_min=None, a_max=None, lower=None, upper=None):
    """numpy's ``clip``; numpy 2.1 also names the bounds ``min=`` and ``max=``."""
    if (a_min is not None and lower is not None) or (a_max is not None and upper is not None):
        raise ParseError("np.clip: give each bound once (a_min or min, a_max or max)")
    return clip(x, a_min if lower is None else lower, a_max if upper is None else upper)


def _one(function):
    return Signature(("a",), function)


def _reduction(function, *keywords):
    return Signature(("a", "axis"), function, keyword_only=keywords)


def _pairwise(function):
    return Signature(("a", "b"), function, arrays=("a", "b"), required=2)


_NUMPY = {
    "square": _one(square),
    "reciprocal": _one(reciprocal),
    "deg2rad": _one(deg2rad), "radians": _one(deg2rad),
    "rad2deg": _one(rad2deg), "degrees": _one(rad2deg),
    "logaddexp": _pairwise(logaddexp),
    "logaddexp2": _pairwise(logaddexp2),
    "arctan2": Signature(("x1", "x2"), arctan2, arrays=("x1", "x2"), required=2),
    "hypot": Signature(("x1", "x2"), hypot, arrays=("x1", "x2"), required=2),
    "mod": Signature(("x1", "x2"), mod, arrays=("x1", "x2"), required=2),
    "remainder": Signature(("x1", "x2"), mod, arrays=("x1", "x2"), required=2),
    "fmod": Signature(("x1", "x2"), fmod, arrays=("x1", "x2"), required=2),
    "prod": _reduction(prod, "keepdims"),
    "cumsum": Signature(("a", "axis"), cumsum),
    "cumprod": Signature(("a", "axis"), cumprod),
    "sort": Signature(("a", "axis"), sort),
    "partition": Signature(("a", "kth", "axis"), partition, required=2),
    "sum": _reduction(c.sum, "keepdims"),
    "mean": _reduction(c.mean, "keepdims"),
    "var": _reduction(variance, "ddof", "keepdims"),
    "std": _reduction(std, "ddof", "keepdims"),
    "max": _reduction(_max, "keepdims"), "amax": _reduction(_max, "keepdims"),
    "min": _reduction(_min, "keepdims"), "amin": _reduction(_min, "keepdims"),
    "trace": Signature(("a", "offset", "axis1", "axis2"), trace),
    "diagonal": Signature(("a", "offset", "axis1", "axis2"), diagonal),
    "diag": _one(_numpy_diag),
    "transpose": Signature(("a", "axes"), _transpose, collects=True),
    "reshape": Signature(("a", "shape"), _reshape, keyword_only=("newshape", "order"),
                         collects=True),
    "ravel": _one(lambda x: reshape(x, (-1,))),
    "dot": _pairwise(_dot),
    "matmul": _pairwise(c.matmul),
    "outer": _pairwise(_outer),
    "power": _pairwise(c.power),  # the reader folds constants and checks the exponent first
    "kron": _pairwise(kron),
    "maximum": _pairwise(maximum),
    "minimum": _pairwise(minimum),
    "clip": Signature(("a", "a_min", "a_max"), _clip, keyword_only=("min", "max"),
                      arrays=("a", "a_min", "a_max", "min", "max")),
    "where": Signature(("condition", "x", "y"), _where, arrays=("x", "y"), required=3),
    "flip": Signature(("m", "axis"), flip),
    "diff": Signature(("a", "n", "axis"), _diff),
    "expand_dims": Signature(("a", "axis"), expand_dims, required=2),
    "squeeze": Signature(("a", "axis"), squeeze),
    "triu": Signature(("m", "k"), triu),
    "tril": Signature(("m", "k"), tril),
    "roll": Signature(("a", "shift", "axis"), _roll, required=2),
    "repeat": Signature(("a", "repeats", "axis"), _repeat, required=2),
    "tile": Signature(("A", "reps"), tile, required=2),
    "pad": Signature(("array", "pad_width", "mode"), _pad, required=2,
                     keyword_only=("constant_values",)),
    "swapaxes": Signature(("a", "axis1", "axis2"), swapaxes, required=3),
    "moveaxis": Signature(("a", "source", "destination"), moveaxis, required=3),
    "split": Signature(("ary", "indices_or_sections", "axis"), _split, required=2),
    "linalg.det": _one(det),
    "linalg.inv": _one(inv),
    "linalg.solve": _pairwise(solve),
    "linalg.norm": Signature(("x", "ord", "axis", "keepdims"), norm),
    "linalg.cholesky": _one(cholesky),
    "linalg.eigvalsh": _one(eigvalsh),
    "linalg.pinv": _one(pinv),
    "linalg.svd": Signature(("a", "full_matrices", "compute_uv", "hermitian"), _svd),
    "linalg.qr": Signature(("a", "mode"), _qr),
    "linalg.slogdet": _one(lambda x: Outputs(slogdet(x), ("sign", "logabsdet"), "np.linalg.slogdet")),
    "linalg.eigh": _one(lambda x: Outputs(eigh(x), ("eigenvalues", "eigenvectors"),
                                          "np.linalg.eigh")),
    "linalg.matrix_power": Signature(("a", "n"), lambda x, n: matrix_power(x, n), required=2),
}
_SCIPY = {"scipy.linalg.expm": _one(expm)}
FUNCTIONS = {**_NUMPY, **_SCIPY}
"""Every function the dialect calls by name (``np.`` dropped; scipy's with ``scipy.``)."""

METHODS = {name: name for name in ("sum", "mean", "var", "std", "max", "min", "trace", "diagonal",
                                   "transpose", "reshape", "dot", "clip", "repeat", "swapaxes",
                                   "squeeze", "ravel", "prod", "cumsum", "cumprod", "sort")}
METHODS["flatten"] = "ravel"
"""ndarray's methods: ``x.sum(axis=0)`` is ``np.sum(x, axis=0)``."""

CONSTANT_HINTS = {
    ("where", "condition"): "np.where: the condition must be a comparison (x > 0, a <= b) or a "
    "constant: True, False or a (nested) list of them, such as [True, False, True]",
}
"""What to say when a constant parameter gets something that is not a constant."""


def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _integers(value) -> bool:
    return _integer(value) or (isinstance(value, (tuple, list)) and all(map(_integer, value)))


def _nested(test):
    def check(value):
        return test(value) or (isinstance(value, (tuple, list)) and all(map(check, value)))
    return check


_KINDS = {  # kind: (test, what it must be)
    "integer": (_integer, "an integer"),
    "axes": (lambda v: v is None or _integers(v), "an integer, a tuple of integers or None"),
    "integers": (_integers, "an integer or a tuple of integers"),
    "flag": (lambda v: isinstance(v, bool), "True or False"),
    "word": (lambda v: isinstance(v, str), "a string"),
    "number": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
    "order": (lambda v: v is None or v in ("fro", "nuc") or (
        isinstance(v, (int, float)) and not isinstance(v, bool)),
        "a number, np.inf, -np.inf, 'fro', 'nuc' or None"),
    "widths": (_nested(_integer), "an integer, a pair of integers or one pair per axis"),
    "mask": (_nested(lambda v: isinstance(v, bool)), "True, False or a (nested) list of them"),
}
_PARAMETER_KINDS = {
    "axis": "axes", "axes": "axes", "keepdims": "flag", "ddof": "integer", "offset": "integer",
    "axis1": "integer", "axis2": "integer", "shape": "integers", "newshape": "integers",
    "order": "word", "k": "integer", "n": "integer", "shift": "integer", "repeats": "integer",
    "reps": "integers", "pad_width": "widths", "mode": "word", "constant_values": "number",
    "source": "integer", "destination": "integer", "indices_or_sections": "integers",
    "ord": "order", "full_matrices": "flag", "compute_uv": "flag", "hermitian": "flag",
    "condition": "mask", "kth": "integers",
}


def constant_problem(function: str, parameter: str, value) -> str | None:
    """Why ``value`` cannot be the constant ``parameter`` of ``function``, or ``None``."""
    test, what = _KINDS[_PARAMETER_KINDS[parameter]]
    if test(value):
        return None
    return f"{shown(function)}: {parameter} must be {what}, got {value!r}"


def shown(name: str) -> str:
    """How the text spells a function: ``np.linalg.det``, ``scipy.linalg.expm``."""
    return name if name.startswith("scipy.") else f"np.{name}"
