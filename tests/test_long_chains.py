"""Long product chains, ``x'*A*A*…*A*x`` (issue 17): linear work, no deep recursion, powers.

A chain of N equal factors once took quadratic time to differentiate and to print (each step of
the matrix-form reader copied the whole chain so far, and each contraction tried every order
of its equal operands).  Wall-clock bounds would be flaky, so these tests count work instead:
the contractions built and the record slots the printer fills must grow linearly in N, and the
whole 30,000-factor chain must go through with Python's recursion limit lowered.  Values are
checked against numpy's ``matrix_power`` and central differences at small sizes.
"""

import itertools
import math
import random
import sys
from contextlib import contextmanager

import numpy as np
import pytest

import tensorcalc as tc
from fd import check_projection
from tensorcalc.expression import canonical, nodes
from tensorcalc.notation.printers import matrix_form, record_types
from test_printers import numpy_value

LONG = 30_000


def chain_text(length: int) -> str:
    return "x'*" + "*".join(["A"] * length) + "*x"


@contextmanager
def shallow_stack(headroom: int = 150):
    """Python's recursion limit lowered to ``headroom`` frames above the caller's depth."""
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + headroom)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


@contextmanager
def counting(monkeypatch):
    """Counts of the contractions built (each is put in canonical order once) and of the
    record slots the printer fills (a record and the entries of its tuple fields)."""
    counts = {"contractions": 0, "record slots": 0}
    order_operands = nodes.order_operands
    record_new = record_types.Record.__new__

    def counted_order(*args):
        counts["contractions"] += 1
        return order_operands(*args)

    def counted_new(cls, *args, **kwargs):
        counts["record slots"] += 1 + sum(len(a) for a in args if isinstance(a, tuple))
        return record_new(cls, *args, **kwargs)

    monkeypatch.setattr(nodes, "order_operands", counted_order)
    monkeypatch.setattr(record_types.Record, "__new__", counted_new)
    yield counts


def parse_grad_print(length: int, monkeypatch) -> tuple:
    with counting(monkeypatch) as counts:
        f = tc.parse(chain_text(length))
        gradient = tc.grad(f, tc.var("x", ("n",)))
        form = tc.matrix_notation(gradient)
    return f, gradient, form, counts


def superscript(k: int) -> str:
    return str(k).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


def test_a_30000_factor_chain_parses_differentiates_and_prints_with_a_shallow_stack(monkeypatch):
    with shallow_stack():
        f, gradient, form, counts = parse_grad_print(LONG, monkeypatch)
        assert tc.matrix_notation(f) == f"xᵀA{superscript(LONG)}x"
    # ∇ₓ xᵀAᴺx = (Aᴺ + (Aᴺ)ᵀ)x
    assert form == f"(A{superscript(LONG)} + (A{superscript(LONG)})ᵀ) x"
    assert tc.to_text(gradient) == f"(A^{LONG} + (A^{LONG})')*x"
    assert tc.latex(gradient) == \
        f"\\left(A^{{{LONG}}} + \\left(A^{{{LONG}}}\\right)^{{\\top}}\\right) x"
    # linear work: a handful of contractions and record slots per factor (quadratic would be
    # about N²/2 = 450 million slots)
    assert counts["contractions"] <= 6 * LONG
    assert counts["record slots"] <= 40 * LONG


def test_work_grows_linearly_with_the_chain(monkeypatch):
    small = parse_grad_print(1000, monkeypatch)[3]
    large = parse_grad_print(4000, monkeypatch)[3]
    for what in small:
        assert large[what] <= 4.5 * small[what], (what, small[what], large[what])


@pytest.mark.parametrize("length", [1, 2, 7, 300, 1000])
def test_the_value_and_gradient_match_numpy_matrix_power(length):
    rng = np.random.default_rng(length)
    A_value = rng.standard_normal((3, 3))
    A_value /= np.max(np.abs(np.linalg.eigvals(A_value)))  # spectral radius 1: Aᴺ stays O(1)
    x_value = rng.standard_normal(3)
    f = tc.parse(chain_text(length))
    x = tc.var("x", ("n",))
    gradient = tc.grad(f, x)
    value, grad_value = tc.compile([f, gradient])(A=A_value, x=x_value)
    power = np.linalg.matrix_power(A_value, length)
    assert np.isclose(value, x_value @ power @ x_value, rtol=1e-9, atol=1e-12)
    assert np.allclose(grad_value, (power + power.T) @ x_value, rtol=1e-9, atol=1e-12)
    check_projection(lambda v: v @ power @ v, x_value, grad_value, rng, label=f"N = {length}")


def test_python_operators_build_the_parsed_chain():
    x, A = tc.var("x", ("n",)), tc.var("A", ("n", "n"))
    h = x
    for _ in range(500):
        h = h @ A
    assert h @ x is tc.parse(chain_text(500))


def test_runs_of_transposes_and_inverses_print_as_powers():
    A = tc.var("A", (3, 3))
    x = tc.var("x", (3,))
    h = x
    for _ in range(40):
        h = A.T @ h
    assert tc.matrix_notation(h) == "(A⁴⁰)ᵀ x"
    assert tc.matrix_notation(tc.det(A @ A @ A)) == "det(A)³"


def brute_force_order(groups, indices, output):
    """The first order, over every permutation of each group, with the least index pattern."""
    best, best_pattern = None, None
    for choice in itertools.product(*(itertools.permutations(g) for g in groups)):
        candidate = [k for group in choice for k in group]
        pattern = canonical._pattern([indices[k] for k in candidate], output)
        if best_pattern is None or pattern < best_pattern:
            best, best_pattern = candidate, pattern
    return best


def test_the_canonical_order_of_tied_operands_is_the_brute_force_one():
    rng = random.Random(17)
    for _ in range(3000):
        count, labels = rng.randint(2, 7), list(range(rng.randint(1, 6)))
        indices = tuple(tuple(rng.choice(labels) for _ in range(rng.randint(0, 2)))
                        for _ in range(count))
        output = tuple(rng.sample(labels, rng.randint(0, min(2, len(labels)))))
        order = list(range(count))
        rng.shuffle(order)
        groups, start = [], 0
        while start < count:
            size = rng.randint(1, 4)
            groups.append(order[start:start + size])
            start += size
        if math.prod(math.factorial(len(g)) for g in groups) > 720:
            continue
        assert canonical._least_pattern_order(groups, indices, output) == \
            brute_force_order(groups, indices, output), (groups, indices, output)


@pytest.mark.parametrize("length", [2, 5, 40])
def test_the_printed_tree_has_the_value_of_the_gradient(length):
    """The matrix tree (powers, the factored sum) evaluated by the printer tests' own numpy
    evaluator, against (Aᴺ + (Aᴺ)ᵀ)x from numpy."""
    rng = np.random.default_rng(length)
    A_value = rng.standard_normal((3, 3))
    A_value /= np.max(np.abs(np.linalg.eigvals(A_value)))
    x_value = rng.standard_normal(3)
    gradient = tc.grad(tc.parse(chain_text(length)), tc.var("x", ("n",)))
    tree = matrix_form(gradient)
    power = np.linalg.matrix_power(A_value, length)
    got = numpy_value(tree, {"A": A_value, "x": x_value})
    assert np.allclose(got, ((power + power.T) @ x_value).reshape(-1, 1), rtol=1e-9, atol=1e-12)


def test_the_trace_of_a_long_power_differentiates_to_n_times_the_transposed_power():
    """∂ tr(Aᴺ)/∂A = N (Aᴺ⁻¹)ᵀ: N terms that print as one, and the value from numpy."""
    length = 400
    f = tc.parse("tr(" + "*".join(["A"] * length) + ")")
    gradient = tc.grad(f, "A")
    assert tc.matrix_notation(gradient) == f"{length}(A{superscript(length - 1)})ᵀ"
    rng = np.random.default_rng(3)
    A_value = rng.standard_normal((3, 3))
    A_value /= np.max(np.abs(np.linalg.eigvals(A_value)))
    expected = length * np.linalg.matrix_power(A_value, length - 1).T
    assert np.allclose(tc.evaluate(gradient, A=A_value), expected, rtol=1e-9, atol=1e-12)
