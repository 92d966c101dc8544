"""Canonical order: structural signatures, a contraction's operand order, a sum's term order.

>>> import tensorcalc as tc
>>> X = tc.var("X", (3, 3))
>>> tc.einsum("jk,ki->ij", X, X) is tc.einsum("li,jl->ij", X, X)
True

Hash-consing makes structurally equal nodes one object, but a product's operands
come in the order they were written: ``X_jk X_ki`` and ``X_li X_jl`` are the same
product of the same factors, renamed and reordered.  :func:`order_operands`
puts a contraction's operands in one order before its labels are renumbered:
scalar constants first (they print as the coefficient), then by the first output
axis each operand carries (so ``A_ij x_j`` reads in output order), then by a
structural :func:`signature`; operands still tied (the same node twice) are
permuted to the smallest renumbered index pattern.  Then like terms up to
renaming *and* order are one node, and the simplifier collects them.

A sum's terms are sorted by :func:`term_key` when the sum is built (constants
first, then positive terms, then by reading key), so ``A + B is B + A``.

Signatures are deterministic (a digest of the structure, never ``id`` or a
salted ``hash``), so printed orders are the same in every run.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import threading
import weakref

_SIGNATURES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
_MAX_PERMUTATIONS = 120  # tied operands beyond this keep their sorted order


def _digest(*parts) -> int:
    return int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=8).digest(), "big")


def signature(node) -> int:
    """A deterministic structural digest of ``node`` (memoized; iterative, so deep DAGs are fine)."""
    with _LOCK:
        known = _SIGNATURES.get(node)
    if known is not None:
        return known
    order, stack, seen = [], [(node, False)], set()
    with _LOCK:
        while stack:
            current, expanded = stack.pop()
            if expanded:
                order.append(current)
                continue
            if id(current) in seen or current in _SIGNATURES:
                continue
            seen.add(id(current))
            stack.append((current, True))
            stack.extend((child, False) for child in current.children)
        for current in order:
            _SIGNATURES[current] = _own_signature(current)
        return _SIGNATURES[node]


def _own_signature(node) -> int:
    children = tuple(_SIGNATURES[child] for child in node.children)
    return _digest(type(node).__name__, *node._signature_parts(children))


def order_operands(operands: tuple, indices: tuple, output: tuple) -> tuple:
    """``(operands, indices)`` in the canonical order (see the module docstring)."""
    if len(operands) < 2:
        return operands, indices
    position = {label: n for n, label in enumerate(output)}
    cheap = []
    for op, ix in zip(operands, indices):
        scalar = type(op).__name__ == "Const" and op.value.ndim == 0
        first = min((position[label] for label in ix if label in position), default=len(output))
        cheap.append((0 if scalar else 1, first, op.ndim))
    keys = cheap
    if len(set(cheap)) != len(cheap):  # ties: a reading key, then (still tied) a signature
        keys = _break_ties(cheap, operands, _factor_key, ())
        if len(set(keys)) != len(keys):
            keys = _break_ties(keys, operands, signature, 0)
    order = sorted(range(len(operands)), key=keys.__getitem__)
    groups = [list(group) for _, group in itertools.groupby(order, key=keys.__getitem__)]
    tied = [g for g in groups if len(g) > 1]
    if tied and math.prod(math.factorial(len(g)) for g in tied) <= _MAX_PERMUTATIONS:
        order = _least_pattern_order(groups, indices, output)
    return tuple(operands[k] for k in order), tuple(indices[k] for k in order)


def _least_pattern_order(groups: list, indices: tuple, output: tuple) -> list:
    """The order, each group permuted, with the least :func:`_pattern` (the first such in
    ``itertools.product`` of the groups' permutations).

    The pattern's entry for an operand depends only on the operands before it, so the orders
    are grown one operand at a time, keeping only those whose pattern so far is least: the
    same answer as trying every permutation, without trying them all.
    """
    start: dict = {}
    for label in output:
        start.setdefault(label, len(start))
    frontier = [((), start)]
    for group in groups:
        for _ in group:
            extended, least = [], None
            for chosen, number in frontier:
                for k in group:
                    if k in chosen:
                        continue
                    entry, fresh = _entry(indices[k], number)
                    if least is None or entry < least:
                        extended, least = [], entry
                    if entry == least:
                        extended.append((chosen + (k,), {**number, **fresh} if fresh else number))
            frontier = extended
    return list(frontier[0][0])


def _entry(ix: tuple, number: dict) -> tuple:
    """``ix`` renumbered after ``number`` (new labels numbered on), and the new labels' numbers."""
    entry, fresh = [], {}
    for label in ix:
        n = number.get(label)
        if n is None:
            n = fresh.get(label)
            if n is None:
                n = fresh[label] = len(number) + len(fresh)
        entry.append(n)
    return tuple(entry), fresh


def _break_ties(keys: list, operands: tuple, key_of, filler) -> list:
    """``keys`` extended by ``key_of(operand)`` where a key is tied, by ``filler`` elsewhere."""
    counts: dict = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    return [key + ((key_of(op),) if counts[key] > 1 else (filler,))
            for key, op in zip(keys, operands)]


_RANK = {"Var": 0, "Elementwise": 1, "Operation": 1, "Contraction": 2, "Sum": 3, "Const": 4,
         "Delta": 5}
# inside a product, a product operand reads first: (x A) y is xᵀAy, not yᵀ(Aᵀx)
_FACTOR_RANK = {**_RANK, "Contraction": -1}


def _factor_key(node) -> tuple:
    """The :func:`reading_key` of ``node`` as an operand of a product (cached on the node)."""
    try:
        return node._factor_key
    except AttributeError:
        key = reading_key(node, 1, _FACTOR_RANK)
        object.__setattr__(node, "_factor_key", key)  # nodes are immutable; this is a cache
        return key


def reading_key(node, depth: int = 2, ranks: dict = _RANK) -> tuple:
    """A sort key that reads well: variables first, by name; then functions of them, products,
    sums, constants; children compared ``depth`` levels down (a signature breaks the rest).

    >>> import tensorcalc as tc
    >>> A = tc.var("A", (2, 2))
    >>> reading_key(A) < reading_key(A.T) < reading_key(A + A.T)
    True
    """
    kind = type(node).__name__
    text = getattr(node, "name", None) or getattr(node, "fn", None) or ""
    pattern = (node.indices, node.output) if kind == "Contraction" else ()
    return _reading_key(kind, str(text), node.children, pattern, depth, ranks)


def _reading_key(kind: str, text: str, children: tuple, pattern: tuple, depth: int,
                 ranks: dict) -> tuple:
    children = tuple(reading_key(child, depth - 1, ranks) for child in children[:4]) \
        if depth > 0 else ()
    return (ranks.get(kind, 6), text.lower(), text, children, pattern)


def term_key(node) -> tuple:
    """The place of ``node`` among the terms of a sum (computed once, cached on the node).

    Constants first, then terms with a positive coefficient, then by the :func:`reading_key`
    of the term without its coefficient; a :func:`signature` breaks the remaining ties, so
    ``A + B`` and ``B + A`` are one sum in every process.

    >>> import tensorcalc as tc
    >>> A, B = tc.var("A", (2, 2)), tc.var("B", (2, 2))
    >>> print(B - A + 1)
    1 + B_ij - A_ij
    """
    try:
        return node._term_key
    except AttributeError:
        key = _term_key(node)
        object.__setattr__(node, "_term_key", key)  # nodes are immutable; this is a cache
        return key


def _term_key(node) -> tuple:
    coefficient, core = 1.0, reading_key(node)
    constant = type(node).__name__ == "Const"
    if type(node).__name__ == "Contraction" and node.operands and _is_scalar(node.operands[0]):
        coefficient = node.operands[0].value[()]
        operands, indices = node.operands[1:], node.indices[1:]
        constant = not operands  # a broadcast number
        if len(operands) == 1 and indices[0] == node.output and len(node.sizes) == len(node.output):
            core = reading_key(operands[0])  # c·u read in its own order: u
        else:  # the key of the product without its coefficient, not built as a node
            core = _reading_key("Contraction", "", operands, (indices, node.output), 2, _RANK)
    return (not constant, bool(coefficient.real < 0), core, _Signature(node))


def _is_scalar(node) -> bool:
    return type(node).__name__ == "Const" and node.value.ndim == 0


class _Signature:
    """A node's :func:`signature`, computed only when a comparison reaches it (a tie).  It holds
    the node weakly: the key is cached on the node, which a strong reference would keep alive."""

    __slots__ = ("node", "digest")

    def __init__(self, node):
        self.node, self.digest = weakref.ref(node), None

    def value(self) -> int:
        if self.digest is None:
            self.digest = signature(self.node())
        return self.digest

    def __eq__(self, other):
        return self.value() == other.value()

    def __lt__(self, other):
        return self.value() < other.value()


def _pattern(indices: list, output: tuple) -> tuple:
    """The index tuples renumbered by first appearance, output first (as Contraction does)."""
    number: dict = {}
    for label in output:
        number.setdefault(label, len(number))
    pattern = []
    for ix in indices:
        for label in ix:
            number.setdefault(label, len(number))
        pattern.append(tuple(number[label] for label in ix))
    return tuple(pattern)
