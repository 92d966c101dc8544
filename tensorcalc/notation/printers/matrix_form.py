"""The one reader: an expression of rank ≤ 2 → a matrix-algebra tree (:mod:`.records`).

>>> import tensorcalc as tc
>>> from tensorcalc.notation.printers import matrix_form
>>> x, A = tc.var("x", (3,)), tc.var("A", (3, 3))
>>> matrix_form(tc.einsum("ji,jk->ik", A, A))
MatMul(factors=(Transpose(arg=Symbol(name='A', shape=(3, 3))), Symbol(name='A', shape=(3, 3))))

A contraction is read as a list of *factors*, each a record with the index
labels of its axes (at most two), rewritten one exact step at a time until a
single factor carries the output's labels (the table of Laue et al.):

==========================  =====================================================
pattern                     rewrite
==========================  =====================================================
``ii``                      ``diag(A)``, the diagonal as a vector (then ``tr`` if summed)
``Σ_i v_i``, ``Σ_j A_ij``   ``sum(v)``, ``A𝟙`` (an index only one factor carries)
``ij,jk→ik`` …              ``AB``, ``AᵀB``, ``ABᵀ``, ``Ax``, ``aᵀb`` (an index two factors share)
``ij,ij→ij``                ``A ⊙ B`` (factors over the same indices)
``ki,k,kj→ij``, ``δ_ij v_j``  ``Aᵀ diag(c) B``, ``diag(v)`` (a vector on a matrix's index)
``i,j→ij``                  ``abᵀ`` (the last step: an outer product)
an output index no factor   ``𝟙`` (``c𝟙𝟙ᵀ``, ``𝟙xᵀ``: broadcasting)
carries
==========================  =====================================================

Scalars (numbers, ``aᵀb``, ``tr(A)``, scalar variables) factor out front.  A
pattern with no exact matrix form (rank ≥ 3 anywhere, an index three matrices
share) gives an :class:`~.records.IndexForm` holding the index notation.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from ...expression.construct import as_expr
from ..printing import index_notation
from .collect import collected, cost, rebuilt
from ...expression.nodes import Const, Contraction, Delta, Elementwise, Operation, Sum, Var, postorder
from .records import (Add, ConstArray, Diag, DiagPart, DimSize, Func, Identity, IndexForm, MatMul, MatrixOp,
                      Number, Ones, Power, Record, Ref, Scale, SumAll, Symbol, Times, Trace, Transpose,
                      Where, add, hadamard, matmul, scale, times, transpose, transposes, walk)


class NoMatrixForm(Exception):
    """Raised inside the reader where a pattern has no exact matrix form."""


def matrix_form(expr, share: bool = False) -> Record:
    """The matrix-algebra tree of ``expr`` (or an :class:`IndexForm` when there is none).

    With ``share=True``, a subtree used more than once is named once
    (``… where s = σ(Xw)``), as a :class:`~.records.Where`.
    """
    expr = as_expr(expr)
    memo: dict = {}
    try:
        if expr.ndim > 2:
            raise NoMatrixForm(f"rank {expr.ndim}")
        for node in postorder([expr]):  # children first: each node is read once
            memo[id(node)] = _read(node, memo)
    except NoMatrixForm:
        return IndexForm(index_notation(expr), expr.shape)
    record = collected(memo[id(expr)])
    return name_shared(record) if share else record


def _read(node, memo) -> Record:
    if isinstance(node, Var):
        if node.ndim > 2:
            raise NoMatrixForm(f"variable {node.name} of rank {node.ndim}")
        return Symbol(node.name, node.shape, node.structure in ("symmetric", "diagonal"))
    if isinstance(node, Const):
        if node.value.ndim == 0:
            return Number(node.value[()].item())
        if node.value.ndim > 2:
            raise NoMatrixForm("constant of rank 3")
        return _uniform(node.value) or ConstArray.of(node.value)
    if isinstance(node, Delta):
        return Identity(node.dim)
    if isinstance(node, Elementwise):
        return Func(node.fn, memo[id(node.arg)], node.param)
    if isinstance(node, Sum):
        return _right_factored(add(*(memo[id(term)] for term in node.terms)))
    if isinstance(node, Contraction):
        return read_contraction(node, [memo[id(op)] for op in node.operands])
    if isinstance(node, Operation):
        if node.ndim > 2:
            raise NoMatrixForm(f"{node.name} of rank {node.ndim}")
        return MatrixOp(node.name, tuple(memo[id(op)] for op in node.operands), node.param,
                        node.shape)
    raise NoMatrixForm(type(node).__name__)


def _uniform(value: np.ndarray):
    """A constant with one value ``c`` everywhere as ``c𝟙`` or ``c𝟙𝟙ᵀ`` (``0`` for zeros), else None."""
    flat = value.ravel()
    if not flat.size or not np.isrealobj(flat) or not np.all(flat == flat[0]):
        return None
    ones = Ones(value.shape[0]) if value.ndim == 1 else \
        matmul(Ones(value.shape[0]), transpose(Ones(value.shape[1])))
    return scale(float(flat[0]), ones)


def _right_factored(record: Record) -> Record:
    """``Px + Qx`` as ``(P + Q)x``: a column-vector sum of products that all end in one column
    vector (so every ``P`` is a matrix)."""
    terms = record.terms if isinstance(record, Add) and len(record.shape) == 1 else ()
    if not terms or not all(isinstance(t, MatMul) and not t.row for t in terms):
        return record
    last = terms[0].factors[-1]
    if len(last.shape) != 1 or last.row or isinstance(last, Ones) or \
            any(t.factors[-1] is not last for t in terms):
        return record
    return matmul(add(*(matmul(*t.factors[:-1]) for t in terms)), last)


def _size(dim) -> Record:
    return Number(float(dim)) if isinstance(dim, int) else DimSize(dim)


def read_contraction(node: Contraction, operands: list) -> Record:
    """The matrix form of one contraction whose operands are already read."""
    if len(node.output) > 2 or any(len(ix) > 2 for ix in node.indices):
        raise NoMatrixForm("an operand or the result has rank 3")
    scalars: list = []
    factors: list = []  # [record, labels]
    for record, ix in zip(operands, node.indices):
        if ix:
            factors.append([record, tuple(ix)])
        else:
            scalars.append(record)
    carried = {label for _, ix in factors for label in ix}
    for label, dim in enumerate(node.sizes):
        if label in carried:
            continue
        if label in node.output:  # an output axis nothing carries: a broadcast
            factors.append([Ones(dim), (label,)])
        else:  # a summed index nothing carries: its size
            scalars.append(_size(dim))
    output = tuple(node.output)
    while _rewrite(factors, scalars, output):
        pass
    body = _assemble(factors, output)
    if body is None:
        if not scalars:
            return Number(1.0)
        return times(scalars[:-1], scalars[-1])
    return times(scalars, body)


def _carriers(factors, label) -> list:
    return [n for n, (_, ix) in enumerate(factors) if label in ix]


def _oriented(record, ix, first):
    """``record`` transposed if needed so that the label ``first`` is its row axis."""
    return (record, ix) if ix[0] == first else (transpose(record), ix[::-1])


def _rewrite(factors: list, scalars: list, output: tuple) -> bool:
    """Apply one exact rewrite to ``factors`` in place; False when none applies."""
    for n, (record, ix) in enumerate(factors):
        if len(ix) == 2 and ix[0] == ix[1]:  # A_ii: the diagonal, as a vector
            factors[n] = [Ones(record.dim) if isinstance(record, Identity) else DiagPart(record),
                          ix[:1]]
            return True
    labels = sorted({label for _, ix in factors for label in ix})
    summed = [label for label in labels if label not in output]
    for label in summed:  # an index only one factor carries: a sum over it
        carriers = _carriers(factors, label)
        if len(carriers) != 1:
            continue
        n = carriers[0]
        record, ix = factors[n]
        if len(ix) == 1 or all(other in summed and len(_carriers(factors, other)) == 1
                               for other in ix):
            del factors[n]
            scalars.append(_sum_all(record))
        else:
            record, ix = _oriented(record, ix, [other for other in ix if other != label][0])
            factors[n] = [matmul(record, Ones(record.shape[1])), ix[:1]]
        return True
    for label in summed:  # an index two factors share: a matrix product
        carriers = _carriers(factors, label)
        if len(carriers) == 2:
            (p, p_ix), (q, q_ix) = (factors[k] for k in carriers)
            result = _product(p, p_ix, q, q_ix, label)
            for k in reversed(carriers):
                del factors[k]
            if result[1]:
                factors.insert(carriers[0], list(result))
            else:
                scalars.append(result[0])
            return True
    for n, (record, ix) in enumerate(factors):  # the same indices: a Hadamard product
        for m in range(n + 1, len(factors)):
            other, other_ix = factors[m]
            if set(other_ix) == set(ix) and len(other_ix) == len(ix):
                if other_ix == ix:
                    factors[n] = [hadamard(record, other), ix]
                else:  # A_ij B_ji: A ⊙ Bᵀ or Aᵀ ⊙ B, whichever prints fewer transposes
                    first, second = hadamard(record, transpose(other)), hadamard(transpose(record), other)
                    factors[n] = [first, ix] if transposes(first) <= transposes(second) \
                        else [second, other_ix]
                del factors[m]
                return True
    for n, (record, ix) in enumerate(factors):  # a vector on a matrix's index: diag(v)
        if len(ix) != 1:
            continue
        carriers = _carriers(factors, ix[0])
        matrices = [k for k in carriers if len(factors[k][1]) == 2]
        if matrices and (ix[0] in output or len(carriers) >= 3):
            k = matrices[0]
            matrix, m_ix = factors[k]
            placed = matmul(Diag(record), matrix) if m_ix[0] == ix[0] else matmul(matrix, Diag(record))
            factors[k] = [placed, m_ix]
            del factors[n]
            return True
    if len(factors) == 2 and all(len(ix) == 1 for _, ix in factors) and len(output) == 2:
        (p, (a,)), (q, (b,)) = factors  # the last step: an outer product
        first, second = ((p, a), (q, b)) if a == output[0] else ((q, b), (p, a))
        factors[:] = [[matmul(first[0], transpose(second[0])), (first[1], second[1])]]
        return True
    return False


def _sum_all(record: Record) -> Record:
    if isinstance(record, DiagPart):
        return Trace(record.arg)
    if isinstance(record, Ones):
        return _size(record.dim)
    return SumAll(record)


def _product(p, p_ix, q, q_ix, label):
    """``(record, labels)`` of ``Σ_label p q`` for two factors sharing ``label``."""
    if len(p_ix) == 2 and p_ix[0] == label and len(q_ix) == 2 and q_ix[1] == label:
        p, p_ix, q, q_ix = q, q_ix, p, p_ix  # (a,p),(q,a): QP needs no transpose
    if len(p_ix) == 2:
        p, p_ix = (transpose(p), p_ix[::-1]) if p_ix[0] == label else (p, p_ix)
        left, left_ix = p, p_ix[:1]
    else:
        left, left_ix = transpose(p), ()
    if len(q_ix) == 2:
        q, q_ix = (transpose(q), q_ix[::-1]) if q_ix[1] == label else (q, q_ix)
        right_ix = q_ix[1:]
    else:
        right_ix = ()
    if not left_ix and len(q_ix) == 2:  # vᵀQ is a row: write the column Qᵀv
        return matmul(transpose(q), p), right_ix
    return matmul(left, q), left_ix + right_ix


def _assemble(factors: list, output: tuple):
    """The body once no rewrite applies: one factor over the output's labels, or None."""
    if not factors and not output:
        return None
    if len(factors) == 1:
        record, ix = factors[0]
        if ix == output:
            return record
        if len(ix) == 2 and ix[::-1] == output:
            return transpose(record)
    raise NoMatrixForm("no matrix form for this contraction")


# ---------------------------------------------------------------------------
# Shared subexpressions, named once

_NAMES = "stuvpqrhkmn"


def tree_size(record: Record) -> int:
    """How many records ``record`` has when written out as a tree (shared subtrees repeated)."""
    return _size_of(record, {})


def _size_of(record: Record, sizes: dict) -> int:
    if id(record) not in sizes:
        repeats = record.count if isinstance(record, Power) else 1  # Aᵏ counts as the run it is
        sizes[id(record)] = 1 + repeats * sum(_size_of(c, sizes) for c in record.children)
    return sizes[id(record)]


def name_shared(record: Record, smallest: int = 4) -> Record:
    """``record`` with each subtree used more than once (of ``smallest`` records or more) named.

    Uses are counted on the tree as a DAG: a subtree inside a named one counts once.
    """
    taken = {r.name for r in walk(record) if isinstance(r, Symbol)} | \
        {r.dim for r in walk(record) if isinstance(r, DimSize)}
    uses: Counter = Counter()
    unique: dict = {}
    for node in walk(record):
        unique.setdefault(node, node)
    for node in list(unique):
        for child in _printed_uses(node):
            uses[child] += 1
    sizes: dict = {}
    costs: dict = {}
    shared = [node for node in unique if uses[node] > 1 and _size_of(node, sizes) >= smallest
              and not isinstance(node, (Transpose, Ones, Identity, Power))  # Aᵏ: a run, in a chain
              and not (_is_word(node) and not _naming_shortens(cost(node, costs), uses[node]))]
    if not shared:
        return record
    shared.sort(key=lambda node: _size_of(node, sizes))  # children before parents
    names = iter([c for c in _NAMES if c not in taken]
                 + [f"t{n}" for n in range(1, 10_000) if f"t{n}" not in taken])
    refs = {node: Ref(next(names), node.shape, node.row) for node in shared}
    memo: dict = {}

    def replace(node, top=False):
        if node in refs and not top:
            return refs[node]
        key = (node, top)
        if key not in memo:
            memo[key] = rebuilt(node, [replace(c) for c in node.children])
        return memo[key]

    definitions = tuple((refs[node].name, replace(node, top=True)) for node in shared)
    return Where(replace(record), definitions)


def _naming_shortens(length: int, uses: int) -> bool:
    """Whether ``… s … s  where s = D`` prints shorter than ``D`` written at each use."""
    return uses * length > uses + length + 3


def _is_word(node: Record) -> bool:
    """A product of letters (``AXB``, ``XᵀX``): as clear written twice as named, so named only
    where that is shorter."""
    return isinstance(node, MatMul) and all(
        isinstance(f.arg if isinstance(f, Transpose) else f, Symbol) for f in node.factors)


def _printed_uses(node: Record) -> list:
    """The children of ``node`` as often as they print: a run ``ss`` prints once (``s²``), and so
    do equal scalar factors (``det(X)²``)."""
    children = list(node.children)
    if isinstance(node, MatMul):
        return [c for n, c in enumerate(children) if n == 0 or children[n - 1] is not c]
    if isinstance(node, Times):
        return list(dict.fromkeys(node.scalars)) + [node.body]
    return children
