"""numpy's unary elementwise names that are exact compositions of rows (no row of their own, so
they print, simplify and differentiate as those rows): ``square`` is ``x²`` (``x^⊙2`` for a
matrix), ``reciprocal`` is ``x⁻¹`` (``x^⊙-1``), ``deg2rad`` and ``rad2deg`` are scalings by
π/180 and 180/π (numpy's own products, bit for bit); ``absolute`` and ``fabs`` are the row
``abs`` (:mod:`tensorcalc`).

>>> import numpy as np, tensorcalc as tc
>>> x = tc.var("x", (2,))
>>> print(tc.square(x), "|", tc.reciprocal(x), "|", tc.deg2rad(x))
x_i² | x_i⁻¹ | 0.0174533 x_i
>>> bool(np.array_equal(tc.evaluate(tc.deg2rad(x), x=np.array([90.0, 1.0])), np.deg2rad([90.0, 1.0])))
True
"""

from __future__ import annotations

import numpy as np

from .construct import apply_function, as_expr, scale


def square(x):
    """numpy's ``square``: the row ``pow`` with exponent 2."""
    return apply_function("pow", x, 2.0)


def reciprocal(x):
    """numpy's ``reciprocal``: the row ``pow`` with exponent −1 (±∞ at 0)."""
    return apply_function("pow", x, -1.0)


def deg2rad(x):
    """numpy's ``deg2rad``: ``x · (π/180)``."""
    return scale(np.pi / 180.0, as_expr(x))


def rad2deg(x):
    """numpy's ``rad2deg``: ``x · (180/π)``."""
    return scale(180.0 / np.pi, as_expr(x))
