"""Tiny sizes, where per-call overhead is everything: tensorcalc against hand-written numpy.

    .venv/bin/python benchmarks/tiny.py --threads 1           # 15 rounds
    .venv/bin/python benchmarks/tiny.py --quick --threads 1   # 5 rounds

Least squares 10×5, logistic regression 20×5 and a 2-layer MLP of width 8 with batch 4 (the
issue's "tiny" workloads, from ``workloads.py``): loss and all gradients per call, in float64
and again with the data in float32 (numpy's and tensorcalc's work then float32 too).  At these
sizes a numpy call costs a microsecond or two, so the program's own overhead is the
measurement.  A repeat call with the shapes and dtypes of the last one runs one generated
straight-line function (``codegen.generate``), after one dictionary pass over the arguments.

Timing: the systems alternate over ``rounds`` rounds of ``calls`` calls each (``timeit``, the
garbage collector off), and the best round of each is kept: the least disturbed by other work.
JAX's ``jax.jit(jax.value_and_grad)`` is timed too when importable, for scale (its dispatch
costs several microseconds per call).  Values are checked against numpy first.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import timeit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import threads  # noqa: E402,F401 - applies --threads before numpy is imported

import numpy as np  # noqa: E402

import tensorcalc as tc  # noqa: E402
import workloads  # noqa: E402
from peers import jax_system  # noqa: E402
from common import (QuietWaiter, check_close, jax_version, machine_description,  # noqa: E402
                    parse_benchmark_arguments, plot_line, print_closing_lines, ratio_table,
                    save_ratio_plot)


def tiny_workloads() -> list:
    return [workloads.least_squares(10, 5), workloads.logistic_regression(20, 5),
            workloads.mlp(8, batch=4)]


def calls_for(workload, use_jax: bool, dtype=np.float64) -> dict:
    """name → a no-argument call computing the loss and every gradient, each checked; with
    ``dtype`` float32 the data (and so numpy's and tensorcalc's work) are float32."""
    data = {name: np.asarray(value, dtype=dtype) for name, value in workload.data.items()}
    expected = workload.numpy_grad(**data)
    loss, params = workload.tc_loss()
    program = tc.compile([loss, *tc.grad(loss, params)])
    calls = {"numpy": lambda: workload.numpy_grad(**data),
             "tensorcalc": lambda: program(**data)}
    tolerance = {"rtol": 1e-4, "atol": 1e-5} if dtype == np.float32 else {}
    check_close(f"{workload.label}: tensorcalc", list(program(**data)), expected, **tolerance)
    if dtype != np.float64:
        assert all(np.asarray(o).dtype == dtype for o in program(**data)), "dtype not kept"
        return calls  # jax.jit is timed in float64 only
    if use_jax:
        call, to_numpy = jax_system(workload)
        calls["jax.jit"] = call
        check_close(f"{workload.label}: jax", to_numpy(call()), expected)
    return calls


def best_per_call(calls: dict, rounds: int, number: int, quiet) -> dict:
    """Best seconds per call of each system over ``rounds`` alternating rounds."""
    best: dict = {}
    for call in calls.values():  # warm: plans, generated functions, jit
        call()
        call()
    for _ in range(rounds):
        quiet()
        for name, call in calls.items():
            seconds = timeit.timeit(call, number=number) / number
            best[name] = min(seconds, best.get(name, seconds))
    return best


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 rounds instead of 15")
    parser.add_argument("--calls", type=int, default=2_000, help="calls per round (2,000)")
    args = parse_benchmark_arguments(parser, argv, quick_budget=0.3)
    started = time.perf_counter()
    version, note = jax_version()
    quiet = QuietWaiter(total=args.wait)
    rounds = 5 if args.quick else 15
    rows, cases = [], [(w, dtype) for dtype in (np.float64, np.float32) for w in tiny_workloads()]
    for n, (workload, dtype) in enumerate(cases, 1):
        calls = calls_for(workload, version is not None, dtype)
        best = best_per_call(calls, rounds, args.calls, quiet)
        size = workload.size + (f", batch {workload.dims['B']}" if "B" in workload.dims else "")
        rows.append({"workload": f"{workload.name} ({np.dtype(dtype).name})", "size": size, **best})
        print(f"  [{n}/{len(cases)}] {workload.label} {np.dtype(dtype).name}: tensorcalc "
              f"{best['tensorcalc'] * 1e6:.1f} µs, numpy {best['numpy'] * 1e6:.1f} µs",
              file=sys.stderr, flush=True)
    print(f"Tiny sizes: loss + all gradients per call, float64 and float32; best of {rounds} "
          f"alternating rounds of {args.calls:,} calls (ratio to hand-written numpy)\n")
    print(machine_description([version] if version else []))
    if note:
        print(note)
    print()
    systems = ["tensorcalc"] + (["jax.jit"] if version else [])
    print(ratio_table(rows, systems))
    if not args.no_plot:
        print("\n" + plot_line(save_ratio_plot(
            rows, systems, "Tiny sizes: loss + gradients per call, time ÷ hand-written numpy",
            "tiny.png")))
    print_closing_lines(quiet, started)


if __name__ == "__main__":
    main()
