"""A printable plan of a compiled program, in the spirit of opt_einsum's ``PathInfo``.

>>> import numpy as np, tensorcalc as tc
>>> W, x = tc.var("W", (64, 32)), tc.var("x", (32,))
>>> L = tc.sum(tc.tanh(W @ x))
>>> f = tc.compile([L, tc.grad(L, W)])
>>> plan = f.plan
>>> plan.flops > 0 and plan.naive_bytes > plan.peak_bytes
True

One row per step of the program: the operation (an einsum with its pairwise
path, an elementwise function, a sum), the shape it produces, its FLOPs and
the largest intermediate it creates.  For outputs that are derivatives, the
plan also predicts what the naive method (materialized Jacobians chained
together) would cost at the same sizes, so the saving is visible before
anything runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

from ..calculus.differentiate import grad
from ..expression.nodes import Contraction, Delta, Elementwise, Operation, Sum
from ..notation.printing import step_notation
from .common import _human
from .kernels import kernel_for
from .recipe import size_of


@dataclass(frozen=True)
class PlanStep:
    """One computed node: what runs, what it produces and what it costs."""

    index: int
    operation: str  # "einsum", "sum", "δ" or a function name
    detail: str  # the einsum equation and its pairwise path, or the expression
    shape: tuple
    flops: int
    largest: int  # elements of the largest array the step creates


@dataclass
class Plan:
    """The steps of a program at one set of sizes, with totals."""

    sizes: dict
    steps: list = field(default_factory=list)
    peak_bytes: int = 0
    naive_flops: Optional[int] = None
    naive_bytes: Optional[int] = None

    @property
    def flops(self) -> int:
        return sum(step.flops for step in self.steps)

    @property
    def largest_intermediate(self) -> int:
        return max((step.largest for step in self.steps), default=0)

    def __str__(self) -> str:
        sizes = ", ".join(f"{k}={v}" for k, v in sorted(self.sizes.items())) or "all fixed"
        lines = [f"Program plan ({sizes})",
                 f"{'step':>4}  {'operation':<10} {'shape':<16} {'FLOPs':>10} {'largest':>10}  detail",
                 "-" * 88]
        for s in self.steps:
            lines.append(f"{s.index:>4}  {s.operation:<10} {str(s.shape):<16} {s.flops:>10.3g} "
                         f"{s.largest:>10.3g}  {s.detail}")
        lines.append("-" * 88)
        lines.append(f"total FLOPs: {self.flops:.4g}   largest intermediate: "
                     f"{self.largest_intermediate:.4g} elements   peak memory: "
                     f"{_human(self.peak_bytes)}")
        if self.naive_flops is not None:
            ratio_f = self.naive_flops / max(self.flops, 1)
            ratio_b = self.naive_bytes / max(self.peak_bytes, 1)
            lines.append(f"naive method (materialized Jacobians): FLOPs {self.naive_flops:.4g} "
                         f"({ratio_f:.3g}x), peak memory {_human(self.naive_bytes)} ({ratio_b:.3g}x)")
        return "\n".join(lines)

    __repr__ = __str__


def make_plan(program, sizes: dict, with_naive: bool = True) -> Plan:
    plan = Plan(dict(sizes))
    symbols = {id(node): f"t{step}" for step, node in enumerate(program.nodes)
               if node.children and id(node) not in program.folded}
    for step, node in enumerate(program.nodes):
        if id(node) in program.folded or id(node) not in program.needed or \
                not node.children and not isinstance(node, Delta):
            continue
        shape = tuple(size_of(d, sizes) for d in node.shape)
        elements = math.prod(shape)
        if isinstance(node, Contraction):
            recipe = program.recipes[id(node)]
            shapes = [tuple(size_of(d, sizes) for d in node.operands[p].shape) for p in recipe.operands]
            if recipe.operands:
                kernel = kernel_for(recipe.equation, shapes)
                detail = recipe.equation
                if kernel.info is not None and len(kernel.info.contraction_list) > 1:
                    detail += "  via " + " ; ".join(c[2] for c in kernel.info.contraction_list)
                plan.steps.append(PlanStep(step, "einsum", detail, shape, int(kernel.flops),
                                           max(int(kernel.largest), elements)))
            else:
                plan.steps.append(PlanStep(step, "fill", step_notation(node, symbols), shape,
                                           elements, elements))
        elif isinstance(node, Elementwise):
            plan.steps.append(PlanStep(step, node.fn, step_notation(node, symbols), shape,
                                       elements, elements))
        elif isinstance(node, Sum):
            terms = len(program.sum_terms[id(node)][0])
            plan.steps.append(PlanStep(step, "sum", step_notation(node, symbols), shape,
                                       elements * max(terms, 1), elements))
        elif isinstance(node, Delta):
            plan.steps.append(PlanStep(step, "δ", "dense identity", shape, elements, elements))
        elif id(node) in program.shared:  # one shifted exp for logsumexp and softmax
            plan.steps.extend(_shared_rows(program, step, node, symbols, sizes))
        elif isinstance(node, Operation):  # linear algebra: about n³ per matrix of the batch
            first = node.operands[0]
            size = math.prod(size_of(d, sizes) for d in first.shape)
            flops = size * size_of(first.shape[-1], sizes) if first.ndim >= 2 else size
            plan.steps.append(PlanStep(step, node.name, step_notation(node, symbols), shape,
                                       int(flops), max(elements, size)))
    plan.peak_bytes = program.predicted_bytes(sizes)
    if with_naive:
        naive = _naive_program(program)
        if naive is not None:
            naive_plan = make_plan(naive, sizes, with_naive=False)
            plan.naive_flops, plan.naive_bytes = naive_plan.flops, naive_plan.peak_bytes
    return plan


def _shared_rows(program, step: int, node, symbols: dict, sizes: dict) -> list:
    """A member of a logsumexp and softmax pair: the shared exp's row (before the first
    member), then the member's own, which reads it."""
    record = program.shared[id(node)]
    operand = tuple(size_of(d, sizes) for d in record.operand.shape)
    size, elements = math.prod(operand), math.prod(size_of(d, sizes) for d in node.shape)
    rows = []
    if min(program.slot[id(m)] for m in record.members) == step:
        z = symbols.get(id(record.operand), "z")
        rows.append(PlanStep(step, "shared exp", f"e = exp({z} - max {z}), s = Σ e over axes "
                             f"{record.axes}: shared by logsumexp and softmax", operand,
                             3 * size, size))
    detail = "max + log s" if node.name == "logsumexp" else "e / s"
    return rows + [PlanStep(step, node.name, detail + " (the shared exp)", tuple(
        size_of(d, sizes) for d in node.shape), elements, elements)]


def _naive_program(program):
    """The same outputs computed by the naive method, when they are derivatives."""
    derivatives = [d for d in program.derivatives if d.cotangent is None and d.method != "naive"]
    if not derivatives or len(derivatives) != len(program.derivatives):
        return None  # vjps and naive derivatives have no naive counterpart to predict
    outputs = []
    for item in program.outputs:
        match = next((d for d in derivatives if d.expr is item), None)
        if match is None:
            outputs.append(item)  # the loss itself costs the same either way
        else:
            outputs.append(grad(match.of, match.wrt, method="naive", memory_limit=None))
    return type(program)(outputs)  # a Program (this module sits below program.py)

