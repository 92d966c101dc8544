"""numpy source of the decompositions for :func:`tensorcalc.codegen` (registered into
:data:`tensorcalc.evaluation.operation_sources.OPERATION_SOURCES`).  A selector reads its factor
from the packed factorization (its second operand), so a program factors once.

>>> from tensorcalc.evaluation.operation_sources import OPERATION_SOURCES
>>> OPERATION_SOURCES["svd_s"](["X", "P"], None)
'P[..., X.shape[-2], :]'
"""

from __future__ import annotations

from ..expression import decompositions  # noqa: F401 - the rows written here
from ..errors import CodegenError
from .operation_sources import register_source

_SYM = "(0.5 * ({0} + np.swapaxes({0}, -1, -2)))"


def _eigh_factor(codes, p):
    return (f"(lambda w, v: np.concatenate([w[..., None, :], v], axis=-2))"
            f"(*np.linalg.eigh({_SYM.format(codes[0])}))")


def _svd_factor(codes, p):
    return (f"(lambda u, s, vt: np.concatenate([u, s[..., None, :], np.swapaxes(vt, -1, -2)], "
            f"axis=-2))(*np.linalg.svd({codes[0]}, full_matrices=False))")


def _gaps(codes, p):
    return (f"(lambda d, off: np.where(off, 1.0 / np.where(off, d, 1.0), 0.0))"
            f"({codes[0]}[..., None, :] - {codes[0]}[..., :, None], "
            f"~np.eye({codes[0]}.shape[-1], dtype=bool))")


register_source("eigh_factor", _eigh_factor)
register_source("eigh_values", lambda codes, p: f"{codes[1]}[..., 0, :]")
register_source("eigh_vectors", lambda codes, p: f"{codes[1]}[..., 1:, :]")
register_source("svd_factor", _svd_factor)
register_source("svd_u", lambda codes, p: f"{codes[1]}[..., :{codes[0]}.shape[-2], :]")
register_source("svd_s", lambda codes, p: f"{codes[1]}[..., {codes[0]}.shape[-2], :]")
register_source("svd_vt", lambda codes, p: (f"np.swapaxes({codes[1]}[..., {codes[0]}.shape[-2] + 1:, "
                                            f":], -1, -2)"))
register_source("qr_factor", lambda codes, p: (
    f"(lambda q, r: np.concatenate([q, np.swapaxes(r, -1, -2)], axis=-2))(*np.linalg.qr({codes[0]}))"))
register_source("qr_q", lambda codes, p: f"{codes[1]}[..., :{codes[0]}.shape[-2], :]")
register_source("qr_r", lambda codes, p: f"np.swapaxes({codes[1]}[..., {codes[0]}.shape[-2]:, :], -1, -2)")
register_source("triangular_inverse",
                lambda codes, p: f"np.linalg.inv({codes[0]}[..., :, :{codes[0]}.shape[-2]])")
for _k, _name in enumerate(("lu_p", "lu_l", "lu_u")):
    register_source(_name, lambda codes, p, k=_k: (f"{codes[1]}[..., {k} * {codes[0]}.shape[-1]:"
                                                    f"{k + 1} * {codes[0]}.shape[-1], :]"))
register_source("spectral_gaps", _gaps)
register_source("cholesky", lambda codes, p: f"np.linalg.cholesky({_SYM.format(codes[0])})")
register_source("pinv", lambda codes, p: f"np.linalg.pinv({codes[0]})")


def _no_expm(codes, p):  # numpy has no expm; tc.evaluate and tc.compile (numpy) run the row's own
    raise CodegenError("codegen: expm has no numpy-only source (numpy has no matrix exponential), "
                       "so tc.codegen and the jax, torch and dask backends refuse it; "
                       "tc.evaluate and tc.compile run it")


def _no_lu(codes, p):  # numpy has no LU; tc.evaluate and tc.compile (numpy) run the row's own
    raise CodegenError("codegen: lu has no numpy-only source (numpy has no LU factorization), "
                       "so tc.codegen and the jax, torch and dask backends refuse it; "
                       "tc.evaluate and tc.compile run it")


register_source("expm", _no_expm)
register_source("lu_factor", _no_lu)
register_source("expm_frechet", _no_expm)
