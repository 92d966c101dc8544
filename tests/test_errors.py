"""Errors: one ``TensorCalcError`` family, raised early, with messages that say what to fix.

Construction checks shapes (``ShapeError``); evaluation checks the arguments
(``BindingError``); differentiation checks what it is asked for
(``DifferentiationError``); the naive method refuses what would not fit
(``MemoryLimitError``).  Every message names the operation and the sizes
involved, so the tests match on them.
"""

import re

import numpy as np
import pytest

import tensorcalc as tc


def test_the_error_family():
    assert issubclass(tc.ShapeError, tc.TensorCalcError) and issubclass(tc.ShapeError, ValueError)
    assert issubclass(tc.BindingError, tc.TensorCalcError)
    assert issubclass(tc.BindingError, ValueError)
    assert issubclass(tc.DifferentiationError, tc.TensorCalcError)
    assert issubclass(tc.DifferentiationError, TypeError)
    assert issubclass(tc.MemoryLimitError, tc.TensorCalcError)


# ---------------------------------------------------------------------------
# Construction: ShapeError naming the operation and both sizes


W34, a3, b4 = tc.var("W", (3, 4)), tc.var("a", (3,)), tc.var("b", (4,))


@pytest.mark.parametrize("build, operation, sizes", [
    (lambda: W34 @ a3, "matmul", ("4", "3")),
    (lambda: a3 @ W34.T @ W34 @ a3, "matmul", ("4", "3")),
    (lambda: a3 + b4, "add", ("3", "4")),
    (lambda: a3 - b4, "add", ("3", "4")),
    (lambda: a3 * b4, "multiply", ("3", "4")),
    (lambda: W34 + a3, "add", ("4", "3")),
    (lambda: tc.var("P", (2, 3)) * tc.var("Q", (3, 2)), "multiply", ("2", "3")),
    (lambda: tc.einsum("ij,jk->ik", tc.var("P", (2, 3)), tc.var("Q", (4, 5))), "einsum",
     ("3", "4")),
    (lambda: tc.einsum("ij,j->i", W34, a3), "einsum", ("4", "3")),
    (lambda: tc.einsum("ii->i", W34), "einsum", ("3", "4")),
])
def test_shape_mismatch_at_construction(build, operation, sizes):
    with pytest.raises(tc.ShapeError) as caught:
        build()
    message = str(caught.value)
    assert operation in message
    for size in sizes:
        assert re.search(rf"\b{size}\b", message), f"size {size} missing from: {message}"
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, tc.TensorCalcError)


def test_einsum_mismatch_names_the_index_and_operands():
    with pytest.raises(tc.ShapeError, match=r"einsum 'ij,jk->ik'.*'j'.*3.*operand 0.*4.*operand 1"):
        tc.einsum("ij,jk->ik", tc.var("P", (2, 3)), tc.var("Q", (4, 5)))


def test_matmul_mismatch_names_both_shapes():
    with pytest.raises(tc.ShapeError, match=r"matmul.*4.*\(3, 4\).*3.*\(3,\)"):
        W34 @ a3


def test_named_dimensions_never_broadcast_against_others():
    n, m, three = tc.var("p", ("n",)), tc.var("q", ("m",)), tc.var("r", (3,))
    with pytest.raises(tc.ShapeError, match=r"add.*\bn\b.*\bm\b"):
        n + m
    with pytest.raises(tc.ShapeError, match=r"add.*\bn\b.*\b3\b"):
        n + three
    with pytest.raises(tc.ShapeError, match=r"matmul.*\bd\b.*\be\b"):
        tc.var("V", ("h", "d")) @ tc.var("Z", ("e", "B"))


@pytest.mark.parametrize("build, pattern", [
    (lambda: tc.einsum("ij,jk->ik", W34), r"2 operand subscripts for 1 operand"),
    (lambda: tc.einsum("ijk->i", W34), r"\(3, 4\).*'ijk'"),
    (lambda: tc.einsum("ij->k", W34), r"output index 'k'"),
    (lambda: tc.einsum("ij->kk", W34), r"output index 'k' appears in no operand"),  # "ij->ii" is
    # a diagonal embedding now (tests/test_layout.py)
    (lambda: tc.einsum("i1->i", W34), r"bad subscript"),
    (lambda: tc.transpose(W34, (0, 0)), r"transpose.*\(0, 0\)"),
    (lambda: tc.sum(W34, axis=2), r"sum: axis 2.*\(3, 4\)"),
    (lambda: tc.var("x", (-1,)), r"-1"),
    (lambda: tc.var("x", (2.5,)), r"2\.5"),
    (lambda: tc.var("1x", (3,)), r"'1x'"),
    (lambda: tc.broadcast_to(a3, (3, 4)), r"\(3,\).*\(3, 4\)"),
])
def test_other_construction_errors(build, pattern):
    with pytest.raises(tc.ShapeError, match=pattern):
        build()


def test_non_numbers_are_refused_with_a_tensorcalc_type_error():
    for bad in ("hello", True, object()):
        with pytest.raises(tc.TensorCalcError) as caught:
            W34 + bad
        assert isinstance(caught.value, TypeError)


# ---------------------------------------------------------------------------
# Evaluation: BindingError naming the variable, dimension and sizes


def test_missing_variable_is_named():
    with pytest.raises(tc.BindingError, match=r"missing.*'b'.*\(4,\)"):
        tc.evaluate(W34 @ b4, {"W": np.ones((3, 4))})
    with pytest.raises(tc.BindingError, match=r"missing.*'W'"):
        (W34 @ b4).evaluate(b=np.ones(4))


def test_wrong_array_shape_names_the_variable_and_sizes():
    with pytest.raises(tc.BindingError, match=r"'W'.*\(3, 4\).*\(3, 5\)"):
        tc.evaluate(W34 @ b4, {"W": np.ones((3, 5)), "b": np.ones(4)})
    with pytest.raises(tc.BindingError, match=r"'W'.*\(3, 4\).*\(3, 4, 1\)"):
        tc.evaluate(W34 @ b4, {"W": np.ones((3, 4, 1)), "b": np.ones(4)})
    with pytest.raises(tc.BindingError, match=r"'b'.*\(4,\).*\(3,\)"):
        tc.compile(W34 @ b4)(W=np.ones((3, 4)), b=np.ones(3))


def test_dimension_bound_to_two_sizes_names_the_dimension_and_both_sizes():
    X, V = tc.var("X", ("d", "B")), tc.var("V", ("h", "d"))
    with pytest.raises(tc.BindingError) as caught:
        tc.evaluate(V @ X, {"X": np.ones((3, 2)), "V": np.ones((4, 5))})
    message = str(caught.value)
    assert "'d'" in message and re.search(r"\b3\b", message) and re.search(r"\b5\b", message)


def test_unbound_dimension_is_named():
    """A named dimension that only the missing variable would bind."""
    X, Z = tc.var("X", ("n", "m")), tc.var("Z", ("n", "k"))
    gradient = tc.grad(tc.sum(Z), X)  # zeros of X's shape (n, m): 'm' comes only from X
    with pytest.raises(tc.BindingError, match=r"'m'"):
        tc.evaluate(gradient, {"Z": np.ones((3, 2))})
    with pytest.raises(tc.BindingError, match=r"'m'"):
        tc.evaluate(tc.var("y", ("m",)) * 0.0 + tc.sum(Z), {"Z": np.ones((3, 2))})


def test_variables_binding_more_dimensions_than_the_result_uses():
    """Simplification may remove a variable (0 · x); passing it, with its named dimensions,
    is still accepted and the value is right."""
    X, y = tc.var("X", ("n", "m")), tc.var("y", ("m",))
    assert tc.evaluate(0.0 * tc.sum(X), {"X": np.ones((3, 4))}) == 0.0
    np.testing.assert_array_equal(
        tc.evaluate(tc.grad(tc.sum(X), y), {"X": np.ones((3, 4)), "y": np.ones(4)}), np.zeros(4))
    np.testing.assert_array_equal(
        tc.evaluate(tc.sum(y) + 0.0 * tc.sum(X), {"X": np.ones((3, 4)), "y": np.ones(4)}), 4.0)


def test_evaluate_ignores_extra_names_but_a_program_refuses_them():
    """evaluate takes an environment (one dict for a loss and all its derivatives); a compiled
    program is strict, with a hint when the stray name is close to a variable's."""
    value = tc.evaluate(W34 @ b4, {"W": np.ones((3, 4)), "b": np.ones(4), "zz": 1.0})
    np.testing.assert_array_equal(value, np.full(3, 4.0))
    with pytest.raises(tc.BindingError, match=r"unexpected variable 'zz'"):
        tc.compile([W34 @ b4])(W=np.ones((3, 4)), b=np.ones(4), zz=np.ones(2))
    with pytest.raises(tc.BindingError, match=r"unexpected variable 'bb' \(did you mean 'b'\?\)"):
        tc.compile([W34 @ b4])(W=np.ones((3, 4)), bb=np.ones(4))


def test_a_misspelled_name_is_the_missing_variable_with_a_hint():
    with pytest.raises(tc.BindingError, match=r"missing a value for variable 'b' of shape \(4,\) "
                                              r"\(did you mean 'bb', which was passed\?\)"):
        tc.evaluate(W34 @ b4, {"W": np.ones((3, 4)), "bb": np.ones(4)})


def test_non_numeric_array_is_refused():
    with pytest.raises(tc.BindingError, match=r"'W'"):
        tc.evaluate(W34 @ b4, {"W": np.full((3, 4), "x"), "b": np.ones(4)})
    with pytest.raises(tc.BindingError, match=r"'b'"):
        tc.evaluate(W34 @ b4, {"W": np.ones((3, 4)), "b": [[1.0, 2.0], [3.0]]})


def test_two_variables_with_one_name_are_refused():
    x3, x4 = tc.var("x", (3,)), tc.var("x", (4,))
    with pytest.raises(tc.TensorCalcError, match=r"'x'.*\(3,\).*\(4,\)|'x'.*\(4,\).*\(3,\)"):
        tc.compile([tc.sum(x3), tc.sum(x4)])


# ---------------------------------------------------------------------------
# Differentiation


@pytest.mark.parametrize("wrt", [
    pytest.param(lambda: W34 @ tc.var("other", (4,)), id="a product that is not in f"),
    pytest.param(lambda: tc.const(np.ones(4)), id="constant"),
    pytest.param(lambda: 1.0, id="python number"),
    pytest.param(lambda: "V", id="a name that is no variable of f"),
    pytest.param(lambda: tc.grad(tc.sum(W34 @ b4), W34), id="a derivative"),
])
def test_grad_with_respect_to_a_non_variable(wrt):
    loss = tc.sum(W34 @ b4)
    with pytest.raises(tc.DifferentiationError,
                       match=r"grad.*(tc\.var|no variable named 'V'|is not an intermediate of)") \
            as caught:
        tc.grad(loss, wrt())
    assert isinstance(caught.value, TypeError)
    with pytest.raises(tc.DifferentiationError, match=r"vjp"):
        tc.vjp(W34 @ b4, wrt(), np.ones(3))
    with pytest.raises(tc.DifferentiationError):
        tc.grad(loss, (W34, wrt()))


def test_grad_with_an_unknown_method_or_nothing_to_differentiate():
    loss = tc.sum(W34 @ b4)
    with pytest.raises(tc.DifferentiationError, match=r"'fast'"):
        tc.grad(loss, W34, method="fast")
    with pytest.raises(tc.DifferentiationError, match=r"empty"):
        tc.grad(loss, ())


def test_grad_with_respect_to_an_absent_variable_is_zero():
    loss = tc.sum(W34 @ b4)
    gradient = tc.grad(loss, a3)
    assert gradient.shape == (3,)
    np.testing.assert_array_equal(tc.evaluate(gradient, W=np.ones((3, 4)), b=np.ones(4)),
                                  np.zeros(3))


@pytest.mark.parametrize("cotangent", [np.ones(4), np.ones((3, 1)), tc.var("g", (4,)),
                                       tc.var("G", (3, 3))], ids=["array", "array 2-d",
                                                                  "variable", "variable 2-d"])
def test_vjp_cotangent_of_the_wrong_shape(cotangent):
    with pytest.raises(tc.ShapeError, match=r"vjp.*cotangent.*\(3,\)"):
        tc.vjp(W34 @ b4, W34, cotangent)


def parse_bytes(message):
    match = re.search(r"(\d+(?:\.\d+)?) (B|KiB|MiB|GiB|TiB)", message)
    assert match, f"no size in: {message}"
    scale = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}[match.group(2)]
    return float(match.group(1)) * scale


def test_naive_method_over_its_memory_limit():
    M, N = tc.var("M", (40, 40)), tc.var("N", (40, 40))
    loss = tc.sum(tc.tanh(M @ N))
    with pytest.raises(tc.MemoryLimitError) as caught:
        tc.grad(loss, M, method="naive", memory_limit=10_000)
    message = str(caught.value)
    assert "contracted" in message
    # ∂(M N)/∂M alone is a 40×40×40×40 tensor of float64
    assert parse_bytes(message) >= 0.95 * 8 * 40 ** 4
    assert isinstance(caught.value, tc.TensorCalcError)
    # the same gradient within the limit, and the contracted method, work
    tc.grad(loss, M, method="naive", memory_limit=2**30)
    tc.grad(loss, M)


def test_naive_method_with_named_sizes_refuses_at_evaluation():
    M, N = tc.var("M", ("n", "n")), tc.var("N", ("n", "k"))
    gradient = tc.grad(tc.sum(tc.tanh(M @ N)), M, method="naive", memory_limit=50_000)
    values = {"M": np.ones((30, 30)), "N": np.ones((30, 4))}
    with pytest.raises(tc.MemoryLimitError) as caught:
        tc.evaluate(gradient, values)
    message = str(caught.value)
    assert "contracted" in message
    assert parse_bytes(message) >= 0.95 * 8 * 30 * 4 * 30 * 30  # ∂(M N)/∂M: n·k·n·n entries
    # small sizes fit
    small = {"M": np.ones((3, 3)), "N": np.ones((3, 2))}
    np.testing.assert_allclose(tc.evaluate(gradient, small),
                               tc.evaluate(tc.grad(tc.sum(tc.tanh(M @ N)), M), small))


def test_grad_by_name():
    """A name is accepted where the expression has one variable of that name."""
    loss = tc.sum(W34 @ b4)
    assert tc.grad(loss, "W").expr is tc.grad(loss, W34).expr
    assert [d.expr for d in tc.grad(loss, ("W", "b"))] == [d.expr for d in tc.grad(loss, (W34, b4))]
    with pytest.raises(tc.DifferentiationError, match=r"no variable named 'w'.*did you mean 'W'"):
        tc.grad(loss, "w")


def test_grad_with_respect_to_an_intermediate_is_the_adjoint_there():
    """∂L/∂z for z a subexpression of L: every occurrence of z is treated as an input."""
    z = W34 @ b4
    loss = tc.sum(tc.tanh(z) ** 2) + tc.sum(z)
    gradient = tc.grad(loss, z)
    values = {"W": np.arange(12.0).reshape(3, 4) / 10, "b": np.ones(4) / 4}
    zv = values["W"] @ values["b"]
    np.testing.assert_allclose(tc.evaluate(gradient, values),
                               2 * np.tanh(zv) * (1 - np.tanh(zv) ** 2) + 1)
