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
from .evaluate import evaluate
from .program import check_naive_memory

register_view("evaluate", evaluate)  # expr.evaluate(): see expression/algebra.py
NAIVE_MEMORY_CHECKS.append(check_naive_memory)  # grad(..., method="naive") refuses early
