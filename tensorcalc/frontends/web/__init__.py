"""``tensorcalc serve``: a local web page over the public API — type an expression, read its
derivative rendered as math, the steps, the code and a numeric check.

:mod:`.server` is the HTTP side (standard library only: static files and ``POST /api/derive``,
each derivation in a worker process with a time limit); :mod:`.worker` computes the answer, the
JSON of ``tensorcalc grad … --format json`` extended; ``static/`` holds the page, its small
script and the vendored KaTeX (MIT, ``static/katex/LICENSE``).
"""
