"""The matrix dialect, step 1: text → tokens (each keeps its position for the caret)."""

from __future__ import annotations

import re
from typing import NamedTuple

from ..errors import ParseError


# ---------------------------------------------------------------------------
# Matrix dialect, step 1: text -> tokens


class Token(NamedTuple):
    kind: str  # "number", "name", "op" or "end"
    text: str
    start: int
    end: int


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:[0-9]+(?:\.(?![*/^])[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\.[*/^]|[-+*/^'(),:\[\]])
  | (?P<bad>.)
""", re.VERBOSE | re.DOTALL)

_CHARACTER_HINTS = {
    "@": "; the matrix dialect writes every product with '*' (dialect='numpy' reads '@')",
    ".": "; the elementwise operators are .* ./ .^",
    '"': "; transpose with a single quote: x'",
}


def tokenize(text: str):
    """Tokens with their positions, ending with an ``end`` token (lazily: the parser stops
    early on a too-deep input without reading all of it).

    >>> [t.text for t in tokenize("2.*x'")]
    ['2', '.*', 'x', "'", '']
    """
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "bad":
            char = match.group()
            raise ParseError(f"unexpected character {char!r}{_CHARACTER_HINTS.get(char, '')}",
                             text, match.start())
        if kind != "space":
            yield Token(kind, match.group(), match.start(), match.end())
    yield Token("end", "", len(text), len(text))
