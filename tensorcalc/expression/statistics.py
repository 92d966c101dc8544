"""numpy's statistics as compositions of the engine's own nodes: ``variance`` (numpy's ``var``;
``tc.var`` makes a variable) and ``std`` with
``axis``, ``ddof`` and ``keepdims``, and ``keepdims`` for the reductions that are operations
(max, min, logsumexp).

>>> import numpy as np, tensorcalc as tc
>>> X = tc.var("X", (2, 3))
>>> data = np.array([[1.0, 2.0, 4.0], [0.0, 0.0, 3.0]])
>>> tc.evaluate(tc.variance(X, axis=1, ddof=1), X=data)
array([2.33333333, 3.        ])
>>> tc.evaluate(tc.max(X, axis=0, keepdims=True), X=data).shape
(1, 3)

At a constant slice the variance is 0 and its gradient 0; ``std`` = √var has gradient NaN
there (√ at 0, as JAX's ``jnp.std``).
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from .construct import _normalize_axes, apply_function, as_expr, dim_size, mean, power, product
from .construct import sum as total
from .nodes import Const, Contraction


def keep_axes(reduced, shape: tuple, axes) -> Contraction:
    """``reduced`` (``shape`` with ``axes`` summed away) with those axes back at size 1."""
    kept_labels = [a for a in range(len(shape)) if a not in axes]
    sizes = {a: shape[a] for a in kept_labels}
    output = []
    for a in range(len(shape)):
        if a in axes:
            sizes[("kept", a)] = 1
            output.append(("kept", a))
        else:
            output.append(a)
    return Contraction((reduced,), (tuple(kept_labels),), output, sizes)


def variance(x, axis=None, ddof=0, keepdims: bool = False):
    """The variance over ``axis``, ``Σ (x − mean)² / (N − ddof)``, as ``numpy.var``."""
    x = as_expr(x)
    axes = _normalize_axes("variance", x, axis)
    if isinstance(ddof, bool) or not isinstance(ddof, (int, float, np.integer, np.floating)):
        raise ShapeError(f"variance: ddof must be a number, got {ddof!r}")
    kept = [a for a in range(x.ndim) if a not in axes]
    spread = Contraction((mean(x, axis),), (tuple(kept),), tuple(range(x.ndim)),
                         dict(enumerate(x.shape)))  # the mean, broadcast back over the axes
    centred = x - spread
    squares = total(apply_function("pow", centred, 2.0), axis, keepdims)
    dims = [x.shape[a] for a in sorted(axes)]
    fixed = float(np.prod([d for d in dims if isinstance(d, int)]))
    named = [dim_size(d) for d in dims if not isinstance(d, int)]
    if not named:
        if fixed - ddof <= 0:
            raise ShapeError(f"variance: ddof={ddof} leaves no degrees of freedom for {int(fixed)} "
                             f"entries over axis={axis!r} of shape {x.shape}")
        return product("variance", squares, Const(1.0 / (fixed - ddof)))
    count = product("variance", Const(fixed), *named) if fixed != 1 else product("variance", *named)
    return product("variance", squares, power(count - float(ddof), -1.0))


def std(x, axis=None, ddof=0, keepdims: bool = False):
    """The standard deviation ``√var`` over ``axis``, as ``numpy.std``."""
    return apply_function("sqrt", variance(x, axis, ddof, keepdims))
