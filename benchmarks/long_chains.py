"""Long product chains: parse, build, grad, print and compile of ``x'*A*A*…*A*x``.

    .venv/bin/python benchmarks/long_chains.py                 # N = 100 … 30,000
    .venv/bin/python benchmarks/long_chains.py --quick         # N = 100 … 3,000
    .venv/bin/python benchmarks/long_chains.py --sizes 1000,3000 --limit 20

For each chain length N (A square and x a vector, both of symbolic size n), each phase is
timed apart, in a fresh child process (so that a phase that runs past ``--limit`` seconds is
stopped and shown as ``> limit``, and no cache carries over from a smaller N):

* ``parse``: ``tc.parse`` of the text ``x'*A*A*…*A*x``;
* ``operators``: the same chain built with Python operators, ``y @ B @ B @ … @ y`` (other
  names, so that none of the parsed nodes is reused);
* ``grad``: ``tc.grad`` of the parsed chain with respect to x;
* ``print``: the gradient's matrix form (``tc.matrix_notation``);
* ``compile``: ``tc.compile`` of the gradient and its first call at n = 4 (the value is checked
  against numpy's ``matrix_power``, with A scaled to spectral radius about 1).

The lengths stop growing once a phase runs past the limit.  Each phase is reported as
wall-clock time and as the CPU time of the process (``time.process_time``), which a machine
shared with other jobs disturbs less; the last table gives the log-log slope of each phase's
CPU time between successive lengths (1 is linear, 2 quadratic).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import format_time, machine_description, markdown_table  # noqa: E402

PHASES = ("parse", "operators", "grad", "print", "compile")
SIZES = (100, 300, 1000, 3000, 10000, 30000)
QUICK_SIZES = (100, 300, 1000, 3000)


def chain_text(length: int) -> str:
    return "x'*" + "*".join(["A"] * length) + "*x"


def run_phases(length: int) -> None:
    """The child: time each phase and print one JSON line per phase as soon as it ends."""
    import numpy as np
    import tensorcalc as tc

    clock = {}

    def start():
        clock.update(wall=time.perf_counter(), cpu=time.process_time())

    def stop():
        return {"seconds": time.perf_counter() - clock["wall"], "cpu": time.process_time() - clock["cpu"]}

    def report(phase, elapsed, **extra):
        print(json.dumps({"phase": phase, **elapsed, **extra}), flush=True)

    start()
    chain = tc.parse(chain_text(length))
    report("parse", stop())
    y, B = tc.var("y", ("n",)), tc.var("B", ("n", "n"))  # new names: no node of parse's reused
    start()
    h = y
    for _ in range(length):
        h = h @ B
    built = h @ y
    elapsed = stop()
    same = built is tc.parse(chain_text(length).replace("A", "B").replace("x", "y"))
    report("operators", elapsed, same=same)
    x = tc.var("x", ("n",))
    start()
    gradient = tc.grad(chain, x)
    report("grad", stop())
    start()
    form = tc.matrix_notation(gradient)
    report("print", stop(), form=form)
    rng = np.random.default_rng(0)
    A_value = rng.standard_normal((4, 4))
    A_value /= max(abs(np.linalg.eigvals(A_value)))
    x_value = rng.standard_normal(4)
    start()
    value = tc.compile(gradient)(A=A_value, x=x_value)
    elapsed = stop()
    power = np.linalg.matrix_power(A_value, length)
    expected = (power + power.T) @ x_value
    report("compile", elapsed, correct=bool(np.allclose(value, expected, rtol=1e-8, atol=1e-10)))


def measure(length: int, limit: float) -> dict:
    """Run the phases for one length in a child process; a phase past ``limit`` stops it."""
    child = subprocess.Popen([sys.executable, __file__, "--child", str(length)],
                             stdout=subprocess.PIPE, text=True)
    results = {}
    try:
        for phase in PHASES:
            ready, _, _ = select.select([child.stdout], [], [], limit)
            line = child.stdout.readline() if ready else ""
            if not line:
                results[phase] = {"seconds": None, "over": limit}
                break
            results[phase] = json.loads(line)
    finally:
        child.kill()
        child.wait()
    return results


def cell(result: dict | None, clock: str = "seconds") -> str:
    if result is None:
        return "—"
    if result["seconds"] is None:
        return f"> {result['over']:.0f} s"
    return format_time(result[clock])


def slope(short: dict, long: dict, phase: str, lengths: tuple, clock: str = "cpu") -> str:
    a, b = short.get(phase), long.get(phase)
    if not a or not b or a["seconds"] is None or b["seconds"] is None or not a[clock]:
        return "—"
    return f"{math.log(b[clock] / a[clock]) / math.log(lengths[1] / lengths[0]):.2f}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 100 … 3,000")
    parser.add_argument("--sizes", help="comma-separated chain lengths")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds a phase may take")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        run_phases(args.child)
        return
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else (
        QUICK_SIZES if args.quick else SIZES)
    print(machine_description())
    measured = {}
    for length in sizes:
        print(f"  N = {length:,} …", file=sys.stderr, flush=True)
        measured[length] = results = measure(length, args.limit)
        if any(r["seconds"] is None or r["seconds"] > args.limit for r in results.values()):
            break
    for clock, title in (("seconds", "wall-clock"), ("cpu", "CPU time of the process")):
        rows = [[f"{length:,}", *(cell(measured[length].get(p), clock) for p in PHASES)]
                for length in measured]
        print(f"\n{title}\n\n" + markdown_table(["N", *PHASES], rows))
    lengths = list(measured)
    slopes = [[f"{a:,} → {b:,}", *(slope(measured[a], measured[b], p, (a, b)) for p in PHASES)]
              for a, b in zip(lengths, lengths[1:])]
    if slopes:
        print("\nlog-log slopes of the CPU time\n\n" + markdown_table(["N", *PHASES], slopes))
    for length, results in measured.items():
        form = results.get("print", {}).get("form")
        correct = results.get("compile", {}).get("correct")
        same = results.get("operators", {}).get("same")
        print(f"\nN = {length:,}: gradient {form}; value {'checked' if correct else correct};"
              f" operators build the parsed node: {same}")


if __name__ == "__main__":
    main()
