"""Rewrites that make reverse accumulation cheap: binarizing N-operand contractions.

The adjoint of operand ``k`` of an N-operand einsum contracts the incoming
gradient with the N−1 other operands, so the gradients of all N operands cost
about N forward passes.  Split the einsum first into the pairwise
contractions of its planned path and each pair becomes a node: its adjoints
reuse the forward intermediates (``A B`` in ``A B C``) and each other's partial
results, and all N gradients cost about two forward passes.

>>> import tensorcalc as tc
>>> A, B, C = (tc.var(n, (4, 4)) for n in "ABC")
>>> chain = binarize(tc.einsum("ij,jk,kl->il", A, B, C))
>>> len(chain.operands)
2

Named dimensions are planned with :data:`REPRESENTATIVE_SIZE`; the simplifier
later merges back any pair that ends up used only once.
"""

from __future__ import annotations

import opt_einsum

from ..expression.nodes import Const, Contraction, Delta, Expr, postorder, transform
from .paths import REPRESENTATIVE_SIZE, pair_plan


def binarize(expr, shared_only: bool = False):
    """``expr`` (or a list of expressions) with every N-operand contraction split into pairs.

    With ``shared_only`` (``tc.compile``'s use) a contraction is split only where one of the
    pairs of its own operands that its plan contracts is read elsewhere too: equal to a node of
    the expressions, or planned by another contraction.  The others would be split only for
    the simplifier to merge their pairs back, one use each (a 30,000-factor chain's gradient
    was split into 60,000 pairs that way).
    """
    roots = list(expr) if isinstance(expr, (list, tuple)) else [expr]
    if shared_only:
        split = _with_shared_pairs(roots)
        result = transform(roots, lambda node, children: _binarize_node(
            node, children, split=id(node) in split))
    else:
        result = transform(roots, _binarize_node)
    return type(expr)(result) if isinstance(expr, (list, tuple)) else result[0]


def _with_shared_pairs(roots: list) -> set:
    """Ids of the contractions of ``roots`` whose plan contracts a pair of their operands that
    is a node of ``roots`` or that another plan contracts too."""
    order = postorder(roots)
    existing = {id(node) for node in order}
    planned: dict = {}  # id(pair) -> [pair, the contractions planning it]
    for node in order:
        if isinstance(node, Contraction) and sum(map(_is_real, node.operands)) >= 3:
            for pair in _planned_pairs(node):
                planned.setdefault(id(pair), [pair, set()])[1].add(id(node))
    split: set = set()
    for pair_id, (_, owners) in planned.items():
        if len(owners) > 1 or pair_id in existing:
            split |= owners
    return split


def _planned_pairs(node: Contraction) -> list:
    """The pairs of ``node``'s own operands that its plan contracts first, as nodes."""
    steps = _pair_steps(node)
    return [pair for pair, from_operands in steps if from_operands]


def _is_real(op: Expr) -> bool:
    return not isinstance(op, Delta) and not (isinstance(op, Const) and op.value.ndim == 0)


def _binarize_node(node: Expr, children: list, split: bool = True) -> Expr:
    node = node.rebuild(children) if children != list(node.children) else node
    if not split or not isinstance(node, Contraction):
        return node
    if sum(map(_is_real, node.operands)) < 3:
        return node
    return _pair_steps(node, finish=True)


def _pair_steps(node: Contraction, finish: bool = False):
    """Split ``node`` along its planned path.  With ``finish`` the split node; without, the
    ``(pair node, made of two of node's own operands)`` of each step but the last."""
    real = [p for p, op in enumerate(node.operands) if _is_real(op)]
    others = [p for p in range(len(node.operands)) if p not in real]
    top = set(node.output) | {label for p in others for label in node.indices[p]}
    letters = {label: opt_einsum.get_symbol(label) for label in range(len(node.sizes))}
    sizes = {label: dim if isinstance(dim, int) else REPRESENTATIVE_SIZE
             for label, dim in enumerate(node.sizes)}
    terms = ["".join(letters[l] for l in node.indices[p]) for p in real]
    shapes = [tuple(sizes[l] for l in node.indices[p]) for p in real]
    in_real = {label for p in real for label in node.indices[p]}
    path_output = "".join(letters[l] for l in sorted(top & in_real))
    path = pair_plan(",".join(terms) + "->" + path_output, tuple(shapes))[0]
    work = [(node.operands[p], tuple(node.indices[p]), True) for p in real]
    carried = {label for ix in node.indices for label in ix}
    bare = {label for label in range(len(node.sizes)) if label not in carried}
    all_sizes = dict(enumerate(node.sizes))
    steps = []

    def sizes_for(*index_tuples):  # only the labels still in play: no spurious size factors
        labels = set(node.output) | bare | {l for ix in index_tuples for l in ix}
        return {label: all_sizes[label] for label in labels}

    for step, positions in enumerate(path):
        picked = [work[p] for p in positions]
        for p in sorted(positions, reverse=True):
            del work[p]
        if step == len(path) - 1 and not others:
            if not finish:
                return steps
            return Contraction([e for e, _, _ in picked], [ix for _, ix, _ in picked], node.output,
                               sizes_for(*(ix for _, ix, _ in picked)))
        needed = top | {label for _, ix, _ in work for label in ix}
        kept = tuple(dict.fromkeys(l for _, ix, _ in picked for l in ix if l in needed))
        from_operands = all(original for _, _, original in picked)
        if not finish and not from_operands:
            work.append((None, kept, False))  # only the pairs of node's own operands are asked for
            continue
        pair = Contraction([e for e, _, _ in picked], [ix for _, ix, _ in picked], kept,
                           {l: all_sizes[l] for _, ix, _ in picked for l in ix})
        steps.append((pair, from_operands))
        work.append((pair, kept, False))
    if not finish:
        return steps
    (last, last_ix, _), = work
    other_indices = [node.indices[p] for p in others]
    return Contraction([last] + [node.operands[p] for p in others], [last_ix] + other_indices,
                       node.output, sizes_for(last_ix, *other_indices))
