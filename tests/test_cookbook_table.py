"""The README's Matrix Cookbook table (tests/cookbook_table.py): every identity's derivative is
right (against central differences of the function, an independent oracle; a Kronecker form is
also parsed back and compared with the derivative read as ∂vec(f)/∂vec(X)ᵀ), and README.md holds
exactly the generated table (regenerate: ``PYTHONPATH=$PWD python tests/cookbook_table.py --write``)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import tensorcalc as tc
from cookbook_table import IDENTITIES, README, markdown_table, ours, problem, tokens
from fd import check_derivative

SIZES = {"n": 4, "m": 3, "k": 2, "p": 5, "q": 2}  # X (n × m) tall: XᵀX invertible


def values_for(f, types: dict, rng) -> dict:
    """Random values of every variable of ``f``: square matrices well conditioned (+3I, so
    det > 0), a declared-symmetric one symmetric."""
    values = {}
    for name, v in tc.variables(f).items():
        shape = tuple(SIZES.get(d, d) for d in v.shape)
        value = rng.standard_normal(shape)
        if len(shape) == 2 and shape[0] == shape[1]:
            value = 0.3 * value + 3 * np.eye(shape[0])
            if types.get(name) == "symmetric matrix":
                value = (value + value.T) / 2
        values[name] = value
    return values


@pytest.mark.parametrize("equation, text, wrt, types, textbook", IDENTITIES,
                         ids=[f"({e[0]}) {e[1]} by {e[2]}" for e in IDENTITIES])
def test_each_identity_is_right(equation, text, wrt, types, textbook):
    rng = np.random.default_rng(int(equation))
    f, x, derivative = problem(text, wrt, types)
    values = values_for(f, types, rng)
    value = check_derivative(f, x, values, derivative=derivative, rng=rng)
    if value.ndim <= 2:
        check_text_form(derivative, values, value)
    form = tc.kronecker_form(derivative) if value.ndim in (3, 4) else None
    if form:  # the printed Kronecker form, parsed back, is the derivative under the vec convention
        of_ndim = tc.as_expr(derivative.of).ndim
        D = value.reshape(value.shape[:of_ndim] + (1,) * (2 - of_ndim) + value.shape[of_ndim:])
        m, n, p, q = D.shape
        want = D.transpose(1, 0, 3, 2).reshape(m * n, p * q)
        numeric = {name: np.shape(v) for name, v in values.items()}  # kron needs numeric sizes
        form = tc.kronecker_form(problem(text, wrt, numeric)[2])
        parsed = tc.parse(form.spell("text"), **{k: s for k, s in numeric.items()
                                                 if k in tc.variables(derivative.expr)})
        got = np.asarray(tc.evaluate(parsed, **{k: values[k] for k in tc.variables(parsed)}))
        np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-9, atol=1e-11)


def check_text_form(derivative, values: dict, value) -> None:
    """The printed form, as text, parsed back (with the values' sizes) is the same value.  Where
    it cannot be: ``det(M) M⁻ᵀ`` (a cofactor) at a singular ``M``, and a lone ``eye``, whose size
    nothing in the text gives."""
    text = tc.to_text(derivative)
    sizes = {k: np.shape(v) for k, v in values.items() if re.search(rf"\b{k}\b", text)}
    parsed = tc.parse(text, **sizes)
    if not all(isinstance(d, int) for d in parsed.shape):
        assert "eye" in text, text
        return
    try:
        got = tc.evaluate(parsed, **{k: values[k] for k in tc.variables(parsed)})
    except tc.SingularMatrixError:
        assert "det(" in text, text  # (53): AXB (4 × 4) has rank 2, so its cofactor is 0
        np.testing.assert_allclose(value, 0, atol=1e-9)
        return
    np.testing.assert_allclose(got, value, rtol=1e-9, atol=1e-11)


def test_the_readme_table_is_the_generated_table():
    assert markdown_table() in README.read_text(), \
        "regenerate it: PYTHONPATH=$PWD python tests/cookbook_table.py --write"


def test_the_table_is_large_and_counts_tokens_as_stated():
    assert len(IDENTITIES) >= 60
    assert [tokens(t) for t in ("abᵀ", "a bᵀ", "X⁻ᵀ", "AᵀBᵀ", "det(X) X⁻ᵀ", "(X²)ᵀ")] == \
        [3, 3, 2, 4, 4, 3]
    assert ours(tc.jacobian(tc.parse("A*X*B"), "X")) == "Bᵀ ⊗ A"
