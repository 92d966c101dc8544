"""Layer 3, notation: reading and writing expressions.

Owns index notation (``printing``, which registers ``str`` of an expression), the matrix-form
reader and its Unicode, LaTeX and text spellers (``printers``), the operations' spellings, and
the text parser (the matrix language and the numpy dialect).

It may import: the calculus and expression layers and :mod:`tensorcalc.errors`.
"""
