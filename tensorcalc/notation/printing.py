"""Index notation, in Unicode: ``δ_ij a_k``, ``G_ik x_jk``, ``A_ij + A_ji``.

>>> import tensorcalc as tc
>>> W, a = tc.var("W", (3, 3)), tc.var("a", (3,))
>>> print(W @ a)
W_ij a_j

Free indices are named ``i, j, k, …`` by axis; summed indices get the next
unused letters (Einstein's convention: an index repeated in a product is
summed).  Where an index is summed but appears only once, the sum is written
out (``Σ_j A_ij``).  ``𝟙_j`` marks an axis a term is constant along
(broadcasting), and ``δ`` is the Kronecker delta.
"""

from __future__ import annotations

import sys

from ..calculus.simplify import constant_value
from ..expression.algebra import register_view
from ..expression.construct import as_expr
from ..expression.functions import format_call
from ..expression.nodes import Const, Contraction, Delta, Elementwise, Operation, Sum, Var, postorder

# How each operation reads in index notation: name → index(node, names, namer, fmt) → (text, kind),
# where fmt(child, names, namer) spells a child; filled by tensorcalc.notation.operation_spellings.
INDEX_SPELLINGS: dict = {}

_NAMES = "ijklmnpqrstuvwxyzabcdefgh"


class _Namer:
    """Hands out index names that are not in use yet; ``bound`` maps shared nodes to symbols."""

    def __init__(self, bound=None, avoid=()):
        self.count = 0
        self.bound = bound or {}
        self.avoid = set(avoid)  # variables' names: an index never reads as a variable

    def fresh(self) -> str:
        while True:
            n = self.count
            self.count += 1
            name = _NAMES[n] if n < len(_NAMES) else f"{_NAMES[n % len(_NAMES)]}{n // len(_NAMES)}"
            if name not in self.avoid:
                return name


def _number(value) -> str:
    if isinstance(value, complex) or getattr(value, "imag", 0):
        return f"({complex(value):g})"
    return f"{float(value):g}"


def _subscript(names) -> str:
    if not names:
        return ""
    if all(len(n) == 1 for n in names):
        return "_" + "".join(names)
    return "_{" + ",".join(names) + "}"


def _format(node, names: list, namer: _Namer) -> tuple:
    """``(text, kind)`` for ``node`` with its axes named ``names``; kind is 'atom', 'product' or 'sum'."""
    symbol = namer.bound.get(id(node))
    if symbol is not None:
        return symbol + _subscript(names), "atom"
    if isinstance(node, Var):
        return node.name + _subscript(names), "atom"
    if isinstance(node, Const):
        if node.value.ndim == 0:
            return _number(node.value[()]), "atom" if node.value[()] >= 0 else "product"
        shape = "×".join(str(d) for d in node.shape)
        return f"C⟨{shape}⟩" + _subscript(names), "atom"
    if isinstance(node, Delta):
        return "δ" + _subscript(names), "atom"
    if isinstance(node, Elementwise):
        argument, kind = _format(node.arg, names, namer)
        # a power of a power keeps its parentheses: (a²)³, never the ambiguous a²³
        nested_power = node.fn == "pow" and isinstance(node.arg, Elementwise) and node.arg.fn == "pow"
        return format_call(node.fn, argument, node.param, kind == "atom" and not nested_power), "atom"
    if isinstance(node, Operation):  # its spelling reads it: X⁻¹_ij, det(X), log|X|
        return INDEX_SPELLINGS[node.name](node, names, namer, _format)
    if isinstance(node, Sum):
        parts = []
        start = highest = namer.count  # each term names its summed indices from the same letter
        for n, term in enumerate(node.terms):
            namer.count = start
            text, _ = _format(term, names, namer)
            highest = max(highest, namer.count)
            if n and text.startswith("-"):
                parts.append(" - " + text[1:].lstrip())
            else:
                parts.append((" + " if n else "") + text)
        namer.count = highest
        return "".join(parts), "sum"
    return _format_contraction(node, names, namer)


def _format_contraction(node: Contraction, names: list, namer: _Namer) -> tuple:
    value = constant_value(node)
    if value is not None:  # a scalar constant broadcast over the axes: just the number
        return _number(value[()]), "atom" if value[()] >= 0 else "product"
    label_names = dict(zip(node.output, names))
    for label in range(len(node.sizes)):
        if label not in label_names:
            label_names[label] = namer.fresh()
    counts: dict = {}
    for ix in node.indices:
        for label in ix:
            counts[label] = counts.get(label, 0) + 1
    output = set(node.output)
    factors = []
    coefficient = None
    for op, ix in zip(node.operands, node.indices):
        if isinstance(op, Const) and op.value.ndim == 0 and coefficient is None and not factors:
            coefficient = op.value[()]
            continue
        text, kind = _format(op, [label_names[l] for l in ix], namer)
        factors.append(f"({text})" if kind == "sum" or (kind == "product" and len(node.operands) > 1)
                       else text)
    for label in node.output:
        if label not in counts:  # broadcast along this axis
            factors.append("𝟙" + _subscript([label_names[label]]))
    for label, dim in enumerate(node.sizes):
        if label not in output and label not in counts:
            factors.append(str(dim))  # Σ over an index nothing carries: its size
    explicit = [label_names[l] for l in range(len(node.sizes))
                if l not in output and counts.get(l) == 1]
    body = " ".join(factors)
    if coefficient is not None:
        if not factors:
            body = _number(coefficient)
        elif coefficient == -1:
            body = "-" + body
        elif coefficient != 1:
            body = f"{_number(coefficient)} {body}"
    if not body:
        body = "1"
    if explicit:
        body = "Σ" + _subscript(explicit) + " " + body
    return body, "product" if (len(factors) > 1 or coefficient is not None or explicit) else "atom"


LARGE = 400  # nodes, counted as a tree: beyond this, shared subexpressions print once, by name


def _shared_names(expr) -> list:
    """``[(node, symbol)]`` for the shared subexpressions of a large expression, children first."""
    order = postorder([expr])
    tree_size: dict = {}
    consumers: dict = {}
    for node in order:
        tree_size[id(node)] = 1 + sum(tree_size[id(c)] for c in node.children)
        for child in node.children:
            consumers[id(child)] = consumers.get(id(child), 0) + 1
    if tree_size[id(expr)] <= LARGE:
        return []
    shared = [node for node in order if node is not expr and consumers.get(id(node), 0) > 1
              and tree_size[id(node)] > 3]
    return [(node, f"t{n + 1}") for n, node in enumerate(shared)]


def index_notation(expr, names=None, namer=None) -> str:
    """The index-notation text of ``expr``; its axes are named ``names`` (default ``i, j, …``).

    A large expression prints its shared subexpressions once, as definitions
    after ``where`` (a DAG printed as a tree can be exponentially long).
    """
    shared = _shared_names(expr)
    namer = namer or _Namer(avoid=_variable_names([expr]))
    namer.bound.update((id(node), symbol) for node, symbol in shared)
    if names is None:
        names = [namer.fresh() for _ in range(expr.ndim)]
    with _deep_enough(expr):
        text = _format(expr, list(names), namer)[0]
        definitions = []
        for node, symbol in shared:
            local = _Namer({k: v for k, v in namer.bound.items() if k != id(node)}, namer.avoid)
            axes = [local.fresh() for _ in range(node.ndim)]
            definitions.append(f"{symbol}{_subscript(axes)} = {_format(node, axes, local)[0]}")
    if definitions:
        text += "\n  where " + "\n        ".join(definitions)
    return text


def _variable_names(roots) -> set:
    return {node.name for node in postorder(roots) if isinstance(node, Var)}


class _Steps:
    """A ``bound`` map for :class:`_Namer` naming every node by its step, except one."""

    def __init__(self, symbols: dict, current: int):
        self.symbols, self.current = symbols, current

    def get(self, key, default=None):
        return default if key == self.current else self.symbols.get(key, default)


def step_notation(node, symbols: dict, width: int = 48) -> str:
    """One step of a program in index notation, its inputs named by ``symbols`` (``id(node)`` →
    ``"t3"``): a bounded description, however deep the expression under the step is.

    >>> import tensorcalc as tc
    >>> x = tc.var("x", (3,))
    >>> inner = tc.sin(x)
    >>> step_notation(tc.tanh(inner) + 1, {id(inner): "t1"})
    '1 + tanh(t1_i)'
    """
    namer = _Namer(_Steps(symbols, id(node)))
    names = [namer.fresh() for _ in range(node.ndim)]
    text = _format(node, names, namer)[0]
    return text if len(text) <= width else text[:width - 1] + "…"


class _deep_enough:
    """Printing recurses once per level of nesting; allow as many levels as the expression has."""

    def __init__(self, expr, frames_per_level: int = 4, base: int = 200):
        depth: dict = {}
        for node in postorder([expr]):
            depth[id(node)] = 1 + max((depth[id(c)] for c in node.children), default=0)
        self.needed = frames_per_level * depth[id(expr)] + base

    def __enter__(self):
        self.previous = sys.getrecursionlimit()
        if self.needed > self.previous:
            sys.setrecursionlimit(self.needed)

    def __exit__(self, *exc):
        sys.setrecursionlimit(self.previous)


def derivative_notation(derivative) -> str:
    """``∂f_i/∂W_jk = …`` for a Jacobian, ``∂f/∂W_ij = …`` for a gradient, the vjp's value alone."""
    expr = derivative.expr
    if derivative.cotangent is not None:
        return index_notation(expr)
    of, wrt = as_expr(derivative.of), derivative.wrt
    namer = _Namer(avoid=_variable_names([expr, of]))
    names = [namer.fresh() for _ in range(expr.ndim)]
    of_names, wrt_names = names[:of.ndim], names[of.ndim:]
    rhs = index_notation(expr, names, namer)
    if _shared_names(of):
        return f"∂f/∂{wrt.name}{_subscript(wrt_names)} = {rhs}"
    with _deep_enough(of):
        of_text, kind = _format(of, of_names, namer)
    if kind != "atom" or of_names or " " in of_text:  # ∂(A_kl X_lk)/∂X_ij, never ∂A_kl X_lk/∂X
        of_text = of_text if isinstance(of, Var) and kind == "atom" else f"({of_text})"
    return f"∂{of_text}/∂{wrt.name}{_subscript(wrt_names)} = {rhs}"


register_view("index", index_notation)  # str(expr): see expression/algebra.py
register_view("derivative", derivative_notation)
