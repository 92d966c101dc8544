"""A Hessian's diagonal by name (``tc.hessian_diagonal``) against building the Hessian.

    .venv/bin/python benchmarks/hessian_diagonal.py --threads 1           # d = 100, 400, 1600
    .venv/bin/python benchmarks/hessian_diagonal.py --quick --threads 1   # d = 100, 400

The logistic loss ``sum(softplus(Xw) − y ⊙ Xw)`` with ``X`` of shape (n, d), n = 1000, float64;
the diagonal of its Hessian in ``w``.  Systems, each checked against the numpy closed form
``(X ⊙ X)ᵀ (s ⊙ (1 − s))`` before anything is timed:

* ``tc.hessian_diagonal``, compiled: simplification turns ``diag(Xᵀ diag(s(1−s)) X)`` into
  ``(X^⊙2)ᵀ(s ⊙ (1 − s))``, O(nd) and no d × d tensor;
* ``np.diag`` of ``tc.hessian``, compiled: the whole d × d Hessian, O(nd²);
* ``jnp.diag(jax.hessian(loss))`` under ``jax.jit`` (when jax is installed), the way JAX's
  maintainers advise (jax #3801: the diagonal costs as much as the whole Hessian).

FLOPs are the planner's count (``program.plan.flops``); times are the best of several calls.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import threads  # noqa: E402,F401 - applies --threads before numpy is imported

import numpy as np  # noqa: E402

import tensorcalc as tc  # noqa: E402

N = 1000


def best_time(function, repeats: int = 5) -> float:
    function()  # warm up (a jit compile, a first binding)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    quick = "--quick" in sys.argv
    sizes = (100, 400) if quick else (100, 400, 1600)
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        jnp = jax.numpy
    except ImportError:  # pragma: no cover - jax is in the test extra
        jax = None
    print(f"{'d':>6} {'system':<28} {'FLOPs':>14} {'largest':>10} {'time (ms)':>10}")
    for d in sizes:
        rng = np.random.default_rng(0)
        X_, w_, y_ = rng.standard_normal((N, d)) / np.sqrt(d), rng.standard_normal(d), \
            rng.uniform(0, 1, N)
        X, w, y = tc.var("X", (N, d)), tc.var("w", (d,)), tc.var("y", (N,))
        z = X @ w
        loss = tc.sum(tc.softplus(z) - y * z)
        s = 1 / (1 + np.exp(-X_ @ w_))
        expected = (X_ * X_).T @ (s * (1 - s))

        diagonal = tc.compile(tc.hessian_diagonal(loss, w))
        full = tc.compile(tc.hessian(loss, w))
        data = {"X": X_, "w": w_, "y": y_}
        needed = {program: {k: v for k, v in data.items() if k in program.variables}
                  for program in (diagonal, full)}  # the Hessian does not depend on y
        systems = {
            "tc.hessian_diagonal": (lambda: diagonal(**needed[diagonal]), diagonal.plan),
            "np.diag(tc.hessian)": (lambda: np.diag(full(**needed[full])), full.plan),
        }
        if jax is not None:
            def jax_loss(w, X, y):
                z = X @ w
                return jnp.sum(jnp.logaddexp(0.0, z) - y * z)
            jitted = jax.jit(lambda w, X, y: jnp.diag(jax.hessian(jax_loss)(w, X, y)))
            systems["jnp.diag(jax.hessian), jit"] = (
                lambda: jitted(w_, X_, y_).block_until_ready(), None)
        for name, (run, plan) in systems.items():
            np.testing.assert_allclose(np.asarray(run()), expected, rtol=1e-9, atol=1e-12)
            seconds = best_time(run)
            flops = f"{plan.flops:,}" if plan is not None else "—"
            largest = f"{plan.largest_intermediate:,}" if plan is not None else "—"
            print(f"{d:>6} {name:<28} {flops:>14} {largest:>10} {1e3 * seconds:>10.3f}")


if __name__ == "__main__":
    main()
