"""The vocabulary of matrix calculus (logdet, inv, solve, logsumexp, Hessians) against numpy and JAX.

    .venv/bin/python benchmarks/vocabulary.py --threads 1           # all sizes
    .venv/bin/python benchmarks/vocabulary.py --quick --threads 1   # smallest sizes, short budget

Three losses that use the matrix functions of README's "vocabulary" section,
float64, data from a fixed seed:

* **Gaussian NLL** in Σ over a batch ``X`` (B × n):
  ``B/2 · logdet Σ + 1/2 Σ_b x_bᵀ Σ⁻¹ x_b``, the gradient with respect to Σ, a
  *general* (not ``symmetric=True``) variable, so that the gradient is the
  unconstrained one JAX computes (Σ⁻ᵀ − ½ Σ⁻ᵀ XᵀX Σ⁻ᵀ, equal to the symmetric
  form on symmetric data).  tensorcalc is timed three times: the quadratic term as
  ``sum((X Σ⁻¹) ⊙ X)`` with ``tc.inv``, as ``sum(Xᵀ ⊙ solve(Σ, Xᵀ))`` with
  ``tc.solve``, and that again with Σ declared ``symmetric=True`` (then Σ⁻ᵀXᵀ is the
  loss's own Σ⁻¹Xᵀ, and the gradient's product is one syrk, as in numpy's closed form);
* **softmax regression** ``−Σ Y ⊙ (W X − logsumexp(W X, axis=0))``, one-hot
  ``Y`` (classes × B), the gradient with respect to ``W`` (classes × features);
* **ridge** ``‖X w − y‖² + λ‖w‖²``, the gradient *and* the Hessian with respect to ``w``.

Systems, each computing the loss and every derivative in one call:

* **tensorcalc** – ``tc.compile([L, *derivatives])``, planned on the warmup call;
* **numpy** – hand-written closed forms: ``B/2 Σ⁻¹ − ½ (XΣ⁻¹)ᵀ(XΣ⁻¹)``,
  ``(softmax(WX) − Y) Xᵀ``, ``2Xᵀ(Xw − y) + 2λw`` and ``2XᵀX + 2λI``;
* **JAX** (when importable) – ``jax.jit(jax.value_and_grad(loss))``, plus
  ``jax.jit(jax.hessian(loss))`` for ridge, with ``jax_enable_x64``, waited on with
  ``block_until_ready``; compiled in the untimed warmup.

Every system's values are checked against numpy (``check_close``) before
anything is timed; a mismatch aborts.  All systems of one workload are timed
in one ``time_interleaved`` run; the table gives the best time per call and,
in brackets, the ratio to numpy (lower is better).  The ratios are also saved as a
bar chart, ``benchmarks/results/vocabulary.png`` (``--no-plot``: none).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import threads  # noqa: E402,F401 - applies --threads before numpy is imported

import numpy as np  # noqa: E402

import tensorcalc as tc  # noqa: E402
from common import (QuietWaiter, check_close, jax_version, machine_description,  # noqa: E402
                    parse_benchmark_arguments, plot_line, print_closing_lines, progress,
                    ratio_table, save_ratio_plot, time_interleaved)

RIDGE_LAMBDA = 0.1
BATCH = 1000


@dataclass(frozen=True)
class Case:
    """One workload at one size: data, the numpy baseline and a builder per other system.

    ``tensorcalc`` maps a column name to a function returning the list of
    tensorcalc output expressions; ``jax`` builds the JAX call (or raises ImportError).
    """

    name: str
    size: str
    data: dict
    numpy: Callable = field(repr=False)
    tensorcalc: dict = field(repr=False)
    jax: Callable = field(repr=False)

    @property
    def label(self) -> str:
        return f"{self.name}, {self.size}"


def _jax():
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    return jax, jnp


def _jax_value_and_grad(loss, data: dict, param: str):
    """``jax.jit(jax.value_and_grad(loss))`` at ``data``, differentiating ``param``."""
    jax, jnp = _jax()
    step = jax.jit(jax.value_and_grad(loss))
    theta = jnp.asarray(data[param])
    rest = {k: jnp.asarray(v) for k, v in data.items() if k != param}

    def call():
        value, grad = jax.block_until_ready(step(theta, **rest))
        return [value, grad]

    return call


# ---------------------------------------------------------------------------
# The workloads


def gaussian_nll(n: int, batch: int = BATCH, seed: int = 0) -> Case:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    Sigma = A @ A.T / n + np.eye(n)
    Sigma = (Sigma + Sigma.T) / 2  # exactly symmetric
    data = {"Sigma": Sigma, "X": rng.standard_normal((batch, n))}
    half_b = batch / 2

    def variables():
        return tc.var("Sigma", ("n", "n")), tc.var("X", ("B", "n"))

    def with_inv():
        S, X = variables()
        L = half_b * tc.logdet(S) + 0.5 * tc.sum((X @ tc.inv(S)) * X)
        return [L, tc.grad(L, S)]

    def with_solve(symmetric=False):
        S, X = variables()
        if symmetric:  # a covariance, declared so: the gradient is the symmetric one, equal here
            S = tc.var("Sigma", ("n", "n"), symmetric=True)
        L = half_b * tc.logdet(S) + 0.5 * tc.sum(X.T * tc.solve(S, X.T))
        return [L, tc.grad(L, S)]

    def numpy(Sigma, X):
        inverse = np.linalg.inv(Sigma)
        Q = X @ inverse
        loss = half_b * np.linalg.slogdet(Sigma)[1] + 0.5 * np.sum(Q * X)
        return [loss, half_b * inverse - 0.5 * (Q.T @ Q)]  # Σ⁻¹ − ½ Σ⁻¹ XᵀX Σ⁻¹

    def jax_call():
        jax, jnp = _jax()

        def loss(Sigma, X):
            return (half_b * jnp.linalg.slogdet(Sigma)[1]
                    + 0.5 * jnp.sum((X @ jnp.linalg.inv(Sigma)) * X))

        return _jax_value_and_grad(loss, data, "Sigma")

    return Case("Gaussian NLL", f"n {n}, B {batch}", data, numpy,
                {"tensorcalc": with_inv, "tensorcalc (solve)": with_solve,
                 "tensorcalc (solve, Σ symmetric)": lambda: with_solve(symmetric=True)}, jax_call)


def softmax_regression(features: int, classes: int = 10, batch: int = BATCH,
                       seed: int = 0) -> Case:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, batch)
    Y = np.zeros((classes, batch))
    Y[labels, np.arange(batch)] = 1.0
    data = {"W": rng.standard_normal((classes, features)) * features ** -0.5,
            "X": rng.standard_normal((features, batch)), "Y": Y}

    def outputs():
        W, X, Yv = tc.var("W", ("c", "d")), tc.var("X", ("d", "B")), tc.var("Y", ("c", "B"))
        Z = W @ X
        L = -tc.sum(Yv * (Z - tc.logsumexp(Z, axis=0)))
        return [L, tc.grad(L, W)]

    def numpy(W, X, Y):
        Z = W @ X
        top = Z.max(axis=0)
        shifted = Z - top
        E = np.exp(shifted)
        total = E.sum(axis=0)
        loss = -np.sum(Y * (shifted - np.log(total)))  # one-hot columns: Σ Y = 1 per column
        return [loss, (E / total - Y) @ X.T]

    def jax_call():
        jax, jnp = _jax()
        from jax.scipy.special import logsumexp

        def loss(W, X, Y):
            Z = W @ X
            return -jnp.sum(Y * (Z - logsumexp(Z, axis=0)))

        return _jax_value_and_grad(loss, data, "W")

    return Case("softmax regression", f"{classes} classes, {features} features, B {batch}",
                data, numpy, {"tensorcalc": outputs}, jax_call)


def ridge(m: int, k: int, lam: float = RIDGE_LAMBDA, seed: int = 0) -> Case:
    rng = np.random.default_rng(seed)
    data = {"X": rng.standard_normal((m, k)), "w": rng.standard_normal(k) * k ** -0.5,
            "y": rng.standard_normal(m)}

    def outputs():
        X, w, y = tc.var("X", ("m", "k")), tc.var("w", ("k",)), tc.var("y", ("m",))
        L = tc.sum((X @ w - y) ** 2) + lam * tc.sum(w ** 2)
        return [L, tc.grad(L, w), tc.hessian(L, w)]

    def numpy(X, w, y):
        r = X @ w - y
        hessian = 2.0 * (X.T @ X)
        hessian.flat[::k + 1] += 2.0 * lam
        return [r @ r + lam * (w @ w), 2.0 * (r @ X) + 2.0 * lam * w, hessian]

    def jax_call():
        jax, jnp = _jax()

        def loss(w, X, y):
            r = X @ w - y
            return jnp.sum(r ** 2) + lam * jnp.sum(w ** 2)

        step = jax.jit(jax.value_and_grad(loss))
        hessian = jax.jit(jax.hessian(loss))
        w, X, y = (jnp.asarray(data[n]) for n in ("w", "X", "y"))

        def call():
            (value, grad), H = jax.block_until_ready((step(w, X, y), hessian(w, X, y)))
            return [value, grad, H]

        return call

    return Case("ridge (grad + Hessian)", f"{m}×{k}, λ {lam:g}", data, numpy,
                {"tensorcalc": outputs}, jax_call)


def cases(quick: bool) -> list:
    return ([gaussian_nll(n) for n in ((50,) if quick else (50, 200))]
            + [softmax_regression(d) for d in ((100,) if quick else (100, 500))]
            + [ridge(5000, 200)])


# ---------------------------------------------------------------------------
# Measuring


def measure(case: Case, use_jax: bool, budget: float, quiet=None) -> dict:
    """Check every system against numpy, then time them all in one interleaved run."""
    expected = case.numpy(**case.data)
    calls = {"numpy": lambda: case.numpy(**case.data)}
    for column, build in case.tensorcalc.items():
        program = tc.compile(build())
        call = (lambda program=program: program(**case.data))
        check_close(f"{case.label}: {column} vs numpy", list(call()), expected)
        calls[column] = call
    if use_jax:
        call = case.jax()
        check_close(f"{case.label}: JAX vs numpy", [np.asarray(o) for o in call()], expected)
        calls["JAX"] = call
    best = time_interleaved(calls, budget=budget, quiet=quiet)
    return {"workload": case.name, "size": case.size, **best}


def systems_of(rows) -> list:
    """The systems measured in any row, in order of appearance (numpy, the baseline, left out)."""
    systems = []
    for r in rows:
        systems += [k for k in r if k not in ("workload", "size", "numpy") and k not in systems]
    return systems


def table(rows) -> str:
    return ratio_table(rows, systems_of(rows))


def plot(rows) -> str | None:
    """The table's ratios as a bar chart, benchmarks/results/vocabulary.png."""
    return save_ratio_plot(rows, systems_of(rows), "The vocabulary of matrix calculus: loss + "
                           "derivatives per call, ratio to hand-written numpy", "vocabulary.png")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the smallest size of each workload")
    parser.add_argument("--no-plot", action="store_true",
                        help="print the table only (no benchmarks/results/vocabulary.png)")
    args = parse_benchmark_arguments(parser, argv, quick_budget=0.3)
    started = time.perf_counter()
    version, note = jax_version()
    quiet = QuietWaiter(total=args.wait)
    rows = []
    for case in progress(cases(args.quick), lambda c: c.label):
        rows.append(measure(case, version is not None, args.budget, quiet))
    print("Loss + gradient (ridge: + Hessian) per call, float64; best of repeats; "
          "(ratio to hand-written numpy)\n")
    print(machine_description([version] if version else []))
    if note:
        print(note)
    print()
    print(table(rows))
    if not args.no_plot:
        print("\n" + plot_line(plot(rows)))
    print_closing_lines(quiet, started)


if __name__ == "__main__":
    main()
