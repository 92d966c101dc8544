"""The records of an explanation (:class:`Step`, one per line) and :class:`Explanation`,
whose text and markdown views print them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..expression.construct import as_expr
from ..expression.nodes import Expr
from ..calculus.differentiate import substitute as _substitute


@dataclass(frozen=True, eq=False)
class Step:
    """One record of an explanation; ``kind`` is "forward", "local", "chain", "delta",
    "incoming", "result", "jacobian", "vjp" or "cost"; the text views show ``level`` ≤ theirs."""

    kind: str
    name: str  # the quantity: "b", "∂b/∂W", "∂L/∂W"
    expr: Optional[Expr]  # over the explanation's symbols (stages, incoming gradients dz…)
    index: str
    matrix: Optional[str]
    shape: tuple
    level: int = 2
    value: Optional[Expr] = None  # the same in the original variables, where computed
    entries: Optional[int] = None
    nonzeros: Optional[int] = None
    counted: str = ""  # how nonzeros was counted
    evaluated: Optional[np.ndarray] = None  # local: its value at the given values= (else None)
    renamed: dict = field(default_factory=dict)  # index name → the name it became
    factors: tuple = ()  # jacobian: (rows, columns) of each local Jacobian, f down to wrt
    flops: Optional[int] = None
    naive_flops: Optional[int] = None
    peak_bytes: Optional[int] = None
    naive_bytes: Optional[int] = None
    largest: Optional[int] = None
    naive_largest: Optional[int] = None
    note: str = ""


class Explanation:
    """The steps of :func:`explain`; ``str()`` is the text view at ``level``, ``text(level)``
    any other, ``_repr_markdown_`` a table for notebooks."""

    def __init__(self, steps, f, wrt, result, symbols, expansions, level, sizes=None):
        self.steps, self.f, self.wrt, self.result = steps, f, wrt, result
        self.symbols, self._expansions, self.level = symbols, expansions, level
        self.sizes = dict(sizes or {})  # the named dimensions sizes= or values= bound

    def of_kind(self, kind: str) -> list:
        """The steps of one kind, in order."""
        return [s for s in self.steps if s.kind == kind]

    def expand(self, expr) -> Expr:
        """``expr`` with every symbol (stage ``b``, incoming gradient ``db``) replaced by its value."""
        return _substitute(as_expr(expr), self._expansions)

    def text(self, level: Optional[int] = None) -> str:
        shown = [s for s in self.steps if s.level <= (level or self.level)]
        mains = [s.index + (f"  =  {s.matrix}" if s.matrix else "") for s in shown]
        width = min(max((len(m) for m in mains), default=0), 52)
        lines = []
        for n, (s, main) in enumerate(zip(shown, mains), 1):
            head = f"{n:>2}. {_KIND_NAMES.get(s.kind, s.kind):<9} "
            if len(main) > width:
                lines += [head + main, " " * (len(head) + width + 2) + _detail(s, self.sizes)]
            else:
                lines.append(head + main.ljust(width) + "  " + _detail(s, self.sizes))
        return "\n".join(line.rstrip() for line in lines)

    def __str__(self):
        return self.text()

    def __repr__(self):
        return f"<Explanation of {self.result_name}: {len(self.steps)} steps>"

    @property
    def result_name(self) -> str:
        return ", ".join(s.name for s in self.steps if s.kind == "result") or "?"

    def _repr_markdown_(self, level: Optional[int] = None) -> str:
        rows = ["| # | step | index form | matrix form | detail |", "|---|---|---|---|---|"]
        shown = [s for s in self.steps if s.level <= (level or self.level)]
        for n, s in enumerate(shown, 1):
            cells = [str(n), _KIND_NAMES.get(s.kind, s.kind), f"`{s.index}`",
                     f"`{s.matrix}`" if s.matrix else "", _detail(s, self.sizes)]
            rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return "\n".join(rows)


_KIND_NAMES = {"delta": "δ"}


def _detail(s: Step, sizes=None) -> str:
    shape = _shape(s.shape, sizes)
    if s.kind in ("forward", "result", "incoming", "vjp") or s.kind == "local" and s.entries is None:
        return f"shape {shape}" + (f" {s.note}" if s.note.startswith("=") else
                                   f"; {s.note}" if s.note else "")
    if s.kind == "local":
        count = f", {s.nonzeros} non-zero" if s.nonzeros is not None else ""
        return f"shape {shape}: {_count(s.entries, 'entry', 'entries')}{count}" + \
            (f"; {s.note}" if s.note else "")
    return s.note


def _shape(shape, sizes=None) -> str:
    """``(n, m)``, ``(n,)``, ``()`` as the command line prints shapes; with ``sizes``, the
    named dimensions they bind as numbers.

    >>> _shape(("n", 3)), _shape(("n",)), _shape(()), _shape(("n", "m"), {"n": 200})
    ('(n, 3)', '(n,)', '()', '(200, m)')
    """
    parts = [str((sizes or {}).get(d, d)) for d in shape]
    return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
