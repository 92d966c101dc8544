"""Layer 2, calculus: derivatives and the simplifier.

Owns differentiation by reverse accumulation (``differentiate``: ``grad``, ``jacobian``,
``vjp``; ``second_order``: ``hessian``, ``hvp``, ``jvp``), the VJP rules of the operations, the
simplifier and its exact rewrites (``simplify``, ``identities``, ``terms``), binarizing
N-operand contractions along their planned path (``optimize``, ``paths``), and the gradient with
respect to structured variables (``structured``).

It may import: the expression layer and :mod:`tensorcalc.errors`.
"""
