"""numpy source of the indexing rows (registered into
:data:`~tensorcalc.evaluation.operation_sources.OPERATION_SOURCES`).  ``take`` is written as
indexing; a negative step flips the axis first (``np.flip(x, -1)[..., 0:3:2]``) so backends
without negative strides (torch) read it too.  ``scatter`` writes into zeros with ``np.add.at``:
numpy only, so the array backends refuse it by name (:data:`NUMPY_ONLY`).

>>> from tensorcalc.evaluation.operation_sources import OPERATION_SOURCES
>>> OPERATION_SOURCES["take"](["x"], (("s", 4, None, -2),))
'np.flip(x, (-1,))[..., -5::2]'
"""

from __future__ import annotations

from ..expression.indexing import indexed_count, key_parts, named_axes, selected_shape
from .operation_sources import register_source

# rows the array backends refuse: name → why (filled by the families too)
NUMPY_ONLY = {"scatter": "writes in place"}


def _key_source(entries) -> str:
    return ", ".join(["...", *key_parts(entries, _slice_source)])


def _slice_source(start, stop, step) -> str:
    return f"{start}:{'' if stop is None else stop}:{step}"


def _take_source(codes, entries):
    n = indexed_count(entries)
    flips, written, axis = [], [], 0
    for e in entries:
        if e[0] == "s" and e[3] < 0:
            flips.append(axis - n)
            written.append(_flipped(e))
        else:
            written.append(e)
        if e[0] != "n":
            axis += 1
    if not flips:
        return f"{codes[0]}[{_key_source(entries)}]"
    return f"np.flip({codes[0]}, {tuple(flips)})[{_key_source(written)}]"


def _flipped(entry):
    """The positive-step slice of the flipped axis that reads what ``entry`` (a negative step)
    reads: entry ``k`` of the axis is entry ``-(k + 1)`` of the flipped one, counted from its end."""
    _, start, stop, step = entry
    length = len(range(start, -1 if stop is None else stop, step))
    first = -(start + 1)
    last = first + length * -step
    return ("s", first, None if last >= 0 else last, -step)


register_source("take", _take_source)
register_source("scatter", lambda codes, param: _scatter_source(codes, *param))
register_source("concatenate", lambda codes, axis: f"np.concatenate([{', '.join(codes)}], axis={axis})")


def _squeeze_source(entries) -> str:
    return ", ".join(["..."] + ["0" if e[0] == "n" else ":" for e in entries if e[0] != "i"])


def _scatter_source(codes, entries, target):
    g = codes[0]
    kept = _key_source(tuple(e for e in entries if e[0] != "n"))
    sizes = [str(d) if isinstance(d, int) else f"{g}.shape[{a}]"
             for d, a in zip(target, named_axes(entries, target))]
    lead = f"{g}.shape[:{g}.ndim - {len(selected_shape(target, entries))}]"
    return (f"(lambda g, z: (np.add.at(z, np.s_[{kept}], g[{_squeeze_source(entries)}]), z)[1])"
            f"({g}, np.zeros({lead} + ({', '.join(sizes)},)))")
