"""One max-shifted exp for logsumexp and softmax of one argument (``evaluation/shared_exp.py``).

Softmax regression's loss has ``logsumexp(Z)`` and its gradient ``softmax(Z)``: the program
takes ``m = max Z``, ``e = exp(Z − m)`` and ``s = Σ e`` once.  Asserted on the program's form
(its plan has one exp step; the code it writes one ``np.exp``) and on what it runs (numpy's
exp called once per call, counted), on the evaluator, the fast path and ``tc.codegen``; values
against numpy computed directly, at large inputs too, and against JAX."""

import numpy as np
import pytest

import tensorcalc as tc
from tensorcalc.evaluation.statements import generate, load

RNG = np.random.default_rng(2)


def softmax_regression():
    W, X, Y = tc.var("W", ("c", "d")), tc.var("X", ("d", "B")), tc.var("Y", ("c", "B"))
    Z = W @ X
    L = -tc.sum(Y * (Z - tc.logsumexp(Z, axis=0)))
    return [L, tc.grad(L, W)]


def numpy_softmax_regression(W, X, Y):
    Z = W @ X
    top = Z.max(axis=0)
    E = np.exp(Z - top)
    total = E.sum(axis=0)
    lse = top + np.log(total)
    return [-np.sum(Y * (Z - lse)), (E / total * Y.sum(axis=0) - Y) @ X.T]


def data(scale, c=4, d=3, B=5):
    Y = np.zeros((c, B))
    Y[RNG.integers(0, c, B), np.arange(B)] = 1.0
    return {"W": RNG.normal(size=(c, d)) * scale, "X": RNG.normal(size=(d, B)), "Y": Y}


@pytest.fixture
def exp_calls(monkeypatch):
    calls = []
    exp = np.exp

    def counting(*args, **kwargs):
        calls.append(args[0].shape if hasattr(args[0], "shape") else ())
        return exp(*args, **kwargs)
    monkeypatch.setattr(np, "exp", counting)
    return calls


@pytest.mark.parametrize("scale", [1.0, 1000.0])  # 1000: entries of Z in the thousands
def test_softmax_regression_runs_one_exp_per_call_with_numpys_values(scale, exp_calls):
    program = tc.compile(softmax_regression())
    for call in range(5):  # plans; writes the fast path; runs it; new values; the evaluator
        values = data(scale)
        program.fast_path = call < 4
        before = len(exp_calls)
        got = program(**values)
        assert len(exp_calls) - before == 1, f"call {call}: {len(exp_calls) - before} exps"
        expected = numpy_softmax_regression(**values)
        assert np.isfinite(expected[0]) and np.all(np.isfinite(expected[1]))
        for value, want in zip(got, expected):
            np.testing.assert_allclose(value, want, rtol=1e-12, atol=1e-12 * scale)
    assert program.fast_calls == 3


def test_the_plan_has_one_exp_step_and_the_members_read_it():
    program = tc.compile(softmax_regression())
    operations = [step.operation for step in program.plan_for({"c": 10, "d": 100, "B": 1000}).steps]
    assert operations.count("shared exp") == 1
    assert operations.index("shared exp") < operations.index("logsumexp") < operations.index("softmax")
    assert len(program.shared) == 2  # logsumexp and softmax, one record


def test_generated_code_writes_one_exp_and_agrees():
    outputs = softmax_regression()
    source = tc.codegen(outputs, name="f")
    body = source[source.index("def f("):source.index("def forward")]
    assert body.count("np.exp(") == 1, body
    namespace: dict = {}
    exec(source, namespace)
    values = data(1000.0)
    for value, want in zip(namespace["f"](**values), numpy_softmax_regression(**values)):
        np.testing.assert_allclose(value, want, rtol=1e-12, atol=1e-9)


def test_both_as_outputs_a_scalar_argument_and_other_axes():
    """Both rows returned (softmax divides the shared exp in place: never an input or another
    output); a 0-d argument; a softmax over other axes than the logsumexp is not shared."""
    Z, s = tc.var("Z", (3, 4)), tc.var("s", ())
    program = tc.compile([tc.logsumexp(Z, axis=1), tc.softmax(Z, axis=1), tc.softmax(Z, axis=0),
                          tc.logsumexp(s), tc.softmax(s)])
    assert len(program.shared) == 4  # the axis-1 pair and the scalar pair
    for _ in range(3):
        Zv = RNG.normal(size=(3, 4)) * 500
        copy = Zv.copy()
        lse, soft1, soft0, lse_s, soft_s = program(Z=Zv, s=np.float64(-2.5))
        np.testing.assert_array_equal(Zv, copy)
        top = Zv.max(axis=1, keepdims=True)
        np.testing.assert_allclose(lse, (top + np.log(np.exp(Zv - top).sum(1, keepdims=True)))[:, 0])
        np.testing.assert_allclose(soft1, np.exp(Zv - lse[:, None]), atol=1e-300)
        e0 = np.exp(Zv - Zv.max(axis=0))
        np.testing.assert_allclose(soft0, e0 / e0.sum(axis=0))
        assert lse_s == -2.5 and soft_s == 1.0
        assert not np.shares_memory(soft1, soft0)


def test_an_infinite_maximum_keeps_the_convention():
    z = tc.var("z", (3,))
    program = tc.compile([tc.logsumexp(z), tc.softmax(z)])
    for _ in range(3):
        lse, soft = program(z=np.array([-np.inf, 0.0, np.log(3.0)]))
        np.testing.assert_allclose(lse, np.log(4.0), rtol=1e-15)
        np.testing.assert_allclose(soft, [0.0, 0.25, 0.75], rtol=1e-15)
        lse, soft = program(z=np.full(3, -np.inf))  # the max shift is 0 where it is infinite
        assert lse == -np.inf and np.all(np.isnan(soft))


def test_the_jax_backend_shares_the_exp_and_agrees_with_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from jax.scipy.special import logsumexp

    values = data(1000.0)

    def loss(W, X, Y):
        Z = W @ X
        return -(Y * (Z - logsumexp(Z, axis=0))).sum()
    value, gradient = jax.value_and_grad(loss)(*(values[k] for k in ("W", "X", "Y")))
    program = tc.compile(softmax_regression(), backend="jax")
    got = program(**values)
    np.testing.assert_allclose(np.asarray(got[0]), float(value), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(got[1]), np.asarray(gradient), rtol=1e-10, atol=1e-9)
    compiled = tc.compile(softmax_regression())
    source, name = generate(compiled, "f", functional=True)
    assert source.count("np.exp(") == 1
    load(source, name)  # numpy stands in for the namespace: it compiles
