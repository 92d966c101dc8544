"""Out of core on dask: a least-squares gradient whose operand is larger than the workers' memory.

    .venv/bin/pip install -e ".[dask,bench]"                 # dask[array] and distributed
    .venv/bin/python benchmarks/dask_memory.py --quick       # X 0.5 GiB, one worker limited to 0.25 GiB
    .venv/bin/python benchmarks/dask_memory.py               # X 4 GiB, two workers, 1 GiB each

``L = sum((X @ w - y)²)`` and ``∂L/∂w`` compiled once with
``tc.compile([L, tc.grad(L, w)], backend="dask")`` and computed in one
``dask.compute`` on a ``dask.distributed.LocalCluster`` of worker *processes*
whose ``memory_limit`` adds up to ``--limit`` GiB.  ``X`` (``--rows`` ×
``--cols`` float64, 2,097,152 × 256 = 4 GiB by default) and ``y`` are never
held whole anywhere: each row block is generated on a worker from its own
seed (``numpy.random.default_rng([seed, block, 0])``), so that numpy can
regenerate any block on its own.  A worker's nanny pauses it at 80% of its
limit and kills it at 95%, so a run that completes with no worker restarted
stayed under the limit; the table gives each worker's peak resident memory
(``ru_maxrss`` of the worker process, started fresh for the run) and what it
spilled to disk.

Two checks against plain numpy (the script stops on a mismatch, ``np.allclose``):

* *subset*: the same compiled program on the first ``--check-blocks`` row
  blocks against numpy on those blocks, materialized;
* *full*: the full result against a numpy accumulation over the blocks,
  one block at a time (``Σ rᵢ·rᵢ`` and ``Σ 2 Xᵢᵀ rᵢ``), so that numpy never holds
  ``X`` whole either (``--no-full-check`` skips it: it regenerates all of ``X``
  in this process, single-threaded).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import threads  # noqa: E402,F401 - applies --threads before numpy is imported

import numpy as np  # noqa: E402

import tensorcalc as tc  # noqa: E402
from common import (check_close, format_bytes, format_time, machine_description,  # noqa: E402
                    markdown_table)

GiB = 2 ** 30
FULL = {"rows": 2 ** 21, "cols": 256, "limit": 2.0, "workers": 2, "block_mib": 64}
QUICK = {"rows": 2 ** 18, "cols": 256, "limit": 0.25, "workers": 1, "block_mib": 8}


# ---------------------------------------------------------------------------
# The data: one seed per row block, so that numpy can regenerate any block


def numpy_block(seed: int, block: int, rows: int, cols: int) -> tuple:
    """``(X block, y block)`` of row block ``block``, as numpy arrays."""
    X = np.random.default_rng([seed, block, 0]).standard_normal((rows, cols))
    y = np.random.default_rng([seed, block, 1]).standard_normal(rows)
    return X, y


def _x_block(seed, cols, block_info=None):
    (block, _), (rows, _) = block_info[None]["chunk-location"], block_info[None]["chunk-shape"]
    return numpy_block(seed, block, rows, cols)[0]


def _y_block(seed, block_info=None):
    (block,), (rows,) = block_info[None]["chunk-location"], block_info[None]["chunk-shape"]
    return np.random.default_rng([seed, block, 1]).standard_normal(rows)


def block_rows(rows: int, cols: int, block_mib: float) -> tuple:
    """The row-block sizes: blocks of about ``block_mib`` MiB of X, the last one shorter."""
    size = max(1, int(block_mib * 2 ** 20) // (cols * 8))
    return (size,) * (rows // size) + ((rows % size,) if rows % size else ())


def problem(rows: int, cols: int, block_mib: float, seed: int = 0) -> tuple:
    """``(X, y, w)``: X and y lazy dask arrays, generated block by block; w a numpy vector."""
    import dask.array as da

    chunks = block_rows(rows, cols, block_mib)
    X = da.map_blocks(_x_block, seed, cols, chunks=(chunks, (cols,)), dtype=np.float64,
                      meta=np.empty((0, 0)))
    y = da.map_blocks(_y_block, seed, chunks=(chunks,), dtype=np.float64, meta=np.empty(0))
    w = np.random.default_rng(seed + 1).standard_normal(cols) / np.sqrt(cols)
    return X, y, w


def least_squares_program():
    """``tc.compile([L, ∂L/∂w], backend="dask")`` for ``L = sum((X @ w - y)²)``."""
    X, w, y = tc.var("X", ("m", "k")), tc.var("w", ("k",)), tc.var("y", ("m",))
    L = tc.sum((X @ w - y) ** 2)
    return tc.compile([L, tc.grad(L, w)], backend="dask")


def numpy_least_squares(X, y, w) -> list:
    r = X @ w - y
    return [r @ r, 2.0 * (r @ X)]


def numpy_by_blocks(seed: int, chunks: tuple, cols: int, w, blocks=None) -> list:
    """Loss and gradient accumulated over row blocks (the first ``blocks``, or all), one at a time."""
    loss, grad = 0.0, np.zeros(cols)
    for block, rows in enumerate(chunks[:blocks]):
        value, g = numpy_least_squares(*numpy_block(seed, block, rows, cols), w)
        loss, grad = loss + value, grad + g
    return [loss, grad]


# ---------------------------------------------------------------------------
# The workers


def _worker_memory(dask_worker) -> dict:
    """This worker process's peak resident bytes, its pid and the bytes it spilled to disk."""
    import os as _os
    import resource as _resource

    metrics = getattr(dask_worker.data, "cumulative_metrics", {})
    spilled = sum(v for (label, unit), v in metrics.items()
                  if label == "disk-write" and unit == "bytes")
    return {"peak": _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss * 1024,
            "pid": _os.getpid(), "spilled": spilled}


def max_abs_difference(got, expected) -> float:
    return max(float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))))
               for a, b in zip(got, expected))


def run(rows: int, cols: int, limit: float, workers: int, block_mib: float, check_blocks: int,
        full_check: bool, seed: int = 0) -> dict:
    """Start the cluster, compute, check; a dict of what the table shows."""
    import cloudpickle
    import dask
    from distributed import Client, LocalCluster

    if __name__ != "__main__":  # imported (say by a test): workers cannot import this module
        cloudpickle.register_pickle_by_value(sys.modules[__name__])
    per_worker = int(limit * GiB / workers)
    program = least_squares_program()
    X, y, w = problem(rows, cols, block_mib, seed)
    chunks = X.chunks[0]
    started = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      memory_limit=per_worker, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        startup = time.perf_counter() - started
        pids = {k: v["pid"] for k, v in client.run(_worker_memory).items()}
        start = time.perf_counter()
        loss, grad = dask.compute(*program(X=X, w=w, y=y))
        wall = time.perf_counter() - start
        after = client.run(_worker_memory)
        restarted = sorted(set(pids.values()) ^ {v["pid"] for v in after.values()})
        k = min(check_blocks, len(chunks))
        subset_rows = sum(chunks[:k])
        subset = dask.compute(*program(X=X[:subset_rows], w=w, y=y[:subset_rows]))
    X_subset, y_subset = (np.concatenate(parts) for parts in zip(
        *(numpy_block(seed, b, chunks[b], cols) for b in range(k))))
    subset_expected = numpy_least_squares(X_subset, y_subset, w)
    del X_subset, y_subset
    check_close(f"first {k} blocks: dask vs numpy", list(subset), subset_expected)
    full_expected = numpy_by_blocks(seed, chunks, cols, w) if full_check else None
    if full_expected is not None:
        check_close("full: dask vs numpy by blocks", [loss, grad], full_expected)
    return {
        "rows": rows, "cols": cols, "blocks": len(chunks), "block_rows": chunks[0],
        "limit": limit * GiB, "workers": workers, "per_worker": per_worker,
        "peaks": sorted(v["peak"] for v in after.values()),
        "spilled": sum(v["spilled"] for v in after.values()), "restarted": restarted,
        "wall": wall, "startup": startup, "loss": float(loss), "grad": np.asarray(grad),
        "full_diff": None if full_expected is None else max_abs_difference([loss, grad],
                                                                           full_expected),
        "full_rel": None if full_expected is None else abs(float(loss) / full_expected[0] - 1),
        "subset_blocks": k, "subset_diff": max_abs_difference(subset, subset_expected),
        "client_peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def table(r: dict) -> str:
    x_bytes = r["rows"] * r["cols"] * 8
    peaks = ", ".join(format_bytes(p) for p in r["peaks"])
    return markdown_table(
        ["X (rows × cols, float64)", "blocks", "limit (per worker)", "peak worker memory",
         "spilled to disk", "wall time", "max abs diff vs numpy, full (loss, grad)",
         f"max abs diff, first {r['subset_blocks']} blocks"],
        [[f"{r['rows']:,} × {r['cols']} = {format_bytes(x_bytes)}",
          f"{r['blocks']} × {format_bytes(x_bytes / r['blocks'])}",
          f"{format_bytes(r['limit'])} ({r['workers']} × {format_bytes(r['per_worker'])})",
          peaks, format_bytes(r["spilled"]), format_time(r["wall"]),
          "not checked" if r["full_diff"] is None else
          f"{r['full_diff']:.3g} (loss rel. {r['full_rel']:.2g})",
          f"{r['subset_diff']:.3g}"]])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="X 0.5 GiB (262,144 × 256, 8 MiB blocks), one worker limited to 0.25 GiB")
    parser.add_argument("--rows", type=int, default=None, help="rows of X (default 2,097,152)")
    parser.add_argument("--cols", type=int, default=None, help="columns of X (default 256)")
    parser.add_argument("--limit", type=float, default=None,
                        help="GiB of memory_limit in all, split evenly over the workers (default 2)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes, one thread each (default 2, 1 with --quick)")
    parser.add_argument("--block-mib", type=float, default=None,
                        help="MiB of X per row block (default 64, 8 with --quick)")
    parser.add_argument("--check-blocks", type=int, default=4,
                        help="row blocks in the subset checked against materialized numpy")
    parser.add_argument("--no-full-check", action="store_true",
                        help="skip the block-by-block numpy check of the full result")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit BLAS threads in this process (workers always use one)")
    args = parser.parse_args(argv)
    settings = dict(QUICK if args.quick else FULL)
    for name in settings:
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    try:
        import distributed
    except ImportError as error:
        sys.exit(f"dask_memory.py needs dask.distributed ({error}): "
                 '.venv/bin/pip install -e ".[dask,bench]"')
    started = time.perf_counter()
    print(f"  X {settings['rows']:,} × {settings['cols']}, {settings['workers']} worker(s), "
          f"limit {settings['limit']:g} GiB …", file=sys.stderr, flush=True)
    result = run(settings["rows"], settings["cols"], settings["limit"], settings["workers"],
                 settings["block_mib"], args.check_blocks, not args.no_full_check)
    print(f"  computed in {result['wall']:.1f} s; checked against numpy", file=sys.stderr,
          flush=True)
    import dask

    print('L = sum((X @ w - y)²) and ∂L/∂w, tc.compile(..., backend="dask"), one dask.compute '
          "on a LocalCluster of worker processes (one thread each)\n")
    print(machine_description([f"dask {dask.__version__}",
                               f"distributed {distributed.__version__}"]))
    print()
    print(table(result))
    print(f"\nloss {result['loss']:.10g}; peak worker memory: ru_maxrss of each worker process; "
          f"cluster start {result['startup']:.1f} s (not in the wall time); this process's peak "
          f"{format_bytes(result['client_peak'])} (the subset check materializes "
          f"{result['subset_blocks']} blocks here)")
    if result["restarted"]:
        print(f"Warning: worker processes changed during the run (pids {result['restarted']}): "
              "a worker was restarted, probably for passing its memory limit.")
    print(f"\n({time.perf_counter() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
