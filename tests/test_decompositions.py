"""eigh, eigvalsh, svd, svdvals, qr, lu, cholesky and the nuclear/spectral norms (issue 19): values
against numpy, first and second derivatives against central differences along random directions
at square, tall, wide and stacked shapes, gradients against JAX, the classic matrix forms as
printed, generated code against numpy, the factorization computed once per program, and the
conventions at degenerate points."""

import re

import numpy as np
import pytest

import tensorcalc as tc

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402

RNG = np.random.default_rng(19)


def _data(shape, kind):
    x = RNG.standard_normal(shape)
    if kind in ("sym", "pd"):
        x = x + np.swapaxes(x, -1, -2)
    if kind == "pd":
        x = x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])
    return x


def _direction(shape, kind):
    d = RNG.standard_normal(shape)
    return d + np.swapaxes(d, -1, -2) if kind in ("sym", "pd") else d


CASES = [  # (name, build, shape, kind)
    ("eigvalsh", lambda X: tc.eigvalsh(X), (3, 3), "sym"),
    ("eigh V", lambda X: tc.eigh(X)[1], (3, 3), "sym"),
    ("eigh V stacked", lambda X: tc.eigh(X)[1], (2, 3, 3), "sym"),
    ("svdvals tall", lambda X: tc.svdvals(X), (4, 2), "any"),
    ("svd U tall", lambda X: tc.svd(X)[0], (4, 2), "any"),
    ("svd Vt tall", lambda X: tc.svd(X)[2], (4, 2), "any"),
    ("svd U wide", lambda X: tc.svd(X)[0], (2, 4), "any"),
    ("svd Vt wide", lambda X: tc.svd(X)[2], (2, 4), "any"),
    ("svd U square", lambda X: tc.svd(X)[0], (3, 3), "any"),
    ("svd Vt stacked", lambda X: tc.svd(X)[2], (2, 3, 3), "any"),
    ("qr Q tall", lambda X: tc.qr(X)[0], (4, 2), "any"),
    ("qr R tall", lambda X: tc.qr(X)[1], (4, 2), "any"),
    ("qr Q square", lambda X: tc.qr(X)[0], (3, 3), "any"),
    ("qr R square", lambda X: tc.qr(X)[1], (3, 3), "any"),
    ("qr Q stacked", lambda X: tc.qr(X)[0], (2, 4, 3), "any"),
    ("qr R stacked", lambda X: tc.qr(X)[1], (2, 3, 3), "any"),
    ("qr Q wide", lambda X: tc.qr(X)[0], (2, 4), "any"),  # X = [X₁ X₂], X₁ = Q R₁
    ("qr R wide", lambda X: tc.qr(X)[1], (3, 5), "any"),
    ("qr R wide stacked", lambda X: tc.qr(X)[1], (2, 2, 3), "any"),
    ("qr R mode r", lambda X: tc.qr(X, mode="r") ** 2, (5, 3), "any"),  # R² has no sign choice
    ("qr projector QQᵀ", lambda X: tc.qr(X)[0] @ tc.qr(X)[0].T, (4, 2), "any"),  # nor has QQᵀ
    ("lu L", lambda X: tc.lu(X)[1], (3, 3), "any"),
    ("lu U", lambda X: tc.lu(X)[2], (3, 3), "any"),
    ("lu L stacked", lambda X: tc.lu(X)[1], (2, 4, 4), "any"),
    ("lu U stacked", lambda X: tc.lu(X)[2], (2, 3, 3), "any"),
    ("cholesky", lambda X: tc.cholesky(X), (3, 3), "pd"),
    ("cholesky stacked", lambda X: tc.cholesky(X), (2, 3, 3), "pd"),
    ("nuclear norm", lambda X: tc.norm(X, "nuc"), (3, 2), "any"),
    ("spectral norm", lambda X: tc.norm(X, 2), (2, 3), "any"),
    ("pinv tall", lambda X: tc.pinv(X), (4, 2), "any"),
    ("pinv wide", lambda X: tc.pinv(X), (2, 4), "any"),
    ("pinv stacked", lambda X: tc.pinv(X), (2, 3, 3), "any"),
]


def _scalar(build, shape):
    X = tc.var("X", shape)
    out = build(X)
    weights = RNG.standard_normal(out.shape)
    return X, (tc.sum(tc.const(weights) * out) if out.shape else out)


@pytest.mark.parametrize("name, build, shape, kind", CASES, ids=[c[0] for c in CASES])
def test_first_and_second_derivatives_against_central_differences(name, build, shape, kind):
    X, f = _scalar(build, shape)
    x, d, e = _data(shape, kind), _direction(shape, kind), _direction(shape, kind)
    h = 1e-5
    g = tc.grad(f, X)
    along = float(np.sum(tc.evaluate(g, X=x) * d))
    central = (tc.evaluate(f, X=x + h * d) - tc.evaluate(f, X=x - h * d)) / (2 * h)
    assert along == pytest.approx(float(central), rel=1e-6, abs=1e-8)
    # second: the derivative of ⟨∇f, d⟩ along e
    second = tc.grad(tc.sum(tc.const(d) * g.expr), X)
    value = float(np.sum(tc.evaluate(second, X=x) * e))
    ge = lambda y: float(np.sum(tc.evaluate(g, X=y) * d))  # noqa: E731
    assert value == pytest.approx((ge(x + h * e) - ge(x - h * e)) / (2 * h), rel=1e-5, abs=1e-6)


def test_values_against_numpy():
    x = _data((3, 2), "any")
    U, s, Vt = (tc.evaluate(part, X=x) for part in tc.svd(tc.var("X", (3, 2))))
    np.testing.assert_allclose(U * s @ Vt, x, atol=1e-12)
    np.testing.assert_allclose(s, np.linalg.svd(x, compute_uv=False), atol=1e-12)
    S = _data((2, 4, 4), "sym")
    w, V = (tc.evaluate(part, X=S) for part in tc.eigh(tc.var("X", (2, 4, 4))))
    np.testing.assert_allclose(w, np.linalg.eigvalsh(S), atol=1e-12)
    np.testing.assert_allclose(V @ (w[..., None] * np.swapaxes(V, -1, -2)), S, atol=1e-12)
    P = _data((3, 3), "pd")
    np.testing.assert_allclose(tc.evaluate(tc.cholesky(tc.var("X", (3, 3))), X=P),
                               np.linalg.cholesky(P), atol=1e-12)


JAX = [
    (lambda X: tc.sum(tc.eigvalsh(X) * tc.const([1.0, 2.0, 3.0])),
     lambda x: jnp.sum(jnp.linalg.eigvalsh(x) * jnp.array([1.0, 2.0, 3.0])), "sym"),
    (lambda X: tc.sum(tc.cholesky(X) ** 2),
     lambda x: jnp.sum(jnp.linalg.cholesky(x) ** 2), "pd"),
    (lambda X: tc.norm(X, "nuc"), lambda x: jnp.linalg.norm(x, "nuc"), "any"),
    (lambda X: tc.norm(X, 2), lambda x: jnp.linalg.norm(x, 2), "any"),
    (lambda X: tc.sum(tc.svd(X)[0] ** 3), lambda x: jnp.sum(jnp.linalg.svd(x, False)[0] ** 3), "any"),
    (lambda X: tc.sum(tc.pinv(X) * tc.const(np.arange(9.0).reshape(3, 3))),
     lambda x: jnp.sum(jnp.linalg.pinv(x) * jnp.arange(9.0).reshape(3, 3)), "any"),
    (lambda X: tc.slogdet(X)[1] + tc.slogdet(X)[0], lambda x: jnp.linalg.slogdet(x)[1], "any"),
    (lambda X: tc.sum(tc.qr(X)[0] * tc.const(np.arange(9.0).reshape(3, 3))) + tc.trace(tc.qr(X)[1]),
     lambda x: jnp.sum(jnp.linalg.qr(x)[0] * jnp.arange(9.0).reshape(3, 3)) + jnp.trace(jnp.linalg.qr(x)[1]),
     "any"),
]


@pytest.mark.parametrize("k", range(len(JAX)))
def test_gradients_against_jax(k):
    ours, theirs, kind = JAX[k]
    x = _data((3, 3), kind)
    X = tc.var("X", (3, 3))
    expected = np.asarray(jax.grad(theirs)(jnp.asarray(x)))
    if kind in ("sym", "pd"):  # jax's rules are for symmetric perturbations: compare sym parts
        expected = 0.5 * (expected + expected.T)
    np.testing.assert_allclose(tc.evaluate(tc.grad(ours(X), X), X=x), expected, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (4, 1), (2, 4, 3), (2, 4), (2, 3, 5)])
def test_qr_values_and_gradients_against_numpy_and_jax(shape):
    # the raw factors (not only sign-invariant uses): jax's CPU qr is LAPACK's geqrf too, so
    # its signs are numpy's, and its rule (qr_jvp_rule) is derived independently of ours
    X = tc.var("X", shape)
    Q, R = tc.qr(X)
    x = RNG.standard_normal(shape)
    q, r = np.linalg.qr(x)
    np.testing.assert_allclose(tc.evaluate(Q, X=x), q, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tc.evaluate(R, X=x), r, rtol=1e-12, atol=1e-12)
    a, b = RNG.standard_normal(q.shape), RNG.standard_normal(r.shape)
    f = tc.sum(tc.const(a) * Q) + tc.sum(tc.const(b) * R ** 3)
    theirs = jax.grad(lambda y: jnp.sum(a * jnp.linalg.qr(y)[0]) + jnp.sum(b * jnp.linalg.qr(y)[1] ** 3))
    np.testing.assert_allclose(tc.evaluate(tc.grad(f, X), X=x), np.asarray(theirs(jnp.asarray(x))),
                               rtol=1e-9, atol=1e-11)


def test_qr_refusals_by_name():
    X = tc.var("X", (3, 2))
    Q, R = tc.qr(X)
    deficient = np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]])  # numpy's R[1, 1] is ~1e-16, not 0
    r = np.linalg.qr(deficient)[1]  # its rounding differs between numpy releases
    np.testing.assert_allclose(tc.evaluate(R, X=deficient), r)
    for factor in (Q, R):
        with pytest.raises(tc.SingularMatrixError, match=re.escape(
                f"qr: X is rank-deficient: R's diagonal entry 1 is {abs(r[1, 1]):.3g} "
                f"(the largest is {abs(r[0, 0]):.3g})")):
            tc.evaluate(tc.grad(tc.sum(factor), X), X=deficient)
    W = tc.var("W", (2, 3))  # wide: the leading 2×2 block must be nonsingular
    w = np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 1.0]])  # rank 2, but not its leading block
    with pytest.raises(tc.SingularMatrixError, match=r"qr: X is rank-deficient in its leading "
                                                     r"square block \(a wide X\): R's diagonal entry 1 is"):
        tc.evaluate(tc.grad(tc.sum(tc.qr(W)[1]), W), W=w)
    with pytest.raises(tc.ShapeError, match="qr: mode='complete' of a 3×2 matrix"):
        tc.qr(X, mode="complete")


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (5, 5), (2, 4, 4)])
def test_lu_values_against_scipy_and_gradients_against_jax(shape):
    scipy_linalg = pytest.importorskip("scipy.linalg")  # a reference here, not a dependency
    X = tc.var("X", shape)
    P, L, U = tc.lu(X)
    x = RNG.standard_normal(shape)
    flat = x.reshape((-1,) + shape[-2:])
    for ours, theirs in zip((P, L, U), zip(*(scipy_linalg.lu(m) for m in flat))):
        np.testing.assert_allclose(tc.evaluate(ours, X=x), np.reshape(theirs, shape), rtol=1e-12,
                                   atol=1e-12)
    a, b, c = (RNG.standard_normal(shape) for _ in range(3))
    f = tc.sum(tc.const(a) * L) + tc.sum(tc.const(b) * U ** 3) + tc.sum(tc.const(c) * P)

    def theirs(y):
        p, low, up = jax.vmap(jax.scipy.linalg.lu)(y.reshape((-1,) + shape[-2:]))
        return jnp.sum(a * low.reshape(shape)) + jnp.sum(b * up.reshape(shape) ** 3) + \
            jnp.sum(c * p.reshape(shape))
    np.testing.assert_allclose(tc.evaluate(tc.grad(f, X), X=x),
                               np.asarray(jax.grad(theirs)(jnp.asarray(x))), rtol=1e-9, atol=1e-11)


def test_lu_refusals_by_name():
    X = tc.var("X", (2, 2))
    P, L, U = tc.lu(X)
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    np.testing.assert_allclose(tc.evaluate(U, X=singular), [[2.0, 4.0], [0.0, 0.0]])
    with pytest.raises(tc.SingularMatrixError, match="lu: X is singular: U's diagonal entry 1 is 0"):
        tc.evaluate(tc.grad(tc.sum(L), X), X=singular)
    np.testing.assert_array_equal(tc.evaluate(tc.grad(tc.sum(P), X), X=singular), np.zeros((2, 2)))
    with pytest.raises(tc.ShapeError, match="lu: needs a square matrix"):
        tc.lu(tc.var("Y", (3, 2)))
    f = tc.sum(L * U)
    with pytest.raises(tc.errors.CodegenError, match="lu has no numpy-only source"):
        tc.codegen(f)
    with pytest.raises(tc.errors.CodegenError, match="lu has no numpy-only source"):
        tc.compile(f, backend="jax")(X=jnp.eye(2))
    program = tc.compile([f, tc.grad(f, X).expr])  # numpy: the row's own LU, once
    assert str(program.plan).count(" lu_factor ") == 1
    x = RNG.standard_normal((2, 2))
    np.testing.assert_allclose(program(X=x)[1], tc.evaluate(tc.grad(f, X), X=x), rtol=1e-12)


def test_classic_matrix_forms_as_printed():
    X = tc.var("X", (3, 3))
    assert tc.matrix_notation(tc.grad(tc.norm(X, "nuc"), X)) == "svd_U(X) svd_Vt(X)"
    w, V = tc.eigh(X)
    assert str(tc.grad(tc.sum(w), X)) == "∂(Σ_l λ(X)_l)/∂X_ij = eigvecs(X)_ik eigvecs(X)_jk"
    U, s, Vt = tc.svd(X)
    assert (tc.latex(s), tc.to_text(tc.cholesky(X))) == ("\\sigma\\left(X\\right)", "cholesky(X)")
    Q, R = tc.qr(X)
    assert (tc.matrix_notation(Q), tc.to_text(R), tc.latex(R)) == ("qr_Q(X)", "qr_R(X)",
                                                                   "R\\left(X\\right)")
    P, L, U = tc.lu(X)
    assert (tc.matrix_notation(P @ L @ U), tc.to_text(U), tc.latex(L)) == \
        ("lu_P(X) lu_L(X) lu_U(X)", "lu_U(X)", "L\\left(X\\right)")
    # ∂tr(R)/∂X = Q (Φ ∘ R + (Φ' ∘ R)ᵀ) R⁻ᵀ, Φ and Φ' the lower and strictly lower masks
    assert tc.matrix_notation(tc.grad(tc.trace(R), X)) == \
        "qr_Q(X) (s ⊙ C⟨3×3⟩ + (s ⊙ C⟨3×3⟩)ᵀ) s⁻ᵀ\n  where s = qr_R(X)"


def test_classic_forms_parse_back_to_the_same_values():
    X, c = tc.var("X", (3, 3)), tc.var("c", (3,))
    x = _data((3, 3), "sym")
    cases = [(tc.grad(tc.norm(X, "nuc"), X), "svd_U(X)*svd_Vt(X)"),  # ∂‖X‖_*/∂X = UVᵀ
             (tc.grad(c @ tc.eigvalsh(X), X), "eigvecs(X)*diag(c)*eigvecs(X)'")]  # Σ cᵢ vᵢvᵢᵀ
    for derivative, text in cases:
        assert tc.to_text(derivative.expr) == text
        back = tc.parse(text, X=(3, 3), **({"c": (3,)} if "c" in text else {}))
        data = dict(X=x, c=np.array([0.0, 1.0, 0.0]))
        data = {k: v for k, v in data.items() if k in text}
        np.testing.assert_allclose(tc.evaluate(back, **data), tc.evaluate(derivative, **data))
    # ∂λ₂/∂X = v₂v₂ᵀ against numpy's eigenvector directly
    v = np.linalg.eigh(x)[1][:, 1]
    np.testing.assert_allclose(tc.evaluate(cases[1][0], X=x, c=np.array([0.0, 1.0, 0.0])),
                               np.outer(v, v), atol=1e-12)


def test_numpy_dialect_names():
    f = tc.parse("np.sum(np.linalg.svd(X, compute_uv=False)) + np.sum(np.linalg.cholesky(S)) + "
                 "np.sum(np.linalg.eigvalsh(S)) + np.sum(np.linalg.pinv(X))", dialect="numpy",
                 X=(3, 2), S=(2, 2))
    x, s = _data((3, 2), "any"), _data((2, 2), "pd")
    expected = (np.linalg.svd(x, compute_uv=False).sum() + np.linalg.cholesky(s).sum()
                + np.linalg.eigvalsh(s).sum() + np.linalg.pinv(x).sum())
    assert float(tc.evaluate(f, X=x, S=s)) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(tc.ParseError, match="compute_uv=False"):
        tc.parse("np.sum(np.linalg.svd(X))", dialect="numpy", X=(3, 2))
    # np.linalg.qr is a tuple: indexed, as in numpy; the text language reads qr_Q and qr_R
    q, r = np.linalg.qr(x)
    g = tc.parse("np.sum(np.linalg.qr(X)[0] ** 2 * W) + np.sum(np.linalg.qr(X, mode='r'))",
                 dialect="numpy", X=(3, 2), W=(3, 2))
    w = RNG.standard_normal((3, 2))
    assert float(tc.evaluate(g, X=x, W=w)) == pytest.approx(np.sum(q ** 2 * w) + np.sum(r))
    square = _data((3, 3), "any")
    np.testing.assert_allclose(tc.evaluate(tc.parse("qr_Q(X)*qr_R(X)", X=(3, 3)), X=square),
                               square, atol=1e-12)
    np.testing.assert_allclose(tc.evaluate(tc.parse("lu_P(X)*lu_L(X)*lu_U(X)", X=(3, 3)),
                                           X=square), square, atol=1e-12)
    for text in ("np.linalg.qr(X)", "np.linalg.qr(X) + 1"):
        with pytest.raises(tc.ParseError, match="returns a tuple \\(Q, R\\).*np.linalg.qr\\(...\\)\\[0\\]"):
            tc.parse(text, dialect="numpy", X=(3, 2))
    with pytest.raises(tc.ParseError, match="returns 2 outputs; index 2 is out of range"):
        tc.parse("np.linalg.qr(X)[2]", dialect="numpy", X=(3, 2))


def test_generated_code_agrees_and_the_factorization_is_computed_once():
    X = tc.var("X", (3, 3))
    U, s, Vt = tc.svd(X)
    f = tc.sum(U ** 2 * tc.const(RNG.standard_normal((3, 3)))) + tc.norm(X, "nuc") + tc.sum(Vt)
    g = tc.grad(f, X)
    source = tc.codegen(g.expr)
    assert source.count("np.linalg.svd(") == 1
    namespace = {}
    exec(source, namespace)  # our own generated code
    x = _data((3, 3), "any")
    np.testing.assert_allclose(namespace["f_and_grad"](X=x), tc.evaluate(g, X=x), rtol=1e-10)
    program = tc.compile([f, g.expr])
    assert str(program.plan).count(" svd_factor ") == 1  # one SVD in the compiled plan
    Y = tc.var("Y", (4, 3))
    Q, R = tc.qr(Y)
    f = tc.sum(Q * tc.const(RNG.standard_normal((4, 3)))) + tc.sum(R ** 2) + tc.sum(tc.qr(Y)[1])
    g = tc.grad(f, Y)
    source = tc.codegen(g.expr)
    assert source.count("np.linalg.qr(") == 1
    namespace = {}
    exec(source, namespace)
    y = _data((4, 3), "any")
    np.testing.assert_allclose(namespace["f_and_grad"](Y=y), tc.evaluate(g, Y=y), rtol=1e-10)
    assert str(tc.compile([f, g.expr]).plan).count(" qr_factor ") == 1


def test_degenerate_points():
    X = tc.var("X", (2, 2))
    w, V = tc.eigh(X)
    np.testing.assert_allclose(tc.evaluate(tc.grad(tc.sum(w), X), X=np.eye(2)), np.eye(2))
    with pytest.raises(tc.SingularMatrixError, match="repeated eigenvalues"):
        tc.evaluate(tc.grad(tc.sum(V), X), X=np.eye(2))
    with pytest.raises(tc.SingularMatrixError, match="repeated singular values"):
        tc.evaluate(tc.grad(tc.sum(tc.svd(X)[0]), X), X=2 * np.eye(2))
    with pytest.raises(tc.SingularMatrixError, match="leading 2×2 minor is -3"):
        tc.evaluate(tc.cholesky(X), X=np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(tc.SingularMatrixError, match="pinv: .* rank-deficient"):
        tc.evaluate(tc.pinv(tc.var("R", (3, 2))), R=np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]]))
    sign, logdet = tc.slogdet(X)
    assert float(tc.evaluate(sign, X=np.diag([-2.0, 3.0]))) == -1.0
    assert float(tc.evaluate(logdet, X=np.diag([-2.0, 3.0]))) == pytest.approx(np.log(6.0))
    with pytest.raises(tc.ShapeError, match="full_matrices=True"):
        tc.svd(tc.var("Y", (3, 2)), full_matrices=True)


@pytest.mark.parametrize("backend", ["jax", "torch", "dask"])
@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4)])
def test_each_backend_agrees_with_numpy(backend, shape):
    X = tc.var("X", shape)
    U, s, Vt = tc.svd(X)
    weights = tc.const(RNG.standard_normal(U.shape))
    # each backend's LAPACK may pick other signs of the singular vectors: sign-invariant uses
    f = tc.sum(U ** 2 * weights) + tc.norm(X, "nuc") + tc.sum(Vt ** 2 * tc.const(RNG.random(Vt.shape)))
    if shape[0] == shape[1]:
        w, V = tc.eigh(X)
        f = f + tc.sum(V * V * weights) + tc.sum(w * w) + tc.sum(tc.cholesky(X @ X.T + 3.0 * tc.eye(3)))
    Q, R = tc.qr(X)  # qr: squares are sign-invariant
    f = f + tc.sum(Q ** 2 * tc.const(RNG.standard_normal(Q.shape))) + \
        tc.sum(R ** 2 * tc.const(RNG.standard_normal(R.shape)))
    outputs = [f, tc.grad(f, X).expr]
    x = RNG.standard_normal(shape)
    expected = tc.compile(outputs)(X=x)
    if backend == "jax":
        got = tc.compile(outputs, backend="jax")(X=jnp.asarray(x))
    elif backend == "torch":
        torch = pytest.importorskip("torch")
        got = tc.compile(outputs, backend="torch")(X=torch.from_numpy(x))
    else:
        da = pytest.importorskip("dask.array")
        got = [v.compute() for v in tc.compile(outputs, backend="dask")(X=da.from_array(x))]
    for ours, theirs in zip(got, expected):
        np.testing.assert_allclose(np.asarray(ours), theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("backend", ["jax", "torch", "dask"])
def test_qr_of_a_stack_through_each_backend(backend):
    X = tc.var("X", (2, 4, 3))
    Q, R = tc.qr(X)  # dask: whole matrices per block, and R⁻¹ of a stack matrix by matrix
    f = tc.sum(Q ** 2 * tc.const(RNG.standard_normal(Q.shape))) + tc.sum(R ** 2 * tc.const(RNG.standard_normal(R.shape)))
    outputs = [Q * Q, tc.grad(f, X).expr]
    x = RNG.standard_normal((2, 4, 3))
    expected = tc.compile(outputs)(X=x)
    if backend == "jax":
        got = tc.compile(outputs, backend="jax")(X=jnp.asarray(x))
    elif backend == "torch":
        torch = pytest.importorskip("torch")
        got = tc.compile(outputs, backend="torch")(X=torch.from_numpy(x))
    else:
        da = pytest.importorskip("dask.array")
        got = [v.compute() for v in tc.compile(outputs, backend="dask")(X=da.from_array(x))]
    for ours, theirs in zip(got, expected):
        np.testing.assert_allclose(np.asarray(ours), theirs, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 4, 4)])
def test_expm_value_and_frechet_derivative(shape):
    X = tc.var("X", shape)
    x = 2.0 * RNG.standard_normal(shape)
    expected = np.asarray(jax.vmap(jax.scipy.linalg.expm)(x.reshape((-1,) + shape[-2:]))).reshape(shape)
    np.testing.assert_allclose(tc.evaluate(tc.expm(X), X=x), expected, rtol=1e-12, atol=1e-12)
    weights = RNG.standard_normal(shape)
    f = tc.sum(tc.const(weights) * tc.expm(X))
    d, h = RNG.standard_normal(shape), 1e-6
    central = (tc.evaluate(f, X=x + h * d) - tc.evaluate(f, X=x - h * d)) / (2 * h)
    assert float(np.sum(tc.evaluate(tc.grad(f, X), X=x) * d)) == pytest.approx(float(central), rel=1e-7)
    if len(shape) == 2:  # the Jacobian (the adjoint with extra axes) against JAX's
        np.testing.assert_allclose(tc.evaluate(tc.jacobian(tc.expm(X), X), X=x),
                                   np.asarray(jax.jacobian(jax.scipy.linalg.expm)(jnp.asarray(x))),
                                   rtol=1e-9, atol=1e-11)


def test_expm_refusals_by_name():
    X = tc.var("X", (2, 2))
    g = tc.grad(tc.trace(tc.expm(X)), X)
    assert tc.matrix_notation(g) == "L_expm(Xᵀ, I)"
    np.testing.assert_allclose(tc.evaluate(g, X=np.diag([1.0, 2.0])), np.diag(np.exp([1.0, 2.0])))
    with pytest.raises(tc.errors.CodegenError, match="expm has no numpy-only source"):
        tc.codegen(tc.expm(X))
    with pytest.raises(tc.DifferentiationError, match="expm: the second derivative"):
        tc.hessian(tc.trace(tc.expm(X)), X)
