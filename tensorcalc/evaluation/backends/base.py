"""What a backend supplies: an array namespace for generated code, and how arrays go in and out.

>>> import numpy as np
>>> from tensorcalc.evaluation.backends.base import Namespace, place_diagonal
>>> xp = Namespace(np)
>>> xp.place_diagonal(np.array([1.0, 2.0]), "ii", "i", (2, 2))
array([[1., 0.],
       [0., 2.]])

The plan is lowered once per backend by :func:`tensorcalc.evaluation.statements.generate`
with ``functional=True``: straight-line code that calls, on the name ``np``,

* contractions: ``einsum``, ``tensordot(x, y, axes=...)``, ``trace`` and the
  ``@`` operator; ``transpose(x, axes)``, ``sum(x, axis=...)``,
  ``broadcast_to``, indexing with ``None``;
* elementwise functions: the numpy names in :data:`tensorcalc.evaluation.source_forms.SOURCES`
  (``exp``, ``log``, ``tanh``, ``minimum``, ``maximum``, ``log1p``,
  ``heaviside``, ...) and the arithmetic operators;
* array makers: ``full``, ``zeros``, ``eye``, ``result_type`` and ``float64``
  (the working dtype is that of the inputs);
* ``place_diagonal(value, roots, unique, shape)``: ``value`` (axes ``unique``)
  written onto the diagonal that the repeated letters of ``roots`` describe,
  zeros elsewhere, without writing in place;
* ``transpose_for_entrywise(x)``: the transpose of the matrix ``x`` where only
  sums and elementwise functions read it (``transpose(x, (1, 0))`` unless the
  backend knows a layout that reads faster; jax tiles it).

A :class:`Namespace` wraps an array module and supplies or overrides the names
that module lacks or spells differently.  A :class:`Backend` adds how inputs
are accepted (:meth:`Backend.to_array`), their dtype as numpy's (for the
argument checks), constants, how the generated function is run
(:meth:`Backend.wrap`: ``jax.jit`` for jax) and how outputs are handed back.
"""

from __future__ import annotations

import math

import numpy as np

from ..common import _as_array


def _numpy_erf(x):
    """erf entrywise with numpy (``math.erf`` vectorized), in the argument's dtype."""
    x = np.asarray(x)
    return np.vectorize(math.erf, otypes=[np.result_type(x, 0.0)])(x)[()]


class Namespace:
    """An array module for generated code: ``module``'s names, ``overrides`` first.

    >>> import numpy as np
    >>> Namespace(np, tanh=lambda x: "mine").tanh(1.0), float(Namespace(np).exp(0.0))
    ('mine', 1.0)
    """

    def __init__(self, module, **overrides):
        self._module = module
        self.__dict__.update(overrides)
        if "place_diagonal" not in overrides:
            self.place_diagonal = lambda value, roots, unique, shape: \
                place_diagonal(self, value, roots, unique, shape)
        if "transpose_for_entrywise" not in overrides:
            self.transpose_for_entrywise = lambda x: self.transpose(x, (1, 0))
        if "erf" not in overrides and not hasattr(module, "erf"):  # numpy has none
            self.erf = _numpy_erf

    def __getattr__(self, name):
        return getattr(self._module, name)

    def __repr__(self):
        return f"Namespace({getattr(self._module, '__name__', self._module)!r})"


def place_diagonal(xp, value, roots: str, unique: str, shape: tuple):
    """``value`` (axes ``unique``, size 1 or missing leading axes broadcasting) laid out with
    axes ``roots``: zeros off the diagonals that ``roots``'s repeated letters describe.

    Functional (no in-place write), so jax can trace it and dask can chunk it: the value
    is expanded with new axes for each repeat, then selected with ``where`` by a mask of
    ``arange(n)[:, None] == arange(n)[None, :]`` comparisons (exact zeros, even where the
    value is not finite).

    >>> import numpy as np
    >>> place_diagonal(np, np.array([[1.0, 2.0]]), "iij", "ij", (2, 2, 2))[:, :, 1]
    array([[2., 0.],
           [0., 2.]])
    """
    while value.ndim < len(unique):
        value = value[None]
    if value.ndim:
        value = value[tuple(slice(None) if roots.index(c) == position else None
                            for position, c in enumerate(roots))]
    mask = None
    for position, letter in enumerate(roots):
        first = roots.index(letter)
        if first == position:
            continue
        counter = xp.arange(shape[position])
        left = counter[tuple(slice(None) if p == first else None for p in range(len(roots)))]
        right = counter[tuple(slice(None) if p == position else None for p in range(len(roots)))]
        pair = left == right
        mask = pair if mask is None else mask & pair
    return xp.broadcast_to(xp.where(mask, value, 0), shape)


class Backend:
    """One backend: its namespace and how arrays enter and leave.  Subclasses override
    what differs; the defaults suit an immutable array library with numpy dtypes."""

    name = "?"
    extra = None  # the pip extra that installs it: pip install "tensorcalc[<extra>]"
    free_transposes = False  # True: transposes are views, so products are @ and tensordot
    array_type: tuple = ()  # the library's own array types, accepted as they are

    def __init__(self):
        self.namespace = self.make_namespace()

    def make_namespace(self) -> Namespace:  # pragma: no cover - every backend has its own
        raise NotImplementedError

    def to_array(self, name: str, value):
        """An input in the backend's array type (integers become float64)."""
        if isinstance(value, self.array_type):
            if np.dtype(self.dtype_of(value)).kind in "biu":
                return self.astype(value, np.float64)
            return value
        return self.from_numpy(_as_array(name, value))

    def from_numpy(self, array: np.ndarray):
        return self.namespace.asarray(array)

    def astype(self, array, dtype):
        return array.astype(dtype)

    def dtype_of(self, array) -> np.dtype:
        """The array's dtype as numpy's (for the argument checks and the dtype rules)."""
        return np.dtype(array.dtype)

    def constant(self, value: np.ndarray):
        """A constant of the expression (an array of one or more axes) as the backend's."""
        return self.from_numpy(value)

    def wrap(self, function):
        """How the generated straight-line function is run (``jax.jit`` for jax)."""
        return function

    def finish(self, outputs, inputs: dict):
        """The outputs as handed to the caller (a tuple of them, or one)."""
        return outputs
