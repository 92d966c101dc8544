"""Exact rewrites of recurring forms, so results read as the textbook writes them.

>>> import tensorcalc as tc
>>> t = tc.var("t", (3,))
>>> print(tc.simplify(1 / (1 + tc.exp(-t))))
σ(t_i)
>>> print(tc.simplify(tc.exp(t) / (1 + tc.exp(t))))
σ(t_i)
>>> print(tc.simplify(tc.log(1 + tc.exp(t))))
softplus(t_i)
>>> print(tc.simplify(tc.sin(t) * tc.cos(t) ** -2 * tc.sin(t)))
cos(t_i)⁻² sin(t_i)²

Each rule is an identity of real numbers wherever both sides are defined:

* ``(1 + exp(u))⁻¹ = σ(−u)`` and ``exp(u) σ(−u) = σ(u)``;
* ``log(1 + exp(u)) = softplus(u)`` and ``log σ(u) = −softplus(−u)``;
* ``log Σ_axes exp(u) = logsumexp(u, axes)`` and ``exp(u) (Σ_axes exp(u))⁻¹ = softmax(u, axes)``
  (row-wise too: the sum may keep some axes);
* powers of one base in an entrywise product merge: ``xᵃ xᵇ = xᵃ⁺ᵇ`` (so ``x x⁻¹ = 1``:
  the two sides differ only where ``x = 0``, where ``x⁻¹`` is not defined);
* a constant identity matrix is the Kronecker δ.
"""

from __future__ import annotations

import numpy as np

from ..expression.nodes import Const, Contraction, Delta, Elementwise, Sum, Var
from ..expression.reductions import logsumexp, softmax
from .terms import constant_value, is_zero

# The simplifier's entry points.  These rewrites simplify what they build, and simplify.py,
# which imports this module, registers its functions here when it is imported (an import back
# would be a circle).
SIMPLIFIER: dict = {}


def simplify_contraction(*args, **kwargs):
    return SIMPLIFIER["contraction"](*args, **kwargs)


def simplify_sum(terms):
    return SIMPLIFIER["sum"](terms)


def simplify_elementwise(fn: str, arg, param):
    return SIMPLIFIER["elementwise"](fn, arg, param)


def _like_term_key(core):
    return SIMPLIFIER["like_term_key"](core)


def _split_coefficient(term):
    return SIMPLIFIER["split_coefficient"](term)


def _ones_and_exp(arg):
    """``u`` when ``arg`` is ``1 + exp(u)``, else ``None``."""

    if not isinstance(arg, Sum) or len(arg.terms) != 2:
        return None
    first, second = arg.terms
    value = constant_value(first)
    if value is None or value.ndim != 0 or value[()] != 1:
        return None
    if isinstance(second, Elementwise) and second.fn == "exp":
        return second.arg
    return None


def negate(expr):
    """``−expr``, simplified (a canonical node: ``negate(negate(u)) is u``)."""

    labels = tuple(range(expr.ndim))
    return simplify_contraction([Const(-1.0), expr], [(), labels], labels, dict(enumerate(expr.shape)))


def elementwise(fn: str, arg, param):
    """A simpler form of ``fn(arg)`` (``arg`` simplified), or ``None``."""

    if fn == "pow" and param == -1.0:
        u = _ones_and_exp(arg)
        if u is not None:
            return simplify_elementwise("sigmoid", negate(u), None)
    if fn == "log":
        u = _ones_and_exp(arg)
        if u is not None:
            return simplify_elementwise("softplus", u, None)
        if isinstance(arg, Elementwise) and arg.fn == "sigmoid":
            return negate(simplify_elementwise("softplus", negate(arg.arg), None))
        return _log_sum_exp(arg)
    return None


def _log_sum_exp(arg):
    """``logsumexp(u, axes)`` when ``arg`` is ``Σ_axes exp(u)`` (the kept axes in their order)."""
    if not isinstance(arg, Contraction) or len(arg.operands) != 1:
        return None
    (operand,), (ix,) = arg.operands, arg.indices
    if not (isinstance(operand, Elementwise) and operand.fn == "exp") or len(set(ix)) != len(ix):
        return None
    kept = [label for label in ix if label in arg.output]
    if tuple(kept) != tuple(arg.output) or len(kept) == len(ix):
        return None
    return logsumexp(operand.arg, tuple(n for n, label in enumerate(ix) if label not in arg.output))


def merge_factors(factors: list) -> list:
    """Entrywise products over the same indices: merge powers of one base, ``exp(u) σ(−u) = σ(u)``.

    ``factors`` is ``[(operand, labels)]``; the result is a new list.
    """
    if len(factors) < 2:
        return factors
    powers: dict = {}  # (id(base), labels) -> [base, exponent, first position]
    rest = []
    for position, (op, ix) in enumerate(factors):
        base, exponent = _as_power(op)
        if isinstance(base, (Const, Delta)) or len(set(ix)) != len(ix):
            rest.append((position, op, ix))
            continue
        entry = powers.setdefault((id(base), tuple(ix)), [base, 0.0, position, 0])
        entry[1] += exponent
        entry[3] += 1
    if all(count == 1 for *_, count in powers.values()):
        merged = factors
    else:

        placed = list(rest)
        for (_, labels), (base, exponent, position, count) in powers.items():
            if not exact_exponent(exponent):  # 2⁶⁰ − 1 is not a float: keep the factors apart
                for k, (op, ix) in enumerate(factors):
                    if _as_power(op)[0] is base and tuple(ix) == labels:
                        placed.append((k, op, list(ix)))
                continue
            ix = labels
            if exponent == 0:
                continue  # x x⁻¹ = 1
            op = base if exponent == 1 else simplify_elementwise("pow", base, exponent)
            placed.append((position, op, list(ix)))
        merged = [(op, list(ix)) for _, op, ix in sorted(placed, key=lambda p: p[0])]
    return _softmax(_exp_times_sigmoid(merged))


def _summed_axes(total, ix):
    """The axes of ``u`` that ``total = Σ exp(u)`` sums over, read in the labels ``ix`` of
    ``exp(u)``: ``(summed axes, labels total's axes carry)``, or None."""
    if not isinstance(total, Contraction) or len(total.operands) != 1:
        return None
    (iy,) = total.indices
    if len(set(iy)) != len(iy) or len(iy) != len(ix):
        return None
    kept = [k for k, label in enumerate(iy) if label in total.output]
    if [iy[k] for k in kept] != list(total.output) or len(kept) == len(iy):
        return None
    return tuple(k for k in range(len(iy)) if k not in kept), [ix[k] for k in kept]


def _softmax(factors: list) -> list:
    """``exp(u) (Σ_axes exp(u))⁻¹ = softmax(u, axes)``, both factors read over the same labels."""
    for n, (op, ix) in enumerate(factors):
        if not (isinstance(op, Elementwise) and op.fn == "exp") or len(set(ix)) != len(ix):
            continue
        for m, (other, iz) in enumerate(factors):
            if not (isinstance(other, Elementwise) and other.fn == "pow" and other.param == -1.0
                    and isinstance(other.arg, Contraction) and other.arg.operands[0] is op):
                continue
            found = _summed_axes(other.arg, ix)
            if found is not None and list(iz) == found[1]:
                rest = [f for k, f in enumerate(factors) if k not in (n, m)]
                return _softmax(rest[:min(n, m)] + [(softmax(op.arg, found[0]), list(ix))]
                                + rest[min(n, m):])
    return factors


def _as_power(op):
    """``(base, exponent)``: ``xᵖ`` is ``(x, p)``, ``√x`` is ``(x, ½)`` (x ≥ 0 where √x is defined),
    anything else is itself to the first power."""
    if isinstance(op, Elementwise) and op.fn == "pow":
        return op.arg, op.param
    if isinstance(op, Elementwise) and op.fn == "sqrt":
        return op.arg, 0.5
    return op, 1.0


def exact_exponent(exponent: float) -> bool:
    """An exponent small enough that sums and products of such exponents are exact in float64
    (the parity of an integer exponent decides the sign of a negative base)."""
    return abs(exponent) < 2.0 ** 50 and float(exponent * 4).is_integer()


def _exp_times_sigmoid(factors: list) -> list:
    """``exp(u) σ(−u) → σ(u)`` over the same indices."""

    exps = {(id(op.arg), tuple(ix)): n for n, (op, ix) in enumerate(factors)
            if isinstance(op, Elementwise) and op.fn == "exp"}
    if not exps:
        return factors
    for n, (op, ix) in enumerate(factors):
        if not (isinstance(op, Elementwise) and op.fn == "sigmoid"):
            continue
        u = negate(op.arg)
        m = exps.get((id(u), tuple(ix)))
        if m is not None and m != n:
            result = [pair for k, pair in enumerate(factors) if k not in (n, m)]
            result.insert(min(n, m), (simplify_elementwise("sigmoid", u, None), list(ix)))
            return _exp_times_sigmoid(result)
    return factors


def identity_constant(value: np.ndarray):
    """``δ`` when a constant is an identity matrix (so it prints as δ or I, not ``C⟨3×3⟩``)."""
    if value.ndim == 2 and value.shape[0] == value.shape[1] and value.shape[0] > 0 \
            and np.array_equal(value, np.eye(value.shape[0])):
        return Delta(value.shape[0])
    return None


def factor_shared_operands(pairs: list) -> list:
    """Sum terms sharing every operand but one become one product over the sum of the rest.

    ``pairs`` is ``[(core, coefficient)]``; ``c₁ P D₁ + c₂ P D₂ = P (c₁D₁ + c₂D₂)`` when the
    products agree on every other operand *and* on its indices.  So ``AX + AᵀX`` is
    ``(A + Aᵀ)X`` and ``X_ki a_k X_kj + X_ki b_k X_kj`` is ``X_ki (a + b)_k X_kj``: one
    contraction instead of two, which is also what the logistic Hessian needs.

    >>> import tensorcalc as tc
    >>> A, X = tc.var("A", (3, 3)), tc.var("X", (3, 3))
    >>> print(tc.simplify(A @ X + A.T @ X).matrix)
    (A + Aᵀ) X
    """
    if not 2 <= len(pairs) <= 32:
        return pairs
    pairs = list(pairs)
    changed = True
    while changed:
        changed = False
        for a in range(len(pairs)):
            for b in range(a + 1, len(pairs)):
                merged = _factor_pair(pairs[a], pairs[b])
                if merged is not None:
                    pairs[a] = (merged, 1.0)
                    del pairs[b]
                    changed = True
                    break
            if changed:
                break
    return pairs


def _factor_pair(first, second):


    (t1, c1), (t2, c2) = first, second
    t1, t2 = _like_term_key(t1), _like_term_key(t2)  # kept shared products, flattened
    if not (isinstance(t1, Contraction) and isinstance(t2, Contraction)) or t1 is t2:
        return None
    if len(t1.operands) != len(t2.operands) or len(t1.operands) < 2 or t1.output != t2.output \
            or t1.sizes != t2.sizes:
        return None
    unmatched = list(zip(t2.operands, t2.indices))
    left = []
    for op, ix in zip(t1.operands, t1.indices):
        for n, (other, other_ix) in enumerate(unmatched):
            if other is op and other_ix == ix:
                del unmatched[n]
                break
        else:
            left.append((op, ix))
    if len(left) != 1 or len(unmatched) != 1:
        return None
    (d1, ix1), (d2, ix2) = left[0], unmatched[0]
    if set(ix1) != set(ix2) or len(set(ix1)) != len(ix1) or len(set(ix2)) != len(ix2):
        return None
    if isinstance(d1, (Const, Delta)) or isinstance(d2, (Const, Delta)):
        return None
    shared = [(op, ix) for op, ix in zip(t1.operands, t1.indices) if (op, ix) != left[0]]
    if len(shared) != len(t1.operands) - 1:
        return None  # the differing operand also occurs as a shared one: keep it simple
    labels = tuple(sorted(set(ix1)))
    sizes = dict(enumerate(t1.sizes))
    local = {label: sizes[label] for label in labels}
    parts = [simplify_contraction([Const(c), d], [(), ix], labels, local)
             for d, ix, c in ((d1, ix1, c1), (d2, ix2, c2))]
    middle = simplify_sum(parts)
    return simplify_contraction([op for op, _ in shared] + [middle],
                                [ix for _, ix in shared] + [labels], t1.output, sizes)


# ---------------------------------------------------------------------------
# Distributing products over sums, kept only when it cancels something

_EXPAND_BUDGET = 16  # monomials: beyond this a sum is left as it is
_WORK_BUDGET = 48  # products built while trying one expansion: past this, give up
_expanding = [0]  # > 0 while an expansion is being tried (no nested attempts)
_work = [0]


class _TooBig(Exception):
    """An expansion attempt ran past its budget: leave the expression as it is."""


def expand_if_shorter(terms: list):
    """``terms`` (simplified, of one sum) fully distributed and collected, when that reads
    shorter: ``s ⊙ (1 − y) − y ⊙ (1 − s)`` is ``s − y``, the output-layer gradient of
    sigmoid + cross-entropy.  ``None`` when nothing is gained (or the expansion is too big).

    >>> import tensorcalc as tc
    >>> s, y = tc.var("s", (3,)), tc.var("y", (3,))
    >>> print(tc.simplify(s * (1 - y) - y * (1 - s)))
    s_i - y_i
    """

    if _expanding[0] or len(terms) > 4 or not any(
            isinstance(t, Contraction) and any(isinstance(op, Sum) for op in t.operands)
            for t in terms) or not all(_entrywise_of_leaves(t) for t in terms):
        return None  # only small entrywise polynomials: a gradient's nested products never

    attempt = _attempt(lambda: _fully_expand_all(terms, _EXPAND_BUDGET))
    if attempt is None:
        return None
    candidate, pieces = attempt
    before = sum(_local_cost(t) for t in terms)
    return candidate if _cancels(candidate, pieces) and _local_cost(candidate) <= before else None


def _entrywise_of_leaves(term) -> bool:
    """An entrywise product (nothing summed) of variables, functions of them and sums of those:
    the polynomials worth expanding.  Anything holding a contraction is left alone."""

    def leafy(node, depth=2):
        if isinstance(node, (Var, Const, Delta)):
            return True
        if isinstance(node, Elementwise):
            return depth > 0 and leafy(node.arg, depth - 1)
        if isinstance(node, Sum):
            return depth > 0 and all(leafy(t, depth - 1) for t in node.terms)
        if isinstance(node, Contraction):  # a scaled leaf or an entrywise product of leaves
            return depth > 0 and len(node.sizes) == len(node.output) and \
                all(leafy(op, depth - 1) for op in node.operands)
        return False

    return leafy(term, 3)


def _cancels(candidate, pieces: list) -> bool:
    """Collecting the distributed terms merged or cancelled some *as like terms*: the expansion
    paid off.  (Distributing alone, as σ(1 − σ) → σ − σ² or 2Aᵀ(Ax − y) → 2AᵀAx − 2Aᵀy, reads
    no better; factoring the pieces back together does not count.)"""

    totals: dict = {}
    for piece in pieces:
        if is_zero(piece):
            continue
        if constant_value(piece) is not None:
            key = "constant"
            coefficient = 1.0
        else:
            coefficient, core = _split_coefficient(piece)
            key = _like_term_key(core)
        totals[key] = totals.get(key, 0.0) + coefficient
    return sum(1 for c in totals.values() if c != 0) < len(pieces)


def distribute_if_shorter(node):
    """A product with a sum among its operands, distributed over it, when that reads shorter
    (``s ⊙ t ⊙ ((1 − y) ⊙ t⁻¹ − y ⊙ s⁻¹)`` is ``s ⊙ (1 − y) − y ⊙ t``); else ``None``."""

    if _expanding[0] or not isinstance(node, Contraction) or \
            not any(isinstance(op, Sum) for op in node.operands) or _inverses(node, 3) == 0:
        return None  # without a negative power nothing can cancel x · x⁻¹: not worth trying
    attempt = _attempt(lambda: _fully_expand(node, _EXPAND_BUDGET))
    if attempt is None or len(attempt[1]) < 2:
        return None
    candidate, pieces = attempt
    cheaper = _local_cost(candidate) <= _local_cost(node)
    if cheaper and (_cancels(candidate, pieces) or _inverses(candidate) < _inverses(node)):
        return candidate  # like terms cancelled, or x · x⁻¹ did: softmax ⊙ (−y ⊙ softmax⁻¹ + …)
    return None


def _inverses(expr, depth: int = 4) -> int:
    """Negative powers in ``expr`` as a tree, ``depth`` levels down."""
    own = int(isinstance(expr, Elementwise) and expr.fn == "pow" and expr.param < 0)
    if depth == 0:
        return own
    return own + sum(_inverses(child, depth - 1) for child in expr.children)


def _attempt(expand):
    """``(collected sum, pieces)`` of one bounded expansion, or ``None`` past its budget."""

    _expanding[0] += 1
    _work[0] = 0
    try:
        pieces = expand()
        return None if pieces is None else (simplify_sum(pieces), pieces)
    except _TooBig:
        return None
    finally:
        _expanding[0] -= 1


def _distribute(node):
    """The terms of ``node`` distributed over its first distributable sum operand."""

    # a sum that is the base of a power inside another operand goes last: distributing the
    # other first lets t · t⁻¹ cancel (σ(1 − σ)((1 − σ)⁻¹ + …) keeps its (1 − σ) to cancel)
    bases = {id(_as_power(inner)[0]) for op in node.operands if isinstance(op, Sum)
             for term in op.terms for inner in ([term] + list(getattr(term, "operands", ())))}
    candidates = sorted(range(len(node.operands)), key=lambda k: id(node.operands[k]) in bases)
    for k in candidates:
        op, ix = node.operands[k], node.indices[k]
        if isinstance(op, Sum) and len(set(ix)) == len(ix) and len(op.terms) <= _EXPAND_BUDGET:
            _work[0] += len(op.terms)
            if _work[0] > _WORK_BUDGET:
                raise _TooBig
            operands = list(node.operands)
            pieces = []
            for term in op.terms:
                operands[k] = term
                pieces.append(simplify_contraction(operands, node.indices, node.output,
                                                   dict(enumerate(node.sizes))))
            return pieces
    return None


def _fully_expand(expr, budget: int):

    if budget <= 0:
        return None
    if isinstance(expr, Sum):
        pieces: list = []
        for term in expr.terms:
            sub = _fully_expand(term, budget - len(pieces))
            if sub is None:
                return None
            pieces.extend(sub)
        return pieces
    if isinstance(expr, Contraction):
        distributed = _distribute(expr)
        if distributed is not None:
            return _fully_expand_all(distributed, budget)
    return [expr]


def _fully_expand_all(terms: list, budget: int):
    pieces: list = []
    for term in terms:
        sub = _fully_expand(term, budget - len(pieces))
        if sub is None:
            return None
        pieces.extend(sub)
    return pieces


def _local_cost(expr, depth: int = 4) -> int:
    """Nodes of ``expr`` as a tree, ``depth`` levels down: how long it reads, roughly."""
    if depth == 0:
        return 1
    return 1 + sum(_local_cost(child, depth - 1) for child in expr.children)
