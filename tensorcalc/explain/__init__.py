"""``tc.explain(f, wrt)``: a derivative, step by step, from the engine's own objects.

>>> import tensorcalc as tc
>>> W, a, g = tc.var("W", (3, 3)), tc.var("a", (3,)), tc.var("g", (3,))
>>> e = tc.explain(tc.sum(g * (W @ a)), W)
>>> [step.kind for step in e.steps if step.level <= 2]
['forward', 'forward', 'local', 'local', 'chain', 'delta', 'result', 'jacobian', 'cost']
>>> local = e.of_kind("local")[1]
>>> local.index, local.shape, local.entries, local.nonzeros
('∂b_i/∂W_jk = δ_ij a_k', (3, 3, 3), 27, 9)
>>> e.of_kind("delta")[0].renamed
{'i': 'j'}
>>> result = e.of_kind("result")[0]
>>> result.index, result.matrix, result.shape
('∂L/∂W_jk = g_j a_k', 'g aᵀ', (3, 3))
>>> len(e.text(level=1).splitlines())  # forward, forward, result, cost
4

The forward expression is cut into *stages* (named by ``names=``, else chosen:
function arguments and values, matrix products, shared nodes), each written
over the symbols of the stages below it.  Then one reverse sweep over the
stages: each stage's local generalized Jacobian (``tc.jacobian`` of its
definition with respect to a variable standing for the stage below), its
contraction with the incoming gradient, the δ's that contraction eliminates
(re-run here on the flattened product, recording what each renames), and the
result, checked against ``wrt``'s shape.  Costs come from the programs'
plans.  Every record is a plain :class:`Step`; the text and markdown views
print them.
"""

from .records import Explanation, Step
from ..calculus.differentiate import grad_wrt_intermediate
from .sweep import explain

__all__ = ["Explanation", "Step", "explain", "grad_wrt_intermediate"]
