"""VJPs of the decompositions (:mod:`tensorcalc.expression.decompositions`), as expressions.

* ``eigh`` (a symmetric ``X``, ``X = V diag(w) Vᵀ``; Giles 2008, §3.1; JAX's ``eigh_jvp_rule``):
  ``X̄ = V diag(w̄) Vᵀ`` for the eigenvalues (``∂w_i/∂X = v_i v_iᵀ``), and
  ``X̄ = sym(V (F ∘ Vᵀ V̄) Vᵀ)`` for the eigenvectors, ``F_ij = 1/(w_j − w_i)`` (``i ≠ j``).
* ``svd`` (reduced, ``X = U diag(s) Vᵀ``; Townsend 2016, "Differentiating the SVD"):
  ``X̄ = U diag(s̄) Vᵀ`` for ``s`` (at any rank: ``∂‖X‖_*/∂X = UVᵀ``), and with
  ``F_ij = 1/(s_j² − s_i²)``: ``U (F ∘ (UᵀŪ − ŪᵀU)) S Vᵀ + (I − UUᵀ) Ū S⁻¹ Vᵀ`` for ``U``,
  ``U S (F ∘ (VᵀV̄ − V̄ᵀV)) Vᵀ + U S⁻¹ V̄ᵀ (I − VVᵀ)`` for ``V``.
* ``qr`` (reduced; Walter & Lehmann 2018, Liao et al. 2019): ``X̄ = (Q̄ + Q copyltu(M)) R⁻ᵀ``,
  ``M = R R̄ᵀ − Q̄ᵀ Q``, ``copyltu(M) = tril(M) + tril(M, −1)ᵀ``; a wide X by its leading block.
* ``lu`` (``X = P L U``; JAX's ``lu_jvp_rule``): ``X̄ = P L⁻ᵀ (tril(LᵀL̄, −1) + triu(ŪUᵀ)) U⁻ᵀ``;
  ``P`` is piecewise constant.
* ``cholesky`` (Murray 2016, "Differentiation of the Cholesky decomposition"):
  ``X̄ = sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹)``, ``Φ`` the lower triangle with the diagonal halved.
* ``spectral_gaps`` ``F_ij = 1/(w_j − w_i)``: ``dF_ij = −F_ij² (dw_j − dw_i)``.

``sym(A) = (A + Aᵀ)/2``: ``eigh`` and ``cholesky`` factor the symmetric part of ``X``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import DifferentiationError
from ..expression import decompositions  # noqa: F401 - the rows ruled here
from ..expression.construct import add, apply_function
from ..expression.nodes import Const, Operation
from ..expression.operations import fixed_size
from .operation_rules import _ein, _transpose_last, defvjp


def _none(node, k, adjoint, n_extra):
    return None


def _packed(name):
    def vjp(node, k, adjoint, n_extra):
        raise DifferentiationError(f"{name}: the packed factorization is internal; differentiate "
                                   "its outputs (eigh, svd, qr, lu) instead")
    return vjp


def _symmetrized(spec_out, spec, operands, n_extra, n_batch, coefficient=1.0):
    """``sym(A)`` for ``A = einsum(spec + '->' + spec_out)`` (``spec_out`` ending in ``cd``)."""
    flipped = spec_out[:-2] + spec_out[-1] + spec_out[-2]
    return add(_ein(f"{spec}->{spec_out}", operands, n_extra, n_batch, 0.5 * coefficient),
               _ein(f"{spec}->{flipped}", operands, n_extra, n_batch, 0.5 * coefficient))


# ---------------------------------------------------------------------------
# eigh


def _eigh_values_vjp(node, k, adjoint, n_extra):
    if k == 1:
        return None
    x, packed = node.operands
    vectors = Operation("eigh_vectors", [x, packed])
    return _ein("*~i,~ai,~bi->*~ab", [adjoint, vectors, vectors], n_extra, x.ndim - 2)


def _eigh_vectors_vjp(node, k, adjoint, n_extra):
    if k == 1:
        return None
    x, packed = node.operands
    gaps = Operation("spectral_gaps", [Operation("eigh_values", [x, packed])], "eigh")
    return _symmetrized("*~ab", "*~cj,~ai,~ij,~ci,~bj", [adjoint, node, gaps, node, node],
                        n_extra, x.ndim - 2)


def _gaps_vjp(node, k, adjoint, n_extra):
    n_batch = node.ndim - 2
    return add(_ein("*~ik,~ik,~ik->*~k", [adjoint, node, node], n_extra, n_batch, -1.0),
               _ein("*~kj,~kj,~kj->*~k", [adjoint, node, node], n_extra, n_batch))


defvjp("eigh_factor", _packed("eigh"))
defvjp("eigh_values", _eigh_values_vjp)
defvjp("eigh_vectors", _eigh_vectors_vjp)
defvjp("spectral_gaps", _gaps_vjp)


# ---------------------------------------------------------------------------
# svd


def _factors(node):
    x, packed = node.operands
    return (x, Operation("svd_u", [x, packed]), Operation("svd_s", [x, packed]),
            Operation("svd_vt", [x, packed]))


def _svd_gaps(s):
    return Operation("spectral_gaps", [_ein("~i,~i->~i", [s, s], 0, s.ndim - 1)], "svd")


def _svd_s_vjp(node, k, adjoint, n_extra):
    if k == 1:
        return None
    x, u, s, vt = _factors(node)
    return _ein("*~i,~ai,~ib->*~ab", [adjoint, u, vt], n_extra, x.ndim - 2)


def _svd_u_vjp(node, k, adjoint, n_extra):
    if k == 1:
        return None
    x, u, s, vt = _factors(node)
    nb, f, inverse = x.ndim - 2, _svd_gaps(s), apply_function("pow", s, -1.0)
    terms = [_ein("*~cj,~ai,~ij,~ci,~j,~jb->*~ab", [adjoint, u, f, u, s, vt], n_extra, nb),
             _ein("*~ci,~ai,~ij,~cj,~j,~jb->*~ab", [adjoint, u, f, u, s, vt], n_extra, nb, -1.0)]
    if x.shape[-2] > x.shape[-1]:  # (I − UUᵀ) Ū S⁻¹ Vᵀ, zero where U is square
        terms += [_ein("*~aj,~j,~jb->*~ab", [adjoint, inverse, vt], n_extra, nb),
                  _ein("*~cj,~ai,~ci,~j,~jb->*~ab", [adjoint, u, u, inverse, vt], n_extra, nb, -1.0)]
    return add(*terms)


def _svd_vt_vjp(node, k, adjoint, n_extra):
    if k == 1:
        return None
    x, u, s, vt = _factors(node)
    nb, f, inverse = x.ndim - 2, _svd_gaps(s), apply_function("pow", s, -1.0)
    terms = [_ein("*~jc,~ai,~i,~ij,~ic,~jb->*~ab", [adjoint, u, s, f, vt, vt], n_extra, nb),
             _ein("*~ic,~ai,~i,~ij,~jc,~jb->*~ab", [adjoint, u, s, f, vt, vt], n_extra, nb, -1.0)]
    if x.shape[-1] > x.shape[-2]:  # U S⁻¹ V̄ᵀ (I − VVᵀ), zero where V is square
        terms += [_ein("*~ib,~ai,~i->*~ab", [adjoint, u, inverse], n_extra, nb),
                  _ein("*~ic,~ai,~i,~lc,~lb->*~ab", [adjoint, u, inverse, vt, vt], n_extra, nb,
                       -1.0)]
    return add(*terms)


defvjp("svd_factor", _packed("svd"))
defvjp("svd_u", _svd_u_vjp)
defvjp("svd_s", _svd_s_vjp)
defvjp("svd_vt", _svd_vt_vjp)


# ---------------------------------------------------------------------------
# qr (full rank; Walter & Lehmann 2018, Liao et al. 2019; JAX's qr_jvp_rule for m ≥ n):
# X̄ = (Q̄ + Q copyltu(M)) R⁻ᵀ, M = R R̄ᵀ − Q̄ᵀ Q, copyltu(M) = tril(M) + tril(M, −1)ᵀ.  Only R̄'s
# upper triangle enters (M's lower triangle reads it alone).  The rule holds for any smooth branch
# of the factorization, so for numpy's signs of R's diagonal.  A wide X = [X₁ X₂] (m < n,
# Liao et al. 2019, §4) is X₁ = Q R₁ (square) and R₂ = Qᵀ X₂: X̄₂ = Q R̄₂, and X̄₁ is the rule
# above for R₁ with Q̄ + X₂ R̄₂ᵀ in place of Q̄.


class _QR(NamedTuple):
    x: object
    q: object
    r: object
    r_inverse: object  # R⁻¹ (R₁⁻¹ of a wide X)
    lower: object  # tril(1), k×k
    strict: object  # tril(1, −1)
    head: object  # wide X: 1 on X₁'s columns, 0 on X₂'s (a vector of n); else None
    tail: object  # 1 − head
    embed: object  # wide X: J (k×n), X₁'s columns placed among X's n; else None


def _qr_parts(node):
    x, packed = node.operands
    m, n = x.shape[-2:]
    k = min(m, n)
    r = Operation("qr_r", [x, packed])
    lower = np.tril(np.ones((k, k)))
    wide = [Const(np.arange(n) < m), Const(np.arange(n) >= m), Const(np.eye(m, n))] if m < n \
        else [None, None, None]
    return _QR(x, Operation("qr_q", [x, packed]), r, Operation("triangular_inverse", [r], "qr"),
               Const(lower), Const(lower - np.eye(k)), *wide)


def _qr_term(parts, spec, operands, n_extra, coefficient=1.0):
    """One term of X̄ (``spec`` ends in ``->*~ab``, b a column of R⁻ᵀ): of a wide X, its columns
    placed among X's by ``embed``."""
    nb = parts.x.ndim - 2
    if parts.embed is None:
        return _ein(spec, operands, n_extra, nb, coefficient)
    inputs = spec.split("->")[0]
    return _ein(f"{inputs},bd->*~ad", [*operands, parts.embed], n_extra, nb, coefficient)


def _qr_through_q(parts, adjoint, n_extra, spell="*~aj", transposed=False):
    """The three terms of Q̄ R⁻ᵀ − Q copyltu(Q̄ᵀQ) R⁻ᵀ, for Q̄ = ``adjoint`` (spelled ``*~aj``), or
    for a wide X's Q̄ = X₂ R̄₂ᵀ (``adjoint`` R̄ spelled ``*~jk``, with X and the tail mask)."""
    x, q, r_inverse, lower, strict = parts.x, parts.q, parts.r_inverse, parts.lower, parts.strict
    if transposed:  # Q̄_aj = Σ_k X_ak t_k R̄_jk
        g, extra = (lambda a, j: f"*~{j}k,~{a}k,k"), [x, parts.tail]
    else:
        g, extra = (lambda a, j: f"*~{a}{j}"), []
    return add(_qr_term(parts, f"{g('a', 'j')},~bj->*~ab", [adjoint, *extra, r_inverse], n_extra),
               _qr_term(parts, f"{g('c', 'i')},~ai,ij,~cj,~bj->*~ab",
                        [adjoint, *extra, q, lower, q, r_inverse], n_extra, -1.0),
               _qr_term(parts, f"{g('c', 'j')},~ai,ji,~ci,~bj->*~ab",
                        [adjoint, *extra, q, strict, q, r_inverse], n_extra, -1.0))


def _qr_q_vjp(node, k, adjoint, n_extra):
    if k == 1:
        return None
    return _qr_through_q(_qr_parts(node), adjoint, n_extra)


def _qr_r_vjp(node, k, adjoint, n_extra):
    if k == 1:
        return None
    p = _qr_parts(node)
    if p.head is None:
        return add(_qr_term(p, "*~jk,~ai,ij,~ik,~bj->*~ab", [adjoint, p.q, p.lower, p.r, p.r_inverse],
                            n_extra),
                   _qr_term(p, "*~ik,~ai,ji,~jk,~bj->*~ab", [adjoint, p.q, p.strict, p.r, p.r_inverse],
                            n_extra))
    nb = p.x.ndim - 2
    return add(_qr_term(p, "*~jk,~ai,ij,~ik,k,~bj->*~ab",
                        [adjoint, p.q, p.lower, p.r, p.head, p.r_inverse], n_extra),
               _qr_term(p, "*~ik,~ai,ji,~jk,k,~bj->*~ab",
                        [adjoint, p.q, p.strict, p.r, p.head, p.r_inverse], n_extra),
               _qr_through_q(p, adjoint, n_extra, transposed=True),
               _ein("*~jb,~aj,b->*~ab", [adjoint, p.q, p.tail], n_extra, nb))  # X̄₂ = Q R̄₂


defvjp("qr_factor", _packed("qr"))
defvjp("qr_q", _qr_q_vjp)
defvjp("qr_r", _qr_r_vjp)


# ---------------------------------------------------------------------------
# lu (X = P L U, square, nonsingular; JAX's lu_jvp_rule): with F = L⁻¹ Pᵀ dX U⁻¹,
# dL = L tril(F, −1) and dU = triu(F) U, so X̄ = P L⁻ᵀ (tril(LᵀL̄, −1) + triu(ŪUᵀ)) U⁻ᵀ.
# P is piecewise constant: no derivative (it jumps where two pivot candidates tie).


def _lu_parts(node):
    x, packed = node.operands
    n = x.shape[-1]
    p, low, up = (Operation(name, [x, packed]) for name in ("lu_p", "lu_l", "lu_u"))
    upper = np.triu(np.ones((n, n)))
    return (x, p, low, up, Operation("triangular_inverse", [low], "lu"),
            Operation("triangular_inverse", [up], "lu"), Const(upper), Const(upper.T - np.eye(n)))


def _lu_l_vjp(node, k, adjoint, n_extra):
    if k == 1:
        return None
    x, p, low, up, low_inverse, up_inverse, upper, strict = _lu_parts(node)
    return _ein("*~ik,~ac,~jc,jk,~ij,~bk->*~ab", [adjoint, p, low_inverse, strict, low, up_inverse],
                n_extra, x.ndim - 2)


def _lu_u_vjp(node, k, adjoint, n_extra):
    if k == 1:
        return None
    x, p, low, up, low_inverse, up_inverse, upper, strict = _lu_parts(node)
    return _ein("*~ji,~ac,~jc,jk,~ki,~bk->*~ab", [adjoint, p, low_inverse, upper, up, up_inverse],
                n_extra, x.ndim - 2)


defvjp("lu_factor", _packed("lu"))
defvjp("lu_p", _none)
defvjp("lu_l", _lu_l_vjp)
defvjp("lu_u", _lu_u_vjp)


# ---------------------------------------------------------------------------
# the triangular factors' inverses (R⁻¹ of qr, L⁻¹ and U⁻¹ of lu)


def _triangular_inverse_vjp(node, k, adjoint, n_extra):
    """d(T⁻¹) = −T⁻¹ dT T⁻¹, so T̄ = −T⁻ᵀ G T⁻ᵀ (the chain goes on through T's selector); of
    the leading square block of a wide T (R of a wide X), placed in that block."""
    (t,) = node.operands
    rows, columns = t.shape[-2:]
    if rows == columns:
        return _ein("*~ij,~ia,~bj->*~ab", [adjoint, node, node], n_extra, node.ndim - 2, -1.0)
    return _ein("*~ij,~ia,~bj,bd->*~ad", [adjoint, node, node, Const(np.eye(rows, columns))],
                n_extra, node.ndim - 2, -1.0)


defvjp("triangular_inverse", _triangular_inverse_vjp)


# ---------------------------------------------------------------------------
# cholesky


def _cholesky_vjp(node, k, adjoint, n_extra):
    (x,) = node.operands
    n = fixed_size("cholesky", x.shape[-1:])
    phi = Const(np.tril(np.ones((n, n))) - 0.5 * np.eye(n))
    inverse = Operation("inv", [node])
    return _symmetrized("*~cd", "*~aj,~ai,ij,~ic,~jd", [adjoint, node, phi, inverse, inverse],
                        n_extra, x.ndim - 2)


defvjp("cholesky", _cholesky_vjp)


# ---------------------------------------------------------------------------
# pinv (full rank; Golub & Pereyra 1973, Giles 2008):
# dP = −P dA P + P Pᵀ dAᵀ (I − A P) + (I − P A) dAᵀ Pᵀ P, so
# Ā = −Pᵀ G Pᵀ + (I − A P) Gᵀ P Pᵀ + Pᵀ P Gᵀ (I − P A)


def _pinv_vjp(node, k, adjoint, n_extra):
    (a,) = node.operands
    p, nb = node, a.ndim - 2
    return add(_ein("*~ij,~ia,~bj->*~ab", [adjoint, p, p], n_extra, nb, -1.0),
               _ein("*~ja,~jc,~bc->*~ab", [adjoint, p, p], n_extra, nb),
               _ein("*~jd,~ae,~ed,~jc,~bc->*~ab", [adjoint, a, p, p, p], n_extra, nb, -1.0),
               _ein("*~bd,~ca,~cd->*~ab", [adjoint, p, p], n_extra, nb),
               _ein("*~ed,~ca,~cd,~ef,~fb->*~ab", [adjoint, p, p, p, a], n_extra, nb, -1.0))


defvjp("pinv", _pinv_vjp)


# ---------------------------------------------------------------------------
# expm: d e^X = L(X, dX), and ⟨G, L(X, E)⟩ = ⟨L(Xᵀ, G), E⟩ (Higham 2008, §3.2), so X̄ = L(Xᵀ, G);
# L(X, E) is linear in E with the same adjoint.  Its derivative in X (a second derivative of
# expm) is refused by name.


def _expm_vjp(node, k, adjoint, n_extra):
    (x,) = node.operands
    return Operation("expm_frechet", [_transpose_last(x), adjoint])


def _frechet_vjp(node, k, adjoint, n_extra):
    x, e = node.operands
    if k == 1:
        return Operation("expm_frechet", [_transpose_last(x), adjoint])
    raise DifferentiationError("expm: the second derivative with respect to X (the derivative of "
                               "the Fréchet derivative L(X, E) in X) is not available")


defvjp("expm", _expm_vjp)
defvjp("expm_frechet", _frechet_vjp)
