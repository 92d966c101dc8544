"""The gradient of xᵀAx: printed ``(A + Aᵀ)x``, planned ``Ax + Aᵀx`` (issue 20).

    .venv/bin/python benchmarks/quadratic_gradient.py --threads 1
    .venv/bin/python benchmarks/quadratic_gradient.py --quick

The printed form is the textbook one; evaluated that way every call writes the n×n matrix
``A + Aᵀ`` and then multiplies.  ``tc.compile`` plans it as two matrix-vector products
(``evaluation/distribute.py``).  Three programs are timed in alternating rounds, side by side
in one run: hand-written numpy ``A @ x + A.T @ x``, the compiled gradient, and the same
gradient compiled as it prints (factored: what the plan was before).  Each round gives a
ratio to numpy; the table shows the median over rounds and the spread (min–max), which is
how noisy the machine was.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import threads  # noqa: E402,F401 - applies --threads before numpy is imported

import numpy as np  # noqa: E402

import tensorcalc as tc  # noqa: E402
from tensorcalc.calculus.simplify import simplify  # noqa: E402
from common import machine_description, markdown_table, time_call  # noqa: E402


def programs():
    A, x = tc.var("A", ("n", "n")), tc.var("x", ("n",))
    gradient = tc.grad(tc.einsum("i,ij,j->", x, A, x), x)
    factored = tc.compile(simplify([gradient.expr])[0], simplify=False)  # as it prints
    return tc.compile(gradient), factored


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", default=None)  # read by threads.py
    parser.add_argument("--rounds", type=int, default=7)
    arguments = parser.parse_args(argv)
    planned, factored = programs()
    rows = []
    for dtype in (np.float64, np.float32):
        for n in ((100, 1000) if arguments.quick else (100, 1000, 3000)):
            rng = np.random.default_rng(0)
            A, x = rng.standard_normal((n, n)).astype(dtype), rng.standard_normal(n).astype(dtype)
            expected = A @ x + A.T @ x
            tolerance = 1e-4 if dtype == np.float32 else 1e-10
            for program in (planned, factored):
                np.testing.assert_allclose(program(A=A, x=x), expected, rtol=tolerance,
                                           atol=tolerance * n)
            calls = {"numpy": lambda: A @ x + A.T @ x, "planned": lambda: planned(A=A, x=x),
                     "factored": lambda: factored(A=A, x=x)}
            ratios = {"planned": [], "factored": []}
            best = {}
            for round_ in range(arguments.rounds):
                seconds = {name: time_call(fn, budget=0.1, warmup=round_ == 0).best
                           for name, fn in calls.items()}
                for name in ratios:
                    ratios[name].append(seconds[name] / seconds["numpy"])
                best = {name: min(s, best.get(name, s)) for name, s in seconds.items()}

            def cell(name):
                r = ratios[name]
                return f"{statistics.median(r):.2f}× ({min(r):.2f}–{max(r):.2f})"
            rows.append([np.dtype(dtype).name, f"n = {n:,}", f"{best['numpy'] * 1e6:.0f} µs",
                         cell("planned"), cell("factored")])
    print(markdown_table(["dtype", "size", "numpy A@x + A.T@x", "tc planned Ax + Aᵀx",
                          "tc factored (A + Aᵀ)x"], rows))
    print()
    print(machine_description())


if __name__ == "__main__":
    main()
