"""The expression nodes: a handful of immutable, hash-consed types.

Every expression is one of

* :class:`Var` – a named input tensor,
* :class:`Const` – a numpy array (or a scalar),
* :class:`Delta` – the Kronecker delta ``δ_ij`` over one dimension,
* :class:`Contraction` – an einsum: a product of operands over labelled indices,
  summed over every index that is not in the output,
* :class:`Elementwise` – one row of the function table applied to every entry,
* :class:`Operation` – one row of the operation table (``inv``, ``det``, ``logsumexp``, …),
* :class:`Sum` – the sum of terms of one shape.

Nodes are *hash-consed*: constructing a node that is structurally equal to a
live one returns that same object.  Structural equality is therefore identity,
hashing is O(1), and a derivative that rebuilds ``tanh(W1 X)`` shares the very
node of the forward pass.  Nodes never change after construction.

Dimensions (``Dim``) are ints or names (``"n"``); names are bound to sizes at
evaluation.  All traversals here are iterative, so deep chains never hit
Python's recursion limit.
"""

from __future__ import annotations

import bisect
import hashlib
import threading
import weakref
from typing import Callable, Iterable, Sequence, Union

import numpy as np

from .algebra import Algebra
from .canonical import order_operands, term_key
from .functions import FUNCTIONS
from .operations import OPERATIONS, operation_shape
from ..errors import ShapeError

STRUCTURES = ("symmetric", "diagonal")  # what a matrix variable may declare (structured.py)

Dim = Union[int, str]
Shape = tuple  # tuple[Dim, ...]

_interned: "weakref.WeakValueDictionary[tuple, Expr]" = weakref.WeakValueDictionary()
_interning = threading.Lock()  # one node per key even when threads build the same expression
# Contraction arguments as given -> the node they built (a cache in front of the canonical key)
_built: "weakref.WeakValueDictionary[tuple, Expr]" = weakref.WeakValueDictionary()


def _intern(cls, key: tuple, init: Callable[["Expr"], None]) -> "Expr":
    with _interning:
        node = _interned.get(key)
        if node is None:
            node = object.__new__(cls)
            init(node)
            _interned[key] = node
        return node


def check_dim(dim, where: str) -> Dim:
    """Validate one dimension: a non-negative int or a non-empty name."""
    if isinstance(dim, (bool, np.bool_)):
        raise ShapeError(f"{where}: dimension {dim!r} is a bool, not a size or a name")
    if isinstance(dim, (int, np.integer)):
        if dim < 0:
            raise ShapeError(f"{where}: dimension {dim} is negative")
        return int(dim)
    if isinstance(dim, str) and dim.isidentifier():
        return dim
    raise ShapeError(f"{where}: dimension {dim!r} must be an int or a name such as 'n'")


class Expr(Algebra):
    """Base class of all expression nodes (see the module docstring).

    Operators (``+ - * / ** @``, ``.T``) come from :class:`~tensorcalc.expression.algebra.Algebra`.
    """

    __slots__ = ("shape", "children", "_term_key", "_factor_key", "__weakref__")  # keys: canonical
    shape: Shape
    children: tuple

    def __setattr__(self, name, value):  # immutable after construction
        raise AttributeError(f"{type(self).__name__} nodes are immutable")

    def _set(self, **fields) -> None:
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def __reduce__(self):
        # the whole DAG as one flat list, children before parents: pickling a 10,000-deep chain
        # must not recurse once per level, and rebuilding goes through the interning constructors
        return (_rebuild_dag, (_flatten_dag(self),))

    def __copy__(self):  # immutable: a copy is the node itself
        return self

    def __deepcopy__(self, memo):
        return self

    def _args(self) -> tuple:
        raise NotImplementedError

    def _signature_parts(self, children: tuple) -> tuple:
        """What the structural signature (canonical.py) digests: the arguments and the
        children's signatures."""
        return (self._args(), children)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def rebuild(self, children: Sequence["Expr"]) -> "Expr":
        """The same node over new children (used by every rewriting pass)."""
        raise NotImplementedError


def _flatten_dag(root: "Expr") -> list:
    """``[(type, args with children replaced by their positions)]`` in post-order."""
    order = postorder([root])
    position = {id(node): n for n, node in enumerate(order)}
    return [(type(node), node._args(), tuple(position[id(c)] for c in node.children))
            for node in order]


def _rebuild_dag(flat: list) -> "Expr":
    built: list = []
    for cls, args, children in flat:
        built.append(cls._from_parts(args, [built[n] for n in children]))
    return built[-1]


class Var(Expr):
    """A named input tensor; ``tc.var("W", (3, "n"))``."""

    __slots__ = ("name", "structure")

    def __new__(cls, name: str, shape: Shape, structure=None):
        if not isinstance(name, str) or not name.isidentifier():
            raise ShapeError(f"var: name {name!r} must be a Python identifier")
        shape = tuple(check_dim(d, f"var {name!r}") for d in shape)
        if structure is not None:  # "symmetric" or "diagonal" (see tensorcalc.expression.structured)
            _check_structure(name, shape, structure)
        return _intern(cls, ("var", name, shape, structure),
                       lambda n: n._set(name=name, shape=shape, structure=structure, children=()))

    def _args(self):
        return (self.name, self.shape, self.structure)

    @property
    def symmetric(self) -> bool:
        """Declared with ``symmetric=True`` (see :mod:`tensorcalc.expression.structured`)."""
        return self.structure == "symmetric"

    @classmethod
    def _from_parts(cls, args, children):
        return cls(*args)

    def rebuild(self, children):
        return self


class Const(Expr):
    """A constant array; scalars are 0-d arrays.  The array is copied and frozen.

    A 0-d constant is *weak*, like a Python number under numpy's NEP 50: it
    takes the dtype of the arrays it meets, so ``2 * x`` stays float32 for a
    float32 ``x``.  Constant arrays of one or more axes keep their own dtype.
    """

    __slots__ = ("value",)

    def __new__(cls, value):
        array = np.array(value, dtype=np.result_type(np.asarray(value).dtype, np.float64))
        if array.dtype.kind not in "fc":
            raise ShapeError(f"const: dtype {array.dtype} is not a real or complex number type")
        array.setflags(write=False)
        # the key holds a digest, not the bytes: a second copy of every constant would double
        # the memory its node keeps alive.  Equal digests are confirmed by comparing the bytes.
        digest = hashlib.blake2b(array.tobytes(), digest_size=16).digest()
        key = ("const", array.dtype.str, array.shape, digest)
        with _interning:
            node = _interned.get(key)
            if node is not None and node.value.tobytes() != array.tobytes():  # pragma: no cover
                key = key + (array.tobytes(),)  # a digest collision: fall back to the bytes
        return _intern(cls, key, lambda n: n._set(value=array, shape=array.shape, children=()))

    def _args(self):
        return (self.value,)

    def _signature_parts(self, children: tuple) -> tuple:
        value = self.value  # a digest of the bytes: the array itself would hash by identity
        return (value.dtype.str, value.shape, hashlib.blake2b(value.tobytes(), digest_size=8).hexdigest())

    @classmethod
    def _from_parts(cls, args, children):
        return cls(*args)

    def rebuild(self, children):
        return self

    @property
    def is_scalar(self) -> bool:
        return self.value.ndim == 0


class Delta(Expr):
    """The Kronecker delta ``δ_ij``: the identity matrix over one dimension."""

    __slots__ = ("dim",)

    def __new__(cls, dim: Dim):
        dim = check_dim(dim, "delta")
        return _intern(cls, ("delta", dim), lambda n: n._set(dim=dim, shape=(dim, dim), children=()))

    def _args(self):
        return (self.dim,)

    @classmethod
    def _from_parts(cls, args, children):
        return cls(*args)

    def rebuild(self, children):
        return self


class Contraction(Expr):
    """An einsum over integer index labels.

    ``Contraction(operands, indices, output, sizes)`` is
    ``out[output] = Σ_{labels not in output} Π_k operands[k][indices[k]]``
    where ``sizes[label]`` is the range of each label.  A label may repeat
    inside one operand (trace, diagonal); a label of the output that no operand
    carries broadcasts; a summed label that no operand carries multiplies by its
    size (so ``δ_ii`` simplifies to ``n``).  Labels are renumbered to
    ``0, 1, …`` in order of first appearance (output first), so contractions
    equal up to renaming of indices are the same node.
    """

    __slots__ = ("operands", "indices", "output", "sizes")

    def __new__(cls, operands, indices, output, sizes):
        operands = tuple(operands)
        indices = tuple(tuple(ix) for ix in indices)
        output = tuple(output)
        sizes = dict(sizes)
        # the same arguments again (simplification rebuilds the same products many times):
        # the node they built, without ordering and renumbering again
        raw = (operands, indices, output, tuple(sizes.items()))
        try:
            with _interning:
                node = _built.get(raw)
        except TypeError:  # an unhashable label: the checks below say what is wrong
            node, raw = None, None
        if node is not None:
            return node
        node = cls._build(operands, indices, output, sizes)
        if raw is not None:
            with _interning:
                _built[raw] = node
        return node

    @classmethod
    def _build(cls, operands, indices, output, sizes):
        if len(operands) != len(indices):
            raise ShapeError("contraction: one index tuple is needed per operand")
        if len(set(output)) != len(output):
            raise ShapeError(f"contraction: output indices {output} repeat an index")
        for op, ix in zip(operands, indices):
            if len(ix) != op.ndim:
                raise ShapeError(f"contraction: operand of shape {op.shape} given {len(ix)} indices")
            for label, dim in zip(ix, op.shape):
                known = sizes.setdefault(label, dim)
                if known != dim:
                    raise ShapeError(f"contraction: index {label} has sizes {known} and {dim}")
        operands, indices = order_operands(operands, indices, output)  # one order for A B, B A
        order: dict = {}
        for label in output:
            order.setdefault(label, len(order))
        for ix in indices:
            for label in ix:
                order.setdefault(label, len(order))
        # operand-less summed labels are size factors: ordered by size, whatever their names
        for label in sorted(set(sizes) - set(order), key=lambda l: (repr(sizes[l]), repr(l))):
            order[label] = len(order)
        indices = tuple(tuple(order[label] for label in ix) for ix in indices)
        output = tuple(order[label] for label in output)
        size_list = [None] * len(order)
        for label, position in order.items():
            if label not in sizes:
                raise ShapeError(f"contraction: index {label} has no size")
            size_list[position] = sizes[label]
        sizes = tuple(size_list)
        shape = tuple(sizes[label] for label in output)
        key = ("contraction", operands, indices, output, sizes)
        return _intern(cls, key, lambda n: n._set(operands=operands, indices=indices, output=output,
                                                  sizes=sizes, shape=shape, children=operands))

    def _args(self):
        return (self.indices, self.output, dict(enumerate(self.sizes)))

    @classmethod
    def _from_parts(cls, args, children):
        return cls(children, *args)

    def rebuild(self, children):
        return Contraction(children, self.indices, self.output, dict(enumerate(self.sizes)))

    @property
    def summed(self) -> tuple:
        """Labels summed over (not in the output)."""
        out = set(self.output)
        return tuple(label for label in range(len(self.sizes)) if label not in out)


class Elementwise(Expr):
    """``fn(arg)`` entry by entry; ``fn`` names a row of :mod:`tensorcalc.expression.functions`.

    ``param`` is the row's parameter (the exponent of ``pow``), else ``None``.
    """

    __slots__ = ("fn", "param", "arg")

    def __new__(cls, fn: str, arg: Expr, param=None):
        if fn not in FUNCTIONS:
            raise ShapeError(f"elementwise: unknown function {fn!r}")
        if param is not None:
            param = float(param)
        key = ("elementwise", fn, param, arg)
        return _intern(cls, key, lambda n: n._set(fn=fn, param=param, arg=arg, shape=arg.shape,
                                                  children=(arg,)))

    def _args(self):
        return (self.fn, self.param)

    @classmethod
    def _from_parts(cls, args, children):
        fn, param = args
        return cls(fn, children[0], param)

    def rebuild(self, children):
        (arg,) = children
        return Elementwise(self.fn, arg, self.param)


class Operation(Expr):
    """A row of the operation table :mod:`tensorcalc.expression.operations` over its operands:
    ``inv(X)``, ``det(X)``, ``solve(A, b)``, ``logsumexp(x)``, …

    ``param`` is the row's hashable parameter (the axes of a reduction), else ``None``.
    """

    __slots__ = ("name", "param", "operands")

    def __new__(cls, name: str, operands, param=None):
        operands = tuple(operands)
        if name not in OPERATIONS:
            raise ShapeError(f"operation: unknown operation {name!r}")
        shape = operation_shape(name, operands, param)
        key = ("operation", name, param, operands)
        return _intern(cls, key, lambda n: n._set(name=name, param=param, operands=operands,
                                                  shape=shape, children=operands))

    def _args(self):
        return (self.name, self.param)

    @classmethod
    def _from_parts(cls, args, children):
        name, param = args
        return cls(name, children, param)

    def rebuild(self, children):
        return Operation(self.name, children, self.param)


class Sum(Expr):
    """The sum of terms that all have the same shape (broadcasting happens before).

    The terms are kept in one canonical order (:func:`~tensorcalc.expression.canonical.term_key`), so a
    sum of the same terms is one node in whatever order they were added.
    """

    __slots__ = ("terms", "_rolling")

    def __new__(cls, terms):
        terms = tuple(terms)
        if not terms:
            raise ShapeError("sum: needs at least one term")
        shape = terms[0].shape
        for term in terms[1:]:
            if term.shape != shape:
                raise ShapeError(f"sum: term shapes {shape} and {term.shape} differ")
        return cls._checked(terms, shape)

    @classmethod
    def _checked(cls, terms: tuple, shape: tuple, prefix: "Sum" = None) -> "Sum":
        """The sum of ``prefix``'s terms (if given) and ``terms``, all known to have ``shape``.

        Construction adds one term at a time to a flat sum, so neither checking,
        sorting nor hashing every term again may happen per addition (10,000
        additions would be quadratic).  Each new term is inserted into the
        prefix's sorted terms, and the interning key's hash, a sum over the
        terms (so independent of their order), is extended by the new terms only.
        """
        if prefix is None:
            ordered, rolling = tuple(sorted(terms, key=term_key)), 0
        else:
            ordered, rolling = prefix.terms, prefix._rolling
            for term in terms:
                at = bisect.bisect_right(ordered, term_key(term), key=term_key)
                ordered = ordered[:at] + (term,) + ordered[at:]
        for term in terms:
            rolling = (rolling + hash((term,))) & 0xFFFF_FFFF_FFFF_FFFF
        key = _SumKey(ordered, rolling)
        return _intern(cls, key, lambda n: n._set(terms=ordered, shape=shape, children=ordered,
                                                  _rolling=rolling))

    def _args(self):
        return ()

    @classmethod
    def _from_parts(cls, args, children):
        return cls(children)

    def rebuild(self, children):
        return Sum(children)


class _SumKey:
    """The interning key of a sum: its terms, with a hash computed once (see ``Sum._checked``)."""

    __slots__ = ("terms", "hash")

    def __init__(self, terms: tuple, rolling: int):
        self.terms, self.hash = terms, hash(("sum", rolling))

    def __hash__(self):
        return self.hash

    def __eq__(self, other):
        return isinstance(other, _SumKey) and self.hash == other.hash and self.terms == other.terms


# ---------------------------------------------------------------------------
# Traversal: iterative, memoized on node identity.


def postorder(roots: Iterable[Expr]) -> list:
    """Every node reachable from ``roots`` once, children before parents."""
    seen: set = set()
    order: list = []
    mark, emit = seen.add, order.append
    for root in roots:
        if id(root) in seen:
            continue
        mark(id(root))
        stack = [(root, iter(root.children))]  # each node with the children left to visit
        while stack:
            node, children = stack[-1]
            for child in children:
                if id(child) not in seen:
                    mark(id(child))
                    stack.append((child, iter(child.children)))
                    break
            else:
                stack.pop()
                emit(node)
    return order


def consumer_counts(order: Sequence[Expr]) -> dict:
    """``{id(node): how many times the nodes of order read it}`` for ``order`` a list of
    nodes (a postorder, say); a node that none of them reads is missing."""
    counts: dict = {}
    for node in order:
        for child in node.children:
            counts[id(child)] = counts.get(id(child), 0) + 1
    return counts


def transform(roots: Sequence[Expr], rule: Callable[[Expr, list], Expr]) -> list:
    """Rebuild the DAG bottom-up: ``rule(node, new_children)`` gives each new node."""
    memo: dict = {}
    for node in postorder(roots):
        memo[id(node)] = rule(node, [memo[id(child)] for child in node.children])
    return [memo[id(root)] for root in roots]


def _check_structure(name: str, shape: tuple, structure) -> None:
    if structure not in STRUCTURES:
        raise ShapeError(f"var {name!r}: structure must be one of {STRUCTURES}, not {structure!r}")
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ShapeError(f"var {name!r}: a {structure} variable must be a square matrix, got "
                         f"shape {shape}")
