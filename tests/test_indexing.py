"""Indexing and the layout verbs built on it (issue 18): values against numpy's own indexing,
first and second derivatives against central differences along random directions, against JAX,
printed forms, generated source and the array backends."""

import ast

import numpy as np
import pytest

import tensorcalc as tc
from tensorcalc.errors import CodegenError, NoTextForm, ShapeError

from fd import check_grads, check_vjp
from test_backends import _inputs, _prepare, compare

S, F = slice, None
KEYS = {  # shape -> keys, each as numpy reads it
    (5,): [1, -1, S(1, 4), S(None, None, -1), S(4, 0, -2), S(-3, None), [0, 0, 3, -1],
           (None, S(1, 3)), (Ellipsis, 2), S(7, 9), S(None, None, 3)],
    (3, 4): [0, (S(None), S(1, 3)), (S(None), S(None, 2)), (S(None, None, -1), [0, 3]),
             (1, [2, 0]), ([2, 2], 1), (Ellipsis, -1), (None, 0), (S(None), None, S(1, None, 2)),
             (S(2, 0, -1), S(None, None, -3)), (-1, -2)],
    (2, 3, 4): [(0, [1, 1]), (S(None), [2, 0], 1), (Ellipsis, S(1, 3)), (S(None), 1), (1, 2, 3),
                (S(None, None, -1), Ellipsis, None), ([1, 0], 2)],
}
CASES = [(shape, key) for shape, keys in KEYS.items() for key in keys]


@pytest.mark.parametrize("shape,key", CASES, ids=[f"{s}-{k!r}" for s, k in CASES])
def test_values_derivatives_and_source_match_numpy(shape, key):
    rng = np.random.default_rng(len(shape))
    value = rng.standard_normal(shape)
    x = tc.var("x", shape)
    expected = value[key]
    np.testing.assert_array_equal(tc.evaluate(x[key], x=value), expected)
    namespace = {}
    exec(tc.codegen([x[key]]), namespace)
    np.testing.assert_array_equal(namespace["f_and_grad"](x=value)[0], expected)
    # a nonlinear function of the selection: first and second derivatives (the scatter, and the
    # take of the scatter's adjoint) against central differences
    f = tc.sum(tc.tanh(x[key]) * x[key])
    check_grads(f, [x], {"x": value})
    check_vjp(tc.tanh(x[key]), x, {"x": value})
    grad = tc.grad(f, x).expr
    namespace = {}
    exec(tc.codegen([grad]), namespace)
    np.testing.assert_allclose(namespace["f_and_grad"](x=value)[0], tc.evaluate(grad, x=value))


def test_gradient_matches_jax_with_repeated_gather_indices():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    jax.config.update("jax_enable_x64", True)
    value = np.random.default_rng(1).standard_normal((3, 4))
    X = tc.var("X", (3, 4))
    f = tc.sum(tc.exp(X[::-1, [0, 0, 3]]) * X[1:, 1::2].sum())
    ours = tc.evaluate(tc.grad(f, X), X=value)
    theirs = jax.grad(lambda a: jnp.sum(jnp.exp(a[::-1, jnp.array([0, 0, 3])]))
                      * jnp.sum(a[1:, 1::2]))(value)
    np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-12)


LAYOUT = [
    ("concatenate", lambda m, a, b: m.concatenate([a, b], axis=1), (3, 2), (3, 4)),
    ("concatenate0", lambda m, a, b: m.concatenate([a, b, a]), (2, 3), (1, 3)),
    ("stack", lambda m, a, b: m.stack([a, b], axis=1), (3, 2), (3, 2)),
    ("stack-1", lambda m, a, b: m.stack([a, b, a], axis=-1), (3,), (3,)),
    ("hstack", lambda m, a, b: m.hstack([a, b]), (2, 1), (2, 3)),
    ("hstack1", lambda m, a, b: m.hstack([a, b]), (2,), (3,)),
    ("vstack", lambda m, a, b: m.vstack([a, b]), (3,), (2, 3)),
    ("flip", lambda m, a, b: m.flip(a, 0) * b, (2, 3), (2, 3)),
    ("flip-all", lambda m, a, b: m.flip(a) + b, (2, 3), (2, 3)),
    ("roll", lambda m, a, b: m.roll(a, 2, 1) * b, (2, 5), (2, 5)),
    ("roll-negative", lambda m, a, b: m.roll(a, -1, 0) * b, (3, 2), (3, 2)),
    ("diff", lambda m, a, b: m.diff(a) * b, (2, 5), (2, 4)),
    ("diff0", lambda m, a, b: m.diff(a, axis=0) * b, (3, 2), (2, 2)),
    ("expand_dims", lambda m, a, b: m.expand_dims(a, 1) * b, (3,), (3, 2)),
    ("split", lambda m, a, b: m.split(a, 2, axis=1)[1] * b, (2, 4), (2, 2)),
    ("split-at", lambda m, a, b: m.split(a, [1, 4])[2] * b, (5,), (1,)),
    ("swapaxes", lambda m, a, b: m.swapaxes(a, 0, 2) * b, (2, 3, 4), (4, 3, 2)),
    ("moveaxis", lambda m, a, b: m.moveaxis(a, 0, -1) * b, (2, 3, 4), (3, 4, 2)),
    ("squeeze", lambda m, a, b: m.squeeze(a) * b, (1, 3, 1), (3,)),
    ("squeeze-axis", lambda m, a, b: m.squeeze(a, axis=0) * b, (1, 3, 1), (3, 1)),
    ("repeat", lambda m, a, b: m.repeat(a, 3, axis=1) * b, (2, 2), (2, 6)),
    ("repeat-vector", lambda m, a, b: m.repeat(a, 2) * b, (3,), (6,)),
    ("tile", lambda m, a, b: m.tile(a, (2, 3)) * b, (2, 2), (4, 6)),
    ("tile-int", lambda m, a, b: m.tile(a, 2) * b, (3,), (6,)),
    ("pad", lambda m, a, b: m.pad(a, 1) * b, (2, 3), (4, 5)),
    ("pad-pairs", lambda m, a, b: m.pad(a, ((0, 2), (1, 0))) * b, (2, 3), (4, 4)),
    ("triu", lambda m, a, b: m.triu(a, 1) * b, (3, 4), (3, 4)),
    ("tril", lambda m, a, b: m.tril(a, -1) + b, (2, 3, 3), (3, 3)),
]


@pytest.mark.parametrize("name,build,sa,sb", LAYOUT, ids=[c[0] for c in LAYOUT])
def test_layout_verbs_match_numpy_and_differentiate(name, build, sa, sb):
    rng = np.random.default_rng(2)
    values = {"a": rng.standard_normal(sa), "b": rng.standard_normal(sb)}
    a, b = tc.var("a", sa), tc.var("b", sb)
    expr = build(tc, a, b)
    np.testing.assert_allclose(tc.evaluate(expr, **values), build(np, values["a"], values["b"]))
    f = tc.sum(tc.sin(expr) * expr)
    check_grads(f, [a, b], values)
    namespace = {}
    exec(tc.codegen([expr, tc.grad(f, a).expr]), namespace)
    got = namespace["f_and_grad"](**values)
    np.testing.assert_allclose(got[0], build(np, values["a"], values["b"]))


@pytest.mark.parametrize("backend", ["numpy-functional", "jax", "dask", "torch"])
def test_backends_agree_on_selections_and_their_scatters(backend):
    """The array backends write nothing in place: a scatter is a gather with a zero appended,
    one read per copy of a repeated index; a scatter onto a named size is refused by name."""
    value = np.random.default_rng(3).standard_normal((3, 4))
    X = tc.var("X", (3, 4))
    outputs = [X[::-1, 1:3], X[:, [0, 0, 2]], X[None, 2], tc.concatenate([X, X[::2]]),
               tc.flip(X, 1) * X, X[2:0:-1, ::-3]]
    if backend == "dask":  # dask reads a list index; its chunked arrays need no flip rewrite
        outputs = outputs[:4]
    compare(outputs, {"X": value}, backend)
    W = np.random.default_rng(4).standard_normal((3, 3))
    gradients = [tc.grad(tc.sum(X[1:] ** 2), X), tc.grad(tc.sum(tc.as_expr(W) * X[:, [0, 0, 2]]), X),
                 tc.grad(tc.sum(X[None, 2] ** 3), X), tc.jacobian(X[::-1, 1], X)]
    compare(gradients, {"X": value}, backend)
    Y = tc.var("Y", ("n", 4))
    _prepare(backend)
    with pytest.raises(CodegenError, match="scatter onto shape \\('n', 4\\) needs numeric sizes"):
        tc.compile([tc.grad(tc.sum(Y[:, 1:] ** 2), Y)], backend=backend)(
            _inputs(backend, {"Y": value}))


def test_printed_forms_say_what_is_selected():
    X = tc.var("X", (3, 4))
    assert str(X[:, 1:3]) == "X[:, 1:3]_ij"
    assert tc.matrix_notation(X[::-1, [0, 2]]) == "X[::-1, [0, 2]]"
    assert tc.matrix_notation(X[None, 0]) == "X[None, 0]"
    assert tc.latex(X[1, ::2]) == "X\\left[1, ::2\\right]"
    assert tc.matrix_notation(tc.concatenate([X, X], axis=1)) == "concatenate([X, X], axis=-1)"
    grad = tc.grad(tc.sum(X[0, 1:3]), X).expr
    assert tc.matrix_notation(grad) == "scatter(𝟙 → [0, 1:3] of (3, 4))"
    np.testing.assert_array_equal(tc.evaluate(grad), [[0, 1, 1, 0], [0] * 4, [0] * 4])
    for expr in (X[None, 0], grad, tc.concatenate([X, X])):
        with pytest.raises(NoTextForm, match="no form in the text language"):
            tc.to_text(expr)


def test_a_full_key_is_the_operand_itself_and_named_axes_take_full_slices():
    X = tc.var("X", (3, 4))
    assert X[:] is X and X[...] is X and X[:, :] is X
    Y = tc.var("Y", ("n", 4))
    value = np.arange(8.0).reshape(2, 4)
    np.testing.assert_array_equal(tc.evaluate(Y[:, 1:3], Y=value), value[:, 1:3])
    check_grads(tc.sum(tc.tanh(Y[:, ::-1])) * tc.sum(Y[:, 1] ** 2), [Y], {"Y": value / 8})


@pytest.mark.parametrize("key,message", [
    (5, "index 5 is out of bounds for axis 0 with size 3"),
    ((0, 0, 0), "indexes 3 axes, but the operand has shape"),
    ((Ellipsis, Ellipsis), "at most one"),
    (([0, 1], [1, 2]), "at most one integer array"),
    ((S(None, None, 0),), "step cannot be zero"),
    ((0.5,), "an index is an integer"),
    (([True, False, True],), "an index is an integer"),
    (([0, 7],), "out of bounds for axis 0 with size 3"),
])
def test_bad_keys_are_refused_by_name(key, message):
    X = tc.var("X", (3, 4))
    with pytest.raises(ShapeError, match=message):
        X[key]


def test_separated_advanced_indices_are_refused():
    x = tc.var("x", (2, 3, 4))
    with pytest.raises(ShapeError, match="separates its integer array"):
        x[0, :, [1, 2]]
    with pytest.raises(ShapeError, match="named size 'n'"):
        tc.var("Y", ("n", 4))[0]
    with pytest.raises(ShapeError, match="concatenate: operand 1 has shape"):
        tc.concatenate([tc.var("a", (2, 3)), tc.var("b", (2, 4))])
    with pytest.raises(ShapeError, match="does not split into 3 equal"):
        tc.split(tc.var("a", (4,)), 3)


NUMPY_TEXTS = ["x[1:3]", "X[:, :2]", "x[::-1]", "X[-1]", "X[..., 1::2]", "X[None, 1:, ::-2]",
               "X[[0, 2], 1]", "X[[2, 2, 0]]", "np.concatenate([x, x[::-1]])",
               "np.concatenate((X, X[:1]), axis=0)", "np.stack([X[0], X[1]], axis=1)",
               "np.hstack([x, x[:2]])", "np.vstack([X, x])", "np.flip(X, axis=1)",
               "np.diff(X, axis=0)", "np.expand_dims(x, axis=0)", "np.triu(X, k=1)", "np.tril(X)",
               "np.squeeze(X[None], axis=0)", "np.sum(np.exp(X[:, :2]) @ x[1:3])"]


@pytest.mark.parametrize("text", NUMPY_TEXTS)
def test_the_numpy_dialect_reads_indexing_as_numpy_computes_it(text):
    rng = np.random.default_rng(4)
    values = {"x": rng.standard_normal(4), "X": rng.standard_normal((3, 4))}
    names = {node.id for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Name)}
    shapes = {name: v.shape for name, v in values.items() if name in names}
    expr = tc.parse(text, dialect="numpy", **shapes)
    expected = eval(text, {"np": np}, values)  # the test's own literal texts, numpy as oracle
    np.testing.assert_allclose(tc.evaluate(expr, **{k: values[k] for k in shapes}), expected)


@pytest.mark.parametrize("text,message", [
    ("x[1.5]", "an index is an integer literal"),
    ("x[y]", "an index is an integer literal"),
    ("x[9]", "out of bounds"),
    ("np.concatenate(x)", "takes one list of arrays"),
    ("np.hstack([x], axis=0)", "keyword axis= is not supported"),
])
def test_the_numpy_dialect_refuses_bad_keys_with_a_caret(text, message):
    with pytest.raises(tc.ParseError, match=message) as caught:
        tc.parse(text, dialect="numpy", x=(4,))
    assert "^" in str(caught.value)


def test_where_with_a_constant_condition_selects_and_its_gradient_ignores_the_other_branch():
    rng = np.random.default_rng(5)
    mask = np.array([[True, False, True], [False, False, True]])
    values = {"a": rng.standard_normal((2, 3)), "b": rng.standard_normal(3)}
    a, b = tc.var("a", (2, 3)), tc.var("b", (3,))
    expr = tc.where(mask, a, b)
    np.testing.assert_array_equal(tc.evaluate(expr, **values), np.where(mask, values["a"], values["b"]))
    check_grads(tc.sum(tc.sin(expr) * expr), [a, b], values)
    # an unselected entry may be infinite: the value never reads it (c·a + (1 − c)·b would give
    # 0·∞ = NaN), and the gradient is exactly the mask
    infinite = np.where(mask, 1.0, np.inf)
    np.testing.assert_array_equal(tc.evaluate(tc.where(mask, a, b), a=infinite, b=values["b"]),
                                  np.where(mask, 1.0, values["b"]))
    grad = tc.evaluate(tc.grad(tc.sum(tc.where(mask, a, b) ** 2), a), a=infinite, b=values["b"])
    np.testing.assert_array_equal(grad, 2.0 * mask)
    with pytest.raises(ShapeError, match="a computed condition must be a comparison"):
        tc.where(a, a, b)


def test_clip_matches_numpy_and_its_derivative_is_half_at_the_bounds():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    x = tc.var("x", (5,))
    value = np.array([-2.0, 0.0, 0.3, 1.0, 4.0])
    np.testing.assert_array_equal(tc.evaluate(tc.clip(x, 0.0, 1.0), x=value), np.clip(value, 0, 1))
    grad = tc.evaluate(tc.grad(tc.sum(tc.clip(x, 0.0, 1.0)), x), x=value)
    np.testing.assert_array_equal(grad, [0.0, 0.5, 1.0, 0.5, 0.0])
    theirs = jax.grad(lambda v: jax.numpy.sum(jax.numpy.clip(v, 0.0, 1.0)))(value)
    np.testing.assert_array_equal(grad, np.asarray(theirs))
    inner = np.array([-1.5, 0.2, 0.7, 1.5, 3.0])
    check_grads(tc.sum(tc.clip(x, -1.0, 2.0) ** 3), [x], {"x": inner})


@pytest.mark.parametrize("build, expected", [
    (lambda x: x[::-1], [1, 1, 1]), (lambda x: x[[0, 0, 1]], [2, 1, 0]),
    (lambda x: tc.concatenate([x[1:], x[:1]]), [1, 1, 1]),
    (lambda x: tc.stack([x[0], 2 * x[1]]), [1, 2, 0]),
    (lambda x: x[1], [0, 1, 0])])  # codegen once crashed: scatter(1 → [1]) of a literal 1.0
def test_a_float32_gradient_through_a_selection_stays_float32(build, expected):
    """The scatter of a gradient that is a constant (here 𝟙) wrote into float64 zeros, so a
    float32 program returned a float64 gradient (found by the property tests' new nodes)."""
    x = tc.var("x", (3,))
    loss = tc.sum(build(x))
    values = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    namespace = {}
    exec(tc.codegen([loss, tc.grad(loss, x)], sizes={}), namespace)  # our own generated code
    for function in (tc.compile([loss, tc.grad(loss, x)]), namespace["f_and_grad"]):
        value, gradient = function(x=values)
        assert np.asarray(value).dtype == np.float32 and gradient.dtype == np.float32
        np.testing.assert_array_equal(gradient, np.array(expected, dtype=np.float32))
