"""Vector-Jacobian products of the operation table's rows, *as expressions* (so derivatives print,
simplify, nest and compile like any other): :data:`VJPS`, one rule per row of
:data:`~tensorcalc.expression.operations.OPERATIONS`, keyed by the operation's name, as autograd's
``defvjp``.  Both differentiation methods use them: the naive method's local Jacobian is the VJP
rule seeded with δ.

>>> import tensorcalc as tc
>>> X = tc.var("X", ("n", "n"))
>>> print(tc.grad(tc.logdet(X), X))
∂log|X|/∂X_ij = X⁻¹_ji

A rule ``vjp(node, k, adjoint, n_extra)`` returns the adjoint of operand ``k`` (shape
``adjoint.shape[:n_extra] + operand.shape``), or ``None`` where it is zero.  Rules, from the
Matrix Cookbook (Petersen & Pedersen, 2012), eq. numbers there:

* ``d(X⁻¹) = −X⁻¹ dX X⁻¹`` (59), so the adjoint of ``X`` is ``−X⁻ᵀ G X⁻ᵀ``;
* ``∂det X/∂X = det(X) X⁻ᵀ`` (49); ``∂log|det X|/∂X = X⁻ᵀ`` (57);
* ``x = A⁻¹b``: ``b̄ = A⁻ᵀ x̄`` (a solve with ``Aᵀ``), ``Ā = −b̄ xᵀ``;
* ``∂logsumexp(x)/∂x = softmax(x)``; softmax's VJP is ``s ⊙ (g − Σ g s)``;
* ``max``/``min`` and ``maximum``/``minimum``: the subgradient at ties is split equally.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..expression import layout, linalg, pairwise, reductions, selection  # noqa: F401 - the rows ruled here
from ..expression.construct import add, apply_function, broadcast_to, scale, transpose
from ..expression.nodes import Const, Contraction, Delta, Expr, Operation
from ..expression.operations import known_operation
from .terms import zeros

VJPS: dict = {}


def defvjp(name: str, rule: Callable) -> None:
    """Register ``rule(node, k, adjoint, n_extra)`` as the VJP of the operation ``name``."""
    VJPS[known_operation(name, "defvjp")] = rule


def operation_vjps(node, adjoint, n_extra: int, depends: set) -> list:
    """``(operand, adjoint of operand)`` pairs for one operation node."""
    rule = VJPS[node.name]
    pairs = []
    for k, op in enumerate(node.operands):
        if id(op) in depends:
            contribution = rule(node, k, adjoint, n_extra)
            if contribution is not None:
                pairs.append((op, contribution))
    return pairs


def identity_seed(f: Expr) -> Expr:
    """``δ`` over each axis of ``f``: shape ``f.shape + f.shape``."""
    n = f.ndim
    sizes = {**dict(enumerate(f.shape)), **{n + a: d for a, d in enumerate(f.shape)}}
    return Contraction([Delta(d) for d in f.shape], [(a, n + a) for a in range(n)], range(2 * n),
                       sizes)


def operation_local_jacobians(node, depends: set) -> list:
    """``(operand, ∂node/∂operand)`` for the naive method: the VJP rule seeded with δ."""
    return operation_vjps(node, identity_seed(node), node.ndim, depends)


# the rewrites (below simplify) rebuild contractions with simplify's contraction rule


# ---------------------------------------------------------------------------
# Building the rules: einsums over labelled axes ("*" the adjoint's extra axes, "~" a batch)


def _ein(spec: str, operands, n_extra: int = 0, n_batch: int = 0, coefficient: float = 1.0):
    """``einsum(spec)`` as a contraction; ``*`` expands to the ``n_extra`` leading axes of an
    adjoint and ``~`` to ``n_batch`` batch axes, so one rule serves every case."""
    def expand(term):
        labels = []
        for ch in term:
            if ch == "*":
                labels += [("extra", a) for a in range(n_extra)]
            elif ch == "~":
                labels += [("batch", a) for a in range(n_batch)]
            else:
                labels.append(ch)
        return tuple(labels)

    inputs, output = spec.split("->")
    indices = [expand(term) for term in inputs.split(",")]
    operands = list(operands)
    sizes: dict = {}
    for op, ix in zip(operands, indices):
        sizes.update(zip(ix, op.shape))
    if coefficient != 1.0:
        operands.append(Const(coefficient))
        indices.append(())
    return Contraction(operands, indices, expand(output), sizes)


def _transpose_last(x):
    """``x`` with its last two axes swapped (a batch of transposes)."""
    n = x.ndim
    return transpose(x, tuple(range(n - 2)) + (n - 1, n - 2))


def _entrywise(adjoint, weight, node, n_extra):
    """``adjoint ⊙ weight`` (``weight`` of ``node``'s shape, broadcast over the extra axes)."""
    axes = tuple(range(n_extra, n_extra + node.ndim))
    extra = tuple(range(n_extra))
    return Contraction([adjoint, weight], [extra + axes, axes], extra + axes,
                       dict(zip(extra + axes, adjoint.shape)))


# ---------------------------------------------------------------------------
# inv, det, cofactor, logdet, solve


def _inv_vjp(node, k, adjoint, n_extra):  # X̄ = −Yᵀ G Yᵀ with Y = X⁻¹
    return _ein("*~ab,~ac,~db->*~cd", [adjoint, node, node], n_extra, node.ndim - 2, -1.0)


def _det_vjp(node, k, adjoint, n_extra):  # X̄ = g cof(X), which is g det(X) X⁻ᵀ where X⁻¹ exists
    (x,) = node.operands
    return _ein("*~,~cd->*~cd", [adjoint, Operation("cofactor", [x])], n_extra, node.ndim)


def _cofactor_vjp(node, k, adjoint, n_extra):
    # d cof(X) = cof(X) tr(X⁻¹ dX) − X⁻ᵀ dXᵀ cof(X), so X̄ = ⟨G, C⟩ X⁻ᵀ − C Gᵀ X⁻ᵀ: through X⁻¹,
    # so a second derivative of det at a singular X is a SingularMatrixError (from inv)
    (x,) = node.operands
    inverse, n_batch = Operation("inv", [x]), node.ndim - 2
    return add(_ein("*~ab,~ab,~dc->*~cd", [adjoint, node, inverse], n_extra, n_batch),
               _ein("*~ba,~ca,~db->*~cd", [adjoint, node, inverse], n_extra, n_batch, -1.0))


def _logdet_vjp(node, k, adjoint, n_extra):  # X̄ = g X⁻ᵀ
    (x,) = node.operands
    return _ein("*~,~dc->*~cd", [adjoint, Operation("inv", [x])], n_extra, node.ndim)


def _solve_vjp(node, k, adjoint, n_extra):
    a, b = node.operands
    n_batch = a.ndim - 2
    vector = b.ndim == a.ndim - 1
    if n_extra == 0:  # b̄ = A⁻ᵀ x̄, itself a solve: no inverse is formed
        b_bar = Operation("solve", [_transpose_last(a), adjoint])
    else:  # a Jacobian's extra axes do not fit a solve's batch: contract with A⁻¹
        b_bar = _ein("*~a" + ("" if vector else "m") + ",~ac->*~c" + ("" if vector else "m"),
                     [adjoint, Operation("inv", [a])], n_extra, n_batch)
    if k == 1:
        return b_bar
    spec = "*~c,~d->*~cd" if vector else "*~cm,~dm->*~cd"  # Ā = −b̄ xᵀ
    return _ein(spec, [b_bar, node], n_extra, n_batch, -1.0)


defvjp("inv", _inv_vjp)
defvjp("det", _det_vjp)
defvjp("cofactor", _cofactor_vjp)
defvjp("logdet", _logdet_vjp)
defvjp("solve", _solve_vjp)


# ---------------------------------------------------------------------------
# Reductions: logsumexp, softmax, max, min, norm (param: the sorted tuple of reduced axes, or p)


def _labels(x, axes, n_extra):
    """Labels for ``x``'s axes, the kept ones, and the adjoint's extra axes."""
    full = tuple(("x", a) for a in range(x.ndim))
    kept = tuple(("x", a) for a in range(x.ndim) if a not in axes)
    extra = tuple(("extra", a) for a in range(n_extra))
    return full, kept, extra


def _spread(adjoint, weights, x, axes, n_extra):
    """``adjoint`` (over the kept axes) broadcast back over ``x``'s axes, times ``weights``."""
    full, kept, extra = _labels(x, axes, n_extra)
    sizes = {**dict(zip(extra + kept, adjoint.shape)), **dict(zip(full, x.shape))}
    return Contraction([adjoint, weights], [extra + kept, full], extra + full, sizes)


def _logsumexp_vjp(node, k, adjoint, n_extra):
    (x,) = node.operands
    return _spread(adjoint, Operation("softmax", [x], node.param), x, node.param, n_extra)


def _softmax_vjp(node, k, adjoint, n_extra):  # s ⊙ (g − Σ_axes g s)
    (x,) = node.operands
    full, kept, extra = _labels(x, node.param, n_extra)
    sizes = {**dict(zip(extra + full, adjoint.shape)), **dict(zip(full, x.shape))}
    inner = Contraction([adjoint, node], [extra + full, full], extra + kept, sizes)
    back = Contraction([inner], [extra + kept], extra + full, sizes)
    centred = add(adjoint, scale(-1.0, back))
    return Contraction([node, centred], [full, extra + full], extra + full, sizes)


def _extreme_vjp(kind):
    def vjp(node, k, adjoint, n_extra):
        (x,) = node.operands
        weights = Operation(f"{kind}_weights", [x], node.param)
        return _spread(adjoint, weights, x, node.param, n_extra)
    return vjp


def _norm_vjp(node, k, adjoint, n_extra):
    (x,) = node.operands
    return _spread(adjoint, Operation("norm_grad", [x], node.param), x, tuple(range(x.ndim)), n_extra)


def _norm_grad_vjp(node, k, adjoint, n_extra):
    # ∂u_i/∂x_j = (p−1) (‖x‖^(1−p) |x_i|^(p−2) δ_ij − u_i u_j / ‖x‖), not finite at x = 0 (and,
    # for p < 2, at a zero entry): the norm has no second derivative there
    (x,) = node.operands
    p = node.param
    n = Operation("norm", [x], p)
    full, _, extra = _labels(x, (), n_extra)
    sizes = {**dict(zip(extra + full, adjoint.shape)), **dict(zip(full, x.shape))}
    if p == 2.0:
        diagonal = Contraction([adjoint, apply_function("pow", n, -1.0)], [extra + full, ()],
                               extra + full, sizes)
    else:
        weight = apply_function("pow", n, 1.0 - p) * apply_function("pow", apply_function("abs", x),
                                                                     p - 2.0)
        diagonal = Contraction([adjoint, weight], [extra + full, full], extra + full, sizes)
    along = Contraction([adjoint, node], [extra + full, full], extra, sizes)  # ⟨G, u⟩
    outer = Contraction([along, node, apply_function("pow", n, -1.0)], [extra, full, ()],
                        extra + full, sizes)
    return scale(p - 1.0, add(diagonal, scale(-1.0, outer)))


defvjp("logsumexp", _logsumexp_vjp)
defvjp("softmax", _softmax_vjp)
for _kind in ("max", "min"):
    defvjp(_kind, _extreme_vjp(_kind))
    defvjp(f"{_kind}_weights", lambda node, k, adjoint, n_extra: None)  # piecewise constant
defvjp("norm", _norm_vjp)
defvjp("norm_grad", _norm_grad_vjp)


# ---------------------------------------------------------------------------
# maximum, minimum, power, arctan2, hypot, logaddexp(2), mod, fmod (entrywise, two operands of
# one shape)


def _pairwise_vjp(kind):
    def vjp(node, k, adjoint, n_extra):
        a, b = node.operands
        sign = apply_function("sign", a - b)  # sign(0) = 0: a tie splits the adjoint equally
        first = (kind == "maximum") == (k == 0)
        weight = 0.5 + 0.5 * sign if first else 0.5 - 0.5 * sign
        return _entrywise(adjoint, weight, node, n_extra)
    return vjp


def _power_vjp(node, k, adjoint, n_extra):
    # P_k(x, y) = x^y (log x)^k: ∂P_k/∂y = P_{k+1}, ∂P_k/∂x = y P_k(x, y−1) + k P_{k−1}(x, y−1)
    x, y = node.operands
    order = node.param
    if k == 1:
        weight = Operation("power", [x, y], order + 1)
    else:
        weight = y * Operation("power", [x, y - 1.0], order)
        if order:
            weight = weight + order * Operation("power", [x, y - 1.0], order - 1)
    return _entrywise(adjoint, weight, node, n_extra)


def _arctan2_vjp(node, k, adjoint, n_extra):  # ∂/∂y = x/(x² + y²), ∂/∂x = −y/(x² + y²)
    y, x = node.operands
    inverse = apply_function("pow", x * x + y * y, -1.0)  # NaN at (0, 0), as jax
    return _entrywise(adjoint, x * inverse if k == 0 else -y * inverse, node, n_extra)


def _hypot_vjp(node, k, adjoint, n_extra):  # ∂hypot/∂x = x/hypot (0 at the origin)
    return _entrywise(adjoint, Operation("hypot_unit", node.operands, k), node, n_extra)


def _hypot_unit_vjp(node, k, adjoint, n_extra):
    # u_j = x_j/r: ∂u_j/∂x_k = (δ_jk − u_j u_k)/r (not finite at the origin, as ‖x‖'s Hessian)
    units = [Operation("hypot_unit", node.operands, j) for j in (0, 1)]
    cross = units[node.param] * units[k]
    weight = (1.0 - cross if k == node.param else -cross) \
        * apply_function("pow", Operation("hypot", node.operands), -1.0)
    return _entrywise(adjoint, weight, node, n_extra)


def _logaddexp_vjp(scale_):  # ∂/∂a = σ((a − b) s), s = 1 (base e) or log 2 (base 2)
    def vjp(node, k, adjoint, n_extra):
        a, b = node.operands if k == 0 else reversed(node.operands)
        return _entrywise(adjoint, apply_function("sigmoid", (a - b) * scale_ if scale_ != 1.0
                                                  else a - b), node, n_extra)
    return vjp


def _remainder_vjp(quotient):  # x − y q(x/y): ∂/∂x = 1, ∂/∂y = −q(x/y) (q piecewise constant)
    def vjp(node, k, adjoint, n_extra):
        if k == 0:
            return adjoint
        x, y = node.operands
        ratio = x * apply_function("pow", y, -1.0)
        return _entrywise(adjoint, -apply_function(quotient, ratio), node, n_extra)
    return vjp


defvjp("maximum", _pairwise_vjp("maximum"))
defvjp("minimum", _pairwise_vjp("minimum"))
defvjp("power", _power_vjp)
defvjp("arctan2", _arctan2_vjp)
defvjp("hypot", _hypot_vjp)
defvjp("hypot_unit", _hypot_unit_vjp)
defvjp("logaddexp", _logaddexp_vjp(1.0))
defvjp("logaddexp2", _logaddexp_vjp(float(np.log(2.0))))
defvjp("mod", _remainder_vjp("floor"))
defvjp("fmod", _remainder_vjp("trunc"))


# ---------------------------------------------------------------------------
# compare (a 0/1 mask: piecewise constant) and select (where with a computed condition)


def _zero_adjoint(node, k, adjoint, n_extra):
    return zeros(adjoint.shape[:n_extra] + tuple(node.operands[k].shape))


def _select_vjp(node, k, adjoint, n_extra):
    """The adjoint to the selected operand where it is selected, exactly 0 elsewhere (a select,
    not a product with the mask: 0 even where the adjoint is not finite); the mask gets 0."""
    if k == 0:
        return _zero_adjoint(node, k, adjoint, n_extra)
    mask = broadcast_to(node.operands[0], adjoint.shape, "select")
    zero = zeros(adjoint.shape)
    return Operation("select", [mask, adjoint, zero] if k == 1 else [mask, zero, adjoint])


defvjp("compare", _zero_adjoint)
defvjp("select", _select_vjp)


# ---------------------------------------------------------------------------
# Layout: reshape, vec, kron


def _reshape_vjp(node, k, adjoint, n_extra):  # the adjoint, reshaped back
    (x,) = node.operands
    target = adjoint.shape[:n_extra] + x.shape
    return adjoint if adjoint.shape == target else Operation("reshape", [adjoint], target)


def _vec_vjp(node, k, adjoint, n_extra):  # unstack column-major: reshape to reversed axes, flip
    (x,) = node.operands
    extra = adjoint.shape[:n_extra]
    flipped = Operation("reshape", [adjoint], extra + tuple(reversed(x.shape)))
    order = tuple(range(n_extra)) + tuple(reversed(range(n_extra, n_extra + x.ndim)))
    return transpose(flipped, order)


def _kron_vjp(node, k, adjoint, n_extra):
    # A ⊗ B is the contraction A_ij B_kl → (i, k, j, l) reshaped to (m·p, n·q); its adjoint is the
    # adjoint G reshaped back to (m, p, n, q) and contracted with the other operand
    a, b = node.operands
    extra = adjoint.shape[:n_extra]
    split = extra + tuple(d for pair in zip(a.shape, b.shape) for d in pair)
    g = Operation("reshape", [adjoint], split)
    if a.ndim == 1:
        spec = "*ik,k->*i" if k == 0 else "*ik,i->*k"
    else:
        spec = "*ikjl,kl->*ij" if k == 0 else "*ikjl,ij->*kl"
    return _ein(spec, [g, node.operands[1 - k]], n_extra)


defvjp("reshape", _reshape_vjp)
defvjp("vec", _vec_vjp)
defvjp("kron", _kron_vjp)
