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


# Binding powers (left, right), loosest first: + -, then * / .* ./, then unary - +, then
# ^ .^ and the postfix ' on one level, left to right as in MATLAB (x.^2' is (x.^2)', a^b^c is
# (a^b)^c).  A sign right after ^ or .^ belongs to the exponent alone: 2^-1*x is (2^-1)*x.
_POWER = 40
_INFIX = {"+": (10, 11), "-": (10, 11), "*": (20, 21), "/": (20, 21), ".*": (20, 21),
          "./": (20, 21), "^": (_POWER, _POWER + 1), ".^": (_POWER, _POWER + 1)}
_PREFIX_POWER = 30


class _Parser:
    """A Pratt parser; ``depth`` counts nesting, bounded by :data:`MAX_DEPTH`."""

    def __init__(self, text: str, tokens):
        self.text, self.stream, self.tokens, self.at = text, tokens, [], 0

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
            if self.peek().text == "(":
                return self.call(token, depth)
            return Name(token.text, (token.start, token.end))
        if token.text == "(":
            inner = self.expression(0, depth + 1)
            closing = self.closing(token)
            return replace(inner, span=(token.start, closing.end))  # the span holds the parentheses
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

    def call(self, name: Token, depth: int):
        opening = self.advance()
        args = []
        if self.peek().text == ")":
            closing = self.advance()
        else:
            while True:
                args.append(self.expression(0, depth + 1))
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


def parse_tree(text: str):
    """The syntax tree of a matrix-dialect expression.

    >>> parse_tree("-x^2").op, parse_tree("-x^2").operand.op
    ('-', '^')
    """
    try:
        return _Parser(text, tokenize(text)).parse()
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
