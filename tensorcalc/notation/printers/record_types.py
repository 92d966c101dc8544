"""The matrix-algebra tree's records: small immutable, hash-consed dataclasses.

Every record's ``shape`` is the shape of its value as numpy holds it: ``()``
for a scalar, ``(n,)`` for a vector, ``(m, n)`` for a matrix.  A vector is a
*column*; the only row vectors are :class:`Transpose` of a vector and products
that begin with one (``xᵀA``), and they only ever stand inside a product.
:attr:`Record.row` says which.  The constructors that keep the tree tidy are in
:mod:`.records`, which re-exports these.
"""

from __future__ import annotations

import inspect
import weakref
from dataclasses import dataclass, field, fields
from functools import cached_property

import numpy as np

_interned: "weakref.WeakValueDictionary" = weakref.WeakValueDictionary()


@dataclass(frozen=True)
class Record:
    """Base of the matrix-tree records: immutable and hash-consed, like the engine's nodes.

    Building a record equal to a live one returns that one, so equality is
    identity and comparing two deep trees never recurses.
    """

    def __new__(cls, *args, **kwargs):
        if not kwargs and len(args) == len(cls._keys) == len(cls._signature.parameters):
            key = (cls,) + args  # every field given in order: no binding needed
        else:
            bound = cls._signature.bind(*args, **kwargs)
            bound.apply_defaults()
            key = (cls,) + tuple(bound.arguments[name] for name in cls._keys)
        node = _interned.get(key)
        if node is None:
            node = object.__new__(cls)
            _interned[key] = node
        return node

    def __post_init__(self):
        object.__setattr__(self, "_hash", hash((type(self).__name__,) + tuple(
            getattr(self, name) for name in self._keys)))

    def __hash__(self):
        return self._hash

    def __eq__(self, other):
        return self is other

    @property
    def row(self) -> bool:
        return False

    @property
    def children(self) -> tuple:
        """The records below this one: ``arg`` for the one-argument records, else none
        (records with several children say which)."""
        return (self.arg,) if "arg" in self._keys else ()


def _record(cls):
    """A frozen, hash-consed dataclass record (its hash is computed once, from its children's)."""
    cls = dataclass(frozen=True, eq=False)(cls)
    cls._keys = tuple(f.name for f in fields(cls) if f.compare)
    cls._signature = inspect.signature(cls.__init__).replace(
        parameters=list(inspect.signature(cls.__init__).parameters.values())[1:])
    return cls


@_record
class Symbol(Record):
    """A variable, by name; ``symmetric`` when declared so (then ``Sᵀ`` is ``S``)."""
    name: str
    shape: tuple
    symmetric: bool = field(default=False, repr=False)


@_record
class Number(Record):
    """A scalar constant."""
    value: complex | float
    shape: tuple = ()


@_record
class ConstArray(Record):
    """A constant vector or matrix (``C⟨3×3⟩``); it has no name in the text language."""
    value: np.ndarray = field(compare=False)
    key: bytes = b""
    shape: tuple = ()

    @staticmethod
    def of(value: np.ndarray) -> "ConstArray":
        return ConstArray(value, value.dtype.str.encode() + value.tobytes(), value.shape)


@_record
class DimSize(Record):
    """The size of a named dimension, as a scalar (``n`` in ``mean``)."""
    dim: str
    shape: tuple = ()


@_record
class Identity(Record):
    """``I``, the identity matrix over one dimension."""
    dim: object

    @cached_property
    def shape(self):
        return (self.dim, self.dim)


@_record
class Ones(Record):
    """``𝟙``, the vector of ones (a broadcast: ``c𝟙``, ``𝟙xᵀ``, ``𝟙𝟙ᵀ``)."""
    dim: object

    @cached_property
    def shape(self):
        return (self.dim,)


@_record
class Transpose(Record):
    """``Xᵀ``; of a vector, a row vector."""
    arg: Record

    @cached_property
    def shape(self):
        return tuple(reversed(self.arg.shape))

    @cached_property
    def row(self):
        return len(self.arg.shape) == 1


@_record
class MatMul(Record):
    """The matrix product of a chain of factors (matrices, column and row vectors)."""
    factors: tuple

    @cached_property
    def shape(self):
        first, last = self.factors[0], self.factors[-1]
        return (first.shape[:1] if has_rows(first) else ()) + \
            (last.shape[-1:] if has_cols(last) else ())

    @cached_property
    def row(self):
        return not has_rows(self.factors[0]) and has_cols(self.factors[-1])

    @property
    def children(self):
        return self.factors


@_record
class Power(Record):
    """``Aᵏ``, a run of ``count`` ≥ 2 equal square factors of a chain (``AAA`` is ``A³``), kept as
    one record so that a chain of thousands of equal factors stays short."""
    arg: Record
    count: int

    @cached_property
    def shape(self):
        return self.arg.shape


@_record
class Hadamard(Record):
    """``A ⊙ B ⊙ …``, the entrywise product of operands of one shape."""
    factors: tuple

    @cached_property
    def shape(self):
        return self.factors[0].shape

    @property
    def children(self):
        return self.factors


@_record
class Scale(Record):
    """``c X`` for a number ``c`` (signs print as ``−X`` and ``a − b``)."""
    coefficient: float
    arg: Record

    @cached_property
    def shape(self):
        return self.arg.shape

    @cached_property
    def row(self):
        return self.arg.row


@_record
class Times(Record):
    """Scalar expressions times a body: ``(aᵀb) X``, ``tr(A) x``."""
    scalars: tuple
    body: Record

    @cached_property
    def shape(self):
        return self.body.shape

    @cached_property
    def row(self):
        return self.body.row

    @property
    def children(self):
        return self.scalars + (self.body,)


@_record
class Add(Record):
    """A sum of terms of one shape (and orientation: ``xᵀ + yᵀ`` of ``x(xᵀ + yᵀ)`` is a row)."""
    terms: tuple

    @cached_property
    def shape(self):
        return self.terms[0].shape

    @cached_property
    def row(self):
        return self.terms[0].row

    @property
    def children(self):
        return self.terms


@_record
class Func(Record):
    """A row of the function table applied entrywise; ``param`` is ``pow``'s exponent."""
    fn: str
    arg: Record
    param: float | None = None

    @cached_property
    def shape(self):
        return self.arg.shape


@_record
class MatrixOp(Record):
    """A row of the operation table (``X⁻¹``, ``det(X)``, ``A⁻¹b``); its row spells it."""
    name: str
    args: tuple
    param: object
    shape: tuple

    @property
    def children(self):
        return self.args


@_record
class Trace(Record):
    """``tr(X)``."""
    arg: Record
    shape: tuple = ()


@_record
class Diag(Record):
    """``diag(v)``: the diagonal matrix with the vector ``v`` on its diagonal."""
    arg: Record

    @cached_property
    def shape(self):
        return self.arg.shape * 2


@_record
class DiagPart(Record):
    """``diag(X)``: the diagonal of the square matrix ``X``, as a vector."""
    arg: Record

    @cached_property
    def shape(self):
        return self.arg.shape[:1]


@_record
class SumAll(Record):
    """``sum(X)``: the sum of every entry."""
    arg: Record
    shape: tuple = ()


@_record
class Ref(Record):
    """A named shared subexpression (defined in the enclosing :class:`Where`)."""
    name: str
    shape: tuple
    is_row: bool = False

    @cached_property
    def row(self):
        return self.is_row


@_record
class Where(Record):
    """``body  where name = definition, …`` (definitions in dependency order)."""
    body: Record
    definitions: tuple  # ((name, record), ...)

    @cached_property
    def shape(self):
        return self.body.shape


@_record
class IndexForm(Record):
    """No exact matrix form: the index-notation text stands in (``[index form] δ_ij a_k``)."""
    text: str
    shape: tuple


def has_rows(x: Record) -> bool:
    """A matrix or a column vector (something with a row axis)."""
    return len(x.shape) == 2 or (len(x.shape) == 1 and not x.row)


def has_cols(x: Record) -> bool:
    """A matrix or a row vector."""
    return len(x.shape) == 2 or x.row
