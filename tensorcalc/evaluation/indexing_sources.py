"""numpy source of the indexing rows (registered into
:data:`~tensorcalc.evaluation.operation_sources.OPERATION_SOURCES`).  ``take`` is written as
indexing; a negative step flips the axis first (``np.flip(x, -1)[..., 0:3:2]``) so backends
without negative strides (torch) read it too.  ``scatter`` writes into zeros with ``np.add.at``
(numpy only, :data:`NUMPY_ONLY`); for the array backends, which write nothing in place, it is
a gather instead (:data:`FUNCTIONAL_SOURCES`): the selected values with a zero appended, read by
constant indices, one read per copy when the key repeats an index.

>>> from tensorcalc.evaluation.operation_sources import OPERATION_SOURCES
>>> OPERATION_SOURCES["take"](["x"], (("s", 4, None, -2),))
'np.flip(x, (-1,))[..., -5::2]'
"""

from __future__ import annotations

import numpy as np

from ..errors import CodegenError
from ..expression.indexing import indexed_count, key_parts, named_axes, numpy_key, selected_shape
from .operation_sources import register_source

# rows the array backends refuse: name → why (filled by the families too); a row with a
# FUNCTIONAL_SOURCES entry (scatter: a gather instead of np.add.at) runs there after all
NUMPY_ONLY = {"scatter": "writes in place", "inv": "checks its condition number"}


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
            f"({g}, np.zeros({lead} + {_tuple_source(sizes)}, dtype=np.result_type({g}, "
            "np.float32)))")


def _tuple_source(items) -> str:
    """A tuple's source: ``()``, ``(a,)``, ``(a, b)`` (a scalar target is ``()``)."""
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _functional_scatter_source(codes, param) -> str:
    """``scatter`` without writing in place: each entry of the target reads the value written
    there (or the appended zero), one gather per copy of a repeated index, added. Needs the
    target's sizes as numbers (a named size, sliced whole, is refused by name)."""
    entries, target = param
    if not all(isinstance(d, int) for d in target):
        raise CodegenError(f"backend: scatter onto shape {target} needs numeric sizes for the "
                           "array backends (evaluate it with tc.compile or tc.codegen)")
    kept = tuple(e for e in entries if e[0] != "n")
    squeezed = selected_shape(target, kept)  # the values' trailing shape without new axes
    n, size = int(np.prod(squeezed, dtype=np.int64)), int(np.prod(target, dtype=np.int64))
    written_at = np.arange(size).reshape(target)[numpy_key(kept)].reshape(-1)
    sources: list = [[] for _ in range(size)]
    for source, place in enumerate(written_at.tolist()):
        sources[place].append(source)
    copies = max((len(s) for s in sources), default=0)
    reads = [[s[j] if j < len(s) else n for s in sources] for j in range(copies)]
    padded = "np.concatenate([np.reshape(x, L + (-1,)), np.zeros(L + (1,), dtype=x.dtype)], axis=-1)"
    total = " + ".join(f"p[..., {r}]" for r in reads) if reads else \
        f"np.zeros(L + ({size},), dtype=x.dtype)"
    shape = "(" + "".join(f"{d}, " for d in target) + ")"
    return (f"(lambda x: (lambda L: (lambda p: np.reshape({total}, L + {shape}))({padded}))"
            f"(tuple(x.shape[:x.ndim - {len(squeezed)}])))({codes[0]}[{_squeeze_source(entries)}])")


FUNCTIONAL_SOURCES = {"scatter": _functional_scatter_source,  # inv: the backend's, unchecked
                      "inv": lambda codes, p: f"np.linalg.inv({codes[0]})"}
