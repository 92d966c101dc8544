"""Printing and reading back what numpy users write: keepdims reductions broadcast into a
full-size operand (issue 18's first bug), reversed slices (its second bug)."""

import numpy as np
import pytest

import tensorcalc as tc

RNG = np.random.default_rng(18)


@pytest.mark.parametrize("shape", [(3, 4), (2, 5), (4, 1)])
@pytest.mark.parametrize("build, direct", [
    (lambda X: tc.mean(X, axis=1, keepdims=True) * X, lambda V: V.mean(1, keepdims=True) * V),
    (lambda X: tc.mean(X, axis=0, keepdims=True) * X, lambda V: V.mean(0, keepdims=True) * V),
    (lambda X: X - tc.sum(X, axis=1, keepdims=True), lambda V: V - V.sum(1, keepdims=True)),
    (lambda X: tc.sum(X, axis=0, keepdims=True) + X, lambda V: V.sum(0, keepdims=True) + V),
])
def test_a_keepdims_reduction_times_its_operand_reads_back(shape, build, direct):
    X = tc.var("X", shape)
    values = RNG.normal(size=shape)
    back = tc.parse(tc.to_text(build(X)))
    np.testing.assert_allclose(tc.evaluate(back, X=values), direct(values), rtol=1e-12)


@pytest.mark.parametrize("build", [
    lambda X: tc.mean(X, axis=1, keepdims=True),
    lambda X: tc.sum(X, axis=0, keepdims=True),
    lambda X: tc.mean(X, keepdims=True) * X,
])
def test_a_size_1_axis_the_text_cannot_size_is_refused_by_name(build):
    with pytest.raises(tc.NoTextForm, match="size-1 axis"):
        tc.to_text(build(tc.var("X", (3, 4))))


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("key", [slice(None, None, -1), slice(None, None, -2), slice(2, None, -1),
                                 slice(None, 1, -1), slice(1, None, 2), slice(-3, None)])
def test_a_slice_prints_as_numpy_reads_it_at_any_size(size, key):
    x = tc.var("x", (size,))
    values = np.arange(1.0, size + 1)
    text = tc.matrix_notation(x[key])
    back = tc.parse(text, dialect="numpy", x=(size,))
    np.testing.assert_array_equal(tc.evaluate(back, x=values), values[key])


def test_a_reversed_slice_prints_as_written():
    x, X = tc.var("x", (5,)), tc.var("X", (3, 4))
    assert tc.matrix_notation(x[::-1]) == "x[::-1]"
    assert tc.matrix_notation(X[::-1, ::-2]) == "X[::-1, ::-2]"
    assert tc.matrix_notation(x[3::-1]) == "x[3::-1]"
