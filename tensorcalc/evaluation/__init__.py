"""Layer 4, evaluation: running expressions.

Owns planning and the distribution pass (``distribute``), einsum recipes and kernels (``recipe``,
``kernels``), the ``Program`` and ``evaluate``/``compile`` (``evaluate``), its printed plan
(``plan``), generated code (``codegen``) and the backends at one seam (``backends``).

It may import: the notation, calculus and expression layers and :mod:`tensorcalc.errors`.  It
registers ``.evaluate()`` into the operator mixin and the naive method's memory check into
``grad``.
"""

from ..calculus.differentiate import NAIVE_MEMORY_CHECKS
from ..expression.algebra import register_view
from .common import check_memory
from .evaluate import evaluate
from .program import Program


def check_naive_memory(derivative) -> None:
    """Refuse a naive derivative at construction when its sizes are already known."""
    if derivative.memory_limit is None:
        return
    program = Program([derivative])
    if program.named_dims:
        return  # checked again when the sizes are bound
    check_memory(program, {}, derivative.memory_limit)


register_view("evaluate", evaluate)  # expr.evaluate(): see expression/algebra.py
NAIVE_MEMORY_CHECKS.append(check_naive_memory)  # grad(..., method="naive") refuses early
