"""The operation table's exact rewrites, called once per simplified node from
:mod:`tensorcalc.calculus.simplify`: ``X X⁻¹ = I``, ``det(Xᵀ) = det X``, ``(Xᵀ)⁻¹ = (X⁻¹)ᵀ``,
``(X⁻¹)⁻¹ = X``, ``X⁻¹b = solve(X, b)``, ``tr(A ⊗ B) = tr A tr B``, and the ordering of symmetric operands' indices.

>>> import tensorcalc as tc
>>> X = tc.var("X", ("n", "n"))
>>> print(tc.matrix_notation(tc.simplify(tc.inv(tc.inv(X)))))
X

log(det X) is *not* rewritten to logdet X: logdet is log|det X|, which differs wherever
det X < 0, and nothing here knows the sign.

simplify imports this module, so this module cannot import simplify; it rebuilds its results
with the simplifier's contraction rule through :mod:`identities <tensorcalc.calculus.identities>`,
into which simplify registers its entry points.
"""

from __future__ import annotations

from ..expression.construct import transpose
from ..expression.linalg import solve
from ..expression.nodes import Const, Contraction, Delta, Operation
from ..expression.structured import canonical
from .identities import simplify_contraction as _simplify_contraction
from .indexing_rewrites import rewrite_indexing


def rewrite(node):
    """``node`` after the operation table's exact rewrites (``X X⁻¹ = I``, ``det(Xᵀ) = det X``,
    ``(Xᵀ)⁻¹ = (X⁻¹)ᵀ``, ``(X⁻¹)⁻¹ = X``) and the ordering of symmetric operands' indices."""
    if isinstance(node, Operation):
        return _rewrite_operation(node)
    if isinstance(node, Contraction) and node.operands:
        if not any(isinstance(op, Operation) or getattr(op, "structure", None) is not None
                   for op in node.operands):
            return node  # nothing for these rules to see (most contractions)
        node = _cancel_inverses(node)
        if isinstance(node, Contraction):
            node = _trace_of_kron(node)
        if isinstance(node, Contraction):
            node = _inverse_times_vector_as_solve(node)
        if isinstance(node, Contraction):
            node = canonical(node)
    return node


def _label_counts(node) -> dict:
    counts: dict = {}
    for ix in node.indices:
        for label in ix:
            counts[label] = counts.get(label, 0) + 1
    return counts


def _trace_of_kron(node):
    """``tr(A ⊗ B) = tr(A) tr(B)``: a ``kron`` of two matrices whose two indices are one label
    found nowhere else becomes ``A_aa B_bb``, so its derivatives are ``tr(B) I`` and ``tr(A) I``."""
    counts = _label_counts(node)
    for k, (op, ix) in enumerate(zip(node.operands, node.indices)):
        if not (isinstance(op, Operation) and op.name == "kron" and op.ndim == 2
                and all(x.ndim == 2 for x in op.operands) and ix[0] == ix[1] and counts[ix[0]] == 2
                and ix[0] not in node.output):
            continue
        (a, b), fresh = op.operands, len(node.sizes)
        sizes = {**dict(enumerate(node.sizes)), fresh: a.shape[0], fresh + 1: b.shape[0]}
        operands = [*node.operands[:k], a, b, *node.operands[k + 1:]]
        indices = [*node.indices[:k], (fresh, fresh), (fresh + 1, fresh + 1), *node.indices[k + 1:]]
        del sizes[ix[0]]
        return _simplify_contraction(operands, indices, node.output, sizes)
    return node


def _inverse_times_vector_as_solve(node):
    """``Σ_j (X⁻¹)_ij b_j`` is ``solve(X, b)_i`` (and ``Σ_j (X⁻¹)_ji b_j`` is ``solve(Xᵀ, b)_i``):
    one LU solve, n³/3 FLOPs and better conditioned, instead of forming the n³ inverse.
    Only for a vector ``b`` and a matrix ``X`` (no batch), with ``j`` summed between the two."""
    counts = _label_counts(node)
    output = set(node.output)
    for k, (op, ix) in enumerate(zip(node.operands, node.indices)):
        if not (isinstance(op, Operation) and op.name == "inv" and op.ndim == 2 and len(set(ix)) == 2):
            continue
        for j, (other, jx) in enumerate(zip(node.operands, node.indices)):
            if j == k or other.ndim != 1 or isinstance(other, Operation) and other.name == "inv":
                continue
            label = jx[0]
            if label in output or counts[label] != 2 or label not in ix:
                continue
            free = ix[0] if ix[1] == label else ix[1]
            matrix = op.operands[0] if ix[1] == label else _simplified_transpose(op.operands[0])
            operands = [o for n, o in enumerate(node.operands) if n not in (j, k)]
            indices = [i for n, i in enumerate(node.indices) if n not in (j, k)]
            sizes = {l: d for l, d in enumerate(node.sizes) if l != label}
            return rewrite(_simplify_contraction(operands + [solve(matrix, other)],
                                                 indices + [(free,)], node.output, sizes))
    return node


def _simplified_transpose(x):
    """``xᵀ`` of a matrix, simplified as the simplifier would (so that simplifying a result that
    holds it again changes nothing: ``(3I)ᵀ`` is ``3I``)."""
    return rewrite(_simplify_contraction([x], [(1, 0)], (0, 1), {0: x.shape[1], 1: x.shape[0]}))


def transposed_matrix(x):
    """``X`` when ``x`` is ``Xᵀ`` (a one-operand contraction swapping two axes), else ``None``."""
    if isinstance(x, Contraction) and len(x.operands) == 1 and x.indices == ((1, 0),) \
            and x.output == (0, 1) and len(x.sizes) == 2:
        return x.operands[0]
    return None


def _reshaped_identity(node):
    """``reshape(I_pq, (p, q, p, q))`` (row-major, as kron's adjoint writes it) is ``δ_ac δ_bd``."""
    (x,) = node.operands
    target = tuple(node.param)
    if isinstance(x, Delta) and len(target) == 4 and target[:2] == target[2:] \
            and all(isinstance(d, int) for d in target) and target[0] * target[1] == x.shape[0]:
        p, q = target[:2]
        return Contraction([Delta(p), Delta(q)], [(0, 2), (1, 3)], (0, 1, 2, 3), {0: p, 1: q, 2: p, 3: q})
    return node


def _rewrite_operation(node):
    if node.name in ("take", "scatter"):
        return rewrite_indexing(node)
    if node.name == "reshape":
        node = _reshaped_identity(node)
        return rewrite_indexing(node) if isinstance(node, Operation) else node
    if node.name in ("inv", "det", "logdet") and node.ndim <= 2 and node.operands[0].ndim == 2:
        (x,) = node.operands
        inner = transposed_matrix(x)
        if inner is not None:
            if node.name == "inv":  # (Xᵀ)⁻¹ = (X⁻¹)ᵀ
                return transpose(Operation("inv", [inner]))
            return Operation(node.name, [inner])  # det(Xᵀ) = det X
        if node.name == "inv" and isinstance(x, Operation) and x.name == "inv":
            return x.operands[0]  # (X⁻¹)⁻¹ = X
    if node.name == "solve":
        return _scalar_out_of_solve(node)
    return node


def _scalar_out_of_solve(node):
    """``solve(A, c b) = c solve(A, b)`` for a number ``c``: the adjoint of a solve is a solve
    of the incoming gradient, which carries the loss's coefficients (``A⁻¹(½xᵀ)``); pulled out,
    it is the loss's own ``A⁻¹xᵀ`` again, computed once."""
    a, b = node.operands
    if not (isinstance(b, Contraction) and len(b.operands) >= 2 and isinstance(b.operands[0], Const)
            and b.operands[0].value.ndim == 0):
        return node
    core = _simplify_contraction(b.operands[1:], b.indices[1:], b.output, dict(enumerate(b.sizes)))
    inner = rewrite(Operation("solve", [a, core], node.param))
    axes = tuple(range(inner.ndim))
    return _simplify_contraction([b.operands[0], inner], [(), axes], axes, dict(enumerate(inner.shape)))


def _cancel_inverses(node):
    """``Σ_b X_ab (X⁻¹)_bc = δ_ac`` and ``Σ_b (X⁻¹)_ab X_bc = δ_ac`` inside a contraction."""
    counts = _label_counts(node)
    output = set(node.output)
    for k, (op, ix) in enumerate(zip(node.operands, node.indices)):
        if not (isinstance(op, Operation) and op.name == "inv" and op.ndim == 2):
            continue
        x = op.operands[0]
        for j, (other, jx) in enumerate(zip(node.operands, node.indices)):
            if j == k or other is not x or len(set(jx)) != 2 or len(set(ix)) != 2:
                continue
            for shared, tied in (((jx[1], ix[0]), (jx[0], ix[1])), ((ix[1], jx[0]), (ix[0], jx[1]))):
                label = shared[0]
                if shared[0] == shared[1] and label not in output and counts[label] == 2:
                    operands = [o for n, o in enumerate(node.operands) if n not in (j, k)]
                    indices = [i for n, i in enumerate(node.indices) if n not in (j, k)]
                    sizes = {l: d for l, d in enumerate(node.sizes) if l != label}
                    result = _simplify_contraction(operands + [Delta(x.shape[0])],
                                                   indices + [tied], node.output, sizes)
                    return rewrite(result)
    return node
