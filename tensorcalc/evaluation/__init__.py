"""tensorcalc.evaluation"""

from ..calculus.differentiate import NAIVE_MEMORY_CHECKS
from ..expression.algebra import register_view
from .evaluate import check_naive_memory, evaluate

register_view("evaluate", evaluate)  # expr.evaluate(): see expression/algebra.py
NAIVE_MEMORY_CHECKS.append(check_naive_memory)  # grad(..., method="naive") refuses early
