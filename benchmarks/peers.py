"""tensorcalc vs JAX, PyTorch and HIPS autograd, all against hand-written numpy, in one run.

    .venv/bin/pip install jax jaxlib autograd torch==2.13.0   # once (a CPU build of torch)
    .venv/bin/python benchmarks/peers.py            # small, medium and large sizes
    .venv/bin/python benchmarks/peers.py --quick    # small and medium only
    .venv/bin/python benchmarks/peers.py --jax-backend --threads 1   # tc's jax backend vs jax

The workloads and data are those of ``vs_numpy.py``.  Each system computes
the loss and the gradient of every parameter in one call, in float64:

* **tensorcalc** – ``tc.compile([L, *tc.grad(L, params)])``;
* **JAX** – ``jax.jit(jax.value_and_grad(loss))`` with ``jax_enable_x64``, the
  result waited for with ``block_until_ready``; compilation happens in the
  warmup call and is not timed;
* **PyTorch** – eager autograd: the loss, then ``torch.autograd.grad``;
* **tc on torch** – ``tc.compile(..., backend="torch")``: tensorcalc's plan run with torch's
  kernels on torch tensors (next to torch's own autograd on the same tensors);
* **autograd** – HIPS ``autograd.value_and_grad``.

Each result is checked against numpy before it is timed.  A system that is not
importable is skipped with a note.  The table gives the best time per call
over three rounds that alternate the systems (a burst of outside load then
spoils no single column) and, in brackets, its ratio to hand-written numpy
(lower is better).  The ratios are also saved as a bar chart,
``benchmarks/results/peers.png`` (``peers_jax_backend.png`` with ``--jax-backend``;
``--no-plot``: none).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import threads  # noqa: E402,F401 - applies --threads before numpy is imported

import numpy as np  # noqa: E402

import tensorcalc as tc  # noqa: E402
from common import (parse_benchmark_arguments, print_closing_lines, QuietWaiter, check_close, format_ratio, format_time, ratio_table,  # noqa: E402
                    machine_description, markdown_table, plot_line, progress, save_ratio_plot,
                    time_interleaved)
from workloads import standard_workloads  # noqa: E402


def _split(workload):
    params = workload.params
    rest = {k: v for k, v in workload.data.items() if k not in params}
    return params, rest


# ---------------------------------------------------------------------------
# One builder per system: workload -> (call, to_numpy), or raise ImportError


def tensorcalc_system(workload):
    loss, params = workload.tc_loss()
    program = tc.compile([loss, *tc.grad(loss, params)])
    data = workload.data
    return (lambda: program(**data)), list


def jax_system(workload):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    ops = SimpleNamespace(tanh=jnp.tanh, sum=jnp.sum, mean=jnp.mean, softplus=jax.nn.softplus)
    names, rest = _split(workload)

    def loss(params, data):
        return workload.generic_loss(ops, **dict(zip(names, params)), **data)

    step = jax.jit(jax.value_and_grad(loss))
    params = tuple(jnp.asarray(workload.data[n]) for n in names)
    data = {k: jnp.asarray(v) for k, v in rest.items()}

    def call():
        return jax.block_until_ready(step(params, data))

    return call, lambda out: [np.asarray(out[0]), *(np.asarray(g) for g in out[1])]


def torch_system(workload):
    import torch

    ops = SimpleNamespace(tanh=torch.tanh, sum=torch.sum, mean=torch.mean,
                          softplus=torch.nn.functional.softplus)
    names, rest = _split(workload)
    params = [torch.tensor(workload.data[n], dtype=torch.float64, requires_grad=True) for n in names]
    data = {k: torch.from_numpy(v) for k, v in rest.items()}

    def call():
        value = workload.generic_loss(ops, **dict(zip(names, params)), **data)
        return value, torch.autograd.grad(value, params)

    return call, lambda out: [out[0].detach().numpy(), *(g.numpy() for g in out[1])]


def autograd_system(workload):
    import autograd
    import autograd.numpy as anp

    ops = SimpleNamespace(tanh=anp.tanh, sum=anp.sum, mean=anp.mean,
                          softplus=lambda x: anp.logaddexp(0.0, x))
    names, rest = _split(workload)

    def loss(params):
        return workload.generic_loss(ops, **dict(zip(names, params)), **rest)

    step = autograd.value_and_grad(loss)
    params = tuple(workload.data[n] for n in names)
    return (lambda: step(params)), lambda out: [out[0], *out[1]]


def tensorcalc_torch_system(workload):
    """``tc.compile(..., backend="torch")``: the same plan on torch's kernels, tensors in."""
    import torch

    loss, params = workload.tc_loss()
    program = tc.compile([loss, *tc.grad(loss, params)], backend="torch")
    data = {k: torch.from_numpy(v) for k, v in workload.data.items()}
    return (lambda: program(**data)), lambda out: [o.numpy() for o in out]


SYSTEMS = {"tensorcalc": tensorcalc_system, "JAX": jax_system, "PyTorch": torch_system,
           "tc on torch": tensorcalc_torch_system, "autograd": autograd_system}


def versions() -> tuple:
    """``(available systems, version strings, notes on missing ones)``."""
    available, found, notes = ["tensorcalc"], [], []
    for name, module in (("JAX", "jax"), ("PyTorch", "torch"), ("autograd", "autograd")):
        try:
            imported = __import__(module)
        except ImportError as error:
            notes.append(f"{name} skipped: not importable ({error})")
            continue
        available.append(name)
        if name == "PyTorch":
            available.append("tc on torch")  # tensorcalc's torch backend, beside torch's autograd
        version = getattr(imported, "__version__", None)
        if version is None:
            from importlib.metadata import version as dist_version

            version = dist_version(module)
        found.append(f"{module} {version}")
    if "PyTorch" in available:
        import torch

        found.append(f"torch threads {torch.get_num_threads()}")
    return available, found, notes


def measure(workload, systems: list, budget: float, quiet=None) -> dict:
    expected = workload.numpy_grad(**workload.data)
    calls = {"numpy": lambda: workload.numpy_grad(**workload.data)}
    for name in systems:
        call, to_numpy = SYSTEMS[name](workload)
        check_close(f"{workload.label}: {name} vs numpy", to_numpy(call()), expected)
        calls[name] = call
    best = time_interleaved(calls, budget=budget, quiet=quiet)
    return {"workload": workload.name, "size": workload.size, **best}


def table(rows, systems: list) -> str:
    return ratio_table(rows, systems)


def plot(rows, systems: list) -> str | None:
    """The table's ratios as a bar chart, benchmarks/results/peers.png."""
    return save_ratio_plot(rows, systems, "tensorcalc and its peers: loss + all gradients per "
                           "call, ratio to hand-written numpy", "peers.png")


# ---------------------------------------------------------------------------
# tc.compile(..., backend="jax") against jax.jit(jax.value_and_grad) and jax.jit(jax.hessian)


def jax_backend_workloads(quick: bool) -> list:
    """The MLP at widths 128-1024, least squares, logistic regression and matrix factorization
    (loss + gradients),
    and the Hessian of xᵀAx ("hessian" workloads: ``(label, n)``)."""
    from workloads import least_squares, logistic_regression, matrix_factorization, mlp

    widths = (128, 256) if quick else (128, 256, 512, 1024)
    return ([mlp(w) for w in widths] + [least_squares(1000, 500)]
            + ([] if quick else [least_squares(4000, 2000)])
            + [logistic_regression(5000, 100)]
            + [matrix_factorization(500, 400, 20)]
            + ([] if quick else [matrix_factorization(2000, 1500, 50)])
            + [("Hessian xᵀAx", n) for n in ((1000,) if quick else (1000, 2000))])


def _jax_backend_calls(workload):
    """``(tensorcalc on jax, jax.jit, expected values)`` for one workload, all checked."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    if isinstance(workload, tuple):  # the Hessian of xᵀAx: nested grad vs jax.hessian
        _, n = workload
        rng = np.random.default_rng(0)
        A_np, x_np = rng.standard_normal((n, n)), rng.standard_normal(n)
        A, x = tc.var("A", ("n", "n")), tc.var("x", ("n",))
        program = tc.compile(tc.grad(tc.grad(x @ A @ x, x), x), backend="jax")
        hessian = jax.jit(jax.hessian(lambda x, A: x @ A @ x))
        Aj, xj = jnp.asarray(A_np), jnp.asarray(x_np)
        ours = lambda: jax.block_until_ready(program(A=Aj, x=xj))  # noqa: E731
        theirs = lambda: jax.block_until_ready(hessian(xj, Aj))  # noqa: E731
        return ours, theirs, [A_np + A_np.T], lambda out: [np.asarray(out)]
    loss, params = workload.tc_loss()
    program = tc.compile([loss, *tc.grad(loss, params)], backend="jax")
    data = {k: jnp.asarray(v) for k, v in workload.data.items()}
    ours = lambda: jax.block_until_ready(program(**data))  # noqa: E731
    theirs, _ = jax_system(workload)
    expected = workload.numpy_grad(**workload.data)
    return ours, theirs, list(expected), lambda out: [np.asarray(o) for o in out]


JAX_BACKEND = 'tc.compile(backend="jax")'


def _jax_backend_label(workload) -> tuple:
    """``(workload name, size)`` of a jax-backend workload (a Hessian one is ``(label, n)``)."""
    if isinstance(workload, tuple):
        return workload[0], f"n {workload[1]}"
    return workload.name, workload.size


def jax_backend_rows(quick: bool, budget: float, quiet) -> list:
    """One row per workload: ``workload``, ``size``, ``jax`` and ``JAX_BACKEND`` seconds."""
    rows = []
    for workload in progress(jax_backend_workloads(quick),
                             lambda w: ", ".join(_jax_backend_label(w))):
        ours, theirs, expected, to_numpy = _jax_backend_calls(workload)
        label, size = _jax_backend_label(workload)
        check_close(f"{label} {size}: tensorcalc on jax vs numpy", to_numpy(ours()), expected)
        reference = theirs()
        check_close(f"{label} {size}: jax vs numpy", to_numpy(reference) if isinstance(
            workload, tuple) else [np.asarray(reference[0]), *map(np.asarray, reference[1])],
            expected)
        best = time_interleaved({"ours": ours, "jax": theirs}, budget=budget, quiet=quiet)
        rows.append({"workload": label, "size": size, "jax": best["jax"],
                     JAX_BACKEND: best["ours"]})
    return rows


def jax_backend_table(rows) -> str:
    return markdown_table(["workload", "size", "jax.jit(value_and_grad / hessian)",
                           JAX_BACKEND, "ratio (tc ÷ jax)"],
                          [[r["workload"], r["size"], format_time(r["jax"]),
                            format_time(r[JAX_BACKEND]), format_ratio(r[JAX_BACKEND], r["jax"])]
                           for r in rows])


def jax_backend_plot(rows) -> str | None:
    """The jax-backend table's ratios as a bar chart, benchmarks/results/peers_jax_backend.png."""
    return save_ratio_plot(rows, [JAX_BACKEND], "tensorcalc's jax backend vs jax.jit: time "
                           "÷ jax", "peers_jax_backend.png", baseline="jax")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small and medium sizes only")
    parser.add_argument("--jax-backend", action="store_true",
                        help='only tc.compile(..., backend="jax") against jax.jit of '
                             "jax.value_and_grad (and jax.hessian)")
    parser.add_argument("--no-plot", action="store_true",
                        help="print the table only (no benchmarks/results/peers*.png)")
    args = parse_benchmark_arguments(parser, argv, quick_budget=0.2)
    budget = args.budget
    started = time.perf_counter()
    if args.jax_backend:
        quiet = QuietWaiter(total=args.wait)
        _, found, _ = versions()
        rows = jax_backend_rows(args.quick, budget, quiet)
        print("Loss + all gradients (Hessian: the n × n matrix) per call, float64, jax's CPU "
              "backend; best of repeats; compilation not timed\n")
        print(machine_description(found))
        print()
        print(jax_backend_table(rows))
        if not args.no_plot:
            print("\n" + plot_line(jax_backend_plot(rows)))
        print_closing_lines(quiet, started)
        return
    systems, found, notes = versions()
    quiet = QuietWaiter(total=args.wait)
    rows = []
    for workload in progress(standard_workloads(args.quick), lambda w: w.label):
        rows.append(measure(workload, systems, budget, quiet))
    print("Loss + all gradients per call, float64; best of repeats; (ratio to hand-written numpy)\n")
    print(machine_description(found))
    for note in notes:
        print(note)
    print()
    print(table(rows, systems))
    if not args.no_plot:
        print("\n" + plot_line(plot(rows, systems)))
    print_closing_lines(quiet, started)


if __name__ == "__main__":
    main()
