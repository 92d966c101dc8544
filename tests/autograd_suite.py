"""HIPS autograd's gradient tests, re-expressed with tensorcalc's own names: the measure of
issues 18 and 19 ("at least 95% of the functions in autograd's test_numpy / test_linalg /
test_systematic that a matrix-calculus engine should handle can be written").

One row per test function of autograd's ``tests/test_systematic.py``, ``tests/test_numpy.py`` and
``tests/test_linalg.py`` (HIPS/autograd at bff107b, read 2026-12-04), keeping the function and
its inputs (one representative of each ``combo_check`` grid, often the hardest: an axis with
keepdims, a stacked matrix). A row is one of

* written: ``ours`` builds the function from tensorcalc variables with tensorcalc's names, and
  ``theirs`` is the same function written with numpy, the independent oracle;
  ``tests/test_autograd_suite.py`` checks the value and the gradient of a random weighting of
  the output (against central differences of ``theirs``);
* out of scope (``scope=``, with the reason the issues give: complex numbers, Python containers of
  arrays, random sampling, autograd's own machinery, dtypes);
* not yet (``missing=``, saying what is missing).

Run it for the counts: ``PYTHONPATH=$PWD python tests/autograd_suite.py``; ``--write`` puts the
summary into README.md (``tests/test_autograd_suite.py`` fails unless README holds it).
"""

from __future__ import annotations

import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

import tensorcalc as tc

README = Path(__file__).resolve().parent.parent / "README.md"
BEGIN, END = "<!-- autograd suite: begin -->", "<!-- autograd suite: end -->"
SUITES = ("test_systematic", "test_numpy", "test_linalg")


@dataclass(frozen=True)
class Case:
    suite: str
    name: str
    ours: Callable | None = None
    theirs: Callable | None = None
    shapes: tuple = ()
    lims: tuple = (-2.0, 2.0)
    make: Callable | None = None  # rng -> list of input arrays, where random draws won't do
    scope: str | None = None
    missing: str | None = None
    tolerance: float = 1e-5
    order: int = 2  # 1: the gradient only (the suite checks only first derivatives there)
    extra: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        return "out of scope" if self.scope else "not yet" if self.missing else "written"

    def inputs(self) -> list:
        rng = np.random.default_rng(zlib.crc32(f"{self.suite}.{self.name}".encode()))
        if self.make is not None:
            return [np.asarray(a, dtype=float) for a in self.make(rng)]
        lo, hi = self.lims
        return [lo + (hi - lo) * rng.random(s) for s in self.shapes]


def same(spell, shapes=(), **options) -> dict:
    """A function spelled the same with ``tc`` and with ``np``: ``spell(m)`` is it for module
    ``m``."""
    return dict(ours=lambda *xs: spell(tc)(*xs), theirs=lambda *xs: spell(np)(*xs), shapes=shapes,
                **options)


def pair(ours, theirs, shapes=(), **options) -> dict:
    return dict(ours=ours, theirs=theirs, shapes=shapes, **options)


def out(reason):
    return dict(scope=reason)


def later(reason):
    return dict(missing=reason)


COMPLEX = "complex numbers"
CONTAINER = "a Python list or tuple of traced scalars (autograd's containers)"
MACHINERY = "autograd's own machinery, not a function"


def rows(suite: str, table: dict) -> list:
    return [Case(suite, name, **spec) for name, spec in table.items()]


def sym_lower(m, a):
    """numpy's ``eigh``/``cholesky`` read the lower triangle: the symmetric matrix it stands
    for, written with ``tril``."""
    lower = m.tril(a)
    return lower + m.swapaxes(m.tril(a, -1), -1, -2)


def sym_upper(m, a):
    upper = m.triu(a)
    return upper + m.swapaxes(m.triu(a, 1), -1, -2)


def psd(rng, *batch, d=6):
    a = rng.standard_normal(batch + (d, d))
    return a @ np.swapaxes(a, -1, -2) + d * np.eye(d)


def tril_of(m, a):  # autograd's check_symmetric_matrix_grads: the input symmetrized from tril
    lower = m.tril(a)
    return (lower + m.swapaxes(lower, -1, -2)) / 2.0


def select(m, conditions, choices, default):
    if m is np:
        return np.select(conditions, choices, default)
    result = default
    for c, x in reversed(list(zip(conditions, choices))):
        result = tc.where(c, x, result)
    return result


RNG = np.random.default_rng(2026)
MASK = RNG.standard_normal((4, 5)) > 0
SELECT = [RNG.standard_normal((3, 4, 5)) > 0 for _ in range(3)]
CONST32 = RNG.standard_normal((3, 2))
C10 = RNG.standard_normal(10)
NOISE6 = RNG.standard_normal(6)

SYSTEMATIC = {
    # statistics: stat_check, one axis with keepdims (and the whole array for max/min/sum)
    "test_max": same(lambda m: lambda x: m.max(x, axis=0, keepdims=True), [(2, 3)]),
    "test_mean": same(lambda m: lambda x: m.mean(x, axis=0, keepdims=True), [(2, 3)]),
    "test_min": same(lambda m: lambda x: m.min(x, axis=1, keepdims=True), [(2, 3)]),
    "test_sum": same(lambda m: lambda x: m.sum(x, axis=0, keepdims=True), [(2, 3)]),
    "test_prod": same(lambda m: lambda x: m.prod(x, axis=0, keepdims=True), [(2, 3)]),
    "test_var": pair(lambda x: tc.variance(x, axis=0, keepdims=True),
                     lambda x: np.var(x, axis=0, keepdims=True), [(2, 3)]),
    "test_std": pair(lambda x: tc.std(x, axis=1, keepdims=True),
                     lambda x: np.std(x, axis=1, keepdims=True), [(2, 3)]),
    # unary ufuncs: unary_ufunc_check at its limits
    "test_sin": same(lambda m: m.sin, [(3, 2)]),
    "test_abs": same(lambda m: m.abs, [(3, 2)], lims=(0.1, 4.0)),
    "test_absolute": same(lambda m: m.absolute, [(3, 2)], lims=(0.1, 4.0)),
    "test_arccosh": same(lambda m: m.arccosh, [(3, 2)], lims=(1.1, 4.0)),
    "test_arcsinh": same(lambda m: m.arcsinh, [(3, 2)], lims=(-0.9, 0.9)),
    "test_arctanh": same(lambda m: m.arctanh, [(3, 2)], lims=(-0.9, 0.9)),
    "test_ceil": same(lambda m: m.ceil, [(3, 2)], lims=(-1.5, 1.5)),
    "test_cos": same(lambda m: m.cos, [(3, 2)]),
    "test_cosh": same(lambda m: m.cosh, [(3, 2)]),
    "test_deg2rad": same(lambda m: m.deg2rad, [(3, 2)], lims=(-10.0, 10.0)),
    "test_degrees": same(lambda m: m.degrees, [(3, 2)], lims=(-1.0, 1.0)),
    "test_exp": same(lambda m: m.exp, [(3, 2)]),
    "test_exp2": same(lambda m: m.exp2, [(3, 2)]),
    "test_expm1": same(lambda m: m.expm1, [(3, 2)]),
    "test_fabs": same(lambda m: m.fabs, [(3, 2)], lims=(0.1, 4.0)),
    "test_floor": same(lambda m: m.floor, [(3, 2)], lims=(-1.5, 1.5)),
    "test_log": same(lambda m: m.log, [(3, 2)], lims=(0.2, 2.0)),
    "test_log10": same(lambda m: m.log10, [(3, 2)], lims=(0.2, 2.0)),
    "test_log1p": same(lambda m: m.log1p, [(3, 2)], lims=(0.2, 2.0)),
    "test_log2": same(lambda m: m.log2, [(3, 2)], lims=(0.2, 2.0)),
    "test_rad2deg": same(lambda m: m.rad2deg, [(3, 2)], lims=(-1.0, 1.0)),
    "test_radians": same(lambda m: m.radians, [(3, 2)], lims=(-10.0, 10.0)),
    "test_sign": same(lambda m: m.sign, [(3, 2)]),
    "test_sinh": same(lambda m: m.sinh, [(3, 2)]),
    "test_sqrt": same(lambda m: m.sqrt, [(3, 2)], lims=(1.0, 3.0)),
    "test_square": same(lambda m: m.square, [(3, 2)]),
    "test_tan": same(lambda m: m.tan, [(3, 2)], lims=(-1.1, 1.1)),
    "test_tanh": same(lambda m: m.tanh, [(3, 2)]),
    "test_real": out(COMPLEX), "test_real_ic": out(COMPLEX), "test_imag": out(COMPLEX),
    "test_conj": out(COMPLEX), "test_conjugate": out(COMPLEX), "test_angle": out(COMPLEX),
    # binary ufuncs, broadcasting (1, 2) against (3, 2)
    "test_add": same(lambda m: m.add, [(1, 2), (3, 2)]),
    "test_logaddexp": same(lambda m: m.logaddexp, [(1, 2), (3, 2)]),
    "test_logaddexp2": same(lambda m: m.logaddexp2, [(1, 2), (3, 2)]),
    "test_remainder": same(lambda m: m.remainder, make=lambda r: [
        r.uniform(-0.9, 0.9, (3, 2)), r.uniform(0.7, 1.9, (3, 2))]),
    "test_true_divide": same(lambda m: m.true_divide, make=lambda r: [
        r.uniform(-2, 2, (3, 2)), r.uniform(0.8, 1.2, (1, 2))]),
    "test_mod": same(lambda m: m.mod, make=lambda r: [
        r.uniform(-2, 2, (3, 2)), r.uniform(0.8, 2.1, (3, 2))]),
    "test_true_divide_neg": same(lambda m: m.true_divide, make=lambda r: [
        r.uniform(-2, 2, (3, 2)), r.uniform(-2.0, -0.3, (3, 2))]),
    "test_mod_neg": same(lambda m: m.mod, make=lambda r: [
        r.uniform(-2, 2, (3, 2)), r.uniform(-2.0, -0.3, (3, 2))]),
    "test_op_mul": same(lambda m: lambda a, b: a * b, [(1, 2), (3, 2)]),
    "test_op_add": same(lambda m: lambda a, b: a + b, [(1, 2), (3, 2)]),
    "test_op_sub": same(lambda m: lambda a, b: a - b, [(1, 2), (3, 2)]),
    "test_op_mod": same(lambda m: lambda a, b: m.mod(a, b), make=lambda r: [
        r.uniform(-2, 2, (3, 2)), r.uniform(0.3, 2.0, (3, 2))]),
    "test_op_mod_neg": same(lambda m: lambda a, b: m.mod(a, b), make=lambda r: [
        r.uniform(-2, 2, (3, 2)), r.uniform(-2.0, -0.3, (3, 2))]),
    # arrays
    "test_transpose": same(lambda m: lambda x: m.transpose(x, (2, 0, 1)), [(2, 3, 4)]),
    "test_moveaxis": same(lambda m: lambda x: m.moveaxis(x, 0, 2), [(2, 3, 4)]),
    "test_repeat": same(lambda m: lambda x: m.repeat(x, 2, axis=1), [(2, 3, 4)]),
    "test_diff": pair(lambda x: tc.diff(tc.diff(x, axis=0), axis=0),
                      lambda x: np.diff(x, n=2, axis=0), [(5, 5, 5)]),
    "test_gradient": same(lambda m: lambda x: m.gradient(x, axis=(0, -1)), [(5, 5, 5)]),
    "test_tile": same(lambda m: lambda x: m.tile(x, (1, 4, 1, 2)), [(2, 1, 3, 1)]),
    "test_kron": same(lambda m: m.kron, [(5, 5), (3, 3)]),
    "test_inner": same(lambda m: m.inner, [(2, 3), (4, 3)]),
    "test_dot": same(lambda m: m.dot, [(2, 2, 3), (2, 3, 4)]),
    "test_outer": same(lambda m: m.outer, [(3,), (3,)]),
    "test_matmul": same(lambda m: m.matmul, [(2, 2, 3), (2, 3, 4)]),
    "test_matmul_broadcast": same(lambda m: m.matmul, [(1, 2, 2), (3, 2, 1)]),
    "test_tensordot_1": same(lambda m: lambda a, b: m.tensordot(a, b, [(1,), (0,)]),
                             [(2, 3, 2), (3, 4, 2)]),
    "test_tensordot_2": same(lambda m: lambda a, b: m.tensordot(a, b, [(0,), (1,)]),
                             [(3, 4, 2), (2, 3, 2)]),
    "test_tensordot_3": same(lambda m: lambda a, b: m.tensordot(a, b, [(1, 0), (2, 1)]),
                             [(2, 3, 4), (2, 2, 3, 4)]),
    "test_tensordot_4": same(lambda m: lambda a, b: m.tensordot(a, b, 2), [(4, 2, 2), (2, 2, 4)]),
    "test_tensordot_5": same(lambda m: lambda a, b: m.tensordot(a, b, 0), [(4,), ()]),
    "test_tensordot_6": same(lambda m: lambda a, b: m.tensordot(a, b, [[-1], [0]]), [(2, 6), (6, 3)]),
    "test_tensordot_7": same(lambda m: lambda a, b: m.tensordot(a, b, [-1, 0]), [(2, 6), (6, 3)]),
    "test_tensordot_8": same(lambda m: lambda a, b: m.tensordot(a, b, [0, 1]), [(2,), (2, 2)]),
    "test_maximum": same(lambda m: m.maximum, [(1, 4), (3, 4)]),
    "test_fmax": same(lambda m: m.fmax, [(1, 4), (3, 4)]),
    "test_minimum": same(lambda m: m.minimum, [(1, 4), (3, 4)]),
    "test_fmin": same(lambda m: m.fmin, [(1, 4), (3, 4)]),
    "test_sort": same(lambda m: m.sort, [(7,)]),
    "test_partition": pair(lambda x: tc.partition(x, 3), lambda x: np.partition(x, 3), [(7,)],
                           extra={"kth": 3}),
    "test_atleast_1d": same(lambda m: m.atleast_1d, [()]),
    "test_atleast_2d": same(lambda m: m.atleast_2d, [(7,)]),
    "test_atleast_3d": same(lambda m: m.atleast_3d, [(2, 4)]),
    "test_einsum_transpose": same(lambda m: lambda x: m.einsum("ij->ji", x), [(3, 4)]),
    "test_einsum_matmult": same(lambda m: lambda a, b: m.einsum("ij,jk->ik", a, b), [(2, 3), (3, 4)]),
    "test_einsum_matmult_broadcast": same(
        lambda m: lambda a, b: m.einsum("...ij,...jk->...ik", a, b), [(2, 2, 3), (2, 3, 4)]),
    "test_einsum_matmult_broadcast_leadzero": same(
        lambda m: lambda a, b: m.einsum("...ij,...jk->...ik", a, b), [(0, 2, 3), (0, 3, 4)]),
    "test_einsum_covsum": same(lambda m: lambda a, b: m.einsum("ijk,lji->lki", a, b),
                               [(3, 4, 4), (4, 4, 3)]),
    "test_einsum_ellipses": same(lambda m: lambda a, b: m.einsum("...jk,...lj->...lk", a, b),
                                 [(3, 4, 4), (3, 4, 4)]),
    "test_einsum_ellipses_tail": same(lambda m: lambda a, b: m.einsum("jk...,lj...->lk...", a, b),
                                      [(3, 2, 4), (2, 3, 4)]),
    "test_einsum_ellipses_center": same(
        lambda m: lambda a, b: m.einsum("j...k,lj...->lk...", a, b), [(2, 2, 2), (2, 2, 2)]),
    "test_einsum_three_args": same(lambda m: lambda a, b, c: m.einsum("ijk,lji,lli->lki", a, b, c),
                                   [(3, 4, 4), (4, 4, 3), (4, 4, 3)]),
    "test_einsum2_transpose": pair(lambda x: tc.einsum("ij->ji", x),
                                   lambda x: np.einsum(x, [0, 1], [1, 0]), [(3, 4)]),
    "test_einsum2_matmult": pair(lambda a, b: tc.einsum("ij,jk->ik", a, b),
                                 lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [0, 2]),
                                 [(2, 3), (3, 4)]),
    "test_einsum2_matmult_broadcast": pair(
        lambda a, b: tc.einsum("...ij,...jk->...ik", a, b),
        lambda a, b: np.einsum(a, [Ellipsis, 0, 1], b, [Ellipsis, 1, 2], [Ellipsis, 0, 2]),
        [(2, 2, 3), (2, 3, 4)]),
    "test_einsum2_covsum": pair(lambda a, b: tc.einsum("ijk,lji->lki", a, b),
                                lambda a, b: np.einsum(a, [0, 1, 2], b, [3, 1, 0], [3, 2, 0]),
                                [(3, 4, 4), (4, 4, 3)]),
    "test_einsum2_three_args": pair(
        lambda a, b, c: tc.einsum("ijk,lji,lli->lki", a, b, c),
        lambda a, b, c: np.einsum(a, [0, 1, 2], b, [3, 1, 0], c, [3, 3, 0], [3, 2, 0]),
        [(3, 4, 4), (4, 4, 3), (4, 4, 3)]),
    "test_einsum_naked_sum": same(lambda m: lambda a, b: m.einsum("k,nk->", a, b), [(5,), (10, 5)]),
    "test_einsum_naked_sum2": same(lambda m: lambda x: m.einsum("abcd->bd", x), [(3, 2, 3, 2)]),
    "test_einsum_naked_sum_ellipsis": same(lambda m: lambda a, b: m.einsum("...k,...nk->...", a, b),
                                           [(3, 5), (3, 10, 5)]),
    "test_einsum_no_output_indices": same(lambda m: lambda a, b: m.einsum("ij,k", a, b),
                                          [(3, 4), (3,)]),
    "test_trace": same(lambda m: lambda x: m.trace(x, offset=1), [(3, 4, 5)]),
    "test_diag": same(lambda m: lambda x: m.diag(x, k=-1), [(5, 5)]),
    "test_diag_flat": same(lambda m: lambda x: m.diag(x, k=1), [(5,)]),
    "test_tril": same(lambda m: lambda x: m.tril(x, k=-1), [(5, 5)]),
    "test_triu": same(lambda m: lambda x: m.triu(x, k=1), [(5, 5)]),
    "test_tril_3d": same(lambda m: lambda x: m.tril(x, k=1), [(5, 5, 4)]),
    "test_triu_3d": same(lambda m: lambda x: m.triu(x, k=-1), [(5, 5, 4)]),
    "test_swapaxes": same(lambda m: lambda x: m.swapaxes(x, 0, 2), [(3, 4, 5)]),
    "test_rollaxis": same(lambda m: lambda x: m.rollaxis(x, 2, 1), [(2, 3, 4)]),
    "test_cross": same(lambda m: lambda a, b: m.cross(a, b, axis=0), [(3, 3), (3, 3)]),
    "test_vsplit_2d": same(lambda m: lambda x: m.vsplit(x, [1, 2]), [(4, 8)]),
    "test_vsplit_3d": same(lambda m: lambda x: m.vsplit(x, 2), [(4, 4, 4)]),
    "test_hsplit_2d": same(lambda m: lambda x: m.hsplit(x, 4), [(4, 8)]),
    "test_hsplit_3d": same(lambda m: lambda x: m.hsplit(x, [1, 2]), [(4, 4, 4)]),
    "test_dsplit_3d": same(lambda m: lambda x: m.dsplit(x, [1, 2]), [(4, 4, 4)]),
    "test_split_1d": same(lambda m: lambda x: m.split(x, 1, axis=0), [(7,)]),
    "test_split_2d": same(lambda m: lambda x: m.split(x, [1, 2], axis=1), [(4, 8)]),
    "test_split_3d": same(lambda m: lambda x: m.split(x, 2, axis=2), [(4, 4, 4)]),
    "test_array_split_1d": same(lambda m: lambda x: m.array_split(x, 3, axis=0), [(7,)]),
    "test_array_split_2d": same(lambda m: lambda x: m.array_split(x, 4, axis=1), [(7, 7)]),
    "test_array_split_3d": same(lambda m: lambda x: m.array_split(x, [3, 5], axis=2), [(7, 7, 7)]),
    "test_concatenate_1ist": same(lambda m: lambda a, b: m.concatenate((a, b), axis=0), [(1,), (3,)]),
    "test_concatenate_tuple": same(lambda m: lambda a, b: m.concatenate([a, b], axis=0), [(1,), (3,)]),
    "test_concatenate_2d": same(lambda m: lambda a, b: m.concatenate((a, b), axis=1), [(2, 2), (2, 2)]),
    "test_concatenate_3d": same(lambda m: lambda a, b: m.concatenate((a, b), axis=2),
                                [(2, 2, 2), (2, 2, 2)]),
    "test_vstack_1d": same(lambda m: lambda a, b: m.vstack((a, b)), [(2,), (2,)]),
    "test_vstack_2d": same(lambda m: lambda a, b: m.vstack((a, b)), [(2, 4), (1, 4)]),
    "test_vstack_3d": same(lambda m: lambda a, b: m.vstack((a, b)), [(2, 3, 4), (5, 3, 4)]),
    "test_hstack_1d": same(lambda m: lambda a, b: m.hstack((a, b)), [(2,), (2,)]),
    "test_hstack_2d": same(lambda m: lambda a, b: m.hstack((a, b)), [(3, 4), (3, 5)]),
    "test_hstack_3d": same(lambda m: lambda a, b: m.hstack((a, b)), [(2, 1, 4), (2, 5, 4)]),
    "test_stack_1d": same(lambda m: lambda a, b: m.stack((a, b), axis=1), [(2,), (2,)]),
    "test_row_stack_1d": pair(lambda a, b: tc.row_stack((a, b)), lambda a, b: np.vstack((a, b)),
                              [(2,), (2,)]),
    "test_row_stack_2d": pair(lambda a, b: tc.row_stack((a, b)), lambda a, b: np.vstack((a, b)),
                              [(2, 4), (1, 4)]),
    "test_column_stack_1d": same(lambda m: lambda a, b: m.column_stack((a, b)), [(2,), (2,)]),
    "test_column_stack_2d": same(lambda m: lambda a, b: m.column_stack((a, b)), [(2, 2), (2, 2)]),
    "test_select": same(lambda m: lambda a, b, c: select(m, SELECT, [a, b, c], 1.1),
                        [(3, 4, 5)] * 3),
    "test_pad": pair(lambda x: tc.pad(x, ((1, 2), (3, 4))),
                     lambda x: np.pad(x, ((1, 2), (3, 4)), "constant"), [(2, 2)]),
}

NUMPY = {
    "test_numpy_version": out(MACHINERY),
    "test_dot": same(lambda m: m.dot, [(10, 11), (11,)]),
    "test_dot_with_floats": same(lambda m: m.dot, [(), (10, 11)]),
    "test_outer": same(lambda m: m.outer, [(11,), (11,)]),
    "test_max": same(lambda m: m.max, [(10, 11)]),
    "test_max_axis": same(lambda m: lambda x: m.max(x, axis=1), [(3, 4, 5)]),
    "test_max_axis_keepdims": same(lambda m: lambda x: m.max(x, axis=1, keepdims=True), [(3, 4, 5)]),
    "test_min": same(lambda m: m.min, [(10, 11)]),
    "test_min_axis": same(lambda m: lambda x: m.min(x, axis=1), [(3, 4, 5)]),
    "test_min_axis_keepdims": same(lambda m: lambda x: m.min(x, axis=1, keepdims=True), [(3, 4, 5)]),
    "test_sum_1": same(lambda m: m.sum, [(10, 11)]),
    "test_sum_2": same(lambda m: lambda x: m.sum(x, axis=0), [(10, 11)]),
    "test_sum_3": same(lambda m: lambda x: m.sum(x, axis=0, keepdims=True), [(10, 11)]),
    "test_sum_with_axis_tuple": same(lambda m: lambda x: m.sum(x, axis=(1, 2)), [(10, 11, 7)]),
    "test_plain_numpy_reductions_on_box": out(MACHINERY),
    "test_flipud": same(lambda m: m.flipud, [(10, 11)]),
    "test_fliplr": same(lambda m: m.fliplr, [(10, 11)]),
    "test_rot90": same(lambda m: m.rot90, [(10, 11)]),
    "test_cumsum_axis0": same(lambda m: lambda x: m.cumsum(x, axis=0), [(10, 11)]),
    "test_cumsum_axis1": same(lambda m: lambda x: m.cumsum(x, axis=1), [(10, 11)]),
    "test_cumsum_1d": same(lambda m: m.cumsum, [(10,)]),
    "test_cumsum_no_axis": same(lambda m: m.cumsum, [(10, 11)]),
    "test_non_numpy_sum": same(lambda m: lambda a, b: sum([a, b]), [(10, 11), (10, 11)]),
    "test_mean_1": same(lambda m: m.mean, [(10, 11)]),
    "test_mean_2": same(lambda m: lambda x: m.mean(x, axis=0), [(10, 11)]),
    "test_mean_3": same(lambda m: lambda x: m.mean(x, axis=0, keepdims=True), [(10, 11)]),
    "test_mean_list_of_boxes": out(CONTAINER),
    "test_std_list_of_boxes": out(CONTAINER),
    "test_var_list_of_boxes": out(CONTAINER),
    "test_index_ints": same(lambda m: lambda x: x[3, 0, 1], [(5, 6, 4)]),
    "test_index_slice": same(lambda m: lambda x: x[::-1, 2:4, :], [(5, 6, 4)]),
    "test_index_lists": same(lambda m: lambda x: x[[0, 1, 2], :, :], [(5, 6, 4)]),
    "test_index_mixed": pair(lambda x: tc.moveaxis(x[3, 2:][:, [1, 3]], 1, 0),
                             lambda x: x[3, 2:, [1, 3]], [(5, 6, 4)]),
    "test_vector_slice": same(lambda m: lambda x: x[2:4], [(5,)]),
    "test_index_slice_fanout": same(lambda m: lambda x: x[::-1, 2:4, :] + x[::-1, 3:5, :],
                                    [(5, 6, 4)]),
    "test_index_multiple_slices": same(lambda m: lambda x: x[2:6][1:3], [(7,)]),
    "test_reshape_method": same(lambda m: lambda x: x.reshape((5 * 4, 6)), [(5, 6, 4)]),
    "test_reshape_call": same(lambda m: lambda x: m.reshape(x, (5 * 4, 6)), [(5, 6, 4)]),
    "test_reshape_method_nolist": same(lambda m: lambda x: x.reshape(5 * 4, 6), [(5, 6, 4)]),
    "test_ravel_method": same(lambda m: lambda x: x.ravel(), [(5, 6, 4)]),
    "test_ravel_call": same(lambda m: m.ravel, [(5, 6, 4)]),
    "test_flatten_method": same(lambda m: lambda x: x.flatten(), [(5, 6, 4)]),
    "test_simple_append_list": same(lambda m: m.append, [(3,), ()]),
    "test_simple_append_arr": same(lambda m: m.append, [(3,), ()]),
    "test_simple_append_list_2D": same(lambda m: lambda a, b: m.append(a, b, axis=0),
                                       [(2, 3), (1, 3)]),
    "test_simple_concatenate": same(lambda m: lambda x: m.concatenate((CONST32[None].repeat(5, 0), x)),
                                    [(4, 3, 2)]),
    "test_concatenate_axis_0": same(lambda m: lambda a, b: m.concatenate((b, a, b)),
                                    [(5, 6, 4), (5, 6, 4)]),
    "test_concatenate_axis_1": same(lambda m: lambda a, b: m.concatenate((b, a, b), axis=1),
                                    [(5, 6, 4), (5, 6, 4)]),
    "test_concatenate_axis_1_unnamed": same(lambda m: lambda a, b: m.concatenate((b, a, b), 1),
                                            [(5, 6, 4), (5, 6, 4)]),
    "test_trace": same(lambda m: lambda x: m.trace(x, offset=-3), [(10, 11)]),
    "test_trace2": same(lambda m: lambda x: m.trace(x, offset=4), [(11, 10)]),
    "test_trace_extradims": same(lambda m: lambda x: m.trace(x, offset=2), [(5, 6, 4, 3)]),
    "test_diag": same(lambda m: m.diag, [(10, 10)]),
    "test_transpose": same(lambda m: lambda x: x.T, [(8, 8)]),
    "test_roll": same(lambda m: lambda x: m.roll(x, 2, axis=1), [(4, 5)]),
    "test_roll_no_axis": same(lambda m: lambda x: m.roll(x, 2, axis=1), [(4, 5)]),
    "test_triu": same(lambda m: lambda x: m.triu(x, k=2), [(5, 5)]),
    "test_tril": same(lambda m: lambda x: m.tril(x, k=2), [(5, 5)]),
    "test_clip": same(lambda m: lambda x: m.clip(x, 0.1, 1.1), [(5, 5)]),
    "test_prod_1": same(lambda m: m.prod, [(2, 3)], lims=(0.1, 1.0)),
    "test_prod_2": same(lambda m: lambda x: m.prod(x, axis=0), [(2, 3)], lims=(0.1, 2.0)),
    "test_prod_3": same(lambda m: lambda x: m.prod(x, axis=0, keepdims=True), [(2, 3)],
                        lims=(0.1, 2.0)),
    "test_prod_4": same(lambda m: m.prod, [(7,)], lims=(0.1, 2.0)),
    "test_1d_array": same(lambda m: lambda x: m.stack([x, x * 1.0, x + 2.5]), [()]),
    "test_2d_array": same(lambda m: lambda x: m.stack([m.stack([x, x * 1.0, x + 2.5]),
                                                       m.stack([x ** 2, x, x / 2.0])]), [()]),
    "test_1d_array_fanout": same(lambda m: lambda x: (lambda a: a + a)(m.stack([x, x * 1.0, x + 2.5])),
                                 [()]),
    "test_2d_array_fanout": same(
        lambda m: lambda x: (lambda a: a + a)(m.stack([m.stack([x, x * 1.0, x + 2.5]),
                                                       m.stack([x ** 2, x, x / 2.0])])), [()]),
    "test_array_from_scalar": same(lambda m: lambda x: x, [()]),
    "test_scalar_array_box_attributes": out(MACHINERY),
    "test_array_from_arrays": same(lambda m: lambda x: m.stack([x, x]), [(3, 2)]),
    "test_array_from_arrays_2": same(lambda m: lambda x: m.stack([m.stack([2 * x, x + 1]),
                                                                  m.stack([x, x])]), [(3, 2)]),
    "test_len": out(MACHINERY),
    "test_r_basic": same(lambda m: lambda x: m.concatenate([x]), [(3, 2)]),
    "test_r_double": same(lambda m: lambda x: m.concatenate([x, x]), [(3, 2)]),
    "test_no_relation": out(MACHINERY + " (a constant output)"),
    "test_r_no_relation": out(MACHINERY + " (a constant output)"),
    "test_r_node_and_const": same(lambda m: lambda x: m.concatenate([x, CONST32]), [(3, 2)]),
    "test_r_mixed": same(lambda m: lambda x: m.concatenate([x, CONST32, x]), [(3, 2)]),
    "test_r_slicing": same(lambda m: lambda x: m.concatenate([x, C10, np.arange(1.0, 10.0)]),
                           [(10,)]),
    "test_c_": same(lambda m: lambda x: m.concatenate([x, CONST32, x], axis=1), [(3, 2)]),
    "test_c_mixed": same(lambda m: lambda x: m.concatenate([x, CONST32, x], axis=1), [(3, 2)]),
    "test_var_ddof": pair(lambda x: tc.variance(x, axis=1, ddof=2, keepdims=True),
                          lambda x: np.var(x, axis=1, ddof=2, keepdims=True), [(3, 4)]),
    "test_std_ddof": pair(lambda x: tc.std(x, ddof=1), lambda x: np.std(x, ddof=1), [(3, 4)]),
    "test_where": same(lambda m: lambda a, b: m.where(MASK, a, b), [(4, 5), (4, 5)]),
    "test_squeeze_func": same(lambda m: m.squeeze, [(5, 1, 4)]),
    "test_squeeze_method": same(lambda m: lambda x: x.squeeze(), [(5, 1, 4)]),
    "test_repeat": same(lambda m: lambda x: m.repeat(x, 2, axis=1), [(5, 3, 4)]),
    "test_repeat_axis1_rep1": same(lambda m: lambda x: m.repeat(x, 1, axis=1), [(5, 3, 4)]),
    "test_repeat_axis0": same(lambda m: lambda x: m.repeat(x, 2, axis=0), [(5, 3)]),
    "test_repeat_1d_axis0": same(lambda m: lambda x: m.repeat(x, 2, axis=0), [(5,)]),
    "test_repeat_axis0_rep1": same(lambda m: lambda x: m.repeat(x, 1, axis=0), [(5, 1)]),
    "test_expand_dims": same(lambda m: lambda x: m.expand_dims(x, 2), [(5, 1, 4)]),
    "test_tensordot_kwargs_by_position": same(
        lambda m: lambda x: m.tensordot(x * np.ones((2, 2)), x * np.ones((2, 2)), 2), [()]),
    "test_multi_index": same(lambda m: lambda x: m.sum(x[[0, 0]]), [(3,)]),
    "test_multi_index2": same(lambda m: lambda x: m.sum(x[[0, 1, 0]]), [(3,)]),
    "test_index_dot_slices": same(lambda m: lambda x: m.dot(x[:2], x[2:]), [(4,)]),
    "test_cast_to_int": later("an index computed from a variable's values (np.int64(W[:, -1]))"),
    "test_make_diagonal": pair(lambda d: tc.einsum("...i->...ii", d),
                               lambda d: d[..., None] * np.eye(d.shape[-1]), [(3, 4)]),
    "test_diagonal": same(lambda m: lambda x: m.diagonal(x, axis1=-1, axis2=-2), [(3, 4, 4)]),
    "test_nan_to_num": same(lambda m: lambda x: m.sum(m.sin(m.nan_to_num(
        x + np.array([0.0, np.nan, np.inf, -np.inf])))), [(4,)], order=1),
    "test_max_equal_values": same(lambda m: lambda x: m.max(m.stack([x, x])), [()],
                                  make=lambda r: [np.array(1.0)]),
    "test_max_equal_values_2d": same(
        lambda m: lambda x: m.max(m.stack([m.stack([x, x]), m.stack([x, 0.5 + 0 * x])]), axis=1),
        make=lambda r: [np.array(1.0)]),
    "test_min_3_way_equality": same(
        lambda m: lambda x: m.min(m.stack([m.stack([x, x, x]), m.stack([x, h(x), h(x)]),
                                           m.stack([h(x), h(x), h(x)]), m.stack([x, x, h(x)])]),
                                  axis=0), make=lambda r: [np.array(1.0)]),
    "test_maximum_equal_values": same(lambda m: lambda x: m.maximum(x, x), [()],
                                      make=lambda r: [np.array(1.0)]),
    "test_maximum_equal_values_2d": same(
        lambda m: lambda x: m.maximum(m.stack([x, x, h(x)]),
                                      m.stack([m.stack([x, h(x), x]), m.stack([x, x, h(x)])])),
        make=lambda r: [np.array(2.0)]),
    "test_linspace": same(lambda m: lambda a, b: m.linspace(a, b, 5), make=lambda r: [
        np.array(1.2), np.array(-3.4)]),
    "test_astype": out("dtypes (float32 in, float32 gradient)"),
    "test_gradient": same(lambda m: m.gradient, [(10, 10)]),
}


def h(x):
    """The constant 0.5, shaped like the scalar ``x`` (autograd's tests mix it into arrays)."""
    return 0.5 + 0 * x


LINALG = {
    "test_inv": same(lambda m: m.linalg.inv if m is np else m.inv,
                     make=lambda r: [(lambda a: a @ a + np.eye(8))(r.standard_normal((8, 8)))]),
    "test_pinv": later("pinv of a rank-deficient matrix (its second half, pinv(XᵀX) of rank 5 "
                       "at 7×7; the full-rank half is written)"),
    "test_inv_3d": pair(tc.inv, np.linalg.inv,
                        make=lambda r: [r.standard_normal((4, 4, 4, 4)) + 5 * np.eye(4)]),
    "test_solve_arg1": pair(lambda a: tc.solve(a, NOISE6[:, None] * np.ones((6, 5))),
                            lambda a: np.linalg.solve(a, NOISE6[:, None] * np.ones((6, 5))),
                            make=lambda r: [r.standard_normal((6, 6)) + 10 * np.eye(6)]),
    "test_solve_arg1_1d": pair(lambda a: tc.solve(a, NOISE6), lambda a: np.linalg.solve(a, NOISE6),
                               make=lambda r: [r.standard_normal((6, 6)) + 10 * np.eye(6)]),
    "test_solve_arg2": pair(tc.solve, np.linalg.solve, make=lambda r: [
        r.standard_normal((6, 6)) + 3 * np.eye(6), r.standard_normal((6, 5))]),
    "test_solve_arg1_3d": pair(tc.solve, lambda a, b: np.linalg.solve(a, b[..., None])[..., 0],
                               make=lambda r: [r.standard_normal((5, 4, 4)) + 5 * np.eye(4),
                                               r.standard_normal((5, 4))]),
    "test_solve_arg1_3d_3d": pair(tc.solve, np.linalg.solve, make=lambda r: [
        r.standard_normal((5, 4, 4)) + 5 * np.eye(4), r.standard_normal((5, 4, 6))]),
    "test_det": pair(tc.det, np.linalg.det, [(6, 6)]),
    "test_det_3d": pair(tc.det, np.linalg.det, [(3, 3, 3)]),
    "test_slogdet": pair(lambda x: tc.slogdet(x)[1], lambda x: np.linalg.slogdet(x)[1], [(6, 6)]),
    "test_slogdet_3d": pair(lambda x: tc.sum(tc.slogdet(x)[1]),
                            lambda x: np.sum(np.linalg.slogdet(x)[1]),
                            make=lambda r: [psd(r, 3, d=5)]),
    "test_vector_2norm": pair(tc.norm, np.linalg.norm, [(6,)]),
    "test_norm_list_of_boxes": out(CONTAINER),
    "test_frobenius_norm": pair(tc.norm, np.linalg.norm, [(6, 5)]),
    "test_frobenius_norm_axis": pair(lambda x: tc.norm(x, axis=(0, 1)),
                                     lambda x: np.linalg.norm(x, axis=(0, 1)), [(6, 5, 4)]),
    "test_vector_norm_ord": pair(lambda x: tc.norm(x, 3), lambda x: np.linalg.norm(x, 3), [(6,)]),
    "test_norm_axis": pair(lambda x: tc.norm(x, axis=1), lambda x: np.linalg.norm(x, axis=1),
                           [(6, 5, 4)]),
    "test_norm_nuclear": pair(lambda x: tc.norm(x, "nuc"), lambda x: np.linalg.norm(x, "nuc"),
                              [(6, 5)]),
    "test_norm_nuclear_axis": pair(lambda x: tc.norm(x, "nuc", axis=(0, 1)),
                                   lambda x: np.linalg.norm(x, "nuc", axis=(0, 1)), [(6, 5, 4)]),
    "test_eigvalh_lower": pair(lambda x: tc.eigh(sym_lower(tc, x)),
                               lambda x: np.linalg.eigh(x), [(6, 6)]),
    # eigh(x, "U") as the symmetric matrix its upper triangle stands for: LAPACK's "U" call
    # chooses other eigenvector signs than its "L" call, and eigenvectors are unique up to sign
    "test_eigvalh_upper": pair(lambda x: tc.eigh(sym_upper(tc, x)),
                               lambda x: np.linalg.eigh(sym_upper(np, x)), [(6, 6)]),
    "test_eigvalh_lower_broadcasting": pair(lambda x: tc.eigh(sym_lower(tc, x)),
                                            lambda x: np.linalg.eigh(x),
                                            make=lambda r: [psd(r, 2, 3)]),
    "test_eigvalh_upper_broadcasting": pair(lambda x: tc.eigh(sym_upper(tc, x)),
                                            lambda x: np.linalg.eigh(sym_upper(np, x)),
                                            make=lambda r: [psd(r, 2, 3)]),
    "test_eig_real": out("eig of a general matrix (complex eigenvalues; in neither issue)"),
    "test_eig_complex": out(COMPLEX), "test_eig_batched": out(COMPLEX),
    "test_cholesky": pair(lambda a: tc.cholesky(tril_of(tc, a)),
                          lambda a: np.linalg.cholesky(tril_of(np, a)), make=lambda r: [psd(r)]),
    "test_cholesky_broadcast": pair(lambda a: tc.cholesky(tril_of(tc, a)),
                                    lambda a: np.linalg.cholesky(tril_of(np, a)),
                                    make=lambda r: [psd(r, 3)]),
    "test_cholesky_reparameterization_trick": pair(
        lambda a: tc.norm(tc.cholesky(tril_of(tc, a)) @ NOISE6),
        lambda a: np.linalg.norm(np.linalg.cholesky(tril_of(np, a)) @ NOISE6),
        make=lambda r: [psd(r)]),
    "test_svd_wide_2d": pair(tc.svd, lambda x: np.linalg.svd(x, full_matrices=False), [(3, 5)]),
    "test_svd_wide_3d": pair(tc.svd, lambda x: np.linalg.svd(x, full_matrices=False),
                             [(2, 3, 5)]),
    "test_svd_square_2d": pair(tc.svd, lambda x: np.linalg.svd(x, full_matrices=False), [(4, 4)]),
    "test_svd_square_3d": pair(tc.svd, lambda x: np.linalg.svd(x, full_matrices=False),
                               [(3, 4, 4)]),
    "test_svd_tall_2d": pair(tc.svd, lambda x: np.linalg.svd(x, full_matrices=False), [(5, 3)]),
    "test_svd_tall_3d": pair(tc.svd, lambda x: np.linalg.svd(x, full_matrices=False),
                             [(4, 5, 3)]),
    "test_svd_only_s_2d": pair(tc.svdvals, lambda x: np.linalg.svd(x, compute_uv=False), [(5, 3)]),
    "test_svd_only_s_3d": pair(tc.svdvals, lambda x: np.linalg.svd(x, compute_uv=False),
                               [(4, 5, 3)]),
}
for _name in ["test_vector_2norm_complex", "test_frobenius_norm_complex",
              "test_frobenius_norm_axis_complex", "test_vector_norm_ord_complex",
              "test_norm_axis_complex", "test_norm_nuclear_complex",
              "test_norm_nuclear_axis_complex", "test_eigvalh_lower_complex",
              "test_eigvalh_upper_complex"] + [f"test_svd_{shape}_{d}d_complex" for shape in
                                               ("wide", "square", "tall") for d in (2, 3)] + \
        ["test_svd_only_s_2d_complex", "test_svd_only_s_3d_complex"]:
    LINALG[_name] = out(COMPLEX)

# rows whose function is not in tensorcalc yet: their builders stay, so the row is written the
# moment the function lands (test_every_not_yet_row_is_really_missing then says so)
PENDING = {
    "test_systematic": {},
    "test_numpy": {},
    "test_linalg": {},
}
for _suite, _table in (("test_systematic", SYSTEMATIC), ("test_numpy", NUMPY), ("test_linalg", LINALG)):
    for _name, _what in PENDING[_suite].items():
        _table[_name] = dict(_table[_name], missing=f"{_what} (not in tensorcalc yet)")

CASES = rows("test_systematic", SYSTEMATIC) + rows("test_numpy", NUMPY) + rows("test_linalg", LINALG)


def counts() -> dict:
    in_scope = [c for c in CASES if not c.scope]
    written = [c for c in in_scope if not c.missing]
    return dict(total=len(CASES), in_scope=len(in_scope), written=len(written),
                missing=[c for c in in_scope if c.missing])


def summary() -> str:
    n = counts()
    per_suite = ", ".join(
        f"{suite} {sum(1 for c in CASES if c.suite == suite and c.status == 'written')}/"
        f"{sum(1 for c in CASES if c.suite == suite and not c.scope)}" for suite in SUITES)
    lines = [BEGIN, "",
             f"{n['written']} of the {n['in_scope']} test functions in scope "
             f"({100 * n['written'] / n['in_scope']:.1f}%) are written with tensorcalc's own "
             f"names and pass ({per_suite}); {n['total'] - n['in_scope']} of autograd's "
             f"{n['total']} are out of scope (complex numbers, containers, autograd's machinery, "
             "dtypes). Not yet:", ""]
    lines += [f"- `{c.suite}.{c.name}`: {c.missing}" for c in n["missing"]]
    return "\n".join(lines + ["", END])


def write_between(begin: str, end: str, block: str) -> None:
    """Put ``block`` (which starts with ``begin`` and ends with ``end``) into README.md in place
    of what stands between those markers."""
    text = README.read_text()
    start, stop = text.index(begin), text.index(end) + len(end)
    README.write_text(text[:start] + block + text[stop:])


def write_readme() -> None:
    write_between(BEGIN, END, summary())


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_readme()
    print(summary())
