"""The check every row of the suites we did not write gets (tests/autograd_suite.py,
tests/jax_linalg_suite.py): autograd's ``check_grads`` in reverse mode, with numpy as the
oracle for values."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import tensorcalc as tc

EPS = 1e-6


def outputs(value) -> list:
    """A function's value as a list of arrays (a tuple such as svd's, a list such as split's)."""
    if isinstance(value, (tuple, list)):
        return [np.asarray(v, dtype=float) for v in value]
    return [np.asarray(value, dtype=float)]


def variables_for(case, values):
    return [tc.var(f"x{i}", np.shape(v)) for i, v in enumerate(values)]


def check_case(case):
    """The value of ``case.ours`` equals ``case.theirs`` (numpy); the gradient of a random
    weighting of the outputs agrees with central differences of the numpy function, and (for
    ``case.order == 2``) the Hessian-vector product in the first input with central differences
    of the gradient."""
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
    if case.order < 2 or x.name not in tc.variables(loss):
        return
    v = rng.standard_normal(np.shape(value))
    hv = np.asarray(tc.evaluate(tc.hvp(loss, x, tc.as_expr(v)), bound))
    def grad_at(point):
        return np.asarray(tc.evaluate(tc.grad(loss, x), {**bound, x.name: point}))

    numeric = (grad_at(value + EPS * v) - grad_at(value - EPS * v)) / (2 * EPS)
    scale = max(1.0, float(np.max(np.abs(numeric), initial=0.0)))
    np.testing.assert_allclose(hv, numeric, rtol=0, atol=case.tolerance * scale)




def check_not_yet_rows_fail_to_build(rows):
    """A row marked "not yet" whose builder now works should be written: the table stays
    honest both ways (this fails when someone adds the function and forgets the table)."""
    for case in rows:
        if case.missing and case.ours is not None:
            with pytest.raises((tc.TensorCalcError, AttributeError, TypeError)):
                case.ours(*variables_for(case, case.inputs()))
