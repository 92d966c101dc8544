"""Backends (``tc.compile(..., backend=...)``): the same planned program on jax, dask and torch.

Every backend must agree with the numpy evaluator on the Matrix Cookbook cases (values,
gradients, Hessians, a Jacobian whose δ is written onto a diagonal) and on random expression
trees; keep float32 float32; check arguments with the program's own messages; and hand back
arrays the caller owns.  ``numpy-functional`` (numpy through the functional lowering) runs
everywhere and pins down the seam itself; jax and dask are in the test extra; torch tests
skip when torch is not installed.
"""

import sys

import numpy as np
import pytest
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

import tensorcalc as tc
from tensorcalc.evaluation import backends
from tensorcalc.evaluation.backends import BackendError, BackendNotInstalled, BackendProgram
from tensorcalc.errors import CodegenError
from tensorcalc.expression.nodes import postorder
from test_properties import VARIABLES, tree_values, trees

RNG = np.random.default_rng(7)
n, m = 4, 3


def normal(*shape):
    return RNG.standard_normal(shape)


# ---------------------------------------------------------------------------
# Backends under test: name -> (to numpy, from numpy)


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


def _to_numpy(name, value):
    if name == "dask":
        value = value.compute()
    elif name == "torch":
        value = value.numpy()
    return np.asarray(value)


def _inputs(name, values):
    """The values as the backend's own arrays (dask: chunked in two along every axis)."""
    if name == "jax":
        import jax.numpy as jnp

        return {k: jnp.asarray(v) for k, v in values.items()}
    if name == "dask":
        import dask.array as da

        return {k: da.from_array(v, chunks=tuple(max(1, (s + 1) // 2) for s in np.shape(v)))
                for k, v in values.items()}
    if name == "torch":
        import torch

        return {k: torch.from_numpy(np.array(v)) for k, v in values.items()}
    return values


def _prepare(name):
    if name == "jax":
        _jax()
    elif name == "dask":
        pytest.importorskip("dask.array")
    elif name == "torch":
        pytest.importorskip("torch")


ALL = ["numpy-functional", "jax", "dask", "torch"]


def compare(outputs, values, name, rtol=1e-10, atol=1e-12):
    """Run ``outputs`` on backend ``name`` and on numpy, and compare every output."""
    _prepare(name)
    expected = tc.compile(outputs)(values)
    program = tc.compile(outputs, backend=name)
    assert isinstance(program, BackendProgram)
    got = program(_inputs(name, values))
    if not isinstance(outputs, list):
        got, expected = (got,), (expected,)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        g = _to_numpy(name, g)
        assert g.shape == np.shape(e)
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)
    return program


# ---------------------------------------------------------------------------
# The Matrix Cookbook cases


x, a, b = tc.var("x", (n,)), tc.var("a", (n,)), tc.var("b", (m,))
A, X = tc.var("A", (n, n)), tc.var("X", (n, m))
VALUES = {"x": normal(n), "a": normal(n), "b": normal(m), "A": normal(n, n), "X": normal(n, m)}


def _least_squares():
    M, y = tc.var("M", ("m", "n")), tc.var("y", ("m",))
    w = tc.var("w", ("n",))
    loss = tc.sum((M @ w - y) ** 2)
    return [loss, tc.grad(loss, w), tc.grad(tc.grad(loss, w), w)], \
        {"M": normal(6, n), "y": normal(6), "w": normal(n)}


def _logistic():
    D, w, y = tc.var("D", ("n", "d")), tc.var("w", ("d",)), tc.var("y", ("n",))
    z = D @ w
    loss = -tc.sum(y * tc.log(tc.sigmoid(z)) + (1 - y) * tc.log(1 - tc.sigmoid(z)))
    return [loss, tc.grad(loss, w), tc.grad(tc.grad(tc.sum(tc.softplus(z) - y * z), w), w)], \
        {"D": normal(6, n), "w": normal(n), "y": RNG.integers(0, 2, 6).astype(float)}


def _mlp():
    W1, b1 = tc.var("W1", ("h", "d")), tc.var("b1", ("h",))
    W2, Xb, Yb = tc.var("W2", ("o", "h")), tc.var("X", ("d", "B")), tc.var("Y", ("o", "B"))
    hidden = tc.tanh((W1 @ Xb).T + b1).T
    loss = tc.sum((W2 @ hidden - Yb) ** 2)
    return [loss, *tc.grad(loss, (W1, b1, W2, Xb))], \
        {"W1": normal(5, 3), "b1": normal(5), "W2": normal(2, 5), "X": normal(3, 4),
         "Y": normal(2, 4)}


def _relu_net():
    W, v = tc.var("W", (n, n)), tc.var("v", (n,))
    loss = tc.sum(tc.relu(W @ v) + tc.abs(v) + tc.step(v) * tc.sign(v))
    return [loss, tc.grad(loss, W)], {"W": normal(n, n), "v": normal(n)}


def _vocabulary():
    """Every operation row with its gradients: inverses, determinants, solves, the max/min
    subgradient weights (ties split equally), softmax, norms and the layout rows."""
    S = A @ A.T + 4.0 * tc.eye(n)
    losses = [tc.sum(tc.inv(S) * A), tc.logdet(S), tc.det(A), tc.sum(tc.solve(S, x) * a),
              tc.max(A @ x), tc.min(x * a), tc.sum(tc.max(A, axis=0) * x),
              tc.sum(tc.maximum(x, a) + tc.minimum(x, 0.5)), tc.logsumexp(A @ x),
              tc.sum(tc.softmax(x) * a), tc.norm(x), tc.norm(A, "fro") + tc.norm(x, 1),
              tc.sum(tc.vec(X) ** 2), tc.sum(tc.kron(A, X) ** 2), tc.sum(tc.diagonal(A) * x), tc.sum(tc.diag(x) * A),
              tc.sum(tc.matrix_power(A, 3) * A)]
    outputs = []
    for loss in losses:
        outputs += [loss, *tc.grad(loss, [x, A, X, a])]
    return outputs, VALUES


COOKBOOK = {
    "aTx": lambda: ([a @ x, tc.grad(a @ x, x)], VALUES),
    "xTAx": lambda: ([x @ A @ x, tc.grad(x @ A @ x, x), tc.grad(x @ A @ x, A)], VALUES),
    "hessian xTAx": lambda: (tc.grad(tc.grad(x @ A @ x, x), x), VALUES),
    "aTXb": lambda: ([tc.grad(a @ X @ b, X)], VALUES),
    "tr(XTX)": lambda: ([tc.grad(tc.trace(X.T @ X), X)], VALUES),
    "tr(XTAX)": lambda: ([tc.trace(X.T @ A @ X), tc.grad(tc.trace(X.T @ A @ X), X)], VALUES),
    "norm": lambda: ([tc.sqrt(x @ x), tc.grad(tc.sqrt(x @ x), x)], VALUES),
    "a/x": lambda: ([tc.grad(tc.sum(a * a / x), x)], {**VALUES, "x": RNG.uniform(0.5, 2, n)}),
    "least squares": _least_squares,
    "logistic": _logistic,
    "mlp": _mlp,
    "relu": _relu_net,
    "jacobian W a (δ onto a diagonal)": lambda: (
        [tc.grad(A @ x, A), tc.jacobian(tc.tanh(A @ x), x)], VALUES),
    "δ with a diagonal of a vector": lambda: (
        [tc.jacobian(x * a, x), tc.jacobian(tc.sum(A, axis=0) * x, A)], VALUES),
    "vocabulary": lambda: _vocabulary(),
    "constants": lambda: ([2.5 * x + tc.const(np.arange(4.0)), tc.sum(A * np.eye(n)) - 1.0,
                           x @ tc.const(np.ones((4, 4))) @ x], VALUES),
}


@pytest.mark.parametrize("backend", ALL)
@pytest.mark.parametrize("case", list(COOKBOOK))
def test_cookbook_case_matches_numpy(case, backend):
    outputs, values = COOKBOOK[case]()
    used = {v.name for v in postorder([tc.as_expr(o) for o in
                                       (outputs if isinstance(outputs, list) else [outputs])])
            if isinstance(v, tc.Var)}
    program = compare(outputs, {k: v for k, v in values.items() if k in used}, backend)
    assert program.program.plan is not None  # the numpy program's plan: the one that ran


# ---------------------------------------------------------------------------
# Random expression trees (tests/test_properties.py's strategy)


def _tree_case(expr, seed, backend):
    expr = tc.as_expr(expr)
    note(f"expression: {expr}")
    values = tree_values(seed)
    present = [v for v in VARIABLES.values() if v in postorder([expr])]
    with np.errstate(all="ignore"):
        forward = np.asarray(tc.compile(expr)({v.name: values[v.name] for v in present}))
    assume(np.all(np.isfinite(forward)) and np.max(np.abs(forward), initial=0) < 1e6)
    outputs = [expr] + [tc.grad(tc.sum(expr), v) for v in present]
    with np.errstate(all="ignore"):
        compare(outputs, {v.name: values[v.name] for v in present}, backend, rtol=1e-8,
                atol=1e-10)


@settings(max_examples=50)
@given(trees(), st.integers(0, 2**32 - 1))
def test_random_trees_numpy_functional(expr, seed):
    _tree_case(expr, seed, "numpy-functional")


@settings(max_examples=12)  # a jit compile per example
@given(trees(), st.integers(0, 2**32 - 1))
def test_random_trees_jax(expr, seed):
    _tree_case(expr, seed, "jax")


@settings(max_examples=12)
@given(trees(), st.integers(0, 2**32 - 1))
def test_random_trees_dask(expr, seed):
    _tree_case(expr, seed, "dask")


@settings(max_examples=12)
@given(trees(), st.integers(0, 2**32 - 1))
def test_random_trees_torch(expr, seed):
    _tree_case(expr, seed, "torch")


# ---------------------------------------------------------------------------
# dtypes, arguments, ownership


def _float32_outputs():
    v = tc.var("v", ("n",))
    loss = tc.sum(tc.sigmoid(2.0 * v + 1.0) ** 2) / 3.0
    return [loss, tc.grad(loss, v), tc.jacobian(tc.tanh(v), v)]


@pytest.mark.parametrize("backend", ALL)
def test_float32_stays_float32(backend):
    _prepare(backend)
    values = {"v": np.linspace(-1, 1, 5).astype(np.float32)}
    expected = tc.compile(_float32_outputs())(values)
    got = tc.compile(_float32_outputs(), backend=backend)(_inputs(backend, values))
    for g, e in zip(got, expected):
        g = _to_numpy(backend, g)
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


@pytest.fixture
def jax_x64_off():
    jax = pytest.importorskip("jax")
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", False)
    yield jax
    jax.config.update("jax_enable_x64", before)


def test_jax_refuses_float64_without_x64(jax_x64_off):
    f = tc.compile(tc.sum(tc.var("v", (3,)) ** 2), backend="jax")
    with pytest.raises(tc.BindingError, match=r"'v' is float64.*jax_enable_x64.*True"):
        f(v=np.ones(3))
    with pytest.raises(tc.BindingError, match="x64"):
        f(v=[1.0, 2.0, 3.0])
    value = f(v=np.ones(3, dtype=np.float32))  # float32 stays float32 and works
    assert value.dtype == np.float32 and float(value) == 3.0


def test_jax_outputs_are_jax_arrays():
    jax = _jax()
    f = tc.compile([x @ A @ x, tc.grad(x @ A @ x, x)], backend="jax")
    value, dx = f(x=VALUES["x"], A=VALUES["A"])
    assert isinstance(value, jax.Array) and value.shape == ()
    assert isinstance(dx, jax.Array)
    again = f(x=VALUES["x"] + 1, A=VALUES["A"])  # same shapes: the jitted function again
    assert len(f._functions) == 1
    np.testing.assert_allclose(again[1], (VALUES["A"] + VALUES["A"].T) @ (VALUES["x"] + 1))


@pytest.mark.parametrize("backend", ALL)
def test_argument_errors_are_the_programs(backend):
    _prepare(backend)
    v, M = tc.var("v", ("n",)), tc.var("M", ("n", "n"))
    numpy_program = tc.compile(M @ v)
    program = tc.compile(M @ v, backend=backend)
    cases = [{"v": np.ones(3)},  # missing
             {"v": np.ones(3), "M": np.ones((3, 3)), "u": np.ones(3)},  # unexpected
             {"v": np.ones(3), "M": np.ones((2, 2))},  # a dimension bound twice
             {"v": np.ones((3, 1)), "M": np.ones((3, 3))},  # axes
             {"v": np.array(["a"]), "M": np.ones((1, 1))}]  # not numbers
    for values in cases:
        with pytest.raises(tc.BindingError) as expected:
            numpy_program(values)
        with pytest.raises(tc.BindingError) as got:
            program(**values)
        assert str(got.value) == str(expected.value)


def test_integers_become_float64():
    _jax()
    f = tc.compile(tc.sum(tc.var("v", (3,))) / 2, backend="jax")
    assert f(v=np.arange(3)).dtype == np.float64


def test_outputs_are_the_callers_own_numpy_functional():
    v = tc.var("v", (3,))
    f = tc.compile([v, v, 1.0 * v], backend="numpy-functional")
    data = np.ones(3)
    first, second, third = f(v=data)
    first[0] = 5.0
    assert data[0] == 1.0 and second[0] == 1.0 and third[0] == 1.0


def test_outputs_are_the_callers_own_torch():
    torch = pytest.importorskip("torch")
    v = tc.var("v", (3,))
    data = torch.ones(3, dtype=torch.float64)
    first, second = tc.compile([v, v], backend="torch")(v=data)
    first[0] = 5.0
    assert data[0] == 1.0 and second[0] == 1.0


# ---------------------------------------------------------------------------
# Errors: missing backends, unknown backends, what cannot be lowered


def test_missing_backend_names_the_extra(monkeypatch):
    monkeypatch.setattr(backends, "_LOADED", {})
    monkeypatch.setitem(sys.modules, "jax", None)  # `import jax` now raises ImportError
    with pytest.raises(BackendNotInstalled, match=r'pip install "tensorcalc\[jax\]"'):
        tc.compile(x @ x, backend="jax")
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r'pip install "tensorcalc\[torch\]"'):
        tc.compile(x @ x, backend="torch")


def test_unknown_backend():
    with pytest.raises(BackendError, match="unknown backend 'jaxx' .did you mean 'jax'"):
        tc.compile(x @ x, backend="jaxx")


def test_a_row_without_source_is_refused_not_miscompiled():
    row = tc.Function("cube3", lambda v, p: v ** 3, lambda v, p: 3 * v ** 2, "cube3({})")
    tc.register_function(row)
    try:
        f = tc.compile(tc.sum(tc.apply_function("cube3", x)), backend="numpy-functional")
        with pytest.raises(CodegenError, match="cube3"):
            f(x=VALUES["x"])
    finally:
        tc.FUNCTIONS.pop("cube3")


# ---------------------------------------------------------------------------
# dask: lazy, chunked, never a whole operand in one task


def test_dask_is_lazy_until_computed():
    da = pytest.importorskip("dask.array")
    import dask

    calls = []

    def counted(block):
        calls.append(block.shape)
        return block

    data = da.from_array(VALUES["A"], chunks=2).map_blocks(counted)
    f = tc.compile([tc.sum(tc.tanh(A @ x)), tc.grad(tc.sum(tc.tanh(A @ x)), A)], backend="dask")
    value, dA = f(A=data, x=da.from_array(VALUES["x"], chunks=2))
    assert isinstance(value, da.Array) and isinstance(dA, da.Array)
    assert (2, 2) not in calls  # nothing computed yet (dask may probe with tiny meta blocks)
    calls.clear()
    value, dA = dask.compute(value, dA)
    assert calls and all(s == (2, 2) for s in calls)  # chunk by chunk
    expected = tc.compile([tc.sum(tc.tanh(A @ x)), tc.grad(tc.sum(tc.tanh(A @ x)), A)])(
        A=VALUES["A"], x=VALUES["x"])
    np.testing.assert_allclose(value, expected[0], rtol=1e-12)
    np.testing.assert_allclose(dA, expected[1], rtol=1e-12)


def test_dask_operands_larger_than_the_memory_limit():
    """A 600×600 float64 matrix (2.9 MB) in 100×100 chunks with a 1 MB limit on any one task's
    result: the quadratic form, its gradient and a Hessian-vector product are computed, and no
    task ever holds a whole operand (or anything near it)."""
    da = pytest.importorskip("dask.array")
    from dask.callbacks import Callback

    size, chunk, limit = 600, 100, 2**20
    rng = da.random.default_rng(0)  # lazy inputs: no task holds a whole operand
    A_lazy, x_lazy, u_lazy = rng.standard_normal((size, size), chunks=chunk), \
        rng.standard_normal(size, chunks=chunk), rng.standard_normal(size, chunks=chunk)
    assert A_lazy.nbytes > 2 * limit
    M, v, u = tc.var("M", ("n", "n")), tc.var("v", ("n",)), tc.var("u", ("n",))
    f = v @ M @ v + tc.sum(tc.tanh(M @ v))
    outputs = [f, tc.grad(f, v), tc.grad(tc.grad(f, v) @ u, v), tc.grad(f, M)]
    program = tc.compile(outputs, backend="dask")
    lazy = program(M=A_lazy, v=x_lazy, u=u_lazy)

    largest = []

    class Largest(Callback):
        def _posttask(self, key, result, dsk, state, id):
            largest.append(getattr(result, "nbytes", 0))

    import dask

    dM = np.empty((size, size))  # the matrix output is stored chunk by chunk, never whole
    with Largest():
        got = dask.compute(*lazy[:3], scheduler="synchronous")
        da.store(lazy[3], dM, scheduler="synchronous")
    assert largest and max(largest) <= limit, max(largest)
    got = (*got, dM)
    A_np, x_np, u_np = dask.compute(A_lazy, x_lazy, u_lazy)
    expected = tc.compile(outputs)(M=A_np, v=x_np, u=u_np)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-9)


def test_dask_numpy_inputs_and_the_plan():
    da = pytest.importorskip("dask.array")
    f = tc.compile(x @ A @ x, backend="dask")
    value = f(x=VALUES["x"], A=VALUES["A"])
    assert isinstance(value, da.Array)
    np.testing.assert_allclose(value.compute(), VALUES["x"] @ VALUES["A"] @ VALUES["x"])
    assert "x" in str(f.plan) or f.plan is not None
    assert "np.einsum" in f.source() or "@" in f.source()


@pytest.mark.parametrize("backend", ALL)
def test_a_transpose_read_by_sums_is_laid_out_for_them(backend):
    """A + Aᵀ and tanh(Bᵀ) − C: the transposes only sums and functions read go through
    ``transpose_for_entrywise`` (jax: tiled, where XLA's fused transposed add is 10× slower);
    one that a product reads stays a plain transpose.  Values equal numpy's, tiled or not."""
    _prepare(backend)
    S, B, C, v = (tc.var("S", ("n", "n")), tc.var("B", ("m", "k")), tc.var("C", ("k", "m")),
                  tc.var("v", ("n",)))
    outputs = [S + S.T, tc.tanh(B.T) - C, S.T @ v, B.T]  # B.T, an output too: plain
    program = tc.compile(outputs, backend=backend)
    for n, m, k in ((96, 64, 128), (97, 5, 3)):  # tiles of 32; a prime size: no tiles
        values = {"S": normal(n, n), "B": normal(m, k), "C": normal(k, m), "v": normal(n)}
        got = program(_inputs(backend, values))
        expected = [values["S"] + values["S"].T, np.tanh(values["B"].T) - values["C"],
                    values["S"].T @ values["v"], values["B"].T]
        for g, e in zip(got, expected):
            np.testing.assert_allclose(_to_numpy(backend, g), e, rtol=1e-13, atol=1e-13)
    source = program.source({"n": 96, "m": 64, "k": 128})
    assert source.count("np.transpose_for_entrywise(") == 1  # S + Sᵀ's; Bᵀ is an output


def test_torch_tensors_off_the_cpu_are_refused_clearly():
    torch = pytest.importorskip("torch")
    v = tc.var("v", (3,))
    f = tc.compile(tc.sum(v * 2.0), backend="torch")
    with pytest.raises(tc.BindingError, match=r"'v' is a torch tensor on meta.*runs on the CPU"):
        f(v=torch.empty(3, dtype=torch.float64, device="meta"))
    assert float(f(v=torch.ones(3, dtype=torch.float64))) == 6.0


# ---------------------------------------------------------------------------
# Programs travel: pickled, and run in a spawned worker process


TRAVELLERS = ["numpy", "numpy-functional", "jax", "dask", "torch"]


def _two_layer_net():
    """A 2-layer net's loss and gradients, and the same computed by numpy directly."""
    W1, b1 = tc.var("W1", ("h", "d")), tc.var("b1", ("h",))
    W2, Xb, Yb = tc.var("W2", ("o", "h")), tc.var("X", ("d", "B")), tc.var("Y", ("o", "B"))
    loss = tc.sum((W2 @ tc.tanh((W1 @ Xb).T + b1).T - Yb) ** 2)
    values = {"W1": normal(5, 3), "b1": normal(5), "W2": normal(2, 5), "X": normal(3, 4),
              "Y": normal(2, 4)}
    v = values
    H = np.tanh(v["W1"] @ v["X"] + v["b1"][:, None])
    R = v["W2"] @ H - v["Y"]
    dZ = 2 * (v["W2"].T @ R) * (1 - H ** 2)
    expected = [np.sum(R ** 2), dZ @ v["X"].T, dZ.sum(axis=1), 2 * R @ H.T]
    return [loss, *tc.grad(loss, (W1, b1, W2))], values, expected


def _assert_matches(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert np.shape(g) == np.shape(e)
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backend", TRAVELLERS)
def test_a_program_pickles_by_its_backends_name(backend):
    import pickle

    _prepare(backend)
    outputs, values, expected = _two_layer_net()
    program = tc.compile(outputs, backend=backend)
    program(**values)  # planned, lowered and traced here: none of that travels
    copy = pickle.loads(pickle.dumps(program))
    assert type(copy) is type(program)
    if backend != "numpy":
        assert copy.backend is program.backend  # the same process: the loaded backend itself
        assert copy._functions == {}  # lowered again on its first call
    _assert_matches([_to_numpy(backend, o) for o in copy(**values)], expected)


@pytest.fixture(scope="module")
def spawned_pool():
    """Two fresh interpreters ('spawn': nothing inherited from this process, jax's x64 mode
    included, which the initializer sets as a worker given float64 arrays must)."""
    import multiprocessing

    import workers

    with multiprocessing.get_context("spawn").Pool(2, initializer=workers.enable_jax_x64) as pool:
        yield pool


@pytest.mark.parametrize("backend", TRAVELLERS)
def test_a_program_runs_in_a_spawned_worker(backend, spawned_pool):
    import os

    import workers

    _prepare(backend)
    outputs, values, expected = _two_layer_net()
    program = tc.compile(outputs, backend=backend)
    pid, got, kinds = spawned_pool.apply(workers.run, (program, values))
    assert pid != os.getpid()
    _assert_matches(got, expected)
    own = {"numpy": "float64", "numpy-functional": "float64", "jax": "ArrayImpl",
           "dask": "Array", "torch": "Tensor"}[backend]  # the loss: a numpy scalar or a 0-d array
    assert kinds[0] == own and kinds[1] == ("ndarray" if "numpy" in backend else own)
