"""How the decompositions read (:mod:`tensorcalc.expression.decompositions`): registered into the
spelling tables by :func:`tensorcalc.notation.operation_spellings.register_spellings`.

>>> import tensorcalc as tc
>>> X = tc.var("X", (3, 3))
>>> U, s, Vt = tc.svd(X)
>>> print(tc.matrix_notation(U), "|", tc.latex(s), "|", tc.to_text(tc.cholesky(X)))
svd_U(X) | \\sigma\\left(X\\right) | cholesky(X)

A selector's second operand (the packed factorization) is not printed: ``svd_U(X)`` is the
``U`` of the one SVD of ``X``.
"""

from __future__ import annotations

from ..expression import decompositions  # noqa: F401 - the rows spelled here
from .operation_spellings import _matrix_text, _spell_call, register_spellings
from .printers.spell import ADD, ATOM
from .printing import _subscript

# name: (unicode, latex, text)
_NAMES = {
    "eigh_factor": ("eigh", "\\operatorname{eigh}", "eigh"),
    "eigh_values": ("λ", "\\lambda", "eigvalsh"),
    "eigh_vectors": ("eigvecs", "\\operatorname{eigvecs}", "eigvecs"),
    "svd_factor": ("svd", "\\operatorname{svd}", "svd"),
    "svd_u": ("svd_U", "U", "svd_U"),
    "svd_s": ("σ", "\\sigma", "svdvals"),
    "svd_vt": ("svd_Vt", "V^{\\top}", "svd_Vt"),
    "spectral_gaps": ("gaps", "\\operatorname{gaps}", "gaps"),
    "cholesky": ("chol", "\\operatorname{chol}", "cholesky"),
    "pinv": ("pinv", "\\operatorname{pinv}", "pinv"),
}


def _index(name):
    def index(node, names, namer, fmt):
        text = _matrix_text(node.operands[0], namer, fmt, bare=True)
        return f"{_NAMES[name][0]}({text})" + _subscript(names), "atom"
    return index


def _spell(name):
    unicode, latex, text = _NAMES[name]

    def spell(notation, wrap, record, transposed=False):
        if transposed:
            return None
        inner = [wrap(record.args[0], ADD)]
        if notation == "latex":
            return _spell_call(notation, latex, latex, inner), ATOM
        return _spell_call(notation, latex, text if notation == "text" else unicode, inner), ATOM
    return spell


for _name in _NAMES:
    register_spellings(_name, _index(_name), _spell(_name))
