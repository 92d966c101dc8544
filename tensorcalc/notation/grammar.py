"""The matrix dialect, step 2: tokens → syntax tree, by a Pratt (precedence-climbing) parser.

The tree's nodes are immutable and hold their text span, so errors can quote the text
with a caret under the offending part.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import ParseError
from .lexer import Token, tokenize

MAX_DEPTH = 200  # nested parentheses, prefix and postfix operators, right-nested powers


# ---------------------------------------------------------------------------
# Step 2: tokens -> syntax tree (immutable nodes holding their text span)


@dataclass(frozen=True, eq=False)  # eq=False: identity hashing, never a recursive hash
class Number:
    value: float
    span: tuple
    children = ()


@dataclass(frozen=True, eq=False)
class Name:
    name: str
    span: tuple
    children = ()


@dataclass(frozen=True, eq=False)
class Unary:
    op: str
    operand: object
    span: tuple

    @property
    def children(self):
        return (self.operand,)


@dataclass(frozen=True, eq=False)
class Transpose:
    operand: object
    span: tuple
    op_span: tuple

    @property
    def children(self):
        return (self.operand,)


@dataclass(frozen=True, eq=False)
class Binary:
    op: str
    left: object
    right: object
    span: tuple
    op_span: tuple

    @property
    def children(self):
        return (self.left, self.right)


@dataclass(frozen=True, eq=False)
class Call:
    name: str
    args: tuple
    span: tuple
    name_span: tuple

    @property
    def children(self):
        return self.args


@dataclass(frozen=True, eq=False)
class Index:
    """``X(2, 1:end)``: a variable (or a parenthesized group, or a call) indexed, MATLAB's way.
    ``keys`` are :class:`Colon`, :class:`Range`, :class:`Bracket` or an expression of numbers
    and ``end``; they are not children (their values are found from the operand's sizes)."""
    operand: object
    keys: tuple
    span: tuple
    open_span: tuple

    @property
    def children(self):
        return (self.operand,)


@dataclass(frozen=True, eq=False)
class Colon:
    """``:`` alone in an index: the whole axis."""
    span: tuple


@dataclass(frozen=True, eq=False)
class Range:
    """``start:stop`` or ``start:step:stop`` in an index (``step`` None: 1)."""
    start: object
    step: object
    stop: object
    span: tuple


@dataclass(frozen=True, eq=False)
class Bracket:
    """``[1 3]`` or ``[1, 3]`` in an index: the entries listed."""
    items: tuple
    span: tuple


# Binding powers (left, right), loosest first: + -, then * / .* ./, then unary - +, then
# ^ .^ and the postfix ' on one level, left to right as in MATLAB (x.^2' is (x.^2)', a^b^c is
# (a^b)^c).  A sign right after ^ or .^ belongs to the exponent alone: 2^-1*x is (2^-1)*x.
_POWER = 40
_INFIX = {"+": (10, 11), "-": (10, 11), "*": (20, 21), "/": (20, 21), ".*": (20, 21),
          "./": (20, 21), "^": (_POWER, _POWER + 1), ".^": (_POWER, _POWER + 1)}
_PREFIX_POWER = 30


class _Parser:
    """A Pratt parser; ``depth`` counts nesting, bounded by :data:`MAX_DEPTH`."""

    def __init__(self, text: str, tokens, is_function=None):
        self.text, self.stream, self.tokens, self.at = text, tokens, [], 0
        self.is_function = is_function or (lambda name: True)
        self.in_index = 0  # how many indices enclose the current token: `end` stands only there
        self.in_bracket = False  # directly inside [ ]: `[3 -1]` is ambiguous there

    def peek(self) -> Token:
        if self.at == len(self.tokens):
            self.tokens.append(next(self.stream, None) or self.tokens[-1])  # end repeats
        return self.tokens[self.at]

    def advance(self) -> Token:
        token = self.peek()
        self.at += 1
        return token

    def error(self, reason: str, token: Token) -> ParseError:
        return ParseError(reason, self.text, token.start, token.end)

    def too_deep(self, token: Token) -> ParseError:
        return self.error(f"nesting is deeper than {MAX_DEPTH} levels (parentheses, unary signs, "
                          "transposes and powers count); split the expression", token)

    def parse(self):
        tree = self.expression(0, 0)
        token = self.peek()
        if token.text == ")":
            raise self.error("unbalanced parentheses: this ')' has no matching '('", token)
        if token.kind != "end":
            raise self.error(f"unexpected {_describe_token(token)}: expected an operator", token)
        return tree

    def expression(self, min_power: int, depth: int):
        if depth > MAX_DEPTH:
            raise self.too_deep(self.peek())
        left = self.prefix(depth)
        transposes = 0
        while True:
            token = self.peek()
            if token.text == "'" and min_power <= _POWER:
                transposes += 1
                if depth + transposes > MAX_DEPTH:
                    raise self.too_deep(token)
                self.advance()
                left = Transpose(left, (left.span[0], token.end), (token.start, token.end))
                continue
            powers = _INFIX.get(token.text) if token.kind == "op" else None
            if powers is None or powers[0] < min_power:
                return left
            if self.in_bracket and token.text in ("+", "-") and self.spaced_before_only(token):
                raise self.error(f"ambiguous sign in [ ]: write [a, {token.text}b] for two entries "
                                 f"or [a {token.text} b] for one", token)
            self.advance()
            if self.peek().kind == "end":
                raise self.error(f"unexpected end of input: {token.text!r} needs a right operand",
                                 self.peek())
            right = self.expression(powers[1], depth + 1)
            left = Binary(token.text, left, right, (left.span[0], right.span[1]),
                          (token.start, token.end))

    def prefix(self, depth: int):
        token = self.advance()
        if token.kind == "number":
            value = float(token.text)
            if not np.isfinite(value):
                raise self.error(f"the number {token.text} is too large: it overflows a double "
                                 "(the largest is about 1.8e308)", token)
            return Number(value, (token.start, token.end))
        if token.kind == "name":
            if token.text == "end" and not self.in_index:
                raise self.error("'end' stands only inside an index, for the size of the axis it "
                                 "indexes, as in x(2:end)", token)
            if self.peek().text == "(" and self.is_function(token.text):
                return self.indexed(self.call(token, depth), depth)
            return self.indexed(Name(token.text, (token.start, token.end)), depth)
        if token.text == "(":
            bracket, self.in_bracket = self.in_bracket, False  # a spaced sign is an operator here
            inner = self.expression(0, depth + 1)
            self.in_bracket = bracket
            closing = self.closing(token)
            return self.indexed(replace(inner, span=(token.start, closing.end)), depth)
        if token.text in ("-", "+"):
            previous = self.tokens[self.at - 2] if self.at >= 2 else None
            after_power = previous is not None and previous.text in ("^", ".^")
            operand = self.expression(_POWER + 1 if after_power else _PREFIX_POWER, depth + 1)
            return Unary(token.text, operand, (token.start, operand.span[1]))
        if token.kind == "end":
            raise self.error("unexpected end of input: expected an operand", token)
        if token.text == ")":
            raise self.error("unbalanced parentheses: this ')' has no matching '(', or the "
                             "parentheses are empty", token)
        previous = self.tokens[self.at - 2] if self.at >= 2 else None
        if token.text == "*" and previous is not None and previous.text == "*":
            raise self.error("'**' is not an operator here: write powers with ^ (or .^ "
                             "elementwise)", token)
        raise self.error(f"unexpected {_describe_token(token)}: expected a number, a name or '('",
                         token)

    def spaced_before_only(self, token: Token) -> bool:
        before = token.start > 0 and self.text[token.start - 1].isspace()
        after = token.end < len(self.text) and self.text[token.end].isspace()
        return before and not after

    def indexed(self, operand, depth: int):
        """``operand(keys)(keys)…``: a variable, a group or a call followed by ``(``."""
        while self.peek().text == "(":
            if depth > MAX_DEPTH:
                raise self.too_deep(self.peek())
            opening = self.advance()
            self.in_index, bracket, self.in_bracket = self.in_index + 1, self.in_bracket, False
            keys = self.index_keys(opening, depth)
            self.in_index, self.in_bracket = self.in_index - 1, bracket
            closing = self.tokens[self.at - 1]
            operand = Index(operand, keys, (operand.span[0], closing.end), (opening.start, opening.end))
            depth += 1
        return operand

    def index_keys(self, opening: Token, depth: int) -> tuple:
        keys = []
        while True:
            keys.append(self.index_key(depth))
            if self.peek().text == ",":
                self.advance()
                continue
            self.closing(opening)
            return tuple(keys)

    def index_key(self, depth: int):
        token = self.peek()
        if token.text == ":":
            self.advance()
            if self.peek().text not in (",", ")"):
                raise self.error("a range needs its start: write 1:k (':' alone is the whole axis)",
                                 token)
            return Colon((token.start, token.end))
        if token.text == "[":
            return self.bracket(depth)
        parts = [self.expression(0, depth + 2)]  # an index costs more frames a level: counts 2
        while self.peek().text == ":" and len(parts) < 3:
            self.advance()
            parts.append(self.expression(0, depth + 2))
        if len(parts) == 1:
            return parts[0]
        span = (parts[0].span[0], parts[-1].span[1])
        return Range(parts[0], parts[1] if len(parts) == 3 else None, parts[-1], span)

    def bracket(self, depth: int):
        opening = self.advance()
        items = []
        self.in_bracket = True
        while self.peek().text != "]":
            if self.peek().kind == "end":
                raise self.error("unbalanced brackets: this '[' is never closed", opening)
            items.append(self.expression(0, depth + 2))
            if self.peek().text == ",":
                self.advance()
        self.in_bracket = False
        closing = self.advance()
        if not items:
            raise self.error("an index list needs at least one entry: [1, 3]", closing)
        return Bracket(tuple(items), (opening.start, closing.end))

    def call(self, name: Token, depth: int):
        opening = self.advance()
        args = []
        if self.peek().text == ")":
            closing = self.advance()
        else:
            while True:
                bracket, self.in_bracket = self.in_bracket, False
                args.append(self.expression(0, depth + 1))
                self.in_bracket = bracket
                if self.peek().text == ",":
                    self.advance()
                    continue
                closing = self.closing(opening)
                break
        return Call(name.text, tuple(args), (name.start, closing.end), (name.start, name.end))

    def closing(self, opening: Token) -> Token:
        token = self.advance()
        if token.text == ")":
            return token
        if token.kind == "end":
            raise self.error("unbalanced parentheses: this '(' is never closed", opening)
        raise self.error(f"unexpected {_describe_token(token)}: expected ')' or an operator", token)


def _describe_token(token: Token) -> str:
    kind = {"number": "number", "name": "name", "op": "operator"}[token.kind]
    return f"{kind} {token.text!r}"


def parse_tree(text: str, is_function=None):
    """The syntax tree of a matrix-dialect expression; a name followed by ``(`` is a call where
    ``is_function(name)``, else an index (``x(2:end)``).

    >>> parse_tree("-x^2").op, parse_tree("-x^2").operand.op
    ('-', '^')
    >>> type(parse_tree("x(2:end)", lambda name: False)).__name__
    'Index'
    """
    try:
        return _Parser(text, tokenize(text), is_function).parse()
    except RecursionError:  # only if the caller is itself deep in the stack
        raise ParseError("the expression is nested too deeply", text, 0) from None


def _postorder(root) -> list:
    """Every node of a syntax tree, children first, without recursion."""
    order, stack = [], [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        else:
            stack.append((node, True))
            for child in reversed(node.children):
                stack.append((child, False))
    return order
