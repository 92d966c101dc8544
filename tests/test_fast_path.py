"""The program's fast path (``evaluation/fast_path.py``): every program, float32 as float64,
with matrix operations or without, gets a generated straight-line function for each set of
sizes and dtype it is called with, and its values are the evaluator's.  Taking the fast path
is asserted by ``Program.fast_calls`` (calls the generated functions answered), not timing."""

import numpy as np
import pytest

import tensorcalc as tc
from tensorcalc.evaluation import fast_path

RNG = np.random.default_rng(20)


def least_squares_program():
    A, x, b = tc.var("A", ("m", "n")), tc.var("x", ("n",)), tc.var("b", ("m",))
    loss = tc.sum((A @ x - b) ** 2)
    return tc.compile([loss, tc.grad(loss, x)])


def least_squares_numpy(A, x, b):
    r = A @ x - b
    return r @ r, 2.0 * (r @ A)


def least_squares_values(m, n, dtype):
    return {"A": RNG.normal(size=(m, n)).astype(dtype), "x": RNG.normal(size=n).astype(dtype),
            "b": RNG.normal(size=m).astype(dtype)}


def check(got, expected, dtype):
    tolerance = 1e-12 if dtype == np.float64 else 2e-5
    for value, want in zip(got, expected):
        assert value.dtype == dtype, f"{value.dtype}, not {np.dtype(dtype)}"
        np.testing.assert_allclose(value, want, rtol=tolerance, atol=tolerance)


def as64(values):
    return {k: v.astype(np.float64) for k, v in values.items()}


def test_float32_after_float64_and_new_shapes_each_get_the_fast_path():
    """The fast path used to be written once, for the first call's sizes and dtype: a
    program called with float64 and then float32 (or other sizes) ran the evaluator ever after."""
    program = least_squares_program()
    calls = 0
    for dtype in (np.float64, np.float32):
        for m, n, seen in ((10, 5, False), (7, 3, False), (10, 5, True)):
            for repeat in range(3):  # different values each call, then different shapes
                values = least_squares_values(m, n, dtype)
                check(program(**values), least_squares_numpy(**as64(values)), dtype)
                calls += seen or repeat > 0  # a new key's first call plans and writes it
                assert program.fast_calls == calls, f"{np.dtype(dtype)} {m}×{n}: the evaluator ran"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_inv_and_solve_programs_take_the_fast_path_at_every_size(dtype):
    A, b = tc.var("A", ("n", "n")), tc.var("b", ("n",))
    x = tc.solve(A, b)
    L = tc.sum(x * x) + tc.sum(tc.inv(A))
    program = tc.compile([L, tc.grad(L, A), tc.grad(L, b)])
    calls = 0
    for n, seen in ((4, False), (6, False), (4, True)):
        for repeat in range(3):
            a = (RNG.normal(size=(n, n)) + n * np.eye(n)).astype(dtype)
            bv = RNG.normal(size=n).astype(dtype)
            got = program(A=a, b=bv)
            a64, b64 = a.astype(np.float64), bv.astype(np.float64)
            xv, inverse = np.linalg.solve(a64, b64), np.linalg.inv(a64)
            # dL/db = 2 A⁻ᵀ x; dL/dA = −A⁻ᵀ (2x) xᵀ − A⁻ᵀ 1 1ᵀ A⁻ᵀ
            lam = 2 * np.linalg.solve(a64.T, xv)
            ones = np.ones((n, n))
            expected = [xv @ xv + inverse.sum(), -np.outer(lam, xv) - inverse.T @ ones @ inverse.T,
                        lam]
            tolerance = 1e-10 if dtype == np.float64 else 2e-4
            for value, want in zip(got, expected):
                assert value.dtype == dtype
                np.testing.assert_allclose(value, want, rtol=tolerance, atol=tolerance)
            calls += seen or repeat > 0
            assert program.fast_calls == calls


def test_logsumexp_softmax_logdet_programs_take_the_fast_path_with_the_evaluators_values():
    """Rows whose numpy source differs from the evaluator somewhere call the evaluator's own
    step: the same values at an infinite maximum, and logdet's SingularMatrixError."""
    z, X = tc.var("z", ("k",)), tc.var("X", (3, 3))
    outputs = [tc.logsumexp(z), tc.softmax(z), tc.logdet(X), tc.grad(tc.logdet(X), X),
               tc.grad(tc.det(X), X)]  # the cofactor matrix
    program = tc.compile(outputs)
    evaluator = tc.compile(outputs)
    evaluator.fast_path = False
    cases = [np.array([1000.0, 1000.0, -1000.0]), np.array([-np.inf, 0.0, 1.0]),
             RNG.normal(size=3)]
    X0 = RNG.normal(size=(3, 3)) + 3 * np.eye(3)
    for zv in cases * 2:
        got, want = program(z=zv, X=X0), evaluator(z=zv, X=X0)
        for value, expected in zip(got, want):
            np.testing.assert_array_equal(value, expected)
    assert program.fast_calls == len(cases) * 2 - 1 and evaluator.fast_calls == 0
    np.testing.assert_allclose(program(z=cases[0], X=X0)[0], 1000.0 + np.log(2.0), rtol=1e-15)
    np.testing.assert_allclose(program(z=cases[0], X=X0)[1], [0.5, 0.5, 0.0])
    with pytest.raises(tc.errors.SingularMatrixError, match="logdet"):
        program(z=cases[2], X=np.zeros((3, 3)))


def test_a_large_program_gets_the_fast_path_after_the_calls_that_pay_for_it():
    x = tc.var("x", ("n",))
    h = x
    for _ in range(fast_path.SMALL_PROGRAM // 2 + 1):
        h = tc.tanh(0.5 * h + 0.1)
    program = tc.compile(tc.sum(h))
    assert len(program.nodes) > fast_path.SMALL_PROGRAM
    xv = RNG.normal(size=4)
    expected = xv
    for _ in range(fast_path.SMALL_PROGRAM // 2 + 1):
        expected = np.tanh(0.5 * expected + 0.1)
    for call in range(fast_path.LARGE_PROGRAM_CALLS + 2):
        np.testing.assert_allclose(program(x=xv), expected.sum(), rtol=1e-13)
        assert program.fast_calls == max(0, call - fast_path.LARGE_PROGRAM_CALLS + 1)


def test_a_function_holding_far_more_memory_than_the_evaluator_keeps_the_evaluator(monkeypatch):
    x = tc.var("x", ("n",))
    h = x
    for _ in range(8):  # each value read once: the evaluator holds two at a time
        h = tc.tanh(h)
    program = tc.compile(tc.sum(h))
    monkeypatch.setattr(fast_path, "FAST_MEMORY", 1000)  # bytes: 8 values of 100 entries exceed it
    xv = RNG.normal(size=100)
    for _ in range(3):
        np.testing.assert_allclose(program(x=xv), np.sum(np.tanh(np.tanh(np.tanh(np.tanh(
            np.tanh(np.tanh(np.tanh(np.tanh(xv))))))))), rtol=1e-13)
    assert program.fast_calls == 0
    monkeypatch.setattr(fast_path, "FAST_MEMORY", 64 << 20)
    program(x=np.ones(5)), program(x=np.ones(5))  # small enough: its own function
    assert program.fast_calls == 1


def test_a_call_the_shapes_cannot_recognise_runs_the_evaluator_not_an_earlier_function():
    """Arguments that are converted (integers, lists) make the call bind in full: it must not
    run the function written for an earlier call's sizes and dtype on them."""
    x = tc.var("x", ("n",))
    program = tc.compile([tc.sum(x * x) / 2, x * 0.5])
    for xv in (RNG.normal(size=3), RNG.normal(size=3), np.arange(5), [1, 2, 3], np.arange(5)):
        value, half = program(x=xv)
        xv = np.asarray(xv, dtype=np.float64)
        assert type(value) is np.float64 and half.dtype == np.float64
        np.testing.assert_allclose(value, xv @ xv / 2, rtol=1e-14)
        np.testing.assert_allclose(half, xv * 0.5, rtol=1e-14)
    assert program.fast_calls == 1


def test_arguments_no_output_reads_still_take_the_fast_path_unless_they_set_the_dtype():
    """A Hessian of ridge regression reads X alone; it is called with w and y too."""
    X, w, y = tc.var("X", ("m", "k")), tc.var("w", ("k",)), tc.var("y", ("m",))
    hessian = tc.hessian(tc.sum((X @ w - y) ** 2) + 0.1 * tc.sum(w ** 2), w)
    program = tc.compile(hessian)
    for call in range(3):
        values = {"X": RNG.normal(size=(6, 3)), "w": RNG.normal(size=3), "y": RNG.normal(size=6)}
        np.testing.assert_allclose(program(**values), 2 * values["X"].T @ values["X"] +
                                   0.2 * np.eye(3), rtol=1e-13)
        assert program.fast_calls == max(0, call)
    mixed = dict(values, X=values["X"].astype(np.float32))  # float64 w sets the working dtype
    evaluator = tc.compile(hessian)
    evaluator.fast_path = False
    for _ in range(3):
        got, want = program(**mixed), evaluator(**mixed)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
        np.testing.assert_allclose(got, 2 * mixed["X"].T.astype(np.float64) @ mixed["X"] +
                                   0.2 * np.eye(3), rtol=1e-5)
    assert program.fast_calls == 2


def test_the_fast_path_frees_each_temporary_after_its_last_reader():
    """The generated function deletes a temporary after the last line that reads it (as the
    evaluator frees a step's value), so its peak memory is the evaluator's, not every value at
    once (the MLP gradient of notebook 02 held 30% more before)."""
    import tracemalloc

    X, Y = tc.var("X", (64, "B")), tc.var("Y", (10, "B"))
    W1, W2 = tc.var("W1", (64, 64)), tc.var("W2", (10, 64))
    loss = tc.sum((W2 @ tc.tanh(W1 @ X) - Y) ** 2)
    rng = np.random.default_rng(0)
    values = {"X": rng.standard_normal((64, 512)), "Y": rng.standard_normal((10, 512)),
              "W1": rng.standard_normal((64, 64)) / 8, "W2": rng.standard_normal((10, 64)) / 8}

    def peak(program):
        program(**values)
        program(**values)  # the fast path, when it is on
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        program(**values)
        result = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        return result

    fast = tc.compile([loss, *tc.grad(loss, [W1, W2])])
    evaluator = tc.compile([loss, *tc.grad(loss, [W1, W2])])
    evaluator.fast_path = False
    fast_peak, evaluator_peak = peak(fast), peak(evaluator)
    assert fast.fast_calls >= 1
    assert fast_peak <= 1.1 * evaluator_peak, (fast_peak, evaluator_peak)


def test_symmetric_variables_take_the_fast_path_and_their_values_are_still_checked():
    """A symmetric Σ: repeat calls run the generated function (the Gaussian's solve spelling,
    whose Σ⁻ᵀXᵀ is then the loss's own Σ⁻¹Xᵀ), and each call still checks that Σ's value is
    symmetric, with the evaluator's error."""
    S, X = tc.var("S", ("n", "n"), symmetric=True), tc.var("X", ("B", "n"))
    loss = 3.0 * tc.logdet(S) + 0.5 * tc.sum(X.T * tc.solve(S, X.T))
    program = tc.compile([loss, tc.grad(loss, S)])
    A = RNG.normal(size=(4, 4))
    Sigma, data = A @ A.T + 4 * np.eye(4), RNG.normal(size=(6, 4))
    inverse = np.linalg.inv(Sigma)
    Q = data @ inverse
    expected = (3.0 * np.linalg.slogdet(Sigma)[1] + 0.5 * np.sum(Q * data),
                3.0 * inverse - 0.5 * Q.T @ Q)
    for _ in range(3):
        value, gradient = program(S=Sigma, X=data)
        np.testing.assert_allclose(value, expected[0], rtol=1e-12)
        np.testing.assert_allclose(gradient, expected[1], rtol=1e-10, atol=1e-12)
    assert program.fast_calls == 2
    skewed = Sigma.copy()
    skewed[0, 1] += 1.0
    with pytest.raises(tc.BindingError, match="symmetric"):
        program(S=skewed, X=data)
    assert program.fast_calls == 2


def test_values_of_the_sizes_alone_are_made_once_per_set_of_sizes():
    """mean's 1/n reads no variable: the generated function for each set of sizes reads it as
    a number made once (a read-only global), right at every size, never an output."""
    x = tc.var("x", ("n",))
    loss = tc.mean(tc.tanh(x))
    program = tc.compile([loss, tc.grad(loss, x)])
    for n in (3, 3, 5, 5, 3):
        values = RNG.normal(size=n)
        value, gradient = program(x=values)
        np.testing.assert_allclose(value, np.mean(np.tanh(values)), rtol=1e-14)
        np.testing.assert_allclose(gradient, (1 - np.tanh(values) ** 2) / n, rtol=1e-14)
    assert program.fast_calls == 3
    function = program._fast[program._last_binding]
    made = [value for name, value in function.__globals__.items() if name.startswith("_s")]
    assert made and all(not value.flags.writeable for value in made if isinstance(value, np.ndarray))
    assert any(np.isclose(value, 1 / 3) for value in made)


def test_the_generated_function_refuses_arguments_it_was_not_written_for():
    """The hot path calls the last generated function at once; its first line checks each
    argument's type, shape and dtype, so lists, other shapes, another dtype or a missing or
    unknown name all go the general way, with the right values or the evaluator's error."""
    program = least_squares_program()
    values = least_squares_values(6, 3, np.float64)
    for _ in range(2):
        program(**values)
    assert program.fast_calls == 1
    as_lists = {name: value.tolist() for name, value in values.items()}
    np.testing.assert_allclose(program(**as_lists)[1], least_squares_numpy(**values)[1], rtol=1e-12)
    other = least_squares_values(7, 3, np.float64)
    np.testing.assert_allclose(program(**other)[0], least_squares_numpy(**other)[0], rtol=1e-12)
    with pytest.raises(tc.BindingError, match="unexpected variable 'c'"):
        program(**values, c=np.ones(3))
    with pytest.raises(tc.BindingError, match="missing a value for variable 'b'"):
        program(A=values["A"], x=values["x"])
    wider = {**values, "x": values["x"].astype(np.float32)}
    assert program(**wider)[1].dtype == np.float64


def test_outputs_that_are_views_are_copies_on_every_path():
    """A slice, a reshape or a factor selected from a packed factorization is a view in numpy:
    the fast path and generated code hand back arrays that share memory with no input and no
    other output, as the evaluator does (found by the soak profile: ``x[::-1]``)."""
    x, X = tc.var("x", (4,)), tc.var("X", (3, 3))
    xv = RNG.normal(size=4)
    a = RNG.normal(size=(3, 3))
    xm = a @ a.T + 3 * np.eye(3)
    cases = [([x[::-1], x[1:], tc.reshape(x, (2, 2))], {"x": xv},
              [xv[::-1], xv[1:], xv.reshape(2, 2)]),
             ([tc.vec(X), *tc.eigh(X)], {"X": xm}, [xm.reshape(-1, order="F"), *np.linalg.eigh(xm)]),
             ([*tc.svd(X)], {"X": xm}, [*np.linalg.svd(xm)]),
             ([*tc.qr(X)], {"X": xm}, [*np.linalg.qr(xm)])]
    for outputs, data, expected in cases:
        program = tc.compile(outputs)
        namespace: dict = {}
        exec(compile(tc.codegen(outputs, name="f"), "<generated>", "exec"), namespace)
        results = [program(**data) for _ in range(3)] + [namespace["f"](**data)]
        assert program.fast_calls == 2
        for got in results:
            for n, (array, want) in enumerate(zip(got, expected)):
                np.testing.assert_allclose(np.abs(array), np.abs(want), rtol=1e-10, atol=1e-12)
                assert not any(np.shares_memory(array, value) for value in data.values())
                assert not any(np.shares_memory(array, other) for other in got[n + 1:])
