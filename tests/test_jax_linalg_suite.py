"""JAX's linalg gradient checks for issue 19's functions, written with tensorcalc's names
(tests/jax_linalg_suite.py), checked as autograd's rows are; the README holds the count."""

from __future__ import annotations

import pytest

from autograd_suite import README
from jax_linalg_suite import ROWS, summary
from suite_check import check_case, check_not_yet_rows_fail_to_build

WRITTEN = [c for c in ROWS if c.status == "written"]


@pytest.mark.parametrize("case", WRITTEN, ids=[c.name for c in WRITTEN])
def test_value_and_gradient_agree_with_numpy(case):
    check_case(case)


def test_every_not_yet_row_is_really_missing():
    check_not_yet_rows_fail_to_build(ROWS)


def test_the_readme_holds_the_count():
    assert len(ROWS) >= 95
    assert summary() in README.read_text(), \
        "regenerate it: PYTHONPATH=$PWD python tests/jax_linalg_suite.py --write"
