"""numpy-like operators shared by every expression (and by wrappers such as ``Derivative``).

The methods import their implementations late: the node module must not
depend on the construction module, which depends on it.
"""

from __future__ import annotations


def _c():
    from . import construct

    return construct


class Algebra:
    """``+ - * / ** @``, unary ``-``, ``.T``, ``.sum()``, ``.evaluate()``, ``str`` and ``repr``."""

    __slots__ = ()
    __array_ufunc__ = None  # numpy arrays on the left defer to our reflected operators

    def __add__(self, other):
        return _c().add(self, other)

    def __radd__(self, other):
        return _c().add(other, self)

    def __sub__(self, other):
        c = _c()
        return c.add(self, c.scale(-1.0, other))

    def __rsub__(self, other):
        c = _c()
        return c.add(other, c.scale(-1.0, self))

    def __mul__(self, other):
        return _c().product("multiply", self, other)

    def __rmul__(self, other):
        return _c().product("multiply", other, self)

    def __truediv__(self, other):
        c = _c()
        return c.product("divide", self, c.power(other, -1.0))

    def __rtruediv__(self, other):
        c = _c()
        return c.product("divide", other, c.power(self, -1.0))

    def __pow__(self, exponent):
        return _c().power(self, exponent)

    def __rpow__(self, base):
        return _c().power(base, self)

    def __neg__(self):
        return _c().scale(-1.0, self)

    def __pos__(self):
        return _c().as_expr(self)

    def __matmul__(self, other):
        return _c().matmul(self, other)

    def __rmatmul__(self, other):
        return _c().matmul(other, self)

    @property
    def T(self):
        """The transpose: axes reversed, as numpy's ``.T``."""
        return _c().transpose(self)

    def sum(self, axis=None, keepdims=False):
        return _c().sum(self, axis, keepdims)

    def evaluate(self, values=None, /, **kwargs):
        """Evaluate with numpy: ``expr.evaluate(W=..., a=...)``; see :func:`tensorcalc.evaluation.evaluate`."""
        from ..evaluation.evaluate import evaluate

        return evaluate(self, {**(values or {}), **kwargs})

    def __str__(self):
        from ..notation.printing import index_notation

        return index_notation(_c().as_expr(self))

    @property
    def matrix(self) -> str:
        """The value in matrix notation (``Aᵀx + Ax``); see :func:`tensorcalc.matrix_notation`."""
        from ..notation.printers import matrix_notation

        return matrix_notation(self)

    def _repr_latex_(self) -> str:
        """Jupyter's view: the matrix form and the index form, or ``∂f/∂x = …`` for a derivative."""
        from ..notation.printers import repr_latex

        return repr_latex(self)

    def __repr__(self):
        expr = _c().as_expr(self)
        return f"<{type(self).__name__} {self} shape={expr.shape}>"
