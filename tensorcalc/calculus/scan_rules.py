"""Vector-Jacobian products of the product, scan and sorting rows (registered into
:data:`~tensorcalc.calculus.operation_rules.VJPS` with ``defvjp``), exact at zeros and ties:

* ``prod``: the adjoint spread over the reduced axes times the product of the *other* entries
  (``prod_others``, one axis at a time), never ``prod / x``;
* ``prod_others``: ``prod_others_jvp(x, G)``, Σ_{i≠j} G_i Π_{k≠i,j} x_k: the Hessian of a product
  is symmetric, so one row is the VJP of the gradient and, in ``G``, its own transpose; the
  derivative of ``prod_others_jvp`` in ``x`` (a third derivative of ``prod``) is refused;
* ``cumsum``: the cumulative sum in the other direction;
* ``cumprod``: ``cumprod_vjp(x, G)``; its own derivatives are refused by name;
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

from ..errors import DifferentiationError
from ..expression import scans
from ..expression.nodes import Operation
from .operation_rules import _spread, defvjp


def _prod_vjp(node, k, adjoint, n_extra):
    (x,) = node.operands
    return _spread(adjoint, scans.prod_others(x, node.param), x, node.param, n_extra)


def _prod_others_vjp(node, k, adjoint, n_extra):
    return Operation("prod_others_jvp", [node.operands[0], adjoint], node.param)


def _prod_others_jvp_vjp(node, k, adjoint, n_extra):
    if k == 1:  # linear in t, and symmetric: its transpose is itself
        return Operation("prod_others_jvp", [node.operands[0], adjoint], node.param)
    raise DifferentiationError("prod: the third derivative (the derivative of prod_others_jvp(x, t) "
                               "in x) is not available; first and second derivatives are")


def _cumsum_vjp(node, k, adjoint, n_extra):
    axis, reverse = node.param
    return Operation("cumsum", [adjoint], (axis, not reverse))


def _cumprod_vjp(node, k, adjoint, n_extra):
    return Operation("cumprod_vjp", [node.operands[0], adjoint], node.param)


def _cumprod_vjp_vjp(node, k, adjoint, n_extra):
    raise DifferentiationError("cumprod: second derivatives (and tc.jvp, which transposes the "
                               "gradient) are not available; the first derivative is, exact at "
                               "zeros; for a product use tc.prod, whose second derivative exists")


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
defvjp("sort", _sort_vjp)
defvjp("partition", _sort_vjp)
for _kind in ("sort", "partition"):
    defvjp(f"{_kind}_gather", _moved_by(f"{_kind}_scatter"))
    defvjp(f"{_kind}_scatter", _moved_by(f"{_kind}_gather"))
