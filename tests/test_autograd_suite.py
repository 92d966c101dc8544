"""HIPS autograd's gradient tests, written with tensorcalc's names (tests/autograd_suite.py):
each written row's value equals the same function computed by numpy, and the gradient of a
random weighting of its outputs agrees with central differences of the numpy function along
random directions (autograd's own check, ``check_grads``, in reverse mode). The README holds
the generated coverage summary."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import tensorcalc as tc
from autograd_suite import CASES, README, counts, summary

WRITTEN = [c for c in CASES if c.status == "written"]
EPS = 1e-6


def outputs(value) -> list:
    """A function's value as a list of arrays (a tuple such as svd's, a list such as split's)."""
    if isinstance(value, (tuple, list)):
        return [np.asarray(v, dtype=float) for v in value]
    return [np.asarray(value, dtype=float)]


def variables_for(case, values):
    return [tc.var(f"x{i}", np.shape(v)) for i, v in enumerate(values)]


@pytest.mark.parametrize("case", WRITTEN, ids=[f"{c.suite}.{c.name}" for c in WRITTEN])
def test_value_and_gradient_agree_with_numpy(case):
    values = case.inputs()
    xs = variables_for(case, values)
    bound = {x.name: v for x, v in zip(xs, values)}
    ours = case.ours(*xs)
    ours = list(ours) if isinstance(ours, (tuple, list)) else [ours]
    want = outputs(case.theirs(*values))
    assert len(ours) == len(want), f"{len(ours)} outputs, numpy gives {len(want)}"
    for expr, w in zip(ours, want):
        got = np.asarray(tc.evaluate(expr, {k: v for k, v in bound.items()
                                            if k in tc.variables(expr)}))
        assert got.shape == w.shape
        np.testing.assert_allclose(got, w, rtol=1e-10, atol=1e-12)

    rng = np.random.default_rng(zlib.crc32(case.name.encode()))
    weights = [rng.standard_normal(w.shape) for w in want]
    loss = sum(tc.sum(tc.as_expr(wt) * expr) for wt, expr in zip(weights, ours))

    def numpy_loss(*arrays):
        return sum(float(np.sum(wt * o)) for wt, o in zip(weights, outputs(case.theirs(*arrays))))

    gradients = [np.asarray(tc.evaluate(tc.grad(loss, x), bound)) if x.name in tc.variables(loss)
                 else np.zeros(np.shape(v)) for x, v in zip(xs, values)]
    for _ in range(2):
        directions = [rng.standard_normal(np.shape(v)) for v in values]
        exact = sum(float(np.sum(g * d)) for g, d in zip(gradients, directions))
        plus = numpy_loss(*[v + EPS * d for v, d in zip(values, directions)])
        minus = numpy_loss(*[v - EPS * d for v, d in zip(values, directions)])
        numeric = (plus - minus) / (2 * EPS)
        assert abs(exact - numeric) <= case.tolerance * max(1.0, abs(exact), abs(numeric)), \
            f"<grad, v> = {exact!r}, central differences give {numeric!r}"

    # second order, as autograd's check_grads (order 2): the Hessian-vector product in the first
    # input against central differences of the (checked) gradient
    x, value = xs[0], values[0]
    if x.name not in tc.variables(loss):
        return
    v = rng.standard_normal(np.shape(value))
    hv = np.asarray(tc.evaluate(tc.hvp(loss, x, tc.as_expr(v)), bound))
    def grad_at(point):
        return np.asarray(tc.evaluate(tc.grad(loss, x), {**bound, x.name: point}))

    numeric = (grad_at(value + EPS * v) - grad_at(value - EPS * v)) / (2 * EPS)
    scale = max(1.0, float(np.max(np.abs(numeric))))
    np.testing.assert_allclose(hv, numeric, rtol=0, atol=case.tolerance * scale)


def test_every_not_yet_row_is_really_missing():
    """A row marked "not yet" whose function now exists should be written: the table stays
    honest both ways (this fails when someone adds the function and forgets the table)."""
    for case in CASES:
        if case.missing and case.ours is not None:
            with pytest.raises((tc.TensorCalcError, AttributeError, TypeError)):
                case.ours(*variables_for(case, case.inputs()))


def test_the_count_meets_the_issue_and_the_readme_says_so():
    n = counts()
    assert n["total"] >= 290  # every test function of the three files has a row
    assert summary() in README.read_text(), \
        "regenerate it: PYTHONPATH=$PWD python tests/autograd_suite.py --write"
