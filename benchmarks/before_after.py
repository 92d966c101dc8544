"""Issue 20's cases, timed against hand-written numpy in two checkouts of tensorcalc in one run.

    .venv/bin/python benchmarks/before_after.py --before /path/to/old/checkout
    .venv/bin/python benchmarks/before_after.py --before DIR --after DIR --runs 4 --rounds 9

Each run is a fresh process per checkout (``--measure ROOT``: that checkout's ``tensorcalc``
and ``benchmarks/``), the two alternating ``--runs`` times, one BLAS thread.  In a process,
each case is timed in ``--rounds`` rounds, numpy and tensorcalc one after the other, each the
best of five repeats of about 4 ms (the least disturbed by other work); a round gives the ratio
tensorcalc ÷ numpy.  The table gives, per checkout, the median of all rounds of all runs and
their range, which is how noisy the machine was.  Values are checked against numpy first.

The cases: the tiny workloads (least squares 10×5 also in float32, called after float64 on
one program), the gradient of xᵀAx in float64 then float32 on one program, softmax regression
and ridge from ``vocabulary.py``, and ``2 U Uᵀ`` (syrk).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import timeit

HERE = os.path.dirname(os.path.abspath(__file__))


def ratios(numpy_call, tc_call, rounds: int, expected=None) -> dict:
    import numpy as np

    for _ in range(3):  # plans, writes the fast path, runs it
        numpy_call()
        got = tc_call()
    got = got if isinstance(got, (tuple, list)) else [got]  # a program of one expression
    for value, want in zip(got if expected is not None else (), expected or ()):
        np.testing.assert_allclose(np.asarray(value, np.float64), np.asarray(want, np.float64),
                                   rtol=2e-3, atol=1e-3)
    numbers = [_number(call) for call in (numpy_call, tc_call)]
    found, base = [], []
    gc.disable()
    for _ in range(rounds):
        a, b = (min(timeit.repeat(call, number=n, repeat=5)) / n
                for call, n in zip((numpy_call, tc_call), numbers))
        found.append(b / a)
        base.append(a)
    gc.enable()
    return {"ratios": found, "numpy_s": statistics.median(base)}


def _number(call, target: float = 0.004) -> int:
    n = 1
    while (seconds := timeit.timeit(call, number=n)) < target / 4 and n < 10 ** 6:
        n *= 4
    return max(1, int(n * target / max(seconds, 1e-9)))


def measure(root: str, rounds: int) -> dict:
    """Every case in the checkout at ``root`` (imported from there)."""
    sys.path[:0] = [root, os.path.join(root, "benchmarks")]
    import numpy as np

    import tensorcalc as tc
    import vocabulary
    import workloads

    results = {}

    def workload(label, w, dtypes=(np.float64,)):
        loss, params = w.tc_loss()
        program = tc.compile([loss, *tc.grad(loss, params)])
        for dtype in dtypes:  # one program: float64 first, then float32
            data = {k: v.astype(dtype) for k, v in w.data.items()}
            expected = w.numpy_grad(**{k: v.astype(np.float64) for k, v in data.items()})
            results[f"{label}, {np.dtype(dtype).name}"] = ratios(
                lambda: w.numpy_grad(**data), lambda: program(**data), rounds, expected)

    workload("least squares 10×5", workloads.least_squares(10, 5), (np.float64, np.float32))
    workload("logistic regression 20×5", workloads.logistic_regression(20, 5))
    workload("MLP 2-layer, width 8, batch 4", workloads.mlp(8, batch=4))
    A, x = tc.var("A", ("n", "n")), tc.var("x", ("n",))
    quadratic = tc.compile(tc.grad(tc.einsum("i,ij,j->", x, A, x), x))
    for dtype in (np.float64, np.float32):  # one program: float64 first, then float32
        for n in (100, 1000):
            rng = np.random.default_rng(0)
            Av, xv = (rng.standard_normal(s).astype(dtype) for s in ((n, n), n))
            results[f"∇ xᵀAx, n = {n}, {np.dtype(dtype).name}"] = ratios(
                lambda: Av @ xv + Av.T @ xv, lambda: quadratic(A=Av, x=xv), rounds,
                [Av.astype(np.float64) @ xv + Av.T.astype(np.float64) @ xv])
    for features, batch in ((5, 8), (100, 1000), (500, 1000)):
        case = vocabulary.softmax_regression(features, batch=batch)
        program = tc.compile(case.tensorcalc["tensorcalc"]())
        results[f"softmax regression, 10 classes, {features} features, batch {batch}"] = ratios(
            lambda: case.numpy(**case.data), lambda: program(**case.data), rounds,
            case.numpy(**case.data))
    case = vocabulary.ridge(5000, 200)
    program = tc.compile(case.tensorcalc["tensorcalc"]())
    results["ridge gradient + Hessian, 5000×200"] = ratios(
        lambda: case.numpy(**case.data), lambda: program(**case.data), rounds,
        case.numpy(**case.data))
    U = tc.var("U", ("m", "k"))
    Uv = np.random.default_rng(1).standard_normal((1000, 100))
    gram = tc.compile(2 * U @ U.T)
    results["2 U Uᵀ, U 1000×100"] = ratios(lambda: 2.0 * (Uv @ Uv.T), lambda: gram(U=Uv),
                                          rounds, [2.0 * (Uv @ Uv.T)])
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", help="the checkout to compare against")
    parser.add_argument("--after", default=os.path.dirname(HERE), help="(this checkout)")
    parser.add_argument("--runs", type=int, default=3, help="processes per checkout (3)")
    parser.add_argument("--rounds", type=int, default=9, help="rounds per case and process (9)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # the child: one checkout
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.rounds)))
        return
    checkouts = {"before": args.before, "after": args.after}
    environment = dict(os.environ, PYTHONPATH="", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                       MKL_NUM_THREADS="1")
    pooled: dict = {name: {} for name in checkouts}
    loads = []
    for run in range(args.runs):
        for name, root in checkouts.items():
            loads.append(os.getloadavg()[0])
            child = subprocess.run([sys.executable, os.path.abspath(__file__), "--measure", root,
                                    "--rounds", str(args.rounds)], env=environment, cwd="/",
                                   capture_output=True, text=True, check=True)
            for case, found in json.loads(child.stdout).items():
                pooled[name].setdefault(case, []).append(found)
            print(f"run {run + 1}/{args.runs}: {name} done (load {loads[-1]:.1f})",
                  file=sys.stderr, flush=True)
    print(f"ratio to hand-written numpy: median of {args.runs} × {args.rounds} rounds (range); "
          f"load average {min(loads):.1f}–{max(loads):.1f}\n")
    print("| case | numpy | before | after |\n| :--- | ---: | ---: | ---: |")
    for case, found in pooled["after"].items():
        seconds = statistics.median(f["numpy_s"] for f in found)
        cells = []
        for name in checkouts:
            values = [r for f in pooled[name][case] for r in f["ratios"]]
            cells.append(f"{statistics.median(values):.2f}× ({min(values):.2f}–{max(values):.2f})")
        time = f"{seconds * 1e6:.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"
        print(f"| {case} | {time} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
