"""One max-shifted exp for ``logsumexp`` and ``softmax`` of one argument.

A loss with ``logsumexp(z)`` has ``softmax(z)`` in its gradient, and each, computed alone,
takes the maximum of ``z``, the exp of ``z`` shifted by it and the sum of that exp.  When a
program needs both of one argument over the same axes, it computes
``m = max z``, ``e = exp(z − m)`` and ``s = Σ e`` once (one pass of exp), then
``logsumexp = m + log s`` and ``softmax = e / s``: the evaluator as a step of its own, whose
value (the three arrays) the two rows read; the generated code as the same lines.  The values
are those of the two rows computed alone (the same arithmetic, shared).

>>> import numpy as np, tensorcalc as tc
>>> z, y = tc.var("z", ("k",)), tc.var("y", ("k",))
>>> L = tc.logsumexp(z) - y @ z  # cross-entropy of a one-hot y; its gradient is softmax(z) − y
>>> program = tc.compile([L, tc.grad(L, z)])
>>> [step.operation for step in program.plan_for({"k": 3}).steps]
['shared exp', 'logsumexp', 'einsum', 'sum', 'softmax', 'sum']
>>> value, gradient = program(z=np.array([1000.0, 1000.0, -1000.0]), y=np.array([0.0, 1.0, 0.0]))
>>> round(float(value), 9), gradient.tolist()  # log 2
(0.693147181, [0.5, -0.5, 0.0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..expression.nodes import Operation
from ..expression.reductions import logsumexp_from, shifted_exp, softmax_from


@dataclass(frozen=True)
class SharedExp:
    """A ``logsumexp`` and a ``softmax`` of one ``operand`` over the same ``axes``."""

    operand: object
    axes: tuple
    logsumexp: Operation
    softmax: Operation

    @property
    def members(self) -> tuple:
        return self.logsumexp, self.softmax


def shared_exps(program) -> tuple:
    """``(shared, slots)``: ``id(member) → SharedExp`` for both members of every pair among the
    nodes ``program`` computes, and ``id(SharedExp) → the extra slot`` of its shared step."""
    found: dict = {}
    for node in program.nodes:
        if isinstance(node, Operation) and node.name in ("logsumexp", "softmax") and \
                id(node) in program.needed:
            found.setdefault((id(node.operands[0]), node.param), {})[node.name] = node
    shared, slots = {}, {}
    for pair in found.values():
        if len(pair) == 2:
            lse, soft = pair["logsumexp"], pair["softmax"]
            record = SharedExp(lse.operands[0], lse.param, lse, soft)
            shared[id(lse)] = shared[id(soft)] = record
            slots[id(record)] = len(program.nodes) + len(slots)
    return shared, slots


def pair_steps(program, step: int, node) -> list:
    """The evaluator's steps for a member of a pair: the shared exp (before the first member)
    into its own slot, which the second member releases, and the member's own step."""
    record = program.shared[id(node)]
    slot = program._shared_slot[id(record)]
    first = min(record.members, key=lambda member: program.slot[id(member)])
    steps = [(slot, exp_step(record.axes), [program.slot[id(record.operand)]], ())] \
        if node is first else []
    free = tuple(program.release.get(step, ())) + (() if node is first else (slot,))
    return steps + [(step, member_step(node), [slot], free)]


def exp_step(axes):
    """The shared step: ``z ↦ (e, s, m)``."""
    return lambda z: shifted_exp(z, axes)


def member_step(node: Operation):
    """A member's step, reading the shared step's ``(e, s, m)``; softmax divides ``e`` in place
    (no other step reads it: logsumexp reads only ``s`` and ``m``)."""
    axes = node.param
    if node.name == "logsumexp":
        return lambda parts: logsumexp_from(*parts, axes)

    def softmax(parts):
        e, s, m = parts
        if isinstance(e, np.ndarray) and e.flags.writeable:
            return np.divide(e, s, out=e)
        return softmax_from(e, s, m, axes)
    return softmax
