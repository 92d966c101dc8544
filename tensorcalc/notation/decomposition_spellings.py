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
from .operation_spellings import (_inv_index, _inv_spell, _matrix_text, _no_text, _spell_call,
                                  register_spellings)
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
    "qr_factor": ("qr", "\\operatorname{qr}", "qr"),
    "qr_q": ("qr_Q", "Q", "qr_Q"),
    "qr_r": ("qr_R", "R", "qr_R"),
    "lu_factor": ("lu", "\\operatorname{lu}", "lu"),
    "lu_p": ("lu_P", "P", "lu_P"),
    "lu_l": ("lu_L", "L", "lu_L"),
    "lu_u": ("lu_U", "U", "lu_U"),
    "cholesky": ("chol", "\\operatorname{chol}", "cholesky"),
    "pinv": ("pinv", "\\operatorname{pinv}", "pinv"),
    "expm": ("expm", "\\exp", "expm"),
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
register_spellings("triangular_inverse", _inv_index, _inv_spell)  # qr_R(X)⁻¹, as inv reads


def _frechet_index(node, names, namer, fmt):
    x, e = (_matrix_text(op, namer, fmt, bare=True) for op in node.operands)
    return f"L_expm({x}, {e})" + _subscript(names), "atom"


def _frechet_spell(notation, wrap, record, transposed=False):
    if transposed:
        return None
    if notation == "text":
        _no_text("the Fréchet derivative of expm")
    texts = [wrap(arg, ADD) for arg in record.args]
    return _spell_call(notation, "L_{\\exp}", "L_expm", texts), ATOM


register_spellings("expm_frechet", _frechet_index, _frechet_spell)
