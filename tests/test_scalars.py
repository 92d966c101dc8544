"""One scalar type: a scalar output is a numpy scalar of the result dtype on every path.

``tc.evaluate``, a compiled program's first call, its repeat calls (the generated straight-line
fast path for small programs, the step-by-step evaluator for the rest), the code ``tc.codegen``
writes and the numpy-functional backend all hand back ``np.float64`` for float64 inputs and
``np.float32`` for float32 ones (integers become float64); jax, torch and dask hand back a 0-d
array of their own, of that dtype.  Each case's value is checked against numpy computed directly.
"""

import math

import numpy as np
import pytest

import tensorcalc as tc
from tensorcalc.evaluation.statements import generate, load

x, y = tc.var("x", ("n",)), tc.var("y", ("n",))
A, B = tc.var("A", ("n", "n")), tc.var("B", ("n", "n"))
s = tc.var("s", ())

# name -> (expression, numpy computing its value directly), chosen for how the scalar arises:
# a sum, BLAS products, a tensordot (a 0-d array in numpy), an input, a constant, np.full, an
# elementwise function numpy vectorizes, an operation
CASES = {
    "sum of squares": (tc.sum(x * x), lambda v: np.sum(v["x"] * v["x"])),
    "quadratic form": (x @ A @ x, lambda v: v["x"] @ v["A"] @ v["x"]),
    "trace of a product": (tc.einsum("ij,ji->", A, B), lambda v: np.trace(v["A"] @ v["B"])),
    "a scalar variable": (s, lambda v: v["s"]),
    "an affine scalar": (2 * s + 1, lambda v: 2 * v["s"] + 1),
    "a mean": (tc.mean(x), lambda v: np.mean(v["x"])),
    "erf": (tc.sum(tc.erf(y)), lambda v: sum(math.erf(e) for e in v["y"])),
    "logsumexp (an operation)": (tc.logsumexp(x), lambda v: np.log(np.sum(np.exp(v["x"])))),
    "a constant derivative": (tc.grad(2 * s, s), lambda v: 2.0),
}
DTYPES = [np.float64, np.float32]
NO_FAST_PATH = {("a constant derivative", np.float32):
                "the dtype comes from an argument no output reads: the evaluator's"}


def data(dtype):
    rng = np.random.default_rng(3)
    values = {"x": rng.uniform(-1, 1, 4), "y": rng.uniform(-1, 1, 4),
              "A": rng.uniform(-1, 1, (4, 4)), "B": rng.uniform(-1, 1, (4, 4)),
              "s": np.asarray(0.75)}
    return {name: value.astype(dtype) for name, value in values.items()}


def check(value, expected, dtype):
    assert type(value) is np.dtype(dtype).type, f"{type(value).__name__}, not {dtype.__name__}"
    tolerance = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(value, expected, rtol=tolerance, atol=tolerance)


def arguments(program, values):
    return {k: v for k, v in values.items() if k in program.variables or
            k in {o.name for o in program.optional}}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(CASES))
def test_evaluate_and_every_call_of_a_program(case, dtype):
    expr, oracle = CASES[case]
    values = data(dtype)
    expected = oracle({k: v.astype(np.float64) for k, v in values.items()})
    if case == "a constant derivative" and dtype == np.float32:
        values = {"s": values["s"]}  # the working dtype comes from the arguments passed
    tc.clear_cache()
    check(tc.evaluate(expr, values), expected, dtype)
    program = tc.compile(expr)
    given = arguments(program, values)
    check(program(**given), expected, dtype)  # first call: plans
    check(program(**given), expected, dtype)  # repeat call: builds the fast path if any
    check(program(**given), expected, dtype)  # repeat call: the fast path (or the evaluator)
    assert (program.fast_calls == 2) == ((case, dtype) not in NO_FAST_PATH), \
        NO_FAST_PATH.get((case, dtype))
    program.fast_path = False  # the step-by-step evaluator on repeat calls too
    check(program(**given), expected, dtype)
    listed = tc.compile([expr, 3 * x])(**{**given, "x": data(dtype)["x"]})
    check(listed[0], expected, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(CASES))
def test_generated_code(case, dtype):
    expr, oracle = CASES[case]
    values = data(dtype)
    expected = oracle({k: v.astype(np.float64) for k, v in values.items()})
    program = tc.compile(expr)
    given = arguments(program, values)
    alone = dtype
    if case == "a constant derivative":
        alone = np.float64  # s is not read: the function's working dtype (see below)
    check(load(*generate(program))(**given), expected, alone)
    checked_off = load(*generate(program, checks=False))  # the form the fast path runs
    check(checked_off(**given), expected, alone)
    namespace: dict = {}
    exec(tc.codegen([expr, tc.grad(tc.sum(x * x), x)], name="f"), namespace)
    check(namespace["f"](**{**given, "x": values["x"]})[0], expected, dtype)


def test_a_generated_function_reading_no_argument_works_in_float64():
    """Known limit: a constant output of a function that reads none of its arguments is made
    in float64 (the function has no array to take the dtype from); the evaluator follows the
    arguments passed."""
    generated = load(*generate(tc.compile(tc.grad(2 * s, s))))
    assert type(generated(s=np.float32(1.0))) is np.float64
    assert type(tc.compile(tc.grad(2 * s, s))(s=np.float32(1.0))) is np.float32


def test_integers_follow_numpy_promotion_to_float64():
    values = {"x": np.arange(4), "A": np.eye(4, dtype=np.int32)}
    expected = np.arange(4) @ np.arange(4)
    check(tc.evaluate(x @ A @ x, values), expected, np.float64)
    program = tc.compile(x @ A @ x)
    for _ in range(3):
        check(program(**values), expected, np.float64)
    check(load(*generate(program))(**values), expected, np.float64)


def test_mixed_float32_and_float64_give_float64():
    values = {"x": np.ones(4, np.float32), "y": np.ones(4, np.float64)}
    program = tc.compile(tc.sum(x * y))
    for _ in range(3):
        check(program(**values), 4.0, np.float64)


def test_complex_values_give_complex_scalars():
    values = {"x": np.array([1 + 2j, 3.0, 0.5j, -1.0])}
    expected = np.sum(values["x"] * values["x"])
    program = tc.compile(tc.sum(x * x))
    for _ in range(3):
        value = program(**values)
        assert type(value) is np.complex128
        np.testing.assert_allclose(value, expected, rtol=1e-14)
    assert type(load(*generate(program))(**values)) is np.complex128


# ---------------------------------------------------------------------------
# Backends: numpy-functional hands back numpy scalars; jax, torch and dask 0-d arrays


def _backend_scalar(name, value):
    """``(numpy dtype, the value as a float)`` of a backend's 0-d output, checking its kind."""
    if name == "jax":
        import jax

        assert isinstance(value, jax.Array) and value.shape == ()
        return np.dtype(value.dtype), float(value)
    if name == "torch":
        import torch

        assert isinstance(value, torch.Tensor) and value.shape == ()
        return np.dtype(str(value.dtype).removeprefix("torch.")), float(value)
    if name == "dask":
        import dask.array as da

        assert isinstance(value, da.Array) and value.shape == ()
        computed = value.compute()
        return computed.dtype, float(computed)
    assert type(value) in (np.float64, np.float32)
    return value.dtype, float(value)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", ["numpy-functional", "jax", "torch", "dask"])
def test_backend_scalars(backend, dtype):
    if backend != "numpy-functional":
        library = pytest.importorskip(backend)
        if backend == "jax":
            library.config.update("jax_enable_x64", True)
    values = data(dtype)
    program = tc.compile([x @ A @ x, tc.grad(x @ A @ x, x)], backend=backend)
    for _ in range(2):  # the first call lowers, the second reuses
        value, gradient = program(x=values["x"], A=values["A"])
        got_dtype, number = _backend_scalar(backend, value)
        assert got_dtype == dtype
        np.testing.assert_allclose(number, values["x"].astype(np.float64) @ values["A"] @
                                   values["x"], rtol=1e-5 if dtype == np.float32 else 1e-12)
