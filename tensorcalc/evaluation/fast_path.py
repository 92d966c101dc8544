"""A :class:`~tensorcalc.evaluation.program.Program`'s fast path: one straight-line numpy
function (:func:`~tensorcalc.evaluation.statements.generate`) per binding, that is per set of
arguments' names, shapes and dtypes, which a repeat call with those runs instead of the
step-by-step evaluator: it then costs about what hand-written numpy costs, instead of a few
microseconds of dispatch per step.

Every program gets one, float32 as float64, with matrix operations or without, and each new
set of sizes or dtypes its own.  A small program's function is written on the binding's second
call (a program called once, or once a size, does not pay for writing it: 0.3–0.5 ms of a small
gradient's first call); a large one's (over :data:`SMALL_PROGRAM` nodes) after
:data:`LARGE_PROGRAM_CALLS` calls with that binding, which pay for writing it.  The call that
writes a function runs it.  It returns what the evaluator returns: a row
whose numpy source could differ from the evaluator's step (``logsumexp``, ``logdet``, a
user-registered function, ...) is a call of that very step, and a call whose function raises
is run again by the evaluator, which raises its TensorCalcError (``inv`` of a singular matrix,
say).

Each temporary is deleted after the last line that reads it (:func:`with_releases`), as the
evaluator frees a step's value after its last reader, so the function holds about what the
evaluator holds.  What keeps the evaluator: complex numbers; a function that would hold over
twice the memory the evaluator holds at once (counting every value, at worst), when that is over
:data:`FAST_MEMORY`; and a call whose working dtype comes from an argument no output reads
(float32 ``y`` beside float64 ``X`` for a Hessian in ``X`` alone).  A symmetric or diagonal
variable's value is checked before each call of the function, as the evaluator checks it.

>>> import numpy as np, tensorcalc as tc
>>> x = tc.var("x", ("n",))
>>> program = tc.compile([tc.logsumexp(x), tc.softmax(x)])
>>> for n in (3, 3, 4, 4):
...     _ = program(x=np.ones(n, dtype=np.float32))
>>> program.fast_calls  # the second call of each size
2
"""

from __future__ import annotations

import math
import re

import numpy as np

from ..expression.nodes import Const, Var
from .recipe import size_of
from .statements import generate, load

FAST_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))  # working dtypes of the fast path
SMALL_PROGRAM = 300  # nodes: a larger program's function is written after some calls
LARGE_PROGRAM_CALLS = 32  # calls with one plan key that pay for writing a large program's function
FAST_MEMORY = 64 << 20  # bytes a generated function may hold at once, at least


def consider_fast_path(program, binding) -> bool:
    """Write ``program``'s function for the plan key of ``binding`` (the arguments' names,
    shapes and dtypes, and the key) when it is time (see the module): ``True`` when it was
    written (or found not to apply), ``False`` while the evaluator is to run this call."""
    arguments, key = binding
    calls = program._calls.get(binding, 0)
    if calls < (LARGE_PROGRAM_CALLS if len(program.nodes) > SMALL_PROGRAM else 1):
        program._calls[binding] = calls + 1
        return False
    dtypes = {name: dtype for name, _, dtype in arguments}
    read = [dtypes[name] for name in program.variables]
    if (np.result_type(*read) if read else np.dtype(np.float64)) != key[-1]:
        program._fast[binding] = None  # an argument no output reads sets the dtype
    else:
        program._fast[binding] = fast_function(program, key, binding)
    program._fast_hit = (None, None)
    return True


class Miss(Exception):
    """Raised by a generated function called with arguments of other shapes or dtypes than
    it was written for (``Program.__call__`` then takes its general path)."""


def guard(arguments, runners: dict) -> list:
    """The generated function's first lines: each argument an ndarray of the shape and dtype
    it was written for, else :class:`Miss` (unrolled: a loop over the arguments in
    ``Program.__call__`` cost more than the tiny programs' own numpy calls)."""
    tests = []
    for n, (name, shape, dtype) in enumerate(arguments):
        runners[f"_dt{n}"] = dtype
        tests.append(f"type({name}) is not _ndarray or {name}.shape != {shape!r} or "
                     f"({name}.dtype is not _dt{n} and {name}.dtype != _dt{n})")
    return ["if " + " or ".join(tests) + ": raise _Miss"] if tests else []  # one line: straight


def fast_function(program, key, binding=None):
    """The generated function for plan ``key``, or ``None`` where the evaluator stays."""
    bindings = dict(key[0])
    if key[-1] not in FAST_DTYPES or \
            held_bytes(program, bindings) > max(2 * program.predicted_bytes(bindings), FAST_MEMORY):
        return None
    runners: dict = {"_ndarray": np.ndarray, "_Miss": Miss}
    try:
        static = static_values(program, key)
        runners.update((f"_s{n}", value) for n, value in enumerate(static.values()))
        source, name = generate(program, "fast_path", bindings, checks=False, runners=runners,
                                static={node_id: f"_s{n}" for n, node_id in enumerate(static)},
                                prologue=guard(binding[0], runners) if binding else ())
        return load(with_releases(source), name, extra=runners)
    except Exception:  # pragma: no cover - a node the writer refuses: keep the evaluator
        return None


STATIC_ENTRIES = 64  # a value that depends on sizes alone is folded when it is this small


def static_values(program, key) -> dict:
    """``{id(node): value}`` of the small computed nodes that read no variable (``1/n`` of a
    mean, a size, a constant's function): fixed for the sizes and dtype of ``key``, so the
    generated function reads them as numbers made once, instead of computing them each call.
    Not outputs (the caller could change a returned array)."""
    steps, constants = program._plans.get(key) or program._build_steps(dict(key[0]), key[-1])
    known = {slot: value for slot, value in constants}
    outputs = {id(output) for output in program.outputs}
    values: dict = {}
    for slot, run, inputs, _ in steps:
        node = program.nodes[slot] if slot < len(program.nodes) else None
        if node is None or id(node) in outputs or id(node) in program.shared or \
                not all(i in known for i in inputs) or \
                math.prod(size_of(d, dict(key[0])) for d in node.shape) > STATIC_ENTRIES:
            continue
        value = run(*[known[i] for i in inputs])
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
        known[slot] = values[id(node)] = value
    return values


def held_bytes(program, bindings: dict) -> int:
    """Bytes of every computed value of ``program`` at once, at 8 bytes an entry."""
    return sum(8 * math.prod(size_of(d, bindings) for d in node.shape) for node in program.nodes
               if not isinstance(node, (Var, Const)) and id(node) not in program.folded and
               id(node) in program.needed)


_ASSIGNED = re.compile(r"^    ([A-Za-z_][A-Za-z_0-9]*) = ")
_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


def with_releases(source: str) -> str:
    r"""``source`` (a straight-line generated function) with ``del t`` after the last line that
    reads each temporary ``t`` that is not returned, so that its array is freed there.

    >>> print(with_releases("def f(*, x):\n    t1 = x + 1\n    t2 = t1 * 2\n    return t2"))
    def f(*, x):
        t1 = x + 1
        t2 = t1 * 2
        del t1
        return t2
    """
    lines = source.split("\n")
    body = [n for n, line in enumerate(lines) if line.startswith("    ") and
            not line.lstrip().startswith(("#", '"""'))]
    if any(lines[n].startswith("     ") for n in body):  # not straight-line: leave it as written
        return source
    returned = set()
    last: dict = {}
    assigned: dict = {}
    for n in body:
        code = lines[n].split("#", 1)[0]
        match = _ASSIGNED.match(code)
        used = _NAME.findall(code[match.end():] if match else code)
        if code.lstrip().startswith("return"):
            returned.update(used)
        for word in used:
            last[word] = n
        if match:
            assigned.setdefault(match.group(1), n)
    releases: dict = {}
    for name, where in assigned.items():
        if name not in returned:
            releases.setdefault(max(last.get(name, where), where), []).append(name)
    out = []
    for n, line in enumerate(lines):
        out.append(line)
        if n in releases:
            out.append("    del " + ", ".join(releases[n]))
    return "\n".join(out)
