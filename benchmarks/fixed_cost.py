"""The fixed cost of a small graph: tc.grad, tc.compile and the first call, each timed apart.

    .venv/bin/python benchmarks/fixed_cost.py                       # this checkout
    .venv/bin/python benchmarks/fixed_cost.py --source /tmp/old     # another checkout of tensorcalc

A two-layer tanh MLP (32 × 16 and 10 × 32, batch 64), least squares 100 × 50 and a logistic
loss 200 × 20, written with the operators every version of tensorcalc has (``@``, ``tanh``,
``exp``, ``log``, ``sum``): ``tc.grad`` of the loss for its parameters, ``tc.compile`` of the
loss and gradients, and the program's first call (which plans each step, and writes the fast
path's function). Each is the median over ``--repeats`` fresh graphs (new variable names each
time, so that no cache of an earlier graph answers). ``--source`` imports tensorcalc from
another checkout, such as ``git worktree add /tmp/old <commit>``, to compare with an earlier
engine in the same conditions; values are checked against numpy in both.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time


def cases(tc, np, rng):
    def mlp(k):
        W1, W2 = tc.var(f"W1_{k}", (32, 16)), tc.var(f"W2_{k}", (10, 32))
        X, Y = tc.var(f"X_{k}", (16, 64)), tc.var(f"Y_{k}", (10, 64))
        values = {f"W1_{k}": rng.normal(size=(32, 16)) / 4, f"W2_{k}": rng.normal(size=(10, 32)) / 6,
                  f"X_{k}": rng.normal(size=(16, 64)), f"Y_{k}": rng.normal(size=(10, 64))}
        w1, w2, x, y = values.values()
        h = np.tanh(w1 @ x)
        r = w2 @ h - y
        expected = [np.sum(r ** 2), (w2.T @ (2 * r) * (1 - h ** 2)) @ x.T, 2 * r @ h.T]
        return tc.sum((W2 @ tc.tanh(W1 @ X) - Y) ** 2), [W1, W2], values, expected

    def least_squares(k):
        A, x, b = tc.var(f"A_{k}", (100, 50)), tc.var(f"x_{k}", (50,)), tc.var(f"b_{k}", (100,))
        values = {f"A_{k}": rng.normal(size=(100, 50)), f"x_{k}": rng.normal(size=50),
                  f"b_{k}": rng.normal(size=100)}
        a, x0, b0 = values.values()
        r = a @ x0 - b0
        return tc.sum((A @ x - b) ** 2), [x], values, [r @ r, 2 * r @ a]

    def logistic(k):
        X, w, y = tc.var(f"X_{k}", (200, 20)), tc.var(f"w_{k}", (20,)), tc.var(f"y_{k}", (200,))
        values = {f"X_{k}": rng.normal(size=(200, 20)), f"w_{k}": rng.normal(size=20) / 5,
                  f"y_{k}": np.sign(rng.normal(size=200))}
        x0, w0, y0 = values.values()
        m = -y0 * (x0 @ w0)
        s = 1 / (1 + np.exp(-m))
        return tc.sum(tc.log(1 + tc.exp(-y * (X @ w)))), [w], values, [np.sum(np.log1p(np.exp(m))),
                                                                        (-y0 * s) @ x0]

    return [("MLP 2-layer", "32 × 16, batch 64", mlp), ("least squares", "100 × 50", least_squares),
            ("logistic", "200 × 20", logistic)]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", help="a checkout of tensorcalc to import instead of this one")
    parser.add_argument("--repeats", type=int, default=30, help="fresh graphs per case (30)")
    args = parser.parse_args(argv)
    if args.source:
        sys.path.insert(0, args.source)
    import numpy as np
    import tensorcalc as tc

    rng = np.random.default_rng(0)
    print(f"tensorcalc from {tc.__file__}; median of {args.repeats} fresh graphs each\n")
    print("| case | size | grad | compile | first call | total |")
    print("| :--- | :--- | ---: | ---: | ---: | ---: |")
    for name, size, make in cases(tc, np, rng):
        times: dict = {"grad": [], "compile": [], "first call": [], "total": []}
        for k in range(args.repeats):
            loss, params, values, expected = make(k)
            start = time.perf_counter()
            gradients = tc.grad(loss, params)
            graded = time.perf_counter()
            program = tc.compile([loss, *gradients])
            compiled = time.perf_counter()
            outputs = program(**values)
            called = time.perf_counter()
            for got, want in zip(outputs, expected):
                if not np.allclose(got, want, rtol=1e-8, atol=1e-10):
                    raise AssertionError(f"{name}: a value differs from numpy's")
            for phase, seconds in (("grad", graded - start), ("compile", compiled - graded),
                                   ("first call", called - compiled), ("total", called - start)):
                times[phase].append(seconds)
        cells = " | ".join(f"{statistics.median(v) * 1e3:.2f} ms" for v in times.values())
        print(f"| {name} | {size} | {cells} |")


if __name__ == "__main__":
    main()
