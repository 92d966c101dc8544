"""Vector-Jacobian products of the product, scan and sorting rows (registered into
:data:`~tensorcalc.calculus.operation_rules.VJPS` with ``defvjp``), exact at zeros and ties:

* ``prod``: the adjoint spread over the reduced axes times the product of the *other* entries
  (``prod_others``, one axis at a time), never ``prod / x``;
* ``prod_others``: ``prod_others_jvp(x, G)``, Σ_{i≠j} G_i Π_{k≠i,j} x_k: the Hessian of a product
  is symmetric, so one row is the VJP of the gradient and, in ``G``, its own transpose; its
  derivative in ``x`` (a third derivative of ``prod``) is written with cumprod, scan and shift;
* ``cumsum``: the cumulative sum in the other direction;
* ``cumprod``: ``cumprod_vjp(x, G)``, whose own derivatives are written with ``scan`` (a linear
  recurrence; its transpose is the scan the other way) and ``shift``, closed under
  differentiation, so every order is exact at zeros;
* ``sort``/``partition``: the adjoint scattered back by the evaluated permutation
  (``sort_scatter``); gathering and scattering by it are each other's transposes, and both are
  constant in ``x`` (piecewise: the permutation only changes at ties).

>>> import numpy as np, tensorcalc as tc
>>> x = tc.var("x", (3,))
>>> tc.evaluate(tc.hessian(tc.prod(x), x), x=np.array([2.0, 0.0, 5.0]))
array([[0., 5., 0.],
       [5., 0., 2.],
       [0., 2., 0.]])
"""

from __future__ import annotations

from ..expression import scans
from ..expression.construct import add
from ..expression.nodes import Contraction, Operation
from .operation_rules import _spread, defvjp


def _prod_vjp(node, k, adjoint, n_extra):
    (x,) = node.operands
    return _spread(adjoint, scans.prod_others(x, node.param), x, node.param, n_extra)


def _prod_others_vjp(node, k, adjoint, n_extra):
    return Operation("prod_others_jvp", [node.operands[0], adjoint], node.param)


def _prod_others_jvp_vjp(node, k, adjoint, n_extra):
    x, t = node.operands
    if k == 1:  # linear in t, and symmetric: its transpose is itself
        return Operation("prod_others_jvp", [x, adjoint], node.param)
    return _prod_others_jvp_in_x(x, t, node.param, adjoint, n_extra)


def _cumsum_vjp(node, k, adjoint, n_extra):
    axis, reverse = node.param
    return Operation("cumsum", [adjoint], (axis, not reverse))


def _cumprod_vjp(node, k, adjoint, n_extra):
    return Operation("cumprod_vjp", [node.operands[0], adjoint], node.param)


# cumprod's higher derivatives, with d the direction (reverse or not) and, for x of axes A under
# leading axes X1 in G and E2 in an adjoint (labels below),
#   cumprod_vjp(x, G) = E ⊙ S,  E = shift(cumprod(x), d, fill 1),  S = scan(shift(x, −d), G, −d)


def _shift(x, reverse, axis, fill=0.0):
    return Operation("shift", [x], (axis, reverse, fill))


def _product(a, b, a_labels, b_labels, out):
    """``a ⊙ b`` over their shared labels, summed over what ``out`` leaves out."""
    sizes = {**dict(zip(a_labels, a.shape)), **dict(zip(b_labels, b.shape))}
    return Contraction([a, b], [a_labels, b_labels], out, sizes)


def _axes_labels(n_extra, n_lead, n_axes):
    extra = tuple(("e", a) for a in range(n_extra))
    lead = tuple(("l", a) for a in range(n_lead))
    return extra, lead, tuple(("x", a) for a in range(n_axes))


def _cumprod_vjp_vjp(node, k, adjoint, n_extra):
    x, g = node.operands
    axis, reverse = node.param
    e2, x1, a = _axes_labels(n_extra, g.ndim - x.ndim, x.ndim)
    before = _shift(Operation("cumprod", [x], node.param), reverse, axis, 1.0)  # E
    weighted = _product(before, adjoint, a, e2 + x1 + a, e2 + x1 + a)  # E ⊙ Ḡ
    if k == 1:  # linear in G: the transpose of the scan from the end is the scan from the start
        return Operation("scan", [x, weighted], node.param)
    tail = Operation("scan", [_shift(x, not reverse, axis), g], (axis, not reverse))  # S
    through_before = Operation("cumprod_vjp", [x, _shift(
        _product(adjoint, tail, e2 + x1 + a, x1 + a, e2 + a), not reverse, axis)], node.param)
    back = Operation("scan", [x, weighted], node.param)  # the scan's transpose, applied to E ⊙ Ḡ
    links = _product(back, _shift(tail, not reverse, axis), e2 + x1 + a, x1 + a, e2 + a)
    return add(through_before, _shift(links, reverse, axis))


def _prod_others_jvp_in_x(x, t, axis, adjoint, n_extra):
    """The VJP in ``x`` of prod_others_jvp(x, t) = P ⊙ R + E ⊙ Q (a third derivative of prod),
    with E = Π_{k<j} x_k and R = Π_{k>j} x_k (shifted cumulative products), P = shift(scan(x,
    t ⊙ E)) and Q = shift(scan(x, t ⊙ R, reverse)) the sums Σ_{i<j} and Σ_{i>j} of
    t_i Π_{k≠i} over the same side: each piece's adjoint by its own rule, written out."""
    e2, x1, a = _axes_labels(n_extra, t.ndim - x.ndim, x.ndim)
    before = _shift(Operation("cumprod", [x], (axis, False)), False, axis, 1.0)  # E
    after = _shift(Operation("cumprod", [x], (axis, True)), True, axis, 1.0)  # R
    lower = _shift(Operation("scan", [x, _product(t, before, x1 + a, a, x1 + a)], (axis, False)),
                   False, axis)  # P
    upper = _shift(Operation("scan", [x, _product(t, after, x1 + a, a, x1 + a)], (axis, True)),
                   True, axis)  # Q
    # through P (and Q): the shift's and the scan's adjoints; λ is the scan's transpose applied
    from_lower = Operation("scan", [_shift(x, True, axis), _shift(
        _product(adjoint, after, e2 + x1 + a, a, e2 + x1 + a), True, axis)], (axis, True))
    from_upper = Operation("scan", [_shift(x, False, axis), _shift(
        _product(adjoint, before, e2 + x1 + a, a, e2 + x1 + a), False, axis)], (axis, False))
    links = add(_product(from_lower, lower, e2 + x1 + a, x1 + a, e2 + a),
                _product(from_upper, upper, e2 + x1 + a, x1 + a, e2 + a))
    # E and R: directly (Ē = Σ Ḡ ⊙ Q, R̄ = Σ Ḡ ⊙ P) and through the scans' b = t ⊙ E, t ⊙ R
    before_bar = add(_product(adjoint, upper, e2 + x1 + a, x1 + a, e2 + a),
                     _product(from_lower, t, e2 + x1 + a, x1 + a, e2 + a))
    after_bar = add(_product(adjoint, lower, e2 + x1 + a, x1 + a, e2 + a),
                    _product(from_upper, t, e2 + x1 + a, x1 + a, e2 + a))
    return add(links, add(
        Operation("cumprod_vjp", [x, _shift(before_bar, True, axis)], (axis, False)),
        Operation("cumprod_vjp", [x, _shift(after_bar, False, axis)], (axis, True))))


def _scan_vjp(node, k, adjoint, n_extra):
    # h = scan(a, b, d): b̄ = λ = scan(shift(a, −d), Ḡ, −d); ā = Σ λ ⊙ shift(h, d)
    a, b = node.operands
    axis, reverse = node.param
    back = Operation("scan", [_shift(a, not reverse, axis), adjoint], (axis, not reverse))
    if k == 1:
        return back
    e2, x1, labels = _axes_labels(n_extra, b.ndim - a.ndim, a.ndim)
    return _product(back, _shift(node, reverse, axis), e2 + x1 + labels, x1 + labels, e2 + labels)


def _shift_vjp(node, k, adjoint, n_extra):
    axis, reverse, _ = node.param
    return _shift(adjoint, not reverse, axis)


def _sort_vjp(node, k, adjoint, n_extra):
    return Operation(f"{node.name}_scatter", [node.operands[0], adjoint], node.param)


def _moved_by(name):
    def vjp(node, k, adjoint, n_extra):
        if k == 0:  # the permutation is constant between ties
            return None
        return Operation(name, [node.operands[0], adjoint], node.param)
    return vjp


defvjp("prod", _prod_vjp)
defvjp("prod_others", _prod_others_vjp)
defvjp("prod_others_jvp", _prod_others_jvp_vjp)
defvjp("cumsum", _cumsum_vjp)
defvjp("cumprod", _cumprod_vjp)
defvjp("cumprod_vjp", _cumprod_vjp_vjp)
defvjp("scan", _scan_vjp)
defvjp("shift", _shift_vjp)
defvjp("sort", _sort_vjp)
defvjp("partition", _sort_vjp)
for _kind in ("sort", "partition"):
    defvjp(f"{_kind}_gather", _moved_by(f"{_kind}_scatter"))
    defvjp(f"{_kind}_scatter", _moved_by(f"{_kind}_gather"))
