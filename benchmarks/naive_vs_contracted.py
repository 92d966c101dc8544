"""Naive (materialized local Jacobians) vs contracted gradients vs hand-written numpy.

    .venv/bin/python benchmarks/naive_vs_contracted.py            # widths 16 … 1024
    .venv/bin/python benchmarks/naive_vs_contracted.py --quick    # widths ≤ 128

For a linear layer and 2- and 3-layer tanh MLPs (batch 64, input dim and hidden
widths = width, 10 outputs), each method computes the loss and the gradient of
every weight matrix in one call:

* **naive** – ``tc.compile([L, *tc.grad(L, weights, method="naive")])``: every
  node's local generalized Jacobian is built as its own tensor, then chained;
* **contracted** – ``tc.compile([L, *tc.grad(L, weights)])``, the default;
* **numpy** – hand-written forward and backward passes.

All three must agree (np.allclose) before anything is timed.  Time is the best
of several repeats in three rounds that alternate the methods
(``common.time_interleaved``); memory is the tracemalloc peak of one more call.  Naive programs whose predicted peak (``Program.predicted_bytes``)
exceeds ``--naive-cap`` are not run: the table shows the prediction, marked
``~``, and ``—`` for their time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import threads  # noqa: E402,F401 - applies --threads before numpy is imported

import tensorcalc as tc  # noqa: E402
from common import (parse_benchmark_arguments, print_closing_lines, RESULTS_DIR, QuietWaiter, check_close, format_bytes,  # noqa: E402
                    format_ratio, format_time, machine_description, markdown_table,
                    matplotlib_pyplot, peak_memory, save_figure, time_interleaved)
from workloads import linear, mlp  # noqa: E402

WIDTHS = (16, 32, 64, 128, 256, 512, 1024)
BUILDERS = {
    "linear": linear,
    "MLP 2-layer": lambda width: mlp(width, depth=2),
    "MLP 3-layer": lambda width: mlp(width, depth=3),
}


def measure(workload, naive_cap: int, budget: float, quiet=None) -> dict:
    """Times and peaks of the three methods on one workload (naive left out past the cap)."""
    loss, weights = workload.tc_loss()
    contracted = tc.compile([loss, *tc.grad(loss, weights)])
    naive = tc.compile([loss, *tc.grad(loss, weights, method="naive", memory_limit=naive_cap)])
    data = workload.data
    predicted = naive.predicted_bytes(workload.dims)
    row = {"workload": workload.name, "width": workload.dims["d"], "predicted": predicted,
           "naive_ran": predicted <= naive_cap}

    expected = workload.numpy_grad(**data)
    check_close(f"{workload.label}: contracted vs numpy", contracted(**data), expected)
    if row["naive_ran"]:
        check_close(f"{workload.label}: naive vs contracted", naive(**data), contracted(**data))

    calls = {"contracted": lambda: contracted(**data), "numpy": lambda: workload.numpy_grad(**data)}
    if row["naive_ran"]:
        calls["naive"] = lambda: naive(**data)
    best = time_interleaved(calls, budget=budget, quiet=quiet)
    for method in ("naive", "contracted", "numpy"):
        row[f"{method}_time"] = best.get(method)
        row[f"{method}_mem"] = peak_memory(calls[method]) if method in calls else None
    return row


def table(rows) -> str:
    headers = ["workload", "width", "naive time", "contracted time", "numpy time",
               "naive/contracted time", "naive mem", "contracted mem", "numpy mem",
               "naive/contracted mem"]
    body = []
    for r in rows:
        naive_mem = r["naive_mem"] if r["naive_ran"] else r["predicted"]
        body.append([
            r["workload"], r["width"], format_time(r["naive_time"]), format_time(r["contracted_time"]),
            format_time(r["numpy_time"]), format_ratio(r["naive_time"], r["contracted_time"]),
            format_bytes(naive_mem) if r["naive_ran"] else "~" + format_bytes(naive_mem),
            format_bytes(r["contracted_mem"]), format_bytes(r["numpy_mem"]),
            format_ratio(naive_mem, r["contracted_mem"], prefix="" if r["naive_ran"] else "~"),
        ])
    return markdown_table(headers, body)


def plot(rows, path: str) -> bool:
    plt = matplotlib_pyplot()
    if plt is None:
        return False
    names = list(dict.fromkeys(r["workload"] for r in rows))
    figure, axes = plt.subplots(len(names), 2, figsize=(10, 3.2 * len(names)), squeeze=False)
    styles = {"naive": "tab:red", "contracted": "tab:blue", "numpy": "tab:green"}
    for line, name in enumerate(names):
        mine = [r for r in rows if r["workload"] == name]
        widths = [r["width"] for r in mine]
        for column, (what, unit) in enumerate((("time", "seconds per call"), ("mem", "peak bytes"))):
            ax = axes[line][column]
            for method, colour in styles.items():
                points = [(w, r[f"{method}_{what}"]) for w, r in zip(widths, mine)
                          if r[f"{method}_{what}"] is not None]
                if points:
                    ax.plot(*zip(*points), "o-", color=colour, label=method)
            if what == "mem":
                predicted = [(r["width"], r["predicted"]) for r in mine if not r["naive_ran"]]
                measured = [(r["width"], r["naive_mem"]) for r in mine if r["naive_ran"]]
                if predicted and measured:  # join the dashed line to the last measured point
                    predicted.insert(0, max(measured))
                if predicted:
                    ax.plot(*zip(*predicted), "o--", color=styles["naive"], mfc="none",
                            label="naive (predicted, not run)")
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("width")
            ax.set_ylabel(unit)
            ax.set_title(f"{name}: {'time' if what == 'time' else 'peak memory'}")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize="small")
    save_figure(plt, figure, path)
    return True


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="widths ≤ 128 only (under a minute)")
    parser.add_argument("--widths", type=int, nargs="+", default=None,
                        help=f"widths to run (default {' '.join(map(str, WIDTHS))})")
    parser.add_argument("--naive-cap", type=float, default=2.0,
                        help="GiB the naive method may use; larger runs are predicted, not run")
    parser.add_argument("--no-plot", action="store_true")
    args = parse_benchmark_arguments(parser, argv, quick_budget=0.15)
    widths = args.widths or ([w for w in WIDTHS if w <= 128] if args.quick else list(WIDTHS))
    budget = args.budget
    cap = int(args.naive_cap * 2**30)

    started = time.perf_counter()
    quiet = QuietWaiter(total=args.wait)
    rows = []
    for name, build in BUILDERS.items():
        for width in widths:
            rows.append(measure(build(width), cap, budget, quiet))
            print(f"  measured {name}, width {width}", file=sys.stderr, flush=True)
    print(f"Naive vs contracted gradients (loss + every weight gradient per call; batch 64, "
          f"10 outputs; naive capped at {format_bytes(cap)})\n")
    print(machine_description())
    print()
    print(table(rows))
    print("\n~ : predicted by Program.predicted_bytes; that naive program was not run.")
    if not args.no_plot:
        path = os.path.join(RESULTS_DIR, "naive_vs_contracted.png")
        if plot(rows, path):
            print(f"\nplot: {os.path.relpath(path)}")
        else:
            print("\n(matplotlib not importable: no plot)")
    print_closing_lines(quiet, started)


if __name__ == "__main__":
    main()
