"""Kronecker forms of derivatives of order 3 and 4, under the vec convention.

A Jacobian of a matrix ``F`` (m × n) by a matrix ``X`` (p × q) is the 4-index array
``D_ijkl = ∂F_ij/∂X_kl``; read as the (mn × pq) matrix ``∂vec(F)/∂vec(X)ᵀ``, with ``vec``
column-major (Magnus–Neudecker, as :func:`tensorcalc.vec`), row ``i + m·j`` and column
``k + p·l``.  When every term of ``D`` is a product ``A_ik B_jl`` of a factor on the row
indices ``(i, k)`` and one on the column indices ``(j, l)`` (scalars go with ``A``), that
matrix is ``Σ B ⊗ A``: ``∂vec(AXB)/∂vec(X) = Bᵀ ⊗ A``.  A vector ``F`` (or ``X``) is a one-column
matrix, so ``∂(Ax)/∂vec(A) = xᵀ ⊗ I``.  A term ``A_il B_jk`` (of ``F = AXᵀBᵀ``) is
``(B ⊗ A)K``, with ``K`` the (pq × pq) commutation matrix, ``K vec(X) = vec(Xᵀ)``
(``commutation(p, q)`` in the text language).

>>> import tensorcalc as tc
>>> X, A, B = tc.var("X", (3, 3)), tc.var("A", (2, 3)), tc.var("B", (3, 4))
>>> print(kronecker_form(tc.jacobian(A @ X @ B, X)))
Bᵀ ⊗ A
>>> print(kronecker_form(tc.jacobian(tc.inv(X), X)))
−X⁻ᵀ ⊗ X⁻¹
>>> print(kronecker_form(tc.jacobian(X.T @ B, X)), "|", kronecker_form(tc.jacobian(X.T, X)))
(Bᵀ ⊗ I)K | K
>>> kronecker_form(tc.jacobian(X * tc.trace(X), X)).reason
'a factor pairs an index of the function with one of the variable across ⊗ (an outer product of two vecs: neither B ⊗ A nor (B ⊗ A)K)'
"""

from __future__ import annotations

import re

from ...calculus.terms import is_zero
from ...errors import NoTextForm
from ...expression import construct as c
from ...expression.nodes import Contraction, Sum
from ..printing import index_notation
from .matrix_form import matrix_form
from .records import Identity, IndexForm
from .spell import LATEX, TEXT, UNICODE

CONVENTION = "∂vec(f)/∂vec({})ᵀ, vec column-major"


class KroneckerForm:
    """``Σ ± B ⊗ A`` (no terms: 0): ``terms`` are ``(sign, B, A, B's kind, A's kind, commuted)``, or
    ``reason`` says why there is none; ``commuted`` is X's shape ``(p, q)`` for a term
    ``(B ⊗ A)K``, with ``K`` the commutation matrix (``K vec(X) = vec(Xᵀ)``), else None."""

    def __init__(self, terms=None, reason=None):
        self.terms, self.reason = terms or [], reason

    def __bool__(self):
        return self.reason is None

    def convention(self, name: str = "X", prefix: str = "as ") -> str:
        """The vec convention the form is written under (and ``K``'s, where it has one)."""
        text = prefix + CONVENTION.format(name)
        if any(term[-1] is not None for term in self.terms):
            text += f", K vec({name}) = vec({name}ᵀ)"
        return text

    def spell(self, notation: str) -> str:
        if self.reason is not None:
            raise ValueError(self.reason)
        if not self.terms:  # the zero derivative
            if notation == "text":
                raise NoTextForm("to_text: a zero derivative of order 3 or 4 has no text form "
                                 "(the text language's 0 is a scalar)")
            return "0"
        parts = []
        for sign, b, a, *kinds, commuted in self.terms:
            if notation == "text":
                text = _kron_text(b, a, kinds)
                text = text if commuted is None else f"{text}*{_commutation_text(commuted)}"
            else:
                text = _kron_math(b, a, kinds, LATEX if notation == "latex" else UNICODE,
                                  " \\otimes " if notation == "latex" else " ⊗ ",
                                  "^{\\top}" if notation == "latex" else "ᵀ")
                if commuted is not None:  # (B ⊗ A)K; (I ⊗ I)K is K
                    identities = all(isinstance(matrix_form(f), Identity) for f in (a, b))
                    text = "K" if identities else (
                        f"\\left({text}\\right) K" if notation == "latex" else f"({text})K")
            sign_text = "-" if notation != "unicode" else "−"
            if parts:
                parts.append((" - " if notation != "unicode" else " − ") if sign < 0 else " + ")
            elif sign < 0:
                parts.append(sign_text)
            parts.append(text)
        return "".join(parts)

    def __str__(self):
        return self.spell("unicode") if self.reason is None else f"(no Kronecker form: {self.reason})"


def _top_level(text: str, marks=("+", "−", "-", " ")) -> bool:
    """Whether ``text`` has one of ``marks`` outside parentheses (so it needs them as a factor)."""
    depth = 0
    for char in text:
        depth += char in "([{" and 1 or (char in ")]}" and -1) or 0
        if depth == 0 and char in marks:
            return True
    return False


_ATOM = re.compile(r"(\\mathbf\{[I1]\}|𝟙|[^\W\d][A-Za-z0-9_]*)(\^\{[^{}]*\}|[ᵀ⁻¹²³⁴⁵⁶⁷⁸⁹⁰]+)?")


def _factor(expr, printer, kind: str, mark: str) -> str:
    """A factor of ``⊗``: in parentheses unless one name (with a postfix mark: ``X⁻ᵀ``), or a
    call (``tr(X)``); a row vector transposed."""
    text = printer(matrix_form(expr, share=False))
    name = _ATOM.fullmatch(text)
    call = re.fullmatch(r"[^\W\d]\w*\(.*\)", text) and not _top_level(text[text.find("("):])
    atom = (name is not None and not (kind == "row" and name.group(2))) or call  # (X⁻¹)ᵀ, not X⁻¹ᵀ
    text = text if atom else f"({text})"
    return text + mark if kind == "row" else text


def _kron_math(b, a, kinds, printer, times, mark) -> str:
    return _factor(b, printer, kinds[0], mark) + times + _factor(a, printer, kinds[1], mark)


def _text_factor(expr, kind: str) -> str:
    text = TEXT(matrix_form(expr))
    if text in ("eye", "vector(1)"):  # the text language infers their size from neighbours: none here
        if not isinstance(expr.shape[0], int):
            raise NoTextForm(f"to_text: kron needs sizes that are numbers, and {text} has the size "
                             f"{expr.shape[0]!r}; give the variables numeric shapes")
        text = f"eye({expr.shape[0]})" + ("*vector(1)" if text == "vector(1)" else "")  # I𝟙 = 𝟙
    if kind == "row":
        return f"{text}'" if text.isidentifier() else f"({text})'"
    return text


def _commutation_text(sizes) -> str:
    if not all(isinstance(size, int) for size in sizes):
        raise NoTextForm(f"to_text: commutation needs sizes that are numbers, and X has the shape "
                         f"{sizes!r}; give the variables numeric shapes")
    return f"commutation({sizes[0]}, {sizes[1]})"


def _kron_text(b, a, kinds) -> str:
    return f"kron({_text_factor(b, kinds[0])}, {_text_factor(a, kinds[1])})"


def _split_sign(expr):
    """``(-1, X)`` for ``-X`` (a contraction scaled by −1), else ``(1, expr)``."""
    if isinstance(expr, Contraction):
        for k, op in enumerate(expr.operands):
            value = getattr(op, "value", None)
            if op.ndim == 0 and value is not None and float(value) < 0:
                operands = list(expr.operands)
                operands[k] = c.const(-float(value))
                rest = Contraction(operands, expr.indices, expr.output, dict(enumerate(expr.sizes)))
                return -1, rest
    return 1, expr


def kronecker_form(derivative, of_ndim=None) -> KroneckerForm:
    """The Kronecker form of a derivative of order 3 or 4 (``Σ B ⊗ A``), or the reason it has none.

    ``of_ndim`` is the rank of the function differentiated (taken from a derivative's ``of``;
    without it a rank-4 array is matrix by matrix and a rank-3 one vector by matrix).
    """
    of = getattr(derivative, "of", None)
    expr = c.as_expr(derivative)
    if of_ndim is None:
        of_ndim = c.as_expr(of).ndim if of is not None else (2 if expr.ndim == 4 else 1)
    wrt_ndim = expr.ndim - of_ndim
    if expr.ndim not in (3, 4) or not (1 <= of_ndim <= 2 and 1 <= wrt_ndim <= 2):
        return KroneckerForm(reason=f"a Kronecker form is for a matrix or vector by a matrix or vector "
                                    f"(order 3 or 4), not an array of shape {expr.shape}")
    if is_zero(expr):
        return KroneckerForm([])
    if len(_products(expr)) > 64:
        return KroneckerForm(reason="it expands to more than 64 products")
    rows = (0, of_ndim)  # the axes of i and k
    columns = tuple(range(1, of_ndim)) + tuple(range(of_ndim + 1, expr.ndim))  # j and l
    terms = []
    for term in _products(expr):
        found = _split(term, rows, columns, of_ndim)
        if isinstance(found, str) and of_ndim == 2 and wrt_ndim == 2:
            commuted = _split(_variable_axes_swapped(term), rows, columns, of_ndim)
            if not isinstance(commuted, str):
                found = commuted + (expr.shape[2:],)
        if isinstance(found, str):
            return KroneckerForm(reason=found)
        terms.append(found if len(found) == 6 else found + (None,))
    return KroneckerForm(terms)


def _variable_axes_swapped(term):
    """``T_ijlk`` for the term ``T_ijkl``: a term ``A_il B_jk`` (``F = AXᵀBᵀ``) then splits as
    ``A_ik B_jl`` would, and its matrix is ``(B ⊗ A) K`` with ``K vec(X) = vec(Xᵀ)``."""
    if isinstance(term, Contraction):
        output = tuple(term.output)
        return Contraction(list(term.operands), list(term.indices), output[:2] + output[:1:-1],
                           dict(enumerate(term.sizes)))
    return Contraction([term], [(0, 1, 2, 3)], (0, 1, 3, 2), dict(enumerate(term.shape)))


def _products(expr, limit: int = 64) -> list:
    """``expr`` as a sum of flat products: a sum of terms of rank ≥ 3 inside a product is
    distributed and a product of rank ≥ 3 inside one inlined (``-(X⁻¹_im δ_jn + …) X⁻¹_mk X⁻¹_ln``
    becomes ``-X⁻¹_im X⁻¹_mk X⁻¹_lj - …``); at most ``limit`` products."""
    if isinstance(expr, Sum):
        return [p for term in expr.terms for p in _products(term, limit)][:limit + 1]
    if not isinstance(expr, Contraction):
        return [expr]
    sizes = dict(enumerate(expr.sizes))
    for k, (op, ix) in enumerate(zip(expr.operands, expr.indices)):
        if op.ndim < 3 or not isinstance(op, (Sum, Contraction)) or len(set(ix)) != len(ix):
            continue
        rest_ops = [*expr.operands[:k], *expr.operands[k + 1:]]
        rest_ix = [*expr.indices[:k], *expr.indices[k + 1:]]
        found = []
        for inner in (op.terms if isinstance(op, Sum) else (op,)):
            if isinstance(inner, Contraction):
                fresh = {label: len(sizes) + n for n, label in enumerate(inner.summed)}
                rename = {**dict(zip(inner.output, ix)), **fresh}
                new_sizes = {**sizes, **{fresh[label]: inner.sizes[label] for label in fresh}}
                operands = rest_ops + list(inner.operands)
                indices = rest_ix + [tuple(rename[label] for label in jx) for jx in inner.indices]
            else:
                operands, indices, new_sizes = rest_ops + [inner], rest_ix + [ix], sizes
            found += _products(Contraction(operands, indices, expr.output, new_sizes), limit)
            if len(found) > limit:
                break
        return found
    return [expr]


def _split(term, rows: tuple, columns: tuple, of_ndim: int):
    """``(sign, B, A, b_kind, a_kind)`` with ``term_ijkl = ± A_ik B_jl``, or a reason.  An index
    whose partner has size 1 (``i`` of a vector ``F``, ``k`` of a vector ``X``) may sit in either
    factor; a factor's kind is ``"matrix"``, ``"column"`` or ``"row"`` by the indices it keeps."""
    if isinstance(term, Contraction):
        operands, indices, output = term.operands, term.indices, term.output
        sizes = dict(enumerate(term.sizes))
    else:
        operands, indices = (term,), (tuple(range(term.ndim)),)
        output, sizes = indices[0], dict(enumerate(term.shape))
    i, k = (output[axis] for axis in rows)
    j = output[columns[0]] if of_ndim == 2 else None
    l = output[columns[-1]] if len(columns) == 2 or of_ndim == 1 else None
    free = i if of_ndim == 1 else k if l is None else None
    side = {label: 0 for label in (i, k) if label != free}
    side.update({label: 1 for label in (j, l) if label is not None})
    parent = list(range(len(operands)))

    def find(n):
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    first: dict = {}
    for n, ix in enumerate(indices):
        for label in ix:
            if label in side:
                continue
            if label in first:
                parent[find(n)] = find(first[label])
            first.setdefault(label, n)
    touches: dict = {}
    for n, ix in enumerate(indices):
        touches.setdefault(find(n), set()).update(side[label] for label in ix if label in side)
    groups = ([], [])
    for n in range(len(operands)):
        sides = touches[find(n)]
        if len(sides) == 2:
            return ("a factor pairs an index of the function with one of the variable across ⊗ "
                    "(an outer product of two vecs: neither B ⊗ A nor (B ⊗ A)K)")
        groups[1 if sides == {1} else 0].append(n)
    free_side = next((1 if n in groups[1] else 0 for n in range(len(operands)) if free in indices[n]), 0)
    a_axes = [label if label != free or free_side == 0 else None for label in (i, k)]
    b_axes = [j if j is not None else (i if free_side == 1 and free == i else None),
              l if l is not None else (k if free_side == 1 and free == k else None)]
    carried = {label for ix in indices for label in ix} | set(output)
    size_factors = [label for label in sizes if label not in carried]  # δ_ii = n: with A
    a = _part(operands, indices, groups[0], [x for x in a_axes if x is not None], sizes, size_factors)
    b = _part(operands, indices, groups[1], [x for x in b_axes if x is not None], sizes, [])
    sign, a = _split_sign(a)
    for factor in (a, b):
        if isinstance(matrix_form(factor), IndexForm):
            return f"the factor {index_notation(factor)} has no matrix form"
    return sign, b, a, _kind(b_axes), _kind(a_axes)


def _kind(axes) -> str:
    return "matrix" if None not in axes else "column" if axes[0] is not None else "row"


def _part(operands, indices, members, output, sizes, extra):
    """The contraction of the operands ``members`` to ``output`` (with the size factors ``extra``)."""
    used = {label for k in members for label in indices[k]} | set(output) | set(extra)
    return Contraction([operands[k] for k in members], [indices[k] for k in members], output,
                       {label: sizes[label] for label in used})
