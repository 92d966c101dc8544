"""One vocabulary in Python and in text (tensorcalc/notation/vocabulary.py): the text language
reads the Python API's names, and ``tc.to_text`` writes every expression built from the Python
API's constructors — checked by parsing the text back and comparing values with numpy's value of
the original, at random values.  What has no text spelling raises NoTextForm with a reason."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, note, strategies as st

import tensorcalc as tc
from tensorcalc.errors import NoTextForm

N = 3
x, y = tc.var("x", (N,)), tc.var("y", (N,))
A, B = tc.var("A", (N, N)), tc.var("B", (N, N))
Q = tc.var("Q", (2, 2))
VALUES = {"x": np.array([0.3, -1.2, 0.8]), "y": np.array([1.1, 0.4, -0.6]),
          "A": np.array([[2.0, 0.3, -0.4], [0.1, 1.5, 0.2], [-0.3, 0.5, 2.5]]),
          "B": np.array([[0.7, -0.2, 0.1], [0.4, 0.9, -0.5], [0.2, 0.3, 1.1]]),
          "Q": np.array([[1.0, 0.5], [-0.3, 2.0]])}

NUMPY = {  # the same names in numpy, the oracle
    "softmax": lambda v: np.exp(v - v.max()) / np.exp(v - v.max()).sum(),
    "logsumexp": lambda v: np.log(np.exp(v).sum()), "max": np.max, "min": np.min,
    "solve": np.linalg.solve, "kron": np.kron, "vec": lambda M: M.T.reshape(-1),
    "trace": np.trace, "norm": lambda v, p=2: np.sum(np.abs(v) ** p) ** (1 / p),
}


@pytest.mark.parametrize("text, types, expected", [
    ("softmax(x)", {}, lambda v: NUMPY["softmax"](v["x"])),
    ("logsumexp(A)", {}, lambda v: NUMPY["logsumexp"](v["A"])),
    ("max(x) + min(A)", {}, lambda v: v["x"].max() + v["A"].min()),
    ("max(x, y) - min(x, y)", {}, lambda v: np.maximum(v["x"], v["y"]) - np.minimum(v["x"], v["y"])),
    ("solve(A, x)", {}, lambda v: np.linalg.solve(v["A"], v["x"])),
    ("solve(A, B)", {}, lambda v: np.linalg.solve(v["A"], v["B"])),
    ("norm(x) + norm(x, 1) + norm(x, 3)", {},
     lambda v: sum(NUMPY["norm"](v["x"], p) for p in (2, 1, 3))),
    ("kron(Q, A)", {"Q": (2, 2), "A": (3, 3)}, lambda v: np.kron(v["Q"], v["A"])),
    ("kron(x', Q)", {"Q": (2, 2), "x": (3,)}, lambda v: np.kron(v["x"][None, :], v["Q"])),
    ("vec(Q)'*vec(Q)", {"Q": (2, 2)}, lambda v: np.sum(v["Q"] ** 2)),
    ("trace(A) + tr(A)", {}, lambda v: 2 * np.trace(v["A"])),
    ("eye(3)*x", {"x": (3,)}, lambda v: v["x"]),
])
def test_the_python_names_read_in_text(text, types, expected):
    parsed = tc.parse(text, **types)
    names = {v for v in tc.variables(parsed)}
    np.testing.assert_allclose(tc.evaluate(parsed, **{k: VALUES[k] for k in names}), expected(VALUES),
                               rtol=1e-12)


@pytest.mark.parametrize("text, message", [
    ("solve(A, a)", "solve(A, b): needs a square matrix A and a column vector or matrix b"),
    ("norm(x, y'*x)", "norm(x, p): p must be a constant"),
    ("kron(a, A)", "kron(A, B): needs vectors or matrices"),
    ("eye(2.5)", "eye(n): n must be a positive whole number"),
    ("trace(x)", "trace: needs a square matrix"),
    ("softmax(x, y)", "'softmax' takes 1 argument, got 2"),
    ("vec(X)", "vec: needs fixed sizes"),
])
def test_misuse_is_a_parse_error_with_a_caret(text, message):
    with pytest.raises(tc.ParseError, match=message.replace("(", r"\(").replace(")", r"\)")) as error:
        tc.parse(text)
    assert "^" in str(error.value)


# Random expressions from the Python API's constructors

def _leaves(rank):
    return st.sampled_from({0: [tc.const(1.5), tc.sum(x)], 1: [x, y], 2: [A, B]}[rank])


def expressions(rank, depth):
    if depth == 0:
        return _leaves(rank)
    scal, vec, mat = (expressions(r, depth - 1) for r in (0, 1, 2))
    same = (scal, vec, mat)[rank]
    options = [_leaves(rank), st.tuples(same, same).map(lambda p: p[0] + p[1]),
               st.tuples(same, same).map(lambda p: p[0] * p[1]),
               st.tuples(st.sampled_from(["tanh", "exp", "sin", "sigmoid"]), same).map(
                   lambda p: tc.apply_function(p[0], p[1])),
               st.tuples(same, same).map(lambda p: tc.maximum(p[0], p[1])),
               st.tuples(same, same).map(lambda p: tc.minimum(p[0], p[1]))]
    if rank == 0:
        options += [vec.map(tc.logsumexp), vec.map(tc.max), mat.map(tc.min), mat.map(tc.trace),
                    vec.map(lambda v: tc.norm(v, 3)), vec.map(tc.norm), vec.map(lambda v: tc.norm(v, 1)),
                    mat.map(tc.logsumexp), st.tuples(vec, vec).map(lambda p: p[0] @ p[1]),
                    mat.map(lambda M: tc.det(M + 4 * A.T @ A + tc.eye(N))),
                    mat.map(lambda M: tc.vec(tc.kron(Q, M)) @ tc.vec(tc.kron(Q, M)))]
    if rank == 1:
        options += [vec.map(tc.softmax), st.tuples(mat, vec).map(lambda p: p[0] @ p[1]),
                    vec.map(lambda v: tc.solve(A @ A.T + tc.eye(N), v)),
                    mat.map(tc.diagonal), mat.map(lambda M: tc.sum(M, axis=0))]
    if rank == 2:
        options += [mat.map(lambda M: M.T), st.tuples(mat, mat).map(lambda p: p[0] @ p[1]),
                    mat.map(lambda M: tc.solve(B @ B.T + tc.eye(N), M)),
                    mat.map(lambda M: tc.inv(M @ M.T + tc.eye(N))), vec.map(tc.diag),
                    st.tuples(vec, vec).map(lambda p: tc.einsum("i,j->ij", *p))]
    return st.one_of(options)


@given(st.integers(0, 2).flatmap(lambda rank: expressions(rank, 2)))
def test_to_text_writes_what_the_python_api_builds(expr):
    text = tc.to_text(expr)
    note(text)
    shapes = {name: v.shape for name, v in tc.variables(expr).items()}
    parsed = tc.parse(text, **shapes)
    values = {name: VALUES[name] for name in shapes}
    np.testing.assert_allclose(tc.evaluate(parsed, values), tc.evaluate(expr, values),
                               rtol=1e-8, atol=1e-10)


def test_what_has_no_text_form_says_why():
    for expr, why in ((tc.softmax(A), r"softmax\(…\) over some of its operand's axes"),
                      (tc.reshape(Q, 4), r"reshape\(…\) has no form"),
                      (tc.const(np.eye(3)) @ x, "constant array")):
        with pytest.raises(NoTextForm, match=why):
            tc.to_text(expr)


@pytest.mark.parametrize("text, expected", [
    ("np.kron(Q, A)", lambda v: np.kron(v["Q"], v["A"])),
    ("np.linalg.solve(A, x)", lambda v: np.linalg.solve(v["A"], v["x"])),
    ("np.linalg.norm(x, ord=3) + np.linalg.norm(x)",
     lambda v: np.linalg.norm(v["x"], 3) + np.linalg.norm(v["x"])),
    ("np.max(A, axis=0) + np.min(x)", lambda v: v["A"].max(axis=0) + v["x"].min()),
    ("np.maximum(x, y) - np.minimum(x, y)", lambda v: np.abs(v["x"] - v["y"])),
])
def test_the_numpy_dialect_has_them_too(text, expected):
    names = [name for name in VALUES if re.search(rf"\b{name}\b", text)]
    parsed = tc.parse(text, dialect="numpy", **{name: VALUES[name].shape for name in names})
    np.testing.assert_allclose(tc.evaluate(parsed, **{name: VALUES[name] for name in names}),
                               expected(VALUES), rtol=1e-12)
