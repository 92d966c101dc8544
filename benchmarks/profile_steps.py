"""Where a compiled program spends its time: one row per step of ``program.nodes``.

    .venv/bin/python benchmarks/profile_steps.py "MLP 2-layer" 256
    .venv/bin/python benchmarks/profile_steps.py "MLP 2-layer" 64 --naive
    .venv/bin/python benchmarks/profile_steps.py "logistic regression" 50000x200

Each step is timed by ``Program.profile`` (median over repeats).  The
table lists the slowest steps: kind, shape, einsum equation or function,
share of the total; the per-call overhead (binding the arguments and
everything outside the steps) is the total call time minus the steps' sum.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import threads  # noqa: E402,F401 - applies --threads before numpy is imported

import tensorcalc as tc  # noqa: E402
from common import format_time, markdown_table, time_call  # noqa: E402
from workloads import (least_squares, linear, logistic_regression, matrix_factorization,  # noqa: E402
                       mlp)


def describe(program, node) -> str:
    recipe = program.recipes.get(id(node))
    if recipe is not None:
        return recipe.equation
    return getattr(node, "fn", "") or getattr(node, "name", "")


def step_times(program, values: dict, repeats: int = 20) -> tuple:
    """``({step: median seconds}, best seconds per whole call)``, from ``Program.profile``."""
    position = {id(node): n for n, node in enumerate(program.nodes)}
    times = {position[id(node)]: seconds for node, seconds in program.profile(values, repeats=repeats)}
    whole = time_call(lambda: program(**values), budget=0.5).best
    return times, whole


def report(program, values: dict, top: int = 12, repeats: int = 20) -> str:
    times, whole = step_times(program, values, repeats)
    steps = sum(times.values())
    order = sorted(times, key=lambda n: -times[n])[:top]
    rows = [[n, type(program.nodes[n]).__name__, program.nodes[n].shape,
             describe(program, program.nodes[n]), format_time(times[n]),
             f"{100 * times[n] / whole:.0f}%"] for n in order]
    table = markdown_table(["step", "kind", "shape", "einsum / function", "time", "share"], rows)
    return (f"{len(program.nodes)} steps; whole call {format_time(whole)}, steps {format_time(steps)}, "
            f"outside the steps {format_time(max(0.0, whole - steps))}\n\n{table}")


def build(name: str, size: str):
    numbers = [int(part) for part in size.lower().split("x")]
    builders = {"linear": linear, "MLP 2-layer": lambda w: mlp(w, 2),
                "MLP 3-layer": lambda w: mlp(w, 3), "least squares": least_squares,
                "logistic regression": logistic_regression,
                "matrix factorization": matrix_factorization}
    if name not in builders:
        raise SystemExit(f"unknown workload {name!r}; choose from {sorted(builders)}")
    return builders[name](*numbers)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workload")
    parser.add_argument("size", help="width, or sizes joined by x (e.g. 1000x500, 500x400x20)")
    parser.add_argument("--naive", action="store_true", help="profile the naive gradient")
    parser.add_argument("--forward", action="store_true", help="profile the loss alone")
    parser.add_argument("--threads", type=int, default=None, help="limit BLAS threads")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args(argv)
    workload = build(args.workload, args.size)
    loss, weights = workload.tc_loss()
    if args.forward:
        program = tc.compile(loss)
    else:
        method = "naive" if args.naive else "contracted"
        program = tc.compile([loss, *tc.grad(loss, weights, method=method, memory_limit=2**34)])
    print(f"{workload.label} ({'forward' if args.forward else 'naive' if args.naive else 'contracted'})")
    print(report(program, workload.data, args.top))


if __name__ == "__main__":
    main()
