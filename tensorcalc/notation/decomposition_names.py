"""The decompositions' names in the matrix language (read by :mod:`tensorcalc.notation.typer`),
as they print in text: ``cholesky(X)``, ``eigvalsh(X)``, ``eigvecs(X)``, ``svdvals(X)``,
``svd_U(X)``, ``svd_Vt(X)``, ``qr_Q(X)``, ``qr_R(X)``, ``lu_P(X)``, ``lu_L(X)``, ``lu_U(X)`` (of a square X: the language's dimensions are symbolic), ``pinv(X)``.

>>> import tensorcalc as tc
>>> print(tc.parse("svd_U(X)*svd_Vt(X)", X=(3, 3)).__class__.__name__)
Contraction
"""

from __future__ import annotations

from ..expression.decompositions import cholesky, eigh, eigvalsh, expm, lu, pinv, qr, svd, svdvals

_SQUARE = {"matrix": "square", "hint": "; it needs a square matrix"}
_MATRIX = {"matrix": True, "hint": "; it needs a matrix"}


def _same(typer, a):
    return type(a)(a.kind, a.dims)


def _column(typer, a):
    return type(a)("column", a.dims[:1])


def _transposed(typer, a):
    return type(a)("matrix", tuple(reversed(a.dims)))


# name: (operand kinds, result type, build(expr, type))
DECOMPOSITION_FUNCTIONS = {
    "cholesky": (_SQUARE, _same, lambda x, t: cholesky(x)),
    "eigvalsh": (_SQUARE, _column, lambda x, t: eigvalsh(x)),
    "eigvecs": (_SQUARE, _same, lambda x, t: eigh(x)[1]),
    "svdvals": (_SQUARE, _column, lambda x, t: svdvals(x)),
    "svd_U": (_SQUARE, _same, lambda x, t: svd(x)[0]),
    "svd_Vt": (_SQUARE, _same, lambda x, t: svd(x)[2]),
    "qr_Q": (_SQUARE, _same, lambda x, t: qr(x)[0]),
    "qr_R": (_SQUARE, _same, lambda x, t: qr(x)[1]),
    "lu_P": (_SQUARE, _same, lambda x, t: lu(x)[0]),
    "lu_L": (_SQUARE, _same, lambda x, t: lu(x)[1]),
    "lu_U": (_SQUARE, _same, lambda x, t: lu(x)[2]),
    "pinv": (_MATRIX, _transposed, lambda x, t: pinv(x)),
    "expm": (_SQUARE, _same, lambda x, t: expm(x)),
}
