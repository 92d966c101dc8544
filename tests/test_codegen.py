"""Generated code (``tc.codegen``): standalone numpy modules that compute what ``tc.compile`` does.

Each curated case is generated, written to a file and imported; its function must agree with
``tc.compile`` on random data, hand back arrays the caller owns, pass its own ``check_gradient``
and fail it once a gradient is corrupted by 1%.  A handful run as ``python file.py`` in a fresh
interpreter.  A hypothesis property does the same for random expression trees, and the form of
the code is checked too (no dense δ, BLAS products, a comment per step, pyflakes-clean).
"""

import importlib.util
import inspect
import py_compile
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

import tensorcalc as tc
from tensorcalc.errors import CodegenError
from tensorcalc.evaluation.source_forms import SOURCES
from tensorcalc.evaluation.statements import generate, load
from test_properties import VARIABLES, near_a_kink, tree_values, trees


# ---------------------------------------------------------------------------
# The curated list: (outputs, sizes for codegen, how to draw the data)


def mlp():
    W1, W2 = tc.var("W1", ("h", "d")), tc.var("W2", ("o", "h"))
    X, Y = tc.var("X", ("d", "B")), tc.var("Y", ("o", "B"))
    L = tc.sum((W2 @ tc.tanh(W1 @ X) - Y) ** 2)
    return [L, *tc.grad(L, (W1, W2))], {"h": 5, "d": 4, "o": 3, "B": 6}


def least_squares():
    A, x, b = tc.var("A", ("m", "n")), tc.var("x", ("n",)), tc.var("b", ("m",))
    L = tc.sum((A @ x - b) ** 2)
    return [L, tc.grad(L, x)], {"m": 7, "n": 3}


def logistic_regression():
    X, y, w = tc.var("X", ("n", "d")), tc.var("y", ("n",)), tc.var("w", ("d",))
    z = X @ w
    L = tc.mean(-(y * tc.log(tc.sigmoid(z)) + (1 - y) * tc.log(1 - tc.sigmoid(z))))
    return [L, tc.grad(L, w)], {"n": 6, "d": 3}


def quadratic_form():
    x, A = tc.var("x", (3,)), tc.var("A", (3, 3))
    f = x @ A @ x
    gradient = tc.grad(f, x)
    return [f, gradient, tc.grad(gradient, x)], {}


def trace_product():
    A, X, B = tc.var("A", (2, 3)), tc.var("X", (3, 4)), tc.var("B", (4, 2))
    f = tc.trace(A @ X @ B)
    return [f, tc.grad(f, X)], {}


def jacobian_with_delta():
    W, a = tc.var("W", (3, 3)), tc.var("a", (3,))
    return [W @ a, tc.jacobian(W @ a, W)], {}


def diagonal():
    A = tc.var("A", (3, 3))
    d = tc.einsum("ii->i", A)
    return [d, tc.jacobian(d, A), tc.grad(tc.sum(tc.exp(d)), A)], {}


def broadcast_add():
    A, v = tc.var("A", (3, 4)), tc.var("v", (4,))
    f = tc.sum(tc.tanh(A + v))
    return [A + v, f, *tc.grad(f, (A, v))], {}


def mean_named():
    X = tc.var("X", ("n", "d"))
    m = tc.mean(X, axis=0)
    f = tc.sum(m * m)
    return [m, f, tc.grad(f, X)], {"n": 4, "d": 2}


def coefficients():
    x, y = tc.var("x", ("n",)), tc.var("y", ("n",))
    f = tc.sum(3 * x - 2 * y + 0.5) + 4 * tc.sum(x * y) - 1.5
    return [f, *tc.grad(f, (x, y))], {"n": 5}


def _into_domain(name, x):
    row = tc.FUNCTIONS[name]
    if row.bounded:
        return 0.5 * x
    return 1.0 + x if row.domain[0] >= 1.0 else x  # arccosh: defined from 1 on


PARAMETERS = {"pow": 2.5, "sinc_derivative": 2}  # sinc_derivative's is a derivative's order


def every_function():
    """Every built-in row of the table, on positive data (log, sqrt and powers stay real)."""
    x = tc.var("x", (4,))
    total = sum(tc.sum(tc.apply_function(name, _into_domain(name, x),
                                         PARAMETERS.get(name) if tc.FUNCTIONS[name].has_param
                                         else None))
                for name in sorted(SOURCES))  # bounded rows (arcsin) see data in [0.25, 0.75]
    return [total, tc.grad(total, x)], {}


CASES = {f.__name__: f for f in (mlp, least_squares, logistic_regression, quadratic_form,
                                 trace_product, jacobian_with_delta, diagonal, broadcast_add,
                                 mean_named, coefficients, every_function)}
IN_A_SUBPROCESS = ("mlp", "jacobian_with_delta")
LOGISTIC_LABELS = {"y"}  # data in [0, 1]


def draw(outputs, sizes, rng, dtype=np.float64):
    """Data for every variable ``tc.compile(outputs)`` accepts, in [0.5, 1.5] (labels in [0, 1])."""
    program = tc.compile(outputs)
    data = {}
    for variable in list(program.variables.values()) + list(program.optional):
        shape = tuple(d if isinstance(d, int) else sizes.get(d, 3) for d in variable.shape)
        low = 0.0 if variable.name in LOGISTIC_LABELS else 0.5
        data[variable.name] = rng.uniform(low, low + 1.0, size=shape).astype(dtype)
    return data


def import_file(path, name="generated"):
    spec = importlib.util.spec_from_file_location(f"{name}_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_module(tmp_path, name, source):
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    return path


def assert_owned(results, data):
    """No array handed back is an input or shares memory with one or with another result."""
    arrays = [r for r in (results if isinstance(results, tuple) else (results,))
              if isinstance(r, np.ndarray)]
    for n, array in enumerate(arrays):
        assert array.flags.writeable
        for value in data.values():
            assert not np.shares_memory(array, value)
        for other in arrays[n + 1:]:
            assert not np.shares_memory(array, other)


def corrupt(source, outputs, function="f_and_grad", factor="1.01"):
    """The source with ``function``'s first derivative output multiplied by ``factor``."""
    position = next(n for n, item in enumerate(outputs) if getattr(item, "of", None) is not None)
    start = source.index(f"def {function}(")
    line_start = source.index("    return ", start)
    line_end = source.index("\n", line_start)
    parts = source[line_start + len("    return "):line_end].rstrip(",").split(", ")
    parts[position] = f"{factor} * {parts[position]}"
    return source[:line_start] + "    return " + ", ".join(parts) + source[line_end:]


@pytest.mark.parametrize("case", sorted(CASES))
def test_generated_module_matches_compile(case, tmp_path):
    outputs, sizes = CASES[case]()
    source = tc.codegen(outputs, sizes=sizes)
    path = write_module(tmp_path, case, source)
    py_compile.compile(str(path), doraise=True)
    module = import_file(path)
    program = tc.compile(outputs)
    rng = np.random.default_rng(1)
    for test_sizes in (sizes, {name: size + 1 for name, size in sizes.items()}):  # any sizes
        data = draw(outputs, test_sizes, rng)
        expected = program(**data)
        got = module.f_and_grad(**data)
        assert isinstance(got, tuple) and len(got) == len(expected)
        for value, reference in zip(got, expected):
            assert np.shape(value) == np.shape(reference)
            assert type(value) is np.float64 if np.ndim(reference) == 0 else \
                isinstance(value, np.ndarray)
            np.testing.assert_allclose(value, reference, rtol=1e-12, atol=1e-12)
        assert_owned(got, data)
    assert module.check_gradient() < 1e-6
    broken = import_file(write_module(tmp_path, case + "_broken", corrupt(source, outputs)))
    assert broken.check_gradient() > 1e-4


@pytest.mark.parametrize("case", IN_A_SUBPROCESS)
def test_running_the_file_checks_the_gradients(case, tmp_path):
    outputs, sizes = CASES[case]()
    source = tc.codegen(outputs, sizes=sizes)
    good = subprocess.run([sys.executable, str(write_module(tmp_path, case, source))],
                          capture_output=True, text=True, timeout=60)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "largest relative error" in good.stdout
    bad = subprocess.run([sys.executable, str(write_module(tmp_path, case + "_bad",
                                                             corrupt(source, outputs)))],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1, bad.stdout + bad.stderr


def test_a_corrupted_gradient_fails_at_the_readme_sizes():
    """Data that saturated tanh would make every gradient ~0 and hide the corruption."""
    outputs, _ = mlp()
    source = tc.codegen(outputs, sizes={"h": 32, "d": 16, "o": 4, "B": 8})
    good, bad = {}, {}
    exec(source, good)
    exec(corrupt(source, outputs), bad)
    assert good["check_gradient"]() < 1e-6 < 1e-3 < bad["check_gradient"]()


def test_the_module_needs_nothing_but_numpy(tmp_path):
    outputs, sizes = mlp()
    path = write_module(tmp_path, "alone", tc.codegen(outputs, sizes=sizes))
    script = ("import sys; sys.modules['tensorcalc'] = None; sys.modules['opt_einsum'] = None\n"
              f"import runpy; runpy.run_path({str(path)!r}, run_name='__main__')\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60)
    assert "largest relative error" in result.stdout, result.stderr
    assert re.findall(r"^(?:import|from) (\S+)", path.read_text(), re.M) == ["sys", "numpy"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_pyflakes_finds_nothing(case):
    api = pytest.importorskip("pyflakes.api")
    reporter = pytest.importorskip("pyflakes.reporter")
    import io

    outputs, sizes = CASES[case]()
    messages = io.StringIO()
    count = api.check(tc.codegen(outputs, sizes=sizes), f"{case}.py",
                      reporter.Reporter(messages, messages))
    assert count == 0, messages.getvalue()


# ---------------------------------------------------------------------------
# The form of the code


def function_body(source, name="f_and_grad"):
    start = source.index(f"def {name}(")
    end = source.find("\n\n\n", start)
    return source[start:end]


def test_a_surviving_delta_is_written_onto_a_diagonal_not_built_dense():
    outputs, _ = jacobian_with_delta()
    body = function_body(tc.codegen(outputs))
    assert "np.eye" not in body
    assert "np.zeros((3, 3, 3), dtype=a.dtype)" in body
    assert "np.einsum('iik->ik', dW)[...] = a" in body


def test_matrix_products_are_blas_calls_and_each_step_has_a_comment():
    outputs, sizes = mlp()
    body = function_body(tc.codegen(outputs, sizes=sizes))
    assert "np.einsum" not in body
    assert "t1 = W1 @ X" in body
    assert "# t1_ij = W1_ik X_kj" in body
    assert "_tmp" not in body
    statements = [line for line in body.splitlines()[2:] if line.strip()
                  and not line.strip().startswith(("#", "raise", "f\"", "if "))]
    assert all(len(line) <= 99 for line in body.splitlines())
    assert statements[-1].strip() == "return value, dW1, dW2"  # value: a numpy scalar already


def test_the_header_names_the_expressions_variables_and_shapes():
    outputs, sizes = mlp()
    source = tc.codegen(outputs, sizes=sizes)
    header = source[:source.index('"""', 3)]
    assert "value: Σ_ij (W2_ik tanh(W1_kl X_lj) - Y_ij)²" in header
    assert "W1: shape (h, d)" in header
    if hasattr(tc, "matrix_notation"):
        assert "In matrix notation:" in header


def test_outputs_that_are_inputs_or_views_are_copied():
    x, A = tc.var("x", (3,)), tc.var("A", (3, 3))
    outputs = [x, A.T, A.T, tc.einsum("ii->i", A), 2 * x, tc.broadcast_to(x, (2, 3))]
    f = load(*generate(tc.compile(outputs)))
    data = {"x": np.arange(3.0), "A": np.arange(9.0).reshape(3, 3)}
    results = f(**data)
    assert_owned(results, data)
    for value, reference in zip(results, tc.compile(outputs)(**data)):
        np.testing.assert_array_equal(value, reference)


def test_a_single_output_is_returned_alone_and_a_list_as_a_tuple():
    x = tc.var("x", (2,))
    single = load(*generate(tc.compile(tc.sum(x))))
    listed = load(*generate(tc.compile([tc.sum(x)])))
    assert single(x=np.ones(2)) == 2.0
    assert listed(x=np.ones(2)) == (2.0,)


def test_float32_stays_float32():
    outputs, sizes = mean_named()
    f = load(*generate(tc.compile(outputs)))
    data = draw(outputs, sizes, np.random.default_rng(0), np.float32)
    m, _, gradient = f(**data)
    assert m.dtype == np.float32 and gradient.dtype == np.float32
    outputs, sizes = jacobian_with_delta()
    data = draw(outputs, sizes, np.random.default_rng(0), np.float32)
    assert load(*generate(tc.compile(outputs)))(**data)[1].dtype == np.float32


def test_the_path_is_planned_at_the_given_sizes_and_works_at_any():
    outputs, _ = mlp()
    program = tc.compile(outputs)
    wide = load(*generate(program, sizes={"h": 512, "d": 2, "o": 2, "B": 512}))
    narrow = load(*generate(program, sizes={"h": 2, "d": 512, "o": 512, "B": 2}))
    data = draw(outputs, {"h": 4, "d": 3, "o": 2, "B": 5}, np.random.default_rng(2))
    for got_wide, got_narrow, reference in zip(wide(**data), narrow(**data), program(**data)):
        np.testing.assert_allclose(got_wide, reference, rtol=1e-12)
        np.testing.assert_allclose(got_narrow, reference, rtol=1e-12)


def test_no_derivative_output_checks_as_zero():
    x = tc.var("x", (2,))
    namespace = {}
    exec(tc.codegen([tc.exp(x)]), namespace)
    assert namespace["check_gradient"]() == 0.0


def test_symmetric_variables_get_symmetric_data():
    if "symmetric" not in inspect.signature(tc.var).parameters:
        pytest.skip("tc.var has no symmetric option")
    S = tc.var("S", (3, 3), symmetric=True)
    f = tc.sum(tc.exp(S))
    source = tc.codegen([f, tc.grad(f, S)])
    assert "_symmetric(" in source
    namespace = {}
    exec(source, namespace)
    assert namespace["check_gradient"]() < 1e-6


# ---------------------------------------------------------------------------
# Errors: in the generated function, and for what cannot be generated


def test_the_function_checks_its_arguments():
    outputs, sizes = mlp()
    f = load(*generate(tc.compile(outputs)))
    data = draw(outputs, sizes, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"dimension 'd' is 4 in variable 'W1' but 5 in "
                                         r"variable 'X'"):
        f(**{**data, "X": np.ones((5, 6))})
    with pytest.raises(ValueError, match=r"variable 'Y' expects shape \('o', 'B'\) \(2 axes\)"):
        f(**{**data, "Y": np.ones(3)})
    x = tc.var("x", (3,))
    with pytest.raises(ValueError, match=r"axis 0 has size 2, not 3"):
        load(*generate(tc.compile(tc.sum(x))))(x=np.ones(2))
    assert load(*generate(tc.compile(2 * x)))(x=[1, 2, 3]).dtype == np.float64  # ints: floats
    S = tc.var("S", ("n", "n"))  # one name twice in one variable
    trace = load(*generate(tc.compile(tc.trace(S))))
    assert trace(S=np.eye(4)) == 4.0
    with pytest.raises(ValueError, match=r"dimension 'n' is 2 in variable 'S' but 3 in variable 'S'"):
        trace(S=np.ones((2, 3)))


def test_a_row_without_a_source_form_is_refused_by_name():
    row = tc.Function("cube_for_codegen", lambda x, p: x ** 3, lambda x, p: 3 * x ** 2,
                      "cube({})")
    tc.register_function(row)
    try:
        x = tc.var("x", (2,))
        with pytest.raises(CodegenError, match="'cube_for_codegen' has no numpy source form"):
            tc.codegen(tc.apply_function("cube_for_codegen", x))
    finally:
        tc.FUNCTIONS.pop("cube_for_codegen")
    assert issubclass(CodegenError, tc.TensorCalcError)


def test_constants_are_literals_when_small_and_refused_when_large():
    x = tc.var("x", (3,))
    c = np.array([0.5, -1.0, 2.0])
    f = load(*generate(tc.compile(x * c + c)))
    np.testing.assert_array_equal(f(x=np.ones(3)), 2 * c)
    assert "np.array([0.5, -1.0, 2.0])" in generate(tc.compile(x * c))[0]
    big = tc.var("big", (100,))
    with pytest.raises(CodegenError, match=r"constant of shape \(100,\)"):
        tc.codegen(big * np.arange(100.0))


def test_names_the_code_cannot_use_are_refused():
    with pytest.raises(CodegenError, match="variable 'np'"):
        tc.codegen(tc.var("np", (2,)) * 2)
    with pytest.raises(CodegenError, match="function name 'class'"):
        tc.codegen(tc.var("x", (2,)) * 2, name="class")
    with pytest.raises(CodegenError, match="sizes names 'm'"):
        tc.codegen(tc.var("x", ("n",)) * 2, sizes={"m": 3})
    # a dimension or variable named like a temporary is renamed, not clobbered
    t1, dtype = tc.var("t1", ("t2",)), tc.var("dtype", ("t2",))
    f = load(*generate(tc.compile(tc.exp(t1) * dtype)))
    np.testing.assert_allclose(f(t1=np.zeros(2), dtype=np.ones(2)), np.ones(2))


# ---------------------------------------------------------------------------
# Random expressions


@settings(max_examples=settings.default.max_examples)
@given(trees(), st.integers(0, 2**32 - 1))
def test_random_expressions_generate_the_same_values(expr, seed):
    expr = tc.as_expr(expr)
    note(f"expression: {expr}")
    values = tree_values(seed)
    with np.errstate(all="ignore"):
        forward = np.asarray(tc.compile(expr)(**{k: v for k, v in values.items()
                                                 if k in tc.compile(expr).variables}))
    assume(np.all(np.isfinite(forward)) and np.max(np.abs(forward), initial=0) < 1e6)
    assume(not near_a_kink(expr, values))
    weights = np.random.default_rng(seed).standard_normal(expr.shape)
    loss = tc.sum(expr * weights)
    present = [v for v in VARIABLES.values() if v.name in tc.compile(loss).variables]
    outputs = [expr, loss, *(tc.grad(loss, v) for v in present)]
    program = tc.compile(outputs)
    source, name = generate(program)
    note(source)
    data = {v.name: values[v.name] for v in list(program.variables.values()) + program.optional}
    with np.errstate(all="ignore"):
        expected = program(**data)
        got = load(source, name)(**data)
    for value, reference in zip(got, expected):
        np.testing.assert_allclose(value, reference, rtol=1e-9, atol=1e-9)
        # one scalar type: a 0-d output is a numpy float64 in both, never a 0-d array or float
        assert type(value) is type(reference) is (np.float64 if np.ndim(reference) == 0 else
                                                  np.ndarray)
    assert_owned(got, data)
