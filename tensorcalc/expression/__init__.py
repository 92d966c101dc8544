"""Layer 1, the expression: what an expression *is*.

Owns the node types and hash-consing (``nodes``), canonical order (``canonical``), construction
and broadcasting (``construct``), the operator mixin (``algebra``), the table of elementwise
functions (``functions``) and the table of matrix operations with their shape rules and numpy
evaluation (``operations`` and its families), structured variables, and the stated conventions
at singular points (``singular_points``), all as data.

It may import: :mod:`tensorcalc.errors` only.  What the layers above define for an operation
(its VJP, its spellings, its generated source; ``str`` and ``.evaluate()`` of an expression) they
register into tables, as JAX registers ``ad.primitive_jvps``: nothing here imports upward.
"""
