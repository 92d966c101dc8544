"""Compiled tensorcalc (loss + all gradients in one program) vs hand-written numpy.

    .venv/bin/python benchmarks/vs_numpy.py            # small, medium and large sizes
    .venv/bin/python benchmarks/vs_numpy.py --quick    # small and medium only

Workloads (see ``workloads.py``): a 2-layer tanh MLP (widths 32, 256, 1024,
batch 64, 10 outputs), least squares ``‖Ax − b‖²``, logistic regression
``mean(softplus(−y ⊙ Xw))`` and matrix factorization ``‖UVᵀ − R‖²``.

Columns: the best time per call (over three rounds that alternate the four
functions, so that a burst of outside load spoils no single column) of ``tc.compile([L, *tc.grad(L, params)])``
and of the numpy forward+backward, their ratio; then the compiled loss alone
and the gradient/forward ratio (loss+gradients over loss alone) for
tensorcalc and for numpy.  Every tensorcalc result is checked against numpy
(np.allclose) before anything is timed.  The three ratio columns are also saved
as a bar chart, ``benchmarks/results/vs_numpy.png`` (``--no-plot``: none).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import threads  # noqa: E402,F401 - applies --threads before numpy is imported

import tensorcalc as tc  # noqa: E402
from common import (parse_benchmark_arguments, print_closing_lines, QuietWaiter, check_close, format_ratio, format_time,  # noqa: E402
                    machine_description, markdown_table, plot_line, progress, save_ratio_plot,
                    time_interleaved)
from workloads import standard_workloads  # noqa: E402


def measure(workload, budget: float, quiet=None) -> dict:
    loss, params = workload.tc_loss()
    full = tc.compile([loss, *tc.grad(loss, params)])
    forward = tc.compile(loss)
    data = workload.data
    check_close(f"{workload.label}: tensorcalc vs numpy", full(**data), workload.numpy_grad(**data))
    check_close(f"{workload.label}: forward", [forward(**data)], [workload.numpy_loss(**data)])
    best = time_interleaved({
        "tc": lambda: full(**data),
        "numpy": lambda: workload.numpy_grad(**data),
        "tc_forward": lambda: forward(**data),
        "numpy_forward": lambda: workload.numpy_loss(**data),
    }, budget=budget, quiet=quiet)
    return {"workload": workload.name, "size": workload.size, **best}


def table(rows) -> str:
    headers = ["workload", "size", "tensorcalc", "numpy", "tensorcalc/numpy", "tc forward",
               "tc grad/forward", "numpy grad/forward"]
    return markdown_table(headers, [[
        r["workload"], r["size"], format_time(r["tc"]), format_time(r["numpy"]),
        format_ratio(r["tc"], r["numpy"]), format_time(r["tc_forward"]),
        format_ratio(r["tc"], r["tc_forward"]), format_ratio(r["numpy"], r["numpy_forward"]),
    ] for r in rows])


def plot(rows) -> str | None:
    """The table's three ratio columns as a bar chart, benchmarks/results/vs_numpy.png."""
    ratios = [{"workload": r["workload"], "size": r["size"],
               "tensorcalc ÷ numpy": r["tc"] / r["numpy"],
               "tc grad/forward": r["tc"] / r["tc_forward"],
               "numpy grad/forward": r["numpy"] / r["numpy_forward"]} for r in rows]
    return save_ratio_plot(ratios, ["tensorcalc ÷ numpy", "tc grad/forward", "numpy grad/forward"],
                           "tensorcalc (compiled loss + all gradients) vs hand-written numpy",
                           "vs_numpy.png", baseline=None)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small and medium sizes only")
    parser.add_argument("--no-plot", action="store_true",
                        help="print the table only (no benchmarks/results/vs_numpy.png)")
    args = parse_benchmark_arguments(parser, argv, quick_budget=0.25)
    budget = args.budget
    started = time.perf_counter()
    quiet = QuietWaiter(total=args.wait)
    rows = []
    for workload in progress(standard_workloads(args.quick), lambda w: w.label):
        rows.append(measure(workload, budget, quiet))
    print("tensorcalc (compiled loss + all gradients) vs hand-written numpy; best of repeats\n")
    print(machine_description())
    print()
    print(table(rows))
    if not args.no_plot:
        print("\n" + plot_line(plot(rows)))
    print_closing_lines(quiet, started)


if __name__ == "__main__":
    main()
