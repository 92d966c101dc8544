"""Symbolic simplification: δ elimination, flattening, constant folding, like terms.

>>> import tensorcalc as tc
>>> A, x = tc.var("A", (3, 3)), tc.var("x", (3,))
>>> print(tc.simplify(A @ x + A @ x))
2 A_ij x_j

The rules, each local to one node and applied bottom-up over the DAG:

* **contractions** flatten nested contractions into one einsum; scalar
  constants multiply into one coefficient; a zero factor makes the whole
  product zero; ``δ_ab`` with a summed index is a *renaming* (``Σ_b δ_ab x_b =
  x_a``) and disappears; ``δ_aa`` is 1 (so ``Σ_a δ_aa`` becomes the size ``n``);
  a ``δ`` survives only when both its indices are free, as in ``δ_ij a_k``;
  a single operand read in its own order is just that operand;
* **sums** flatten, drop zeros and collect like terms up to index renaming
  (contractions are stored with canonically numbered indices, so ``A_ij x_j``
  and ``A_ik x_k`` are one node);
* **elementwise** functions of constants are folded; ``x¹`` is ``x``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import opt_einsum

from ..expression.canonical import reading_key, signature
from ..expression.construct import as_expr
from . import identities
from .identities import _expanding
from .identities import elementwise as rewrite_elementwise
from .identities import (distribute_if_shorter, exact_exponent, expand_if_shorter,
                         factor_shared_operands, identity_constant, merge_factors)
from ..expression.functions import FUNCTIONS
from ..expression.nodes import (Const, Contraction, Delta, Elementwise, Expr, Operation, Sum,
                               consumer_counts, postorder)
from ..expression.collection import without_collector_pauses
from .operation_rewrites import rewrite
from .settled import is_settled, settle
from .terms import constant_value, filled, is_zero, zeros  # noqa: F401 - imported from here too

_FOLD_LIMIT = 1 << 16  # fold constant contractions only while they stay small
MAX_FLATTEN_OPERANDS = 8  # beyond this a nested contraction stays a node: long chains of
# products (a deep network's adjoints) would otherwise grow one huge einsum, quadratic to build


@without_collector_pauses
def simplify(expr):
    """The simplified form of an expression (or of a list of them, sharing work)."""
    if isinstance(expr, (list, tuple)):
        return type(expr)(_simplify_remembered([as_expr(e) for e in expr]))
    return _simplify_remembered([as_expr(expr)])[0]


def _simplify_remembered(roots: list) -> list:
    if is_settled(roots):
        return roots
    result = _simplify_to_fixpoint(roots)
    settle(result)
    return result


def _simplify_to_fixpoint(roots: list) -> list:
    """Simplify, and again while a product kept apart because it was shared is, in the result,
    read only once (it is then merged back), so that simplifying twice changes nothing."""
    result = _simplify_all(roots)
    for _ in range(2):  # small expressions settle in one more pass; deep ones are not worth more
        if not _has_lone_kept_product(result):
            break
        again = _simplify_all(result)
        if all(a is b for a, b in zip(again, result)):
            break
        result = again
    return result


def _has_lone_kept_product(roots: list) -> bool:
    order = postorder(roots)
    consumers = consumer_counts(order)
    return any(isinstance(node, Contraction) and len(node.operands) < MAX_FLATTEN_OPERANDS and
               any(_is_product(op) and consumers[id(op)] == 1 and
                   len(node.operands) + len(op.operands) <= MAX_FLATTEN_OPERANDS
                   for op in node.operands)
               for node in order)


def _simplify_all(roots: Sequence[Expr]) -> list:
    order = postorder(roots)
    consumers = consumer_counts(order)
    root_ids = {id(root) for root in roots}
    memo: dict = {}
    for node in order:
        children = [memo[id(child)] for child in node.children]
        if isinstance(node, Contraction):
            # a product read by this contraction alone may stay unbuilt: the contraction
            # flattens it, and builds it only if it keeps it
            unbuilt_ok = consumers.get(id(node), 0) == 1 and id(node) not in root_ids
        else:
            children = [_built(child) for child in children]
            unbuilt_ok = False
        shared = [consumers.get(id(child), 0) > 1 for child in node.children]
        result = _simplify_node(node, children, shared, unbuilt_ok)
        memo[id(node)] = result if isinstance(result, _Unbuilt) else rewrite(result)  # operations' rules
    return [_built(memo[id(root)]) for root in roots]


class _Unbuilt:
    """A simplified product not yet built into a node, because the one contraction that reads
    it will most likely flatten it: a chain of N products then builds about N/8 nodes, not N
    (each one ordered canonically and interned, most of them only to be flattened again).

    Made only where building would give exactly ``Contraction(operands, indices, output,
    sizes)``: no operand is a sum (which ``distribute_if_shorter`` may expand) and none is one
    the operation rewrites look at (an operation or a structured variable)."""

    __slots__ = ("operands", "indices", "output", "sizes")

    def __init__(self, operands, indices, output, sizes):
        self.operands, self.indices, self.output, self.sizes = operands, indices, output, sizes

    def build(self) -> Contraction:
        return Contraction(self.operands, self.indices, self.output, self.sizes)


def _built(expr):
    return expr.build() if isinstance(expr, _Unbuilt) else expr


def _may_stay_unbuilt(operands) -> bool:
    return not any(isinstance(op, (Sum, Operation)) or getattr(op, "structure", None) is not None
                   for op in operands)


def _is_product(expr: Expr) -> bool:
    """A contraction of two or more tensors: worth computing once when it is shared."""
    return isinstance(expr, (Contraction, _Unbuilt)) and sum(
        1 for op in expr.operands
        if not isinstance(op, Delta) and not (isinstance(op, Const) and op.value.ndim == 0)) >= 2


def _simplify_node(node: Expr, children: list, shared=(), unbuilt_ok: bool = False) -> Expr:
    if isinstance(node, Contraction):
        keep = {k for k, (child, is_shared) in enumerate(zip(children, shared))
                if is_shared and _is_product(child)}
        return simplify_contraction(children, node.indices, node.output, node.sizes, keep,
                                    unbuilt_ok=unbuilt_ok, original=node)
    if isinstance(node, Sum):
        return simplify_sum(children)
    if isinstance(node, Elementwise):
        return simplify_elementwise(node.fn, children[0], node.param)
    if isinstance(node, Const):
        return identity_constant(node.value) or node
    return node.rebuild(children) if children else node


# ---------------------------------------------------------------------------
# Contractions


def simplify_contraction(operands, indices, output, sizes, keep=frozenset(),
                         unbuilt_ok: bool = False, original=None) -> Expr:
    """Simplify ``Contraction(operands, indices, output, sizes)`` whose operands are simplified.

    Operands at the positions in ``keep`` are not flattened: they are products
    shared with other parts of the DAG, computed once (reverse accumulation
    relies on this to reuse forward intermediates and partial adjoints).
    With ``unbuilt_ok`` (``_simplify_all``, for a product read by one contraction) the
    result may be an :class:`_Unbuilt` product; operands may be ones too.  ``original``, when
    given, is the contraction these arguments describe: if nothing here changes it, it is the
    result, without being ordered and interned again (a simplified gradient compiled).
    """
    sizes = dict(enumerate(sizes)) if not isinstance(sizes, dict) else dict(sizes)
    output = list(output)
    next_label = [max(sizes, default=-1) + 1]

    def fresh() -> int:
        next_label[0] += 1
        return next_label[0] - 1

    # 1. flatten nested contractions (their summed indices get fresh labels)
    factors: list = []  # (operand, [labels])
    pending = [(op, list(ix), k in keep) for k, (op, ix) in enumerate(zip(operands, indices))]
    coefficient = 1.0
    # a zero factor makes the product zero before anything is multiplied: 0 · (1/0) from
    # folding would otherwise become NaN (the symbolic zero of a derivative is exact)
    if any(is_zero(op) for op in operands):
        return zeros(tuple(sizes[l] for l in output))
    while pending:
        op, ix, kept = pending.pop(0)
        product = isinstance(op, (Contraction, _Unbuilt))
        if product and not kept and \
                len(factors) + len(pending) + len(op.operands) > MAX_FLATTEN_OPERANDS \
                and _is_product(op):
            kept = True
        if isinstance(op, _Unbuilt) and kept:
            op = op.build()
        if product and not kept:
            rename = {}
            for position, label in enumerate(op.output):
                rename[label] = ix[position]
            for label, dim in (op.sizes.items() if isinstance(op, _Unbuilt) else enumerate(op.sizes)):
                if label not in rename:
                    rename[label] = fresh()
                    sizes[rename[label]] = dim
            # a product left inside a simplified contraction was kept on purpose: keep it
            pending[0:0] = [(inner, [rename[l] for l in inner_ix], _is_product(inner))
                            for inner, inner_ix in zip(op.operands, op.indices)]
            # labels of the inner contraction that no inner operand carries stay in `sizes`
            continue
        if isinstance(op, Const) and op.value.ndim == 0:
            if not op.value.any():
                return zeros(tuple(sizes[l] for l in output))
            coefficient = coefficient * op.value.item()
            continue
        factors.append((op, ix))

    if coefficient == 0 or any(is_zero(op) for op, _ in factors):
        return zeros(tuple(sizes[l] for l in output))

    factors = merge_factors(factors)  # xᵃ xᵇ = xᵃ⁺ᵇ, exp(u) σ(−u) = σ(u)

    # a square summed over all its indices is a dot product: Σ x² = x·x, one BLAS call
    if any(_is_summed_square(op, ix, output) for op, ix in factors):
        plain = [(op, ix) for op, ix in factors if not _is_summed_square(op, ix, output)]
        squares = [(op.arg, ix) for op, ix in factors if _is_summed_square(op, ix, output)]
        factors = plain + [pair for pair in squares for _ in range(2)]

    factors = _squeeze_size_one(factors, sizes, output)

    # 2. eliminate deltas by renaming summed indices
    changed = True
    while changed:
        changed = False
        for position, (op, ix) in enumerate(factors):
            if not isinstance(op, Delta):
                continue
            a, b = ix
            if a == b:
                del factors[position]
            elif b not in output or a not in output:
                old, new = (b, a) if b not in output else (a, b)
                del factors[position]
                factors = [(f, [new if l == old else l for l in fix]) for f, fix in factors]
                del sizes[old]
            else:
                continue
            changed = True
            break

    # 3. drop labels that no longer exist, then rebuild
    used = set(output) | {l for _, ix in factors for l in ix}
    # summed labels no factor carries are size factors; keep them (they were in sizes)
    if coefficient != 1.0:
        factors.insert(0, (Const(coefficient), []))
    ops = [f for f, _ in factors]
    ixs = [tuple(ix) for _, ix in factors]

    if not ops:
        bare = [l for l in sizes if l not in used]
        if all(isinstance(sizes[l], int) for l in bare):
            value = float(np.prod([sizes[l] for l in bare])) if bare else 1.0
            return filled(value, tuple(sizes[l] for l in output))
        return Contraction((), (), output, sizes)

    if len(ops) == 1 and list(ixs[0]) == output and len(set(output)) == len(output) \
            and set(sizes) == set(output):
        return ops[0]

    if all(isinstance(op, Const) for op in ops) and all(isinstance(d, int) for d in sizes.values()):
        # fold onto the axes some constant carries; the other output axes stay a broadcast
        carried = {l for ix in ixs for l in ix}
        kept = [l for l in output if l in carried]
        out_shape = tuple(sizes[l] for l in output)
        if int(np.prod([sizes[l] for l in kept], dtype=np.int64)) <= _FOLD_LIMIT:
            inner = {l: d for l, d in sizes.items() if l in carried or l not in output}
            value = _fold_einsum(ops, ixs, kept, inner)
            if not kept:
                return filled(value[()], out_shape)
            if len(kept) == len(output):
                return Const(value)
            return Contraction((Const(value),), (tuple(kept),), output,
                               {l: sizes[l] for l in output})

    if original is not None and len(ops) == len(original.operands) and \
            all(a is b for a, b in zip(ops, original.operands)) and \
            tuple(ixs) == original.indices and tuple(output) == original.output and \
            len(sizes) == len(original.sizes) and \
            all(sizes.get(label) == dim for label, dim in enumerate(original.sizes)):
        product = original  # what Contraction(ops, ixs, output, sizes) would give: itself
    elif unbuilt_ok and _may_stay_unbuilt(ops):
        return _Unbuilt(ops, ixs, output, sizes)
    else:
        product = Contraction(ops, ixs, output, sizes)
    distributed = distribute_if_shorter(product)  # σ(1 − σ)((1 − σ)⁻¹ … ) = σ − y, when it cancels
    return distributed if distributed is not None else product


def _squeeze_size_one(factors: list, sizes: dict, output) -> list:
    """A summed index of size 1 is just index 0: push it inside entrywise functions, where it
    meets the broadcast that made it and vanishes (softmax's ``Σ_m … 𝟙_m`` from keepdims), and
    drop it when nothing carries it any more (a factor of 1)."""
    size_one = {label for label, dim in sizes.items() if dim == 1 and label not in output}
    if not size_one:
        return factors
    squeezed = []
    for op, ix in factors:
        drop = [p for p, label in enumerate(ix) if label in size_one]
        if drop and isinstance(op, Elementwise) and len(set(ix)) == len(ix):
            keep = tuple(p for p in range(len(ix)) if p not in drop)
            inner = simplify_contraction([op.arg], [tuple(range(len(ix)))], keep,
                                         dict(enumerate(op.shape)))
            op, ix = simplify_elementwise(op.fn, inner, op.param), [ix[p] for p in keep]
        squeezed.append((op, ix))
    carried = {label for _, ix in squeezed for label in ix}
    for label in size_one - carried:
        del sizes[label]
    return squeezed


def _is_summed_square(op: Expr, ix, output) -> bool:
    """``op`` is ``x²`` and this contraction sums it over every one of its indices."""
    return isinstance(op, Elementwise) and op.fn == "pow" and op.param == 2.0 \
        and not set(ix) & set(output)


def _fold_einsum(ops, ixs, output, sizes) -> np.ndarray:
    """``einsum`` of constants; every output label is carried by some constant."""
    letters = {label: opt_einsum.get_symbol(n) for n, label in enumerate(sizes)}
    bare = [l for l in sizes if l not in output and not any(l in ix for ix in ixs)]
    scale = float(np.prod([sizes[l] for l in bare])) if bare else 1.0
    equation = ",".join("".join(letters[l] for l in ix) for ix in ixs) + "->" + \
        "".join(letters[l] for l in output)
    # opt_einsum plans a path (np.einsum alone is exponential in the number of indices here)
    # and maps any number of index symbols onto the letters numpy accepts
    return np.asarray(opt_einsum.contract(equation, *[op.value for op in ops], optimize="greedy")
                      * scale)


# ---------------------------------------------------------------------------
# Sums


def _split_coefficient(term: Expr):
    """``(c, core)`` with ``term == c * core``, ``c`` a Python scalar."""
    if isinstance(term, Contraction) and term.operands and isinstance(term.operands[0], Const) \
            and term.operands[0].value.ndim == 0:
        coefficient = term.operands[0].value[()]
        core = simplify_contraction(term.operands[1:], term.indices[1:], term.output, term.sizes)
        return coefficient, core
    return 1.0, term


def simplify_sum(terms) -> Expr:
    """Simplify a sum whose terms are simplified."""
    shape = terms[0].shape
    flat: list = []
    pending = list(terms)
    while pending:
        term = pending.pop(0)
        if isinstance(term, Sum):
            pending[0:0] = list(term.terms)
        elif not is_zero(term):
            flat.append(term)
    constant = None
    groups: dict = {}
    for term in flat:
        value = constant_value(term)
        if value is not None:
            constant = value if constant is None else constant + value
            continue
        coefficient, core = _split_coefficient(term)
        value = constant_value(core)
        if value is not None:
            constant = coefficient * value if constant is None else constant + coefficient * value
            continue
        # like terms up to renaming, operand order *and* which products are kept as shared
        # nodes: (X²)ᵀ kept from the forward pass and X_ki X_jk flattened are one term
        entry = groups.setdefault(_like_term_key(core), [core, 0.0])
        entry[1] += coefficient
    result = []
    # one order for the terms, whatever order they came in: positive coefficients first
    ordered = _canonical_term_order(list(groups.values()))
    ordered = factor_shared_operands([(core, c) for core, c in ordered if c != 0])
    common = _common_coefficient(ordered) if constant is None else None
    if common is not None:  # 2a − 2b = 2(a − b): the sum a − b may be a forward node, shared
        inner = simplify_sum([core if c == common else
                              simplify_contraction([Const(c / common), core], [(), tuple(range(core.ndim))],
                                                   range(core.ndim), dict(enumerate(core.shape)))
                              for core, c in ordered])
        return simplify_contraction([Const(common), inner], [(), tuple(range(inner.ndim))],
                                    range(inner.ndim), dict(enumerate(inner.shape)))
    for core, coefficient in ordered:
        if coefficient == 0:
            continue
        if coefficient == 1:
            result.append(core)
        else:
            result.append(simplify_contraction([Const(coefficient), core],
                                               [(), tuple(range(core.ndim))],
                                               range(core.ndim), dict(enumerate(core.shape))))
    if constant is not None and np.any(constant != 0):
        constant = np.asarray(constant)
        result.insert(0, Const(constant) if constant.shape == shape else filled(constant[()], shape))
    if not result:
        return zeros(shape)
    if len(result) == 1:
        return result[0]
    expanded = expand_if_shorter(result)  # s(1 − y) − y(1 − s) = s − y
    return expanded if expanded is not None else Sum(result)


def _common_coefficient(ordered: list):
    """The coefficient every term has up to sign, when there are several and it is not ±1."""
    magnitudes = {abs(c) for _, c in ordered}
    if len(ordered) < 2 or len(magnitudes) != 1 or any(isinstance(c, complex) for _, c in ordered):
        return None
    (common,) = magnitudes
    return None if common in (0, 1) or not exact_exponent(common) else float(common)


def _canonical_term_order(entries: list) -> list:
    """``[(core, coefficient)]`` in one order: positive coefficients first, then by a reading key;
    the structural signature (a digest, costlier) only breaks ties."""
    if len(entries) < 2:
        return entries
    keys = [(bool(np.real(c) < 0), reading_key(core)) for core, c in entries]
    if len(set(keys)) < len(keys):
        keys = [key + (signature(core),) for key, (core, _) in zip(keys, entries)]
    return [entries[k] for k in sorted(range(len(entries)), key=keys.__getitem__)]


def _like_term_key(core: Expr) -> Expr:
    """The fully flattened form of a product: equal for like terms however they were built."""
    if not isinstance(core, Contraction) or not any(isinstance(op, Contraction) for op in core.operands):
        return core
    _expanding[0] += 1  # a key only: no expansion attempts inside
    try:
        return simplify_contraction(core.operands, core.indices, core.output, core.sizes)
    finally:
        _expanding[0] -= 1


# ---------------------------------------------------------------------------
# Elementwise functions


def simplify_elementwise(fn: str, arg: Expr, param) -> Expr:
    """Simplify ``fn(arg)`` whose argument is simplified."""
    if fn == "pow" and param == 1.0:
        return arg
    if fn == "pow" and param == 0.0:
        return filled(1.0, arg.shape)
    value = constant_value(arg)
    if value is not None:
        with np.errstate(all="ignore"):
            result = FUNCTIONS[fn].numpy(value, param)
        return Const(result) if isinstance(arg, Const) else filled(result[()], arg.shape)
    if is_zero(arg):
        with np.errstate(all="ignore"):
            return filled(FUNCTIONS[fn].numpy(np.float64(0.0), param)[()], arg.shape)
    if fn == "pow" and isinstance(arg, Elementwise) and arg.fn == "pow" and float(param).is_integer() \
            and exact_exponent(arg.param * param) and exact_exponent(arg.param):
        return simplify_elementwise("pow", arg.arg, arg.param * param)  # (xᵃ)ⁿ = xᵃⁿ, n an integer
    if fn == "pow" and isinstance(arg, Elementwise) and arg.fn == "sqrt" and float(param).is_integer():
        return simplify_elementwise("pow", arg.arg, param / 2)  # (√u)ⁿ = u^(n/2) where √u is defined
    rewritten = rewrite_elementwise(fn, arg, param)
    if rewritten is not None:
        return rewritten
    return Elementwise(fn, arg, param)


identities.SIMPLIFIER.update(contraction=simplify_contraction, sum=simplify_sum,
                             elementwise=simplify_elementwise, like_term_key=_like_term_key,
                             split_coefficient=_split_coefficient)
