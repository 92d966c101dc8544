"""The matrix-algebra tree: small immutable records, and constructors that keep it tidy.

>>> from tensorcalc.notation.printers.records import Symbol, matmul, transpose
>>> A, x = Symbol("A", (3, 3)), Symbol("x", (3,))
>>> transpose(matmul(A, x)) == matmul(transpose(x), transpose(A))
True

The records themselves are in :mod:`.record_types` (re-exported here).

The constructors (:func:`transpose`, :func:`matmul`, :func:`hadamard`,
:func:`scale`, :func:`times`, :func:`add`) apply only identities that hold
exactly — ``(AB)ᵀ = BᵀAᵀ``, ``Aᵀᵀ = A``, ``IA = A``, ``𝟙 ⊙ v = v``,
scalars commute out of products, ``Sᵀ = S`` for a known-symmetric ``S``, ``s + s = 2s``,
``2a − 2b = 2(a − b)``, ``det(X)⁻¹ cofactor(X) = X⁻ᵀ`` — so that what is printed reads well and is
still the same value.
"""

from __future__ import annotations

import weakref

from .record_types import (  # noqa: F401 - the records, re-exported with their constructors
    Record, Symbol, Number, ConstArray, DimSize, Identity, Ones, Transpose, MatMul, Power, Hadamard, Scale, Times,
    Add, Func, MatrixOp, Trace, Diag, DiagPart, SumAll, Ref, Where, IndexForm, has_rows, has_cols)


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
    if isinstance(x, Power):  # (Aᵏ)ᵀ = (Aᵀ)ᵏ
        return power(transpose(x.arg), x.count)
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
    if isinstance(x, (Scale, Func, Power)):
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
    if isinstance(a, Power) and isinstance(b, Power):  # (Aᵀ)ᵏ = ((Aᵏ)ᵀ)
        return a.count == b.count and _transposed_equal(a.arg, b.arg)
    return (isinstance(a, Transpose) and a.arg is b) or (isinstance(b, Transpose) and b.arg is a)


def transposes(x: Record) -> int:
    """How many ``ᵀ`` the products and sums at the top of ``x`` print (not inside calls)."""
    count = _transpose_counts.get(x)
    if count is None:
        if isinstance(x, Transpose):
            count = 1 + transposes(x.arg)
        elif isinstance(x, (MatMul, Power, Hadamard, Add, Scale, Times)):
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
    """The product of a chain, flattened; ``I`` dropped; scalars pulled out front; equal square
    factors where two chains meet gathered into a power (``A² · A = A³``)."""
    coefficient, scalars, rest = _split_scalars(factors)
    chain: list = []
    junctions = []  # where two of the given chains meet: each chain is already tidy inside
    for factor in rest:
        junctions.append(len(chain))
        chain.extend(factor.factors if isinstance(factor, MatMul) else [factor])
    if len(chain) > 1 and any(isinstance(f, Identity) for f in chain):
        kept = [f for f in chain if not isinstance(f, Identity)]
        junctions = range(len(kept)) if kept else []
        chain = kept or chain[:1]
    if len(chain) > 1 and any(_is_ones_of_one(f) for f in chain):
        kept = _without_unit_ones(chain)
        if kept != chain:
            junctions, chain = range(len(kept)), kept
        if not chain:
            return _wrap(coefficient, scalars, Number(1.0))
    for n in junctions:
        merged = _with_diagonal(chain[n - 1], chain[n]) if 0 < n < len(chain) else None
        if merged is not None:
            return _wrap(coefficient, scalars, matmul(*chain[:n - 1], merged, *chain[n + 1:]))
    chain = _gathered(chain, junctions)
    body = chain[0] if len(chain) == 1 else MatMul(tuple(chain))
    return _wrap(coefficient, scalars, body)


def _is_ones_of_one(x: Record) -> bool:
    """``𝟙₁`` or ``𝟙₁ᵀ``: the ones vector of size 1 (the axis ``keepdims`` leaves)."""
    x = x.arg if isinstance(x, Transpose) else x
    return isinstance(x, Ones) and not isinstance(x.dim, str) and x.dim == 1


def _without_unit_ones(chain: list) -> list:
    """``chain`` without its ``𝟙₁ᵀ𝟙₁`` pairs (each is the 1 × 1 number 1), and with ``M𝟙₁𝟙₁ᵀ = M``
    for a matrix ``M`` of one column and ``𝟙₁𝟙₁ᵀM = M`` for one of one row."""
    kept: list = []
    for factor in chain:
        kept.append(factor)
        if len(kept) >= 2 and _is_ones_of_one(kept[-1]) and _is_ones_of_one(kept[-2]) \
                and isinstance(kept[-2], Transpose) and not isinstance(kept[-1], Transpose):
            del kept[-2:]
        elif len(kept) >= 3 and _is_ones_of_one(kept[-1]) and isinstance(kept[-1], Transpose) \
                and kept[-2] is kept[-1].arg and _one_column_matrix(kept[-3]):
            del kept[-2:]
    while len(kept) >= 3 and _is_ones_of_one(kept[0]) and not isinstance(kept[0], Transpose) \
            and kept[1] is transpose(kept[0]) and _one_column_matrix(transpose(kept[2])):
        del kept[:2]
    return kept


def _one_column_matrix(x: Record) -> bool:
    return len(x.shape) == 2 and x.shape[1] == 1


def power(base: Record, count: int) -> Record:
    """``baseᵏ``, the product of ``count`` factors ``base`` (``base`` itself for 1)."""
    return base if count == 1 else Power(base, count)


def _run(x: Record) -> tuple:
    return (x.arg, x.count) if isinstance(x, Power) else (x, 1)


def _gathered(chain: list, junctions) -> list:
    """``chain`` with the equal square factors that meet at a junction made one power."""
    starts, out = set(junctions), chain[:1]
    for n in range(1, len(chain)):
        base, count = _run(chain[n])
        before, before_count = _run(out[-1])
        if n in starts and base is before and len(base.shape) == 2:
            out[-1] = Power(base, before_count + count)
        else:
            out.append(chain[n])
    return out


def _ends_in_ones_row(x: Record) -> bool:
    while isinstance(x, (Scale, Times)):
        x = x.arg if isinstance(x, Scale) else x.body
    last = x.factors[-1] if isinstance(x, MatMul) else x
    return isinstance(last, Transpose) and isinstance(last.arg, Ones)


def _with_diagonal(left: Record, right: Record):
    """``diag(a) diag(b) = diag(a ⊙ b)``, ``𝟙ᵀ diag(v) = vᵀ``, ``diag(v) 𝟙 = v``, and ``(I − p𝟙ᵀ) diag(v) = diag(v) − pvᵀ``
    (a sum distributed over a diagonal when every term then loses its ``𝟙``); else None."""
    if isinstance(left, Diag) and isinstance(right, Diag):  # diag(a) diag(b) = diag(a ⊙ b)
        return Diag(hadamard(left.arg, right.arg))
    if isinstance(right, Diag) and isinstance(left, Transpose) and isinstance(left.arg, Ones):
        return transpose(right.arg)
    if isinstance(left, Diag) and isinstance(right, Ones):
        return left.arg
    if isinstance(left, Add) and isinstance(right, Diag) and all(
            isinstance(t, Identity) or _ends_in_ones_row(t) for t in left.terms):
        return add(*(matmul(t, right) for t in left.terms))
    return None


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
    if len(collected) == len(flat) and not _shared_coefficient(collected) and all(collected.values()):
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
