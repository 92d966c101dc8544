"""The matrix-algebra tree: small immutable records, and constructors that keep it tidy.

>>> from tensorcalc.notation.printers.records import Symbol, matmul, transpose
>>> A, x = Symbol("A", (3, 3)), Symbol("x", (3,))
>>> transpose(matmul(A, x)) == matmul(transpose(x), transpose(A))
True

Every record's ``shape`` is the shape of its value as numpy holds it: ``()``
for a scalar, ``(n,)`` for a vector, ``(m, n)`` for a matrix.  A vector is a
*column*; the only row vectors are :class:`Transpose` of a vector and products
that begin with one (``xᵀA``), and they only ever stand inside a product.
:attr:`Record.row` says which.

The constructors (:func:`transpose`, :func:`matmul`, :func:`hadamard`,
:func:`scale`, :func:`times`, :func:`add`) apply only identities that hold
exactly — ``(AB)ᵀ = BᵀAᵀ``, ``Aᵀᵀ = A``, ``IA = A``, ``𝟙 ⊙ v = v``,
scalars commute out of products — so that what is printed reads well and is
still the same value.
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
    """A sum of terms of one shape."""
    terms: tuple

    @cached_property
    def shape(self):
        return self.terms[0].shape

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


# ---------------------------------------------------------------------------
# Constructors that apply exact identities


_transposed: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_transpose_counts: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def transpose(x: Record) -> Record:
    """``xᵀ``, pushed through products: ``(AB)ᵀ = BᵀAᵀ``, ``(xᵀ)ᵀ = x``, symmetric forms stay."""
    result = _transposed.get(x)
    if result is None:
        result = _transposed[x] = _transpose(x)
    return result


def _transpose(x: Record) -> Record:
    if len(x.shape) == 0 and not x.row:
        return x
    if is_symmetric(x):
        return x
    if isinstance(x, Transpose):
        return x.arg
    if isinstance(x, (Identity, Diag)):
        return x
    if isinstance(x, MatMul):
        return matmul(*(transpose(f) for f in reversed(x.factors)))
    if isinstance(x, Scale):
        return Scale(x.coefficient, transpose(x.arg))
    if isinstance(x, Times):
        return Times(x.scalars, transpose(x.body))
    if isinstance(x, (Hadamard, Add)):  # (Aᵀ ⊙ B)ᵀ = A ⊙ Bᵀ: push in when that saves a ᵀ
        parts = x.factors if isinstance(x, Hadamard) else x.terms
        pushed = type(x)(tuple(transpose(p) for p in parts))
        if transposes(pushed) < 1 + transposes(x):
            return pushed
    return Transpose(x)


_symmetric: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def is_symmetric(x: Record) -> bool:
    """Known to equal its transpose: a declared-symmetric ``S``, ``I``, ``diag(v)``, ``XᵀX``,
    ``XᵀSX``, ``xxᵀ``, ``A + Aᵀ``, and inverses, entrywise functions, scalings and sums of these.

    >>> A, S = Symbol("A", (3, 3)), Symbol("S", (3, 3), True)
    >>> is_symmetric(matmul(transpose(A), S, A)), is_symmetric(add(A, transpose(A)))
    (True, True)
    >>> is_symmetric(matmul(A, S))
    False
    """
    if len(x.shape) != 2 or x.shape[0] != x.shape[1]:
        return False
    known = _symmetric.get(x)
    if known is None:
        known = _symmetric[x] = _is_symmetric(x)
    return known


def _is_symmetric(x: Record) -> bool:
    if isinstance(x, Symbol):
        return x.symmetric
    if isinstance(x, (Identity, Diag)):
        return True
    if isinstance(x, (Scale, Func)):
        return is_symmetric(x.arg)
    if isinstance(x, Times):
        return is_symmetric(x.body)
    if isinstance(x, Add):  # its terms, transposed, are its terms again: A + Aᵀ
        terms = list(x.terms)
        return sorted(map(id, terms)) == sorted(id(transpose(t)) for t in terms)
    if isinstance(x, Hadamard):
        return all(is_symmetric(part) for part in x.children)
    if isinstance(x, MatrixOp):  # inv(S), cofactor(S) = det(S) S⁻¹
        return x.name in ("inv", "cofactor") and is_symmetric(x.args[0])
    if isinstance(x, MatMul):  # a palindrome up to transposes: XᵀX, XᵀSX, xxᵀ, AᵀDA
        chain = x.factors
        return all(_transposed_equal(chain[n], chain[-1 - n]) for n in range((len(chain) + 1) // 2))
    if isinstance(x, Transpose):
        return is_symmetric(x.arg)
    return False


def _transposed_equal(a: Record, b: Record) -> bool:
    """``a = bᵀ`` as records (for the middle factor of a palindrome: ``a`` symmetric)."""
    if a is b:
        return len(a.shape) == 2 and is_symmetric(a)
    return (isinstance(a, Transpose) and a.arg is b) or (isinstance(b, Transpose) and b.arg is a)


def transposes(x: Record) -> int:
    """How many ``ᵀ`` the products and sums at the top of ``x`` print (not inside calls)."""
    count = _transpose_counts.get(x)
    if count is None:
        if isinstance(x, Transpose):
            count = 1 + transposes(x.arg)
        elif isinstance(x, (MatMul, Hadamard, Add, Scale, Times)):
            count = sum(transposes(child) for child in x.children)
        else:
            count = 0
        _transpose_counts[x] = count
    return count


def _split_scalars(factors):
    """``(coefficient, scalar records, other factors)``: what commutes out of a product."""
    coefficient, scalars, rest = 1.0, [], []
    for factor in factors:
        while isinstance(factor, (Scale, Times)):
            if isinstance(factor, Scale):
                coefficient *= factor.coefficient
                factor = factor.arg
            else:
                scalars.extend(factor.scalars)
                factor = factor.body
        rest.append(factor)
    return coefficient, scalars, rest


def _wrap(coefficient, scalars, body):
    return scale(coefficient, times(scalars, body))


def matmul(*factors: Record) -> Record:
    """The product of a chain, flattened; ``I`` dropped; scalars pulled out front."""
    coefficient, scalars, rest = _split_scalars(factors)
    chain: list = []
    for factor in rest:
        chain.extend(factor.factors if isinstance(factor, MatMul) else [factor])
    if len(chain) > 1:
        kept = [f for f in chain if not isinstance(f, Identity)]
        chain = kept or chain[:1]
    body = chain[0] if len(chain) == 1 else MatMul(tuple(chain))
    return _wrap(coefficient, scalars, body)


def _is_ones(x: Record) -> bool:
    """``𝟙`` or ``𝟙𝟙ᵀ``: the identity of ``⊙``."""
    if isinstance(x, Ones):
        return True
    return isinstance(x, MatMul) and len(x.factors) == 2 and isinstance(x.factors[0], Ones) \
        and isinstance(x.factors[1], Transpose) and isinstance(x.factors[1].arg, Ones)


def hadamard(*factors: Record) -> Record:
    """``A ⊙ B``, flattened; ``𝟙 ⊙ v = v``; scalars pulled out front."""
    coefficient, scalars, rest = _split_scalars(factors)
    flat: list = []
    for factor in rest:
        flat.extend(factor.factors if isinstance(factor, Hadamard) else [factor])
    if len(flat) > 1:
        flat = [f for f in flat if not _is_ones(f)] or flat[:1]
    body = flat[0] if len(flat) == 1 else Hadamard(tuple(flat))
    return _wrap(coefficient, scalars, body)


def scale(coefficient, x: Record) -> Record:
    """``c x``; nested scales multiply, ``1 x`` is ``x``."""
    if coefficient == 1:
        return x
    if isinstance(x, Scale):
        return scale(coefficient * x.coefficient, x.arg)
    if isinstance(x, Number):
        return Number(coefficient * x.value)
    return Scale(coefficient, x)


def times(scalars, body: Record) -> Record:
    """Scalar records times ``body`` (numbers fold into one coefficient)."""
    coefficient, inner, rest = _split_scalars(list(scalars))
    for factor in rest:
        if isinstance(factor, Number):
            coefficient *= factor.value
        else:
            inner.append(factor)
    coefficient2, inner2, (body,) = _split_scalars([body])
    coefficient *= coefficient2
    inner += inner2
    if isinstance(body, Number) and inner:
        coefficient *= body.value
        body, inner = inner[-1], inner[:-1]
    if inner:
        inner, body = _cancel(inner, body)
    result = Times(tuple(inner), body) if inner else body
    return scale(coefficient, result)


def _det(x: Record) -> Record:
    return MatrixOp("det", (x,), None, ())


def _inverse_of(x: Record) -> Record:
    return MatrixOp("inv", (x,), None, x.shape)


def _cancel(scalars: list, body: Record) -> tuple:
    """Exact cancellations between a product's scalars and its body: ``det(X)⁻¹ cofactor(X) =
    X⁻ᵀ`` (so ``det(X) cofactor(X)`` reads ``det(X)² X⁻ᵀ``), ``‖v‖ · v/‖v‖ = v``, ``a⁻¹ a = 1``."""
    chain = list(body.factors) if isinstance(body, MatMul) else [body]
    for n, factor in enumerate(chain):
        cofactor = factor.arg if isinstance(factor, Transpose) else factor
        if isinstance(cofactor, MatrixOp) and cofactor.name == "cofactor":
            x = cofactor.args[0]
            if _det(x) in scalars or Func("pow", _det(x), -1.0) in scalars:
                inverse = _inverse_of(x)
                scalars = scalars + [_det(x)]
                chain[n] = inverse if isinstance(factor, Transpose) else transpose(inverse)
                body = matmul(*chain)
    last = body.factors[-1] if isinstance(body, MatMul) else body
    if isinstance(last, MatrixOp) and last.name == "norm_grad" and last.param == 2.0:
        norm = MatrixOp("norm", last.args, 2.0, ())
        if norm in scalars:
            scalars = list(scalars)
            scalars.remove(norm)
            body = matmul(*body.factors[:-1], last.args[0]) if isinstance(body, MatMul) else last.args[0]
    for reciprocal in [f for f in scalars if isinstance(f, Func) and f.fn == "pow" and f.param == -1.0]:
        if reciprocal in scalars and reciprocal.arg in scalars:
            scalars = list(scalars)
            scalars.remove(reciprocal)
            scalars.remove(reciprocal.arg)
    return scalars, body


def add(*terms: Record) -> Record:
    """A flattened sum; equal terms collected (``s + s = 2s``) and a coefficient every term
    shares pulled out (``2Ax − 2y = 2(Ax − y)``).

    >>> A, x, y = Symbol("A", (3, 3)), Symbol("x", (3,)), Symbol("y", (3,))
    >>> add(scale(2, matmul(A, x)), scale(-2, y)) == scale(2, add(matmul(A, x), scale(-1, y)))
    True
    """
    flat: list = []
    for term in terms:
        flat.extend(term.terms if isinstance(term, Add) else [term])
    if len(flat) == 1:
        return flat[0]
    collected: dict = {}  # body → coefficient, in order of first appearance
    for term in flat:
        c, body = (term.coefficient, term.arg) if isinstance(term, Scale) else (1.0, term)
        collected[body] = collected.get(body, 0) + c
    if len(collected) == len(flat) and not _shared_coefficient(collected):
        return Add(tuple(flat))
    kept = {body: c for body, c in collected.items() if c != 0} or collected
    common = _shared_coefficient(kept)
    if common:
        return scale(common, add(*(scale(c / common, body) for body, c in kept.items())))
    parts = [scale(c, body) for body, c in kept.items()]
    return parts[0] if len(parts) == 1 else Add(tuple(parts))


def _shared_coefficient(collected: dict):
    """The magnitude every coefficient has, when there are several terms and it is not 1."""
    magnitudes = {abs(c) for c in collected.values()}
    if len(collected) < 2 or len(magnitudes) != 1 or any(isinstance(c, complex) for c in collected.values()):
        return None
    (common,) = magnitudes
    return common if common not in (0, 1) else None


def walk(record: Record):
    """Every record of the tree, parents before children (shared subtrees visited once)."""
    seen, stack = set(), [record]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        stack.extend(reversed(node.children))
        if isinstance(node, Where):
            stack.extend(reversed([node.body] + [d for _, d in node.definitions]))
