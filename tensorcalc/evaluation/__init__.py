"""tensorcalc.evaluation"""

from ..expression.algebra import register_view
from .evaluate import evaluate

register_view("evaluate", evaluate)  # expr.evaluate(): see expression/algebra.py
