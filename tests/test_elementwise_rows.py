"""numpy's elementwise names of issue 18's second part: the binary rows arctan2, hypot, logaddexp,
logaddexp2, mod (= remainder) and fmod; the unary rows sinc and trunc; and the compositions
square, reciprocal, deg2rad, rad2deg, absolute and fabs.

Each: values against numpy; first and second derivatives against central differences along
random directions and against jax.grad / jax.hessian at several shapes; the numpy dialect and the
text language (to_text → parse) against numpy; tc.codegen and every backend against numpy; and the
stated conventions where a function is not smooth, against JAX where JAX is the stated peer.
"""

import re
import warnings

import numpy as np
import pytest

import tensorcalc as tc
from fd import check_grads
from tensorcalc.errors import NoTextForm

BINARY = ("arctan2", "hypot", "logaddexp", "logaddexp2", "mod", "remainder", "fmod")
UNARY = ("sinc", "trunc", "square", "reciprocal", "deg2rad", "rad2deg", "absolute", "fabs")
SHAPES = ((), (3,), (2, 3), (2, 2, 2))


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


def _binary_values(name, shape, rng):
    """(x, y) away from every non-smooth point: the origin for arctan2 and hypot, the jumps of
    mod and fmod (x/y at least 0.15 from an integer)."""
    if name in ("mod", "remainder", "fmod"):
        y = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
        x = y * (rng.integers(-3, 4, size=shape) + rng.uniform(0.15, 0.85, size=shape))
        return x, y
    x = rng.uniform(-3.0, 3.0, size=shape)
    y = rng.uniform(0.3, 3.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return x, y


def _unary_values(name, shape, rng):
    """Away from 0 for reciprocal and the absolute values, and from the jumps of trunc."""
    x = rng.uniform(0.3, 3.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    if name == "trunc":
        x = np.trunc(x) + np.sign(x) * rng.uniform(0.1, 0.9, size=shape)
    return x


def _jnp_name(name):
    return {"absolute": "abs", "fabs": "abs"}.get(name, name)


# ---------------------------------------------------------------------------
# Values, derivatives against central differences and against JAX


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shape", SHAPES)
def test_binary_values_and_derivatives_against_numpy_and_differences(name, shape):
    rng = np.random.default_rng(181)
    x, y, w = tc.var("x", shape), tc.var("y", shape), tc.var("w", shape)
    xv, yv = _binary_values(name, shape, rng)
    values = {"x": xv, "y": yv, "w": rng.standard_normal(shape)}
    f = getattr(tc, name)(x, y)
    np.testing.assert_allclose(tc.evaluate(f, values), getattr(np, name)(xv, yv), rtol=1e-14,
                               atol=1e-15)
    check_grads(f, [x, y], values, rng=rng)
    check_grads(tc.sum(w * f), [x, y, w], values, rng=rng)


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("shape", SHAPES)
def test_unary_values_and_derivatives_against_numpy_and_differences(name, shape):
    rng = np.random.default_rng(182)
    x, w = tc.var("x", shape), tc.var("w", shape)
    values = {"x": _unary_values(name, shape, rng), "w": rng.standard_normal(shape)}
    f = getattr(tc, name)(x)
    np.testing.assert_allclose(tc.evaluate(f, values), getattr(np, name)(values["x"]), rtol=1e-14,
                               atol=1e-15)
    check_grads(f, [x], values, rng=rng)
    check_grads(tc.sum(w * f), [x, w], values, rng=rng)


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shape", [(4,), (2, 3)])
def test_binary_gradients_and_hessians_match_jax(name, shape):
    jax = _jax()
    rng = np.random.default_rng(183)
    xv, yv = _binary_values(name, shape, rng)
    wv = rng.standard_normal(shape)
    x, y = tc.var("x", shape), tc.var("y", shape)
    loss = tc.sum(wv * getattr(tc, name)(x, y))
    jf = lambda a, b: jax.numpy.sum(wv * getattr(jax.numpy, name)(a, b))  # noqa: E731
    values = {"x": xv, "y": yv}
    for k, wrt in enumerate((x, y)):
        np.testing.assert_allclose(tc.evaluate(tc.grad(loss, wrt), values),
                                   jax.grad(jf, argnums=k)(xv, yv), rtol=1e-12, atol=1e-14)
    hessian = jax.hessian(jf, argnums=(0, 1))(xv, yv)
    for k, first in enumerate((x, y)):
        gradient = tc.grad(loss, first)
        for j, second in enumerate((x, y)):
            np.testing.assert_allclose(tc.evaluate(tc.jacobian(gradient, second), values),
                                       hessian[k][j], rtol=1e-11, atol=1e-13,
                                       err_msg=f"{name}: d²/d{first.name}d{second.name}")


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("shape", [(4,), (2, 3)])
def test_unary_gradients_and_hessians_match_jax(name, shape):
    jax = _jax()
    rng = np.random.default_rng(184)
    xv = _unary_values(name, shape, rng)
    wv = rng.standard_normal(shape)
    x = tc.var("x", shape)
    loss = tc.sum(wv * getattr(tc, name)(x))
    jf = lambda a: jax.numpy.sum(wv * getattr(jax.numpy, _jnp_name(name))(a))  # noqa: E731
    np.testing.assert_allclose(tc.evaluate(tc.grad(loss, x), {"x": xv}), jax.grad(jf)(xv),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tc.evaluate(tc.hessian(loss, x), {"x": xv}), jax.hessian(jf)(xv),
                               rtol=1e-11, atol=1e-13)


def test_sinc_derivatives_of_orders_one_to_four_match_jax_and_are_accurate_near_zero():
    jax = _jax()
    # away from 0 jax differentiates sin(πx)/(πx) itself; near 0 (but not at it) that cancels, so
    # there the reference is the Maclaurin series, summed here independently in exact fractions
    points = np.array([-2.7, -1.0, -0.45, 0.35, 0.5, 1.3, 2.0, 3.9])
    x = tc.var("x", points.shape)
    derivative, reference = tc.sum(tc.sinc(x)), jax.numpy.sinc
    for order in range(1, 5):
        derivative = tc.grad(derivative, x)
        reference = jax.grad(reference)
        expected = [float(reference(p)) for p in points]
        np.testing.assert_allclose(tc.evaluate(derivative, x=points), expected, rtol=1e-12,
                                   atol=1e-12, err_msg=f"order {order}")
        derivative = tc.sum(derivative)
    small = np.array([-1e-3, 1e-6, 2e-2])
    u = np.pi * small
    second = np.pi ** 2 * (-1 / 3 + u ** 2 / 10 - u ** 4 / 168 + u ** 6 / 6480)
    x = tc.var("x", small.shape)
    np.testing.assert_allclose(tc.evaluate(tc.hessian(tc.sum(tc.sinc(x)), x), x=small),
                               np.diag(second), rtol=1e-13, atol=0)


# ---------------------------------------------------------------------------
# Conventions where a function is not smooth


def test_mod_and_fmod_at_their_jumps_match_jax_and_take_the_continuous_side():
    jax = _jax()
    x = np.array([6.0, -6.0, 6.0, -6.0, 0.0, 4.0, 1.0, 5.0, -5.0])
    y = np.array([2.0, 2.0, -2.0, -2.0, 2.0, 0.5, 0.1, 2.0, -2.0])
    xs, ys = tc.var("x", x.shape), tc.var("y", y.shape)
    for name in ("mod", "remainder", "fmod"):
        loss = tc.sum(getattr(tc, name)(xs, ys))
        jf = lambda a, b: jax.numpy.sum(getattr(jax.numpy, name)(a, b))  # noqa: E731
        for k, wrt in enumerate((xs, ys)):
            np.testing.assert_array_equal(tc.evaluate(tc.grad(loss, wrt), x=x, y=y),
                                          jax.grad(jf, argnums=k)(x, y), err_msg=f"{name} {k}")
    # at x/y = n: ∂/∂y = −n, the one-sided slope from the side where x/y ≥ n (y > 0 here), where
    # the value is continuous
    h = 1e-7
    for name in ("mod", "fmod"):
        f = getattr(np, name)
        slope = (f(6.0, 2.0) - f(6.0, 2.0 - h)) / h
        got = tc.evaluate(tc.grad(tc.sum(getattr(tc, name)(xs, ys)), ys), x=x, y=y)[0]
        assert got == -3.0 and slope == pytest.approx(-3.0, abs=1e-6)


def test_fmod_keeps_the_dividends_sign_and_mod_the_divisors():
    x, y = tc.var("x", (4,)), tc.var("y", (4,))
    xv, yv = np.array([5.0, -5.0, 5.0, -5.0]), np.array([3.0, 3.0, -3.0, -3.0])
    np.testing.assert_array_equal(tc.evaluate(tc.mod(x, y), x=xv, y=yv), [2.0, 1.0, -1.0, -2.0])
    np.testing.assert_array_equal(tc.evaluate(tc.fmod(x, y), x=xv, y=yv), [2.0, -2.0, 2.0, -2.0])
    # ∂/∂y: −⌊x/y⌋ and −trunc(x/y) (5/3 → −1 and −1; −5/3 → 2 and 1)
    np.testing.assert_array_equal(tc.evaluate(tc.grad(tc.sum(tc.mod(x, y)), y), x=xv, y=yv),
                                  [-1.0, 2.0, 2.0, -1.0])
    np.testing.assert_array_equal(tc.evaluate(tc.grad(tc.sum(tc.fmod(x, y)), y), x=xv, y=yv),
                                  [-1.0, 1.0, 1.0, -1.0])


def test_hypot_gradient_at_the_origin_is_zero_where_jax_gives_a_half():
    jax = _jax()
    x, y = tc.var("x", (2,)), tc.var("y", (2,))
    values = {"x": np.array([0.0, 3.0]), "y": np.array([0.0, -4.0])}
    loss = tc.sum(tc.hypot(x, y))
    assert np.array_equal(tc.evaluate(tc.grad(loss, x), values), [0.0, 0.6])
    assert np.array_equal(tc.evaluate(tc.grad(loss, y), values), [0.0, -0.8])
    assert float(jax.grad(jax.numpy.hypot)(0.0, 0.0)) == 0.5  # the peer README names
    # no second derivative at the origin (as ‖x‖): not finite there, finite elsewhere
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        hessian = tc.evaluate(tc.hessian(loss, x), values)
    assert not np.isfinite(hessian[0, 0]) and np.isfinite(hessian[1, 1])


def test_arctan2_gradient_at_the_origin_is_nan_as_jax():
    jax = _jax()
    y, x = tc.var("y", (2,)), tc.var("x", (2,))
    values = {"y": np.array([0.0, 1.0]), "x": np.array([0.0, 1.0])}
    loss = tc.sum(tc.arctan2(y, x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gradients = [tc.evaluate(tc.grad(loss, v), values) for v in (y, x)]
    np.testing.assert_array_equal(gradients[0], [np.nan, 0.5])
    np.testing.assert_array_equal(gradients[1], [np.nan, -0.5])
    assert np.isnan(jax.grad(jax.numpy.arctan2, argnums=(0, 1))(0.0, 0.0)).all()
    assert float(tc.evaluate(tc.arctan2(y, x), values)[0]) == 0.0


def test_sinc_at_zero_has_finite_derivatives_of_every_order():
    jax = _jax()
    for shape in ((), (3,), (2, 2)):
        x = tc.var("x", shape)
        zero = np.zeros(shape)
        loss = tc.sum(tc.sinc(x))
        gradient = tc.grad(loss, x)
        hessian = tc.hessian(loss, x)
        third = tc.grad(tc.sum(tc.grad(tc.sum(gradient), x)), x)
        assert np.array_equal(tc.evaluate(gradient, x=zero), np.zeros(shape))
        expected = jax.hessian(lambda v: jax.numpy.sum(jax.numpy.sinc(v)))(zero)
        np.testing.assert_allclose(tc.evaluate(hessian, x=zero), expected, rtol=1e-15)
        assert np.array_equal(tc.evaluate(third, x=zero), np.zeros(shape))
    assert float(expected[0, 0, 0, 0]) == pytest.approx(-np.pi ** 2 / 3, rel=1e-15)


def test_logaddexp_never_overflows_and_its_derivatives_match_jax_at_large_arguments():
    jax = _jax()
    a = np.array([1000.0, 1000.0, -1000.0, 710.0])
    b = np.array([1000.0, -1000.0, -1000.0, 709.0])
    x, y = tc.var("x", (4,)), tc.var("y", (4,))
    for name in ("logaddexp", "logaddexp2"):
        f = getattr(tc, name)(x, y)
        value = tc.evaluate(f, x=a, y=b)
        assert np.all(np.isfinite(value))
        np.testing.assert_allclose(value, getattr(np, name)(a, b), rtol=1e-15)
        jf = lambda u, v: jax.numpy.sum(getattr(jax.numpy, name)(u, v))  # noqa: E731
        loss = tc.sum(f)
        for k, wrt in enumerate((x, y)):  # jax's logaddexp2 gradient is 3e-14 off at 1000
            np.testing.assert_allclose(tc.evaluate(tc.grad(loss, wrt), x=a, y=b),
                                       jax.grad(jf, argnums=k)(a, b), rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(tc.evaluate(tc.hessian(loss, x), x=a, y=b),
                                   jax.hessian(jf)(a, b), rtol=1e-12, atol=1e-300)
        # exactly: ½ at a tie, σ((a − b) s) with s = 1 or log 2
        s = 1.0 if name == "logaddexp" else np.log(2.0)
        np.testing.assert_allclose(tc.evaluate(tc.grad(loss, x), x=a, y=b),
                                   [0.5, 1.0, 0.5, 1.0 / (1.0 + np.exp(-s))], rtol=1e-15)


# ---------------------------------------------------------------------------
# Printed forms, the text language and the numpy dialect


PRINTED = {  # name: (index, matrix, LaTeX, text) of name(A, B) for matrices A, B
    "arctan2": ("arctan2(A_ij, B_ij)", "arctan2(A, B)",
                "\\operatorname{arctan2}\\left(A, B\\right)", "arctan2(A, B)"),
    "hypot": ("hypot(A_ij, B_ij)", "hypot(A, B)", "\\operatorname{hypot}\\left(A, B\\right)",
              "hypot(A, B)"),
    "logaddexp": ("logaddexp(A_ij, B_ij)", "logaddexp(A, B)",
                  "\\operatorname{logaddexp}\\left(A, B\\right)", "logaddexp(A, B)"),
    "logaddexp2": ("logaddexp2(A_ij, B_ij)", "logaddexp2(A, B)",
                   "\\operatorname{logaddexp2}\\left(A, B\\right)", "logaddexp2(A, B)"),
    "mod": ("mod(A_ij, B_ij)", "mod(A, B)", "\\operatorname{mod}\\left(A, B\\right)", "mod(A, B)"),
    "remainder": ("mod(A_ij, B_ij)", "mod(A, B)", "\\operatorname{mod}\\left(A, B\\right)",
                  "mod(A, B)"),
    "fmod": ("fmod(A_ij, B_ij)", "fmod(A, B)", "\\operatorname{fmod}\\left(A, B\\right)",
             "fmod(A, B)"),
    "sinc": ("sinc(A_ij)", "sinc(A)", "\\operatorname{sinc}\\left(A\\right)", "sinc(A)"),
    "trunc": ("trunc(A_ij)", "trunc(A)", "\\operatorname{trunc}\\left(A\\right)", "trunc(A)"),
    "square": ("A_ij²", "A^⊙2", "A^{\\odot 2}", "A.^2"),
    "reciprocal": ("A_ij⁻¹", "A^⊙(−1)", "A^{\\odot -1}", "A.^(-1)"),
    "deg2rad": ("0.0174533 A_ij", "0.017453292519943295A", "0.017453292519943295 A",
                "0.017453292519943295*A"),
    "rad2deg": ("57.2958 A_ij", "57.29577951308232A", "57.29577951308232 A",
                "57.29577951308232*A"),
    "absolute": ("|A_ij|", "|A|", "\\left|A\\right|", "abs(A)"),
    "fabs": ("|A_ij|", "|A|", "\\left|A\\right|", "abs(A)"),
}


def _applied(name, *operands):
    return getattr(tc, name)(*operands[:2 if name in BINARY else 1])


@pytest.mark.parametrize("name", sorted(PRINTED))
def test_printed_forms_and_the_text_round_trip(name):
    A, B = tc.var("A", (2, 3)), tc.var("B", (2, 3))
    f = _applied(name, A, B)
    assert (str(f), tc.matrix_notation(f), tc.latex(f), tc.to_text(f)) == PRINTED[name]
    rng = np.random.default_rng(185)
    av, bv = _binary_values(name, (2, 3), rng) if name in BINARY else \
        (_unary_values(name, (2, 3), rng), None)
    expected = getattr(np, name)(av, bv) if name in BINARY else getattr(np, name)(av)
    given = {"A": av, "B": bv} if name in BINARY else {"A": av}
    parsed = tc.parse(tc.to_text(f), **{k: (2, 3) for k in given})
    np.testing.assert_allclose(tc.evaluate(parsed, given), expected, rtol=1e-14)
    # the text language reads numpy's own name too (remainder, absolute, fabs, square, ...)
    call = f"{name}(A, B)" if name in BINARY else f"{name}(A)"
    np.testing.assert_allclose(tc.evaluate(tc.parse(call, **{k: (2, 3) for k in given}), given),
                               expected, rtol=1e-14)


def test_derivatives_print_in_every_notation():
    x, y = tc.var("x", (3,)), tc.var("y", (3,))
    assert str(tc.grad(tc.sum(tc.mod(x, y)), y)) == "∂(Σ_j mod(x_j, y_j))/∂y_i = -⌊x_i y_i⁻¹⌋"
    assert str(tc.grad(tc.sum(tc.fmod(x, y)), y)).endswith("= -trunc(x_i y_i⁻¹)")
    assert str(tc.grad(tc.sum(tc.hypot(x, y)), x)).endswith("= x_i/hypot(x_i, y_i)")
    assert str(tc.grad(tc.sum(tc.arctan2(y, x)), y)).endswith("= x_i (x_i² + y_i²)⁻¹")
    assert str(tc.grad(tc.sum(tc.logaddexp(x, y)), x)).endswith("= σ(x_i - y_i)")
    gradient = tc.grad(tc.sum(tc.sinc(x)), x)
    assert str(gradient).endswith("= sinc⁽¹⁾(x_i)")
    second = tc.hessian(tc.sum(tc.sinc(x)), x)
    assert tc.matrix_notation(second) == "diag(sinc⁽²⁾(x))"
    assert tc.latex(second) == \
        "\\operatorname{diag}\\left(\\operatorname{sinc}^{(2)}\\left(x\\right)\\right)"
    assert tc.to_text(tc.grad(tc.sum(tc.hypot(x, y)), x)) == "x./hypot(x, y)"
    with pytest.raises(NoTextForm, match="sinc_derivative"):
        tc.to_text(gradient)


NUMPY_DIALECT = [
    "np.arctan2(y, x)", "np.hypot(x, y)", "np.logaddexp(x, y)", "np.logaddexp2(x, 2.0)",
    "np.mod(x, y)", "np.remainder(x, y)", "np.fmod(x, y)", "np.sinc(x)", "np.trunc(x)",
    "np.square(x)", "np.reciprocal(y)", "np.deg2rad(x)", "np.rad2deg(x)", "np.absolute(x)",
    "np.fabs(y)", "np.hypot(3.0, 4.0) * x",
]


@pytest.mark.parametrize("text", NUMPY_DIALECT)
def test_the_numpy_dialect_reads_them_as_numpy_computes_them(text):
    rng = np.random.default_rng(186)
    xv, yv = _binary_values("mod", (4,), rng)
    given = {k: v for k, v in (("x", xv), ("y", yv)) if re.search(rf"\b{k}\b", text)}
    f = tc.parse(text, dialect="numpy", **{k: (4,) for k in given})
    expected = eval(text, {"np": np}, given)  # numpy itself on the same text
    np.testing.assert_allclose(tc.evaluate(f, given), expected, rtol=1e-14)
    wrts = [tc.var(k, (4,)) for k in given]
    check_grads(tc.sum(f * f), wrts, given, rng=rng)


def test_bad_operands_name_the_function_and_the_shapes():
    with pytest.raises(tc.ShapeError, match=r"hypot.*\(3,\).*\(4,\)"):
        tc.hypot(tc.var("x", (3,)), tc.var("y", (4,)))
    with pytest.raises(tc.ParseError, match=r"mod\(a, b\): needs operands of the same shape"):
        tc.parse("mod(x, A)", x=(3,), A=(3, 3))
    with pytest.raises(tc.ParseError, match="np.arctan2 takes 2 array arguments, got 1"):
        tc.parse("np.arctan2(x)", dialect="numpy", x=(3,))


# ---------------------------------------------------------------------------
# Generated code and every backend


def _to_numpy(value):
    if hasattr(value, "compute"):
        value = value.compute()
    if hasattr(value, "detach"):
        value = value.detach().numpy()
    return np.asarray(value)


def _given(backend, values):
    if backend == "jax":
        return {k: __import__("jax").numpy.asarray(v) for k, v in values.items()}
    if backend == "torch":
        return {k: __import__("torch").from_numpy(v.copy()) for k, v in values.items()}
    if backend == "dask":
        return {k: __import__("dask.array").array.from_array(v, chunks=1)
                for k, v in values.items()}
    return values


@pytest.mark.parametrize("backend", ["numpy-functional", "jax", "dask", "torch"])
def test_every_backend_and_the_generated_module_agree_with_numpy(backend):
    pytest.importorskip({"numpy-functional": "numpy"}.get(backend, backend))
    if backend == "jax":
        _jax()
    rng = np.random.default_rng(187)
    x, y = tc.var("x", (2, 3)), tc.var("y", (2, 3))
    for name in BINARY + UNARY:
        xv, yv = _binary_values(name, (2, 3), rng) if name in BINARY else \
            (_unary_values(name, (2, 3), rng), None)
        values = {"x": xv, "y": yv} if name in BINARY else {"x": xv}
        f = _applied(name, x, y)
        loss = tc.sum(f * f)
        outputs = [f, tc.grad(loss, x), tc.hessian(tc.sum(f), x)]
        expected = [getattr(np, name)(xv, yv) if name in BINARY else getattr(np, name)(xv)]
        expected += [np.asarray(tc.evaluate(output, values)) for output in outputs[1:]]
        program = tc.compile(outputs, backend=backend)
        for got, want in zip(program(**_given(backend, values)), expected):
            np.testing.assert_allclose(_to_numpy(got), want, rtol=1e-12, atol=1e-14,
                                       err_msg=f"{name} on {backend}")
        namespace = {}
        exec(compile(tc.codegen(outputs, name="f"), f"<codegen {name}>", "exec"), namespace)
        for got, want in zip(namespace["f"](**values), expected):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, err_msg=name)


@pytest.mark.parametrize("backend", ["numpy-functional", "jax", "dask", "torch"])
def test_the_conventions_hold_on_every_backend(backend):
    pytest.importorskip({"numpy-functional": "numpy"}.get(backend, backend))
    if backend == "jax":
        _jax()
    x, y = tc.var("x", (2,)), tc.var("y", (2,))
    values = {"x": np.array([0.0, 6.0]), "y": np.array([0.0, 2.0])}
    outputs = [tc.grad(tc.sum(tc.hypot(x, y)), x), tc.grad(tc.sum(tc.sinc(x)), x),
               tc.hessian(tc.sum(tc.sinc(x)), x), tc.grad(tc.sum(tc.mod(x, 2.0 + y)), y)]
    expected = [[0.0, 6.0 / np.sqrt(40.0)], [0.0, float(np.cos(6 * np.pi) / 6)],
                np.diag([-np.pi ** 2 / 3, float(-np.pi ** 2 * np.sinc(6.0) - 2 / 36)]),
                [-0.0, -1.0]]
    program = tc.compile(outputs, backend=backend)
    for got, want in zip(program(**_given(backend, values)), expected):
        np.testing.assert_allclose(_to_numpy(got), want, rtol=1e-13, atol=1e-15)


def test_sincs_derivative_row_refuses_an_order_that_is_not_a_whole_number():
    x = tc.var("x", (2,))
    for order in (0.5, 0, -1.0):
        with pytest.raises(tc.FunctionTableError, match=r"sinc_derivative: the parameter is the "
                                                        r"derivative's order, a whole number ≥ 1"):
            tc.evaluate(tc.apply_function("sinc_derivative", x, order), x=np.ones(2))
    third = tc.apply_function("sinc_derivative", x, 3.0)  # a whole float is an order
    np.testing.assert_allclose(tc.evaluate(third, x=np.array([0.0, 0.5])),
                               [0.0, tc.evaluate(tc.grad(tc.sum(tc.apply_function(
                                   "sinc_derivative", x, 2)), x), x=np.array([0.0, 0.5]))[1]],
                               rtol=1e-15)


def test_mod_reads_the_floating_point_quotient_within_an_ulp_of_a_jump_as_stated():
    # the README's caveat: mod(1, 0.1) = 0.0999… (numpy's value, slope −9 in y), ∂/∂y = −10
    x, y = tc.var("x", ()), tc.var("y", ())
    assert np.mod(1.0, 0.1) == pytest.approx(0.1) and np.floor_divide(1.0, 0.1) == 9.0
    h = 1e-9  # the real jump is 5.5e-18 below the double 0.1: only the right side is smooth
    assert (np.mod(1.0, 0.1 + h) - np.mod(1.0, 0.1)) / h == pytest.approx(-9.0, rel=1e-6)
    for name in ("mod", "fmod"):
        gradient = tc.evaluate(tc.grad(getattr(tc, name)(x, y), y), x=1.0, y=0.1)
        assert float(gradient) == -10.0, name
