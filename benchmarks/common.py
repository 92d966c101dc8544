"""Shared helpers for the benchmarks: timing, peak memory, checks, tables, the machine.

>>> t = time_call(lambda: sum(range(100)), repeats=3, budget=0.05)
>>> t.best <= t.median
True
>>> print(markdown_table(["a", "b"], [[1, "x"]]))
| a | b |
| ---: | :--- |
| 1 | x |

Timing and memory are measured on separate runs: ``tracemalloc`` slows every
allocation it records, and numpy reports its array buffers to it, so its peak
is the peak of live numpy data (plus small Python objects) during one call.
"""

from __future__ import annotations

import argparse

import datetime
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

import threads

DASH = "—"


# ---------------------------------------------------------------------------
# Timing


@dataclass(frozen=True)
class Timing:
    """Seconds per call: the best and the median over ``repeats`` repeats of ``number`` calls."""

    best: float
    median: float
    repeats: int
    number: int


def time_call(fn: Callable[[], object], *, repeats: int = 7, budget: float = 1.0,
              min_repeat_time: float = 0.02, warmup: bool = True) -> Timing:
    """Time ``fn()``: one warmup call, then up to ``repeats`` repeats within about ``budget`` seconds.

    Each repeat runs ``fn`` ``number`` times, ``number`` chosen (1, 2, 5, 10, …)
    so that a repeat lasts at least ``min_repeat_time`` (fast calls are then
    not dominated by the clock).  Slow calls get fewer repeats, never fewer than one.
    With ``warmup=False`` the first call counts as a sample (for a function
    that has already run once).
    """
    gc.collect()
    start = time.perf_counter()
    fn()  # warmup: plans, caches, first-touch page faults
    first = time.perf_counter() - start
    if not warmup and first >= budget:
        return Timing(first, first, 1, 1)
    number = 1
    if first < min_repeat_time:  # calibrate like timeit.autorange: 1, 2, 5, 10, 20, … calls
        for candidate in (n * 10 ** e for e in range(7) for n in (1, 2, 5)):
            start = time.perf_counter()
            for _ in range(candidate):
                fn()
            first = (time.perf_counter() - start) / candidate
            number = candidate
            if first * candidate >= min_repeat_time:
                break
    repeats = max(1, min(repeats, int(budget / (first * number))))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return Timing(min(samples), statistics.median(samples), len(samples), number)


def time_interleaved(calls: dict, *, rounds: int = 3, budget: float = 1.0,
                     quiet: Optional[Callable[[], object]] = None) -> dict:
    """Best seconds per call of each of ``calls`` (name → function), timed in alternation.

    ``rounds`` rounds each time every function with ``budget / rounds``
    seconds, ``quiet()`` (say a :class:`QuietWaiter`) first; the best over
    rounds is kept.  Only the first round warms up: a call slower than a
    round's budget is then timed once per round.  A burst of outside load then spoils one round of every
    function rather than all of one function's repeats.

    >>> best = time_interleaved({"a": lambda: None, "b": lambda: None}, rounds=2, budget=0.02)
    >>> sorted(best)
    ['a', 'b']
    """
    best = {}
    for round_ in range(rounds):
        if quiet is not None:
            quiet()
        for name, fn in calls.items():
            seconds = time_call(fn, budget=budget / rounds, warmup=round_ == 0).best
            best[name] = min(seconds, best.get(name, seconds))
    return best


def busy_fraction(interval: float = 0.2) -> float:
    """Share of all cores' time that *other* processes kept busy during ``interval`` seconds.

    Read from /proc/stat, less this process's own CPU time (BLAS threads may
    still spin after a call); 0.0 where /proc/stat is missing.
    """
    def sample():
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
        return fields[3] + fields[4], sum(fields), time.process_time()  # idle + iowait, total

    try:
        idle0, total0, own0 = sample()
        time.sleep(interval)
        idle1, total1, own1 = sample()
        ticks = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0
    total = max(1, total1 - total0)
    busy = (total - (idle1 - idle0)) - (own1 - own0) * ticks
    return min(1.0, max(0.0, busy / total))


class QuietWaiter:
    """Before each measurement, wait for other processes to leave the CPUs mostly idle.

    Timings on a 2-core machine shared with a busy process are noise (BLAS
    threads wait on each other).  Each call waits while more than
    ``threshold`` of the CPU time goes to others (by default a quarter, plus
    the cores that ``--threads`` leaves unused), spending at most ``total``
    seconds over all calls; it says on stderr when it waited or gave up.
    """

    def __init__(self, total: float = 120.0, threshold: Optional[float] = None):
        if threshold is None:  # with --threads N, other work may keep the other cores busy
            limited = os.environ.get("OPENBLAS_NUM_THREADS")
            cores = os.cpu_count() or 1
            spare = (cores - int(limited)) / cores if limited and int(limited) < cores else 0.0
            threshold = 0.25 + spare
        self.left, self.threshold = total, threshold
        self.noisy = 0  # measurements started on a busy machine

    def __call__(self) -> float:
        busy = busy_fraction(0.1)
        if busy <= self.threshold:
            return busy
        if self.left > 0:
            print(f"  (CPUs {busy:.0%} busy with other work; waiting up to {self.left:.0f} s)",
                  file=sys.stderr, flush=True)
        while busy > self.threshold and self.left > 0:
            start = time.monotonic()
            busy = busy_fraction(1.0)
            self.left -= time.monotonic() - start
        if busy > self.threshold:
            self.noisy += 1
            print(f"  ({busy:.0%} busy; measuring anyway: expect noise)", file=sys.stderr, flush=True)
        return busy


# ---------------------------------------------------------------------------
# Memory


def peak_memory(fn: Callable[[], object]) -> int:
    """Peak bytes traced (numpy buffers included) during one call of ``fn``, the result included.

    Call ``fn`` once beforehand so that one-time planning is not counted.
    """
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return max(0, peak - base)


# ---------------------------------------------------------------------------
# Checks


def check_close(label: str, got: Sequence, expected: Sequence, rtol: float = 1e-6,
                atol: float = 1e-9) -> None:
    """Assert that two lists of outputs agree entry by entry (np.allclose), naming the first mismatch."""
    if len(got) != len(expected):
        raise AssertionError(f"{label}: {len(got)} outputs, expected {len(expected)}")
    for n, (a, b) in enumerate(zip(got, expected)):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        if a.shape != b.shape:
            raise AssertionError(f"{label}: output {n} has shape {a.shape}, expected {b.shape}")
        if not np.allclose(a, b, rtol=rtol, atol=atol):
            worst = float(np.max(np.abs(a - b)))
            raise AssertionError(f"{label}: output {n} differs (max abs difference {worst:.3g})")


# ---------------------------------------------------------------------------
# Formatting


def format_time(seconds) -> str:
    """``1.23 ms``-style; ``—`` for None."""
    if seconds is None:
        return DASH
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_bytes(n) -> str:
    """``12.3 MiB``-style; ``—`` for None."""
    if n is None:
        return DASH
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{int(n)} B" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def format_ratio(numerator, denominator, prefix: str = "") -> str:
    """``12.3×``; ``—`` when either side is missing."""
    if numerator is None or denominator is None or denominator == 0:
        return DASH
    ratio = numerator / denominator
    digits = f"{ratio:.3g}" if ratio < 1000 else f"{ratio:,.0f}"
    return f"{prefix}{digits}×"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A GitHub-flavoured markdown table, numeric columns right-aligned."""
    rows = [[str(cell) for cell in row] for row in rows]
    align = []
    for column in range(len(headers)):
        numeric = all(_looks_numeric(row[column]) for row in rows) if rows else True
        align.append("---:" if numeric else ":---")
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def ratio_table(rows: Sequence[dict], systems: Sequence[str]) -> str:
    """A markdown table of ``rows`` (``workload``, ``size``, ``numpy`` and one time per system),
    each system's time followed by its ratio to numpy; ``—`` where a system did not run."""
    headers = ["workload", "size", "numpy"] + [f"{name} (÷ numpy)" for name in systems]
    body = []
    for r in rows:
        cells = [r["workload"], r["size"], format_time(r["numpy"])]
        for name in systems:
            value = r.get(name)
            cells.append(DASH if value is None else
                         f"{format_time(value)} ({format_ratio(value, r['numpy'])})")
        body.append(cells)
    return markdown_table(headers, body)


def _looks_numeric(cell: str) -> bool:
    return cell == DASH or cell[:1].isdigit() or cell[:1] in "~≥<>"


# ---------------------------------------------------------------------------
# The machine


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_description(extra: Sequence[str] = ()) -> str:
    """One line: date, platform, CPU, cores, Python, numpy, any ``extra`` versions, the load."""
    parts = [
        datetime.date.today().isoformat(),
        platform.platform(terse=True),
        f"{cpu_model()} ({os.cpu_count()} cores)",
        f"Python {platform.python_version()}",
        f"numpy {np.__version__}",
        tensorcalc_revision(),
        *extra,
        threads.describe(),
        f"load average {os.getloadavg()[0]:.2f}",
    ]
    return ", ".join(parts)


def tensorcalc_revision() -> str:
    """``tensorcalc <commit>`` (``+local changes`` when tensorcalc/ differs from it), if in git."""
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "tensorcalc"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "tensorcalc (no git)"
    if not commit:
        return "tensorcalc (no git)"
    return f"tensorcalc {commit}" + (" + local changes" if dirty else "")


def matplotlib_pyplot():
    """``matplotlib.pyplot`` with the Agg backend, or None when matplotlib is missing."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def save_ratio_plot(rows: Sequence[dict], systems: Sequence[str], title: str, path: str, *,
                    baseline: Optional[str] = "numpy") -> Optional[str]:
    """Save a bar chart of each system's ratio to ``baseline`` per workload and size (PNG).

    ``rows`` and ``systems`` are those of :func:`ratio_table`: each row has
    ``workload``, ``size``, ``baseline`` and one time per system (None or
    missing where a system did not run: no bar).  With ``baseline=None`` the
    rows' values are ratios already.  Bars start at 1× on a log axis, up where
    a system is slower than the baseline, down where it is faster, each
    labelled with its ratio.  A relative ``path`` is taken under
    ``benchmarks/results/`` (created if missing).  Returns the path written,
    or None when matplotlib is not importable.
    """
    plt = matplotlib_pyplot()
    if plt is None:
        return None
    from matplotlib.ticker import FuncFormatter, LogLocator

    groups = [f"{r['workload']}\n{r['size']}" for r in rows]
    slot = 1.0 / (len(systems) + 1)  # one bar per system, a gap of one bar between groups
    figure, ax = plt.subplots(figsize=(min(20.0, max(7.0, 0.32 * len(rows) * (len(systems) + 1)
                                                     + 2.0)), 4.8))
    ratios = []
    for n, name in enumerate(systems):
        points = []
        for g, r in enumerate(rows):
            value = r.get(name)
            if value is None or (baseline is not None and not r.get(baseline)):
                continue
            points.append((g + (n - (len(systems) - 1) / 2) * slot,
                           value if baseline is None else value / r[baseline]))
        if not points:
            continue
        xs, ys = zip(*points)
        ratios += ys
        bars = ax.bar(xs, [y - 1.0 for y in ys], width=slot * 0.9, bottom=1.0,
                      color=f"C{n}", label=name)
        for bar, y in zip(bars, ys):
            ax.annotate(f"{y:.3g}×" if y < 1000 else f"{y:,.0f}×",
                        (bar.get_x() + bar.get_width() / 2, y), xytext=(0, 2 if y >= 1 else -2),
                        textcoords="offset points", ha="center", va="bottom" if y >= 1 else "top",
                        fontsize=7, rotation=90)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    if ratios:  # room for the labels above the tallest and below the shortest bar
        low, high = min(min(ratios), 1.0), max(max(ratios), 1.0)
        margin = 10 ** max(0.28, 0.2 * np.log10(high / low))
        ax.set_ylim(low / margin, high * margin)
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_minor_locator(LogLocator(base=10, subs="auto"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}×"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda y, _: ""))
    ax.set_ylabel("ratio" if baseline is None else f"time ÷ {baseline} (lower is better)")
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(groups, fontsize=8)
    ax.set_xlim(-0.5, len(rows) - 0.5)
    for g in range(1, len(rows)):
        if rows[g]["workload"] != rows[g - 1]["workload"]:  # a line between workloads
            ax.axvline(g - 0.5, color="grey", linewidth=0.6, alpha=0.5)
    ax.grid(True, axis="y", which="major", alpha=0.3)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize="small", ncol=min(len(systems), 5), loc="best")
    return save_figure(plt, figure, path)


def save_figure(plt, figure, path: str) -> str:
    """Lay out, save (PNG, 110 dpi; a relative ``path`` under ``benchmarks/results/``, made
    if missing) and close ``figure``; the path written."""
    path = path if os.path.isabs(path) else os.path.join(RESULTS_DIR, path)
    figure.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_line(path: Optional[str]) -> str:
    """What a script prints after :func:`save_ratio_plot`: where the plot went, or why there is none."""
    if path is None:
        return "(matplotlib not importable: no plot)"
    return f"plot: {os.path.relpath(path)}"


def progress(items, label: Callable[[object], str] = str):
    """Yield each of ``items``; when the loop body for one is done, print on stderr
    ``  [3/12] <label(item)> … 1.2 s`` (its position, the total and its seconds)."""
    items = list(items)
    for n, item in enumerate(items, 1):
        start = time.perf_counter()
        yield item
        print(f"  [{n}/{len(items)}] {label(item)} … {time.perf_counter() - start:.1f} s",
              file=sys.stderr, flush=True)


def jax_version() -> tuple:
    """``("jax X.Y", None)`` with jax's x64 mode on (every table is float64), or
    ``(None, "JAX skipped: …")`` when jax is not importable."""
    try:
        import jax
    except ImportError as error:
        return None, f"JAX skipped: not importable ({error})"
    jax.config.update("jax_enable_x64", True)
    return f"jax {jax.__version__}", None


def parse_benchmark_arguments(parser, argv, quick_budget: float):
    """Add the options every benchmark shares, parse, and fill in the defaults.

    ``--budget`` (seconds of timing per system and size), ``--threads`` (BLAS,
    OpenMP, torch and XLA threads), ``--no-plot`` and ``--wait`` (seconds in
    all to wait for a busy machine to go quiet).
    """
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds of timing per system and size, over 3 interleaved rounds "
                             f"(default 1, {quick_budget:g} with --quick)")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit BLAS/OpenMP/torch/XLA threads (1 is stable on a busy machine)")
    if not any(a.dest == "no_plot" for a in parser._actions):
        parser.add_argument("--no-plot", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--wait", type=float, default=None,
                        help="seconds in all to wait for a busy machine to go quiet "
                             "(default 120, 5 with --quick)")
    args = parser.parse_args(argv)
    if args.wait is None:
        args.wait = 5.0 if args.quick else 120.0
    if args.budget is None:
        args.budget = quick_budget if args.quick else 1.0
    return args


def print_closing_lines(quiet, started: float) -> None:
    """The noise warning (when measurements ran on a busy machine) and the run time."""
    if quiet.noisy:
        print(f"\nWarning: {quiet.noisy} measurements started while other processes kept the "
              "CPUs busy; their times are unreliable.")
    print(f"\n({time.perf_counter() - started:.0f} s)", file=sys.stderr)
