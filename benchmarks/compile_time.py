"""Compile time against depth, and the time to a first gradient against ``jax.jit``'s first call.

    .venv/bin/python benchmarks/compile_time.py --threads 1          # depths 10 … 1,000
    .venv/bin/python benchmarks/compile_time.py --quick --threads 1  # depths 10 … 200

* **Depth.** An L-layer tanh MLP, ``a_l = tanh(W_l a_{l−1})`` (width 8, batch 16, one weight
  matrix per layer), loss ``sum((a_L − Y)²)``: the time to build the expression, to take
  ``tc.grad`` for all L weights, to ``tc.compile`` the loss and the L gradients (its two phases
  timed apart: simplify, then the Program), and of the
  first call (which plans every step for its sizes), each at L = 10 … 1,000.  The log-log
  slope of the total against L (least squares over the depths ≥ 100, where the fixed costs
  no longer dominate) is 1 for linear growth; before the reliability issue's fixes
  ``tc.compile`` alone was quadratic past L = 100 (37 / 92 / 257 ms at 100 / 200 / 400).
* **First gradient.** For the workloads of ``workloads.py``: tensorcalc's build + grad +
  compile + first call, against ``jax.jit(jax.value_and_grad(loss))``'s first call (trace +
  XLA compile + run), and each one's best warm call.  Values are checked against numpy first.

Each time is one cold run (a fresh expression, ``tc.clear_cache()`` first): compile time is
paid once, so a best-of-repeats would flatter it.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import threads  # noqa: E402,F401 - applies --threads before numpy is imported

import numpy as np  # noqa: E402

import tensorcalc as tc  # noqa: E402
from tensorcalc.evaluation.evaluate import _simplify_together as simplify_together  # noqa: E402
import workloads  # noqa: E402
from peers import jax_system  # noqa: E402
from common import (QuietWaiter, check_close, format_time, jax_version,  # noqa: E402
                    machine_description, markdown_table, matplotlib_pyplot,
                    parse_benchmark_arguments, plot_line, print_closing_lines, save_figure,
                    save_ratio_plot, time_call)

WIDTH, BATCH = 8, 16


def deep_mlp(depth: int) -> dict:
    """Seconds to build, differentiate, compile and first call an L-layer tanh MLP."""
    tc.clear_cache()
    times = {}
    start = time.perf_counter()
    X, Y = tc.var("X", (WIDTH, "B")), tc.var("Y", (WIDTH, "B"))
    weights = [tc.var(f"W{layer}", (WIDTH, WIDTH)) for layer in range(depth)]
    a = X
    for W in weights:
        a = tc.tanh(W @ a)
    loss = tc.sum((a - Y) ** 2)
    times["build"] = time.perf_counter() - start
    start = time.perf_counter()
    gradients = tc.grad(loss, weights)
    times["grad"] = time.perf_counter() - start
    start = time.perf_counter()  # tc.compile is these two phases: simplify, then the Program
    simplified = simplify_together([loss, *gradients])
    times["simplify"] = time.perf_counter() - start
    start = time.perf_counter()
    program = tc.compile(simplified, simplify=False)
    times["compile"] = time.perf_counter() - start
    rng = np.random.default_rng(depth)
    values = {W.name: rng.standard_normal((WIDTH, WIDTH)) / math.sqrt(WIDTH) for W in weights}
    values.update(X=rng.standard_normal((WIDTH, BATCH)), Y=rng.standard_normal((WIDTH, BATCH)))
    start = time.perf_counter()
    outputs = program(values)
    times["first call"] = time.perf_counter() - start
    check_close(f"depth {depth}", list(outputs), _deep_mlp_numpy(values, depth))
    times["total"] = sum(times.values())
    return times


def _deep_mlp_numpy(values: dict, depth: int) -> list:
    activations = [values["X"]]
    for layer in range(depth):
        activations.append(np.tanh(values[f"W{layer}"] @ activations[-1]))
    residual = activations[-1] - values["Y"]
    adjoint, gradients = 2 * residual, []
    for layer in reversed(range(depth)):
        local = adjoint * (1 - activations[layer + 1] ** 2)
        gradients.append(local @ activations[layer].T)
        adjoint = values[f"W{layer}"].T @ local
    return [float(np.sum(residual ** 2))] + gradients[::-1]


def deep_mlp_jax(depth: int) -> float:
    """Seconds of ``jax.jit(jax.value_and_grad)``'s first call (trace + XLA compile + run) on the
    same L-layer tanh MLP, its values checked against numpy's backprop."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(depth)
    values = {f"W{layer}": rng.standard_normal((WIDTH, WIDTH)) / math.sqrt(WIDTH)
              for layer in range(depth)}
    values.update(X=rng.standard_normal((WIDTH, BATCH)), Y=rng.standard_normal((WIDTH, BATCH)))

    def loss(weights, X, Y):
        a = X
        for W in weights:
            a = jnp.tanh(W @ a)
        return jnp.sum((a - Y) ** 2)

    weights = [values[f"W{layer}"] for layer in range(depth)]
    start = time.perf_counter()
    value, gradients = jax.jit(jax.value_and_grad(loss))(weights, values["X"], values["Y"])
    gradients = [np.asarray(g) for g in gradients]  # waits for the device
    seconds = time.perf_counter() - start
    check_close(f"depth {depth}: jax", [float(value)] + gradients, _deep_mlp_numpy(values, depth))
    return seconds


def slope(depths, seconds) -> float:
    """The least-squares slope of log(seconds) against log(depth)."""
    x, y = np.log(np.asarray(depths, float)), np.log(np.asarray(seconds, float))
    return float(np.polyfit(x, y, 1)[0])


def first_gradient(workload, use_jax: bool, budget: float) -> dict:
    """Cold build + grad + compile + first call, then the best warm call, for tensorcalc and jax."""
    tc.clear_cache()
    expected = workload.numpy_grad(**workload.data)
    start = time.perf_counter()
    loss, params = workload.tc_loss()
    program = tc.compile([loss, *tc.grad(loss, params)])
    outputs = program(**workload.data)
    row = {"tensorcalc first": time.perf_counter() - start}
    check_close(f"{workload.label}: tensorcalc", list(outputs), expected)
    row["tensorcalc warm"] = time_call(lambda: program(**workload.data), budget=budget).best
    if use_jax:
        start = time.perf_counter()
        call, to_numpy = jax_system(workload)  # jit traces and compiles on the first call
        outputs = call()
        row["jax first"] = time.perf_counter() - start
        check_close(f"{workload.label}: jax", to_numpy(outputs), expected)
        row["jax warm"] = time_call(call, budget=budget).best
    return row


def depth_plot(depths, stages: dict) -> str | None:
    """Log-log lines of each stage's seconds against depth, with a slope-1 guide:
    benchmarks/results/compile_time.png."""
    plt = matplotlib_pyplot()
    if plt is None:
        return None
    figure, ax = plt.subplots(figsize=(6.4, 4.4))
    for n, (name, seconds) in enumerate(stages.items()):
        ax.loglog(depths, seconds, marker="o", color=f"C{n}", label=name)
    total = stages["total"]
    ax.loglog([depths[0], depths[-1]], [total[-1] * depths[0] / depths[-1], total[-1]],
              linestyle=":", color="grey", label="slope 1 (linear)")
    ax.set_xlabel("depth L (layers)")
    ax.set_ylabel("seconds (one cold run)")
    ax.set_title("tc.grad + tc.compile of an L-layer tanh MLP", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return save_figure(plt, figure, "compile_time.png")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="depths up to 200, smallest sizes")
    parser.add_argument("--depths", default="", help="comma-separated depths, say 1000,3000,10000")
    parser.add_argument("--depth-only", action="store_true", help="skip the first-gradient table")
    parser.add_argument("--jax-depths", default="2,400",
                        help="depths at which the deep MLP's first gradient is also timed with "
                             "jax.jit (comma-separated; empty: none)")
    args = parse_benchmark_arguments(parser, argv, quick_budget=0.3)
    started = time.perf_counter()
    quiet = QuietWaiter(total=args.wait)
    depths = (10, 20, 50, 100, 200) if args.quick else (10, 20, 50, 100, 200, 500, 1_000)
    if args.depths:
        depths = tuple(int(d) for d in args.depths.split(","))
    rows, totals, stages = [], [], {"grad": [], "simplify": [], "compile": [], "first call": [],
                                    "total": []}
    for n, depth in enumerate(depths, 1):
        quiet()
        times = deep_mlp(depth)
        totals.append(times["total"])
        for stage, seconds in stages.items():
            seconds.append(times[stage])
        rows.append([f"{depth:,}"] + [format_time(times[k]) for k in
                                       ("build", "grad", "simplify", "compile", "first call",
                                        "total")]
                    + [format_time(times["total"] / depth)])
        print(f"  [{n}/{len(depths)}] depth {depth:,}: {times['total']:.3g} s", file=sys.stderr,
              flush=True)
    upper = [(d, t) for d, t in zip(depths, totals) if d >= 100]
    version, note = jax_version()
    deep_rows = []
    for depth in ([int(d) for d in args.jax_depths.split(",") if d] if version else []):
        quiet()
        ours = min(deep_mlp(depth)["total"] for _ in range(2 if depth < 100 else 1))
        theirs = deep_mlp_jax(depth)
        deep_rows.append([f"{depth:,}", format_time(ours), format_time(theirs),
                          f"{theirs / ours:.1f}×"])
        print(f"  deep MLP against jax.jit, depth {depth:,}", file=sys.stderr, flush=True)
    first_rows, first_ratios = [], []
    cases = [] if args.depth_only else workloads.standard_workloads(quick=True)
    for n, workload in enumerate(cases, 1):
        quiet()
        row = first_gradient(workload, version is not None, args.budget)
        first_ratios.append({"workload": workload.name, "size": workload.size, **row})
        first_rows.append([workload.name, workload.size] +
                          [format_time(row[k]) if k in row else "—" for k in
                           ("tensorcalc first", "jax first", "tensorcalc warm", "jax warm")])
        print(f"  [{n}/{len(cases)}] first gradient, {workload.label}", file=sys.stderr,
              flush=True)

    print("Compile time against depth: an L-layer tanh MLP (width 8, batch 16), grad for all L "
          "weights; one cold run each\n")
    print(machine_description([version] if version else []))
    if note:
        print(note)
    print()
    print(markdown_table(["L", "build", "grad", "simplify", "compile (plan)", "first call", "total",
                          "per layer"],
                         rows))
    if len(upper) >= 2:
        print(f"\nlog-log slope of the total, L = {upper[0][0]:,} … {upper[-1][0]:,}: "
              f"{slope(*zip(*upper)):.2f} (all depths: {slope(depths, totals):.2f}; 1 is linear)")
    if deep_rows:
        print("\nThe deep MLP's first gradient against jax.jit(jax.value_and_grad)'s first call "
              "(trace + XLA compile + run), one cold run each\n")
        print(markdown_table(["L", "tensorcalc first", "jax.jit first", "sooner"], deep_rows))
    print("\nTime to the first gradient: tensorcalc build + grad + compile + first call, against "
          "jax.jit(jax.value_and_grad)'s first call (trace + compile + run); the best warm call "
          "for scale\n")
    print(markdown_table(["workload", "size", "tensorcalc first", "jax.jit first",
                          "tensorcalc warm", "jax.jit warm"], first_rows))
    if not args.no_plot:
        print("\n" + plot_line(depth_plot(depths, stages)))
        if version:
            print(plot_line(save_ratio_plot(
                first_ratios, ["tensorcalc first"], "Time to the first gradient: tensorcalc (build "
                "+ grad + compile + first call) ÷ jax.jit's first call", "first_gradient.png",
                baseline="jax first")))
    print_closing_lines(quiet, started)


if __name__ == "__main__":
    main()
