"""Hessians as nested ``tc.grad(tc.grad(·))``: against the closed form and ``jax.jit(jax.hessian)``.

    .venv/bin/python benchmarks/hessians.py --threads 1           # all sizes
    .venv/bin/python benchmarks/hessians.py --quick --threads 1   # smallest sizes

Four Hessians, float64, data from a fixed seed, each written the way a user writes the loss:

* **logistic**, ``sum(log(1 + exp(−y ⊙ X w)))`` with labels ``y ∈ {−1, +1}``, the Hessian in
  ``w``; closed form ``Xᵀ diag(s ⊙ (1 − s)) X``, ``s = σ(−y ⊙ X w)``.  tensorcalc's nested
  gradient must find that form itself: the two terms that share ``X_ki … X_kj`` are one
  contraction over their summed middle factor;
* **MLP**, ``sum((W₂ tanh(W₁ X) − Y)²)`` (input dimension = hidden width, 10 outputs, batch
  64), the Hessian in ``W₁``, an (h, d, h, d) tensor; closed form: one GEMM for the
  ``(W₂ᵀW₂)_ik`` term and a batched GEMM for the diagonal ``δ_ik`` term.  The δ term must be
  contracted, never written out as a dense (h, d, h, B) tensor;
* **matrix factorization**, ``‖U Vᵀ − R‖²``, the Hessian in ``U``: ``2 δ_ac (VᵀV)_bd``;
* **xᵀAx**, the Hessian in ``x``: ``A + Aᵀ``.

Systems: the numpy closed form (the baseline of every ratio); tensorcalc's nested grad
compiled for numpy and for the jax backend (``backend="jax"``); ``jax.jit(jax.hessian(loss))``
(forward over reverse), with ``jax_enable_x64``, waited on with ``block_until_ready``,
compiled in the untimed warmup.  Every system's Hessian is checked against the closed form
before anything is timed; all systems of one case are timed in one interleaved run; the
best time per call is reported with the ratio to the closed form (lower is better).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from typing import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import threads  # noqa: E402,F401 - applies --threads before numpy is imported

import numpy as np  # noqa: E402

import tensorcalc as tc  # noqa: E402
from common import (QuietWaiter, check_close, jax_version, machine_description,  # noqa: E402
                    parse_benchmark_arguments, plot_line, print_closing_lines, ratio_table,
                    save_ratio_plot, time_interleaved)

MLP_OUTPUTS, MLP_BATCH = 10, 64


@dataclass(frozen=True)
class Case:
    """One Hessian at one size: the data, the closed form, tensorcalc's expression (the nested
    gradient, built on demand), and the loss for jax (``loss(wrt, **others)`` in jax.numpy)."""

    name: str
    size: str
    data: dict
    wrt: str
    closed_form: Callable
    hessian: Callable
    jax_loss: Callable

    @property
    def label(self) -> str:
        return f"{self.name}, {self.size}"


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def logistic(n: int, d: int, seed: int = 0) -> Case:
    rng = np.random.default_rng(seed)
    data = {"X": rng.standard_normal((n, d)) / np.sqrt(d), "w": rng.standard_normal(d),
            "y": np.where(rng.random(n) < 0.5, -1.0, 1.0)}

    def hessian():
        X, w, y = tc.var("X", ("n", "d")), tc.var("w", ("d",)), tc.var("y", ("n",))
        loss = tc.sum(tc.log(1 + tc.exp(-y * (X @ w))))
        return tc.grad(tc.grad(loss, w), w)

    def closed_form(X, w, y):
        s = _sigmoid(-y * (X @ w))
        return (X.T * (s * (1.0 - s))) @ X

    def jax_loss(w, X, y):
        import jax.numpy as jnp

        return jnp.sum(jnp.log(1 + jnp.exp(-y * (X @ w))))

    return Case("logistic, log(1 + exp(−y ⊙ Xw))", f"{n}×{d}", data, "w", closed_form,
                hessian, jax_loss)


def mlp(width: int, seed: int = 0) -> Case:
    rng = np.random.default_rng(seed)
    h = d = width
    o, B = MLP_OUTPUTS, MLP_BATCH
    data = {"W1": rng.standard_normal((h, d)) / np.sqrt(d),
            "W2": rng.standard_normal((o, h)) / np.sqrt(h),
            "X": rng.standard_normal((d, B)), "Y": rng.standard_normal((o, B))}

    def hessian():
        W1, W2 = tc.var("W1", ("h", "d")), tc.var("W2", ("o", "h"))
        X, Y = tc.var("X", ("d", "B")), tc.var("Y", ("o", "B"))
        loss = tc.sum((W2 @ tc.tanh(W1 @ X) - Y) ** 2)
        return tc.grad(tc.grad(loss, W1), W1)

    def closed_form(W1, W2, X, Y):
        t = np.tanh(W1 @ X)
        s = 1.0 - t * t
        U = (s[:, None, :] * X[None, :, :]).reshape(h * d, B)  # U_(ij)B = s_iB X_jB
        H = (U @ U.T).reshape(h, d, h, d) * (2.0 * (W2.T @ W2))[:, None, :, None]
        c = -4.0 * t * s * (W2.T @ (W2 @ t - Y))  # the δ_ik term: Σ_B c_kB X_jB X_lB
        diagonal = np.einsum("kjkl->kjl", H)  # the (k, j, k, l) diagonal, a writeable view
        diagonal += (X[None, :, :] * c[:, None, :]) @ X.T
        return H

    def jax_loss(W1, W2, X, Y):
        import jax.numpy as jnp

        return jnp.sum((W2 @ jnp.tanh(W1 @ X) - Y) ** 2)

    return Case("MLP, ∂²/∂W₁² of ‖W₂ tanh(W₁X) − Y‖²", f"width {width}", data, "W1", closed_form,
                hessian, jax_loss)


def matrix_factorization(m: int, n: int, k: int, seed: int = 0) -> Case:
    rng = np.random.default_rng(seed)
    data = {"U": rng.standard_normal((m, k)), "V": rng.standard_normal((n, k)),
            "R": rng.standard_normal((m, n))}

    def hessian():
        U, V, R = tc.var("U", ("m", "k")), tc.var("V", ("n", "k")), tc.var("R", ("m", "n"))
        loss = tc.sum((U @ V.T - R) ** 2)
        return tc.grad(tc.grad(loss, U), U)

    def closed_form(U, V, R):
        H = np.zeros((m, k, m, k))
        np.einsum("akal->akl", H)[...] = 2.0 * (V.T @ V)
        return H

    def jax_loss(U, V, R):
        import jax.numpy as jnp

        return jnp.sum((U @ V.T - R) ** 2)

    return Case("matrix factorization, ∂²/∂U² of ‖UVᵀ − R‖²", f"{m}×{n}, k={k}", data, "U",
                closed_form, hessian, jax_loss)


def quadratic_form(n: int, seed: int = 0) -> Case:
    rng = np.random.default_rng(seed)
    data = {"x": rng.standard_normal(n), "A": rng.standard_normal((n, n))}

    def hessian():
        x, A = tc.var("x", ("n",)), tc.var("A", ("n", "n"))
        return tc.grad(tc.grad(x @ A @ x, x), x)

    def jax_loss(x, A):
        return x @ A @ x

    return Case("xᵀAx", f"n = {n}", data, "x", lambda x, A: A + A.T, hessian, jax_loss)


def cases(quick: bool) -> list:
    return ([logistic(n, d) for n, d in ([(1000, 100)] if quick else
                                         [(1000, 100), (5000, 200), (2000, 500)])]
            + [mlp(w) for w in ((8, 16) if quick else (8, 16, 32, 64))]
            + [matrix_factorization(*s) for s in ([(60, 50, 5)] if quick else
                                                  [(60, 50, 5), (200, 150, 10)])]
            + [quadratic_form(n) for n in ((500,) if quick else (1000, 2000))])


# ---------------------------------------------------------------------------
# Measuring


def measure(case: Case, use_jax: bool, budget: float, quiet=None) -> dict:
    """Check every system against the closed form, then time them all in one interleaved run."""
    data = case.data
    expected = case.closed_form(**data)
    program = tc.compile(case.hessian())
    calls = {"numpy": lambda: case.closed_form(**data),
             "tensorcalc": lambda: program(**data)}
    check_close(f"{case.label}: tensorcalc", [calls["tensorcalc"]()], [expected])
    if use_jax:
        import jax
        import jax.numpy as jnp

        arrays = {k: jnp.asarray(v) for k, v in data.items()}
        on_jax = tc.compile(case.hessian(), backend="jax")
        calls["tensorcalc, jax backend"] = lambda: jax.block_until_ready(on_jax(**arrays))
        names = list(data)
        position = names.index(case.wrt)
        hessian = jax.jit(jax.hessian(lambda *args: case.jax_loss(**dict(zip(names, args))),
                                      argnums=position))
        ordered = [arrays[k] for k in names]
        calls["jax.hessian"] = lambda: jax.block_until_ready(hessian(*ordered))
        for name in ("tensorcalc, jax backend", "jax.hessian"):
            check_close(f"{case.label}: {name}", [np.asarray(calls[name]())], [expected])
    best = time_interleaved(calls, budget=budget, quiet=quiet)
    return {"workload": case.name, "size": case.size, **best}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the smallest sizes")
    args = parse_benchmark_arguments(parser, argv, quick_budget=0.3)
    started = time.perf_counter()
    version, note = jax_version()
    quiet = QuietWaiter(total=args.wait)
    rows, all_cases = [], cases(args.quick)
    for n, case in enumerate(all_cases, 1):
        start = time.perf_counter()
        rows.append(measure(case, version is not None, args.budget, quiet))
        print(f"  [{n}/{len(all_cases)}] {case.label}: {time.perf_counter() - start:.1f} s",
              file=sys.stderr, flush=True)
    systems = ["tensorcalc"] + (["tensorcalc, jax backend", "jax.hessian"] if version else [])
    print("Hessians per call, float64; best of interleaved repeats; (ratio to the numpy closed "
          "form; lower is better)\n")
    print(machine_description([version] if version else []))
    if note:
        print(note)
    print()
    print(ratio_table(rows, systems).replace("| numpy |", "| closed form (numpy) |", 1))
    if not args.no_plot:
        print("\n" + plot_line(save_ratio_plot(
            rows, systems, "Hessians (nested grad): time ÷ the numpy closed form", "hessians.png")))
    print_closing_lines(quiet, started)


if __name__ == "__main__":
    main()
