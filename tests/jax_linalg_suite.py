"""JAX's linalg gradient checks for the functions of issue 19 (cholesky, det and slogdet, eigh,
svd, qr, lu, pinv, expm), re-expressed with tensorcalc's names: the measure of "at least 90% of
JAX's linalg gradient checks that fall in this list can be written".

One row per float64 real parametrization of each test that checks a derivative
(``jtu.check_grads``, ``check_jvp``, ``jvp``) in JAX's ``tests/linalg_test.py`` and
``tests/eigh_test.py`` (jax-ml/jax at cec06d1, read 2026-12-04): testCholesky, testDetGrad
(random and zero matrices), testDetGradIssue6121, testDetGradOfSingularMatrixCorank1/2,
testSlogdetGrad, testSVDGrad, testQr (the JVP of ``q @ r``), testPinv, testPinvGradIssue2792,
testLuGrad, testExpmGrad, testEighGrad and testEighGradRankPromotion. Not counted: the value
tests' inline JVP checks of testSVD and testScipyQrModes (pivoted QR), and tests of functions
outside the issue (eig, lstsq, triangular and tridiagonal solves). The rows are checked as
autograd's are (``tests/suite_check.py``), with numpy as the oracle for values; the order is
JAX's (1 where it checks only first derivatives).

``PYTHONPATH=$PWD python tests/jax_linalg_suite.py [--write]`` prints (and puts into README.md)
the count.
"""

from __future__ import annotations

import sys

import numpy as np

import tensorcalc as tc
from autograd_suite import Case, write_between

BEGIN, END = "<!-- jax linalg suite: begin -->", "<!-- jax linalg suite: end -->"


def sym(m, a):
    return (a + m.swapaxes(a, -1, -2)) / 2


def normalized_svd(m, full=False):
    """JAX's _normalizing_svd: the signs of U's first row made positive (and Vᵀ's rows to
    match), so that the factors are smooth functions of the matrix."""
    def svd(a):
        if m is np:
            u, s, vt = np.linalg.svd(a, full_matrices=full)
        else:
            u, s, vt = tc.svd(a, full_matrices=full) if full else tc.svd(a)
        phase = m.sign(u[..., 0:1, :])
        return u * phase, s, vt * m.swapaxes(phase, -1, -2)
    return svd


def normalized_eigh(m):
    """JAX's _normalizing_eigh on the symmetrized input."""
    def eigh(a):
        w, v = np.linalg.eigh(sym(np, a)) if m is np else tc.eigh(a)
        return w, v * m.sign(v[..., 0:1, :])
    return eigh


def qr_times(m, mode):
    def f(a):
        q, r = np.linalg.qr(a, mode=mode) if m is np else tc.qr(a, mode=mode)
        return q @ r
    return f


def matrix(rng, shape, scale=1.0):
    return scale * rng.standard_normal(shape)


def row(name, spell=None, shape=None, *, make=None, **options) -> Case:
    if spell is None:
        return Case("jax", name, **options)
    if make is None:
        make = lambda r, shape=shape: [matrix(r, shape)]  # noqa: E731
    return Case("jax", name, ours=lambda *xs: spell(tc)(*xs), theirs=lambda *xs: spell(np)(*xs),
                make=make, **options)


def cholesky(m):
    return (lambda a: tc.cholesky(a)) if m is tc else (lambda a: np.linalg.cholesky(sym(np, a)))


def psd(rng, shape):
    a = rng.standard_normal(shape[:-1] + (2 * shape[-1],))
    return a @ np.swapaxes(a, -1, -2)


def det(m):
    return tc.det if m is tc else np.linalg.det


def slogdet(m):
    return (lambda a: tc.slogdet(a)) if m is tc else np.linalg.slogdet


def svdvals(m):
    return tc.svdvals if m is tc else (lambda a: np.linalg.svd(a, compute_uv=False))


def pinv(m):
    return tc.pinv if m is tc else np.linalg.pinv


def expm(m):
    if m is tc:
        return tc.expm

    def by_eig(a):  # numpy has no expm: the exact series, summed to convergence (small norms)
        term, total = np.eye(a.shape[-1]), np.eye(a.shape[-1])
        for k in range(1, 60):
            term = term @ a / k
            total = total + term
        return total
    return by_eig


def lu(m):
    return (lambda a: tc.lu(a)) if m is tc else _numpy_lu


def _numpy_lu(a):
    """scipy.linalg.lu's P, L, U by partial pivoting, in numpy (scipy is not a dependency)."""
    a = np.array(a, dtype=float)
    if a.ndim > 2:
        parts = [_numpy_lu(x) for x in a]
        return tuple(np.stack([p[i] for p in parts]) for i in range(3))
    m, n = a.shape
    k = min(m, n)
    perm = np.arange(m)
    u = a.copy()
    lower = np.zeros((m, k))
    for j in range(k):
        p = j + int(np.argmax(np.abs(u[j:, j])))
        u[[j, p]], lower[[j, p]], perm[[j, p]] = u[[p, j]], lower[[p, j]], perm[[p, j]]
        lower[j, j] = 1.0
        lower[j + 1:, j] = u[j + 1:, j] / u[j, j]
        u[j + 1:] -= np.outer(lower[j + 1:, j], u[j])
    return np.eye(m)[:, perm], lower, np.triu(u[:k])


ROWS = []
for shape in [(1, 1), (4, 4), (2, 5, 5), (200, 200), (1000, 0, 0)]:
    ROWS.append(row(f"testCholesky {shape}", cholesky, make=lambda r, s=shape: [psd(r, s)]))
for shape in [(1, 1), (2, 2), (3, 3), (2, 2, 2), (2, 3, 3), (2, 4, 4), (5, 7, 7)]:
    ROWS.append(row(f"testDetGrad {shape}", det, shape))

    def zero(r, s=shape):  # JAX: the whole matrix zero, or the first of a stack
        a = r.standard_normal(s)
        if len(s) == 2:
            return [np.zeros(s)]
        a[0] = 0.0
        return [a]
    ROWS.append(row(f"testDetGrad {shape} at zero", det, make=zero, order=1))
ROWS.append(row("testDetGradIssue6121", lambda m: lambda x: m.sum(det(m)(x)),
                make=lambda r: [np.ones((16, 1, 1))]))
ROWS.append(row("testDetGradOfSingularMatrixCorank1", det, order=1, make=lambda r: [np.array(
    [[50, -30, 45], [-30, 90, -81], [45, -81, 81]], dtype=float)]))
ROWS.append(row("testDetGradOfSingularMatrixCorank2", det, order=1, make=lambda r: [np.array(
    [[36, -42, 18], [-42, 49, -21], [18, -21, 9]], dtype=float)]))
for shape in [(1, 1), (4, 4), (5, 5), (2, 7, 7)]:
    ROWS.append(row(f"testSlogdetGrad {shape}", slogdet, shape))
for shape in [(1, 1), (4, 4), (2, 5), (5, 2), (5, 5), (2, 5, 5)]:
    ROWS.append(row(f"testSVDGrad {shape} compute_uv=False", svdvals, shape))
    ROWS.append(row(f"testSVDGrad {shape} full_matrices=False", normalized_svd, shape))
    if shape[-1] == shape[-2]:
        ROWS.append(row(f"testSVDGrad {shape} full_matrices=True",
                        lambda m: normalized_svd(m, full=True), shape))
for shape in [(0, 0), (2, 0), (0, 2), (3, 3), (3, 4), (2, 10, 5), (2, 200, 100), (64, 16, 5),
              (33, 7, 3), (137, 9, 5), (20000, 2, 2)]:
    for mode in ("reduced", "complete"):
        ROWS.append(row(f"testQr {shape} {mode}", lambda m, mode=mode: qr_times(m, mode), shape,
                        order=1, missing=None if mode == "reduced" or shape[-2] <= shape[-1] else
                        "qr's mode='complete' of a tall matrix (Q's extra columns)"))
for shape, hermitian in [((1, 1), False), ((1, 1), True), ((4, 4), False), ((4, 4), True),
                         ((3, 10, 10), False), ((3, 10, 10), True), ((2, 70, 7), False),
                         ((2000, 7), False), ((7, 1000), False), ((70, 7, 2), False),
                         ((2, 0, 0), False), ((2, 0, 0), True), ((3, 0, 2), False),
                         ((1, 0), False), ((400000, 2), False), ((2, 400000), False)]:
    name = f"testPinv {shape}" + (" hermitian" if hermitian else "")
    spell = (lambda m: lambda a: pinv(m)(sym(m, a))) if hermitian else pinv
    ROWS.append(row(name, spell, shape, order=1))
ROWS.append(row("testPinvGradIssue2792", missing="pinv at a rank-deficient matrix (refused: X⁺ "
                                                 "jumps where the rank drops)"))
for shape in [(1, 1), (4, 5), (10, 5), (10, 10), (6, 7, 7)]:
    ROWS.append(row(f"testLuGrad {shape}", lu, shape, missing=None if shape[-1] == shape[-2] else
                    "lu of a rectangular matrix"))
for n in [1, 4, 5, 20, 50]:
    ROWS.append(row(f"testExpmGrad n={n}", expm, order=1, make=lambda r, n=n: [
        (lambda a: a / np.linalg.norm(a, 1) * 0.9)(r.standard_normal((n, n)))]))
for shape in [(1, 1), (4, 4), (5, 5), (25, 25), (2, 10, 10)]:
    for lower in (True, False):
        ROWS.append(row(f"testEighGrad {shape} lower={lower}", normalized_eigh, make=lambda r, s=shape, lw=lower: [
            (lambda a: a * (np.tril(np.ones(s[-2:])) if lw else np.triu(np.ones(s[-2:]))))(
                sym(np, r.standard_normal(s)))]))
ROWS.append(row("testEighGradRankPromotion", normalized_eigh, (10, 3, 3), order=1))

# rows whose function is not in tensorcalc yet (their builders stay, as in autograd_suite.py)
PENDING: dict = {}
ROWS = [Case(**{**c.__dict__, "missing": f"{PENDING[c.name.split()[0]]} (not in tensorcalc yet)"})
        if c.name.split()[0] in PENDING and not c.missing else c for c in ROWS]


def summary() -> str:
    written = [c for c in ROWS if c.status == "written"]
    missing = [c for c in ROWS if c.missing]
    lines = [BEGIN, "", f"{len(written)} of JAX's {len(ROWS)} gradient checks of these functions "
             f"({100 * len(written) / len(ROWS):.1f}%) are written with tensorcalc's names and "
             "pass. Not yet:", ""]
    lines += [f"- {c.name}: {c.missing}" for c in missing]
    return "\n".join(lines + ["", END])


def write_readme() -> None:
    write_between(BEGIN, END, summary())


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_readme()
    print(summary())
