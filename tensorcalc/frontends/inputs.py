"""Reading the command line's values: types, sizes, memory, the expression (an argument or
standard input) and the problem it states."""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys

import tensorcalc as tc
from tensorcalc.errors import closest

PROG = "tensorcalc"
DEFAULT_SIZE = 3  # for every named dimension that --size leaves out (check, explain, code)
KINDS = ("scalar", "vector", "row vector", "matrix", "symmetric matrix")
FORMATS = ("text", "index", "matrix", "latex", "json")


class UsageError(Exception):
    """Bad input found by the command line itself (exit status 2)."""


# ---------------------------------------------------------------------------
# Reading the options


def _split(values) -> list:
    """``["x,A", "y"]`` → ``["x", "A", "y"]`` (each option may be repeated or comma-separated)."""
    return [part.strip() for value in values or () for part in value.split(",") if part.strip()]


def _assignments(values, option: str) -> list:
    """``["x=vector", "A=n,m"]`` → ``[("x", "vector"), ("A", "n,m")]``."""
    pairs = []
    for value in values or ():
        name, equals, rest = value.partition("=")
        name = name.strip()
        if not equals or not name.isidentifier():
            raise UsageError(f"{option} expects NAME=VALUE (such as {option} "
                             f"{'x=vector' if option == '--type' else 'X=n,d' if option == '--shape' else 'n=3'}),"
                             f" got {value!r}")
        pairs.append((name, rest.strip()))
    return pairs


def parse_types(types=(), shapes=()) -> dict:
    """``tc.parse``'s keyword types from ``--type name=kind`` and ``--shape name=n,m``.

    >>> parse_types(["x=row vector"], ["A=n,3", "c="])
    {'x': 'row vector', 'A': ('n', 3), 'c': ()}
    """
    result: dict = {}
    for name, kind in _assignments(types, "--type"):
        kind = " ".join(kind.replace("_", " ").replace("-", " ").split())
        if kind not in KINDS:
            raise UsageError(f"--type {name}={kind}: unknown kind; use one of "
                             f"{', '.join(KINDS)} (or --shape {name}=n,m)")
        _put(result, name, kind)
    for name, text in _assignments(shapes, "--shape"):
        parts = [p.strip() for p in text.split(",")]
        if parts and parts[-1] == "":
            parts.pop()  # "x=" is a scalar, "x=n," a vector
        shape = []
        for part in parts:
            if part.isdigit() and int(part) > 0:
                shape.append(int(part))
            elif part.isidentifier():
                shape.append(part)
            else:
                raise UsageError(f"--shape {name}={text}: {part!r} is neither a positive size nor "
                                 "a dimension name (write --shape X=n,d or --shape A=3,3; "
                                 f"--shape {name}= for a scalar)")
        _put(result, name, tuple(shape))
    return result


def _put(result: dict, name: str, value) -> None:
    if name in result:
        raise UsageError(f"the type of {name!r} is given twice ({result[name]!r} and {value!r})")
    result[name] = value


def parse_sizes(values=()) -> dict:
    """``--size n=3 --size m=4`` (or ``--size n=3,m=4``) → ``{"n": 3, "m": 4}``.

    >>> parse_sizes(["n=3,m=4", "d=10"])
    {'n': 3, 'm': 4, 'd': 10}
    """
    sizes: dict = {}
    for value in values or ():
        for item in value.split(","):
            name, equals, size = item.partition("=")
            name, size = name.strip(), size.strip()
            if not equals or not name.isidentifier() or not size.isdigit() or int(size) < 1:
                raise UsageError(f"--size expects NAME=SIZE with a positive integer size (such as "
                                 f"--size n=3), got {item.strip()!r}")
            if name in sizes:
                raise UsageError(f"--size gives {name!r} twice")
            sizes[name] = int(size)
    return sizes


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "pb": 10**15,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "pib": 2**50}


def parse_memory(text: str) -> int:
    """``--memory-limit``: bytes, or a number with a unit (kB, MB, GB, TB: powers of 1000;
    KiB, MiB, GiB, TiB: powers of 1024).

    >>> parse_memory("4GiB"), parse_memory("500 MB"), parse_memory("1000000"), parse_memory("1.5kib")
    (4294967296, 500000000, 1000000, 1536)
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)\s*", text)
    unit = match and match.group(2).lower()
    if not match or unit not in _UNITS or float(match.group(1)) * _UNITS[unit] < 1:
        raise argparse.ArgumentTypeError(
            f"expected a positive size in bytes, or with a unit such as 4GiB or 500MB, got {text!r}")
    return int(float(match.group(1)) * _UNITS[unit])


def _seed(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return int(text)


def _level(text: str) -> int:
    if text.strip() not in ("1", "2", "3"):
        raise argparse.ArgumentTypeError(f"expected 1 (forward, result, cost), 2 (every step) or "
                                         f"3 (every node's incoming gradient), got {text!r}")
    return int(text)


def read_expression(args, stdin=None) -> str:
    """The expression text: the argument, or standard input for ``-`` or no argument."""
    if args.expression not in (None, "-"):
        return args.expression
    stdin = sys.stdin if stdin is None else stdin
    if args.expression is None and stdin.isatty():
        raise UsageError("no expression: give one as an argument (tensorcalc grad \"x'*A*x\" "
                         "--wrt x) or on standard input")
    data = getattr(stdin, "buffer", None)
    if data is None:  # a text stream (a test's StringIO)
        return stdin.read()
    raw = data.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(f"standard input is not UTF-8 text: byte {raw[error.start]:#04x} at "
                         f"offset {error.start} cannot be decoded") from None


def shape_text(shape) -> str:
    """``(n,)``, ``(n, 3)``, ``()``: a shape without the quotes of names.

    >>> shape_text(("n",)), shape_text(("n", 3)), shape_text(())
    ('(n,)', '(n, 3)', '()')
    """
    parts = [str(d) for d in shape]
    return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"


@dataclasses.dataclass(frozen=True)
class Problem:
    """What every subcommand starts from: the text, its expression and the variables chosen."""

    text: str
    f: object
    variables: dict  # name -> Var, in order of appearance
    wrt: list  # names, in the order asked


def read_problem(args, stdin=None) -> Problem:
    text = read_expression(args, stdin)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:  # bytes that were not UTF-8 in argv (surrogate escapes)
        raise UsageError(f"the expression is not UTF-8 text (a byte at position {error.start} "
                         "cannot be decoded)") from None
    types = parse_types(args.type, args.shape)
    try:
        f = tc.parse(text, dialect=args.dialect, **types)
    except tc.TensorCalcError:
        raise
    except RecursionError:
        raise UsageError("the expression is nested too deeply to read") from None
    except Exception as error:  # noqa: BLE001 - a parser bug must not reach the user as a traceback
        raise UsageError(f"could not read the expression ({type(error).__name__}: {error}); this "
                         "is a bug in tensorcalc's parser, please report it") from None
    found = tc.variables(f)
    wrt = _split(args.wrt)
    if not wrt:
        if len(found) != 1:
            if not found:
                raise UsageError(f"{args.command}: the expression has no variables")
            raise UsageError(f"{args.command}: which variable? pass --wrt NAME (the expression "
                             f"has the variables {', '.join(found)})")
        wrt = list(found)
    for name in wrt:
        if name not in found:
            close = closest(name, found)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UsageError(f"--wrt {name}: the expression has no variable named {name!r}{hint} "
                             f"(its variables: {', '.join(found) or 'none'})")
    if len(set(wrt)) != len(wrt):
        raise UsageError(f"--wrt names a variable twice: {', '.join(wrt)}")
    return Problem(" ".join(text.split()), f, found, wrt)


# Library messages name Python arguments; the command line's user knows the flags.
_CLI_WORDS = [
    (re.compile(r"pass (\w+)=\(\.\.\.\) to tc\.parse"), r"pass --shape \1=..."),
    (re.compile(r"pass (\w+)=\(\.\.\.\) with its shape"), r"pass --shape \1=... with its shape"),
    (re.compile(r"dialect='(\w+)'"), r"--dialect \1"),
    (re.compile(r"\(limit memory_limit=([^)]*)\)"), r"(limit --memory-limit \1)"),
    (re.compile(r"pass a larger memory_limit to tc\.grad / tc\.jacobian"), "raise --memory-limit"),
    (re.compile(r"or raise memory_limit\b"), "or raise --memory-limit"),
    (re.compile(r"\bsizes names '(\w+)'"), r"--size \1=... names '\1'"),
]


def cli_words(message: str) -> str:
    """A library message in the command line's words: flags, not keyword arguments.

    >>> cli_words("variable 'x' has no shape: pass x=(...) to tc.parse (the numpy dialect "
    ...           "needs every shape)")
    "variable 'x' has no shape: pass --shape x=... (the numpy dialect needs every shape)"
    >>> cli_words("... but the matrix dialect has scalars, vectors and matrices; use dialect='numpy'")
    '... but the matrix dialect has scalars, vectors and matrices; use --dialect numpy'
    """
    for pattern, replacement in _CLI_WORDS:
        message = pattern.sub(replacement, message)
    return message
