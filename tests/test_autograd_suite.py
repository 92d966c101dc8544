"""HIPS autograd's gradient tests, written with tensorcalc's names (tests/autograd_suite.py):
each written row's value equals the same function computed by numpy, and the gradient of a
random weighting of its outputs agrees with central differences of the numpy function along
random directions (autograd's own check, ``check_grads``, in reverse mode). The README holds
the generated coverage summary."""

from __future__ import annotations

import pytest

import tensorcalc as tc
from autograd_suite import CASES, README, counts, summary
from suite_check import check_case, check_not_yet_rows_fail_to_build

WRITTEN = [c for c in CASES if c.status == "written"]


@pytest.mark.parametrize("case", WRITTEN, ids=[f"{c.suite}.{c.name}" for c in WRITTEN])
def test_value_and_gradient_agree_with_numpy(case):
    check_case(case)


def test_every_not_yet_row_is_really_missing():
    check_not_yet_rows_fail_to_build(CASES)


def test_the_count_meets_the_issue_and_the_readme_says_so():
    n = counts()
    assert n["total"] >= 290  # every test function of the three files has a row
    assert summary() in README.read_text(), \
        "regenerate it: PYTHONPATH=$PWD python tests/autograd_suite.py --write"


@pytest.mark.parametrize("k", [-2, -1, 0, 1, 3])
def test_matrix_power_batches_over_leading_axes_as_numpy(k):
    """issue 18: stacked matrices in matrix_power, as np.linalg.matrix_power."""
    import numpy as np

    from suite_check import EPS

    S = tc.var("S", (4, 3, 3))
    rng = np.random.default_rng(k + 10)
    value = rng.standard_normal((4, 3, 3)) + 3 * np.eye(3)
    power = tc.matrix_power(S, k)
    np.testing.assert_allclose(tc.evaluate(power, S=value), np.linalg.matrix_power(value, k),
                               rtol=1e-10, atol=1e-12)
    weights, direction = rng.standard_normal(value.shape), rng.standard_normal(value.shape)
    loss = tc.sum(tc.as_expr(weights) * power)

    def numpy_loss(a):
        return float(np.sum(weights * np.linalg.matrix_power(a, k)))

    gradient = np.asarray(tc.evaluate(tc.grad(loss, S), S=value)) if k else np.zeros(value.shape)
    numeric = (numpy_loss(value + EPS * direction) - numpy_loss(value - EPS * direction)) / (2 * EPS)
    assert np.isclose(np.sum(gradient * direction), numeric, rtol=1e-6, atol=1e-8)
