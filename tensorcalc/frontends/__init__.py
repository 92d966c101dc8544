"""Layer 6, the front ends over the public API: the command line (``cli``, with ``inputs`` and
``commands``) and the local web page (``web``, served by ``tensorcalc serve``).

It may import: everything below it (in practice ``import tensorcalc``, its errors and the CLI's
JSON documents, which the web page answers too).
"""
