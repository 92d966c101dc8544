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

from ..expression.nodes import Const, Contraction, Delta, Expr, transform
from .paths import REPRESENTATIVE_SIZE, pair_plan


def binarize(expr):
    """``expr`` (or a list of expressions) with every N-operand contraction split into pairs."""
    if isinstance(expr, (list, tuple)):
        return type(expr)(transform(list(expr), _binarize_node))
    return transform([expr], _binarize_node)[0]


def _is_real(op: Expr) -> bool:
    return not isinstance(op, Delta) and not (isinstance(op, Const) and op.value.ndim == 0)


def _binarize_node(node: Expr, children: list) -> Expr:
    node = node.rebuild(children) if children != list(node.children) else node
    if not isinstance(node, Contraction):
        return node
    real = [p for p, op in enumerate(node.operands) if _is_real(op)]
    if len(real) < 3:
        return node
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
    work = [(node.operands[p], tuple(node.indices[p])) for p in real]
    carried = {label for ix in node.indices for label in ix}
    bare = {label for label in range(len(node.sizes)) if label not in carried}
    all_sizes = dict(enumerate(node.sizes))

    def sizes_for(*index_tuples):  # only the labels still in play: no spurious size factors
        labels = set(node.output) | bare | {l for ix in index_tuples for l in ix}
        return {label: all_sizes[label] for label in labels}

    for step, positions in enumerate(path):
        picked = [work[p] for p in positions]
        for p in sorted(positions, reverse=True):
            del work[p]
        if step == len(path) - 1 and not others:
            return Contraction([e for e, _ in picked], [ix for _, ix in picked], node.output,
                               sizes_for(*(ix for _, ix in picked)))
        needed = top | {label for _, ix in work for label in ix}
        kept = tuple(dict.fromkeys(l for _, ix in picked for l in ix if l in needed))
        pair = Contraction([e for e, _ in picked], [ix for _, ix in picked], kept,
                           {l: all_sizes[l] for _, ix in picked for l in ix})
        work.append((pair, kept))
    (last, last_ix), = work
    other_indices = [node.indices[p] for p in others]
    return Contraction([last] + [node.operands[p] for p in others], [last_ix] + other_indices,
                       node.output, sizes_for(last_ix, *other_indices))
