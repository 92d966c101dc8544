"""The numpy dialect reads numpy's functions and ndarray methods by numpy's names and
signatures (issue 18): each text's value against numpy's own call on the same values (built here
from Python values with numpy's API, never by evaluating the text), and its derivatives against
central differences."""

import ast
import builtins
import itertools

import numpy as np
import pytest

import tensorcalc as tc
from fd import check_grads
from tensorcalc.notation.numpy_signatures import FUNCTIONS, METHODS, shown

SHAPES = {"x": (4,), "y": (4,), "X": (3, 4), "S": (3, 3), "Z": (2, 3, 4)}


def _values():
    rng = np.random.default_rng(18)
    values = {name: rng.uniform(-1.0, 1.0, size=shape) for name, shape in SHAPES.items()}
    s = rng.standard_normal((3, 3))
    values["S"] = (s + s.T) / 2 + np.diag([3.0, 0.5, -2.0])  # symmetric, well separated
    return values


def _svd_polar(v):
    u, _, vh = np.linalg.svd(v["X"], full_matrices=False)
    return u @ vh


def _expm_symmetric(s):
    w, vectors = np.linalg.eigh(s)
    return vectors @ np.diag(np.exp(w)) @ vectors.T


# (text, numpy's value from the values, order of the derivatives checked)
CASES = [
    ("np.roll(x, 1)", lambda v: np.roll(v["x"], 1), 2),
    ("np.roll(X, -2, axis=1)", lambda v: np.roll(v["X"], -2, axis=1), 2),
    ("np.roll(X, 5)", lambda v: np.roll(v["X"], 5), 2),
    ("np.repeat(X, 2)", lambda v: np.repeat(v["X"], 2), 2),
    ("np.repeat(x, 3)", lambda v: np.repeat(v["x"], 3), 2),
    ("np.repeat(X, 2, axis=0)", lambda v: np.repeat(v["X"], 2, axis=0), 2),
    ("np.tile(x, 2)", lambda v: np.tile(v["x"], 2), 2),
    ("np.tile(X, (2, 1))", lambda v: np.tile(v["X"], (2, 1)), 2),
    ("np.tile(x, (2, 1, 2))", lambda v: np.tile(v["x"], (2, 1, 2)), 2),
    ("np.pad(x, 2)", lambda v: np.pad(v["x"], 2), 2),
    ("np.pad(X, ((1, 0), (0, 2)))", lambda v: np.pad(v["X"], ((1, 0), (0, 2))), 2),
    ("np.pad(x, (1, 2), mode='constant', constant_values=1.5)",
     lambda v: np.pad(v["x"], (1, 2), mode="constant", constant_values=1.5), 2),
    ("np.swapaxes(Z, 0, 2)", lambda v: np.swapaxes(v["Z"], 0, 2), 2),
    ("np.moveaxis(Z, 0, -1)", lambda v: np.moveaxis(v["Z"], 0, -1), 2),
    ("np.moveaxis(Z, source=2, destination=0)", lambda v: np.moveaxis(v["Z"], 2, 0), 2),
    ("np.clip(x, -0.5, 0.5)", lambda v: np.clip(v["x"], -0.5, 0.5), 2),
    ("np.clip(X, None, 0.3)", lambda v: np.clip(v["X"], None, 0.3), 2),
    ("np.clip(x, y, 2.0)", lambda v: np.clip(v["x"], v["y"], 2.0), 2),
    ("x.clip(-0.5, 0.5)", lambda v: v["x"].clip(-0.5, 0.5), 2),
    ("np.clip(x, min=-0.5, max=y)", lambda v: np.clip(v["x"], -0.5, v["y"]), 2),
    ("X.clip(max=0.25)", lambda v: v["X"].clip(max=0.25), 2),
    ("np.where([True, False, True, False], x, y)",
     lambda v: np.where([True, False, True, False], v["x"], v["y"]), 2),
    ("np.where([[True], [False], [True]], X, 0.0)",
     lambda v: np.where([[True], [False], [True]], v["X"], 0.0), 2),
    ("np.linalg.slogdet(S)[1]", lambda v: np.linalg.slogdet(v["S"])[1], 2),
    ("np.linalg.slogdet(S).logabsdet", lambda v: np.linalg.slogdet(v["S"]).logabsdet, 2),
    ("np.linalg.slogdet(S)[0] * np.linalg.slogdet(S)[1]",
     lambda v: np.linalg.slogdet(v["S"])[0] * np.linalg.slogdet(v["S"])[1], 2),
    ("np.linalg.svd(S)[1]", lambda v: np.linalg.svd(v["S"])[1], 1),
    ("np.linalg.svd(X)[1]", lambda v: np.linalg.svd(v["X"])[1], 1),
    ("np.linalg.svd(X).S", lambda v: np.linalg.svd(v["X"]).S, 1),
    ("np.linalg.svd(X, full_matrices=False)[0] @ np.linalg.svd(X, full_matrices=False)[2]",
     _svd_polar, 1),
    ("np.linalg.eigh(S)[0]", lambda v: np.linalg.eigh(v["S"])[0], 1),
    ("np.linalg.eigh(S).eigenvectors ** 2", lambda v: np.linalg.eigh(v["S"]).eigenvectors ** 2, 1),
    ("scipy.linalg.expm(S)", lambda v: _expm_symmetric(v["S"]), 1),
    ("sp.linalg.expm(0.5 * S)", lambda v: _expm_symmetric(0.5 * v["S"]), 1),
    ("np.linalg.matrix_power(S, 3)", lambda v: np.linalg.matrix_power(v["S"], 3), 2),
    ("np.linalg.matrix_power(S, -1)", lambda v: np.linalg.matrix_power(v["S"], -1), 2),
    ("np.linalg.matrix_power(S, 0) + S", lambda v: np.linalg.matrix_power(v["S"], 0) + v["S"], 2),
    ("np.split(x, 2)[1]", lambda v: np.split(v["x"], 2)[1], 2),
    ("np.split(X, [1, 3], axis=1)[2]", lambda v: np.split(v["X"], [1, 3], axis=1)[2], 2),
    ("np.split(Z, 3, axis=1)[0]", lambda v: np.split(v["Z"], 3, axis=1)[0], 2),
    ("x.sum()", lambda v: v["x"].sum(), 2),
    ("X.sum(axis=0)", lambda v: v["X"].sum(axis=0), 2),
    ("X.sum(1, keepdims=True)", lambda v: v["X"].sum(1, keepdims=True), 2),
    ("np.sum(X, 1)", lambda v: np.sum(v["X"], 1), 2),
    ("X.mean(axis=1)", lambda v: v["X"].mean(axis=1), 2),
    ("Z.mean((0, 2))", lambda v: v["Z"].mean((0, 2)), 2),
    ("x.max()", lambda v: v["x"].max(), 2),
    ("X.max(axis=0)", lambda v: v["X"].max(axis=0), 2),
    ("X.min(axis=1, keepdims=True)", lambda v: v["X"].min(axis=1, keepdims=True), 2),
    ("x.min()", lambda v: v["x"].min(), 2),
    ("X.T @ X", lambda v: v["X"].T @ v["X"], 2),
    ("X.reshape(2, 6)", lambda v: v["X"].reshape(2, 6), 2),
    ("X.reshape((6, -1))", lambda v: v["X"].reshape((6, -1)), 2),
    ("np.reshape(X, (4, 3))", lambda v: np.reshape(v["X"], (4, 3)), 2),
    ("X.flatten() + np.ravel(X)", lambda v: v["X"].flatten() + np.ravel(v["X"]), 2),
    ("X.dot(y)", lambda v: v["X"].dot(v["y"]), 2),
    ("S.trace()", lambda v: v["S"].trace(), 2),
    ("S.trace(offset=1)", lambda v: v["S"].trace(offset=1), 2),
    ("X.transpose(1, 0)", lambda v: v["X"].transpose(1, 0), 2),
    ("x.var(ddof=1)", lambda v: v["x"].var(ddof=1), 2),
    ("X.var(axis=0)", lambda v: v["X"].var(axis=0), 2),
    ("x.std()", lambda v: v["x"].std(), 2),
    ("X.std(axis=1, ddof=1)", lambda v: v["X"].std(axis=1, ddof=1), 2),
    ("np.diff(x, 2)", lambda v: np.diff(v["x"], 2), 2),
    ("np.linalg.norm(X, axis=1)", lambda v: np.linalg.norm(v["X"], axis=1), 2),
    ("np.linalg.norm(X, 1, axis=0)", lambda v: np.linalg.norm(v["X"], 1, axis=0), 2),
    ("np.linalg.norm(X, np.inf)", lambda v: np.linalg.norm(v["X"], np.inf), 1),
    ("np.linalg.norm(X, ord=-np.inf, axis=1, keepdims=True)",
     lambda v: np.linalg.norm(v["X"], ord=-np.inf, axis=1, keepdims=True), 1),
    ("np.linalg.norm(Z, 'fro', (1, 2))", lambda v: np.linalg.norm(v["Z"], "fro", (1, 2)), 2),
    ("np.linalg.norm(Z, 'nuc', axis=(2, 1))", lambda v: np.linalg.norm(v["Z"], "nuc", axis=(2, 1)),
     1),
]


def _parse(text):
    names = {n.id for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name)}
    return tc.parse(text, dialect="numpy", **{n: SHAPES[n] for n in names if n in SHAPES})


@pytest.mark.parametrize("text, oracle, order", CASES, ids=[case[0] for case in CASES])
def test_the_value_is_numpys_and_the_derivatives_match_finite_differences(text, oracle, order):
    values = _values()
    f = _parse(text)
    want = np.asarray(oracle(values))
    got = np.asarray(tc.evaluate(f, {n: values[n] for n in tc.variables(f)}))
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-13)
    check_grads(f, list(tc.variables(f).values()), values, order=order,
                rng=np.random.default_rng(2))


def test_expm_of_a_general_matrix_matches_scipy():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    a = np.random.default_rng(4).standard_normal((3, 3))
    f = tc.parse("scipy.linalg.expm(A)", dialect="numpy", A=(3, 3))
    np.testing.assert_allclose(tc.evaluate(f, A=a), scipy_linalg.expm(a), rtol=1e-12)


def test_gradients_match_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    v = _values()
    weights = np.random.default_rng(9).standard_normal(12)
    cases = [
        ("np.sum(np.roll(X, 1, axis=1) * np.tile(x, (3, 1)))",
         lambda X, x: jnp.sum(jnp.roll(X, 1, axis=1) * jnp.tile(x, (3, 1)))),
        ("np.sum(np.pad(x, 1) ** 2) + np.sum(np.clip(X, -0.5, 0.5) ** 2)",
         lambda X, x: jnp.sum(jnp.pad(x, 1) ** 2) + jnp.sum(jnp.clip(X, -0.5, 0.5) ** 2)),
        ("np.sum(np.linalg.norm(X, axis=0) * np.repeat(x, 1)) + X.std(axis=1, ddof=1).sum()",
         lambda X, x: jnp.sum(jnp.linalg.norm(X, axis=0) * x) + X.std(axis=1, ddof=1).sum()),
        ("np.sum(np.tile(x, (2, 1)) ** 2 * np.roll(x, 2))",
         lambda X, x: jnp.sum(jnp.tile(x, (2, 1)) ** 2 * jnp.roll(x, 2))),
        ("np.sum(np.where([[True], [False], [True]], X, X ** 3).reshape(12) * w)",
         lambda X, x: jnp.sum(jnp.where(np.array([[True], [False], [True]]), X, X ** 3)
                              .reshape(12) * weights)),
    ]
    for text, jf in cases:
        shapes = {"X": SHAPES["X"], "x": SHAPES["x"], "w": (12,)}
        names = {n.id for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name)}
        shapes = {n: shapes[n] for n in names if n in shapes}
        f = tc.parse(text, dialect="numpy", **shapes)
        given = {"X": v["X"], "x": v["x"], "w": weights}
        for k, name in enumerate(("X", "x")):
            if name not in shapes:
                continue
            want = jax.grad(jf, argnums=k)(v["X"], v["x"])
            got = tc.evaluate(tc.grad(f, name), {n: given[n] for n in shapes})
            np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-13, err_msg=f"{text} d/d{name}")


ERRORS = [
    ("np.rol(x, 1)", "unknown or unsupported function np.rol; did you mean np.roll?", 0, 6),
    ("np.linalg.slogdt(S)", "unknown or unsupported function np.linalg.slogdt; did you mean "
     "np.linalg.slogdet?", 0, 16),
    ("x.sums()", "method .sums() is not supported; the methods are sum, mean, var, std, max, min, "
     "trace, diagonal, transpose, reshape, dot, clip, repeat, swapaxes, squeeze, ravel, prod, cumsum, cumprod, sort, flatten; "
     "did you mean .sum()?", 0, 8),
    ("scipy.linalg.expn(S)", "scipy.linalg.expn is not supported; of scipy the numpy dialect "
     "reads scipy.linalg.expm", 0, 17),
    ("np.where(x == 0, x, y)", "comparisons are one of <, <=, >, >= between two values (as the "
     "condition of np.where); == and != and chains are not read", 9, 15),
    ("np.where(x + 1, x, y)", "np.where: the condition must be a comparison (x > 0, a <= b) or a "
     "constant: True, False or a (nested) list of them, such as [True, False, True]", 9, 14),
    ("np.linalg.slogdet(S)", "np.linalg.slogdet returns a tuple (sign, logabsdet); the numpy "
     "dialect reads one expression: pick one, as np.linalg.slogdet(...)[0]", 0, 20),
    ("np.linalg.slogdet(S) + 1", "np.linalg.slogdet returns a tuple (sign, logabsdet); the numpy "
     "dialect reads one expression: pick one, as np.linalg.slogdet(...)[0]", 0, 20),
    ("np.split(x, 2).T", "np.split returns a list of 2 arrays; the numpy dialect reads one "
     "expression: pick one, as np.split(...)[0]", 0, 14),
    ("np.linalg.slogdet(S)[2]", "np.linalg.slogdet returns 2 outputs; index 2 is out of range",
     21, 22),
    ("np.linalg.slogdet(S).logdet", "np.linalg.slogdet(...) has no field .logdet; its fields are "
     "sign, logabsdet", 0, 27),
    ("np.linalg.svd(X)[0]", "np.linalg.svd: full_matrices=True of a 3×4 matrix has factors "
     "without a derivative; pass full_matrices=False (the reduced SVD)", 0, 19),
    ("np.linalg.svd(X)", "np.linalg.svd returns a tuple (U, S, Vh); the numpy dialect reads one "
     "expression: pick one, as np.linalg.svd(...)[0]; or pass compute_uv=False for the singular "
     "values", 0, 16),
    ("np.pad(x, 1, mode='reflect')", "np.pad: mode='reflect' is not supported; only "
     "mode='constant'", 0, 28),
    ("np.clip(x, 0.0, a_max=1.0, max=2.0)", "np.clip: give each bound once", 0, 35),
    ("np.roll(x)", "np.roll: missing argument shift", 0, 10),
    ("x.var(dof=1)", "the method .var: keyword dof= is not supported (it takes axis, ddof, "
     "keepdims)", 6, 11),
    ("np.sum(x, 0, axis=0)", "np.sum: axis is given twice", 13, 19),
    ("np.swapaxes(X, 0, 1, 2)", "np.swapaxes takes at most 3 positional arguments (a, axis1, "
     "axis2), got 4", 0, 23),
    ("np.roll(x, y)", "expected an integer, a tuple of integers, True, False or None", 11, 12),
    ("np.sum(x, 1.5)", "np.sum: axis must be an integer, a tuple of integers or None, got 1.5",
     10, 13),
    ("np.roll(x, 1.5)", "np.roll: shift must be an integer, got 1.5", 11, 14),
    ("np.where([1, 0, 1, 0], x, y)", "np.where: condition must be True, False or a (nested) list "
     "of them, got [1, 0, 1, 0]", 9, 21),
    ("np.dot(x, None)", "np.dot: b must be an array, got None", 10, 14),
    ("np.linalg.svd(x)[1]", "np.linalg.svd: needs a matrix (or a stack of them), got shape (4,)",
     0, 16),
    ("np.pad(x, ((1, 2), (3,)))", "pad: widths must be non-negative integers", 0, 25),
    ("np.pad(X, ((1, 2), (3, 4), (5, 6)))", "np.pad: cannot read these arguments:", 0, 35),
]


@pytest.mark.parametrize("text, message, start, end", ERRORS, ids=[e[0] for e in ERRORS])
def test_what_it_cannot_read_is_a_parse_error_with_a_caret(text, message, start, end):
    with pytest.raises(tc.ParseError) as caught:
        _parse(text)
    error = caught.value
    assert error.reason.startswith(message), error.reason
    assert (error.position, error.end) == (start, end), str(error)


def test_no_text_reaches_eval_or_exec(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the dialect called eval or exec")
    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    for text, _, _ in CASES:
        _parse(text)
    for text, _, _, _ in ERRORS:
        with pytest.raises(tc.ParseError):
            _parse(text)


def test_odd_constants_anywhere_are_parse_errors_never_another_exception():
    odd = ["x", "0", "1.5", "'abc'", "(1, 2)", "[1.5]", "None", "True", "-1", "5",
           "((1, 2), (3, 4))", "[[True, False]]", "np.inf", "()", "[]"]
    texts = [f"{shown(name)}({', '.join([first, *args])})"
             for name, signature in FUNCTIONS.items() for first in ("x", "S")
             for count in range(len(signature.parameters))
             for args in itertools.product(odd, repeat=min(count, 2))]
    texts += [f"S.{method}({a})" for method in METHODS for a in odd]
    texts += [f"np.linalg.slogdet(S).{method}({a})" for method in METHODS for a in odd[:4]]
    texts += [f"np.split(S, 3)[{a}]" for a in odd]
    for text in texts:
        try:
            _parse(text)
        except tc.ParseError as error:
            assert error.text == text and error.position is not None, text
