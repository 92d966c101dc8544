"""Scaling cases that once hung: many operands, wide sums, deep programs.

    .venv/bin/python benchmarks/scaling.py           # the sizes the reliability issue names
    .venv/bin/python benchmarks/scaling.py --quick   # smaller sizes, for a smoke run

Each row is one case, timed once end to end (build, differentiate, compile, first call) after
its value is checked.  These are not micro-benchmarks: they exist so that a return of the
exponential or quadratic behaviour (minutes) shows as a number, next to what it was before.

* ``einsum i,i,…,i-> (n operands)``: the path optimizer was exponential (33 s at n = 14, more
  than 9 minutes at 30) because ``dp`` was used on a fully shared index.
* ``sum of n terms, one + at a time``: nested sums were unwound quadratically (240 s to
  evaluate, 152 s to differentiate 10,000 terms).
* ``plan of a depth-L program``: each plan row printed its whole subtree (119 s at 2,000).
* ``compile, depth L``: grad + compile of an L-layer tanh chain, to watch the growth in L.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import tensorcalc as tc  # noqa: E402
from common import machine_description, markdown_table  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def many_operands(n: int):
    x = tc.var("x", (3,))
    e = tc.einsum(",".join(["i"] * n) + "->", *[x] * n)
    value, gradient = tc.compile([e, tc.grad(e, x)])(x=np.full(3, 1.01))
    assert np.isclose(value, 3 * 1.01 ** n) and np.allclose(gradient, n * 1.01 ** (n - 1))


def many_matrices(n: int):
    M = tc.var("M", (3, 3))
    e = tc.einsum(",".join(["ij"] * n) + "->", *[M] * n)
    value, gradient = tc.compile([e, tc.grad(e, M)])(M=np.ones((3, 3)))
    assert value == 9.0 and np.allclose(gradient, n)


def wide_sum(n: int):
    xs = [tc.var(f"x{k}", (2,)) for k in range(n)]
    total = xs[0]
    for x in xs[1:]:
        total = total + tc.sin(x)
    loss = tc.sum(total)
    gradients = tc.grad(loss, xs[:3])
    values = {f"x{k}": np.zeros(2) for k in range(n)}
    assert tc.evaluate(loss, values) == 0.0
    assert np.allclose(tc.evaluate(gradients[1], values), 1.0)


def deep_program(depth: int):
    W, x = tc.var("W", (4, 4)), tc.var("x", (4,))
    h = x
    for _ in range(depth):
        h = tc.tanh(W @ h)
    loss = tc.sum(h)
    return loss, W, x


def plan_of_deep_program(depth: int):
    loss, W, x = deep_program(depth)
    program = tc.compile([loss, tc.grad(loss, W)])
    program(W=np.eye(4) * 0.5, x=np.ones(4))
    return lambda: str(program.plan)


def compile_deep(depth: int):
    loss, W, x = deep_program(depth)
    program = tc.compile([loss, tc.grad(loss, W)])
    program(W=np.eye(4) * 0.5, x=np.ones(4))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    args = parser.parse_args(argv)
    quick = args.quick
    started = time.perf_counter()
    rows = []

    def row(case, before, fn):
        seconds, _ = timed(fn)
        rows.append([case, f"{seconds:.3g} s", before])
        print(f"  {case}: {seconds:.3g} s", file=sys.stderr, flush=True)

    for n in ((11, 14) if quick else (11, 14, 30)):
        row(f"einsum i,i,…,i-> ({n} operands)",
            {11: "0.6 s", 14: "33 s", 30: "> 9 min"}[n], lambda n=n: many_operands(n))
    row("einsum ij,ij,…-> (13 matrices)", "3.6 s", lambda: many_matrices(13))
    for n in ((1_000,) if quick else (1_000, 10_000)):
        row(f"sum of {n:,} terms (build, grad, evaluate)", "392 s at 10,000" if n == 10_000 else "",
            lambda n=n: wide_sum(n))
    for depth in ((200,) if quick else (200, 1_000, 2_000)):
        show = plan_of_deep_program(depth)
        row(f"plan of a depth-{depth:,} program", {200: "", 1_000: "25 s", 2_000: "119 s"}[depth],
            show)
    for depth in ((10, 100) if quick else (10, 100, 200, 400, 1_000)):
        row(f"grad + compile + first call, depth {depth:,}",
            {10: "", 100: "37 ms (compile)", 200: "92 ms (compile)", 400: "257 ms (compile)",
             1_000: ""}[depth], lambda depth=depth: compile_deep(depth))
    print("Scaling cases (one end-to-end run each, values checked)\n")
    print(machine_description())
    print()
    print(markdown_table(["case", "time", "before the fix"], rows))
    print(f"\n({time.perf_counter() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
