"""Reading expressions from text: ``tc.parse("x'*A*x")``.

>>> import numpy as np, tensorcalc as tc
>>> f = tc.parse("x'*A*x")
>>> {name: v.shape for name, v in tc.variables(f).items()}
{'A': ('n', 'n'), 'x': ('n',)}
>>> float(tc.evaluate(f, x=np.array([1.0, 2.0]), A=np.eye(2)))
5.0

Two dialects, each a pipeline of small pure steps:

* ``"matrix"`` (the default) reads the language of matrixcalculus.org: text →
  tokens → syntax tree (a Pratt parser) → types (kinds and dimension classes,
  unified across the whole text) → expression.  A name's first letter gives
  its kind as on that site (a–g scalar, h–z column vector, A–Z matrix), and
  ``x'`` is a row vector, so ``x'*A*x`` is a scalar and ``x*y'`` an outer
  product.  Free dimensions are named ``n, m, k, …`` in order of appearance.
* ``"numpy"`` reads a numpy expression through the standard library's ``ast``,
  walking a whitelist of node types; every variable's shape is given.

Neither dialect ever calls ``eval``, ``exec`` or ``compile``.  Every problem is
a :class:`~tensorcalc.errors.ParseError` that quotes the text with a caret under
the offending part.  The passes over trees are iterative and the parser bounds
its nesting depth, so no input raises ``RecursionError``.
"""

from __future__ import annotations

from ..errors import ParseError
from ..expression.collection import without_collector_pauses
from .builder import _parse_matrix
from .numpy_dialect import _parse_numpy


@without_collector_pauses
def parse(text: str, dialect: str = "matrix", **types):
    """An expression from text, in matrixcalculus.org's language or as numpy code.

    >>> import numpy as np, tensorcalc as tc
    >>> f = tc.parse("sum(exp(A*x))", A=(3, 4))
    >>> {name: v.shape for name, v in tc.variables(f).items()}
    {'A': (3, 4), 'x': (4,)}
    >>> g = tc.parse("np.sum(np.exp(A @ x))", dialect="numpy", A=(3, 4), x=(4,))
    >>> values = dict(A=np.ones((3, 4)), x=np.zeros(4))
    >>> float(tc.evaluate(f, values)), float(tc.evaluate(g, values))
    (3.0, 3.0)
    >>> try:
    ...     tc.parse("A*x+y", A=(3, 4), y=(4,))
    ... except tc.ParseError as error:
    ...     print(error)
    add '+': shapes differ: column vector 'A*x' of shape (3,) and column vector 'y' of shape (4,)
        A*x+y
           ^

    ``types`` overrides a name's kind (``"scalar"``, ``"vector"``, ``"row vector"``,
    ``"matrix"``, ``"symmetric matrix"``) or gives its shape (``X=("n", "d")``,
    ``A=(3, 3)``); the numpy dialect needs a shape for every name.
    """
    if not isinstance(text, str):
        raise ParseError(f"parse: expects a string, got {type(text).__name__}")
    if not text.strip():
        raise ParseError("empty input: expected an expression such as x'*A*x", text, 0)
    if dialect == "matrix":
        return _parse_matrix(text, types)
    if dialect == "numpy":
        return _parse_numpy(text, types)
    raise ParseError(f"parse: unknown dialect {dialect!r}; use 'matrix' or 'numpy'")
