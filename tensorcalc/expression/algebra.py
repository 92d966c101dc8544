"""numpy-like operators shared by every expression (and by wrappers such as ``Derivative``).

This mixin is the package's one hook across its layers (see the README's "How it works inside"):

* the operators build nodes with :mod:`tensorcalc.expression.construct`, which imports the node
  module, which subclasses this mixin: :func:`construction` imports it late, the one import
  inside a function in the package;
* ``str``, ``.matrix``, ``_repr_latex_`` and ``.evaluate()`` belong to the notation and
  evaluation layers above, which this layer must not import: they register their functions
  into :data:`VIEWS` when they are imported (``import tensorcalc`` imports every layer).
"""

from __future__ import annotations

from ..errors import TensorCalcError

# name -> function, registered by the layers above: "index" (str), "derivative" (str of a
# Derivative), "take" (expr[key]), "matrix" (.matrix), "latex" (_repr_latex_), "evaluate" (.evaluate())
VIEWS: dict = {}


def register_view(name: str, function):
    """Register how expressions are shown or evaluated (called by the notation and evaluation
    layers at import)."""
    VIEWS[name] = function
    return function


def view(name: str):
    function = VIEWS.get(name)
    if function is None:  # pragma: no cover - only when a layer was not imported
        raise TensorCalcError(f"{name}: the layer that provides it is not loaded; import tensorcalc")
    return function


def construction():
    """The construction module (the operator hook; see the module docstring)."""
    from . import construct

    return construct


def _numpy_method(name: str):
    """A numpy array method (``x.reshape(2, 3)``, ``x.mean(axis=0)``) as the function the
    expression layer registered under its name (expression/numpy_names.py)."""

    def method(self, *args, **kwargs):
        return view(name)(self, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"numpy's ``ndarray.{name}``, as an expression."
    return method


class Algebra:
    """``+ - * / ** @``, unary ``-``, ``.T``, ``.sum()``, numpy's array methods (``.reshape``,
    ``.mean``, ``.max``, …), ``.evaluate()``, ``str`` and ``repr``."""

    __slots__ = ()
    __array_ufunc__ = None  # numpy arrays on the left defer to our reflected operators

    def __add__(self, other):
        return construction().add(self, other)

    def __radd__(self, other):
        return construction().add(other, self)

    def __sub__(self, other):
        c = construction()
        return c.add(self, c.scale(-1.0, other))

    def __rsub__(self, other):
        c = construction()
        return c.add(other, c.scale(-1.0, self))

    def __mul__(self, other):
        return construction().product("multiply", self, other)

    def __rmul__(self, other):
        return construction().product("multiply", other, self)

    def __truediv__(self, other):
        c = construction()
        return c.product("divide", self, c.power(other, -1.0))

    def __rtruediv__(self, other):
        c = construction()
        return c.product("divide", other, c.power(self, -1.0))

    def __pow__(self, exponent):
        return construction().power(self, exponent)

    def __rpow__(self, base):
        return construction().power(base, self)

    def __neg__(self):
        return construction().scale(-1.0, self)

    def __pos__(self):
        return construction().as_expr(self)

    def __matmul__(self, other):
        return construction().matmul(self, other)

    def __rmatmul__(self, other):
        return construction().matmul(other, self)

    def __getitem__(self, key):
        """numpy's indexing: ``x[1:3]``, ``X[:, ::-1]``, ``x[None]``, ``X[[0, 2]]``; see
        :func:`tensorcalc.take`."""
        return view("take")(self, key)  # registered by expression/indexing.py

    # comparisons build a 0/1 mask (the condition of tc.where); == and != stay Python's
    # structural equality of expressions
    def __lt__(self, other):
        return view("compare")(self, other, "<")

    def __le__(self, other):
        return view("compare")(self, other, "<=")

    def __gt__(self, other):
        return view("compare")(self, other, ">")

    def __ge__(self, other):
        return view("compare")(self, other, ">=")

    @property
    def T(self):
        """The transpose: axes reversed, as numpy's ``.T``."""
        return construction().transpose(self)

    def sum(self, axis=None, keepdims=False):
        return construction().sum(self, axis, keepdims)

    reshape, ravel, flatten, squeeze = (_numpy_method(n) for n in ("reshape", "ravel", "flatten", "squeeze"))
    transpose, swapaxes, repeat, clip = (_numpy_method(n) for n in ("transpose", "swapaxes", "repeat", "clip"))
    mean, max, min, var, std = (_numpy_method(n) for n in ("mean", "max", "min", "var", "std"))  # noqa: A003
    dot, trace, diagonal = (_numpy_method(n) for n in ("dot", "trace", "diagonal"))

    def evaluate(self, values=None, /, **kwargs):
        """Evaluate with numpy: ``expr.evaluate(W=..., a=...)``; see :func:`tensorcalc.evaluate`."""
        return view("evaluate")(self, {**(values or {}), **kwargs})

    def __str__(self):
        return view("index")(construction().as_expr(self))

    @property
    def matrix(self) -> str:
        """The value in matrix notation (``Aᵀx + Ax``); see :func:`tensorcalc.matrix_notation`."""
        return view("matrix")(self)

    def _repr_latex_(self) -> str:
        """Jupyter's view: the matrix form and the index form, or ``∂f/∂x = …`` for a derivative."""
        return view("latex")(self)

    def __repr__(self):
        expr = construction().as_expr(self)
        return f"<{type(self).__name__} {self} shape={expr.shape}>"
