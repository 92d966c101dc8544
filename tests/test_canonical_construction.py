"""Canonical order at construction: the same parts, in any order, build the same node.

Sums and products are commutative, so ``A + B`` and ``B + A``, ``x * y`` and ``y * x``, and an
einsum with its operands (and their subscripts) permuted are one node (the same object: nodes
are hash-consed) and print alike, before any ``tc.simplify``.  The values are checked against
numpy computed directly from the same recipe.
"""

import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from hypothesis import given, note, settings
from hypothesis import strategies as st

import tensorcalc as tc
from tensorcalc.expression.nodes import _flatten_dag, _rebuild_dag

ROOT = Path(__file__).resolve().parent.parent
MORE = settings(max_examples=4 * settings.default.max_examples)

A, B, C = (tc.var(name, (3, 3)) for name in "ABC")
x, y = tc.var("x", (3,)), tc.var("y", (3,))
RNG = np.random.default_rng(15)
VALUES = {"A": RNG.standard_normal((3, 3)), "B": RNG.standard_normal((3, 3)),
          "C": RNG.standard_normal((3, 3)), "x": RNG.standard_normal(3), "y": RNG.standard_normal(3)}


def value(expr):
    return tc.evaluate(expr, {name: VALUES[name] for name in tc.variables(expr)})


# ---------------------------------------------------------------------------
# Direct regressions


def test_a_plus_b_is_b_plus_a():
    assert A + B is B + A
    assert str(A + B) == str(B + A) == "A_ij + B_ij"
    np.testing.assert_allclose(value(B + A), VALUES["A"] + VALUES["B"])


def test_x_times_y_is_y_times_x():
    assert x * y is y * x
    assert str(x * y) == str(y * x)
    np.testing.assert_allclose(value(y * x), VALUES["x"] * VALUES["y"])


def test_einsum_with_operands_swapped_is_the_same_product():
    left, right = tc.einsum("ij,jk->ik", A, B), tc.einsum("jk,ij->ik", B, A)
    assert left is right and left is A @ B
    assert str(left) == str(right)
    np.testing.assert_allclose(value(right), VALUES["A"] @ VALUES["B"])
    # the output order is kept: AᵀB written either way is not AB
    transposed = tc.einsum("ji,jk->ik", A, B)
    assert transposed is tc.einsum("jk,ji->ik", B, A) and transposed is not left
    np.testing.assert_allclose(value(transposed), VALUES["A"].T @ VALUES["B"])


def test_three_operand_einsum_in_every_order_is_one_node():
    import itertools

    parts = [("ij", A), ("jk", B), ("kl", C)]
    built = [tc.einsum(",".join(s for s, _ in order) + "->il", *(op for _, op in order))
             for order in itertools.permutations(parts)]  # all alive at once: ids are unique
    assert len({id(node) for node in built}) == 1
    np.testing.assert_allclose(value(tc.einsum("kl,ij,jk->il", C, A, B)),
                               VALUES["A"] @ VALUES["B"] @ VALUES["C"])


def test_sum_order_puts_constants_first_then_positive_terms():
    assert B - A + 1 is 1 - A + B is -A + 1 + B
    assert str(B - A + 1) == "1 + B_ij - A_ij"
    np.testing.assert_allclose(value(-A + 1 + B), 1 + VALUES["B"] - VALUES["A"])


def test_sums_that_differ_are_still_different_nodes():
    assert A + B is not A + C
    assert A + A is not A  # a sum, not collected until tc.simplify
    assert A + B + A is A + A + B is B + A + A
    assert len((A + B + A).terms) == 3
    np.testing.assert_allclose(value(A + B + A), 2 * VALUES["A"] + VALUES["B"])


def test_a_sum_of_products_and_functions_is_one_node_in_any_order():
    first = tc.tanh(A @ B) + 2 * (A * B) - tc.sin(x) * A
    second = -(A * tc.sin(x)) + (B * A) * 2 + tc.tanh(tc.einsum("jk,ij->ik", B, A))
    assert first is second
    assert str(first) == str(second)
    a, b, v = VALUES["A"], VALUES["B"], VALUES["x"]
    np.testing.assert_allclose(value(second), np.tanh(a @ b) + 2 * a * b - np.sin(v) * a)


def test_simplify_keeps_a_canonical_sum():
    total = tc.simplify(B + A)
    assert total is A + B and tc.simplify(total) is total


def test_adding_terms_one_at_a_time_stays_linear():
    terms = [tc.var(f"t{k}", ()) for k in range(10_000)]
    start = time.perf_counter()
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    elapsed = time.perf_counter() - start
    assert total is sum(reversed(terms))
    assert elapsed < 10.0  # about 0.1 s here; a quadratic re-sort per addition takes minutes


# ---------------------------------------------------------------------------
# Pickling and other processes


def test_a_pickled_sum_loads_as_the_canonical_node():
    expr = tc.tanh(C + A @ B) + x
    assert pickle.loads(pickle.dumps(expr)) is expr


class _OldPickle:
    """A pickle written before construction ordered sums: its terms in the order written."""

    def __init__(self, flat):
        self.flat = flat

    def __reduce__(self):
        return (_rebuild_dag, (self.flat,))


def test_a_pickle_with_terms_in_another_order_loads_as_the_canonical_node():
    expr = A + C + B
    assert [term.name for term in expr.terms] == ["A", "B", "C"]
    flat = _flatten_dag(expr)
    cls, args, children = flat[-1]
    flat[-1] = (cls, args, tuple(reversed(children)))  # as C + B + A was stored before
    loaded = pickle.loads(pickle.dumps(_OldPickle(flat)))
    assert loaded is expr


_SCRIPT = """
import pickle, sys
import tensorcalc as tc
A, B, C = (tc.var(name, (3, 3)) for name in "ABC")
x, y = tc.var("x", (3,)), tc.var("y", (3,))
first = tc.exp(C * x) + tc.tanh(B @ A) + tc.sin(A) * tc.cos(B) - 3 * (y * x) + A.T @ B
second = A.T @ B - (x * y) * 3 + tc.cos(B) * tc.sin(A) + tc.tanh(B @ A) + tc.exp(x * C)
assert first is second
sys.stdout.write(str(first) + "\\n")
sys.stdout.buffer.write(pickle.dumps(first))
"""


def _run_in_fresh_process(hash_seed: str) -> tuple:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed,
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, env=env,
                         check=True).stdout
    text, _, payload = out.partition(b"\n")
    return text.decode(), payload


def test_the_order_is_the_same_in_every_process():
    text_1, payload_1 = _run_in_fresh_process("1")
    text_2, payload_2 = _run_in_fresh_process("2")
    assert text_1 == text_2
    here = (A.T @ B - (x * y) * 3 + tc.cos(B) * tc.sin(A) + tc.tanh(B @ A) + tc.exp(x * C))
    assert str(here) == text_1
    assert pickle.loads(payload_1) is here and pickle.loads(payload_2) is here
    a, b, c, u, v = (VALUES[n] for n in ("A", "B", "C", "x", "y"))
    np.testing.assert_allclose(value(here), np.exp(c * u) + np.tanh(b @ a) + np.sin(a) * np.cos(b)
                               - 3 * (v * u) + a.T @ b)


# ---------------------------------------------------------------------------
# Property: random expressions built from the same parts in permuted orders


MATRIX, VECTOR = (3, 3), (3,)


@st.composite
def recipes(draw, shape=MATRIX, depth=3):
    """A recipe: a tree of commutative (and other) operations over A, B, C, x, y, as data."""
    leaves = ["A", "B", "C"] if shape == MATRIX else ["x", "y"]
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return ("var", draw(st.sampled_from(leaves)))
    kind = draw(st.sampled_from(["add", "mul", "scale", "fn", "neg", "einsum3"]
                                + (["matmul", "broadcast"] if shape == MATRIX else ["matvec"])))
    inner = recipes(shape, depth - 1)
    if kind == "add":
        terms = draw(st.lists(inner, min_size=2, max_size=4))
        if draw(st.booleans()):
            terms.append(("const", draw(st.sampled_from([1.0, -2.5]))))  # at most one constant
        return ("add", terms)
    if kind in ("mul", "matmul"):
        return (kind, draw(inner), draw(inner))
    if kind == "einsum3":
        return (kind, [draw(inner) for _ in range(3)])
    if kind == "scale":
        return (kind, draw(st.sampled_from([2.0, -0.5])), draw(inner))
    if kind == "fn":
        return (kind, draw(st.sampled_from(["tanh", "sin", "exp"])), draw(inner))
    if kind == "neg":
        return (kind, draw(inner))
    if kind == "broadcast":  # a matrix times a vector, broadcast along the rows
        return ("mul", draw(inner), draw(recipes(VECTOR, depth - 1)))
    return (kind, draw(recipes(MATRIX, depth - 1)), draw(inner))  # matvec


def build(recipe, rng):
    """The expression of ``recipe``, each commutative operation's parts in an order from ``rng``."""
    kind = recipe[0]
    if kind == "var":
        return {"A": A, "B": B, "C": C, "x": x, "y": y}[recipe[1]]
    if kind == "const":
        return recipe[1]
    if kind == "add":
        parts = [(part, build(part, rng)) for part in recipe[1]]
        rng.shuffle(parts)
        first = parts[0][1] if parts[0][0][0] != "const" else tc.const(parts[0][1])
        total = first
        for part, expr in parts[1:]:
            if part[0] == "neg" and rng.random() < 0.5:  # a - b is a + (-b)
                total = total - build(part[1], rng)
            else:
                total = total + expr
        return total
    if kind == "mul":
        a, b = build(recipe[1], rng), build(recipe[2], rng)
        return a * b if rng.random() < 0.5 else b * a
    if kind == "scale":
        a = build(recipe[2], rng)
        return recipe[1] * a if rng.random() < 0.5 else a * recipe[1]
    if kind == "neg":
        return -build(recipe[1], rng)
    if kind == "fn":
        return getattr(tc, recipe[1])(build(recipe[2], rng))
    if kind == "matmul":
        a, b = build(recipe[1], rng), build(recipe[2], rng)
        return rng.choice([lambda: a @ b, lambda: tc.einsum("ij,jk->ik", a, b),
                           lambda: tc.einsum("jk,ij->ik", b, a)])()
    if kind == "matvec":
        m, v = build(recipe[1], rng), build(recipe[2], rng)
        return rng.choice([lambda: m @ v, lambda: tc.einsum("j,ij->i", v, m)])()
    if kind == "einsum3":
        parts = [build(part, rng) for part in recipe[1]]
        letters = "ij" if parts[0].ndim == 2 else "i"
        rng.shuffle(parts)
        return tc.einsum(",".join([letters] * 3) + "->" + letters, *parts)
    raise AssertionError(kind)


def reference(recipe):
    """The value of ``recipe`` computed with numpy alone (the oracle)."""
    kind = recipe[0]
    if kind == "var":
        return VALUES[recipe[1]]
    if kind == "const":
        return recipe[1]
    if kind == "add":
        return sum(reference(part) for part in recipe[1])
    if kind == "mul":
        return reference(recipe[1]) * reference(recipe[2])
    if kind == "scale":
        return recipe[1] * reference(recipe[2])
    if kind == "neg":
        return -reference(recipe[1])
    if kind == "fn":
        return getattr(np, recipe[1])(reference(recipe[2]))
    if kind in ("matmul", "matvec"):
        return reference(recipe[1]) @ reference(recipe[2])
    if kind == "einsum3":
        a, b, c = (reference(part) for part in recipe[1])
        return a * b * c
    raise AssertionError(kind)


@MORE
@given(recipe=st.one_of(recipes(MATRIX), recipes(VECTOR)), data=st.data())
def test_the_same_parts_in_any_order_build_one_node(recipe, data):
    note(f"recipe: {recipe}")
    first = build(recipe, data.draw(st.randoms(use_true_random=False), label="first order"))
    second = build(recipe, data.draw(st.randoms(use_true_random=False), label="second order"))
    assert first is second
    assert str(first) == str(second)
    with np.errstate(over="ignore"):
        expected = np.asarray(reference(recipe), dtype=float)
    np.testing.assert_allclose(value(second), np.broadcast_to(expected, second.shape),
                               rtol=1e-10, atol=1e-12)
