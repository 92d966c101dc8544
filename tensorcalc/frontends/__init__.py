"""Layer 6, the front ends: the command line (``cli``), over the public API.

It may import: everything below it (in practice ``import tensorcalc`` and its errors).
"""
