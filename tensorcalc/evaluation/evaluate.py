"""Evaluation with numpy and opt_einsum: compile once, call many times.

>>> import numpy as np, tensorcalc as tc
>>> W, a = tc.var("W", (2, 2)), tc.var("a", (2,))
>>> f = tc.compile([W @ a, tc.sum(W)])
>>> f(W=np.eye(2), a=np.array([1.0, 2.0]))
(array([1., 2.]), np.float64(2.0))

:func:`compile` turns one or many expressions into a :class:`Program` (see
:mod:`tensorcalc.evaluation.program`), simplified together, for numpy or for another
backend (:mod:`tensorcalc.evaluation.backends`); :func:`evaluate` compiles once per
expression (a bounded cache) and calls.
"""

from __future__ import annotations

import collections
import threading
from typing import Optional

from ..calculus.differentiate import Derivative, simplified_forward
from ..calculus.optimize import binarize
from .distribute import distribute_where_cheaper
from .shared_inverse import solves_by_shared_inverse
from ..calculus.settled import is_settled
from ..calculus.simplify import simplify as simplify_exprs
from ..expression.construct import as_expr
from ..expression.nodes import Var, postorder
from ..expression.collection import without_collector_pauses
from .backends import compile_for
from .program import Program

__all__ = ["Program", "clear_cache", "compile", "evaluate"]

# ---------------------------------------------------------------------------
# Public entry points


@without_collector_pauses
def compile(outputs, simplify: bool = True, backend: str = "numpy"):  # noqa: A001 - as in tc.compile
    """One callable for one expression or a list of them (returning a tuple).

    The outputs are simplified together (naive derivatives excepted: their
    point is to materialize), so that a loss and its gradients share every
    common subexpression, the forward pass included.  ``backend`` (``"numpy"``,
    ``"jax"``, ``"torch"`` or ``"dask"``) runs the same planned program with
    that library's arrays (see :mod:`tensorcalc.evaluation.backends`).
    """
    single = not isinstance(outputs, (list, tuple))
    items = [outputs] if single else list(outputs)
    given = [v for v in postorder([as_expr(item) for item in items]) if isinstance(v, Var)]
    if simplify:
        items = _simplify_together(items)
    # the one seam: numpy gets the Program itself
    return compile_for(backend, Program(items, single=single, also_accept=given))


@without_collector_pauses  # as in compile (benchmarks/compile_time.py times this phase alone)
def _simplify_together(items: list) -> list:
    positions = [n for n, item in enumerate(items) if getattr(item, "method", None) != "naive"]
    if not positions:
        return items
    exprs = _with_simplified_forward([as_expr(items[n]) for n in positions])
    if not is_settled(exprs):  # else simplified together already (by grad): nothing to redo
        exprs = simplify_exprs(binarize(exprs, shared_only=True))
    simplified = solves_by_shared_inverse(distribute_where_cheaper(exprs))
    items = list(items)
    for n, expr in zip(positions, simplified):
        item = items[n]
        items[n] = Derivative(expr, item.of, item.wrt, item.cotangent, item.method,
                              item.memory_limit) if isinstance(item, Derivative) else expr
    return items


def _with_simplified_forward(exprs: list) -> list:
    """A loss compiled with all its gradients (``[L, *tc.grad(L, params)]``): ``L`` as grad
    simplified it together with them, when that makes the list exactly what grad's simplify
    returned, so that nothing is simplified twice (simplify then gives the list back at once)."""
    swapped = [simplified_forward(e) or e for e in exprs]
    if any(a is not b for a, b in zip(swapped, exprs)) and is_settled(swapped):
        return swapped
    return exprs


class _ProgramCache:
    """The programs :func:`evaluate` compiled, least recently used first out.

    Bounded in count *and* in the bytes of the constants the programs keep alive
    (a program holds its expression, and the expression its constant arrays).
    """

    def __init__(self, max_entries: int = 256, max_bytes: int = 256 * 2**20):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self.entries: "collections.OrderedDict" = collections.OrderedDict()  # key -> (program, bytes)
        self.bytes = 0
        self.lock = threading.Lock()

    def get(self, expr) -> Program:
        key = _cache_key(expr)
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
                return entry[0]
        program = compile(expr)
        size = sum(value.nbytes for _, value in program._constants)
        if size > self.max_bytes:
            return program  # too large to keep: compiled again next time
        with self.lock:
            if key not in self.entries:
                self.entries[key] = (program, size)
                self.bytes += size
            while len(self.entries) > self.max_entries or self.bytes > self.max_bytes:
                _, (_, freed) = self.entries.popitem(last=False)
                self.bytes -= freed
        return program

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.bytes = 0


def _cache_key(expr) -> tuple:
    if not hasattr(expr, "origin_variables"):
        return (as_expr(expr),)
    return (expr.expr, tuple(expr.origin_variables()), expr.method, expr.memory_limit,
            expr.cotangent is None)


_PROGRAMS = _ProgramCache()


def clear_cache() -> None:
    """Forget the programs :func:`evaluate` compiled (and the constants they keep alive).

    >>> import tensorcalc as tc
    >>> tc.clear_cache()
    """
    _PROGRAMS.clear()


def evaluate(expr, values: Optional[dict] = None, /, **kwargs):
    """The value of ``expr`` for the variables' ``values`` (a mapping name → array).

    ``values`` is an environment: names the expression does not use are
    ignored, so one dict of data serves a loss, its gradients and its Hessian
    blocks.  (A compiled :class:`Program` is strict about them.)

    >>> import numpy as np, tensorcalc as tc
    >>> x = tc.var("x", ("n",))
    >>> tc.evaluate(tc.sum(x * x), {"x": np.array([1.0, 2.0]), "unused": 3.0})
    np.float64(5.0)
    """
    merged = {**(values or {}), **kwargs}
    return _PROGRAMS.get(expr)._run(merged, lenient=True)
