"""JAX's linalg gradient checks for issue 19's functions, written with tensorcalc's names
(tests/jax_linalg_suite.py), checked as autograd's rows are; the README holds the count."""

from __future__ import annotations

import pytest

import tensorcalc as tc
from autograd_suite import README
from jax_linalg_suite import ROWS, summary
from suite_check import check_case, variables_for

WRITTEN = [c for c in ROWS if c.status == "written"]


@pytest.mark.parametrize("case", WRITTEN, ids=[c.name for c in WRITTEN])
def test_value_and_gradient_agree_with_numpy(case):
    check_case(case)


def test_every_not_yet_row_is_really_missing():
    for case in ROWS:
        if case.missing and case.ours is not None:
            with pytest.raises((tc.TensorCalcError, AttributeError, TypeError)):
                case.ours(*variables_for(case, case.inputs()))


def test_the_readme_holds_the_count():
    assert len(ROWS) >= 95
    assert summary() in README.read_text(), \
        "regenerate it: PYTHONPATH=$PWD python tests/jax_linalg_suite.py --write"
